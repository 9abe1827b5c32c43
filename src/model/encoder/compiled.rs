//! [`CompiledEncoder`]: an encoder graph from either format, checked, optimised and run.

use crate::error::{Error, ModelRole, Result};
use crate::model::encoder::PaddedBatch;
use crate::model::nnef;
use crate::model::signature::{Decluttered, GraphInfo, InputKind, OutputKind};
use std::panic::{catch_unwind, AssertUnwindSafe};
use tract_nnef::internal::DimLike;
use tract_nnef::prelude::*;

/// A compiled encoder graph, ready to run many times.
pub(crate) struct CompiledEncoder {
    role: ModelRole,
    plan: Arc<TypedRunnableModel>,
    inputs: Vec<(InputKind, DatumType)>,
    width: usize,
    info: GraphInfo,
}

impl std::fmt::Debug for CompiledEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledEncoder")
            .field("role", &self.role)
            .field("inputs", &self.inputs)
            .field("width", &self.width)
            .field("info", &self.info)
            .finish()
    }
}

/// Whether weight-only int8 linear layers keep their int8 weights and run [`int8_linear`]'s
/// operator. On wasm32 it is both lighter and faster than tract's f32 kernels (SIMD128 has no
/// FMA). Natively tract's AVX2/AVX-512 FMA kernels were faster than the integer sums, even with an
/// AVX-512 VNNI kernel, so the weights are folded to f32 there and native results are f32
/// arithmetic (docs/performance.md, "Measurements behind the code").
pub(crate) const INT8_LINEAR: bool = cfg!(target_arch = "wasm32");

impl CompiledEncoder {
    /// Parse, check and optimize an encoder graph: ONNX, or tract NNEF from [`convert_to_nnef`].
    pub fn from_bytes(role: ModelRole, bytes: &[u8], kind: OutputKind) -> Result<Self> {
        Self::from_bytes_with(role, bytes, kind, INT8_LINEAR)
    }

    /// [`Self::from_bytes`], choosing whether linear layers stay int8 (see [`INT8_LINEAR`]).
    pub(crate) fn from_bytes_with(role: ModelRole, bytes: &[u8], kind: OutputKind, int8_linear: bool) -> Result<Self> {
        guarded(role, bytes, "the model loader", || Self::load(role, bytes, kind, int8_linear))
    }

    fn load(role: ModelRole, bytes: &[u8], kind: OutputKind, int8_linear: bool) -> Result<Self> {
        let Decluttered { model: mut typed, inputs: input_kinds, output, info } = if nnef::is_nnef(bytes) {
            Decluttered::from_nnef(role, bytes, kind)?
        } else {
            Self::from_onnx(role, bytes, kind, int8_linear)?
        };
        typed.optimize().map_err(|e| Error::bad_model(role, e))?;

        let mut inputs = Vec::with_capacity(input_kinds.len());
        for (ix, kind) in input_kinds.iter().enumerate() {
            let dt = typed.input_fact(ix).map_err(|e| Error::bad_model(role, e))?.datum_type;
            if dt != i64::datum_type() && dt != i32::datum_type() {
                return Err(Error::ModelSignature {
                    role,
                    reason: format!("input {ix} ({kind:?}) has type {dt:?}; expected int64 or int32"),
                });
            }
            inputs.push((*kind, dt));
        }
        let fact = typed.output_fact(0).map_err(|e| Error::bad_model(role, e))?;
        if fact.datum_type != f32::datum_type() {
            return Err(Error::ModelSignature {
                role,
                reason: format!("output `{output}` has type {:?}; expected float32", fact.datum_type),
            });
        }
        if fact.rank() != kind.rank() {
            return Err(Error::ModelSignature {
                role,
                reason: format!("output `{output}` has rank {}; expected {}", fact.rank(), kind.rank()),
            });
        }
        let width = fact.shape[kind.rank() - 1].to_usize().map_err(|_| Error::ModelSignature {
            role,
            reason: format!("the last dimension of output `{output}` is not fixed"),
        })?;
        if width == 0 {
            return Err(Error::ModelSignature { role, reason: format!("output `{output}` is empty") });
        }
        let plan = typed.into_runnable().map_err(|e| Error::bad_model(role, e))?;
        Ok(Self { role, plan, inputs, width, info })
    }

    #[cfg(feature = "onnx")]
    fn from_onnx(role: ModelRole, bytes: &[u8], kind: OutputKind, int8_linear: bool) -> Result<Decluttered> {
        crate::model::onnx::decluttered(role, bytes, kind, int8_linear)
    }

    #[cfg(not(feature = "onnx"))]
    fn from_onnx(role: ModelRole, _: &[u8], _: OutputKind, _: bool) -> Result<Decluttered> {
        Err(Error::BadModel {
            role,
            reason: "not a tract NNEF archive, and this build reads no ONNX: convert the ONNX file with `minirank convert`, or use a build with the `onnx` feature (in the npm package: the ONNX core, `minirank_core_onnx_bg.wasm`, which a load picks by itself for an ONNX file unless `wasm` is given)".into(),
        })
    }

    /// Last dimension of the output: hidden size (bi-encoder) or number of labels (cross-encoder).
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn info(&self) -> &GraphInfo {
        &self.info
    }

    /// Whether the graph takes `token_type_ids`.
    pub fn has_token_type_ids(&self) -> bool {
        self.inputs.iter().any(|(k, _)| *k == InputKind::TypeIds)
    }

    /// Run one padded batch; calls `f` with the flat output (row-major) and its shape.
    pub fn run<R>(&self, batch: &PaddedBatch, f: impl FnOnce(&[f32], &[usize]) -> R) -> Result<R> {
        let role = self.role;
        let values = self.inputs(batch)?;
        let outputs = catch_unwind(AssertUnwindSafe(|| self.plan.run(values)))
            .map_err(|p| Error::Inference { role, reason: format!("the graph panicked: {}", panic_text(&p)) })?
            .map_err(|e| Error::inference(role, e))?;
        let out = outputs.first().ok_or_else(|| Error::Inference { role, reason: "no output".into() })?;
        let view = out.try_as_plain_ram().map_err(|e| Error::inference(role, e))?;
        let data = view.as_slice::<f32>().map_err(|e| Error::inference(role, e))?;
        Ok(f(data, out.shape()))
    }

    /// Run one batch and add the time each operator kind took to `times` (native builds).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn profile(
        &self,
        batch: &PaddedBatch,
        times: &mut std::collections::HashMap<String, std::time::Duration>,
    ) -> Result<()> {
        let role = self.role;
        let mut state = TypedSimpleState::new(&self.plan).map_err(|e| Error::inference(role, e))?;
        state
            .run_plan_with_eval(self.inputs(batch)?, |ctx, op_state, node, input| {
                let t = std::time::Instant::now();
                let out = tract_nnef::tract_core::plan::eval(ctx, op_state, node, input);
                *times.entry(node.op().name().to_string()).or_default() += t.elapsed();
                out
            })
            .map_err(|e| Error::inference(role, e))?;
        Ok(())
    }

    fn inputs(&self, batch: &PaddedBatch) -> Result<TVec<TValue>> {
        let role = self.role;
        let mut values: TVec<TValue> = TVec::new();
        for (kind, dt) in &self.inputs {
            let data = match kind {
                InputKind::Ids => &batch.ids,
                InputKind::Mask => &batch.mask,
                InputKind::TypeIds => &batch.type_ids,
            };
            let shape = [batch.batch, batch.seq];
            let tensor = if *dt == i32::datum_type() {
                let narrowed: Vec<i32> = data.iter().map(|&x| x as i32).collect();
                Tensor::from_shape(&shape, &narrowed)
            } else {
                Tensor::from_shape(&shape, data)
            }
            .map_err(|e| Error::inference(role, e))?;
            values.push(tensor.into_tvalue());
        }
        Ok(values)
    }
}

#[cfg(feature = "onnx")]
/// Convert an encoder's ONNX file to tract NNEF, as the wasm build runs it: decluttered, linear
/// layers int8 (minirank's NNEF operators). Loading the result is several times faster
/// than the ONNX file, with the same arithmetic. The same file gives the same bytes.
pub fn convert_to_nnef(role: ModelRole, onnx: &[u8]) -> Result<Vec<u8>> {
    let kind = match role {
        ModelRole::BiEncoder => OutputKind::TokenStates,
        ModelRole::CrossEncoder => OutputKind::Logits,
    };
    if nnef::is_nnef(onnx) {
        return Err(Error::BadModel { role, reason: "already NNEF: convert takes an ONNX file".into() });
    }
    guarded(role, onnx, "the ONNX loader", || {
        let Decluttered { mut model, info, .. } = crate::model::onnx::decluttered(role, onnx, kind, true)?;
        let as_i64 = |v: Option<usize>| v.and_then(|v| i64::try_from(v).ok());
        nnef::set_property(&mut model, nnef::VOCAB_ROWS, as_i64(info.vocab_rows));
        nnef::set_property(&mut model, nnef::TYPE_ROWS, as_i64(info.type_rows));
        nnef::set_property(&mut model, nnef::FINGERPRINT, info.fingerprint.map(i64::from));
        let bytes =
            nnef::write(&model).map_err(|e| Error::BadModel { role, reason: format!("cannot write NNEF ({e:#})") })?;
        // what cannot be read back (an operator written in a form tract does not load) fails here,
        // not in a page
        Decluttered::from_nnef(role, &bytes, kind)?;
        Ok(bytes)
    })
}

/// `f` on a model's bytes: empty bytes are a `BadModel`, and so is a panic in `f` (`loader`
/// names what panicked). tract's loaders are not written to be fed hostile bytes.
fn guarded<T>(role: ModelRole, bytes: &[u8], loader: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if bytes.is_empty() {
        return Err(Error::BadModel { role, reason: "the model bytes are empty".into() });
    }
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|p| Err(Error::BadModel { role, reason: format!("{loader} failed: {}", panic_text(&p)) }))
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Encoded;

    #[test]
    fn the_default_models_keep_their_weights_int8_in_memory() {
        // As f32 the word table (30,522 × 384) would take 47 MB and the 36 encoder linear layers
        // 42.5 MB; int8 they take 11.7 and 10.6 MB (the rewrites in onnx::rewrite).
        for path in ["models/cross-encoder/model.onnx", "models/bi-encoder/model.onnx"] {
            let Ok(bytes) = std::fs::read(path) else {
                panic!("{path}: run scripts/setup.sh models");
            };
            let (role, kind) = if path.contains("cross") {
                (ModelRole::CrossEncoder, OutputKind::Logits)
            } else {
                (ModelRole::BiEncoder, OutputKind::TokenStates)
            };
            let onnx = CompiledEncoder::from_bytes_with(role, &bytes, kind, true).unwrap();
            let nnef = CompiledEncoder::from_bytes(role, &convert_to_nnef(role, &bytes).unwrap(), kind).unwrap();
            for enc in [onnx, nnef] {
                let nodes = &enc.plan.model().nodes;
                let consts: Vec<(DatumType, usize)> = nodes
                    .iter()
                    .filter_map(|n| n.op_as::<tract_nnef::tract_core::ops::konst::Const>())
                    .map(|c| (c.val().datum_type(), c.val().len() * c.val().datum_type().size_of()))
                    .collect();
                let table = 30_522 * 384;
                assert!(
                    consts.iter().any(|&(dt, bytes)| dt == i8::datum_type() && bytes == table),
                    "{path}: no int8 table"
                );
                let f32_bytes: usize = consts.iter().filter(|(dt, _)| *dt != i8::datum_type()).map(|&(_, b)| b).sum();
                assert!(f32_bytes < 2_000_000, "{path}: {f32_bytes} bytes of constants that are not int8");
                let linear = nodes.iter().filter(|n| n.op_is::<crate::model::ops::int8_linear::Int8Linear>()).count();
                assert!(linear >= 36, "{path}: {linear} int8 linear layers");
            }
        }
    }

    /// Ranks (0 = smallest) of values without ties.
    fn ranks(v: &[f32]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0f64; v.len()];
        for (rank, &i) in order.iter().enumerate() {
            r[i] = rank as f64;
        }
        r
    }

    fn spearman(a: &[f32], b: &[f32]) -> f64 {
        let (ra, rb) = (ranks(a), ranks(b));
        let n = a.len() as f64;
        1.0 - 6.0 * ra.iter().zip(&rb).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / (n * (n * n - 1.0))
    }

    #[test]
    fn int8_linear_layers_keep_the_cross_encoders_logits_and_order() {
        // the wasm path (INT8_LINEAR), run natively: against the f32 path and onnxruntime's
        // reference logits (tests/fixtures, f32 arithmetic), in padded batches of 8
        let fx: serde_json::Value =
            serde_json::from_slice(&std::fs::read("tests/fixtures/cross_encoder_reference.json").unwrap()).unwrap();
        let model = std::fs::read("models/cross-encoder/model.onnx").expect("run scripts/setup.sh models");
        let tok = crate::tokenize::TextTokenizer::from_bytes(
            ModelRole::CrossEncoder,
            &std::fs::read("models/cross-encoder/tokenizer.json").unwrap(),
        )
        .unwrap();
        let max = fx["max_length"].as_u64().unwrap() as usize;
        let pairs: Vec<Encoded> = fx["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| tok.encode_pair(p[0].as_str().unwrap(), p[1].as_str().unwrap(), max).unwrap())
            .collect();
        let reference: Vec<f32> = fx["logits"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let logits = |int8: bool| {
            let enc =
                CompiledEncoder::from_bytes_with(ModelRole::CrossEncoder, &model, OutputKind::Logits, int8).unwrap();
            let mut out = Vec::new();
            for chunk in pairs.chunks(8) {
                let batch = PaddedBatch::new(&chunk.iter().collect::<Vec<_>>(), tok.pad_id());
                enc.run(&batch, |data, _| out.extend_from_slice(data)).unwrap();
            }
            out
        };
        let (int8, f32) = (logits(true), logits(false));
        // converted to NNEF (what the npm package ships), the same operators give the same numbers
        let nnef = CompiledEncoder::from_bytes(
            ModelRole::CrossEncoder,
            &convert_to_nnef(ModelRole::CrossEncoder, &model).unwrap(),
            OutputKind::Logits,
        )
        .unwrap();
        let mut from_nnef = Vec::new();
        for chunk in pairs.chunks(8) {
            let batch = PaddedBatch::new(&chunk.iter().collect::<Vec<_>>(), tok.pad_id());
            nnef.run(&batch, |data, _| from_nnef.extend_from_slice(data)).unwrap();
        }
        assert_eq!(from_nnef, int8, "NNEF against the ONNX file with int8 linear layers");
        for (other, name) in [(&f32, "the f32 path"), (&reference, "onnxruntime")] {
            let worst = int8.iter().zip(other).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(worst < 5e-3, "int8 against {name}: a logit moved by {worst}");
            let rho = spearman(&int8, other);
            assert!(rho >= 0.9999, "int8 against {name}: Spearman {rho}");
        }
        // and the f32 path is onnxruntime's arithmetic
        let worst = f32.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-3, "f32 against onnxruntime: {worst}");
    }

    #[test]
    fn uint8_weights_with_zero_points_run_on_the_int8_operator_and_convert_to_nnef() {
        // onnxruntime's quantize_dynamic with uint8 weights (the Hub's model_quantized.onnx) on the
        // tiny BERT cross-encoder: the int8 operator with offsets against the f32 path
        let model = std::fs::read("tests/fixtures/tiny/dtypes/model_quantized.onnx").unwrap();
        let tok = crate::tokenize::TextTokenizer::from_bytes(
            ModelRole::CrossEncoder,
            &std::fs::read("tests/fixtures/tiny/arch/bert-ce/tokenizer.json").unwrap(),
        )
        .unwrap();
        let texts = ["the lighthouse keeper", "counted seven ships before the storm", "a quiet library", "maps"];
        let pairs: Vec<Encoded> =
            texts.iter().flat_map(|q| texts.iter().map(|d| tok.encode_pair(q, d, 64).unwrap())).collect();
        let run = |enc: &CompiledEncoder| {
            let mut out = Vec::new();
            for chunk in pairs.chunks(5) {
                let batch = PaddedBatch::new(&chunk.iter().collect::<Vec<_>>(), tok.pad_id());
                enc.run(&batch, |data, _| out.extend_from_slice(data)).unwrap();
            }
            out
        };
        let load = |bytes: &[u8], int8| {
            CompiledEncoder::from_bytes_with(ModelRole::CrossEncoder, bytes, OutputKind::Logits, int8).unwrap()
        };
        let (int8, f32) = (run(&load(&model, true)), run(&load(&model, false)));
        let worst = int8.iter().zip(&f32).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-3, "int8 operator with offsets against f32: {worst}");
        // and its NNEF conversion (the embedding table's DequantizeLinear written as arithmetic)
        let nnef = convert_to_nnef(ModelRole::CrossEncoder, &model).unwrap();
        assert!(nnef::tests::graph_text(&nnef).contains("minirank_int8_linear_offsets"));
        assert_eq!(run(&load(&nnef, true)), int8, "NNEF against the ONNX file");
    }

    #[test]
    fn nnef_conversion_keeps_what_minirank_read_from_the_onnx_graph() {
        for (path, role, kind) in [
            ("models/bi-encoder/model.onnx", ModelRole::BiEncoder, OutputKind::TokenStates),
            ("models/cross-encoder/model.onnx", ModelRole::CrossEncoder, OutputKind::Logits),
        ] {
            let onnx = std::fs::read(path).expect("run scripts/setup.sh models");
            let nnef = convert_to_nnef(role, &onnx).unwrap();
            assert!(nnef::is_nnef(&nnef) && !nnef::is_nnef(&onnx));
            assert_eq!(convert_to_nnef(role, &onnx).unwrap(), nnef, "{path}: the conversion is deterministic");
            let (a, b) = (
                CompiledEncoder::from_bytes(role, &onnx, kind).unwrap(),
                CompiledEncoder::from_bytes(role, &nnef, kind).unwrap(),
            );
            assert_eq!((a.info.vocab_rows, a.info.type_rows), (Some(30_522), Some(2)), "{path}");
            assert_eq!(
                (b.info.vocab_rows, b.info.type_rows, b.info.fingerprint),
                (a.info.vocab_rows, a.info.type_rows, a.info.fingerprint),
                "{path}"
            );
            assert_eq!((b.inputs.clone(), b.width), (a.inputs.clone(), a.width), "{path}");
            // a conversion is refused for the other role (wrong output rank) and for NNEF input
            let other = if role == ModelRole::BiEncoder { ModelRole::CrossEncoder } else { ModelRole::BiEncoder };
            assert!(matches!(convert_to_nnef(other, &onnx), Err(Error::ModelSignature { .. })), "{path}");
            assert!(matches!(convert_to_nnef(role, &nnef), Err(Error::BadModel { .. })), "{path}");
            // a truncated archive is a bad model, not a panic
            for cut in [600, nnef.len() / 2, nnef.len() * 9 / 10] {
                let err = CompiledEncoder::from_bytes(role, &nnef[..cut], kind).unwrap_err();
                assert!(matches!(err, Error::BadModel { .. }), "{path} cut at {cut}: {err}");
            }
        }
    }

    #[test]
    fn random_bytes_are_a_bad_model() {
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let err = CompiledEncoder::from_bytes(ModelRole::CrossEncoder, &bytes, OutputKind::Logits).unwrap_err();
        assert!(matches!(err, Error::BadModel { .. }), "{err}");
        let err = CompiledEncoder::from_bytes(ModelRole::CrossEncoder, &[], OutputKind::Logits).unwrap_err();
        assert!(matches!(err, Error::BadModel { .. }), "{err}");
    }
}
