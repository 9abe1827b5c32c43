//! Multi-signal reranking: blend the cross-encoder's relevance with metadata signals, each
//! result keeping its components so the order can be explained.
//!
//! ```text
//! final = relevance·w_r + freshness·w_f + authority·w_a − redundancy·w_d
//! ```
//! - **relevance**: `sigmoid(fused)`, the fused stage-2 score (see [`crate::fusion`]) in 0..1;
//! - **freshness**: from a timestamp field (Unix milliseconds or an ISO-8601 string), `1 / (1 + age / halfLife)`
//!   (hyperbolic, the default) or `0.5^(age / halfLife)` (exponential), 1 for now or the future;
//! - **authority**: a weight per value of a field (e.g. `source`), a default for the others;
//! - **redundancy**: maximal marginal relevance: results are picked greedily and each pays its
//!   highest cosine similarity (bi-encoder vectors) to the results already picked; and/or at
//!   most `maxPerParent` results per parent document.

use crate::error::{bail_option, Result};
use crate::hits::RerankedHit;
use crate::kernels::{dot, sigmoid};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// Signal weights and settings for one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Signals {
    /// Weight of the cross-encoder relevance.
    pub relevance: f32,
    /// Prefer recent documents.
    pub freshness: Option<Freshness>,
    /// Prefer trusted sources.
    pub authority: Option<Authority>,
    /// Prefer results that add something new.
    pub diversity: Option<Diversity>,
    /// The current time in Unix milliseconds (default: the clock; set it for reproducible runs).
    pub now: Option<f64>,
}

impl Default for Signals {
    fn default() -> Self {
        Self { relevance: 1.0, freshness: None, authority: None, diversity: None, now: None }
    }
}

/// How freshness decays with age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Decay {
    /// `1 / (1 + age / halfLife)`.
    #[default]
    Hyperbolic,
    /// `0.5^(age / halfLife)`.
    Exponential,
}

/// Freshness from a timestamp in the metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Freshness {
    /// Metadata field (dotted path) with Unix milliseconds or an ISO-8601 date/time.
    pub field: String,
    /// Age, in days, at which freshness has fallen to 0.5.
    pub half_life_days: f64,
    /// Decay curve.
    pub decay: Decay,
    /// Weight in the final score.
    pub weight: f32,
    /// Freshness of documents without a readable timestamp.
    pub missing: f32,
}

impl Default for Freshness {
    fn default() -> Self {
        Self { field: "updatedAt".into(), half_life_days: 30.0, decay: Decay::Hyperbolic, weight: 0.15, missing: 0.0 }
    }
}

/// Authority from a categorical field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Authority {
    /// Metadata field (dotted path) naming the source.
    pub field: String,
    /// Authority per field value (0..=1 by convention).
    pub weights: HashMap<String, f32>,
    /// Authority of values not in `weights`, and of documents without the field.
    pub default: f32,
    /// Weight in the final score.
    pub weight: f32,
}

impl Default for Authority {
    fn default() -> Self {
        Self { field: "source".into(), weights: HashMap::new(), default: 0.5, weight: 0.15 }
    }
}

/// Diversity: an MMR penalty and/or a cap per parent document.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Diversity {
    /// Weight of the redundancy penalty (0 turns MMR off).
    pub weight: f32,
    /// Keep at most this many results from one parent document.
    pub max_per_parent: Option<usize>,
}

impl Default for Diversity {
    fn default() -> Self {
        Self { weight: 0.1, max_per_parent: None }
    }
}

pub use crate::hits::Components;

fn check_weight(name: &'static str, w: f32) -> Result<()> {
    if !w.is_finite() || !(0.0..=10.0).contains(&w) {
        bail_option!(name, "must be a number between 0 and 10, got {w}");
    }
    Ok(())
}

impl Signals {
    /// Check every field.
    pub fn validate(&self) -> Result<()> {
        check_weight("signals.relevance", self.relevance)?;
        if let Some(f) = &self.freshness {
            check_weight("signals.freshness.weight", f.weight)?;
            if !f.half_life_days.is_finite() || f.half_life_days <= 0.0 {
                bail_option!(
                    "signals.freshness.halfLifeDays",
                    "must be a positive number of days, got {}",
                    f.half_life_days
                );
            }
            if !(0.0..=1.0).contains(&f.missing) {
                bail_option!("signals.freshness.missing", "must be between 0 and 1, got {}", f.missing);
            }
            if f.field.is_empty() {
                bail_option!("signals.freshness.field", "must name a metadata field");
            }
        }
        if let Some(a) = &self.authority {
            check_weight("signals.authority.weight", a.weight)?;
            if a.field.is_empty() {
                bail_option!("signals.authority.field", "must name a metadata field");
            }
            if !a.default.is_finite() || a.weights.values().any(|w| !w.is_finite()) {
                bail_option!("signals.authority.weights", "must be finite numbers");
            }
        }
        if let Some(d) = &self.diversity {
            check_weight("signals.diversity.weight", d.weight)?;
            if d.max_per_parent == Some(0) {
                bail_option!("signals.diversity.maxPerParent", "must be at least 1");
            }
        }
        if let Some(now) = self.now {
            if !now.is_finite() {
                bail_option!("signals.now", "must be a finite number of Unix milliseconds");
            }
        }
        Ok(())
    }

    /// Whether the MMR penalty needs vectors.
    pub fn needs_vectors(&self) -> bool {
        self.diversity.is_some_and(|d| d.weight > 0.0)
    }
}

fn field<'a>(metadata: Option<&'a Value>, path: &str) -> Option<&'a Value> {
    metadata.and_then(|m| path.split('.').try_fold(m, |v, k| v.get(k)))
}

/// Unix milliseconds of a timestamp value: a number (milliseconds) or an ISO-8601 string
/// `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|±HH:MM]` (no zone means UTC).
pub fn timestamp_ms(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()),
        Value::String(s) => parse_iso8601(s.trim()),
        _ => None,
    }
}

fn parse_iso8601(s: &str) -> Option<f64> {
    let num = |t: &str| -> Option<i64> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok()).flatten()
    };
    let cut = s.len().min(10);
    if !s.is_char_boundary(cut) {
        return None;
    }
    let (date, rest) = s.split_at(cut);
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if date.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(y, m, day) as f64 * 86_400_000.0;
    if rest.is_empty() {
        return Some(ms);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let mut t = time.split(':');
    let (h, mi) = (num(t.next()?)?, num(t.next()?)?);
    let sec: f64 = match t.next() {
        Some(sx) => {
            let (whole, frac) = sx.split_once('.').unwrap_or((sx, ""));
            num(whole)? as f64 + if frac.is_empty() { 0.0 } else { format!("0.{frac}").parse::<f64>().ok()? }
        }
        None => 0.0,
    };
    if h > 23 || mi > 59 || sec >= 61.0 {
        return None;
    }
    ms += (h * 3_600_000 + mi * 60_000) as f64 + sec * 1000.0;
    match zone {
        "" | "Z" | "z" => Some(ms),
        z => {
            let sign = if z.starts_with('-') { 1.0 } else { -1.0 };
            let hm = z[1..].replace(':', "");
            if hm.len() != 4 {
                return None;
            }
            let (zh, zm) = (num(&hm[..2])?, num(&hm[2..])?);
            Some(ms + sign * (zh * 3_600_000 + zm * 60_000) as f64)
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Freshness {
    /// Freshness of a document with this metadata at time `now` (Unix ms).
    pub fn value(&self, metadata: Option<&Value>, now: f64) -> f32 {
        let Some(t) = field(metadata, &self.field).and_then(timestamp_ms) else { return self.missing };
        let age = ((now - t) / 86_400_000.0).max(0.0) / self.half_life_days;
        (match self.decay {
            Decay::Hyperbolic => 1.0 / (1.0 + age),
            Decay::Exponential => 0.5f64.powf(age),
        }) as f32
    }
}

impl Authority {
    /// Authority of a document with this metadata.
    pub fn value(&self, metadata: Option<&Value>) -> f32 {
        let key = match field(metadata, &self.field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => return self.default,
        };
        self.weights.get(&key).copied().unwrap_or(self.default)
    }
}

/// Re-order reranked hits by the weighted signals, filling each hit's `components`.
/// `vectors[i]` is hit `i`'s unit vector (needed only when MMR is on; a hit without one pays no
/// penalty); `now` is Unix milliseconds. Hits dropped by `maxPerParent` are removed.
pub fn apply(hits: Vec<RerankedHit>, signals: &Signals, now: f64, vectors: &[Option<Vec<f32>>]) -> Vec<RerankedHit> {
    let base: Vec<Components> = hits
        .iter()
        .map(|h| {
            let relevance = sigmoid(h.fused);
            let freshness = signals.freshness.as_ref().map(|f| f.value(h.metadata.as_ref(), now));
            let authority = signals.authority.as_ref().map(|a| a.value(h.metadata.as_ref()));
            let final_score = relevance * signals.relevance
                + freshness.zip(signals.freshness.as_ref()).map_or(0.0, |(v, f)| v * f.weight)
                + authority.zip(signals.authority.as_ref()).map_or(0.0, |(v, a)| v * a.weight);
            Components { relevance, freshness, authority, redundancy: None, final_score }
        })
        .collect();
    let diversity = signals.diversity.unwrap_or(Diversity { weight: 0.0, max_per_parent: None });
    let mmr = diversity.weight > 0.0;
    let mut picked: Vec<usize> = Vec::with_capacity(hits.len());
    let mut parts: Vec<Components> = Vec::with_capacity(hits.len());
    let mut per_parent: HashMap<&str, usize> = HashMap::new();
    let mut left: Vec<usize> = (0..hits.len()).collect();
    while !left.is_empty() {
        let mut best: Option<(usize, Components)> = None;
        for (pos, &i) in left.iter().enumerate() {
            let mut c = base[i];
            if mmr {
                let red = vectors.get(i).and_then(Option::as_ref).map_or(0.0, |v| {
                    picked
                        .iter()
                        .filter_map(|&j| vectors.get(j).and_then(Option::as_ref))
                        .map(|w| dot(v, w))
                        .fold(0.0f32, f32::max)
                });
                c.redundancy = Some(red);
                c.final_score -= diversity.weight * red;
            }
            if best.as_ref().is_none_or(|(_, b)| c.final_score > b.final_score) {
                best = Some((pos, c));
            }
        }
        let Some((pos, c)) = best else { break };
        let i = left.remove(pos);
        let group = hits[i].group_id();
        let n = per_parent.entry(group).or_insert(0);
        if diversity.max_per_parent.is_some_and(|cap| *n >= cap) {
            continue;
        }
        *n += 1;
        picked.push(i);
        parts.push(c);
    }
    let mut slots: Vec<Option<RerankedHit>> = hits.into_iter().map(Some).collect();
    picked
        .into_iter()
        .zip(parts)
        .filter_map(|(i, c)| {
            let mut h = slots[i].take()?;
            h.components = Some(c);
            Some(h)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: f64 = 86_400_000.0;

    #[test]
    fn iso_dates_parse_to_unix_ms() {
        assert_eq!(timestamp_ms(&json!("1970-01-01")), Some(0.0));
        assert_eq!(timestamp_ms(&json!("2000-03-01")), Some(11_017.0 * DAY));
        assert_eq!(timestamp_ms(&json!("2024-02-29T12:30:00Z")), Some(19_782.0 * DAY + 45_000_000.0));
        assert_eq!(timestamp_ms(&json!("2024-02-29T14:30:00+02:00")), Some(19_782.0 * DAY + 45_000_000.0));
        assert_eq!(timestamp_ms(&json!("2024-02-29T12:30:00.5")), Some(19_782.0 * DAY + 45_000_500.0));
        assert_eq!(timestamp_ms(&json!(1234.0)), Some(1234.0));
        for bad in [
            json!("2024-01-0é"),
            json!("yesterday"),
            json!("2024-13-01"),
            json!("2024-01-01T25:00"),
            json!(true),
            json!("2024-1-1"),
        ] {
            assert_eq!(timestamp_ms(&bad), None, "{bad}");
        }
    }

    #[test]
    fn freshness_decays_as_documented() {
        let now = 1000.0 * DAY;
        let h = Freshness { field: "t".into(), ..Default::default() };
        let meta = |days_old: f64| json!({"t": now - days_old * DAY});
        assert_eq!(h.value(Some(&meta(0.0)), now), 1.0);
        assert!((h.value(Some(&meta(30.0)), now) - 0.5).abs() < 1e-6);
        assert!((h.value(Some(&meta(60.0)), now) - 1.0 / 3.0).abs() < 1e-6, "the seed's 1/(1 + days/30)");
        let e = Freshness { decay: Decay::Exponential, ..h.clone() };
        assert!((e.value(Some(&meta(60.0)), now) - 0.25).abs() < 1e-6);
        assert_eq!(h.value(Some(&meta(-5.0)), now), 1.0, "future dates count as new");
        assert_eq!(h.value(None, now), 0.0);
        assert_eq!(h.value(Some(&json!({"t": "not a date"})), now), 0.0);
    }

    #[test]
    fn authority_reads_the_field() {
        let a =
            Authority { weights: [("docs".to_string(), 1.0), ("slack".to_string(), 0.2)].into(), ..Default::default() };
        assert_eq!(a.value(Some(&json!({"source": "docs"}))), 1.0);
        assert_eq!(a.value(Some(&json!({"source": "slack"}))), 0.2);
        assert_eq!(a.value(Some(&json!({"source": "blog"}))), 0.5);
        assert_eq!(a.value(None), 0.5);
    }

    #[test]
    fn validation_names_the_field() {
        let bad = [
            Signals { relevance: f32::NAN, ..Default::default() },
            Signals { freshness: Some(Freshness { half_life_days: 0.0, ..Default::default() }), ..Default::default() },
            Signals { authority: Some(Authority { weight: -1.0, ..Default::default() }), ..Default::default() },
            Signals { diversity: Some(Diversity { weight: 0.1, max_per_parent: Some(0) }), ..Default::default() },
        ];
        for s in bad {
            assert!(s.validate().is_err(), "{s:?}");
        }
        Signals::default().validate().unwrap();
    }
}
