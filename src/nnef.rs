//! Encoder graphs in tract's NNEF, converted ahead of time.
//!
//! Loading an ONNX file makes tract parse the protobuf, infer every type and shape, and
//! declutter the graph, each time a page loads; on wasm that was most of the time to build a
//! model. [`write`] stores the graph at that point, decluttered, with the int8 linear layers
//! already packed ([`int8_linear::Int8Linear`]), as an uncompressed tar; [`read`] loads it back,
//! and only tract's code generation (`optimize`) is left to do. `minirank convert` (and the npm
//! package's build) writes these files; [`crate::encoder::OnnxEncoder`] takes either format.
//!
//! What minirank learned from the ONNX graph travels as tract properties: [`VOCAB_ROWS`],
//! [`TYPE_ROWS`] and [`FINGERPRINT`] (the CRC-32 of the ONNX file, so that an index built from the
//! ONNX model is accepted with its NNEF conversion and the other way round).
use crate::int8_linear::{Int8Linear, PackedWeights};
use crate::masked_softmax::{self, MaskedSoftmax};
use std::sync::Arc;
use tract_nnef::internal::*;
use tract_nnef::tract_core::ops::nn::GeluExact;

/// The tract registry (NNEF `extension`) of minirank's operators.
const EXTENSION: &str = "minirank";
/// [`Int8Linear`] in NNEF: `minirank_int8_linear(input, columns, scales, k = K)`.
const INT8_LINEAR: &str = "minirank_int8_linear";
/// tract 0.23.9 fuses `0.5 · x · (1 + erf(x / √2))` into `GeluExact` but has no NNEF name for it.
const GELU_EXACT: &str = "minirank_gelu_exact";

/// Property: rows of the word-embedding table (i64; -1 when it could not be traced).
pub(crate) const VOCAB_ROWS: &str = "minirank.vocab_rows";
/// Property: rows of the token-type table (i64; -1 when it could not be traced).
pub(crate) const TYPE_ROWS: &str = "minirank.type_rows";
/// Property: CRC-32 of the ONNX file this graph was converted from (i64).
pub(crate) const FINGERPRINT: &str = "minirank.fingerprint";

/// tract's NNEF framework (its core operators) with minirank's. A graph holding operators of
/// neither fails to convert, and stays an ONNX file.
/// Built once: `tract_nnef::nnef()` parses NNEF's standard library each time (38 ms in wasm).
fn framework() -> &'static tract_nnef::framework::Nnef {
    static NNEF: std::sync::OnceLock<tract_nnef::framework::Nnef> = std::sync::OnceLock::new();
    NNEF.get_or_init(|| tract_nnef::nnef().with_registry(registry()))
}

fn registry() -> Registry {
    let mut registry = Registry::new(EXTENSION).with_doc("minirank's operators: int8 linear layers, exact GELU, masked softmax");
    registry.register_dumper(dump_int8_linear);
    registry.register_primitive(
        INT8_LINEAR,
        &[
            TypeName::Scalar.tensor().named("input"),
            TypeName::Integer.tensor().named("columns"),
            TypeName::Scalar.tensor().named("scales"),
            TypeName::Integer.named("k"),
        ],
        &[("output", TypeName::Scalar.tensor())],
        load_int8_linear,
    );
    registry.register_unit_element_wise(GELU_EXACT, &GeluExact {});
    registry.register_dumper(dump_masked_softmax);
    registry.register_primitive(
        masked_softmax::NAME,
        &[TypeName::Scalar.tensor().named("input"), TypeName::Scalar.tensor().named("mask")],
        &[("output", TypeName::Scalar.tensor())],
        load_masked_softmax,
    );
    registry
}

fn dump_masked_softmax(ast: &mut IntoAst, node: &TypedNode, _: &MaskedSoftmax) -> TractResult<Option<Arc<RValue>>> {
    let inputs = [ast.mapping[&node.inputs[0]].clone(), ast.mapping[&node.inputs[1]].clone()];
    Ok(Some(invocation(masked_softmax::NAME, &inputs, &[])))
}

fn load_masked_softmax(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let mask = invocation.named_arg_as(builder, "mask")?;
    builder.wire(MaskedSoftmax, &[input, mask])
}

fn dump_int8_linear(ast: &mut IntoAst, node: &TypedNode, op: &Int8Linear) -> TractResult<Option<Arc<RValue>>> {
    let input = ast.mapping[&node.inputs[0]].clone();
    let (columns, scales, k) = op.weights.to_tensors()?;
    let columns = ast.konst_variable(format!("{}.columns", node.name), &columns.into_arc_tensor())?;
    let scales = ast.konst_variable(format!("{}.scales", node.name), &scales.into_arc_tensor())?;
    Ok(Some(invocation(INT8_LINEAR, &[input, columns, scales], &[("k", numeric(k))])))
}

fn load_int8_linear(builder: &mut ModelBuilder, invocation: &ResolvedInvocation) -> TractResult<Value> {
    let input = invocation.named_arg_as(builder, "input")?;
    let columns: Arc<Tensor> = invocation.named_arg_as(builder, "columns")?;
    let scales: Arc<Tensor> = invocation.named_arg_as(builder, "scales")?;
    let k: usize = invocation.named_arg_as(builder, "k")?;
    let op = Int8Linear { weights: Arc::new(PackedWeights::from_tensors(&columns, &scales, k)?) };
    builder.wire(op, &[input])
}

/// Whether `bytes` is a tar archive (POSIX `ustar` magic): NNEF, not an ONNX protobuf.
pub(crate) fn is_nnef(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// The decluttered `model` as an uncompressed NNEF tar; the same model gives the same bytes.
#[cfg(any(feature = "onnx", test))]
pub(crate) fn write(model: &TypedModel) -> TractResult<Vec<u8>> {
    framework().write_to_tar_with_config(model, Vec::new(), false, true)
}

/// A model [`write`] wrote (or any NNEF tract reads), ready for `optimize`.
pub(crate) fn read(bytes: &[u8]) -> TractResult<TypedModel> {
    framework().model_for_read(&mut &*bytes)
}

/// An integer property [`write`] recorded, if present and not negative.
pub(crate) fn property(model: &TypedModel, name: &str) -> Option<i64> {
    model.properties.get(name).and_then(|t| t.cast_to_scalar::<i64>().ok()).filter(|v| *v >= 0)
}

/// Record an integer property (-1 for none).
#[cfg(any(feature = "onnx", test))]
pub(crate) fn set_property(model: &mut TypedModel, name: &str, value: Option<i64>) {
    model.properties.insert(name.to_string(), rctensor0(value.unwrap_or(-1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tar_is_nnef_and_a_protobuf_is_not() {
        let mut model = TypedModel::default();
        let x = model.add_source("x", f32::fact([2usize, 8])).unwrap();
        let y = model.wire_node("gelu", tract_nnef::tract_core::ops::element_wise::ElementWiseOp(Box::new(GeluExact {}), None), &[x]).unwrap();
        model.select_output_outlets(&y).unwrap();
        set_property(&mut model, VOCAB_ROWS, Some(30522));
        set_property(&mut model, TYPE_ROWS, None);
        let bytes = write(&model).unwrap();
        assert!(is_nnef(&bytes));
        assert_eq!(write(&model).unwrap(), bytes, "the same model gives the same bytes");
        assert!(!is_nnef(b"\x08\x07\x12\x07pytorch"));
        let back = read(&bytes).unwrap();
        assert_eq!(property(&back, VOCAB_ROWS), Some(30522));
        assert_eq!(property(&back, TYPE_ROWS), None);
        let input = tensor2(&[[-3f32, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0]; 2]);
        let run = |m: TypedModel| m.into_optimized().unwrap().into_runnable().unwrap().run(tvec!(input.clone().into_tvalue())).unwrap();
        assert_eq!(run(back)[0], run(model)[0], "exact GELU survives the round trip");
    }
}
