//! SQL golden tests: every `tests/slt/*.slt` file (the sqllogictest format DataFusion's
//! own tests use: SQL in, expected rows out) runs in process against a fresh copy of
//! the bundled sample, through leadql's own statement handling, so `CREATE MODEL`,
//! `SHOW MODELS`, `DROP MODEL` and every table function behave as in `leadql sql`.
//!
//! Cells are printed as Arrow displays them, NULL as `NULL` and an empty string as
//! `(empty)`; a cell of several lines (an `EXPLAIN` plan) continues on rows of its
//! own, one per further line. An expected error is matched against the one-line message
//! a user sees. `<slt:ignore>` in expected rows matches anything (a creation time).
//!
//! After an intended change of results, `LEADQL_SLT_COMPLETE=1 cargo nextest run --test
//! slt` rewrites the expected rows in place; review the diff before committing it.
//!
//! The examples of the function catalogue (`leadql_udfs::catalogue`, rendered in
//! `docs/functions.md`) are checked here too: each runs on a copy of the sample in which
//! the `conversion` model has been trained by its recipe, and must print what it shows.

use std::fmt;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use leadql::catalog::Workspace;
use leadql::session::{self, SessionOptions};
use leadql_udfs::catalogue::{CATALOGUE, Kind, example_statements};
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
    workspace: tempfile::TempDir,
}

impl Leadql {
    async fn open() -> Result<Self, SltError> {
        Leadql::on(common::sample_copy()).await
    }

    /// A session over `workspace`, which it keeps.
    async fn on(workspace: tempfile::TempDir) -> Result<Self, SltError> {
        let ws = Workspace::open(workspace.path()).map_err(|e| SltError(e.to_string()))?;
        let ctx = session::open(&ws, &SessionOptions::default())
            .await
            .map_err(|e| SltError(e.to_string()))?;
        Ok(Leadql { ctx, workspace })
    }

    /// The result of each statement of `sql`, as one-line errors.
    async fn batches(&self, sql: &str) -> Result<Vec<Vec<RecordBatch>>, SltError> {
        let fail =
            |e: &dyn fmt::Display| SltError(e.to_string().lines().next().unwrap_or("").to_string());
        let mut statements = leadql::sql::parse(sql).map_err(|e| fail(&e))?;
        let mut out = Vec::new();
        while let Some(statement) = statements.pop_front() {
            let frame = leadql::sql::plan(&self.ctx, statement)
                .await
                .map_err(|e| fail(&e))?;
            let schema = frame.schema().as_arrow().clone();
            let mut batches = frame.collect().await.map_err(|e| fail(&e))?;
            if batches.is_empty() {
                batches.push(RecordBatch::new_empty(std::sync::Arc::new(schema)));
            }
            out.push(batches);
        }
        Ok(out)
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
            let mut more = Vec::new();
            rows.push(
                formatters
                    .iter()
                    .map(|f| {
                        let v = f.value(i).to_string();
                        let mut lines = v.lines();
                        let first = lines.next().unwrap_or_default().to_string();
                        more.extend(lines.map(|l| vec![l.to_string()]));
                        if first.is_empty() {
                            "(empty)".into()
                        } else {
                            first
                        }
                    })
                    .collect(),
            );
            rows.extend(more);
        }
    }
    Ok(rows)
}

#[async_trait::async_trait]
impl AsyncDB for Leadql {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let mut output = DBOutput::StatementComplete(0);
        if let Some(batches) = self.batches(sql).await?.pop() {
            let columns = batches.first().map_or(0, |b| b.num_columns());
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

/// Copies the workspace `from` into a new temporary directory (its hidden files, such
/// as the write lock, left out).
fn workspace_copy(from: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    for file in common::walk(from) {
        let rel = file.strip_prefix(from).expect("inside");
        if rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        {
            continue;
        }
        let to = tmp.path().join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&file, &to).expect("copy");
    }
    tmp
}

/// Every statement of every catalogue example runs without error on a copy of the
/// sample in which `conversion` was trained by its recipe (the state `leadql run`
/// leaves), and the output an example shows is what the statement prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalogue_examples_run_and_print_what_they_show() {
    let recipe = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/models/conversion.sql");
    let recipe = std::fs::read_to_string(recipe).expect("the sample's recipe");
    let trainer = Leadql::on(common::sample_copy()).await.expect("session");
    trainer.batches(&recipe).await.expect("the recipe trains");
    let trained = trainer.workspace;

    let mut failures = Vec::new();
    for entry in CATALOGUE {
        let doc = (entry.documentation)();
        let example = doc.sql_example.as_deref().unwrap_or_default();
        let db = Leadql::on(workspace_copy(trained.path()))
            .await
            .expect("session");
        for (sql, shown) in example_statements(example) {
            match db.batches(&sql).await {
                Err(e) => {
                    failures.push(format!("{}: {sql}\nfails: {e}", entry.name));
                    break;
                }
                Ok(results) => {
                    let printed = match results.last() {
                        Some(batches) => {
                            pretty_format_batches(batches).expect("prints").to_string()
                        }
                        None => String::new(),
                    };
                    if !shown.is_empty() && shown.trim_end() != printed.trim_end() {
                        failures.push(format!(
                            "{}: {sql}\nshows:\n{shown}prints:\n{printed}",
                            entry.name
                        ));
                    }
                    if std::env::var_os("LEADQL_EXAMPLES_PRINT").is_some() {
                        eprintln!("== {}\n> {sql}\n{printed}", entry.name);
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Every function and statement of the catalogue is called in some `.slt` file: a new
/// function comes with its golden results.
#[test]
fn every_catalogued_function_and_statement_has_goldens() {
    let corpus: String = files()
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("read"))
        .collect::<Vec<_>>()
        .join("\n");
    let missing: Vec<&str> = CATALOGUE
        .iter()
        .filter(|e| match e.kind {
            Kind::Statement => !corpus
                .lines()
                .any(|l| l.trim_start().to_ascii_uppercase().starts_with(e.name)),
            _ => !corpus.contains(&format!("{}(", e.name)),
        })
        .map(|e| e.name)
        .collect();
    assert!(missing.is_empty(), "not in tests/slt/*.slt: {missing:?}");
}
