//! Predictive lead scoring: training on past conversions, the stored model, and
//! prediction with per-feature contributions.
//!
//! Training takes the columns of a query (features and a label), fits the
//! [`Pipeline`], splits the rows (random with a seed, or by time: the most recent share
//! is held out, as Dynamics 365 does), optionally balances classes by oversampling,
//! fits the estimator and evaluates on the held-out rows:
//!
//! - `logistic_reg`: [`crate::logistic`], linfa-logistic's objective and optimiser on
//!   the sparse structure of the feature matrix. It models the probability of the
//!   positive label directly; prediction needs nothing but the stored coefficients (a
//!   dot product per lead), which also makes explanations exact: contributions sum to
//!   the logit.
//! - `decision_tree`, `random_forest`: histogram trees of [`crate::trees`], scored by
//!   calibrated leaf class frequencies; contributions sum to the probability minus the
//!   base rate.
//! - `boosted_tree`: gradient-boosted histogram trees of [`crate::boost`]; per-tree
//!   path contributions sum to the logit minus the baseline.

use std::fmt;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::boost::{self, Boosted};
use crate::features::{FeatureError, FitOptions, Layout, Pipeline, RawColumn};
use crate::logistic;
use crate::metrics::{self, Confusion};
use crate::trees::{self, Forest};

/// Version of the stored model format; files of another version are refused.
pub const FORMAT_VERSION: u32 = 1;

/// Errors of training and prediction, each saying what to change.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainError(pub String);

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TrainError {}

impl From<FeatureError> for TrainError {
    fn from(e: FeatureError) -> Self {
        TrainError(e.0)
    }
}

/// The kind of estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelType {
    /// L2-regularised logistic regression ([`crate::logistic`]).
    LogisticReg,
    /// One CART decision tree on histograms ([`crate::trees`]), scored by leaf class
    /// frequencies.
    DecisionTree,
    /// A random forest, scored by the mean of its trees' leaf frequencies.
    RandomForest,
    /// Gradient-boosted trees on the logistic loss ([`crate::boost`]), BigQuery ML's
    /// `BOOSTED_TREE_CLASSIFIER`.
    BoostedTree,
}

impl ModelType {
    /// Parses `logistic_reg`, `decision_tree`, `random_forest` or `boosted_tree`.
    pub fn parse(s: &str) -> Result<Self, TrainError> {
        match s {
            "logistic_reg" => Ok(ModelType::LogisticReg),
            "decision_tree" => Ok(ModelType::DecisionTree),
            "random_forest" => Ok(ModelType::RandomForest),
            "boosted_tree" => Ok(ModelType::BoostedTree),
            other => Err(TrainError(format!(
                "unknown model_type '{other}' (expected one of: logistic_reg, decision_tree, random_forest, boosted_tree)"
            ))),
        }
    }

    /// The SQL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelType::LogisticReg => "logistic_reg",
            ModelType::DecisionTree => "decision_tree",
            ModelType::RandomForest => "random_forest",
            ModelType::BoostedTree => "boosted_tree",
        }
    }
}

/// How rows are split into training and held-out evaluation rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Split {
    /// A random share, reproducible with the seed.
    Random {
        /// Share of rows held out.
        test_fraction: f64,
        /// Seed.
        seed: u64,
    },
    /// Rows where a boolean column is true are held out (BigQuery ML's custom split).
    Column {
        /// The boolean column (not used as a feature).
        column: String,
    },
    /// The most recent share of rows by a timestamp column is held out.
    Time {
        /// Share of rows held out.
        test_fraction: f64,
        /// Column ordering the rows (not used as a feature).
        column: String,
    },
}

/// Training options (the `OPTIONS (…)` of `CREATE MODEL`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Estimator.
    pub model_type: ModelType,
    /// Label column.
    pub label: String,
    /// Value of the label that counts as positive (for string and integer labels;
    /// booleans use `true`).
    pub positive: Option<String>,
    /// L2 strength: on the coefficients of a logistic regression (`alpha = 1 / C` of
    /// scikit-learn), on the leaf values of boosted trees (`l2_reg`, XGBoost's lambda).
    pub l2: f64,
    /// Most optimiser iterations of a logistic regression; most boosting rounds.
    pub max_iterations: u64,
    /// Row split.
    pub split: Split,
    /// Oversample the minority class in the training rows to balance classes.
    pub balance_classes: bool,
    /// Categorical levels rarer than this go to `(other)`.
    pub min_level_count: usize,
    /// Score cut-offs (0–100) of grades A, B and C; lower scores are D.
    pub grade_cutoffs: [f64; 3],
    /// Deepest split level of trees (`None`: 6 for a tree and boosted trees, 10 for a
    /// forest).
    #[serde(default)]
    pub max_depth: Option<usize>,
    /// Fewest training rows in a tree leaf.
    #[serde(default = "default_min_leaf_rows")]
    pub min_leaf_rows: usize,
    /// Trees in a random forest.
    #[serde(default = "default_num_trees")]
    pub num_trees: usize,
    /// Share of the model columns each forest tree sees.
    #[serde(default = "default_feature_fraction")]
    pub feature_fraction: f64,
    /// Point-in-time models: the label is "converted within this many days after the
    /// row's instant". The time split then holds out whole instants and leaves a gap
    /// of one horizon before them, so no training label looks into the held-out period.
    #[serde(default)]
    pub horizon_days: Option<f64>,
    /// `leadql run` publishes a retrained version only if its backtest AUC is at least
    /// the active version's minus this.
    #[serde(default = "default_publish_tolerance")]
    pub publish_tolerance: f64,
    /// Boosted trees: the shrinkage applied to each round's tree (`learn_rate`).
    #[serde(default = "default_learn_rate")]
    pub learn_rate: f64,
    /// Boosted trees: the least loss reduction a split must bring (`min_split_loss`).
    #[serde(default)]
    pub min_split_loss: f64,
    /// Boosted trees: the share of training rows each round is fitted on (`subsample`).
    #[serde(default = "default_subsample")]
    pub subsample: f64,
    /// Boosted trees: stop adding rounds once a held-out tenth of the training rows
    /// stops improving, and keep the best round (`early_stop`).
    #[serde(default = "default_early_stop")]
    pub early_stop: bool,
}

fn default_learn_rate() -> f64 {
    0.1
}

fn default_subsample() -> f64 {
    1.0
}

fn default_early_stop() -> bool {
    true
}

fn default_publish_tolerance() -> f64 {
    0.01
}

fn default_min_leaf_rows() -> usize {
    20
}

fn default_num_trees() -> usize {
    50
}

fn default_feature_fraction() -> f64 {
    0.5
}

impl TrainOptions {
    /// Checks every setting before training (the SQL layer checks them as it parses
    /// `OPTIONS (…)`; this keeps direct callers of [`train`] from fitting with
    /// impossible ones). The error names the option.
    pub fn check(&self) -> Result<(), TrainError> {
        let fail = |what: String| Err(TrainError(what));
        match &self.split {
            Split::Random { test_fraction, .. } | Split::Time { test_fraction, .. }
                if !(*test_fraction > 0.0 && *test_fraction < 1.0) =>
            {
                return fail(format!(
                    "test_fraction must be between 0 and 1, got {test_fraction}"
                ));
            }
            _ => {}
        }
        if self.min_level_count == 0 {
            return fail("min_level_count must be at least 1".into());
        }
        let [a, b, c] = self.grade_cutoffs;
        if !(a > b && b > c && a.is_finite() && c.is_finite()) {
            return fail(format!(
                "grade_cutoffs {a}/{b}/{c} must be three decreasing scores"
            ));
        }
        if let Some(h) = self.horizon_days
            && !(h > 0.0 && h <= 36_500.0)
        {
            return fail(format!("horizon_days must be in (0, 36500], got {h}"));
        }
        if !(0.0..=1.0).contains(&self.publish_tolerance) {
            return fail(format!(
                "publish_tolerance must be in [0, 1], got {}",
                self.publish_tolerance
            ));
        }
        match self.model_type {
            ModelType::LogisticReg => logistic::LogisticParams {
                l2: self.l2,
                max_iterations: self.max_iterations,
                tolerance: None,
            }
            .check(),
            ModelType::BoostedTree => boost_params(self).check(),
            ModelType::DecisionTree | ModelType::RandomForest => {
                let g = growth(self);
                if !(1..=64).contains(&g.max_depth) {
                    return fail(format!(
                        "max_depth must be from 1 to 64, got {}",
                        g.max_depth
                    ));
                }
                if self.model_type == ModelType::RandomForest {
                    if g.trees == 0 {
                        return fail("num_trees must be at least 1".into());
                    }
                    if !(g.feature_fraction > 0.0 && g.feature_fraction <= 1.0) {
                        return fail(format!(
                            "feature_fraction must be in (0, 1], got {}",
                            g.feature_fraction
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// Defaults for a label column.
    pub fn new(model_type: ModelType, label: impl Into<String>) -> Self {
        TrainOptions {
            model_type,
            label: label.into(),
            positive: None,
            l2: 1.0,
            max_iterations: 200,
            split: Split::Random {
                test_fraction: 0.2,
                seed: 42,
            },
            balance_classes: false,
            min_level_count: 10,
            grade_cutoffs: [75.0, 50.0, 25.0],
            max_depth: None,
            min_leaf_rows: default_min_leaf_rows(),
            num_trees: default_num_trees(),
            feature_fraction: default_feature_fraction(),
            horizon_days: None,
            publish_tolerance: default_publish_tolerance(),
            learn_rate: default_learn_rate(),
            min_split_loss: 0.0,
            subsample: default_subsample(),
            early_stop: default_early_stop(),
        }
    }
}

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

/// Held-out evaluation of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Held-out rows.
    pub rows: usize,
    /// Positives among them.
    pub positives: usize,
    /// Area under the ROC curve.
    pub auc: Option<f64>,
    /// Mean log loss.
    pub log_loss: Option<f64>,
    /// Probability threshold maximising F1.
    pub threshold: f64,
    /// Accuracy at that threshold.
    pub accuracy: f64,
    /// Precision at that threshold.
    pub precision: f64,
    /// Recall at that threshold.
    pub recall: f64,
    /// F1 at that threshold.
    pub f1: f64,
    /// Confusion matrix at that threshold: `[tp, fp, tn, fn]`.
    pub confusion: [usize; 4],
    /// Lift of each decile, best first.
    pub lift: Vec<f64>,
    /// Expected calibration error (10 bins).
    pub calibration_error: Option<f64>,
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

fn sigmoid(x: f64) -> f64 {
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

/// An error when a label column has more than two distinct values (given sorted).
fn ensure_binary(name: &str, distinct: Vec<String>) -> Result<(), TrainError> {
    if distinct.len() <= 2 {
        return Ok(());
    }
    Err(TrainError(format!(
        "label column '{name}' is not binary: it has {} distinct values ({}…)",
        distinct.len(),
        distinct[..5.min(distinct.len())].join(", ")
    )))
}

/// Turns a label column into booleans, checking it is binary.
pub fn binary_labels(
    name: &str,
    column: &RawColumn,
    positive: Option<&str>,
) -> Result<Vec<bool>, TrainError> {
    let missing = |row: usize| {
        TrainError(format!(
            "label column '{name}' is NULL in row {} (filter those rows out, e.g. WHERE {name} IS NOT NULL)",
            row + 1
        ))
    };
    match column {
        RawColumn::Bool(v) => v
            .iter()
            .enumerate()
            .map(|(i, b)| b.ok_or_else(|| missing(i)))
            .collect(),
        RawColumn::Numeric(v) => {
            let pos: f64 = match positive {
                Some(p) => p.parse().map_err(|_| {
                    TrainError(format!(
                        "positive value '{p}' is not a number, but label '{name}' is numeric"
                    ))
                })?,
                None => 1.0,
            };
            let mut distinct: Vec<f64> = v.iter().flatten().copied().collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            ensure_binary(name, distinct.iter().map(f64::to_string).collect())?;
            v.iter()
                .enumerate()
                .map(|(i, x)| x.map(|x| x == pos).ok_or_else(|| missing(i)))
                .collect()
        }
        RawColumn::Text(v) => {
            let mut distinct: Vec<&str> = v.iter().flatten().map(String::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            ensure_binary(name, distinct.iter().map(|d| d.to_string()).collect())?;
            let pos = match positive {
                Some(p) => p.to_string(),
                None => match distinct.iter().find(|d| {
                    matches!(
                        **d,
                        "yes" | "true" | "1" | "converted" | "won" | "qualified"
                    )
                }) {
                    Some(d) => d.to_string(),
                    None => {
                        return Err(TrainError(format!(
                            "label column '{name}' has values {}: say which is positive with OPTIONS (positive = '…')",
                            distinct.join(", ")
                        )));
                    }
                },
            };
            v.iter()
                .enumerate()
                .map(|(i, x)| x.as_deref().map(|x| x == pos).ok_or_else(|| missing(i)))
                .collect()
        }
        RawColumn::Timestamp(_) => Err(TrainError(format!(
            "label column '{name}' is a timestamp, not a binary outcome"
        ))),
    }
}

fn take_rows(columns: &[RawColumn], rows: &[usize]) -> Vec<RawColumn> {
    columns
        .iter()
        .map(|c| match c {
            RawColumn::Numeric(v) => RawColumn::Numeric(rows.iter().map(|&r| v[r]).collect()),
            RawColumn::Text(v) => RawColumn::Text(rows.iter().map(|&r| v[r].clone()).collect()),
            RawColumn::Bool(v) => RawColumn::Bool(rows.iter().map(|&r| v[r]).collect()),
            RawColumn::Timestamp(v) => RawColumn::Timestamp(rows.iter().map(|&r| v[r]).collect()),
        })
        .collect()
}

/// SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of each row's values (features and label), independent of row order.
fn row_keys(columns: &[RawColumn], labels: &[bool]) -> Vec<u64> {
    let mut keys: Vec<u64> = labels.iter().map(|&l| mix(u64::from(l))).collect();
    for (c, column) in columns.iter().enumerate() {
        let salt = mix(c as u64 + 1);
        for (row, key) in keys.iter_mut().enumerate() {
            let v = match column {
                RawColumn::Numeric(v) => v[row].map_or(u64::MAX, f64::to_bits),
                RawColumn::Bool(v) => v[row].map_or(2, u64::from),
                RawColumn::Timestamp(v) => v[row].map_or(u64::MAX, |t| t as u64),
                RawColumn::Text(v) => v[row].as_deref().map_or(u64::MAX, |s| {
                    s.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
                        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
                    })
                }),
            };
            *key = mix(*key ^ mix(v ^ salt));
        }
    }
    // Identical rows are interchangeable: number their occurrences so that they still
    // spread over both sides of a split.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| (keys[i], i));
    let mut out = keys.clone();
    let mut occurrence = 0u64;
    for (k, &i) in order.iter().enumerate() {
        occurrence = if k > 0 && keys[order[k - 1]] == keys[i] {
            occurrence + 1
        } else {
            0
        };
        out[i] = mix(keys[i] ^ mix(occurrence.wrapping_add(0xD0B1)));
    }
    out
}

/// The split of snapshot rows (one per lead and instant): the latest whole instants
/// holding at least `test_fraction` of the rows are held out, and training keeps only
/// instants at least one horizon before the first held-out one, so that no training
/// label (an outcome within the horizon) falls in the held-out period.
fn snapshot_split(
    times: &[Option<i64>],
    test_fraction: f64,
    horizon_days: f64,
    column: &str,
) -> Result<(Vec<usize>, Vec<usize>), TrainError> {
    let n = times.len();
    let mut instants: Vec<i64> = times.iter().flatten().copied().collect();
    instants.sort_unstable();
    let want = ((n as f64) * test_fraction).ceil().max(1.0) as usize;
    // The earliest held-out instant: walk back from the latest until enough rows.
    let mut start = i64::MAX;
    let mut held = 0usize;
    let mut k = instants.len();
    while k > 0 && held < want {
        let t = instants[k - 1];
        while k > 0 && instants[k - 1] == t {
            k -= 1;
            held += 1;
        }
        start = t;
    }
    let gap = (horizon_days * 86_400_000_000.0).round() as i64;
    let last_train = start.saturating_sub(gap);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for (i, t) in times.iter().enumerate() {
        match t {
            Some(t) if *t >= start => test.push(i),
            Some(t) if *t <= last_train => train.push(i),
            Some(_) => {}
            None => {
                return Err(TrainError(format!(
                    "time column '{column}' is NULL in row {}",
                    i + 1
                )));
            }
        }
    }
    if train.is_empty() {
        return Err(TrainError(format!(
            "no snapshot is at least {horizon_days} days (the horizon) before the held-out instants from {}: train over a longer span or hold out less (test_fraction)",
            micros_text(start)
        )));
    }
    Ok((train, test))
}

fn micros_text(t: i64) -> String {
    chrono::DateTime::from_timestamp_micros(t)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// What [`train`] needs besides the options.
#[derive(Debug)]
pub struct TrainingData {
    /// Feature names.
    pub names: Vec<String>,
    /// Feature columns.
    pub columns: Vec<RawColumn>,
    /// Label column.
    pub label: RawColumn,
    /// The split column when splitting by time.
    pub time: Option<Vec<Option<i64>>>,
    /// The split column when splitting by a boolean column.
    pub holdout: Option<Vec<Option<bool>>>,
}

/// Trains a model called `name` (its version is set by the registry).
pub fn train(
    name: &str,
    query: &str,
    data: TrainingData,
    options: TrainOptions,
    created_at: String,
) -> Result<PredictiveModel, TrainError> {
    train_timed(name, query, data, options, created_at).map(|(model, _)| model)
}

/// Wall time of each stage of [`train_timed`], in seconds: `split` (labels, checks,
/// row split), `matrix` (pipeline fit and the training matrix), `fit` (the
/// estimator alone), `evaluation` (held-out rows transformed, scored and measured).
pub type Stages = Vec<(&'static str, f64)>;

/// [`train`], also returning the time of each stage (for benchmarks: `CREATE MODEL`
/// prints them on stderr when `LEADQL_TIMINGS` is set).
pub fn train_timed(
    name: &str,
    query: &str,
    data: TrainingData,
    options: TrainOptions,
    created_at: String,
) -> Result<(PredictiveModel, Stages), TrainError> {
    options.check()?;
    let mut stages = Stages::new();
    let mut last = std::time::Instant::now();
    let mut done = |stage: &'static str| {
        let now = std::time::Instant::now();
        stages.push((stage, now.duration_since(last).as_secs_f64()));
        last = now;
    };
    let labels = binary_labels(&options.label, &data.label, options.positive.as_deref())?;
    let n = labels.len();
    let positives = labels.iter().filter(|l| **l).count();
    if positives == 0 || positives == n {
        return Err(TrainError(format!(
            "label '{}' has a single class ({n} rows, {positives} positive): a model needs both outcomes",
            options.label
        )));
    }
    if data.names.is_empty() {
        return Err(TrainError(
            "the training query has no feature columns besides the label".into(),
        ));
    }
    let mut warnings = Vec::new();
    let minority = positives.min(n - positives);
    if n < 500 || minority < 50 {
        warnings.push(format!(
            "small training set: {n} rows, {positives} positive, {} negative; expect unstable scores",
            n - positives
        ));
    }
    if (minority as f64) / (n as f64) < 0.05 {
        warnings.push(format!(
            "imbalanced classes: {:.1}% positive; consider balance_classes = true",
            100.0 * positives as f64 / n as f64
        ));
    }

    // Split.
    // Rows are identified by their content, not their position: a query without
    // ORDER BY may return rows in another order on every run (parallel scans), and the
    // split and the fit must not depend on it.
    for (name, column) in data.names.iter().zip(&data.columns) {
        if let RawColumn::Numeric(v) = column {
            crate::features::check_finite(name, v)?;
        }
    }
    let keys = row_keys(&data.columns, &labels);
    let by_key = |rows: &mut Vec<usize>| rows.sort_by_key(|&i| (keys[i], i));
    let (mut train_rows, mut test_rows): (Vec<usize>, Vec<usize>) =
        match &options.split {
            Split::Random {
                test_fraction,
                seed,
            } => {
                let salt = mix(*seed ^ 0x5EED);
                (0..n).partition(|&i| {
                    (mix(keys[i] ^ salt) >> 11) as f64 / (1u64 << 53) as f64 >= *test_fraction
                })
            }
            Split::Column { column } => {
                let flags = data.holdout.as_ref().ok_or_else(|| {
                    TrainError(format!("split by column needs the column '{column}'"))
                })?;
                (0..n).partition(|&i| !flags[i].unwrap_or(false))
            }
            Split::Time {
                test_fraction,
                column,
            } if options.horizon_days.is_some() => {
                let times = data.time.as_ref().ok_or_else(|| {
                    TrainError(format!("split by time needs the column '{column}'"))
                })?;
                let horizon = options.horizon_days.unwrap_or(0.0);
                snapshot_split(times, *test_fraction, horizon, column)?
            }
            Split::Time {
                test_fraction,
                column,
            } => {
                let times = data.time.as_ref().ok_or_else(|| {
                    TrainError(format!("split by time needs the column '{column}'"))
                })?;
                let mut order: Vec<usize> = (0..n).collect();
                order.sort_by_key(|&i| (times[i].unwrap_or(i64::MIN), keys[i], i));
                let test = ((n as f64) * test_fraction).round() as usize;
                let (r, t) = order.split_at(n - test.min(n));
                (r.to_vec(), t.to_vec())
            }
        };
    by_key(&mut train_rows);
    by_key(&mut test_rows);
    if test_rows.is_empty() || train_rows.is_empty() {
        return Err(TrainError(format!(
            "{n} rows are too few to hold out an evaluation split"
        )));
    }
    let mut fit_rows = train_rows.clone();
    if options.balance_classes {
        let (pos, neg): (Vec<usize>, Vec<usize>) = train_rows.iter().partition(|&&r| labels[r]);
        let (small, large) = if pos.len() < neg.len() {
            (pos, neg)
        } else {
            (neg, pos)
        };
        if !small.is_empty() {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            while fit_rows.len() < 2 * large.len() {
                fit_rows.push(*small.choose(&mut rng).unwrap_or(&small[0]));
            }
        }
    }

    done("split");
    let train_columns = take_rows(&data.columns, &fit_rows);
    let pipeline = Pipeline::fit(
        &data.names,
        &train_columns,
        FitOptions {
            min_level_count: options.min_level_count,
            max_levels: 50,
        },
    )?;
    let width = pipeline.width();
    let y: Vec<bool> = fit_rows.iter().map(|&r| labels[r]).collect();
    let estimator = match options.model_type {
        ModelType::LogisticReg => {
            let design = pipeline.design(&train_columns)?;
            done("matrix");
            fit_logistic(&design, &y, &options)?
        }
        ModelType::DecisionTree | ModelType::RandomForest => {
            let x = pipeline.transform_in(&train_columns, Layout::ColumnMajor)?;
            done("matrix");
            let growth = growth(&options);
            let forest = if options.model_type == ModelType::DecisionTree {
                Forest {
                    trees: vec![trees::fit_tree(&x, width, &y, &growth)?],
                }
            } else {
                trees::fit_forest(&x, width, &y, &growth)?
            };
            let importances = forest.importances(width);
            Estimator::Trees {
                forest,
                importances,
            }
        }
        ModelType::BoostedTree => {
            let x = pipeline.transform_in(&train_columns, Layout::ColumnMajor)?;
            done("matrix");
            let model = boost::fit_boosted(&x, width, &y, &boost_params(&options))?;
            let importances = model.importances(width);
            Estimator::Boosted { model, importances }
        }
    };
    done("fit");
    let mut model = PredictiveModel {
        format_version: FORMAT_VERSION,
        name: name.to_string(),
        version: 0,
        created_at,
        query: query.to_string(),
        options,
        pipeline,
        estimator,
        training_rows: fit_rows.len(),
        evaluation: Evaluation::default(),
        warnings,
        known_until: None,
        features: None,
        trained_through: None,
        backtest: Vec::new(),
    };
    if let (Some(h), Some(times)) = (model.options.horizon_days, data.time.as_ref()) {
        model.trained_through = train_rows
            .iter()
            .filter_map(|&r| times[r])
            .max()
            .map(|t| t.saturating_add((h * 86_400_000_000.0).round() as i64));
    }
    let test_columns = take_rows(&data.columns, &test_rows);
    let probabilities = model.probabilities(&model.pipeline.transform(&test_columns)?);
    let truth: Vec<bool> = test_rows.iter().map(|&r| labels[r]).collect();
    model.evaluation = evaluate(&probabilities, &truth);
    if model.evaluation.positives == 0 || model.evaluation.positives == model.evaluation.rows {
        model
            .warnings
            .push("the held-out rows have a single class: AUC is undefined".into());
    }
    done("evaluation");
    Ok((model, stages))
}

impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            rows: 0,
            positives: 0,
            auc: None,
            log_loss: None,
            threshold: 0.5,
            accuracy: 0.0,
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
            confusion: [0; 4],
            lift: Vec::new(),
            calibration_error: None,
        }
    }
}

/// Evaluates probabilities against outcomes.
pub fn evaluate(probabilities: &[f64], truth: &[bool]) -> Evaluation {
    let best = metrics::best_f1_threshold(probabilities, truth);
    let threshold = best.map_or(0.5, |b| b.threshold);
    let c = Confusion::at(probabilities, truth, threshold);
    Evaluation {
        rows: truth.len(),
        positives: truth.iter().filter(|t| **t).count(),
        auc: metrics::auc(probabilities, truth),
        log_loss: metrics::log_loss(probabilities, truth),
        threshold,
        accuracy: c.accuracy(),
        precision: best.map_or(0.0, |b| b.precision),
        recall: best.map_or(0.0, |b| b.recall),
        f1: best.map_or(0.0, |b| b.f1),
        confusion: [
            c.true_positives,
            c.false_positives,
            c.true_negatives,
            c.false_negatives,
        ],
        lift: metrics::lift_by_decile(probabilities, truth)
            .iter()
            .map(|d| d.lift)
            .collect(),
        calibration_error: metrics::calibration_error(probabilities, truth, 10),
    }
}

/// The split's seed (42 for splits without one): forests and boosting use it too.
fn seed(options: &TrainOptions) -> u64 {
    match options.split {
        Split::Random { seed, .. } => seed,
        _ => 42,
    }
}

/// Boosting settings from the options.
fn boost_params(options: &TrainOptions) -> boost::BoostParams {
    boost::BoostParams {
        max_iterations: options.max_iterations as usize,
        learn_rate: options.learn_rate,
        max_depth: options.max_depth.unwrap_or(6),
        min_split_loss: options.min_split_loss,
        l2_reg: options.l2,
        subsample: options.subsample,
        early_stop: options.early_stop,
        min_leaf_rows: options.min_leaf_rows.max(1),
        seed: seed(options),
    }
}

/// Tree settings from the options (the forest's seed follows the split's seed).
fn growth(options: &TrainOptions) -> trees::Growth {
    let forest = options.model_type == ModelType::RandomForest;
    trees::Growth {
        max_depth: options.max_depth.unwrap_or(if forest { 10 } else { 6 }),
        min_leaf_rows: options.min_leaf_rows.max(1),
        trees: options.num_trees,
        feature_fraction: options.feature_fraction,
        seed: seed(options),
    }
}

fn fit_logistic(
    design: &crate::features::Design,
    y: &[bool],
    options: &TrainOptions,
) -> Result<Estimator, TrainError> {
    let fitted = logistic::fit(
        design,
        y,
        &logistic::LogisticParams {
            l2: options.l2,
            max_iterations: options.max_iterations,
            tolerance: None,
        },
    )?;
    Ok(Estimator::Logistic {
        intercept: fitted.intercept,
        coefficients: fitted.coefficients,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> TrainingData {
        // y = 1 when x + noise > 1.2: a learnable, imbalanced problem.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        use rand::Rng;
        let x: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..2.0)).collect();
        let y: Vec<Option<bool>> = x
            .iter()
            .map(|v| Some(v + rng.gen_range(-0.5..0.5) > 1.2))
            .collect();
        let c: Vec<Option<String>> = (0..n)
            .map(|i| Some(if i % 3 == 0 { "a" } else { "b" }.to_string()))
            .collect();
        TrainingData {
            names: vec!["x".into(), "c".into()],
            columns: vec![
                RawColumn::Numeric(x.into_iter().map(Some).collect()),
                RawColumn::Text(c),
            ],
            label: RawColumn::Bool(y),
            time: None,
            holdout: None,
        }
    }

    #[test]
    fn logistic_regression_gives_the_probability_of_the_positive_minority_class() {
        let m = train(
            "m",
            "q",
            data(2000),
            TrainOptions::new(ModelType::LogisticReg, "y"),
            "t".into(),
        )
        .expect("trains");
        // Positives are the minority (~30%): linfa's "positive" would be false; the
        // stored model must still rank true high.
        let auc = m.evaluation.auc.expect("both classes");
        assert!(auc > 0.9, "auc {auc}");
        let Estimator::Logistic { coefficients, .. } = &m.estimator else {
            panic!("a logistic model has coefficients");
        };
        assert!(
            coefficients[0] > 0.0,
            "higher x must raise P(true): {coefficients:?}"
        );
        let row = m
            .pipeline
            .transform(&[
                RawColumn::Numeric(vec![Some(1.9)]),
                RawColumn::Text(vec![Some("a".into())]),
            ])
            .expect("row");
        assert!(m.probabilities(&row)[0] > 0.8);
        let logit = m.intercept() + m.contributions(&row).iter().sum::<f64>();
        assert!(
            (sigmoid(logit) - m.probabilities(&row)[0]).abs() < 1e-12,
            "contributions sum to the logit"
        );
    }

    #[test]
    fn single_class_and_non_binary_labels_are_refused() {
        let mut d = data(100);
        d.label = RawColumn::Bool(vec![Some(true); 100]);
        let e = train(
            "m",
            "q",
            d,
            TrainOptions::new(ModelType::LogisticReg, "y"),
            "t".into(),
        )
        .expect_err("one class");
        assert!(e.0.contains("single class (100 rows, 100 positive)"), "{e}");
        let e = binary_labels(
            "y",
            &RawColumn::Numeric(vec![Some(0.0), Some(1.0), Some(2.0)]),
            None,
        )
        .expect_err("3 values");
        assert!(e.0.contains("not binary: it has 3 distinct values"), "{e}");
        let e = binary_labels(
            "y",
            &RawColumn::Text(vec![Some("x".into()), Some("z".into())]),
            None,
        )
        .expect_err("which");
        assert!(e.0.contains("say which is positive"), "{e}");
    }

    #[test]
    fn time_split_holds_out_the_most_recent_rows() {
        let mut d = data(1000);
        d.time = Some((0..1000).map(Some).collect());
        let mut o = TrainOptions::new(ModelType::LogisticReg, "y");
        o.split = Split::Time {
            test_fraction: 0.2,
            column: "t".into(),
        };
        let m = train("m", "q", d, o, "t".into()).expect("trains");
        assert_eq!((m.training_rows, m.evaluation.rows), (800, 200));
    }

    #[test]
    fn snapshot_split_holds_out_whole_instants_after_a_horizon_gap() {
        // 10 monthly instants (30 days apart) of 100 rows each.
        let day = 86_400_000_000i64;
        let fit = |horizon_days: f64| {
            let mut d = data(1000);
            d.time = Some(
                (0..1000)
                    .map(|i| Some((i as i64 / 100) * 30 * day))
                    .collect(),
            );
            let mut o = TrainOptions::new(ModelType::LogisticReg, "y");
            o.split = Split::Time {
                test_fraction: 0.15,
                column: "as_of".into(),
            };
            o.horizon_days = Some(horizon_days);
            train("m", "q", d, o, "t".into())
        };
        let m = fit(45.0).expect("trains");
        // 15% of the rows is 150: the last two whole instants (day 240 and 270) are
        // held out; training ends 45 days before day 240, so at day 180 (7 instants).
        assert_eq!((m.training_rows, m.evaluation.rows), (700, 200));
        assert_eq!(m.trained_through, Some((180 + 45) * day));
        // A horizon longer than the history leaves nothing to train on.
        let e = fit(400.0).expect_err("no training rows");
        assert!(e.0.contains("at least 400 days"), "{e}");
    }

    #[test]
    fn row_order_does_not_change_the_model() {
        let d = data(1000);
        let mut shuffled = data(1000);
        let order: Vec<usize> = (0..1000).rev().collect();
        shuffled.columns = take_rows(&shuffled.columns, &order);
        shuffled.label = take_rows(std::slice::from_ref(&shuffled.label), &order).remove(0);
        let o = TrainOptions::new(ModelType::LogisticReg, "y");
        let a = train("m", "q", d, o.clone(), "t".into()).expect("trains");
        let b = train("m", "q", shuffled, o, "t".into()).expect("trains");
        assert_eq!(a.estimator, b.estimator);
        assert_eq!(a.evaluation, b.evaluation);
    }

    #[test]
    fn custom_split_holds_out_the_flagged_rows() {
        let mut d = data(1000);
        d.holdout = Some((0..1000).map(|i| Some(i % 4 == 0)).collect());
        let mut o = TrainOptions::new(ModelType::LogisticReg, "y");
        o.split = Split::Column { column: "h".into() };
        let m = train("m", "q", d, o, "t".into()).expect("trains");
        assert_eq!((m.training_rows, m.evaluation.rows), (750, 250));
    }

    #[test]
    fn impossible_options_are_refused_before_training() {
        let refused = |change: &dyn Fn(&mut TrainOptions), model_type: ModelType| {
            let mut o = TrainOptions::new(model_type, "y");
            change(&mut o);
            train("m", "q", data(300), o, "t".into())
                .expect_err("refused")
                .0
        };
        let e = refused(&|o| o.l2 = -1.0, ModelType::LogisticReg);
        assert!(e.starts_with("l2 = -1 must be"), "{e}");
        let e = refused(&|o| o.learn_rate = 0.0, ModelType::BoostedTree);
        assert!(e.contains("learn_rate must be in (0, 1], got 0"), "{e}");
        let e = refused(&|o| o.num_trees = 0, ModelType::RandomForest);
        assert!(e.contains("num_trees must be at least 1"), "{e}");
        let e = refused(
            &|o| o.grade_cutoffs = [10.0, 50.0, 25.0],
            ModelType::DecisionTree,
        );
        assert!(e.contains("grade_cutoffs 10/50/25"), "{e}");
        let e = refused(
            &|o| {
                o.split = Split::Random {
                    test_fraction: 1.0,
                    seed: 1,
                }
            },
            ModelType::LogisticReg,
        );
        assert!(
            e.contains("test_fraction must be between 0 and 1, got 1"),
            "{e}"
        );
    }

    #[test]
    fn small_data_gets_a_warning_not_a_refusal() {
        let m = train(
            "m",
            "q",
            data(200),
            TrainOptions::new(ModelType::LogisticReg, "y"),
            "t".into(),
        )
        .expect("trains");
        assert!(
            m.warnings
                .iter()
                .any(|w| w.starts_with("small training set: 200 rows")),
            "{:?}",
            m.warnings
        );
    }

    #[test]
    fn models_round_trip_through_json() {
        let m = train(
            "m",
            "q",
            data(300),
            TrainOptions::new(ModelType::LogisticReg, "y"),
            "t".into(),
        )
        .expect("trains");
        let text = serde_json::to_string(&m).expect("serialise");
        let back: PredictiveModel = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back, m);
    }
}
