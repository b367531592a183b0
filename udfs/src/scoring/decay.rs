//! `decay(points, event_time, as_of, half_life_days)`: points that lose half their
//! value every `half_life_days` before `as_of`.
//!
//! ```sql
//! SELECT lead_id, sum(decay(5, occurred_at, TIMESTAMP '2026-06-30 00:00:00', 30)) AS engagement
//! FROM interactions WHERE type = 'pricing_page_visit' GROUP BY lead_id;
//! ```
//!
//! Events after `as_of` have not happened yet at that instant and count 0. A NULL
//! argument gives NULL; a half-life that is not a positive number is an error.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::catalogue::{Build, Entry, Function, RULE_SCORING};

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// The `decay` function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Decay {
    signature: Signature,
}

/// A [`ScalarUDF`] for `decay`.
pub fn decay_udf() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(Decay {
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

/// The SQL name.
pub const NAME: &str = "decay";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Standalone(|| Function::Scalar(decay_udf())),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        RULE_SCORING,
        "Points that lose half their value every `half_life_days`: `points × 0.5^(age_days / half_life_days)`, the age measured from `event_time` back to `as_of`. Events after `as_of` have not happened yet at that instant and count 0. NULL when any argument is NULL; a half-life that is not a positive number is an error.",
        "decay(points, event_time, as_of, half_life_days)",
    )
    .with_argument("points", "Points of the event (a number).")
    .with_argument("event_time", "When the event happened (a timestamp; dates and timestamp strings are cast).")
    .with_argument("as_of", "The instant the points are valued at (a timestamp).")
    .with_argument("half_life_days", "Days after which the points are worth half (a positive number).")
    .with_sql_example(
        "> SELECT decay(10, TIMESTAMP '2026-06-01 00:00:00', TIMESTAMP '2026-07-01 00:00:00', 30) AS points;
+--------+
| points |
+--------+
| 5.0    |
+--------+
> SELECT lead_id, round(sum(decay(10, occurred_at, TIMESTAMP '2026-06-30 00:00:00', 30)), 2) AS pricing_interest
  FROM interactions WHERE type = 'pricing_page_visit'
  GROUP BY lead_id ORDER BY pricing_interest DESC, lead_id LIMIT 3;
+---------+------------------+
| lead_id | pricing_interest |
+---------+------------------+
| 4714    | 26.91            |
| 4929    | 26.41            |
| 4599    | 23.47            |
+---------+------------------+",
    )
    .with_related_udf("lead_grade")
    .with_related_udf("score_leads")
    .build()
});

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

/// `points` `age_us` µs after the event, halved every `half_life` days (0 before it).
fn decayed(points: f64, age_us: i64, half_life: f64) -> f64 {
    if age_us < 0 {
        0.0
    } else {
        points * (-(age_us as f64 / MICROS_PER_DAY) / half_life).exp2()
    }
}

/// The common calls — a constant as_of and half-life over a column of event times, with
/// constant points or a column of them — in one pass that keeps the inputs' null
/// masks. `None` when the arguments are not of that shape.
fn constant_instant_and_half_life(args: &[ColumnarValue]) -> Result<Option<ArrayRef>> {
    use datafusion::arrow::array::new_null_array;
    use datafusion::arrow::compute::binary;
    use datafusion::common::ScalarValue;
    let [
        points,
        ColumnarValue::Array(event),
        ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(as_of, _)),
        ColumnarValue::Scalar(ScalarValue::Float64(half_life)),
    ] = args
    else {
        return Ok(None);
    };
    if !matches!(
        event.data_type(),
        DataType::Timestamp(TimeUnit::Microsecond, _)
    ) {
        return Ok(None);
    }
    let nulls = || Ok(Some(new_null_array(&DataType::Float64, event.len())));
    let (Some(as_of), Some(hl)) = (*as_of, *half_life) else {
        return nulls();
    };
    if !(hl.is_finite() && hl > 0.0) {
        return exec_err!("decay: half_life_days must be a positive number, got {hl}");
    }
    let event = event.as_primitive::<TimestampMicrosecondType>();
    let values: Float64Array = match points {
        ColumnarValue::Scalar(ScalarValue::Float64(Some(p))) => {
            event.unary(|t| decayed(*p, as_of.saturating_sub(t), hl))
        }
        ColumnarValue::Scalar(ScalarValue::Float64(None)) => return nulls(),
        ColumnarValue::Array(p) if p.data_type() == &DataType::Float64 => {
            binary(p.as_primitive::<Float64Type>(), event, |p, t| {
                decayed(p, as_of.saturating_sub(t), hl)
            })?
        }
        _ => return Ok(None),
    };
    Ok(Some(Arc::new(values)))
}

impl ScalarUDFImpl for Decay {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 4 {
            return plan_err!(
                "decay expects 4 arguments (points, event_time, as_of, half_life_days), got {}",
                arg_types.len()
            );
        }
        let names = ["points", "event_time", "as_of", "half_life_days"];
        let mut out = Vec::with_capacity(4);
        for (i, t) in arg_types.iter().enumerate() {
            let numeric_arg = i == 0 || i == 3;
            let ok = if numeric_arg {
                t.is_numeric() || t.is_null()
            } else {
                matches!(
                    t,
                    DataType::Timestamp(_, _)
                        | DataType::Date32
                        | DataType::Date64
                        | DataType::Utf8
                        | DataType::Utf8View
                        | DataType::LargeUtf8
                        | DataType::Null
                )
            };
            if !ok {
                return plan_err!(
                    "decay argument {} ({}) must be {}, got {t}",
                    i + 1,
                    names[i],
                    if numeric_arg {
                        "a number"
                    } else {
                        "a timestamp"
                    }
                );
            }
            out.push(if numeric_arg {
                DataType::Float64
            } else {
                timestamp()
            });
        }
        Ok(out)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let n = args.number_rows;
        if let Some(values) = constant_instant_and_half_life(&args.args)? {
            return Ok(ColumnarValue::Array(values));
        }
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(n))
            .collect::<Result<_>>()?;
        let points = arrays[0].as_primitive::<Float64Type>();
        let event = arrays[1].as_primitive::<TimestampMicrosecondType>();
        let as_of = arrays[2].as_primitive::<TimestampMicrosecondType>();
        let half_life = arrays[3].as_primitive::<Float64Type>();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            if points.is_null(i) || event.is_null(i) || as_of.is_null(i) || half_life.is_null(i) {
                out.push(None);
                continue;
            }
            let hl = half_life.value(i);
            if !(hl.is_finite() && hl > 0.0) {
                return exec_err!("decay: half_life_days must be a positive number, got {hl}");
            }
            out.push(Some(decayed(
                points.value(i),
                as_of.value(i).saturating_sub(event.value(i)),
                hl,
            )));
        }
        let array = Float64Array::from(out);
        if all_scalar {
            return Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&array, 0)?,
            ));
        }
        Ok(ColumnarValue::Array(Arc::new(array)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Float64Array;
    use datafusion::prelude::SessionContext;

    async fn values(sql: &str) -> Result<Vec<Option<f64>>, String> {
        let ctx = SessionContext::new();
        crate::register_all(&ctx).map_err(|e| e.to_string())?;
        let batches = ctx
            .sql(sql)
            .await
            .map_err(|e| e.to_string())?
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for b in batches {
            let a = b
                .column(0)
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or("not f64")?;
            out.extend(a.iter());
        }
        Ok(out)
    }

    #[tokio::test]
    async fn one_half_life_halves_the_points() {
        // 30 days between 2026-06-01 and 2026-07-01: exactly one half-life.
        let v = values("SELECT decay(10, TIMESTAMP '2026-06-01 00:00:00', TIMESTAMP '2026-07-01 00:00:00', 30)").await;
        assert_eq!(v, Ok(vec![Some(5.0)]));
    }

    #[tokio::test]
    async fn future_events_count_zero_and_nulls_propagate() {
        let v = values(
            "SELECT decay(p, t, TIMESTAMP '2026-07-01 00:00:00', h) FROM (VALUES \
             (8.0, TIMESTAMP '2026-07-02 00:00:00', 30.0), \
             (8.0, TIMESTAMP '2026-07-01 00:00:00', 30.0), \
             (NULL, TIMESTAMP '2026-06-01 00:00:00', 30.0), \
             (4.0, TIMESTAMP '2026-05-02 00:00:00', 30.0)) AS t(p, t, h)",
        )
        .await;
        assert_eq!(v, Ok(vec![Some(0.0), Some(8.0), None, Some(1.0)]));
    }

    #[tokio::test]
    async fn constant_arguments_over_an_event_column_match_the_row_by_row_values() {
        // Points, as_of and half-life constant: the one-pass path, with a NULL event.
        let sql = |points: &str, half_life: &str| {
            format!(
                "SELECT decay({points}, t, TIMESTAMP '2026-07-01 00:00:00', {half_life}) FROM (VALUES \
                 (TIMESTAMP '2026-07-02 00:00:00'), (TIMESTAMP '2026-07-01 00:00:00'), \
                 (CAST(NULL AS TIMESTAMP)), (TIMESTAMP '2026-05-02 00:00:00')) AS t(t)"
            )
        };
        let v = values(&sql("4", "30")).await;
        assert_eq!(v, Ok(vec![Some(0.0), Some(4.0), None, Some(1.0)]));
        // Points from a column (a CASE over the rows), NULL where the CASE has none.
        let v = values(&sql(
            "CASE WHEN t < TIMESTAMP '2026-06-01 00:00:00' THEN 4 WHEN t < TIMESTAMP '2026-07-02 00:00:00' THEN 2 END",
            "30",
        ))
        .await;
        assert_eq!(v, Ok(vec![None, Some(2.0), None, Some(1.0)]));
        let v = values(&sql("CAST(NULL AS DOUBLE)", "30")).await;
        assert_eq!(v, Ok(vec![None, None, None, None]));
        let e = values(&sql("4", "-1"))
            .await
            .expect_err("negative half-life");
        assert!(
            e.contains("half_life_days must be a positive number, got -1"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn non_positive_half_life_is_an_error() {
        let e = values(
            "SELECT decay(1, TIMESTAMP '2026-06-01 00:00:00', TIMESTAMP '2026-07-01 00:00:00', 0)",
        )
        .await;
        let msg = e.expect_err("half-life 0 must fail");
        assert!(
            msg.contains("half_life_days must be a positive number"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn wrong_arity_and_types_are_plan_errors() {
        let e = values("SELECT decay(1, TIMESTAMP '2026-06-01 00:00:00', 30)")
            .await
            .expect_err("arity");
        assert!(e.contains("decay expects 4 arguments"), "{e}");
        let e = values("SELECT decay('x', TIMESTAMP '2026-06-01 00:00:00', TIMESTAMP '2026-06-02 00:00:00', 30)")
            .await
            .expect_err("type");
        assert!(e.contains("argument 1 (points) must be a number"), "{e}");
    }
}
