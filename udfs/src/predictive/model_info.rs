//! The shape of the model-information table functions (`model_evaluation`,
//! `model_features`): one model argument in, a small in-memory table about it out.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use leadql_models::predictive::PredictiveModel;

use super::registry::PredictiveModels;
use crate::args;
use crate::scoring::common::state;

/// A table function `name(model)` returning `table` of the model.
#[derive(Debug)]
pub struct ModelInfo {
    models: Arc<PredictiveModels>,
    name: &'static str,
    table: fn(&PredictiveModel) -> Result<Arc<dyn TableProvider>>,
}

impl ModelInfo {
    /// The function `name` over `models`.
    pub fn new(
        models: Arc<PredictiveModels>,
        name: &'static str,
        table: fn(&PredictiveModel) -> Result<Arc<dyn TableProvider>>,
    ) -> Self {
        ModelInfo {
            models,
            name,
            table,
        }
    }
}

impl TableFunctionImpl for ModelInfo {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        (self.table)(&*model(&self.models, self.name, &fargs)?)
    }
}

/// The model named by the one argument `(model)` of `function`.
fn model(
    models: &PredictiveModels,
    function: &str,
    fargs: &TableFunctionArgs,
) -> Result<Arc<PredictiveModel>> {
    let state = state(fargs.session())?;
    let exprs = fargs.exprs();
    if exprs.len() != 1 {
        return plan_err!("{function} expects (model), got {} arguments", exprs.len());
    }
    let name = args::string(state, function, "model", &exprs[0])?;
    models.get(function, &name)
}

/// `batch` as a table.
pub fn table(schema: SchemaRef, batch: RecordBatch) -> Result<Arc<dyn TableProvider>> {
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}
