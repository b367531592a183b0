//! `leadql export`: writes a table, view or query to a file, atomically, in Parquet,
//! CSV, JSON, NDJSON or Arrow (the format given, else the one the file's extension
//! names), optionally as Hive-style partitions.

use std::path::PathBuf;

use clap::ValueEnum;
use clap::builder::{PossibleValuesParser, TypedValueParser};

use super::{Cli, data_dir, reading_workspace, write_lock_if_inside};
use crate::error::Result;
use crate::export;
use crate::output::Format;

/// Arguments of `leadql export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// A table or view name, or a query.
    source: String,
    /// Target file (a directory with --partition-by).
    #[arg(long, short = 'o', value_name = "PATH")]
    out: PathBuf,
    /// parquet, csv, json, ndjson or arrow (default: from the extension, else parquet).
    #[arg(long, value_parser = file_format(), hide_possible_values = true)]
    format: Option<Format>,
    /// Write Hive-style partitions by these columns (repeatable or comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "COLUMN")]
    partition_by: Vec<String>,
    /// CSV: write text cells as they are. By default a cell starting with =, +, -,
    /// @, a tab or a carriage return (not a plain signed number) gets a leading
    /// single quote, so spreadsheets do not run it as a formula (OWASP).
    #[arg(long)]
    raw: bool,
}

/// The formats of files: every output format but the table.
fn file_format() -> impl TypedValueParser<Value = Format> {
    let names = Format::value_variants()
        .iter()
        .filter(|f| **f != Format::Table)
        .filter_map(ValueEnum::to_possible_value);
    PossibleValuesParser::new(names).try_map(|name| Format::from_str(&name, false))
}

/// Runs `leadql export`.
pub async fn execute(cli: &Cli, args: &ExportArgs) -> Result<()> {
    crate::object_stores::refuse_url("--out", &args.out)?;
    if cli.cluster.is_some() && !args.partition_by.is_empty() {
        // The executors would write the folder, each where its own filesystem has it.
        return Err(crate::error::Error::Argument {
            arg: "--partition-by".into(),
            reason: "not with --cluster: export one file (the result streams to this machine), or partition without --cluster".into(),
        });
    }
    let format = args.format.unwrap_or_else(|| export::format_of(&args.out));
    let _lock = write_lock_if_inside(&data_dir(cli), &args.out)?;
    let ws = reading_workspace(cli)?;
    let ctx = super::open_session(cli, &ws).await?;
    let opts = export::ExportOptions {
        source: args.source.clone(),
        out: args.out.clone(),
        format: format.raw(args.raw),
        partition_by: args.partition_by.clone(),
    };
    let rows = export::export(&ws, &ctx, &opts).await?;
    eprintln!("exported {rows} rows to {} ({format})", args.out.display());
    Ok(())
}
