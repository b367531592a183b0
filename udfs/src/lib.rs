//! leadql's SQL functions for DataFusion.
//!
//! Register them into any `SessionContext` with [`register_all`]; each function lives
//! in its own file, grouped by family (see [`scoring`]), and carries its own
//! [`Documentation`](datafusion::logical_expr::Documentation), so the catalogue and the
//! code cannot drift.
//!
//! ```no_run
//! # async fn demo() -> datafusion::error::Result<()> {
//! let ctx = datafusion::prelude::SessionContext::new();
//! leadql_udfs::register_all(&ctx)?;
//! ctx.sql("SELECT decay(10, TIMESTAMP '2026-06-01', TIMESTAMP '2026-06-30', 28)").await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

pub mod args;
pub mod capture;
pub mod deferred;
pub mod predicate;
pub mod predictive;
pub mod qualification;
pub mod relation;
pub mod scoring;
pub mod snapshots;
pub mod status;

/// Every scalar function of this crate.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut all = scoring::functions();
    all.extend(capture::functions());
    all
}

/// Registers the rule-scoring functions (`score_leads`, `score_breakdown`,
/// `evaluate_scoring`, `lead_grade`) over `models` in `ctx`.
pub fn register_scoring(ctx: &SessionContext, models: Arc<scoring::RuleModels>) {
    scoring::register(ctx, models);
}

/// Registers the predictive functions (`train_model`, `predict_score`, `predict`,
/// `explain_prediction`, `model_evaluation`, `model_features`, `show_models`,
/// `drop_model`, `prediction_factors`, `top_factors`) over `models` in `ctx`.
pub fn register_predictive(ctx: &SessionContext, models: Arc<predictive::PredictiveModels>) {
    predictive::register(ctx, models);
}

/// Registers the qualification function (`qualify_leads`) over `policies` and the rule
/// models they use in `ctx`.
pub fn register_qualification(
    ctx: &SessionContext,
    policies: Arc<qualification::Policies>,
    rules: Arc<scoring::RuleModels>,
) {
    qualification::register(ctx, policies, rules);
}

/// Registers the point-in-time functions (`lead_snapshots`, `lead_snapshot_features`,
/// `backtest`) over the workspace's rule and predictive models in `ctx`.
pub fn register_point_in_time(
    ctx: &SessionContext,
    rules: Arc<scoring::RuleModels>,
    predictive: Arc<predictive::PredictiveModels>,
) {
    snapshots::register(ctx, rules, predictive);
}

/// Registers every model-independent leadql function in `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    for f in scalar_functions() {
        ctx.register_udf(f.as_ref().clone());
    }
    ctx.register_udtf(
        "lead_duplicates",
        Arc::new(capture::lead_duplicates::LeadDuplicates),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_unique_and_documented() {
        let mut names = Vec::new();
        for f in scalar_functions() {
            assert!(
                f.documentation().is_some(),
                "{} has no documentation",
                f.name()
            );
            names.push(f.name().to_string());
        }
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "two functions share a name");
    }
}
