//! The files of a model ([`ModelFiles`]) and the fields of its `config.json` that minirank checks.

/// The files of one model, as bytes: the graph (ONNX or tract NNEF), `tokenizer.json`, and
/// optionally `config.json`.
#[derive(Debug, Clone, Copy)]
pub struct ModelFiles<'a> {
    /// The graph: ONNX (`model.onnx`) or tract NNEF from `minirank convert` (`model.nnef.tar`).
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
const PADDING_OFFSET_POSITIONS: &[&str] = &[
    "roberta",
    "xlm-roberta",
    "xlm-roberta-xl",
    "camembert",
    "mpnet",
    "roberta-prelayernorm",
    "data2vec-text",
    "xmod",
];

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

    /// Rows of the segment table; DistilBERT and ModernBERT have none (one segment; DeBERTa-v3
    /// says `type_vocab_size: 0`).
    pub fn type_rows(&self) -> Option<usize> {
        self.type_vocab_size.or((self.is("distilbert") || self.is("modernbert")).then_some(1))
    }
}

/// Default cap on sequence length when neither config nor graph says (BERT's position table).
pub(crate) const DEFAULT_MAX_POSITIONS: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ModelConfig {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn roberta_family_positions_start_after_the_padding_index() {
        let roberta = config(
            r#"{"model_type": "roberta", "max_position_embeddings": 514, "pad_token_id": 1, "type_vocab_size": 1}"#,
        );
        assert_eq!(roberta.max_positions(), Some(512));
        let xlmr = config(r#"{"model_type": "xlm-roberta", "max_position_embeddings": 130}"#);
        assert_eq!(xlmr.max_positions(), Some(128), "pad_token_id defaults to 1");
        let bert = config(r#"{"model_type": "bert", "max_position_embeddings": 512, "pad_token_id": 0}"#);
        assert_eq!(bert.max_positions(), Some(512));
        assert_eq!(config(r#"{"model_type": "roberta"}"#).max_positions(), None);
        assert_eq!(
            config(r#"{"model_type": "roberta", "max_position_embeddings": 2, "pad_token_id": 1}"#).max_positions(),
            Some(1)
        );
    }

    #[test]
    fn distilbert_config_names_its_width_dim_and_has_no_segments() {
        let d =
            config(r#"{"model_type": "distilbert", "dim": 768, "max_position_embeddings": 512, "pad_token_id": 0}"#);
        assert_eq!((d.hidden_size(), d.type_rows(), d.max_positions()), (Some(768), Some(1), Some(512)));
        let b = config(r#"{"model_type": "bert", "hidden_size": 384, "dim": 7, "type_vocab_size": 2}"#);
        assert_eq!((b.hidden_size(), b.type_rows()), (Some(384), Some(2)));
        assert_eq!((ModelConfig::default().hidden_size(), ModelConfig::default().type_rows()), (None, None));
    }
}
