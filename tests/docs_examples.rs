//! The examples of README.md and the crate documentation, run as tests (the crate sets
//! `doctest = false` because the wasm toolchain bundle has no rustdoc).
#![cfg(not(target_arch = "wasm32"))]
mod common;
use minirank::prelude::*;

#[test]
fn readme_rust_example() -> minirank::Result<()> {
    std::env::set_current_dir(common::root()).unwrap();
    let (bm, bt) = (std::fs::read("models/bi-encoder/model.onnx").unwrap(), std::fs::read("models/bi-encoder/tokenizer.json").unwrap());
    let (cm, ct) = (std::fs::read("models/cross-encoder/model.onnx").unwrap(), std::fs::read("models/cross-encoder/tokenizer.json").unwrap());
    let mut engine = Minirank::from_bytes(ModelFiles::new(&bm, &bt), ModelFiles::new(&cm, &ct))?;
    engine.add_documents(vec![
        Document::new("gil", "The GIL prevents true parallelism for CPU-bound code."),
        Document::new("mp", "Multiprocessing bypasses the GIL by running separate interpreters.")
            .with_metadata(serde_json::json!({"source": "docs"})),
    ])?;
    let result = engine.search("How do I run CPU-bound Python in parallel?", &SearchOptions::top(2, 2))?;
    for hit in &result.reranked.hits {
        println!("{} logit={:.2} score={:.3} (was #{})", hit.id, hit.logit, hit.score, hit.original_rank);
    }
    assert_eq!(result.reranked.hits.len(), 2);
    let mp = result.reranked.hits.iter().find(|h| h.id == "mp").unwrap();
    assert_eq!(mp.metadata, Some(serde_json::json!({"source": "docs"})));
    let reranked = engine.rerank("query", &[Candidate::new("a", "some text")], &RerankOptions { top_k: Some(5), ..Default::default() })?;
    assert_eq!(reranked.hits.len(), 1);
    Ok(())
}
