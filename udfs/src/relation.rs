//! Reading the caller's tables from inside a function call.

use datafusion::catalog::TableFunctionArgs;
use datafusion::common::{Result, TableReference, plan_datafusion_err};
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// The table or view `name` of the caller's session, as a DataFrame.
///
/// Catalog lookups are async in DataFusion but resolve immediately for in-memory
/// schemas (the default), so they are awaited in place.
pub fn table(state: &SessionState, name: &str) -> Result<DataFrame> {
    let reference = TableReference::bare(name);
    let schema = state.schema_for_ref(reference.clone())?;
    let provider = futures::executor::block_on(schema.table(name))?
        .ok_or_else(|| plan_datafusion_err!("no table or view named '{name}' in the session"))?;
    let plan = LogicalPlanBuilder::scan(
        reference,
        datafusion::datasource::provider_as_source(provider),
        None,
    )?
    .build()?;
    Ok(DataFrame::new(state.clone(), plan))
}

/// The table function `name` called with `args` in the caller's session, as a
/// DataFrame: what `SELECT * FROM name(args…)` plans, built without SQL text.
pub fn function(state: &SessionState, name: &str, args: &[Expr]) -> Result<DataFrame> {
    let function = state
        .table_functions()
        .get(name)
        .ok_or_else(|| plan_datafusion_err!("no table function named '{name}' in the session"))?;
    let provider = function.create_table_provider_with_args(TableFunctionArgs::new(args, state))?;
    let plan = LogicalPlanBuilder::scan(
        TableReference::bare(name),
        datafusion::datasource::provider_as_source(provider),
        None,
    )?
    .build()?;
    Ok(DataFrame::new(state.clone(), plan))
}

/// Plans SQL text in the caller's session from inside a table function. The text must
/// be a query: a table function's SQL argument never writes (`COPY … TO`, `INSERT`),
/// creates or drops anything, or changes settings.
pub fn plan_sql(state: &SessionState, function: &str, text: &str) -> Result<LogicalPlan> {
    let plan = on_helper_thread(function, state.create_logical_plan(text))?;
    read_only(&plan, function)?;
    Ok(plan)
}

/// An error unless `plan` only reads: no DDL, no DML or `COPY`, no statements such as
/// `SET` (what a query given to `function` as text may not do).
pub fn read_only(plan: &LogicalPlan, function: &str) -> Result<()> {
    datafusion::execution::context::SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(plan)
        .map_err(|e| {
            datafusion::common::plan_datafusion_err!(
                "{function}: the query must only read (a SELECT): {}",
                e.find_root()
            )
        })
}

/// Runs `work` to completion on a helper thread with its own executor: a table
/// function is called inside SQL planning (possibly inside `block_on`), and nested
/// table functions block on catalog lookups themselves.
fn on_helper_thread<T: Send>(
    function: &str,
    work: impl std::future::Future<Output = Result<T>> + Send,
) -> Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .map_err(|e| plan_datafusion_err!("{function}: {e}"))?;
                runtime.block_on(work)
            })
            .join()
            .unwrap_or_else(|_| {
                Err(plan_datafusion_err!(
                    "{function}: the helper thread panicked"
                ))
            })
    })
}
