//! `predict_score(model, feature_1, …, feature_n)`: the predictive model's score
//! (0–100, the probability of the positive label × 100) for each row.
//!
//! ```sql
//! CREATE MODEL closed_leads OPTIONS (model_type = 'logistic_reg', label = 'converted')
//! AS SELECT seniority, company_size, pricing_visits, converted FROM lead_features WHERE status <> 'open';
//! SELECT lead_id, predict_score('closed_leads', seniority, company_size, pricing_visits) FROM lead_features;
//! ```
//!
//! Features are passed in the order of the model's features (the training query's
//! columns; `features` in `show_models()`); the stored feature pipeline transforms them
//! exactly as in training. Vectorised per batch.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use leadql_models::features::RawColumn;
use leadql_models::predictive::PredictiveModel;

use super::columns::{missing, raw_column};
use super::registry::PredictiveModels;
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};

/// The SQL name.
pub const NAME: &str = "predict_score";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Scalar(predict_score_udf(models.clone()))),
);

/// The `predict_score` function.
#[derive(Debug)]
pub struct PredictScore {
    models: Arc<PredictiveModels>,
    signature: Signature,
}

impl PartialEq for PredictScore {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.models, &other.models)
    }
}

impl Eq for PredictScore {}

impl Hash for PredictScore {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.models) as usize).hash(state);
    }
}

impl PredictScore {
    /// The models it scores with.
    pub fn models(&self) -> &Arc<PredictiveModels> {
        &self.models
    }
}

/// A [`ScalarUDF`] for `predict_score` over `models`.
pub fn predict_score_udf(models: Arc<PredictiveModels>) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(PredictScore {
        models,
        signature: Signature::variadic_any(Volatility::Immutable),
    }))
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "The model's score for each row, from 0 to 100 (the probability of the positive label × 100), given the values of all the model's features in their order (the training query's columns; `features` in `show_models()`). The stored feature pipeline transforms them exactly as in training (missing numbers and booleans imputed with the training mean, strings one-hot encoded, rare and unseen strings sharing one `(other)` column and NULL its own). Passing another number of features is an error listing them. `predict` takes the features of a whole table by name, which is simpler for a model with many features, such as the sample's point-in-time `conversion`.",
        "predict_score(model, feature_1, ..., feature_n)",
    )
    .with_argument("model", "A trained model: `'name'` (its active version) or `'name@N'` (version N); a constant string.")
    .with_argument("feature_1, ..., feature_n", "The values of the model's features, in its order.")
    .with_sql_example(
        "> CREATE MODEL closed_leads OPTIONS (model_type = 'logistic_reg', label = 'converted', seed = 7)
  AS SELECT seniority, company_size, pricing_visits, converted FROM lead_features WHERE status <> 'open';
> SELECT lead_id, seniority, company_size, pricing_visits,
    round(predict_score('closed_leads', seniority, company_size, pricing_visits), 1) AS score
  FROM lead_features WHERE status = 'open' ORDER BY score DESC, lead_id LIMIT 3;
+---------+-----------+--------------+----------------+-------+
| lead_id | seniority | company_size | pricing_visits | score |
+---------+-----------+--------------+----------------+-------+
| 3573    | vp        | 255          | 7              | 99.6  |
| 1047    | c_level   | 53           | 6              | 98.8  |
| 3269    | manager   | 97           | 6              | 98.7  |
+---------+-----------+--------------+----------------+-------+",
    )
    .with_related_udf("predict")
    .with_related_udf("prediction_factors")
    .with_related_udf("top_factors")
    .build()
});

/// The model named by a function's first (constant) argument.
pub fn model_argument(
    models: &PredictiveModels,
    function: &str,
    arg: &ColumnarValue,
) -> Result<Arc<PredictiveModel>> {
    match arg {
        ColumnarValue::Scalar(
            ScalarValue::Utf8(Some(n))
            | ScalarValue::Utf8View(Some(n))
            | ScalarValue::LargeUtf8(Some(n)),
        ) => models.get(function, n),
        _ => exec_err!("{function}: argument 1 (model) must be a constant model name"),
    }
}

/// The feature arguments as raw columns, checked against the model's features.
pub fn feature_columns(
    model: &PredictiveModel,
    function: &str,
    args: &[ColumnarValue],
    rows: usize,
) -> Result<Vec<RawColumn>> {
    let features = &model.pipeline.features;
    if args.len() != features.len() {
        return exec_err!(
            "{function}: model '{}' expects {} features ({}), got {}",
            model.name,
            features.len(),
            features
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            args.len()
        );
    }
    features
        .iter()
        .zip(args)
        .map(|(f, a)| {
            let array: ArrayRef = a.to_array(rows)?;
            if array.data_type() == &DataType::Null {
                // An untyped NULL (`predict_score('m', NULL, …)`) is a missing value of
                // whatever kind the feature is, imputed as in training.
                return Ok(missing(&f.transform, rows));
            }
            raw_column(&f.name, &[array])
        })
        .collect()
}

impl ScalarUDFImpl for PredictScore {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.len() < 2 {
            return plan_err!(
                "{NAME} expects (model, feature_1, …, feature_n), got {} arguments",
                arg_types.len()
            );
        }
        if !matches!(
            arg_types[0],
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        ) {
            return plan_err!(
                "{NAME} argument 1 (model) must be a string, got {}",
                arg_types[0]
            );
        }
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let model = model_argument(&self.models, NAME, &args.args[0])?;
        let columns = feature_columns(&model, NAME, &args.args[1..], args.number_rows)?;
        let matrix = model
            .pipeline
            .transform(&columns)
            .map_err(|e| exec_datafusion_err!("{NAME}: {e}"))?;
        let scores: Float64Array = model
            .probabilities(&matrix)
            .into_iter()
            .map(|p| Some(p * 100.0))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(scores)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
