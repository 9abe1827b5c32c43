//! Stage one choices: dense, BM25 or hybrid candidates, and cascade stages that narrow a wide
//! pool before the cross-encoder.

use crate::error::{bail_option, Result};
use crate::index::Hit;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Where candidates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Retrieval {
    /// Bi-encoder cosine similarity.
    #[default]
    Dense,
    /// BM25 over the document texts.
    Bm25,
    /// Both lists, fused (see [`Hybrid`]).
    Hybrid,
}

/// How hybrid retrieval fuses the dense and BM25 lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HybridMethod {
    /// Reciprocal-rank fusion: `w/(k + rank_dense) + (1 − w)/(k + rank_bm25)`.
    #[default]
    Rrf,
    /// Min–max normalised scores: `w·dense + (1 − w)·bm25`, each scaled to 0..1 over its list.
    Weighted,
}

/// Hybrid retrieval settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Hybrid {
    /// Fusion method.
    pub method: HybridMethod,
    /// RRF's rank constant.
    pub rrf_k: f32,
    /// Weight `w` of the dense list, 0..=1.
    pub dense_weight: f32,
    /// How deep each list is read before fusing (default: the number of candidates).
    pub depth: Option<usize>,
}

impl Default for Hybrid {
    fn default() -> Self {
        Self { method: HybridMethod::Rrf, rrf_k: 60.0, dense_weight: 0.5, depth: None }
    }
}

impl Hybrid {
    /// Check the ranges.
    pub fn validate(&self) -> Result<()> {
        if !self.rrf_k.is_finite() || self.rrf_k < 0.0 {
            bail_option!("hybrid.rrfK", "must be a number >= 0, got {}", self.rrf_k);
        }
        if !self.dense_weight.is_finite() || !(0.0..=1.0).contains(&self.dense_weight) {
            bail_option!("hybrid.denseWeight", "must be between 0 and 1, got {}", self.dense_weight);
        }
        if self.depth == Some(0) {
            bail_option!("hybrid.depth", "must be at least 1");
        }
        Ok(())
    }

    /// Fuse a dense and a BM25 list (each best first) into ids with fused scores, best first,
    /// at most `k`. Ties keep dense order first.
    pub fn fuse(&self, dense: &[Hit], lexical: &[Hit], k: usize) -> Vec<(String, f32)> {
        let w = self.dense_weight;
        let mut scores: HashMap<&str, (f32, usize)> = HashMap::new();
        for (hits, weight, list) in [(dense, w, 0), (lexical, 1.0 - w, 1)] {
            let (lo, hi) = hits.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), h| (lo.min(h.score), hi.max(h.score)));
            for (i, h) in hits.iter().enumerate() {
                let part = match self.method {
                    HybridMethod::Rrf => weight / (self.rrf_k + (i + 1) as f32),
                    HybridMethod::Weighted => weight * if hi > lo { (h.score - lo) / (hi - lo) } else { 1.0 },
                };
                let e = scores.entry(h.id.as_str()).or_insert((0.0, list * 1_000_000 + i));
                e.0 += part;
            }
        }
        let mut out: Vec<(&str, f32, usize)> = scores.into_iter().map(|(id, (s, order))| (id, s, order)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
        out.into_iter().take(k).map(|(id, s, _)| (id.to_owned(), s)).collect()
    }
}

/// The scorer of a cascade stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageScorer {
    /// Bi-encoder cosine similarity to the query.
    Dense,
    /// BM25 score of the query.
    Bm25,
}

/// A middle stage: re-score the pool with a cheap scorer and keep the best `keep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stage {
    /// What re-scores the pool.
    pub scorer: StageScorer,
    /// How many candidates go on to the next stage.
    pub keep: usize,
}

/// Check that stage sizes shrink from `pool` towards `top_k`.
pub fn validate_cascade(stages: &[Stage], pool: usize, top_k: usize) -> Result<()> {
    let mut prev = pool;
    for s in stages {
        if s.keep == 0 || s.keep > prev {
            bail_option!("cascade", "stage sizes must shrink: keep {} after a pool of {prev}", s.keep);
        }
        if s.keep < top_k {
            bail_option!("cascade", "a stage keeps {} but topK is {top_k}: the cross-encoder would see too few", s.keep);
        }
        prev = s.keep;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(v: &[(&str, f32)]) -> Vec<Hit> {
        v.iter().enumerate().map(|(i, &(id, score))| Hit { id: id.into(), score, rank: i + 1 }).collect()
    }

    #[test]
    fn rrf_rewards_agreement() {
        let dense = hits(&[("a", 0.9), ("b", 0.8), ("c", 0.7)]);
        let lex = hits(&[("c", 12.0), ("b", 9.0), ("d", 1.0)]);
        let h = Hybrid::default();
        let got = h.fuse(&dense, &lex, 10);
        let ids: Vec<&str> = got.iter().map(|x| x.0.as_str()).collect();
        // c: ranks 3 and 1; b: ranks 2 and 2; a: dense only; d: BM25 only, last
        assert_eq!(ids, ["c", "b", "a", "d"]);
        assert!((got[0].1 - (0.5 / 63.0 + 0.5 / 61.0)).abs() < 1e-7);
        assert!((got[1].1 - (0.5 / 62.0 + 0.5 / 62.0)).abs() < 1e-7);
        assert_eq!(h.fuse(&dense, &lex, 2).len(), 2);
        let dense_only = Hybrid { dense_weight: 1.0, ..h };
        assert_eq!(dense_only.fuse(&dense, &lex, 3).iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn weighted_normalises_each_list() {
        let dense = hits(&[("a", 0.9), ("b", 0.5)]);
        let lex = hits(&[("b", 20.0), ("a", 10.0)]);
        let h = Hybrid { method: HybridMethod::Weighted, dense_weight: 0.7, ..Default::default() };
        let got: HashMap<String, f32> = h.fuse(&dense, &lex, 5).into_iter().collect();
        assert!((got["a"] - 0.7).abs() < 1e-6);
        assert!((got["b"] - 0.3).abs() < 1e-6);
    }

    #[test]
    fn cascade_sizes_must_shrink() {
        let s = |keep| Stage { scorer: StageScorer::Dense, keep };
        validate_cascade(&[s(50), s(10)], 100, 5).unwrap();
        assert!(validate_cascade(&[s(200)], 100, 5).is_err());
        assert!(validate_cascade(&[s(50), s(60)], 100, 5).is_err());
        assert!(validate_cascade(&[s(3)], 100, 5).is_err());
        assert!(Hybrid { dense_weight: 2.0, ..Default::default() }.validate().is_err());
    }
}
