//! Writing query results: an aligned table for people, CSV / JSON / NDJSON for tools,
//! Parquet for files and the Arrow IPC stream for Python and other Arrow readers.
//!
//! Results stream batch by batch (the table format keeps only the rows it shows), so
//! exporting a large result needs memory for one batch, not the whole result. Output to
//! a file is atomic ([`crate::atomic`]): the file appears complete or not at all.

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::json::writer::{
    JsonArray, LineDelimited, WriterBuilder as JsonWriterBuilder,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;

use crate::atomic::AtomicFile;
use crate::error::{Error, Result};

/// Output formats of `leadql sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text table (for people).
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Parquet (to `--output`, or to a non-terminal stdout).
    Parquet,
    /// Arrow IPC stream.
    Arrow,
}

impl Format {
    /// Every format's name.
    pub const NAMES: &'static [&'static str] =
        &["table", "csv", "json", "ndjson", "parquet", "arrow"];

    fn is_binary(self) -> bool {
        matches!(self, Format::Parquet | Format::Arrow)
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "table" => Format::Table,
            "csv" => Format::Csv,
            "json" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            "parquet" => Format::Parquet,
            "arrow" => Format::Arrow,
            other => {
                return Err(Error::Argument {
                    arg: "--format".into(),
                    reason: format!(
                        "unknown format '{other}' (expected one of: {})",
                        Format::NAMES.join(", ")
                    ),
                });
            }
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = [
            Format::Table,
            Format::Csv,
            Format::Json,
            Format::Ndjson,
            Format::Parquet,
            Format::Arrow,
        ]
        .iter()
        .position(|x| x == self)
        .unwrap_or(0);
        f.write_str(Format::NAMES[i])
    }
}

/// Where results go.
#[derive(Debug, Clone)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A file, replaced atomically.
    File(PathBuf),
}

/// The next batch of a DataFusion stream, errors converted.
async fn next_batch(stream: &mut SendableRecordBatchStream) -> Result<Option<RecordBatch>> {
    match stream.next().await {
        Some(Ok(b)) => Ok(Some(b)),
        Some(Err(e)) => Err(e.into()),
        None => Ok(None),
    }
}

fn write_err(path: &Path, e: impl fmt::Display) -> Error {
    let reason = e.to_string();
    if reason.contains("Broken pipe") {
        return Error::io(path, io::Error::from(io::ErrorKind::BrokenPipe));
    }
    Error::Write {
        path: path.to_path_buf(),
        reason,
    }
}

/// Writes a result stream. `max_rows` limits the rows shown by the table format
/// (0 = all). Returns the number of rows in the result.
pub async fn write(
    stream: SendableRecordBatchStream,
    format: Format,
    destination: &Destination,
    max_rows: usize,
) -> Result<u64> {
    write_with_metadata(stream, format, destination, max_rows, &[]).await
}

/// [`write`], with key-value metadata stored in the file: in the Parquet footer's
/// key-value metadata, in the Arrow IPC schema's metadata (text formats carry none).
pub async fn write_with_metadata(
    mut stream: SendableRecordBatchStream,
    format: Format,
    destination: &Destination,
    max_rows: usize,
    metadata: &[(String, String)],
) -> Result<u64> {
    let schema = stream.schema();
    if matches!(destination, Destination::Stdout)
        && format.is_binary()
        && io::stdout().is_terminal()
    {
        return Err(Error::Argument {
            arg: "--format".into(),
            reason: format!(
                "{format} is binary: write it to a file with --output PATH or redirect stdout"
            ),
        });
    }
    match destination {
        Destination::Stdout => {
            let label = Path::new("<stdout>");
            let mut out = io::BufWriter::new(io::stdout());
            let rows = write_into(
                &mut stream,
                &schema,
                format,
                &mut out,
                label,
                max_rows,
                metadata,
            )
            .await?;
            out.flush().map_err(|e| Error::io(label, e))?;
            Ok(rows)
        }
        Destination::File(path) => {
            let mut file = AtomicFile::create(path)?;
            let rows = write_into(
                &mut stream,
                &schema,
                format,
                &mut file,
                path,
                max_rows,
                metadata,
            )
            .await?;
            file.commit()?;
            Ok(rows)
        }
    }
}

async fn write_into<W: Write + Send>(
    stream: &mut SendableRecordBatchStream,
    schema: &SchemaRef,
    format: Format,
    out: W,
    label: &Path,
    max_rows: usize,
    metadata: &[(String, String)],
) -> Result<u64> {
    let mut rows = 0u64;
    match format {
        Format::Table => {
            let mut out = out;
            let mut shown: Vec<RecordBatch> = Vec::new();
            let mut shown_rows = 0usize;
            while let Some(b) = next_batch(stream).await? {
                rows += b.num_rows() as u64;
                if max_rows == 0 || shown_rows < max_rows {
                    let take = if max_rows == 0 {
                        b.num_rows()
                    } else {
                        b.num_rows().min(max_rows - shown_rows)
                    };
                    shown_rows += take;
                    shown.push(b.slice(0, take));
                }
            }
            if schema.fields().is_empty() {
                return Ok(rows);
            }
            if shown.is_empty() {
                shown.push(RecordBatch::new_empty(schema.clone()));
            }
            let table = pretty_format_batches(&shown).map_err(|e| write_err(label, e))?;
            writeln!(out, "{table}").map_err(|e| Error::io(label, e))?;
            let plural = if rows == 1 { "" } else { "s" };
            if (shown_rows as u64) < rows {
                writeln!(
                    out,
                    "({rows} row{plural}, first {shown_rows} shown; use --max-rows 0 for all)"
                )
            } else {
                writeln!(out, "({rows} row{plural})")
            }
            .map_err(|e| Error::io(label, e))?;
        }
        Format::Csv => {
            let mut w = CsvWriterBuilder::new().with_header(true).build(out);
            let mut any = false;
            while let Some(b) = next_batch(stream).await? {
                rows += b.num_rows() as u64;
                w.write(&b).map_err(|e| write_err(label, e))?;
                any = true;
            }
            if !any {
                // A header even for an empty result.
                w.write(&RecordBatch::new_empty(schema.clone()))
                    .map_err(|e| write_err(label, e))?;
            }
        }
        Format::Json => {
            let mut w = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, JsonArray>(out);
            while let Some(b) = next_batch(stream).await? {
                rows += b.num_rows() as u64;
                w.write(&b).map_err(|e| write_err(label, e))?;
            }
            w.finish().map_err(|e| write_err(label, e))?;
            let mut out = w.into_inner();
            if rows == 0 {
                // arrow writes nothing at all for zero rows: emit an empty array.
                out.write_all(b"[]").map_err(|e| Error::io(label, e))?;
            }
            out.write_all(b"\n").map_err(|e| Error::io(label, e))?;
        }
        Format::Ndjson => {
            let mut w = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, LineDelimited>(out);
            while let Some(b) = next_batch(stream).await? {
                rows += b.num_rows() as u64;
                w.write(&b).map_err(|e| write_err(label, e))?;
            }
            w.finish().map_err(|e| write_err(label, e))?;
        }
        Format::Parquet => {
            let key_values: Vec<KeyValue> = metadata
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
                .collect();
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
                .set_key_value_metadata((!key_values.is_empty()).then_some(key_values))
                .build();
            let mut w = ArrowWriter::try_new(out, schema.clone(), Some(props))
                .map_err(|e| write_err(label, e))?;
            while let Some(b) = next_batch(stream).await? {
                rows += b.num_rows() as u64;
                w.write(&b).map_err(|e| write_err(label, e))?;
            }
            w.close().map_err(|e| write_err(label, e))?;
        }
        Format::Arrow => {
            let mut described = schema.as_ref().clone();
            described
                .metadata
                .extend(metadata.iter().map(|(k, v)| (k.clone(), v.clone())));
            let described = Arc::new(described);
            let mut w = StreamWriter::try_new(out, &described).map_err(|e| write_err(label, e))?;
            while let Some(b) = next_batch(stream).await? {
                rows += b.num_rows() as u64;
                let b = b
                    .with_schema(described.clone())
                    .map_err(|e| write_err(label, e))?;
                w.write(&b).map_err(|e| write_err(label, e))?;
            }
            w.finish().map_err(|e| write_err(label, e))?;
        }
    }
    Ok(rows)
}
