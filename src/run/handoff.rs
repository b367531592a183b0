//! The hand-off: an activity for every newly sales-ready lead, assigned to a seller by
//! the policy's rules and the sellers' capacity.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::prelude::SessionContext;
use leadql_models::assignment::{self, Candidate, Pool, SellerLoad};
use leadql_models::policy::Policy;
use leadql_udfs::qualification::sql::timestamp;

use super::{ACTIVITIES, QUEUE_DAYS, collect, has_table, int64s, strings};
use crate::error::{Error, Result};

/// Creates an activity for every newly sales-ready lead and assigns it.
pub(super) async fn handoff(
    ctx: &SessionContext,
    policy: &Policy,
    as_of: i64,
) -> Result<RecordBatch> {
    let t = timestamp(as_of);
    let handoff = &policy.handoff;
    // Leads sales-ready from this run on (not marked by an earlier run) and without an
    // activity from an earlier run, best first.
    let earlier = if has_table(ctx, ACTIVITIES) {
        format!(
            "AND q.lead_id NOT IN (SELECT e.lead_id FROM {ACTIVITIES} e WHERE e.created_at < {t})"
        )
    } else {
        String::new()
    };
    // The first matching rule and the lead's account columns.
    let mut case = String::from("CASE");
    for (i, r) in handoff.rules.iter().enumerate() {
        let when = checked(policy, r, "when", r.when.as_deref())?;
        let _ = write!(case, " WHEN coalesce({when}, false) THEN {i}");
    }
    case.push_str(" END");
    let rule_expr = if handoff.rules.is_empty() {
        "CAST(NULL AS BIGINT)".to_string()
    } else {
        case
    };
    let candidates_sql = format!(
        "WITH lv AS (SELECT l.*, a.territory AS account_territory, a.segment AS account_segment, \
           a.industry AS account_industry, a.employees AS account_employees, a.country AS account_country, \
           a.is_customer AS account_is_customer \
           FROM leads l LEFT JOIN accounts a ON a.account_id = l.account_id) \
         SELECT q.lead_id, {rule_expr} AS rule, lv.account_territory, lv.account_segment \
         FROM run_qualification q JOIN lv ON lv.lead_id = q.lead_id \
         WHERE q.sales_ready AND q.sales_ready_since = {t} {earlier} \
         ORDER BY q.predictive_score DESC NULLS LAST, q.rule_score DESC NULLS LAST, q.lead_id"
    );
    let batches = collect(ctx, &candidates_sql)
        .await
        .map_err(|e| Error::Query(format!("{}: handoff rules: {e}", policy.file)))?;
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
                .map(|r| {
                    r.matching
                        .iter()
                        .map(|m| match m.as_str() {
                            "territory" => territory[i].clone().unwrap_or_default(),
                            _ => segment[i].clone().unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            candidates.push(Candidate { lead_id, rule, key });
        }
    }
    // Pools.
    let mut pools = Vec::new();
    for r in &handoff.rules {
        let predicate = checked(policy, r, "sellers", r.sellers.as_deref())?;
        let b = collect(
            ctx,
            &format!(
                "SELECT seller_id, territory, segment FROM sellers WHERE active AND coalesce({predicate}, false) ORDER BY seller_id"
            ),
        )
        .await
        .map_err(|e| Error::Query(format!("{}:{}: sellers of rule '{}': {e}", policy.file, r.line, r.name)))?;
        let mut sellers: BTreeMap<Vec<String>, Vec<i64>> = BTreeMap::new();
        for batch in &b {
            let ids = int64s(batch, 0)?;
            let territory = strings(batch, 1);
            let segment = strings(batch, 2);
            for i in 0..batch.num_rows() {
                let Some(id) = ids[i] else { continue };
                let key: Vec<String> = r
                    .matching
                    .iter()
                    .map(|m| match m.as_str() {
                        "territory" => territory[i].clone().unwrap_or_default(),
                        _ => segment[i].clone().unwrap_or_default(),
                    })
                    .collect();
                sellers.entry(key).or_default().push(id);
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
    let open_activities = if has_table(ctx, ACTIVITIES) {
        format!(
            "LEFT JOIN (SELECT seller_id, count(*) AS n FROM {ACTIVITIES} WHERE status = 'open' AND created_at < {t} \
             AND created_at >= {since} GROUP BY seller_id) act ON act.seller_id = s.seller_id",
            since = timestamp(as_of - QUEUE_DAYS * 86_400_000_000)
        )
    } else {
        "LEFT JOIN (SELECT CAST(NULL AS BIGINT) AS seller_id, CAST(0 AS BIGINT) AS n WHERE false) act ON act.seller_id = s.seller_id".to_string()
    };
    let loads = collect(
        ctx,
        &format!(
            "SELECT s.seller_id, s.capacity, coalesce(act.n, 0) AS open_items FROM sellers s \
             {open_activities} ORDER BY s.seller_id"
        ),
    )
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
        let b = collect(
            ctx,
            &format!("SELECT max(activity_id) FROM {ACTIVITIES} WHERE created_at < {t}"),
        )
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

/// A hand-off rule's predicate as one expression (`(true)` when absent), or an error
/// naming the policy file, line and rule.
fn checked(
    policy: &Policy,
    rule: &leadql_models::policy::AssignmentRule,
    what: &str,
    text: Option<&str>,
) -> Result<String> {
    match text {
        None => Ok("(true)".into()),
        Some(t) => leadql_udfs::predicate::expression(t).map_err(|e| {
            Error::Query(format!(
                "{}:{}: {what} of hand-off rule '{}': {e}",
                policy.file, rule.line, rule.name
            ))
        }),
    }
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
