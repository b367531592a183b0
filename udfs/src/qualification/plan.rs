//! The plan of a qualification, built as DataFusion expressions: the leads open at
//! `as_of` in the policy's audience, joined with the policy's rule scores
//! (`score_leads`), its predictive score (`predict`) and the sales-ready marks of
//! earlier runs; then each criterion as a boolean column, and the decision with its
//! reasons in words.
//!
//! `EXPLAIN SELECT * FROM qualify_leads('default')` shows this plan: a scan of `leads`
//! filtered by the audience, left joins with the latest status, each `score_leads` and
//! `predict` plan, and two projections (the criteria, then the decision).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{JoinType, Result, ScalarValue, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SessionState;
use datafusion::functions::core::expr_fn::{coalesce, least};
use datafusion::functions::math::expr_fn::{floor, round};
use datafusion::functions::string::expr_fn::concat_ws;
use datafusion::functions_aggregate::expr_fn::min;
use datafusion::logical_expr::{Case, Expr, Operator, binary_expr, cast, col, lit, when};
use leadql_models::domain::ConsentLevel;
use leadql_models::policy::{Combine, Policy};
use leadql_models::rules::RuleModel;

use crate::predicate::{Place, condition};
use crate::relation::{function, table};
use crate::snapshots::plan::{NEVER_DAYS, RECENCY_TYPES};

/// The workspace table holding earlier runs' qualifications (written by `leadql run`).
pub const HISTORY: &str = "qualification_history";

/// An instant as the qualification records it: `as_of` and `sales_ready_since` are
/// nanosecond timestamps, as in every qualification recorded so far (and the hand-off
/// compares `sales_ready_since` with this same value). An instant past 2262 has no
/// nanosecond timestamp and is an error.
pub fn recorded_instant(micros: i64) -> Result<Expr> {
    match micros.checked_mul(1000) {
        Some(ns) => Ok(lit(ScalarValue::TimestampNanosecond(Some(ns), None))),
        None => plan_err!(
            "as_of {micros} µs is outside the range of nanosecond timestamps (years 1677–2262)"
        ),
    }
}

/// `a || b`: NULL when either side is NULL (unlike `concat`).
fn join(a: Expr, b: Expr) -> Expr {
    binary_expr(a, Operator::StringConcat, b)
}

/// `parts` joined by `||`.
fn joined(parts: Vec<Expr>) -> Expr {
    parts.into_iter().reduce(join).unwrap_or_else(|| lit(""))
}

fn text(e: Expr) -> Expr {
    cast(e, DataType::Utf8)
}

fn null(t: DataType) -> Expr {
    cast(lit(ScalarValue::Null), t)
}

/// The lead's most recent key interaction as text ("last pricing visit 3 days ago"),
/// from the recency features of a point-in-time model's input.
fn recency() -> Result<Expr> {
    let label = |t: &'static str| -> &'static str {
        match t {
            "pricing_page_visit" => "pricing visit",
            "form_submit" => "form",
            "email_click" => "email click",
            "web_visit" => "web visit",
            "webinar_attend" => "webinar",
            "event_checkin" => "event check-in",
            other => other,
        }
    };
    let columns: Vec<Expr> = RECENCY_TYPES
        .iter()
        .map(|t| col(format!("days_since_{t}")))
        .collect();
    let nearest = least(columns.clone());
    // CASE WHEN days_since_x = nearest THEN 'x label' … END (no match: NULL).
    let which = Expr::Case(Case::new(
        None,
        RECENCY_TYPES
            .iter()
            .zip(&columns)
            .map(|(t, c)| {
                (
                    Box::new(c.clone().eq(nearest.clone())),
                    Box::new(lit(label(t))),
                )
            })
            .collect(),
        None,
    ));
    let days = floor(nearest.clone());
    when(nearest.clone().gt_eq(lit(NEVER_DAYS)), null(DataType::Utf8))
        .when(
            nearest.lt(lit(1i64)),
            joined(vec![lit("last "), which.clone(), lit(" today")]),
        )
        .otherwise(joined(vec![
            lit("last "),
            which,
            lit(" "),
            text(cast(days.clone(), DataType::Int64)),
            when(days.eq(lit(1i64)), lit(" day ago")).otherwise(lit(" days ago"))?,
        ]))
}

/// One criterion: its condition and its text when met and when not met.
struct Judged {
    condition: Expr,
    met: Expr,
    unmet: Expr,
}

fn criterion(
    policy: &Policy,
    rules: &[Arc<RuleModel>],
    c: &leadql_models::policy::Criterion,
) -> Result<Judged> {
    let rule = rules.iter().position(|m| m.name == c.model);
    let (score, grade) = match rule {
        Some(i) => (col(format!("s{i}")), col(format!("g{i}"))),
        None => (col("ps"), col("pg")),
    };
    let shown = coalesce(vec![
        text(round(vec![score.clone(), lit(1i64)])),
        lit("unscored"),
    ]);
    let head = || vec![lit(c.model.as_str()), lit(" "), shown.clone()];
    let with = |mut parts: Vec<Expr>, tail: Vec<Expr>| {
        parts.extend(tail);
        joined(parts)
    };
    match (&c.min_score, &c.min_grade) {
        (Some(min), _) => Ok(Judged {
            condition: score.gt_eq(lit(*min)),
            met: with(head(), vec![lit(format!(" >= {min}"))]),
            unmet: with(head(), vec![lit(format!(" < {min}"))]),
        }),
        (None, Some(g)) => {
            let condition = match rule.map(|i| &rules[i]) {
                Some(model) => {
                    let Some(found) = model.grades.iter().find(|x| &x.name == g) else {
                        let names: Vec<&str> =
                            model.grades.iter().map(|x| x.name.as_str()).collect();
                        return plan_err!(
                            "{}",
                            policy.error_at(
                                c.line,
                                format!(
                                    "min_grade '{g}' is not a grade of rule model '{}' (grades: {})",
                                    model.name,
                                    names.join(", ")
                                )
                            )
                        );
                    };
                    match found.min {
                        Some(min) => score.gt_eq(lit(min)),
                        None => score.is_not_null(),
                    }
                }
                // Predictive grades: A is best, so "B or better" is grade <= 'B'.
                None => grade.clone().lt_eq(lit(g.as_str())),
            };
            let graded = || {
                with(
                    head(),
                    vec![lit(", grade "), coalesce(vec![grade.clone(), lit("none")])],
                )
            };
            let mut met = vec![graded(), lit(format!(" ({g} or better)"))];
            if rule.is_none() {
                // The predictive criterion names the lead's latest key interaction.
                met.push(coalesce(vec![join(lit(", "), col("pr")), lit("")]));
            }
            Ok(Judged {
                condition,
                met: joined(met),
                unmet: join(graded(), lit(format!(" (needs {g})"))),
            })
        }
        (None, None) => plan_err!("criterion on '{}' has no threshold", c.model),
    }
}

/// `frame` left-joined with `right` on `lead_id`, the right side's key being `key`.
fn left_join(frame: DataFrame, right: DataFrame, key: &str) -> Result<DataFrame> {
    frame.join(right, JoinType::Left, &["lead_id"], &[key], None)
}

/// The qualification plan of `policy` at `as_of` (µs). `rules` are the policy's rule
/// models in order.
pub fn qualification(
    state: &SessionState,
    policy: &Policy,
    rules: &[Arc<RuleModel>],
    as_of: i64,
) -> Result<DataFrame> {
    let t = crate::args::instant(as_of);
    let recorded = recorded_instant(as_of)?;

    // The audience: leads created before `as_of` (what is known at an instant is what
    // happened strictly before it, as for snapshots and `--as-of`), with enough
    // consent, matching `where`.
    let leads = table(state, "leads")?;
    let mut audience = col("created_at").lt(t.clone());
    if let Some(c) = policy.min_consent {
        let allowed: Vec<Expr> = ConsentLevel::ALL
            .iter()
            .filter(|l| **l >= c)
            .map(|l| lit(l.as_str()))
            .collect();
        audience = audience.and(col("consent").in_list(allowed, false));
    }
    if let Some(w) = &policy.audience_where {
        let place = Place {
            file: &policy.file,
            what: "[audience] where",
        };
        audience = audience.and(condition(&leads, &place, w)?);
    }
    let mut frame = leads.filter(audience)?.select(vec![
        col("lead_id"),
        crate::status::recorded_status_at(t.clone())?.alias("__recorded"),
    ])?;

    // Open at `as_of`: the latest status event by then, else the recorded status.
    let status = crate::status::latest(table(state, "lead_status_events")?, Some(t.clone()))?
        .select(vec![
            col("lead_id").alias("__status_lead"),
            col("status").alias("__status"),
        ])?;
    frame = left_join(frame, status, "__status_lead")?
        .filter(coalesce(vec![col("__status"), col("__recorded")]).eq(lit("open")))?;

    // Scores: s{i}/g{i} per rule model, ps/pg/pr for the predictive model.
    for (i, model) in rules.iter().enumerate() {
        let key = format!("__r{i}_lead");
        let scores = function(state, "score_leads", &[lit(model.name.as_str()), t.clone()])?
            .select(vec![
                col("lead_id").alias(&key),
                col("score").alias(format!("s{i}")),
                col("grade").alias(format!("g{i}")),
            ])?;
        frame = left_join(frame, scores, &key)?;
    }
    let (ps, pg, pr) = match &policy.predictive_model {
        Some(model) => {
            // A feature relation, or the point-in-time model's own features at
            // `as_of` (which carry the recency the reasons name).
            let (features, recency) = match &policy.predictive_features {
                Some(f) => (lit(f.as_str()), null(DataType::Utf8)),
                None => (t.clone(), recency()?),
            };
            let predicted =
                function(state, "predict", &[lit(model.as_str()), features])?.select(vec![
                    col("lead_id").alias("__p_lead"),
                    col("score").alias("__ps"),
                    col("grade").alias("__pg"),
                    recency.alias("__pr"),
                ])?;
            frame = left_join(frame, predicted, "__p_lead")?;
            (col("__ps"), col("__pg"), col("__pr"))
        }
        None => (
            null(DataType::Float64),
            null(DataType::Utf8),
            null(DataType::Utf8),
        ),
    };

    // Sales-ready marks of earlier runs: a lead stays sales-ready.
    let since = if let Ok(history) = table(state, HISTORY) {
        let prior = history
            .filter(
                col("policy")
                    .eq(lit(policy.name.as_str()))
                    .and(col("sales_ready"))
                    .and(col("as_of").lt(t.clone())),
            )?
            .aggregate(
                vec![col("lead_id").alias("__prior_lead")],
                vec![min(col("sales_ready_since")).alias("__since")],
            )?;
        frame = left_join(frame, prior, "__prior_lead")?;
        col("__since")
    } else {
        null(DataType::Timestamp(TimeUnit::Nanosecond, None))
    };

    // The criteria as columns c{k}.
    let mut columns = vec![col("lead_id")];
    for i in 0..rules.len() {
        columns.push(col(format!("s{i}")));
        columns.push(col(format!("g{i}")));
    }
    columns.extend([ps.alias("ps"), pg.alias("pg"), pr.alias("pr")]);
    columns.push(since.alias("since"));
    let base = frame.select(columns)?;
    let mut columns: Vec<Expr> = base
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let mut met = Vec::new();
    let mut unmet = Vec::new();
    for (k, c) in policy.criteria.iter().enumerate() {
        let judged = criterion(policy, rules, c)?;
        let ck = format!("c{k}");
        columns.push(coalesce(vec![judged.condition, lit(false)]).alias(&ck));
        met.push(when(col(&ck), judged.met).end()?);
        unmet.push(when(Expr::Not(Box::new(col(&ck))), judged.unmet).end()?);
    }
    let judged = base.select(columns)?;

    // The decision and its reasons.
    let ready_now = (0..policy.criteria.len())
        .map(|k| col(format!("c{k}")))
        .reduce(|a, b| match policy.combine {
            Combine::Any => a.or(b),
            Combine::All => a.and(b),
        })
        .unwrap_or_else(|| lit(false));
    let listed = |texts: Vec<Expr>| {
        if texts.is_empty() {
            concat_ws(lit("; "), vec![lit("no criteria")])
        } else {
            concat_ws(lit("; "), texts)
        }
    };
    let kept = col("since").is_not_null();
    let reasons = when(ready_now.clone(), listed(met))
        .when(
            kept.clone(),
            joined(vec![
                lit("sales-ready since "),
                text(col("since")),
                lit(" (kept although now: "),
                listed(unmet.clone()),
                lit(")"),
            ]),
        )
        .otherwise(join(lit("not sales-ready: "), listed(unmet)))?;
    let (rule_score, rule_grade) = if rules.is_empty() {
        (null(DataType::Float64), null(DataType::Utf8))
    } else {
        (col("s0"), col("g0"))
    };
    judged.select(vec![
        col("lead_id"),
        rule_score.alias("rule_score"),
        rule_grade.alias("rule_grade"),
        col("ps").alias("predictive_score"),
        col("pg").alias("predictive_grade"),
        ready_now.clone().or(kept.clone()).alias("sales_ready"),
        cast(reasons, DataType::Utf8View).alias("reasons"),
        when(kept, col("since"))
            .when(ready_now, recorded.clone())
            .end()?
            .alias("sales_ready_since"),
        lit(policy.name.as_str()).alias("policy"),
        recorded.alias("as_of"),
    ])
}
