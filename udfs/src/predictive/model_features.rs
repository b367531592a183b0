//! `model_features(model)`: what a model version learnt, per model column.
//!
//! ```sql
//! SELECT feature, weight FROM model_features('conversion') ORDER BY abs(weight) DESC;
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::TableProvider;
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;
use leadql_models::predictive::{Estimator, PredictiveModel};

use super::model_info::{ModelInfo, table};
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};

/// The SQL name.
pub const NAME: &str = "model_features";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Predictive(|models| {
        Function::Table(Arc::new(ModelInfo::new(models.clone(), NAME, features)))
    }),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "What a model version learnt, one row per column of its feature pipeline (a number, or one level of a string feature, e.g. `seniority=vp`): for logistic regression the coefficient on the standardised input, after the `(intercept)`; for decision trees and forests the impurity-decrease importance, for boosted trees the split-gain importance (each summing to 1). Columns: `model, feature, kind, weight`.",
        "model_features(model)",
    )
    .with_argument("model", "A trained model: `'name'` (its active version) or `'name@N'` (version N); a constant string.")
    .with_sql_example(
        "> SELECT feature, kind, round(weight, 3) AS weight FROM model_features('conversion')
  ORDER BY abs(weight) DESC, feature LIMIT 5;
+------------------------+-----------------------------------+--------+
| feature                | kind                              | weight |
+------------------------+-----------------------------------+--------+
| (intercept)            | coefficient (standardised inputs) | -3.084 |
| age_days               | coefficient (standardised inputs) | -1.348 |
| fit_score              | coefficient (standardised inputs) | 0.76   |
| job_function=executive | coefficient (standardised inputs) | 0.747  |
| industry=Media         | coefficient (standardised inputs) | 0.722  |
+------------------------+-----------------------------------+--------+",
    )
    .with_related_udf("model_evaluation")
    .with_related_udf("explain_prediction")
    .build()
});

/// The feature rows of `m`.
fn features(m: &PredictiveModel) -> Result<Arc<dyn TableProvider>> {
    let names = m.pipeline.output_names();
    let (feature, kind, weight): (Vec<String>, &str, Vec<f64>) = match &m.estimator {
        Estimator::Logistic {
            intercept,
            coefficients,
        } => (
            std::iter::once("(intercept)".to_string())
                .chain(names)
                .collect(),
            "coefficient (standardised inputs)",
            std::iter::once(*intercept)
                .chain(coefficients.iter().copied())
                .collect(),
        ),
        Estimator::Trees { importances, .. } => (
            names,
            "importance (impurity decrease, sums to 1)",
            importances.clone(),
        ),
        Estimator::Boosted { importances, .. } => (
            names,
            "importance (split gain, sums to 1)",
            importances.clone(),
        ),
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("feature", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("weight", DataType::Float64, false),
    ]));
    let n = feature.len();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![m.name.clone(); n])),
            Arc::new(StringArray::from(feature)),
            Arc::new(StringArray::from(vec![kind; n])),
            Arc::new(Float64Array::from(weight)),
        ],
    )?;
    table(schema, batch)
}
