//! Hand-built workspace tables for tests: columns given by name, the rest NULL.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    new_null_array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::ArrowWriter;
use leadql::schema::Table;

/// µs since the epoch of `YYYY-MM-DD HH:MM:SS`.
pub fn micros(ts: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M:%S")
        .expect("timestamp")
        .and_utc()
        .timestamp_micros()
}

/// A timestamp column.
pub fn times(v: &[&str]) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(
        v.iter().map(|t| micros(t)).collect::<Vec<_>>(),
    ))
}

/// A text column.
pub fn texts(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

/// An id column.
pub fn ids(v: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(v.to_vec()))
}

/// Writes `table` as `part-0.parquet` with the given columns; the others are NULL
/// (or, where the schema forbids NULL, empty text, zero, false or the epoch).
pub fn write(dir: &Path, table: &Table, rows: usize, given: Vec<(&str, ArrayRef)>) {
    write_part(dir, table, "part-0.parquet", rows, given);
}

fn placeholder(t: &DataType, rows: usize) -> ArrayRef {
    let base: ArrayRef = match t {
        DataType::Boolean => Arc::new(BooleanArray::from(vec![false; rows])),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => {
            Arc::new(StringArray::from(vec![""; rows]))
        }
        _ => Arc::new(Int64Array::from(vec![0; rows])),
    };
    cast(&base, t).expect("placeholder castable")
}

/// Writes one more file of `table` with the given columns; the others are NULL.
pub fn write_part(
    dir: &Path,
    table: &Table,
    file: &str,
    rows: usize,
    given: Vec<(&str, ArrayRef)>,
) {
    let schema = table.schema();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match given.iter().find(|(n, _)| *n == f.name()) {
            Some((_, a)) => cast(a, f.data_type()).expect("castable"),
            None if f.is_nullable() => new_null_array(f.data_type(), rows),
            None => placeholder(f.data_type(), rows),
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).expect("valid batch");
    fs::create_dir_all(dir.join(table.name)).expect("mkdir");
    let file = fs::File::create(dir.join(table.name).join(file)).expect("create");
    let mut w = ArrowWriter::try_new(file, schema, None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

/// The batches of `sql` in `ctx`, panicking with the statement on error.
pub async fn rows(ctx: &datafusion::prelude::SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
