//! The `minirank` command line (native only).
//!
//!     minirank search --docs FILE --query TEXT [--candidates 20] [--top-k 5] [--min-score S]
//!                     [--retrieval dense|bm25|hybrid] [--cascade dense:10,...] [--filter JSON]
//!                     [--chunk-tokens N] [--parents max|sum] [--json]
//!                     [--fusion dense=1,bm25=1,cross-encoder=0.5]
//!     minirank eval --collection DIR [--methods default,dense,...] [--candidates N] [--limit-queries N] [--json]
//!     minirank convert --role bi-encoder|cross-encoder IN.onnx OUT.nnef.tar
//!     minirank export --docs FILE|BEIR-DIR --to pgvector --out FILE [--threads N]
//!     minirank export --schema [--table NAME]
//!     minirank search --source postgres://... --query TEXT [--table NAME] [...]
//!     minirank eval --source postgres://... --collection DIR [--table NAME] [...]
//!
//! Models are read from `--models DIR`, else `$MINIRANK_MODELS`, else `./models`:
//! `DIR/bi-encoder/{model.onnx,tokenizer.json[,config.json]}` and the same under `DIR/cross-encoder/`.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use minirank::eval::{load_beir, Difference, Metrics};
use minirank::pgvector::{PgSource, PoolOrder};
use minirank::prelude::*;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::hub;

#[derive(Parser)]
#[command(
    name = "minirank",
    version,
    about = "Two-stage semantic search: bi-encoder retrieval + cross-encoder reranking"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Common {
    /// Folder with bi-encoder/ and cross-encoder/ (default: $MINIRANK_MODELS, else ./models)
    #[arg(long, global = true)]
    models: Option<PathBuf>,
    /// Threads for model inference (default: all cores)
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// Print JSON instead of text (progress bars off)
    #[arg(long, global = true)]
    json: bool,
    /// The bi-encoder: a folder (model.onnx or model.nnef.tar, tokenizer.json, config.json) or a Hugging Face Hub id (default: MODELS/bi-encoder)
    #[arg(long, global = true)]
    bi_encoder: Option<String>,
    /// The cross-encoder: a folder or a Hub id, e.g. Xenova/ms-marco-MiniLM-L-6-v2 (default: MODELS/cross-encoder)
    #[arg(long, global = true)]
    cross_encoder: Option<String>,
    /// The dtype of models given by Hub id: fp32, fp16, q8, int8, uint8 (onnx/model*.onnx as transformers.js names them), or one each: bi-encoder=fp32,cross-encoder=q8
    #[arg(long, global = true, default_value = "q8")]
    dtype: String,
    /// Branch, tag or commit of models given by Hub id
    #[arg(long, global = true, default_value = "main")]
    revision: String,
    /// Where Hub ids are resolved (default: $HF_ENDPOINT, else https://huggingface.co); files are cached in $HF_HOME/hub
    #[arg(long, global = true)]
    hub_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Index a file of documents and run one two-stage search (or take stage 1 from PostgreSQL: --source)
    Search {
        /// Documents: .jsonl ({"id","text",...} per line; other fields become metadata) or .txt (one per line)
        #[arg(long, required_unless_present = "source", conflicts_with = "source")]
        docs: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
        /// The query
        #[arg(long)]
        query: String,
        /// Stage 1 pool size (bi-encoder candidates)
        #[arg(long, default_value_t = 20)]
        candidates: usize,
        /// Stage 2 results (reranked)
        #[arg(long, default_value_t = 5)]
        top_k: usize,
        /// Drop results whose sigmoid score is below this (0..1)
        #[arg(long)]
        min_score: Option<f32>,
        /// Token budget per (query, document) pair
        #[arg(long, default_value_t = 256)]
        max_length: usize,
        /// Stage 1: dense, bm25 or hybrid (default: hybrid)
        #[arg(long, value_parser = parse_enum::<Retrieval>)]
        retrieval: Option<Retrieval>,
        /// Middle stages before the cross-encoder, e.g. `dense:10` or `bm25:50,dense:10`
        #[arg(long, value_parser = parse_cascade)]
        cascade: Option<Cascade>,
        /// Metadata filter as JSON, e.g. '{"year": {"gte": 2020}}'
        #[arg(long)]
        filter: Option<String>,
        /// Split documents longer than this many tokens into passages
        #[arg(long)]
        chunk_tokens: Option<usize>,
        /// Return parent documents scored by their passages: max or sum
        #[arg(long, value_parser = parse_enum::<ParentScore>)]
        parents: Option<ParentScore>,
        /// Weights of the fused score, e.g. `dense=1,bm25=1,cross-encoder=0.5` (names left out keep their default; `bm25=auto`: chosen per query by its length, the default)
        #[arg(long, value_parser = parse_fusion)]
        fusion: Option<Fusion>,
        #[command(flatten)]
        common: Common,
    },
    /// Evaluate ranking methods on a BEIR-layout collection: default (what `search` does with
    /// default options), default-without-cross-encoder, dense, bm25, hybrid, rerank (the
    /// cross-encoder alone over the default pool)
    Eval {
        /// Folder with corpus.jsonl, queries.jsonl, qrels/test.tsv
        #[arg(long)]
        collection: PathBuf,
        // stage 1 from a PostgreSQL table exported from the collection, instead of an index built
        // here: methods default, default-without-cross-encoder, rerank and dense
        #[command(flatten)]
        remote: Remote,
        /// Methods to run, comma-separated (default: all)
        #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(METHODS))]
        methods: Vec<String>,
        /// Candidates per query: the pool that is reranked, and the depth of the retrieval-only methods
        /// (default: `search`'s default)
        #[arg(long)]
        candidates: Option<usize>,
        /// Token budget per (query, document) pair
        #[arg(long, default_value_t = 256)]
        max_length: usize,
        /// Evaluate only the first N judged queries
        #[arg(long)]
        limit_queries: Option<usize>,
        /// Other weights for the fused score of `default` and `default-without-cross-encoder`, e.g. `dense=1,bm25=0.5`
        #[arg(long, value_parser = parse_fusion)]
        fusion: Option<Fusion>,
        /// Another candidate pool for `default`, `default-without-cross-encoder` and `rerank`: dense, bm25 or hybrid
        #[arg(long, value_parser = parse_enum::<Retrieval>)]
        retrieval: Option<Retrieval>,
        /// Keep the embedded collection in this file: read it when it exists (and was made by the
        /// same bi-encoder from the same documents), else embed and write it
        #[arg(long)]
        index: Option<PathBuf>,
        /// Write each query's candidates as JSON lines, for studying the fused score: the dense
        /// and BM25 top 100 with both signals and ranks, the cross-encoder logit of the dense and
        /// hybrid top `--candidates`, and the query's judgements
        #[arg(long)]
        dump: Option<PathBuf>,
        /// Also rank the default pool with these weights (a method named `fusion(...)`, scored
        /// from the same cross-encoder logits), e.g. `dense=1,bm25=1,cross-encoder=0.25`
        #[arg(long, value_parser = parse_fusion)]
        compare_fusion: Option<Fusion>,
        /// Bootstrap resamples of the queries for the 95% intervals of each method's nDCG@10
        /// difference to dense (0: none)
        #[arg(long, default_value_t = 2000)]
        bootstrap: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Convert an encoder's ONNX file to tract NNEF as the wasm build runs it (decluttered, int8
    /// linear layers): it loads several times faster, with the same results
    Convert {
        /// Which model: bi-encoder or cross-encoder
        #[arg(long, value_parser = ["bi-encoder", "cross-encoder"])]
        role: String,
        /// The ONNX file
        input: PathBuf,
        /// Where to write the NNEF tar
        output: PathBuf,
    },
    /// Embed documents with the bi-encoder and write them for PostgreSQL + pgvector (`psql
    /// \copy TABLE (id, text, metadata, parent, embedding) FROM FILE`); an existing FILE is
    /// continued (ids already in it are skipped). With --schema: print the DDL instead
    Export {
        /// Documents: .jsonl or .txt as for `search`, or a BEIR folder (its corpus.jsonl)
        #[arg(long, required_unless_present = "schema")]
        docs: Option<PathBuf>,
        /// The format: pgvector (PostgreSQL COPY text format)
        #[arg(long, value_parser = ["pgvector"], default_value = "pgvector")]
        to: String,
        /// The file to write (appended to when it exists)
        #[arg(long, required_unless_present = "schema")]
        out: Option<PathBuf>,
        /// Print the DDL: table, HNSW and full-text indexes, the bi-encoder's fingerprint, and the
        /// function TABLE_candidates
        #[arg(long, conflicts_with_all = ["docs", "out"])]
        schema: bool,
        /// The table of --schema
        #[arg(long, default_value = minirank::pgvector::DEFAULT_TABLE)]
        table: String,
        #[command(flatten)]
        common: Common,
    },
}

/// Stage 1 from a PostgreSQL + pgvector table (`minirank export`).
#[derive(Args)]
struct Remote {
    /// A PostgreSQL connection URL (postgres://user:password@host:port/db) whose table holds the
    /// documents exported by `minirank export`: stage 1 is the union of its dense and full-text
    /// top --candidates, ordered by RRF and cut to --candidates (`--retrieval dense`: by cosine)
    #[arg(long)]
    source: Option<String>,
    /// The table in --source
    #[arg(long, default_value = minirank::pgvector::DEFAULT_TABLE)]
    table: String,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.option() {
                // option names are the serialized (camelCase) ones; the flags spell them in kebab-case
                Some(name) => eprintln!("error: {e} (flag --{})", kebab(name.split(['.', '[']).next().unwrap_or(name))),
                None => eprintln!("error: {e}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// A refused flag (named by its option name: `chunkTokens` is `--chunk-tokens`).
fn bad_flag(name: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidOption { name: name.into(), reason: reason.into() }
}

/// `topK` → `top-k`.
fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    for ch in name.chars() {
        if ch.is_ascii_uppercase() {
            out.push('-');
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Search {
            docs,
            remote,
            query,
            candidates,
            top_k,
            min_score,
            max_length,
            retrieval,
            cascade,
            filter,
            chunk_tokens,
            parents,
            fusion,
            common,
        } => {
            let filter = match filter {
                Some(f) => Some(
                    serde_json::from_str::<serde_json::Value>(&f)
                        .map_err(|e| Error::Json { context: "--filter".into(), reason: e.to_string() })?,
                ),
                None => None,
            };
            // with --source the filter is PostgreSQL's JSON containment (`metadata @> filter`)
            let (filter, remote_filter) = match (&remote.source, filter) {
                (Some(_), f) => (None, f),
                (None, Some(v)) => (Some(Filter::parse(&v)?), None),
                (None, None) => (None, None),
            };
            let d = SearchOptions::default();
            let options = SearchOptions {
                pool: PoolOptions { candidates, cascade: cascade.map(|c| c.0).unwrap_or_default() },
                source: CandidateSource { retrieval, filter, ..d.source },
                rerank: RerankOptions {
                    top_k: Some(top_k),
                    min_score,
                    max_length,
                    parents,
                    fusion: fusion.unwrap_or_default(),
                    ..d.rerank
                },
            };
            options.validate()?;
            let chunking = chunk_tokens.map(|max_tokens| Chunking { max_tokens, ..Default::default() });
            match (docs, remote.source) {
                (Some(docs), _) => search(&common, &docs, &query, &options, chunking),
                (None, Some(url)) => {
                    if chunking.is_some() {
                        return Err(bad_flag("chunkTokens", "does not apply to --source"));
                    }
                    remote_search(&common, &url, &remote.table, &query, &options, remote_filter.as_ref())
                }
                (None, None) => unreachable!("clap requires --docs or --source"),
            }
        }
        Command::Eval {
            collection,
            remote,
            methods,
            candidates,
            max_length,
            limit_queries,
            fusion,
            retrieval,
            index,
            dump,
            compare_fusion,
            bootstrap,
            common,
        } => {
            let d = SearchOptions::default();
            let candidates = candidates.unwrap_or(d.pool.candidates);
            let options = SearchOptions {
                pool: PoolOptions { candidates, ..d.pool },
                source: CandidateSource { retrieval, ..d.source },
                rerank: RerankOptions {
                    top_k: Some(candidates),
                    max_length,
                    fusion: fusion.unwrap_or(d.rerank.fusion),
                    ..d.rerank
                },
            };
            options.validate()?;
            let all: &[&str] = if remote.source.is_some() { &SOURCE_METHODS } else { &METHODS };
            let mut methods: Vec<String> =
                if methods.is_empty() { all.iter().map(|m| m.to_string()).collect() } else { methods };
            if let Some(f) = compare_fusion {
                methods.push(fusion_method(&f));
            }
            let remote_method = |m: &str| SOURCE_METHODS.contains(&m) || m.starts_with("fusion(");
            if let Some(m) = methods.iter().find(|m| remote.source.is_some() && !remote_method(m)) {
                return Err(bad_flag(
                    "methods",
                    format!("{m} is not evaluated with --source (only {})", SOURCE_METHODS.join(", ")),
                ));
            }
            if remote.source.is_some() && (index.is_some() || dump.is_some()) {
                return Err(bad_flag("source", "does not go with --index or --dump"));
            }
            let run = EvalRun { methods, limit: limit_queries, index, dump, compare: compare_fusion, bootstrap };
            eval(&common, &collection, &options, &run, &remote)
        }
        Command::Export { docs, to: _, out, schema, table, common } => {
            let embedder = load_bi_encoder(&common)?;
            if schema {
                print!("{}", minirank::pgvector::schema(&table, embedder.dim(), embedder.fingerprint())?);
                return Ok(());
            }
            match (docs, out) {
                (Some(docs), Some(out)) => export(&common, &embedder, &docs, &out),
                _ => unreachable!("clap requires --docs and --out without --schema"),
            }
        }
        Command::Convert { role, input, output } => {
            let role = if role == "bi-encoder" { ModelRole::BiEncoder } else { ModelRole::CrossEncoder };
            let nnef = minirank::convert_to_nnef(role, &read(&input)?)?;
            std::fs::write(&output, &nnef)
                .map_err(|e| Error::Io { path: output.display().to_string(), reason: e.to_string() })?;
            eprintln!("{role}: {} → {} ({} bytes)", input.display(), output.display(), nnef.len());
            Ok(())
        }
    }
}

/// `name=weight` pairs separated by commas: the weights of the fused score.
fn parse_fusion(s: &str) -> std::result::Result<Fusion, String> {
    let mut f = Fusion::default();
    for part in s.split(',') {
        let (name, w) = part.split_once('=').ok_or_else(|| format!("{part:?} is not name=weight (e.g. bm25=0.5)"))?;
        if name.trim() == "bm25" && w.trim() == "auto" {
            f.bm25 = None;
            continue;
        }
        let w: f32 = w.trim().parse().map_err(|_| format!("{w:?} is not a number"))?;
        match name.trim() {
            "dense" => f.dense = w,
            "bm25" => f.bm25 = Some(w),
            "cross-encoder" | "ce" => f.cross_encoder = Some(w),
            other => return Err(format!("unknown signal {other:?} (dense, bm25, cross-encoder)")),
        }
    }
    f.validate().map_err(|e| e.to_string())?;
    Ok(f)
}

/// A serde enum from its lower-case name (`dense`, `bm25`, `max`, ...).
fn parse_enum<T: serde::de::DeserializeOwned>(s: &str) -> std::result::Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|e| e.to_string())
}

/// The `--cascade` stages (one argument, so clap does not read it as a list).
#[derive(Clone)]
struct Cascade(Vec<Stage>);

/// `scorer:keep` stages separated by commas.
fn parse_cascade(s: &str) -> std::result::Result<Cascade, String> {
    s.split(',')
        .map(|part| {
            let (scorer, keep) =
                part.split_once(':').ok_or_else(|| format!("{part:?} is not scorer:keep (e.g. dense:10)"))?;
            Ok(Stage {
                scorer: parse_enum(scorer.trim())?,
                keep: keep.trim().parse().map_err(|_| format!("{keep:?} is not a count"))?,
            })
        })
        .collect::<std::result::Result<_, String>>()
        .map(Cascade)
}

fn models_dir(common: &Common) -> PathBuf {
    common
        .models
        .clone()
        .or_else(|| std::env::var_os("MINIRANK_MODELS").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("models"))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })
}

type Files = hub::HubFiles;

/// A model's files from a folder: `model.onnx` (or `model.nnef.tar`), `tokenizer.json`, and where
/// there, `config.json` and `1_Pooling/config.json`.
fn files_in(dir: &Path) -> Result<Files> {
    let optional = |p: PathBuf| if p.exists() { read(&p).map(Some) } else { Ok(None) };
    let onnx = dir.join("model.onnx");
    let model = if onnx.exists() || !dir.join("model.nnef.tar").exists() { onnx } else { dir.join("model.nnef.tar") };
    Ok(Files {
        model: read(&model)?,
        tokenizer: read(&dir.join("tokenizer.json"))?,
        config: optional(dir.join("config.json"))?,
        pooling: optional(dir.join("1_Pooling").join("config.json"))?,
    })
}

fn model_files(files: &Files) -> ModelFiles<'_> {
    ModelFiles {
        model: &files.model,
        tokenizer: &files.tokenizer,
        config: files.config.as_deref(),
        sha256: None,
        pooling: files.pooling.as_deref(),
    }
}

/// The files of one model: `--bi-encoder` / `--cross-encoder` (a folder, else a Hub id), else
/// `MODELS/bi-encoder` / `MODELS/cross-encoder`.
fn load_files(common: &Common, role: ModelRole) -> Result<Files> {
    let (given, folder) = match role {
        ModelRole::BiEncoder => (&common.bi_encoder, "bi-encoder"),
        ModelRole::CrossEncoder => (&common.cross_encoder, "cross-encoder"),
    };
    match given {
        Some(g) if Path::new(g).is_dir() || !hub::is_id(g) => files_in(Path::new(g)),
        Some(id) => {
            let hub = hub::Hub { endpoint: common.hub_url.clone(), revision: common.revision.clone() };
            hub.fetch(id, &hub::dtype_of(&common.dtype, folder)?, role == ModelRole::BiEncoder)
        }
        None => {
            let dir = models_dir(common);
            if !dir.join(folder).join("model.onnx").exists() {
                return Err(Error::Io {
                    path: dir.join(folder).join("model.onnx").display().to_string(),
                    reason: "not found; run scripts/setup.sh, or pass --models DIR / set MINIRANK_MODELS".into(),
                });
            }
            files_in(&dir.join(folder))
        }
    }
}

fn load_engine(common: &Common) -> Result<Minirank> {
    let bi = load_files(common, ModelRole::BiEncoder)?;
    let ce = load_files(common, ModelRole::CrossEncoder)?;
    let mut engine = Minirank::from_bytes(model_files(&bi), model_files(&ce))?;
    engine.set_threads(threads(common))?;
    Ok(engine)
}

/// The bi-encoder alone (for `export`), on `--threads` threads.
fn load_bi_encoder(common: &Common) -> Result<BiEncoder> {
    let mut embedder = BiEncoder::from_bytes(model_files(&load_files(common, ModelRole::BiEncoder)?))?;
    embedder.set_threads(threads(common))?;
    Ok(embedder)
}

fn threads(common: &Common) -> usize {
    common.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Documents to export: a BEIR folder's corpus (as `eval` reads it), else a file as for `search`,
/// where a string field `parent` is the parent document's id rather than metadata.
fn export_docs(path: &Path) -> Result<Vec<Document>> {
    if path.is_dir() {
        return minirank::eval::load_beir_corpus(path);
    }
    let mut docs = read_docs(path)?;
    for doc in &mut docs {
        if let Some(serde_json::Value::Object(m)) = &mut doc.metadata {
            if let Some(serde_json::Value::String(p)) = m.remove("parent") {
                doc.parent = Some(p);
            }
            if m.is_empty() {
                doc.metadata = None;
            }
        }
    }
    Ok(docs)
}

/// `minirank export --to pgvector`: embed the documents not yet in `out` and append them, a batch
/// at a time (an interrupted export continues where it stopped).
fn export(common: &Common, embedder: &BiEncoder, docs: &Path, out: &Path) -> Result<()> {
    const BATCH: usize = 256;
    let io = |e: std::io::Error| Error::Io { path: out.display().to_string(), reason: e.to_string() };
    let docs = export_docs(docs)?;
    let mut done: std::collections::HashSet<String> = std::collections::HashSet::new();
    if out.exists() {
        let mut text = std::fs::read_to_string(out).map_err(io)?;
        // a line cut short by an interruption is dropped, and written again below
        if !text.is_empty() && !text.ends_with('\n') {
            let keep = text.rfind('\n').map_or(0, |i| i + 1);
            text.truncate(keep);
            std::fs::OpenOptions::new().write(true).open(out).and_then(|f| f.set_len(keep as u64)).map_err(io)?;
        }
        done.extend(text.lines().map(minirank::pgvector::copy_row_id));
    }
    let todo: Vec<&Document> = docs.iter().filter(|d| !done.contains(&d.id)).collect();
    let mut file =
        std::io::BufWriter::new(std::fs::OpenOptions::new().create(true).append(true).open(out).map_err(io)?);
    let bar = progress(common.json, docs.len(), "embedding");
    bar.set_position((docs.len() - todo.len()) as u64);
    let t = Instant::now();
    for batch in todo.chunks(BATCH) {
        let texts: Vec<&str> = batch.iter().map(|d| d.text.as_str()).collect();
        let start = bar.position();
        let vectors = embedder.embed_with_progress(&texts, &mut |n, _| bar.set_position(start + n as u64))?;
        for (doc, v) in batch.iter().zip(&vectors) {
            file.write_all(minirank::pgvector::copy_row(doc, v).as_bytes()).map_err(io)?;
        }
        file.flush().map_err(io)?;
    }
    bar.finish_and_clear();
    let seconds = t.elapsed().as_secs_f64();
    if common.json {
        let summary = json!({
            "out": out.display().to_string(), "documents": docs.len(), "embedded": todo.len(),
            "skipped": docs.len() - todo.len(), "seconds": seconds,
            "fingerprint": embedder.fingerprint(), "dimension": embedder.dim(),
        });
        println!("{summary}");
    } else {
        eprintln!(
            "{}: {} documents ({} embedded in {seconds:.1} s, {} already there); load with \\copy TABLE {} FROM '{}'",
            out.display(),
            docs.len(),
            todo.len(),
            docs.len() - todo.len(),
            minirank::pgvector::COPY_COLUMNS,
            out.display()
        );
    }
    Ok(())
}

/// Read documents from .jsonl (id/text + metadata) or plain text (one document per non-empty line).
fn read_docs(path: &Path) -> Result<Vec<Document>> {
    let text = String::from_utf8(read(path)?)
        .map_err(|_| Error::Io { path: path.display().to_string(), reason: "not UTF-8".into() })?;
    let jsonl = path.extension().is_some_and(|e| e == "jsonl" || e == "ndjson");
    let mut docs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if !jsonl {
            docs.push(Document::new((n + 1).to_string(), line.trim()));
            continue;
        }
        let ctx = || format!("{} line {}", path.display(), n + 1);
        let mut v: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).map_err(|e| Error::Json { context: ctx(), reason: e.to_string() })?;
        let id = match v.remove("id").or_else(|| v.remove("_id")) {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Number(x)) => x.to_string(),
            _ => (n + 1).to_string(),
        };
        let body = match v.remove("text") {
            Some(serde_json::Value::String(s)) => s,
            _ => return Err(Error::Json { context: ctx(), reason: "missing string field \"text\"".into() }),
        };
        let title = match v.get("title") {
            Some(serde_json::Value::String(t)) => t.clone(),
            _ => String::new(),
        };
        let mut doc = Document::new(id, minirank::eval::beir_text(&title, &body));
        if !v.is_empty() {
            doc.metadata = Some(serde_json::Value::Object(v));
        }
        docs.push(doc);
    }
    Ok(docs)
}

fn progress(quiet: bool, total: usize, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

fn one_line(text: &str, width: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        flat.chars().take(width - 1).collect::<String>() + "…"
    }
}

fn search(
    common: &Common,
    docs: &Path,
    query: &str,
    options: &SearchOptions,
    chunking: Option<Chunking>,
) -> Result<()> {
    let docs = read_docs(docs)?;
    let mut engine = load_engine(common)?;
    engine.set_chunking(chunking)?;
    let bar = progress(common.json, docs.len(), "indexing");
    let t = Instant::now();
    engine.add_documents_with_progress(docs, &mut |done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let index_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let result = engine.search(query, options)?;
    let search_ms = t.elapsed().as_secs_f64() * 1e3;
    let mode = serde_json::to_value(options.source.mode())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let from = format!("{mode}; {} index entries built in {index_s:.2} s", engine.len());
    print_search(common, query, options, result, &from, json!({ "index": index_s * 1e3, "search": search_ms }))
}

/// `minirank search --source`: the pool from PostgreSQL, reranked here.
fn remote_search(
    common: &Common,
    url: &str,
    table: &str,
    query: &str,
    options: &SearchOptions,
    filter: Option<&serde_json::Value>,
) -> Result<()> {
    if !options.pool.cascade.is_empty() {
        return Err(bad_flag("cascade", "does not apply to --source"));
    }
    let engine = load_engine(common)?;
    let t = Instant::now();
    let mut source = connect(&engine, url, table)?;
    let connect_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let (pool, order) = remote_pool(&engine, &mut source, query, options, filter)?;
    let stage1_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let reranked = engine.rerank(query, &pool, &options.rerank)?;
    let rerank_ms = t.elapsed().as_secs_f64() * 1e3;
    let result = SearchResult { stage: ResultStage::Reranked, candidates: pool, cascade: Vec::new(), reranked };
    let order = if order == PoolOrder::Dense { "dense" } else { "dense + full text, RRF" };
    let from = format!("{order}, from {table} in {stage1_ms:.1} ms");
    let timings = json!({ "connect": connect_ms, "stage1": stage1_ms, "search": stage1_ms + rerank_ms });
    print_search(common, query, options, result, &from, timings)
}

/// A connection to `table` at `url`, checked against the engine's bi-encoder.
fn connect(engine: &Minirank, url: &str, table: &str) -> Result<PgSource> {
    PgSource::connect(url, table, engine.embedder().dim(), engine.embedder().fingerprint())
}

/// Stage 1 from the source: the union of its dense and full-text top `candidates`, ordered by RRF
/// (by cosine for `--retrieval dense`) and cut to `candidates`.
fn remote_pool(
    engine: &Minirank,
    source: &mut PgSource,
    query: &str,
    options: &SearchOptions,
    filter: Option<&serde_json::Value>,
) -> Result<(Vec<Candidate>, PoolOrder)> {
    let order = pool_order(options)?;
    let q = engine.embedder().embed_one(query)?;
    let rows = source.candidates(query, &q, options.pool.candidates, filter)?;
    Ok((minirank::pgvector::pool(rows, options.pool.candidates, order), order))
}

/// How a pool from the source is ordered: `--retrieval` hybrid (the default) or dense.
fn pool_order(options: &SearchOptions) -> Result<PoolOrder> {
    match options.source.retrieval {
        None | Some(Retrieval::Hybrid) => Ok(PoolOrder::Hybrid),
        Some(Retrieval::Dense) => Ok(PoolOrder::Dense),
        Some(Retrieval::Bm25) => Err(bad_flag("retrieval", "with --source is hybrid or dense")),
    }
}

/// The answer of `search`: JSON, or both stages as text (`from`: where stage 1 came from).
fn print_search(
    common: &Common,
    query: &str,
    options: &SearchOptions,
    result: SearchResult,
    from: &str,
    timings: serde_json::Value,
) -> Result<()> {
    let SearchResult { candidates, cascade, reranked, .. } = result;
    let search_ms = timings["search"].as_f64().unwrap_or(0.0);
    if common.json {
        let out = json!({
            "query": query,
            "candidates": candidates.iter().enumerate().map(|(i, c)| json!({
                "id": c.id, "text": c.text, "score": c.score, "rank": i + 1, "metadata": c.metadata,
            })).collect::<Vec<_>>(),
            "cascade": cascade,
            "results": reranked.hits.iter().map(|h| json!({
                "id": h.id, "text": h.text, "score": h.score, "logit": h.logit,
                "fused": h.fused, "dense": h.dense, "bm25": h.bm25, "contributions": h.contributions,
                "original_rank": h.original_rank, "retrieval_score": h.retrieval_score, "metadata": h.metadata,
                "passages": h.passages,
            })).collect::<Vec<_>>(),
            "no_confident_answer": reranked.no_confident_answer,
            "best_score": reranked.best_score,
            "timings_ms": timings,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    println!("Query: {query}\n");
    println!("Stage 1 candidates: {} ({from})", candidates.len());
    for (i, c) in candidates.iter().enumerate() {
        println!(
            "  {:>3}. [{:.3}] {:<24} {}",
            i + 1,
            c.score.unwrap_or(0.0),
            one_line(&c.id, 24),
            one_line(&c.text, 70)
        );
    }
    for (stage, kept) in options.pool.cascade.iter().zip(&cascade) {
        println!("\nCascade: {:?} kept {}: {}", stage.scorer, kept.len(), one_line(&kept.join(", "), 100));
    }
    let w = reranked.weights;
    let chosen = if options.rerank.fusion.bm25.is_none() { " (BM25's weight by the query's length)" } else { "" };
    println!(
        "\nStage 2 top-{} by the fused score {:.2}·z(cos) + {:.2}·z(bm25) + {:.2}·z(logit){chosen} (search took {search_ms:.1} ms):",
        options.rerank.top_k.unwrap_or(options.pool.candidates), w.dense, w.bm25, w.cross_encoder
    );
    for h in &reranked.hits {
        let moved = h.original_rank as i64 - h.rank as i64;
        let arrow = match moved {
            0 => "  =".to_string(),
            m if m > 0 => format!("↑{m:<2}"),
            m => format!("↓{:<2}", -m),
        };
        let known = |x: Option<f32>, digits: usize| x.map_or("-".to_string(), |x| format!("{x:.digits$}"));
        println!(
            "  {:>3}. [{:>5.2}] cos {} bm25 {:>5} logit {:>6.2}  {arrow} (was #{:<3}) {:<24} {}",
            h.rank,
            h.fused,
            known(h.dense, 3),
            known(h.bm25, 1),
            h.logit,
            h.original_rank,
            one_line(&h.id, 24),
            one_line(&h.text, 50)
        );
    }
    if reranked.no_confident_answer {
        println!(
            "  No confident answer: the best score {:.4} is below --min-score {}",
            reranked.best_score.unwrap_or(0.0),
            options.rerank.min_score.unwrap_or(0.0)
        );
    }
    Ok(())
}

/// The methods of `minirank eval`.
const METHODS: [&str; 6] = ["default", "default-without-cross-encoder", "dense", "bm25", "hybrid", "rerank"];

/// The methods of `minirank eval --source` (BM25 and hybrid rank a whole collection held here).
const SOURCE_METHODS: [&str; 4] = ["default", "default-without-cross-encoder", "dense", "rerank"];

/// What `minirank eval` runs besides the search options.
struct EvalRun {
    methods: Vec<String>,
    limit: Option<usize>,
    index: Option<PathBuf>,
    dump: Option<PathBuf>,
    compare: Option<Fusion>,
    bootstrap: usize,
}

/// The name of `--compare-fusion`'s method: `fusion(dense=1,bm25=auto,cross-encoder=0.25)`.
fn fusion_method(f: &Fusion) -> String {
    let bm25 = f.bm25.map_or("auto".to_string(), |w| w.to_string());
    let ce = f.cross_encoder.map_or("model".to_string(), |w| w.to_string());
    format!("fusion(dense={},bm25={bm25},cross-encoder={ce})", f.dense)
}

fn eval(common: &Common, dir: &Path, options: &SearchOptions, run: &EvalRun, remote: &Remote) -> Result<()> {
    let methods = &run.methods;
    let mut collection = load_beir(dir)?;
    if let Some(n) = run.limit {
        collection.queries.truncate(n);
    }
    let mut engine = load_engine(common)?;
    engine.reranker().model()?.check_max_length(options.rerank.max_length)?;
    let quiet = common.json;

    let t = Instant::now();
    let corpus = std::mem::take(&mut collection.corpus);
    let n_docs = corpus.len();
    // stage 1 from PostgreSQL: nothing is indexed here
    let mut source = match &remote.source {
        Some(url) => Some(connect(&engine, url, &remote.table)?),
        None => None,
    };
    let cached = match &run.index {
        Some(path) if path.exists() => engine.load_index(&read(path)?).is_ok() && indexes(&engine, &corpus),
        _ => false,
    };
    if !cached && source.is_none() {
        engine.clear();
        let bar = progress(quiet, n_docs, "indexing");
        engine.add_documents_with_progress(corpus, &mut |done, _| bar.set_position(done as u64))?;
        bar.finish_and_clear();
        if let Some(path) = &run.index {
            std::fs::write(path, engine.save_index())
                .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })?;
        }
    }
    let index_s = t.elapsed().as_secs_f64();

    let mut dump = match &run.dump {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })?,
        )),
        None => None,
    };
    let bar = progress(quiet, collection.queries.len(), "queries");
    let mut per_method: Vec<Vec<Metrics>> = vec![Vec::new(); methods.len()];
    let mut seconds: Vec<f64> = vec![0.0; methods.len()];
    let with_fusion =
        |fusion| SearchOptions { rerank: RerankOptions { fusion, ..options.rerank.clone() }, ..options.clone() };
    let without_ce = with_fusion(options.rerank.fusion.without_cross_encoder());
    let ce_only = with_fusion(Fusion::CROSS_ENCODER_ONLY);
    let compared = run.compare.map(with_fusion);
    let retrieve = |retrieval| RetrieveOptions::of(options.pool.candidates, retrieval);
    for (qid, text) in &collection.queries {
        let rel = &collection.qrels[qid];
        if let Some(source) = source.as_mut() {
            // one call to the source per query: its time is counted in every method's
            let t = Instant::now();
            let k = options.pool.candidates;
            let q = engine.embedder().embed_one(text)?;
            let rows = source.candidates(text, &q, k, None)?;
            let pool = minirank::pgvector::pool(rows.clone(), k, pool_order(options)?);
            let dense_pool = minirank::pgvector::pool(rows, k, PoolOrder::Dense);
            let stage1 = t.elapsed().as_secs_f64();
            for (m, method) in methods.iter().enumerate() {
                let t = Instant::now();
                let ranking: Vec<String> = match method.as_str() {
                    "default" => reranked_ids(&engine.rerank(text, &pool, &options.rerank)?),
                    "default-without-cross-encoder" => reranked_ids(&fused(text, &pool, &options.rerank)),
                    "rerank" => reranked_ids(&engine.rerank(text, &pool, &ce_only.rerank)?),
                    "dense" => candidate_ids(&dense_pool),
                    _ => reranked_ids(&engine.rerank(text, &pool, &compared.as_ref().unwrap_or(options).rerank)?),
                };
                seconds[m] += stage1 + t.elapsed().as_secs_f64();
                per_method[m].push(Metrics::of(&ranking, rel));
            }
            bar.inc(1);
            continue;
        }
        for (m, method) in methods.iter().enumerate() {
            let t = Instant::now();
            // the three methods that rerank share one pool: the logits of the second and third
            // come from the score cache
            let ranking: Vec<String> = match method.as_str() {
                "default" => hit_ids(&engine.search(text, options)?),
                "default-without-cross-encoder" => hit_ids(&engine.search(text, &without_ce)?),
                "rerank" => hit_ids(&engine.search(text, &ce_only)?),
                "dense" => candidate_ids(&engine.retrieve_with(text, &retrieve(Retrieval::Dense))?),
                "bm25" => candidate_ids(&engine.retrieve_with(text, &retrieve(Retrieval::Bm25))?),
                "hybrid" => candidate_ids(&engine.retrieve_with(text, &retrieve(Retrieval::Hybrid))?),
                _ if method.starts_with("fusion(") && compared.is_some() => {
                    hit_ids(&engine.search(text, compared.as_ref().unwrap_or(options))?)
                }
                other => unreachable!("clap admits only known methods, got {other}"),
            };
            seconds[m] += t.elapsed().as_secs_f64();
            per_method[m].push(Metrics::of(&ranking, rel));
        }
        if let Some(out) = dump.as_mut() {
            let line = dump_query(&engine, qid, text, rel, options)?;
            writeln!(out, "{line}").map_err(|e| Error::Io { path: "--dump".into(), reason: e.to_string() })?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if let Some(mut out) = dump {
        out.flush().map_err(|e| Error::Io { path: "--dump".into(), reason: e.to_string() })?;
    }
    let means: Vec<Metrics> = per_method.iter().map(|m| Metrics::mean(m)).collect();
    // each method's nDCG@10 against dense's on the same queries, with a paired bootstrap interval
    let dense = methods.iter().position(|m| m == "dense");
    let ndcg = |m: usize| per_method[m].iter().map(|x| x.ndcg_10).collect::<Vec<f64>>();
    let versus_dense: Vec<Option<Difference>> = (0..methods.len())
        .map(|m| dense.filter(|&d| d != m).map(|d| Difference::paired(&ndcg(m), &ndcg(d), run.bootstrap, 0x5eed)))
        .collect();
    let f = engine.reranker().fusion(options.rerank.fusion);
    let pool = serde_json::to_value(options.source.mode())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    if common.json {
        let out = json!({
            "collection": collection.name,
            "kind": collection.kind,
            "documents": n_docs,
            "queries": collection.queries.len(),
            "candidates": options.pool.candidates,
            "retrieval": pool,
            "fusion": f,
            "max_length": options.rerank.max_length,
            "methods": methods.iter().zip(&means).map(|(k, m)| (k.clone(), json!(m))).collect::<serde_json::Map<_, _>>(),
            "versus_dense": methods.iter().zip(&versus_dense).filter_map(|(k, d)| d.map(|d| (k.clone(), json!(d)))).collect::<serde_json::Map<_, _>>(),
            "seconds": {
                "index": index_s,
                "index_cached": cached,
                "methods": methods.iter().zip(&seconds).map(|(k, s)| (k.clone(), json!(s))).collect::<serde_json::Map<_, _>>(),
            },
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    let kind = collection.kind.as_deref().map(|k| format!(" ({k})")).unwrap_or_default();
    println!(
        "{}{kind}: {} documents, {} judged queries; pool: {pool} top {}; fusion weights dense {} bm25 {} cross-encoder {}; max_length {}\n",
        collection.name,
        n_docs,
        collection.queries.len(),
        options.pool.candidates,
        f.dense,
        f.bm25.map_or("by query length".to_string(), |w| w.to_string()),
        f.cross_encoder.unwrap_or_default(),
        options.rerank.max_length
    );
    println!("| method | nDCG@10 | vs dense (95% CI) | nDCG@5 | MRR@10 | R@100 | P@5 | seconds |");
    println!("|---|---|---|---|---|---|---|---|");
    for (((name, m), s), d) in methods.iter().zip(&means).zip(&seconds).zip(&versus_dense) {
        let d = d.map_or("-".to_string(), |d| d.to_string());
        println!(
            "| {name} | {:.4} | {d} | {:.4} | {:.4} | {:.4} | {:.4} | {s:.1} |",
            m.ndcg_10, m.ndcg_5, m.mrr_10, m.recall_100, m.p_5
        );
    }
    println!("\nseconds: index {index_s:.1}{}", if cached { " (read from --index)" } else { "" });
    Ok(())
}

/// Whether the engine's index holds exactly these documents, with these texts.
fn indexes(engine: &Minirank, corpus: &[Document]) -> bool {
    engine.len() == corpus.len() && corpus.iter().all(|d| engine.index().get(&d.id).is_some_and(|x| x.text == d.text))
}

/// One query's line of `--dump`: the dense and BM25 top 100 with both signals and their ranks,
/// and the cross-encoder logit of the dense and hybrid top `candidates`.
fn dump_query(
    engine: &Minirank,
    qid: &str,
    text: &str,
    rel: &std::collections::HashMap<String, u32>,
    options: &SearchOptions,
) -> Result<String> {
    const DEPTH: usize = 100;
    let n = options.pool.candidates;
    // the query is embedded once here for the dense list and the cosines of the BM25-only hits
    let q = engine.embedder().embed_one(text)?;
    let dense = engine.retrieve_vector(&q, &RetrieveOptions::of(DEPTH.max(n), Retrieval::Dense))?;
    let lexical = engine.retrieve_with(text, &RetrieveOptions::of(DEPTH.max(n), Retrieval::Bm25))?;
    let hybrid = engine.retrieve_with(text, &RetrieveOptions::of(n, Retrieval::Hybrid))?;
    let mut ids: Vec<String> = Vec::new();
    for c in dense.iter().chain(&lexical) {
        if !ids.contains(&c.id) {
            ids.push(c.id.clone());
        }
    }
    let bm25 = engine.index().bm25_scores(text, &ids.iter().map(String::as_str).collect::<Vec<_>>());
    let scored: Vec<&str> = {
        let mut s: Vec<&str> = Vec::new();
        for c in dense.iter().take(n).chain(&hybrid) {
            if !s.contains(&c.id.as_str()) {
                s.push(c.id.as_str());
            }
        }
        s
    };
    let texts: Vec<&str> = scored.iter().map(|id| engine.index().get(id).map_or("", |d| d.text.as_str())).collect();
    let logits =
        engine.reranker().model()?.score(text, &texts, options.rerank.max_length, options.rerank.batch_size)?;
    let rank = |list: &[Candidate], id: &str| list.iter().position(|c| c.id == id).map(|p| p + 1);
    let candidates: Vec<serde_json::Value> = ids
        .iter()
        .zip(&bm25)
        .map(|(id, &b)| {
            json!({
                "id": id,
                "dense": engine.index().vector(id).map(|v| minirank::kernels::dot(&q, v)),
                "bm25": b,
                "dense_rank": rank(&dense, id),
                "bm25_rank": rank(&lexical, id),
                "hybrid_rank": rank(&hybrid, id),
                "logit": scored.iter().position(|s| s == id).map(|i| logits[i]),
            })
        })
        .collect();
    let terms = engine.index().bm25_params().analyzer().distinct_terms(text);
    Ok(json!({ "query": qid, "text": text, "terms": terms, "judged": rel, "candidates": candidates }).to_string())
}

/// A pool ordered by the fused score without the cross-encoder's term (BM25 over the pool).
fn fused(query: &str, pool: &[Candidate], options: &RerankOptions) -> Reranked {
    let params = Bm25Params::default();
    let texts: Vec<&str> = pool.iter().map(|c| c.text.as_str()).collect();
    let mut pool = pool.to_vec();
    for (c, s) in pool.iter_mut().zip(minirank::bm25::pool_scores(query, &texts, &params)) {
        c.bm25 = Some(s);
    }
    minirank::rerank::fuse_without_cross_encoder(&pool, options, params.analyzer().distinct_terms(query))
}

fn reranked_ids(r: &Reranked) -> Vec<String> {
    r.hits.iter().map(|h| h.id.clone()).collect()
}

fn hit_ids(r: &SearchResult) -> Vec<String> {
    r.reranked.hits.iter().map(|h| h.id.clone()).collect()
}

fn candidate_ids(c: &[Candidate]) -> Vec<String> {
    c.iter().map(|c| c.id.clone()).collect()
}
