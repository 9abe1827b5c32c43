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
    /// Optional sentence-transformers `1_Pooling/config.json` bytes (a bi-encoder's pooling).
    pub pooling: Option<&'a [u8]>,
}

impl<'a> ModelFiles<'a> {
    /// Model and tokenizer bytes, no config.
    pub fn new(model: &'a [u8], tokenizer: &'a [u8]) -> Self {
        Self { model, tokenizer, config: None, sha256: None, pooling: None }
    }
    /// Add `config.json` bytes.
    pub fn with_config(mut self, config: &'a [u8]) -> Self {
        self.config = Some(config);
        self
    }
    /// Add a sentence-transformers `1_Pooling/config.json` (how a bi-encoder pools its token
    /// states: `pooling_mode_cls_token` or `pooling_mode_mean_tokens`).
    pub fn with_pooling_config(mut self, pooling: &'a [u8]) -> Self {
        self.pooling = Some(pooling);
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
    /// What the model's publisher says to minirank (`"minirank": {...}`).
    #[serde(default)]
    pub minirank: MinirankSettings,
}

/// The `minirank` key of a model's `config.json`: settings that travel with the model.
///
/// ```json
/// "minirank": { "fusion": { "crossEncoder": 0 } }
/// ```
///
/// `fusion.crossEncoder` is a cross-encoder's weight in the fused score when a search does not
/// give one (`Fusion::cross_encoder` left out); `pooling` a bi-encoder's pooling (`"mean"`, the
/// default, or `"cls"`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct MinirankSettings {
    #[serde(default)]
    pub fusion: FusionSettings,
    pub pooling: Option<Pooling>,
}

/// How a bi-encoder turns token states into one vector (before the L2 norm).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The mean of the tokens' states over the attention mask (sentence-transformers'
    /// `pooling_mode_mean_tokens`: all-MiniLM, e5, most bi-encoders).
    #[default]
    Mean,
    /// The first token's state (`[CLS]`; `pooling_mode_cls_token`: bge, gte, arctic-embed).
    Cls,
}

impl Pooling {
    /// The pooling a sentence-transformers `1_Pooling/config.json` asks for: one of its
    /// `pooling_mode_*` flags, mean or cls; any other mode (max, last token, weighted mean,
    /// several at once) is refused with its name.
    pub(crate) fn from_sentence_transformers(bytes: &[u8]) -> std::result::Result<Self, String> {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("1_Pooling/config.json: {e}"))?;
        let on: Vec<&str> = v
            .as_object()
            .ok_or("1_Pooling/config.json is not a JSON object")?
            .iter()
            .filter(|(k, v)| k.starts_with("pooling_mode_") && v.as_bool() == Some(true))
            .map(|(k, _)| k.as_str())
            .collect();
        match on.as_slice() {
            ["pooling_mode_mean_tokens"] => Ok(Pooling::Mean),
            ["pooling_mode_cls_token"] => Ok(Pooling::Cls),
            [] => Err("1_Pooling/config.json sets no pooling_mode_* flag".into()),
            modes => Err(format!(
                "1_Pooling/config.json asks for {}; minirank pools by mean (pooling_mode_mean_tokens) or by the first \
                 token (pooling_mode_cls_token)",
                modes.join(" + ")
            )),
        }
    }
}

/// `minirank.fusion` of a `config.json`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FusionSettings {
    pub cross_encoder: Option<f32>,
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
