//! `leadql import csv|linkedin FILE`: captures leads from a CSV file (columns mapped by
//! a mapping file, `--map`, or header names) or a LinkedIn Lead Gen Forms export,
//! creating the workspace in a new or empty directory, and reports what was imported,
//! skipped and rejected ([`crate::import`]).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::{Cli, at_or_now, data_dir, instant, pair, refuse_as_of, session_options};
use crate::error::Result;
use crate::import::{self, decode::Encoding};

/// Arguments of `leadql import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The kind of file.
    #[command(subcommand)]
    source: ImportSource,
}

/// Kinds of import.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A CSV file. Columns map to lead fields by --mapping FILE, --map FIELD=COLUMN,
    /// and otherwise by header names (Email, First Name, Company, …).
    Csv {
        /// The file.
        file: PathBuf,
        /// Mapping file (TOML; see data/README.md).
        #[arg(long, value_name = "MAP")]
        mapping: Option<PathBuf>,
        /// Map a lead field to a file column (repeatable; overrides the mapping file).
        #[arg(long = "map", value_name = "FIELD=COLUMN", value_parser = pair)]
        map: Vec<(String, String)>,
        /// Options of every import.
        #[command(flatten)]
        common: CommonArgs,
    },
    /// A LinkedIn Lead Gen Forms CSV export (First Name, Last Name, Email Address,
    /// Company Name, Job Title, Country, Phone Number, Lead ID, Form Name, Campaign
    /// Name, Submitted At); each submission is also recorded as a form_submit
    /// interaction.
    Linkedin {
        /// The file.
        file: PathBuf,
        /// Options of every import.
        #[command(flatten)]
        common: CommonArgs,
    },
}

/// Options of every import.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Set a lead field to a constant where the file has no value (repeatable), e.g.
    /// --set source=event --set consent=marketing.
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = pair)]
    set: Vec<(String, String)>,
    /// Field delimiter (default: detected among , ; tab |).
    #[arg(long, value_parser = import::parse_delimiter)]
    delimiter: Option<u8>,
    /// An encoding label: utf-8, utf-16le, utf-16be, windows-1252, latin1, iso-8859-15, …
    /// (default: detected).
    #[arg(long)]
    encoding: Option<Encoding>,
    /// chrono format of dates that are not ISO 8601, e.g. "%d/%m/%Y %H:%M".
    #[arg(long, value_name = "FORMAT")]
    date_format: Option<String>,
    /// Instant of the import, 'YYYY-MM-DD HH:MM:SS' (default: now, UTC).
    #[arg(long, value_name = "INSTANT", value_parser = instant)]
    at: Option<DateTime<Utc>>,
    /// Rejects file (default: _rejects/ in the workspace).
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
    /// Refuse the whole import when more rows than this are rejected.
    #[arg(long, value_name = "N")]
    max_rejects: Option<u64>,
    /// Read, check and report; write nothing to the workspace.
    #[arg(long)]
    dry_run: bool,
    /// Rows that match an existing lead (lead_duplicates' matcher, default threshold):
    /// flag imports them and lists the pairs in _rejects/…-duplicates.csv, skip leaves
    /// them out (listed there too), keep does not check.
    #[arg(long, value_enum, default_value_t = import::duplicates::OnDuplicate::Flag)]
    on_duplicate: import::duplicates::OnDuplicate,
    /// Keep every column the mapping does not use as an extra lead column, named like
    /// [extra] columns ("Plan Tier" -> plan_tier) and typed from its values: int, float
    /// (plain digits: 00123, 1,200 and 3,5 stay text), bool (true/false or yes/no),
    /// timestamp, else text; empty cells are NULL. A later import must fit the types
    /// stored before (whole numbers fit a float column, anything a text column; 2.5
    /// does not fit an int column), else it fails naming column and line and writes
    /// nothing. A name clashing with a lead column or another column is an error.
    #[arg(long)]
    keep_unmapped: bool,
}

/// Runs `leadql import`.
pub async fn execute(cli: &Cli, args: &ImportArgs) -> Result<()> {
    refuse_as_of(cli, "import")?;
    let (kind, file, mapping_file, map, common) = match &args.source {
        ImportSource::Csv {
            file,
            mapping,
            map,
            common,
        } => (
            import::Kind::Csv,
            file,
            mapping.as_deref(),
            map.as_slice(),
            common,
        ),
        ImportSource::Linkedin { file, common } => {
            (import::Kind::Linkedin, file, None, [].as_slice(), common)
        }
    };
    let (mapping, label) = import::mapping_for(
        kind,
        mapping_file,
        map,
        &common.set,
        common.date_format.as_deref(),
        common.keep_unmapped,
    )?;
    let opts = import::ImportOptions {
        kind,
        file: file.clone(),
        mapping,
        mapping_label: label,
        delimiter: common.delimiter,
        encoding: common.encoding,
        at: at_or_now(common.at),
        rejects: common.rejects.clone(),
        dry_run: common.dry_run,
        max_rejects: common.max_rejects,
        on_duplicate: common.on_duplicate,
    };
    let r = import::import_into(&data_dir(cli), &opts, &session_options(cli)).await?;
    eprintln!(
        "{}{}: {} rows ({}, delimiter {:?}): {} imported, {} already imported, {} rejected; \
         accounts: {} matched, {} created; contacts: {} matched, {} created; {} interactions",
        if common.dry_run {
            "dry run, nothing written: "
        } else {
            ""
        },
        file.display(),
        r.rows,
        r.encoding,
        r.delimiter,
        r.imported,
        r.skipped,
        r.rejected,
        r.accounts_matched,
        r.accounts_created,
        r.contacts_matched,
        r.contacts_created,
        r.interactions
    );
    if !r.kept.is_empty() {
        let kept: Vec<String> = r
            .kept
            .iter()
            .map(|(column, name, ty)| {
                if column != name {
                    format!("{column} as {name} ({})", ty.label())
                } else {
                    format!("{name} ({})", ty.label())
                }
            })
            .collect();
        eprintln!("kept as extra lead columns: {}", kept.join(", "));
    }
    if !r.ignored.is_empty() {
        eprintln!("columns not imported: {}", r.ignored.join(", "));
    }
    if r.warned > 0 {
        eprintln!(
            "{} rows imported with warnings: an invalid optional field stored as NULL, or a phone of no possible length for its country kept as written (warning rows in the rejects file)",
            r.warned
        );
    }
    if r.duplicates > 0 {
        eprintln!(
            "{} rows match an existing lead ({}): {}",
            r.duplicates,
            if common.on_duplicate == import::duplicates::OnDuplicate::Skip {
                "not imported"
            } else {
                "imported, flagged"
            },
            r.duplicates_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    if let Some(p) = &r.rejects_file {
        eprintln!(
            "rejected rows, with line, column and reason: {}",
            p.display()
        );
    }
    Ok(())
}
