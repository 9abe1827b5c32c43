//! The `minirank` binary: `search` and `eval`, text and JSON output, errors.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use std::process::Command;

fn minirank(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_minirank"))
        .args(args)
        .env("MINIRANK_MODELS", root().join("models"))
        .args(["--threads", "2"])
        .output()
        .expect("the binary runs")
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn search_json_shows_both_stages() {
    let docs = root().join("tests/fixtures/seed000.jsonl");
    let q = &seed_questions()[1];
    let v = json_of(&minirank(&["search", "--docs", docs.to_str().unwrap(), "--query", q, "--json"]));
    assert_eq!(v["query"], q.as_str());
    assert_eq!(v["candidates"].as_array().unwrap().len(), 20);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["id"], "asyncio");
    for r in results {
        for key in ["id", "text", "score", "logit", "original_rank", "retrieval_score"] {
            assert!(!r[key].is_null(), "{key} in {r}");
        }
    }
}

#[test]
fn search_text_output_and_threshold() {
    let docs = root().join("tests/fixtures/seed000.jsonl");
    let out = minirank(&["search", "--docs", docs.to_str().unwrap(), "--query", &seed_questions()[0], "--min-score", "0.9999"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Stage 1 candidates: 20"), "{text}");
    assert!(text.contains("Stage 2 top-5"), "{text}");
    assert!(text.contains("No confident answer"), "{text}");
}

#[test]
fn plain_text_documents_are_one_per_line() {
    let dir = std::env::temp_dir().join(format!("minirank-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("docs.txt");
    std::fs::write(&path, "Bananas are yellow fruit.\n\nThe GIL limits CPU-bound threads.\n").unwrap();
    let v = json_of(&minirank(&["search", "--docs", path.to_str().unwrap(), "--query", "python threads", "--candidates", "2", "--top-k", "1", "--json"]));
    assert_eq!(v["results"][0]["id"], "3", "ids are line numbers");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let docs = root().join("tests/fixtures/seed000.jsonl");
    let out = minirank(&["search", "--docs", docs.to_str().unwrap(), "--query", "x", "--candidates", "3", "--top-k", "4"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("top_k"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = minirank(&["search", "--docs", "/no/such/file.jsonl", "--query", "x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.jsonl"));
    let out = Command::new(env!("CARGO_BIN_EXE_minirank"))
        .args(["search", "--docs", docs.to_str().unwrap(), "--query", "x", "--models", "/no/models"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("scripts/setup.sh"));
}

#[test]
fn eval_reports_dense_and_rerank_metrics() {
    let dir = root().join("tests/fixtures/mini_beir");
    let v = json_of(&minirank(&["eval", "--collection", dir.to_str().unwrap(), "--candidates", "20", "--json"]));
    assert_eq!(v["collection"], "mini_beir");
    assert_eq!(v["queries"], 3, "the unjudged query is skipped");
    assert_eq!(v["documents"], 20);
    for method in ["dense", "rerank", "fused"] {
        for metric in ["ndcg@10", "ndcg@5", "mrr@10", "recall@100", "p@5"] {
            let x = v["methods"][method][metric].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{method} {metric} = {x}");
        }
        // every relevant document is among the 20 candidates of a 20-document corpus
        assert_eq!(v["methods"][method]["recall@100"], 1.0);
    }
    // the seed questions are answered at the top once reranked
    assert!(v["methods"]["rerank"]["mrr@10"].as_f64().unwrap() > 0.99, "{v}");
    for stage in ["index", "retrieve", "rerank"] {
        assert!(v["seconds"][stage].as_f64().unwrap() >= 0.0);
    }
    let text = minirank(&["eval", "--collection", dir.to_str().unwrap(), "--candidates", "20"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("| rerank |"));
}
