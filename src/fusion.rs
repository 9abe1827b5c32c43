//! Fused stage-2 scoring: the ranking score of a candidate is a weighted sum of its signals,
//! each z-normalised over the candidate pool of the query (`(x − mean) / std`):
//!
//! ```text
//! fused = w_dense · z(cosine to the query) + w_bm25 · z(BM25) + w_ce · z(cross-encoder logit)
//! ```
//!
//! The bi-encoder and BM25 see different things (meaning vs. exact words) and the cross-encoder a
//! third (the query and the document read together), so their sum ranks better than any one of
//! them; the z-normalisation puts scores of different scales on one footing per query. The
//! default weights were chosen on development collections (see the README's quality section).

use crate::error::{bail_option, Result};
use serde::{Deserialize, Serialize};

/// Weights of the fused score. Fields left out of a deserialised object keep their default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Fusion {
    /// Weight of the bi-encoder's cosine similarity.
    pub dense: f32,
    /// Weight of the candidate's BM25 score for the query.
    pub bm25: f32,
    /// Weight of the cross-encoder's logit.
    pub cross_encoder: f32,
}

/// The default weights (chosen on the development collections, see the README).
pub const DEFAULT_FUSION: Fusion = Fusion { dense: 1.0, bm25: 1.0, cross_encoder: 0.25 };

impl Default for Fusion {
    fn default() -> Self {
        DEFAULT_FUSION
    }
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
    pub const CROSS_ENCODER_ONLY: Fusion = Fusion { dense: 0.0, bm25: 0.0, cross_encoder: 1.0 };

    /// The default weights without the cross-encoder: dense + BM25 only.
    pub fn without_cross_encoder() -> Self {
        Fusion { cross_encoder: 0.0, ..DEFAULT_FUSION }
    }

    /// Each weight finite and in 0..=100, and at least one above 0.
    pub fn validate(&self) -> Result<()> {
        for (name, w) in [("fusion.dense", self.dense), ("fusion.bm25", self.bm25), ("fusion.crossEncoder", self.cross_encoder)] {
            if !w.is_finite() || !(0.0..=100.0).contains(&w) {
                bail_option!(name, "must be a number between 0 and 100, got {w}");
            }
        }
        if self.dense + self.bm25 + self.cross_encoder <= 0.0 {
            bail_option!("fusion", "needs at least one weight above 0");
        }
        Ok(())
    }

    /// Whether the fused score needs the dense signal / BM25 (a weight above 0).
    pub fn uses_dense(&self) -> bool {
        self.dense > 0.0
    }
    /// See [`uses_dense`](Self::uses_dense).
    pub fn uses_bm25(&self) -> bool {
        self.bm25 > 0.0
    }

    /// The contributions of every candidate. `dense` and `bm25` hold one score per candidate, or
    /// `None` when that signal is not known for all of them (it then counts 0 for everyone).
    pub fn contributions(&self, dense: Option<&[f32]>, bm25: Option<&[f32]>, logits: &[f32]) -> Vec<Contributions> {
        let weighted = |w: f32, xs: Option<&[f32]>| -> Vec<f32> {
            match xs {
                Some(xs) if w > 0.0 && xs.len() == logits.len() => z_scores(xs).into_iter().map(|z| w * z).collect(),
                _ => vec![0.0; logits.len()],
            }
        };
        let (d, b, c) = (weighted(self.dense, dense), weighted(self.bm25, bm25), weighted(self.cross_encoder, Some(logits)));
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
        let f = Fusion { dense: 1.0, bm25: 0.5, cross_encoder: 2.0 };
        let (dense, bm25, logits) = ([0.9, 0.5, 0.1], [0.0, 10.0, 5.0], [-1.0, 0.0, 4.0]);
        let c = f.contributions(Some(&dense), Some(&bm25), &logits);
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
        let c = DEFAULT_FUSION.contributions(None, Some(&[2.0, 1.0]), &logits);
        assert!(c.iter().all(|c| c.dense == 0.0));
        assert!(c[0].bm25 > 0.0 && c[1].bm25 < 0.0);
        let c = Fusion::without_cross_encoder().contributions(Some(&[0.2, 0.1]), None, &logits);
        assert!(c.iter().all(|c| c.cross_encoder == 0.0 && c.bm25 == 0.0));
        assert!(c[0].total() > c[1].total());
        // only the logits: the order of the logits
        let c = Fusion::CROSS_ENCODER_ONLY.contributions(Some(&[0.9, 0.1]), Some(&[9.0, 1.0]), &logits);
        assert!(c[1].total() > c[0].total());
    }

    #[test]
    fn weights_are_validated_and_deserialised_over_the_defaults() {
        for bad in [
            Fusion { dense: -1.0, ..DEFAULT_FUSION },
            Fusion { bm25: f32::NAN, ..DEFAULT_FUSION },
            Fusion { cross_encoder: 1000.0, ..DEFAULT_FUSION },
            Fusion { dense: 0.0, bm25: 0.0, cross_encoder: 0.0 },
        ] {
            assert!(matches!(bad.validate(), Err(Error::InvalidOption { .. })), "{bad:?}");
        }
        DEFAULT_FUSION.validate().unwrap();
        Fusion::CROSS_ENCODER_ONLY.validate().unwrap();
        let f: Fusion = serde_json::from_str(r#"{"crossEncoder": 0}"#).unwrap();
        assert_eq!(f, Fusion::without_cross_encoder());
        let err = serde_json::from_str::<Fusion>(r#"{"alpha": 0.5}"#).unwrap_err();
        assert!(err.to_string().contains("alpha"), "{err}");
    }
}
