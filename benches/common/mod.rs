//! What the benchmark binaries share: the repository's files and the SciFact corpus beside it.

use serde_json::Value;
use std::path::PathBuf;

/// The checkout `cargo bench` runs in: cargo sets `CARGO_MANIFEST_DIR` for the process. The
/// compile-time value is only the fallback: a binary built by another checkout that shares
/// `CARGO_TARGET_DIR` (a CI clone) is not rebuilt, and would write its results there.
pub fn root() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()))
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = root().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh)", p.display()))
}

/// The first `n` documents of `../shared/data/scifact` as (id, title + text), if it is there.
pub fn scifact(n: usize) -> Option<Vec<(String, String)>> {
    let p = root().join("../shared/data/scifact/corpus.jsonl");
    let text = std::fs::read_to_string(&p).ok()?;
    Some(
        text.lines()
            .take(n)
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| {
                let t = minirank::eval::beir_text(v["title"].as_str().unwrap_or(""), v["text"].as_str().unwrap_or(""));
                (v["_id"].to_string(), t)
            })
            .collect(),
    )
}
