//! `qualify_leads(policy [, as_of])`: the qualification table of a policy — every lead
//! open at `as_of` (default: the workspace's `as_of`) in the policy's audience, with the
//! policy's rule score and grade, its predictive score and grade, whether it is
//! sales-ready and why.
//!
//! ```sql
//! SELECT * FROM qualify_leads('default') WHERE sales_ready ORDER BY predictive_score DESC;
//! ```
//!
//! Columns: `lead_id, rule_score, rule_grade, predictive_score, predictive_grade,
//! sales_ready, reasons, sales_ready_since, policy, as_of`. A lead marked sales-ready by
//! an earlier run (`qualification_history`, written by `leadql run`) stays sales-ready
//! when its scores later drop, as in Dynamics 365; its reasons say so.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};

use super::plan;
use super::policies::Policies;
use crate::args;
use crate::scoring::RuleModels;
use crate::scoring::common::state;

/// The `qualify_leads` table function.
#[derive(Debug)]
pub struct QualifyLeads {
    policies: Arc<Policies>,
    rules: Arc<RuleModels>,
}

impl QualifyLeads {
    /// Qualifies with `policies`, scoring with `rules`.
    pub fn new(policies: Arc<Policies>, rules: Arc<RuleModels>) -> Self {
        QualifyLeads { policies, rules }
    }
}

impl TableFunctionImpl for QualifyLeads {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        const NAME: &str = "qualify_leads";
        let state = state(args.session())?;
        let exprs = args.exprs();
        if exprs.is_empty() || exprs.len() > 2 {
            return plan_err!(
                "{NAME} expects (policy [, as_of]), got {} arguments",
                exprs.len()
            );
        }
        let policy = self
            .policies
            .get(NAME, &args::string(state, NAME, "policy", &exprs[0])?)?;
        let as_of = match exprs.get(1) {
            Some(e) => args::timestamp_micros(state, NAME, "as_of", e)?,
            None => match self.rules.default_as_of() {
                Some(t) => t,
                None => {
                    return plan_err!(
                        "{NAME}: no as_of given and the workspace sets no default (pass TIMESTAMP '…' or set [workspace] as_of in workspace.toml)"
                    );
                }
            },
        };
        let rules = policy
            .rule_models
            .iter()
            .map(|m| {
                self.rules
                    .get(NAME, m)
                    .map_err(|e| e.context(format!("policy {}", policy.file)))
            })
            .collect::<Result<Vec<_>>>()?;
        let frame = plan::qualification(state, &policy, &rules, as_of)
            .map_err(|e| e.context(format!("{NAME}('{}')", policy.name)))?;
        Ok(frame.into_view())
    }
}
