//! Attention's `softmax(scores + mask)` as one operator.
//!
//! Every attention layer of a BERT-family encoder adds the padding mask (`[batch, 1, 1, keys]`,
//! or any shape that broadcasts) to its scores (`[batch, heads, queries, keys]`), then takes the
//! softmax over the keys. tract runs the two as a broadcasting `Add` (a generic element-wise loop:
//! its linalg kernels do not take a broadcast over symbolic sizes) and a `Softmax`. [`fuse`]
//! replaces each such pair with [`MaskedSoftmax`], which adds the mask row by row and runs tract's
//! own softmax kernels on each row while it is in cache: bitwise the same values, one pass less
//! over the largest tensors of the model, and the loop in this crate (so the npm package's wasm
//! can build tract-core for size without slowing attention down).
use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::binary::TypedBinOp;
use tract_nnef::tract_core::ops::math::Add;
use tract_nnef::tract_core::ops::nn::{Softmax, SoftmaxKind};
use tract_nnef::tract_core::tract_linalg::element_wise::ElementWise;
use tract_nnef::tract_core::tract_linalg::reduce::{MapReduce, Reduce};
use tract_nnef::tract_core::tract_linalg::routines::Func;

/// The operator's name (in tract and in NNEF).
pub(crate) const NAME: &str = "minirank_masked_softmax";

/// `softmax(scores + mask)` over the last axis; `mask` broadcasts to `scores` (same rank).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct MaskedSoftmax;

impl Op for MaskedSoftmax {
    fn name(&self) -> StaticName {
        NAME.into()
    }

    op_as_typed_op!();
}

impl EvalOp for MaskedSoftmax {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (scores, mask) = args_2!(inputs);
        let mut out = scores.into_tensor();
        let shape: TVec<usize> = out.shape().into();
        let mask_shape = mask.shape();
        ensure!(mask_shape.len() == shape.len(), "{NAME}: mask {mask_shape:?} for scores {shape:?}");
        let rank = shape.len();
        let row = shape[rank - 1];
        // the mask's strides, 0 along its broadcast axes
        let mut strides = vec![0usize; rank];
        let mut stride = 1;
        for axis in (0..rank).rev() {
            ensure!(
                mask_shape[axis] == shape[axis] || mask_shape[axis] == 1,
                "{NAME}: mask {mask_shape:?} for scores {shape:?}"
            );
            strides[axis] = if mask_shape[axis] == 1 { 0 } else { stride };
            stride *= mask_shape[axis];
        }
        let mask = mask.try_as_plain_ram()?;
        let mask = mask.as_slice::<f32>()?;
        let (max, exp_sum, scale) = kernels()?;
        let mut plain = out.try_as_plain_ram_mut()?;
        let data = plain.as_slice_mut::<f32>()?;
        let mut index = vec![0usize; rank.saturating_sub(1)];
        for values in data.chunks_exact_mut(row.max(1)) {
            let at: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
            if strides[rank - 1] == 0 {
                values.iter_mut().for_each(|v| *v += mask[at]);
            } else {
                values.iter_mut().zip(&mask[at..at + row]).for_each(|(v, m)| *v += m);
            }
            // tract's Softmax on one row (ops::nn::softmax::softmax_inner_slice_f32)
            let top = max.run(values)?;
            let sum = exp_sum.run_with_params(values, top)?;
            scale.run_with_params(values, sum.recip())?;
            for axis in (0..index.len()).rev() {
                index[axis] += 1;
                if index[axis] < shape[axis] {
                    break;
                }
                index[axis] = 0;
            }
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

type Kernels = (Box<dyn Reduce<f32>>, Box<dyn MapReduce<f32, f32>>, Box<dyn ElementWise<f32, f32>>);

/// The kernels tract's f32 softmax runs on this machine.
fn kernels() -> TractResult<Kernels> {
    Ok((Func::ReduceMax.reduce_f32()?, Func::Softmax2.map_reduce_f32()?, Func::MulByScalar.ew_f32_param()?))
}

impl TypedOp for MaskedSoftmax {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let (scores, mask) = (inputs[0], inputs[1]);
        ensure!(scores.datum_type == f32::datum_type() && mask.datum_type == f32::datum_type(), "{NAME} takes f32");
        ensure!(scores.rank() >= 1 && mask.rank() == scores.rank(), "{NAME}: mask {mask:?} for scores {scores:?}");
        Ok(tvec!(f32::fact(scores.shape.clone())))
    }

    as_op!();
}

/// Replace each `Softmax(Add(scores, mask))` over the last axis (f32, the sum read by nothing
/// else, `mask` broadcasting to `scores`) with [`MaskedSoftmax`]. Returns how many were fused.
/// (Run when an ONNX graph is decluttered: the NNEF-only build reads graphs fused already.)
#[cfg_attr(not(feature = "onnx"), allow(dead_code))]
pub(crate) fn fuse(model: &mut TypedModel) -> TractResult<usize> {
    let mut fused = 0;
    for softmax_id in model.eval_order()? {
        let softmax = &model.nodes[softmax_id];
        let Some(op) = softmax.op_as::<Softmax>() else { continue };
        let out = model.outlet_fact(softmax.inputs[0])?.clone();
        let rank = out.rank();
        if rank == 0
            || op.axes.as_slice() != [rank - 1]
            || op.kind != SoftmaxKind::Softmax
            || op.quant_output_dt.is_some()
        {
            continue;
        }
        let add = model.node(softmax.inputs[0].node);
        let Some(bin) = add.op_as::<TypedBinOp>() else { continue };
        if !bin.0.is::<Add>() || bin.1.is_some() || add.outputs[0].successors.len() != 1 {
            continue;
        }
        let (add_inputs, softmax_name) = (add.inputs.clone(), softmax.name.clone());
        let facts: Vec<TypedFact> =
            add_inputs.iter().map(|o| model.outlet_fact(*o).cloned()).collect::<TractResult<_>>()?;
        if facts.iter().chain([&out]).any(|f| f.datum_type != f32::datum_type() || f.rank() != rank) {
            continue;
        }
        // the scores are the input of the output's shape; the mask broadcasts (1 or the same size)
        let Some(scores) = (0..2).find(|&i| facts[i].shape == out.shape) else { continue };
        let mask = &facts[1 - scores];
        if mask.shape.iter().zip(out.shape.iter()).any(|(m, s)| !m.is_one() && m != s) {
            continue;
        }
        let mut patch = TypedModelPatch::default();
        let taps = [patch.tap_model(model, add_inputs[scores])?, patch.tap_model(model, add_inputs[1 - scores])?];
        let wire = patch.wire_node(&softmax_name, MaskedSoftmax, &taps)?;
        patch.shunt_outside(model, softmax_id.into(), wire[0])?;
        patch.apply(model)?;
        fused += 1;
    }
    if fused > 0 {
        model.compact()?;
    }
    Ok(fused)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-4, 4].
    fn values(n: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| crate::model::ops::int8_linear::next_random(&mut state) as f32 / u32::MAX as f32 * 8.0 - 4.0)
            .collect()
    }

    /// `softmax(scores + mask)` as tract runs it unfused, and fused.
    fn both(scores: &[usize], mask: &[usize]) -> (Tensor, Tensor, usize) {
        let mut model = TypedModel::default();
        let s = model.add_source("scores", f32::fact(scores)).unwrap();
        let m = model.add_source("mask", f32::fact(mask)).unwrap();
        let sum = model.wire_node("add", tract_nnef::tract_core::ops::math::add(), &[s, m]).unwrap();
        let axes = tvec![scores.len() - 1];
        let p = model.wire_node("softmax", Softmax::new(axes, None, SoftmaxKind::Softmax), &sum).unwrap();
        model.select_output_outlets(&p).unwrap();
        let inputs = tvec![
            Tensor::from_shape(scores, &values(scores.iter().product(), 1)).unwrap().into_tvalue(),
            Tensor::from_shape(mask, &values(mask.iter().product(), 2)).unwrap().into_tvalue(),
        ];
        let run = |m: TypedModel| m.into_runnable().unwrap().run(inputs.clone()).unwrap().remove(0).into_tensor();
        let plain = run(model.clone());
        let count = fuse(&mut model).unwrap();
        assert!(model.nodes.iter().all(|n| !n.op_is::<Softmax>()) || count == 0);
        (plain, run(model), count)
    }

    #[test]
    fn fused_gives_the_same_bits_for_every_broadcast() {
        for (scores, mask) in [
            (vec![2, 3, 5, 7], vec![2, 1, 1, 7]),
            (vec![2, 3, 5, 7], vec![2, 1, 5, 7]),
            (vec![2, 3, 5, 7], vec![1, 3, 1, 1]),
            (vec![2, 3, 5, 7], vec![2, 3, 5, 7]),
            (vec![4, 9], vec![4, 1]),
        ] {
            let (plain, fused, count) = both(&scores, &mask);
            assert_eq!(count, 1, "{scores:?} + {mask:?}");
            assert_eq!(plain, fused, "{scores:?} + {mask:?}");
        }
    }

    #[cfg(feature = "onnx")]
    #[test]
    fn every_attention_layer_of_the_default_models_is_fused() {
        use crate::error::ModelRole;
        use crate::model::signature::OutputKind;
        for (role, dir, kind) in [
            (ModelRole::BiEncoder, "bi-encoder", OutputKind::TokenStates),
            (ModelRole::CrossEncoder, "cross-encoder", OutputKind::Logits),
        ] {
            let bytes = std::fs::read(format!("{}/models/{dir}/model.onnx", env!("CARGO_MANIFEST_DIR"))).unwrap();
            let model = crate::model::onnx::decluttered(role, &bytes, kind, true).unwrap().model;
            let count = |f: &dyn Fn(&TypedNode) -> bool| model.nodes.iter().filter(|n| f(n)).count();
            assert_eq!(count(&|n| n.op_is::<MaskedSoftmax>()), 6, "{dir}: MiniLM-L6 has 6 attention layers");
            assert_eq!(count(&|n| n.op_is::<Softmax>()), 0, "{dir}");
        }
    }

    #[test]
    fn other_shapes_are_left_alone() {
        // the sum is wider than either input: no input is the scores
        let (plain, fused, count) = both(&[2, 1, 5], &[1, 3, 5]);
        assert_eq!((count, plain), (0, fused));
    }
}
