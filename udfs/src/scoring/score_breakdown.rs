//! `score_breakdown(model [, as_of])`: one row per lead and rule that fired, with the
//! points it contributed; a lead's points sum to its `score_leads` score.
//!
//! ```sql
//! SELECT rule, count(*) AS leads, sum(points) AS points
//! FROM score_breakdown('engagement') GROUP BY rule ORDER BY points DESC;
//! ```
//!
//! Columns: `lead_id, model, rule, kind (fit | behavior), points, occurrences, as_of`.

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;

use super::common::{model_and_as_of, state};
use super::plan;
use super::registry::RuleModels;
use crate::catalogue::{Build, Entry, Function, RULE_SCORING};

/// The SQL name.
pub const NAME: &str = "score_breakdown";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Rules(|models| Function::Table(Arc::new(ScoreBreakdown::new(models.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        RULE_SCORING,
        "Why each lead has its score: one row per lead and rule that fired at `as_of`, with the points the rule contributed (after its cap, window and decay) and how many interactions it counted (1 for a fit rule). A lead's points sum exactly to its `score_leads` score. Columns: `lead_id, model, rule, kind (fit | behavior), points, occurrences, as_of`.",
        "score_breakdown(model [, as_of])",
    )
    .with_argument("model", "Name of a rule model of the workspace (`scoring/NAME.toml`; a constant string).")
    .with_argument("as_of", "The instant to score at, a constant timestamp such as `TIMESTAMP '2026-06-30 00:00:00'` (default: the workspace's `as_of`); only what happened strictly before it counts.")
    .with_sql_example(
        "> SELECT rule, kind, count(*) AS leads, round(sum(points), 1) AS points
  FROM score_breakdown('engagement') GROUP BY rule, kind ORDER BY points DESC, rule LIMIT 4;
+--------------+----------+-------+--------+
| rule         | kind     | leads | points |
+--------------+----------+-------+--------+
| demo_request | behavior | 223   | 2456.2 |
| pricing_page | behavior | 180   | 1332.8 |
| other_form   | behavior | 346   | 1264.6 |
| web_visit    | behavior | 568   | 998.4  |
+--------------+----------+-------+--------+",
    )
    .with_related_udf("score_leads")
    .build()
});

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
        let (model, as_of) = model_and_as_of(state, &self.models, NAME, args.exprs())?;
        Ok(plan::score_breakdown(state, &model, &as_of)?.into_view())
    }
}
