//! What the model-information table functions share: reading their one model
//! argument and returning a small in-memory table.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{MemTable, TableFunctionArgs, TableProvider};
use datafusion::common::{Result, plan_err};
use leadql_models::predictive::PredictiveModel;

use super::registry::PredictiveModels;
use crate::args;
use crate::scoring::common::state;

/// The model named by the one argument `(model)` of `function`.
pub fn model(
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
