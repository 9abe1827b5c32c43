//! The ONNX transformer runner shared by both encoders.
//!
//! Loads a BERT-family encoder (tract NNEF from [`convert_to_nnef`], or ONNX through
//! [`crate::onnx`] with the `onnx` feature), checks its signature
//! (`input_ids`, `attention_mask`, optional `token_type_ids`; one output of the expected rank),
//! optimizes it once, and runs dynamically padded batches.

use crate::error::{Error, ModelRole, Result};
use crate::nnef;
pub(crate) use crate::signature::OutputKind;
use crate::signature::{Decluttered, GraphInfo, InputKind};
use crate::tokenize::Encoded;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tract_nnef::internal::DimLike;
use tract_nnef::prelude::*;

/// A compiled encoder graph, ready to run many times.
pub(crate) struct OnnxEncoder {
    role: ModelRole,
    plan: Arc<TypedRunnableModel>,
    inputs: Vec<(InputKind, DatumType)>,
    width: usize,
    info: GraphInfo,
}

impl std::fmt::Debug for OnnxEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEncoder")
            .field("role", &self.role)
            .field("inputs", &self.inputs)
            .field("width", &self.width)
            .field("info", &self.info)
            .finish()
    }
}

/// A batch padded to its longest member.
pub(crate) struct PaddedBatch {
    pub batch: usize,
    pub seq: usize,
    pub ids: Vec<i64>,
    pub mask: Vec<i64>,
    pub type_ids: Vec<i64>,
}

impl PaddedBatch {
    /// Pad `items` to the longest one (the tokenizer's `pad_id`, mask 0, segment 0).
    pub fn new(items: &[&Encoded], pad_id: u32) -> Self {
        let seq = items.iter().map(|e| e.len()).max().unwrap_or(0);
        let batch = items.len();
        let mut ids = vec![i64::from(pad_id); batch * seq];
        let mut mask = vec![0i64; batch * seq];
        let mut type_ids = vec![0i64; batch * seq];
        for (row, e) in items.iter().enumerate() {
            let base = row * seq;
            for (j, (&id, &tt)) in e.ids.iter().zip(&e.type_ids).enumerate() {
                ids[base + j] = i64::from(id);
                mask[base + j] = 1;
                type_ids[base + j] = i64::from(tt);
            }
        }
        Self { batch, seq, ids, mask, type_ids }
    }
}

/// Whether weight-only int8 linear layers keep their int8 weights and run [`int8_linear`]'s
/// operator. On wasm32 it is both lighter and faster than tract's f32 kernels (SIMD128 has no
/// FMA; measured in Node: reranking 1.65×, embedding 1.5× faster, 104 instead of 228 MB for both
/// models). Natively tract's AVX2/AVX-512 FMA kernels were faster than the integer sums
/// (the 63 parity pairs: 0.65 s in f32; 1.0 s with the portable loop, 0.91–0.96 s with an
/// AVX-512 VNNI kernel, not kept), so the weights are folded to f32 there and native results
/// are f32 arithmetic.
pub(crate) const INT8_LINEAR: bool = cfg!(target_arch = "wasm32");

impl OnnxEncoder {
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
        crate::onnx::decluttered(role, bytes, kind, int8_linear)
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
    pub fn profile(&self, batch: &PaddedBatch, times: &mut std::collections::HashMap<String, std::time::Duration>) -> Result<()> {
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
/// layers int8 (see [`crate::nnef`]). [`OnnxEncoder`] loads the result several times faster
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
        let Decluttered { mut model, info, .. } = crate::onnx::decluttered(role, onnx, kind, true)?;
        let as_i64 = |v: Option<usize>| v.and_then(|v| i64::try_from(v).ok());
        nnef::set_property(&mut model, nnef::VOCAB_ROWS, as_i64(info.vocab_rows));
        nnef::set_property(&mut model, nnef::TYPE_ROWS, as_i64(info.type_rows));
        nnef::set_property(&mut model, nnef::FINGERPRINT, info.fingerprint.map(i64::from));
        let bytes = nnef::write(&model).map_err(|e| Error::BadModel { role, reason: format!("cannot write NNEF ({e:#})") })?;
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

    #[test]
    fn padded_batch_pads_to_longest() {
        let a = Encoded { ids: vec![101, 7, 102], type_ids: vec![0, 0, 0] };
        let b = Encoded { ids: vec![101, 102], type_ids: vec![0, 1] };
        let p = PaddedBatch::new(&[&a, &b], 0);
        assert_eq!((p.batch, p.seq), (2, 3));
        assert_eq!(p.ids, vec![101, 7, 102, 101, 102, 0]);
        assert_eq!(p.mask, vec![1, 1, 1, 1, 1, 0]);
        assert_eq!(p.type_ids, vec![0, 0, 0, 0, 1, 0]);
        // RoBERTa pads with <pad> = 1
        assert_eq!(PaddedBatch::new(&[&a, &b], 1).ids, vec![101, 7, 102, 101, 102, 1]);
    }

    #[test]
    fn batches_hold_at_most_the_batch_size_and_the_token_budget() {
        // short rows fill the batch size; long rows fill the token budget; a row over it runs alone
        assert_eq!(token_batches(&[10, 10, 10, 10, 10], 2, 512), vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(token_batches(&[256, 30, 256, 256, 40], 16, 512), vec![vec![1, 4], vec![0, 2], vec![3]]);
        assert_eq!(token_batches(&[600, 5], 16, 512), vec![vec![1], vec![0]]);
        let lengths: Vec<usize> = (0..200).map(|i| 1 + (i * 37) % 256).collect();
        let batches = token_batches(&lengths, 16, BATCH_TOKEN_BUDGET);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..200).collect::<Vec<_>>(), "every row once");
        for b in &batches {
            let longest = b.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(b.len() <= 16 && (b.len() == 1 || b.len() * longest <= BATCH_TOKEN_BUDGET), "{b:?}");
        }
    }

    fn config(json: &str) -> ModelConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn roberta_family_positions_start_after_the_padding_index() {
        let roberta = config(r#"{"model_type": "roberta", "max_position_embeddings": 514, "pad_token_id": 1, "type_vocab_size": 1}"#);
        assert_eq!(roberta.max_positions(), Some(512));
        let xlmr = config(r#"{"model_type": "xlm-roberta", "max_position_embeddings": 130}"#);
        assert_eq!(xlmr.max_positions(), Some(128), "pad_token_id defaults to 1");
        let bert = config(r#"{"model_type": "bert", "max_position_embeddings": 512, "pad_token_id": 0}"#);
        assert_eq!(bert.max_positions(), Some(512));
        assert_eq!(config(r#"{"model_type": "roberta"}"#).max_positions(), None);
        assert_eq!(config(r#"{"model_type": "roberta", "max_position_embeddings": 2, "pad_token_id": 1}"#).max_positions(), Some(1));
    }

    #[test]
    fn distilbert_config_names_its_width_dim_and_has_no_segments() {
        let d = config(r#"{"model_type": "distilbert", "dim": 768, "max_position_embeddings": 512, "pad_token_id": 0}"#);
        assert_eq!((d.hidden_size(), d.type_rows(), d.max_positions()), (Some(768), Some(1), Some(512)));
        let b = config(r#"{"model_type": "bert", "hidden_size": 384, "dim": 7, "type_vocab_size": 2}"#);
        assert_eq!((b.hidden_size(), b.type_rows()), (Some(384), Some(2)));
        assert_eq!((ModelConfig::default().hidden_size(), ModelConfig::default().type_rows()), (None, None));
    }

    #[test]
    fn the_default_models_keep_their_weights_int8_in_memory() {
        // As f32 the word table (30,522 × 384) would take 47 MB and the 36 encoder linear layers
        // 42.5 MB; int8 they take 11.7 and 10.6 MB (the rewrites in graph_rewrite).
        for path in ["models/cross-encoder/model.onnx", "models/bi-encoder/model.onnx"] {
            let Ok(bytes) = std::fs::read(path) else {
                panic!("{path}: run scripts/setup.sh models");
            };
            let (role, kind) = if path.contains("cross") {
                (ModelRole::CrossEncoder, OutputKind::Logits)
            } else {
                (ModelRole::BiEncoder, OutputKind::TokenStates)
            };
            let onnx = OnnxEncoder::from_bytes_with(role, &bytes, kind, true).unwrap();
            let nnef = OnnxEncoder::from_bytes(role, &convert_to_nnef(role, &bytes).unwrap(), kind).unwrap();
            for enc in [onnx, nnef] {
            let nodes = &enc.plan.model().nodes;
            let consts: Vec<(DatumType, usize)> = nodes
                .iter()
                .filter_map(|n| n.op_as::<tract_nnef::tract_core::ops::konst::Const>())
                .map(|c| (c.val().datum_type(), c.val().len() * c.val().datum_type().size_of()))
                .collect();
            let table = 30_522 * 384;
            assert!(consts.iter().any(|&(dt, bytes)| dt == i8::datum_type() && bytes == table), "{path}: no int8 table");
            let f32_bytes: usize = consts.iter().filter(|(dt, _)| *dt != i8::datum_type()).map(|&(_, b)| b).sum();
            assert!(f32_bytes < 2_000_000, "{path}: {f32_bytes} bytes of constants that are not int8");
            let linear = nodes.iter().filter(|n| n.op_is::<crate::int8_linear::Int8Linear>()).count();
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
        let fx: serde_json::Value = serde_json::from_slice(&std::fs::read("tests/fixtures/cross_encoder_reference.json").unwrap()).unwrap();
        let model = std::fs::read("models/cross-encoder/model.onnx").expect("run scripts/setup.sh models");
        let tok = crate::tokenize::TextTokenizer::from_bytes(ModelRole::CrossEncoder, &std::fs::read("models/cross-encoder/tokenizer.json").unwrap()).unwrap();
        let max = fx["max_length"].as_u64().unwrap() as usize;
        let pairs: Vec<Encoded> = fx["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| tok.encode_pair(p[0].as_str().unwrap(), p[1].as_str().unwrap(), max).unwrap())
            .collect();
        let reference: Vec<f32> = fx["logits"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let logits = |int8: bool| {
            let enc = OnnxEncoder::from_bytes_with(ModelRole::CrossEncoder, &model, OutputKind::Logits, int8).unwrap();
            let mut out = Vec::new();
            for chunk in pairs.chunks(8) {
                let batch = PaddedBatch::new(&chunk.iter().collect::<Vec<_>>(), tok.pad_id());
                enc.run(&batch, |data, _| out.extend_from_slice(data)).unwrap();
            }
            out
        };
        let (int8, f32) = (logits(true), logits(false));
        // converted to NNEF (what the npm package ships), the same operators give the same numbers
        let nnef = OnnxEncoder::from_bytes(ModelRole::CrossEncoder, &convert_to_nnef(ModelRole::CrossEncoder, &model).unwrap(), OutputKind::Logits).unwrap();
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
    fn nnef_conversion_keeps_what_minirank_read_from_the_onnx_graph() {
        for (path, role, kind) in [
            ("models/bi-encoder/model.onnx", ModelRole::BiEncoder, OutputKind::TokenStates),
            ("models/cross-encoder/model.onnx", ModelRole::CrossEncoder, OutputKind::Logits),
        ] {
            let onnx = std::fs::read(path).expect("run scripts/setup.sh models");
            let nnef = convert_to_nnef(role, &onnx).unwrap();
            assert!(nnef::is_nnef(&nnef) && !nnef::is_nnef(&onnx));
            assert_eq!(convert_to_nnef(role, &onnx).unwrap(), nnef, "{path}: the conversion is deterministic");
            let (a, b) = (OnnxEncoder::from_bytes(role, &onnx, kind).unwrap(), OnnxEncoder::from_bytes(role, &nnef, kind).unwrap());
            assert_eq!((a.info.vocab_rows, a.info.type_rows), (Some(30_522), Some(2)), "{path}");
            assert_eq!((b.info.vocab_rows, b.info.type_rows, b.info.fingerprint), (a.info.vocab_rows, a.info.type_rows, a.info.fingerprint), "{path}");
            assert_eq!((b.inputs.clone(), b.width), (a.inputs.clone(), a.width), "{path}");
            // a conversion is refused for the other role (wrong output rank) and for NNEF input
            let other = if role == ModelRole::BiEncoder { ModelRole::CrossEncoder } else { ModelRole::BiEncoder };
            assert!(matches!(convert_to_nnef(other, &onnx), Err(Error::ModelSignature { .. })), "{path}");
            assert!(matches!(convert_to_nnef(role, &nnef), Err(Error::BadModel { .. })), "{path}");
            // a truncated archive is a bad model, not a panic
            for cut in [600, nnef.len() / 2, nnef.len() * 9 / 10] {
                let err = OnnxEncoder::from_bytes(role, &nnef[..cut], kind).unwrap_err();
                assert!(matches!(err, Error::BadModel { .. }), "{path} cut at {cut}: {err}");
            }
        }
    }

    #[test]
    fn random_bytes_are_a_bad_model() {
        let bytes: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let err = OnnxEncoder::from_bytes(ModelRole::CrossEncoder, &bytes, OutputKind::Logits).unwrap_err();
        assert!(matches!(err, Error::BadModel { .. }), "{err}");
        let err = OnnxEncoder::from_bytes(ModelRole::CrossEncoder, &[], OutputKind::Logits).unwrap_err();
        assert!(matches!(err, Error::BadModel { .. }), "{err}");
    }
}

/// The files of one model, as bytes: the ONNX graph, `tokenizer.json`, and optionally `config.json`.
#[derive(Debug, Clone, Copy)]
pub struct ModelFiles<'a> {
    /// ONNX graph bytes (`model.onnx`).
    pub model: &'a [u8],
    /// Hugging Face `tokenizer.json` bytes.
    pub tokenizer: &'a [u8],
    /// Optional Hugging Face `config.json` bytes, used to cross-check vocabulary and limits.
    pub config: Option<&'a [u8]>,
    /// Optional expected SHA-256 of `model` (hex); a different file is refused at load.
    pub sha256: Option<&'a str>,
}

impl<'a> ModelFiles<'a> {
    /// Model and tokenizer bytes, no config.
    pub fn new(model: &'a [u8], tokenizer: &'a [u8]) -> Self {
        Self { model, tokenizer, config: None, sha256: None }
    }
    /// Add `config.json` bytes.
    pub fn with_config(mut self, config: &'a [u8]) -> Self {
        self.config = Some(config);
        self
    }
    /// Require the model bytes to have this SHA-256 (hex, any case).
    pub fn with_sha256(mut self, sha256: &'a str) -> Self {
        self.sha256 = Some(sha256);
        self
    }
}

/// The fields of `config.json` minirank checks against.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct ModelConfig {
    pub model_type: Option<String>,
    pub vocab_size: Option<usize>,
    hidden_size: Option<usize>,
    /// DistilBERT's name for `hidden_size`.
    dim: Option<usize>,
    max_position_embeddings: Option<usize>,
    type_vocab_size: Option<usize>,
    pad_token_id: Option<i64>,
}

/// Model types that number positions from `pad_token_id + 1` (fairseq's `make_positions`,
/// transformers' `create_position_ids_from_input_ids`): `pad_token_id + 1` rows of their position
/// table are never reached by a real token.
const PADDING_OFFSET_POSITIONS: &[&str] =
    &["roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "mpnet", "roberta-prelayernorm", "data2vec-text", "xmod"];

impl ModelConfig {
    fn is(&self, model_type: &str) -> bool {
        self.model_type.as_deref() == Some(model_type)
    }

    /// Width of the token states.
    pub fn hidden_size(&self) -> Option<usize> {
        self.hidden_size.or(self.dim.filter(|_| self.is("distilbert")))
    }

    /// Longest sequence the position table serves: `max_position_embeddings`, less the
    /// `pad_token_id + 1` offset of RoBERTa-family models (514 rows serve 512 tokens).
    pub fn max_positions(&self) -> Option<usize> {
        let rows = self.max_position_embeddings?;
        if !self.model_type.as_deref().is_some_and(|t| PADDING_OFFSET_POSITIONS.contains(&t)) {
            return Some(rows);
        }
        let offset = usize::try_from(self.pad_token_id.unwrap_or(1)).unwrap_or(1) + 1;
        Some(rows.saturating_sub(offset).max(1))
    }

    /// Rows of the segment table; DistilBERT has none (one segment).
    pub fn type_rows(&self) -> Option<usize> {
        self.type_vocab_size.or(self.is("distilbert").then_some(1))
    }
}

/// Default cap on sequence length when neither config nor graph says (BERT's position table).
pub(crate) const DEFAULT_MAX_POSITIONS: usize = 512;

/// Indices of rows of these lengths in batches: shortest first (each batch pads little), at most
/// `batch_size` rows and `budget` tokens (rows × the longest) per batch; a row longer than the
/// budget runs alone.
fn token_batches(lengths: &[usize], batch_size: usize, budget: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for i in order {
        // sorted by length: the new row is the batch's longest, so it sets the padded length
        let fits = batches.last().is_some_and(|b| b.len() < batch_size.max(1) && (b.len() + 1) * lengths[i] <= budget);
        match batches.last_mut() {
            Some(b) if fits => b.push(i),
            _ => batches.push(vec![i]),
        }
    }
    batches
}

/// At most this many tokens (rows × padded length) per forward pass, whatever the batch size (a
/// single longer row still runs alone). Attention holds `rows × heads × length²` scores: 32 rows
/// of 256 tokens grew the heap by 270 MB while embedding, and wasm memory never shrinks. Measured
/// natively (benches/memory.rs, 100 SciFact abstracts at 256 tokens, one thread): embedding peak
/// +266 MB with no budget, +67 MB at 2048 tokens, +17 MB at 512, and each smaller budget was
/// also faster (14.5 s, 11.3 s, 10.7 s; reranking 12.3, 10.6, 10.0 s).
pub(crate) const BATCH_TOKEN_BUDGET: usize = 512;

/// An ONNX encoder and its tokenizer, checked against each other.
#[derive(Debug)]
pub(crate) struct LoadedModel {
    pub encoder: OnnxEncoder,
    pub tokenizer: crate::tokenize::TextTokenizer,
    /// Longest sequence the model accepts (position table size).
    pub max_positions: usize,
    /// Highest segment id + 1 the model accepts (1 means pairs are fed as segment 0): the graph's
    /// segment table, else `config.json`'s (DistilBERT: 1), else 2.
    pub type_rows: usize,
    /// Threads that run batches (native builds; always 1 on wasm32).
    pub threads: usize,
}

impl LoadedModel {
    pub fn load(role: ModelRole, files: ModelFiles<'_>, kind: OutputKind) -> Result<Self> {
        // Cheap checks first: a bad tokenizer or config fails before the graph is compiled.
        if let Some(expected) = files.sha256 {
            let actual = crate::integrity::sha256_hex(files.model);
            if !actual.eq_ignore_ascii_case(expected.trim()) {
                return Err(Error::IntegrityMismatch { role, expected: expected.trim().to_ascii_lowercase(), actual });
            }
        }
        let tokenizer = crate::tokenize::TextTokenizer::from_bytes(role, files.tokenizer)?;
        let config: ModelConfig = match files.config {
            Some(bytes) => serde_json::from_slice(bytes).map_err(|e| Error::BadConfig { role, reason: e.to_string() })?,
            None => ModelConfig::default(),
        };
        let encoder = OnnxEncoder::from_bytes(role, files.model, kind)?;
        let vocab = tokenizer.vocab_size();
        let truths = [(encoder.info().vocab_rows, "the model's word-embedding table"), (config.vocab_size, "config.json")];
        for (rows, source_of_truth) in truths {
            if let Some(rows) = rows {
                if rows != vocab {
                    return Err(Error::TokenizerMismatch { role, tokenizer_vocab: vocab, model_vocab: rows, source_of_truth });
                }
            }
        }
        if let (Some(h), OutputKind::TokenStates) = (config.hidden_size(), kind) {
            if h != encoder.width() {
                return Err(Error::BadConfig {
                    role,
                    reason: format!("hidden_size is {h} but the graph outputs {} values per token", encoder.width()),
                });
            }
        }
        let max_positions = config.max_positions().unwrap_or(DEFAULT_MAX_POSITIONS);
        let type_rows = encoder.info().type_rows.or(config.type_rows()).unwrap_or(2).max(1);
        Ok(Self { encoder, tokenizer, max_positions, type_rows, threads: 1 })
    }

    /// Set how many threads run batches (1..=64; wasm32 always uses 1).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        if threads == 0 || threads > 64 {
            crate::error::bail_option!("threads", "must be between 1 and 64, got {threads}");
        }
        self.threads = threads;
        Ok(())
    }

    /// Check a requested `max_length` against what the model accepts.
    pub fn check_max_length(&self, name: &'static str, max_length: usize) -> Result<usize> {
        let min = self.tokenizer.special_tokens(true) + 2;
        if max_length < min || max_length > self.max_positions {
            crate::error::bail_option!(name, "must be between {min} and {} tokens, got {max_length}", self.max_positions);
        }
        Ok(max_length)
    }

    /// The batches `run_sorted` runs: indices of `encodings`, shortest first, at most
    /// `batch_size` each. Type ids are zeroed first for a model without a second segment row.
    fn sorted_batches(&self, encodings: &mut [crate::tokenize::Encoded], batch_size: usize) -> Vec<Vec<usize>> {
        if self.type_rows < 2 {
            encodings.iter_mut().for_each(|e| e.type_ids.iter_mut().for_each(|t| *t = 0));
        }
        token_batches(&encodings.iter().map(|e| e.len()).collect::<Vec<_>>(), batch_size, BATCH_TOKEN_BUDGET)
    }

    /// Milliseconds per operator kind over the batches `run_sorted` would run (one thread,
    /// native builds), most expensive first.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn profile_sorted(&self, encodings: &mut [crate::tokenize::Encoded], batch_size: usize) -> Result<Vec<(String, f64)>> {
        let mut times = std::collections::HashMap::new();
        for idx in self.sorted_batches(encodings, batch_size) {
            let batch = PaddedBatch::new(&idx.iter().map(|&i| &encodings[i]).collect::<Vec<_>>(), self.tokenizer.pad_id());
            self.encoder.profile(&batch, &mut times)?;
        }
        let mut out: Vec<(String, f64)> = times.into_iter().map(|(k, d)| (k, d.as_secs_f64() * 1e3)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(out)
    }

    /// Run `encodings` in batches of at most `batch_size`, shortest first so that each batch pads
    /// little; `each` receives the original indices of the batch's rows, the batch and the output.
    /// With `threads > 1` (native builds only) batches run on that many threads; `each` is still
    /// called on the caller's thread, in batch order.
    pub fn run_sorted(
        &self,
        encodings: &mut [crate::tokenize::Encoded],
        batch_size: usize,
        mut each: impl FnMut(&[usize], &PaddedBatch, &[f32], &[usize]) -> Result<()>,
    ) -> Result<()> {
        let batches = self.sorted_batches(encodings, batch_size);
        let chunks: Vec<&[usize]> = batches.iter().map(Vec::as_slice).collect();
        let pad_id = self.tokenizer.pad_id();
        let pad = |idx: &[usize]| PaddedBatch::new(&idx.iter().map(|&i| &encodings[i]).collect::<Vec<_>>(), pad_id);
        let threads = if cfg!(target_arch = "wasm32") { 1 } else { self.threads.clamp(1, chunks.len().max(1)) };
        if threads == 1 {
            for idx in &chunks {
                let batch = pad(idx);
                self.encoder.run(&batch, |data, shape| each(idx, &batch, data, shape))??;
            }
            return Ok(());
        }
        // Workers take batches in turn; results are handed to `each` in order.
        type Out = Result<(PaddedBatch, Vec<f32>, Vec<usize>)>;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<Out>>> = chunks.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(idx) = chunks.get(b) else { break };
                    let batch = pad(idx);
                    let out = self.encoder.run(&batch, |data, shape| (data.to_vec(), shape.to_vec())).map(|(d, s)| (batch, d, s));
                    let failed = out.is_err();
                    *results[b].lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
                    if failed {
                        next.store(chunks.len(), std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
        for (idx, slot) in chunks.iter().zip(results) {
            match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some(Ok((batch, data, shape))) => each(idx, &batch, &data, &shape)?,
                Some(Err(e)) => return Err(e),
                None => break, // skipped after an earlier batch failed; that error was returned above
            }
        }
        Ok(())
    }
}
