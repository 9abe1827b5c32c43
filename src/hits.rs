//! What flows between the stages: a [`Candidate`] from retrieval (or from anywhere), and a
//! [`RerankedHit`] out of stage two with the parts of its score. Plain data, no policy.

use crate::fusion::{Contributions, Weights};
use serde::{Deserialize, Serialize};

/// A document to rerank: from the engine's retrieval or from anywhere else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Id, unique within one rerank call. In JSON it may be a number, or left out (see
    /// [`Candidate::number_unnamed`]).
    #[serde(default, deserialize_with = "crate::options::id")]
    pub id: String,
    /// Text scored against the query.
    pub text: String,
    /// First-stage score (cosine for dense retrieval), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// Cosine similarity to the query (bi-encoder), when known: a signal of the fused score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense: Option<f32>,
    /// BM25 score for the query, when known: a signal of the fused score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bm25: Option<f32>,
    /// Metadata carried through to the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// The parent document's id, for a passage of a longer document.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::options::optional_id")]
    pub parent: Option<String>,
}

impl Candidate {
    /// A candidate with no first-stage score.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Self { id: id.into(), text: text.into(), score: None, dense: None, bm25: None, metadata: None, parent: None }
    }

    /// Give each candidate without an id its position in the list (`"0"`, `"1"`, ...).
    pub fn number_unnamed(candidates: &mut [Candidate]) {
        for (i, c) in candidates.iter_mut().enumerate() {
            if c.id.is_empty() {
                c.id = i.to_string();
            }
        }
    }
}

/// One result, before or after the cross-encoder: a hit of a [`crate::pipeline::FusedResult`],
/// and all of a [`RerankedHit`] but its logit and score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FusedHit {
    /// Candidate id.
    pub id: String,
    /// Candidate text.
    pub text: String,
    /// 1-based rank in the result.
    pub rank: usize,
    /// 1-based position in the candidate list given to stage two.
    pub original_rank: usize,
    /// The candidate's first-stage score.
    pub retrieval_score: Option<f32>,
    /// The candidate's cosine similarity to the query, when known.
    pub dense: Option<f32>,
    /// The candidate's BM25 score, when known.
    pub bm25: Option<f32>,
    /// The fused score the hits are ordered by (see [`crate::fusion`]): the sum of
    /// `contributions` (before the cross-encoder, without its term).
    pub fused: f32,
    /// What each signal added to `fused`.
    pub contributions: Contributions,
    /// The parts of the final score, when multi-signal reranking is used
    /// (see `signals`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Components>,
    /// The candidate's parent document (a passage of a longer document).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// When results are grouped by parent: this document's passages among the results, best
    /// first (`text` is the best one's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passages: Option<Vec<String>>,
    /// When results are grouped by parent: the score the parents are ordered by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_score: Option<f32>,
    /// The candidate's metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

/// One reranked result: the fields of a [`FusedHit`] and the cross-encoder's logit and score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RerankedHit {
    /// Everything of the hit but the cross-encoder's part (serialized flat; read through `Deref`:
    /// `hit.id` is `hit.hit.id`).
    #[serde(flatten)]
    pub hit: FusedHit,
    /// Raw cross-encoder logit (uncalibrated; higher is more relevant).
    pub logit: f32,
    /// `sigmoid(logit)`, in 0..1.
    pub score: f32,
}

impl std::ops::Deref for RerankedHit {
    type Target = FusedHit;
    fn deref(&self) -> &FusedHit {
        &self.hit
    }
}

impl std::ops::DerefMut for RerankedHit {
    fn deref_mut(&mut self) -> &mut FusedHit {
        &mut self.hit
    }
}

impl RerankedHit {
    /// The id this hit is grouped under: its parent's for a passage, else its own.
    pub fn group_id(&self) -> &str {
        self.parent.as_deref().unwrap_or(&self.id)
    }

    /// The value hits are ordered by: the parent score, else the multi-signal final score,
    /// else the fused score.
    pub fn ranking_score(&self) -> f32 {
        self.parent_score.or(self.components.map(|c| c.final_score)).unwrap_or(self.fused)
    }
}

/// Which stage a search result is from. A progressive search gives both, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStage {
    /// The candidates ordered by the dense and BM25 terms of the fused score, before the
    /// cross-encoder ([`crate::pipeline::FusedResult`]).
    Fused,
    /// Reranked with the cross-encoder ([`crate::pipeline::SearchResult`]).
    Reranked,
}

/// The outcome of a rerank.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reranked {
    /// Results, best first.
    pub hits: Vec<RerankedHit>,
    /// True when candidates were given but none reached `min_score`: "I don't know".
    pub no_confident_answer: bool,
    /// Highest logit among all candidates (also when all were filtered out).
    pub best_logit: Option<f32>,
    /// `sigmoid(best_logit)`.
    pub best_score: Option<f32>,
    /// Candidates scored by the model in this call (the rest came from the cache).
    pub scored: usize,
    /// Candidates whose logit came from the cache.
    pub cache_hits: usize,
    /// The weights of the fused score for this query (the BM25 weight given, or chosen for the
    /// query by the default rule; the cross-encoder's given, or the model's own).
    pub weights: Weights,
}

/// The parts of a result's final score with multi-signal reranking (see `signals`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Components {
    /// `sigmoid` of the fused stage-2 score.
    pub relevance: f32,
    /// Freshness in 0..=1, when used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<f32>,
    /// Authority, when used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<f32>,
    /// Highest cosine similarity to a result ranked above, when MMR is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redundancy: Option<f32>,
    /// The weighted sum results are ordered by.
    #[serde(rename = "final")]
    pub final_score: f32,
}
