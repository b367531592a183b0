//! Table functions whose result is computed when read, not when planned: training a
//! model, dropping one, evaluating a rule model. Planning (and `EXPLAIN`) stays free of
//! side effects; the work runs once, when the query executes.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{MemTable, Session, TableProvider};
use datafusion::common::Result;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use futures::future::BoxFuture;

use crate::scoring::common::state;

/// Computes the table's rows in the caller's session.
pub type Compute =
    Box<dyn for<'a> Fn(&'a SessionState) -> BoxFuture<'a, Result<RecordBatch>> + Send + Sync>;

/// A table whose single batch is computed at scan time.
pub struct DeferredTable {
    schema: SchemaRef,
    compute: Compute,
}

impl DeferredTable {
    /// A table of `schema` whose rows `compute` produces.
    pub fn new(schema: SchemaRef, compute: Compute) -> Arc<Self> {
        Arc::new(DeferredTable { schema, compute })
    }
}

impl fmt::Debug for DeferredTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredTable")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TableProvider for DeferredTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
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
        let batch = (self.compute)(state(session)?).await?;
        MemTable::try_new(self.schema.clone(), vec![vec![batch]])?
            .scan(session, projection, filters, limit)
            .await
    }
}
