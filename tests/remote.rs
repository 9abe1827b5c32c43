//! Stage one on PostgreSQL + pgvector against a live server: `MINIRANK_TEST_ONLY=remote
//! scripts/test.sh` starts one (scripts/pg.sh), loads SciFact exported by `minirank export`, and
//! runs these tests with `--ignored`, MINIRANK_PG_URL set to the server and MINIRANK_PG_EXPORT to
//! the exported file. Without a server they fail rather than pass unseen.
#![cfg(not(target_arch = "wasm32"))]
mod common;
use common::*;
use minirank::eval::{load_beir, Metrics};
use minirank::pgvector::{pool, schema, PgSource, PoolOrder, DEFAULT_TABLE};
use minirank::prelude::*;
use std::path::PathBuf;

fn url() -> String {
    std::env::var("MINIRANK_PG_URL").expect("MINIRANK_PG_URL: run MINIRANK_TEST_ONLY=remote scripts/test.sh")
}

fn scifact() -> PathBuf {
    root().join("../shared/data/scifact")
}

fn source(engine: &Minirank) -> PgSource {
    PgSource::connect(&url(), DEFAULT_TABLE, engine.embedder().dim(), engine.embedder().fingerprint())
        .expect("the loaded SciFact table")
}

/// The exported collection as an in-process index, from the same rows PostgreSQL loaded.
fn in_tab() -> Minirank {
    let path = std::env::var("MINIRANK_PG_EXPORT").expect("MINIRANK_PG_EXPORT: the file loaded into the server");
    let text = std::fs::read_to_string(path).unwrap();
    let mut docs = Vec::new();
    let mut vectors: Vec<f32> = Vec::new();
    for line in text.lines() {
        let cols = minirank::pgvector::copy_fields(line);
        assert_eq!(cols.len(), 5, "{line}");
        let field = |i: usize| cols[i].clone().unwrap_or_default();
        docs.push(Document::new(field(0), field(1)));
        vectors.extend(field(4).trim_matches(['[', ']']).split(',').map(|x| x.parse::<f32>().unwrap()));
    }
    let mut engine = engine();
    engine.add_vectors(docs, &vectors).unwrap();
    engine
}

fn queries(n: usize) -> Vec<String> {
    let c = load_beir(&scifact()).unwrap();
    c.queries.into_iter().take(n).map(|(_, t)| t).collect()
}

#[test]
#[ignore = "needs a server: MINIRANK_TEST_ONLY=remote scripts/test.sh"]
fn postgres_cosines_equal_minirank_dense() {
    let tab = in_tab();
    let mut src = source(&tab);
    let mut compared = 0;
    for q in queries(5) {
        let qv = tab.embedder().embed_one(&q).unwrap();
        let rows = src.candidates(&q, &qv, 10, None).unwrap();
        assert!(rows.len() >= 10, "the union holds the dense top 10: {}", rows.len());
        // minirank's dense signal of the same documents: the dot product with their vectors here
        let texts: Vec<&str> = rows.iter().map(|r| r.candidate.text.as_str()).collect();
        let again = tab.embedder().embed(&texts).unwrap();
        for (row, v) in rows.iter().zip(again) {
            let ours = minirank::kernels::dot(&qv, tab.index().vector(&row.candidate.id).unwrap()) as f64;
            assert!(
                (row.similarity - ours).abs() < 1e-6,
                "{}: postgres {} minirank {ours}",
                row.candidate.id,
                row.similarity
            );
            assert_eq!(row.candidate.dense, Some(row.similarity as f32));
            // and the exported vectors are the bi-encoder's: the document embedded again here
            // (alone, not in the export's batch) gives the same cosine but for rounding
            let fresh = minirank::kernels::dot(&qv, &v) as f64;
            assert!(
                (row.similarity - fresh).abs() < 1e-4,
                "{}: exported {} embedded again {fresh}",
                row.candidate.id,
                row.similarity
            );
            compared += 1;
        }
    }
    assert!(compared >= 50);
}

#[test]
#[ignore = "needs a server: MINIRANK_TEST_ONLY=remote scripts/test.sh"]
fn exact_scan_gives_the_in_tab_dense_top_k_and_hnsw_nearly() {
    let tab = in_tab();
    let mut src = source(&tab);
    let k = 10;
    let (mut hnsw_found, mut total) = (0, 0);
    for q in queries(20) {
        let qv = tab.embedder().embed_one(&q).unwrap();
        let ours: Vec<String> = tab
            .retrieve_vector(&qv, &RetrieveOptions::of(k, Retrieval::Dense))
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        let ids = |rows| pool(rows, k, PoolOrder::Dense).into_iter().map(|c| c.id).collect::<Vec<_>>();
        let hnsw = ids(src.candidates(&q, &qv, k, None).unwrap());
        src.execute("SET enable_indexscan = off").unwrap();
        let exact = ids(src.candidates(&q, &qv, k, None).unwrap());
        src.execute("RESET enable_indexscan").unwrap();
        assert_eq!(exact, ours, "{q}");
        hnsw_found += hnsw.iter().filter(|id| ours.contains(id)).count();
        total += k;
    }
    let recall = hnsw_found as f64 / total as f64;
    eprintln!("HNSW recall@{k} against the exact scan: {recall:.3}");
    assert!(recall >= 0.95, "HNSW recall@{k} {recall}");
}

#[test]
#[ignore = "needs a server: MINIRANK_TEST_ONLY=remote scripts/test.sh"]
fn eval_through_postgres_matches_the_in_tab_eval() {
    let t = std::time::Instant::now();
    let (url, collection) = (url(), scifact());
    let v = json_of(&minirank(&[
        "eval",
        "--source",
        &url,
        "--collection",
        collection.to_str().unwrap(),
        "--methods",
        "dense,default-without-cross-encoder",
        "--bootstrap",
        "0",
        "--json",
    ]));
    let remote = |m: &str| v["methods"][m]["ndcg@10"].as_f64().unwrap();
    let seconds = t.elapsed().as_secs_f64();

    // the same method here: each judged query's dense top `candidates` from the in-process index
    let tab = in_tab();
    let c = load_beir(&scifact()).unwrap();
    assert_eq!(v["queries"].as_u64().unwrap() as usize, c.queries.len());
    let k = v["candidates"].as_u64().unwrap() as usize;
    let per_query: Vec<Metrics> = c
        .queries
        .iter()
        .map(|(qid, text)| {
            let ids: Vec<String> = tab
                .retrieve_with(text, &RetrieveOptions::of(k, Retrieval::Dense))
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect();
            Metrics::of(&ids, &c.qrels[qid])
        })
        .collect();
    let ours = Metrics::mean(&per_query).ndcg_10;
    eprintln!(
        "SciFact nDCG@10, {} queries: dense in-tab {ours:.4}, through PostgreSQL {:.4}; fused without the \
         cross-encoder through PostgreSQL {:.4} (minirank eval --source: {seconds:.1} s)",
        c.queries.len(),
        remote("dense"),
        remote("default-without-cross-encoder")
    );
    assert!((remote("dense") - ours).abs() <= 0.005, "dense: postgres {} in-tab {ours}", remote("dense"));
    assert!(remote("default-without-cross-encoder") > 0.5);
}

#[test]
#[ignore = "needs a server: MINIRANK_TEST_ONLY=remote scripts/test.sh"]
fn a_search_through_postgres_reranks_its_candidates() {
    let query = "Vitamin D deficiency is linked to depression";
    let url = url();
    let v = json_of(&minirank(&[
        "search",
        "--source",
        &url,
        "--query",
        query,
        "--candidates",
        "10",
        "--top-k",
        "3",
        "--json",
    ]));
    assert_eq!(v["candidates"].as_array().unwrap().len(), 10);
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        assert!(r["dense"].as_f64().is_some() && r["bm25"].as_f64().is_some() && r["logit"].as_f64().is_some(), "{r}");
    }
}

#[test]
#[ignore = "needs a server: MINIRANK_TEST_ONLY=remote scripts/test.sh"]
fn filters_keep_the_rows_whose_metadata_contains_them() {
    let engine = engine();
    let (dim, fp) = (engine.embedder().dim(), engine.embedder().fingerprint());
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    client.batch_execute(&schema("filtered", dim, fp).unwrap()).unwrap();
    client.batch_execute("TRUNCATE filtered").unwrap();
    let docs = [
        Document::new("en1", "The GIL limits CPU-bound threads in Python.")
            .with_metadata(serde_json::json!({"lang": "en"})),
        Document::new("de1", "Der GIL begrenzt Threads in Python.").with_metadata(serde_json::json!({"lang": "de"})),
        Document::new("en2", "Bananas are yellow.").with_metadata(serde_json::json!({"lang": "en", "fruit": true})),
    ];
    let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
    let rows: String = docs
        .iter()
        .zip(engine.embedder().embed(&texts).unwrap())
        .map(|(d, v)| minirank::pgvector::copy_row(d, &v))
        .collect();
    let mut w = client.copy_in("COPY filtered (id, text, metadata, parent, embedding) FROM STDIN").unwrap();
    std::io::Write::write_all(&mut w, rows.as_bytes()).unwrap();
    w.finish().unwrap();
    let mut src = PgSource::connect(&url(), "filtered", dim, fp).unwrap();
    let q = "python threads";
    let qv = engine.embedder().embed_one(q).unwrap();
    let ids = |rows: Vec<minirank::pgvector::SourceRow>| {
        let mut ids: Vec<String> = rows.into_iter().map(|r| r.candidate.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(src.candidates(q, &qv, 10, None).unwrap()), ["de1", "en1", "en2"]);
    assert_eq!(ids(src.candidates(q, &qv, 10, Some(&serde_json::json!({"lang": "en"}))).unwrap()), ["en1", "en2"]);
    let rows = src.candidates(q, &qv, 1, Some(&serde_json::json!({"fruit": true}))).unwrap();
    assert_eq!(ids(rows.clone()), ["en2"]);
    assert_eq!(rows[0].candidate.metadata, Some(serde_json::json!({"lang": "en", "fruit": true})));
    // k 1: the nearest and the best full-text match, here the same document
    let rows = src.candidates(q, &qv, 1, Some(&serde_json::json!({"lang": "en"}))).unwrap();
    assert_eq!(ids(rows.clone()), ["en1"]);
    assert!(rows[0].lexical > 0.0);
}

#[test]
#[ignore = "needs a server: MINIRANK_TEST_ONLY=remote scripts/test.sh"]
fn the_full_text_list_ranks_the_rows_of_the_rarest_words() {
    let mut client = postgres::Client::connect(&url(), postgres::NoTls).unwrap();
    let words: i64 = client.query_one("SELECT count(*) FROM minirank_words", &[]).unwrap().get(0);
    assert!(words > 10_000, "minirank_words refreshed after the load: {words} words");
    let ndoc = |client: &mut postgres::Client, w: &str| -> i32 {
        client.query_one("SELECT ndoc FROM minirank_words WHERE word = $1", &[&w]).unwrap().get(0)
    };
    // 'homocystein' is in a few abstracts, 'increas' in a third of them
    let (rare, common) = (ndoc(&mut client, "homocystein"), ndoc(&mut client, "increas"));
    assert!(rare < 100 && common > 1_000, "{rare} {common}");
    let text = "homocysteine increases";
    let sorted = |rows: Vec<postgres::Row>| {
        let mut ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        ids.sort();
        ids
    };
    // the definition, spelled out: the dense top 20 (HNSW with the function's settings) and the
    // full-text top 20 among the rows that hold `scan`
    let expected = |client: &mut postgres::Client, scan: &str| {
        let mut tx = client.transaction().unwrap();
        tx.batch_execute("SET LOCAL hnsw.ef_search = 100; SET LOCAL hnsw.iterative_scan = relaxed_order").unwrap();
        let rows = tx
            .query(
                "WITH v AS (SELECT embedding FROM minirank ORDER BY id LIMIT 1),
                      q AS (SELECT replace(plainto_tsquery('english', $1)::text, '&', '|')::tsquery AS q)
                 (SELECT id FROM minirank ORDER BY embedding <=> (SELECT embedding FROM v) LIMIT 20)
                 UNION
                 (SELECT id FROM minirank, q WHERE tsv @@ $2::text::tsquery ORDER BY ts_rank_cd(tsv, q.q) DESC, id LIMIT 20)",
                &[&text, &scan],
            )
            .unwrap();
        tx.commit().unwrap();
        sorted(rows)
    };
    let call = |client: &mut postgres::Client, max_matches: i32| {
        let rows = client
            .query(
                "SELECT id FROM minirank_candidates($1, (SELECT embedding FROM minirank ORDER BY id LIMIT 1), 20, NULL, $2)",
                &[&text, &max_matches],
            )
            .unwrap();
        sorted(rows)
    };
    // within the bound both words' rows are ranked; past it, the rarest word's alone
    let both = expected(&mut client, "homocystein | increas");
    let rarest = expected(&mut client, "homocystein");
    assert_ne!(both, rarest);
    assert_eq!(call(&mut client, rare + common), both);
    assert_eq!(call(&mut client, rare + common - 1), rarest);
    assert_eq!(call(&mut client, 1), rarest, "the rarest word always");
}

#[test]
#[ignore = "needs a server: MINIRANK_TEST_ONLY=remote scripts/test.sh"]
fn unusable_sources_are_refused_with_their_codes() {
    let engine = engine();
    let (dim, fp) = (engine.embedder().dim(), engine.embedder().fingerprint());
    let url = url();
    let code = |url: &str, table: &str, dim: usize, fp: u32| PgSource::connect(url, table, dim, fp).unwrap_err();

    // a stopped server: nothing listens on a port just freed
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (head, tail) = url.rsplit_once('@').unwrap();
    let db = tail.split_once('/').unwrap().1;
    let e = code(&format!("{head}@127.0.0.1:{port}/{db}"), DEFAULT_TABLE, dim, fp);
    assert_eq!(e.code(), "SourceConnection", "{e}");
    assert!(!e.to_string().contains(head.rsplit(':').next().unwrap()), "the password is not shown: {e}");

    let (user, password) = head.rsplit_once(':').unwrap();
    let e = code(&format!("{user}:wrong{password}@{tail}"), DEFAULT_TABLE, dim, fp);
    assert_eq!(e.code(), "SourceAuth", "{e}");
    assert!(e.to_string().contains("password"), "{e}");

    // the table registered by another bi-encoder, or one of another dimension
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .execute(
            "INSERT INTO minirank_tables VALUES ('other_model', $1, $2), ('other_dim', $3, 256) ON CONFLICT DO NOTHING",
            &[&(i64::from(fp) + 1), &(dim as i32), &i64::from(fp)],
        )
        .unwrap();
    let e = code(&url, "other_model", dim, fp);
    assert_eq!(e.code(), "SourceModel", "{e}");
    assert!(e.to_string().contains(&format!("fingerprint {}", i64::from(fp) + 1)), "{e}");
    let e = code(&url, "other_dim", dim, fp);
    assert_eq!(e.code(), "SourceModel", "{e}");
    assert!(e.to_string().contains("dimension 256"), "{e}");
    // what the CLI shows for them
    let out = minirank(&["search", "--source", &url, "--table", "other_model", "--query", "x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("embedded by another bi-encoder"));

    let e = code(&url, "never_exported", dim, fp);
    assert_eq!(e.code(), "SourceSchema", "{e}");
    let e = code("postgres://nobody@[::1", DEFAULT_TABLE, dim, fp);
    assert_eq!(e.code(), "SourceConnection", "{e}");
}
