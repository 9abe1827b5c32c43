//! Pair scoring: `[CLS] query [SEP] document [SEP]` through a sequence-classification encoder.

use crate::error::{Error, ModelRole, Result};
use crate::model::encoder::{LoadedModel, ModelFiles, OutputKind};

/// How to score pairs with [`CrossEncoder::score_pairs`] (JavaScript: `scorePairs(query, texts, { batchSize, maxLength })`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct PairOptions {
    /// Pairs per forward pass (1..=[`MAX_PAIR_BATCH_SIZE`]).
    pub batch_size: usize,
    /// Token budget per (query, document) pair; the document is truncated first.
    pub max_length: usize,
}

impl Default for PairOptions {
    fn default() -> Self {
        Self { batch_size: DEFAULT_PAIR_BATCH_SIZE, max_length: DEFAULT_PAIR_MAX_LENGTH }
    }
}

/// Default token budget per (query, document) pair.
pub const DEFAULT_PAIR_MAX_LENGTH: usize = 256;
/// Most pairs per forward pass.
pub const MAX_PAIR_BATCH_SIZE: usize = 256;

/// A batch size must be in 1..=[`MAX_PAIR_BATCH_SIZE`].
pub fn check_batch_size(batch_size: usize) -> Result<()> {
    if batch_size == 0 || batch_size > MAX_PAIR_BATCH_SIZE {
        crate::error::bail_option!("batchSize", "must be between 1 and {MAX_PAIR_BATCH_SIZE}, got {batch_size}");
    }
    Ok(())
}
/// Default pairs per forward pass.
pub const DEFAULT_PAIR_BATCH_SIZE: usize = 16;

/// A cross-encoder (e.g. a MiniLM reranker): (query, document) → relevance logit.
///
/// Models with one output label give that logit. Models with two labels (irrelevant, relevant)
/// give `relevant − irrelevant`, whose sigmoid equals the softmax probability of "relevant".
#[derive(Debug)]
pub struct CrossEncoder {
    model: LoadedModel,
    labels: usize,
}

impl CrossEncoder {
    /// Load from bytes. The graph must output `[batch, 1]` (or `[batch, 2]`) logits.
    pub fn from_bytes(files: ModelFiles<'_>) -> Result<Self> {
        let model = LoadedModel::load(ModelRole::CrossEncoder, files, OutputKind::Logits)?;
        let labels = model.encoder.width();
        if labels > 2 {
            return Err(Error::ModelSignature {
                role: ModelRole::CrossEncoder,
                reason: format!("the logits have {labels} labels; a reranker has 1 (or 2: irrelevant, relevant)"),
            });
        }
        // A tokenizer that marks the document as segment 1 needs a graph that reads segments,
        // unless config.json says the model has one segment (DistilBERT, whose tokenizer.json is
        // BERT's, pairs included; RoBERTa's type_vocab_size 1).
        let probe = model.tokenizer.encode_pair("query", "document", 16)?;
        if !model.encoder.has_token_type_ids() && model.type_rows > 1 && probe.type_ids.iter().any(|&t| t != 0) {
            return Err(Error::ModelSignature {
                role: ModelRole::CrossEncoder,
                reason: "the graph has no `token_type_ids` input, but the tokenizer marks the document as segment 1: \
                         query and document could not be told apart (export the model with token_type_ids; for an \
                         architecture without segments, such as DistilBERT, pass its config.json)"
                    .into(),
            });
        }
        Ok(Self { model, labels })
    }

    /// This model's own weight in the fused score, where a search leaves `fusion.crossEncoder` out:
    /// what its `config.json` says (`"minirank": {"fusion": {"crossEncoder": w}}`; the shipped
    /// cross-encoder's says 0). `None` when it says nothing (the fusion then uses
    /// `fusion::CROSS_ENCODER_WEIGHT`).
    pub fn fusion_weight(&self) -> Option<f32> {
        self.model.fusion_weight
    }

    /// Longest pair the model accepts, in tokens.
    pub fn max_positions(&self) -> usize {
        self.model.max_positions
    }

    /// Whether the graph takes `token_type_ids` (segment ids of the pair).
    pub fn uses_token_type_ids(&self) -> bool {
        self.model.encoder.has_token_type_ids()
    }

    /// Check a `max_length` option against the model's limits.
    pub fn check_max_length(&self, max_length: usize) -> Result<usize> {
        self.model.check_max_length("maxLength", max_length)
    }

    /// Run batches on this many threads (native builds; 1 by default, always 1 on wasm32).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        self.model.set_threads(threads)
    }

    /// [`score_checked`](Self::score_checked) with the settings in `options`.
    pub fn score_pairs<S: AsRef<str>>(&self, query: &str, documents: &[S], options: &PairOptions) -> Result<Vec<f32>> {
        self.score_checked(query, documents, options.max_length, options.batch_size)
    }

    /// [`score`](Self::score) after the checks reranking makes: a non-empty query, no empty
    /// document, `batch_size` in 1..=[`MAX_PAIR_BATCH_SIZE`].
    pub fn score_checked<S: AsRef<str>>(
        &self,
        query: &str,
        documents: &[S],
        max_length: usize,
        batch_size: usize,
    ) -> Result<Vec<f32>> {
        check_batch_size(batch_size)?;
        crate::tokenize::check_query(query)?;
        documents.iter().try_for_each(|d| crate::tokenize::check_candidate_text(d.as_ref()))?;
        self.score(query, documents, max_length, batch_size)
    }

    fn encode_pairs<S: AsRef<str>>(
        &self,
        query: &str,
        documents: &[S],
        max_length: usize,
    ) -> Result<Vec<crate::tokenize::Encoded>> {
        let max_length = self.check_max_length(max_length)?;
        documents.iter().map(|d| self.model.tokenizer.encode_pair(query, d.as_ref(), max_length)).collect()
    }

    /// Where the time of [`score`](Self::score) goes: milliseconds per operator kind of the
    /// graph (`EinSum`, `Softmax`, ...) for these pairs, most expensive first (native builds,
    /// one thread; used by the native benchmark).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn profile<S: AsRef<str>>(
        &self,
        query: &str,
        documents: &[S],
        max_length: usize,
        batch_size: usize,
    ) -> Result<Vec<(String, f64)>> {
        self.model.profile_sorted(&mut self.encode_pairs(query, documents, max_length)?, batch_size)
    }

    /// The batches that scoring these pairs runs, each as the token counts of its pairs, shortest
    /// first, each padded to its longest.
    pub fn batch_lengths<S: AsRef<str>>(
        &self,
        query: &str,
        documents: &[S],
        max_length: usize,
        batch_size: usize,
    ) -> Result<Vec<Vec<usize>>> {
        Ok(self.model.batch_lengths(&mut self.encode_pairs(query, documents, max_length)?, batch_size))
    }

    /// Raw logits for `(query, document)` pairs, in the order of `documents`.
    pub fn score<S: AsRef<str>>(
        &self,
        query: &str,
        documents: &[S],
        max_length: usize,
        batch_size: usize,
    ) -> Result<Vec<f32>> {
        let mut encodings = self.encode_pairs(query, documents, max_length)?;
        let labels = self.labels;
        let mut logits = vec![0f32; documents.len()];
        self.model.run_sorted(&mut encodings, batch_size, |idx, batch, data, shape| {
            if shape != [batch.batch, labels] {
                return Err(Error::Inference {
                    role: ModelRole::CrossEncoder,
                    reason: format!("output shape {shape:?}, expected [{}, {labels}]", batch.batch),
                });
            }
            for (row, &i) in idx.iter().enumerate() {
                let r = &data[row * labels..(row + 1) * labels];
                logits[i] = if labels == 2 { r[1] - r[0] } else { r[0] };
            }
            Ok(())
        })?;
        Ok(logits)
    }
}
