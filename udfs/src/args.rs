//! Reading the constant arguments of table functions. DataFusion hands a table
//! function its arguments as expressions, before anything runs; these helpers evaluate
//! a constant one (a literal, `TIMESTAMP '…'`, `now() - INTERVAL '30 days'`) and check
//! its type, with errors that name the function and the argument. (Scalar functions get
//! evaluated values and check their own: see `lead_grade` and `predict_score`.)

use datafusion::arrow::array::RecordBatchOptions;
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{DFSchema, Result, ScalarValue, plan_err};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{ColumnarValue, Expr};
use std::sync::Arc;

/// Evaluates a constant expression (a literal, `TIMESTAMP '…'`, `now() - INTERVAL …`).
pub fn constant(state: &SessionState, expr: &Expr) -> Result<ScalarValue> {
    if let Expr::Literal(v, _) = expr {
        return Ok(v.clone());
    }
    let physical = state.create_physical_expr(expr.clone(), &DFSchema::empty())?;
    let batch = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )?;
    match physical.evaluate(&batch)? {
        ColumnarValue::Scalar(v) => Ok(v),
        ColumnarValue::Array(a) => ScalarValue::try_from_array(&a, 0),
    }
}

/// Argument `name` of `function` as a non-NULL string constant.
pub fn string(state: &SessionState, function: &str, name: &str, expr: &Expr) -> Result<String> {
    match constant(state, expr) {
        Ok(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
        ) => Ok(s),
        Ok(other) => {
            plan_err!("{function}: argument {name} must be a string literal, got {other:?}")
        }
        Err(_) => plan_err!("{function}: argument {name} must be a constant string, got {expr}"),
    }
}

/// An instant (µs since the epoch) as a timestamp literal, e.g. an `as_of` argument
/// passed to another function.
pub fn instant(micros: i64) -> Expr {
    datafusion::logical_expr::lit(ScalarValue::TimestampMicrosecond(Some(micros), None))
}

/// Argument `name` of `function` as an instant in microseconds since the epoch.
pub fn timestamp_micros(
    state: &SessionState,
    function: &str,
    name: &str,
    expr: &Expr,
) -> Result<i64> {
    let value = match constant(state, expr) {
        Ok(v) => v,
        Err(_) => {
            return plan_err!(
                "{function}: argument {name} must be a constant timestamp, got {expr}"
            );
        }
    };
    if value.is_null() {
        return plan_err!("{function}: argument {name} is NULL");
    }
    let cast = value.cast_to(&DataType::Timestamp(TimeUnit::Microsecond, None));
    match cast {
        Ok(ScalarValue::TimestampMicrosecond(Some(v), _)) => Ok(v),
        _ => plan_err!(
            "{function}: argument {name} must be a timestamp such as TIMESTAMP '2026-06-30 00:00:00', got {value}"
        ),
    }
}
