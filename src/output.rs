//! Writing query results: an aligned table for people, CSV / JSON / NDJSON for tools,
//! Parquet for files and the Arrow IPC stream for Python and other Arrow readers.
//!
//! Results stream batch by batch (the table format keeps only the rows it shows), so
//! exporting a large result needs memory for one batch, not the whole result. Output to
//! a file is atomic ([`crate::atomic`]): the file appears complete or not at all.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, StringArray, StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
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
    /// CSV with a header row; text cells that a spreadsheet would read as a formula
    /// are neutralised ([`neutralise_formulas`]).
    Csv,
    /// CSV with a header row, text cells written as they are (`--raw`).
    CsvRaw,
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
    /// The format's name (`csv` for both CSV variants).
    fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv | Format::CsvRaw => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
        }
    }

    fn is_binary(self) -> bool {
        matches!(self, Format::Parquet | Format::Arrow)
    }
}

/// The names of `--format` (`jsonl` is another name of `ndjson`; `--raw` CSV is
/// `csv --raw`, not a name of its own).
impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Format::Table,
            Format::Csv,
            Format::Json,
            Format::Ndjson,
            Format::Parquet,
            Format::Arrow,
        ]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let value = clap::builder::PossibleValue::new(self.name());
        match self {
            Format::CsvRaw => None,
            Format::Ndjson => Some(value.alias("jsonl")),
            _ => Some(value),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Format {
    /// This format with `--raw` applied: CSV text cells written as they are.
    pub fn raw(self, raw: bool) -> Format {
        match self {
            Format::Csv if raw => Format::CsvRaw,
            other => other,
        }
    }
}

/// Whether a text cell would be read by a spreadsheet as a formula: it starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP's CSV-injection list). A plain
/// signed number (`-5`, `+442079460958`, `-0.25`) is not: it evaluates to itself.
pub fn is_formula_like(cell: &str) -> bool {
    let Some(first) = cell.chars().next() else {
        return false;
    };
    if !matches!(first, '=' | '+' | '-' | '@' | '\t' | '\r') {
        return false;
    }
    if matches!(first, '+' | '-') {
        let rest = &cell[1..];
        let (int, frac) = rest.split_once('.').unwrap_or((rest, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(int) && digits(frac) {
            return false;
        }
    }
    true
}

fn guard_cell(cell: &str) -> Cow<'_, str> {
    if is_formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A text array with formula-like cells ([`is_formula_like`]) prefixed by a single
/// quote, as OWASP recommends for CSV files opened in spreadsheets; `None` when the
/// array is not text or no cell needs it. Other types (numbers, dates) are untouched.
pub fn neutralise_array(array: &dyn Array) -> Option<ArrayRef> {
    fn any<'a>(mut cells: impl Iterator<Item = Option<&'a str>>) -> bool {
        cells.any(|c| c.is_some_and(is_formula_like))
    }
    match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            any(a.iter()).then(|| {
                Arc::new(a.iter().map(|c| c.map(guard_cell)).collect::<StringArray>()) as ArrayRef
            })
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            any(a.iter()).then(|| {
                Arc::new(
                    a.iter()
                        .map(|c| c.map(guard_cell))
                        .collect::<LargeStringArray>(),
                ) as ArrayRef
            })
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            any(a.iter()).then(|| {
                Arc::new(
                    a.iter()
                        .map(|c| c.map(guard_cell))
                        .collect::<StringViewArray>(),
                ) as ArrayRef
            })
        }
        DataType::Dictionary(_, value)
            if matches!(
                value.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            let plain = cast(array, value.as_ref()).ok()?;
            neutralise_array(plain.as_ref())
                .map(|a| cast(a.as_ref(), array.data_type()).unwrap_or(a))
        }
        _ => None,
    }
}

/// [`neutralise_array`] on every column of a batch.
pub fn neutralise_formulas(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let mut columns = batch.columns().to_vec();
    let mut changed = false;
    for c in columns.iter_mut() {
        if let Some(safe) = neutralise_array(c.as_ref()) {
            *c = safe;
            changed = true;
        }
    }
    if changed {
        RecordBatch::try_new(batch.schema(), columns)
    } else {
        Ok(batch)
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
        Format::Csv | Format::CsvRaw => {
            let mut w = CsvWriterBuilder::new().with_header(true).build(out);
            let mut any = false;
            while let Some(b) = next_batch(stream).await? {
                rows += b.num_rows() as u64;
                let b = if format == Format::Csv {
                    neutralise_formulas(b).map_err(|e| write_err(label, e))?
                } else {
                    b
                };
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
