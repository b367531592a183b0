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

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::logical_expr::Documentation;

use super::plan;
use super::policies::Policies;
use crate::args;
use crate::catalogue::{Build, Entry, Function, QUALIFICATION};
use crate::scoring::RuleModels;
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "qualify_leads";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Policies(|policies, rules| {
        Function::Table(Arc::new(QualifyLeads::new(policies.clone(), rules.clone())))
    }),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        QUALIFICATION,
        "The qualification table of a policy: every lead open at `as_of` (created, and with status events, strictly before it, as `lead_snapshots` and `--as-of` see a lead) in the policy's audience, with the policy's rule score and grade (its first rule model), its predictive score and grade (its predictive model's probability, in %, computed at `as_of`; NULL without one), whether it is sales-ready by the policy's criteria and why. Columns: `lead_id, rule_score, rule_grade, predictive_score, predictive_grade, sales_ready, reasons, sales_ready_since, policy, as_of`. `reasons` names the criteria met, or for a lead that is not sales-ready those it misses. A lead marked sales-ready by an earlier `leadql run` (the workspace's `qualification_history`) stays sales-ready when its scores later drop, as in Dynamics 365, and its reasons say so; `sales_ready_since` is when it first became sales-ready (`as_of` for a lead sales-ready for the first time, NULL for one that is not).",
        "qualify_leads(policy [, as_of])",
    )
    .with_argument("policy", "Name of a policy of the workspace (`policies/NAME.toml`; a constant string).")
    .with_argument("as_of", "The instant to qualify at, a constant timestamp (default: the workspace's `as_of`).")
    .with_sql_example(
        "> SELECT lead_id, round(rule_score, 1) AS rule_score, rule_grade,
    round(predictive_score, 1) AS predictive_score, predictive_grade, reasons
  FROM qualify_leads('default') WHERE sales_ready ORDER BY predictive_score DESC, lead_id LIMIT 3;
+---------+------------+------------+------------------+------------------+-------------------------------------------------------------------------------------+
| lead_id | rule_score | rule_grade | predictive_score | predictive_grade | reasons                                                                             |
+---------+------------+------------+------------------+------------------+-------------------------------------------------------------------------------------+
| 4878    | 50.1       | Hot        | 66.0             | A                | engagement 50.1 >= 40; conversion 66.0, grade A (A or better), last form 2 days ago |
| 4614    | 23.4       | Warm       | 63.9             | A                | conversion 63.9, grade A (A or better), last pricing visit 4 days ago               |
| 4793    | 38.4       | Warm       | 62.5             | A                | conversion 62.5, grade A (A or better), last web visit today                        |
+---------+------------+------------+------------------+------------------+-------------------------------------------------------------------------------------+
> SELECT sales_ready, count(*) AS leads FROM qualify_leads('default', TIMESTAMP '2026-03-31 00:00:00')
  GROUP BY sales_ready ORDER BY sales_ready;
+-------------+-------+
| sales_ready | leads |
+-------------+-------+
| false       | 908   |
| true        | 33    |
+-------------+-------+",
    )
    .with_related_udf("score_leads")
    .with_related_udf("predict")
    .build()
});

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
                    .map_err(naming(&format!("policy {}", policy.file)))
            })
            .collect::<Result<Vec<_>>>()?;
        let frame = plan::qualification(state, &policy, &rules, as_of)
            .map_err(naming(&format!("{NAME}('{}')", policy.name)))?;
        Ok(frame.into_view())
    }
}

/// Names `what` (the policy, or the call) before the message of a planning error, the
/// errors a policy's plan raises (an unknown model, an invalid predicate). A
/// `DataFusionError::Context` would not do: error messages keep only the root cause,
/// since DataFusion wraps its own errors in contexts (analyzer and optimizer rule
/// names) that mean nothing to a user. Other errors pass unchanged.
fn naming(what: &str) -> impl Fn(DataFusionError) -> DataFusionError + '_ {
    move |e| match e {
        DataFusionError::Plan(m) => DataFusionError::Plan(format!("{what}: {m}")),
        other => other,
    }
}
