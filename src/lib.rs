//! # minirank
//!
//! Fully client-side two-stage semantic search: a quantized MiniLM **bi-encoder** embeds
//! documents and retrieves a wide candidate pool; a quantized MiniLM **cross-encoder** scores
//! each (query, document) pair jointly and reranks to the final top-k. Both run with tract
//! (ONNX files through `tract-onnx`, the `onnx` feature, on by default; or tract NNEF from
//! [`convert_to_nnef`], what the npm package ships) and the `tokenizers` crate, natively or in
//! WebAssembly; models are loaded from bytes, so nothing is fetched at run time.
//!
//! ```text
//! docs ─► chunk ─► tokenize ─► bi_encoder ─► index (vectors + bm25, filter)
//! query ─► retrieval (dense | bm25 | hybrid pool, cascade) ─► cross_encoder (pairs → logits, rerank's cache)
//!       ─► fusion (z(cos) + z(bm25) + z(logit)) ─► rerank (top-k, threshold) ─► signals, chunk::group_by_parent
//! ```
//!
//! Modules, one job each, lowest layer first: [`tokenize`] (text → ids, truncation, input
//! checks); `model` (the model runtime: minirank's tract operators, NNEF and ONNX files, and the
//! compiled encoder that runs either, with its files and batching);
//! [`bi_encoder`] (pooling + normalisation), [`cross_encoder`] (pair scoring); [`bm25`] (lexical
//! index), [`filter`] (metadata filters), [`index`] (documents, vectors, exact search,
//! persistence), [`chunk`] (long documents → passages, and passages → one result per document);
//! [`retrieval`] (stage one: dense/BM25/hybrid candidates, cascade stages), [`fusion`] (the fused
//! stage-2 score), [`rerank`] (stage two: cache, ordering, threshold), [`signals`] (freshness,
//! authority, diversity); [`pipeline`] (the [`Minirank`](pipeline::Minirank) facade over all
//! stages); then the bindings: `wasm` (JavaScript) and the `minirank` CLI, with `eval` (IR metrics
//! on BEIR collections, native only).
//!
//! ```no_run
//! use minirank::prelude::*;
//! # fn main() -> minirank::Result<()> {
//! let bi = ModelFiles::new(&std::fs::read("models/bi-encoder/model.onnx").unwrap(),
//!                          &std::fs::read("models/bi-encoder/tokenizer.json").unwrap());
//! # let (m, t) = (std::fs::read("models/cross-encoder/model.onnx").unwrap(), std::fs::read("models/cross-encoder/tokenizer.json").unwrap());
//! let ce = ModelFiles::new(&m, &t);
//! let mut engine = Minirank::from_bytes(bi, ce)?;
//! engine.add_documents(vec![
//!     Document::new("gil", "The GIL prevents true parallelism for CPU-bound code."),
//!     Document::new("mp", "Multiprocessing bypasses the GIL by running separate interpreters."),
//! ])?;
//! let result = engine.search("How do I run CPU-bound Python in parallel?",
//!                            &SearchOptions::top(2, 1))?;
//! println!("{} (logit {:.2})", result.reranked.hits[0].id, result.reranked.hits[0].logit);
//! # Ok(()) }
//! ```

pub mod bi_encoder;
pub mod bm25;
pub mod cache;
pub mod chunk;
pub mod cross_encoder;
pub mod error;
#[cfg(not(target_arch = "wasm32"))]
pub mod eval;
pub mod filter;
pub mod fusion;
pub mod hits;
pub mod index;
pub mod integrity;
pub mod kernels;
mod model;
pub mod options;
#[cfg(not(target_arch = "wasm32"))]
pub mod pgvector;
pub mod pipeline;
pub mod rerank;
pub mod retrieval;
pub mod signals;
pub mod tokenize;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, ModelRole, Result};
#[cfg(feature = "onnx")]
pub use model::encoder::convert_to_nnef;
pub use model::encoder::{ModelFiles, Pooling};

/// Everything a typical user needs, in one import.
pub mod prelude {
    pub use crate::bi_encoder::BiEncoder;
    pub use crate::bm25::{Bm25Params, Stemmer};
    pub use crate::chunk::{Chunking, ParentScore};
    pub use crate::cross_encoder::CrossEncoder;
    pub use crate::error::{Error, ModelRole, Result};
    pub use crate::filter::Filter;
    pub use crate::fusion::{Contributions, Fusion};
    pub use crate::hits::{Candidate, Components, FusedHit, Reranked, RerankedHit, ResultStage};
    pub use crate::index::{Document, Hit, IndexLimits, VectorIndex};
    pub use crate::model::encoder::{ModelFiles, Pooling};
    pub use crate::pipeline::{
        CandidateSource, Embedded, Finished, FusedResult, Minirank, Pending, PoolOptions, RetrieveOptions,
        SearchOptions, SearchResult,
    };
    pub use crate::rerank::{RerankOptions, Reranker};
    pub use crate::retrieval::{Hybrid, HybridMethod, Retrieval, Stage, StageScorer};
    pub use crate::signals::{Authority, Decay, Diversity, Freshness, Signals};
}
