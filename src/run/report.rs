//! The summary a run prints: the model and its backtest, the qualification and grade
//! counts, the hand-off and the best sales-ready leads.

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

use super::refresh::ModelLine;
use super::{instant_text, int64s, strings};
use crate::error::Result;

/// Writes the summary of a run at `as_of` whose qualification is `qualification`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn summary(
    report: &mut String,
    policy: &Policy,
    qualification: &DataFrame,
    as_of: i64,
    model: Option<&ModelLine>,
    activities: &RecordBatch,
    top: usize,
) -> Result<()> {
    let _ = writeln!(
        report,
        "leadql run — policy '{}' as of {}",
        policy.name,
        instant_text(as_of)
    );
    if let Some(m) = model {
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
    if let Some(b) = counts.first() {
        let v = |c| int64s(b, c).ok().and_then(|v| v.first().copied().flatten());
        let _ = writeln!(
            report,
            "Open leads qualified: {}; sales-ready: {} ({} newly)",
            v(0).unwrap_or(0),
            v(1).unwrap_or(0),
            v(2).unwrap_or(0)
        );
    }
    for (label, column) in [
        ("rule grade", "rule_grade"),
        ("predictive grade", "predictive_grade"),
    ] {
        let b = qualification
            .clone()
            .aggregate(
                vec![coalesce(vec![col(column), lit("(none)")]).alias("value")],
                vec![count_all()],
            )?
            .sort(vec![col("value").sort(true, false)])?
            .collect()
            .await?;
        let mut parts = Vec::new();
        for batch in &b {
            let names = strings(batch, 0);
            let n = int64s(batch, 1)?;
            for i in 0..batch.num_rows() {
                parts.push(format!(
                    "{} {}",
                    names[i].clone().unwrap_or_default(),
                    n[i].unwrap_or(0)
                ));
            }
        }
        if !parts.is_empty() {
            let _ = writeln!(report, "Leads per {label}: {}", parts.join(", "));
        }
    }
    let assigned = activities.column(3).len() - activities.column(3).null_count();
    let sellers: HashSet<i64> = activities
        .column(3)
        .as_primitive::<Int64Type>()
        .iter()
        .flatten()
        .collect();
    let _ = writeln!(
        report,
        "Activities ({}): {} created, {assigned} assigned to {} sellers, {} unassigned",
        policy.handoff.activity,
        activities.num_rows(),
        sellers.len(),
        activities.num_rows() - assigned
    );
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let column = strings(activities, 7);
    for (i, seller) in activities
        .column(3)
        .as_primitive::<Int64Type>()
        .iter()
        .enumerate()
    {
        if seller.is_none() {
            let reason = column[i]
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            *reasons.entry(reason).or_default() += 1;
        }
    }
    if !reasons.is_empty() {
        let parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let _ = writeln!(report, "  unassigned by reason: {}", parts.join("; "));
    }
    let b = qualification
        .clone()
        .filter(col("sales_ready"))?
        .sort(vec![
            col("predictive_score").sort(false, false),
            col("rule_score").sort(false, false),
            col("lead_id").sort(true, false),
        ])?
        .limit(0, Some(top))?
        .select(vec![
            col("lead_id"),
            round(vec![col("predictive_score"), lit(1i64)]),
            round(vec![col("rule_score"), lit(1i64)]),
            col("reasons"),
        ])?
        .collect()
        .await?;
    let _ = writeln!(report, "Top sales-ready leads:");
    for batch in &b {
        let ids = int64s(batch, 0)?;
        let p = batch.column(1).as_primitive_opt::<Float64Type>().cloned();
        let r = batch.column(2).as_primitive_opt::<Float64Type>().cloned();
        let reasons = strings(batch, 3);
        for i in 0..batch.num_rows() {
            let show = |a: &Option<datafusion::arrow::array::Float64Array>| {
                a.as_ref()
                    .filter(|a| !a.is_null(i))
                    .map_or("-".to_string(), |a| format!("{:.1}", a.value(i)))
            };
            let _ = writeln!(
                report,
                "  lead {:>8}  predictive {:>5}  rule {:>6}  {}",
                ids[i].unwrap_or(0),
                show(&p),
                show(&r),
                reasons[i].clone().unwrap_or_default()
            );
        }
    }
    Ok(())
}
