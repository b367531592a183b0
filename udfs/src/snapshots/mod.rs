//! Point in time: leads as they stood at past instants, the features known at each
//! instant, and backtests of scoring models against what happened next.
//!
//! Every score is a statement about an instant. A predictive model answers "will this
//! lead, open at instant T, convert within H days?", so it is trained on *snapshots*
//! (one row per lead open at each of a series of instants, labelled with whether it was
//! qualified within the horizon) and served on the snapshot of the leads open now. One
//! feature definition ([`plan::features`]) serves both, so training and serving cannot
//! drift apart, and it reads only interactions strictly before each instant.
//!
//! - [`lead_snapshots`]: `lead_snapshots(from, to, every_days, horizon_days)`
//! - [`lead_snapshot_features`]: the same rows with the point-in-time features
//! - [`backtest`]: `backtest(model, from, to, every_days [, horizon_days])` for rule and
//!   predictive models
//! - [`roc_curve`]: `roc_curve(model, from, to, every_days [, horizon_days])`, the ROC
//!   points of the same scored leads at each instant
//! - [`model_backtest`]: `model_backtest(model)`, the backtest a version stored when it
//!   was trained

pub mod backtest;
pub mod instants;
pub mod lead_snapshot_features;
pub mod lead_snapshots;
pub mod model_backtest;
pub mod plan;
pub mod roc_curve;

/// Version of the feature definition of [`plan::features`], stored with every model
/// trained on it. Bump it when the definition changes.
pub const FEATURES_VERSION: &str = "lead_snapshot_features/1";
