//! The client's query planner in cluster mode: Ballista's, after leadql's table
//! functions are made sendable.
//!
//! Table functions expand on the client. Most (`score_leads`, `qualify_leads`,
//! `predict`, …) already expand into plans over the workspace's Parquet tables while
//! SQL is planned, and those plans run on the cluster. The few that compute their rows
//! in leadql itself (training a model, `evaluate_scoring`, `lead_duplicates`,
//! backtests: [`DeferredTable`]) are computed here, on the client, when the query
//! runs; the queries they run go to the cluster like any other, and their rows go
//! to the cluster as an in-memory table inside the plan, or as Parquet in the shared
//! workspace when they are larger ([`super::scratch`]). A table the cluster cannot read is an error
//! naming it (see [`super::codec`]), never a silent local run.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{MemTable, Session, TableProvider};
use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNodeRecursion};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use leadql_udfs::deferred::DeferredTable;

/// Ballista's planner (`inner`) behind leadql's preparation of the plan.
pub struct ClusterPlanner {
    /// The planner that sends plans to the cluster.
    pub inner: Arc<dyn QueryPlanner + Send + Sync>,
    /// The local session the cluster session was made from, kept alive: file paths
    /// used as tables (`SELECT * FROM 'x.parquet'`) are resolved in it.
    pub local: datafusion::prelude::SessionContext,
    /// Where in-memory tables too large to travel inside the plan are written.
    pub scratch: super::scratch::Scratch,
}

impl std::fmt::Debug for ClusterPlanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterPlanner")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl QueryPlanner for ClusterPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = materialize_deferred(logical_plan, session).await?;
        let plan = empty_relations_as_tables(plan)?;
        let (plan, files) = super::scratch::spill(plan, &self.scratch).await?;
        let physical = self.inner.create_physical_plan(&plan, session).await?;
        Ok(match files {
            Some(files) => super::scratch::WithFiles::new(physical, files),
            None => physical,
        })
    }
}

/// `plan` with a root relation of no rows (`SELECT … WHERE false`, a filter the
/// optimizer proved empty) as a scan of an empty in-memory table, projected to the
/// relation's (qualified) columns: Ballista 55's client plans a bare empty relation at
/// the root as an empty plan without columns, and the result lost its schema. (Empty
/// relations inside a plan are planned by the scheduler, with their columns.) The
/// table's columns are named `c0, c1, …`: the relation may have the same name twice
/// under different qualifiers (`l.lead_id`, `s.lead_id`).
pub fn empty_relations_as_tables(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col};
    let LogicalPlan::EmptyRelation(empty) = &plan else {
        return Ok(plan);
    };
    if empty.produce_one_row {
        return Ok(plan);
    }
    let fields: Vec<Field> = empty
        .schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| f.as_ref().clone().with_name(format!("c{i}")))
        .collect();
    let table = Arc::new(MemTable::try_new(
        Arc::new(Schema::new(fields)),
        vec![vec![]],
    )?);
    let columns: Vec<Expr> = empty
        .schema
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            col(format!("c{i}")).alias_qualified(qualifier.cloned(), field.name())
        })
        .collect();
    LogicalPlanBuilder::scan("__empty", provider_as_source(table), None)?
        .project(columns)?
        .build()
}

/// `plan` with every table computed by leadql when read replaced by its rows.
pub async fn materialize_deferred(
    plan: &LogicalPlan,
    session: &dyn Session,
) -> Result<LogicalPlan> {
    let mut deferred: Vec<Arc<dyn TableProvider>> = Vec::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node
            && let Ok(provider) = source_as_provider(&scan.source)
            && provider.is::<DeferredTable>()
            && !deferred.iter().any(|d| Arc::ptr_eq(d, &provider))
        {
            deferred.push(provider);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    if deferred.is_empty() {
        return Ok(plan.clone());
    }
    let mut computed: Vec<(Arc<dyn TableProvider>, Arc<dyn TableProvider>)> = Vec::new();
    for provider in deferred {
        let Some(table) = provider.downcast_ref::<DeferredTable>() else {
            continue;
        };
        let partitions = table.partitions(session).await?;
        let rows: Arc<dyn TableProvider> =
            Arc::new(MemTable::try_new(table.schema(), (*partitions).clone())?);
        computed.push((provider, rows));
    }
    plan.clone()
        .transform_up_with_subqueries(|node| match node {
            LogicalPlan::TableScan(mut scan) => {
                let replacement = source_as_provider(&scan.source).ok().and_then(|p| {
                    computed
                        .iter()
                        .find(|(d, _)| Arc::ptr_eq(d, &p))
                        .map(|(_, rows)| rows.clone())
                });
                match replacement {
                    Some(rows) => {
                        scan.source = provider_as_source(rows);
                        Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
                    }
                    None => Ok(Transformed::no(LogicalPlan::TableScan(scan))),
                }
            }
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
}
