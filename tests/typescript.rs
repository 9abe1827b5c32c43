//! The package's TypeScript declarations of option and result types are generated from the Rust
//! types (tsify, from their serde attributes and doc comments) into `pkg-config/types.d.ts`.
//! This test fails when the committed file differs from what the types generate now;
//! `MINIRANK_UPDATE_TYPES=1` rewrites it. Run with `--features typescript`.
#![cfg(feature = "typescript")]

use minirank::cross_encoder::PairOptions;
use minirank::prelude::*;
use minirank::rerank::CacheStats;
use tsify::Tsify;

fn generated() -> String {
    let decls = [
        // options, stage one
        RetrieveOptions::DECL,
        PoolOptions::DECL,
        Retrieval::DECL,
        Hybrid::DECL,
        HybridMethod::DECL,
        Stage::DECL,
        StageScorer::DECL,
        // options, stage two
        RerankOptions::DECL,
        SearchOptions::DECL,
        Fusion::DECL,
        Signals::DECL,
        Freshness::DECL,
        Decay::DECL,
        Authority::DECL,
        Diversity::DECL,
        ParentScore::DECL,
        PairOptions::DECL,
        // index settings
        Chunking::DECL,
        Bm25Params::DECL,
        Stemmer::DECL,
        IndexLimits::DECL,
        Document::DECL,
        // results
        Candidate::DECL,
        RerankedHit::DECL,
        Contributions::DECL,
        Components::DECL,
        Reranked::DECL,
        SearchResult::DECL,
        CacheStats::DECL,
    ];
    let codes = Error::CODES.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(" | ");
    let mut out = String::from(
        "// Generated from minirank's Rust types by tests/typescript.rs (tsify): do not edit.\n\
         // MINIRANK_UPDATE_TYPES=1 cargo test --features typescript --test typescript\n\
         import type { Filter } from './filter';\n\n",
    );
    out.push_str(&format!("/** The `code` of a `MinirankError` thrown by the core (`Error::code` in Rust). */\nexport type CoreErrorCode = {codes};\n"));
    for d in decls {
        out.push('\n');
        out.push_str(d.trim());
        out.push('\n');
    }
    out
}

#[test]
fn committed_types_are_what_the_rust_types_generate() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/pkg-config/types.d.ts");
    let want = generated();
    if std::env::var_os("MINIRANK_UPDATE_TYPES").is_some() {
        std::fs::write(path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "pkg-config/types.d.ts is not what the Rust types generate: run MINIRANK_UPDATE_TYPES=1 cargo test --features typescript --test typescript"
    );
}
