//! The hand-off: an activity for every newly sales-ready lead, assigned to a seller by
//! the policy's rules and the sellers' capacity.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::common::{JoinType, ScalarValue};
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::logical_expr::{Case, Expr, cast, col, lit};
use datafusion::prelude::{DataFrame, SessionContext};
use leadql_models::assignment::{self, Candidate, Pool, SellerLoad};
use leadql_models::policy::Policy;
use leadql_udfs::args::instant;
use leadql_udfs::qualification::plan::recorded_instant;

use super::{ACTIVITIES, QUEUE_DAYS, has_table, int64s, strings, table};
use crate::error::{Error, Result};

/// The seller columns a rule matches on, as the key of a lead or a seller.
fn key(
    rule: &leadql_models::policy::AssignmentRule,
    territory: &[Option<String>],
    segment: &[Option<String>],
    i: usize,
) -> Vec<String> {
    rule.matching
        .iter()
        .map(|m| match m.as_str() {
            "territory" => territory[i].clone().unwrap_or_default(),
            _ => segment[i].clone().unwrap_or_default(),
        })
        .collect()
}

/// Creates an activity for every newly sales-ready lead and assigns it.
pub(super) async fn handoff(
    ctx: &SessionContext,
    policy: &Policy,
    qualification: &DataFrame,
    as_of: i64,
) -> Result<RecordBatch> {
    let t = instant(as_of);
    let handoff = &policy.handoff;
    // Leads sales-ready from this run on (not marked by an earlier run) and without an
    // activity from an earlier run.
    let mut ready = qualification
        .clone()
        .filter(col("sales_ready").and(col("sales_ready_since").eq(recorded_instant(as_of)?)))?;
    if has_table(ctx, ACTIVITIES) {
        let earlier = table(ctx, ACTIVITIES)
            .await?
            .filter(col("created_at").lt(t.clone()))?
            .select(vec![col("lead_id").alias("__earlier")])?;
        ready = ready.join(
            earlier,
            JoinType::LeftAnti,
            &["lead_id"],
            &["__earlier"],
            None,
        )?;
    }
    // What the rules' `when` predicates see: the qualification's columns, the lead's
    // and its account's (`account_*`).
    let leads = leadql_udfs::scoring::plan::leads_with_accounts(&ctx.state())?;
    let leads = {
        let columns: Vec<Expr> = leads
            .schema()
            .columns()
            .into_iter()
            .map(|c| match c.name.as_str() {
                "lead_id" => col("lead_id").alias("__lead"),
                _ => Expr::Column(c),
            })
            .collect();
        leads.select(columns)?
    };
    let ready = ready.join(leads, JoinType::Inner, &["lead_id"], &["__lead"], None)?;
    // The first rule whose `when` holds (NULL: none).
    let mut rules = Vec::new();
    for (i, r) in handoff.rules.iter().enumerate() {
        let holds = match &r.when {
            Some(w) => predicate(&ready, policy, "when", r, w)?,
            None => lit(true),
        };
        rules.push((Box::new(holds), Box::new(lit(i as i64))));
    }
    let rule = if rules.is_empty() {
        cast(lit(ScalarValue::Null), DataType::Int64)
    } else {
        Expr::Case(Case::new(None, rules, None))
    };
    let batches = ready
        .select(vec![
            col("lead_id"),
            rule.alias("rule"),
            col("account_territory"),
            col("account_segment"),
            col("predictive_score"),
            col("rule_score"),
        ])?
        .sort(vec![
            col("predictive_score").sort(false, false),
            col("rule_score").sort(false, false),
            col("lead_id").sort(true, false),
        ])?
        .collect()
        .await
        .map_err(|e| Error::Query(format!("{}: hand-off rules: {e}", policy.file)))?;
    let mut candidates = Vec::new();
    for b in &batches {
        let ids = int64s(b, 0)?;
        let rules = int64s(b, 1)?;
        let territory = strings(b, 2);
        let segment = strings(b, 3);
        for i in 0..b.num_rows() {
            let Some(lead_id) = ids[i] else { continue };
            let rule = rules[i].map(|r| r as usize);
            let key = rule
                .and_then(|r| handoff.rules.get(r))
                .map(|r| key(r, &territory, &segment, i))
                .unwrap_or_default();
            candidates.push(Candidate { lead_id, rule, key });
        }
    }
    // Pools: the active sellers each rule's `sellers` predicate chooses.
    let sellers_table = table(ctx, "sellers").await?;
    let mut pools = Vec::new();
    for r in &handoff.rules {
        let chosen = match &r.sellers {
            Some(p) => predicate(&sellers_table, policy, "sellers", r, p)?,
            None => lit(true),
        };
        let b = sellers_table
            .clone()
            .filter(col("active").and(chosen))?
            .sort(vec![col("seller_id").sort(true, false)])?
            .select_columns(&["seller_id", "territory", "segment"])?
            .collect()
            .await
            .map_err(|e| {
                Error::Query(format!(
                    "{}:{}: sellers of hand-off rule '{}': {e}",
                    policy.file, r.line, r.name
                ))
            })?;
        let mut sellers: BTreeMap<Vec<String>, Vec<i64>> = BTreeMap::new();
        for batch in &b {
            let ids = int64s(batch, 0)?;
            let territory = strings(batch, 1);
            let segment = strings(batch, 2);
            for (i, id) in ids.iter().enumerate() {
                let Some(id) = *id else { continue };
                sellers
                    .entry(key(r, &territory, &segment, i))
                    .or_default()
                    .push(id);
            }
        }
        pools.push(Pool {
            rule: r.name.clone(),
            distribution: r.distribution,
            sellers,
        });
    }
    // Loads: the hand-offs still in a seller's queue, i.e. open activities of earlier
    // runs created within the last QUEUE_DAYS. Leads a seller merely owns are not
    // counted: CRMs keep thousands of stale owned leads nobody works, and counting them
    // left every seller "at capacity" and most hand-offs unassigned.
    let mut loads = sellers_table.select(vec![col("seller_id"), col("capacity")])?;
    let open_items = if has_table(ctx, ACTIVITIES) {
        let queued = table(ctx, ACTIVITIES)
            .await?
            .filter(
                col("status")
                    .eq(lit("open"))
                    .and(col("created_at").lt(t.clone()))
                    .and(col("created_at").gt_eq(instant(as_of - QUEUE_DAYS * 86_400_000_000))),
            )?
            .aggregate(
                vec![col("seller_id").alias("__queued_seller")],
                vec![count_all().alias("__queued")],
            )?;
        loads = loads.join(
            queued,
            JoinType::Left,
            &["seller_id"],
            &["__queued_seller"],
            None,
        )?;
        coalesce(vec![col("__queued"), lit(0i64)])
    } else {
        lit(0i64)
    };
    let loads = loads
        .select(vec![
            col("seller_id"),
            col("capacity"),
            open_items.alias("open_items"),
        ])?
        .sort(vec![col("seller_id").sort(true, false)])?
        .collect()
        .await?;
    let mut sellers = Vec::new();
    for b in &loads {
        let ids = int64s(b, 0)?;
        let caps = int64s(b, 1)?;
        let open = int64s(b, 2)?;
        for i in 0..b.num_rows() {
            if let (Some(seller_id), Some(capacity)) = (ids[i], caps[i]) {
                sellers.push(SellerLoad {
                    seller_id,
                    capacity,
                    open_items: open[i].unwrap_or(0),
                });
            }
        }
    }
    let assigned = assignment::assign(&candidates, &pools, &sellers);

    // Activity ids continue after the earlier runs' ones.
    let first_id = if has_table(ctx, ACTIVITIES) {
        let b = table(ctx, ACTIVITIES)
            .await?
            .filter(col("created_at").lt(t))?
            .aggregate(vec![], vec![max(col("activity_id"))])?
            .collect()
            .await?;
        b.first()
            .and_then(|b| int64s(b, 0).ok())
            .and_then(|v| v.first().copied().flatten())
            .unwrap_or(0)
            + 1
    } else {
        1
    };
    let n = assigned.len();
    let due = as_of + i64::from(handoff.due_days) * 86_400_000_000;
    let schema = Arc::new(activities_schema());
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            (0..n as i64).map(|i| first_id + i),
        )),
        Arc::new(Int64Array::from_iter_values(
            assigned.iter().map(|a| a.lead_id),
        )),
        Arc::new(StringArray::from(vec![handoff.activity.as_str(); n])),
        Arc::new(Int64Array::from(
            assigned.iter().map(|a| a.seller_id).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            assigned.iter().map(|a| a.rule.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(vec![policy.name.as_str(); n])),
        Arc::new(StringArray::from(
            assigned
                .iter()
                .map(|a| {
                    if a.seller_id.is_some() {
                        "open"
                    } else {
                        "unassigned"
                    }
                })
                .collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            assigned
                .iter()
                .map(|a| a.unassigned_reason.clone())
                .collect::<Vec<_>>(),
        )),
        Arc::new(TimestampMicrosecondArray::from(vec![as_of; n])),
        Arc::new(TimestampMicrosecondArray::from(vec![due; n])),
    ];
    RecordBatch::try_new(schema, columns)
        .map_err(|e| Error::Query(format!("sales activities: {e}")))
}

/// A hand-off rule's `when` or `sellers` predicate over `frame`, or an error naming
/// the policy file, the predicate's line and the rule.
fn predicate(
    frame: &DataFrame,
    policy: &Policy,
    key: &str,
    rule: &leadql_models::policy::AssignmentRule,
    p: &leadql_models::rules::Located<String>,
) -> Result<Expr> {
    let what = leadql_udfs::predicate::hand_off_place(key, &rule.name);
    let place = leadql_udfs::predicate::Place {
        file: &policy.file,
        what: &what,
    };
    Ok(leadql_udfs::predicate::condition(frame, &place, p)?)
}

/// Columns of `sales_activities`.
pub fn activities_schema() -> Schema {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
    Schema::new(vec![
        Field::new("activity_id", DataType::Int64, false),
        Field::new("lead_id", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("seller_id", DataType::Int64, true),
        Field::new("rule", DataType::Utf8, true),
        Field::new("policy", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("unassigned_reason", DataType::Utf8, true),
        Field::new("created_at", ts.clone(), false),
        Field::new("due_at", ts, false),
    ])
}
