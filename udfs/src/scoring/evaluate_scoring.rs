//! `evaluate_scoring(model [, from, to, every_days, horizon_days])`: how well a rule
//! model ranks past outcomes, evaluated like a predictive model.
//!
//! The question is the one sales asks of a score: of the leads open at an instant, do
//! the higher-scored ones convert more within the horizon? So the rows are the
//! snapshots of [`lead_snapshots`](crate::snapshots::lead_snapshots) (default: monthly
//! over the two years before the workspace's `as_of` minus the horizon, 90 days), each
//! lead in the model's audience scored *as of its snapshot's instant* and labelled
//! with whether it was qualified within the horizon; the metrics pool every instant
//! (`backtest` gives them instant by instant). The result has one row per metric:
//!
//! | metric | grade | leads | converted | value |
//! |---|---|---|---|---|
//! | `auc` | | closed leads | qualified | area under the ROC curve |
//! | `conversion_rate` | each grade | leads in grade | qualified | rate |
//! | `threshold_current`, `precision_current`, `recall_current`, `f1_current` | | leads at or above | qualified among them | the model's `sales_ready` and its metrics |
//! | `threshold_suggested`, `precision_suggested`, `recall_suggested`, `f1_suggested` | | | | the threshold maximising F1 |
//!
//! ```sql
//! SELECT metric, grade, value FROM evaluate_scoring('engagement');
//! SELECT metric, grade, value FROM evaluate_scoring('engagement',
//!   TIMESTAMP '2025-06-30 00:00:00', TIMESTAMP '2026-03-31 00:00:00', 30, 90);
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{JoinType, Result, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Documentation, col};
use leadql_models::RuleModel;
use leadql_models::metrics::{at_threshold, auc, best_f1_threshold};

use super::common::state;
use super::plan::{self, AsOf};
use super::registry::RuleModels;
use crate::args;
use crate::catalogue::{Build, Entry, Function, RULE_SCORING};
use crate::deferred::DeferredTable;
use crate::snapshots::backtest::known;
use crate::snapshots::instants::{self, Instants};

/// The SQL name.
pub const NAME: &str = "evaluate_scoring";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Rules(|models| Function::Table(Arc::new(EvaluateScoring::new(models.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    let doc = Documentation::builder(
        RULE_SCORING,
        "How well a rule model ranks past outcomes, evaluated like a predictive model: of the leads open at an instant, do the higher-scored ones convert more within the horizon? The rows are the snapshots of `lead_snapshots` (default: monthly over the two years before the workspace's `as_of` minus a 90-day horizon), each lead in the model's audience scored as of its snapshot's instant; the metrics pool every instant (`backtest` gives them instant by instant). One row per metric: `auc` (`leads`: the snapshots, `converted`: those qualified within the horizon), `conversion_rate` of each grade, `threshold_current`, `precision_current`, `recall_current`, `f1_current` (the model's `sales_ready` threshold and its metrics; `leads` and `converted` at or above it) and `threshold_suggested`, `precision_suggested`, `recall_suggested`, `f1_suggested` (the threshold that maximises F1). Columns: `model, metric, grade, leads, converted, value`.",
        "evaluate_scoring(model [, from, to, every_days, horizon_days])",
    )
    .with_argument("model", "Name of a rule model of the workspace (`scoring/NAME.toml`; a constant string).");
    instants::documented(doc, None)
        .with_sql_example(
        "> SELECT metric, grade, leads, converted, round(value, 3) AS value FROM evaluate_scoring('engagement')
  ORDER BY metric, grade;
+---------------------+-------+-------+-----------+-------+
| metric              | grade | leads | converted | value |
+---------------------+-------+-------+-----------+-------+
| auc                 |       | 10543 | 1075      | 0.751 |
| conversion_rate     | Cold  | 9032  | 682       | 0.076 |
| conversion_rate     | Hot   | 160   | 66        | 0.413 |
| conversion_rate     | Warm  | 1351  | 327       | 0.242 |
| f1_current          |       | 160   | 66        | 0.107 |
| f1_suggested        |       | 2813  | 618       | 0.318 |
| precision_current   |       | 160   | 66        | 0.413 |
| precision_suggested |       | 2813  | 618       | 0.22  |
| recall_current      |       | 160   | 66        | 0.061 |
| recall_suggested    |       | 2813  | 618       | 0.575 |
| threshold_current   |       | 160   | 66        | 40.0  |
| threshold_suggested |       | 2813  | 618       | 7.551 |
+---------------------+-------+-------+-----------+-------+",
    )
    .with_related_udf("backtest")
    .with_related_udf("score_leads")
    .with_related_udf("lead_snapshots")
    .build()
});

/// The `evaluate_scoring` table function.
#[derive(Debug)]
pub struct EvaluateScoring {
    models: Arc<RuleModels>,
}

impl EvaluateScoring {
    /// Evaluates the models of `models`.
    pub fn new(models: Arc<RuleModels>) -> Self {
        EvaluateScoring { models }
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("grade", DataType::Utf8, true),
        Field::new("leads", DataType::Int64, false),
        Field::new("converted", DataType::Int64, false),
        Field::new("value", DataType::Float64, true),
    ]))
}

impl TableFunctionImpl for EvaluateScoring {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(args.session())?;
        let exprs = args.exprs();
        if exprs.len() != 1 && exprs.len() != 5 {
            return plan_err!(
                "{NAME} expects (model [, from, to, every_days, horizon_days]), got {} arguments",
                exprs.len()
            );
        }
        let name = args::string(state, NAME, "model", &exprs[0])?;
        let model = self.models.get(NAME, &name)?;
        let instants = if exprs.len() == 5 {
            instants::parse(state, NAME, &exprs[1..], self.models.default_as_of(), None)?
        } else {
            instants::series(None, None, 30.0, 90.0, self.models.default_as_of(), NAME)?
        };
        let evaluation = Arc::new(Evaluation { model, instants });
        // Plan now, so that errors surface at planning time.
        evaluation.scored(state, known(state, &evaluation.instants)?)?;
        Ok(DeferredTable::new(
            schema(),
            Box::new(move |state| {
                let evaluation = evaluation.clone();
                Box::pin(async move { evaluation.compute(state).await })
            }),
        ))
    }
}

/// The evaluation of one model, computed when scanned.
#[derive(Debug)]
struct Evaluation {
    model: Arc<RuleModel>,
    instants: Instants,
}

#[derive(Default)]
struct Rows {
    metric: Vec<String>,
    grade: Vec<Option<String>>,
    leads: Vec<i64>,
    converted: Vec<i64>,
    value: Vec<Option<f64>>,
}

impl Rows {
    fn push(
        &mut self,
        metric: &str,
        grade: Option<&str>,
        leads: usize,
        converted: usize,
        value: Option<f64>,
    ) {
        self.metric.push(metric.into());
        self.grade.push(grade.map(str::to_string));
        self.leads.push(leads as i64);
        self.converted.push(converted as i64);
        self.value.push(value);
    }
}

impl Evaluation {
    fn metrics(&self, scores: &[f64], grades: &[Option<String>], positive: &[bool]) -> Rows {
        let mut rows = Rows::default();
        let n = scores.len();
        let pos = positive.iter().filter(|p| **p).count();
        rows.push("auc", None, n, pos, auc(scores, positive));
        for g in &self.model.grades {
            let (mut leads, mut conv) = (0, 0);
            for (grade, &y) in grades.iter().zip(positive) {
                if grade.as_deref() == Some(g.name.as_str()) {
                    leads += 1;
                    conv += usize::from(y);
                }
            }
            let rate = (leads > 0).then(|| conv as f64 / leads as f64);
            rows.push("conversion_rate", Some(&g.name), leads, conv, rate);
        }
        let mut threshold_rows =
            |suffix: &str, m: Option<leadql_models::metrics::ThresholdMetrics>| {
                let (sel, tp) = m.map_or((0, 0), |m| {
                    (
                        m.selected,
                        (m.precision * m.selected as f64).round() as usize,
                    )
                });
                rows.push(
                    &format!("threshold_{suffix}"),
                    None,
                    sel,
                    tp,
                    m.map(|m| m.threshold),
                );
                rows.push(
                    &format!("precision_{suffix}"),
                    None,
                    sel,
                    tp,
                    m.map(|m| m.precision),
                );
                rows.push(
                    &format!("recall_{suffix}"),
                    None,
                    sel,
                    tp,
                    m.map(|m| m.recall),
                );
                rows.push(&format!("f1_{suffix}"), None, sel, tp, m.map(|m| m.f1));
            };
        threshold_rows(
            "current",
            (n > 0).then(|| at_threshold(scores, positive, self.model.sales_ready)),
        );
        threshold_rows("suggested", best_f1_threshold(scores, positive));
        rows
    }
}

impl Evaluation {
    /// `score, grade, positive` of every snapshot whose outcome is known.
    fn scored(&self, state: &SessionState, rows: DataFrame) -> Result<DataFrame> {
        let pairs = rows.clone().select(vec![col("lead_id"), col("as_of")])?;
        let outcomes = rows.select(vec![
            col("lead_id").alias("__lead_id"),
            col("as_of").alias("__as_of"),
            col("label").alias("positive"),
        ])?;
        plan::score_leads(state, &self.model, &AsOf::Snapshots(pairs))?
            .join(
                outcomes,
                JoinType::Inner,
                &["lead_id", "as_of"],
                &["__lead_id", "__as_of"],
                None,
            )?
            .select(vec![col("score"), col("grade"), col("positive")])
    }

    /// Scores every snapshot at its instant and computes the metrics.
    async fn compute(&self, state: &SessionState) -> Result<RecordBatch> {
        // The pairs once: the scoring plan reads them twice.
        let rows = known(state, &self.instants)?.cache().await?;
        let batches = self.scored(state, rows)?.collect().await?;
        let (mut scores, mut grades, mut positive) = (Vec::new(), Vec::new(), Vec::new());
        for b in &batches {
            let s = b.column(0).as_primitive::<Float64Type>();
            let g = b.column(1).as_string::<i32>();
            let p = b.column(2).as_boolean();
            for i in 0..b.num_rows() {
                if s.is_null(i) || p.is_null(i) {
                    continue;
                }
                scores.push(s.value(i));
                grades.push((!g.is_null(i)).then(|| g.value(i).to_string()));
                positive.push(p.value(i));
            }
        }
        let rows = self.metrics(&scores, &grades, &positive);
        let n = rows.metric.len();
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(vec![self.model.name.clone(); n])),
                Arc::new(StringArray::from(rows.metric)),
                Arc::new(StringArray::from(rows.grade)),
                Arc::new(Int64Array::from(rows.leads)),
                Arc::new(Int64Array::from(rows.converted)),
                Arc::new(Float64Array::from(rows.value)),
            ],
        )
        .map_err(Into::into)
    }
}
