//! Arrow columns to the feature pipeline's raw columns.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, plan_err};
use leadql_models::features::{RawColumn, Transform};

/// Converts one Arrow column (all batches of it) into a [`RawColumn`].
pub fn raw_column(name: &str, arrays: &[ArrayRef]) -> Result<RawColumn> {
    let Some(first) = arrays.first() else {
        return Ok(RawColumn::Numeric(Vec::new()));
    };
    let t = first.data_type().clone();
    Ok(if t.is_numeric() {
        let mut out = Vec::new();
        for a in arrays {
            let f = cast(a, &DataType::Float64)?;
            out.extend(f.as_primitive::<Float64Type>().iter());
        }
        RawColumn::Numeric(out)
    } else if t == DataType::Boolean {
        RawColumn::Bool(
            arrays
                .iter()
                .flat_map(|a| a.as_boolean().iter().collect::<Vec<_>>())
                .collect(),
        )
    } else if matches!(
        t,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
    ) {
        let mut out = Vec::new();
        for a in arrays {
            let ts = cast(a, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            out.extend(ts.as_primitive::<TimestampMicrosecondType>().iter());
        }
        RawColumn::Timestamp(out)
    } else if matches!(
        t,
        DataType::Utf8
            | DataType::Utf8View
            | DataType::LargeUtf8
            | DataType::Dictionary(_, _)
            | DataType::Null
    ) {
        let mut out = Vec::new();
        for a in arrays {
            let s = cast(a, &DataType::Utf8)?;
            out.extend(s.as_string::<i32>().iter().map(|v| v.map(str::to_string)));
        }
        RawColumn::Text(out)
    } else {
        return plan_err!(
            "column '{name}' has type {t}, which cannot be a model feature (use numbers, strings, booleans or timestamps)"
        );
    })
}

/// `rows` missing values of the kind `transform` reads.
pub fn missing(transform: &Transform, rows: usize) -> RawColumn {
    match transform {
        Transform::Numeric { .. } => RawColumn::Numeric(vec![None; rows]),
        Transform::Boolean { .. } => RawColumn::Bool(vec![None; rows]),
        Transform::Timestamp { .. } => RawColumn::Timestamp(vec![None; rows]),
        Transform::Categorical { .. } => RawColumn::Text(vec![None; rows]),
    }
}

/// Number of rows of the first array set.
pub fn rows(arrays: &[ArrayRef]) -> usize {
    arrays.iter().map(|a| a.len()).sum()
}
