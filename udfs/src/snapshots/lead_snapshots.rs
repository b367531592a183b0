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

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;

use super::instants::{check_arity, parse};
use super::plan::snapshots;
use crate::scoring::RuleModels;
use crate::scoring::common::state;

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
        const NAME: &str = "lead_snapshots";
        let state = state(args.session())?;
        let exprs = args.exprs();
        check_arity(NAME, exprs, 4, 4, "from, to, every_days, horizon_days")?;
        let instants = parse(state, NAME, exprs, self.rules.default_as_of(), None)?;
        Ok(snapshots(state, &instants)?.into_view())
    }
}
