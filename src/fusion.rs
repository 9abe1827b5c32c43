//! Fused stage-2 scoring: the ranking score of a candidate is a weighted sum of its signals,
//! each z-normalised over the candidate pool of the query (`(x − mean) / std`):
//!
//! ```text
//! fused = w_dense · z(cosine to the query) + w_bm25 · z(BM25) + w_ce · z(cross-encoder logit)
//! ```
//!
//! The bi-encoder and BM25 see different things (meaning vs. exact words) and the cross-encoder a
//! third (the query and the document read together), so a weighted sum can rank better than any
//! one of them; the z-normalisation puts scores of different scales on one footing per query. The
//! default weights (BM25's chosen per query from its length, [`AdaptiveBm25`]) were chosen on
//! development collections of several kinds (`docs/quality.md`).

use crate::error::{bail_option, Result};
use serde::{Deserialize, Serialize};

/// Weights of the fused score. Fields left out keep their default; the BM25 weight, left out, is
/// chosen per query from the query's length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Fusion {
    /// Weight of the bi-encoder's cosine similarity.
    pub dense: f32,
    /// Weight of the candidate's BM25 score for the query. Left out or null (the default): chosen
    /// per query from its number of BM25 terms, 0 for a few words, rising to 0.75 for a
    /// descriptive query of 16 to 32 terms, and back to 0 for one as long as a document (the rule
    /// is `DEFAULT_ADAPTIVE_BM25` in the Rust crate).
    pub bm25: Option<f32>,
    /// Weight of the cross-encoder's logit. Left out or null (the default): the cross-encoder's
    /// own, from its `config.json` (`"minirank": {"fusion": {"crossEncoder": w}}`; the shipped
    /// cross-encoder says 0), else 1 ([`CROSS_ENCODER_WEIGHT`]).
    pub cross_encoder: Option<f32>,
}

/// The default weights: cosine 1, BM25 by the query's length ([`DEFAULT_ADAPTIVE_BM25`]), and the
/// cross-encoder's own weight. The shipped cross-encoder's `config.json` gives it 0: on the
/// development collections, giving its logit a weight either ranked some collection below dense
/// retrieval or gained less on average (`docs/quality.md`); its logit still gives each hit its
/// `score` and `min_score` its threshold, and orders candidates whose fused scores are equal.
pub const DEFAULT_FUSION: Fusion = Fusion { dense: 1.0, bm25: None, cross_encoder: None };

/// The weight of a cross-encoder whose `config.json` gives none: as much as the bi-encoder's. A
/// model someone chose to load in place of the shipped one is one they trust to rank; weighing it
/// equal to the cosine (both z-normalised over the pool) lets it reorder the pool while a pair it
/// misjudges alone does not sink a document both other signals rank high. No such model could be
/// measured where minirank is developed; `minirank eval --fusion` measures a model's weight on a
/// collection of one's own.
pub const CROSS_ENCODER_WEIGHT: f32 = 1.0;

impl Default for Fusion {
    fn default() -> Self {
        DEFAULT_FUSION
    }
}

/// How the BM25 weight follows the query when it is not given, by the query's number of distinct
/// BM25 terms (stop words dropped, stemmed): 0 up to `from_terms`, rising linearly to `max` at
/// `full_terms`, `max` up to `fade_from`, then falling linearly to 0 at twice `fade_from`.
///
/// A question or a few words typed into a search box is where the bi-encoder is strong and BM25
/// rests on one or two words, so keyword matches would push the bi-encoder's better order aside.
/// A descriptive query (an information need, a claim, a request of a few lines) is where BM25
/// gathers evidence from many words and the bi-encoder, trained on short queries, is weakest. A
/// query as long as a document (a whole argument or post, searching by example) shares words with
/// every document on its topic, and BM25 stops telling them apart. On the development collections
/// no feature of the candidates' scores (the two signals' agreement, their spread, how much of the
/// query the candidates contain) told these cases apart; the query's length did
/// (`docs/quality.md`, `training/fusion_select.py`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveBm25 {
    /// At or below this many terms the BM25 weight is 0.
    pub from_terms: usize,
    /// From this many terms on the weight is `max`...
    pub full_terms: usize,
    /// ... up to this many; at twice as many it is 0 again.
    pub fade_from: usize,
    /// The largest weight.
    pub max: f32,
}

/// The rule the default fusion uses.
pub const DEFAULT_ADAPTIVE_BM25: AdaptiveBm25 =
    AdaptiveBm25 { from_terms: 5, full_terms: 16, fade_from: 32, max: 0.75 };

impl AdaptiveBm25 {
    /// The BM25 weight for a query of `terms` distinct terms.
    pub fn weight(&self, terms: usize) -> f32 {
        let n = terms as f32;
        let span = self.full_terms.saturating_sub(self.from_terms).max(1) as f32;
        let rise = ((n - self.from_terms as f32) / span).clamp(0.0, 1.0);
        let fade = (2.0 - n / self.fade_from.max(1) as f32).clamp(0.0, 1.0);
        self.max * rise * fade
    }
}

/// The weights one query's fused score used: [`Fusion`] with the BM25 weight resolved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Weights {
    /// Weight of the cosine similarity.
    pub dense: f32,
    /// Weight of BM25 (given, or chosen for this query).
    pub bm25: f32,
    /// Weight of the cross-encoder's logit.
    pub cross_encoder: f32,
}

/// What each signal added to one candidate's fused score (its weight times its z-score; 0 for a
/// signal with weight 0 or one that was not available for every candidate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contributions {
    /// From the cosine similarity.
    pub dense: f32,
    /// From BM25.
    pub bm25: f32,
    /// From the cross-encoder logit.
    pub cross_encoder: f32,
}

impl Contributions {
    /// The fused score: the sum of the contributions.
    pub fn total(&self) -> f32 {
        self.dense + self.bm25 + self.cross_encoder
    }
}

impl Fusion {
    /// Rank by the cross-encoder alone (the order of the logits).
    pub const CROSS_ENCODER_ONLY: Fusion = Fusion { dense: 0.0, bm25: Some(0.0), cross_encoder: Some(1.0) };

    /// These weights without the cross-encoder.
    pub fn without_cross_encoder(self) -> Self {
        Fusion { cross_encoder: Some(0.0), ..self }
    }

    /// These weights with the cross-encoder's, left out, taken from `model_weight` (the model's own,
    /// `CrossEncoder::fusion_weight`, or [`CROSS_ENCODER_WEIGHT`]).
    pub fn resolved(self, model_weight: f32) -> Self {
        Fusion { cross_encoder: Some(self.cross_encoder.unwrap_or(model_weight)), ..self }
    }

    /// Each weight finite and in 0..=100, and at least one that can be above 0 (the
    /// cross-encoder's own weight, left out, may be).
    pub fn validate(&self) -> Result<()> {
        let bm25 = self.bm25.unwrap_or(DEFAULT_ADAPTIVE_BM25.max);
        let ce = self.cross_encoder.unwrap_or(CROSS_ENCODER_WEIGHT);
        for (name, w) in [("fusion.dense", self.dense), ("fusion.bm25", bm25), ("fusion.crossEncoder", ce)] {
            if !w.is_finite() || !(0.0..=100.0).contains(&w) {
                bail_option!(name, "must be a number between 0 and 100, got {w}");
            }
        }
        if let Some(ce) = self.cross_encoder {
            if self.dense + self.bm25.unwrap_or(0.0) + ce <= 0.0 {
                bail_option!("fusion", "needs at least one weight above 0 (the BM25 weight chosen per query can be 0)");
            }
        }
        Ok(())
    }

    /// Whether the fused score needs the dense signal / BM25 (a weight that is or can be above 0).
    pub fn uses_dense(&self) -> bool {
        self.dense > 0.0
    }
    /// See [`uses_dense`](Self::uses_dense).
    pub fn uses_bm25(&self) -> bool {
        self.bm25.is_none_or(|w| w > 0.0)
    }

    /// The weights for a query of `query_terms` distinct BM25 terms (the cross-encoder's, left
    /// out, is [`CROSS_ENCODER_WEIGHT`]: [`resolved`](Self::resolved) gives the model's first).
    pub fn weights(&self, query_terms: usize) -> Weights {
        Weights {
            dense: self.dense,
            bm25: self.bm25.unwrap_or_else(|| DEFAULT_ADAPTIVE_BM25.weight(query_terms)),
            cross_encoder: self.cross_encoder.unwrap_or(CROSS_ENCODER_WEIGHT),
        }
    }
}

impl Weights {
    /// The contributions of every candidate. `dense` and `bm25` hold one score per candidate, or
    /// `None` when that signal is not known for all of them (it then counts 0 for everyone).
    pub fn contributions(&self, dense: Option<&[f32]>, bm25: Option<&[f32]>, logits: &[f32]) -> Vec<Contributions> {
        let weighted = |w: f32, xs: Option<&[f32]>| -> Vec<f32> {
            match xs {
                Some(xs) if w > 0.0 && xs.len() == logits.len() => z_scores(xs).into_iter().map(|z| w * z).collect(),
                _ => vec![0.0; logits.len()],
            }
        };
        let (d, b, c) =
            (weighted(self.dense, dense), weighted(self.bm25, bm25), weighted(self.cross_encoder, Some(logits)));
        (0..logits.len()).map(|i| Contributions { dense: d[i], bm25: b[i], cross_encoder: c[i] }).collect()
    }
}

/// `(x − mean) / std` over the list (population std); all zeros when the values do not vary.
pub fn z_scores(xs: &[f32]) -> Vec<f32> {
    let n = xs.len().max(1) as f64;
    let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let sd = var.sqrt();
    if sd < 1e-12 {
        return vec![0.0; xs.len()];
    }
    xs.iter().map(|&x| ((x as f64 - mean) / sd) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn the_bm25_weight_rises_with_the_query_length() {
        let r = DEFAULT_ADAPTIVE_BM25;
        assert_eq!(r.weight(0), 0.0);
        assert_eq!(r.weight(r.from_terms), 0.0);
        let ws: Vec<f32> = (0..=r.full_terms).map(|n| r.weight(n)).collect();
        assert!(ws.windows(2).all(|w| w[0] <= w[1]), "{ws:?}");
        assert!(r.weight(r.from_terms + 1) > 0.0 && r.weight(r.from_terms + 1) < r.max);
        assert_eq!(r.weight(r.full_terms), r.max);
        assert_eq!(r.weight(r.fade_from), r.max);
        // as long as a document: the weight falls back to 0
        let fading: Vec<f32> = (r.fade_from..=2 * r.fade_from).map(|n| r.weight(n)).collect();
        assert!(fading.windows(2).all(|w| w[0] >= w[1]), "{fading:?}");
        assert!(r.weight(r.fade_from * 3 / 2) > 0.0 && r.weight(r.fade_from * 3 / 2) < r.max);
        assert_eq!(r.weight(2 * r.fade_from), 0.0);
        assert_eq!(r.weight(10 * r.fade_from), 0.0);
        let given = Fusion { bm25: Some(0.3), ..DEFAULT_FUSION };
        assert_eq!((given.weights(0).bm25, given.weights(100).bm25), (0.3, 0.3));
        assert_eq!(
            DEFAULT_FUSION.weights(r.full_terms),
            Weights { dense: 1.0, bm25: r.max, cross_encoder: CROSS_ENCODER_WEIGHT }
        );
    }

    #[test]
    fn the_cross_encoders_weight_left_out_is_the_models() {
        assert_eq!(DEFAULT_FUSION.resolved(0.0).weights(3).cross_encoder, 0.0);
        assert_eq!(DEFAULT_FUSION.resolved(2.5).weights(3).cross_encoder, 2.5);
        // one given wins over the model's
        let given = Fusion { cross_encoder: Some(0.5), ..DEFAULT_FUSION };
        assert_eq!(given.resolved(0.0).weights(3).cross_encoder, 0.5);
        assert_eq!(Fusion::CROSS_ENCODER_ONLY.without_cross_encoder().resolved(1.0).cross_encoder, Some(0.0));
        // left out, it may be the only weight (the model's decides), and it is still validated when given
        assert!(Fusion { dense: 0.0, bm25: Some(0.0), cross_encoder: None }.validate().is_ok());
        assert!(Fusion { dense: 0.0, bm25: Some(0.0), cross_encoder: Some(0.0) }.validate().is_err());
        assert!(Fusion { cross_encoder: Some(-1.0), ..DEFAULT_FUSION }.validate().is_err());
        // JSON: left out or null
        let f: Fusion = serde_json::from_str(r#"{"dense": 1}"#).unwrap();
        assert_eq!(f.cross_encoder, None);
        let f: Fusion = serde_json::from_str(r#"{"crossEncoder": null}"#).unwrap();
        assert_eq!(f.cross_encoder, None);
    }

    #[test]
    fn z_scores_have_mean_0_and_std_1() {
        let z = z_scores(&[1.0, 2.0, 3.0, 6.0]);
        let mean: f32 = z.iter().sum::<f32>() / 4.0;
        let var: f32 = z.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{z:?}");
        assert_eq!(z_scores(&[2.0, 2.0]), vec![0.0, 0.0]);
        assert!(z_scores(&[]).is_empty());
    }

    #[test]
    fn contributions_are_weighted_z_scores_and_sum_to_the_fused_score() {
        let f = Fusion { dense: 1.0, bm25: Some(0.5), cross_encoder: Some(2.0) };
        let (dense, bm25, logits) = ([0.9, 0.5, 0.1], [0.0, 10.0, 5.0], [-1.0, 0.0, 4.0]);
        let c = f.weights(1).contributions(Some(&dense), Some(&bm25), &logits);
        let (zd, zb, zl) = (z_scores(&dense), z_scores(&bm25), z_scores(&logits));
        for i in 0..3 {
            assert!((c[i].dense - zd[i]).abs() < 1e-6);
            assert!((c[i].bm25 - 0.5 * zb[i]).abs() < 1e-6);
            assert!((c[i].cross_encoder - 2.0 * zl[i]).abs() < 1e-6);
            assert!((c[i].total() - (zd[i] + 0.5 * zb[i] + 2.0 * zl[i])).abs() < 1e-6);
        }
    }

    #[test]
    fn a_missing_or_unweighted_signal_counts_zero() {
        let logits = [1.0, 3.0];
        let long_query = DEFAULT_ADAPTIVE_BM25.full_terms;
        let c = DEFAULT_FUSION.weights(long_query).contributions(None, Some(&[2.0, 1.0]), &logits);
        assert!(c.iter().all(|c| c.dense == 0.0));
        assert!(c[0].bm25 > 0.0 && c[1].bm25 < 0.0);
        let c =
            DEFAULT_FUSION.without_cross_encoder().weights(long_query).contributions(Some(&[0.2, 0.1]), None, &logits);
        assert!(c.iter().all(|c| c.cross_encoder == 0.0 && c.bm25 == 0.0));
        assert!(c[0].total() > c[1].total());
        // only the logits: the order of the logits
        let c =
            Fusion::CROSS_ENCODER_ONLY.weights(long_query).contributions(Some(&[0.9, 0.1]), Some(&[9.0, 1.0]), &logits);
        assert!(c[1].total() > c[0].total());
    }

    #[test]
    fn weights_are_validated_and_deserialised_over_the_defaults() {
        for bad in [
            Fusion { dense: -1.0, ..DEFAULT_FUSION },
            Fusion { bm25: Some(f32::NAN), ..DEFAULT_FUSION },
            Fusion { cross_encoder: Some(1000.0), ..DEFAULT_FUSION },
            Fusion { dense: 0.0, bm25: Some(0.0), cross_encoder: Some(0.0) },
            // the chosen BM25 weight is 0 for short queries: another weight must be above 0
            Fusion { dense: 0.0, bm25: None, cross_encoder: Some(0.0) },
        ] {
            assert!(matches!(bad.validate(), Err(Error::InvalidOption { .. })), "{bad:?}");
        }
        DEFAULT_FUSION.validate().unwrap();
        Fusion::CROSS_ENCODER_ONLY.validate().unwrap();
        let f: Fusion = serde_json::from_str(r#"{"crossEncoder": 0}"#).unwrap();
        assert_eq!(f, DEFAULT_FUSION.without_cross_encoder());
        let f: Fusion = serde_json::from_str(r#"{"bm25": 0.5}"#).unwrap();
        assert_eq!(f.weights(1).bm25, 0.5, "a given weight overrides the rule");
        let f: Fusion = serde_json::from_str(r#"{"bm25": null}"#).unwrap();
        assert_eq!(f, DEFAULT_FUSION);
        let err = serde_json::from_str::<Fusion>(r#"{"alpha": 0.5}"#).unwrap_err();
        assert!(err.to_string().contains("alpha"), "{err}");
    }
}
