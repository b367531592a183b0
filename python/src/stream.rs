//! Query results handed to Python: a [`Stream`] is read once, through the Arrow C
//! stream interface (`__arrow_c_stream__`, which pyarrow, polars and DuckDB consume
//! without a copy) or whole by [`Stream::collect`].
//!
//! A running query is pumped by a task on the package's runtime into a channel of two
//! batches, which the consumer's thread reads: memory stays bounded whatever the size
//! of the result, and reading works from any thread, also one inside another Tokio
//! runtime. An error or a panic while the query runs ends the stream with an error,
//! never a silently shorter result.

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

use datafusion::arrow::array::{RecordBatch, RecordBatchReader};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ffi::FFI_ArrowSchema;
use datafusion::arrow::ffi_stream::FFI_ArrowArrayStream;
use datafusion::execution::SendableRecordBatchStream;
use futures::{FutureExt, StreamExt};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::runtime::{runtime, wait};
use crate::{Error, error};

/// Where a result's batches come from.
pub enum Source {
    /// A running query.
    Query(SendableRecordBatchStream),
    /// Batches already in memory.
    Batches(Vec<RecordBatch>),
}

/// A query result not read yet: an Arrow stream that pyarrow, polars, pandas (through
/// pyarrow) and DuckDB read through `__arrow_c_stream__`. It can be read once.
#[pyclass(name = "Stream", module = "leadql._leadql")]
pub struct Stream {
    schema: SchemaRef,
    source: Mutex<Option<Source>>,
}

impl Stream {
    /// A stream of `source`'s batches, all of schema `schema`.
    pub fn new(schema: SchemaRef, source: Source) -> Self {
        Stream {
            schema,
            source: Mutex::new(Some(source)),
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
        let batches = match self.take()? {
            Source::Batches(b) => Batches::Memory(b.into_iter()),
            Source::Query(s) => Batches::Pumped(pump(s)?),
        };
        let reader = Reader {
            schema: self.schema.clone(),
            batches,
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

    /// Reads the whole result into memory with the GIL released (Ctrl-C cancels), so
    /// that errors while the query runs are raised here as `leadql.Error`; returns a
    /// stream over the batches read.
    fn collect(&self, py: Python<'_>) -> PyResult<Stream> {
        let batches = match self.take()? {
            Source::Batches(b) => b,
            Source::Query(mut s) => wait(py, async move {
                let mut batches = Vec::new();
                while let Some(b) = s.next().await {
                    batches.push(b.map_err(|e| error(e.into()))?);
                }
                Ok(batches)
            })?,
        };
        Ok(Stream::new(self.schema.clone(), Source::Batches(batches)))
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

/// Starts pulling `stream` on the runtime into a channel of two batches.
fn pump(
    mut stream: SendableRecordBatchStream,
) -> PyResult<tokio::sync::mpsc::Receiver<Result<RecordBatch, String>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    runtime()?.spawn(async move {
        loop {
            let item = match AssertUnwindSafe(stream.next()).catch_unwind().await {
                Ok(None) => break,
                Ok(Some(Ok(batch))) => Ok(batch),
                Ok(Some(Err(e))) => Err(leadql::Error::from(e).to_string()),
                Err(_) => {
                    Err("internal error: a panic while the query ran (please report it)".into())
                }
            };
            let failed = item.is_err();
            // The reader is gone (dropped early): stop the query.
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    Ok(rx)
}

/// The batches a [`Reader`] hands out.
enum Batches {
    Memory(std::vec::IntoIter<RecordBatch>),
    Pumped(tokio::sync::mpsc::Receiver<Result<RecordBatch, String>>),
}

/// The stream handed to Arrow consumers.
struct Reader {
    schema: SchemaRef,
    batches: Batches,
}

impl Iterator for Reader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.batches {
            Batches::Memory(b) => b.next().map(Ok),
            // Not Tokio's blocking_recv, which refuses to run inside a runtime.
            Batches::Pumped(rx) => futures::executor::block_on(rx.recv())
                .map(|r| r.map_err(|e| ArrowError::ExternalError(e.into()))),
        }
    }
}

impl RecordBatchReader for Reader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
