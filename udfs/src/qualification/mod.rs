//! Qualification: turning scores into sales-ready decisions under a policy
//! (`policies/NAME.toml`, see [`leadql_models::policy`]).

use std::sync::Arc;

use datafusion::prelude::SessionContext;

use crate::scoring::RuleModels;

pub mod plan;
pub mod policies;
pub mod qualify_leads;

pub use policies::Policies;

/// Registers `qualify_leads` over `policies` (and the rule models they name).
pub fn register(ctx: &SessionContext, policies: Arc<Policies>, rules: Arc<RuleModels>) {
    ctx.register_udtf(
        "qualify_leads",
        Arc::new(qualify_leads::QualifyLeads::new(policies, rules)),
    );
}
