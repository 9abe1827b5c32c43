//! Heap high-water marks of loading and running the default models, natively (a counting global
//! allocator). The wasm build's memory is this heap plus the allocator's slack and a 1 MB stack,
//! and it never shrinks, so these peaks are what a page's wasm memory grows to; the browser figure
//! itself comes from `npm run bench` (benches/browser). Prints a table and writes
//! benches/results/memory.json.
//!
//!     cargo bench --bench memory

mod common;

use common::{read, root, scifact};
use minirank::prelude::*;
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        LIVE.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = System.realloc(p, l, new);
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Relaxed) + new - l.size();
                PEAK.fetch_max(now, Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mb(b: usize) -> f64 {
    b as f64 / 1e6
}

/// Run `f`, returning its value, the live heap after it and the peak during it (MB).
fn measured<R>(f: impl FnOnce() -> R) -> (R, f64, f64) {
    PEAK.store(LIVE.load(Relaxed), Relaxed);
    let r = f();
    (r, mb(LIVE.load(Relaxed)), mb(PEAK.load(Relaxed)))
}

fn main() {
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    // The model files as the page hands them over (the wasm module copies them in).
    let (bm, bt) = (read("models/bi-encoder/model.onnx"), read("models/bi-encoder/tokenizer.json"));
    let (cm, ct) = (read("models/cross-encoder/model.onnx"), read("models/cross-encoder/tokenizer.json"));
    let files = mb(bm.len() + bt.len() + cm.len() + ct.len());
    let base = LIVE.load(Relaxed);
    let rel = |x: f64| x - mb(base);

    let (ce, live, peak) = measured(|| CrossEncoder::from_bytes(ModelFiles::new(&cm, &ct)).expect("cross-encoder"));
    rows.push(("load the cross-encoder".into(), rel(live), rel(peak)));
    let (bi, live, peak) = measured(|| BiEncoder::from_bytes(ModelFiles::new(&bm, &bt)).expect("bi-encoder"));
    rows.push(("then load the bi-encoder".into(), rel(live), rel(peak)));

    // SciFact abstracts: long enough that every pair fills its token budget
    let docs: Vec<String> = scifact(100).expect("../shared/data/scifact").into_iter().map(|(_, text)| text).collect();
    let q = "Vitamin D deficiency is associated with a higher risk of respiratory infection.";
    let t = std::time::Instant::now();
    let (_, live, peak) = measured(|| bi.embed(&docs).expect("embed"));
    rows.push((
        format!("embed 100 SciFact abstracts (256 tokens, batch 32): {:.1} s", t.elapsed().as_secs_f64()),
        rel(live),
        rel(peak),
    ));
    let t = std::time::Instant::now();
    let (_, live, peak) = measured(|| ce.score(q, &docs, 256, 16).expect("rerank"));
    rows.push((
        format!("rerank 100 SciFact abstracts (256 tokens, batch 16): {:.1} s", t.elapsed().as_secs_f64()),
        rel(live),
        rel(peak),
    ));
    let high = rows.iter().map(|r| r.2).fold(0.0, f64::max);

    println!("\n| native heap (model files held by the caller: {files:.1} MB, not counted) | live after, MB | peak during, MB |\n|---|---|---|");
    for (k, live, peak) in &rows {
        println!("| {k} | {live:.1} | {peak:.1} |");
    }
    println!("high-water mark: {high:.1} MB (+ the {files:.1} MB of model files a page copies into wasm memory)");
    let out = root().join("benches/results");
    let _ = std::fs::create_dir_all(&out);
    let json = json!({
        "steps": rows.iter().map(|(k, l, p)| json!({ "step": k, "live_mb": l, "peak_mb": p })).collect::<Vec<_>>(),
        "high_water_mb": high,
        "model_files_mb": files,
    });
    let _ = std::fs::write(out.join("memory.json"), serde_json::to_string_pretty(&json).unwrap_or_default());
}
