//! Predictive lead scoring: training on past conversions, the stored model, and
//! prediction with per-feature contributions.
//!
//! Training takes the columns of a query (features and a label), fits the
//! [`Pipeline`](crate::features::Pipeline), splits the rows (random with a seed, by a
//! boolean column, or by time: the most recent share is held out, as Dynamics 365
//! does), optionally balances classes by oversampling, fits the estimator and evaluates
//! on the held-out rows:
//!
//! - `logistic_reg`: L2-regularised logistic regression, fitted by the Newton–Cholesky
//!   solver of [`crate::logistic`] on the sparse structure of the feature matrix. It
//!   models the probability of the positive label directly; prediction needs nothing
//!   but the stored coefficients (a dot product per lead), which also makes
//!   explanations exact: contributions sum to the logit.
//! - `decision_tree`, `random_forest`: histogram trees of [`crate::trees`], scored by
//!   calibrated leaf class frequencies; contributions sum to the probability minus the
//!   base rate.
//! - `boosted_tree`: gradient-boosted histogram trees of [`crate::boost`]; per-tree
//!   path contributions sum to the logit minus the baseline.
//!
//! One concern per file: `params` (the options and their checks), `labels` (the label
//! column as booleans), `split` (training and held-out rows), `train` (the whole fit),
//! `model` (the stored model and scoring), `evaluation` (held-out metrics). Their
//! public items are used from here, as `leadql_models::predictive::…`, and so is
//! [`TrainError`], which lives in [`crate::train_error`] so that the estimators need
//! nothing from this module.

mod evaluation;
mod labels;
mod model;
mod params;
mod split;
mod train;

#[cfg(test)]
mod fixture;

pub use crate::train_error::{LabelProblem, TrainError};
pub use evaluation::{Evaluation, evaluate};
pub use labels::binary_labels;
pub use model::{BacktestRow, Estimator, FORMAT_VERSION, PredictiveModel};
pub use params::{ModelType, Split, TrainOptions};
pub use train::{Stages, TrainingData, train, train_timed};
