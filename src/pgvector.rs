//! Stage one on PostgreSQL + pgvector, for corpora larger than one process should hold: the
//! server keeps the documents and their bi-encoder vectors and gives candidates, minirank embeds
//! the query and reranks (native builds only).
//!
//! - [`schema`]: the DDL of `sql/schema.sql` for one table (documents, HNSW and full-text
//!   indexes, the bi-encoder's fingerprint, the function `<table>_candidates`).
//! - [`copy_row`]: a document and its vector as one line of PostgreSQL's `COPY` text format, what
//!   `minirank export --to pgvector` writes and `psql \copy` loads; [`copy_row_id`] reads the id
//!   back (to resume an interrupted export).
//! - [`PgSource`] (feature `postgres`): a connection checked against the loaded bi-encoder, whose
//!   [`candidates`](PgSource::candidates) are the union of the dense and the full-text top-k,
//!   each with both signals; [`pool`] orders and cuts them into a pool for
//!   [`Minirank::rerank`](crate::pipeline::Minirank::rerank).

use crate::error::{Error, Result};
use crate::hits::Candidate;
use crate::index::Document;

/// The schema template (`sql/schema.sql`); [`schema`] fills it in.
pub const SCHEMA_TEMPLATE: &str = include_str!("../sql/schema.sql");

/// The table name used when none is given; its function is `minirank_candidates`.
pub const DEFAULT_TABLE: &str = "minirank";

/// The text search configuration of the full-text column and the query.
pub const TEXT_SEARCH_CONFIG: &str = "english";

/// Columns of a `COPY` of [`copy_row`] lines, in order.
pub const COPY_COLUMNS: &str = "(id, text, metadata, parent, embedding)";

/// Refuse a table name that is not a plain lower-case SQL identifier (it is written into SQL).
pub fn check_table(table: &str) -> Result<()> {
    let mut chars = table.chars();
    let plain = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    // the function's name, `<table>_candidates`, must fit PostgreSQL's 63 bytes
    if !plain || table.len() > 63 - "_candidates".len() || table == "minirank_tables" {
        return Err(Error::invalid_option(
            "table",
            format!(
                "{table:?} is not a lower-case SQL name of at most 52 characters (a-z, 0-9, _; not minirank_tables)"
            ),
        ));
    }
    Ok(())
}

/// The DDL for `table` of vectors of `dim` numbers from the bi-encoder with `fingerprint`.
pub fn schema(table: &str, dim: usize, fingerprint: u32) -> Result<String> {
    check_table(table)?;
    Ok(SCHEMA_TEMPLATE
        .replace("{table}", table)
        .replace("{dim}", &dim.to_string())
        .replace("{fingerprint}", &fingerprint.to_string())
        .replace("{config}", TEXT_SEARCH_CONFIG))
}

/// `text` escaped for a field of `COPY`'s text format.
fn copy_field(text: &str, out: &mut String) {
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// A document and its vector as one line of `COPY`'s text format (with its newline), columns
/// [`COPY_COLUMNS`]: id, text, metadata as JSON (`{}` when none), parent (`\N` when none), and the
/// vector in pgvector's text form `[x,y,...]` (each number printed so that it reads back exactly).
pub fn copy_row(doc: &Document, vector: &[f32]) -> String {
    let mut line = String::with_capacity(doc.text.len() + vector.len() * 12 + 64);
    copy_field(&doc.id, &mut line);
    line.push('\t');
    copy_field(&doc.text, &mut line);
    line.push('\t');
    let metadata = doc.metadata.as_ref().map_or_else(|| "{}".to_owned(), |m| m.to_string());
    copy_field(&metadata, &mut line);
    line.push('\t');
    match &doc.parent {
        Some(p) => copy_field(p, &mut line),
        None => line.push_str("\\N"),
    }
    line.push('\t');
    line.push_str(&vector_literal(vector));
    line.push('\n');
    line
}

/// The fields of a [`copy_row`] line, unescaped (`\N`, NULL, is `None`).
pub fn copy_fields(line: &str) -> Vec<Option<String>> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.split('\t')
        .map(|field| {
            if field == "\\N" {
                return None;
            }
            let mut out = String::with_capacity(field.len());
            let mut chars = field.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('t') => out.push('\t'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some(other) => out.push(other),
                    None => {}
                }
            }
            Some(out)
        })
        .collect()
}

/// A vector in pgvector's text form, `[x,y,...]`: each number the shortest text that reads back
/// to the same `f32` (Rust's `Debug`, with an exponent for tiny values).
pub fn vector_literal(vector: &[f32]) -> String {
    let mut out = String::with_capacity(vector.len() * 12 + 2);
    out.push('[');
    for (i, x) in vector.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{x:?}"));
    }
    out.push(']');
    out
}

/// The id of a [`copy_row`] line (its first field).
pub fn copy_row_id(line: &str) -> String {
    let field = line.split('\t').next().unwrap_or("");
    copy_fields(field).pop().flatten().unwrap_or_default()
}

/// One row of `<table>_candidates`: the document and both of its signals.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    /// The document (its `dense` is the cosine, `score` and `bm25` unset).
    pub candidate: Candidate,
    /// 1 − cosine distance, as PostgreSQL computed it.
    pub similarity: f64,
    /// `ts_rank_cd` of the document for the query's words (0 when none matches).
    pub lexical: f32,
}

/// How [`pool`] orders the rows of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolOrder {
    /// By cosine: the dense top-k.
    Dense,
    /// By reciprocal rank fusion (k = 60) of the cosine rank and the lexical rank (rows without
    /// a matching word have no lexical rank), as the in-process hybrid pool.
    Hybrid,
}

/// The `k` best rows in `order`, as candidates with `dense` set (and `score`: the cosine, or the
/// fused RRF score). BM25 is left to the reranker, which computes it over the pool.
pub fn pool(rows: Vec<SourceRow>, k: usize, order: PoolOrder) -> Vec<Candidate> {
    let n = rows.len();
    let mut by_dense: Vec<usize> = (0..n).collect();
    by_dense.sort_by(|&a, &b| rows[b].similarity.total_cmp(&rows[a].similarity).then_with(|| a.cmp(&b)));
    let scores: Vec<f64> = match order {
        PoolOrder::Dense => rows.iter().map(|r| r.similarity).collect(),
        PoolOrder::Hybrid => {
            const RRF_K: f64 = 60.0;
            let mut by_words: Vec<usize> = (0..n).filter(|&i| rows[i].lexical > 0.0).collect();
            by_words.sort_by(|&a, &b| rows[b].lexical.total_cmp(&rows[a].lexical).then_with(|| a.cmp(&b)));
            let mut s = vec![0.0; n];
            for (rank, &i) in by_dense.iter().enumerate() {
                s[i] += 1.0 / (RRF_K + rank as f64 + 1.0);
            }
            for (rank, &i) in by_words.iter().enumerate() {
                s[i] += 1.0 / (RRF_K + rank as f64 + 1.0);
            }
            s
        }
    };
    let mut order_of: Vec<usize> = by_dense;
    order_of.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut rows: Vec<Option<SourceRow>> = rows.into_iter().map(Some).collect();
    order_of
        .into_iter()
        .take(k)
        .filter_map(|i| {
            let mut c = rows[i].take()?.candidate;
            c.score = Some(scores[i] as f32);
            Some(c)
        })
        .collect()
}

#[cfg(feature = "postgres")]
pub use client::PgSource;

#[cfg(feature = "postgres")]
mod client {
    use super::{check_table, SourceRow};
    use crate::error::{Error, Result};
    use crate::hits::Candidate;
    use postgres::error::SqlState;

    /// A PostgreSQL table of documents exported by minirank, checked against the loaded
    /// bi-encoder.
    pub struct PgSource {
        client: postgres::Client,
        table: String,
        target: String,
    }

    impl std::fmt::Debug for PgSource {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("PgSource").field("table", &self.table).field("target", &self.target).finish()
        }
    }

    /// `url` without its password (for messages).
    pub(super) fn redact(url: &str) -> String {
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let user = &url[s + 3..at];
                match user.find(':') {
                    Some(colon) => format!("{}{}:***{}", &url[..s + 3], &user[..colon], &url[at..]),
                    None => url.to_owned(),
                }
            }
            _ => url.to_owned(),
        }
    }

    fn connect_error(target: &str, e: postgres::Error) -> Error {
        let auth = e
            .code()
            .is_some_and(|c| *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
        let reason = match e.as_db_error() {
            Some(db) => db.message().to_owned(),
            None => {
                let mut s = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(inner) = source {
                    s = format!("{s}: {inner}");
                    source = inner.source();
                }
                s
            }
        };
        if auth || reason.contains("password") {
            Error::SourceAuth { target: target.to_owned(), reason }
        } else {
            Error::SourceConnection { target: target.to_owned(), reason }
        }
    }

    fn schema_error(table: &str, e: postgres::Error) -> Error {
        let reason = e.as_db_error().map_or_else(|| e.to_string(), |db| db.message().to_owned());
        Error::SourceSchema { table: table.to_owned(), reason }
    }

    impl PgSource {
        /// Connect to `url` (`postgres://user:password@host:port/db`; a connect timeout of 10 s
        /// unless the URL sets one) and check that `table` was embedded by a bi-encoder of this
        /// `fingerprint` and `dim` (its row in `minirank_tables`).
        pub fn connect(url: &str, table: &str, dim: usize, fingerprint: u32) -> Result<Self> {
            check_table(table)?;
            let target = redact(url);
            let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| Error::SourceConnection {
                target: target.clone(),
                reason: format!("not a connection string: {e}"),
            })?;
            if config.get_connect_timeout().is_none() {
                config.connect_timeout(std::time::Duration::from_secs(10));
            }
            let mut client = config.connect(postgres::NoTls).map_err(|e| connect_error(&target, e))?;
            let row = client
                .query_opt("SELECT fingerprint, dimension FROM minirank_tables WHERE name = $1", &[&table])
                .map_err(|e| match e.code() {
                    Some(c) if *c == SqlState::UNDEFINED_TABLE => Error::SourceSchema {
                        table: table.to_owned(),
                        reason: "the database has no minirank_tables: load the schema of `minirank export --schema`"
                            .into(),
                    },
                    _ => schema_error(table, e),
                })?
                .ok_or_else(|| Error::SourceSchema {
                    table: table.to_owned(),
                    reason:
                        "not registered in minirank_tables: load the schema of `minirank export --schema --table NAME`"
                            .into(),
                })?;
            let (stored, stored_dim): (i64, i32) = (row.get(0), row.get(1));
            if stored != i64::from(fingerprint) || stored_dim as i64 != dim as i64 {
                return Err(Error::SourceModel {
                    table: table.to_owned(),
                    stored_fingerprint: stored,
                    stored_dimension: stored_dim as i64,
                    fingerprint: fingerprint.into(),
                    dimension: dim as i64,
                });
            }
            Ok(Self { client, table: table.to_owned(), target })
        }

        /// The table.
        pub fn table(&self) -> &str {
            &self.table
        }

        /// The union of the `k` nearest documents to `vector` and the `k` best by full text for
        /// `text`, among those whose metadata contains `filter` (JSON containment, `@>`) when given.
        pub fn candidates(
            &mut self,
            text: &str,
            vector: &[f32],
            k: usize,
            filter: Option<&serde_json::Value>,
        ) -> Result<Vec<SourceRow>> {
            let literal = super::vector_literal(vector);
            let sql = format!(
                "SELECT id, text, metadata::text, parent, similarity, lexical \
                 FROM {}_candidates($1, $2::text::vector, $3, $4::text::jsonb)",
                self.table
            );
            let k = i32::try_from(k).unwrap_or(i32::MAX);
            let filter = filter.map(|f| f.to_string());
            let rows = self.client.query(&sql, &[&text, &literal, &k, &filter]).map_err(|e| {
                if e.is_closed() || e.as_db_error().is_none() {
                    Error::SourceConnection { target: self.target.clone(), reason: e.to_string() }
                } else {
                    schema_error(&self.table, e)
                }
            })?;
            rows.into_iter()
                .map(|row| {
                    let metadata: String = row.get(2);
                    let metadata: serde_json::Value = serde_json::from_str(&metadata).map_err(|e| Error::Json {
                        context: format!("{} metadata", self.table),
                        reason: e.to_string(),
                    })?;
                    let similarity: f64 = row.get(4);
                    let candidate = Candidate {
                        dense: Some(similarity as f32),
                        metadata: Some(metadata).filter(|m| m.as_object().is_none_or(|o| !o.is_empty())),
                        parent: row.get(3),
                        ..Candidate::new(row.get::<_, String>(0), row.get::<_, String>(1))
                    };
                    Ok(SourceRow { candidate, similarity, lexical: row.get(5) })
                })
                .collect()
        }

        /// Run SQL on the source's connection (one statement or several), e.g. `SET ...`.
        pub fn execute(&mut self, sql: &str) -> Result<()> {
            self.client.batch_execute(sql).map_err(|e| schema_error(&self.table, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape_and_read_back() {
        let doc = Document::new("a\tb\\c", "line one\nline\ttwo \\ end\r")
            .with_metadata(serde_json::json!({"k": "tab\there"}));
        let line = copy_row(&doc, &[0.5, -0.25, 1e-8]);
        assert!(line.ends_with("\t[0.5,-0.25,1e-8]\n"), "{line}");
        assert_eq!(line.matches('\t').count(), 4, "{line}");
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.contains("\t\\N\t"), "no parent: NULL");
        assert_eq!(copy_row_id(&line), "a\tb\\c");
        let fields = copy_fields(&line);
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[1].as_deref(), Some("line one\nline\ttwo \\ end\r"));
        assert_eq!(fields[2].as_deref(), Some(r#"{"k":"tab\there"}"#));
        assert_eq!(fields[3], None);
        let child = Document { parent: Some("p".into()), ..Document::new("c", "t") };
        assert!(copy_row(&child, &[1.0]).starts_with("c\tt\t{}\tp\t[1.0]"));
    }

    #[test]
    fn vectors_read_back_exactly() {
        let mut v: Vec<f32> = (0..50).map(|i| ((i as f32) * 0.731).sin() / 7.0).collect();
        v.extend([2.853e-33, -4.4e-38, 1.0, 0.0]);
        let line = copy_row(&Document::new("x", "y"), &v);
        let field = line.trim_end().rsplit('\t').next().unwrap();
        let back: Vec<f32> = field.trim_matches(['[', ']']).split(',').map(|x| x.parse().unwrap()).collect();
        assert_eq!(back, v);
    }

    #[test]
    fn schema_fills_every_placeholder_and_checks_the_name() {
        let sql = schema("docs_2", 384, 42).unwrap();
        for placeholder in ["{table}", "{dim}", "{fingerprint}", "{config}"] {
            assert!(!sql.contains(placeholder), "{placeholder} left in {sql}");
        }
        for part in [
            "CREATE TABLE IF NOT EXISTS docs_2 (",
            "embedding vector(384) NOT NULL",
            "USING hnsw (embedding vector_cosine_ops)",
            "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED",
            "USING gin (tsv)",
            "VALUES ('docs_2', 42, 384)",
            "FUNCTION docs_2_candidates(query_text text, query_embedding vector, k int, filter jsonb",
            "CREATE MATERIALIZED VIEW IF NOT EXISTS docs_2_words",
            "'docs_2'::regclass",
        ] {
            assert!(sql.contains(part), "{part} missing");
        }
        for bad in ["", "Docs", "a-b", "x; DROP TABLE y", "1abc", "minirank_tables", &"a".repeat(53)] {
            assert_eq!(schema(bad, 384, 1).unwrap_err().code(), "InvalidOption", "{bad}");
        }
    }

    fn row(id: &str, similarity: f64, lexical: f32) -> SourceRow {
        SourceRow { candidate: Candidate::new(id, id), similarity, lexical }
    }

    #[test]
    fn pools_by_cosine_or_by_rrf() {
        let rows = || vec![row("a", 0.9, 0.0), row("b", 0.5, 2.0), row("c", 0.7, 0.1), row("d", 0.1, 3.0)];
        let ids = |c: Vec<Candidate>| c.into_iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(pool(rows(), 2, PoolOrder::Dense)), ["a", "c"]);
        // RRF: a 1/61, b 1/63 + 1/62, c 1/62 + 1/63 (a tie: the cosine's order), d 1/64 + 1/61
        assert_eq!(ids(pool(rows(), 4, PoolOrder::Hybrid)), ["d", "c", "b", "a"]);
        let dense = pool(rows(), 1, PoolOrder::Dense);
        assert_eq!(dense[0].score, Some(0.9));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(client::redact("postgres://u:secret@h:5/db"), "postgres://u:***@h:5/db");
        assert_eq!(client::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(client::redact("host=h user=u"), "host=h user=u");
    }
}
