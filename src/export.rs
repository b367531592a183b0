//! `leadql export QUERY_OR_TABLE --out PATH`: a table, view or query written to
//! Parquet, CSV, JSON, NDJSON or Arrow, atomically.
//!
//! A single file is written beside its target and renamed into place, so readers see
//! the old file or the complete new one; a killed export leaves the old file and a
//! hidden temporary that the next export removes. `--partition-by COL` writes a
//! directory of Hive-style partitions (`COL=value/…`): it is built in a hidden sibling
//! directory and swapped in with two renames (the old directory moved aside, the new
//! one moved in, the old one removed). Parquet files carry, in their key-value
//! metadata, the query, the workspace's `as_of`, the rule models and every predictive
//! model's latest version.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::TableParquetOptions;
use datafusion::common::{Column, ScalarValue};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::logical_expr::{ColumnarValue, Expr, Volatility, create_udf};
use datafusion::prelude::{DataFrame, SessionContext};

use crate::atomic;
use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::output::{self, Destination, Format};
use crate::sql;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// A table or view name, or a query.
    pub source: String,
    /// Target file (or directory when partitioned).
    pub out: PathBuf,
    /// Output format.
    pub format: Format,
    /// Partition columns.
    pub partition_by: Vec<String>,
}

/// The format a file's extension names (Parquet when it names none).
pub fn format_of(out: &Path) -> Format {
    match out.extension().and_then(|e| e.to_str()) {
        Some("csv") => Format::Csv,
        Some("json") => Format::Json,
        Some("ndjson" | "jsonl") => Format::Ndjson,
        Some("arrow" | "arrows") => Format::Arrow,
        _ => Format::Parquet,
    }
}

/// The SQL for a source: `SELECT * FROM name` for a table or view, else the text.
fn source_sql(ctx: &SessionContext, source: &str) -> String {
    let trimmed = source.trim();
    let is_name = !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if is_name && ctx.table_exist(trimmed).unwrap_or(false) {
        format!("SELECT * FROM \"{trimmed}\"")
    } else {
        trimmed.trim_end_matches(';').to_string()
    }
}

/// Key-value metadata describing the export.
pub fn metadata(ws: &Workspace, query: &str) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "leadql.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        ("leadql.query".to_string(), query.to_string()),
    ];
    if let Some(t) = ws.rule_models.default_as_of()
        && let Some(d) = chrono::DateTime::from_timestamp_micros(t)
    {
        out.push((
            "leadql.as_of".into(),
            d.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string(),
        ));
    }
    let rules: Vec<&str> = ws.rule_models.names().collect();
    out.push(("leadql.rule_models".into(), rules.join(", ")));
    let predictive: Vec<String> = ws
        .predictive_models
        .store()
        .names()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| {
            ws.predictive_models
                .get("export", &n)
                .ok()
                .map(|m| format!("{n} v{}", m.version))
        })
        .collect();
    out.push(("leadql.predictive_models".into(), predictive.join(", ")));
    out
}

/// Runs an export; returns the rows written.
pub async fn export(ws: &Workspace, ctx: &SessionContext, opts: &ExportOptions) -> Result<u64> {
    if opts.format == Format::Table {
        return Err(Error::Argument {
            arg: "--format".into(),
            reason: "export writes files: parquet, csv, json, ndjson or arrow".into(),
        });
    }
    check_target(ws, &opts.out, !opts.partition_by.is_empty())?;
    let query = source_sql(ctx, &opts.source);
    let mut statements = sql::parse(&query)?;
    if statements.len() != 1 {
        return Err(Error::Argument {
            arg: "QUERY_OR_TABLE".into(),
            reason: format!(
                "export takes one table, view or query, got {} statements",
                statements.len()
            ),
        });
    }
    let statement = statements.pop_front().ok_or_else(|| Error::Argument {
        arg: "QUERY_OR_TABLE".into(),
        reason: "nothing to export".into(),
    })?;
    let frame = sql::plan(ctx, statement).await?;
    let metadata = metadata(ws, &query);
    if opts.partition_by.is_empty() {
        let stream = frame.execute_stream().await?;
        return output::write_with_metadata(
            stream,
            opts.format,
            &Destination::File(opts.out.clone()),
            0,
            &metadata,
        )
        .await;
    }
    for column in &opts.partition_by {
        if frame.schema().field_with_unqualified_name(column).is_err() {
            return Err(Error::Argument {
                arg: "--partition-by".into(),
                reason: format!("'{column}' is not a column of the result"),
            });
        }
    }
    partitioned(frame, opts, &metadata).await
}

/// The file in a partitioned export's directory that marks it as one: only such a
/// directory is ever replaced by another export.
pub const EXPORT_MARKER: &str = ".leadql-export";

/// Refuses targets an export must never replace: `/` or a path without a file name,
/// the workspace or a directory containing it, a directory that is not an earlier
/// partitioned export, and a directory where a file is to be written.
fn check_target(ws: &Workspace, out: &Path, partitioned: bool) -> Result<()> {
    let refuse = |reason: String| Error::Argument {
        arg: "--out".into(),
        reason: format!("{}: {reason}", out.display()),
    };
    let Some(name) = out.file_name() else {
        return Err(refuse("names no file".into()));
    };
    // The absolute target: its parent resolved (it may not exist yet), then its name.
    let parent = match out.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    let absolute = match fs::canonicalize(&parent) {
        Ok(p) => p.join(name),
        Err(_) => out.to_path_buf(),
    };
    let resolved = fs::canonicalize(&absolute).unwrap_or(absolute);
    if ws.dir.starts_with(&resolved) {
        return Err(refuse(format!(
            "is the workspace {} or contains it; export elsewhere",
            ws.dir.display()
        )));
    }
    if resolved.is_dir() {
        if !partitioned {
            return Err(refuse(
                "is a directory; give a file name (or --partition-by to write a directory)".into(),
            ));
        }
        if !resolved.join(EXPORT_MARKER).is_file() {
            return Err(refuse(format!(
                "exists and is not an earlier leadql export (no {EXPORT_MARKER} in it): remove it or choose another --out"
            )));
        }
    } else if partitioned && resolved.exists() {
        return Err(refuse(
            "is a file, and a partitioned export writes a directory".into(),
        ));
    }
    Ok(())
}

/// Writes a partitioned directory aside, then swaps it in.
async fn partitioned(
    frame: DataFrame,
    opts: &ExportOptions,
    metadata: &[(String, String)],
) -> Result<u64> {
    let target = &opts.out;
    let temp = atomic::temp_path(target);
    atomic::remove_stale_temporaries(target);
    let _ = fs::remove_dir_all(&temp);
    fs::create_dir_all(&temp).map_err(|e| Error::io(&temp, e))?;
    let guard = TempDir(temp.clone());
    let path = format!("{}/", temp.display());
    let write = DataFrameWriteOptions::new().with_partition_by(opts.partition_by.clone());
    let counts = match opts.format {
        Format::Parquet => {
            let mut options = TableParquetOptions::default();
            options.global.compression = Some("zstd(1)".into());
            options.key_value_metadata = metadata
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect::<HashMap<_, _>>();
            frame.write_parquet(&path, write, Some(options)).await?
        }
        Format::Csv => {
            neutralised(frame, &opts.partition_by)?
                .write_csv(&path, write, None)
                .await?
        }
        Format::CsvRaw => frame.write_csv(&path, write, None).await?,
        Format::Ndjson | Format::Json => frame.write_json(&path, write, None).await?,
        other => {
            return Err(Error::Argument {
                arg: "--partition-by".into(),
                reason: format!("partitioned export writes parquet, csv or ndjson, not {other}"),
            });
        }
    };
    let rows: u64 = counts
        .iter()
        .filter_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::UInt64Array>()
                .map(|a| a.iter().flatten().sum::<u64>())
        })
        .sum();
    fs::write(
        temp.join(EXPORT_MARKER),
        format!("written by leadql {}\n", env!("CARGO_PKG_VERSION")),
    )
    .map_err(|e| Error::io(temp.join(EXPORT_MARKER), e))?;
    swap_in(&temp, target)?;
    std::mem::forget(guard);
    Ok(rows)
}

/// `frame` with the formula-like cells of its text columns neutralised
/// ([`output::neutralise_array`]), except the partition columns, which become directory
/// names rather than cells.
fn neutralised(frame: DataFrame, partition_by: &[String]) -> Result<DataFrame> {
    let exprs: Vec<Expr> = frame
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            let text = matches!(
                field.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            );
            if !text || partition_by.contains(field.name()) {
                return column;
            }
            let guard = create_udf(
                "csv_formula_guard",
                vec![field.data_type().clone()],
                field.data_type().clone(),
                Volatility::Immutable,
                Arc::new(|args: &[ColumnarValue]| match &args[0] {
                    ColumnarValue::Array(a) => Ok(ColumnarValue::Array(
                        output::neutralise_array(a.as_ref()).unwrap_or_else(|| a.clone()),
                    )),
                    ColumnarValue::Scalar(v) => {
                        let a = v.to_array()?;
                        match output::neutralise_array(a.as_ref()) {
                            Some(safe) => Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                                &safe, 0,
                            )?)),
                            None => Ok(ColumnarValue::Scalar(v.clone())),
                        }
                    }
                }),
            );
            guard.call(vec![column]).alias(field.name())
        })
        .collect();
    Ok(frame.select(exprs)?)
}

/// Moves `new` to `target`, replacing a previous directory or file.
fn swap_in(new: &Path, target: &Path) -> Result<()> {
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let old = target.with_file_name(format!(
        ".{}.old.{}",
        target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let had_old = target.exists();
    if had_old {
        fs::rename(target, &old).map_err(|e| Error::io(target, e))?;
    }
    if let Err(e) = fs::rename(new, target) {
        if had_old {
            let _ = fs::rename(&old, target);
        }
        return Err(Error::io(target, e));
    }
    atomic::sync_parent(target);
    if had_old {
        let _ = fs::remove_dir_all(&old).or_else(|_| fs::remove_file(&old));
    }
    Ok(())
}

/// Removes a temporary directory unless forgotten.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
