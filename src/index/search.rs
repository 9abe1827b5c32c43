//! Exhaustive search over the index: the dense scan (with the int8 prefilter for large indexes),
//! BM25, metadata masks.

use super::{Hit, VectorIndex, PREFILTER_MIN_DOCS};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::kernels::{dot, dot_i8_rows, dot_rows, quantize_i8, sort_desc, top_k};

impl VectorIndex {
    /// The `k` documents most similar to `query` (a unit vector), best first.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Hit>> {
        self.search_filtered(query, k, None)
    }

    /// Which slots pass `filter` (`None`: all).
    fn mask(&self, filter: Option<&Filter>) -> Option<Vec<bool>> {
        filter.map(|f| self.docs.iter().map(|d| f.matches(d.metadata.as_ref())).collect())
    }

    fn check_search(&self, k: usize) -> Result<()> {
        if k == 0 {
            crate::error::bail_option!("k", "must be at least 1");
        }
        if self.is_empty() {
            return Err(Error::EmptyIndex);
        }
        Ok(())
    }

    fn hits(&self, ranked: Vec<(usize, f32)>) -> Vec<Hit> {
        ranked
            .into_iter()
            .enumerate()
            .map(|(r, (slot, score))| Hit { id: self.docs[slot].id.clone(), score, rank: r + 1 })
            .collect()
    }

    /// [`search`](Self::search) among the documents whose metadata passes `filter`; the others
    /// are not scored. Fewer than `k` hits when fewer documents pass.
    pub fn search_filtered(&self, query: &[f32], k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        self.check_search(k)?;
        self.check_query_vector(query)?;
        Ok(self.hits(self.dense_ranked(query, k, self.mask(filter).as_deref())))
    }

    /// The `k` best documents for `query` by BM25 (only documents sharing a term with it, and
    /// passing `filter`), best first.
    pub fn search_bm25(&self, query: &str, k: usize, filter: Option<&Filter>) -> Result<Vec<Hit>> {
        self.check_search(k)?;
        Ok(self.hits(self.bm25_ranked(query, k, self.mask(filter).as_deref())))
    }

    /// Both lists of hybrid retrieval, `depth` each: dense for `query_vector`, BM25 for `query`,
    /// with `filter` evaluated once for both.
    pub fn search_dense_and_bm25(
        &self,
        query_vector: &[f32],
        query: &str,
        depth: usize,
        filter: Option<&Filter>,
    ) -> Result<(Vec<Hit>, Vec<Hit>)> {
        self.check_search(depth)?;
        self.check_query_vector(query_vector)?;
        let mask = self.mask(filter);
        Ok((
            self.hits(self.dense_ranked(query_vector, depth, mask.as_deref())),
            self.hits(self.bm25_ranked(query, depth, mask.as_deref())),
        ))
    }

    fn check_query_vector(&self, query: &[f32]) -> Result<()> {
        if query.len() != self.dim {
            return Err(Error::DimensionMismatch { expected: self.dim, actual: query.len() });
        }
        Ok(())
    }

    /// (slot, cosine) of the `k` best allowed slots, best first.
    fn dense_ranked(&self, query: &[f32], k: usize, mask: Option<&[bool]>) -> Vec<(usize, f32)> {
        let allowed = |slot: usize| mask.is_none_or(|m| m[slot]);
        let k = k.min(self.len());
        let shortlist = (k * 4).max(k + 64);
        if self.prefilter && self.len() >= PREFILTER_MIN_DOCS && shortlist * 4 < self.len() {
            // coarse: int8 codes (the query's own scale is common to all rows and left out)
            let mut q = vec![0i8; self.dim];
            quantize_i8(query, &mut q);
            let mut dots = vec![0i32; self.len()];
            dot_i8_rows(&self.codes, &q, &mut dots);
            let coarse =
                dots.iter()
                    .zip(&self.scales)
                    .enumerate()
                    .map(|(slot, (&d, &s))| if allowed(slot) { s * d as f32 } else { f32::NAN });
            // fine: exact f32 scores of the shortlist
            let mut exact: Vec<(usize, f32)> = top_k(coarse, shortlist)
                .into_iter()
                .map(|(slot, _)| (slot, dot(&self.vectors[slot * self.dim..(slot + 1) * self.dim], query)))
                .collect();
            sort_desc(&mut exact);
            exact.truncate(k);
            exact
        } else {
            let mut scores = vec![0f32; self.len()];
            dot_rows(&self.vectors, query, &mut scores);
            top_k(scores.iter().enumerate().map(|(slot, &s)| if allowed(slot) { s } else { f32::NAN }), k)
        }
    }

    /// (slot, BM25) of the `k` best allowed slots sharing a term with `query`, best first.
    fn bm25_ranked(&self, query: &str, k: usize, mask: Option<&[bool]>) -> Vec<(usize, f32)> {
        let mut scored = self.bm25.scores(query, &self.bm25_params, mask);
        sort_desc(&mut scored);
        scored.truncate(k);
        scored
    }

    /// BM25 scores of `query` for the given ids (0 for unknown ids or no shared term).
    pub fn bm25_scores(&self, query: &str, ids: &[&str]) -> Vec<f32> {
        let slots: Vec<Option<usize>> = ids.iter().map(|id| self.slots.get(*id).copied()).collect();
        let known: Vec<usize> = slots.iter().flatten().copied().collect();
        let mut scores = self.bm25.score_slots(query, &self.bm25_params, &known).into_iter();
        slots.iter().map(|s| s.and_then(|_| scores.next()).unwrap_or(0.0)).collect()
    }
}
