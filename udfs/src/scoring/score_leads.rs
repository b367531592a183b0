//! `score_leads(model [, as_of])`: every lead in the model's audience with its score,
//! grade and sales-readiness at `as_of` (default: the workspace's `as_of`).
//!
//! ```sql
//! SELECT * FROM score_leads('engagement', TIMESTAMP '2026-06-30 00:00:00')
//! WHERE sales_ready ORDER BY score DESC LIMIT 20;
//! ```
//!
//! Columns: `lead_id, model, score, grade, sales_ready, as_of`.

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;

use super::common::{model_and_as_of, state};
use super::plan;
use super::registry::RuleModels;
use crate::catalogue::{Build, Entry, Function, RULE_SCORING};

/// The SQL name.
pub const NAME: &str = "score_leads";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Rules(|models| Function::Table(Arc::new(ScoreLeads::new(models.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        RULE_SCORING,
        "Every lead in the rule model's audience with its score at `as_of`: the points of the fit rules it meets plus those of the behaviour rules its interactions fire (interactions strictly before `as_of`, with the model's windows, caps and decay), its grade and whether the score reaches the model's `sales_ready` threshold. Leads created at or after `as_of` are left out (a lead is known from just after its creation instant, as in `lead_snapshots`); the lead's status does not matter (`qualify_leads` keeps the open ones). Columns: `lead_id, model, score, grade, sales_ready, as_of`.",
        "score_leads(model [, as_of])",
    )
    .with_argument("model", "Name of a rule model of the workspace (`scoring/NAME.toml`; a constant string).")
    .with_argument("as_of", "The instant to score at, a constant timestamp such as `TIMESTAMP '2026-06-30 00:00:00'` (default: the workspace's `as_of`); only what happened strictly before it counts.")
    .with_sql_example(
        "> SELECT lead_id, round(score, 2) AS score, grade, sales_ready FROM score_leads('engagement')
  ORDER BY score DESC, lead_id LIMIT 3;
+---------+-------+-------+-------------+
| lead_id | score | grade | sales_ready |
+---------+-------+-------+-------------+
| 4599    | 76.52 | Hot   | true        |
| 4679    | 74.0  | Hot   | true        |
| 4440    | 68.86 | Hot   | true        |
+---------+-------+-------+-------------+
> SELECT grade, count(*) AS leads FROM score_leads('engagement', TIMESTAMP '2026-03-31 00:00:00')
  GROUP BY grade ORDER BY grade;
+-------+-------+
| grade | leads |
+-------+-------+
| Cold  | 3501  |
| Hot   | 27    |
| Warm  | 156   |
+-------+-------+",
    )
    .with_related_udf("score_breakdown")
    .with_related_udf("evaluate_scoring")
    .with_related_udf("lead_grade")
    .with_related_udf("qualify_leads")
    .build()
});

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
        let (model, as_of) = model_and_as_of(state, &self.models, NAME, args.exprs())?;
        Ok(plan::score_leads(state, &model, &as_of)?.into_view())
    }
}
