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
//!
//! A fifth argument `max_rows` caps the rows for training at scale: when the snapshots
//! whose label is known number more, a deterministic pseudo-random share of them
//! (about `max_rows`, chosen by a hash of lead and instant, the same on every run over
//! the same data) is kept before any feature is computed; rows with an unknown label
//! are dropped. At 1M leads, monthly snapshots over two years with a known label are
//! about 2.3M rows.
//!
//! The `(lead_id, as_of, label)` pairs are computed once per query, when it runs (a
//! [`DeferredTable`]), and kept in memory while the feature plan reads them: once for
//! the attributes, once for the interaction counts and once per rule model's score.

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, cast, col, lit};

use super::instants::{DAY_US, check_arity, documented, parse};
use super::plan::{features, snapshots};
use crate::catalogue::{Build, Entry, Function, POINT_IN_TIME};
use crate::deferred::DeferredTable;
use crate::scoring::RuleModels;
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "lead_snapshot_features";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Rules(|rules| Function::Table(Arc::new(LeadSnapshotFeatures::new(rules.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    let doc = Documentation::builder(
        POINT_IN_TIME,
        "The rows of `lead_snapshots` with the features known at each instant: what point-in-time models train on and, at one instant, score. Columns: `lead_id, as_of, label`, then `age_days` (since the lead was created), the lead's `seniority, job_function, industry, size_band, source, consent, company_size`, its account's `account_segment` and `account_is_customer`, the interactions of each type in the last 7, 30, 90 and 365 days (`web_visit_30d`, `pricing_page_visit_7d`, …), `days_since_last_interaction` and `days_since_<type>` for pricing visits, forms, email clicks, web visits, webinars and event check-ins (1000 when there was none), and each rule model's score at the instant (`engagement_score`, `fit_score`). Only interactions strictly before the instant are read. `max_rows` caps the rows for training at scale: the rows with an unknown label are dropped and, when more remain, a deterministic share of about `max_rows` of them is kept (chosen by a hash of lead and instant: the same rows on every run over the same data).",
        "lead_snapshot_features(from, to, every_days, horizon_days [, max_rows])",
    );
    documented(doc, None)
        .with_argument("max_rows", "The most rows to keep, about (a positive whole number).")
        .with_sql_example(
            "> SELECT count(*) AS open_leads, round(avg(age_days), 1) AS mean_age_days,
    sum(pricing_page_visit_30d) AS pricing_visits_30d, round(avg(engagement_score), 2) AS mean_engagement
  FROM lead_snapshot_features(TIMESTAMP '2026-06-30 00:00:00', TIMESTAMP '2026-06-30 00:00:00', 1, 90);
+------------+---------------+--------------------+-----------------+
| open_leads | mean_age_days | pricing_visits_30d | mean_engagement |
+------------+---------------+--------------------+-----------------+
| 1250       | 239.0         | 55                 | -2.01           |
+------------+---------------+--------------------+-----------------+",
        )
        .with_related_udf("lead_snapshots")
        .with_related_udf("CREATE MODEL")
        .with_related_udf("predict")
        .build()
});

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
        let state = state(args.session())?;
        let exprs = args.exprs();
        check_arity(
            NAME,
            exprs,
            4,
            5,
            "from, to, every_days, horizon_days [, max_rows]",
        )?;
        let instants = parse(state, NAME, &exprs[..4], self.rules.default_as_of(), None)?;
        let max_rows = match exprs.get(4) {
            None => None,
            Some(e) => match crate::args::constant(state, e)
                .ok()
                .and_then(|v| v.cast_to(&DataType::Int64).ok())
            {
                Some(ScalarValue::Int64(Some(n))) if n > 0 => Some(n as usize),
                _ => {
                    return plan_err!(
                        "{NAME}: argument max_rows must be a positive whole number of rows, got {e}"
                    );
                }
            },
        };
        // The pairs are computed once, when the query runs: the feature plan reads them
        // several times.
        let schema = Arc::new(snapshots(state, &instants)?.schema().as_arrow().clone());
        let pairs = DeferredTable::partitioned(
            schema,
            Box::new(move |state| {
                let instants = instants.clone();
                Box::pin(async move {
                    let mut rows = snapshots(state, &instants)?;
                    if let Some(max_rows) = max_rows {
                        rows = rows.filter(col("label").is_not_null())?.cache().await?;
                        let total = rows.clone().count().await?;
                        if total > max_rows {
                            rows = rows.filter(sample(max_rows as f64 / total as f64))?;
                        }
                    }
                    rows.collect_partitioned().await
                })
            }),
        );
        let plan =
            LogicalPlanBuilder::scan("lead_snapshots", provider_as_source(pairs), None)?.build()?;
        let rows = DataFrame::new(state.clone(), plan);
        Ok(features(state, &self.rules, rows)?.into_view())
    }
}

/// Keeps about `share` of the rows, by a multiplicative hash of lead and instant (the
/// same rows on every run over the same data).
fn sample(share: f64) -> Expr {
    const MODULUS: i64 = 1_000_003;
    let day = cast(col("as_of"), DataType::Int64) / lit(DAY_US);
    let key = ((col("lead_id") % lit(MODULUS)) * lit(2_654_435_761i64) + day * lit(40_503i64))
        % lit(MODULUS);
    let key = (key + lit(MODULUS)) % lit(MODULUS);
    key.lt(lit((share * MODULUS as f64).ceil() as i64))
}
