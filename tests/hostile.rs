//! Hostile text: whatever users paste either works (long text is truncated) or gets a clear error,
//! and tokenization matches Python `tokenizers` (tests/fixtures/hostile_tokenization_reference.json,
//! made by scripts/make_reference.py).
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::prelude::*;
use minirank::tokenize::TextTokenizer;

fn ids(v: &serde_json::Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn hostile_text_tokenizes_like_python() {
    let fx = fixture("hostile_tokenization_reference.json");
    let max = fx["max_length"].as_u64().unwrap() as usize;
    let texts: Vec<&str> = fx["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    let bi = TextTokenizer::from_bytes(ModelRole::BiEncoder, &bi_files().tokenizer).unwrap();
    let ce = TextTokenizer::from_bytes(ModelRole::CrossEncoder, &ce_files().tokenizer).unwrap();
    let q = fx["cross_encoder"]["pair_query"].as_str().unwrap();
    for (i, text) in texts.iter().enumerate() {
        let single = bi.encode(text, max).unwrap();
        assert_eq!(single.ids, ids(&fx["bi_encoder"]["ids"][i]), "single {i}: {text:?}");
        let pair = ce.encode_pair(q, text, max).unwrap();
        assert_eq!(pair.ids, ids(&fx["cross_encoder"]["ids"][i]), "pair {i}: {text:?}");
        assert_eq!(pair.type_ids, ids(&fx["cross_encoder"]["type_ids"][i]), "pair {i}: {text:?}");
    }
}

#[test]
fn hostile_text_is_indexed_and_searched_or_refused_clearly() {
    let fx = fixture("hostile_tokenization_reference.json");
    let texts: Vec<String> = fx["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    let mut e = engine();
    let (blank, usable): (Vec<&String>, Vec<&String>) = texts.iter().partition(|t| t.trim().is_empty());
    for t in &blank {
        assert!(matches!(e.add_documents(vec![Document::new("blank", t.as_str())]), Err(Error::EmptyInput { .. })));
        assert!(matches!(e.retrieve(t, 3), Err(Error::EmptyInput { what: "query" })));
    }
    let docs: Vec<Document> =
        usable.iter().enumerate().map(|(i, t)| Document::new(format!("h{i}"), t.as_str())).collect();
    assert_eq!(e.add_documents(docs).unwrap(), usable.len());
    for t in &usable {
        let r = e.search(t, &SearchOptions::top(5, 3)).unwrap();
        assert_eq!(r.reranked.hits.len(), 3);
        assert!(r.reranked.hits.iter().all(|h| h.logit.is_finite() && (0.0..=1.0).contains(&h.score)));
        assert!(r.candidates.iter().all(|c| c.score.unwrap().is_finite()));
    }
    // a text is its own nearest neighbour, whatever its script
    let dense = |k| RetrieveOptions::of(k, Retrieval::Dense);
    for (i, t) in usable.iter().enumerate().filter(|(_, t)| t.len() > 30) {
        let top = e.retrieve_with(t, &dense(1)).unwrap();
        assert!(top[0].score.unwrap() > 0.99, "{i}: {t:?} -> {:?}", top[0]);
    }
}

fn tiny_engine() -> Minirank {
    let tok = read("tests/fixtures/tiny/tokenizer_vocab100.json");
    let bi = BiEncoder::from_bytes(ModelFiles::new(&read("tests/fixtures/tiny/encoder_vocab100.onnx"), &tok)).unwrap();
    let ce =
        CrossEncoder::from_bytes(ModelFiles::new(&read("tests/fixtures/tiny/reranker_vocab100.onnx"), &tok)).unwrap();
    Minirank::new(bi, ce, 42)
}

#[test]
fn ten_thousand_documents() {
    let mut e = tiny_engine();
    let words =
        ["python", "thread", "queue", "lock", "gil", "event", "loop", "data", "index", "vector", "rank", "score"];
    let docs: Vec<Document> = (0..10_000)
        .map(|i| {
            Document::new(
                format!("d{i}"),
                format!("{} {} {} {i}", words[i % 12], words[(i / 12) % 12], words[(i / 144) % 12]),
            )
        })
        .collect();
    assert_eq!(e.add_documents(docs).unwrap(), 10_000);
    assert_eq!(e.len(), 10_000);
    let r = e.search("python queue lock", &SearchOptions::top(100, 10)).unwrap();
    assert_eq!((r.candidates.len(), r.reranked.hits.len()), (100, 10));
    let bytes = e.save_index();
    let mut again = tiny_engine();
    assert_eq!(again.load_index(&bytes).unwrap(), 10_000);
    assert_eq!(again.save_index(), bytes);
    // a limit refuses what would not fit, with an error, and keeps what is there
    e.set_limits(IndexLimits { max_documents: 10_000, ..Default::default() });
    assert!(matches!(e.add_documents(vec![Document::new("one-more", "python")]), Err(Error::CapacityExceeded { .. })));
    assert_eq!(e.save_index(), bytes);
    // and a saved index larger than the limit is refused on load
    let mut small = tiny_engine();
    small.set_limits(IndexLimits { max_documents: 9_999, ..Default::default() });
    assert!(matches!(small.load_index(&bytes), Err(Error::CapacityExceeded { requested: 10_000, limit: 9_999 })));
    assert!(small.is_empty());
}

/// Sizes far beyond the index (`candidates: 1e12`) are bounded by what exists: every mode returns
/// at most the indexed documents, without a capacity-overflow panic or an allocation of `k` slots
/// (both happened before: a trap in wasm, an abort natively).
#[test]
fn huge_sizes_are_bounded_by_what_is_indexed() {
    let e = seed_engine();
    let huge = 1_000_000_000_000usize;
    for retrieval in [Retrieval::Dense, Retrieval::Bm25, Retrieval::Hybrid] {
        let c = e.retrieve_with("parallel Python", &RetrieveOptions::of(huge, retrieval)).unwrap();
        assert!(!c.is_empty() && c.len() <= 20, "{retrieval:?}: {}", c.len());
        let r = e
            .search(
                "parallel Python",
                &SearchOptions {
                    source: CandidateSource { retrieval: Some(retrieval), ..Default::default() },
                    ..SearchOptions::top(huge, huge)
                },
            )
            .unwrap();
        assert_eq!(r.reranked.hits.len(), r.candidates.len(), "{retrieval:?}");
    }
    let v = e.embedder().embed_one("parallel Python").unwrap();
    assert_eq!(e.retrieve_vector(&v, &RetrieveOptions { k: usize::MAX, ..Default::default() }).unwrap().len(), 20);
}
