//! The native half of the `leadql` Python package (`leadql._leadql`): a workspace
//! session that runs everything `leadql sql` accepts and hands results to Python as
//! Arrow C streams (the `__arrow_c_stream__` PyCapsule protocol that pyarrow, polars
//! and DuckDB read without a copy), the main job, imports and exports.
//!
//! Work runs on one Tokio runtime per process ([`runtime`]) while the calling thread
//! waits with the GIL released and Ctrl-C cancels; a result is pulled batch by batch
//! as the consumer reads it, so a large result is read in bounded memory ([`stream`]).
//! Errors become `leadql.Error` with the one-line message the command line prints
//! after `error: `.

use std::path::PathBuf;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;

mod import;
mod params;
mod runtime;
mod stream;
mod workspace;

pyo3::create_exception!(
    leadql,
    Error,
    PyException,
    "An error leadql reports: bad SQL, an unknown table or model, a damaged workspace, …; \
     the message is the one the command line prints."
);

/// A leadql error as a Python exception.
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

/// Parses an instant, UTC: `YYYY-MM-DD HH:MM:SS[.ffffff]` or `YYYY-MM-DD` (midnight);
/// µs since the epoch.
fn instant(text: &str, argument: &str) -> PyResult<i64> {
    let parsed = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
        .map_err(|_| {
            Error::new_err(format!(
                "invalid value '{text}' for '{argument}': expected 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD' (UTC)"
            ))
        })?;
    Ok(parsed.and_utc().timestamp_micros())
}

/// The native module.
#[pymodule]
fn _leadql(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<workspace::Workspace>()?;
    m.add_class::<stream::Stream>()?;
    m.add_function(wrap_pyfunction!(default_data, m)?)?;
    m.add_function(wrap_pyfunction!(bundled_sample, m)?)?;
    m.add_function(wrap_pyfunction!(import::import_file, m)?)?;
    m.add("Error", m.py().get_type::<Error>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
