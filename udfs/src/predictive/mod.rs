//! Predictive lead scoring in SQL, over a workspace's [`PredictiveModels`]: training
//! (`train_model`), scoring (`predict_score`, `predict`), explanations
//! (`prediction_factors`, `top_factors`, `explain_prediction`), model information
//! (`model_evaluation`, `model_features`, `show_models`) and removal (`drop_model`).

pub mod columns;
pub mod drop_model;
pub mod explain_prediction;
pub mod factors;
pub mod model_evaluation;
pub mod model_features;
mod model_info;
pub mod options;
pub mod predict;
pub mod predict_score;
pub mod prediction_factors;
pub mod registry;
pub mod show_models;
pub mod top_factors;
pub mod train;

pub use registry::PredictiveModels;
