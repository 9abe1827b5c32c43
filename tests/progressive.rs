//! A search's two answers: `search_fused` (before the cross-encoder) and `search`, and an engine
//! whose cross-encoder comes later.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use minirank::prelude::*;

fn ids<'a>(hits: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    hits.into_iter().map(str::to_owned).collect()
}

#[test]
fn fused_answer_is_the_search_without_its_cross_encoder_term() {
    let e = seed_engine();
    for q in seed_questions() {
        let opts = SearchOptions::top(20, 5);
        let fused = e.search_fused(&q, &opts).unwrap();
        let full = e.search(&q, &opts).unwrap();
        assert_eq!(fused.stage, ResultStage::Fused);
        assert_eq!(full.stage, ResultStage::Reranked);
        assert_eq!(fused.candidates, full.candidates, "{q}: both answers rank the same pool");
        let mut without = opts.clone();
        without.rerank.fusion = without.rerank.fusion.without_cross_encoder();
        let reference = e.search(&q, &without).unwrap();
        assert_eq!(
            ids(fused.hits.iter().map(|h| h.id.as_str())),
            ids(reference.reranked.hits.iter().map(|h| h.id.as_str())),
            "{q}: the fused answer is the order of the fused score with no cross-encoder weight"
        );
        assert_eq!(fused.hits.len(), 5);
        for (f, r) in fused.hits.iter().zip(&reference.reranked.hits) {
            assert!((f.fused - r.fused).abs() < 1e-6, "{q}: {} fused {} vs {}", f.id, f.fused, r.fused);
            assert_eq!(f.contributions.cross_encoder, 0.0);
        }
        assert_eq!(fused.weights.cross_encoder, 0.0);
    }
}

#[test]
fn fused_answer_keeps_retrieval_order_when_only_the_cross_encoder_weighs() {
    let e = seed_engine();
    let q = &seed_questions()[0];
    let mut opts = SearchOptions::top(20, 20);
    opts.rerank.fusion = Fusion::CROSS_ENCODER_ONLY;
    let fused = e.search_fused(q, &opts).unwrap();
    let order: Vec<usize> = fused.hits.iter().map(|h| h.original_rank).collect();
    assert_eq!(order, (1..=20).collect::<Vec<_>>());
}

#[test]
fn an_engine_without_its_cross_encoder_answers_stage_one_then_takes_one() {
    let bi = BiEncoder::from_bytes(bi_files().as_files()).unwrap();
    let fp = bi.fingerprint();
    let mut e = Minirank::without_cross_encoder(bi, fp);
    e.add_documents(seed_docs()).unwrap();
    let q = &seed_questions()[1];
    let opts = SearchOptions::top(20, 5);
    assert!(!e.reranker().has_model());
    let early = e.search_fused(q, &opts).unwrap();
    assert_eq!(early, seed_engine().search_fused(q, &opts).unwrap(), "the fused answer needs no cross-encoder");
    for err in [
        e.search(q, &opts).unwrap_err(),
        e.rerank(q, &[Candidate::new("a", "some text")], &RerankOptions::default()).unwrap_err(),
    ] {
        assert_eq!(err.code(), "NoCrossEncoder", "{err}");
    }
    // a job prepared here and scored by a cross-encoder elsewhere (another worker's)
    let elsewhere = CrossEncoder::from_bytes(ce_files().as_files()).unwrap();
    let job = e.prepare_search(q, &opts).unwrap();
    let logits = elsewhere.score_pairs(job.query(), &job.texts(), &job.pair_options()).unwrap();
    let Finished::Search(pooled) = e.finish(job, &logits).unwrap() else { panic!("a search job") };
    let whole = seed_engine().search(q, &opts).unwrap();
    assert_eq!(pooled.candidates, whole.candidates);
    assert_eq!(
        ids(pooled.reranked.hits.iter().map(|h| h.id.as_str())),
        ids(whole.reranked.hits.iter().map(|h| h.id.as_str()))
    );
    e.set_cross_encoder(elsewhere);
    assert!(e.reranker().has_model());
    assert_eq!(e.search(q, &opts).unwrap().reranked.hits, whole.reranked.hits);
}
