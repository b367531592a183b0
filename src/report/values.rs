//! Small query results read back into Rust values for the report: each column of a
//! collected result by name, cast to the type the page shows, NULL as `None`.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::prelude::DataFrame;

use crate::error::{Error, Result};

/// A collected result.
#[derive(Debug, Default)]
pub(super) struct Rows {
    batches: Vec<RecordBatch>,
}

impl Rows {
    /// Runs `frame` and keeps its rows.
    pub(super) async fn of(frame: DataFrame) -> Result<Self> {
        Ok(Rows {
            batches: frame.collect().await?,
        })
    }

    /// Number of rows.
    pub(super) fn len(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    fn cast(&self, name: &str, to: &DataType) -> Result<Vec<std::sync::Arc<dyn Array>>> {
        self.batches
            .iter()
            .map(|b| {
                let column = b
                    .column_by_name(name)
                    .ok_or_else(|| Error::Query(format!("report: no column '{name}'")))?;
                datafusion::arrow::compute::cast(column, to)
                    .map_err(|e| Error::Query(format!("report: column '{name}': {e}")))
            })
            .collect()
    }

    /// The column `name` as text.
    pub(super) fn strings(&self, name: &str) -> Result<Vec<Option<String>>> {
        let mut out = Vec::with_capacity(self.len());
        for a in self.cast(name, &DataType::Utf8)? {
            let s = a.as_string::<i32>();
            out.extend((0..s.len()).map(|i| (!s.is_null(i)).then(|| s.value(i).to_string())));
        }
        Ok(out)
    }

    /// The column `name` as floats (NaN as `None`).
    pub(super) fn floats(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let mut out = Vec::with_capacity(self.len());
        for a in self.cast(name, &DataType::Float64)? {
            let f = a.as_primitive::<Float64Type>();
            out.extend(
                (0..f.len()).map(|i| (!f.is_null(i)).then(|| f.value(i)).filter(|v| !v.is_nan())),
            );
        }
        Ok(out)
    }

    /// The column `name` as integers.
    pub(super) fn ints(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let mut out = Vec::with_capacity(self.len());
        for a in self.cast(name, &DataType::Int64)? {
            let n = a.as_primitive::<Int64Type>();
            out.extend((0..n.len()).map(|i| (!n.is_null(i)).then(|| n.value(i))));
        }
        Ok(out)
    }

    /// The timestamp column `name` in µs since the epoch.
    pub(super) fn instants(&self, name: &str) -> Result<Vec<Option<i64>>> {
        let mut out = Vec::with_capacity(self.len());
        for a in self.cast(name, &DataType::Timestamp(TimeUnit::Microsecond, None))? {
            let a = datafusion::arrow::compute::cast(&a, &DataType::Int64)
                .map_err(|e| Error::Query(format!("report: column '{name}': {e}")))?;
            let n = a.as_primitive::<Int64Type>();
            out.extend((0..n.len()).map(|i| (!n.is_null(i)).then(|| n.value(i))));
        }
        Ok(out)
    }

    /// The column `name` as booleans.
    pub(super) fn bools(&self, name: &str) -> Result<Vec<Option<bool>>> {
        let mut out = Vec::with_capacity(self.len());
        for a in self.cast(name, &DataType::Boolean)? {
            let b = a.as_boolean();
            out.extend((0..b.len()).map(|i| (!b.is_null(i)).then(|| b.value(i))));
        }
        Ok(out)
    }
}
