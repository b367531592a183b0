//! Table functions whose result is computed when read, not when planned: training a
//! model, dropping one, evaluating a rule model, the `(lead, instant)` pairs a
//! point-in-time plan reads several times. Planning (and asking for the schema) stays
//! free of side effects and work; the work runs when the query executes, once per
//! query however many times its plan scans the table.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{MemTable, Session, TableProvider};
use datafusion::common::Result;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use futures::future::BoxFuture;

use crate::scoring::common::state;

/// Computes the table's rows (one batch) in the caller's session.
pub type Compute =
    Box<dyn for<'a> Fn(&'a SessionState) -> BoxFuture<'a, Result<RecordBatch>> + Send + Sync>;

/// Computes the table's partitions in the caller's session.
pub type ComputePartitions = Box<
    dyn for<'a> Fn(&'a SessionState) -> BoxFuture<'a, Result<Vec<Vec<RecordBatch>>>> + Send + Sync,
>;

/// Partitions kept for the query that started at the instant.
type Kept = Option<(DateTime<Utc>, Arc<Vec<Vec<RecordBatch>>>)>;

/// A table computed at scan time. The result is kept for the other scans of the same
/// query (a plan that reads it several times computes it once) and recomputed by a
/// later query (a view over it sees the workspace as it is then). The kept batches live
/// outside the memory pool, so this is for results of modest size.
pub struct DeferredTable {
    schema: SchemaRef,
    compute: ComputePartitions,
    /// The start of the query that computed the kept partitions, and the partitions.
    kept: futures::lock::Mutex<Kept>,
}

impl DeferredTable {
    /// A table of `schema` whose single batch `compute` produces.
    pub fn new(schema: SchemaRef, compute: Compute) -> Arc<Self> {
        let compute = Arc::new(compute);
        Self::partitioned(
            schema,
            Box::new(move |state| {
                let compute = compute.clone();
                Box::pin(async move { Ok(vec![vec![compute(state).await?]]) })
            }),
        )
    }

    /// A table of `schema` whose partitions `compute` produces.
    pub fn partitioned(schema: SchemaRef, compute: ComputePartitions) -> Arc<Self> {
        Arc::new(DeferredTable {
            schema,
            compute,
            kept: futures::lock::Mutex::new(None),
        })
    }
}

impl fmt::Debug for DeferredTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredTable")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl DeferredTable {
    /// The table's partitions for the query `session` runs: computed now, or kept
    /// from an earlier scan of the same query. A cluster's client calls this to send
    /// the rows along with the plan (the computation, such as training, runs here;
    /// the queries it runs go to the cluster like any other).
    pub async fn partitions(&self, session: &dyn Session) -> Result<Arc<Vec<Vec<RecordBatch>>>> {
        // Every query's session state is stamped with the instant the query started.
        let query = session.execution_props().query_execution_start_time;
        let mut kept = self.kept.lock().await;
        match (kept.as_ref(), query) {
            (Some((at, partitions)), Some(query)) if *at == query => Ok(partitions.clone()),
            _ => {
                let partitions = Arc::new((self.compute)(state(session)?).await?);
                *kept = query.map(|q| (q, partitions.clone()));
                Ok(partitions)
            }
        }
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
        let partitions = self.partitions(session).await?;
        MemTable::try_new(self.schema.clone(), (*partitions).clone())?
            .scan(session, projection, filters, limit)
            .await
    }
}
