//! What drives a prediction: the scalar functions [`prediction_factors`] and
//! [`top_factors`] (documented in their files), one implementation.
//!
//! `prediction_factors` returns, per row, a list of `{feature, contribution}`, one per
//! input feature plus the baseline. For a logistic model they are contributions to
//! the logit and the baseline is `(intercept)`: they add up to the logit of the score.
//! For a tree or forest they are steps of the probability along each tree's path and
//! the baseline is `(base rate)`: they add up to the probability. For boosted trees
//! they are steps of the logit along every round's tree path and the baseline is
//! `(baseline)`: they add up to the logit. `top_factors` summarises them as text: the
//! three strongest positive and the two strongest negative contributions, e.g.
//! `+pricing_visits 1.32, +seniority 0.41, -email_opens 0.77`.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Builder, ListBuilder, StringArray, StringBuilder, StructBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, exec_datafusion_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use leadql_models::predictive::PredictiveModel;

use super::predict_score::{feature_columns, model_argument};
use super::registry::PredictiveModels;
use super::{prediction_factors, top_factors};

/// Which summary a [`Factors`] function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactorsKind {
    /// `prediction_factors`: list of structs.
    List,
    /// `top_factors`: text.
    Top,
}

/// The `prediction_factors` / `top_factors` functions.
#[derive(Debug)]
pub struct Factors {
    models: Arc<PredictiveModels>,
    kind: FactorsKind,
    signature: Signature,
}

impl PartialEq for Factors {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.models, &other.models) && self.kind == other.kind
    }
}

impl Eq for Factors {}

impl Hash for Factors {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.models) as usize).hash(state);
        self.kind.hash(state);
    }
}

impl Factors {
    /// The models it explains.
    pub fn models(&self) -> &Arc<PredictiveModels> {
        &self.models
    }
}

/// A factors function over `models`.
pub fn factors_udf(models: Arc<PredictiveModels>, kind: FactorsKind) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(Factors {
        models,
        kind,
        signature: Signature::variadic_any(Volatility::Immutable),
    }))
}

fn entry_fields() -> Fields {
    Fields::from(vec![
        Field::new("feature", DataType::Utf8, false),
        Field::new("contribution", DataType::Float64, false),
    ])
}

/// Contributions per row: `(feature names, rows of contributions)`.
fn contributions(model: &PredictiveModel, matrix: &[f64]) -> Vec<Vec<f64>> {
    let w = model.pipeline.width().max(1);
    matrix
        .chunks_exact(w)
        .map(|row| model.feature_contributions(row))
        .collect()
}

/// Text summary of one row's contributions.
pub fn top_text(names: &[&str], contributions: &[f64]) -> String {
    let mut order: Vec<usize> = (0..contributions.len()).collect();
    order.sort_by(|&a, &b| contributions[b].total_cmp(&contributions[a]));
    let positive = order.iter().filter(|&&i| contributions[i] > 1e-9).take(3);
    let negative = order
        .iter()
        .rev()
        .filter(|&&i| contributions[i] < -1e-9)
        .take(2);
    positive
        .map(|&i| format!("+{} {:.2}", names[i], contributions[i]))
        .chain(negative.map(|&i| format!("-{} {:.2}", names[i], -contributions[i])))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ScalarUDFImpl for Factors {
    fn name(&self) -> &str {
        match self.kind {
            FactorsKind::List => prediction_factors::NAME,
            FactorsKind::Top => top_factors::NAME,
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.len() < 2 {
            return plan_err!(
                "{} expects (model, feature_1, …, feature_n), got {} arguments",
                self.name(),
                arg_types.len()
            );
        }
        Ok(match self.kind {
            FactorsKind::List => DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(entry_fields()),
                true,
            ))),
            FactorsKind::Top => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = self.name();
        let model = model_argument(&self.models, name, &args.args[0])?;
        let columns = feature_columns(&model, name, &args.args[1..], args.number_rows)?;
        let matrix = model
            .pipeline
            .transform(&columns)
            .map_err(|e| exec_datafusion_err!("{name}: {e}"))?;
        let names: Vec<&str> = model
            .pipeline
            .features
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        let rows = contributions(&model, &matrix);
        let array: ArrayRef = match self.kind {
            FactorsKind::Top => Arc::new(
                rows.iter()
                    .map(|c| Some(top_text(&names, c)))
                    .collect::<StringArray>(),
            ),
            FactorsKind::List => {
                let fields = entry_fields();
                let entry = StructBuilder::new(
                    fields.clone(),
                    vec![
                        Box::new(StringBuilder::new()),
                        Box::new(Float64Builder::new()),
                    ],
                );
                let mut list = ListBuilder::new(entry).with_field(Arc::new(Field::new(
                    "item",
                    DataType::Struct(fields),
                    true,
                )));
                for c in &rows {
                    let values = list.values();
                    for (feature, value) in names
                        .iter()
                        .copied()
                        .zip(c.iter().copied())
                        .chain(std::iter::once((model.baseline_name(), model.intercept())))
                    {
                        values
                            .field_builder::<StringBuilder>(0)
                            .ok_or_else(|| exec_datafusion_err!("{name}: builder"))?
                            .append_value(feature);
                        values
                            .field_builder::<Float64Builder>(1)
                            .ok_or_else(|| exec_datafusion_err!("{name}: builder"))?
                            .append_value(value);
                        values.append(true);
                    }
                    list.append(true);
                }
                Arc::new(list.finish())
            }
        };
        Ok(ColumnarValue::Array(array))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.kind {
            FactorsKind::List => &prediction_factors::DOC,
            FactorsKind::Top => &top_factors::DOC,
        })
    }
}
