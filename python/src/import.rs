//! `leadql.import_csv`: leads from a CSV file or a LinkedIn Lead Gen Forms export, as
//! `leadql import` takes them (the same library entry points), with the outcome as a
//! dict.

use std::path::PathBuf;

use pyo3::prelude::*;

use leadql::session::SessionOptions;

use crate::runtime::{WRITER, wait};
use crate::{Error, error, instant};

/// Imports a CSV file or a LinkedIn Lead Gen Forms export into the workspace in
/// `data` (created when new or empty), as `leadql import` does; returns what it did as
/// JSON text.
#[pyfunction]
#[pyo3(signature = (data, file, kind="csv", mapping=None, map=Vec::new(), set=Vec::new(), keep_unmapped=false, delimiter=None, encoding=None, date_format=None, at=None, rejects=None, max_rejects=None, dry_run=false))]
#[allow(clippy::too_many_arguments)]
pub fn import_file(
    py: Python<'_>,
    data: PathBuf,
    file: PathBuf,
    kind: &str,
    mapping: Option<PathBuf>,
    map: Vec<(String, String)>,
    set: Vec<(String, String)>,
    keep_unmapped: bool,
    delimiter: Option<&str>,
    encoding: Option<&str>,
    date_format: Option<&str>,
    at: Option<&str>,
    rejects: Option<PathBuf>,
    max_rejects: Option<u64>,
    dry_run: bool,
) -> PyResult<String> {
    use leadql::import;
    let kind = match kind {
        "csv" => import::Kind::Csv,
        "linkedin" => import::Kind::Linkedin,
        other => {
            return Err(Error::new_err(format!(
                "invalid value '{other}' for 'kind': use csv or linkedin"
            )));
        }
    };
    if matches!(kind, import::Kind::Linkedin) && mapping.is_some() {
        return Err(Error::new_err(
            "'mapping' does not apply to a LinkedIn export (its columns are fixed)",
        ));
    }
    let delimiter = delimiter
        .map(|d| {
            import::parse_delimiter(d)
                .map_err(|e| Error::new_err(format!("invalid value '{d}' for 'delimiter': {e}")))
        })
        .transpose()?;
    let encoding = encoding
        .map(|e| {
            e.parse::<import::decode::Encoding>()
                .map_err(|m| Error::new_err(format!("invalid value '{e}' for 'encoding': {m}")))
        })
        .transpose()?;
    let at = match at {
        Some(t) => instant(t, "at")?,
        None => chrono::Utc::now().timestamp() * 1_000_000,
    };
    let (mapping, label) = import::mapping_for(
        kind,
        mapping.as_deref(),
        &map,
        &set,
        date_format,
        keep_unmapped,
    )
    .map_err(error)?;
    let opts = import::ImportOptions {
        kind,
        file,
        mapping,
        mapping_label: label,
        delimiter,
        encoding,
        at,
        rejects,
        dry_run,
        max_rejects,
        on_duplicate: import::duplicates::OnDuplicate::Flag,
    };
    let r = wait(py, async move {
        let _writer = WRITER.lock().await;
        import::import_into(&data, &opts, &SessionOptions::default())
            .await
            .map_err(error)
    })?;
    let kept: Vec<serde_json::Value> = r
        .kept
        .iter()
        .map(|(column, name, ty)| serde_json::json!({"column": column, "name": name, "type": ty.label()}))
        .collect();
    let summary = serde_json::json!({
        "import_id": r.import_id,
        "encoding": r.encoding,
        "delimiter": r.delimiter.to_string(),
        "rows": r.rows,
        "imported": r.imported,
        "already_imported": r.skipped,
        "rejected": r.rejected,
        "warned": r.warned,
        "accounts_matched": r.accounts_matched,
        "accounts_created": r.accounts_created,
        "contacts_matched": r.contacts_matched,
        "contacts_created": r.contacts_created,
        "interactions": r.interactions,
        "kept": kept,
        "not_imported": r.ignored,
        "rejects_file": r.rejects_file.map(|p| p.display().to_string()),
        "dry_run": dry_run,
    });
    Ok(summary.to_string())
}
