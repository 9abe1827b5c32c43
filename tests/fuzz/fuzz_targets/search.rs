//! Index arbitrary documents (optionally split into passages), then retrieve / rerank / search
//! with arbitrary queries and options — retrieval mode, cascade, filter, signals, parents — (the
//! tiny test models, so each run is fast): errors are fine, panics are not, and results always
//! satisfy the basic invariants.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use minirank::prelude::*;
use std::cell::RefCell;

const TOK: &[u8] = include_bytes!("../../fixtures/tiny/tokenizer_vocab100.json");
const BI: &[u8] = include_bytes!("../../fixtures/tiny/encoder_vocab100.onnx");
const CE: &[u8] = include_bytes!("../../fixtures/tiny/reranker_vocab100.onnx");

#[derive(Arbitrary, Debug)]
struct Input {
    docs: Vec<(String, String)>,
    query: String,
    candidates: usize,
    top_k: usize,
    rerank_top_k: Option<usize>,
    batch_size: usize,
    max_length: usize,
    min_score: Option<f32>,
    alpha: Option<f32>,
    remove: Vec<String>,
    mode: u8,
    cascade: Vec<(bool, usize)>,
    min_year: Option<i16>,
    chunk_tokens: Option<u8>,
    parents: Option<bool>,
    diversity: Option<(f32, Option<usize>)>,
    freshness: Option<(f64, f32)>,
}

thread_local! {
    static ENGINE: RefCell<Minirank> = RefCell::new(Minirank::new(
        BiEncoder::from_bytes(ModelFiles::new(BI, TOK)).expect("tiny bi-encoder"),
        CrossEncoder::from_bytes(ModelFiles::new(CE, TOK)).expect("tiny cross-encoder"),
        1,
    ));
}

fuzz_target!(|input: Input| {
    ENGINE.with(|cell| {
        let mut e = cell.borrow_mut();
        e.clear();
        let docs: Vec<Document> = input
            .docs
            .iter()
            .take(64)
            .enumerate()
            .map(|(i, (id, t))| Document::new(id.clone(), t.clone()).with_metadata(serde_json::json!({"year": 2000 + i, "t": i * 86_400_000})))
            .collect();
        let _ = e.set_chunking(input.chunk_tokens.map(|n| Chunking { max_tokens: n as usize, overlap_sentences: 1 }));
        let before = e.save_index();
        if e.add_documents(docs).is_err() {
            assert_eq!(e.save_index(), before, "a failed add changed the index");
        }
        for id in &input.remove {
            e.remove(id);
        }
        let signals = (input.diversity.is_some() || input.freshness.is_some()).then(|| Signals {
            diversity: input.diversity.map(|(weight, max_per_parent)| Diversity { weight, max_per_parent }),
            freshness: input.freshness.map(|(half_life_days, weight)| Freshness { field: "t".into(), half_life_days, weight, ..Default::default() }),
            now: Some(1e12),
            ..Default::default()
        });
        let rerank = RerankOptions {
            top_k: Some(input.top_k % 200),
            min_score: input.min_score,
            batch_size: input.batch_size % 300,
            max_length: input.max_length % 1000,
            fusion: input.alpha.map(|w| Fusion { cross_encoder: Some(w), ..Fusion::default() }).unwrap_or_default(),
            signals,
            parents: input.parents.map(|max| if max { ParentScore::Max } else { ParentScore::Sum }),
            logits: None,
        };
        let pool = PoolOptions {
            candidates: input.candidates % 200,
            cascade: input
                .cascade
                .iter()
                .take(3)
                .map(|&(dense, keep)| Stage { scorer: if dense { StageScorer::Dense } else { StageScorer::Bm25 }, keep: keep % 200 })
                .collect(),
        };
        let source = CandidateSource {
            retrieval: Some([Retrieval::Dense, Retrieval::Bm25, Retrieval::Hybrid][input.mode as usize % 3]),
            filter: input.min_year.map(|y| Filter::parse(&serde_json::json!({"year": {"gte": y}})).unwrap()),
            ..Default::default()
        };
        let opts = SearchOptions { pool, source, rerank };
        if let Ok(r) = e.search(&input.query, &opts) {
            assert!(r.reranked.hits.len() <= input.top_k % 200);
            assert!(r.reranked.hits.iter().all(|h| h.logit.is_finite() && (0.0..=1.0).contains(&h.score)));
            assert!(r.reranked.hits.windows(2).all(|w| w[0].ranking_score() >= w[1].ranking_score() || opts.rerank.signals.is_some()));
            if let Some(y) = input.min_year {
                assert!(r.candidates.iter().all(|c| c.metadata.as_ref().unwrap()["year"].as_i64().unwrap() >= y as i64));
            }
        }
        if let Ok(cands) = e.retrieve(&input.query, input.candidates % 200) {
            let ro = RerankOptions { top_k: input.rerank_top_k, signals: None, parents: None, ..opts.rerank.clone() };
            if let Ok(r) = e.rerank(&input.query, &cands, &ro) {
                assert!(r.hits.iter().all(|h| h.original_rank >= 1 && h.original_rank <= cands.len()));
            }
        }
    });
});
