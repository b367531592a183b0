//! `lead_snapshot_features(from, to, every_days, horizon_days)`: the rows of
//! [`lead_snapshots`](super::lead_snapshots) with the features known at each instant —
//! what point-in-time models train on, and (at a single instant) what they score.
//!
//! ```sql
//! -- Train "will an open lead convert within 90 days?" on monthly snapshots
//! CREATE MODEL conversion OPTIONS (model_type = 'logistic_reg', label = 'label',
//!   horizon_days = 90, split = 'time', time_column = 'as_of') AS
//! SELECT * FROM lead_snapshot_features(NULL, NULL, 30, 90) WHERE label IS NOT NULL;
//! -- The features of the leads open now
//! SELECT * FROM lead_snapshot_features(TIMESTAMP '2026-06-30 00:00:00', TIMESTAMP '2026-06-30 00:00:00', 1, 90);
//! ```
//!
//! Columns: `lead_id, as_of, label`, then the features of [`super::plan::features`]
//! (interaction counts per type in 7/30/90/365-day windows, recency, age, each rule
//! model's score, lead and account attributes). Only interactions strictly before
//! `as_of` are read.

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;

use super::instants::{check_arity, parse};
use super::plan::{features, snapshots};
use crate::scoring::RuleModels;
use crate::scoring::common::state;

/// The `lead_snapshot_features` table function.
#[derive(Debug)]
pub struct LeadSnapshotFeatures {
    rules: Arc<RuleModels>,
}

impl LeadSnapshotFeatures {
    /// Features with the rule models of `rules`.
    pub fn new(rules: Arc<RuleModels>) -> Self {
        LeadSnapshotFeatures { rules }
    }
}

impl TableFunctionImpl for LeadSnapshotFeatures {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        const NAME: &str = "lead_snapshot_features";
        let state = state(args.session())?;
        let exprs = args.exprs();
        check_arity(NAME, exprs, 4, 4, "from, to, every_days, horizon_days")?;
        let instants = parse(state, NAME, exprs, self.rules.default_as_of(), None)?;
        let rows = snapshots(state, &instants)?;
        Ok(features(state, &self.rules, rows)?.into_view())
    }
}
