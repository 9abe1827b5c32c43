//! The `minirank` binary: `search` and `eval`, text and JSON output, errors.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::fusion::Fusion;
use serde_json::json;
use std::process::Command;

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
    let out = minirank(&[
        "search",
        "--docs",
        docs.to_str().unwrap(),
        "--query",
        &seed_questions()[0],
        "--min-score",
        "0.9999",
    ]);
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
    let v = json_of(&minirank(&[
        "search",
        "--docs",
        path.to_str().unwrap(),
        "--query",
        "python threads",
        "--candidates",
        "2",
        "--top-k",
        "1",
        "--json",
    ]));
    assert_eq!(v["results"][0]["id"], "3", "ids are line numbers");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let docs = root().join("tests/fixtures/seed000.jsonl");
    let out =
        minirank(&["search", "--docs", docs.to_str().unwrap(), "--query", "x", "--candidates", "3", "--top-k", "4"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--top-k"), "{}", String::from_utf8_lossy(&out.stderr));
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

const EVAL_METHODS: [&str; 6] = ["default", "default-without-cross-encoder", "dense", "bm25", "hybrid", "rerank"];

#[test]
fn eval_reports_every_method() {
    let dir = root().join("tests/fixtures/mini_beir");
    let v = json_of(&minirank(&["eval", "--collection", dir.to_str().unwrap(), "--candidates", "20", "--json"]));
    assert_eq!(v["collection"], "mini_beir");
    assert_eq!(v["queries"], 3, "the unjudged query is skipped");
    assert_eq!(v["documents"], 20);
    // default weights unless --fusion, the cross-encoder's the shipped model's own (0)
    assert_eq!(v["fusion"], serde_json::to_value(Fusion::default().resolved(0.0)).unwrap());
    for method in EVAL_METHODS {
        for metric in ["ndcg@10", "ndcg@5", "mrr@10", "recall@100", "p@5"] {
            let x = v["methods"][method][metric].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{method} {metric} = {x}");
        }
        assert!(v["seconds"]["methods"][method].as_f64().unwrap() >= 0.0);
        if method != "bm25" {
            // every relevant document is among the 20 candidates of a 20-document corpus
            assert_eq!(v["methods"][method]["recall@100"], 1.0, "{method}");
        }
    }
    // BM25 finds something for these questions
    assert!(v["methods"]["bm25"]["mrr@10"].as_f64().unwrap() > 0.0, "{v}");
    // the seed questions are answered at the top by the default pipeline and by the cross-encoder
    assert!(v["methods"]["default"]["mrr@10"].as_f64().unwrap() > 0.99, "{v}");
    assert!(v["methods"]["rerank"]["mrr@10"].as_f64().unwrap() > 0.99, "{v}");
    assert!(v["seconds"]["index"].as_f64().unwrap() >= 0.0);
    let text = minirank(&["eval", "--collection", dir.to_str().unwrap(), "--candidates", "20"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("| default-without-cross-encoder |"));
}

#[test]
fn eval_runs_the_methods_asked_for_with_other_weights() {
    let dir = root().join("tests/fixtures/mini_beir");
    let d = dir.to_str().unwrap();
    let v = json_of(&minirank(&[
        "eval",
        "--collection",
        d,
        "--methods",
        "dense,bm25",
        "--fusion",
        "bm25=0.5",
        "--retrieval",
        "hybrid",
        "--json",
    ]));
    let names: Vec<&String> = v["methods"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["bm25", "dense"]);
    assert_eq!(v["fusion"]["bm25"], 0.5);
    assert_eq!(v["fusion"]["dense"], Fusion::default().dense as f64);
    assert_eq!(v["retrieval"], "hybrid");
    for bad in [&["--methods", "dense+rerank"][..], &["--fusion", "alpha=1"], &["--fusion", "dense=0,bm25=0,ce=0"]] {
        let out = minirank(&[&["eval", "--collection", d][..], bad].concat());
        assert!(!out.status.success(), "{bad:?} is refused");
    }
}

#[test]
fn eval_reports_kind_intervals_a_compared_fusion_and_dumps_reusing_its_index() {
    let src = root().join("tests/fixtures/mini_beir");
    let dir = std::env::temp_dir().join(format!("minirank-cli-eval-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("qrels")).unwrap();
    for f in ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("collection.json"), r#"{"kind": "question -> answer passage"}"#).unwrap();
    let (d, index, dump) = (dir.to_str().unwrap(), dir.join("index.bin"), dir.join("dump.jsonl"));
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "eval",
            "--collection",
            d,
            "--methods",
            "dense,default",
            "--compare-fusion",
            "dense=1,bm25=1,cross-encoder=0.25",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(["--index".to_string(), index.display().to_string(), "--json".to_string()]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let first = args(&["--dump", dump.to_str().unwrap()]);
    let v = json_of(&minirank(&first.iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(v["kind"], "question -> answer passage");
    let compared = "fusion(dense=1,bm25=1,cross-encoder=0.25)";
    assert!(v["methods"][compared]["ndcg@10"].is_number(), "{v}");
    assert!(v["versus_dense"].get("dense").is_none(), "dense is the baseline");
    for m in ["default", compared] {
        let d = &v["versus_dense"][m];
        let (lo, mean, hi) = (d["low"].as_f64().unwrap(), d["mean"].as_f64().unwrap(), d["high"].as_f64().unwrap());
        assert!(lo <= mean && mean <= hi, "{m}: {d}");
        let diff = v["methods"][m]["ndcg@10"].as_f64().unwrap() - v["methods"]["dense"]["ndcg@10"].as_f64().unwrap();
        assert!((mean - diff).abs() < 1e-9, "{m}: {mean} vs {diff}");
    }
    assert_eq!(v["seconds"]["index_cached"], false);
    assert!(index.exists());
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&dump).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "one line per judged query");
    for l in &lines {
        let cands = l["candidates"].as_array().unwrap();
        assert_eq!(cands.len(), 20, "the dense and BM25 top 100 of a 20-document corpus");
        assert!(cands.iter().all(|c| c["dense"].is_number() && c["bm25"].is_number()));
        assert!(cands.iter().filter(|c| c["logit"].is_number()).count() >= 20, "logits of the dense and hybrid top 20");
        assert!(l["terms"].as_u64().unwrap() > 0 && !l["judged"].as_object().unwrap().is_empty());
    }
    // the second run reads the index instead of embedding, with the same figures
    let again = json_of(&minirank(&args(&[]).iter().map(String::as_str).collect::<Vec<_>>()));
    assert_eq!(again["seconds"]["index_cached"], true);
    assert_eq!(again["methods"], v["methods"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn search_with_bm25_filter_cascade_and_parents() {
    let docs = root().join("tests/fixtures/seed000.jsonl");
    let d = docs.to_str().unwrap();
    let q = "How do I run CPU-bound Python code in parallel?";
    let v = json_of(&minirank(&[
        "search",
        "--docs",
        d,
        "--query",
        q,
        "--retrieval",
        "hybrid",
        "--candidates",
        "20",
        "--cascade",
        "dense:10",
        "--top-k",
        "3",
        "--json",
    ]));
    assert_eq!(v["candidates"].as_array().unwrap().len(), 20);
    assert_eq!(v["cascade"][0].as_array().unwrap().len(), 10);
    let kept: Vec<&str> = v["cascade"][0].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    for r in v["results"].as_array().unwrap() {
        assert!(kept.contains(&r["id"].as_str().unwrap()), "results come from the cascade's survivors");
    }
    // metadata filters: only matching documents are candidates
    let dir = std::env::temp_dir().join(format!("minirank-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tagged = dir.join("tagged.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&docs)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["year"] = json!(2000 + i);
            v.to_string()
        })
        .collect();
    std::fs::write(&tagged, lines.join("\n")).unwrap();
    let t = tagged.to_str().unwrap();
    let v =
        json_of(&minirank(&["search", "--docs", t, "--query", q, "--filter", r#"{"year": {"gte": 2015}}"#, "--json"]));
    let cands = v["candidates"].as_array().unwrap();
    assert_eq!(cands.len(), 5, "years 2015..=2019 pass");
    assert!(cands.iter().all(|c| c["metadata"]["year"].as_u64().unwrap() >= 2015));
    let bad = minirank(&["search", "--docs", d, "--query", q, "--filter", r#"{"year": {"between": 1}}"#]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("unknown operator `between`"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let bad = minirank(&["search", "--docs", d, "--query", q, "--cascade", "dense:50"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cascade"), "{}", String::from_utf8_lossy(&bad.stderr));
    // long documents: passages grouped back into their documents
    let long = dir.join("long.jsonl");
    let all: Vec<String> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_owned())
        .collect();
    let long_docs =
        [json!({"id": "first", "text": all[..10].join(" ")}), json!({"id": "second", "text": all[10..].join(" ")})];
    std::fs::write(&long, long_docs.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")).unwrap();
    let l = long.to_str().unwrap();
    let v = json_of(&minirank(&[
        "search",
        "--docs",
        l,
        "--query",
        q,
        "--chunk-tokens",
        "40",
        "--candidates",
        "10",
        "--top-k",
        "3",
        "--json",
    ]));
    let passages: Vec<&str> = v["candidates"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(passages.len() > 2 && passages.iter().all(|id| id.contains('#')), "indexed as passages: {passages:?}");
    let v = json_of(&minirank(&[
        "search",
        "--docs",
        l,
        "--query",
        q,
        "--chunk-tokens",
        "40",
        "--candidates",
        "10",
        "--parents",
        "max",
        "--top-k",
        "3",
        "--json",
    ]));
    let ids: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "two parent documents: {ids:?}");
    assert!(ids.contains(&"first") && ids.contains(&"second"), "{ids:?}");
    assert!(!v["results"][0]["passages"].as_array().unwrap().is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn export_writes_copy_rows_and_continues_an_interrupted_file() {
    let dir = std::env::temp_dir().join(format!("minirank-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let docs = root().join("tests/fixtures/seed000.jsonl");
    let whole = dir.join("whole.copy");
    let args = |out: &std::path::Path| {
        ["export", "--docs", docs.to_str().unwrap(), "--to", "pgvector", "--out", out.to_str().unwrap(), "--json"]
            .map(str::to_owned)
    };
    let run = |out: &std::path::Path| {
        let a = args(out);
        json_of(&minirank(&a.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let v = run(&whole);
    assert_eq!(
        (v["documents"].as_u64(), v["embedded"].as_u64(), v["dimension"].as_u64()),
        (Some(20), Some(20), Some(384))
    );
    let text = std::fs::read_to_string(&whole).unwrap();
    assert_eq!(text.lines().count(), 20);
    let engine = engine();
    for line in text.lines() {
        let f = minirank::pgvector::copy_fields(line);
        assert_eq!(f.len(), 5, "id, text, metadata, parent, vector: {line}");
        let v: Vec<f32> =
            f[4].as_deref().unwrap().trim_matches(['[', ']']).split(',').map(|x| x.parse().unwrap()).collect();
        let ours = engine.embedder().embed_one(f[1].as_deref().unwrap()).unwrap();
        assert!(v.iter().zip(&ours).all(|(a, b)| (a - b).abs() < 1e-5), "{}", f[0].as_deref().unwrap());
        assert_eq!(f[3], None, "no parent");
    }
    // cut after 7 whole lines and half of the 8th: the rest is embedded, the half line written again
    let cut = dir.join("cut.copy");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    std::fs::write(&cut, lines[..7].concat() + &lines[7][..lines[7].len() / 2]).unwrap();
    let v = run(&cut);
    assert_eq!((v["embedded"].as_u64(), v["skipped"].as_u64()), (Some(13), Some(7)));
    // the same rows (a vector may differ in its last bits: its batch was padded otherwise)
    let rows = |text: &str| {
        let mut rows: Vec<Vec<Option<String>>> = text.lines().map(minirank::pgvector::copy_fields).collect();
        rows.sort();
        rows
    };
    let vector = |f: &Option<String>| -> Vec<f32> {
        f.as_deref().unwrap().trim_matches(['[', ']']).split(',').map(|x| x.parse().unwrap()).collect()
    };
    let (a, b) = (rows(&std::fs::read_to_string(&cut).unwrap()), rows(&text));
    assert_eq!(a.len(), 20);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x[..4], y[..4]);
        assert!(vector(&x[4]).iter().zip(vector(&y[4])).all(|(p, q)| (p - q).abs() < 1e-5), "{:?}", x[0]);
    }
    // nothing left to do
    assert_eq!(run(&cut)["embedded"].as_u64(), Some(0));
    // a parent field goes to its column, the other fields to the metadata
    let passages = dir.join("passages.jsonl");
    std::fs::write(
        &passages,
        "{\"id\": \"p1\", \"text\": \"First part.\", \"parent\": \"doc\", \"lang\": \"en\"}\n{\"id\": \"p2\", \"text\": \"Second.\"}\n",
    )
    .unwrap();
    let out = dir.join("passages.copy");
    let a = args(&out).map(|x| if x == docs.to_str().unwrap() { passages.to_str().unwrap().to_owned() } else { x });
    json_of(&minirank(&a.iter().map(String::as_str).collect::<Vec<_>>()));
    let rows: Vec<Vec<Option<String>>> =
        std::fs::read_to_string(&out).unwrap().lines().map(minirank::pgvector::copy_fields).collect();
    assert_eq!(
        rows[0][..4],
        [Some("p1".into()), Some("First part.".into()), Some(r#"{"lang":"en"}"#.into()), Some("doc".into())]
    );
    assert_eq!(rows[1][..4], [Some("p2".into()), Some("Second.".into()), Some("{}".into()), None]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn export_schema_prints_the_ddl_of_the_loaded_bi_encoder() {
    let out = minirank(&["export", "--schema", "--table", "papers"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sql = String::from_utf8_lossy(&out.stdout);
    let fp = engine().embedder().fingerprint();
    for part in [
        "CREATE TABLE IF NOT EXISTS papers (".to_string(),
        "embedding vector(384)".into(),
        format!("VALUES ('papers', {fp}, 384)"),
        "FUNCTION papers_candidates(".into(),
    ] {
        assert!(sql.contains(&part), "{part}");
    }
    let out = minirank(&["export", "--schema", "--table", "Robert'); DROP TABLE x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--table"), "{}", String::from_utf8_lossy(&out.stderr));
}
