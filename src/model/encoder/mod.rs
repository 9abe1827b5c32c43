//! The encoder runtime shared by both roles: a graph compiled by tract from either file format,
//! the files a model comes in, and the batches it runs.
//!
//! [`LoadedModel`] is what [`crate::bi_encoder`] and [`crate::cross_encoder`] hold: a
//! [`CompiledEncoder`] (tract NNEF from [`convert_to_nnef`], or ONNX through
//! [`crate::model::onnx`] with the `onnx` feature; its signature checked: `input_ids`,
//! `attention_mask`, optional `token_type_ids`, one output of the expected rank; optimised once)
//! and its tokenizer, checked against each other and against `config.json` ([`files`]), running
//! dynamically padded batches ([`batching`]).

use crate::error::{Error, ModelRole, Result};

mod batching;
mod compiled;
mod files;

/// The int8 linear layers' kernel, one choice per wasm instance: the package times both kernels
/// of a relaxed-SIMD core at its start and keeps the faster (`pkg-config/lib/load-core.js`).
#[cfg(target_arch = "wasm32")]
pub(crate) use crate::model::ops::int8_linear::{
    kernel as int8_kernel, relaxed_self_test, set_kernel as set_int8_kernel, time_matmul as time_int8_matmul,
    Kernel as Int8Kernel, RELAXED_AVAILABLE,
};
pub(crate) use crate::model::signature::OutputKind;
pub(crate) use batching::PaddedBatch;
#[cfg(feature = "onnx")]
pub use compiled::convert_to_nnef;
pub(crate) use compiled::CompiledEncoder;
pub use files::ModelFiles;
pub use files::Pooling;
use files::{ModelConfig, DEFAULT_MAX_POSITIONS};

/// An encoder and its tokenizer, checked against each other.
#[derive(Debug)]
pub(crate) struct LoadedModel {
    pub encoder: CompiledEncoder,
    pub tokenizer: crate::tokenize::TextTokenizer,
    /// Longest sequence the model accepts (position table size).
    pub max_positions: usize,
    /// Highest segment id + 1 the model accepts (1 means pairs are fed as segment 0): the graph's
    /// segment table, else `config.json`'s (DistilBERT: 1), else 2.
    pub type_rows: usize,
    /// Threads that run batches (native builds; always 1 on wasm32).
    pub threads: usize,
    /// The cross-encoder weight `config.json` gives (`minirank.fusion.crossEncoder`).
    pub fusion_weight: Option<f32>,
    /// How token states become one vector (bi-encoders): `1_Pooling/config.json`, else
    /// `config.json`'s `minirank.pooling`, else mean.
    pub pooling: Pooling,
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
            Some(bytes) => {
                serde_json::from_slice(bytes).map_err(|e| Error::BadConfig { role, reason: e.to_string() })?
            }
            None => ModelConfig::default(),
        };
        let encoder = CompiledEncoder::from_bytes(role, files.model, kind)?;
        let vocab = tokenizer.vocab_size();
        let truths =
            [(encoder.info().vocab_rows, "the model's word-embedding table"), (config.vocab_size, "config.json")];
        for (rows, source_of_truth) in truths {
            if let Some(rows) = rows {
                if rows != vocab {
                    return Err(Error::TokenizerMismatch {
                        role,
                        tokenizer_vocab: vocab,
                        model_vocab: rows,
                        source_of_truth,
                    });
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
        let fusion_weight = config.minirank.fusion.cross_encoder;
        if let Some(w) = fusion_weight.filter(|w| !w.is_finite() || !(0.0..=100.0).contains(w)) {
            return Err(Error::BadConfig {
                role,
                reason: format!("minirank.fusion.crossEncoder must be a number between 0 and 100, got {w}"),
            });
        }
        let pooling = match files.pooling {
            Some(bytes) => {
                Pooling::from_sentence_transformers(bytes).map_err(|reason| Error::BadConfig { role, reason })?
            }
            None => config.minirank.pooling.unwrap_or_default(),
        };
        let max_positions = config.max_positions().unwrap_or(DEFAULT_MAX_POSITIONS);
        let type_rows = encoder.info().type_rows.or(config.type_rows()).unwrap_or(2).max(1);
        Ok(Self { encoder, tokenizer, max_positions, type_rows, threads: 1, fusion_weight, pooling })
    }

    /// Check a requested `max_length` against what the model accepts.
    pub fn check_max_length(&self, name: &'static str, max_length: usize) -> Result<usize> {
        let min = self.tokenizer.special_tokens(true) + 2;
        if max_length < min || max_length > self.max_positions {
            crate::error::bail_option!(
                name,
                "must be between {min} and {} tokens, got {max_length}",
                self.max_positions
            );
        }
        Ok(max_length)
    }
}
