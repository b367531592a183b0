//! `drop_model(name [, if_exists])`: removes every version of a model (the table form
//! of `DROP MODEL`). Runs when the result is read; returns the versions removed.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{MemTable, Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;

use super::registry::PredictiveModels;
use crate::args;
use crate::scoring::common::state;

/// The `drop_model` table function.
#[derive(Debug)]
pub struct DropModel {
    models: Arc<PredictiveModels>,
}

impl DropModel {
    /// Drops from `models`.
    pub fn new(models: Arc<PredictiveModels>) -> Self {
        DropModel { models }
    }
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("versions_removed", DataType::Int64, false),
    ]))
}

impl TableFunctionImpl for DropModel {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(fargs.session())?;
        let exprs = fargs.exprs();
        if exprs.is_empty() || exprs.len() > 2 {
            return plan_err!(
                "drop_model expects (name [, if_exists]), got {} arguments",
                exprs.len()
            );
        }
        let name = args::string(state, "drop_model", "name", &exprs[0])?;
        let if_exists = match exprs.get(1).map(|e| args::constant(state, e)) {
            None => false,
            Some(Ok(ScalarValue::Boolean(Some(b)))) => b,
            Some(_) => return plan_err!("drop_model: argument if_exists must be true or false"),
        };
        Ok(Arc::new(Dropping {
            models: self.models.clone(),
            name,
            if_exists,
        }))
    }
}

#[derive(Debug)]
struct Dropping {
    models: Arc<PredictiveModels>,
    name: String,
    if_exists: bool,
}

#[async_trait]
impl TableProvider for Dropping {
    fn schema(&self) -> SchemaRef {
        schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        session: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let removed = match self.models.drop_model(&self.name) {
            Ok(n) => n,
            Err(_) if self.if_exists => 0,
            Err(e) => return Err(e),
        };
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(vec![self.name.clone()])),
                Arc::new(Int64Array::from(vec![removed as i64])),
            ],
        )?;
        MemTable::try_new(schema(), vec![vec![batch]])?
            .scan(session, projection, filters, limit)
            .await
    }
}
