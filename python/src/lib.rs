//! The native half of the `leadql` Python package (`leadql._leadql`): a workspace
//! session that runs everything `leadql sql` accepts and hands results to Python as
//! Arrow C streams (the `__arrow_c_stream__` PyCapsule protocol that pyarrow, polars
//! and DuckDB read without a copy), and the main job.
//!
//! Queries run on one Tokio runtime shared by the module, with the GIL released; a
//! result is pulled batch by batch as the consumer reads it, so a large result can be
//! read in bounded memory. Errors become `leadql.Error` with the one-line message the
//! command line prints after `error: `.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use datafusion::arrow::array::{RecordBatch, RecordBatchReader};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ffi::FFI_ArrowSchema;
use datafusion::arrow::ffi_stream::FFI_ArrowArrayStream;
use datafusion::common::ParamValues;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use leadql::catalog::Workspace as LeadqlWorkspace;
use leadql::session::{self, SessionOptions};

mod params;

pyo3::create_exception!(
    leadql,
    Error,
    PyException,
    "An error leadql reports: bad SQL, an unknown table or model, a damaged workspace, …; \
     the message is the one the command line prints."
);

/// The runtime every query of the process runs on.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::new_err(format!("cannot start the query runtime: {e}")))
}

/// Runs `work` on the runtime with the GIL released, checking every 100 ms for a
/// pending Python signal: Ctrl-C in a shell or "interrupt kernel" in Jupyter raises
/// `KeyboardInterrupt` and cancels the query (its future is dropped).
fn wait<F, T>(py: Python<'_>, work: F) -> PyResult<T>
where
    F: std::future::Future<Output = PyResult<T>> + Send,
    T: Send,
{
    py.detach(|| {
        runtime()?.block_on(async {
            let mut work = std::pin::pin!(work);
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
            loop {
                tokio::select! {
                    out = &mut work => return out,
                    _ = tick.tick() => Python::attach(|py| py.check_signals())?,
                }
            }
        })
    })
}

fn error(e: leadql::Error) -> PyErr {
    Error::new_err(e.to_string())
}

/// The workspace directory leadql uses when none is given: `$LEADQL_DATA`, else the
/// sample bundled with the clone this module was built from.
#[pyfunction]
fn default_data() -> PathBuf {
    match std::env::var_os("LEADQL_DATA") {
        Some(d) => PathBuf::from(d),
        None => bundled_sample(),
    }
}

/// The sample workspace of the clone this module was built from (`data/sample`).
#[pyfunction]
fn bundled_sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/sample")
}

/// Parses an instant: `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (midnight), UTC; µs.
fn instant(text: &str, argument: &str) -> PyResult<i64> {
    let parsed = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map_err(|_| {
            Error::new_err(format!(
                "invalid value '{text}' for '{argument}': expected 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD' (UTC)"
            ))
        })?;
    Ok(parsed.and_utc().timestamp_micros())
}

/// A workspace opened for SQL: its tables, views, functions and models, as known at
/// `as_of` when given.
#[pyclass(name = "Workspace", module = "leadql._leadql")]
struct Workspace {
    dir: PathBuf,
    as_of: Option<i64>,
    options: SessionOptions,
    ctx: Mutex<SessionContext>,
}

impl Workspace {
    fn session(
        dir: &std::path::Path,
        as_of: Option<i64>,
        options: &SessionOptions,
    ) -> PyResult<SessionContext> {
        let ws = LeadqlWorkspace::open(dir).map_err(error)?;
        let ws = match as_of {
            Some(t) => ws.known_at(t).map_err(error)?,
            None => ws,
        };
        runtime()?
            .block_on(session::open(&ws, options))
            .map_err(error)
    }

    fn context(&self) -> PyResult<SessionContext> {
        self.ctx
            .lock()
            .map(|c| c.clone())
            .map_err(|_| Error::new_err("the workspace session was poisoned by a crash"))
    }
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
        let memory_limit = match memory_limit {
            None => None,
            Some(v) => Some(match v.extract::<usize>() {
                Ok(n) => n,
                Err(_) => {
                    let text: String = v.extract()?;
                    session::parse_size(&text).map_err(|e| {
                        Error::new_err(format!("invalid value '{text}' for 'memory_limit': {e}"))
                    })?
                }
            }),
        };
        let options = SessionOptions {
            memory_limit,
            ..SessionOptions::default()
        };
        let ctx = py.detach(|| Self::session(&path, as_of, &options))?;
        let dir = std::fs::canonicalize(&path).unwrap_or(path);
        Ok(Workspace {
            dir,
            as_of,
            options,
            ctx: Mutex::new(ctx),
        })
    }

    /// The workspace directory.
    #[getter]
    fn path(&self) -> PathBuf {
        self.dir.clone()
    }

    /// The instant the workspace is seen at ('YYYY-MM-DD HH:MM:SS'), or None.
    #[getter]
    fn as_of(&self) -> Option<String> {
        self.as_of
            .and_then(chrono::DateTime::from_timestamp_micros)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
    }

    /// The tables and views, sorted.
    fn tables(&self) -> PyResult<Vec<String>> {
        Ok(leadql::sql::table_names(&self.context()?))
    }

    /// Re-reads the workspace: files other processes wrote since it was opened (new
    /// imports, runs, model versions) become visible. Views and settings made with
    /// `sql` are dropped.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        let fresh = py.detach(|| Self::session(&self.dir, self.as_of, &self.options))?;
        let mut ctx = self
            .ctx
            .lock()
            .map_err(|_| Error::new_err("the workspace session was poisoned by a crash"))?;
        *ctx = fresh;
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
        let ctx = self.context()?;
        let stream = wait(py, run_statements(&ctx, query, params))?;
        Ok(Stream::new(stream))
    }

    /// The main job (`leadql run`): returns the summary as JSON text.
    #[pyo3(signature = (policy, out, as_of=None, retrain=false, top=5))]
    fn run(
        &self,
        py: Python<'_>,
        policy: String,
        out: PathBuf,
        as_of: Option<&str>,
        retrain: bool,
        top: usize,
    ) -> PyResult<String> {
        let as_of = as_of.map(|t| instant(t, "as_of")).transpose()?;
        let summary = py.detach(|| -> PyResult<leadql::run::RunSummary> {
            let _lock = leadql::lock::write_lock(&self.dir).map_err(error)?;
            let ws = LeadqlWorkspace::open(&self.dir).map_err(error)?;
            let at = as_of.or(self.as_of).or(ws.rule_models.default_as_of());
            let ws = match at {
                Some(t) => ws.known_at(t).map_err(error)?,
                None => ws,
            };
            let rt = runtime()?;
            let ctx = rt
                .block_on(session::open(&ws, &self.options))
                .map_err(error)?;
            let opts = leadql::run::RunOptions {
                policy,
                as_of: as_of.or(self.as_of),
                out,
                retrain,
                top,
            };
            rt.block_on(leadql::run::run(&ws, &ctx, &opts))
                .map_err(error)
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
        let ctx = self.context()?;
        py.detach(|| -> PyResult<u64> {
            let _lock = if leadql::lock::is_inside(&out, &self.dir) {
                Some(leadql::lock::write_lock(&self.dir).map_err(error)?)
            } else {
                None
            };
            let ws = LeadqlWorkspace::open(&self.dir).map_err(error)?;
            let ws = match self.as_of {
                Some(t) => ws.known_at(t).map_err(error)?,
                None => ws,
            };
            let opts = leadql::export::ExportOptions {
                source,
                out,
                format: format.raw(raw),
                partition_by,
            };
            runtime()?
                .block_on(leadql::export::export(&ws, &ctx, &opts))
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

/// Imports a CSV file or a LinkedIn Lead Gen Forms export into the workspace in
/// `data` (created when new or empty), as `leadql import` does; returns what it did as
/// JSON text.
#[pyfunction]
#[pyo3(signature = (data, file, kind="csv", mapping=None, map=Vec::new(), set=Vec::new(), keep_unmapped=false, delimiter=None, encoding=None, date_format=None, at=None, rejects=None, max_rejects=None, dry_run=false))]
#[allow(clippy::too_many_arguments)]
fn import_file(
    py: Python<'_>,
    data: PathBuf,
    file: PathBuf,
    kind: &str,
    mapping: Option<PathBuf>,
    map: Vec<(String, String)>,
    set: Vec<(String, String)>,
    keep_unmapped: bool,
    delimiter: Option<&str>,
    encoding: Option<&str>,
    date_format: Option<&str>,
    at: Option<&str>,
    rejects: Option<PathBuf>,
    max_rejects: Option<u64>,
    dry_run: bool,
) -> PyResult<String> {
    use leadql::import;
    let kind = match kind {
        "csv" => import::Kind::Csv,
        "linkedin" => import::Kind::Linkedin,
        other => {
            return Err(Error::new_err(format!(
                "invalid value '{other}' for 'kind': use csv or linkedin"
            )));
        }
    };
    let delimiter = delimiter
        .map(|d| {
            import::parse_delimiter(d)
                .map_err(|e| Error::new_err(format!("invalid value '{d}' for 'delimiter': {e}")))
        })
        .transpose()?;
    let encoding = encoding
        .map(|e| {
            e.parse::<import::decode::Encoding>()
                .map_err(|m| Error::new_err(format!("invalid value '{e}' for 'encoding': {m}")))
        })
        .transpose()?;
    let at = match at {
        Some(t) => instant(t, "at")?,
        None => chrono::Utc::now().timestamp() * 1_000_000,
    };
    let (mapping, label) = import::mapping_for(
        kind,
        mapping.as_deref(),
        &map,
        &set,
        date_format,
        keep_unmapped,
    )
    .map_err(error)?;
    let opts = import::ImportOptions {
        kind,
        file,
        mapping,
        mapping_label: label,
        delimiter,
        encoding,
        at,
        rejects,
        dry_run,
        max_rejects,
    };
    let r = py.detach(|| {
        runtime()?
            .block_on(import::import_into(
                &data,
                &opts,
                &SessionOptions::default(),
            ))
            .map_err(error)
    })?;
    let kept: Vec<serde_json::Value> = r
        .kept
        .iter()
        .map(|(column, name, ty)| serde_json::json!({"column": column, "name": name, "type": ty.label()}))
        .collect();
    let summary = serde_json::json!({
        "import_id": r.import_id,
        "encoding": r.encoding,
        "delimiter": r.delimiter.to_string(),
        "rows": r.rows,
        "imported": r.imported,
        "already_imported": r.skipped,
        "rejected": r.rejected,
        "warned": r.warned,
        "accounts_matched": r.accounts_matched,
        "accounts_created": r.accounts_created,
        "contacts_matched": r.contacts_matched,
        "contacts_created": r.contacts_created,
        "interactions": r.interactions,
        "kept": kept,
        "not_imported": r.ignored,
        "rejects_file": r.rejects_file.map(|p| p.display().to_string()),
        "dry_run": dry_run,
    });
    Ok(summary.to_string())
}

/// Runs every statement of `text` but the last, then plans and starts the last one.
async fn run_statements(
    ctx: &SessionContext,
    text: &str,
    params: Option<ParamValues>,
) -> PyResult<SendableRecordBatchStream> {
    let statements = leadql::sql::parse(text).map_err(error)?;
    let total = statements.len();
    if total == 0 {
        return Err(Error::new_err("no SQL statement given"));
    }
    let label = |i: usize, e: leadql::Error| {
        if total > 1 {
            Error::new_err(format!("statement {}: {e}", i + 1))
        } else {
            error(e)
        }
    };
    let mut params = params;
    for (i, statement) in statements.into_iter().enumerate() {
        let mut frame = leadql::sql::plan(ctx, statement)
            .await
            .map_err(|e| label(i, e))?;
        if i + 1 < total {
            frame
                .collect()
                .await
                .map_err(|e| label(i, leadql::sql::explain(ctx, e)))?;
            continue;
        }
        if let Some(p) = params.take() {
            frame = frame
                .with_param_values(p)
                .map_err(|e| label(i, leadql::sql::explain(ctx, e)))?;
        }
        return frame
            .execute_stream()
            .await
            .map_err(|e| label(i, leadql::sql::explain(ctx, e)));
    }
    Err(Error::new_err("no SQL statement given"))
}

/// A query result not read yet: an Arrow stream that pyarrow, polars, pandas (through
/// pyarrow) and DuckDB read through `__arrow_c_stream__`. It can be read once.
#[pyclass(name = "Stream", module = "leadql._leadql")]
struct Stream {
    schema: SchemaRef,
    source: Mutex<Option<Source>>,
}

/// Where a stream's batches come from.
enum Source {
    /// A running query, pulled batch by batch.
    Query(SendableRecordBatchStream),
    /// Batches already in memory.
    Batches(std::vec::IntoIter<RecordBatch>),
}

impl Stream {
    fn new(stream: SendableRecordBatchStream) -> Self {
        Stream {
            schema: stream.schema(),
            source: Mutex::new(Some(Source::Query(stream))),
        }
    }

    fn take(&self) -> PyResult<Source> {
        self.source
            .lock()
            .ok()
            .and_then(|mut s| s.take())
            .ok_or_else(|| Error::new_err("this result was already read (run the query again)"))
    }
}

#[pymethods]
impl Stream {
    /// The Arrow C stream of the result (the PyCapsule protocol); the stream is
    /// consumed. `requested_schema` is not supported: the result keeps its own types.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let reader = Reader {
            schema: self.schema.clone(),
            source: self.take()?,
        };
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }

    /// The Arrow C schema of the result (the PyCapsule protocol).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref())
            .map_err(|e| Error::new_err(e.to_string()))?;
        PyCapsule::new_with_value(py, schema, c"arrow_schema")
    }

    /// Reads the whole result into memory with the GIL released, so that errors
    /// during execution are raised here as `leadql.Error`; returns a stream over the
    /// batches read.
    fn collect(&self, py: Python<'_>) -> PyResult<Stream> {
        let source = self.take()?;
        let batches = match source {
            Source::Batches(b) => b.collect(),
            Source::Query(mut s) => wait(py, async move {
                let mut batches = Vec::new();
                while let Some(b) = s.next().await {
                    batches.push(b.map_err(|e| error(e.into()))?);
                }
                Ok(batches)
            })?,
        };
        Ok(Stream {
            schema: self.schema.clone(),
            source: Mutex::new(Some(Source::Batches(batches.into_iter()))),
        })
    }

    /// The column names.
    fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

/// The stream handed to Arrow consumers: a running query's batches are pulled on the
/// module's runtime as the consumer asks for them.
struct Reader {
    schema: SchemaRef,
    source: Source,
}

impl Iterator for Reader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Batches(b) => b.next().map(Ok),
            Source::Query(s) => {
                let rt = match runtime() {
                    Ok(rt) => rt,
                    Err(e) => return Some(Err(ArrowError::ExternalError(e.to_string().into()))),
                };
                rt.block_on(s.next()).map(|r| {
                    r.map_err(|e| {
                        ArrowError::ExternalError(leadql::Error::from(e).to_string().into())
                    })
                })
            }
        }
    }
}

impl RecordBatchReader for Reader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// The native module.
#[pymodule]
fn _leadql(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Workspace>()?;
    m.add_class::<Stream>()?;
    m.add_function(wrap_pyfunction!(default_data, m)?)?;
    m.add_function(wrap_pyfunction!(bundled_sample, m)?)?;
    m.add_function(wrap_pyfunction!(import_file, m)?)?;
    m.add("Error", m.py().get_type::<Error>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
