//! Hybrid BM25 + dense retrieval, cascade reranking, multi-signal scoring, long-document
//! passages with parent grouping, metadata filters, and persistence of all of it — on the real
//! models and the seed corpus.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::prelude::*;
use serde_json::json;
use std::collections::HashSet;

fn ids(c: &[Candidate]) -> Vec<&str> {
    c.iter().map(|c| c.id.as_str()).collect()
}

fn hit_ids(r: &Reranked) -> Vec<&str> {
    r.hits.iter().map(|h| h.id.as_str()).collect()
}

fn retrieve(
    e: &Minirank,
    q: &str,
    k: usize,
    retrieval: Retrieval,
    filter: Option<serde_json::Value>,
) -> Vec<Candidate> {
    e.retrieve_with(
        q,
        &RetrieveOptions {
            source: CandidateSource {
                filter: filter.map(|f| Filter::parse(&f).unwrap()),
                ..RetrieveOptions::of(k, retrieval).source
            },
            k,
        },
    )
    .unwrap()
}

/// Seed documents tagged with a year (2000 + position) and a source.
fn tagged_engine() -> Minirank {
    let mut e = engine();
    let docs: Vec<Document> = seed_docs()
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let source = if i % 2 == 0 { "docs" } else { "forum" };
            d.with_metadata(json!({"year": 2000 + i, "source": source, "updatedAt": format!("20{:02}-01-01", i)}))
        })
        .collect();
    e.add_documents(docs).unwrap();
    e
}

#[test]
fn bm25_finds_exact_terms_and_hybrid_fuses_both_lists() {
    let e = seed_engine();
    let q = "Global Interpreter Lock";
    let lexical = retrieve(e, q, 5, Retrieval::Bm25, None);
    assert_eq!(lexical[0].id, "gil", "{:?}", ids(&lexical));
    assert!(lexical.windows(2).all(|w| w[0].score >= w[1].score));
    // only documents that share a term are BM25 candidates
    assert!(retrieve(e, "zzzz qqqq", 5, Retrieval::Bm25, None).is_empty());

    let q = &seed_questions()[0];
    let dense = retrieve(e, q, 10, Retrieval::Dense, None);
    let lexical = retrieve(e, q, 10, Retrieval::Bm25, None);
    let hybrid = retrieve(e, q, 10, Retrieval::Hybrid, None);
    assert_eq!(hybrid.len(), 10);
    let both: HashSet<&str> = ids(&dense).into_iter().chain(ids(&lexical)).collect();
    assert!(ids(&hybrid).iter().all(|id| both.contains(id)), "hybrid draws only from the two lists");
    // a document at the top of both lists leads the fused one
    if dense[0].id == lexical[0].id {
        assert_eq!(hybrid[0].id, dense[0].id);
    }
    let expected =
        0.5 / 61.0 + ids(&lexical).iter().position(|id| *id == hybrid[0].id).map_or(0.0, |p| 0.5 / (61.0 + p as f32));
    let in_dense = ids(&dense).iter().position(|id| *id == hybrid[0].id);
    if in_dense == Some(0) {
        assert!((hybrid[0].score.unwrap() - expected).abs() < 1e-6, "RRF score of the leader");
    }
    // search with hybrid candidates answers the seed question as well as dense does
    let r = e.search(q, &SearchOptions::from_value(json!({"retrieval": "hybrid", "candidates": 20})).unwrap()).unwrap();
    assert!(
        ["multiprocessing", "gil", "concurrent-futures", "numba"].contains(&r.reranked.hits[0].id.as_str()),
        "{:?}",
        hit_ids(&r.reranked)
    );
}

#[test]
fn bm25_settings_change_scores_and_survive_save_and_load() {
    let mut e = engine();
    e.add_documents(seed_docs()).unwrap();
    let q = "the GIL";
    let before = retrieve(&e, q, 3, Retrieval::Bm25, None);
    e.set_bm25_params(Bm25Params { k1: 2.0, b: 0.2, stop_words: false, stemmer: None }).unwrap();
    let after = retrieve(&e, q, 3, Retrieval::Bm25, None);
    assert_ne!(before[0].score, after[0].score);
    assert!(e.set_bm25_params(Bm25Params { b: 3.0, ..Default::default() }).is_err());
    let bytes = e.save_index();
    let mut other = engine();
    other.load_index(&bytes).unwrap();
    assert_eq!(other.index().bm25_params(), Bm25Params { k1: 2.0, b: 0.2, stop_words: false, stemmer: None });
    let again = retrieve(&other, q, 3, Retrieval::Bm25, None);
    assert_eq!(ids(&again), ids(&after));
    for (a, b) in again.iter().zip(&after) {
        assert_eq!(a.score, b.score, "postings are rebuilt identically on load");
    }
}

#[test]
fn filters_apply_before_scoring() {
    let e = tagged_engine();
    let q = &seed_questions()[0];
    for mode in [Retrieval::Dense, Retrieval::Bm25, Retrieval::Hybrid] {
        let got = retrieve(&e, q, 20, mode, Some(json!({"year": {"gte": 2010}, "source": "docs"})));
        assert!(!got.is_empty(), "{mode:?}");
        for c in &got {
            let m = c.metadata.as_ref().unwrap();
            assert!(m["year"].as_u64().unwrap() >= 2010 && m["source"] == "docs", "{mode:?}: {m}");
        }
    }
    // the filter is applied before top-k: k results even when the best matches are excluded
    let unfiltered = retrieve(&e, q, 3, Retrieval::Dense, None);
    let excluded: Vec<String> = unfiltered.iter().map(|c| c.metadata.as_ref().unwrap()["year"].to_string()).collect();
    let f = json!({"year": {"nin": excluded.iter().map(|y| y.parse::<u64>().unwrap()).collect::<Vec<_>>()}});
    let filtered = retrieve(&e, q, 3, Retrieval::Dense, Some(f));
    assert_eq!(filtered.len(), 3);
    assert!(filtered.iter().all(|c| !ids(&unfiltered).contains(&c.id.as_str())));
    // nothing passes: no candidates, no error
    assert!(retrieve(&e, q, 5, Retrieval::Dense, Some(json!({"year": {"gt": 3000}}))).is_empty());
    let r = e.search(q, &SearchOptions::from_value(json!({"filter": {"source": "nowhere"}})).unwrap()).unwrap();
    assert!(r.reranked.hits.is_empty() && !r.reranked.no_confident_answer);
    // malformed filters are option errors that say what is wrong
    let err = SearchOptions::from_value(json!({"filter": {"year": {"after": 1}}})).unwrap_err();
    assert!((err.option() == Some("filter")) && err.to_string().contains("after"), "{err}");
}

#[test]
fn cascade_narrows_the_pool_before_the_cross_encoder() {
    let e = seed_engine();
    let q = &seed_questions()[0];
    let stages = vec![Stage { scorer: StageScorer::Bm25, keep: 12 }, Stage { scorer: StageScorer::Dense, keep: 6 }];
    let r = e
        .search(
            q,
            &SearchOptions {
                pool: PoolOptions { candidates: 20, cascade: stages },
                source: RetrieveOptions::of(20, Retrieval::Hybrid).source,
                ..SearchOptions::top(20, 3)
            },
        )
        .unwrap();
    assert_eq!(r.candidates.len(), 20);
    assert_eq!(r.cascade.iter().map(Vec::len).collect::<Vec<_>>(), [12, 6]);
    let stage1: HashSet<&String> = r.cascade[0].iter().collect();
    assert!(r.cascade[1].iter().all(|id| stage1.contains(id)), "each stage keeps a subset of the last");
    assert_eq!(r.reranked.scored + r.reranked.cache_hits, 6, "the cross-encoder saw 6 pairs");
    assert!(r.reranked.hits.iter().all(|h| r.cascade[1].contains(&h.id)));
    // the dense stage keeps the 6 most similar of its input, by cosine
    let qv = e.embedder().embed_one(q).unwrap();
    let cos = |id: &str| minirank::kernels::dot(&qv, e.index().vector(id).unwrap());
    let min_kept = r.cascade[1].iter().map(|id| cos(id)).fold(f32::INFINITY, f32::min);
    for id in r.cascade[0].iter().filter(|id| !r.cascade[1].contains(id)) {
        assert!(cos(id) <= min_kept + 1e-6, "{id} was dropped although closer than a kept one");
    }
    // sizes must shrink and stay >= top_k
    let mut bad = SearchOptions::top(20, 5);
    bad.pool.cascade = vec![Stage { scorer: StageScorer::Dense, keep: 2 }];
    assert!((e.search(q, &bad).err().and_then(|e| e.option().map(str::to_owned)).as_deref() == Some("cascade")));
}

#[test]
fn signals_reorder_with_explainable_components() {
    let e = tagged_engine();
    let q = &seed_questions()[0];
    let plain = e.search(q, &SearchOptions::top(20, 20)).unwrap();
    let now = minirank::signals::timestamp_ms(&json!("2020-01-01")).unwrap();
    let signals = Signals {
        relevance: 0.6,
        freshness: Some(Freshness {
            field: "updatedAt".into(),
            half_life_days: 365.0,
            weight: 0.3,
            ..Default::default()
        }),
        authority: Some(Authority {
            field: "source".into(),
            weights: [("docs".to_string(), 1.0), ("forum".to_string(), 0.0)].into(),
            default: 0.5,
            weight: 0.3,
        }),
        diversity: None,
        now: Some(now),
    };
    let r = e.search(q, &with_signals(SearchOptions::top(20, 20), signals.clone())).unwrap();
    assert_eq!(r.reranked.hits.len(), 20);
    for h in &r.reranked.hits {
        let c = h.components.expect("components on every hit");
        let m = h.metadata.as_ref().unwrap();
        let year = m["year"].as_u64().unwrap() as f64;
        let age_days = (now - minirank::signals::timestamp_ms(&m["updatedAt"]).unwrap()) / 86_400_000.0;
        // relevance is the sigmoid of the fused stage-2 score
        assert!((c.relevance - 1.0 / (1.0 + (-h.fused).exp())).abs() < 1e-6);
        assert!((c.freshness.unwrap() as f64 - 1.0 / (1.0 + age_days / 365.0)).abs() < 1e-5, "{year}");
        assert_eq!(c.authority.unwrap(), if m["source"] == "docs" { 1.0 } else { 0.0 });
        let sum = 0.6 * c.relevance + 0.3 * c.freshness.unwrap() + 0.3 * c.authority.unwrap();
        assert!((c.final_score - sum).abs() < 1e-5);
    }
    assert!(r
        .reranked
        .hits
        .windows(2)
        .all(|w| w[0].components.unwrap().final_score >= w[1].components.unwrap().final_score));
    assert_ne!(hit_ids(&r.reranked), hit_ids(&plain.reranked), "authority and freshness change the order");
    // with authority alone dominating, every "docs" document ranks above every "forum" one
    let strong = Signals {
        relevance: 0.01,
        authority: signals.authority.clone().map(|a| Authority { weight: 10.0, ..a }),
        freshness: None,
        ..signals
    };
    let r = e.search(q, &with_signals(SearchOptions::top(20, 20), strong)).unwrap();
    let sources: Vec<&str> =
        r.reranked.hits.iter().map(|h| h.metadata.as_ref().unwrap()["source"].as_str().unwrap()).collect();
    assert_eq!(sources.iter().take_while(|s| **s == "docs").count(), 10, "{sources:?}");
}

#[test]
fn diversity_demotes_near_duplicates() {
    let mut e = engine();
    let mut docs = seed_docs();
    let gil = docs.iter().find(|d| d.id == "gil").unwrap().text.clone();
    docs.push(Document::new("gil-copy", gil.clone()));
    docs.push(Document::new("gil-copy-2", format!("{gil} ")));
    e.add_documents(docs).unwrap();
    let q = "What is the Global Interpreter Lock in CPython?";
    let base = SearchOptions::top(22, 5);
    let plain = e.search(q, &base).unwrap();
    let top3: Vec<&str> = hit_ids(&plain.reranked).into_iter().take(3).collect();
    assert!(top3.contains(&"gil") && top3.contains(&"gil-copy"), "copies score alike: {top3:?}");
    let diverse = Signals {
        diversity: Some(Diversity { weight: 5.0, max_per_parent: None }),
        now: Some(0.0),
        ..Default::default()
    };
    let r = e.search(q, &with_signals(base.clone(), diverse)).unwrap();
    let got = hit_ids(&r.reranked);
    let copies = got.iter().take(3).filter(|id| id.starts_with("gil")).count();
    assert_eq!(copies, 1, "one of the three identical texts leads, the others drop: {got:?}");
    let second = r.reranked.hits[1].components.unwrap();
    assert!(second.redundancy.unwrap() < 0.99, "the runner-up is not a copy of the leader");
    let dropped = r.reranked.hits.iter().find(|h| h.id.starts_with("gil") && h.rank > 1);
    if let Some(h) = dropped {
        assert!(h.components.unwrap().redundancy.unwrap() > 0.99);
    }
}

fn long_document() -> (String, Vec<String>) {
    let sentences: Vec<String> = seed_docs().into_iter().map(|d| d.text).collect();
    (sentences.join(" "), sentences)
}

#[test]
fn long_documents_are_split_and_the_tail_is_found() {
    let (long, sentences) = long_document();
    let mut whole = engine();
    whole
        .add_documents(vec![
            Document::new("book", long.clone()),
            Document::new("short", "An unrelated note about gardening."),
        ])
        .unwrap();
    let mut split = engine();
    split.set_chunking(Some(Chunking { max_tokens: 48, overlap_sentences: 1 })).unwrap();
    let n = split
        .add_documents(vec![
            Document::new("book", long.clone()).with_metadata(json!({"k": 1})),
            Document::new("short", "An unrelated note about gardening."),
        ])
        .unwrap();
    assert!(n > 4, "the book becomes several passages: {n}");
    assert!(split.index().get("short").unwrap().parent.is_none(), "short documents stay whole");
    let passages: Vec<&Document> = split.index().documents().filter(|d| d.parent.as_deref() == Some("book")).collect();
    assert_eq!(passages.len(), n - 1);
    for p in &passages {
        assert!(split.embedder().count_tokens(&p.text).unwrap() <= 48, "{}", p.text);
        assert_eq!(p.metadata, Some(json!({"k": 1})));
    }
    // every sentence is in some passage, the last one too
    for s in &sentences {
        assert!(passages.iter().any(|p| p.text.contains(s.as_str())), "lost: {s}");
    }
    // a question about the last sentences: the passage holding them is the best hit
    let tail = sentences.last().unwrap();
    let hits = split.retrieve(tail, 1).unwrap();
    assert!(hits[0].text.contains(tail.as_str()) && hits[0].parent.as_deref() == Some("book"));
    // cosines: the passage's against the truncated whole document's
    let whole_score = whole.retrieve(tail, 2).unwrap().into_iter().find(|c| c.id == "book").unwrap().dense.unwrap();
    assert!(
        hits[0].dense.unwrap() > whole_score + 0.1,
        "the passage matches far better than the truncated whole: {} vs {whole_score}",
        hits[0].dense.unwrap()
    );

    // parent grouping: one result per document, with its passages
    let q = &seed_questions()[0];
    for mode in [ParentScore::Max, ParentScore::Sum] {
        let r = split
            .search(
                q,
                &SearchOptions {
                    rerank: RerankOptions { parents: Some(mode), ..SearchOptions::top(n, 2).rerank },
                    ..SearchOptions::top(n, 2)
                },
            )
            .unwrap();
        assert_eq!(hit_ids(&r.reranked), ["book", "short"], "{mode:?}");
        let book = &r.reranked.hits[0];
        let ps = book.passages.as_ref().unwrap();
        assert_eq!(ps.len(), n - 1, "all passages were candidates");
        assert!(ps.iter().all(|p| p.starts_with("book#")));
        assert!(r.reranked.hits[1].passages.is_none(), "a whole document stands for itself");
        if mode == ParentScore::Sum {
            let total: f32 = r.candidates.iter().filter(|c| c.parent.is_some()).count() as f32;
            assert!(book.parent_score.unwrap() <= total && book.parent_score.unwrap() > book.score - 1e-6);
        }
    }
    // a per-parent cap keeps at most 2 passages of the book
    let cap = Signals {
        diversity: Some(Diversity { weight: 0.0, max_per_parent: Some(2) }),
        now: Some(0.0),
        ..Default::default()
    };
    let r = split.search(q, &with_signals(SearchOptions::top(n, n), cap)).unwrap();
    assert_eq!(r.reranked.hits.iter().filter(|h| h.parent.as_deref() == Some("book")).count(), 2);
}

#[test]
fn re_indexing_and_removing_a_split_document_replaces_its_passages() {
    let (long, _) = long_document();
    let mut e = engine();
    e.set_chunking(Some(Chunking { max_tokens: 48, overlap_sentences: 0 })).unwrap();
    let n = e.add_documents(vec![Document::new("book", long.clone())]).unwrap();
    assert_eq!(e.len(), n);
    // the same id, now short: the old passages go
    e.add_documents(vec![Document::new("book", "Now a short text.")]).unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e.index().get("book").unwrap().text, "Now a short text.");
    // long again, then removed by its id
    e.add_documents(vec![Document::new("book", long), Document::new("other", "Other text.")]).unwrap();
    assert!(e.index().get("book").is_none() && e.len() == n + 1);
    let bytes = e.save_index();
    // a split document is indexed by its id although only its passages are stored
    assert!(e.contains("book") && e.contains("book#0") && e.contains("other") && !e.contains("boo"));
    assert!(e.remove("book"));
    assert_eq!(e.len(), 1);
    assert!(!e.contains("book") && !e.contains("book#0"));
    assert!(!e.remove("book"));
    // saved passages keep their parent
    e.load_index(&bytes).unwrap();
    assert_eq!(e.index().children("book").len(), n);
    // chunk sizes are checked against the model's budget
    assert!(e.set_chunking(Some(Chunking { max_tokens: 10_000, overlap_sentences: 0 })).is_err());
}

/// Logits computed in shards (as a pool of workers does) and passed back give the same ranking
/// as scoring inside `rerank`, with signals and grouping too; bad logits are refused.
#[test]
fn rerank_with_logits_scored_in_shards_matches_rerank() {
    let e = seed_engine();
    let q = &seed_questions()[0];
    let cands = e.retrieve(q, 12).unwrap();
    let texts: Vec<&str> = cands.iter().map(|c| c.text.as_str()).collect();
    let model = e.reranker().model().expect("cross-encoder");
    let mut logits = model.score_checked(q, &texts[..5], 256, 4).unwrap();
    logits.extend(model.score_checked(q, &texts[5..], 256, 16).unwrap());
    let opts = RerankOptions { top_k: Some(5), ..Default::default() };
    let signals = Signals {
        diversity: Some(Diversity { weight: 0.3, max_per_parent: None }),
        now: Some(0.0),
        ..Default::default()
    };
    for s in [None, Some(signals.clone())] {
        let opts = RerankOptions { signals: s, ..opts.clone() };
        let direct = e.rerank(q, &cands, &opts).unwrap();
        let given = e.rerank(q, &cands, &RerankOptions { logits: Some(logits.clone()), ..opts }).unwrap();
        assert_eq!(hit_ids(&direct), hit_ids(&given));
        for (a, b) in direct.hits.iter().zip(&given.hits) {
            assert!((a.logit - b.logit).abs() < 1e-4, "{} vs {}", a.logit, b.logit);
        }
        assert_eq!((given.scored, given.cache_hits), (cands.len(), 0));
    }
    let short = &logits[..3];
    let err = e.rerank(q, &cands, &RerankOptions { logits: Some(short.to_vec()), ..opts.clone() }).unwrap_err();
    assert!((err.option() == Some("logits")), "{err}");
    let mut nan = logits.clone();
    nan[2] = f32::NAN;
    let err = e.rerank(q, &cands, &RerankOptions { logits: Some(nan), ..opts }).unwrap_err();
    assert!(err.to_string().contains("value 2"), "{err}");
    assert!(matches!(model.score_checked(q, &["ok", " "], 256, 16), Err(Error::EmptyInput { what: "candidate text" })));
    assert!(matches!(model.score_checked(" ", &["ok"], 256, 16), Err(Error::EmptyInput { what: "query" })));
}

#[test]
fn retrieve_from_a_query_vector_equals_retrieve_from_its_text() {
    let e = tagged_engine();
    let q = &seed_questions()[1];
    let v = e.embedder().embed_one(q).unwrap();
    for filter in [None, Some(json!({"source": "docs"}))] {
        let opts = RetrieveOptions {
            k: 7,
            source: CandidateSource {
                filter: filter.as_ref().map(|f| Filter::parse(f).unwrap()),
                ..Default::default()
            },
        };
        let dense = RetrieveOptions {
            source: CandidateSource { retrieval: Some(Retrieval::Dense), ..opts.source.clone() },
            ..opts.clone()
        };
        let from_text = e.retrieve_with(q, &dense).unwrap();
        assert!(from_text.iter().all(|c| c.bm25.is_some() && c.dense == c.score), "the text path also scores BM25");
        // the same candidates and cosines; only BM25 needs the text
        let without_bm25: Vec<Candidate> = from_text.into_iter().map(|c| Candidate { bm25: None, ..c }).collect();
        assert_eq!(e.retrieve_vector(&v, &opts).unwrap(), without_bm25, "{filter:?}");
    }
    let bm25 = RetrieveOptions::of(20, Retrieval::Bm25);
    let err = e.retrieve_vector(&v, &bm25).unwrap_err();
    assert!((err.option() == Some("retrieval")) && err.to_string().contains("dense"), "{err}");
    let err = e.retrieve_vector(&v[..10], &RetrieveOptions::default()).unwrap_err();
    assert!(matches!(err, Error::DimensionMismatch { expected: 384, actual: 10 }), "{err}");
    let mut nan = v.clone();
    nan[3] = f32::NAN;
    let err = e.retrieve_vector(&nan, &RetrieveOptions::default()).unwrap_err();
    assert!((err.option() == Some("query")) && err.to_string().contains("at 3"), "{err}");
    assert!(matches!(engine().retrieve_vector(&v, &RetrieveOptions::default()), Err(Error::EmptyIndex)));
    let err = e.retrieve_vector(&v, &RetrieveOptions { k: 0, ..Default::default() }).unwrap_err();
    assert!((err.option() == Some("k")), "{err}");
}

/// Candidates from elsewhere (no cosine, no BM25) are given both signals by `rerank`, the same
/// ones retrieval gives indexed documents, so the fused order does not depend on where they came from.
#[test]
fn rerank_gives_outside_candidates_the_signals_retrieval_gives() {
    let e = tagged_engine();
    let q = &seed_questions()[0];
    let retrieved = retrieve(&e, q, 8, Retrieval::Dense, None);
    let bare: Vec<Candidate> = retrieved.iter().map(|c| Candidate::new(c.id.clone(), c.text.clone())).collect();
    let (a, b) = (
        e.rerank(q, &retrieved, &RerankOptions::default()).unwrap(),
        e.rerank(q, &bare, &RerankOptions::default()).unwrap(),
    );
    assert_eq!(hit_ids(&a), hit_ids(&b));
    for (x, y) in a.hits.iter().zip(&b.hits) {
        assert!((x.dense.unwrap() - y.dense.unwrap()).abs() < 1e-6 && (x.bm25.unwrap() - y.bm25.unwrap()).abs() < 1e-5);
        assert!((x.fused - y.fused).abs() < 1e-4);
    }
    // texts that are not in the index: cosine by embedding them, BM25 over the candidate list
    let outside = [
        Candidate::new("x", "Processes run Python code in parallel on several cores."),
        Candidate::new("y", "Bananas are yellow."),
    ];
    let r = e.rerank(q, &outside, &RerankOptions::default()).unwrap();
    assert_eq!(r.hits[0].id, "x");
    assert!(r.hits.iter().all(|h| h.dense.is_some() && h.bm25.is_some()));
    assert!(r.hits[0].bm25.unwrap() > 0.0 && r.hits[1].bm25 == Some(0.0));
}

fn with_signals(mut o: SearchOptions, signals: Signals) -> SearchOptions {
    o.rerank.signals = Some(signals);
    o
}

/// A search split in two (as a pool of workers runs it: prepare, score the texts in shards
/// elsewhere, finish) gives what `search` gives, with every option (cascade, signals, parents'
/// fusion) and the score cache; finishing with the wrong number of logits is refused.
#[test]
fn prepared_search_scored_in_shards_equals_search() {
    let e = seed_engine();
    let q = &seed_questions()[0];
    let signals = Signals {
        diversity: Some(Diversity { weight: 0.3, max_per_parent: None }),
        now: Some(0.0),
        ..Default::default()
    };
    let mut opts = SearchOptions::top(20, 5);
    opts.pool.cascade = vec![Stage { scorer: StageScorer::Bm25, keep: 12 }];
    opts.rerank.signals = Some(signals);
    let direct = e.search(q, &opts).unwrap();
    e.reranker().clear_cache();
    let pending = e.prepare_search(q, &opts).unwrap();
    let texts: Vec<String> = pending.texts().into_iter().map(str::to_owned).collect();
    assert_eq!(texts.len(), 12, "the cascade's survivors are what is left to score");
    let model = e.reranker().model().expect("cross-encoder");
    let po = pending.pair_options();
    let mut logits = model.score_pairs(q, &texts[..5], &po).unwrap();
    logits.extend(model.score_pairs(q, &texts[5..], &po).unwrap());
    let Finished::Search(split) = e.finish(pending, &logits).unwrap() else { panic!("a search gives a search result") };
    assert_eq!(hit_ids(&split.reranked), hit_ids(&direct.reranked));
    assert_eq!(split.candidates, direct.candidates);
    assert_eq!(split.cascade, direct.cascade);
    // the finished logits went into the cache: the same search has nothing left to score
    let again = e.prepare_search(q, &opts).unwrap();
    assert!(again.texts().is_empty());
    let Finished::Search(cached) = e.finish(again, &[]).unwrap() else { panic!() };
    assert_eq!((cached.reranked.scored, cached.reranked.cache_hits), (0, 12));
    // a rerank the same way
    e.reranker().clear_cache();
    let pending = e.prepare_rerank(q, &direct.candidates, &RerankOptions::default()).unwrap();
    let err = e.finish(pending.clone(), &logits[..3]).unwrap_err();
    assert_eq!(err.option(), Some("logits"), "{err}");
    let all = model.score_pairs(q, &pending.texts(), &pending.pair_options()).unwrap();
    let Finished::Rerank(r) = e.finish(pending, &all).unwrap() else { panic!("a rerank gives a rerank result") };
    assert_eq!(hit_ids(&r), hit_ids(&e.rerank(q, &direct.candidates, &RerankOptions::default()).unwrap()));
}

/// `exclude` leaves ids (and a split document's passages) out of the candidates, and `k`
/// candidates still come back: the next page of results, or "more like this" without the source.
#[test]
fn excluded_ids_leave_the_pool_and_the_rest_moves_up() {
    let e = seed_engine();
    let q = &seed_questions()[0];
    for retrieval in [Retrieval::Dense, Retrieval::Bm25, Retrieval::Hybrid] {
        let all = e.retrieve_with(q, &RetrieveOptions::of(8, retrieval)).unwrap();
        let shown: Vec<String> = all[..3].iter().map(|c| c.id.clone()).collect();
        let mut next = RetrieveOptions::of(5, retrieval);
        next.source.exclude = shown.clone();
        let page = e.retrieve_with(q, &next).unwrap();
        assert_eq!(page.len(), 5, "{retrieval:?}");
        assert!(page.iter().all(|c| !shown.contains(&c.id)), "{retrieval:?}");
        if retrieval != Retrieval::Hybrid {
            // one ranked list: the page is the rest of it, in order
            assert_eq!(
                page.iter().map(|c| &c.id).collect::<Vec<_>>(),
                all[3..].iter().map(|c| &c.id).collect::<Vec<_>>()
            );
        }
    }
    let o = SearchOptions::from_value(serde_json::json!({"exclude": ["gil"], "candidates": 20, "topK": 20})).unwrap();
    let r = e.search(q, &o).unwrap();
    assert!(r.candidates.iter().all(|c| c.id != "gil") && r.reranked.hits.iter().all(|h| h.id != "gil"));
}

#[test]
fn documents_with_vectors_from_elsewhere_index_without_the_model_and_search_alike() {
    let docs = seed_docs();
    let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
    // as a server would send them: any scale (rows are normalised on the way in)
    let flat: Vec<f32> = seed_engine().embedder().embed(&texts).unwrap().concat().iter().map(|x| x * 3.0).collect();
    let mut e = engine();
    assert_eq!(e.add_vectors(docs.clone(), &flat).unwrap(), 20);
    let q = &seed_questions()[2];
    let a = retrieve(&e, q, 10, Retrieval::Dense, None);
    let b = retrieve(seed_engine(), q, 10, Retrieval::Dense, None);
    assert_eq!(ids(&a), ids(&b));
    for (x, y) in a.iter().zip(&b) {
        assert!((x.score.unwrap() - y.score.unwrap()).abs() < 1e-5);
    }
    // all or nothing: a short vector list, a zero row, or an id indexed twice change nothing
    let before = e.save_index();
    let extra = vec![Document::new("x", "extra one"), Document::new("y", "extra two")];
    let err = e.add_vectors(extra.clone(), &flat[..384 + 5]).unwrap_err();
    assert_eq!(err.option(), Some("vectors"));
    let mut zero = flat[..2 * 384].to_vec();
    zero[384..].fill(0.0);
    let err = e.add_vectors(extra, &zero).unwrap_err();
    assert!(err.to_string().contains("row 1 (document `y`)"), "{err}");
    let twice = vec![Document::new("x", "one"), Document::new("x", "two")];
    assert!(e.add_vectors(twice, &flat[..2 * 384]).is_err());
    assert_eq!(e.save_index(), before);
}
