//! SQL golden tests: every `tests/slt/*.slt` file (the sqllogictest format DataFusion's
//! own tests use: SQL in, expected rows out) runs in process against a fresh copy of
//! the bundled sample, through leadql's own statement handling, so `CREATE MODEL`,
//! `SHOW MODELS`, `DROP MODEL` and every table function behave as in `leadql sql`.
//!
//! Cells are printed as Arrow displays them, NULL as `NULL` and an empty string as
//! `(empty)`. An expected error is matched against the one-line message a user sees.
//!
//! After an intended change of results, `LEADQL_SLT_COMPLETE=1 cargo nextest run --test
//! slt` rewrites the expected rows in place; review the diff before committing it.

use std::fmt;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use leadql::catalog::Workspace;
use leadql::session::{self, SessionOptions};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType, Runner};

mod common;

/// One statement's failure, as the CLI would print it.
#[derive(Debug)]
struct SltError(String);

impl fmt::Display for SltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

/// A leadql session over a copy of the sample (dropped with the connection).
struct Leadql {
    ctx: SessionContext,
    _workspace: tempfile::TempDir,
}

impl Leadql {
    async fn open() -> Result<Self, SltError> {
        let workspace = common::sample_copy();
        let ws = Workspace::open(workspace.path()).map_err(|e| SltError(e.to_string()))?;
        let ctx = session::open(&ws, &SessionOptions::default())
            .await
            .map_err(|e| SltError(e.to_string()))?;
        Ok(Leadql {
            ctx,
            _workspace: workspace,
        })
    }
}

fn cells(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, SltError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SltError(e.to_string()))?;
        for i in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| {
                        let v = f.value(i).to_string();
                        if v.is_empty() { "(empty)".into() } else { v }
                    })
                    .collect(),
            );
        }
    }
    Ok(rows)
}

#[async_trait::async_trait]
impl AsyncDB for Leadql {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let fail =
            |e: &dyn fmt::Display| SltError(e.to_string().lines().next().unwrap_or("").to_string());
        let mut statements = leadql::sql::parse(sql).map_err(|e| fail(&e))?;
        let mut output = DBOutput::StatementComplete(0);
        while let Some(statement) = statements.pop_front() {
            let frame = leadql::sql::plan(&self.ctx, statement)
                .await
                .map_err(|e| fail(&e))?;
            let columns = frame.schema().fields().len();
            let batches = frame.collect().await.map_err(|e| fail(&e))?;
            output = if columns == 0 {
                DBOutput::StatementComplete(0)
            } else {
                DBOutput::Rows {
                    types: vec![DefaultColumnType::Any; columns],
                    rows: cells(&batches)?,
                }
            };
        }
        Ok(output)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "leadql"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_golden_files() {
    let files = files();
    assert!(!files.is_empty(), "no tests/slt/*.slt files");
    let complete = std::env::var_os("LEADQL_SLT_COMPLETE").is_some();
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = Runner::new(|| async { Leadql::open().await });
        let result = if complete {
            runner
                .update_test_file(
                    file,
                    " ",
                    sqllogictest::default_validator,
                    sqllogictest::default_normalizer,
                    sqllogictest::default_column_validator,
                )
                .await
                .map_err(|e| e.to_string())
        } else {
            runner.run_file_async(file).await.map_err(|e| e.to_string())
        };
        if let Err(e) = result {
            failures.push(format!("{}:\n{e}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
