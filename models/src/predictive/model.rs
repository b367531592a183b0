//! The trained model as it is stored (`models/NAME/vN.json`): the options, the fitted
//! feature pipeline, the estimator and the held-out evaluation, and what scoring asks of
//! it — the probability of the positive label, per-feature contributions that add up
//! (with the baseline) to the logit or the probability, and the grade of a score.
//!
//! A logistic model scores with a dot product per lead ([`crate::logistic`] fitted it);
//! tree models with the calibrated leaf frequencies of histogram trees
//! ([`crate::trees`]); boosted models with the sum of their rounds' leaf values
//! ([`crate::boost`]).

use serde::{Deserialize, Serialize};

use super::{Evaluation, TrainOptions};
use crate::boost::Boosted;
use crate::features::Pipeline;
use crate::trees::Forest;

/// Version of the stored model format; files of another version are refused.
pub const FORMAT_VERSION: u32 = 1;

/// The fitted estimator, in terms of the positive label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Estimator {
    /// `P(positive) = sigmoid(intercept + coefficients · x)`.
    Logistic {
        /// Intercept.
        intercept: f64,
        /// One coefficient per pipeline output column.
        coefficients: Vec<f64>,
    },
    /// `P(positive)` = the mean leaf share of positives over the trees (one tree for
    /// `decision_tree`).
    Trees {
        /// The calibrated trees.
        forest: Forest,
        /// Impurity-decrease importance per pipeline output column (sums to 1).
        importances: Vec<f64>,
    },
    /// `P(positive) = sigmoid(base score + the learning-rate-scaled leaf values of
    /// the rounds' trees)`.
    Boosted {
        /// The rounds.
        model: Boosted,
        /// Split-gain importance per pipeline output column (sums to 1).
        importances: Vec<f64>,
    },
}

/// A trained, versioned predictive model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictiveModel {
    /// [`FORMAT_VERSION`] of the file.
    pub format_version: u32,
    /// Model name.
    pub name: String,
    /// Version (1, 2, …).
    pub version: u32,
    /// Creation instant, `YYYY-MM-DD HH:MM:SS` UTC.
    pub created_at: String,
    /// The training query.
    pub query: String,
    /// Options.
    pub options: TrainOptions,
    /// Feature pipeline.
    pub pipeline: Pipeline,
    /// Estimator.
    pub estimator: Estimator,
    /// Training rows (after balancing).
    pub training_rows: usize,
    /// Held-out evaluation.
    pub evaluation: Evaluation,
    /// Warnings raised while training (small or imbalanced data…).
    pub warnings: Vec<String>,
    /// The instant the training data was known at (the session's `as_of`, µs since the
    /// epoch): outcomes after it were not seen, so backtests at later instants are
    /// honest out-of-time checks.
    #[serde(default)]
    pub known_until: Option<i64>,
    /// The feature definition a point-in-time model was trained on (e.g.
    /// `lead_snapshot_features/1`); scoring recomputes exactly these features.
    #[serde(default)]
    pub features: Option<String>,
    /// Point-in-time models: the end of the latest training label's horizon (µs since
    /// the epoch). Instants from it on were never training outcomes.
    #[serde(default)]
    pub trained_through: Option<i64>,
    /// Point-in-time models: the backtest taken when the version was trained, at its
    /// [`PredictiveModel::honest_instant`] (one row per segment, as `backtest()`
    /// returns them). Kept with the version, so every version's out-of-time quality
    /// stays on record after later versions replace it.
    #[serde(default)]
    pub backtest: Vec<BacktestRow>,
}

/// One segment of a backtest at one instant (see the `backtest` SQL function).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestRow {
    /// The instant, µs since the epoch.
    pub as_of: i64,
    /// Whether the instant is before the end of the version's training outcomes.
    pub in_training_period: Option<bool>,
    /// `all`, `top 5%`, `top 10%`, `grade X` or `decile N`.
    pub segment: String,
    /// Open leads in the segment.
    pub leads: i64,
    /// Of which qualified within the horizon.
    pub converted: i64,
    /// `converted / leads`.
    pub conversion_rate: Option<f64>,
    /// Mean predicted probability (0–1).
    pub mean_predicted: Option<f64>,
    /// AUC (segment `all` only).
    pub auc: Option<f64>,
}

pub(super) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl PredictiveModel {
    /// The latest instant whose outcome was known when the version was trained (its
    /// `known_until` minus the horizon), when that is after its training outcomes: the
    /// instant of its out-of-time backtest. `None` for models not trained on snapshots.
    pub fn honest_instant(&self) -> Option<i64> {
        let horizon = self.options.horizon_days?;
        let instant = self
            .known_until?
            .checked_sub((horizon * 86_400_000_000.0).round() as i64)?;
        (instant >= self.trained_through?).then_some(instant)
    }

    /// The stored backtest's row for `segment`, when it was taken at `instant`.
    pub fn stored_backtest(&self, instant: i64, segment: &str) -> Option<&BacktestRow> {
        self.backtest
            .iter()
            .find(|r| r.as_of == instant && r.segment == segment)
    }

    /// Probability of the positive label for each row of a transformed matrix.
    pub fn probabilities(&self, matrix: &[f64]) -> Vec<f64> {
        match &self.estimator {
            Estimator::Logistic {
                intercept,
                coefficients,
            } => {
                let w = coefficients.len().max(1);
                matrix
                    .chunks_exact(w)
                    .map(|row| {
                        sigmoid(
                            intercept
                                + row
                                    .iter()
                                    .zip(coefficients)
                                    .map(|(x, c)| x * c)
                                    .sum::<f64>(),
                        )
                    })
                    .collect()
            }
            Estimator::Trees { forest, .. } => {
                let w = self.pipeline.width().max(1);
                matrix
                    .chunks_exact(w)
                    .map(|row| forest.probability(row))
                    .collect()
            }
            Estimator::Boosted { model, .. } => {
                let w = self.pipeline.width().max(1);
                matrix
                    .chunks_exact(w)
                    .map(|row| model.probability(row))
                    .collect()
            }
        }
    }

    /// Per-output-column contributions of one row: to the logit for logistic and
    /// boosted models (they sum, with the intercept or baseline, to the logit); to the
    /// probability for trees and forests (they sum, with the base rate, to the
    /// probability).
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        match &self.estimator {
            Estimator::Logistic { coefficients, .. } => {
                row.iter().zip(coefficients).map(|(x, c)| x * c).collect()
            }
            Estimator::Trees { forest, .. } => forest.contributions(row),
            Estimator::Boosted { model, .. } => model.contributions(row),
        }
    }

    /// Contributions per input feature (one-hot columns of a feature added up), in
    /// pipeline order; with [`Self::intercept`] they sum to the logit (logistic) or
    /// the probability (trees).
    pub fn feature_contributions(&self, row: &[f64]) -> Vec<f64> {
        let per_column = self.contributions(row);
        let mut out = Vec::with_capacity(self.pipeline.features.len());
        let mut offset = 0;
        for width in self.pipeline.feature_widths() {
            out.push(per_column[offset..offset + width].iter().sum());
            offset += width;
        }
        out
    }

    /// The model's baseline: the intercept of a logistic model (logit of a lead at
    /// the training means), the base rate of a tree model, the logit every boosted
    /// explanation starts from (the base score and each tree's root value).
    pub fn intercept(&self) -> f64 {
        match &self.estimator {
            Estimator::Logistic { intercept, .. } => *intercept,
            Estimator::Trees { forest, .. } => forest.base_rate(),
            Estimator::Boosted { model, .. } => model.baseline(),
        }
    }

    /// What [`Self::intercept`] is called in explanations.
    pub fn baseline_name(&self) -> &'static str {
        match &self.estimator {
            Estimator::Logistic { .. } => "(intercept)",
            Estimator::Trees { .. } => "(base rate)",
            Estimator::Boosted { .. } => "(baseline)",
        }
    }

    /// Grade A–D of a 0–100 score.
    pub fn grade(&self, score: f64) -> &'static str {
        let [a, b, c] = self.options.grade_cutoffs;
        if score >= a {
            "A"
        } else if score >= b {
            "B"
        } else if score >= c {
            "C"
        } else {
            "D"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predictive::fixture::logistic_model;

    #[test]
    fn models_round_trip_through_json() {
        let m = logistic_model(300);
        let text = serde_json::to_string(&m).expect("serialise");
        let back: PredictiveModel = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back, m);
    }
}
