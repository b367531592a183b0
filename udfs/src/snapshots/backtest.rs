//! `backtest(model, from, to, every_days [, horizon_days])`: how a rule model or a
//! predictive model would have ranked the leads open at each past instant, against
//! what happened within the horizon after it.
//!
//! ```sql
//! SELECT as_of, auc, conversion_rate AS base_rate FROM backtest('conversion',
//!   TIMESTAMP '2025-06-30 00:00:00', TIMESTAMP '2026-03-31 00:00:00', 30)
//! WHERE segment = 'all' ORDER BY as_of;
//! ```
//!
//! For each instant (see [`super::instants`]; instants whose horizon is not over by the
//! workspace's `as_of` are left out) the open leads are scored as of that instant:
//! rule models with `score_leads` semantics, predictive models on the features of
//! `lead_snapshot_features` at that instant. Leads a rule model's audience excludes
//! rank below every scored lead. One row per instant and segment:
//!
//! | segment | rows |
//! |---|---|
//! | `all` | every open lead; `auc` is set here |
//! | `top 5%`, `top 10%` | the best-scored 5% / 10% (at least one lead) |
//! | `grade X` | each grade of the model |
//! | `decile 1` … `decile 10` | tenths by score, best first: calibration for predictive models |
//!
//! Columns: `model, version, as_of, in_training_period, segment, leads, converted,
//! conversion_rate, mean_predicted, auc`. `mean_predicted` is the mean predicted
//! probability (predictive models only). `in_training_period` is true when the
//! instant is before the end of the model's training outcomes (the horizon of its
//! latest training snapshot, else the `as_of` it was trained at): those outcomes were
//! training data, so only the later instants are honest out-of-time checks. The horizon
//! defaults to a predictive model's own, and to 90 days for rule models.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, Field, Float64Type, Int64Type, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{JoinType, Result, plan_datafusion_err};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Documentation, Expr, col, ident, lit};
use leadql_models::RuleModel;
use leadql_models::metrics::auc;
use leadql_models::predictive::{BacktestRow, PredictiveModel};

use super::instants::{Instants, check_arity, documented, parse};
use super::plan::{features, snapshots};
use crate::args;
use crate::catalogue::{Build, Entry, Function, POINT_IN_TIME};
use crate::deferred::DeferredTable;
use crate::predictive::PredictiveModels;
use crate::predictive::columns::raw_column;
use crate::predictive::predict_score::predict_score_udf;
use crate::scoring::RuleModels;
use crate::scoring::common::state;
use crate::scoring::plan::{AsOf, score_leads};

/// The SQL name.
pub const NAME: &str = "backtest";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Models(|rules, predictive| {
        Function::Table(Arc::new(Backtest::new(rules.clone(), predictive.clone())))
    }),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    let doc = Documentation::builder(
        POINT_IN_TIME,
        "How a rule model or a predictive model would have ranked the leads open at each past instant, against what happened within the horizon after it. At each instant whose outcome is known by the workspace's `as_of` the open leads are scored as of that instant (rule models as `score_leads` does, leads outside the model's audience ranking below every scored lead; predictive models on the features `lead_snapshot_features` computes at the instant), and one row per segment is returned: `all` (every open lead, with the `auc`), `top 5%` and `top 10%` (the best-scored, at least one lead), `grade X` for each grade of the model, and `decile 1` … `decile 10` (tenths by score, best first). Columns: `model, version, as_of, in_training_period, segment, leads, converted, conversion_rate, mean_predicted, auc`. `mean_predicted` is the mean predicted probability (predictive models: calibration). `in_training_period` is true when the instant's outcomes were training data of the model version (before the horizon of its latest training snapshot, else the `as_of` it was trained at): only the later instants are honest out-of-time checks.",
        "backtest(model, from, to, every_days [, horizon_days])",
    )
    .with_argument("model", "A rule model's name, or a trained predictive model (`'name'` or `'name@N'`); a constant string.");
    documented(
        doc,
        Some("Default: a predictive model's own horizon, 90 days for a rule model."),
    )
    .with_sql_example(
            "> SELECT as_of, leads, converted, round(conversion_rate, 3) AS base_rate, round(auc, 3) AS auc
  FROM backtest('engagement', TIMESTAMP '2025-06-30 00:00:00', TIMESTAMP '2026-03-31 00:00:00', 91)
  WHERE segment = 'all' ORDER BY as_of;
+---------------------+-------+-----------+-----------+-------+
| as_of               | leads | converted | base_rate | auc   |
+---------------------+-------+-----------+-----------+-------+
| 2025-07-01T00:00:00 | 607   | 65        | 0.107     | 0.664 |
| 2025-09-30T00:00:00 | 748   | 75        | 0.1       | 0.657 |
| 2025-12-30T00:00:00 | 905   | 78        | 0.086     | 0.713 |
| 2026-03-31T00:00:00 | 1060  | 71        | 0.067     | 0.708 |
+---------------------+-------+-----------+-----------+-------+
> SELECT segment, leads, converted, round(mean_predicted, 3) AS predicted, round(conversion_rate, 3) AS actual
  FROM backtest('conversion', TIMESTAMP '2026-03-31 00:00:00', TIMESTAMP '2026-03-31 00:00:00', 1)
  WHERE segment IN ('all', 'top 5%', 'decile 1', 'decile 10') ORDER BY leads, segment;
+-----------+-------+-----------+-----------+--------+
| segment   | leads | converted | predicted | actual |
+-----------+-------+-----------+-----------+--------+
| top 5%    | 53    | 15        | 0.432     | 0.283  |
| decile 1  | 106   | 28        | 0.36      | 0.264  |
| decile 10 | 106   | 0         | 0.0       | 0.0    |
| all       | 1060  | 71        | 0.071     | 0.067  |
+-----------+-------+-----------+-----------+--------+",
        )
        .with_related_udf("model_backtest")
        .with_related_udf("evaluate_scoring")
        .with_related_udf("lead_snapshots")
        .build()
});

/// Horizon of rule-model backtests when none is given, in days.
pub const DEFAULT_RULE_HORIZON_DAYS: f64 = 90.0;

/// The `backtest` table function.
#[derive(Debug)]
pub struct Backtest {
    rules: Arc<RuleModels>,
    predictive: Arc<PredictiveModels>,
}

impl Backtest {
    /// Backtests the workspace's rule and predictive models.
    pub fn new(rules: Arc<RuleModels>, predictive: Arc<PredictiveModels>) -> Self {
        Backtest { rules, predictive }
    }
}

/// Columns of a backtest.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, true),
        Field::new(
            "as_of",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("in_training_period", DataType::Boolean, true),
        Field::new("segment", DataType::Utf8, false),
        Field::new("leads", DataType::Int64, false),
        Field::new("converted", DataType::Int64, false),
        Field::new("conversion_rate", DataType::Float64, true),
        Field::new("mean_predicted", DataType::Float64, true),
        Field::new("auc", DataType::Float64, true),
    ]))
}

/// The model under test.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A rule model.
    Rule(Arc<RuleModel>),
    /// A predictive model, by the name it was asked for (`name` or `name@N`).
    Predictive(String, Arc<PredictiveModel>),
}

impl Subject {
    /// The rule model or trained predictive model `name` (`name@N` for a version),
    /// for the table function `function`.
    pub fn resolve(
        function: &str,
        rules: &RuleModels,
        predictive: &PredictiveModels,
        name: &str,
    ) -> Result<Subject> {
        if rules.names().any(|n| n == name) {
            return Ok(Subject::Rule(rules.get(function, name)?));
        }
        // One message naming both kinds of model: the statement layer reports only
        // the root of an error, so a context added here would be lost.
        let model = predictive.get(function, name).map_err(|e| {
            plan_datafusion_err!(
                "{function}: '{name}' is neither a rule model ({}) nor a trained predictive model ({})",
                rules.names().collect::<Vec<_>>().join(", "),
                e.message()
            )
        })?;
        Ok(Subject::Predictive(name.to_string(), model))
    }

    /// The label horizon when none is given: a predictive model's own, else
    /// [`DEFAULT_RULE_HORIZON_DAYS`].
    pub fn default_horizon(&self) -> f64 {
        match self {
            Subject::Rule(_) => DEFAULT_RULE_HORIZON_DAYS,
            Subject::Predictive(_, m) => {
                m.options.horizon_days.unwrap_or(DEFAULT_RULE_HORIZON_DAYS)
            }
        }
    }

    /// The model's name (as asked for) and version (predictive models).
    pub fn name_and_version(&self) -> (String, Option<i64>) {
        match self {
            Subject::Rule(m) => (m.name.clone(), None),
            Subject::Predictive(spec, m) => (spec.clone(), Some(i64::from(m.version))),
        }
    }

    /// Whether the outcomes at `as_of` were training data of the model version
    /// (predictive models: before the end of its training outcomes; unknown when the
    /// version does not say; never for rule models).
    pub fn in_training_period(&self, as_of: i64) -> Option<bool> {
        match self {
            Subject::Rule(_) => Some(false),
            Subject::Predictive(_, m) => m.trained_through.or(m.known_until).map(|k| as_of < k),
        }
    }
}

/// Scored snapshots (`lead_id, as_of, label, score` batches) grouped by instant, each
/// instant's `(score, lead_id, converted)` best first (ties by lead); leads without a
/// score (or a NaN one) get `-inf` and rank last; rows without a label are skipped.
pub fn by_instant(
    batches: &[RecordBatch],
) -> std::collections::BTreeMap<i64, Vec<(f64, i64, bool)>> {
    let mut by_instant: std::collections::BTreeMap<i64, Vec<(f64, i64, bool)>> = Default::default();
    for b in batches {
        let ids = b.column(0).as_primitive::<Int64Type>();
        let at = b.column(1).as_primitive::<TimestampMicrosecondType>();
        let label = b.column(2).as_boolean();
        let score = b.column(3).as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            if label.is_null(i) || at.is_null(i) || ids.is_null(i) {
                continue;
            }
            let s = if score.is_null(i) || score.value(i).is_nan() {
                f64::NEG_INFINITY
            } else {
                score.value(i)
            };
            by_instant
                .entry(at.value(i))
                .or_default()
                .push((s, ids.value(i), label.value(i)));
        }
    }
    for rows in by_instant.values_mut() {
        rows.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    }
    by_instant
}

impl TableFunctionImpl for Backtest {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        scored_snapshots_table(
            &fargs,
            NAME,
            &self.rules,
            &self.predictive,
            schema(),
            backtest_batch,
        )
    }
}

/// A table of figures over the scored snapshots of `model, from, to, every_days [,
/// horizon_days]` (what `backtest` and `roc_curve` take): the model is resolved and the
/// scoring planned now, so that errors surface at planning time; when the table is
/// read, the snapshots are scored and `figures` turns them into rows of `schema`.
pub fn scored_snapshots_table(
    fargs: &TableFunctionArgs,
    name: &'static str,
    rules: &Arc<RuleModels>,
    predictive: &Arc<PredictiveModels>,
    schema: SchemaRef,
    figures: fn(&Subject, &[RecordBatch]) -> Result<RecordBatch>,
) -> Result<Arc<dyn TableProvider>> {
    let state = state(fargs.session())?;
    let exprs = fargs.exprs();
    check_arity(
        name,
        exprs,
        4,
        5,
        "model, from, to, every_days [, horizon_days]",
    )?;
    let model = args::string(state, name, "model", &exprs[0])?;
    let subject = Subject::resolve(name, rules, predictive, &model)?;
    let instants = parse(
        state,
        name,
        &exprs[1..],
        rules.default_as_of(),
        Some(subject.default_horizon()),
    )?;
    scored(state, rules, predictive, &subject, known(state, &instants)?)?;
    let (rules, predictive) = (rules.clone(), predictive.clone());
    Ok(DeferredTable::new(
        schema,
        Box::new(move |state| {
            let (rules, predictive, subject, instants) = (
                rules.clone(),
                predictive.clone(),
                subject.clone(),
                instants.clone(),
            );
            Box::pin(async move {
                // The pairs once: the scoring plan reads them several times.
                let rows = known(state, &instants)?.cache().await?;
                let batches = scored(state, &rules, &predictive, &subject, rows)?
                    .collect()
                    .await?;
                figures(&subject, &batches)
            })
        }),
    ))
}

/// `lead_id, as_of, label`: the open leads of every instant whose outcome is known.
pub fn known(state: &SessionState, instants: &Instants) -> Result<DataFrame> {
    snapshots(state, instants)?.filter(col("label").is_not_null())
}

/// `lead_id, as_of, label, score`: the snapshots `rows` (from [`known`]) scored as of
/// their instants.
pub fn scored(
    state: &SessionState,
    rules: &RuleModels,
    predictive: &Arc<PredictiveModels>,
    subject: &Subject,
    rows: DataFrame,
) -> Result<DataFrame> {
    match subject {
        Subject::Rule(model) => {
            let pairs = rows.clone().select(vec![col("lead_id"), col("as_of")])?;
            let scores = score_leads(state, model, &AsOf::Snapshots(pairs))?.select(vec![
                col("lead_id").alias("__scored_lead"),
                col("as_of").alias("__scored_as_of"),
                col("score"),
            ])?;
            rows.join(
                scores,
                JoinType::Left,
                &["lead_id", "as_of"],
                &["__scored_lead", "__scored_as_of"],
                None,
            )?
            .select(vec![
                col("lead_id"),
                col("as_of"),
                col("label"),
                col("score"),
            ])
        }
        Subject::Predictive(spec, model) => {
            let mut inputs: Vec<Expr> = vec![lit(spec.clone())];
            inputs.extend(model.pipeline.features.iter().map(|f| ident(&f.name)));
            features(state, rules, rows)?.select(vec![
                col("lead_id"),
                col("as_of"),
                col("label"),
                predict_score_udf(predictive.clone())
                    .call(inputs)
                    .alias("score"),
            ])
        }
    }
}

/// Adds the row of one segment: `rows` are `(score, lead, converted)`.
fn push(
    out: &mut Vec<BacktestRow>,
    as_of: i64,
    in_training_period: Option<bool>,
    segment: String,
    rows: &[(f64, i64, bool)],
    probabilities: bool,
    auc: Option<f64>,
) {
    let n = rows.len();
    let converted = rows.iter().filter(|r| r.2).count();
    out.push(BacktestRow {
        as_of,
        in_training_period,
        segment,
        leads: n as i64,
        converted: converted as i64,
        conversion_rate: (n > 0).then(|| converted as f64 / n as f64),
        mean_predicted: (probabilities && n > 0)
            .then(|| rows.iter().map(|r| r.0 / 100.0).sum::<f64>() / n as f64),
        auc,
    });
}

fn grade_of(subject: &Subject, score: f64) -> Option<String> {
    match subject {
        Subject::Rule(model) => {
            if !score.is_finite() {
                return None;
            }
            model
                .grades
                .iter()
                .find(|g| g.min.is_none_or(|m| score >= m) && g.max.is_none_or(|m| score < m))
                .map(|g| g.name.clone())
        }
        Subject::Predictive(_, m) => Some(m.grade(score).to_string()),
    }
}

fn grade_names(subject: &Subject) -> Vec<String> {
    match subject {
        Subject::Rule(model) => model.grades.iter().rev().map(|g| g.name.clone()).collect(),
        Subject::Predictive(..) => ["A", "B", "C", "D"].map(String::from).to_vec(),
    }
}

/// The backtest table of `subject` from its scored snapshots (`lead_id, as_of, label,
/// score` batches).
pub fn backtest_batch(subject: &Subject, batches: &[RecordBatch]) -> Result<RecordBatch> {
    let (name, version) = subject.name_and_version();
    batch(&name, version, &segments(subject, batches))
}

/// One row per instant and segment from scored snapshots.
pub fn segments(subject: &Subject, batches: &[RecordBatch]) -> Vec<BacktestRow> {
    let probabilities = matches!(subject, Subject::Predictive(..));
    let grades = grade_names(subject);
    let mut out = Vec::new();
    for (as_of, rows) in by_instant(batches) {
        let rows = &rows;
        let in_training = subject.in_training_period(as_of);
        let scores: Vec<f64> = rows
            .iter()
            .map(|r| if r.0.is_finite() { r.0 } else { -1e300 })
            .collect();
        let truth: Vec<bool> = rows.iter().map(|r| r.2).collect();
        let area = auc(&scores, &truth);
        push(
            &mut out,
            as_of,
            in_training,
            "all".into(),
            rows,
            probabilities,
            area,
        );
        let n = rows.len();
        for (label, share) in [("top 5%", 0.05), ("top 10%", 0.10)] {
            let k = ((n as f64) * share).ceil().max(1.0).min(n as f64) as usize;
            push(
                &mut out,
                as_of,
                in_training,
                label.into(),
                &rows[..k],
                probabilities,
                None,
            );
        }
        for g in &grades {
            let members: Vec<(f64, i64, bool)> = rows
                .iter()
                .filter(|r| grade_of(subject, r.0).as_deref() == Some(g.as_str()))
                .copied()
                .collect();
            push(
                &mut out,
                as_of,
                in_training,
                format!("grade {g}"),
                &members,
                probabilities,
                None,
            );
        }
        for d in 0..10 {
            let (lo, hi) = (n * d / 10, n * (d + 1) / 10);
            push(
                &mut out,
                as_of,
                in_training,
                format!("decile {}", d + 1),
                &rows[lo..hi],
                probabilities,
                None,
            );
        }
    }
    out
}

/// The backtest table's batch of `rows` for model `name` (`version` for predictive
/// models).
pub fn batch(name: &str, version: Option<i64>, rows: &[BacktestRow]) -> Result<RecordBatch> {
    let len = rows.len();
    Ok(RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(StringArray::from(vec![name; len])),
            Arc::new(Int64Array::from(vec![version; len])),
            Arc::new(TimestampMicrosecondArray::from(
                rows.iter().map(|r| r.as_of).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                rows.iter()
                    .map(|r| r.in_training_period)
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.segment.as_str()).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.leads).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                rows.iter().map(|r| r.converted).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.conversion_rate).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.mean_predicted).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.auc).collect::<Vec<_>>(),
            )),
        ],
    )?)
}

/// The backtest of a point-in-time `model` that is not saved yet, at `instant`: the
/// leads open then, on the features `lead_snapshot_features` computes at that instant,
/// scored by the model itself. Training stores it with the version.
pub async fn of_unsaved(
    state: &SessionState,
    model: &PredictiveModel,
    instant: i64,
) -> Result<Vec<BacktestRow>> {
    let Some(horizon) = model.options.horizon_days else {
        return Ok(Vec::new());
    };
    let at = crate::args::instant(instant);
    let features = crate::relation::function(
        state,
        "lead_snapshot_features",
        &[at.clone(), at, lit(1i64), lit(horizon)],
    )?
    .filter(col("label").is_not_null())?
    .collect()
    .await?;
    let mut scored = Vec::new();
    for b in &features {
        let mut columns = Vec::new();
        for f in &model.pipeline.features {
            let array = b.column_by_name(&f.name).ok_or_else(|| {
                plan_datafusion_err!("backtest: the features have no column '{}'", f.name)
            })?;
            columns.push(raw_column(&f.name, std::slice::from_ref(array))?);
        }
        let matrix = model
            .pipeline
            .transform(&columns)
            .map_err(|e| plan_datafusion_err!("backtest: {e}"))?;
        let score: Float64Array = model
            .probabilities(&matrix)
            .into_iter()
            .map(|p| Some(p * 100.0))
            .collect();
        let column = |name: &str| {
            b.column_by_name(name).cloned().ok_or_else(|| {
                plan_datafusion_err!("backtest: the features have no column '{name}'")
            })
        };
        scored.push(RecordBatch::try_from_iter(vec![
            ("lead_id", column("lead_id")?),
            ("as_of", column("as_of")?),
            ("label", column("label")?),
            ("score", Arc::new(score) as _),
        ])?);
    }
    let subject = Subject::Predictive(model.name.clone(), Arc::new(model.clone()));
    Ok(segments(&subject, &scored))
}
