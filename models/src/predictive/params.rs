//! The options of `CREATE MODEL … OPTIONS (…)`: which estimator, how rows are split
//! into training and held-out rows, and the settings of each estimator, with their
//! defaults. [`TrainOptions::check`] refuses impossible settings before any fitting,
//! naming the option; the settings each estimator receives ([`crate::logistic`],
//! [`crate::trees`], [`crate::boost`]) are derived from the options here.

use serde::{Deserialize, Serialize};

use crate::boost;
use crate::logistic;
use crate::train_error::TrainError;
use crate::trees;

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
            other => Err(TrainError::UnknownModelType(other.to_string())),
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
    /// `OPTIONS (…)`; this keeps direct callers of [`train`](fn@super::train) from
    /// fitting with impossible ones). The error names the option.
    pub fn check(&self) -> Result<(), TrainError> {
        let fail = |option, problem: String| Err(TrainError::invalid_option(option, problem));
        match &self.split {
            Split::Random { test_fraction, .. } | Split::Time { test_fraction, .. }
                if !(*test_fraction > 0.0 && *test_fraction < 1.0) =>
            {
                return fail(
                    "test_fraction",
                    format!("must be between 0 and 1, got {test_fraction}"),
                );
            }
            _ => {}
        }
        if self.min_level_count == 0 {
            return fail("min_level_count", "must be at least 1".into());
        }
        let [a, b, c] = self.grade_cutoffs;
        if !(a > b && b > c && a.is_finite() && c.is_finite()) {
            return fail(
                "grade_cutoffs",
                format!("{a}/{b}/{c} must be three decreasing scores"),
            );
        }
        if let Some(h) = self.horizon_days
            && !(h > 0.0 && h <= 36_500.0)
        {
            return fail("horizon_days", format!("must be in (0, 36500], got {h}"));
        }
        if !(0.0..=1.0).contains(&self.publish_tolerance) {
            return fail(
                "publish_tolerance",
                format!("must be in [0, 1], got {}", self.publish_tolerance),
            );
        }
        match self.model_type {
            ModelType::LogisticReg => logistic_params(self).check(),
            ModelType::BoostedTree => boost_params(self).check(),
            ModelType::DecisionTree | ModelType::RandomForest => {
                let g = growth(self);
                if !(1..=64).contains(&g.max_depth) {
                    return fail(
                        "max_depth",
                        format!("must be from 1 to 64, got {}", g.max_depth),
                    );
                }
                if self.model_type == ModelType::RandomForest {
                    if g.trees == 0 {
                        return fail("num_trees", "must be at least 1".into());
                    }
                    if !(g.feature_fraction > 0.0 && g.feature_fraction <= 1.0) {
                        return fail(
                            "feature_fraction",
                            format!("must be in (0, 1], got {}", g.feature_fraction),
                        );
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

/// The split's seed (42 for splits without one): forests and boosting use it too.
fn seed(options: &TrainOptions) -> u64 {
    match options.split {
        Split::Random { seed, .. } => seed,
        _ => 42,
    }
}

/// Logistic regression settings from the options (the solver's default tolerance).
pub(super) fn logistic_params(options: &TrainOptions) -> logistic::LogisticParams {
    logistic::LogisticParams {
        l2: options.l2,
        max_iterations: options.max_iterations,
        tolerance: None,
    }
}

/// Boosting settings from the options.
pub(super) fn boost_params(options: &TrainOptions) -> boost::BoostParams {
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
pub(super) fn growth(options: &TrainOptions) -> trees::Growth {
    let forest = options.model_type == ModelType::RandomForest;
    trees::Growth {
        max_depth: options.max_depth.unwrap_or(if forest { 10 } else { 6 }),
        min_leaf_rows: options.min_leaf_rows.max(1),
        trees: options.num_trees,
        feature_fraction: options.feature_fraction,
        seed: seed(options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predictive::fixture::data;
    use crate::predictive::train;

    #[test]
    fn impossible_options_are_refused_before_training() {
        let refused = |change: &dyn Fn(&mut TrainOptions), model_type: ModelType| {
            let mut o = TrainOptions::new(model_type, "y");
            change(&mut o);
            train("m", "q", data(300), o, "t".into())
                .expect_err("refused")
                .to_string()
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
}
