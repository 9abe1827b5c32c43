//! Stage two: rerank candidates with a cross-encoder, with a score cache and a confidence threshold.

use crate::bm25::{Analyzer, Bm25Params};
use crate::cache::LruCache;
use crate::chunk::ParentScore;
use crate::cross_encoder::{
    check_batch_size, CrossEncoder, PairOptions, DEFAULT_PAIR_BATCH_SIZE, DEFAULT_PAIR_MAX_LENGTH,
};
use crate::error::{bail_option, Error, Result};
use crate::fusion::{Contributions, Fusion};
use crate::hits::{Candidate, FusedHit, Reranked, RerankedHit};
use crate::kernels::sigmoid;
use crate::signals::Signals;
use crate::tokenize::{check_candidate_text, check_query};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// How to rerank: stage two of [`crate::pipeline::Minirank::search`], or
/// [`crate::pipeline::Minirank::rerank`] on candidates from anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct RerankOptions {
    /// Keep at most this many results (`None`: all that pass `min_score`).
    /// Larger than the number of candidates means all of them.
    pub top_k: Option<usize>,
    /// Pairs per forward pass (1..=256).
    pub batch_size: usize,
    /// Token budget per (query, document) pair; the document is truncated first.
    pub max_length: usize,
    /// Drop results whose sigmoid score is below this (0..=1), even if fewer than `top_k` remain.
    pub min_score: Option<f32>,
    /// How the fused ranking score weighs the cross-encoder, cosine and BM25 signals.
    pub fusion: Fusion,
    /// Combine relevance with freshness, authority and diversity (applied by the engine, which
    /// has the vectors diversity needs).
    pub signals: Option<Signals>,
    /// Return parent documents instead of passages, scored by their passages (applied by the engine).
    pub parents: Option<ParentScore>,
    /// The cross-encoder's logits, one per candidate in order, computed elsewhere (e.g. by
    /// [`CrossEncoder::score`] on shards of the list in other workers): the model and the score
    /// cache are then skipped. Rerank only; a search computes its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logits: Option<Vec<f32>>,
}

impl Default for RerankOptions {
    fn default() -> Self {
        Self {
            top_k: None,
            batch_size: DEFAULT_PAIR_BATCH_SIZE,
            max_length: DEFAULT_PAIR_MAX_LENGTH,
            min_score: None,
            fusion: Fusion::default(),
            signals: None,
            parents: None,
            logits: None,
        }
    }
}

impl RerankOptions {
    /// Check every field; `max_length` is checked against the model and `logits` against the
    /// candidates when scoring.
    pub fn validate(&self) -> Result<()> {
        if self.top_k == Some(0) {
            bail_option!("topK", "must be at least 1");
        }
        check_batch_size(self.batch_size)?;
        if let Some(s) = self.min_score {
            if !s.is_finite() || !(0.0..=1.0).contains(&s) {
                bail_option!("minScore", "must be a number between 0 and 1 (a sigmoid score), got {s}");
            }
        }
        if let Some(s) = &self.signals {
            s.validate()?;
        }
        if let Some(i) = self.logits.as_ref().and_then(|l| l.iter().position(|l| !l.is_finite())) {
            bail_option!("logits", "value {i} is not a finite number");
        }
        self.fusion.validate()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    query: String,
    id: String,
    text_hash: u64,
    max_length: usize,
}

/// What [`Reranker::cache_stats`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Cached (query, document) logits.
    pub entries: usize,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that ran the model.
    pub misses: u64,
}

/// Default number of cached (query, document) logits.
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;

/// A cross-encoder with a bounded LRU cache of (query, document) logits. It may be built
/// without its model ([`Reranker::empty`]), which comes later with [`Reranker::set_model`]: until
/// then everything that scores fails with [`Error::NoCrossEncoder`].
#[derive(Debug)]
pub struct Reranker {
    model: Option<CrossEncoder>,
    cache: Mutex<LruCache<CacheKey, f32>>,
}

impl Reranker {
    /// Wrap a cross-encoder with a cache of [`DEFAULT_CACHE_ENTRIES`].
    pub fn new(model: CrossEncoder) -> Self {
        Self { model: Some(model), cache: Mutex::new(LruCache::new(DEFAULT_CACHE_ENTRIES)) }
    }

    /// A reranker whose cross-encoder is still to come ([`set_model`](Self::set_model)).
    pub fn empty() -> Self {
        Self { model: None, cache: Mutex::new(LruCache::new(DEFAULT_CACHE_ENTRIES)) }
    }

    /// Give the reranker its cross-encoder (replacing one it had: the score cache is emptied).
    pub fn set_model(&mut self, model: CrossEncoder) {
        self.model = Some(model);
        self.clear_cache();
    }

    /// Whether the cross-encoder is loaded.
    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// The cross-encoder.
    pub fn model(&self) -> Result<&CrossEncoder> {
        self.model.as_ref().ok_or(Error::NoCrossEncoder)
    }

    /// `max_length` checked against the cross-encoder; without it, where the texts are scored.
    pub fn check_max_length(&self, max_length: usize) -> Result<usize> {
        match &self.model {
            Some(model) => model.check_max_length(max_length),
            None => Ok(max_length),
        }
    }

    /// The cross-encoder, to change its settings.
    pub fn model_mut(&mut self) -> Result<&mut CrossEncoder> {
        self.model.as_mut().ok_or(Error::NoCrossEncoder)
    }

    /// Resize the score cache (0 disables it).
    pub fn set_cache_capacity(&self, entries: usize) {
        self.with_cache(|c| c.set_capacity(entries));
    }

    /// The score cache's size and counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.with_cache(|c| {
            let (hits, misses) = c.stats();
            CacheStats { entries: c.len(), hits, misses }
        })
    }

    /// Empty the score cache.
    pub fn clear_cache(&self) {
        self.with_cache(|c| c.clear());
    }

    fn with_cache<R>(&self, f: impl FnOnce(&mut LruCache<CacheKey, f32>) -> R) -> R {
        // A poisoned lock only means another thread panicked mid-update of a cache: still usable.
        let mut guard = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Score every candidate against `query` (or take `options.logits`) and return them best
    /// first by the fused score, filtered by `top_k` and `min_score`. `signals` and `parents`
    /// need the engine ([`crate::pipeline::Minirank::rerank`]) and are refused here.
    /// The same as [`prepare`](Self::prepare), scoring [`PendingRerank::texts`] with this
    /// reranker's model, and [`finish`](Self::finish).
    pub fn rerank(&self, query: &str, candidates: &[Candidate], options: &RerankOptions) -> Result<Reranked> {
        let pending = self.prepare(query, candidates.to_vec(), options)?;
        let scored = self.score(&pending)?;
        self.finish(pending, &scored)
    }

    /// The first half of a rerank: check everything, take the logits that are given or cached,
    /// and say which texts are left to score ([`PendingRerank::texts`], with
    /// [`PendingRerank::pair_options`]): here, or on shards in other workers.
    pub fn prepare(&self, query: &str, candidates: Vec<Candidate>, options: &RerankOptions) -> Result<PendingRerank> {
        options.validate()?;
        if options.signals.is_some() || options.parents.is_some() {
            bail_option!(
                if options.signals.is_some() { "signals" } else { "parents" },
                "needs the engine's vectors and index: use Minirank::rerank"
            );
        }
        check_query(query)?;
        let max_length = self.check_max_length(options.max_length)?;
        let mut ids = HashSet::with_capacity(candidates.len());
        for c in &candidates {
            check_candidate_text(&c.text)?;
            if !ids.insert(c.id.as_str()) {
                return Err(Error::DuplicateId { id: c.id.clone() });
            }
        }
        let logits: Vec<Option<f32>> = match &options.logits {
            Some(given) if given.len() != candidates.len() => {
                bail_option!("logits", "has {} values for {} candidates", given.len(), candidates.len())
            }
            Some(given) => given.iter().copied().map(Some).collect(),
            None => self
                .with_cache(|cache| candidates.iter().map(|c| cache.get(&cache_key(query, c, max_length))).collect()),
        };
        let query_terms = Bm25Params::default().analyzer().distinct_terms(query);
        Ok(PendingRerank {
            query: query.to_owned(),
            candidates,
            options: options.clone(),
            max_length,
            logits,
            query_terms,
        })
    }

    /// Logits of a pending rerank's texts from this reranker's model.
    pub fn score(&self, pending: &PendingRerank) -> Result<Vec<f32>> {
        let texts = pending.texts();
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        self.model()?.score(&pending.query, &texts, pending.max_length, pending.options.batch_size)
    }

    /// The second half of a rerank: `scored` holds one logit per text of
    /// [`PendingRerank::texts`], in order; they go into the score cache, and the candidates are
    /// ordered by the fused score.
    pub fn finish(&self, pending: PendingRerank, scored: &[f32]) -> Result<Reranked> {
        let PendingRerank { query, candidates, options, max_length, mut logits, query_terms } = pending;
        let missing: Vec<usize> = (0..logits.len()).filter(|&i| logits[i].is_none()).collect();
        if scored.len() != missing.len() {
            bail_option!("logits", "has {} values for {} texts to score", scored.len(), missing.len());
        }
        if let Some(i) = scored.iter().position(|l| !l.is_finite()) {
            bail_option!("logits", "value {i} is not a finite number");
        }
        self.with_cache(|cache| {
            for (&i, &l) in missing.iter().zip(scored) {
                logits[i] = Some(l);
                cache.put(cache_key(&query, &candidates[i], max_length), l);
            }
        });
        let logits: Vec<f32> = logits.into_iter().map(|l| l.unwrap_or(f32::NEG_INFINITY)).collect();
        let scored = if options.logits.is_some() { candidates.len() } else { missing.len() };
        let options = RerankOptions { fusion: self.fusion(options.fusion), ..options };
        Ok(assemble(&candidates, &logits, &options, scored, query_terms))
    }

    /// `fusion` with the cross-encoder's weight, where it is left out, from the model (without a
    /// model: [`crate::fusion::CROSS_ENCODER_WEIGHT`]).
    pub fn fusion(&self, fusion: Fusion) -> Fusion {
        let own = self.model.as_ref().and_then(CrossEncoder::fusion_weight);
        fusion.resolved(own.unwrap_or(crate::fusion::CROSS_ENCODER_WEIGHT))
    }
}

fn cache_key(query: &str, c: &Candidate, max_length: usize) -> CacheKey {
    CacheKey { query: query.to_owned(), id: c.id.clone(), text_hash: text_hash(&c.text), max_length }
}

/// A rerank between [`Reranker::prepare`] and [`Reranker::finish`]: the checked candidates and
/// options, and the logits known so far.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRerank {
    query: String,
    candidates: Vec<Candidate>,
    options: RerankOptions,
    max_length: usize,
    /// Given or cached logits; `None`: still to score.
    logits: Vec<Option<f32>>,
    /// Distinct BM25 terms of the query, for the BM25 weight chosen per query.
    query_terms: usize,
}

impl PendingRerank {
    /// The query the texts are scored against.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The candidate texts still to score, in order (those without a given or cached logit).
    pub fn texts(&self) -> Vec<&str> {
        self.candidates.iter().zip(&self.logits).filter(|(_, l)| l.is_none()).map(|(c, _)| c.text.as_str()).collect()
    }

    /// How to score them: the rerank's batch size and token budget.
    pub fn pair_options(&self) -> PairOptions {
        PairOptions { batch_size: self.options.batch_size, max_length: self.max_length }
    }

    /// The candidates, with the signals the fused score needs.
    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// Count the query's terms with the analyzer of the BM25 scores the candidates carry (the
    /// engine's index), instead of the default one.
    pub(crate) fn count_terms_with(&mut self, analyzer: &Analyzer) {
        self.query_terms = analyzer.distinct_terms(&self.query);
    }
}

/// A signal of every candidate, or `None` when one of them lacks it (or it is not finite).
fn signal(candidates: &[Candidate], get: fn(&Candidate) -> Option<f32>) -> Option<Vec<f32>> {
    candidates.iter().map(|c| get(c).filter(|x| x.is_finite())).collect()
}

/// The candidates ordered by the fused score without its cross-encoder term: stage two before the
/// cross-encoder's forward passes (the first answer of a progressive search). `min_score` (a
/// cross-encoder score) is not applied; every hit's logit is 0. With no dense or BM25 weight the
/// candidates keep their retrieval order.
pub fn fuse_without_cross_encoder(candidates: &[Candidate], options: &RerankOptions, query_terms: usize) -> Reranked {
    let options = RerankOptions { fusion: options.fusion.without_cross_encoder(), min_score: None, ..options.clone() };
    let mut r = assemble(candidates, &vec![0.0; candidates.len()], &options, 0, query_terms);
    r.cache_hits = 0;
    r.best_logit = None;
    r.best_score = None;
    r
}

/// Order candidates by the fused score and apply `top_k` / `min_score`.
fn assemble(
    candidates: &[Candidate],
    logits: &[f32],
    options: &RerankOptions,
    scored: usize,
    query_terms: usize,
) -> Reranked {
    let (dense, bm25) = (signal(candidates, |c| c.dense), signal(candidates, |c| c.bm25));
    let weights = options.fusion.weights(query_terms);
    let parts = weights.contributions(dense.as_deref(), bm25.as_deref(), logits);
    let mut order: Vec<(usize, f32)> = parts.iter().map(Contributions::total).enumerate().collect();
    // equal fused scores (e.g. every weighted signal missing) are ordered by the logit, then by
    // position: the cross-encoder decides what the fusion leaves open
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(logits[b.0].total_cmp(&logits[a.0])).then(a.0.cmp(&b.0)));
    let best_logit = logits.iter().copied().fold(None, |m: Option<f32>, l| Some(m.map_or(l, |m| m.max(l))));
    let keep = options.top_k.unwrap_or(usize::MAX);
    let hits: Vec<RerankedHit> = order
        .iter()
        .filter(|&&(i, _)| options.min_score.is_none_or(|m| sigmoid(logits[i]) >= m))
        .take(keep)
        .enumerate()
        .map(|(r, &(i, _))| {
            let c = &candidates[i];
            RerankedHit {
                hit: FusedHit {
                    id: c.id.clone(),
                    text: c.text.clone(),
                    rank: r + 1,
                    original_rank: i + 1,
                    retrieval_score: c.score,
                    dense: c.dense,
                    bm25: c.bm25,
                    fused: parts[i].total(),
                    contributions: parts[i],
                    components: None,
                    parent: c.parent.clone(),
                    passages: None,
                    parent_score: None,
                    metadata: c.metadata.clone(),
                },
                logit: logits[i],
                score: sigmoid(logits[i]),
            }
        })
        .collect();
    Reranked {
        no_confident_answer: hits.is_empty() && !candidates.is_empty(),
        hits,
        best_logit,
        best_score: best_logit.map(sigmoid),
        scored,
        cache_hits: candidates.len() - scored,
        weights,
    }
}

fn text_hash(text: &str) -> u64 {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fusion::z_scores;

    fn cands(n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                score: Some(1.0 - i as f32 / 10.0),
                ..Candidate::new(format!("d{i}"), format!("text {i}"))
            })
            .collect()
    }

    #[test]
    fn assemble_sorts_and_keeps_original_rank() {
        let c = cands(4);
        let r = assemble(&c, &[-1.0, 3.0, 0.5, 2.0], &RerankOptions { top_k: Some(3), ..Default::default() }, 4, 1);
        let ids: Vec<_> = r.hits.iter().map(|h| (h.id.as_str(), h.rank, h.original_rank)).collect();
        assert_eq!(ids, [("d1", 1, 2), ("d3", 2, 4), ("d2", 3, 3)]);
        assert_eq!(r.best_logit, Some(3.0));
        assert!(!r.no_confident_answer);
        assert!((r.hits[0].score - sigmoid(3.0)).abs() < 1e-7);
        assert_eq!(r.hits[0].retrieval_score, Some(0.9));
    }

    #[test]
    fn min_score_filters_and_says_no_confident_answer() {
        let c = cands(3);
        let opts = RerankOptions { top_k: Some(3), min_score: Some(0.6), ..Default::default() };
        let r = assemble(&c, &[0.0, 1.0, -2.0], &opts, 3, 1);
        assert_eq!(r.hits.len(), 1, "only sigmoid(1.0)=0.73 passes 0.6");
        let r = assemble(&c, &[-1.0, -0.5, -2.0], &opts, 3, 1);
        assert!(r.hits.is_empty() && r.no_confident_answer);
        assert_eq!(r.best_logit, Some(-0.5));
        assert!((r.best_score.unwrap() - sigmoid(-0.5)).abs() < 1e-7);
    }

    #[test]
    fn candidates_are_ordered_by_the_fused_score_of_the_signals_they_all_have() {
        let mut c = cands(3);
        let logits = [0.0, 0.1, 5.0];
        // no dense/BM25 signal on the candidates: the logit alone decides
        let pure = assemble(&c, &logits, &RerankOptions::default(), 3, 1);
        assert_eq!(pure.hits[0].id, "d2");
        assert!(pure.hits.iter().all(|h| h.contributions.dense == 0.0 && h.contributions.bm25 == 0.0));
        // cosine and BM25 both favour d0: with equal weights they outvote the cross-encoder
        for (i, x) in c.iter_mut().enumerate() {
            x.dense = Some([0.9, 0.5, 0.1][i]);
            x.bm25 = Some([12.0, 3.0, 0.0][i]);
        }
        let even = RerankOptions {
            fusion: Fusion { dense: 1.0, bm25: Some(1.0), cross_encoder: Some(1.0) },
            ..Default::default()
        };
        let r = assemble(&c, &logits, &even, 3, 1);
        assert_eq!(r.hits[0].id, "d0");
        let (zd, zb, zl) = (z_scores(&[0.9, 0.5, 0.1]), z_scores(&[12.0, 3.0, 0.0]), z_scores(&logits));
        for h in &r.hits {
            let i = h.original_rank - 1;
            assert!((h.fused - (zd[i] + zb[i] + zl[i])).abs() < 1e-5);
            assert!((h.fused - h.contributions.total()).abs() < 1e-6);
            assert_eq!((h.logit, h.dense, h.bm25), (logits[i], c[i].dense, c[i].bm25));
        }
        assert!(r.hits.windows(2).all(|w| w[0].fused >= w[1].fused));
        // the cross-encoder alone: back to the order of the logits
        let ce = RerankOptions { fusion: Fusion::CROSS_ENCODER_ONLY, ..Default::default() };
        assert_eq!(assemble(&c, &logits, &ce, 3, 1).hits[0].id, "d2");
        // one candidate without BM25: BM25 is left out for all, the rest still counts
        c[1].bm25 = None;
        let r = assemble(&c, &logits, &even, 3, 1);
        assert!(r.hits.iter().all(|h| h.contributions.bm25 == 0.0 && h.contributions.dense != 0.0));
    }

    #[test]
    fn the_default_bm25_weight_follows_the_query_length_and_is_reported() {
        let mut c = cands(3);
        for (i, x) in c.iter_mut().enumerate() {
            x.dense = Some([0.5, 0.9, 0.1][i]);
            x.bm25 = Some([12.0, 0.0, 3.0][i]);
        }
        let logits = [0.0, 0.0, 0.0];
        let rule = crate::fusion::DEFAULT_ADAPTIVE_BM25;
        let short = assemble(&c, &logits, &RerankOptions::default(), 3, rule.from_terms);
        assert_eq!(short.weights.bm25, 0.0);
        assert!(short.hits.iter().all(|h| h.contributions.bm25 == 0.0));
        assert_eq!(short.hits[0].id, "d1", "a short query: the cosine decides");
        let long = assemble(&c, &logits, &RerankOptions::default(), 3, rule.full_terms);
        assert_eq!(long.weights.bm25, rule.max);
        assert!(long.hits.iter().any(|h| h.contributions.bm25 != 0.0));
        assert_eq!(long.hits[0].id, "d0", "a long query: BM25 counts as much as the cosine");
        let given = RerankOptions { fusion: Fusion { bm25: Some(0.0), ..Fusion::default() }, ..Default::default() };
        assert_eq!(
            assemble(&c, &logits, &given, 3, rule.full_terms).hits[0].id,
            "d1",
            "a given weight overrides the rule"
        );
    }

    #[test]
    fn options_are_validated() {
        let bad = [
            RerankOptions { top_k: Some(0), ..Default::default() },
            RerankOptions { batch_size: 0, ..Default::default() },
            RerankOptions { min_score: Some(f32::NAN), ..Default::default() },
            RerankOptions { min_score: Some(1.5), ..Default::default() },
            RerankOptions { min_score: Some(f32::INFINITY), ..Default::default() },
            RerankOptions { fusion: Fusion { dense: -0.5, ..Fusion::default() }, ..Default::default() },
            RerankOptions {
                fusion: Fusion { cross_encoder: Some(f32::NAN), ..Fusion::default() },
                ..Default::default()
            },
        ];
        for o in bad {
            assert!(matches!(o.validate(), Err(Error::InvalidOption { .. })), "{o:?}");
        }
        RerankOptions::default().validate().unwrap();
    }

    #[test]
    fn unknown_option_names_are_rejected_when_deserializing() {
        let err = serde_json::from_str::<RerankOptions>(r#"{"topK": 3, "top_kk": 2}"#).unwrap_err();
        assert!(err.to_string().contains("top_kk"), "{err}");
        let o: RerankOptions = serde_json::from_str(r#"{"topK": 3, "minScore": 0.5}"#).unwrap();
        assert_eq!((o.top_k, o.min_score), (Some(3), Some(0.5)));
    }
}
