//! Running SQL text: split it into statements, plan and execute each, and turn
//! DataFusion's errors into leadql's (syntax errors with their position, unknown tables
//! with the list of known ones).
//!
//! This is the statement layer every front end (`leadql sql`, `leadql shell`) goes
//! through, so statements DataFusion does not know (such as `CREATE MODEL`) can be
//! routed here before DataFusion plans the rest.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::dataframe::DataFrame;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{CopyToSource, DFParserBuilder, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::sql::sqlparser::tokenizer::Token;

use leadql_udfs::{predictive, statements};

use crate::error::{Error, Result};

/// A statement: DataFusion's, or one of leadql's own, which run through their
/// table-function forms (documented in [`leadql_udfs::statements`]).
#[derive(Debug)]
pub enum Statement {
    /// Any statement DataFusion plans.
    DataFusion(Box<DfStatement>),
    /// `CREATE MODEL name OPTIONS (k = v, …) AS query`.
    CreateModel {
        /// Model name.
        name: String,
        /// Options as written.
        options: Vec<(String, String)>,
        /// The training query.
        query: String,
    },
    /// `SHOW MODELS`.
    ShowModels,
    /// `DROP MODEL [IF EXISTS] name`.
    DropModel {
        /// Model name.
        name: String,
        /// Whether a missing model is fine.
        if_exists: bool,
    },
}

fn is_word(t: &Token, word: &str) -> bool {
    matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case(word))
}

fn syntax(e: ParserError) -> Error {
    let msg = e.to_string();
    Error::SqlSyntax(
        msg.strip_prefix("sql parser error: ")
            .unwrap_or(&msg)
            .to_string(),
    )
}

/// Deepest expression nesting a statement may have. Every operator of a chain such as
/// `1 + 1 + … + 1` or `a OR b OR …` nests one level, and planning and optimising recurse
/// (and slow down more than linearly) with the depth; deeper statements are refused
/// before planning. Long lists of values belong in `IN (…)`, which does not nest.
pub const MAX_EXPRESSION_DEPTH: usize = 1000;

/// Stops at the first expression nested deeper than [`MAX_EXPRESSION_DEPTH`].
struct DepthCheck {
    depth: usize,
}

impl Visitor for DepthCheck {
    type Break = ();

    fn pre_visit_expr(&mut self, _expr: &SqlExpr) -> ControlFlow<()> {
        self.depth += 1;
        if self.depth > MAX_EXPRESSION_DEPTH {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn post_visit_expr(&mut self, _expr: &SqlExpr) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

/// An error if `node` nests expressions deeper than [`MAX_EXPRESSION_DEPTH`].
fn check_depth(node: &impl Visit) -> Result<()> {
    if node.visit(&mut DepthCheck { depth: 0 }).is_break() {
        return Err(Error::Query(format!(
            "SQL expression nested too deeply: more than {MAX_EXPRESSION_DEPTH} levels (each operator of a chain such as 1 + 1 + … or a OR b OR … is one level); use IN (…) for a long list of values, or split the expression"
        )));
    }
    Ok(())
}

/// [`check_depth`] for the parts of a DataFusion statement that hold expressions.
fn check_statement_depth(statement: &DfStatement) -> Result<()> {
    match statement {
        DfStatement::Statement(s) => check_depth(s.as_ref()),
        DfStatement::Explain(e) => check_statement_depth(&e.statement),
        DfStatement::CopyTo(c) => match &c.source {
            CopyToSource::Query(q) => check_depth(q.as_ref()),
            CopyToSource::Relation(_) => Ok(()),
        },
        DfStatement::CreateExternalTable(_) | DfStatement::Reset(_) => Ok(()),
    }
}

/// Parses `text` into statements (an empty text has none). A statement nesting
/// expressions deeper than [`MAX_EXPRESSION_DEPTH`] is an error.
pub fn parse(text: &str) -> Result<VecDeque<Statement>> {
    let dialect = GenericDialect {};
    let mut df = DFParserBuilder::new(text).with_dialect(&dialect).build()?;
    let mut out = VecDeque::new();
    loop {
        while df.parser.consume_token(&Token::SemiColon) {}
        let first = df.parser.peek_nth_token(0).token;
        if first == Token::EOF {
            break;
        }
        let second = df.parser.peek_nth_token(1).token;
        let statement = if is_word(&first, "create") && is_word(&second, "model") {
            df.parser.next_token();
            df.parser.next_token();
            let name = df.parser.parse_identifier().map_err(syntax)?.value;
            let mut options = Vec::new();
            if df.parser.parse_keyword(Keyword::OPTIONS) {
                df.parser.expect_token(&Token::LParen).map_err(syntax)?;
                // The same parser as train_model's options argument: values are SQL
                // literals (a comma inside quotes is part of the value), keys unique.
                options = leadql_udfs::predictive::options::parse_option_list(&mut df.parser)?;
                df.parser.expect_token(&Token::RParen).map_err(syntax)?;
            }
            if !df.parser.parse_keyword(Keyword::AS) {
                return Err(Error::SqlSyntax(format!(
                    "CREATE MODEL {name}: expected AS SELECT … after the options"
                )));
            }
            let query = df.parser.parse_query().map_err(syntax)?;
            check_depth(query.as_ref())?;
            let query = query.to_string();
            Statement::CreateModel {
                name,
                options,
                query,
            }
        } else if is_word(&first, "show") && is_word(&second, "models") {
            df.parser.next_token();
            df.parser.next_token();
            Statement::ShowModels
        } else if is_word(&first, "drop") && is_word(&second, "model") {
            df.parser.next_token();
            df.parser.next_token();
            let if_exists = df.parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
            let name = df.parser.parse_identifier().map_err(syntax)?.value;
            Statement::DropModel { name, if_exists }
        } else {
            let statement = df.parse_statement()?;
            check_statement_depth(&statement)?;
            Statement::DataFusion(Box::new(statement))
        };
        out.push_back(statement);
        let next = df.parser.peek_token().token;
        if next != Token::EOF && next != Token::SemiColon {
            return Err(Error::SqlSyntax(format!(
                "expected ';' or the end of the input, found {next}"
            )));
        }
    }
    Ok(out)
}

/// The SQL (over leadql's table functions) that runs one of leadql's own statements.
pub fn rewrite(statement: &Statement) -> Option<String> {
    match statement {
        Statement::DataFusion(_) => None,
        Statement::CreateModel {
            name,
            options,
            query,
        } => Some(statements::create_model::sql(name, options, query)),
        Statement::ShowModels => Some(statements::show_models::sql()),
        Statement::DropModel { name, if_exists } => {
            Some(statements::drop_model::sql(name, *if_exists))
        }
    }
}

/// Whether a statement trains or drops a model (`CREATE MODEL`, `DROP MODEL`, or a
/// query calling `train_model`/`drop_model`), which writes to the workspace.
pub fn writes_models(statement: &Statement) -> bool {
    match statement {
        Statement::CreateModel { .. } | Statement::DropModel { .. } => true,
        Statement::ShowModels => false,
        Statement::DataFusion(s) => {
            let text = s.to_string().to_ascii_lowercase();
            text.contains(predictive::train::NAME) || text.contains(predictive::drop_model::NAME)
        }
    }
}

/// Plans one statement and returns it as a DataFrame (DDL such as `CREATE VIEW` takes
/// effect here).
pub async fn plan(ctx: &SessionContext, statement: Statement) -> Result<DataFrame> {
    if writes_models(&statement) {
        // Trained or dropped under the workspace's write lock, so run now and hand
        // back the (small) result.
        let _lock = crate::lock::session_write_lock(ctx)?;
        let frame = match rewrite(&statement) {
            Some(sql) => ctx.sql(&sql).await,
            None => match statement {
                Statement::DataFusion(s) => {
                    ctx.execute_logical_plan(
                        ctx.state()
                            .statement_to_plan(*s)
                            .await
                            .map_err(|e| explain(ctx, e))?,
                    )
                    .await
                }
                _ => return Err(Error::Query("internal: unrouted statement".into())),
            },
        }
        .map_err(|e| explain(ctx, e))?;
        let schema = frame.schema().as_arrow().clone();
        let batches = frame.collect().await.map_err(|e| explain(ctx, e))?;
        let batch = datafusion::arrow::compute::concat_batches(&Arc::new(schema), &batches)
            .map_err(|e| Error::Query(e.to_string()))?;
        return ctx.read_batch(batch).map_err(|e| explain(ctx, e));
    }
    let statement = match rewrite(&statement) {
        Some(sql) => return ctx.sql(&sql).await.map_err(|e| explain(ctx, e)),
        None => match statement {
            Statement::DataFusion(s) => *s,
            _ => return Err(Error::Query("internal: unrouted statement".into())),
        },
    };
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
        // A quoted path or URL used as a table that nothing could be read from.
        let quoted = msg
            .strip_prefix("table '")
            .and_then(|r| r.split_once("' not found"))
            .map(|(full, _)| full.trim_start_matches("datafusion.public."));
        if let Some(path) = quoted.filter(|p| p.contains('/')) {
            let hint = if path.contains("://") {
                " (check the bucket and the path; credentials and endpoint come from the AWS_* environment variables)"
            } else {
                ""
            };
            return Error::Query(format!(
                "nothing readable at '{path}': no Parquet, CSV, JSON or Arrow file or folder of them{hint}"
            ));
        }
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
    fn model_statements_are_recognised() {
        let s = parse("CREATE MODEL conversion OPTIONS (model_type = 'logistic_reg', label = 'y', l2 = 0.5) AS SELECT a, y FROM t; SHOW MODELS; DROP MODEL IF EXISTS conversion").expect("parse");
        assert_eq!(s.len(), 3);
        match &s[0] {
            Statement::CreateModel {
                name,
                options,
                query,
            } => {
                assert_eq!(name, "conversion");
                assert_eq!(options[2], ("l2".to_string(), "0.5".to_string()));
                assert_eq!(query, "SELECT a, y FROM t");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(s[1], Statement::ShowModels));
        assert!(
            matches!(&s[2], Statement::DropModel { name, if_exists: true } if name == "conversion")
        );
        let e = parse("CREATE MODEL m OPTIONS (label = 'y') SELECT 1").expect_err("no AS");
        assert!(e.to_string().contains("expected AS SELECT"), "{e}");
    }

    #[test]
    fn every_catalogued_statement_is_parsed_here() {
        use leadql_udfs::catalogue::{CATALOGUE, Kind, example_statements};
        for entry in CATALOGUE.iter().filter(|e| e.kind == Kind::Statement) {
            let example = (entry.documentation)()
                .sql_example
                .clone()
                .unwrap_or_default();
            let statements: Vec<String> = example_statements(&example)
                .into_iter()
                .map(|(sql, _)| sql)
                .filter(|sql| sql.to_ascii_uppercase().starts_with(entry.name))
                .collect();
            assert!(!statements.is_empty(), "{}: no example", entry.name);
            for sql in statements {
                let parsed = parse(&sql).expect("parses");
                assert!(
                    !matches!(parsed[0], Statement::DataFusion(_)),
                    "{}: '{sql}' is left to DataFusion",
                    entry.name
                );
            }
        }
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
