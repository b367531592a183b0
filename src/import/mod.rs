//! `leadql import csv|linkedin FILE`: capturing leads from files.
//!
//! A file is decoded ([`decode`]), its columns mapped to lead fields ([`mapping`]; with
//! `--keep-unmapped` the others kept as extra lead columns, typed by [`infer`]), each
//! row read and validated ([`rows`]), and the good rows linked to existing contacts (by
//! email) and accounts (by corporate email domain, else company name), creating the
//! missing ones ([`link`]). Rows are identified by their source id or content
//! (`lead_imports.row_key`), so rows imported before are skipped: importing the same
//! file twice adds nothing. Refused rows go to a rejects CSV with their line, column and
//! reason. New rows are written to new Parquet files as one change of the workspace
//! ([`crate::commit`]): after a failure or a kill at any point, the import is there
//! entirely or not at all.

pub mod decode;
pub mod duplicates;
pub mod infer;
pub mod link;
pub mod mapping;
pub mod rows;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use sha2::{Digest, Sha256};

use crate::atomic;
use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::output::{self, Destination, Format};
use crate::schema::{self, Table};
use decode::Encoding;
use mapping::{ExtraType, Mapping};
use rows::{Lead, Reject};

/// Which kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A CSV with a mapping.
    Csv,
    /// A LinkedIn Lead Gen Forms export.
    Linkedin,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Csv => "csv",
            Kind::Linkedin => "linkedin",
        }
    }
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Kind of file.
    pub kind: Kind,
    /// The file.
    pub file: PathBuf,
    /// The column mapping.
    pub mapping: Mapping,
    /// Where the mapping came from (a file, `linkedin`, `automatic`).
    pub mapping_label: String,
    /// Delimiter (overrides the mapping's and detection).
    pub delimiter: Option<u8>,
    /// Encoding (overrides the mapping's and detection).
    pub encoding: Option<Encoding>,
    /// Instant of the import (µs): `created_at` of leads without one, of new accounts
    /// and contacts, and of the import log.
    pub at: i64,
    /// Rejects file (default: `_rejects/` in the workspace).
    pub rejects: Option<PathBuf>,
    /// Check and report without writing to the workspace.
    pub dry_run: bool,
    /// Refuse the whole import when more rows than this are rejected.
    pub max_rejects: Option<u64>,
    /// What to do with rows that match an existing lead ([`duplicates`]).
    pub on_duplicate: duplicates::OnDuplicate,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    /// Its `imports.import_id` (0 when nothing was written).
    pub import_id: i64,
    /// Encoding used.
    pub encoding: String,
    /// Delimiter used.
    pub delimiter: char,
    /// Data rows read.
    pub rows: u64,
    /// Leads added.
    pub imported: u64,
    /// Rows imported before (or repeated in the file).
    pub skipped: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Leads linked to an existing account.
    pub accounts_matched: u64,
    /// Accounts created.
    pub accounts_created: u64,
    /// Leads linked to an existing contact.
    pub contacts_matched: u64,
    /// Contacts created.
    pub contacts_created: u64,
    /// Interactions recorded.
    pub interactions: u64,
    /// Header columns not imported.
    pub ignored: Vec<String>,
    /// Columns kept by `--keep-unmapped`: file column, stored name and type.
    pub kept: Vec<(String, String, ExtraType)>,
    /// Rows imported with warnings: an invalid optional field stored as NULL, or a
    /// phone of no possible length for its country (libphonenumber's metadata), kept
    /// (each a warning row in the rejects file).
    pub warned: u64,
    /// The rejects file, when rows were refused or warned about.
    pub rejects_file: Option<PathBuf>,
    /// Rows that match an existing lead (flagged, or not imported with `skip`).
    pub duplicates: u64,
    /// The file listing them.
    pub duplicates_file: Option<PathBuf>,
}

/// Where a file's columns go: the mapping file (`--mapping`), else LinkedIn's fixed
/// mapping, else header names; then `--map FIELD=COLUMN`, `--set FIELD=VALUE`,
/// `--date-format` and `--keep-unmapped` on top. Returns the mapping and its label.
#[allow(clippy::too_many_arguments)]
pub fn mapping_for(
    kind: Kind,
    mapping_file: Option<&Path>,
    map: &[(String, String)],
    set: &[(String, String)],
    date_format: Option<&str>,
    keep_unmapped: bool,
) -> Result<(Mapping, String)> {
    let (mut m, label) = match (kind, mapping_file) {
        (Kind::Linkedin, _) => (mapping::linkedin(), "linkedin".to_string()),
        (Kind::Csv, Some(path)) => (mapping::read(path)?, path.display().to_string()),
        (Kind::Csv, None) => (Mapping::default(), "automatic".to_string()),
    };
    for (field, column) in map {
        m.columns.insert(field.clone(), column.clone());
    }
    for (field, value) in set {
        m.set.insert(field.clone(), value.clone());
    }
    if let Some(f) = date_format {
        m.date_format = Some(f.to_string());
    }
    m.keep_unmapped = keep_unmapped;
    Ok((m, label))
}

/// Imports into the workspace in `dir` under its write lock (none for a dry run),
/// creating an empty workspace there when `dir` is new or empty: what `leadql import`
/// and the Python package's `import_csv` run.
pub async fn import_into(
    dir: &Path,
    opts: &ImportOptions,
    session: &crate::session::SessionOptions,
) -> Result<Imported> {
    let _lock = if opts.dry_run {
        None
    } else {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Some(crate::lock::write_lock(dir)?)
    };
    if crate::catalog::new_or_empty(dir)? {
        let leads = dir.join(schema::LEADS.name);
        std::fs::create_dir_all(&leads).map_err(|e| Error::io(&leads, e))?;
    }
    let ws = Workspace::open(dir)?;
    let ctx = crate::session::open(&ws, session).await?;
    import(&ws, &ctx, opts).await
}

/// The delimiter given as text: one character, `\t` or `tab`.
pub fn parse_delimiter(text: &str) -> std::result::Result<u8, String> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() => Ok(t.as_bytes()[0]),
        t => Err(format!(
            "'{t}' is not a one-character delimiter (or \\t / tab)"
        )),
    }
}

/// Imports a file into the workspace.
pub async fn import(
    ws: &Workspace,
    ctx: &SessionContext,
    opts: &ImportOptions,
) -> Result<Imported> {
    let file_err = |reason: String| Error::Argument {
        arg: opts.file.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(&opts.file).map_err(|e| Error::io(&opts.file, e))?;
    let bytes = decode::gunzip(bytes).map_err(&file_err)?;
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let forced = match (opts.encoding, &opts.mapping.encoding) {
        (Some(e), _) => Some(e),
        (None, Some(text)) => Some(text.parse::<Encoding>().map_err(&file_err)?),
        _ => None,
    };
    let (text, encoding) = decode::decode(&bytes, forced).map_err(&file_err)?;
    drop(bytes);
    let delimiter = match (opts.delimiter, &opts.mapping.delimiter) {
        (Some(d), _) => d,
        (None, Some(text)) => parse_delimiter(text).map_err(|r| Error::Argument {
            arg: "--mapping".into(),
            reason: format!("delimiter: {r}"),
        })?,
        _ => decode::sniff_delimiter(&text),
    };
    let mut mapping = opts.mapping.clone();
    if opts.mapping_label == "automatic" {
        let header = header_of(&text, delimiter);
        for (field, column) in mapping::automatic(&header) {
            mapping.columns.entry(field).or_insert(column);
        }
    }
    let state = link::State::load(ctx).await?;
    // Extra lead columns earlier imports stored: an extra column of this import must
    // have the same type (or one that widens to it).
    let stored: BTreeMap<String, DataType> = ws
        .table(schema::LEADS.name)
        .map(|t| {
            t.schema
                .fields()
                .iter()
                .filter(|f| schema::LEADS.column(f.name()).is_none())
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect()
        })
        .unwrap_or_default();
    let read = rows::read(
        &text,
        delimiter,
        &mapping,
        opts.kind.as_str(),
        &state.sellers,
        &stored,
    )
    .map_err(|e| with_file(e, &opts.file))?;
    drop(text);
    let mut report = Imported {
        encoding: encoding.to_string(),
        delimiter: char::from(delimiter),
        rows: read.rows,
        rejected: read.rejects.len() as u64,
        warned: read.warnings.len() as u64,
        skipped: read.repeated,
        ignored: read.ignored.clone(),
        kept: read.kept.clone(),
        ..Imported::default()
    };
    if mapping.columns.is_empty() && read.extras.is_empty() {
        return Err(file_err(format!(
            "no column maps to a lead field (columns: {}): give --mapping FILE or --map FIELD=COLUMN",
            read.header.join(", ")
        )));
    }

    let import_id = state.next_import;
    let stamp = chrono::DateTime::from_timestamp_micros(opts.at)
        .map(|d| d.format("%Y%m%dT%H%M%S").to_string())
        .unwrap_or_default();
    let stem = opts
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());

    // Rejects file first: it is the user's to read whatever happens next.
    if !read.rejects.is_empty() || !read.warnings.is_empty() {
        let path = opts.rejects.clone().unwrap_or_else(|| {
            ws.dir
                .join("_rejects")
                .join(format!("import-{stamp}-{import_id}-{stem}.csv"))
        });
        let mut rows: Vec<&Reject> = read.rejects.iter().chain(&read.warnings).collect();
        rows.sort_by_key(|r| r.line);
        write_rejects(&path, &read.header, &rows)?;
        report.rejects_file = Some(path);
    }
    if let Some(max) = opts.max_rejects
        && report.rejected > max
    {
        return Err(Error::Query(format!(
            "{} of {} rows rejected (more than --max-rejects {max}): nothing was imported; see {}",
            report.rejected,
            report.rows,
            report
                .rejects_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )));
    }
    if report.rows > 0 && report.rejected == report.rows {
        return Err(Error::Query(format!(
            "all {} rows were rejected, nothing was imported; see {}",
            report.rows,
            report
                .rejects_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )));
    }

    let fresh: Vec<Lead> = read
        .leads
        .into_iter()
        .filter(|l| !state.keys.contains(&l.key))
        .collect();
    report.skipped += report.rows - report.rejected - report.skipped - fresh.len() as u64;
    let on_duplicate = opts.on_duplicate;
    let flagged = match on_duplicate {
        duplicates::OnDuplicate::Keep => Vec::new(),
        _ => duplicates::check(ctx, &fresh).await?,
    };
    report.duplicates = flagged.len() as u64;
    let duplicates_path = ws
        .dir
        .join("_rejects")
        .join(format!("import-{stamp}-{import_id}-{stem}-duplicates.csv"));
    let fresh: Vec<Lead> = if on_duplicate == duplicates::OnDuplicate::Skip && !flagged.is_empty() {
        duplicates::write(&duplicates_path, &flagged, None, "skipped")?;
        report.duplicates_file = Some(duplicates_path.clone());
        let skip: std::collections::HashSet<usize> = flagged.iter().map(|f| f.row).collect();
        fresh
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, l)| l)
            .collect()
    } else {
        fresh
    };
    if on_duplicate == duplicates::OnDuplicate::Flag && !flagged.is_empty() && opts.dry_run {
        duplicates::write(&duplicates_path, &flagged, None, "flagged")?;
        report.duplicates_file = Some(duplicates_path.clone());
    }
    if fresh.is_empty() || opts.dry_run {
        report.imported = if opts.dry_run { fresh.len() as u64 } else { 0 };
        return Ok(report);
    }

    let mut linked = link::link(fresh, &state);
    report.imported = linked.leads.len() as u64;
    report.accounts_matched = linked.accounts_matched;
    report.accounts_created = linked.accounts.len() as u64;
    report.contacts_matched = linked.contacts_matched;
    report.contacts_created = linked.contacts.len() as u64;
    for l in &mut linked.leads {
        l.lead.created_at.get_or_insert(opts.at);
    }
    if on_duplicate == duplicates::OnDuplicate::Flag && !flagged.is_empty() {
        let ids: Vec<i64> = linked.leads.iter().map(|l| l.lead_id).collect();
        duplicates::write(&duplicates_path, &flagged, Some(&ids), "flagged")?;
        report.duplicates_file = Some(duplicates_path);
    }

    let file = format!("import-{stamp}-{import_id}.parquet");
    let mut pending: Vec<(RecordBatch, PathBuf)> = Vec::new();
    let target = |t: &Table| ws.dir.join(t.name).join(&file);
    if !linked.accounts.is_empty() {
        pending.push((
            link::accounts_batch(&linked.accounts, opts.at)?,
            target(&schema::ACCOUNTS),
        ));
    }
    if !linked.contacts.is_empty() {
        pending.push((
            link::contacts_batch(&linked.contacts, opts.at)?,
            target(&schema::CONTACTS),
        ));
    }
    pending.push((
        leads_batch(&linked.leads, &read.extras)?,
        target(&schema::LEADS),
    ));
    if let Some(spec) = &mapping.interaction {
        let batch = interactions_batch(&linked.leads, spec, state.next_interaction)?;
        report.interactions = batch.num_rows() as u64;
        pending.push((batch, target(&schema::INTERACTIONS)));
    }
    pending.push((
        events_batch(&linked.leads, state.next_event)?,
        target(&schema::LEAD_STATUS_EVENTS),
    ));
    pending.push((
        lead_imports_batch(&linked.leads, import_id)?,
        target(&schema::LEAD_IMPORTS),
    ));
    let log = ImportLog {
        import_id,
        kind: opts.kind.as_str(),
        file: opts.file.display().to_string(),
        sha256: sha,
        mapping: opts.mapping_label.clone(),
        at: opts.at,
        report: &report,
    };
    pending.push((log.batch()?, target(&schema::IMPORTS)));
    write_all(&ws.dir, ctx, &pending).await?;
    report.import_id = import_id;
    Ok(report)
}

fn with_file(e: Error, file: &Path) -> Error {
    match e {
        Error::Argument { arg, reason } if arg == "FILE" => Error::Argument {
            arg: file.display().to_string(),
            reason,
        },
        Error::Argument { arg, reason } => Error::Argument {
            arg,
            reason: format!("{reason} [{}]", file.display()),
        },
        other => other,
    }
}

fn header_of(text: &str, delimiter: u8) -> Vec<String> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
        .headers()
        .map(|h| h.iter().map(|c| c.trim().to_string()).collect())
        .unwrap_or_default()
}

/// Writes the rejects CSV: line, column, value, reason, then the row's own cells
/// under the file's header, so it can be fixed and imported again. Rows imported with
/// an optional field stored as NULL are there too, their reason starting `warning:`.
fn write_rejects(path: &Path, header: &[String], rejects: &[&Reject]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let bad = |e: csv::Error| Error::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut head = vec!["line", "column", "value", "reason"];
    head.extend(header.iter().map(String::as_str));
    // A row with more fields than the header widens the file: unnamed columns at the
    // end, so every record has the same number of fields.
    let width = rejects
        .iter()
        .map(|r| 4 + r.record.len())
        .fold(head.len(), usize::max);
    head.resize(width, "");
    w.write_record(&head).map_err(bad)?;
    for r in rejects {
        let line = r.line.to_string();
        let mut row = vec![line.as_str(), &r.columns, &r.values, &r.reasons];
        row.extend(r.record.iter().map(String::as_str));
        row.resize(width, "");
        w.write_record(&row).map_err(bad)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    atomic::write(path, &bytes)
}

/// Writes every batch as one change of the workspace ([`crate::commit`]): all the
/// files land, or none.
async fn write_all(
    workspace: &Path,
    ctx: &SessionContext,
    pending: &[(RecordBatch, PathBuf)],
) -> Result<()> {
    let mut change = crate::commit::Transaction::begin(workspace)?;
    for (batch, target) in pending {
        let stage = change.stage(target)?;
        let stream = ctx.read_batch(batch.clone())?.execute_stream().await?;
        output::write(stream, Format::Parquet, &Destination::File(stage), 0).await?;
    }
    change.commit()
}

fn text<'a>(rows: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(rows.collect::<StringArray>())
}

fn ids(rows: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(rows.collect::<Int64Array>())
}

fn instants(rows: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(rows.collect::<TimestampMicrosecondArray>())
}

/// A batch with `table`'s schema (plus `extra` fields) from columns in its order,
/// cast to the stored types.
pub(crate) fn table_batch(
    table: &Table,
    extra: Vec<Field>,
    columns: Vec<ArrayRef>,
) -> Result<RecordBatch> {
    let mut fields = table.fields();
    fields.extend(extra);
    let columns = columns
        .into_iter()
        .zip(&fields)
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c)
            } else {
                datafusion::arrow::compute::cast(&c, f.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Query(format!("{}: {e}", table.name)))?;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Error::Query(format!("{}: {e}", table.name)))
}

fn leads_batch(leads: &[link::Linked], extras: &[(String, ExtraType)]) -> Result<RecordBatch> {
    let l = || leads.iter().map(|x| &x.lead);
    let mut columns: Vec<ArrayRef> = vec![
        ids(leads.iter().map(|x| Some(x.lead_id))),
        instants(l().map(|x| x.created_at)),
        text(l().map(|x| x.source.as_deref().or(Some("import")))),
        text(l().map(|x| x.channel.as_deref())),
        text(l().map(|x| x.campaign.as_deref())),
        text(l().map(|x| x.first_name.as_deref())),
        text(l().map(|x| x.last_name.as_deref())),
        text(l().map(|x| x.email.as_deref())),
        text(l().map(|x| x.phone.as_deref())),
        text(l().map(|x| x.company.as_deref())),
        ids(leads.iter().map(|x| x.account_id)),
        ids(leads.iter().map(|x| x.contact_id)),
        text(l().map(|x| x.job_title.as_deref())),
        text(l().map(|x| x.job_function.as_deref())),
        text(l().map(|x| x.seniority.as_deref())),
        text(l().map(|x| x.industry.as_deref())),
        Arc::new(l().map(|x| x.company_size).collect::<Int32Array>()),
        text(l().map(|x| x.size_band.as_deref())),
        text(l().map(|x| x.revenue_band.as_deref())),
        text(l().map(|x| x.country.as_deref())),
        text(l().map(|x| x.consent.as_deref().or(Some("none")))),
        text(l().map(|x| x.status.as_deref().or(Some("open")))),
        text(l().map(|x| x.status_reason.as_deref())),
        ids(l().map(|x| x.owner_id)),
        instants(l().map(|x| x.closed_at)),
    ];
    let mut fields = Vec::new();
    for (i, (name, ty)) in extras.iter().enumerate() {
        let array = ScalarValue::iter_to_array(l().map(|x| x.extras[i].clone()))
            .map_err(|e| Error::Query(format!("extra column {name}: {e}")))?;
        columns.push(array);
        fields.push(Field::new(name, ty.data_type(), true));
    }
    table_batch(&schema::LEADS, fields, columns)
}

fn interactions_batch(
    leads: &[link::Linked],
    spec: &mapping::InteractionSpec,
    first: i64,
) -> Result<RecordBatch> {
    let n = leads.len();
    table_batch(
        &schema::INTERACTIONS,
        Vec::new(),
        vec![
            ids((0..n as i64).map(|i| Some(first + i))),
            ids(leads.iter().map(|x| Some(x.lead_id))),
            instants(leads.iter().map(|x| x.lead.created_at)),
            text(std::iter::repeat_n(Some(spec.kind.as_str()), n)),
            text(std::iter::repeat_n(
                Some(spec.channel.as_deref().unwrap_or("web")),
                n,
            )),
            text(leads.iter().map(|x| x.lead.campaign.as_deref())),
            text(leads.iter().map(|x| x.lead.asset.as_deref())),
        ],
    )
}

/// The `lead_status_events` of imported leads: each lead opened at its creation
/// (reason `created`), and a closed one closed at `closed_at` (at its creation when the
/// file gives no time) with its status and reason. A closed lead's history thus says
/// it was open from its creation to its closing, which training snapshots, `--as-of`
/// sessions and `qualify_leads` at an earlier instant read.
fn events_batch(leads: &[link::Linked], first: i64) -> Result<RecordBatch> {
    let mut lead_ids = Vec::new();
    let mut at = Vec::new();
    let mut statuses = Vec::new();
    let mut reasons = Vec::new();
    for x in leads {
        lead_ids.push(Some(x.lead_id));
        at.push(x.lead.created_at);
        statuses.push(Some("open".to_string()));
        reasons.push(Some("created".to_string()));
        match x.lead.status.as_deref() {
            None | Some("open") => {}
            Some(closed) => {
                lead_ids.push(Some(x.lead_id));
                at.push(x.lead.closed_at.or(x.lead.created_at));
                statuses.push(Some(closed.to_string()));
                reasons.push(x.lead.status_reason.clone());
            }
        }
    }
    let n = lead_ids.len();
    table_batch(
        &schema::LEAD_STATUS_EVENTS,
        Vec::new(),
        vec![
            ids((0..n as i64).map(|i| Some(first + i))),
            ids(lead_ids.into_iter()),
            instants(at.into_iter()),
            Arc::new(statuses.into_iter().collect::<StringArray>()),
            Arc::new(reasons.into_iter().collect::<StringArray>()),
            ids(std::iter::repeat_n(None, n)),
        ],
    )
}

fn lead_imports_batch(leads: &[link::Linked], import_id: i64) -> Result<RecordBatch> {
    table_batch(
        &schema::LEAD_IMPORTS,
        Vec::new(),
        vec![
            ids(leads.iter().map(|x| Some(x.lead_id))),
            ids(leads.iter().map(|_| Some(import_id))),
            ids(leads.iter().map(|x| Some(x.lead.line as i64))),
            text(leads.iter().map(|x| Some(x.lead.key.as_str()))),
            text(leads.iter().map(|x| x.lead.external_id.as_deref())),
        ],
    )
}

struct ImportLog<'a> {
    import_id: i64,
    kind: &'a str,
    file: String,
    sha256: String,
    mapping: String,
    at: i64,
    report: &'a Imported,
}

impl ImportLog<'_> {
    fn batch(&self) -> Result<RecordBatch> {
        let r = self.report;
        let rejects = r.rejects_file.as_ref().map(|p| p.display().to_string());
        table_batch(
            &schema::IMPORTS,
            Vec::new(),
            vec![
                ids(std::iter::once(Some(self.import_id))),
                text(std::iter::once(Some(self.kind))),
                text(std::iter::once(Some(self.file.as_str()))),
                text(std::iter::once(Some(self.sha256.as_str()))),
                text(std::iter::once(Some(self.mapping.as_str()))),
                instants(std::iter::once(Some(self.at))),
                ids(std::iter::once(Some(r.rows as i64))),
                ids(std::iter::once(Some(r.imported as i64))),
                ids(std::iter::once(Some(r.skipped as i64))),
                ids(std::iter::once(Some(r.rejected as i64))),
                text(std::iter::once(rejects.as_deref())),
            ],
        )
    }
}
