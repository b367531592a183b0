//! What is known about trained models: `model_evaluation(name)`,
//! `model_features(name)` and `show_models()`.
//!
//! ```sql
//! SELECT metric, value FROM model_evaluation('conversion');
//! SELECT feature, weight FROM model_features('conversion') ORDER BY abs(weight) DESC;
//! SELECT * FROM show_models();
//! ```

use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_datafusion_err, plan_err};
use leadql_models::predictive::{Estimator, PredictiveModel};

use super::registry::PredictiveModels;
use crate::args;
use crate::scoring::common::state;

/// Which listing a [`ModelInfo`] function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoKind {
    /// `model_evaluation(name)`.
    Evaluation,
    /// `model_features(name)`.
    Features,
    /// `show_models()`.
    Models,
}

/// The `model_evaluation`, `model_features` and `show_models` table functions.
#[derive(Debug)]
pub struct ModelInfo {
    models: Arc<PredictiveModels>,
    kind: InfoKind,
}

impl ModelInfo {
    /// A listing of `kind` over `models`.
    pub fn new(models: Arc<PredictiveModels>, kind: InfoKind) -> Self {
        ModelInfo { models, kind }
    }
}

fn table(schema: SchemaRef, batch: RecordBatch) -> Result<Arc<dyn TableProvider>> {
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

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

fn models(
    all: &[PredictiveModel],
    active: &std::collections::HashMap<String, u32>,
) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("active", DataType::Boolean, false),
        Field::new("horizon_days", DataType::Float64, true),
        Field::new(
            "known_until",
            DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, None),
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
            Arc::new(datafusion::arrow::array::BooleanArray::from(
                all.iter()
                    .map(|m| active.get(&m.name) == Some(&m.version))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                all.iter()
                    .map(|m| m.options.horizon_days)
                    .collect::<Vec<_>>(),
            )),
            Arc::new(datafusion::arrow::array::TimestampMicrosecondArray::from(
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

impl TableFunctionImpl for ModelInfo {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(fargs.session())?;
        let exprs = fargs.exprs();
        let function = match self.kind {
            InfoKind::Evaluation => "model_evaluation",
            InfoKind::Features => "model_features",
            InfoKind::Models => "show_models",
        };
        if self.kind == InfoKind::Models {
            if !exprs.is_empty() {
                return plan_err!("show_models takes no arguments");
            }
            let all = self
                .models
                .store()
                .all()
                .map_err(|e| plan_datafusion_err!("show_models: {e}"))?;
            let mut active = std::collections::HashMap::new();
            for m in &all {
                if !active.contains_key(&m.name) {
                    let v = self
                        .models
                        .store()
                        .active(&m.name)
                        .map_err(|e| plan_datafusion_err!("show_models: {e}"))?
                        .version;
                    active.insert(m.name.clone(), v);
                }
            }
            return models(&all, &active);
        }
        if exprs.len() != 1 {
            return plan_err!("{function} expects (model), got {} arguments", exprs.len());
        }
        let name = args::string(state, function, "model", &exprs[0])?;
        let m = self.models.get(function, &name)?;
        match self.kind {
            InfoKind::Evaluation => evaluation(&m),
            _ => features(&m),
        }
    }
}
