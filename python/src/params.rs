//! Query parameters from Python values: a list fills `$1`, `$2`, …, a dict fills
//! `$name`. `None` is NULL, `bool`, `int`, `float` and `str` map to Boolean, Int64,
//! Float64 and Utf8, `datetime.datetime` to a microsecond timestamp (naive: UTC;
//! aware: converted to UTC) and `datetime.date` to a Date32.

use datafusion::common::{ParamValues, ScalarValue};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyString};

use crate::Error;

/// The parameter values of `params` (a list, tuple or dict).
pub fn values(params: &Bound<'_, PyAny>) -> PyResult<ParamValues> {
    if let Ok(d) = params.cast::<PyDict>() {
        let mut map = std::collections::HashMap::new();
        for (k, v) in d.iter() {
            let name: String = k
                .extract()
                .map_err(|_| Error::new_err("params: dict keys must be parameter names (str)"))?;
            let value = scalar(&v).map_err(|e| Error::new_err(format!("params['{name}']: {e}")))?;
            map.insert(name.trim_start_matches('$').to_string(), value.into());
        }
        return Ok(ParamValues::Map(map));
    }
    if params.is_instance_of::<PyString>() || params.is_instance_of::<PyBytes>() {
        return Err(Error::new_err(
            "params: give a list (for $1, $2, …) or a dict (for $name), not a str or bytes",
        ));
    }
    let mut list = Vec::new();
    for (i, v) in params
        .try_iter()
        .map_err(|_| Error::new_err("params: give a list (for $1, $2, …) or a dict (for $name)"))?
        .enumerate()
    {
        let value = scalar(&v?).map_err(|e| Error::new_err(format!("params[{i}]: {e}")))?;
        list.push(value.into());
    }
    Ok(ParamValues::List(list))
}

/// One Python value as a SQL value.
fn scalar(v: &Bound<'_, PyAny>) -> Result<ScalarValue, String> {
    if v.is_none() {
        return Ok(ScalarValue::Null);
    }
    let kind = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    // bool before int: Python's bool is an int. NumPy's bool (bool_) is neither.
    if v.is_instance_of::<PyBool>() || kind == "bool_" || kind == "bool" {
        return Ok(ScalarValue::Boolean(Some(
            v.is_truthy().map_err(|e| e.to_string())?,
        )));
    }
    // int, and the integers of other libraries (NumPy's int64, …) through __index__.
    let integer = v.is_instance_of::<PyInt>()
        || (!v.is_instance_of::<PyFloat>() && v.hasattr("__index__").unwrap_or(false));
    if integer {
        let n: i64 = v
            .extract()
            .map_err(|_| "an int outside the 64-bit range".to_string())?;
        return Ok(ScalarValue::Int64(Some(n)));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(ScalarValue::Float64(Some(
            v.extract::<f64>().map_err(|e| e.to_string())?,
        )));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(ScalarValue::Utf8(Some(
            v.extract::<String>().map_err(|e| e.to_string())?,
        )));
    }
    // datetime before date: a datetime is a date.
    if v.is_instance_of::<PyDateTime>() {
        let micros = timestamp_micros(v).map_err(|e| e.to_string())?;
        return Ok(ScalarValue::TimestampMicrosecond(Some(micros), None));
    }
    if v.is_instance_of::<PyDate>() {
        let d = v
            .extract::<chrono::NaiveDate>()
            .map_err(|e| e.to_string())?;
        let days = d
            .signed_duration_since(chrono::DateTime::UNIX_EPOCH.date_naive())
            .num_days();
        let days = i32::try_from(days).map_err(|_| "a date out of range".to_string())?;
        return Ok(ScalarValue::Date32(Some(days)));
    }
    Err(format!(
        "unsupported type {kind} (use None, bool, int, float, str, datetime or date)"
    ))
}

/// A `datetime.datetime` in µs since the epoch: naive ones are UTC, aware ones (any
/// time zone: fixed offsets, zoneinfo, pytz, pandas) are converted to UTC by Python.
fn timestamp_micros(v: &Bound<'_, PyAny>) -> PyResult<i64> {
    let v = if v.getattr("tzinfo")?.is_none() {
        v.clone()
    } else {
        let py = v.py();
        let utc = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("tzinfo", py.None())?;
        v.call_method1("astimezone", (utc,))?
            .call_method("replace", (), Some(&kwargs))?
    };
    let t: chrono::NaiveDateTime = v.extract()?;
    Ok(t.and_utc().timestamp_micros())
}
