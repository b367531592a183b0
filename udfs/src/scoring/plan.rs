//! Compiles a rule model into a DataFusion plan over `leads`, `accounts` and
//! `interactions`.
//!
//! The plan is relational and vectorised: one filtered scan of the leads in the
//! audience with a `CASE` column per fit rule, one scan of the interactions of the
//! model's types aggregated per lead with a conditional aggregate per behaviour rule,
//! and a left join of the two. Nothing runs row by row in Rust, and DataFusion
//! parallelises and streams every step.
//!
//! `as_of` is either one instant (scoring now, or at a past instant) or a relation of
//! `(lead_id, as_of)` snapshots (each lead scored at each of its instants: features,
//! backtests and evaluations). Only interactions strictly before `as_of` count;
//! windows and decay are measured back from it; at one instant, leads created at or
//! after it are not scored (given snapshots name their own leads).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{JoinType, Result, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SessionState;
use datafusion::functions::core::expr_fn::{coalesce, get_field, greatest, least, named_struct};
use datafusion::functions::math::expr_fn::round;
use datafusion::functions_aggregate::expr_fn::{count, max, sum};
use datafusion::functions_nested::expr_fn::make_array;
use datafusion::logical_expr::ExprFunctionExt;
use datafusion::logical_expr::{Expr, cast, col, lit, when};
use leadql_models::rules::{Decay, Frequency, Located};
use leadql_models::{ConsentLevel, RuleModel};

use super::decay::decay_udf;
use crate::relation::table;

const MICROS_PER_DAY: f64 = 86_400_000_000.0;
/// Decimal places scores and rule points are rounded to (so that a breakdown sums to
/// its score exactly, whatever the order of summation).
pub const SCALE: i64 = 4;

/// The instant(s) a model scores at.
#[derive(Debug, Clone)]
pub enum AsOf {
    /// One instant for every lead, µs since the epoch.
    Instant(i64),
    /// Snapshots: a relation of `(lead_id, as_of)` pairs; a lead is scored once per
    /// pair, at that instant (point-in-time features and backtests).
    Snapshots(DataFrame),
}

/// The scored leads: `lead_id`, `as_of`, then per rule `r{i}` (points, rounded) and
/// `n{i}` (occurrences) and `f{i}` (fired), fit rules first.
#[derive(Debug)]
pub struct Scored {
    /// The plan.
    pub frame: DataFrame,
    /// Rule names, in column order.
    pub rules: Vec<String>,
}

fn ts(v: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(Some(v), None))
}

/// The window of a behaviour rule, in days (none: every earlier interaction counts).
fn window_days(rule: &leadql_models::rules::BehaviorRule) -> Option<f64> {
    rule.window_days.or(match rule.decay {
        Decay::Window { days } => Some(days),
        _ => None,
    })
}

fn window_micros(days: f64) -> i64 {
    (days * MICROS_PER_DAY) as i64
}

/// Interactions at most `days` before `as_of`: `as_of - occurred_at <= width` written
/// as a comparison of the column with one instant (no per-row subtraction).
fn within(as_of: i64, days: f64) -> Expr {
    col("occurred_at").gt_eq(ts(as_of.saturating_sub(window_micros(days))))
}

/// The interactions some behaviour rule can count at `as_of`: per type, those inside
/// the widest window of that type's rules (all of them when one rule has no window).
/// The rest would only add empty groups, so they are dropped before the aggregation
/// (at 1M leads, 6.6M rows of the model's types become 1.17M).
fn countable(model: &RuleModel, as_of: i64) -> Expr {
    let mut widest: std::collections::BTreeMap<&str, Option<f64>> = Default::default();
    for b in &model.behavior {
        let w = window_days(b);
        widest
            .entry(b.interaction.as_str())
            .and_modify(|cur| {
                *cur = match (*cur, w) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                }
            })
            .or_insert(w);
    }
    let in_types =
        |types: &[&str]| col("type").in_list(types.iter().map(|t| lit(*t)).collect(), false);
    let unbounded: Vec<&str> = widest
        .iter()
        .filter(|(_, w)| w.is_none())
        .map(|(t, _)| *t)
        .collect();
    // Types grouped by their widest window, widest first.
    let mut windows: Vec<(f64, Vec<&str>)> = Vec::new();
    for (t, w) in &widest {
        let Some(days) = *w else { continue };
        match windows.iter_mut().find(|(d, _)| *d == days) {
            Some((_, types)) => types.push(t),
            None => windows.push((days, vec![t])),
        }
    }
    windows.sort_by(|a, b| b.0.total_cmp(&a.0));
    // `occurred_at >= as_of - widest AND (types of the widest window OR (occurred_at >=
    // as_of - next AND types of the next) …)`: the cheap instant comparison first, so
    // that the type tests run on the few recent rows only.
    let recent = windows.first().map(|(widest_days, types)| {
        let mut inner = in_types(types);
        for (days, types) in &windows[1..] {
            inner = inner.or(within(as_of, *days).and(in_types(types)));
        }
        within(as_of, *widest_days).and(inner)
    });
    match (recent, unbounded.is_empty()) {
        (Some(r), true) => r,
        (Some(r), false) => r.or(in_types(&unbounded)),
        (None, false) => in_types(&unbounded),
        (None, true) => lit(false),
    }
}

fn micros(e: Expr) -> Expr {
    cast(e, DataType::Int64)
}

/// Parses a model's SQL predicate against `frame`, naming the file and line on error.
fn predicate(
    frame: &DataFrame,
    model: &RuleModel,
    what: &str,
    p: &Located<String>,
) -> Result<Expr> {
    let place = crate::predicate::Place {
        file: &model.file,
        what,
    };
    crate::predicate::condition(frame, &place, p)
}

/// Columns of `accounts` visible to fit rules and audiences as `account_<column>`.
pub const ACCOUNT_COLUMNS: &[&str] = &[
    "name",
    "domain",
    "industry",
    "employees",
    "size_band",
    "revenue_band",
    "country",
    "territory",
    "segment",
    "is_customer",
];

fn uses_accounts(model: &RuleModel) -> bool {
    let mut texts = model
        .fit
        .iter()
        .map(|f| f.predicate.value.as_str())
        .chain(model.audience.iter().map(|a| a.value.as_str()));
    texts.any(|t| t.contains("account_"))
}

/// Every lead with its account's columns as `account_<column>` ([`ACCOUNT_COLUMNS`];
/// NULL for a lead without an account): what fit rules, audiences and hand-off rules
/// may name.
pub fn leads_with_accounts(state: &SessionState) -> Result<DataFrame> {
    let mut cols = vec![col("account_id").alias("__account_id")];
    cols.extend(
        ACCOUNT_COLUMNS
            .iter()
            .map(|c| col(*c).alias(format!("account_{c}"))),
    );
    let accounts = table(state, "accounts")?.select(cols)?;
    table(state, "leads")?.join(
        accounts,
        JoinType::Left,
        &["account_id"],
        &["__account_id"],
        None,
    )
}

/// Compiles `model` into the scoring plan.
pub fn scored(state: &SessionState, model: &RuleModel, as_of: &AsOf) -> Result<Scored> {
    let mut leads = if uses_accounts(model) {
        leads_with_accounts(state)?
    } else {
        table(state, "leads")?
    };
    let as_of_expr = match as_of {
        AsOf::Instant(v) => ts(*v),
        AsOf::Snapshots(pairs) => {
            let pairs = pairs.clone().select(vec![
                col("lead_id").alias("__snapshot_lead_id"),
                cast(
                    col("as_of"),
                    DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, None),
                )
                .alias("__snapshot_as_of"),
            ])?;
            leads = leads.join(
                pairs,
                JoinType::Inner,
                &["lead_id"],
                &["__snapshot_lead_id"],
                None,
            )?;
            col("__snapshot_as_of")
        }
    };

    // --- population and fit rules ------------------------------------------------
    // At one instant, the leads known then: created strictly before it, as their
    // interactions and status events. Given pairs name their leads themselves (a pair
    // at a lead's creation instant scores it with nothing known yet).
    let created = match as_of {
        AsOf::Instant(_) => col("created_at").lt(as_of_expr.clone()),
        AsOf::Snapshots(_) => col("created_at").lt_eq(as_of_expr.clone()),
    };
    let mut keep = created.and(as_of_expr.clone().is_not_null());
    if let Some(a) = &model.audience {
        keep = keep.and(predicate(&leads, model, "[audience] where", a)?);
    }
    if model.min_consent > ConsentLevel::None {
        let allowed: Vec<Expr> = ConsentLevel::ALL
            .iter()
            .filter(|c| **c >= model.min_consent)
            .map(|c| lit(c.as_str()))
            .collect();
        keep = keep.and(col("consent").in_list(allowed, false));
    }
    let mut population_cols = vec![col("lead_id"), as_of_expr.clone().alias("as_of")];
    let mut rules = Vec::new();
    for f in &model.fit {
        let i = rules.len();
        let holds = predicate(
            &leads,
            model,
            &format!("fit rule '{}'", f.name),
            &f.predicate,
        )?;
        population_cols.push(
            when(holds.clone(), lit(f.points))
                .otherwise(lit(0.0))?
                .alias(format!("r{i}")),
        );
        population_cols.push(cast(holds.clone(), DataType::Int64).alias(format!("n{i}")));
        population_cols.push(holds.alias(format!("f{i}")));
        rules.push(f.name.clone());
    }
    let population = leads.filter(keep)?.select(population_cols)?;

    if model.behavior.is_empty() {
        return Ok(Scored {
            frame: population,
            rules,
        });
    }

    // --- behaviour rules: one pass over the interactions ---------------------------
    let interactions = table(state, "interactions")?;
    let (mut events, event_as_of) = match as_of {
        AsOf::Instant(v) => (
            interactions.filter(countable(model, *v).and(col("occurred_at").lt(ts(*v))))?,
            ts(*v),
        ),
        AsOf::Snapshots(_) => {
            // Windows differ per lead here: keep every interaction of the model's types.
            let types: std::collections::BTreeSet<&str> = model
                .behavior
                .iter()
                .map(|b| b.interaction.as_str())
                .collect();
            let types: Vec<Expr> = types.into_iter().map(lit).collect();
            let instants = population.clone().select(vec![
                col("lead_id").alias("__lead_id"),
                col("as_of").alias("__as_of"),
            ])?;
            let events = interactions
                .filter(col("type").in_list(types, false))?
                .join(
                    instants,
                    JoinType::Inner,
                    &["lead_id"],
                    &["__lead_id"],
                    None,
                )?
                .filter(col("occurred_at").lt(col("__as_of")))?;
            (events, col("__as_of"))
        }
    };
    let age_us = micros(event_as_of.clone()) - micros(col("occurred_at"));
    // Each distinct decay is computed once per interaction as a factor column
    // (`__decay{j}`, the value of one point); a rule then sums that factor over its
    // rows with an aggregate FILTER and multiplies by its points after aggregation.
    let mut factors: Vec<(Decay, Expr)> = Vec::new();
    let mut factor_of = |decay: Decay| -> Option<String> {
        let expr = match decay {
            Decay::None | Decay::Window { .. } => return None,
            Decay::Linear { days } => greatest(vec![
                lit(0.0),
                lit(1.0) - cast(age_us.clone(), DataType::Float64) / lit(days * MICROS_PER_DAY),
            ]),
            Decay::Exponential { half_life_days } => decay_udf().call(vec![
                lit(1.0),
                col("occurred_at"),
                event_as_of.clone(),
                lit(half_life_days),
            ]),
        };
        let j = match factors.iter().position(|(d, _)| *d == decay) {
            Some(j) => j,
            None => {
                factors.push((decay, expr));
                factors.len() - 1
            }
        };
        Some(format!("__decay{j}"))
    };
    let mut aggregates = Vec::new();
    for (k, b) in model.behavior.iter().enumerate() {
        let mut cond = col("type").eq(lit(b.interaction.as_str()));
        if let Some(days) = window_days(b) {
            cond = cond.and(match as_of {
                AsOf::Instant(v) => within(*v, days),
                AsOf::Snapshots(_) => age_us.clone().lt_eq(lit(window_micros(days))),
            });
        }
        if let Some(p) = &b.predicate {
            cond = cond.and(predicate(
                &events,
                model,
                &format!("behavior rule '{}'", b.name),
                p,
            )?);
        }
        aggregates.push(
            count(lit(1i64))
                .filter(cond.clone())
                .build()?
                .alias(format!("c{k}")),
        );
        match b.frequency {
            Frequency::Each => {
                if let Some(factor) = factor_of(b.decay) {
                    aggregates.push(
                        sum(col(factor))
                            .filter(cond)
                            .build()?
                            .alias(format!("v{k}")),
                    );
                }
            }
            Frequency::AtLeast(_) => aggregates.push(
                max(col("occurred_at"))
                    .filter(cond)
                    .build()?
                    .alias(format!("v{k}")),
            ),
            Frequency::None => {}
        }
    }
    if !factors.is_empty() {
        let mut columns: Vec<Expr> = events
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect();
        columns.extend(
            factors
                .into_iter()
                .enumerate()
                .map(|(j, (_, e))| e.alias(format!("__decay{j}"))),
        );
        events = events.select(columns)?;
    }
    let joined = match as_of {
        AsOf::Instant(_) => {
            let per_lead = events.aggregate(vec![col("lead_id").alias("__lead_id")], aggregates)?;
            population.join(per_lead, JoinType::Left, &["lead_id"], &["__lead_id"], None)?
        }
        // A lead may be scored at several instants: aggregate per lead and instant.
        AsOf::Snapshots(_) => {
            let per_instant = events.aggregate(
                vec![
                    col("lead_id").alias("__lead_id"),
                    col("__as_of").alias("__at"),
                ],
                aggregates,
            )?;
            population.join(
                per_instant,
                JoinType::Left,
                &["lead_id", "as_of"],
                &["__lead_id", "__at"],
                None,
            )?
        }
    };

    let mut cols: Vec<Expr> = vec![col("lead_id"), col("as_of")];
    for i in 0..rules.len() {
        cols.extend([
            col(format!("r{i}")),
            col(format!("n{i}")),
            col(format!("f{i}")),
        ]);
    }
    for (k, b) in model.behavior.iter().enumerate() {
        let i = model.fit.len() + k;
        let count = coalesce(vec![col(format!("c{k}")), lit(0i64)]);
        let points = lit(b.points);
        let (value, fired) = match b.frequency {
            Frequency::Each => {
                // Decayed: points × the summed factor; undecayed: points × the count.
                let raw = match b.decay {
                    Decay::None | Decay::Window { .. } => {
                        points.clone() * cast(count.clone(), DataType::Float64)
                    }
                    _ => points.clone() * coalesce(vec![col(format!("v{k}")), lit(0.0)]),
                };
                let capped = match b.cap {
                    Some(cap) if b.points >= 0.0 => {
                        least(vec![raw, lit(b.points * f64::from(cap))])
                    }
                    Some(cap) => greatest(vec![raw, lit(b.points * f64::from(cap))]),
                    None => raw,
                };
                (capped, count.clone().gt(lit(0i64)))
            }
            Frequency::AtLeast(n) => {
                let enough = count.clone().gt_eq(lit(i64::from(n)));
                let last = col(format!("v{k}"));
                let v = match b.decay {
                    Decay::None | Decay::Window { .. } => points.clone(),
                    Decay::Linear { days } => {
                        let age = micros(col("as_of")) - micros(last);
                        points.clone()
                            * greatest(vec![
                                lit(0.0),
                                lit(1.0)
                                    - cast(age, DataType::Float64) / lit(days * MICROS_PER_DAY),
                            ])
                    }
                    Decay::Exponential { half_life_days } => decay_udf().call(vec![
                        points.clone(),
                        last,
                        col("as_of"),
                        lit(half_life_days),
                    ]),
                };
                (when(enough.clone(), v).otherwise(lit(0.0))?, enough)
            }
            Frequency::None => {
                let none = count.clone().eq(lit(0i64));
                (when(none.clone(), points).otherwise(lit(0.0))?, none)
            }
        };
        cols.push(round(vec![value, lit(SCALE)]).alias(format!("r{i}")));
        cols.push(count.alias(format!("n{i}")));
        cols.push(fired.alias(format!("f{i}")));
        rules.push(b.name.clone());
    }
    Ok(Scored {
        frame: joined.select(cols)?,
        rules,
    })
}

/// The score expression over a [`Scored`] frame.
pub fn score_expr(rules: usize) -> Expr {
    let total = (0..rules)
        .map(|i| col(format!("r{i}")))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0.0));
    round(vec![cast(total, DataType::Float64), lit(SCALE)])
}

/// The grade expression for a score column: nested `CASE`s from the highest grade down.
pub fn grade_expr(model: &RuleModel, score: Expr) -> Result<Expr> {
    let mut grades = model.grades.iter().rev();
    let Some(top) = grades.next() else {
        return Ok(lit(ScalarValue::Utf8(None)));
    };
    let mut expr = lit(top.name.clone());
    for g in grades {
        let bound = g.max.unwrap_or(f64::INFINITY);
        expr = when(score.clone().lt(lit(bound)), lit(g.name.clone())).otherwise(expr)?;
    }
    when(score.is_null(), lit(ScalarValue::Utf8(None))).otherwise(expr)
}

/// `lead_id, model, score, grade, sales_ready, as_of` for every scored lead.
pub fn score_leads(state: &SessionState, model: &RuleModel, as_of: &AsOf) -> Result<DataFrame> {
    let s = scored(state, model, as_of)?;
    let score = score_expr(s.rules.len());
    let frame = s
        .frame
        .select(vec![col("lead_id"), col("as_of"), score.alias("score")])?;
    frame.select(vec![
        col("lead_id"),
        lit(model.name.clone()).alias("model"),
        col("score"),
        grade_expr(model, col("score"))?.alias("grade"),
        col("score")
            .gt_eq(lit(model.sales_ready))
            .alias("sales_ready"),
        col("as_of"),
    ])
}

/// `lead_id, rule, kind, points, occurrences` for every rule that fired for a lead.
pub fn score_breakdown(state: &SessionState, model: &RuleModel, as_of: &AsOf) -> Result<DataFrame> {
    let s = scored(state, model, as_of)?;
    let entries: Vec<Expr> = s
        .rules
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let kind = if i < model.fit.len() {
                "fit"
            } else {
                "behavior"
            };
            named_struct(vec![
                lit("rule"),
                lit(name.clone()),
                lit("kind"),
                lit(kind),
                lit("points"),
                cast(col(format!("r{i}")), DataType::Float64),
                lit("occurrences"),
                col(format!("n{i}")),
                lit("fired"),
                col(format!("f{i}")),
            ])
        })
        .collect();
    let frame = s.frame.select(vec![
        col("lead_id"),
        col("as_of"),
        make_array(entries).alias("entry"),
    ])?;
    let frame = frame.unnest_columns(&["entry"])?;
    frame.filter(get_field(col("entry"), "fired"))?.select(vec![
        col("lead_id"),
        lit(model.name.clone()).alias("model"),
        get_field(col("entry"), "rule").alias("rule"),
        get_field(col("entry"), "kind").alias("kind"),
        get_field(col("entry"), "points").alias("points"),
        get_field(col("entry"), "occurrences").alias("occurrences"),
        col("as_of"),
    ])
}

/// Shared handle type.
pub type ModelRef = Arc<RuleModel>;
