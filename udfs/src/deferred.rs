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

/// Computes every partition of a [`CachedTable`] from the scanning session.
pub type ComputeAll = Box<
    dyn for<'a> Fn(&'a SessionState) -> BoxFuture<'a, Result<Vec<Vec<RecordBatch>>>> + Send + Sync,
>;

/// A relation computed on its first scan and kept for the later ones: for an
/// intermediate result that one plan reads several times (the `(lead, instant)` pairs
/// of a point-in-time plan) and that would otherwise be recomputed at every read.
/// Nothing runs while the query is only planned (or its schema asked for); the kept
/// batches live as long as the plan, outside the memory pool, so this is for small
/// relations.
pub struct CachedTable {
    schema: SchemaRef,
    compute: ComputeAll,
    kept: futures::lock::Mutex<Option<Arc<Vec<Vec<RecordBatch>>>>>,
}

impl CachedTable {
    /// A relation of `schema` that `compute` fills on the first scan.
    pub fn new(schema: SchemaRef, compute: ComputeAll) -> Arc<Self> {
        Arc::new(CachedTable {
            schema,
            compute,
            kept: futures::lock::Mutex::new(None),
        })
    }
}

impl fmt::Debug for CachedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedTable")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl TableProvider for CachedTable {
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
        let partitions = {
            let mut kept = self.kept.lock().await;
            match kept.as_ref() {
                Some(p) => p.clone(),
                None => {
                    let p = Arc::new((self.compute)(state(session)?).await?);
                    *kept = Some(p.clone());
                    p
                }
            }
        };
        MemTable::try_new(self.schema.clone(), (*partitions).clone())?
            .scan(session, projection, filters, limit)
            .await
    }
}
