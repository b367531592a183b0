//! leadql's SQL functions for DataFusion.
//!
//! Register them into any `SessionContext` with [`register_all`] (the functions that
//! need no workspace) and the other `register_*` functions (those reading a workspace's
//! models and policies). Each function lives in its own file, grouped by family (see
//! [`scoring`]), and carries its own
//! [`Documentation`](datafusion::logical_expr::Documentation); [`catalogue`] lists them
//! all, and registration and the reference `docs/functions.md` both come from that list,
//! so the reference and the code cannot drift.
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
use datafusion::prelude::SessionContext;

pub mod args;
pub mod capture;
pub mod catalogue;
pub mod deferred;
pub mod predicate;
pub mod predictive;
pub mod qualification;
pub mod relation;
pub mod scoring;
pub mod snapshots;
pub mod statements;
pub mod status;
pub mod workspace_bound;

use catalogue::{Build, register};

/// Registers the functions of the [catalogue](catalogue::CATALOGUE) that read the rule
/// models, over `models`, in `ctx`.
pub fn register_scoring(ctx: &SessionContext, models: Arc<scoring::RuleModels>) {
    register(ctx, |build| match build {
        Build::Rules(f) => Some(f(&models)),
        _ => None,
    });
}

/// Registers the functions of the catalogue that read the predictive models, over
/// `models`, in `ctx`.
pub fn register_predictive(ctx: &SessionContext, models: Arc<predictive::PredictiveModels>) {
    register(ctx, |build| match build {
        Build::Predictive(f) => Some(f(&models)),
        _ => None,
    });
}

/// Registers the functions of the catalogue that read the qualification policies, over
/// `policies` and the rule models they use, in `ctx`.
pub fn register_qualification(
    ctx: &SessionContext,
    policies: Arc<qualification::Policies>,
    rules: Arc<scoring::RuleModels>,
) {
    register(ctx, |build| match build {
        Build::Policies(f) => Some(f(&policies, &rules)),
        _ => None,
    });
}

/// Registers the functions of the catalogue that read both the rule and the predictive
/// models of the workspace in `ctx`.
pub fn register_point_in_time(
    ctx: &SessionContext,
    rules: Arc<scoring::RuleModels>,
    predictive: Arc<predictive::PredictiveModels>,
) {
    register(ctx, |build| match build {
        Build::Models(f) => Some(f(&rules, &predictive)),
        _ => None,
    });
}

/// Registers every function of the catalogue that needs no workspace in `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    register(ctx, |build| match build {
        Build::Standalone(f) => Some(f()),
        _ => None,
    });
    Ok(())
}
