//! Property tests (proptest): reranking is a permutation of its input with finite scores, the
//! index behaves like a map and survives its own bytes, nothing panics on arbitrary input.
//! The tiny models of tests/fixtures/tiny keep each case to microseconds.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::prelude::*;
use minirank::tokenize::TextTokenizer;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

fn tiny_engine() -> Minirank {
    let tok = read("tests/fixtures/tiny/tokenizer_vocab100.json");
    let bi = BiEncoder::from_bytes(ModelFiles::new(&read("tests/fixtures/tiny/encoder_vocab100.onnx"), &tok)).unwrap();
    let ce =
        CrossEncoder::from_bytes(ModelFiles::new(&read("tests/fixtures/tiny/reranker_vocab100.onnx"), &tok)).unwrap();
    Minirank::new(bi, ce, 7)
}

fn shared_tiny() -> &'static Minirank {
    static E: OnceLock<Minirank> = OnceLock::new();
    E.get_or_init(tiny_engine)
}

fn real_tokenizer() -> &'static TextTokenizer {
    static T: OnceLock<TextTokenizer> = OnceLock::new();
    T.get_or_init(|| {
        TextTokenizer::from_bytes(ModelRole::CrossEncoder, &read("models/cross-encoder/tokenizer.json")).unwrap()
    })
}

/// Any text: words of the tiny vocabulary mixed with arbitrary Unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(
            prop::sample::select(vec!["python", "queue", "lock", "gil", "the", "a", "?", "thread", "xyz"]),
            1..12
        )
        .prop_map(|w| w.join(" ")),
        "\\PC{1,40}",
        any::<String>(),
    ]
}

fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
    proptest::collection::vec((text(), proptest::option::of(-1.0f32..1.0)), 0..24).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (t, s))| Candidate { score: s, ..Candidate::new(format!("c{i}"), format!("{t} x")) })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn rerank_is_a_permutation_with_finite_scores(
        query in text(),
        cands in candidates(),
        top_k in proptest::option::of(1usize..30),
        batch_size in 1usize..9,
        max_length in 5usize..80,
    ) {
        prop_assume!(!query.trim().is_empty());
        let opts = RerankOptions { top_k, batch_size, max_length, fusion: Fusion::CROSS_ENCODER_ONLY, ..Default::default() };
        let r = shared_tiny().rerank(&query, &cands, &opts).unwrap();
        let want = top_k.unwrap_or(usize::MAX).min(cands.len());
        prop_assert_eq!(r.hits.len(), want);
        let ids: HashSet<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
        prop_assert_eq!(ids.len(), r.hits.len(), "no duplicates");
        for (i, h) in r.hits.iter().enumerate() {
            prop_assert_eq!(h.rank, i + 1);
            prop_assert!(h.logit.is_finite());
            prop_assert!((0.0..=1.0).contains(&h.score));
            let c = &cands[h.original_rank - 1];
            prop_assert_eq!(&c.id, &h.id);
            prop_assert_eq!(&c.text, &h.text);
        }
        prop_assert!(r.hits.windows(2).all(|w| w[0].logit >= w[1].logit));
        if top_k.is_none() {
            let all: HashSet<&str> = cands.iter().map(|c| c.id.as_str()).collect();
            prop_assert_eq!(ids, all, "all candidates come back");
        }
    }

    #[test]
    fn fused_rerank_is_a_permutation_too(
        query in "[a-z ]{1,20}",
        cands in candidates(),
        dense in 0.0f32..=2.0,
        // None: the weight chosen by the query's length
        bm25 in proptest::option::of(0.0f32..=2.0),
        cross_encoder in 0.01f32..=2.0,
    ) {
        prop_assume!(!query.trim().is_empty());
        let opts = RerankOptions { fusion: Fusion { dense, bm25, cross_encoder: Some(cross_encoder) }, ..Default::default() };
        // through the engine: the candidates get their cosine and (pool) BM25 scores first
        let r = shared_tiny().rerank(&query, &cands, &opts).unwrap();
        prop_assert_eq!(r.hits.len(), cands.len());
        for h in &r.hits {
            prop_assert!(h.fused.is_finite() && h.dense.is_some_and(f32::is_finite) && h.bm25.is_some_and(f32::is_finite));
            prop_assert!((h.fused - h.contributions.total()).abs() < 1e-4);
        }
        prop_assert!(r.hits.windows(2).all(|w| w[0].fused >= w[1].fused));
    }

    #[test]
    fn pairs_fit_the_budget_and_keep_segments_in_order(q in any::<String>(), d in any::<String>(), max_length in 5usize..300) {
        let e = real_tokenizer().encode_pair(&q, &d, max_length).unwrap();
        prop_assert!(e.len() <= max_length);
        prop_assert_eq!(e.ids.len(), e.type_ids.len());
        prop_assert!(e.type_ids.windows(2).all(|w| w[0] <= w[1]), "segment 0 then segment 1");
        prop_assert_eq!(e.ids.iter().filter(|&&id| id == 102).count() >= 2, true);
    }

    #[test]
    fn index_behaves_like_a_map(ops in proptest::collection::vec((0u8..3, 0usize..12, text()), 1..60)) {
        let mut e = tiny_engine();
        let mut model: HashMap<String, String> = HashMap::new();
        for (op, key, t) in ops {
            let id = format!("k{key}");
            match op {
                0 | 1 => {
                    let t = format!("{t} python");
                    e.add_documents(vec![Document::new(id.clone(), t.clone())]).unwrap();
                    model.insert(id, t);
                }
                _ => {
                    prop_assert_eq!(e.remove(&id), model.remove(&id).is_some());
                }
            }
            prop_assert_eq!(e.len(), model.len());
            let id = format!("k{key}");
            prop_assert_eq!(e.contains(&id), model.contains_key(&id));
        }
        for (id, t) in &model {
            prop_assert_eq!(&e.index().get(id).unwrap().text, t);
        }
        let bytes = e.save_index();
        let mut again = tiny_engine();
        prop_assert_eq!(again.load_index(&bytes).unwrap(), model.len());
        prop_assert_eq!(again.save_index(), bytes);
        if !model.is_empty() {
            let hits = e.index().search(&e.embedder().embed_one("python").unwrap(), 100).unwrap();
            prop_assert_eq!(hits.len(), model.len());
            prop_assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        }
    }

    #[test]
    fn load_index_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut e = tiny_engine();
        let before = e.save_index();
        let _ = e.load_index(&bytes);
        prop_assert_eq!(e.save_index(), before);
    }

    #[test]
    fn load_index_refuses_any_single_byte_change(pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        static SAVED: OnceLock<Vec<u8>> = OnceLock::new();
        let saved = SAVED.get_or_init(|| {
            let mut e = tiny_engine();
            e.add_documents(vec![Document::new("a", "python queue"), Document::new("b", "the gil lock").with_metadata(serde_json::json!({"x": 1}))]).unwrap();
            e.save_index()
        });
        let mut b = saved.clone();
        let i = pos.index(b.len());
        b[i] ^= flip;
        prop_assert!(tiny_engine().load_index(&b).is_err(), "a change at byte {} was accepted", i);
    }
}
