//! Every bad input gets a specific error, and a failed call leaves the index as it was.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::prelude::*;

fn tiny(name: &str) -> Vec<u8> {
    read(&format!("tests/fixtures/tiny/{name}"))
}

fn tiny_tok() -> Vec<u8> {
    tiny("tokenizer_vocab100.json")
}

#[test]
fn bytes_that_are_not_onnx_are_a_bad_model() {
    let tok = tiny_tok();
    let junk: Vec<u8> = (0..10_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("random bytes", junk),
        ("a JSON file", tok.clone()),
        ("truncated ONNX", ce_files().model[..ce_files().model.len() / 3].to_vec()),
    ];
    for (what, bytes) in cases {
        let err = CrossEncoder::from_bytes(ModelFiles::new(&bytes, &tok)).unwrap_err();
        assert!(matches!(err, Error::BadModel { role: ModelRole::CrossEncoder, .. }), "{what}: {err}");
        let err = BiEncoder::from_bytes(ModelFiles::new(&bytes, &tok)).unwrap_err();
        assert!(matches!(err, Error::BadModel { role: ModelRole::BiEncoder, .. }), "{what}: {err}");
    }
}

#[test]
fn graphs_without_the_expected_inputs_or_outputs_are_refused() {
    let tok = tiny_tok();
    for (name, needle) in [("unexpected_input.onnx", "pixel_values"), ("no_attention_mask.onnx", "attention_mask")] {
        let err = CrossEncoder::from_bytes(ModelFiles::new(&tiny(name), &tok)).unwrap_err();
        assert!(matches!(err, Error::ModelSignature { .. }), "{name}: {err}");
        assert!(err.to_string().contains(needle), "{name}: {err}");
    }
    // a token-state encoder is not a reranker, and a reranker is not an embedder
    let err = CrossEncoder::from_bytes(ModelFiles::new(&tiny("encoder_vocab100.onnx"), &tok)).unwrap_err();
    assert!(matches!(err, Error::ModelSignature { .. }), "{err}");
    let err = BiEncoder::from_bytes(ModelFiles::new(&tiny("reranker_vocab100.onnx"), &tok)).unwrap_err();
    assert!(matches!(err, Error::ModelSignature { .. }), "{err}");
    // three labels is not a relevance head
    let err = CrossEncoder::from_bytes(ModelFiles::new(&tiny("three_labels.onnx"), &tok)).unwrap_err();
    assert!(err.to_string().contains("3 labels"), "{err}");
}

#[test]
fn optional_token_type_ids_and_two_label_heads_work() {
    let tok = tiny_tok();
    // a graph without token_type_ids is fine when the tokenizer uses one segment (RoBERTa-style)...
    let one_segment = tiny("tokenizer_vocab100_one_segment.json");
    let ce = CrossEncoder::from_bytes(ModelFiles::new(&tiny("reranker_no_token_types.onnx"), &one_segment)).unwrap();
    assert!(!ce.uses_token_type_ids());
    // ...and refused when the tokenizer marks the document as segment 1 (BERT-style)
    let err = CrossEncoder::from_bytes(ModelFiles::new(&tiny("reranker_no_token_types.onnx"), &tok)).unwrap_err();
    assert!(matches!(err, Error::ModelSignature { .. }) && err.to_string().contains("token_type_ids"), "{err}");
    let logits = ce.score("python gil", &["the gil lock", "event loop"], 64, 4).unwrap();
    assert!(logits.iter().all(|l| l.is_finite()));
    let two = CrossEncoder::from_bytes(ModelFiles::new(&tiny("two_labels.onnx"), &tok)).unwrap();
    assert!(two.uses_token_type_ids());
    assert_eq!(two.score("a", &["b", "c d"], 64, 1).unwrap().len(), 2);
    let bi = BiEncoder::from_bytes(ModelFiles::new(&tiny("encoder_vocab100.onnx"), &tok)).unwrap();
    assert_eq!(bi.dim(), 8);
    let v = bi.embed(&["python code", "queue"]).unwrap();
    assert!(v.iter().all(|v| (minirank::kernels::dot(v, v) - 1.0).abs() < 1e-5));
}

#[test]
fn tokenizer_vocabulary_must_match_the_model() {
    // the real 30,522-row bi-encoder with a 100-token tokenizer
    let err = BiEncoder::from_bytes(ModelFiles::new(&bi_files().model, &tiny_tok())).unwrap_err();
    assert!(matches!(err, Error::TokenizerMismatch { tokenizer_vocab: 100, model_vocab: 30522, .. }), "{err}");
    // the tiny 100-row model with the real tokenizer
    let err =
        CrossEncoder::from_bytes(ModelFiles::new(&tiny("reranker_vocab100.onnx"), &ce_files().tokenizer)).unwrap_err();
    assert!(matches!(err, Error::TokenizerMismatch { tokenizer_vocab: 30522, model_vocab: 100, .. }), "{err}");
    // config.json that disagrees
    let cfg = br#"{"vocab_size": 28996}"#;
    let err = CrossEncoder::from_bytes(ModelFiles::new(&tiny("reranker_vocab100.onnx"), &tiny_tok()).with_config(cfg))
        .unwrap_err();
    assert!(
        matches!(err, Error::TokenizerMismatch { model_vocab: 28996, source_of_truth: "config.json", .. }),
        "{err}"
    );
    let err =
        CrossEncoder::from_bytes(ModelFiles::new(&tiny("reranker_vocab100.onnx"), &tiny_tok()).with_config(b"{oops"))
            .unwrap_err();
    assert!(matches!(err, Error::BadConfig { .. }), "{err}");
    let err =
        CrossEncoder::from_bytes(ModelFiles::new(&tiny("reranker_vocab100.onnx"), b"not a tokenizer")).unwrap_err();
    assert!(matches!(err, Error::BadTokenizer { .. }), "{err}");
}

#[test]
fn bad_queries_and_options_are_errors() {
    let e = seed_engine();
    for q in ["", "   ", "\n\t"] {
        assert!(matches!(e.retrieve(q, 5), Err(Error::EmptyInput { what: "query" })));
        assert!(matches!(e.search(q, &SearchOptions::default()), Err(Error::EmptyInput { what: "query" })));
        assert!(matches!(
            e.rerank(q, &[Candidate::new("a", "b")], &RerankOptions::default()),
            Err(Error::EmptyInput { what: "query" })
        ));
    }
    let q = "python";
    assert!((e.retrieve(q, 0).err().and_then(|e| e.option().map(str::to_owned)).as_deref() == Some("k")));
    let with = |f: fn(&mut SearchOptions)| {
        let mut o = SearchOptions::default();
        f(&mut o);
        o
    };
    let bad_search = [
        (SearchOptions::top(5, 6), "topK"),
        (SearchOptions::top(0, 0), "candidates"),
        (with(|o| o.rerank.top_k = Some(0)), "topK"),
        (with(|o| o.rerank.min_score = Some(f32::NAN)), "minScore"),
        (with(|o| o.rerank.min_score = Some(f32::NEG_INFINITY)), "minScore"),
        (with(|o| o.rerank.batch_size = 0), "batchSize"),
        (with(|o| o.rerank.max_length = 100_000), "maxLength"),
        (with(|o| o.rerank.max_length = 2), "maxLength"),
        (with(|o| o.rerank.logits = Some(vec![1.0])), "logits"),
    ];
    for (o, name) in bad_search {
        let err = e.search(q, &o).unwrap_err();
        assert_eq!(err.option(), Some(name), "{o:?}: {err}");
    }
    let c = [Candidate::new("a", "python gil"), Candidate::new("a", "other")];
    assert!(matches!(e.rerank(q, &c, &RerankOptions::default()), Err(Error::DuplicateId { .. })));
    let c = [Candidate::new("a", "  ")];
    assert!(matches!(e.rerank(q, &c, &RerankOptions::default()), Err(Error::EmptyInput { what: "candidate text" })));
    let r = e.rerank(q, &[], &RerankOptions::default()).unwrap();
    assert!(r.hits.is_empty() && !r.no_confident_answer && r.best_logit.is_none());
}

#[test]
fn empty_corpus_is_an_error() {
    let e = engine();
    assert!(matches!(e.retrieve("python", 5), Err(Error::EmptyIndex)));
    assert!(matches!(e.search("python", &SearchOptions::default()), Err(Error::EmptyIndex)));
}

#[test]
fn failing_calls_leave_the_index_unchanged() {
    let mut e = engine();
    e.add_documents(seed_docs()).unwrap();
    let before = e.save_index();
    let bad: Vec<Vec<Document>> = vec![
        vec![Document::new("new", "fine"), Document::new("", "no id")],
        vec![Document::new("new", "fine"), Document::new("gil", "")],
        vec![Document::new("x", "one"), Document::new("x", "two")],
        vec![Document::new("huge", "word ".repeat(1_000_000))],
    ];
    for docs in bad {
        assert!(e.add_documents(docs).is_err());
        assert_eq!(e.save_index(), before);
    }
    e.set_limits(IndexLimits { max_documents: 20, ..Default::default() });
    assert!(matches!(
        e.add_documents(vec![Document::new("21st", "one too many")]),
        Err(Error::CapacityExceeded { .. })
    ));
    assert_eq!(e.save_index(), before);
    assert!(e.load_index(b"MRNKIDX\0garbage").is_err());
    assert!(e.load_index(&before[..before.len() - 10]).is_err());
    assert_eq!(e.save_index(), before);
    assert!(!e.remove("no-such-id"));
    assert_eq!(e.save_index(), before);
}

#[test]
fn a_one_megabyte_document_is_indexed_truncated() {
    let mut e = engine();
    let mut big = String::from("Numba compiles Python functions to native machine code using LLVM. ");
    while big.len() < 1_000_000 {
        big.push_str("filler text about gardening tomatoes and weather. ");
    }
    e.add_documents(vec![
        Document::new("big", big.clone()),
        Document::new("other", "Celery is a distributed task queue."),
    ])
    .unwrap();
    assert_eq!(e.index().get("big").unwrap().text.len(), big.len(), "the full text is kept");
    let hits = e.retrieve("compile python to machine code with LLVM", 1).unwrap();
    assert_eq!(hits[0].id, "big");
    let r = e.rerank("numba llvm", &hits, &RerankOptions::default()).unwrap();
    assert!(r.hits[0].logit.is_finite());
}

#[test]
fn saved_index_is_refused_by_another_embedding_model() {
    let bytes = seed_engine().save_index();
    let tok = tiny_tok();
    let tiny_bi = BiEncoder::from_bytes(ModelFiles::new(&tiny("encoder_vocab100.onnx"), &tok)).unwrap();
    let tiny_ce = CrossEncoder::from_bytes(ModelFiles::new(&tiny("reranker_vocab100.onnx"), &tok)).unwrap();
    let mut other = Minirank::new(tiny_bi, tiny_ce, 1);
    assert!(matches!(other.load_index(&bytes), Err(Error::DimensionMismatch { expected: 8, actual: 384 })));
    let mut same = engine();
    assert_eq!(same.load_index(&bytes).unwrap(), 20);
    assert_eq!(same.save_index(), bytes);
}

#[test]
fn a_model_with_another_sha256_is_refused() {
    let f = ce_files();
    let right = minirank::integrity::sha256_hex(&f.model);
    assert_eq!(right, "b11ad2668ab034e41afe2f0db0a2d66d3e422280a53b62df75928ed659a3a7e8");
    CrossEncoder::from_bytes(f.as_files().with_sha256(&right.to_uppercase())).unwrap();
    let wrong = "0".repeat(64);
    let err = CrossEncoder::from_bytes(f.as_files().with_sha256(&wrong)).unwrap_err();
    assert!(matches!(err, Error::IntegrityMismatch { role: ModelRole::CrossEncoder, .. }), "{err}");
    assert_eq!(err.code(), "IntegrityMismatch");
}

/// Options read from JSON (what JavaScript passes): a field that does not fit is named by its
/// camelCase path, a key no part of `SearchOptions` takes is refused by name, and what is left out
/// keeps its default.
#[test]
fn options_from_json_name_the_path_of_a_bad_field() {
    use serde_json::json;
    let bad = [
        (json!({"topk": 3}), "topk", "unknown option `topk`"),
        (json!({"signals": {"freshness": {"halfLifeDay": 1}}}), "signals.freshness.halfLifeDay", "halfLifeDays"),
        (json!({"fusion": {"alpha": 0.5}}), "fusion.alpha", "crossEncoder"),
        (json!({"filter": {"year": {"after": 1}}}), "filter", "after"),
        (json!({"candidates": "5"}), "candidates", "string"),
        (json!({"cascade": [{"scorer": "dense", "keep": 2, "x": 1}]}), "cascade[0].x", "unknown field"),
        (json!({"retrieval": "semantic"}), "retrieval", "semantic"),
        (json!(7), "options", "object"),
    ];
    for (v, name, text) in bad {
        let err = SearchOptions::from_value(v.clone()).unwrap_err();
        assert_eq!(err.option(), Some(name), "{v}: {err}");
        assert!(err.to_string().contains(text), "{v}: {err}");
    }
    let o = SearchOptions::from_value(
        json!({"candidates": 7, "topK": 2, "fusion": {"bm25": 0.5}, "filter": {"lang": "en"}}),
    )
    .unwrap();
    assert_eq!((o.pool.candidates, o.rerank.top_k, o.rerank.fusion.bm25), (7, Some(2), Some(0.5)));
    assert_eq!(o.rerank.fusion.dense, Fusion::default().dense, "a weight left out keeps its default");
    assert_eq!(o.source.retrieval, SearchOptions::default().source.retrieval);
    assert!(o.source.filter.is_some());
    assert_eq!(SearchOptions::from_value(json!({})).unwrap(), SearchOptions::default());
    assert_eq!(SearchOptions::from_value(serde_json::Value::Null).unwrap(), SearchOptions::default());
    // the serialized form reads back the same
    assert_eq!(SearchOptions::from_value(serde_json::to_value(&o).unwrap()).unwrap(), o);
}
