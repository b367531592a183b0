//! What a run reports: the model and its backtest, the qualification and grade
//! counts, the hand-off and the best sales-ready leads, as a [`RunSummary`] (returned
//! to callers such as the Python package, serialisable as JSON) and as the text
//! `leadql run` prints ([`RunSummary::text`]).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions::math::expr_fn::round;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{ExprFunctionExt, col, lit};
use datafusion::prelude::DataFrame;
use leadql_models::policy::Policy;
use serde::Serialize;

pub use super::refresh::{BacktestFigures, ModelLine};
use super::{instant_text, int64s, strings};
use crate::error::Result;

/// The outcome of one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The qualification policy.
    pub policy: String,
    /// The run's instant, `YYYY-MM-DD HH:MM:SS.ffffff`.
    pub as_of: String,
    /// The predictive model the run scored with, if the policy has one.
    pub model: Option<ModelLine>,
    /// Open leads qualified.
    pub open_leads: i64,
    /// Of them, sales-ready.
    pub sales_ready: i64,
    /// Of those, sales-ready since this run.
    pub newly_sales_ready: i64,
    /// Leads per rule grade (`(none)`: no grade), by grade name.
    pub rule_grades: BTreeMap<String, i64>,
    /// Leads per predictive grade (`(none)`: no grade), by grade name.
    pub predictive_grades: BTreeMap<String, i64>,
    /// The hand-off: activities created and assigned.
    pub activities: Activities,
    /// The best sales-ready leads, best first.
    pub top_leads: Vec<TopLead>,
    /// What the run could not do as asked (e.g. no predictive model).
    pub warnings: Vec<String>,
    /// Tables exported: path and rows.
    pub written: Vec<Written>,
    /// Files recorded in the workspace (relative to it).
    pub recorded: Vec<String>,
    /// Wall time of the run, seconds.
    pub seconds: f64,
}

/// The activities a run created for newly sales-ready leads.
#[derive(Debug, Clone, Serialize)]
pub struct Activities {
    /// The activity type of the policy's hand-off (`call`, …).
    pub activity: String,
    /// Activities created.
    pub created: usize,
    /// Of them, assigned to a seller.
    pub assigned: usize,
    /// Distinct sellers assigned.
    pub sellers: usize,
    /// Activities left unassigned, by reason.
    pub unassigned_by_reason: BTreeMap<String, usize>,
}

/// One of the best sales-ready leads.
#[derive(Debug, Clone, Serialize)]
pub struct TopLead {
    /// The lead.
    pub lead_id: i64,
    /// Its predictive score (rounded to 0.1), if scored.
    pub predictive_score: Option<f64>,
    /// Its rule score (rounded to 0.1), if scored.
    pub rule_score: Option<f64>,
    /// Why it is sales-ready.
    pub reasons: String,
}

/// A file a run exported: a table, or the HTML report.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// Its path.
    pub path: String,
    /// Its rows (None for the HTML report).
    pub rows: Option<u64>,
}

/// Gathers what a run at `as_of` with qualification `qualification` reports (the
/// written and recorded files, warnings and time are filled in by the run).
pub(super) async fn summarise(
    policy: &Policy,
    qualification: &DataFrame,
    as_of: i64,
    model: Option<&ModelLine>,
    activities: &RecordBatch,
    top: usize,
) -> Result<RunSummary> {
    let newly = col("sales_ready").and(col("sales_ready_since").eq(col("as_of")));
    let counts = qualification
        .clone()
        .aggregate(
            vec![],
            vec![
                count_all(),
                count(lit(1i64)).filter(col("sales_ready")).build()?,
                count(lit(1i64)).filter(newly).build()?,
            ],
        )?
        .collect()
        .await?;
    let count_of = |c: usize| -> i64 {
        counts
            .first()
            .and_then(|b| int64s(b, c).ok())
            .and_then(|v| v.first().copied().flatten())
            .unwrap_or(0)
    };
    Ok(RunSummary {
        policy: policy.name.clone(),
        as_of: instant_text(as_of),
        model: model.cloned(),
        open_leads: count_of(0),
        sales_ready: count_of(1),
        newly_sales_ready: count_of(2),
        rule_grades: grade_counts(qualification, "rule_grade").await?,
        predictive_grades: grade_counts(qualification, "predictive_grade").await?,
        activities: hand_off(policy, activities),
        top_leads: top_leads(qualification, top).await?,
        warnings: Vec::new(),
        written: Vec::new(),
        recorded: Vec::new(),
        seconds: 0.0,
    })
}

async fn grade_counts(qualification: &DataFrame, column: &str) -> Result<BTreeMap<String, i64>> {
    let batches = qualification
        .clone()
        .aggregate(
            vec![coalesce(vec![col(column), lit("(none)")]).alias("value")],
            vec![count_all()],
        )?
        .collect()
        .await?;
    let mut counts = BTreeMap::new();
    for batch in &batches {
        let names = strings(batch, 0);
        let n = int64s(batch, 1)?;
        for i in 0..batch.num_rows() {
            counts.insert(names[i].clone().unwrap_or_default(), n[i].unwrap_or(0));
        }
    }
    Ok(counts)
}

fn hand_off(policy: &Policy, activities: &RecordBatch) -> Activities {
    let seller = activities.column(3).as_primitive::<Int64Type>();
    let reasons = strings(activities, 7);
    let mut unassigned_by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for (i, s) in seller.iter().enumerate() {
        if s.is_none() {
            let reason = reasons[i]
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            *unassigned_by_reason.entry(reason).or_default() += 1;
        }
    }
    Activities {
        activity: policy.handoff.activity.to_string(),
        created: activities.num_rows(),
        assigned: seller.len() - seller.null_count(),
        sellers: seller.iter().flatten().collect::<HashSet<i64>>().len(),
        unassigned_by_reason,
    }
}

/// The `top` best sales-ready leads of a qualification, best first: by predictive
/// score, then rule score, then lead id (the run's summary and its report).
pub fn best_sales_ready(qualification: DataFrame, top: usize) -> Result<DataFrame> {
    Ok(qualification
        .filter(col("sales_ready"))?
        .sort(best_first())?
        .limit(0, Some(top))?)
}

/// The order of [`best_sales_ready`].
pub fn best_first() -> Vec<datafusion::logical_expr::SortExpr> {
    vec![
        col("predictive_score").sort(false, false),
        col("rule_score").sort(false, false),
        col("lead_id").sort(true, false),
    ]
}

async fn top_leads(qualification: &DataFrame, top: usize) -> Result<Vec<TopLead>> {
    let batches = best_sales_ready(qualification.clone(), top)?
        .select(vec![
            col("lead_id"),
            round(vec![col("predictive_score"), lit(1i64)]),
            round(vec![col("rule_score"), lit(1i64)]),
            col("reasons"),
        ])?
        .collect()
        .await?;
    let mut leads = Vec::new();
    for batch in &batches {
        let ids = int64s(batch, 0)?;
        let number = |c: usize, i: usize| {
            batch
                .column(c)
                .as_primitive_opt::<Float64Type>()
                .filter(|a| !a.is_null(i))
                .map(|a| a.value(i))
        };
        let reasons = strings(batch, 3);
        for i in 0..batch.num_rows() {
            leads.push(TopLead {
                lead_id: ids[i].unwrap_or(0),
                predictive_score: number(1, i),
                rule_score: number(2, i),
                reasons: reasons[i].clone().unwrap_or_default(),
            });
        }
    }
    Ok(leads)
}

impl RunSummary {
    /// The summary as `leadql run` prints it.
    pub fn text(&self) -> String {
        let mut report = String::new();
        let _ = writeln!(
            report,
            "leadql run — policy '{}' as of {}",
            self.policy, self.as_of
        );
        if let Some(m) = &self.model {
            model_lines(&mut report, m);
        }
        let _ = writeln!(
            report,
            "Open leads qualified: {}; sales-ready: {} ({} newly)",
            self.open_leads, self.sales_ready, self.newly_sales_ready
        );
        for (label, counts) in [
            ("rule grade", &self.rule_grades),
            ("predictive grade", &self.predictive_grades),
        ] {
            if !counts.is_empty() {
                let parts: Vec<String> = counts.iter().map(|(g, n)| format!("{g} {n}")).collect();
                let _ = writeln!(report, "Leads per {label}: {}", parts.join(", "));
            }
        }
        let a = &self.activities;
        let _ = writeln!(
            report,
            "Activities ({}): {} created, {} assigned to {} sellers, {} unassigned",
            a.activity,
            a.created,
            a.assigned,
            a.sellers,
            a.created - a.assigned
        );
        if !a.unassigned_by_reason.is_empty() {
            let parts: Vec<String> = a
                .unassigned_by_reason
                .iter()
                .map(|(r, n)| format!("{n} {r}"))
                .collect();
            let _ = writeln!(report, "  unassigned by reason: {}", parts.join("; "));
        }
        let _ = writeln!(report, "Top sales-ready leads:");
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        for l in &self.top_leads {
            let _ = writeln!(
                report,
                "  lead {:>8}  predictive {:>5}  rule {:>6}  {}",
                l.lead_id,
                show(l.predictive_score),
                show(l.rule_score),
                l.reasons
            );
        }
        for w in &self.warnings {
            let _ = writeln!(report, "warning: {w}");
        }
        let written: Vec<String> = self
            .written
            .iter()
            .map(|w| match w.rows {
                Some(rows) => format!("{} ({rows} rows)", w.path),
                None => w.path.clone(),
            })
            .collect();
        let _ = writeln!(report, "\nWritten: {}", written.join(", "));
        let _ = writeln!(
            report,
            "Recorded in the workspace: {} ({:.1} s)",
            self.recorded.join(", "),
            self.seconds
        );
        report
    }
}

fn model_lines(report: &mut String, m: &ModelLine) {
    let _ = writeln!(
        report,
        "Predictive model: {} v{} ({}), held-out AUC {}{}",
        m.name,
        m.version,
        m.kind,
        m.auc.map_or("n/a".into(), |a| format!("{a:.3}")),
        if m.trained {
            ", trained now"
        } else {
            ", unchanged data: reused"
        }
    );
    if let Some(h) = m.horizon_days {
        let _ = writeln!(
            report,
            "  predictive_score = probability (%) that an open lead is qualified within {h} days"
        );
    }
    if let Some(b) = &m.backtest {
        let pct = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{:.1}%", 100.0 * v));
        let _ = writeln!(
            report,
            "  backtest at {} ({} open leads): AUC {}; top 5% predicted {}, actual {}",
            b.as_of,
            b.leads,
            b.auc.map_or("n/a".into(), |a| format!("{a:.3}")),
            pct(b.top5_predicted),
            pct(b.top5_actual)
        );
    }
    if let Some(p) = &m.publish {
        let _ = writeln!(report, "  {p}");
    }
}
