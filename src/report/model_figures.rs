//! The figures of each model a report covers, gathered with leadql's own SQL functions
//! as DataFusion plans: for a predictive model its held-out evaluation
//! (`model_evaluation`), top features (`model_features`), backtest AUC over time
//! (`backtest(model, NULL, NULL, 30)`), and at the latest instant whose outcome is
//! known its ROC curve (`roc_curve`), lift and calibration (the backtest's deciles);
//! for a rule model its evaluation (`evaluate_scoring`) and its rules' point totals at
//! the run's instant (`score_breakdown`).

use datafusion::common::JoinType;
use datafusion::functions::math::expr_fn::abs;
use datafusion::functions_aggregate::count::count_all;
use datafusion::functions_aggregate::expr_fn::sum;
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::prelude::{DataFrame, SessionContext};
use leadql_models::predictive::PredictiveModel;
use leadql_udfs::args::instant;
use leadql_udfs::relation::function;

use super::values::Rows;
use crate::error::Result;

/// Days between the instants of the backtest over time.
pub const BACKTEST_EVERY_DAYS: i64 = 30;
/// Features listed per predictive model.
pub const TOP_FEATURES: usize = 10;

fn call(ctx: &SessionContext, name: &str, args: &[Expr]) -> Result<DataFrame> {
    Ok(function(&ctx.state(), name, args)?)
}

/// One instant of a backtest over time.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestPoint {
    /// The instant.
    pub as_of: i64,
    /// AUC there (None without both outcomes).
    pub auc: Option<f64>,
    /// Whether its outcomes were training data of the version.
    pub in_training_period: Option<bool>,
    /// Open leads.
    pub leads: i64,
    /// Of which qualified within the horizon.
    pub converted: i64,
}

/// One tenth of the leads by score, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Decile {
    /// 1 (best) … 10.
    pub decile: usize,
    /// Leads.
    pub leads: i64,
    /// Mean predicted probability.
    pub predicted: Option<f64>,
    /// Share qualified within the horizon.
    pub actual: Option<f64>,
}

/// A predictive model's figures.
#[derive(Debug, Clone, Default)]
pub struct PredictiveFigures {
    /// As asked for (`name` or `name@N`).
    pub spec: String,
    /// The version.
    pub version: i64,
    /// Its model type.
    pub kind: String,
    /// Its label horizon in days.
    pub horizon_days: Option<f64>,
    /// Held-out metrics (`rows`, `positives`, `auc`, …).
    pub held_out: Vec<(String, Option<f64>)>,
    /// The backtest, one point per instant.
    pub backtest: Vec<BacktestPoint>,
    /// The instant of the ROC curve, lift and calibration (the latest backtest instant).
    pub latest: Option<i64>,
    /// ROC points `(false positive rate, true positive rate)` there.
    pub roc: Vec<(f64, f64)>,
    /// Deciles there.
    pub deciles: Vec<Decile>,
    /// Conversion rate of all leads there.
    pub base_rate: Option<f64>,
    /// AUC there.
    pub auc: Option<f64>,
    /// `(feature, kind, weight)` by absolute weight.
    pub features: Vec<(String, String, f64)>,
}

/// One metric of a rule model's evaluation.
#[derive(Debug, Clone)]
pub struct EvaluationRow {
    /// Metric name.
    pub metric: String,
    /// Grade (per-grade metrics).
    pub grade: Option<String>,
    /// Leads counted.
    pub leads: i64,
    /// Of which qualified.
    pub converted: i64,
    /// The value.
    pub value: Option<f64>,
}

/// One rule's points at the run's instant.
#[derive(Debug, Clone)]
pub struct RuleTotal {
    /// Rule name.
    pub rule: String,
    /// `fit` or `behavior`.
    pub kind: String,
    /// Leads it fired for.
    pub leads: i64,
    /// Points it gave in total.
    pub points: f64,
}

/// A rule model's figures.
#[derive(Debug, Clone, Default)]
pub struct RuleFigures {
    /// Its name.
    pub name: String,
    /// `evaluate_scoring(name)`.
    pub evaluation: Vec<EvaluationRow>,
    /// Point totals per rule, largest first.
    pub rules: Vec<RuleTotal>,
}

/// The figures of predictive model `spec` (the version `model`) in `ctx`.
pub async fn predictive(
    ctx: &SessionContext,
    spec: &str,
    model: &PredictiveModel,
) -> Result<PredictiveFigures> {
    let mut out = PredictiveFigures {
        spec: spec.to_string(),
        version: i64::from(model.version),
        kind: model.options.model_type.as_str().to_string(),
        horizon_days: model.options.horizon_days,
        ..PredictiveFigures::default()
    };
    let evaluation = Rows::of(call(ctx, "model_evaluation", &[lit(spec)])?).await?;
    out.held_out = evaluation
        .strings("metric")?
        .into_iter()
        .zip(evaluation.floats("value")?)
        .map(|(m, v)| (m.unwrap_or_default(), v))
        .collect();
    let features = Rows::of(
        call(ctx, "model_features", &[lit(spec)])?
            .filter(col("feature").not_eq(lit("(intercept)")))?
            .sort(vec![
                abs(col("weight")).sort(false, false),
                col("feature").sort(true, false),
            ])?
            .limit(0, Some(TOP_FEATURES))?,
    )
    .await?;
    for ((f, k), w) in features
        .strings("feature")?
        .into_iter()
        .zip(features.strings("kind")?)
        .zip(features.floats("weight")?)
    {
        out.features.push((
            f.unwrap_or_default(),
            k.unwrap_or_default(),
            w.unwrap_or(0.0),
        ));
    }
    if model.options.horizon_days.is_none() {
        // Not a point-in-time model: no backtest, ROC or calibration over instants.
        return Ok(out);
    }
    let null = lit(datafusion::common::ScalarValue::Null);
    // One backtest: the AUC at every instant, the deciles at the latest.
    let rows = Rows::of(
        call(
            ctx,
            "backtest",
            &[lit(spec), null.clone(), null, lit(BACKTEST_EVERY_DAYS)],
        )?
        .filter(
            col("segment")
                .eq(lit("all"))
                .or(col("segment").like(lit("decile %"))),
        )?
        .sort(vec![col("as_of").sort(true, false)])?,
    )
    .await?;
    let (at, segment, auc) = (
        rows.instants("as_of")?,
        rows.strings("segment")?,
        rows.floats("auc")?,
    );
    let (training, leads, converted) = (
        rows.bools("in_training_period")?,
        rows.ints("leads")?,
        rows.ints("converted")?,
    );
    let (predicted, actual) = (
        rows.floats("mean_predicted")?,
        rows.floats("conversion_rate")?,
    );
    for i in 0..rows.len() {
        let Some(as_of) = at[i] else { continue };
        if segment[i].as_deref() == Some("all") {
            out.backtest.push(BacktestPoint {
                as_of,
                auc: auc[i],
                in_training_period: training[i],
                leads: leads[i].unwrap_or(0),
                converted: converted[i].unwrap_or(0),
            });
        }
    }
    let Some(latest) = out.backtest.last().map(|b| b.as_of) else {
        return Ok(out);
    };
    out.latest = Some(latest);
    out.auc = out.backtest.last().and_then(|b| b.auc);
    out.base_rate = out
        .backtest
        .last()
        .filter(|b| b.leads > 0)
        .map(|b| b.converted as f64 / b.leads as f64);
    for i in 0..rows.len() {
        let decile = segment[i]
            .as_deref()
            .and_then(|s| s.strip_prefix("decile "))
            .and_then(|d| d.parse().ok());
        if let (Some(decile), Some(true)) = (decile, at[i].map(|t| t == latest)) {
            out.deciles.push(Decile {
                decile,
                leads: leads[i].unwrap_or(0),
                predicted: predicted[i],
                actual: actual[i],
            });
        }
    }
    let at = || instant(latest);
    let roc = Rows::of(
        call(ctx, "roc_curve", &[lit(spec), at(), at(), lit(1i64)])?
            .sort(vec![col("point").sort(true, false)])?,
    )
    .await?;
    out.roc = roc
        .floats("false_positive_rate")?
        .into_iter()
        .zip(roc.floats("true_positive_rate")?)
        .filter_map(|(x, y)| Some((x?, y?)))
        .collect();
    out.deciles.sort_by_key(|d| d.decile);
    Ok(out)
}

/// The figures of rule model `name` in `ctx`, its rules' points at `as_of` over the
/// leads of `leads` (a `lead_id` column: the run's qualified leads).
pub async fn rule(
    ctx: &SessionContext,
    name: &str,
    as_of: i64,
    run_leads: DataFrame,
) -> Result<RuleFigures> {
    let evaluation = Rows::of(call(ctx, "evaluate_scoring", &[lit(name)])?).await?;
    let mut out = RuleFigures {
        name: name.to_string(),
        ..RuleFigures::default()
    };
    let (metric, grade) = (evaluation.strings("metric")?, evaluation.strings("grade")?);
    let (leads, converted, value) = (
        evaluation.ints("leads")?,
        evaluation.ints("converted")?,
        evaluation.floats("value")?,
    );
    for i in 0..evaluation.len() {
        out.evaluation.push(EvaluationRow {
            metric: metric[i].clone().unwrap_or_default(),
            grade: grade[i].clone(),
            leads: leads[i].unwrap_or(0),
            converted: converted[i].unwrap_or(0),
            value: value[i],
        });
    }
    let totals = Rows::of(
        call(ctx, "score_breakdown", &[lit(name), instant(as_of)])?
            .join(
                run_leads.select(vec![col("lead_id").alias("__run_lead")])?,
                JoinType::LeftSemi,
                &["lead_id"],
                &["__run_lead"],
                None,
            )?
            .aggregate(
                vec![col("rule"), col("kind")],
                vec![
                    count_all().alias("leads"),
                    sum(col("points")).alias("points"),
                ],
            )?
            .sort(vec![
                col("points").sort(false, false),
                col("rule").sort(true, false),
            ])?,
    )
    .await?;
    let (rule, kind) = (totals.strings("rule")?, totals.strings("kind")?);
    let (leads, points) = (totals.ints("leads")?, totals.floats("points")?);
    for i in 0..totals.len() {
        out.rules.push(RuleTotal {
            rule: rule[i].clone().unwrap_or_default(),
            kind: kind[i].clone().unwrap_or_default(),
            leads: leads[i].unwrap_or(0),
            points: points[i].unwrap_or(0.0),
        });
    }
    Ok(out)
}
