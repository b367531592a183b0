//! Training from SQL: the `train_model(name, query, model_type, label [, options])`
//! table function, which `CREATE MODEL` runs (the `leadql` statement layer rewrites the
//! statement into a call: [`crate::statements::create_model`]), and
//! [`train_from_query`], the training both share.
//!
//! Planning a call only reads and checks its arguments and options. The training runs
//! when the result is read (a [`DeferredTable`]): the query runs; every column but the
//! label, `lead_id` and the split's column (`time_column` or `split_column`) is a
//! feature; a point-in-time model (`horizon_days`) must take its features as they are
//! from `lead_snapshot_features`; the model is fitted and evaluated on the held-out rows
//! on a blocking thread (a spinner on a terminal); a point-in-time model is then
//! backtested at the latest instant whose outcome is known ([`crate::snapshots::backtest`]);
//! and the version is saved ([`PredictiveModels::save`]). The result is one row
//! describing the new version ([`summary_schema`]).

use std::io::IsTerminal;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_datafusion_err, plan_err};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::Documentation;
use indicatif::{ProgressBar, ProgressStyle};
use leadql_models::features::RawColumn;
use leadql_models::predictive::{PredictiveModel, Split, TrainOptions, TrainingData, train_timed};
use leadql_models::store::valid_name;

use super::columns::raw_column;
use super::options::{parse_pairs, train_options};
use super::registry::PredictiveModels;
use crate::args;
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};
use crate::deferred::DeferredTable;
use crate::scoring::common::state;
use crate::snapshots::FEATURES_VERSION;

/// The SQL name.
pub const NAME: &str = "train_model";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Table(Arc::new(TrainModel::new(models.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "Trains a predictive model on the rows of `query` and stores it as the next version of `name`: `CREATE MODEL` as a table function, for where custom statements cannot go. Every column of the query but the label, `lead_id` and the split's column is a feature. Training happens when the result is read; the result is one row describing the new version: `model, version, model_type, training_rows, test_rows, auc, log_loss, f1, warnings` (`auc` and `log_loss` held out; small or imbalanced data trains with a warning).",
        "train_model(name, query, model_type, label [, options])",
    )
    .with_argument("name", "The model's name: letters, digits, `_` and `-`.")
    .with_argument("query", "The training query, as a string (quotes inside doubled).")
    .with_argument("model_type", "`'logistic_reg'`, `'decision_tree'`, `'random_forest'` or `'boosted_tree'`.")
    .with_argument("label", "The column holding the outcome.")
    .with_argument("options", "The other options of `CREATE MODEL`, as text: `'l2 = 0.5, split = time, time_column = created_at'`.")
    .with_sql_example(
        "> SELECT model, version, model_type, training_rows, test_rows, round(auc, 3) AS auc
  FROM train_model('closed_leads',
    'SELECT seniority, company_size, pricing_visits, converted FROM lead_features WHERE status <> ''open''',
    'logistic_reg', 'converted', 'seed = 7');
+--------------+---------+--------------+---------------+-----------+-------+
| model        | version | model_type   | training_rows | test_rows | auc   |
+--------------+---------+--------------+---------------+-----------+-------+
| closed_leads | 1       | logistic_reg | 3002          | 748       | 0.724 |
+--------------+---------+--------------+---------------+-----------+-------+",
    )
    .with_related_udf("CREATE MODEL")
    .with_related_udf("show_models")
    .with_related_udf("model_evaluation")
    .with_related_udf("predict")
    .build()
});

/// Runs `query`, trains a model called `name` with `options` and saves it as the next
/// version.
pub async fn train_from_query(
    state: &SessionState,
    models: &PredictiveModels,
    name: &str,
    query: &str,
    options: TrainOptions,
) -> Result<Arc<PredictiveModel>> {
    if !valid_name(name) {
        return plan_err!("invalid model name '{name}': use letters, digits, _ and -");
    }
    let plan = state
        .create_logical_plan(query)
        .await
        .map_err(|e| plan_datafusion_err!("training query: {}", e.find_root()))?;
    crate::relation::read_only(&plan, "training query")?;
    let batches = DataFrame::new(state.clone(), plan).collect().await?;
    let schema = match batches.first() {
        Some(b) => b.schema(),
        None => return plan_err!("the training query returned no rows"),
    };
    let column =
        |i: usize| -> Vec<ArrayRef> { batches.iter().map(|b| b.column(i).clone()).collect() };
    let label_index = schema.index_of(&options.label).map_err(|_| {
        let cols: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        plan_datafusion_err!(
            "label column '{}' is not a column of the training query (columns: {})",
            options.label,
            cols.join(", ")
        )
    })?;
    let split_column = match &options.split {
        Split::Time { column, .. } | Split::Column { column } => {
            Some(schema.index_of(column).map_err(|_| {
                plan_datafusion_err!(
                    "split column '{column}' is not a column of the training query"
                )
            })?)
        }
        Split::Random { .. } => None,
    };
    let mut names = Vec::new();
    let mut columns = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        if i == label_index || Some(i) == split_column || f.name() == "lead_id" {
            continue;
        }
        names.push(f.name().clone());
        columns.push(raw_column(f.name(), &column(i))?);
    }
    if options.horizon_days.is_some() {
        check_point_in_time_features(state, &names).await?;
    }
    let label = raw_column(&options.label, &column(label_index))?;
    let (mut time, mut holdout) = (None, None);
    if let Some(i) = split_column {
        match (
            raw_column(schema.field(i).name(), &column(i))?,
            &options.split,
        ) {
            (RawColumn::Timestamp(t), Split::Time { .. }) => time = Some(t),
            (RawColumn::Bool(b), Split::Column { .. }) => holdout = Some(b),
            (_, Split::Time { .. }) => {
                return plan_err!(
                    "time_column '{}' must be a timestamp",
                    schema.field(i).name()
                );
            }
            _ => {
                return plan_err!(
                    "split_column '{}' must be a boolean (true = held out)",
                    schema.field(i).name()
                );
            }
        }
    }
    let rows = label.len();
    // A spinner with the elapsed time on a terminal (linfa reports no per-iteration
    // progress, so there is no percentage to show); silent when stderr is redirected.
    let spinner = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}") {
        spinner.set_style(style);
    }
    spinner.set_message(format!(
        "training '{name}' ({}) on {rows} rows × {} columns",
        options.model_type.as_str(),
        names.len()
    ));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let started = Instant::now();
    let created_at = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let data = TrainingData {
        names,
        columns,
        label,
        time,
        holdout,
    };
    let (name_owned, query_owned) = (name.to_string(), query.to_string());
    let trained = tokio::task::spawn_blocking(move || {
        train_timed(&name_owned, &query_owned, data, options, created_at)
    })
    .await;
    spinner.finish_and_clear();
    let (mut model, stages) = trained
        .map_err(|e| plan_datafusion_err!("training failed: {e}"))?
        .map_err(|e| plan_datafusion_err!("training '{name}': {e}"))?;
    if std::env::var_os("LEADQL_TIMINGS").is_some() {
        for (stage, secs) in stages {
            eprintln!("timing: training {stage:<11} {secs:>7.2} s");
        }
    }
    model.known_until = models.as_of();
    if model.options.horizon_days.is_some() {
        model.features = Some(FEATURES_VERSION.to_string());
    }
    // The version keeps its out-of-time backtest, taken now on every lead open at the
    // latest instant whose outcome is known.
    if let Some(instant) = model.honest_instant() {
        match crate::snapshots::backtest::of_unsaved(state, &model, instant).await {
            Ok(rows) => model.backtest = rows,
            Err(e) => model
                .warnings
                .push(format!("no backtest stored: {}", e.strip_backtrace())),
        }
    }
    let saved = models.save(model)?;
    if std::io::stderr().is_terminal() {
        eprintln!(
            "trained '{name}' version {} in {:.1} s",
            saved.version,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(saved)
}

/// A point-in-time model (one with `horizon_days`) is served by recomputing its
/// features with `lead_snapshot_features` at the scoring instant, so every feature
/// must be one of that function's columns, not a column computed in the query.
async fn check_point_in_time_features(state: &SessionState, names: &[String]) -> Result<()> {
    // Any instant: only the function's columns are looked at, nothing runs.
    let at = args::instant(946_684_800_000_000);
    let frame = crate::relation::function(
        state,
        "lead_snapshot_features",
        &[
            at.clone(),
            at,
            datafusion::logical_expr::lit(1i64),
            datafusion::logical_expr::lit(1i64),
        ],
    )?;
    let schema = frame.schema();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| schema.field_with_unqualified_name(n).is_err())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return plan_err!(
            "a model with horizon_days is served with the features of lead_snapshot_features at the scoring instant, and {} {} not among them: select columns of lead_snapshot_features(…) as they are",
            unknown.join(", "),
            if unknown.len() == 1 { "is" } else { "are" }
        );
    }
    Ok(())
}

/// Schema of the row describing a trained model.
pub fn summary_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("model_type", DataType::Utf8, false),
        Field::new("training_rows", DataType::Int64, false),
        Field::new("test_rows", DataType::Int64, false),
        Field::new("auc", DataType::Float64, true),
        Field::new("log_loss", DataType::Float64, true),
        Field::new("f1", DataType::Float64, false),
        Field::new("warnings", DataType::Utf8, false),
    ]))
}

/// The row describing a trained model.
pub fn summary_batch(m: &PredictiveModel) -> Result<RecordBatch> {
    let e = &m.evaluation;
    Ok(RecordBatch::try_new(
        summary_schema(),
        vec![
            Arc::new(StringArray::from(vec![m.name.clone()])),
            Arc::new(Int64Array::from(vec![i64::from(m.version)])),
            Arc::new(StringArray::from(vec![m.options.model_type.as_str()])),
            Arc::new(Int64Array::from(vec![m.training_rows as i64])),
            Arc::new(Int64Array::from(vec![e.rows as i64])),
            Arc::new(Float64Array::from(vec![e.auc])),
            Arc::new(Float64Array::from(vec![e.log_loss])),
            Arc::new(Float64Array::from(vec![e.f1])),
            Arc::new(StringArray::from(vec![m.warnings.join("; ")])),
        ],
    )?)
}

/// The `train_model` table function.
#[derive(Debug)]
pub struct TrainModel {
    models: Arc<PredictiveModels>,
}

impl TrainModel {
    /// Trains into `models`.
    pub fn new(models: Arc<PredictiveModels>) -> Self {
        TrainModel { models }
    }
}

impl TableFunctionImpl for TrainModel {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(fargs.session())?;
        let exprs = fargs.exprs();
        if !(4..=5).contains(&exprs.len()) {
            return plan_err!(
                "{NAME} expects (name, query, model_type, label [, options]), got {} arguments",
                exprs.len()
            );
        }
        let f = NAME;
        let name = args::string(state, f, "name", &exprs[0])?;
        let query = args::string(state, f, "query", &exprs[1])?;
        // An empty model_type or label is a missing one (`CREATE MODEL` without it), for
        // the options' own "is required" error.
        let mut pairs = Vec::new();
        for (key, e) in [("model_type", &exprs[2]), ("label", &exprs[3])] {
            let value = args::string(state, f, key, e)?;
            if !value.is_empty() {
                pairs.push((key.to_string(), value));
            }
        }
        if let Some(e) = exprs.get(4) {
            pairs.extend(parse_pairs(&args::string(state, f, "options", e)?)?);
        }
        let options = train_options(&pairs)?;
        let models = self.models.clone();
        Ok(DeferredTable::new(
            summary_schema(),
            Box::new(move |state| {
                let (models, name, query, options) =
                    (models.clone(), name.clone(), query.clone(), options.clone());
                Box::pin(async move {
                    let model = train_from_query(state, &models, &name, &query, options).await?;
                    summary_batch(&model)
                })
            }),
        ))
    }
}
