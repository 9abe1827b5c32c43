//! The native build's scores on the seed example, kept as tests/fixtures/seed_scores.json so the
//! wasm build (tests/wasm.rs, in a browser) can be checked against them.
//! Regenerate with `MINIRANK_UPDATE_FIXTURES=1 cargo test --release --test seed_scores`.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::prelude::*;
use serde_json::json;

fn compute() -> serde_json::Value {
    let e = seed_engine();
    let mut out = Vec::new();
    for q in seed_questions() {
        let cands = e.retrieve_with(&q, &RetrieveOptions::of(20, Retrieval::Dense)).unwrap();
        let r =
            e.rerank(&q, &cands, &RerankOptions { fusion: Fusion::CROSS_ENCODER_ONLY, ..Default::default() }).unwrap();
        let logits: serde_json::Map<String, serde_json::Value> =
            r.hits.iter().map(|h| (h.id.clone(), json!(h.logit))).collect();
        out.push(json!({
            "query": q,
            "candidates": cands.iter().map(|c| json!([c.id, c.score])).collect::<Vec<_>>(),
            "logits": logits,
        }));
    }
    json!({ "questions": out })
}

#[test]
fn native_seed_scores_match_the_fixture() {
    let got = compute();
    let path = root().join("tests/fixtures/seed_scores.json");
    if std::env::var_os("MINIRANK_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want = fixture("seed_scores.json");
    for (g, w) in got["questions"].as_array().unwrap().iter().zip(want["questions"].as_array().unwrap()) {
        assert_eq!(g["query"], w["query"]);
        let (gc, wc) = (g["candidates"].as_array().unwrap(), w["candidates"].as_array().unwrap());
        assert_eq!(gc.len(), wc.len());
        for (a, b) in gc.iter().zip(wc) {
            assert_eq!(a[0], b[0], "candidate order");
            assert!((a[1].as_f64().unwrap() - b[1].as_f64().unwrap()).abs() < 1e-5);
        }
        for (id, l) in w["logits"].as_object().unwrap() {
            let d = (g["logits"][id].as_f64().unwrap() - l.as_f64().unwrap()).abs();
            assert!(d < 1e-4, "{id}: {d}");
        }
    }
}
