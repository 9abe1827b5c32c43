//! The canonical example of seed 000: 20 Python-concurrency documents, retrieve 20, rerank to 5.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::prelude::*;

fn top_ids(r: &SearchResult) -> Vec<&str> {
    r.reranked.hits.iter().map(|h| h.id.as_str()).collect()
}

#[test]
fn cpu_bound_question_is_led_by_parallelism_documents() {
    let q = &seed_questions()[0];
    let r = seed_engine().search(q, &SearchOptions::top(20, 5)).unwrap();
    println!(
        "{q}\n  stage 1: {:?}\n  stage 2: {:?}",
        r.candidates.iter().map(|c| &c.id).collect::<Vec<_>>(),
        top_ids(&r)
    );
    assert_eq!(r.candidates.len(), 20);
    assert_eq!(r.reranked.hits.len(), 5);
    // The documents that answer it: a way around the GIL, or the GIL itself.
    let answers = ["multiprocessing", "gil", "concurrent-futures", "numba"];
    let top5 = top_ids(&r);
    assert!(answers.contains(&top5[0]), "the top result must be one of {answers:?}: {top5:?}");
    assert!(top5.contains(&"multiprocessing"), "multiprocessing must be in the top 5: {top5:?}");
    assert!(!top5.contains(&"asyncio-gather") && !top5.contains(&"async-await"), "{top5:?}");
    // the cross-encoder separates the leader clearly from the rest
    let h = &r.reranked.hits;
    assert!(h[0].logit - h[2].logit > 2.0, "{h:?}");
}

#[test]
fn asyncio_question_is_led_by_asyncio_documents() {
    let q = &seed_questions()[1];
    let r = seed_engine().search(q, &SearchOptions::default()).unwrap();
    println!("{q}\n  {:?}", top_ids(&r));
    let asyncio_docs = ["asyncio", "async-await", "asyncio-gather", "uvloop", "asyncio-queue", "trio", "gevent"];
    assert!(["asyncio", "async-await", "asyncio-gather"].contains(&top_ids(&r)[0]), "{:?}", top_ids(&r));
    for id in top_ids(&r).iter().take(3) {
        assert!(asyncio_docs.contains(id), "{id}: {:?}", top_ids(&r));
    }
}

#[test]
fn queue_question_finds_both_queues() {
    let q = &seed_questions()[2];
    let r = seed_engine().search(q, &SearchOptions::default()).unwrap();
    println!("{q}\n  {:?}", top_ids(&r));
    let top5 = top_ids(&r);
    assert_eq!(top5[0], "asyncio-queue", "{top5:?}");
    assert!(top5.contains(&"queue-queue"), "both queues must be in the top 5: {top5:?}");
}

#[test]
fn reranked_hits_carry_every_signal_and_original_ranks() {
    let q = &seed_questions()[0];
    let r = seed_engine().search(q, &SearchOptions::default()).unwrap();
    for (i, h) in r.reranked.hits.iter().enumerate() {
        assert_eq!(h.rank, i + 1);
        let c = &r.candidates[h.original_rank - 1];
        assert_eq!(c.id, h.id);
        assert_eq!((h.retrieval_score, h.dense, h.bm25), (c.score, c.dense, c.bm25));
        assert!((h.score - 1.0 / (1.0 + (-h.logit).exp())).abs() < 1e-6);
        assert!(h.logit.is_finite() && h.dense.is_some() && h.bm25.is_some());
        assert!((h.fused - h.contributions.total()).abs() < 1e-5);
    }
    let fused: Vec<f32> = r.reranked.hits.iter().map(|h| h.fused).collect();
    assert!(fused.windows(2).all(|w| w[0] >= w[1]), "{fused:?}");
    // the default pool is hybrid: candidates come back ordered by their RRF score
    let rrf: Vec<f32> = r.candidates.iter().map(|c| c.score.unwrap()).collect();
    assert!(rrf.windows(2).all(|w| w[0] >= w[1]));
    // reranking changed the order somewhere in the top 5
    let stage1: Vec<&str> = r.candidates.iter().take(5).map(|c| c.id.as_str()).collect();
    assert_ne!(stage1, top_ids(&r));
}

/// The quality bar of the canonical example with the default options: the documents that answer
/// the CPU-bound question (ways around the GIL, and the GIL) fill the top 5, and the queue question
/// finds both queues in its top 3. Not met by the shipped cross-encoder (v0): with it the top 5
/// is gil, threading, dask, asyncio, multiprocessing (process-pools and concurrent-futures are
/// missing), so the test is ignored until a model that meets it ships; run it with
/// `cargo test --release --test seed_search -- --ignored`.
#[test]
#[ignore = "the target of the cross-encoder quality work; v0 does not meet it (see the doc comment)"]
fn default_search_answers_the_seed_questions() {
    let e = seed_engine();
    let qs = seed_questions();
    let r = e.search(&qs[0], &SearchOptions::default()).unwrap();
    let top5 = top_ids(&r);
    println!("{}\n  {top5:?}", qs[0]);
    for want in ["multiprocessing", "process-pools", "concurrent-futures", "gil"] {
        assert!(top5.contains(&want), "{want} must be in the top 5: {top5:?}");
    }
    let r = e.search(&qs[2], &SearchOptions::default()).unwrap();
    let top3 = &top_ids(&r)[..3];
    println!("{}\n  {top3:?}", qs[2]);
    assert!(top3.contains(&"asyncio-queue") && top3.contains(&"queue-queue"), "{top3:?}");
}

/// The fused score's BM25 weight is chosen per query by its number of terms (the index's BM25
/// analyzer), unless given; search and rerank report the weights they used.
#[test]
fn the_bm25_weight_follows_the_query_length() {
    use minirank::fusion::DEFAULT_ADAPTIVE_BM25 as RULE;
    let e = seed_engine();
    let long = "Which tools and libraries let a Python program use every processor core for heavy numerical \
                computation, avoiding the global interpreter lock, with examples of process pools, shared memory \
                and compiled extensions?";
    let analyzer = e.index().bm25_params().analyzer();
    for q in ["parallel python", seed_questions()[0].as_str(), long] {
        let r = e.search(q, &SearchOptions::top(20, 20)).unwrap();
        let terms = analyzer.distinct_terms(q);
        assert_eq!(r.reranked.weights.bm25, RULE.weight(terms), "{q}: {terms} terms");
        assert_eq!(r.reranked.weights.dense, 1.0);
        // the shipped cross-encoder's config.json gives it 0 (`minirank.fusion.crossEncoder`)
        assert_eq!(r.reranked.weights.cross_encoder, 0.0);
        assert_eq!(e.reranker().model().unwrap().fusion_weight(), Some(0.0));
        if r.reranked.weights.bm25 == 0.0 {
            assert!(r.reranked.hits.iter().all(|h| h.contributions.bm25 == 0.0));
        }
        // stage 2 alone on the same candidates chooses the same weight and order
        let again = e.rerank(q, &r.candidates, &RerankOptions::default()).unwrap();
        assert_eq!(again.weights, r.reranked.weights);
        let ids = |hits: &[RerankedHit]| hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&again.hits), ids(&r.reranked.hits));
    }
    assert_eq!(analyzer.distinct_terms("parallel python"), 2);
    assert!(analyzer.distinct_terms(long) >= RULE.full_terms, "the long query reaches the full weight");
    let given = SearchOptions {
        rerank: RerankOptions {
            fusion: Fusion { bm25: Some(0.7), ..Fusion::default() },
            ..SearchOptions::top(20, 5).rerank
        },
        ..SearchOptions::top(20, 5)
    };
    assert_eq!(e.search("parallel python", &given).unwrap().reranked.weights.bm25, 0.7);
}
