//! The Rust examples of README.md and docs/*.md, run as tests (the crate sets `doctest = false`
//! because the wasm toolchain bundle has no rustdoc).
//!
//! Each ```rust block of those files is written out below, verbatim, as the body of a function
//! that the tests call; `every_rust_block_of_the_docs_is_run_here` reads the markdown at test time
//! and fails when a block is not found in this file (whitespace and indentation aside), so a block
//! edited in the docs must be edited here too. Blocks that are not meant to run are fenced
//! ```rust,ignore or ```text.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use minirank::prelude::*;

type Example<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// docs/rust.md, "Both stages" (run from the repository root, where the models are). Laid out as
/// in the docs, not by rustfmt.
#[rustfmt::skip]
fn rust_both_stages() -> Example<(SearchResult, Reranked)> {
    use minirank::prelude::*;

    let bi = (std::fs::read("models/bi-encoder/model.onnx")?, std::fs::read("models/bi-encoder/tokenizer.json")?);
    let ce = (std::fs::read("models/cross-encoder/model.onnx")?, std::fs::read("models/cross-encoder/tokenizer.json")?);
    let mut engine = Minirank::from_bytes(ModelFiles::new(&bi.0, &bi.1), ModelFiles::new(&ce.0, &ce.1))?;
    engine.add_documents(vec![
        Document::new("gil", "The GIL prevents true parallelism for CPU-bound code."),
        Document::new("mp", "Multiprocessing bypasses the GIL by running separate interpreters.")
            .with_metadata(serde_json::json!({"source": "docs"})),
    ])?;
    // both stages: a hybrid pool of 2 candidates (dense + BM25), ranked by the fused score, top 2
    let result = engine.search("How do I run CPU-bound Python in parallel?", &SearchOptions::top(2, 2))?;
    for hit in &result.reranked.hits {
        println!("{} fused={:.2} logit={:.2} score={:.3} (was #{})", hit.id, hit.fused, hit.logit, hit.score, hit.original_rank);
    }
    // stage 2 alone, on candidates from anywhere
    let reranked = engine.rerank("query", &[Candidate::new("a", "some text")], &RerankOptions { top_k: Some(5), ..Default::default() })?;

    Ok((result, reranked))
}

/// docs/rust.md, "Options".
#[rustfmt::skip]
fn rust_options() -> Example<()> {
    use minirank::prelude::*;

    // 100 candidates (dense + BM25, fused by RRF), narrowed to 10 by cosine, ranked with a heavier
    // cross-encoder weight, top 5
    let options = SearchOptions {
        pool: PoolOptions { candidates: 100, cascade: vec![Stage { scorer: StageScorer::Dense, keep: 10 }] },
        source: CandidateSource { retrieval: Some(Retrieval::Hybrid), exclude: vec!["seen".into()], ..Default::default() },
        rerank: RerankOptions { top_k: Some(5), fusion: Fusion { cross_encoder: Some(0.5), ..Fusion::default() }, ..Default::default() },
    };
    options.validate()?;
    // the same options as the flat camelCase object JavaScript passes
    let same = SearchOptions::from_value(serde_json::json!({
        "candidates": 100, "cascade": [{"scorer": "dense", "keep": 10}], "retrieval": "hybrid",
        "exclude": ["seen"], "topK": 5, "fusion": {"crossEncoder": 0.5}
    }))?;
    assert_eq!(options, same);
    // a bad field is named by its path
    let err = SearchOptions::from_value(serde_json::json!({"signals": {"freshness": {"halfLifeDay": 7}}})).unwrap_err();
    assert_eq!(err.option(), Some("signals.freshness.halfLifeDay"));

    Ok(())
}

#[test]
fn readme_rust_example() {
    std::env::set_current_dir(common::root()).unwrap();
    let (result, reranked) = rust_both_stages().unwrap();
    assert_eq!(result.reranked.hits.len(), 2);
    let mp = result.reranked.hits.iter().find(|h| h.id == "mp").unwrap();
    assert_eq!(mp.metadata, Some(serde_json::json!({"source": "docs"})));
    assert_eq!(reranked.hits.len(), 1);
}

#[test]
fn rust_options_example() {
    rust_options().unwrap();
}

/// The markdown files whose ```rust blocks must run here.
fn doc_files() -> Vec<std::path::PathBuf> {
    let root = common::root();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The ```rust blocks of a markdown text (fences whose info string is exactly `rust`).
fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        let is_fence = fence.starts_with("```");
        if let Some(lines) = current.as_mut() {
            if is_fence {
                blocks.push(lines.join("\n"));
                current = None;
            } else {
                lines.push(line);
            }
        } else if is_fence && fence[3..].trim() == "rust" {
            current = Some(Vec::new());
        }
    }
    assert!(current.is_none(), "a ```rust block is not closed");
    blocks
}

/// Whitespace runs as one space, so that indentation and line breaks do not count.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_rust_block_of_the_docs_is_run_here() {
    let this = squeeze(&String::from_utf8(common::read("tests/docs_examples.rs")).unwrap());
    let mut found = 0;
    for path in doc_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, block) in rust_blocks(&text).iter().enumerate() {
            found += 1;
            assert!(
                this.contains(&squeeze(block)),
                "{} has a ```rust block (#{}) that tests/docs_examples.rs does not run; copy it into a function here \
                 (or fence it ```rust,ignore):\n{block}",
                path.display(),
                i + 1
            );
        }
    }
    assert!(found >= 2, "expected the ```rust blocks of docs/rust.md, found {found}");
}

#[test]
fn the_block_extractor_reads_only_rust_fences() {
    let md = "text\n```rust\nlet a = 1;\n```\n```rust,ignore\nnot run\n```\n```text\nno\n```\n  ```rust\n  let b = 2;\n  ```\n";
    assert_eq!(rust_blocks(md), vec!["let a = 1;".to_string(), "  let b = 2;".to_string()]);
    assert_eq!(squeeze("  let  x =\n    1;\n"), "let x = 1;");
}
