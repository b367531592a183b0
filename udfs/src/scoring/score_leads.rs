//! `score_leads(model [, as_of])`: every lead in the model's audience with its score,
//! grade and sales-readiness at `as_of` (default: the workspace's `as_of`).
//!
//! ```sql
//! SELECT * FROM score_leads('engagement', TIMESTAMP '2026-06-30 00:00:00')
//! WHERE sales_ready ORDER BY score DESC LIMIT 20;
//! ```
//!
//! Columns: `lead_id, model, score, grade, sales_ready, as_of`.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;

use super::common::{model_and_as_of, state};
use super::plan;
use super::registry::RuleModels;

/// The `score_leads` table function.
#[derive(Debug)]
pub struct ScoreLeads {
    models: Arc<RuleModels>,
}

impl ScoreLeads {
    /// Scores with the models of `models`.
    pub fn new(models: Arc<RuleModels>) -> Self {
        ScoreLeads { models }
    }
}

impl TableFunctionImpl for ScoreLeads {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(args.session())?;
        let (model, as_of) = model_and_as_of(state, &self.models, "score_leads", args.exprs())?;
        Ok(plan::score_leads(state, &model, &as_of)?.into_view())
    }
}
