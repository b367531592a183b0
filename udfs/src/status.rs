//! A lead's status at an instant, from the append-only lifecycle log.
//!
//! `lead_status_events` records every change (`leadql lead qualify|disqualify|reopen`,
//! imports, the generator); a lead's status is its latest event, by `occurred_at` and
//! then `event_id` (two changes at the same instant keep their order of recording).
//! This is the one definition of "current status" that the `lead_status` view, the
//! `--as-of` workspace, qualification and lifecycle changes all use.

use datafusion::common::Result;
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::expr_fn::{last_value, max};
use datafusion::logical_expr::{Expr, SortExpr, col, lit, when};

/// Column names of [`latest`]'s result.
pub const COLUMNS: [&str; 4] = ["lead_id", "status", "reason", "changed_at"];

fn order() -> Vec<SortExpr> {
    vec![
        col("occurred_at").sort(true, false),
        col("event_id").sort(true, false),
    ]
}

/// Whether a row's recorded `closed_at` (of `leads` or `opportunities`) is at or after
/// the instant `t`: it was then still open, whatever its recorded status says.
pub fn closed_at_or_after(t: Expr) -> Expr {
    col("closed_at")
        .is_not_null()
        .and(col("closed_at").gt_eq(t))
}

/// A row's status at the instant `t` by its recorded `status` and `closed_at` alone:
/// `open` when it closed at or after `t`. For an opportunity, and for a lead without a
/// status event before `t` (a workspace written before leadql recorded an opening
/// event for imported closed leads); the `--as-of` workspace and qualification read it.
pub fn recorded_status_at(t: Expr) -> Result<Expr> {
    when(closed_at_or_after(t), lit("open")).otherwise(col("status"))
}

/// Per lead of `events` (a `lead_status_events` relation), the status and reason of
/// its latest event and the instant of that event: `lead_id, status, reason,
/// changed_at`. With `until`, only events strictly before it count (`occurred_at <
/// until`): the status as known at that instant, as `lead_snapshots` and a workspace
/// opened `--as-of` it see it.
pub fn latest(events: DataFrame, until: Option<Expr>) -> Result<DataFrame> {
    let events = match until {
        Some(t) => events.filter(col("occurred_at").lt(t))?,
        None => events,
    };
    events.aggregate(
        vec![col("lead_id")],
        vec![
            last_value(col("status"), order()).alias(COLUMNS[1]),
            last_value(col("reason"), order()).alias(COLUMNS[2]),
            max(col("occurred_at")).alias(COLUMNS[3]),
        ],
    )
}

/// The merges in force in `merges` (a `lead_merges` relation, appended by `leadql lead
/// merge|unmerge`): per duplicate whose latest row (by `occurred_at`, then
/// `merge_id`) is `merged`, `duplicate_id, master_id, status_before, reason_before,
/// merged_at`.
pub fn merges_in_force(merges: DataFrame) -> Result<DataFrame> {
    let order = || {
        vec![
            col("occurred_at").sort(true, false),
            col("merge_id").sort(true, false),
        ]
    };
    merges
        .aggregate(
            vec![col("duplicate_id")],
            vec![
                last_value(col("action"), order()).alias("action"),
                last_value(col("master_id"), order()).alias("master_id"),
                last_value(col("status_before"), order()).alias("status_before"),
                last_value(col("reason_before"), order()).alias("reason_before"),
                max(col("occurred_at")).alias("merged_at"),
            ],
        )?
        .filter(col("action").eq(lit("merged")))?
        .select_columns(&[
            "duplicate_id",
            "master_id",
            "status_before",
            "reason_before",
            "merged_at",
        ])
}

/// The reasons of the events `leadql lead merge` and `unmerge` append: a merge closes
/// the duplicate and an unmerge reopens it, neither is an outcome of the lead.
pub const MERGE_REASONS: [&str; 2] = ["merged", "unmerged"];
