//! `show_models()`: every stored version of every predictive model (the table behind
//! `SHOW MODELS`).
//!
//! ```sql
//! SELECT model, version, active, auc FROM show_models();
//! ```

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_datafusion_err, plan_err};
use datafusion::logical_expr::Documentation;
use leadql_models::predictive::PredictiveModel;

use super::model_info::table;
use super::registry::PredictiveModels;
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};

/// The SQL name.
pub const NAME: &str = "show_models";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Table(Arc::new(ShowModels::new(models.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "Every stored version of every predictive model, one row each: `model, version, active, horizon_days, known_until, model_type, label, features, training_rows, auc, backtest_auc, created_at, query`. `active` marks the version an unversioned name uses; `features` lists the model's features in the order `predict_score` takes them; `auc` is held out; `backtest_auc` is the AUC of the backtest the version stored at training (`model_backtest`); `known_until` is the instant the training session knew the workspace up to. `SHOW MODELS` shows the main columns.",
        "show_models()",
    )
    .with_sql_example(
        "> SELECT model, version, active, model_type, label, horizon_days, training_rows, round(auc, 3) AS auc
  FROM show_models();
+------------+---------+--------+--------------+-------+--------------+---------------+-------+
| model      | version | active | model_type   | label | horizon_days | training_rows | auc   |
+------------+---------+--------+--------------+-------+--------------+---------------+-------+
| conversion | 1       | true   | logistic_reg | label | 90.0         | 7029          | 0.875 |
+------------+---------+--------+--------------+-------+--------------+---------------+-------+",
    )
    .with_related_udf("SHOW MODELS")
    .with_related_udf("model_evaluation")
    .with_related_udf("drop_model")
    .build()
});

/// The `show_models` table function.
#[derive(Debug)]
pub struct ShowModels {
    models: Arc<PredictiveModels>,
}

impl ShowModels {
    /// Lists `models`.
    pub fn new(models: Arc<PredictiveModels>) -> Self {
        ShowModels { models }
    }
}

impl TableFunctionImpl for ShowModels {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !fargs.exprs().is_empty() {
            return plan_err!("{NAME} takes no arguments");
        }
        let store = self.models.store();
        let all = store
            .all()
            .map_err(|e| plan_datafusion_err!("{NAME}: {e}"))?;
        let mut active = HashMap::new();
        for m in &all {
            if !active.contains_key(&m.name) {
                let v = store
                    .active(&m.name)
                    .map_err(|e| plan_datafusion_err!("{NAME}: {e}"))?
                    .version;
                active.insert(m.name.clone(), v);
            }
        }
        models(&all, &active)
    }
}

/// One row per version of `all`; `active` holds each model's active version.
fn models(
    all: &[PredictiveModel],
    active: &HashMap<String, u32>,
) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("active", DataType::Boolean, false),
        Field::new("horizon_days", DataType::Float64, true),
        Field::new(
            "known_until",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        Field::new("model_type", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("features", DataType::Utf8, false),
        Field::new("training_rows", DataType::Int64, false),
        Field::new("auc", DataType::Float64, true),
        Field::new("backtest_auc", DataType::Float64, true),
        Field::new("created_at", DataType::Utf8, false),
        Field::new("query", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(
                all.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                all.iter().map(|m| i64::from(m.version)).collect::<Vec<_>>(),
            )),
            Arc::new(BooleanArray::from(
                all.iter()
                    .map(|m| active.get(&m.name) == Some(&m.version))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                all.iter()
                    .map(|m| m.options.horizon_days)
                    .collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMicrosecondArray::from(
                all.iter().map(|m| m.known_until).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                all.iter()
                    .map(|m| m.options.model_type.as_str())
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                all.iter()
                    .map(|m| m.options.label.clone())
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                all.iter()
                    .map(|m| {
                        m.pipeline
                            .features
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                all.iter()
                    .map(|m| m.training_rows as i64)
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                all.iter().map(|m| m.evaluation.auc).collect::<Vec<_>>(),
            )),
            // The AUC of the backtest the version stored when it was trained.
            Arc::new(Float64Array::from(
                all.iter()
                    .map(|m| {
                        m.backtest
                            .iter()
                            .find(|r| r.segment == "all")
                            .and_then(|r| r.auc)
                    })
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                all.iter().map(|m| m.created_at.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                all.iter().map(|m| m.query.clone()).collect::<Vec<_>>(),
            )),
        ],
    )?;
    table(schema, batch)
}
