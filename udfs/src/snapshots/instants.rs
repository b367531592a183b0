//! The `(from, to, every_days, horizon_days)` arguments shared by the point-in-time
//! functions, turned into the series of instants they look at.
//!
//! Instants step back from `to` every `every_days` while they are not before `from`,
//! so the latest instant is always `to` itself. `from` and `to` may be NULL: `to` is
//! then the latest instant whose horizon is over by the workspace's `as_of` (the last
//! instant whose outcome is known), and `from` two years before `to`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{DocumentationBuilder, Expr};

use crate::args;

/// `doc` with the arguments `from`, `to`, `every_days` and `horizon_days` documented;
/// `horizon_default` says what a missing horizon means, where it has a default.
pub fn documented(
    doc: DocumentationBuilder,
    horizon_default: Option<&str>,
) -> DocumentationBuilder {
    let horizon = "Days after an instant within which a qualification makes the label true (a positive number, at most 36,500).";
    doc.with_argument(
        "from",
        "The first instant (a constant timestamp; NULL: two years before `to`).",
    )
    .with_argument(
        "to",
        "The last instant (a constant timestamp; NULL: the workspace's `as_of` minus the horizon).",
    )
    .with_argument(
        "every_days",
        "Days between instants, counting back from `to` (a positive number).",
    )
    .with_argument(
        "horizon_days",
        match horizon_default {
            Some(d) => format!("{horizon} {d}"),
            None => horizon.to_string(),
        },
    )
}

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;
/// Most instants one call may look at.
pub const MAX_INSTANTS: usize = 1000;
/// Default span of history when `from` is NULL, in days.
pub const DEFAULT_SPAN_DAYS: i64 = 730;

/// The instants of a point-in-time call.
#[derive(Debug, Clone, PartialEq)]
pub struct Instants {
    /// Ascending instants, µs since the epoch.
    pub instants: Vec<i64>,
    /// Horizon of the label, in days.
    pub horizon_days: f64,
    /// The last instant anything is known at (the session's `as_of`): a label whose
    /// horizon ends after it is unknown (NULL).
    pub known_until: i64,
}

impl Instants {
    /// The spacing of the instants in µs (they are evenly spaced; 0 for one instant).
    pub fn step_us(&self) -> i64 {
        match self.instants.as_slice() {
            [a, b, ..] => b - a,
            _ => 0,
        }
    }

    /// The horizon in µs.
    pub fn horizon_us(&self) -> i64 {
        (self.horizon_days * DAY_US as f64).round() as i64
    }
}

/// A positive number of days, or NULL.
pub fn days(state: &SessionState, function: &str, name: &str, expr: &Expr) -> Result<Option<f64>> {
    let value = match args::constant(state, expr) {
        Ok(v) => v,
        Err(_) => {
            return plan_err!("{function}: argument {name} must be a constant number of days");
        }
    };
    if value.is_null() {
        return Ok(None);
    }
    match value.cast_to(&DataType::Float64) {
        Ok(ScalarValue::Float64(Some(d))) if d.is_finite() && d > 0.0 && d <= 36_500.0 => {
            Ok(Some(d))
        }
        _ => plan_err!(
            "{function}: argument {name} must be a number of days between 0 and 36500, got {value}"
        ),
    }
}

fn instant(state: &SessionState, function: &str, name: &str, expr: &Expr) -> Result<Option<i64>> {
    match args::constant(state, expr) {
        Ok(v) if v.is_null() => Ok(None),
        _ => args::timestamp_micros(state, function, name, expr).map(Some),
    }
}

/// Reads `(from, to, every_days [, horizon_days])`; `default_horizon` is used when the
/// horizon is absent or NULL (e.g. a model's own horizon).
pub fn parse(
    state: &SessionState,
    function: &str,
    exprs: &[Expr],
    known_until: Option<i64>,
    default_horizon: Option<f64>,
) -> Result<Instants> {
    let Some(known_until) = known_until else {
        return plan_err!(
            "{function}: the workspace sets no as_of, so no outcome is known yet (set [workspace] as_of in workspace.toml or pass --as-of)"
        );
    };
    let horizon_days = match exprs.get(3) {
        Some(e) => days(state, function, "horizon_days", e)?.or(default_horizon),
        None => default_horizon,
    };
    let Some(horizon_days) = horizon_days else {
        return plan_err!("{function}: argument horizon_days is required");
    };
    let every = days(state, function, "every_days", &exprs[2])?;
    let Some(every) = every else {
        return plan_err!("{function}: argument every_days is NULL");
    };
    let to = instant(state, function, "to", &exprs[1])?;
    let from = instant(state, function, "from", &exprs[0])?;
    series(from, to, every, horizon_days, Some(known_until), function)
}

/// The instants from `from` to `to` every `every` days (NULL bounds: see the module).
pub fn series(
    from: Option<i64>,
    to: Option<i64>,
    every: f64,
    horizon_days: f64,
    known_until: Option<i64>,
    function: &str,
) -> Result<Instants> {
    let Some(known_until) = known_until else {
        return plan_err!(
            "{function}: the workspace sets no as_of, so no outcome is known yet (set [workspace] as_of in workspace.toml or pass --as-of)"
        );
    };
    let horizon_us = (horizon_days * DAY_US as f64).round() as i64;
    let to = to.unwrap_or_else(|| known_until.saturating_sub(horizon_us));
    let from = from.unwrap_or_else(|| to.saturating_sub(DEFAULT_SPAN_DAYS * DAY_US));
    if from > to {
        return plan_err!("{function}: from is after to");
    }
    let step = (every * DAY_US as f64).round() as i64;
    if step <= 0 && from < to {
        return plan_err!("{function}: every_days {every} is less than a microsecond");
    }
    let span = (to - from) / step.max(1);
    if span as u64 >= MAX_INSTANTS as u64 {
        return plan_err!(
            "{function}: {} instants between from and to every {every} days; at most {MAX_INSTANTS} (take a larger every_days)",
            span + 1
        );
    }
    let mut instants: Vec<i64> = (0..=span).map(|k| to - k * step).collect();
    instants.reverse();
    Ok(Instants {
        instants,
        horizon_days,
        known_until,
    })
}

/// Checks the number of arguments of a `(from, to, every_days[, horizon_days])` call.
pub fn check_arity(
    function: &str,
    exprs: &[Expr],
    min: usize,
    max: usize,
    usage: &str,
) -> Result<()> {
    if exprs.len() < min || exprs.len() > max {
        return plan_err!(
            "{function} expects ({usage}), got {} arguments",
            exprs.len()
        );
    }
    Ok(())
}
