//! Native benchmarks (a plain bench binary; prints a table and writes benches/results/native.json).
//!
//!     cargo bench --bench native                 # all
//!     cargo bench --bench native -- retrieve     # only the sections whose name contains "retrieve"
//!
//! Sections: rerank (seed 000: 20 pairs × 3 questions, and 50 SciFact candidates), embed (1,000
//! SciFact abstracts), retrieve (k = 100 over 10k / 100k synthetic unit vectors), memory (index
//! bytes per 10k documents). Figures are medians over repetitions after a warm-up.

mod common;

use common::{read, root, scifact};
use minirank::index::{Document, VectorIndex};
use minirank::prelude::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Instant;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn time_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

/// Of the batches a rerank runs (each the token counts of its pairs; the last is the padded
/// length): their count and the share of tokens that are padding, and of attention scores (length²
/// per row) that involve padding, as a table cell and as JSON.
fn padding(batches: Vec<Vec<usize>>) -> (String, Value) {
    let (mut real, mut padded, mut real_sq, mut padded_sq) = (0f64, 0f64, 0f64, 0f64);
    for b in &batches {
        let longest = *b.last().unwrap_or(&0) as f64;
        for &l in b {
            real += l as f64;
            real_sq += (l * l) as f64;
            padded += longest;
            padded_sq += longest * longest;
        }
    }
    let (tokens, scores) = (1.0 - real / padded.max(1.0), 1.0 - real_sq / padded_sq.max(1.0));
    let cell = format!(
        "{} batches, {:.1}% of tokens, {:.1}% of attention scores",
        batches.len(),
        100.0 * tokens,
        100.0 * scores
    );
    (cell, json!({ "batches": batches, "tokens": tokens, "attention": scores }))
}

fn lcg(seed: &mut u64) -> f32 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ((*seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
}

fn synthetic_index(n: usize, dim: usize, text_bytes: usize) -> VectorIndex {
    let mut seed = 42u64;
    let mut ix = VectorIndex::new(dim, 0);
    let mut ix_limits = ix.limits();
    ix_limits.max_documents = n;
    ix.set_limits(ix_limits);
    let text = "x".repeat(text_bytes.max(1));
    let (mut docs, mut vecs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let mut v: Vec<f32> = (0..dim).map(|_| lcg(&mut seed)).collect();
        minirank::kernels::l2_normalize(&mut v);
        docs.push(Document::new(format!("doc-{i}"), text.clone()));
        vecs.push(v);
    }
    ix.add(docs, vecs).expect("synthetic documents");
    ix
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    let mut results = serde_json::Map::new();
    let mut rows: Vec<(String, String)> = Vec::new();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    if want("retrieve") || want("memory") {
        for n in [10_000usize, 100_000] {
            let mut ix = synthetic_index(n, 384, 16);
            let mut seed = 7u64;
            let mut q: Vec<f32> = (0..384).map(|_| lcg(&mut seed)).collect();
            minirank::kernels::l2_normalize(&mut q);
            let ms = time_ms(30, || {
                std::hint::black_box(ix.search(&q, 100).expect("search"));
            });
            rows.push((format!("retrieve k=100 over {n} vectors (384-d)"), format!("{:.0} µs", ms * 1e3)));
            results.insert(format!("retrieve_{n}_us"), json!(ms * 1e3));
            if n >= 20_000 {
                // the same search without the int8 coarse scan: every f32 vector is read
                let fast = ix.search(&q, 100).expect("search");
                ix.set_prefilter(false);
                let exact_ms = time_ms(30, || {
                    std::hint::black_box(ix.search(&q, 100).expect("search"));
                });
                assert_eq!(ix.search(&q, 100).expect("search"), fast, "the int8 scan must not change the results");
                rows.push((
                    format!("  same, exact f32 scan only (int8 scan is {:.1}x faster)", exact_ms / ms),
                    format!("{:.0} µs", exact_ms * 1e3),
                ));
                results.insert(format!("retrieve_{n}_f32_scan_us"), json!(exact_ms * 1e3));
            }
        }
        let ix = synthetic_index(10_000, 384, 1024);
        let mb = ix.memory_bytes() as f64 / 1e6;
        rows.push(("index memory, 10k documents of 1 KB text (384-d)".into(), format!("{mb:.1} MB")));
        results.insert("memory_10k_docs_1kb_mb".into(), json!(mb));
        let saved = ix.to_bytes().len() as f64 / 1e6;
        rows.push(("saved index, same 10k documents".into(), format!("{saved:.1} MB")));
        results.insert("saved_10k_docs_1kb_mb".into(), json!(saved));
    }

    if want("rerank") || want("embed") {
        let (bm, bt) = (read("models/bi-encoder/model.onnx"), read("models/bi-encoder/tokenizer.json"));
        let (cm, ct) = (read("models/cross-encoder/model.onnx"), read("models/cross-encoder/tokenizer.json"));
        let t = Instant::now();
        let mut engine = Minirank::from_bytes(ModelFiles::new(&bm, &bt), ModelFiles::new(&cm, &ct)).expect("models");
        let load_ms = t.elapsed().as_secs_f64() * 1e3;
        rows.push(("load + optimize both models".into(), format!("{load_ms:.0} ms")));
        results.insert("load_ms".into(), json!(load_ms));
        engine.reranker().set_cache_capacity(0); // measure the model, not the cache

        if want("rerank") {
            let seed: Vec<Document> = String::from_utf8(read("tests/fixtures/seed000.jsonl"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            let questions: Value =
                serde_json::from_slice(&read("tests/fixtures/seed000_questions.json")).unwrap_or_default();
            let cands: Vec<Candidate> = seed.iter().map(|d| Candidate::new(d.id.clone(), d.text.clone())).collect();
            // The cross-encoder alone, as in the browser benchmark (the default fused score would
            // also embed every candidate for its cosine: a bi-encoder pass per candidate).
            let ce_only = RerankOptions { fusion: Fusion::CROSS_ENCODER_ONLY, ..Default::default() };
            for t in [1, threads] {
                engine.set_threads(t).expect("threads");
                let mut per_q = Vec::new();
                for q in questions["questions"].as_array().into_iter().flatten().filter_map(|q| q.as_str()) {
                    per_q.push(time_ms(10, || {
                        std::hint::black_box(engine.rerank(q, &cands, &ce_only).expect("rerank"));
                    }));
                }
                let ms = per_q.iter().sum::<f64>() / per_q.len().max(1) as f64;
                rows.push((format!("rerank 20 seed pairs, {t} thread(s)"), format!("{ms:.1} ms")));
                results.insert(format!("rerank_seed20_ms_threads{t}"), json!(ms));
            }
            // How much of those forward passes is padding: pairs sorted by length into batches of
            // at most `batch_size` pairs and 512 tokens, each padded to its longest pair.
            let texts: Vec<&str> = seed.iter().map(|d| d.text.as_str()).collect();
            let batches: Vec<Vec<usize>> = questions["questions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|q| q.as_str())
                .flat_map(|q| {
                    engine
                        .reranker()
                        .model()
                        .expect("cross-encoder")
                        .batch_lengths(q, &texts, ce_only.max_length, ce_only.batch_size)
                        .expect("batches")
                })
                .collect();
            let (cell, value) = padding(batches);
            rows.push(("padding in those reranks".into(), cell));
            results.insert("rerank_seed20_padding".into(), value);
            if let Some(docs) = scifact(50) {
                let cands: Vec<Candidate> = docs.iter().map(|(id, t)| Candidate::new(id.clone(), t.clone())).collect();
                let q = "Vitamin D deficiency is associated with a higher risk of respiratory infection.";
                for t in [1, threads] {
                    engine.set_threads(t).expect("threads");
                    let opts = RerankOptions { max_length: 128, ..ce_only.clone() };
                    let ms = time_ms(5, || {
                        std::hint::black_box(engine.rerank(q, &cands, &opts).expect("rerank"));
                    });
                    rows.push((
                        format!("rerank 50 SciFact candidates (128 tokens), {t} thread(s)"),
                        format!("{ms:.0} ms"),
                    ));
                    results.insert(format!("rerank_scifact50_ms_threads{t}"), json!(ms));
                }
                // Where that time goes, per operator kind of the optimized graph (one thread).
                let texts: Vec<&str> = docs.iter().map(|(_, t)| t.as_str()).collect();
                let profile =
                    engine.reranker().model().expect("cross-encoder").profile(q, &texts, 128, 16).expect("profile");
                let total: f64 = profile.iter().map(|(_, ms)| ms).sum();
                let top: Vec<String> =
                    profile.iter().take(6).map(|(op, ms)| format!("{op} {:.0}%", 100.0 * ms / total)).collect();
                rows.push((
                    "profile of that rerank (1 thread), share per operator kind".into(),
                    format!("{} (of {total:.0} ms)", top.join(", ")),
                ));
                results.insert(
                    "rerank_scifact50_profile_ms".into(),
                    json!(profile.iter().map(|(op, ms)| json!([op, ms])).collect::<Vec<_>>()),
                );
                let batches = engine
                    .reranker()
                    .model()
                    .expect("cross-encoder")
                    .batch_lengths(q, &texts, 128, 16)
                    .expect("batches");
                let (cell, value) = padding(batches);
                rows.push(("padding in that rerank".into(), cell));
                results.insert("rerank_scifact50_padding".into(), value);
            }
        }
        if want("embed") {
            if let Some(docs) = scifact(1000) {
                let texts: Vec<&str> = docs.iter().map(|(_, t)| t.as_str()).collect();
                for t in [1, threads] {
                    engine.set_threads(t).expect("threads");
                    let s = Instant::now();
                    std::hint::black_box(engine.embedder().embed(&texts).expect("embed"));
                    let dps = texts.len() as f64 / s.elapsed().as_secs_f64();
                    rows.push((
                        format!("embed 1,000 SciFact abstracts (256 tokens), {t} thread(s)"),
                        format!("{dps:.1} docs/s"),
                    ));
                    results.insert(format!("embed_scifact1000_docs_per_s_threads{t}"), json!(dps));
                }
            }
        }
    }

    println!("\n| native benchmark | result |\n|---|---|");
    for (k, v) in &rows {
        println!("| {k} | {v} |");
    }
    let out = root().join("benches/results");
    let _ = std::fs::create_dir_all(&out);
    let machine = json!({ "threads": threads, "arch": std::env::consts::ARCH, "os": std::env::consts::OS });
    results.insert("machine".into(), machine);
    let path: &Path = &out.join("native.json");
    // A filtered run (`cargo bench --bench native rerank`) updates its own figures, keeps the rest.
    if !filter.is_empty() {
        if let Ok(Value::Object(mut old)) = serde_json::from_slice::<Value>(&std::fs::read(path).unwrap_or_default()) {
            old.extend(results);
            results = old;
        }
    }
    if std::fs::write(path, serde_json::to_string_pretty(&Value::Object(results)).unwrap_or_default()).is_ok() {
        println!("\nwrote {}", path.display());
    }
}
