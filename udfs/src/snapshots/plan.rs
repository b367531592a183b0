//! The plans behind the point-in-time functions, built as DataFusion expressions.
//!
//! **Snapshots.** A lead's status at instant `t` is its latest lifecycle event strictly
//! before `t` (`lead_status_events`, without the events of merges: a merged lead has
//! no snapshots, its master has them): each event starts an interval that lasts until the
//! lead's next event, and a lead is open at `t` when an `open` interval (created or
//! reopened) contains it. Joining the open intervals with the instants gives the
//! snapshots without enumerating every lead at every instant. The label is whether a
//! `qualified` event falls in `[t, t + horizon)`; it is NULL when `t + horizon` is after
//! the session's `as_of` (the outcome is not known yet). A lead that closes within the
//! horizon without qualifying is a negative; a reopened lead is open again.
//!
//! **Features.** For each `(lead_id, as_of)` pair, an as-of join of the interactions
//! strictly before `as_of`, aggregated per pair:
//! - `<type>_<w>d`: interactions of each type in the last 7, 30, 90 and 365 days;
//! - `days_since_last_interaction` and `days_since_<type>` for the key types (recency;
//!   [`NEVER_DAYS`] when there was none);
//! - `age_days`: days since the lead was created;
//! - `<model>_score`: each rule model's score at that instant;
//! - the lead's person and company attributes and its account's segment and customer
//!   flag (they carry no history in the workspace, so they are taken as they are).
//!
//! Nothing at or after `as_of` is read, so adding later interactions changes no feature.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{JoinType, Result, UnnestOptions};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SessionState;
use datafusion::functions::core::expr_fn::{coalesce, least};
use datafusion::functions_aggregate::expr_fn::{count, min};
use datafusion::functions_nested::expr_fn::range;
use datafusion::functions_window::expr_fn::lead;
use datafusion::logical_expr::{Expr, ExprFunctionExt, cast, col, lit, when};
use leadql_models::domain::InteractionType;

use super::instants::{DAY_US, Instants};
use crate::relation::table;
use crate::scoring::RuleModels;
use crate::scoring::plan::{AsOf, score_leads};

/// Windows of the interaction counts, in days.
pub const WINDOWS: &[i64] = &[7, 30, 90, 365];
/// Interaction types with a `days_since_<type>` recency feature.
pub const RECENCY_TYPES: &[&str] = &[
    "pricing_page_visit",
    "form_submit",
    "email_click",
    "web_visit",
    "webinar_attend",
    "event_checkin",
];
/// Recency of a lead with no such interaction, in days.
pub const NEVER_DAYS: f64 = 1000.0;
/// Person and company columns of `leads` used as features.
pub const LEAD_ATTRIBUTES: &[&str] = &[
    "seniority",
    "job_function",
    "industry",
    "size_band",
    "source",
    "consent",
    "company_size",
];

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

fn micros(e: Expr) -> Expr {
    cast(e, DataType::Int64)
}

/// The instants' positions `k` (`instants[k] = first + k * step`) in the open interval
/// `(from, to]` of a lead (`to` NULL: still open), as a range: `from < t` and
/// `(to IS NULL OR to >= t)`. Computed arithmetically, so each interval yields its
/// snapshots directly instead of being compared with every instant.
fn instant_range(inst: &Instants, from: Expr, to: Expr) -> Result<Expr> {
    let n = inst.instants.len() as i64;
    let first = inst.instants.first().copied().unwrap_or(0);
    let step = inst.step_us().max(1);
    let (from_us, to_us) = (micros(from), micros(to.clone()));
    let lo = when(from_us.clone().lt(lit(first)), lit(0i64))
        .otherwise((from_us - lit(first)) / lit(step) + lit(1i64))?;
    let hi = when(to.is_null(), lit(n))
        .when(to_us.clone().lt(lit(first)), lit(0i64))
        .otherwise(least(vec![
            (to_us - lit(first)) / lit(step) + lit(1i64),
            lit(n),
        ]))?;
    Ok(range(lo, hi, lit(1i64)))
}

/// `lead_id, as_of, label`: every lead open at each instant, with its outcome.
pub fn snapshots(state: &SessionState, inst: &Instants) -> Result<DataFrame> {
    // Merges are corrections of identity, not outcomes: a lead merged into another
    // has no snapshots of its own (its interactions count for its master), and the
    // events of a merge that was undone are left out (the lead was open throughout).
    let mut events = table(state, "lead_status_events")?;
    if events.schema().has_column_with_unqualified_name("reason") {
        events = events.filter(
            col("reason").is_null().or(col("reason").in_list(
                crate::status::MERGE_REASONS
                    .iter()
                    .map(|r| lit(*r))
                    .collect(),
                true,
            )),
        )?;
    }
    if let Ok(merges) = table(state, "lead_merges") {
        let merged = crate::status::merges_in_force(merges)?
            .select(vec![col("duplicate_id").alias("__merged_lead")])?;
        events = events.join(
            merged,
            JoinType::LeftAnti,
            &["lead_id"],
            &["__merged_lead"],
            None,
        )?;
    }
    let events = events.select(vec![
        col("lead_id"),
        cast(col("occurred_at"), ts_type()).alias("occurred_at"),
        col("status"),
        col("event_id"),
    ])?;
    // The next event of the same lead. One window over all events in (lead, time)
    // order: a window partitioned by lead pays per partition, and there are as many
    // partitions as leads.
    let order = vec![
        col("lead_id").sort(true, false),
        col("occurred_at").sort(true, false),
        col("event_id").sort(true, false),
    ];
    let next_at = lead(col("occurred_at"), Some(1), None)
        .order_by(order.clone())
        .build()?
        .alias("__next_at");
    let next_lead = lead(col("lead_id"), Some(1), None)
        .order_by(order)
        .build()?
        .alias("__next_lead");
    let open = events
        .clone()
        .window(vec![next_at, next_lead])?
        .filter(col("status").eq(lit("open")))?
        .select(vec![
            col("lead_id").alias("__open_lead"),
            col("occurred_at").alias("__from"),
            when(col("__next_lead").eq(col("lead_id")), col("__next_at"))
                .end()?
                .alias("__to"),
        ])?;
    let first = inst.instants.first().copied().unwrap_or(0);
    let at_us = lit(first) + col("__k") * lit(inst.step_us().max(1));
    let pairs = open
        .select(vec![
            col("__open_lead"),
            instant_range(inst, col("__from"), col("__to"))?.alias("__k"),
        ])?
        // An open event without a time has no instants (not a NULL one).
        .unnest_columns_with_options(&["__k"], UnnestOptions::new().with_preserve_nulls(false))?
        .select(vec![
            col("__open_lead").alias("lead_id"),
            cast(at_us.clone(), ts_type()).alias("as_of"),
            cast(at_us.clone() + lit(inst.horizon_us()), ts_type()).alias("__horizon_end"),
            (at_us + lit(inst.horizon_us()))
                .lt_eq(lit(inst.known_until))
                .alias("__label_known"),
        ])?;
    let qualified = events
        .filter(col("status").eq(lit("qualified")))?
        .select(vec![
            col("lead_id").alias("__q_lead"),
            col("occurred_at").alias("__q_at"),
        ])?;
    pairs
        .join_on(
            qualified,
            JoinType::Left,
            vec![
                col("lead_id").eq(col("__q_lead")),
                col("__q_at").gt_eq(col("as_of")),
                col("__q_at").lt(col("__horizon_end")),
            ],
        )?
        .aggregate(
            vec![col("lead_id"), col("as_of"), col("__label_known")],
            vec![count(col("__q_at")).alias("__qualified")],
        )?
        .select(vec![
            col("lead_id"),
            col("as_of"),
            when(col("__label_known"), col("__qualified").gt(lit(0i64)))
                .end()?
                .alias("label"),
        ])
}

/// A rule model's name as a column-name prefix.
pub fn identifier(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `snapshots` (with `lead_id` and `as_of`, and any other columns, kept first) and the
/// point-in-time features of each pair, in a fixed order.
pub fn features(
    state: &SessionState,
    rules: &RuleModels,
    snapshots: DataFrame,
) -> Result<DataFrame> {
    let day = DAY_US as f64;
    let kept: Vec<Expr> = snapshots
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let pairs = snapshots.clone().select(vec![
        col("lead_id"),
        cast(col("as_of"), ts_type()).alias("as_of"),
    ])?;

    // Lead and account attributes.
    let mut lead_cols = vec![
        col("lead_id").alias("__lead"),
        cast(col("created_at"), ts_type()).alias("__created"),
        col("account_id").alias("__account"),
    ];
    lead_cols.extend(LEAD_ATTRIBUTES.iter().map(|c| col(*c)));
    let leads = table(state, "leads")?.select(lead_cols)?;
    let accounts = table(state, "accounts")?.select(vec![
        col("account_id").alias("__account_key"),
        col("segment").alias("account_segment"),
        col("is_customer").alias("account_is_customer"),
    ])?;
    let mut base = snapshots
        .join(leads, JoinType::Inner, &["lead_id"], &["__lead"], None)?
        .join(
            accounts,
            JoinType::Left,
            &["__account"],
            &["__account_key"],
            None,
        )?;

    // Interactions strictly before each instant, aggregated per (lead, instant).
    let age = col("__age");
    let mut aggregates = Vec::new();
    for t in InteractionType::ALL {
        for w in WINDOWS {
            aggregates.push(
                count(lit(1i64))
                    .filter(
                        col("type")
                            .eq(lit(t.as_str()))
                            .and(age.clone().lt_eq(lit(w * DAY_US))),
                    )
                    .build()?
                    .alias(format!("__{}_{w}d", t.as_str())),
            );
        }
    }
    aggregates.push(min(age.clone()).alias("__recent_any"));
    for r in RECENCY_TYPES {
        aggregates.push(
            min(age.clone())
                .filter(col("type").eq(lit(*r)))
                .build()?
                .alias(format!("__recent_{r}")),
        );
    }
    let instants = pairs.clone().select(vec![
        col("lead_id").alias("__pair_lead"),
        col("as_of").alias("__pair_as_of"),
    ])?;
    let activity = table(state, "interactions")?
        .select(vec![
            col("lead_id"),
            col("type"),
            cast(col("occurred_at"), ts_type()).alias("occurred_at"),
        ])?
        .join(
            instants,
            JoinType::Inner,
            &["lead_id"],
            &["__pair_lead"],
            None,
        )?
        .filter(col("occurred_at").lt(col("__pair_as_of")))?
        .select(vec![
            col("__pair_lead"),
            col("__pair_as_of"),
            col("type"),
            (micros(col("__pair_as_of")) - micros(col("occurred_at"))).alias("__age"),
        ])?
        .aggregate(vec![col("__pair_lead"), col("__pair_as_of")], aggregates)?;
    base = base.join(
        activity,
        JoinType::Left,
        &["lead_id", "as_of"],
        &["__pair_lead", "__pair_as_of"],
        None,
    )?;

    // Rule scores at each instant.
    let mut rule_columns = Vec::new();
    for (i, name) in rules.names().enumerate() {
        let Ok(model) = rules.get("lead_snapshot_features", name) else {
            continue;
        };
        let scored = score_leads(state, &model, &AsOf::Snapshots(pairs.clone()))?.select(vec![
            col("lead_id").alias(format!("__rule{i}_lead")),
            col("as_of").alias(format!("__rule{i}_as_of")),
            col("score").alias(format!("__rule{i}_score")),
        ])?;
        base = base.join(
            scored,
            JoinType::Left,
            &["lead_id", "as_of"],
            &[&format!("__rule{i}_lead"), &format!("__rule{i}_as_of")],
            None,
        )?;
        rule_columns
            .push(col(format!("__rule{i}_score")).alias(format!("{}_score", identifier(name))));
    }

    let days_since = |c: &str| {
        coalesce(vec![
            cast(col(c), DataType::Float64) / lit(day),
            lit(NEVER_DAYS),
        ])
    };
    let mut out = kept;
    out.push(
        (cast(
            micros(col("as_of")) - micros(col("__created")),
            DataType::Float64,
        ) / lit(day))
        .alias("age_days"),
    );
    out.extend(LEAD_ATTRIBUTES.iter().map(|c| col(*c)));
    out.push(col("account_segment"));
    out.push(col("account_is_customer"));
    for t in InteractionType::ALL {
        for w in WINDOWS {
            let name = format!("{}_{w}d", t.as_str());
            out.push(coalesce(vec![col(format!("__{name}")), lit(0i64)]).alias(name));
        }
    }
    out.push(days_since("__recent_any").alias("days_since_last_interaction"));
    for r in RECENCY_TYPES {
        out.push(days_since(&format!("__recent_{r}")).alias(format!("days_since_{r}")));
    }
    out.extend(rule_columns);
    base.select(out)
}
