//! `leadql sql`: runs one or more SQL statements (from the command line and from
//! files) over the workspace and prints the result, or writes it to a file.
//!
//! The table format shows every statement's result; the machine formats carry one
//! result, the last statement's (earlier statements, such as views and settings, run).

use std::path::PathBuf;

use super::{Cli, data_dir, reading_workspace, write_lock_if_inside};
use crate::error::{Error, Result};
use crate::output::{self, Destination, Format};
use crate::sql;

/// Arguments of `leadql sql`.
#[derive(Debug, clap::Args)]
pub struct SqlArgs {
    /// SQL text (one or more statements separated by ';').
    query: Option<String>,
    /// Read SQL from a file (repeatable; files run in order, after QUERY).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format: table, csv, json, ndjson, parquet or arrow (Arrow IPC stream).
    #[arg(long, value_enum, default_value_t = Format::Table, hide_possible_values = true)]
    format: Format,
    /// Write the result to this file (atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    output: Option<PathBuf>,
    /// Rows shown by the table format (0 = all).
    #[arg(long, default_value_t = 1000)]
    max_rows: usize,
    /// Print each statement's wall time (planning, execution and output) on stderr.
    #[arg(long)]
    timing: bool,
    /// CSV: write text cells as they are. By default a cell starting with =, +, -,
    /// @, a tab or a carriage return (not a plain signed number) gets a leading
    /// single quote, so spreadsheets do not run it as a formula (OWASP).
    #[arg(long)]
    raw: bool,
}

/// Runs `leadql sql`.
pub async fn execute(cli: &Cli, args: &SqlArgs) -> Result<()> {
    if let Some(out) = &args.output {
        crate::object_stores::refuse_url("--output", out)?;
    }
    let format = args.format.raw(args.raw);
    let mut texts: Vec<(String, String)> = Vec::new();
    if let Some(q) = &args.query {
        texts.push(("QUERY".into(), q.clone()));
    }
    for f in &args.files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
        texts.push((f.display().to_string(), text));
    }
    if texts.is_empty() {
        return Err(Error::Argument {
            arg: "QUERY".into(),
            reason: "give a query or -f FILE".into(),
        });
    }
    let _lock = match &args.output {
        Some(p) => write_lock_if_inside(&data_dir(cli), p)?,
        None => None,
    };
    let ws = reading_workspace(cli)?;
    let ctx = super::open_session(cli, &ws).await?;
    let destination = match &args.output {
        Some(p) => Destination::File(p.clone()),
        None => Destination::Stdout,
    };
    let mut statements = Vec::new();
    for (origin, text) in &texts {
        let parsed = sql::parse(text).map_err(|e| with_origin(e, origin, texts.len()))?;
        statements.extend(parsed.into_iter().map(|s| (origin.clone(), s)));
    }
    let total = statements.len();
    for (i, (origin, statement)) in statements.into_iter().enumerate() {
        let started = std::time::Instant::now();
        let last = i + 1 == total;
        let label = |e: Error| {
            if total > 1 {
                Error::Query(format!("{origin}, statement {}: {e}", i + 1))
            } else {
                e
            }
        };
        if format == Format::Table || last {
            let stream = sql::stream(&ctx, statement).await.map_err(label)?;
            output::write(stream, format, &destination, args.max_rows).await?;
        } else {
            // Machine formats carry one result: earlier statements (views,
            // settings) run, the last statement's result is written.
            sql::plan(&ctx, statement)
                .await
                .map_err(label)?
                .collect()
                .await
                .map_err(|e| label(e.into()))?;
        }
        if args.timing {
            eprintln!("time: {:.3} s", started.elapsed().as_secs_f64());
        }
    }
    Ok(())
}

/// A syntax error named after the file (or QUERY) it is in, when there are several
/// sources or the one source is a file.
fn with_origin(e: Error, origin: &str, sources: usize) -> Error {
    if sources > 1 || origin != "QUERY" {
        match e {
            Error::SqlSyntax(m) => Error::SqlSyntax(format!("{origin}: {m}")),
            other => other,
        }
    } else {
        e
    }
}
