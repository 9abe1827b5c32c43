//! The index: documents with their unit vectors and a BM25 inverted index, exact (flat) dense
//! search, lexical search, metadata filters, and a versioned, checksummed byte format for
//! persistence (e.g. IndexedDB in a browser).
//!
//! Ids are unique: adding a document whose id is already stored **replaces** it (upsert);
//! the same id twice in one call is an error. Every mutating call validates all of its input
//! before changing anything, so a failed call leaves the index exactly as it was.

use crate::bm25::{Bm25Index, Bm25Params};
use crate::error::{Error, Result};
use crate::kernels::quantize_i8;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// A document to index: an id, its text, and optional JSON metadata returned with results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Unique id (non-empty). In JSON it may be a number, or left out for
    /// [`crate::pipeline::Minirank::assign_ids`] to fill.
    #[serde(default, deserialize_with = "crate::options::id")]
    pub id: String,
    /// The text that is embedded and reranked.
    pub text: String,
    /// Anything JSON; returned untouched with search results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// For a passage of a longer document: the id of that document (see [`crate::chunk`]).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::options::optional_id")]
    pub parent: Option<String>,
}

impl Document {
    /// A document without metadata.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Self { id: id.into(), text: text.into(), metadata: None, parent: None }
    }
    /// Attach JSON metadata.
    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

/// One search hit: the document id, its cosine similarity and its 1-based rank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Document id.
    pub id: String,
    /// Cosine similarity to the query (vectors are unit length).
    pub score: f32,
    /// 1-based position in the result list.
    pub rank: usize,
}

/// Limits that keep an index within a memory budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexLimits {
    /// Most documents the index accepts.
    pub max_documents: usize,
    /// Largest document text, in UTF-8 bytes.
    pub max_document_bytes: usize,
}

impl Default for IndexLimits {
    fn default() -> Self {
        Self { max_documents: 1_000_000, max_document_bytes: 4 << 20 }
    }
}

impl IndexLimits {
    /// Both limits must be at least 1.
    pub fn validate(&self) -> Result<()> {
        if self.max_documents == 0 {
            crate::error::bail_option!("limits.maxDocuments", "must be at least 1");
        }
        if self.max_document_bytes == 0 {
            crate::error::bail_option!("limits.maxDocumentBytes", "must be at least 1");
        }
        Ok(())
    }
}

/// Documents and their vectors, searched exhaustively by dot product, plus a BM25 index of
/// their texts kept in step.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorIndex {
    dim: usize,
    fingerprint: u32,
    docs: Vec<Document>,
    vectors: Vec<f32>,
    slots: HashMap<String, usize>,
    limits: IndexLimits,
    bm25: Bm25Index,
    bm25_params: Bm25Params,
    /// int8 copies of the vectors (`dim` per document) and their scales, for the coarse scan
    codes: Vec<i8>,
    scales: Vec<f32>,
    prefilter: bool,
}

/// From this many documents on, dense search first scans int8 copies of the vectors (a quarter of
/// the memory traffic) and then rescores a shortlist exactly in f32.
const PREFILTER_MIN_DOCS: usize = 20_000;

impl VectorIndex {
    /// An empty index of `dim`-dimensional vectors. `fingerprint` identifies the embedding
    /// model (0 = unknown); indexes saved with one fingerprint are refused by another.
    pub fn new(dim: usize, fingerprint: u32) -> Self {
        let bm25_params = Bm25Params::default();
        Self {
            dim,
            fingerprint,
            docs: Vec::new(),
            vectors: Vec::new(),
            slots: HashMap::new(),
            limits: IndexLimits::default(),
            bm25: Bm25Index::new(bm25_params.analyzer()),
            bm25_params,
            codes: Vec::new(),
            scales: Vec::new(),
            prefilter: true,
        }
    }

    /// Use the int8 coarse scan + exact f32 rescoring for large indexes (the default), or always
    /// scan the f32 vectors.
    pub fn set_prefilter(&mut self, on: bool) {
        self.prefilter = on;
    }

    /// Write the int8 copy of the vector at `slot` (`slot == len` appends).
    fn set_code(&mut self, slot: usize, v: &[f32]) {
        if slot * self.dim == self.codes.len() {
            self.codes.resize(self.codes.len() + self.dim, 0);
            self.scales.push(0.0);
        }
        self.scales[slot] = quantize_i8(v, &mut self.codes[slot * self.dim..(slot + 1) * self.dim]);
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// The embedding model's fingerprint this index was built with.
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }
    /// True when no documents are stored.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
    /// Whether a document with `id` is stored.
    pub fn contains(&self, id: &str) -> bool {
        self.slots.contains_key(id)
    }
    /// The stored document with `id`.
    pub fn get(&self, id: &str) -> Option<&Document> {
        self.slots.get(id).map(|&s| &self.docs[s])
    }
    /// The stored vector of `id`.
    pub fn vector(&self, id: &str) -> Option<&[f32]> {
        self.slots.get(id).map(|&s| &self.vectors[s * self.dim..(s + 1) * self.dim])
    }
    /// All documents, in storage order.
    pub fn documents(&self) -> impl Iterator<Item = &Document> {
        self.docs.iter()
    }
    /// Current limits.
    pub fn limits(&self) -> IndexLimits {
        self.limits
    }
    /// Change the limits (existing documents stay even if over a new limit).
    pub fn set_limits(&mut self, limits: IndexLimits) {
        self.limits = limits;
    }
    /// Approximate heap bytes held (texts, ids, metadata, vectors, BM25 postings).
    pub fn memory_bytes(&self) -> usize {
        let docs: usize = self
            .docs
            .iter()
            .map(|d| {
                d.id.len() * 2
                    + d.text.len()
                    + d.metadata.as_ref().map_or(0, |m| m.to_string().len())
                    + d.parent.as_ref().map_or(0, String::len)
                    + 120
            })
            .sum();
        docs + self.vectors.len() * 4 + self.codes.len() + self.scales.len() * 4 + self.bm25.memory_bytes()
    }
    /// BM25 settings.
    pub fn bm25_params(&self) -> Bm25Params {
        self.bm25_params
    }
    /// Change the BM25 settings; a new stop-word setting re-analyses every stored text.
    pub fn set_bm25_params(&mut self, params: Bm25Params) -> Result<()> {
        params.validate()?;
        if params.analyzer() != self.bm25.analyzer() {
            self.bm25 = Bm25Index::new(params.analyzer());
            for (slot, d) in self.docs.iter().enumerate() {
                self.bm25.set(slot, &d.text);
            }
        }
        self.bm25_params = params;
        Ok(())
    }
    /// Ids of the stored passages whose parent is `id`.
    pub fn children(&self, id: &str) -> Vec<String> {
        self.docs.iter().filter(|d| d.parent.as_deref() == Some(id)).map(|d| d.id.clone()).collect()
    }

    /// Check that documents could be added, without changing anything: non-empty unique ids,
    /// non-empty texts within the size limit, and room under the document limit.
    pub fn check_new(&self, docs: &[Document]) -> Result<()> {
        self.check_new_after(docs, &HashSet::new())
    }

    /// [`check_new`](Self::check_new) as if the stored documents `doomed` were removed first.
    fn check_new_after(&self, docs: &[Document], doomed: &HashSet<String>) -> Result<()> {
        let mut seen = HashSet::with_capacity(docs.len());
        let mut new = 0usize;
        for d in docs {
            if d.id.is_empty() {
                return Err(Error::EmptyInput { what: "document id" });
            }
            if d.text.trim().is_empty() {
                return Err(Error::EmptyInput { what: "document text" });
            }
            if d.text.len() > self.limits.max_document_bytes {
                return Err(Error::DocumentTooLarge {
                    id: d.id.clone(),
                    bytes: d.text.len(),
                    limit: self.limits.max_document_bytes,
                });
            }
            if !seen.insert(d.id.as_str()) {
                return Err(Error::DuplicateId { id: d.id.clone() });
            }
            if !self.slots.contains_key(&d.id) || doomed.contains(&d.id) {
                new += 1;
            }
        }
        let requested = self.docs.len() - doomed.len() + new;
        if requested > self.limits.max_documents {
            return Err(Error::CapacityExceeded { requested, limit: self.limits.max_documents });
        }
        Ok(())
    }

    fn check_vectors(&self, docs: &[Document], vectors: &[Vec<f32>]) -> Result<()> {
        if docs.len() != vectors.len() {
            return Err(Error::DimensionMismatch { expected: docs.len(), actual: vectors.len() });
        }
        for v in vectors {
            if v.len() != self.dim {
                return Err(Error::DimensionMismatch { expected: self.dim, actual: v.len() });
            }
            if v.iter().any(|x| !x.is_finite()) {
                return Err(Error::invalid_option("vectors", "contain NaN or infinite values"));
            }
        }
        Ok(())
    }

    /// Add documents with their vectors (one per document, `dim` finite values each).
    /// A document whose id is already stored replaces the old one. All or nothing.
    pub fn add(&mut self, docs: Vec<Document>, vectors: Vec<Vec<f32>>) -> Result<()> {
        self.add_replacing(&[], docs, vectors)
    }

    /// [`add`](Self::add), first removing each id in `families` and all its passages (a
    /// re-indexed long document must not keep stale passages). All or nothing.
    pub fn add_replacing(&mut self, families: &[String], docs: Vec<Document>, vectors: Vec<Vec<f32>>) -> Result<()> {
        let doomed = self.families(&families.iter().map(String::as_str).collect());
        self.check_vectors(&docs, &vectors)?;
        self.check_new_after(&docs, &doomed)?;
        for id in &doomed {
            self.remove(id);
        }
        for (d, v) in docs.into_iter().zip(vectors) {
            match self.slots.get(&d.id) {
                Some(&s) => {
                    self.vectors[s * self.dim..(s + 1) * self.dim].copy_from_slice(&v);
                    self.set_code(s, &v);
                    self.bm25.set(s, &d.text);
                    self.docs[s] = d;
                }
                None => {
                    self.slots.insert(d.id.clone(), self.docs.len());
                    self.set_code(self.docs.len(), &v);
                    self.bm25.set(self.docs.len(), &d.text);
                    self.docs.push(d);
                    self.vectors.extend_from_slice(&v);
                }
            }
        }
        Ok(())
    }

    /// Remove the document with `id`; returns whether it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(slot) = self.slots.remove(id) else { return false };
        let last = self.docs.len() - 1;
        self.docs.swap_remove(slot);
        self.bm25.swap_remove(slot);
        if slot != last {
            let (head, tail) = self.vectors.split_at_mut(last * self.dim);
            head[slot * self.dim..(slot + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
            self.codes.copy_within(last * self.dim..(last + 1) * self.dim, slot * self.dim);
            self.scales[slot] = self.scales[last];
            self.slots.insert(self.docs[slot].id.clone(), slot);
        }
        self.vectors.truncate(last * self.dim);
        self.codes.truncate(last * self.dim);
        self.scales.truncate(last);
        true
    }

    /// Stored ids that are in `roots` or whose parent is, in one pass over the documents.
    fn families(&self, roots: &HashSet<&str>) -> HashSet<String> {
        if roots.is_empty() {
            return HashSet::new();
        }
        let in_roots =
            |d: &Document| roots.contains(d.id.as_str()) || d.parent.as_deref().is_some_and(|p| roots.contains(p));
        self.docs.iter().filter(|d| in_roots(d)).map(|d| d.id.clone()).collect()
    }

    /// Remove `id` and every passage whose parent is `id`; returns how many were removed.
    pub fn remove_family(&mut self, id: &str) -> usize {
        let ids = self.families(&HashSet::from([id]));
        ids.iter().filter(|i| self.remove(i)).count()
    }

    /// Remove everything.
    pub fn clear(&mut self) {
        self.docs.clear();
        self.vectors.clear();
        self.codes.clear();
        self.scales.clear();
        self.slots.clear();
        self.bm25.clear();
    }
}

mod format;
mod search;

#[cfg(test)]
mod tests {
    use super::format::HEADER;
    use super::*;
    use crate::bm25::Stemmer;
    use crate::filter::Filter;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        crate::kernels::l2_normalize(&mut v);
        v
    }

    fn sample() -> VectorIndex {
        let mut ix = VectorIndex::new(3, 7);
        ix.add(
            vec![
                Document::new("a", "alpha"),
                Document::new("b", "beta").with_metadata(serde_json::json!({"year": 2020})),
                Document::new("c", "gamma"),
            ],
            vec![unit(&[1.0, 0.0, 0.0]), unit(&[0.0, 1.0, 0.0]), unit(&[1.0, 1.0, 0.0])],
        )
        .unwrap();
        ix
    }

    #[test]
    fn search_ranks_by_cosine() {
        let ix = sample();
        let hits = ix.search(&unit(&[1.0, 0.2, 0.0]), 2).unwrap();
        assert_eq!(hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(hits[0].rank, 1);
        assert!(hits[0].score > hits[1].score);
        assert_eq!(ix.search(&unit(&[1.0, 0.0, 0.0]), 10).unwrap().len(), 3);
    }

    #[test]
    fn upsert_replaces_and_remove_keeps_slots_consistent() {
        let mut ix = sample();
        ix.add(vec![Document::new("a", "alpha 2")], vec![unit(&[0.0, 0.0, 1.0])]).unwrap();
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.get("a").unwrap().text, "alpha 2");
        assert!(ix.remove("a"));
        assert!(!ix.remove("a"));
        assert_eq!(ix.len(), 2);
        assert_eq!(ix.vector("c").unwrap(), &unit(&[1.0, 1.0, 0.0])[..]);
        assert_eq!(ix.vector("b").unwrap(), &unit(&[0.0, 1.0, 0.0])[..]);
        assert_eq!(ix.search(&unit(&[0.0, 1.0, 0.0]), 1).unwrap()[0].id, "b");
    }

    #[test]
    fn failed_add_changes_nothing() {
        let mut ix = sample();
        let before = ix.to_bytes();
        let cases: Vec<(Vec<Document>, Vec<Vec<f32>>)> = vec![
            (vec![Document::new("d", "x"), Document::new("d", "y")], vec![unit(&[1.0, 0.0, 0.0]); 2]),
            (vec![Document::new("", "x")], vec![unit(&[1.0, 0.0, 0.0])]),
            (vec![Document::new("d", "  ")], vec![unit(&[1.0, 0.0, 0.0])]),
            (vec![Document::new("d", "x")], vec![vec![1.0, 0.0]]),
            (vec![Document::new("d", "x")], vec![vec![f32::NAN, 0.0, 0.0]]),
            (vec![Document::new("d", "x"), Document::new("a", "x")], vec![unit(&[1.0, 0.0, 0.0])]),
        ];
        for (docs, vecs) in cases {
            assert!(ix.add(docs, vecs).is_err());
            assert_eq!(ix.to_bytes(), before);
        }
        ix.set_limits(IndexLimits { max_documents: 3, max_document_bytes: 10 });
        assert!(matches!(
            ix.add(vec![Document::new("d", "x")], vec![unit(&[1.0, 0.0, 0.0])]),
            Err(Error::CapacityExceeded { requested: 4, limit: 3 })
        ));
        assert!(matches!(
            ix.add(vec![Document::new("a", "x".repeat(11))], vec![unit(&[1.0, 0.0, 0.0])]),
            Err(Error::DocumentTooLarge { .. })
        ));
        // replacing within the limit is fine
        ix.add(vec![Document::new("a", "x")], vec![unit(&[1.0, 0.0, 0.0])]).unwrap();
    }

    #[test]
    fn bad_queries_are_errors() {
        let ix = sample();
        assert!(
            (ix.search(&[1.0, 0.0, 0.0], 0).err().and_then(|e| e.option().map(str::to_owned)).as_deref() == Some("k"))
        );
        assert!(matches!(ix.search(&[1.0, 0.0], 1), Err(Error::DimensionMismatch { expected: 3, actual: 2 })));
        assert!(matches!(VectorIndex::new(3, 0).search(&[1.0, 0.0, 0.0], 1), Err(Error::EmptyIndex)));
    }

    #[test]
    fn int8_prefilter_returns_the_exact_top_k() {
        let (n, dim) = (PREFILTER_MIN_DOCS + 1000, 64);
        let mut seed = 1u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut ix = VectorIndex::new(dim, 0);
        let docs = (0..n).map(|i| Document::new(i.to_string(), "t")).collect();
        let vectors = (0..n).map(|_| unit(&(0..dim).map(|_| rnd()).collect::<Vec<_>>())).collect();
        ix.add(docs, vectors).unwrap();
        for _ in 0..20 {
            let q = unit(&(0..dim).map(|_| rnd()).collect::<Vec<_>>());
            let fast = ix.search(&q, 50).unwrap();
            ix.set_prefilter(false);
            let exact = ix.search(&q, 50).unwrap();
            ix.set_prefilter(true);
            assert_eq!(fast, exact);
        }
        // removal keeps the int8 copies in step
        for i in 0..500 {
            ix.remove(&(i * 7).to_string());
        }
        let q = unit(&(0..dim).map(|_| rnd()).collect::<Vec<_>>());
        let fast = ix.search(&q, 100).unwrap();
        ix.set_prefilter(false);
        assert_eq!(fast, ix.search(&q, 100).unwrap());
        let back = VectorIndex::from_bytes(&ix.to_bytes(), None).unwrap();
        assert_eq!(back.search(&q, 100).unwrap(), fast, "codes are rebuilt on load");
    }

    #[test]
    fn bytes_round_trip_exactly() {
        let ix = sample();
        let bytes = ix.to_bytes();
        let back = VectorIndex::from_bytes(&bytes, Some((3, 7))).unwrap();
        assert_eq!(back, ix);
        assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn version_1_indexes_still_load() {
        let ix = sample();
        let v1 = ix.encode(1);
        assert_eq!(u32::from_le_bytes(v1[8..12].try_into().unwrap()), 1);
        let back = VectorIndex::from_bytes(&v1, Some((3, 7))).unwrap();
        assert_eq!(back, ix, "documents, vectors and the rebuilt BM25 postings are the same");
        assert_eq!(back.search_bm25("beta", 1, None).unwrap()[0].id, "b");
    }

    #[test]
    fn the_stemmer_setting_is_recorded_and_older_indexes_load_unstemmed() {
        let ix = sample();
        assert_eq!(ix.bm25_params().stemmer, Some(Stemmer::English), "stemming is the default");
        let mut bytes = ix.to_bytes();
        let flags_at = HEADER + 8;
        assert_eq!(u32::from_le_bytes(bytes[flags_at..flags_at + 4].try_into().unwrap()), 3);
        // an index saved before the stemmer existed: flags word 1 (stop words only)
        bytes[flags_at..flags_at + 4].copy_from_slice(&1u32.to_le_bytes());
        let n = bytes.len() - 4;
        let crc = crc32fast::hash(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
        let old = VectorIndex::from_bytes(&bytes, None).unwrap();
        assert_eq!(old.bm25_params(), Bm25Params { stemmer: None, ..Bm25Params::default() });
    }

    #[test]
    fn parents_bm25_and_filters_round_trip() {
        let mut ix = sample();
        let mut p = Document::new("p#0", "delta passage");
        p.parent = Some("p".into());
        ix.add(vec![p], vec![unit(&[0.0, 0.0, 1.0])]).unwrap();
        ix.set_bm25_params(Bm25Params { k1: 0.9, b: 0.4, stop_words: false, stemmer: None }).unwrap();
        let back = VectorIndex::from_bytes(&ix.to_bytes(), None).unwrap();
        assert_eq!(back, ix);
        assert_eq!(back.get("p#0").unwrap().parent.as_deref(), Some("p"));
        assert_eq!(back.children("p"), ["p#0"]);
        let f = Filter::parse(&serde_json::json!({"year": {"gte": 2000}})).unwrap();
        let hits = back.search_filtered(&unit(&[1.0, 0.0, 0.0]), 3, Some(&f)).unwrap();
        assert_eq!(hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["b"], "only b has a year");
        assert!(back.search_bm25("alpha", 3, Some(&f)).unwrap().is_empty());
        let mut ix = back;
        assert_eq!(ix.remove_family("p"), 1);
        assert!(ix.search_bm25("delta", 3, None).unwrap().is_empty(), "BM25 forgets removed documents");
    }

    #[test]
    fn add_replacing_drops_old_passages_all_or_nothing() {
        let mut ix = sample();
        let passage = |id: &str| {
            let mut d = Document::new(id, "text");
            d.parent = Some("a".into());
            d
        };
        ix.add_replacing(&["a".into()], vec![passage("a#0"), passage("a#1")], vec![unit(&[1.0, 0.0, 0.0]); 2]).unwrap();
        assert!(!ix.contains("a") && ix.contains("a#1") && ix.len() == 4);
        // a failing batch (duplicate ids) removes nothing
        let before = ix.to_bytes();
        assert!(ix
            .add_replacing(&["a".into()], vec![passage("x"), passage("x")], vec![unit(&[1.0, 0.0, 0.0]); 2])
            .is_err());
        assert_eq!(ix.to_bytes(), before);
        // capacity counts the passages that will be removed
        ix.set_limits(IndexLimits { max_documents: 4, ..Default::default() });
        ix.add_replacing(&["a".into()], vec![Document::new("a", "whole again")], vec![unit(&[1.0, 0.0, 0.0])]).unwrap();
        assert_eq!(ix.len(), 3);
    }

    #[test]
    fn corrupted_bytes_are_refused() {
        let bytes = sample().to_bytes();
        for cut in [0, 5, HEADER, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                matches!(VectorIndex::from_bytes(&bytes[..cut], None), Err(Error::CorruptIndex { .. })),
                "cut {cut}"
            );
        }
        for pos in [0, 9, HEADER + 2, bytes.len() / 2, bytes.len() - 5, bytes.len() - 1] {
            let mut b = bytes.clone();
            b[pos] ^= 0x40;
            assert!(VectorIndex::from_bytes(&b, None).is_err(), "flip at {pos}");
        }
        assert!(matches!(VectorIndex::from_bytes(&bytes, Some((4, 7))), Err(Error::DimensionMismatch { .. })));
        assert!(matches!(VectorIndex::from_bytes(&bytes, Some((3, 8))), Err(Error::CorruptIndex { .. })));
        let mut v3 = bytes.clone();
        v3[8] = 3;
        let n = v3.len();
        let crc = crc32fast::hash(&v3[..n - 4]);
        v3[n - 4..].copy_from_slice(&crc.to_le_bytes());
        let err = VectorIndex::from_bytes(&v3, None).unwrap_err();
        assert!(err.to_string().contains("version 3"), "{err}");
    }
}
