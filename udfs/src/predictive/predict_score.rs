//! `predict_score(model, feature_1, …, feature_n)`: the predictive model's score
//! (0–100, the probability of the positive label × 100) for each row.
//!
//! ```sql
//! SELECT lead_id, predict_score('conversion', seniority, company_size, pricing_visits) FROM lead_features;
//! ```
//!
//! Features are passed in the order of the training query's columns (see
//! `model_features('conversion')`); the stored feature pipeline transforms them exactly
//! as in training. Vectorised per batch.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility,
};
use leadql_models::features::RawColumn;
use leadql_models::predictive::PredictiveModel;

use super::columns::raw_column;
use super::registry::PredictiveModels;

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

/// A [`ScalarUDF`] for `predict_score` over `models`.
pub fn predict_score_udf(models: Arc<PredictiveModels>) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(PredictScore {
        models,
        signature: Signature::variadic_any(Volatility::Immutable),
    }))
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DocSection { include: true, label: "Predictive scoring", description: None },
        "Score 0–100 (probability of the positive label × 100) of a trained predictive model for the given feature values, in training-column order.",
        "predict_score(model, feature_1, ..., feature_n)",
    )
    .with_sql_example("> SELECT predict_score('conversion', 'director', 850, 3);\n71.4")
    .with_argument("model", "Name of a trained model (string literal).")
    .with_argument("feature_i", "The feature values, in the order of the training query's columns.")
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
            raw_column(&f.name, &[array])
        })
        .collect()
}

impl ScalarUDFImpl for PredictScore {
    fn name(&self) -> &str {
        "predict_score"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.len() < 2 {
            return plan_err!(
                "predict_score expects (model, feature_1, …, feature_n), got {} arguments",
                arg_types.len()
            );
        }
        if !matches!(
            arg_types[0],
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        ) {
            return plan_err!(
                "predict_score argument 1 (model) must be a string, got {}",
                arg_types[0]
            );
        }
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let model = model_argument(&self.models, "predict_score", &args.args[0])?;
        let columns = feature_columns(&model, "predict_score", &args.args[1..], args.number_rows)?;
        let matrix = model
            .pipeline
            .transform(&columns)
            .map_err(|e| exec_datafusion_err!("predict_score: {e}"))?;
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
