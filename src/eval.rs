//! Retrieval quality: BEIR-layout collections and the usual IR metrics.
//!
//! A collection folder holds `corpus.jsonl` (`{"_id","title","text"}`), `queries.jsonl`
//! (`{"_id","text"}`) and `qrels/test.tsv` (`query-id corpus-id score`, header line;
//! score > 0 means relevant, graded). Gains are linear in the grade, as in `trec_eval`.

use crate::error::{Error, Result};
use crate::index::Document;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// A test collection: documents, judged queries, relevance judgements.
#[derive(Debug, Clone)]
pub struct Collection {
    /// Folder name.
    pub name: String,
    /// Documents; text is `title + " " + text` when a title exists (BEIR's convention).
    pub corpus: Vec<Document>,
    /// (query id, query text) for queries that have at least one relevant document.
    pub queries: Vec<(String, String)>,
    /// query id → (document id → grade).
    pub qrels: HashMap<String, HashMap<String, u32>>,
    /// What kind of collection it is (e.g. "question → answer passage"), from the `kind` field
    /// of an optional `collection.json` beside `corpus.jsonl`.
    pub kind: Option<String>,
}

/// The text BEIR embeds for a document.
pub fn beir_text(title: &str, text: &str) -> String {
    let (title, text) = (title.trim(), text.trim());
    match (title.is_empty(), text.is_empty()) {
        (true, _) => text.to_owned(),
        (false, true) => title.to_owned(),
        (false, false) => format!("{title} {text}"),
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Io { path: path.display().to_string(), reason: e.to_string() })
}

fn json_lines(path: &Path) -> Result<Vec<serde_json::Value>> {
    read(path)?
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|e| Error::Json {
                context: format!("{} line {}", path.display(), n + 1),
                reason: e.to_string(),
            })
        })
        .collect()
}

fn field(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The documents of a BEIR-layout collection, `dir/corpus.jsonl` (those with an id and a text).
pub fn load_beir_corpus(dir: &Path) -> Result<Vec<Document>> {
    Ok(json_lines(&dir.join("corpus.jsonl"))?
        .iter()
        .map(|v| Document::new(field(v, "_id"), beir_text(&field(v, "title"), &field(v, "text"))))
        .filter(|d| !d.id.is_empty() && !d.text.is_empty())
        .collect())
}

/// Load a BEIR-layout collection from `dir` (qrels from `qrels/test.tsv`).
pub fn load_beir(dir: &Path) -> Result<Collection> {
    let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
    let qrels_path = dir.join("qrels").join("test.tsv");
    for (n, line) in read(&qrels_path)?.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 || (n == 0 && cols[2].trim().parse::<f64>().is_err()) {
            continue;
        }
        let grade: f64 = cols[2].trim().parse().map_err(|_| Error::Json {
            context: format!("{} line {}", qrels_path.display(), n + 1),
            reason: format!("score {:?} is not a number", cols[2]),
        })?;
        if grade > 0.0 {
            qrels.entry(cols[0].trim().to_owned()).or_default().insert(cols[1].trim().to_owned(), grade.round() as u32);
        }
    }
    let corpus = load_beir_corpus(dir)?;
    let queries = json_lines(&dir.join("queries.jsonl"))?
        .iter()
        .map(|v| (field(v, "_id"), field(v, "text")))
        .filter(|(id, text)| qrels.contains_key(id) && !text.trim().is_empty())
        .collect();
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let about = dir.join("collection.json");
    let kind = if about.exists() {
        let v: serde_json::Value = serde_json::from_str(&read(&about)?)
            .map_err(|e| Error::Json { context: about.display().to_string(), reason: e.to_string() })?;
        v.get("kind").and_then(|k| k.as_str()).map(str::to_owned)
    } else {
        None
    };
    Ok(Collection { name, corpus, queries, qrels, kind })
}

/// Mean metrics over queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Metrics {
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    #[serde(rename = "ndcg@5")]
    pub ndcg_5: f64,
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
    #[serde(rename = "recall@100")]
    pub recall_100: f64,
    #[serde(rename = "p@5")]
    pub p_5: f64,
}

fn ndcg(ranking: &[String], rel: &HashMap<String, u32>, k: usize) -> f64 {
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, d)| rel.get(d).copied().unwrap_or(0) as f64 / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u32> = rel.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, &g)| g as f64 / (i as f64 + 2.0).log2()).sum();
    if idcg > 0.0 {
        dcg / idcg
    } else {
        0.0
    }
}

impl Metrics {
    /// Metrics of one ranking (best first) against one query's judgements.
    pub fn of(ranking: &[String], rel: &HashMap<String, u32>) -> Self {
        let is_rel = |d: &String| rel.get(d).is_some_and(|&g| g > 0);
        let relevant = rel.values().filter(|&&g| g > 0).count();
        Self {
            ndcg_10: ndcg(ranking, rel, 10),
            ndcg_5: ndcg(ranking, rel, 5),
            mrr_10: ranking.iter().take(10).position(is_rel).map_or(0.0, |p| 1.0 / (p as f64 + 1.0)),
            recall_100: if relevant == 0 {
                0.0
            } else {
                ranking.iter().take(100).filter(|d| is_rel(d)).count() as f64 / relevant as f64
            },
            p_5: ranking.iter().take(5).filter(|d| is_rel(d)).count() as f64 / 5.0,
        }
    }

    /// Mean of per-query metrics (zeros for an empty list).
    pub fn mean(all: &[Metrics]) -> Self {
        if all.is_empty() {
            return Self::default();
        }
        let n = all.len() as f64;
        let sum = |f: fn(&Metrics) -> f64| all.iter().map(f).sum::<f64>() / n;
        Self {
            ndcg_10: sum(|m| m.ndcg_10),
            ndcg_5: sum(|m| m.ndcg_5),
            mrr_10: sum(|m| m.mrr_10),
            recall_100: sum(|m| m.recall_100),
            p_5: sum(|m| m.p_5),
        }
    }
}

/// A method's mean metric minus a baseline's on the same queries, with a paired bootstrap 95%
/// interval (queries resampled with replacement; percentiles 2.5 and 97.5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    /// Mean of the method minus mean of the baseline.
    pub mean: f64,
    /// The interval's bounds (equal to `mean` when no resamples were asked for).
    pub low: f64,
    /// See `low`.
    pub high: f64,
    /// `mean` relative to the baseline's mean (0 when that is 0).
    pub relative: f64,
}

impl Difference {
    /// `method[i] − baseline[i]` over queries `i`, `resamples` bootstrap draws from a fixed `seed`
    /// (the same inputs give the same interval).
    pub fn paired(method: &[f64], baseline: &[f64], resamples: usize, seed: u64) -> Self {
        let n = method.len().min(baseline.len());
        let diffs: Vec<f64> = (0..n).map(|i| method[i] - baseline[i]).collect();
        let mean = |xs: &[f64]| if xs.is_empty() { 0.0 } else { xs.iter().sum::<f64>() / xs.len() as f64 };
        let d = mean(&diffs);
        let base = mean(&baseline[..n]);
        let relative = if base.abs() > 0.0 { d / base } else { 0.0 };
        if resamples == 0 || n == 0 {
            return Self { mean: d, low: d, high: d, relative };
        }
        let mut state = seed | 1;
        let mut next = move || {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let mut means: Vec<f64> = (0..resamples)
            .map(|_| (0..n).map(|_| diffs[(next() % n as u64) as usize]).sum::<f64>() / n as f64)
            .collect();
        means.sort_by(f64::total_cmp);
        let at = |p: f64| means[((p * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
        Self { mean: d, low: at(0.025), high: at(0.975), relative }
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:+.4} ({:+.1}%) [{:+.4}, {:+.4}]", self.mean, 100.0 * self.relative, self.low, self.high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn metrics_by_hand() {
        let rel: HashMap<String, u32> = [("a".to_string(), 2), ("b".to_string(), 1)].into();
        let m = Metrics::of(&ids(&["x", "a", "y", "b"]), &rel);
        let dcg = 2.0 / 3f64.log2() + 1.0 / 5f64.log2();
        let idcg = 2.0 + 1.0 / 3f64.log2();
        assert!((m.ndcg_10 - dcg / idcg).abs() < 1e-12);
        assert_eq!(m.mrr_10, 0.5);
        assert_eq!(m.recall_100, 1.0);
        assert!((m.p_5 - 0.4).abs() < 1e-12);
        let perfect = Metrics::of(&ids(&["a", "b"]), &rel);
        assert!((perfect.ndcg_10 - 1.0).abs() < 1e-12);
        let none = Metrics::of(&ids(&["x"]), &rel);
        assert_eq!((none.ndcg_10, none.mrr_10, none.recall_100), (0.0, 0.0, 0.0));
        let mean = Metrics::mean(&[perfect, none]);
        assert!((mean.ndcg_10 - 0.5).abs() < 1e-12);
    }

    #[test]
    fn paired_bootstrap_brackets_the_mean_and_is_reproducible() {
        let base: Vec<f64> = (0..50).map(|i| (i % 7) as f64 / 7.0).collect();
        let better: Vec<f64> = base.iter().enumerate().map(|(i, b)| b + if i % 3 == 0 { 0.2 } else { 0.05 }).collect();
        let d = Difference::paired(&better, &base, 1000, 7);
        assert!(d.mean > 0.0 && d.low <= d.mean && d.mean <= d.high, "{d:?}");
        assert!(d.low > 0.0, "every query gains, so the interval excludes 0: {d:?}");
        assert_eq!(d, Difference::paired(&better, &base, 1000, 7));
        assert!((d.relative - d.mean / (base.iter().sum::<f64>() / 50.0)).abs() < 1e-12);
        // a method equal to the baseline: a zero-width interval at 0
        let same = Difference::paired(&base, &base, 200, 1);
        assert_eq!((same.mean, same.low, same.high), (0.0, 0.0, 0.0));
        let none = Difference::paired(&better, &base, 0, 1);
        assert_eq!((none.low, none.high), (none.mean, none.mean));
    }

    #[test]
    fn beir_text_joins_title() {
        assert_eq!(beir_text("T", "body"), "T body");
        assert_eq!(beir_text("", " body "), "body");
        assert_eq!(beir_text("T", ""), "T");
    }

    #[test]
    fn loads_shared_cacm() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cacm");
        assert!(dir.exists(), "../shared/data/cacm must be beside the checkout");
        let c = load_beir(&dir).unwrap();
        assert_eq!(c.corpus.len(), 3204);
        assert_eq!(c.queries.len(), 52);
        assert!(c.queries.iter().all(|(q, _)| c.qrels.contains_key(q)));
    }
}
