//! Stage one choices: dense, BM25 or hybrid candidates, and cascade stages that narrow a wide
//! pool before the cross-encoder.

use crate::error::{bail_option, Error, Result};
use crate::filter::Filter;
use crate::hits::Candidate;
use crate::index::{Hit, VectorIndex};
use crate::kernels::dot;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

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
            let (lo, hi) =
                hits.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), h| (lo.min(h.score), hi.max(h.score)));
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
            bail_option!(
                "cascade",
                "a stage keeps {} but topK is {top_k}: the cross-encoder would see too few",
                s.keep
            );
        }
        prev = s.keep;
    }
    Ok(())
}

/// Where candidates come from by default: reciprocal-rank fusion of the dense and BM25 lists,
/// whose pool had the best recall on every development collection (`docs/quality.md`).
pub const DEFAULT_RETRIEVAL: Retrieval = Retrieval::Hybrid;

/// Where candidates come from, for [`Minirank::retrieve_with`] and for a search's pool: the
/// retrieval mode, its hybrid settings and the metadata filter.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CandidateSource {
    /// Dense, BM25 or hybrid; `None`: [`DEFAULT_RETRIEVAL`] for a query text, dense for a query
    /// vector.
    pub retrieval: Option<Retrieval>,
    /// Settings of hybrid retrieval.
    pub hybrid: Hybrid,
    /// Metadata filter applied before scoring (see [`crate::filter`]).
    pub filter: Option<Filter>,
    /// Ids left out of the candidates, e.g. results already shown (the next page) or the document
    /// a "more like this" query came from; a split document's passages go with its id.
    pub exclude: Vec<String>,
}

impl CandidateSource {
    /// The retrieval mode for a query text.
    pub fn mode(&self) -> Retrieval {
        self.retrieval.unwrap_or(DEFAULT_RETRIEVAL)
    }
}

/// Stage 1 over `index`: the `k` best candidates for `query` (its text; `qvec`, its embedding, which
/// dense and hybrid retrieval need) by `mode`, with `source`'s hybrid settings, filter and
/// exclusions. Each candidate carries its retrieval score, and the cosine and BM25 signals of the
/// fused score where the query gives them.
pub(crate) fn pool(
    index: &VectorIndex,
    query: &str,
    qvec: Option<&[f32]>,
    mode: Retrieval,
    source: &CandidateSource,
    k: usize,
) -> Result<Vec<Candidate>> {
    if k == 0 {
        bail_option!("k", "must be at least 1");
    }
    let (hybrid, filter) = (&source.hybrid, source.filter.as_ref());
    // excluded entries (with the passages of excluded documents) are fetched on top of `k`
    // and dropped, so `k` candidates still come back when that many remain
    let mut excluded: HashSet<String> = HashSet::new();
    for id in &source.exclude {
        excluded.extend(index.children(id));
        excluded.insert(id.clone());
    }
    let keep = |hits: Vec<Hit>, n: usize| -> Vec<Hit> {
        hits.into_iter().filter(|h| !excluded.contains(&h.id)).take(n).collect()
    };
    let wide = k.saturating_add(excluded.len());
    let hits = match (mode, qvec) {
        (Retrieval::Bm25, _) => keep(index.search_bm25(query, wide, filter)?, k),
        (_, None) => return Err(Error::EmptyIndex),
        (Retrieval::Dense, Some(q)) => keep(index.search_filtered(q, wide, filter)?, k),
        (Retrieval::Hybrid, Some(q)) => {
            let depth = hybrid.depth.unwrap_or(k).max(k);
            let (dense, lexical) =
                index.search_dense_and_bm25(q, query, depth.saturating_add(excluded.len()), filter)?;
            let fused = hybrid.fuse(&keep(dense, depth), &keep(lexical, depth), k);
            fused.into_iter().enumerate().map(|(i, (id, score))| Hit { id, score, rank: i + 1 }).collect()
        }
    };
    let mut pool: Vec<Candidate> = hits.into_iter().filter_map(|h| candidate(index, h)).collect();
    // both signals of the fused score, cheap here: a dot product with a stored vector and a
    // BM25 lookup per candidate
    if let Some(q) = qvec {
        for c in &mut pool {
            c.dense = index.vector(&c.id).map(|v| dot(q, v));
        }
    }
    if !query.is_empty() {
        let scores = index.bm25_scores(query, &pool.iter().map(|c| c.id.as_str()).collect::<Vec<_>>());
        for (c, s) in pool.iter_mut().zip(scores) {
            c.bm25 = Some(s);
        }
    }
    Ok(pool)
}

/// Narrow `pool` through the cascade stages (checked by [`validate_cascade`]); returns the
/// survivors and each stage's ids.
pub(crate) fn cascade(
    index: &VectorIndex,
    query: &str,
    qvec: Option<&[f32]>,
    mut pool: Vec<Candidate>,
    stages: &[Stage],
) -> (Vec<Candidate>, Vec<Vec<String>>) {
    let mut kept = Vec::with_capacity(stages.len());
    for stage in stages {
        let scores: Vec<f32> = match stage.scorer {
            StageScorer::Dense => pool
                .iter()
                .map(|c| match (qvec, index.vector(&c.id)) {
                    (Some(q), Some(v)) => dot(q, v),
                    _ => f32::NEG_INFINITY,
                })
                .collect(),
            StageScorer::Bm25 => index.bm25_scores(query, &pool.iter().map(|c| c.id.as_str()).collect::<Vec<_>>()),
        };
        let mut scored: Vec<(Candidate, f32)> = pool.into_iter().zip(scores).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1)); // stable: ties keep the earlier order
        scored.truncate(stage.keep);
        pool = scored.into_iter().map(|(c, s)| Candidate { score: Some(s), ..c }).collect();
        kept.push(pool.iter().map(|c| c.id.clone()).collect());
    }
    (pool, kept)
}

fn candidate(index: &VectorIndex, h: Hit) -> Option<Candidate> {
    let d = index.get(&h.id)?;
    Some(Candidate {
        score: Some(h.score),
        metadata: d.metadata.clone(),
        parent: d.parent.clone(),
        ..Candidate::new(h.id, d.text.clone())
    })
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
