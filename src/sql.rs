//! Running SQL text: split it into statements, plan and execute each, and turn
//! DataFusion's errors into leadql's (syntax errors with their position, unknown tables
//! with the list of known ones).
//!
//! This is the statement layer every front end (`leadql sql`, `leadql shell`) goes
//! through, so statements DataFusion does not know (such as `CREATE MODEL`) can be
//! routed here before DataFusion plans the rest.

use std::collections::VecDeque;

use datafusion::dataframe::DataFrame;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::error::{Error, Result};

/// Parses `text` into statements (an empty text has none).
pub fn parse(text: &str) -> Result<VecDeque<Statement>> {
    let dialect = GenericDialect {};
    let mut parser = DFParserBuilder::new(text).with_dialect(&dialect).build()?;
    Ok(parser.parse_statements()?)
}

/// Plans one statement and returns it as a DataFrame (DDL such as `CREATE VIEW` takes
/// effect here).
pub async fn plan(ctx: &SessionContext, statement: Statement) -> Result<DataFrame> {
    let state = ctx.state();
    let plan = state
        .statement_to_plan(statement)
        .await
        .map_err(|e| explain(ctx, e))?;
    ctx.execute_logical_plan(plan)
        .await
        .map_err(|e| explain(ctx, e))
}

/// Plans and starts one statement, returning its result stream.
pub async fn stream(
    ctx: &SessionContext,
    statement: Statement,
) -> Result<SendableRecordBatchStream> {
    let df = plan(ctx, statement).await?;
    df.execute_stream().await.map_err(|e| explain(ctx, e))
}

/// Converts a DataFusion error, naming the known tables when a table is unknown.
pub fn explain(ctx: &SessionContext, e: datafusion::error::DataFusionError) -> Error {
    let err = Error::from(e);
    if let Error::Query(msg) = &err
        && let Some(name) = unknown_table(msg)
    {
        return Error::UnknownTable {
            name,
            known: table_names(ctx).join(", "),
        };
    }
    err
}

/// The table name in DataFusion's "table '…' not found" message.
fn unknown_table(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("table '")?;
    let end = rest.find("' not found")?;
    let full = &rest[..end];
    Some(full.rsplit('.').next().unwrap_or(full).to_string())
}

/// The tables and views of the default schema, sorted.
pub fn table_names(ctx: &SessionContext) -> Vec<String> {
    let mut names = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_statements_split() {
        let s = parse("CREATE VIEW v AS SELECT 1; SELECT * FROM v;").expect("parse");
        assert_eq!(s.len(), 2);
        assert!(parse("   ").expect("empty").is_empty());
    }

    #[test]
    fn syntax_errors_say_where() {
        let e = parse("SELEC 1").expect_err("syntax");
        let msg = e.to_string();
        assert!(msg.starts_with("SQL syntax error: "), "{msg}");
        assert!(msg.contains("Line: 1"), "{msg}");
    }

    #[tokio::test]
    async fn unknown_tables_list_the_known_ones() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE VIEW leads AS SELECT 1 AS lead_id")
            .await
            .expect("view");
        let mut st = parse("SELECT * FROM nope").expect("parse");
        let e = plan(&ctx, st.pop_front().expect("one"))
            .await
            .expect_err("unknown");
        assert_eq!(e.to_string(), "unknown table 'nope' (tables: leads)");
    }
}
