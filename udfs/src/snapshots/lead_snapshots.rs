//! `lead_snapshots(from, to, every_days, horizon_days)`: one row per lead open at each
//! instant from `from` to `to` (every `every_days`, counting back from `to`), with
//! `label` = qualified within `horizon_days` after the instant.
//!
//! ```sql
//! SELECT as_of, count(*) AS open_leads, count(*) FILTER (WHERE label) AS converted
//! FROM lead_snapshots(TIMESTAMP '2025-06-30 00:00:00', TIMESTAMP '2025-12-31 00:00:00', 30, 90)
//! GROUP BY as_of ORDER BY as_of;
//! ```
//!
//! Columns: `lead_id, as_of, label`. Status comes from `lead_status_events` as it was
//! strictly before each instant (a reopened lead is open again); a lead disqualified
//! within the horizon is a negative; `label` is NULL when the horizon ends after the
//! workspace's `as_of` (the outcome is not known yet). `from` and `to` may be NULL: see
//! [`super::instants`].

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;

use super::instants::{check_arity, documented, parse};
use super::plan::snapshots;
use crate::catalogue::{Build, Entry, Function, POINT_IN_TIME};
use crate::scoring::RuleModels;
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "lead_snapshots";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Rules(|rules| Function::Table(Arc::new(LeadSnapshots::new(rules.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    let doc = Documentation::builder(
        POINT_IN_TIME,
        "The leads open at each instant, one row per lead and instant: `lead_id, as_of, label`. A lead's status at an instant is its latest event in `lead_status_events` strictly before it (a reopened lead is open again); `label` is whether it was qualified within `horizon_days` after the instant (false when it was disqualified or stayed open; NULL when the horizon ends after the workspace's `as_of`, the outcome not known yet).",
        "lead_snapshots(from, to, every_days, horizon_days)",
    );
    documented(doc, None)
        .with_sql_example(
        "> SELECT as_of, count(*) AS open_leads, count(*) FILTER (WHERE label) AS qualified_in_90_days
  FROM lead_snapshots(TIMESTAMP '2025-10-02 00:00:00', TIMESTAMP '2026-01-30 00:00:00', 30, 90)
  GROUP BY as_of ORDER BY as_of;
+---------------------+------------+----------------------+
| as_of               | open_leads | qualified_in_90_days |
+---------------------+------------+----------------------+
| 2025-10-02T00:00:00 | 750        | 70                   |
| 2025-11-01T00:00:00 | 783        | 74                   |
| 2025-12-01T00:00:00 | 844        | 78                   |
| 2025-12-31T00:00:00 | 907        | 77                   |
| 2026-01-30T00:00:00 | 969        | 65                   |
+---------------------+------------+----------------------+",
    )
    .with_related_udf("lead_snapshot_features")
    .with_related_udf("backtest")
    .with_related_udf("evaluate_scoring")
    .build()
});

/// The `lead_snapshots` table function.
#[derive(Debug)]
pub struct LeadSnapshots {
    rules: Arc<RuleModels>,
}

impl LeadSnapshots {
    /// Snapshots of the workspace whose `as_of` `rules` carries.
    pub fn new(rules: Arc<RuleModels>) -> Self {
        LeadSnapshots { rules }
    }
}

impl TableFunctionImpl for LeadSnapshots {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(args.session())?;
        let exprs = args.exprs();
        check_arity(NAME, exprs, 4, 4, "from, to, every_days, horizon_days")?;
        let instants = parse(state, NAME, exprs, self.rules.default_as_of(), None)?;
        Ok(snapshots(state, &instants)?.into_view())
    }
}
