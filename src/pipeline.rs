//! Two-stage search: embed and index documents, retrieve wide with the bi-encoder,
//! rerank narrow with the cross-encoder.

use crate::bi_encoder::BiEncoder;
use crate::bm25::Bm25Params;
use crate::chunk::{split_document, Chunking};
use crate::cross_encoder::CrossEncoder;
use crate::cross_encoder::PairOptions;
use crate::error::{bail_option, Error, Result};
use crate::fusion::{Fusion, Weights};
use crate::hits::{Candidate, FusedHit, Reranked, RerankedHit, ResultStage};
use crate::index::{Document, IndexLimits, VectorIndex};
use crate::kernels::dot;
use crate::model::encoder::ModelFiles;
use crate::options;
use crate::rerank::{PendingRerank, RerankOptions, Reranker};
use crate::retrieval::{self, validate_cascade, Retrieval, Stage, StageScorer};
pub use crate::retrieval::{CandidateSource, DEFAULT_RETRIEVAL};
use crate::tokenize::check_query;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The size of a search's candidate pool and how it is narrowed before the cross-encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolOptions {
    /// How many candidates stage 1 retrieves (the pool).
    pub candidates: usize,
    /// Middle stages between retrieval and the cross-encoder, e.g. 100 → dense 10 → rerank 5.
    pub cascade: Vec<Stage>,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { candidates: 20, cascade: Vec::new() }
    }
}

/// Options of [`Minirank::search`]: the pool, where its candidates come from, and the rerank
/// part (stage two), one flat object for JavaScript and JSON (`{ candidates, retrieval, topK,
/// fusion, signals, ... }`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchOptions {
    /// Stage one: how many candidates, and the cascade.
    #[serde(flatten)]
    pub pool: PoolOptions,
    /// Stage one: where the candidates come from.
    #[serde(flatten)]
    pub source: CandidateSource,
    /// Stage two; its `top_k` is how many results a search returns (default 5; `None`: all
    /// candidates), and `logits` is refused (a search scores its own pool).
    #[serde(flatten)]
    pub rerank: RerankOptions,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            pool: PoolOptions::default(),
            source: CandidateSource::default(),
            rerank: RerankOptions { top_k: Some(5), ..RerankOptions::default() },
        }
    }
}

impl<'de> Deserialize<'de> for SearchOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Self::from_value(serde_json::Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl SearchOptions {
    /// `{ candidates: 5, topK: 3 }`-style options (the defaults for what is left out), with the
    /// path of a field that does not fit as the error's option name.
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        let d = Self::default();
        let parts = options::split(
            value,
            &[
                options::field_names::<PoolOptions>(),
                options::field_names::<CandidateSource>(),
                options::field_names::<RerankOptions>(),
            ],
        )?;
        let [pool, source, rerank]: [serde_json::Value; 3] = parts.try_into().expect("three parts");
        Ok(Self {
            pool: options::patched("", &d.pool, pool)?,
            source: options::patched("", &d.source, source)?,
            rerank: options::patched("", &d.rerank, rerank)?,
        })
    }

    /// Options with `candidates` and `top_k` set, the rest default.
    pub fn top(candidates: usize, top_k: usize) -> Self {
        let d = Self::default();
        Self {
            pool: PoolOptions { candidates, ..d.pool },
            rerank: RerankOptions { top_k: Some(top_k), ..d.rerank },
            ..d
        }
    }

    /// Check every field.
    pub fn validate(&self) -> Result<()> {
        let (candidates, top_k) = (self.pool.candidates, self.rerank.top_k);
        if candidates == 0 {
            bail_option!("candidates", "must be at least 1");
        }
        if let Some(k) = top_k.filter(|&k| k > candidates) {
            bail_option!(
                "topK",
                "({k}) cannot exceed candidates ({candidates}): the reranker only sees the candidates"
            );
        }
        if self.rerank.logits.is_some() {
            bail_option!("logits", "is for rerank only: a search scores its own candidates");
        }
        self.source.hybrid.validate()?;
        validate_cascade(&self.pool.cascade, candidates, top_k.unwrap_or(1))?;
        self.rerank.validate()
    }
}

/// Options of [`Minirank::retrieve_with`]: how many candidates, and where they come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrieveOptions {
    /// How many candidates.
    pub k: usize,
    /// Where they come from.
    #[serde(flatten)]
    pub source: CandidateSource,
}

impl Default for RetrieveOptions {
    fn default() -> Self {
        Self { k: 20, source: CandidateSource::default() }
    }
}

impl<'de> Deserialize<'de> for RetrieveOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Self::from_value(serde_json::Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl RetrieveOptions {
    /// `{ k: 50, retrieval: 'bm25', filter }`-style options (as [`SearchOptions::from_value`]).
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        let parts = options::split(value, &[&["k"], options::field_names::<CandidateSource>()])?;
        let [count, source]: [serde_json::Value; 2] = parts.try_into().expect("two parts");
        let k = match count.get("k") {
            None | Some(serde_json::Value::Null) => Self::default().k,
            Some(k) => options::from_value("k", k.clone())?,
        };
        Ok(Self { k, source: options::patched("", &CandidateSource::default(), source)? })
    }

    /// `k` candidates by `retrieval`, the rest default.
    pub fn of(k: usize, retrieval: Retrieval) -> Self {
        Self { k, source: CandidateSource { retrieval: Some(retrieval), ..Default::default() } }
    }
}

/// Documents embedded by [`Minirank::embed_documents`], ready for [`Minirank::insert_embedded`].
#[derive(Debug, Clone, Default)]
pub struct Embedded {
    docs: Vec<Document>,
    vectors: Vec<Vec<f32>>,
    /// ids of split documents whose old passages are replaced on insert
    families: Vec<String>,
}

impl Embedded {
    /// Number of documents (passages count one each).
    pub fn len(&self) -> usize {
        self.docs.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
    /// The documents (after splitting).
    pub fn documents(&self) -> &[Document] {
        &self.docs
    }
    /// Join another batch onto this one.
    pub fn append(&mut self, other: Embedded) {
        self.docs.extend(other.docs);
        self.vectors.extend(other.vectors);
        self.families.extend(other.families);
    }
}

/// The result of a two-stage search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// Always `reranked` (a progressive search's first answer is a [`FusedResult`]).
    pub stage: ResultStage,
    /// Stage 1: the retrieved pool, best first, with retrieval scores.
    pub candidates: Vec<Candidate>,
    /// The ids kept by each cascade stage (empty without a cascade).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cascade: Vec<Vec<String>>,
    /// Stage 2: the reranked top-k (serialized flat: `hits`, `noConfidentAnswer`, ...).
    #[serde(flatten)]
    pub reranked: Reranked,
}

/// A search's answer before the cross-encoder ([`Minirank::search_fused`]): the same pool as
/// [`SearchResult`], ordered by the dense and BM25 terms of the fused score. A progressive search
/// gives it first, then the [`SearchResult`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FusedResult {
    /// Always `fused`.
    pub stage: ResultStage,
    /// Stage 1: the retrieved pool, best first, with retrieval scores.
    pub candidates: Vec<Candidate>,
    /// The ids kept by each cascade stage (empty without a cascade).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cascade: Vec<Vec<String>>,
    /// The top-k by the fused score without its cross-encoder term.
    pub hits: Vec<FusedHit>,
    /// The weights of the fused score for this query (the cross-encoder's is 0).
    pub weights: Weights,
}

/// A rerank or search between its two halves ([`Minirank::prepare_rerank`] /
/// [`Minirank::prepare_search`] and [`Minirank::finish`]): what is left is the cross-encoder's
/// forward passes over [`texts`](Self::texts), which a pool of workers shares out.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    rerank: PendingRerank,
    options: RerankOptions,
    /// A search's stage-one pool and cascade ids.
    search: Option<(Vec<Candidate>, Vec<Vec<String>>)>,
}

impl Pending {
    /// The query the texts are scored against.
    pub fn query(&self) -> &str {
        self.rerank.query()
    }
    /// The texts left to score, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.rerank.texts()
    }
    /// How to score them.
    pub fn pair_options(&self) -> PairOptions {
        self.rerank.pair_options()
    }
}

/// What [`Minirank::finish`] gives: the result of a search or of a rerank (serialized as that result).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Finished {
    /// From [`Minirank::prepare_search`].
    Search(SearchResult),
    /// From [`Minirank::prepare_rerank`].
    Rerank(Reranked),
}

/// The engine: a bi-encoder, a vector index, and a reranking cross-encoder.
#[derive(Debug)]
pub struct Minirank {
    embedder: BiEncoder,
    reranker: Reranker,
    index: VectorIndex,
    chunking: Option<Chunking>,
    /// The next automatic id to try (see [`Minirank::assign_ids`]).
    next_id: u64,
}

impl Minirank {
    /// Load both models from bytes.
    pub fn from_bytes(bi_encoder: ModelFiles<'_>, cross_encoder: ModelFiles<'_>) -> Result<Self> {
        let embedder = BiEncoder::from_bytes(bi_encoder)?;
        let reranker = Reranker::new(CrossEncoder::from_bytes(cross_encoder)?);
        let index = VectorIndex::new(embedder.dim(), embedder.fingerprint());
        Ok(Self { embedder, reranker, index, chunking: None, next_id: 0 })
    }

    /// Build from loaded models; `fingerprint` identifies the bi-encoder in saved indexes (0 = unknown).
    pub fn new(embedder: BiEncoder, cross_encoder: CrossEncoder, fingerprint: u32) -> Self {
        let mut engine = Self::without_cross_encoder(embedder, fingerprint);
        engine.set_cross_encoder(cross_encoder);
        engine
    }

    /// An engine whose cross-encoder comes later ([`set_cross_encoder`](Self::set_cross_encoder)):
    /// it indexes, retrieves and answers [`search_fused`](Self::search_fused) at once; what needs
    /// the cross-encoder fails with [`Error::NoCrossEncoder`] until then.
    pub fn without_cross_encoder(embedder: BiEncoder, fingerprint: u32) -> Self {
        let index = VectorIndex::new(embedder.dim(), fingerprint);
        Self { embedder, reranker: Reranker::empty(), index, chunking: None, next_id: 0 }
    }

    /// Give the engine its cross-encoder (or another one: the score cache is emptied).
    pub fn set_cross_encoder(&mut self, cross_encoder: CrossEncoder) {
        self.reranker.set_model(cross_encoder);
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
        match self.reranker.model_mut() {
            Ok(model) => model.set_threads(threads),
            Err(_) => Ok(()),
        }
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
    /// Set BM25's `k1`, `b` and stop words (a new stop-word setting re-analyses stored texts).
    pub fn set_bm25_params(&mut self, params: Bm25Params) -> Result<()> {
        self.index.set_bm25_params(params)
    }
    /// Split documents longer than `chunking.max_tokens` into passages when indexing (`None`:
    /// keep documents whole; the bi-encoder then reads only their first tokens).
    pub fn set_chunking(&mut self, chunking: Option<Chunking>) -> Result<()> {
        if let Some(c) = &chunking {
            c.validate(self.embedder.max_length().saturating_sub(self.embedder.special_tokens()))?;
        }
        self.chunking = chunking;
        Ok(())
    }
    /// The chunking setting.
    pub fn chunking(&self) -> Option<Chunking> {
        self.chunking
    }

    /// Give every document with an empty id a new one: `"0"`, `"1"`, ... continuing across calls,
    /// skipping ids that are indexed, in `docs`, or staged in `staged` (as ids or parents).
    /// For callers whose documents may come without ids (the JavaScript `index`).
    pub fn assign_ids(&mut self, docs: &mut [Document], staged: &Embedded) {
        if docs.iter().all(|d| !d.id.is_empty()) {
            return;
        }
        // the batch's and the staged documents' ids (and parents), gathered once: indexing many
        // strings would otherwise scan them again for every new id
        let mut taken: HashSet<String> = docs
            .iter()
            .map(|d| d.id.clone())
            .chain(staged.docs.iter().flat_map(|d| std::iter::once(d.id.clone()).chain(d.parent.clone())))
            .collect();
        for doc in docs.iter_mut().filter(|d| d.id.is_empty()) {
            let id = loop {
                let id = self.next_id.to_string();
                self.next_id += 1;
                if !self.index.contains(&id) && !taken.contains(&id) {
                    break id;
                }
            };
            taken.insert(id.clone());
            doc.id = id;
        }
    }

    /// Embed and index documents (an existing id is replaced). All or nothing: on error the
    /// index is unchanged. Returns the number of index entries written (passages count one each).
    pub fn add_documents(&mut self, docs: Vec<Document>) -> Result<usize> {
        self.add_documents_with_progress(docs, &mut |_, _| {})
    }

    /// [`add_documents`](Self::add_documents), calling `progress(done, total)` as batches finish.
    pub fn add_documents_with_progress(
        &mut self,
        docs: Vec<Document>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize> {
        let embedded = self.embed_documents(docs, progress)?;
        let n = embedded.len();
        self.insert_embedded(embedded)?;
        Ok(n)
    }

    /// Validate documents, split long ones (when chunking is on) and compute their vectors
    /// without touching the index: the first half of [`add_documents`](Self::add_documents), for
    /// callers that embed in slices (to report progress between them) and commit once with
    /// [`insert_embedded`](Self::insert_embedded).
    pub fn embed_documents(&self, docs: Vec<Document>, progress: &mut dyn FnMut(usize, usize)) -> Result<Embedded> {
        self.index.check_new(&docs)?;
        let (docs, families) = match &self.chunking {
            None => (docs, Vec::new()),
            Some(c) => {
                let families: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
                let count = |t: &str| self.embedder.count_tokens(t);
                let mut out = Vec::with_capacity(docs.len());
                for d in docs {
                    out.extend(split_document(d, c, &count)?);
                }
                self.index.check_new(&out)?;
                (out, families)
            }
        };
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        let vectors = self.embedder.embed_with_progress(&texts, progress)?;
        Ok(Embedded { docs, vectors, families })
    }

    /// Documents with vectors computed elsewhere (by this bi-encoder, on a server or in an earlier
    /// session): `vectors` holds one row of [`dim`](VectorIndex::dim) numbers per document, in
    /// order; each row is scaled to unit length. For [`insert_embedded`](Self::insert_embedded),
    /// like [`embed_documents`](Self::embed_documents) but without the model. Documents are not
    /// split into passages (a vector is of a whole document).
    pub fn embedded_from_vectors(&self, docs: Vec<Document>, vectors: &[f32]) -> Result<Embedded> {
        self.index.check_new(&docs)?;
        let dim = self.index.dim();
        if vectors.len() != docs.len() * dim {
            bail_option!(
                "vectors",
                "{} numbers for {} documents of dimension {dim}: expected {}",
                vectors.len(),
                docs.len(),
                docs.len() * dim
            );
        }
        let mut rows = Vec::with_capacity(docs.len());
        for (i, row) in vectors.chunks_exact(dim.max(1)).enumerate() {
            let norm = dot(row, row).sqrt();
            if !norm.is_finite() || norm == 0.0 {
                bail_option!("vectors", "row {i} (document `{}`) is zero or not finite", docs[i].id);
            }
            rows.push(row.iter().map(|x| x / norm).collect());
        }
        Ok(Embedded { docs, vectors: rows, families: Vec::new() })
    }

    /// Add documents with their vectors ([`embedded_from_vectors`](Self::embedded_from_vectors)).
    /// All or nothing; returns how many.
    pub fn add_vectors(&mut self, docs: Vec<Document>, vectors: &[f32]) -> Result<usize> {
        let embedded = self.embedded_from_vectors(docs, vectors)?;
        let n = embedded.len();
        self.insert_embedded(embedded)?;
        Ok(n)
    }

    /// Add documents embedded by [`embed_documents`](Self::embed_documents). All or nothing.
    pub fn insert_embedded(&mut self, embedded: Embedded) -> Result<()> {
        self.index.add_replacing(&embedded.families, embedded.docs, embedded.vectors)
    }

    /// Whether a document with `id` is indexed: whole, or split into passages whose parent is `id`
    /// (the ids that [`remove`](Self::remove) would remove something for).
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains(id) || self.index.documents().any(|d| d.parent.as_deref() == Some(id))
    }

    /// Remove a document (and its passages, if it was split); returns whether anything was removed.
    pub fn remove(&mut self, id: &str) -> bool {
        self.index.remove_family(id) > 0
    }

    /// Remove every document.
    pub fn clear(&mut self) {
        self.index.clear();
    }

    /// Give candidates the signals of the fused score that they lack and `fusion` weighs: the
    /// cosine to the query (from the stored vector of an indexed document with the same text, else
    /// by embedding the text) and BM25 (the index's scores when every candidate is an indexed
    /// document with its stored text; otherwise BM25 over the candidate list as its own corpus,
    /// for all of them, so that the scores share one scale).
    fn with_signals(&self, query: &str, candidates: &mut [Candidate], fusion: &Fusion) -> Result<()> {
        let indexed = |c: &Candidate| self.index.get(&c.id).is_some_and(|d| d.text == c.text);
        if fusion.uses_dense() && candidates.iter().any(|c| c.dense.is_none()) {
            let q = self.embedder.embed_one(query)?;
            let missing: Vec<usize> = (0..candidates.len()).filter(|&i| candidates[i].dense.is_none()).collect();
            let items: Vec<(&str, &str)> =
                missing.iter().map(|&i| (candidates[i].id.as_str(), candidates[i].text.as_str())).collect();
            let vectors = self.vectors_of(&items)?;
            for (i, v) in missing.into_iter().zip(vectors) {
                candidates[i].dense = Some(dot(&q, &v));
            }
        }
        if fusion.uses_bm25() && candidates.iter().any(|c| c.bm25.is_none()) {
            let scores = if candidates.iter().all(indexed) {
                self.index.bm25_scores(query, &candidates.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())
            } else {
                let texts: Vec<&str> = candidates.iter().map(|c| c.text.as_str()).collect();
                crate::bm25::pool_scores(query, &texts, &self.index.bm25_params())
            };
            for (c, s) in candidates.iter_mut().zip(scores) {
                c.bm25 = Some(s);
            }
        }
        Ok(())
    }

    /// Stage 1: the `k` best documents for `query` by the default retrieval ([`DEFAULT_RETRIEVAL`]).
    pub fn retrieve(&self, query: &str, k: usize) -> Result<Vec<Candidate>> {
        self.retrieve_with(query, &RetrieveOptions { k, ..Default::default() })
    }

    /// Stage 1 with a choice of retrieval (dense, BM25, hybrid) and a metadata filter.
    /// Candidates carry the retrieval score: cosine, BM25, or the fused hybrid score.
    pub fn retrieve_with(&self, query: &str, options: &RetrieveOptions) -> Result<Vec<Candidate>> {
        check_query(query)?;
        let source = &options.source;
        source.hybrid.validate()?;
        let mode = source.mode();
        let qvec = if mode == Retrieval::Bm25 { None } else { Some(self.query_vector(query)?) };
        retrieval::pool(&self.index, query, qvec.as_deref(), mode, source, options.k)
    }

    /// Stage 1 from a query vector instead of a query text: a vector from
    /// [`BiEncoder::embed_one`] kept from earlier, or one computed by another copy of the same
    /// bi-encoder (a server, another worker). Dense retrieval only (`options.source.retrieval` must be
    /// `None` or [`Retrieval::Dense`]: BM25 needs the text); the length must be the index's dimension and
    /// every value finite. Scores are dot products, so pass a unit vector for cosines.
    pub fn retrieve_vector(&self, query: &[f32], options: &RetrieveOptions) -> Result<Vec<Candidate>> {
        if options.source.retrieval.is_some_and(|r| r != Retrieval::Dense) {
            bail_option!(
                "retrieval",
                "a query vector allows only 'dense' retrieval (BM25 and hybrid need the query text)"
            );
        }
        if let Some(i) = query.iter().position(|x| !x.is_finite()) {
            bail_option!("query", "the query vector's value at {i} is not a finite number");
        }
        if self.index.is_empty() {
            return Err(Error::EmptyIndex);
        }
        retrieval::pool(&self.index, "", Some(query), Retrieval::Dense, &options.source, options.k)
    }

    fn query_vector(&self, query: &str) -> Result<Vec<f32>> {
        if self.index.is_empty() {
            return Err(Error::EmptyIndex);
        }
        self.embedder.embed_one(query)
    }

    /// Stage 2 alone: rerank candidates from anywhere (another search engine, a database...),
    /// with everything [`RerankOptions`] offers: the fused score (candidates without the cosine
    /// or BM25 signal that `options.fusion` weighs get it first: the stored vector or the embedded
    /// text, the index's BM25 or BM25 over the candidate list), `signals` (candidates without a
    /// stored vector are embedded when diversity needs one), `parents`, and `logits` computed
    /// elsewhere. The same as [`prepare_rerank`](Self::prepare_rerank), scoring here, and
    /// [`finish`](Self::finish).
    pub fn rerank(&self, query: &str, candidates: &[Candidate], options: &RerankOptions) -> Result<Reranked> {
        let Pending { rerank, options, .. } = self.prepare_rerank(query, candidates, options)?;
        let scored = self.reranker.score(&rerank)?;
        self.complete(rerank, &options, &scored)
    }

    /// The first half of [`rerank`](Self::rerank): everything but the cross-encoder's forward
    /// passes, whose texts [`Pending::texts`] lists (those without a given or cached logit). A
    /// pool of workers scores them in shards and calls [`finish`](Self::finish).
    pub fn prepare_rerank(&self, query: &str, candidates: &[Candidate], options: &RerankOptions) -> Result<Pending> {
        options.validate()?;
        check_query(query)?;
        let (candidates, stage2) = self.stage_two_input(query, candidates.to_vec(), options)?;
        let mut rerank = self.reranker.prepare(query, candidates, &stage2)?;
        rerank.count_terms_with(&self.index.bm25_params().analyzer());
        Ok(Pending { rerank, options: options.clone(), search: None })
    }

    /// What stage two ranks: the candidates with the signals `options.fusion` weighs (those that
    /// lack one get it first, see `with_signals`), and the options it runs with (signals and
    /// parents reorder the whole list, so for them it keeps everything).
    fn stage_two_input(
        &self,
        query: &str,
        mut candidates: Vec<Candidate>,
        options: &RerankOptions,
    ) -> Result<(Vec<Candidate>, RerankOptions)> {
        let lacking = |c: &Candidate| {
            (options.fusion.uses_dense() && c.dense.is_none()) || (options.fusion.uses_bm25() && c.bm25.is_none())
        };
        if candidates.iter().any(lacking) {
            self.with_signals(query, &mut candidates, &options.fusion)?;
        }
        let whole = if options.signals.is_none() && options.parents.is_none() {
            options.clone()
        } else {
            RerankOptions { top_k: None, signals: None, parents: None, ..options.clone() }
        };
        Ok((candidates, whole))
    }

    /// The second half of [`rerank`](Self::rerank) or [`search`](Self::search): `scored` holds a
    /// logit per text of [`Pending::texts`], in order (from [`Reranker::score`], or from shards
    /// scored by other workers with [`CrossEncoder::score_pairs`] and [`Pending::pair_options`]).
    pub fn finish(&self, pending: Pending, scored: &[f32]) -> Result<Finished> {
        let Pending { rerank, options, search } = pending;
        let reranked = self.complete(rerank, &options, scored)?;
        Ok(match search {
            None => Finished::Rerank(reranked),
            Some((candidates, cascade)) => {
                Finished::Search(SearchResult { stage: ResultStage::Reranked, candidates, cascade, reranked })
            }
        })
    }

    /// The reranker's second half, then `signals` and `parents` (which reorder the whole list).
    fn complete(&self, rerank: PendingRerank, options: &RerankOptions, scored: &[f32]) -> Result<Reranked> {
        let r = self.reranker.finish(rerank, scored)?;
        self.reorder(r, options)
    }

    /// `signals` and `parents` over a stage-two list (which the reranker kept whole for them).
    fn reorder(&self, mut r: Reranked, options: &RerankOptions) -> Result<Reranked> {
        if options.signals.is_some() || options.parents.is_some() {
            let mut hits = std::mem::take(&mut r.hits);
            if let Some(s) = &options.signals {
                let now = match s.now.or_else(now_ms) {
                    Some(now) => now,
                    None => bail_option!("signals.now", "is required on this platform (Unix milliseconds)"),
                };
                let vectors = if s.needs_vectors() { self.vectors_for(&hits)? } else { Vec::new() };
                hits = crate::signals::apply(hits, s, now, &vectors);
            }
            if let Some(mode) = options.parents {
                hits = crate::chunk::group_by_parent(hits, mode);
            }
            hits.truncate(options.top_k.unwrap_or(usize::MAX));
            for (i, h) in hits.iter_mut().enumerate() {
                h.rank = i + 1;
            }
            r.hits = hits;
        }
        Ok(r)
    }

    /// Stored vectors of the hits; texts not in the index are embedded.
    fn vectors_for(&self, hits: &[RerankedHit]) -> Result<Vec<Option<Vec<f32>>>> {
        let items: Vec<(&str, &str)> = hits.iter().map(|h| (h.id.as_str(), h.text.as_str())).collect();
        Ok(self.vectors_of(&items)?.into_iter().map(Some).collect())
    }

    /// The vector of each (id, text): the stored one when that id is indexed with that text, else
    /// the text embedded now (all such texts in one batch).
    fn vectors_of(&self, items: &[(&str, &str)]) -> Result<Vec<Vec<f32>>> {
        let stored =
            |id: &str, text: &str| self.index.vector(id).filter(|_| self.index.get(id).is_some_and(|d| d.text == text));
        let mut out: Vec<Option<Vec<f32>>> =
            items.iter().map(|&(id, text)| stored(id, text).map(<[f32]>::to_vec)).collect();
        let missing: Vec<usize> = (0..items.len()).filter(|&i| out[i].is_none()).collect();
        if !missing.is_empty() {
            let texts: Vec<&str> = missing.iter().map(|&i| items[i].1).collect();
            for (i, v) in missing.into_iter().zip(self.embedder.embed(&texts)?) {
                out[i] = Some(v);
            }
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Both stages: retrieve `options.candidates` (dense, BM25 or hybrid, filtered), narrow
    /// them through the cascade stages, rerank with the cross-encoder (optionally with signals
    /// and parent grouping), keep `options.top_k`.
    pub fn search(&self, query: &str, options: &SearchOptions) -> Result<SearchResult> {
        let Pending { rerank, options: stage2, search } = self.prepare_search(query, options)?;
        let scored = self.reranker.score(&rerank)?;
        let reranked = self.complete(rerank, &stage2, &scored)?;
        let (candidates, cascade) = search.unwrap_or_default(); // prepare_search always sets it
        Ok(SearchResult { stage: ResultStage::Reranked, candidates, cascade, reranked })
    }

    /// The first half of [`search`](Self::search): stage one and everything of stage two but
    /// the cross-encoder's forward passes (see [`prepare_rerank`](Self::prepare_rerank)).
    pub fn prepare_search(&self, query: &str, options: &SearchOptions) -> Result<Pending> {
        options.validate()?;
        check_query(query)?;
        self.reranker.check_max_length(options.rerank.max_length)?;
        let (candidates, cascade, narrowed) = self.stage_one(query, options)?;
        let mut pending = self.prepare_rerank(query, narrowed.as_deref().unwrap_or(&candidates), &options.rerank)?;
        pending.search = Some((candidates, cascade));
        Ok(pending)
    }

    /// A search's answer before the cross-encoder: the pool of [`search`](Self::search), ordered
    /// by the dense and BM25 terms of its fused score (`fusion` without `crossEncoder`), then
    /// `signals`, `parents` and `top_k` as in stage two. Needs no cross-encoder, and costs one query
    /// embedding: the first answer of a progressive search, or all of a search box's answer on a
    /// slow device.
    pub fn search_fused(&self, query: &str, options: &SearchOptions) -> Result<FusedResult> {
        options.validate()?;
        check_query(query)?;
        let (candidates, cascade, narrowed) = self.stage_one(query, options)?;
        let rerank = &options.rerank;
        let (pool, whole) = self.stage_two_input(query, narrowed.unwrap_or_else(|| candidates.clone()), rerank)?;
        let terms = self.index.bm25_params().analyzer().distinct_terms(query);
        let fused = self.reorder(crate::rerank::fuse_without_cross_encoder(&pool, &whole, terms), rerank)?;
        Ok(FusedResult {
            stage: ResultStage::Fused,
            candidates,
            cascade,
            hits: fused.hits.into_iter().map(|h| h.hit).collect(),
            weights: fused.weights,
        })
    }

    /// Stage one of a search: the pool, the ids each cascade stage kept, and (with a cascade) the
    /// candidates it leaves for stage two.
    #[allow(clippy::type_complexity)]
    fn stage_one(
        &self,
        query: &str,
        options: &SearchOptions,
    ) -> Result<(Vec<Candidate>, Vec<Vec<String>>, Option<Vec<Candidate>>)> {
        let (pool, source, rerank) = (&options.pool, &options.source, &options.rerank);
        let needs_dense = source.mode() != Retrieval::Bm25
            || rerank.fusion.uses_dense()
            || pool.cascade.iter().any(|s| s.scorer == StageScorer::Dense);
        let qvec = if needs_dense { Some(self.query_vector(query)?) } else { None };
        let candidates = retrieval::pool(&self.index, query, qvec.as_deref(), source.mode(), source, pool.candidates)?;
        if pool.cascade.is_empty() {
            return Ok((candidates, Vec::new(), None));
        }
        let (narrowed, cascade) =
            retrieval::cascade(&self.index, query, qvec.as_deref(), candidates.clone(), &pool.cascade);
        Ok((candidates, cascade, Some(narrowed)))
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

/// The clock in Unix milliseconds (`None` on wasm32, where the JavaScript binding passes `Date.now()`).
fn now_ms() -> Option<f64> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs_f64() * 1000.0)
    }
    #[cfg(target_arch = "wasm32")]
    {
        None
    }
}
