//! `score_breakdown(model [, as_of])`: one row per lead and rule that fired, with the
//! points it contributed; a lead's points sum to its `score_leads` score.
//!
//! ```sql
//! SELECT rule, count(*) AS leads, sum(points) AS points
//! FROM score_breakdown('engagement') GROUP BY rule ORDER BY points DESC;
//! ```
//!
//! Columns: `lead_id, model, rule, kind (fit | behavior), points, occurrences, as_of`.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;

use super::common::{model_and_as_of, state};
use super::plan;
use super::registry::RuleModels;

/// The `score_breakdown` table function.
#[derive(Debug)]
pub struct ScoreBreakdown {
    models: Arc<RuleModels>,
}

impl ScoreBreakdown {
    /// Explains scores of the models of `models`.
    pub fn new(models: Arc<RuleModels>) -> Self {
        ScoreBreakdown { models }
    }
}

impl TableFunctionImpl for ScoreBreakdown {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(args.session())?;
        let (model, as_of) = model_and_as_of(state, &self.models, "score_breakdown", args.exprs())?;
        Ok(plan::score_breakdown(state, &model, &as_of)?.into_view())
    }
}
