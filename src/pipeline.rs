//! Two-stage search: embed and index documents, retrieve wide with the bi-encoder,
//! rerank narrow with the cross-encoder.

use crate::bi_encoder::BiEncoder;
use crate::cross_encoder::{CrossEncoder, DEFAULT_PAIR_BATCH_SIZE, DEFAULT_PAIR_MAX_LENGTH};
use crate::encoder::ModelFiles;
use crate::error::{bail_option, Result};
use crate::index::{Document, IndexLimits, VectorIndex};
use crate::rerank::{check_query, Candidate, Fusion, RerankOptions, Reranked, Reranker};
use serde::{Deserialize, Serialize};

/// Options of [`Minirank::search`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchOptions {
    /// How many candidates the bi-encoder retrieves for the cross-encoder (stage 1 pool).
    pub candidates: usize,
    /// How many reranked results to return (stage 2); at most `candidates`.
    pub top_k: usize,
    /// Drop results whose sigmoid score is below this (0..=1).
    pub min_score: Option<f32>,
    /// Pairs per cross-encoder forward pass.
    pub batch_size: usize,
    /// Token budget per (query, document) pair.
    pub max_length: usize,
    /// Blend the cross-encoder with the retrieval score (see [`Fusion`]).
    pub fusion: Option<Fusion>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            candidates: 20,
            top_k: 5,
            min_score: None,
            batch_size: DEFAULT_PAIR_BATCH_SIZE,
            max_length: DEFAULT_PAIR_MAX_LENGTH,
            fusion: None,
        }
    }
}

impl SearchOptions {
    /// The rerank options this search uses in stage 2.
    pub fn rerank_options(&self) -> RerankOptions {
        RerankOptions {
            top_k: Some(self.top_k),
            batch_size: self.batch_size,
            max_length: self.max_length,
            min_score: self.min_score,
            fusion: self.fusion,
        }
    }

    /// Check every field.
    pub fn validate(&self) -> Result<()> {
        if self.candidates == 0 {
            bail_option!("candidates", "must be at least 1");
        }
        if self.top_k == 0 {
            bail_option!("top_k", "must be at least 1");
        }
        if self.top_k > self.candidates {
            bail_option!("top_k", "({}) cannot exceed candidates ({}): the reranker only sees the candidates", self.top_k, self.candidates);
        }
        self.rerank_options().validate()
    }
}

/// The result of a two-stage search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// Stage 1: the bi-encoder's candidates, best first, with cosine scores.
    pub candidates: Vec<Candidate>,
    /// Stage 2: the reranked top-k (serialized flat: `hits`, `noConfidentAnswer`, ...).
    #[serde(flatten)]
    pub reranked: Reranked,
}

/// The engine: a bi-encoder, a vector index, and a reranking cross-encoder.
#[derive(Debug)]
pub struct Minirank {
    embedder: BiEncoder,
    reranker: Reranker,
    index: VectorIndex,
}

impl Minirank {
    /// Load both models from bytes.
    pub fn from_bytes(bi_encoder: ModelFiles<'_>, cross_encoder: ModelFiles<'_>) -> Result<Self> {
        let fingerprint = crc32fast::hash(bi_encoder.model);
        let embedder = BiEncoder::from_bytes(bi_encoder)?;
        let reranker = Reranker::new(CrossEncoder::from_bytes(cross_encoder)?);
        let index = VectorIndex::new(embedder.dim(), fingerprint);
        Ok(Self { embedder, reranker, index })
    }

    /// Build from loaded models; `fingerprint` identifies the bi-encoder in saved indexes (0 = unknown).
    pub fn new(embedder: BiEncoder, cross_encoder: CrossEncoder, fingerprint: u32) -> Self {
        let index = VectorIndex::new(embedder.dim(), fingerprint);
        Self { embedder, reranker: Reranker::new(cross_encoder), index }
    }

    /// The bi-encoder.
    pub fn embedder(&self) -> &BiEncoder {
        &self.embedder
    }
    /// The bi-encoder, to change its settings.
    pub fn embedder_mut(&mut self) -> &mut BiEncoder {
        &mut self.embedder
    }
    /// The reranker (cross-encoder + score cache).
    pub fn reranker(&self) -> &Reranker {
        &self.reranker
    }
    /// The reranker, to change its settings.
    pub fn reranker_mut(&mut self) -> &mut Reranker {
        &mut self.reranker
    }
    /// Run both models' batches on this many threads (native builds; wasm32 always uses 1).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        self.embedder.set_threads(threads)?;
        self.reranker.model_mut().set_threads(threads)
    }
    /// The vector index.
    pub fn index(&self) -> &VectorIndex {
        &self.index
    }
    /// Number of indexed documents.
    pub fn len(&self) -> usize {
        self.index.len()
    }
    /// True when no documents are indexed.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
    /// Set the index limits.
    pub fn set_limits(&mut self, limits: IndexLimits) {
        self.index.set_limits(limits);
    }

    /// Embed and index documents (an existing id is replaced). All or nothing: on error the
    /// index is unchanged. Returns the number of documents indexed.
    pub fn add_documents(&mut self, docs: Vec<Document>) -> Result<usize> {
        self.add_documents_with_progress(docs, &mut |_, _| {})
    }

    /// [`add_documents`](Self::add_documents), calling `progress(done, total)` as batches finish.
    pub fn add_documents_with_progress(&mut self, docs: Vec<Document>, progress: &mut dyn FnMut(usize, usize)) -> Result<usize> {
        let vectors = self.embed_documents(&docs, progress)?;
        let n = docs.len();
        self.insert_embedded(docs, vectors)?;
        Ok(n)
    }

    /// Validate documents and compute their vectors without touching the index: the first half
    /// of [`add_documents`](Self::add_documents), for callers that embed in slices (to report
    /// progress between them) and commit once with [`insert_embedded`](Self::insert_embedded).
    pub fn embed_documents(&self, docs: &[Document], progress: &mut dyn FnMut(usize, usize)) -> Result<Vec<Vec<f32>>> {
        self.index.check_new(docs)?;
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        self.embedder.embed_with_progress(&texts, progress)
    }

    /// Add documents with vectors from [`embed_documents`](Self::embed_documents). All or nothing.
    pub fn insert_embedded(&mut self, docs: Vec<Document>, vectors: Vec<Vec<f32>>) -> Result<()> {
        self.index.add(docs, vectors)
    }

    /// Remove a document; returns whether it was indexed.
    pub fn remove(&mut self, id: &str) -> bool {
        self.index.remove(id)
    }

    /// Remove every document.
    pub fn clear(&mut self) {
        self.index.clear();
    }

    /// Stage 1: the `k` documents closest to `query` by cosine similarity.
    pub fn retrieve(&self, query: &str, k: usize) -> Result<Vec<Candidate>> {
        check_query(query)?;
        if k == 0 {
            bail_option!("k", "must be at least 1");
        }
        if self.index.is_empty() {
            return Err(crate::Error::EmptyIndex);
        }
        let q = self.embedder.embed_one(query)?;
        let hits = self.index.search(&q, k)?;
        Ok(hits
            .into_iter()
            .filter_map(|h| {
                let d = self.index.get(&h.id)?;
                Some(Candidate { id: h.id, text: d.text.clone(), score: Some(h.score), metadata: d.metadata.clone() })
            })
            .collect())
    }

    /// Stage 2 alone: rerank candidates from anywhere (another search engine, a database...).
    pub fn rerank(&self, query: &str, candidates: &[Candidate], options: &RerankOptions) -> Result<Reranked> {
        self.reranker.rerank(query, candidates, options)
    }

    /// Both stages: retrieve `options.candidates`, rerank them, keep `options.top_k`.
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<SearchResult> {
        options.validate()?;
        self.reranker.model().check_max_length(options.max_length)?;
        let candidates = self.retrieve(query, options.candidates)?;
        let reranked = self.reranker.rerank(query, &candidates, &options.rerank_options())?;
        Ok(SearchResult { candidates, reranked })
    }

    /// Serialize the index (documents + vectors) for storage.
    pub fn save_index(&self) -> Vec<u8> {
        self.index.to_bytes()
    }

    /// Replace the index with one saved by [`save_index`](Self::save_index). Refused (and the
    /// current index kept) if the bytes are corrupted, were made by another embedding model, or
    /// hold more documents than the limits allow.
    pub fn load_index(&mut self, bytes: &[u8]) -> Result<usize> {
        let mut index = VectorIndex::from_bytes(bytes, Some((self.index.dim(), self.index.fingerprint())))?;
        let limits = self.index.limits();
        if index.len() > limits.max_documents {
            return Err(crate::Error::CapacityExceeded { requested: index.len(), limit: limits.max_documents });
        }
        index.set_limits(limits);
        self.index = index;
        Ok(self.index.len())
    }
}
