//! Predictive lead scoring in SQL: training (`train_model`), scoring (`predict_score`,
//! `predict`), explanations (`prediction_factors`, `top_factors`,
//! `explain_prediction`) and model information (`model_evaluation`, `model_features`,
//! `show_models`), over a workspace's [`PredictiveModels`].

use std::sync::Arc;

use datafusion::prelude::SessionContext;

pub mod columns;
pub mod drop_model;
pub mod explain_prediction;
pub mod factors;
pub mod model_info;
pub mod options;
pub mod predict;
pub mod predict_score;
pub mod registry;
pub mod train;

pub use registry::PredictiveModels;

/// Registers the predictive functions over `models` in `ctx`.
pub fn register(ctx: &SessionContext, models: Arc<PredictiveModels>) {
    ctx.register_udf(
        predict_score::predict_score_udf(models.clone())
            .as_ref()
            .clone(),
    );
    ctx.register_udf(
        factors::factors_udf(models.clone(), factors::FactorsKind::List)
            .as_ref()
            .clone(),
    );
    ctx.register_udf(
        factors::factors_udf(models.clone(), factors::FactorsKind::Top)
            .as_ref()
            .clone(),
    );
    ctx.register_udtf(
        "train_model",
        Arc::new(train::TrainModel::new(models.clone())),
    );
    ctx.register_udtf("predict", Arc::new(predict::Predict::new(models.clone())));
    ctx.register_udtf(
        "explain_prediction",
        Arc::new(explain_prediction::ExplainPrediction::new(models.clone())),
    );
    ctx.register_udtf(
        "model_evaluation",
        Arc::new(model_info::ModelInfo::new(
            models.clone(),
            model_info::InfoKind::Evaluation,
        )),
    );
    ctx.register_udtf(
        "model_features",
        Arc::new(model_info::ModelInfo::new(
            models.clone(),
            model_info::InfoKind::Features,
        )),
    );
    ctx.register_udtf(
        "drop_model",
        Arc::new(drop_model::DropModel::new(models.clone())),
    );
    ctx.register_udtf(
        "show_models",
        Arc::new(model_info::ModelInfo::new(
            models,
            model_info::InfoKind::Models,
        )),
    );
}
