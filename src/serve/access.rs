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

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{ObjectName, Statement, visit_relations};
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
}

/// A refusal, with the statement named: SQLSTATE 42501 (insufficient privilege).
pub fn refusal(what: &str, need: Need, role: Role) -> PgWireError {
    let why = match need {
        Need::Read => "is not allowed".to_string(),
        Need::Models => "trains or drops a model: it needs the modeler or admin role".into(),
        Need::Write => "writes: it needs the admin role".into(),
        Need::Files => "reads files by path: it needs the admin role and a server started with --allow-file-paths".into(),
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

/// What a Postgres-dialect statement needs, and a name for it in messages.
pub fn statement(statement: &Statement) -> (Need, String) {
    let mut need = match statement {
        // The runtime's settings (memory limit, spill directory) are the server's.
        Statement::Set(_)
            if statement
                .to_string()
                .to_ascii_lowercase()
                .contains("datafusion.runtime") =>
        {
            Need::Write
        }
        Statement::Query(_)
        | Statement::Explain { .. }
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
        | Statement::Set(_)
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
        DfStatement::Reset(_) => (Need::Read, "RESET".into()),
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
            need("SET datafusion.runtime.memory_limit = '100G'"),
            Need::Write
        );
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
