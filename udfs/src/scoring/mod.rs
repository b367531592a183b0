//! Rule-based lead scoring in SQL.
//!
//! Model-independent building blocks ([`decay`]) are in [`functions`]; the functions
//! that need the workspace's rule models — `score_leads`, `score_breakdown`,
//! `evaluate_scoring` (table functions) and `lead_grade` — are registered with
//! [`register`] over a [`RuleModels`] registry.

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

pub mod decay;
pub mod evaluate_scoring;
pub mod lead_grade;
pub mod plan;
pub mod registry;
pub mod score_breakdown;
pub mod score_leads;

pub(crate) mod common;

pub use registry::RuleModels;

/// The model-independent scoring functions.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![decay::decay_udf()]
}

/// Names of the table functions registered by [`register`].
pub const TABLE_FUNCTIONS: &[&str] = &["score_leads", "score_breakdown", "evaluate_scoring"];

/// Registers the functions that score with `models` in `ctx`.
pub fn register(ctx: &SessionContext, models: Arc<RuleModels>) {
    ctx.register_udtf(
        "score_leads",
        Arc::new(score_leads::ScoreLeads::new(models.clone())),
    );
    ctx.register_udtf(
        "score_breakdown",
        Arc::new(score_breakdown::ScoreBreakdown::new(models.clone())),
    );
    ctx.register_udtf(
        "evaluate_scoring",
        Arc::new(evaluate_scoring::EvaluateScoring::new(models.clone())),
    );
    ctx.register_udf(lead_grade::lead_grade_udf(models).as_ref().clone());
}
