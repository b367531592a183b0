//! The workspace as it was known at an instant: `leadql run --as-of T` sees only what
//! existed strictly before `T`, so that a run at a past instant reproduces what the
//! product would have said that day (training, scoring, qualification and backtests
//! alike), and a backtest of that run is honest.
//!
//! Every table with a time column is replaced by a view of its rows before `T`:
//! leads created, interactions and lifecycle events that happened, contacts and
//! opportunities created, imports run, earlier runs' qualifications and activities.
//! Columns that describe the present are put back as they stood at `T`: a lead's
//! `status`, `status_reason` and `closed_at` come from its latest lifecycle event
//! before `T`, and an opportunity closed at or after `T` is still open.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{JoinType, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, cast, col, lit, when};
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// Tables filtered by a time column: rows at or after the instant did not exist yet.
pub const TIME_COLUMNS: &[(&str, &str)] = &[
    ("leads", "created_at"),
    ("interactions", "occurred_at"),
    ("lead_status_events", "occurred_at"),
    ("lead_merges", "occurred_at"),
    ("contacts", "created_at"),
    ("opportunities", "created_at"),
    ("imports", "imported_at"),
    ("qualification_history", "as_of"),
    ("sales_activities", "created_at"),
];

fn instant(t: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(Some(t), None))
}

fn ts(e: Expr) -> Expr {
    cast(e, DataType::Timestamp(TimeUnit::Microsecond, None))
}

fn before(ctx: &SessionContext, table: &str, column: &str, t: i64) -> Result<Option<DataFrame>> {
    if !ctx.table_exist(table)? {
        return Ok(None);
    }
    let provider = futures::executor::block_on(ctx.table_provider(table))?;
    let frame = ctx.read_table(provider)?;
    if frame.schema().field_with_unqualified_name(column).is_err() {
        return Ok(None);
    }
    Ok(Some(frame.filter(ts(col(column)).lt(instant(t)))?))
}

/// Replaces the tables registered in `ctx` by their state strictly before `t`.
pub fn register(ctx: &SessionContext, t: i64) -> Result<()> {
    let mut views: Vec<(String, DataFrame)> = Vec::new();
    for (table, column) in TIME_COLUMNS {
        if let Some(frame) = before(ctx, table, column, t)? {
            views.push((table.to_string(), frame));
        }
    }
    let events = views
        .iter()
        .find(|(n, _)| n == "lead_status_events")
        .map(|(_, f)| f.clone());
    for (name, frame) in &mut views {
        match name.as_str() {
            "leads" => {
                if let Some(events) = &events {
                    *frame = leads_at(frame.clone(), events.clone(), t)?;
                }
            }
            "opportunities" => *frame = opportunities_at(frame.clone(), t)?,
            _ => {}
        }
    }
    for (name, frame) in views {
        ctx.deregister_table(name.as_str())?;
        ctx.register_table(name.as_str(), frame.into_view())?;
    }
    Ok(())
}

/// Leads with the status, reason and closing instant of their latest event before `t`.
fn leads_at(leads: DataFrame, events: DataFrame, t: i64) -> Result<DataFrame> {
    let latest = leadql_udfs::status::latest(events, None)?.select(vec![
        col("lead_id").alias("__event_lead"),
        col("status").alias("__status"),
        col("reason").alias("__reason"),
        col("changed_at").alias("__changed"),
    ])?;
    let columns: Vec<String> = leads
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let joined = leads.join(
        latest,
        JoinType::Left,
        &["lead_id"],
        &["__event_lead"],
        None,
    )?;
    // Leads with no event before `t` keep their recorded status unless it closed at
    // or after `t`.
    let closed_later = leadql_udfs::status::closed_at_or_after(instant(t));
    let status = coalesce(vec![
        col("__status"),
        leadql_udfs::status::recorded_status_at(instant(t))?,
    ]);
    let mut select = Vec::new();
    for c in &columns {
        let e = match c.as_str() {
            "status" => cast(status.clone(), DataType::Utf8).alias("status"),
            "status_reason" => when(col("__status").is_not_null(), col("__reason"))
                .when(closed_later.clone(), lit(ScalarValue::Utf8(None)))
                .otherwise(col("status_reason"))?
                .alias("status_reason"),
            "closed_at" => when(status.clone().eq(lit("open")), lit(ScalarValue::Null))
                .when(col("__status").is_not_null(), ts(col("__changed")))
                .otherwise(ts(col("closed_at")))?
                .alias("closed_at"),
            other => col(other),
        };
        select.push(e);
    }
    Ok(joined.select(select)?)
}

/// Opportunities closed at or after `t` were still open at `t`.
fn opportunities_at(opportunities: DataFrame, t: i64) -> Result<DataFrame> {
    let closed_later = leadql_udfs::status::closed_at_or_after(instant(t));
    let mut select = Vec::new();
    for f in opportunities.schema().fields().iter() {
        let e = match f.name().as_str() {
            "status" => leadql_udfs::status::recorded_status_at(instant(t))?.alias("status"),
            "closed_at" => when(closed_later.clone(), lit(ScalarValue::Null))
                .otherwise(ts(col("closed_at")))?
                .alias("closed_at"),
            other => col(other),
        };
        select.push(e);
    }
    Ok(opportunities.select(select)?)
}
