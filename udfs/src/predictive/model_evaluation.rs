//! `model_evaluation(model)`: how a model version did on its held-out rows.
//!
//! ```sql
//! SELECT metric, value FROM model_evaluation('conversion');
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::TableProvider;
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;
use leadql_models::predictive::PredictiveModel;

use super::model_info::{ModelInfo, table};
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};

/// The SQL name.
pub const NAME: &str = "model_evaluation";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Predictive(|models| {
        Function::Table(Arc::new(ModelInfo::new(models.clone(), NAME, evaluation)))
    }),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "How a model version did on the rows held out of its training, one row per metric: `rows`, `positives`, `auc`, `log_loss`, `threshold` (the probability threshold that maximises F1) with the `accuracy`, `precision`, `recall` and `f1` at it and its confusion matrix (`true_positives`, `false_positives`, `true_negatives`, `false_negatives`), `calibration_error`, and `lift_decile_1` … `lift_decile_10` (the conversion rate of each tenth by score, best first, over the overall rate). Columns: `model, version, metric, value`.",
        "model_evaluation(model)",
    )
    .with_argument("model", "A trained model: `'name'` (its active version) or `'name@N'` (version N); a constant string.")
    .with_sql_example(
        "> SELECT metric, round(value, 3) AS value FROM model_evaluation('conversion')
  WHERE metric IN ('rows', 'positives', 'auc', 'threshold', 'precision', 'recall', 'lift_decile_1');
+---------------+--------+
| metric        | value  |
+---------------+--------+
| rows          | 3058.0 |
| positives     | 205.0  |
| auc           | 0.875  |
| threshold     | 0.173  |
| precision     | 0.272  |
| recall        | 0.62   |
| lift_decile_1 | 4.451  |
+---------------+--------+",
    )
    .with_related_udf("model_features")
    .with_related_udf("show_models")
    .with_related_udf("model_backtest")
    .build()
});

/// The evaluation rows of `m`.
fn evaluation(m: &PredictiveModel) -> Result<Arc<dyn TableProvider>> {
    let e = &m.evaluation;
    let [tp, fp, tn, fnn] = e.confusion.map(|c| c as f64);
    let mut rows: Vec<(String, Option<f64>)> = vec![
        ("rows".into(), Some(e.rows as f64)),
        ("positives".into(), Some(e.positives as f64)),
        ("auc".into(), e.auc),
        ("log_loss".into(), e.log_loss),
        ("threshold".into(), Some(e.threshold)),
        ("accuracy".into(), Some(e.accuracy)),
        ("precision".into(), Some(e.precision)),
        ("recall".into(), Some(e.recall)),
        ("f1".into(), Some(e.f1)),
        ("true_positives".into(), Some(tp)),
        ("false_positives".into(), Some(fp)),
        ("true_negatives".into(), Some(tn)),
        ("false_negatives".into(), Some(fnn)),
        ("calibration_error".into(), e.calibration_error),
    ];
    rows.extend(
        e.lift
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("lift_decile_{}", i + 1), Some(*l))),
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]));
    let n = rows.len();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![m.name.clone(); n])),
            Arc::new(Int64Array::from(vec![i64::from(m.version); n])),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            )),
        ],
    )?;
    table(schema, batch)
}
