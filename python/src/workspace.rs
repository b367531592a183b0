//! `leadql.Workspace`: a workspace opened in the Python process, with the session
//! queries run in; the main job and exports on it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use datafusion::common::ParamValues;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use pyo3::prelude::*;

use leadql::catalog::Workspace as Catalog;
use leadql::session::{self, SessionOptions};

use crate::runtime::{WRITER, wait};
use crate::stream::{Source, Stream};
use crate::{Error, error, instant, params};

/// A workspace opened for SQL: its tables, views, functions and models, as known at
/// `as_of` when given.
#[pyclass(name = "Workspace", module = "leadql._leadql")]
pub struct Workspace {
    dir: PathBuf,
    as_of: Option<i64>,
    options: SessionOptions,
    /// The session and the catalog it was opened from (replaced by `refresh`).
    state: Mutex<(SessionContext, Arc<Catalog>)>,
}

/// Opens the catalog of `dir` as known at `as_of` and a session over it.
async fn open(
    dir: PathBuf,
    as_of: Option<i64>,
    options: SessionOptions,
) -> PyResult<(SessionContext, Arc<Catalog>)> {
    let ws = Catalog::open(&dir).map_err(error)?;
    let ws = match as_of {
        Some(t) => ws.known_at(t).map_err(error)?,
        None => ws,
    };
    let ctx = session::open(&ws, &options).await.map_err(error)?;
    Ok((ctx, Arc::new(ws)))
}

impl Workspace {
    fn state(&self) -> PyResult<(SessionContext, Arc<Catalog>)> {
        self.state
            .lock()
            .map(|s| s.clone())
            .map_err(|_| Error::new_err("the workspace session was poisoned by a crash"))
    }
}

/// A memory limit: bytes, or a size such as '512M' or '4G'.
fn memory_limit(v: &Bound<'_, PyAny>) -> PyResult<usize> {
    let invalid = |reason: &str| {
        Error::new_err(format!(
            "invalid value for 'memory_limit': {reason} (examples: 512M, 4G, or bytes)"
        ))
    };
    if v.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid("a bool"));
    }
    if v.is_instance_of::<pyo3::types::PyInt>() {
        let n: i128 = v.extract()?;
        return usize::try_from(n)
            .ok()
            .filter(|n| *n >= 1 << 20)
            .ok_or_else(|| invalid("below 1M"));
    }
    let text: String = v
        .extract()
        .map_err(|_| invalid("not a number of bytes or a size"))?;
    session::parse_size(&text).map_err(|e| invalid(&format!("'{text}': {e}")))
}

#[pymethods]
impl Workspace {
    /// Opens the workspace in `path`; `as_of` ('YYYY-MM-DD HH:MM:SS'): see it as it
    /// was known strictly before that instant; `memory_limit` (bytes or '4G'): memory
    /// for query operators before they spill.
    #[new]
    #[pyo3(signature = (path, as_of=None, memory_limit=None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        as_of: Option<&str>,
        memory_limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let as_of = as_of.map(|t| instant(t, "as_of")).transpose()?;
        let options = SessionOptions {
            memory_limit: memory_limit.map(self::memory_limit).transpose()?,
            ..SessionOptions::default()
        };
        let state = wait(py, open(path.clone(), as_of, options.clone()))?;
        Ok(Workspace {
            dir: state.1.dir.clone(),
            as_of,
            options,
            state: Mutex::new(state),
        })
    }

    /// The workspace directory.
    #[getter]
    fn path(&self) -> PathBuf {
        self.dir.clone()
    }

    /// The instant the workspace is seen at ('YYYY-MM-DD HH:MM:SS[.ffffff]'), or None.
    #[getter]
    fn as_of(&self) -> Option<String> {
        self.as_of
            .and_then(chrono::DateTime::from_timestamp_micros)
            .map(|t| {
                if t.timestamp_subsec_micros() == 0 {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                } else {
                    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
                }
            })
    }

    /// The tables and views, sorted.
    fn tables(&self) -> PyResult<Vec<String>> {
        Ok(leadql::sql::table_names(&self.state()?.0))
    }

    /// Re-reads the workspace: files other processes wrote since it was opened (new
    /// imports, runs, model versions) become visible. Views and settings made with
    /// `sql` are dropped.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        let fresh = wait(py, open(self.dir.clone(), self.as_of, self.options.clone()))?;
        let mut state = self
            .state
            .lock()
            .map_err(|_| Error::new_err("the workspace session was poisoned by a crash"))?;
        *state = fresh;
        Ok(())
    }

    /// Runs one or more statements (everything `leadql sql` accepts) and returns the
    /// last one's result as a stream. `params` fill `$1`, `$2`, … (a list) or `$name`
    /// (a dict) placeholders of the last statement.
    #[pyo3(signature = (query, params=None))]
    fn sql(
        &self,
        py: Python<'_>,
        query: &str,
        params: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Stream> {
        let params = params.map(params::values).transpose()?;
        let (ctx, _) = self.state()?;
        let text = query.to_string();
        let (schema, source) = wait(py, run_statements(ctx, text, params))?;
        Ok(Stream::new(schema, source))
    }

    /// The main job (`leadql run`): returns the summary as JSON text.
    #[pyo3(signature = (policy, out, as_of=None, retrain=false, top=5, report=false))]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        py: Python<'_>,
        policy: String,
        out: PathBuf,
        as_of: Option<&str>,
        retrain: bool,
        top: usize,
        report: bool,
    ) -> PyResult<String> {
        let as_of = as_of
            .map(|t| instant(t, "as_of"))
            .transpose()?
            .or(self.as_of);
        let dir = self.dir.clone();
        let options = self.options.clone();
        let summary = wait(py, async move {
            let _writer = WRITER.lock().await;
            let lock_dir = dir.clone();
            let _lock = tokio::task::spawn_blocking(move || leadql::lock::write_lock(&lock_dir))
                .await
                .map_err(|e| Error::new_err(e.to_string()))?
                .map_err(error)?;
            // As `leadql run`: the workspace as known at the run's instant.
            let ws = Catalog::open(&dir).map_err(error)?;
            let ws = match as_of.or(ws.rule_models.default_as_of()) {
                Some(t) => ws.known_at(t).map_err(error)?,
                None => ws,
            };
            let ctx = session::open(&ws, &options).await.map_err(error)?;
            let opts = leadql::run::RunOptions {
                policy,
                as_of,
                out,
                retrain,
                top,
                report,
            };
            leadql::run::run(&ws, &ctx, &opts).await.map_err(error)
        })?;
        // What the run recorded is visible to the next query.
        self.refresh(py)?;
        serde_json::to_string(&summary).map_err(|e| Error::new_err(e.to_string()))
    }

    /// Exports a table, view or query to a file, atomically (`leadql export`); returns
    /// the rows written.
    #[pyo3(signature = (source, out, format=None, partition_by=Vec::new(), raw=false))]
    fn export(
        &self,
        py: Python<'_>,
        source: String,
        out: PathBuf,
        format: Option<&str>,
        partition_by: Vec<String>,
        raw: bool,
    ) -> PyResult<u64> {
        use leadql::output::Format;
        let format = match format {
            None => leadql::export::format_of(&out),
            Some("parquet") => Format::Parquet,
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            Some("ndjson" | "jsonl") => Format::Ndjson,
            Some("arrow") => Format::Arrow,
            Some(other) => {
                return Err(Error::new_err(format!(
                    "invalid value '{other}' for 'format': use parquet, csv, json, ndjson or arrow"
                )));
            }
        };
        // The query runs on this session, and the file's metadata names the models of
        // the catalog it was opened from.
        let (ctx, ws) = self.state()?;
        let dir = self.dir.clone();
        wait(py, async move {
            let inside = leadql::lock::is_inside(&out, &dir);
            let _writer = if inside {
                Some(WRITER.lock().await)
            } else {
                None
            };
            let _lock = if inside {
                Some(
                    tokio::task::spawn_blocking(move || leadql::lock::write_lock(&dir))
                        .await
                        .map_err(|e| Error::new_err(e.to_string()))?
                        .map_err(error)?,
                )
            } else {
                None
            };
            let opts = leadql::export::ExportOptions {
                source,
                out,
                format: format.raw(raw),
                partition_by,
            };
            leadql::export::export(&ws, &ctx, &opts)
                .await
                .map_err(error)
        })
    }

    fn __repr__(&self) -> String {
        match self.as_of() {
            Some(t) => format!("leadql.Workspace('{}', as_of='{t}')", self.dir.display()),
            None => format!("leadql.Workspace('{}')", self.dir.display()),
        }
    }
}

/// Runs every statement of `text` but the last, then plans the last one and starts it,
/// or runs it at once when it changes something (`INSERT`, `COPY … TO`: as the command
/// line does, whether or not the result is read).
async fn run_statements(
    ctx: SessionContext,
    text: String,
    params: Option<ParamValues>,
) -> PyResult<(datafusion::arrow::datatypes::SchemaRef, Source)> {
    let statements = leadql::sql::parse(&text).map_err(error)?;
    let total = statements.len();
    if total == 0 {
        return Err(Error::new_err("no SQL statement given"));
    }
    // Model writes from several threads of this process take turns.
    let _writer = if statements.iter().any(leadql::sql::writes_models) {
        Some(WRITER.lock().await)
    } else {
        None
    };
    let label = |i: usize, e: leadql::Error| {
        if total > 1 {
            Error::new_err(format!("statement {}: {e}", i + 1))
        } else {
            error(e)
        }
    };
    let mut params = params;
    for (i, statement) in statements.into_iter().enumerate() {
        let mut frame = leadql::sql::plan(&ctx, statement)
            .await
            .map_err(|e| label(i, e))?;
        if i + 1 < total {
            frame
                .collect()
                .await
                .map_err(|e| label(i, leadql::sql::explain(&ctx, e)))?;
            continue;
        }
        if let Some(p) = params.take() {
            frame = frame
                .with_param_values(p)
                .map_err(|e| label(i, leadql::sql::explain(&ctx, e)))?;
        }
        let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
        if matches!(
            frame.logical_plan(),
            LogicalPlan::Dml(_) | LogicalPlan::Copy(_)
        ) {
            let batches = frame
                .collect()
                .await
                .map_err(|e| label(i, leadql::sql::explain(&ctx, e)))?;
            return Ok((schema, Source::Batches(batches)));
        }
        let stream = frame
            .execute_stream()
            .await
            .map_err(|e| label(i, leadql::sql::explain(&ctx, e)))?;
        return Ok((stream.schema(), Source::Query(stream)));
    }
    Err(Error::new_err("no SQL statement given"))
}
