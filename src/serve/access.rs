//! What each role may run over the wire, decided on the parsed statement before it is
//! planned (planning never has side effects, but a refused statement should not cost
//! a plan either).
//!
//! | needs | statements | roles |
//! |---|---|---|
//! | read | queries, `EXPLAIN`, `SHOW`, `SET`, transactions, cursors, `SHOW MODELS`, and the connection's own views and in-memory tables (`CREATE VIEW`, `CREATE TABLE … AS`, `DROP`): they store nothing | all |
//! | models | `CREATE MODEL`, `DROP MODEL`, `train_model(…)`, `drop_model(…)` | modeler, admin |
//! | write | `INSERT`, `COPY … TO` (writes a file on the server), anything else | admin |
//! | files | reading files by path (`CREATE EXTERNAL TABLE`, `SELECT … FROM 'file.parquet'`) | admin, and only with `serve --allow-file-paths` |
//! | server | `SET datafusion.runtime.*` (the memory pool and spill directory, which `serve`'s options set) | none |

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{
    ObjectName, Statement, TableFactor, Visit, Visitor, visit_relations,
};
use pgwire::error::{ErrorInfo, PgWireError};

use leadql_udfs::predictive;

use super::users::Role;

/// What a statement needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Reads, or changes only the connection's own session.
    Read,
    /// Trains or drops a model.
    Models,
    /// Writes (files on the server, tables).
    Write,
    /// Reads files by path.
    Files,
    /// Changes what only the server's command line sets (`datafusion.runtime.*`: the
    /// memory pool, which would escape `--server-memory`, and the spill directory).
    Server,
}

/// A refusal, with the statement named: SQLSTATE 42501 (insufficient privilege).
pub fn refusal(what: &str, need: Need, role: Role) -> PgWireError {
    let why = match need {
        Need::Read => "is not allowed".to_string(),
        Need::Models => "trains or drops a model: it needs the modeler or admin role".into(),
        Need::Write => "writes: it needs the admin role".into(),
        Need::Files => "reads files by path: it needs the admin role and a server started with --allow-file-paths".into(),
        Need::Server => "sets the server's memory or spill directory: set them with leadql serve's --memory-limit, --server-memory and --spill-dir".into(),
    };
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "42501".into(),
        format!(
            "permission denied for {what}: {why} (you are {})",
            role.name()
        ),
    )))
}

/// Whether `role` may run what needs `need` (`files`: the server allows reading files
/// by path).
pub fn allowed(role: Role, need: Need, files: bool) -> bool {
    match need {
        Need::Read => true,
        Need::Models => role >= Role::Modeler,
        Need::Write => role == Role::Admin,
        Need::Files => role == Role::Admin && files,
        Need::Server => false,
    }
}

/// Whether a relation name is one of the table functions that write models.
fn writes_models(name: &ObjectName) -> bool {
    let last = name.0.last().map(|p| p.to_string()).unwrap_or_default();
    let last = last.trim_matches('"').to_ascii_lowercase();
    last == predictive::train::NAME || last == predictive::drop_model::NAME
}

/// Whether a relation name reads a file by path (`FROM 'out/x.parquet'`, which
/// DataFusion's URL tables resolve).
/// (The check that holds is elsewhere: remote sessions have no URL tables unless the
/// role and the server allow them; this names the refusal.)
fn reads_path(name: &ObjectName) -> bool {
    let text = name.to_string().to_ascii_lowercase();
    text.starts_with('\'')
        || text.contains('/')
        || [".parquet", ".csv", ".json", ".avro", ".arrow"]
            .iter()
            .any(|x| text.trim_end_matches('"').ends_with(x))
}

/// Settings any role may change: the session's time zone, optimizer, explain and
/// output formats, and every Postgres session variable (`statement_timeout`,
/// `DateStyle`, …). The other `datafusion.execution.*` settings size buffers and
/// threads (`batch_size`, `target_partitions`, …): a huge value would make the server
/// allocate without bound, so they are the admin's. `datafusion.runtime.*` (the memory limit and spill directory) is
/// no one's over the wire; the rest of DataFusion's (`datafusion.sql_parser.*`: how statements are read, which the
/// role check relies on; `datafusion.catalog.*`) are the admin's.
const SESSION_SETTINGS: &[&str] = &[
    "datafusion.execution.time_zone",
    "datafusion.optimizer.",
    "datafusion.explain.",
    "datafusion.format.",
];

/// What changing the setting `name` needs (quotes and case do not matter).
fn setting_need(name: &ObjectName) -> Need {
    let normalized: String = name
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '"' | '`' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    if !normalized.starts_with("datafusion") {
        return Need::Read;
    }
    if normalized.starts_with("datafusion.runtime.") {
        return Need::Server;
    }
    if SESSION_SETTINGS.iter().any(|p| normalized.starts_with(p)) {
        Need::Read
    } else {
        Need::Write
    }
}

/// What a `SET` needs.
fn set_need(set: &datafusion::sql::sqlparser::ast::Set) -> Need {
    use datafusion::sql::sqlparser::ast::Set;
    match set {
        Set::SingleAssignment { variable, .. } => setting_need(variable),
        Set::ParenthesizedAssignments { variables, .. } => variables
            .iter()
            .map(setting_need)
            .max()
            .unwrap_or(Need::Read),
        Set::MultipleAssignments { assignments } => assignments
            .iter()
            .map(|a| setting_need(&a.name))
            .max()
            .unwrap_or(Need::Read),
        Set::SetTimeZone { .. }
        | Set::SetNames { .. }
        | Set::SetNamesDefault {}
        | Set::SetTransaction { .. } => Need::Read,
        _ => Need::Write,
    }
}

/// Every table factor of a statement, `LATERAL f(…)` and `TABLE(f(…))` included (which
/// `visit_relations` does not reach): a table function that writes models needs the
/// modeler role wherever it is called.
struct Relations {
    need: Need,
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        let name = match factor {
            TableFactor::Table { name, .. } | TableFactor::Function { name, .. } => {
                Some(name.clone())
            }
            TableFactor::TableFunction {
                expr: datafusion::sql::sqlparser::ast::Expr::Function(f),
                ..
            } => Some(f.name.clone()),
            _ => None,
        };
        if let Some(name) = name
            && writes_models(&name)
        {
            self.need = self.need.max(Need::Models);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &datafusion::sql::sqlparser::ast::Expr) -> ControlFlow<()> {
        // A scalar call of a name that writes models is refused like a table call.
        if let datafusion::sql::sqlparser::ast::Expr::Function(f) = expr
            && writes_models(&f.name)
        {
            self.need = self.need.max(Need::Models);
        }
        ControlFlow::Continue(())
    }
}

/// What a Postgres-dialect statement needs, and a name for it in messages.
pub fn statement(statement: &Statement) -> (Need, String) {
    let mut need = match statement {
        Statement::Set(set) => set_need(set),
        Statement::Reset(r) => match &r.reset {
            datafusion::sql::sqlparser::ast::Reset::ALL => Need::Write,
            datafusion::sql::sqlparser::ast::Reset::ConfigurationParameter(name) => {
                setting_need(name)
            }
        },
        // EXPLAIN ANALYZE runs its statement: it needs what the statement needs.
        Statement::Explain { statement, .. } => self::statement(statement).0,
        Statement::Query(_)
        | Statement::ExplainTable { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowCollation { .. }
        | Statement::ShowCreate { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Declare { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Discard { .. }
        | Statement::Deallocate { .. }
        | Statement::CreateView(_)
        | Statement::Drop { .. } => Need::Read,
        Statement::CreateTable(t) if t.location.is_none() => Need::Read,
        _ => Need::Write,
    };
    let mut relations = Relations { need: Need::Read };
    let _ = statement.visit(&mut relations);
    need = need.max(relations.need);
    let _ = visit_relations(statement, |name| {
        if writes_models(name) {
            need = need.max(Need::Models);
        }
        if reads_path(name) {
            need = need.max(Need::Files);
        }
        ControlFlow::<()>::Continue(())
    });
    let text = statement.to_string();
    let word = text
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let name = match need {
        Need::Models => format!(
            "{word} … (calls {} or {})",
            predictive::train::NAME,
            predictive::drop_model::NAME
        ),
        _ => word,
    };
    (need, name)
}

/// What a statement only DataFusion's own parser reads needs.
pub fn datafusion_statement(statement: &DfStatement) -> (Need, String) {
    match statement {
        DfStatement::Statement(s) => self::statement(s),
        DfStatement::Explain(e) => datafusion_statement(&e.statement),
        DfStatement::CopyTo(c) => {
            let source = match &c.source {
                CopyToSource::Query(q) => self::statement(&Statement::Query(q.clone())).0,
                CopyToSource::Relation(_) => Need::Read,
            };
            (source.max(Need::Write), "COPY … TO".into())
        }
        DfStatement::CreateExternalTable(_) => (Need::Files, "CREATE EXTERNAL TABLE".into()),
        DfStatement::Reset(datafusion::sql::parser::ResetStatement::Variable(name)) => {
            (setting_need(name), "RESET".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn need(sql: &str) -> Need {
        let s = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect("parses");
        statement(&s[0]).0
    }

    #[test]
    fn statements_are_classified() {
        assert_eq!(need("SELECT * FROM score_leads('engagement')"), Need::Read);
        assert_eq!(need("SET statement_timeout = 100"), Need::Read);
        assert_eq!(
            need("SET datafusion.execution.batch_size = 1000000000000000"),
            Need::Write
        );
        assert_eq!(
            need("SET datafusion.execution.time_zone = 'Europe/Paris'"),
            Need::Read
        );
        assert_eq!(
            need("SET datafusion.runtime.memory_limit = '100G'"),
            Need::Server
        );
        assert!(!allowed(Role::Admin, Need::Server, true));
        assert_eq!(need("CREATE VIEW v AS SELECT 1"), Need::Read);
        assert_eq!(
            need("SELECT * FROM train_model('m', 'SELECT 1 AS y', 'label=y')"),
            Need::Models
        );
        assert_eq!(
            need("WITH x AS (SELECT * FROM public.drop_model('m')) SELECT * FROM x"),
            Need::Models
        );
        assert_eq!(need("INSERT INTO leads VALUES (1)"), Need::Write);
        assert_eq!(need("DELETE FROM leads"), Need::Write);
        assert_eq!(need("SELECT * FROM '/etc/passwd'"), Need::Files);
        assert_eq!(need("SELECT * FROM \"out/x.parquet\""), Need::Files);
        assert!(allowed(Role::Modeler, Need::Models, false));
        assert!(!allowed(Role::Analyst, Need::Models, true));
        assert!(!allowed(Role::Modeler, Need::Write, true));
        assert!(!allowed(Role::Admin, Need::Files, false));
        assert!(allowed(Role::Admin, Need::Files, true));
    }

    #[test]
    fn refusals_are_sqlstate_42501_and_name_the_statement() {
        let (n, what) = statement(
            &Parser::parse_sql(&PostgreSqlDialect {}, "insert into t values (1)").expect("p")[0],
        );
        let e = refusal(&what, n, Role::Analyst);
        let PgWireError::UserError(info) = e else {
            panic!("user error")
        };
        assert_eq!(info.code, "42501");
        assert!(
            info.message.contains("INSERT INTO") && info.message.contains("analyst"),
            "{}",
            info.message
        );
    }
}
