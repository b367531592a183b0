//! Statements over the wire: leadql's own query handlers for the simple and the
//! extended protocol.
//!
//! A text is split by leadql's statement parser first, so `CREATE MODEL`, `SHOW MODELS`
//! and `DROP MODEL` are recognised (Postgres' parser rejects them) and rewritten into
//! their table-function forms, exactly as `leadql sql` runs them. Every other statement
//! is read with the Postgres-compatibility parser of `datafusion-postgres`, which
//! rewrites what clients' catalog queries use (`::regclass`, `OPERATOR(pg_catalog.~)`,
//! …). Then, per statement:
//!
//! 1. the role check ([`super::access`]), before anything is planned;
//! 2. the statements clients send about the session (`SET`/`SHOW`, `BEGIN`/`COMMIT`,
//!    `DECLARE`/`FETCH`/`CLOSE` cursors) go to datafusion-postgres' hooks;
//! 3. the rest is planned in the connection's session and streamed back, batch by
//!    batch, until the client's cancel request (SQLSTATE 57014) or the connection's
//!    `statement_timeout` stops it. Statements that train or drop a model run under the
//!    workspace's write lock and are read to the end before the answer.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ParamValues;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::prelude::{Expr, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;
use datafusion_postgres::arrow_pg::datatypes::{
    arrow_schema_to_pg_fields, df, encode_recordbatch, into_pg_type,
};
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::hooks::QueryHook;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use futures::{Sink, StreamExt, stream};
use pgwire::api::portal::{Format, Portal, PortalExecutionState};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DataRowEncoder, DescribePortalResponse, FieldFormat, FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::Execute;
use pgwire::types::format::FormatOptions;

use super::access::{self, Need};
use super::session::{Connection, Refusal};
use crate::error::Error;

/// A prepared statement: its text, and the Postgres statement with its plan (none for
/// statements only DataFusion's own parser reads, such as `COPY … TO`, which run
/// without parameters). The shape is datafusion-postgres', whose cursor hook keeps
/// cursors in the connection's portal store of this type.
pub type Prepared = (String, Option<(Statement, LogicalPlan)>);

/// One statement of a text, ready for the role check.
#[derive(Debug)]
enum Unit {
    /// Read with the Postgres-compatibility parser (leadql's own statements arrive
    /// here rewritten into their table-function forms); the name for messages.
    Pg(Box<Statement>, Option<String>),
    /// Only DataFusion's parser reads it (`COPY … TO`, `CREATE EXTERNAL TABLE`).
    DataFusion(Box<DfStatement>),
}

/// The connection's query service (both protocols).
pub struct Service {
    connection: Arc<Connection>,
    parser: Arc<Parser>,
}

/// Parses texts into statements (shared by both protocols).
pub struct Parser {
    connection: Arc<Connection>,
    pg: PostgresCompatibilityParser,
    hooks: Vec<Arc<dyn QueryHook>>,
}

impl Service {
    /// The service of one connection.
    pub fn new(connection: Arc<Connection>) -> Service {
        let parser = Arc::new(Parser {
            connection: connection.clone(),
            pg: PostgresCompatibilityParser::new(),
            hooks: vec![
                Arc::new(CursorStatementHook),
                Arc::new(SetShowHook),
                Arc::new(TransactionStatementHook),
            ],
        });
        Service { connection, parser }
    }
}

/// The zone a `SET TIME ZONE …`, `SET timezone = …` or `SET SESSION TIMEZONE TO …`
/// names, read as PostgreSQL does: `LOCAL` and `DEFAULT` are UTC, a number is an offset
/// in hours, `utc` in any case is UTC; `None` for other statements.
fn time_zone_of(statement: &Statement) -> Option<Result<String, String>> {
    use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Set, UnaryOperator, Value};
    let value = match statement {
        Statement::Set(Set::SetTimeZone { value, .. }) => value,
        Statement::Set(Set::SingleAssignment {
            variable, values, ..
        }) if variable.0.len() == 1
            && variable
                .to_string()
                .trim_matches('"')
                .eq_ignore_ascii_case("timezone") =>
        {
            match values.as_slice() {
                [v] => v,
                _ => return Some(Err("SET timezone takes one value".into())),
            }
        }
        _ => return None,
    };
    let hours = |n: &str, sign: &str| -> Result<String, String> {
        let h: f64 = n.parse().map_err(|_| format!("\"{sign}{n}\""))?;
        if h.fract() != 0.0 || h.abs() > 15.0 {
            return Err(format!("\"{sign}{n}\""));
        }
        let h = if sign == "-" { -h } else { h };
        Ok(format!(
            "{}{:02}:00",
            if h < 0.0 { "-" } else { "+" },
            h.abs()
        ))
    };
    let zone = match value {
        SqlExpr::Value(v) => match &v.value {
            Value::SingleQuotedString(z) | Value::DoubleQuotedString(z) => Ok(z.clone()),
            Value::Number(n, _) => hours(n, ""),
            other => Err(other.to_string()),
        },
        SqlExpr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            SqlExpr::Value(v) => match &v.value {
                Value::Number(n, _) => hours(n, "-"),
                other => Err(format!("-{other}")),
            },
            other => Err(format!("-{other}")),
        },
        SqlExpr::Identifier(i)
            if i.value.eq_ignore_ascii_case("local") || i.value.eq_ignore_ascii_case("default") =>
        {
            Ok("UTC".into())
        }
        SqlExpr::Identifier(i) => Ok(i.value.clone()),
        other => Err(other.to_string()),
    };
    Some(zone.map(|z| {
        if z.eq_ignore_ascii_case("utc") || z.eq_ignore_ascii_case("gmt") {
            "UTC".into()
        } else {
            z
        }
    }))
}

/// Sets the session's time zone for the `SET` forms of [`time_zone_of`] through
/// DataFusion's own `SET datafusion.execution.time_zone` (so that `now()` follows), after
/// checking the zone: an unknown one is refused with 22023 and changes nothing (the stock
/// hook would answer `SET` and keep any string).
async fn set_time_zone(
    ctx: &SessionContext,
    statement: &Statement,
) -> Option<PgWireResult<Response>> {
    use datafusion::sql::sqlparser::ast::{Ident, ObjectName, Set, Value};
    let invalid = |z: &str| {
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".into(),
            "22023".into(),
            format!("invalid value for parameter \"TimeZone\": {z}"),
        )))
    };
    let zone = match time_zone_of(statement)? {
        Ok(z) => z,
        Err(shown) => return Some(Err(invalid(&shown))),
    };
    if zone
        .parse::<datafusion::arrow::array::timezone::Tz>()
        .is_err()
    {
        return Some(Err(invalid(&format!("\"{zone}\""))));
    }
    let set = Statement::Set(Set::SingleAssignment {
        scope: None,
        hivevar: false,
        variable: ObjectName::from(vec![
            Ident::new("datafusion"),
            Ident::new("execution"),
            Ident::new("time_zone"),
        ]),
        values: vec![datafusion::sql::sqlparser::ast::Expr::Value(
            Value::SingleQuotedString(zone).into(),
        )],
    });
    let result = async {
        let plan = ctx
            .state()
            .statement_to_plan(DfStatement::Statement(Box::new(set)))
            .await
            .map_err(|e| datafusion_error(ctx, e))?;
        ctx.execute_logical_plan(plan)
            .await
            .map_err(|e| datafusion_error(ctx, e))?;
        Ok(Response::Execution(Tag::new("SET")))
    }
    .await;
    Some(result)
}

/// What leadql answers itself without planning: `SET SESSION CHARACTERISTICS AS
/// TRANSACTION …` and `SET TRANSACTION …` (Metabase sends one on every connection;
/// each statement reads one consistent state of the workspace whatever the level), and
/// `SHOW timezone`: the zone the session computes in, `datafusion.execution.time_zone`
/// (UTC unless [`set_time_zone`] changed it), not the client's `TimeZone` startup
/// parameter, which leadql does not apply (Metabase reads this answer as the database's
/// zone and shifts timestamps by it).
fn answered_here(ctx: &SessionContext, statement: &Statement) -> Option<Response> {
    use datafusion::sql::sqlparser::ast::Set;
    match statement {
        Statement::Set(Set::SetTransaction { .. }) => Some(Response::Execution(Tag::new("SET"))),
        Statement::ShowVariable { variable } => {
            let words: Vec<String> = variable
                .iter()
                .map(|v| v.value.to_ascii_lowercase())
                .collect();
            if !(words == ["timezone"] || words == ["time", "zone"]) {
                return None;
            }
            let zone = ctx
                .state()
                .config()
                .options()
                .execution
                .time_zone
                .clone()
                .filter(|z| !z.is_empty())
                .unwrap_or_else(|| "UTC".into());
            let field =
                FieldInfo::new("TimeZone".into(), None, None, Type::TEXT, FieldFormat::Text);
            let fields = Arc::new(vec![field]);
            let mut encoder = DataRowEncoder::new(fields.clone());
            encoder.encode_field(&Some(zone)).ok()?;
            let row = encoder.take_row();
            Some(Response::Query(QueryResponse::new(
                fields,
                stream::iter(vec![Ok(row)]),
            )))
        }
        _ => None,
    }
}

impl Parser {
    /// The hooks that may answer `statement`: none for `SHOW ALL` and `SHOW
    /// datafusion.…`, which DataFusion answers from the session's settings (the stock
    /// hook knows PostgreSQL's parameters only and answers the others with an empty
    /// "unsupported_show_statement" row).
    fn hooks_for(&self, statement: &Statement) -> &[Arc<dyn QueryHook>] {
        let datafusion_show = matches!(
            statement,
            Statement::ShowVariable { variable }
                if variable.first().is_some_and(|v| {
                    let name = v.value.to_ascii_lowercase();
                    name == "all" || name == "datafusion"
                })
        );
        if datafusion_show { &[] } else { &self.hooks }
    }
}

/// An error as the client sees it: leadql's one-line message with a SQLSTATE.
pub fn user_error(e: Error) -> PgWireError {
    let code = match &e {
        Error::SqlSyntax(_) => "42601",
        Error::UnknownTable { .. } => "42P01",
        Error::Argument { .. } => "22023",
        Error::Io { .. } | Error::UnreadableParquet { .. } => "58030",
        _ => "XX000",
    };
    let message = e.to_string();
    let code = if message.starts_with("out of memory") || message.contains("Resources exhausted") {
        "53200"
    } else if message.contains("No field named") {
        "42703"
    } else if message.contains("Divide by zero") {
        "22012"
    } else if message.contains("Cast error") || message.contains("Cannot cast") {
        "22P02"
    } else {
        code
    };
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )))
}

fn datafusion_error(ctx: &SessionContext, e: datafusion::error::DataFusionError) -> PgWireError {
    if let datafusion::error::DataFusionError::External(inner) = e.find_root()
        && let Some(idle) = inner.downcast_ref::<IdleCursor>()
    {
        return canceled(&idle.to_string());
    }
    user_error(crate::sql::explain(ctx, e))
}

fn canceled(why: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "57014".into(),
        format!("canceling statement due to {why}"),
    )))
}

impl Parser {
    /// Splits `text` into statements. leadql's parser goes first (it knows `CREATE
    /// MODEL`); a text it cannot read goes to the Postgres-compatibility parser (client
    /// catalog queries); when neither reads it, leadql's error is the one reported.
    fn split(&self, text: &str) -> PgWireResult<Vec<Unit>> {
        match crate::sql::parse(text) {
            // Only DataFusion statements: the Postgres-compatibility parser reads the
            // text itself (its rewrites for clients' catalog queries), when it can.
            Ok(statements)
                if statements.iter().all(|s| {
                    matches!(s, crate::sql::Statement::DataFusion(d) if matches!(**d, DfStatement::Statement(_)))
                }) && self.pg.parse(text).is_ok_and(|v| v.len() == statements.len()) =>
            {
                let parsed = self.pg_parse(text)?;
                Ok(parsed
                    .into_iter()
                    .map(|mut s| {
                        compat(&mut s);
                        Unit::Pg(Box::new(s), None)
                    })
                    .collect())
            }
            Ok(statements) => {
                let mut units = Vec::new();
                for statement in statements {
                    let label = match &statement {
                        crate::sql::Statement::CreateModel { name, .. } => {
                            Some(format!("CREATE MODEL {name}"))
                        }
                        crate::sql::Statement::DropModel { name, .. } => {
                            Some(format!("DROP MODEL {name}"))
                        }
                        _ => None,
                    };
                    match crate::sql::rewrite(&statement) {
                        Some(sql) => {
                            let mut parsed = self.pg_parse(&sql)?;
                            let one = parsed.pop().ok_or_else(|| {
                                user_error(Error::Query("internal: empty rewrite".into()))
                            })?;
                            units.push(Unit::Pg(Box::new(one), label));
                        }
                        None => match statement {
                            crate::sql::Statement::DataFusion(s) => match *s {
                                DfStatement::Statement(inner) => {
                                    let mut one = *inner;
                                    compat(&mut one);
                                    units.push(Unit::Pg(Box::new(one), None));
                                }
                                other => units.push(Unit::DataFusion(Box::new(other))),
                            },
                            _ => {
                                return Err(user_error(Error::Query(
                                    "internal: unrouted statement".into(),
                                )));
                            }
                        },
                    }
                }
                Ok(units)
            }
            Err(leadql_error) => match self.pg.parse(text) {
                Ok(statements) => Ok(statements
                    .into_iter()
                    .map(|mut s| {
                        compat(&mut s);
                        Unit::Pg(Box::new(s), None)
                    })
                    .collect()),
                Err(_) => Err(user_error(leadql_error)),
            },
        }
    }

    fn pg_parse(&self, sql: &str) -> PgWireResult<Vec<Statement>> {
        self.pg
            .parse(sql)
            .map_err(|e| user_error(Error::SqlSyntax(e.to_string())))
    }

    /// The role check of one statement.
    fn check(&self, unit: &Unit) -> PgWireResult<Need> {
        let (need, what) = match unit {
            Unit::Pg(s, label) => {
                let (need, what) = access::statement(s);
                (need, label.clone().unwrap_or(what))
            }
            Unit::DataFusion(s) => access::datafusion_statement(s),
        };
        let role = role(&self.connection)?;
        if access::allowed(role, need, self.connection.shared.allow_file_paths) {
            Ok(need)
        } else {
            Err(access::refusal(&what, need, role))
        }
    }
}

/// Rewrites what DataFusion does not plan but clients' catalog queries use:
/// `ARRAY(SELECT …)` (psql's `\d` asks for row-security policies with it) becomes
/// `(SELECT array_agg(x) FROM (SELECT …) AS _array(x))`, and a list of Postgres roles
/// (there are none) becomes NULL; in queries over the catalog only, `x = ANY(col)`
/// compares with the elements of the text the emulated catalog keeps arrays as; and
/// the `information_schema` views DataFusion lacks are emulated
/// ([`super::information_schema`]), and comments read as NULL
/// ([`super::descriptions`]).
fn compat(statement: &mut Statement) {
    super::information_schema::rewrite(statement);
    super::descriptions::rewrite(statement);
    use datafusion::sql::sqlparser::ast::{
        BinaryOperator, Expr as SqlExpr, FunctionArguments, visit_expressions_mut, visit_relations,
    };
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    let parse = |text: &str| {
        datafusion::sql::sqlparser::parser::Parser::new(&PostgreSqlDialect {})
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
    };
    // Only the catalog's emulated tables hold arrays as text ('{d,f}').
    let mut catalog_only = true;
    let _ = visit_relations(statement, |name| {
        let text = name.to_string().to_ascii_lowercase();
        if !(text.starts_with("pg_catalog.") || text.starts_with("pg_")) {
            catalog_only = false;
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    let _ = datafusion::sql::sqlparser::ast::VisitMut::visit(statement, &mut UniqueNames);
    let _ = visit_expressions_mut(statement, |expr| {
        // `x = ANY(col)`, which the compatibility parser turns into array_has(col, x).
        let any = match expr {
            SqlExpr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                ..
            } => Some((right.to_string(), left.to_string())),
            SqlExpr::Function(f)
                if ["array_has", "array_contains"]
                    .contains(&f.name.to_string().to_ascii_lowercase().as_str()) =>
            {
                match &f.args {
                    FunctionArguments::List(list) if list.args.len() == 2 => {
                        Some((list.args[0].to_string(), list.args[1].to_string()))
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if catalog_only && let Some((array, element)) = any {
            let text = format!(
                "array_has(string_to_array(replace(trim(CAST(({array}) AS TEXT), '{{}}[]'), ' ', ''), ','), CAST(({element}) AS TEXT))"
            );
            if let Ok(replacement) = parse(&text) {
                *expr = replacement;
            }
            return std::ops::ControlFlow::Continue(());
        }
        if let SqlExpr::Function(f) = expr
            && f.name.to_string().eq_ignore_ascii_case("array")
            && let FunctionArguments::Subquery(q) = &f.args
        {
            // leadql has no Postgres roles: a list of them (psql's policy roles) is empty.
            let text = if q.to_string().to_ascii_lowercase().contains("pg_roles") {
                "CAST(NULL AS TEXT[])".to_string()
            } else {
                format!("(SELECT array_agg(x) FROM ({q}) AS _array(x))")
            };
            if let Ok(replacement) = parse(&text) {
                *expr = replacement;
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// Names the unnamed duplicates of a projection (`SELECT pubname, NULL, NULL`, which
/// PostgreSQL allows and DataFusion refuses) `"?column?2"`, `"?column?3"`, ….
struct UniqueNames;

impl datafusion::sql::sqlparser::ast::VisitorMut for UniqueNames {
    type Break = ();

    fn pre_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> std::ops::ControlFlow<()> {
        fn body(set: &mut datafusion::sql::sqlparser::ast::SetExpr) {
            use datafusion::sql::sqlparser::ast::{Ident, SelectItem, SetExpr};
            match set {
                SetExpr::Select(select) => {
                    let mut seen = std::collections::HashSet::new();
                    for (i, item) in select.projection.iter_mut().enumerate() {
                        if let SelectItem::UnnamedExpr(e) = item
                            && !seen.insert(e.to_string())
                        {
                            *item = SelectItem::ExprWithAlias {
                                expr: e.clone(),
                                alias: Ident::with_quote('"', format!("?column?{}", i + 1)),
                            };
                        }
                    }
                }
                SetExpr::SetOperation { left, right, .. } => {
                    body(left);
                    body(right);
                }
                SetExpr::Query(q) => body(&mut q.body),
                _ => {}
            }
        }
        body(&mut query.body);
        std::ops::ControlFlow::Continue(())
    }
}

/// Catalog tables that are always empty in leadql (no indexes' definitions, policies,
/// publications, extended statistics, triggers, inheritance or partitions).
const EMPTY_CATALOG: &[&str] = &[
    "pg_policy",
    "pg_publication",
    "pg_publication_rel",
    "pg_publication_namespace",
    "pg_statistic_ext",
    "pg_trigger",
    "pg_inherits",
    "pg_partitioned_table",
    "pg_rewrite",
];

/// For a catalog query over tables that are always empty ([`EMPTY_CATALOG`]) that
/// DataFusion cannot plan (psql's `\d` asks for publications with
/// `generate_series(…, array_upper(…))`): the empty answer, with the first SELECT's
/// column names, as text. `None` for any other statement.
fn empty_catalog_answer(statement: &Statement) -> Option<QueryResponse> {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, visit_relations};
    let mut touches_empty = false;
    let mut catalog_only = true;
    let _ = visit_relations(statement, |name| {
        let last = name
            .0
            .last()
            .map(|p| p.to_string())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let text = name.to_string().to_ascii_lowercase();
        touches_empty |= EMPTY_CATALOG.contains(&last.as_str());
        catalog_only &= text.starts_with("pg_catalog.")
            || text.starts_with("pg_")
            || matches!(text.as_str(), "generate_series" | "unnest");
        std::ops::ControlFlow::<()>::Continue(())
    });
    let Statement::Query(query) = statement else {
        return None;
    };
    if !(touches_empty && catalog_only) {
        return None;
    }
    let mut set = query.body.as_ref();
    while let SetExpr::SetOperation { left, .. } = set {
        set = left.as_ref();
    }
    let SetExpr::Select(select) = set else {
        return None;
    };
    let fields: Vec<FieldInfo> = select
        .projection
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = match item {
                SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                SelectItem::UnnamedExpr(
                    datafusion::sql::sqlparser::ast::Expr::CompoundIdentifier(parts),
                ) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
                SelectItem::UnnamedExpr(datafusion::sql::sqlparser::ast::Expr::Identifier(p)) => {
                    p.value.clone()
                }
                _ => format!("?column?{}", i + 1),
            };
            FieldInfo::new(
                name,
                None,
                None,
                Type::TEXT,
                pgwire::api::results::FieldFormat::Text,
            )
        })
        .collect();
    Some(QueryResponse::new(Arc::new(fields), stream::empty()))
}

/// The connection's role; a connection that has not logged in (pgwire keeps reading
/// after a failed login) is dropped instead, and one whose login no longer holds (the
/// user removed, changed or expired: [`Connection::revoked`]) ends with FATAL 28000.
fn authenticated(connection: &Arc<Connection>) -> PgWireResult<super::users::Role> {
    let fatal = |message: String| {
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "FATAL".into(),
            "28000".into(),
            message,
        )))
    };
    let Some(role) = connection.role() else {
        connection.kick();
        return Err(fatal("not authenticated".into()));
    };
    match connection.revoked() {
        Ok(()) => Ok(role),
        Err(Refusal::Revoked(reason)) => {
            connection.kick_soon();
            Err(fatal(format!(
                "{reason} since this connection logged in: connect again"
            )))
        }
        Err(Refusal::Unconfirmed(reason)) => Err(PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".into(),
            "28000".into(),
            reason,
        )))),
    }
}

/// The connection's role, checked at the start of the message being served
/// ([`authenticated`]): the statements of one message are not checked again.
fn role(connection: &Arc<Connection>) -> PgWireResult<super::users::Role> {
    connection.role().ok_or_else(|| {
        connection.kick();
        PgWireError::UserError(Box::new(ErrorInfo::new(
            "FATAL".into(),
            "28000".into(),
            "not authenticated".into(),
        )))
    })
}

/// The highest parameter number a statement may use (PostgreSQL's limit).
const MAX_PARAMETERS: usize = 65535;

/// The parameter types of a plan, `$1` first; a placeholder DataFusion could not type
/// takes the type of a cast around it (`$1::int`), else stays unknown.
fn parameter_types(plan: &LogicalPlan) -> PgWireResult<Vec<Option<DataType>>> {
    let mut types = plan
        .get_parameter_types()
        .map_err(|e| user_error(e.into()))?;
    if types.values().any(|t| t.is_none()) {
        let _ = plan.apply(|node| {
            for expr in node.expressions() {
                let _ = expr.apply(|e| {
                    if let Expr::Cast(cast) = e
                        && let Expr::Placeholder(p) = cast.expr.as_ref()
                        && let Some(slot @ None) = types.get_mut(&p.id)
                    {
                        *slot = Some(cast.field.data_type().clone());
                    }
                    Ok(TreeNodeRecursion::Continue)
                });
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    let mut ordered: Vec<(usize, Option<DataType>)> = types
        .into_iter()
        .filter_map(|(id, t)| {
            id.trim_start_matches('$')
                .parse::<usize>()
                .ok()
                .map(|n| (n, t))
        })
        .collect();
    ordered.sort_by_key(|(n, _)| *n);
    let count = ordered.last().map_or(0, |(n, _)| *n);
    if count > MAX_PARAMETERS {
        return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".into(),
            "54023".into(),
            format!("parameter ${count}: at most {MAX_PARAMETERS} parameters"),
        ))));
    }
    let mut out = vec![None; count];
    for (n, t) in ordered {
        if n >= 1 {
            out[n - 1] = t;
        }
    }
    Ok(out)
}

fn wire_types(types: &[Option<DataType>]) -> PgWireResult<Vec<Type>> {
    types
        .iter()
        .map(|t| match t {
            Some(t) => into_pg_type(t),
            None => Ok(Type::UNKNOWN),
        })
        .collect()
}

/// The cancel epoch and time budget of the running statement.
///
/// `statement_timeout` counts the server's work on the statement: planning and
/// producing rows, not the time the client takes to read them. A psycopg server-side
/// cursor or a JDBC `setFetchSize` read, which asks for rows batch by batch with
/// pauses between, is stopped when the server's work on all its batches together
/// passes the timeout, however long the client reads.
struct Stop {
    connection: Option<Arc<Connection>>,
    epoch: u64,
    budget: Option<Duration>,
    /// Counts the statement as running (for the drain at shutdown) while it streams.
    _running: Option<super::Running>,
}

impl Stop {
    fn start<C: ClientInfo + ?Sized>(client: &C, connection: &Arc<Connection>) -> Stop {
        let budget = client
            .metadata()
            .get("statement_timeout_ms")
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        Stop {
            connection: Some(connection.clone()),
            epoch: connection.cancels.epoch(),
            budget,
            _running: Some(super::Running::start()),
        }
    }

    /// Nothing to stop (rows already computed).
    fn none() -> Stop {
        Stop {
            connection: None,
            epoch: 0,
            budget: None,
            _running: None,
        }
    }

    /// Runs `work` unless the client cancels or the budget runs out first; the time
    /// `work` takes is taken from the budget.
    async fn guard<T>(
        &mut self,
        work: impl std::future::Future<Output = PgWireResult<T>>,
    ) -> PgWireResult<T> {
        // A cancel request or a used-up budget stops the statement before more work,
        // also when that work would be ready at once (rows already buffered).
        if let Some(c) = &self.connection
            && c.cancels.epoch() != self.epoch
        {
            return Err(canceled("user request"));
        }
        if self.budget.is_some_and(|b| b.is_zero()) {
            return Err(canceled("statement timeout"));
        }
        let started = tokio::time::Instant::now();
        let budget = self.budget;
        let sleep = async {
            match budget {
                Some(b) => tokio::time::sleep_until(started + b).await,
                None => std::future::pending().await,
            }
        };
        let cancel = async {
            match &self.connection {
                Some(c) => c.cancels.cancelled(self.epoch).await,
                None => std::future::pending().await,
            }
        };
        // Work that finished is never reported as stopped (a client that retries on
        // 57014 would write twice): `work` goes first, and a budget used up by this
        // call stops the next one, which starts with none left.
        let result = tokio::select! {
            biased;
            r = work => r,
            () = sleep => Err(canceled("statement timeout")),
            () = cancel => Err(canceled("user request")),
        };
        if let Some(b) = &mut self.budget {
            *b = b.saturating_sub(started.elapsed());
        }
        result
    }
}

/// Streams `batches` as Postgres rows, stopping at a cancel request or when the time
/// budget runs out; each row sent counts as the client's reading for `activity`.
fn rows(
    fields: Arc<Vec<FieldInfo>>,
    batches: SendableRecordBatchStream,
    stop: Stop,
    ctx: SessionContext,
    activity: Activity,
) -> QueryResponse {
    // After an error the stream is dropped at once, with the query's task and its
    // memory, and the statement no longer counts as running; a later read of the same
    // cursor or portal gets the same error again, never a clean end.
    let state = (Some(batches), stop, ctx, None::<(String, String)>);
    let stream = stream::unfold(state, move |(batches, mut stop, ctx, failed)| async move {
        let Some(mut batches) = batches else {
            let (code, message) = failed?;
            let again = PgWireError::UserError(Box::new(ErrorInfo::new(
                "ERROR".into(),
                code.clone(),
                message.clone(),
            )));
            return Some((Err(again), (None, Stop::none(), ctx, Some((code, message)))));
        };
        let next = stop
            .guard(async {
                match batches.next().await {
                    Some(Ok(b)) => Ok(Some(b)),
                    Some(Err(e)) => Err(datafusion_error(&ctx, e)),
                    None => Ok(None),
                }
            })
            .await;
        match next {
            Ok(Some(batch)) => Some((Ok(batch), (Some(batches), stop, ctx, None))),
            Ok(None) => None,
            Err(e) => {
                let info = error_info(e);
                let kept = (info.code.clone(), info.message.clone());
                Some((
                    Err(PgWireError::UserError(Box::new(info))),
                    (None, Stop::none(), ctx, Some(kept)),
                ))
            }
        }
    });
    let encoded_fields = fields.clone();
    let rows = stream
        .map(move |batch: PgWireResult<RecordBatch>| {
            let rows: Box<dyn Iterator<Item = PgWireResult<_>> + Send + Sync> = match batch {
                Ok(b) => encode_recordbatch(encoded_fields.clone(), b),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            stream::iter(rows)
        })
        .flatten()
        .inspect(move |_| activity.touch());
    QueryResponse::new(fields, rows)
}

/// When the client last read a row of a result: what `--cursor-idle-timeout` counts
/// from (not how long the query waits for room in the channel, which is the time the
/// client takes to read a whole batch).
#[derive(Debug, Clone)]
pub struct Activity {
    since: std::time::Instant,
    last_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            since: std::time::Instant::now(),
            last_ms: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }

    /// The client read now.
    fn touch(&self) {
        let ms = self.since.elapsed().as_millis() as u64;
        self.last_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// How long since the client last read.
    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(std::sync::atomic::Ordering::Relaxed));
        self.since.elapsed().saturating_sub(last)
    }
}

/// The error of a result stopped because its client stopped reading.
#[derive(Debug)]
struct IdleCursor(Duration);

impl std::fmt::Display for IdleCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "idle cursor: its client read nothing of it for {} s (serve --cursor-idle-timeout), so its query was stopped and its operators' memory released",
            self.0.as_secs()
        )
    }
}

impl std::error::Error for IdleCursor {}

/// Starts `frame` on the query runtime and hands its batches over through a small
/// channel. Dropping the returned stream (the client went away, a cancel, a timeout)
/// stops the query: its task is aborted, and DataFusion's own tasks with it.
///
/// A result its client stops reading (an open cursor, a suspended portal) is stopped
/// once `activity` shows no read for `idle`, releasing its operators' memory; the
/// client's next read gets 57014. A query task that ends without finishing (a panic)
/// ends the stream with an error, never as if complete.
async fn on_query_runtime(
    queries: &tokio::runtime::Handle,
    frame: datafusion::dataframe::DataFrame,
    idle: Option<Duration>,
    activity: Activity,
) -> datafusion::error::Result<SendableRecordBatchStream> {
    use datafusion::error::DataFusionError;
    let schema = Arc::new(frame.schema().as_arrow().clone());
    let (tx, rx) = tokio::sync::mpsc::channel::<datafusion::error::Result<RecordBatch>>(2);
    let ending = Arc::new(std::sync::Mutex::new(End::Running));
    let end = ending.clone();
    let task = queries.spawn(async move {
        let finish = |how: End| {
            if let Ok(mut e) = end.lock() {
                *e = how;
            }
        };
        let mut stream = match frame.execute_stream().await {
            Ok(s) => s,
            Err(e) => {
                finish(End::Finished);
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        while let Some(batch) = stream.next().await {
            let permit = match idle {
                None => tx.reserve().await.ok(),
                Some(idle) => {
                    let tick = (idle / 4).max(Duration::from_millis(50));
                    loop {
                        match tokio::time::timeout(tick, tx.reserve()).await {
                            Ok(permit) => break permit.ok(),
                            Err(_) if activity.idle_for() >= idle => {
                                drop(stream);
                                finish(End::Idle(idle));
                                return;
                            }
                            Err(_) => {}
                        }
                    }
                }
            };
            match permit {
                Some(permit) => permit.send(batch),
                None => break,
            }
        }
        finish(End::Finished);
    });
    struct AbortOnDrop(tokio::task::JoinHandle<()>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let guard = AbortOnDrop(task);
    let batches = stream::unfold(
        (Some(rx), guard, ending),
        |(rx, guard, ending)| async move {
            let mut rx = rx?;
            let stopped =
                |ending: &std::sync::Mutex<End>| ending.lock().map(|e| *e).unwrap_or(End::Running);
            // A result stopped for idleness fails at once (not after the batches
            // it had buffered), as it will not be complete.
            let end = match stopped(&ending) {
                End::Idle(idle) => End::Idle(idle),
                _ => match rx.recv().await {
                    Some(batch) => return Some((batch, (Some(rx), guard, ending))),
                    None => stopped(&ending),
                },
            };
            let error = match end {
                End::Finished => return None,
                End::Idle(idle) => DataFusionError::External(Box::new(IdleCursor(idle))),
                End::Running => DataFusionError::Execution(
                    "internal: the query stopped before its end (a panic: see the server's log)"
                        .into(),
                ),
            };
            Some((Err(error), (None, guard, ending)))
        },
    );
    Ok(Box::pin(
        datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, batches),
    ))
}

/// How a query task on the query runtime ended.
#[derive(Debug, Clone, Copy)]
enum End {
    /// Not yet, or without saying (a panic).
    Running,
    /// It sent its last batch (or its error).
    Finished,
    /// Its client did not read for this long.
    Idle(Duration),
}

/// The row count an `INSERT` or `COPY … TO` reports (its one `count` value).
fn affected_rows(batches: &[RecordBatch]) -> u64 {
    batches
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0)
}

/// The command tag of a plan that is not a query.
fn tag(plan: &LogicalPlan) -> Option<Tag> {
    match plan {
        LogicalPlan::Ddl(ddl) => Some(Tag::new(match ddl {
            DdlStatement::CreateView(_) => "CREATE VIEW",
            DdlStatement::CreateMemoryTable(_) | DdlStatement::CreateExternalTable(_) => {
                "CREATE TABLE"
            }
            DdlStatement::DropTable(_) => "DROP TABLE",
            DdlStatement::DropView(_) => "DROP VIEW",
            _ => "OK",
        })),
        LogicalPlan::Statement(_) => Some(Tag::new("SET")),
        _ => None,
    }
}

/// Whether a plan calls a table function that writes models (see [`access`]).
fn writes_models(need: Need) -> bool {
    need == Need::Models
}

/// Runs a planned statement in `ctx`: under the write lock and read to the end when it
/// writes models; otherwise streamed.
async fn execute<C>(
    client: &C,
    connection: &Arc<Connection>,
    ctx: &SessionContext,
    plan: LogicalPlan,
    need: Need,
    format: &Format,
) -> PgWireResult<Response>
where
    C: ClientInfo + ?Sized,
{
    let mut stop = Stop::start(client, connection);
    let options = Arc::new(FormatOptions::from_client_metadata(client.metadata()));
    if let Some(tag) = tag(&plan) {
        stop.guard(async {
            ctx.execute_logical_plan(plan)
                .await
                .map_err(|e| datafusion_error(ctx, e))?;
            Ok(())
        })
        .await?;
        return Ok(Response::Execution(tag));
    }
    let is_insert = matches!(&plan, LogicalPlan::Dml(d) if d.op.name().starts_with("Insert"));
    let fields = Arc::new(arrow_schema_to_pg_fields(
        plan.schema().as_arrow(),
        format,
        Some(options),
    )?);
    if writes_models(need) || is_insert {
        let batches = stop
            .guard(async {
                let _lock = crate::lock::session_write_lock(ctx).map_err(user_error)?;
                let frame = ctx
                    .execute_logical_plan(plan)
                    .await
                    .map_err(|e| datafusion_error(ctx, e))?;
                let stream = on_query_runtime(
                    &connection.threads().map_err(user_error)?,
                    frame,
                    None,
                    Activity::new(),
                )
                .await
                .map_err(|e| datafusion_error(ctx, e))?;
                datafusion::physical_plan::common::collect(stream)
                    .await
                    .map_err(|e| datafusion_error(ctx, e))
            })
            .await?;
        if is_insert {
            let count = affected_rows(&batches);
            return Ok(Response::Execution(
                Tag::new("INSERT").with_oid(0).with_rows(count as usize),
            ));
        }
        let schema = Arc::new(plan_schema(&batches, &fields));
        let stream: SendableRecordBatchStream = Box::pin(
            datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
                schema,
                stream::iter(batches.into_iter().map(Ok)),
            ),
        );
        return Ok(Response::Query(rows(
            fields,
            stream,
            Stop::none(),
            ctx.clone(),
            Activity::new(),
        )));
    }
    let activity = Activity::new();
    let batches = stop
        .guard(async {
            let frame = ctx
                .execute_logical_plan(plan)
                .await
                .map_err(|e| datafusion_error(ctx, e))?;
            on_query_runtime(
                &connection.threads().map_err(user_error)?,
                frame,
                connection.shared.cursor_idle,
                activity.clone(),
            )
            .await
            .map_err(|e| datafusion_error(ctx, e))
        })
        .await?;
    Ok(Response::Query(rows(
        fields,
        batches,
        stop,
        ctx.clone(),
        activity,
    )))
}

/// The schema of collected batches (an empty result has the plan's fields' names only
/// through `fields`, which the encoder uses).
fn plan_schema(
    batches: &[RecordBatch],
    _fields: &[FieldInfo],
) -> datafusion::arrow::datatypes::Schema {
    batches
        .first()
        .map(|b| b.schema().as_ref().clone())
        .unwrap_or_else(datafusion::arrow::datatypes::Schema::empty)
}

/// `DECLARE name CURSOR FOR query` (psycopg's server-side cursors, and by hand): the
/// query is planned in the connection's session and started on the connection's
/// threads, with cancel and timeout, and its rows wait in the connection's portal
/// store for `FETCH` (datafusion-postgres' cursor hook serves FETCH and CLOSE).
/// `None` when the statement is not a cursor declaration.
async fn declare<C>(
    client: &mut C,
    connection: &Arc<Connection>,
    ctx: &SessionContext,
    statement: &Statement,
    need: Need,
) -> Option<PgWireResult<Response>>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let Statement::Declare { stmts } = statement else {
        return None;
    };
    let result = async {
        let mut tag = Tag::new("DECLARE CURSOR");
        for declare in stmts {
            let (Some(name), Some(query)) = (declare.names.first(), declare.for_query.as_ref())
            else {
                return Err(user_error(Error::SqlSyntax(
                    "DECLARE needs a cursor name and FOR query".into(),
                )));
            };
            let plan = ctx
                .state()
                .statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(
                    query.clone(),
                ))))
                .await
                .map_err(|e| datafusion_error(ctx, e))?;
            let Response::Query(response) =
                execute(client, connection, ctx, plan, need, &Format::UnifiedText).await?
            else {
                return Err(user_error(Error::Query(
                    "internal: a cursor without rows".into(),
                )));
            };
            let stored = Arc::new(pgwire::api::stmt::StoredStatement::new(
                name.value.clone(),
                (query.to_string(), None),
                vec![],
            ));
            let portal = Portal::new_cursor(name.value.clone(), stored);
            portal.start(response).await;
            datafusion_postgres::hooks::HookClient::portal_store(client)
                .put_portal(Arc::new(portal));
            tag = Tag::new("DECLARE CURSOR");
        }
        Ok(Response::Execution(tag))
    }
    .await;
    Some(result)
}

impl Service {
    /// Plans and runs one statement of the simple protocol.
    async fn run_unit<C>(
        &self,
        client: &mut C,
        ctx: &SessionContext,
        unit: Unit,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let need = self.parser.check(&unit)?;
        match unit {
            Unit::Pg(statement, _) => {
                if let Some(response) = answered_here(ctx, &statement) {
                    return Ok(response);
                }
                if let Some(result) = set_time_zone(ctx, &statement).await {
                    return result;
                }
                if let Some(result) = declare(client, &self.connection, ctx, &statement, need).await
                {
                    return result;
                }
                for hook in self.parser.hooks_for(&statement) {
                    if let Some(result) = hook.handle_simple_query(&statement, ctx, client).await {
                        return result;
                    }
                }
                let empty = empty_catalog_answer(&statement);
                let plan = match ctx
                    .state()
                    .statement_to_plan(DfStatement::Statement(statement))
                    .await
                {
                    Ok(plan) => plan,
                    Err(e) => {
                        return match empty {
                            Some(answer) => Ok(Response::Query(answer)),
                            None => Err(datafusion_error(ctx, e)),
                        };
                    }
                };
                match execute(
                    client,
                    &self.connection,
                    ctx,
                    plan,
                    need,
                    &Format::UnifiedText,
                )
                .await
                {
                    Err(_) if empty.is_some() => {
                        Ok(Response::Query(empty.unwrap_or_else(|| {
                            QueryResponse::new(Arc::new(vec![]), stream::empty())
                        })))
                    }
                    other => other,
                }
            }
            Unit::DataFusion(statement) => {
                let plan = ctx
                    .state()
                    .statement_to_plan(*statement)
                    .await
                    .map_err(|e| datafusion_error(ctx, e))?;
                let need = if matches!(plan, LogicalPlan::Copy(_)) {
                    Need::Write
                } else {
                    need
                };
                if matches!(plan, LogicalPlan::Copy(_)) {
                    // COPY … TO writes a file now: read to the end before answering.
                    let mut stop = Stop::start(client, &self.connection);
                    let batches = stop
                        .guard(async {
                            let frame = ctx
                                .execute_logical_plan(plan)
                                .await
                                .map_err(|e| datafusion_error(ctx, e))?;
                            frame.collect().await.map_err(|e| datafusion_error(ctx, e))
                        })
                        .await?;
                    let n = affected_rows(&batches);
                    return Ok(Response::Execution(Tag::new("COPY").with_rows(n as usize)));
                }
                execute(
                    client,
                    &self.connection,
                    ctx,
                    plan,
                    need,
                    &Format::UnifiedText,
                )
                .await
            }
        }
    }
}

#[async_trait]
impl SimpleQueryHandler for Service {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        authenticated(&self.connection)?;
        let units = self.parser.split(query)?;
        if units.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let ctx = self.connection.context().await.map_err(user_error)?;
        let mut responses = Vec::new();
        let total = units.len();
        for (i, unit) in units.into_iter().enumerate() {
            // A failing statement ends the text: PostgreSQL runs none after it. Rows
            // stream only after this returns, so a statement followed by others is
            // read to its end first, for its error to stop the rest.
            let result = match self.run_unit(client, &ctx, unit).await {
                Ok(Response::Query(rows)) if i + 1 < total => drain(rows).await,
                other => other,
            };
            match result {
                Ok(r) => responses.push(r),
                Err(e) => {
                    responses.push(Response::Error(Box::new(error_info(e))));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

/// Reads a result to its end (the first error is the answer), keeping its rows.
async fn drain(mut rows: QueryResponse) -> PgWireResult<Response> {
    let schema = rows.row_schema();
    let mut kept = Vec::new();
    while let Some(row) = rows.data_rows().next().await {
        kept.push(row?);
    }
    Ok(Response::Query(QueryResponse::new(
        schema,
        stream::iter(kept.into_iter().map(Ok)),
    )))
}

fn error_info(e: PgWireError) -> ErrorInfo {
    e.into()
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        authenticated(&self.connection)?;
        let mut units = self.split(sql)?;
        if units.len() > 1 {
            return Err(user_error(Error::SqlSyntax(
                "a prepared statement holds one statement".into(),
            )));
        }
        let Some(unit) = units.pop() else {
            return Ok(None);
        };
        self.check(&unit)?;
        let ctx = self.connection.context().await.map_err(user_error)?;
        match unit {
            Unit::DataFusion(_) => Ok(Some((sql.to_string(), None))),
            Unit::Pg(statement, _) => {
                let client_info: &(dyn ClientInfo + Send + Sync) = _client;
                for hook in self.hooks_for(&statement) {
                    if let Some(plan) = hook
                        .handle_extended_parse_query(&statement, &ctx, client_info)
                        .await
                    {
                        return Ok(Some((statement.to_string(), Some((*statement, plan?)))));
                    }
                }
                let plan = ctx
                    .state()
                    .statement_to_plan(DfStatement::Statement(statement.clone()))
                    .await
                    .map_err(|e| datafusion_error(&ctx, e))?;
                Ok(Some((statement.to_string(), Some((*statement, plan)))))
            }
        }
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        match stmt {
            (_, Some((_, plan))) => wire_types(&parameter_types(plan)?),
            _ => Ok(vec![]),
        }
    }

    fn get_result_schema(
        &self,
        stmt: &Prepared,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        match stmt {
            (_, Some((_, plan)))
                if !matches!(
                    plan,
                    LogicalPlan::Ddl(_)
                        | LogicalPlan::Dml(_)
                        | LogicalPlan::Statement(_)
                        | LogicalPlan::Copy(_)
                ) =>
            {
                arrow_schema_to_pg_fields(
                    plan.schema().as_arrow(),
                    column_format.unwrap_or(&Format::UnifiedText),
                    None,
                )
            }
            _ => Ok(vec![]),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for Service {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    /// Every `Execute` checks the login first: also those that read on from a
    /// suspended portal (JDBC's `setFetchSize`, psycopg's named cursors), which pgwire
    /// serves without calling [`ExtendedQueryHandler::do_query`], so that a removed user
    /// cannot keep reading a result opened before.
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        authenticated(&self.connection)?;
        self._on_execute(client, message).await
    }

    /// A cursor opened by `DECLARE` (psycopg's server-side cursors describe it before
    /// the first `FETCH`) is described by its running result; other portals by their
    /// plan.
    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        target: &Portal<Prepared>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        authenticated(&self.connection)?;
        if let PortalExecutionState::Suspended(response) = &*target.state.lock().await {
            return Ok(DescribePortalResponse::new(
                response.row_schema().as_ref().clone(),
            ));
        }
        let fields = self.parser.get_result_schema(
            &target.statement.statement,
            Some(&target.result_column_format),
        )?;
        Ok(DescribePortalResponse::new(fields))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // The login was checked by `on_execute`.
        let (text, parsed) = &portal.statement.statement;
        let ctx = self.connection.context().await.map_err(user_error)?;
        let Some((statement, plan)) = parsed else {
            // COPY … TO and the like: no parameters, run as the simple protocol would.
            let mut units = self.parser.split(text)?;
            return match units.pop() {
                Some(unit) => self.run_unit(client, &ctx, unit).await,
                None => Ok(Response::EmptyQuery),
            };
        };
        let need = self
            .parser
            .check(&Unit::Pg(Box::new(statement.clone()), None))?;
        let types = parameter_types(plan)?;
        let wire = wire_types(&types)?;
        let type_refs: Vec<Option<&DataType>> = types.iter().map(|t| t.as_ref()).collect();
        let wire_refs: Vec<Option<&Type>> = wire.iter().map(Some).collect();
        let params: ParamValues =
            df::deserialize_parameters_with_server_types(portal, &type_refs, &wire_refs)?;
        if let Some(response) = answered_here(&ctx, statement) {
            return Ok(response);
        }
        if let Some(result) = set_time_zone(&ctx, statement).await {
            return result;
        }
        if let Some(result) = declare(client, &self.connection, &ctx, statement, need).await {
            return result;
        }
        for hook in self.parser.hooks_for(statement) {
            if let Some(result) = hook
                .handle_extended_query(statement, plan, &params, &ctx, client)
                .await
            {
                return result;
            }
        }
        // The statement was planned at Parse, maybe in an older session: plan it again
        // in the current one, so it reads the workspace as it is now.
        let plan = ctx
            .state()
            .statement_to_plan(DfStatement::Statement(Box::new(statement.clone())))
            .await
            .map_err(|e| datafusion_error(&ctx, e))?;
        let plan = plan
            .replace_params_with_values(&params)
            .map_err(|e| datafusion_error(&ctx, e))?;
        execute(
            client,
            &self.connection,
            &ctx,
            plan,
            need,
            &portal.result_column_format,
        )
        .await
    }
}
