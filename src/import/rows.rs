//! Reading the rows of an import file into leads, each cell validated against its
//! field, and refused rows kept with their line, column and reason.

use std::collections::{BTreeMap, HashMap, HashSet};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use leadql_models::domain::SOURCES;
use leadql_models::matching::{normalize_email, normalize_phone};
use leadql_models::{ConsentLevel, InteractionType, LeadStatus, Seniority, titles};
use sha2::{Digest, Sha256};

use super::infer::{self, CellKind};
use super::mapping::{ExtraType, FieldKind, Mapping, extra_name, field_kind};
use super::values::{self, DayOrder};
use crate::error::{Error, Result};

/// One imported lead, its values read and validated.
#[derive(Debug, Clone, Default)]
pub struct Lead {
    /// Line in the file (header = 1).
    pub line: u64,
    /// Identity of the source row (see `lead_imports.row_key`).
    pub key: String,
    /// Identifier in the source system.
    pub external_id: Option<String>,
    /// Capture instant (µs).
    pub created_at: Option<i64>,
    /// Lead source.
    pub source: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Campaign.
    pub campaign: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Email as entered (trimmed).
    pub email: Option<String>,
    /// Normalised email, for matching.
    pub email_key: Option<String>,
    /// Phone as entered (trimmed).
    pub phone: Option<String>,
    /// Company as entered.
    pub company: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Function (given or derived from the title).
    pub job_function: Option<String>,
    /// Seniority (given or derived from the title).
    pub seniority: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Head count.
    pub company_size: Option<i32>,
    /// Employee band.
    pub size_band: Option<String>,
    /// Revenue band.
    pub revenue_band: Option<String>,
    /// ISO country code.
    pub country: Option<String>,
    /// Consent level.
    pub consent: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Status reason.
    pub status_reason: Option<String>,
    /// Owner.
    pub owner_id: Option<i64>,
    /// Closing instant.
    pub closed_at: Option<i64>,
    /// Extra column values, in the mapping's `extra` order (typed NULL when empty).
    pub extras: Vec<ScalarValue>,
    /// Asset of the interaction recorded with the lead.
    pub asset: Option<String>,
}

/// A refused row.
#[derive(Debug, Clone)]
pub struct Reject {
    /// Line in the file.
    pub line: u64,
    /// The columns at fault (comma-separated), or `(row)`.
    pub columns: String,
    /// Their values.
    pub values: String,
    /// Why.
    pub reasons: String,
    /// The row's cells.
    pub record: Vec<String>,
}

/// The file, read.
#[derive(Debug, Default)]
pub struct Read {
    /// The header, trimmed.
    pub header: Vec<String>,
    /// Good rows.
    pub leads: Vec<Lead>,
    /// Refused rows.
    pub rejects: Vec<Reject>,
    /// Imported rows with an invalid optional field, stored as NULL (written to the
    /// rejects file as warnings).
    pub warnings: Vec<Reject>,
    /// Data rows read (blank lines excluded).
    pub rows: u64,
    /// Rows repeating an earlier row's identifier in the same file.
    pub repeated: u64,
    /// Header columns no field, extra, id or interaction uses.
    pub ignored: Vec<String>,
    /// Extra columns: stored name and type.
    pub extras: Vec<(String, ExtraType)>,
    /// Columns kept by `--keep-unmapped`: file column, stored name and type.
    pub kept: Vec<(String, String, ExtraType)>,
}

/// An extra column to store: where it is in the file, its stored name, the type its
/// cells are read as and the type it is stored as (wider, when earlier imports stored
/// the column so: a whole number as a float, anything as text).
struct PlannedExtra {
    index: usize,
    name: String,
    read: ExtraType,
    store: ExtraType,
}

/// A mapping checked against the file's header: column positions per field.
struct Plan {
    fields: Vec<(&'static str, FieldKind, usize)>,
    constants: Vec<(&'static str, FieldKind, String)>,
    extras: Vec<PlannedExtra>,
    kept: Vec<(String, String, ExtraType)>,
    id: Option<usize>,
    asset: Option<usize>,
    required: Vec<&'static str>,
    orders: HashMap<usize, DayOrder>,
}

fn known_field(name: &str, section: &str) -> Result<&'static str> {
    super::mapping::FIELDS
        .iter()
        .map(|(f, _)| *f)
        .find(|f| *f == name)
        .ok_or_else(|| Error::Argument {
            arg: "--mapping".into(),
            reason: format!(
                "{section}: unknown lead field '{name}' (fields: {})",
                super::mapping::FIELDS
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

fn column_index(header: &[String], column: &str, section: &str) -> Result<usize> {
    header
        .iter()
        .position(|h| h == column)
        .or_else(|| header.iter().position(|h| h.eq_ignore_ascii_case(column)))
        .ok_or_else(|| Error::Argument {
            arg: "--mapping".into(),
            reason: format!(
                "{section}: the file has no column '{column}' (its columns: {})",
                header.join(", ")
            ),
        })
}

/// Why an extra column cannot be stored as `name`: a lead column, or a column rule
/// models see as an account's (`account_<column>`).
fn reserved(name: &str) -> Option<&'static str> {
    if crate::schema::LEADS.column(name).is_some() {
        return Some("a lead column");
    }
    let account = name.strip_prefix("account_")?;
    leadql_udfs::scoring::plan::ACCOUNT_COLUMNS
        .contains(&account)
        .then_some("the name rule models give an account column")
}

/// The type earlier imports stored extra column `name` as (`None` when none did), or
/// why an import cannot write that type.
fn stored_type(
    name: &str,
    stored: &BTreeMap<String, DataType>,
) -> std::result::Result<Option<ExtraType>, String> {
    match stored.get(name) {
        None => Ok(None),
        Some(dt) => ExtraType::of(dt).map(Some).ok_or_else(|| {
            format!(
                "the workspace stores '{name}' as {dt}, a type an import cannot write (int, float, text, bool, timestamp)"
            )
        }),
    }
}

fn plan(
    mapping: &Mapping,
    header: &[String],
    records: &[csv::StringRecord],
    lines: &[u64],
    stored: &BTreeMap<String, DataType>,
) -> Result<Plan> {
    let missing: Vec<&str> = mapping
        .required_columns
        .iter()
        .filter(|c| column_index(header, c, "").is_err())
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Argument {
            arg: "FILE".into(),
            reason: format!(
                "not a {}: it lacks the column{} {} (its columns: {}); import other files with `import csv`",
                mapping
                    .description
                    .as_deref()
                    .unwrap_or("file of this kind"),
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                header.join(", ")
            ),
        });
    }
    let mut fields = Vec::new();
    for (field, column) in &mapping.columns {
        let f = known_field(field, &format!("[columns] {field}"))?;
        if mapping.optional_columns && column_index(header, column, "").is_err() {
            continue;
        }
        let kind = field_kind(f).unwrap_or(FieldKind::Text);
        fields.push((
            f,
            kind,
            column_index(header, column, &format!("[columns] {field}"))?,
        ));
    }
    let mut constants = Vec::new();
    for (field, value) in &mapping.set {
        let f = known_field(field, &format!("[set] {field}"))?;
        let kind = field_kind(f).unwrap_or(FieldKind::Text);
        if fields.iter().any(|(g, _, _)| *g == f) {
            continue; // a column beats a constant
        }
        // Validate the constant once, so a typo is an error, not a reject per row.
        let mut probe = Lead::default();
        set_field(
            &mut probe,
            f,
            kind,
            value,
            mapping.date_format.as_deref(),
            None,
        )
        .map_err(|reason| Error::Argument {
            arg: "--set".into(),
            reason: format!("{f} = '{value}': {reason}"),
        })?;
        constants.push((f, kind, value.clone()));
    }
    for field in mapping.values.keys() {
        known_field(field, &format!("[values.{field}]"))?;
    }
    let mut required = Vec::new();
    for field in &mapping.required {
        required.push(known_field(field, "required")?);
    }
    let mut extras: Vec<PlannedExtra> = Vec::new();
    let mapping_err = |reason: String| Error::Argument {
        arg: "--mapping".into(),
        reason,
    };
    for (column, spec) in &mapping.extra {
        let (name, ty) = (spec.name(column), spec.kind());
        if let Some(what) = reserved(&name) {
            return Err(mapping_err(format!(
                "[extra] '{column}' would be stored as '{name}', {what}: map it in [columns] or give it another name ({{ type = \"{}\", name = \"…\" }})",
                ty.label()
            )));
        }
        if let Some(other) = extras.iter().find(|e| e.name == name) {
            return Err(mapping_err(format!(
                "[extra] '{}' and '{column}' would both be stored as '{name}'",
                header[other.index]
            )));
        }
        let store = match stored_type(&name, stored)
            .map_err(|r| mapping_err(format!("[extra] '{column}': {r}")))?
        {
            None => ty,
            Some(e) if ty.widens_to(e) => e,
            Some(e) => {
                return Err(mapping_err(format!(
                    "[extra] '{column}' is declared {}, but earlier imports stored '{name}' as {}: declare it {} (or store it under another name)",
                    ty.label(),
                    e.label(),
                    e.label()
                )));
            }
        };
        extras.push(PlannedExtra {
            index: column_index(header, column, "[extra]")?,
            name,
            read: ty,
            store,
        });
    }
    let optional = |c: &str| mapping.optional_columns && column_index(header, c, "").is_err();
    let id = mapping
        .id
        .as_deref()
        .filter(|c| !optional(c))
        .map(|c| column_index(header, c, "id"))
        .transpose()?;
    let mut asset = None;
    if let Some(spec) = &mapping.interaction {
        spec.kind
            .parse::<InteractionType>()
            .map_err(|e| Error::Argument {
                arg: "--mapping".into(),
                reason: format!("[interaction] type: {e}"),
            })?;
        if let Some(c) = spec.asset.as_deref().filter(|c| !optional(c)) {
            asset = Some(column_index(header, c, "[interaction] asset")?);
        }
    }
    // Day/month order of slashed dates, per date column, from its unambiguous values.
    let mut orders = HashMap::new();
    let column = |i: usize| records.iter().map(move |r| r.get(i).unwrap_or("").trim());
    if mapping.date_format.is_none() {
        for (_, kind, i) in &fields {
            if *kind != FieldKind::Instant {
                continue;
            }
            if let Some(o) = infer::day_order(column(*i)) {
                orders.insert(*i, o);
            }
        }
    }
    let mut kept = Vec::new();
    if mapping.keep_unmapped {
        let used: HashSet<usize> = fields
            .iter()
            .map(|(_, _, i)| *i)
            .chain(extras.iter().map(|e| e.index))
            .chain(id)
            .chain(asset)
            .collect();
        let file_err = |reason: String| Error::Argument {
            arg: "FILE".into(),
            reason,
        };
        let date_format = mapping.date_format.as_deref();
        for (i, h) in header.iter().enumerate() {
            if used.contains(&i) || h.is_empty() {
                continue;
            }
            let order = date_format
                .is_none()
                .then(|| infer::day_order(column(i)))
                .flatten();
            let Some(inferred) = infer::column_type(column(i), date_format, order) else {
                continue; // only empty cells: nothing to keep, listed as not imported
            };
            let name = extra_name(h);
            if let Some(what) = reserved(&name) {
                return Err(file_err(format!(
                    "column '{h}' would be kept as '{name}', {what}: map it (--map FIELD=COLUMN), or name it in the mapping's [extra] (\"{h}\" = {{ type = \"{}\", name = \"…\" }})",
                    inferred.label()
                )));
            }
            if let Some(other) = extras.iter().find(|e| e.name == name) {
                return Err(file_err(format!(
                    "columns '{}' and '{h}' would both be kept as extra lead column '{name}': name one of them in the mapping's [extra] (\"{h}\" = {{ type = \"{}\", name = \"…\" }})",
                    header[other.index],
                    inferred.label()
                )));
            }
            let store = match stored_type(&name, stored)
                .map_err(|r| file_err(format!("column '{h}': {r}")))?
            {
                None => inferred,
                Some(e) => {
                    // Every cell must fit the stored type: the first that does not is
                    // the error.
                    let misfit = records.iter().zip(lines).find(|(r, _)| {
                        let t = r.get(i).unwrap_or("").trim();
                        !t.is_empty()
                            && !CellKind::of(t, date_format, order)
                                .extra_type()
                                .widens_to(e)
                    });
                    if let Some((r, line)) = misfit {
                        return Err(file_err(format!(
                            "column '{h}', line {line}: '{}' is not {} ({} column '{name}', as earlier imports stored it); nothing was imported",
                            r.get(i).unwrap_or("").trim(),
                            article(e),
                            e.label()
                        )));
                    }
                    e
                }
            };
            if let Some(o) = order {
                orders.insert(i, o);
            }
            kept.push((h.clone(), name.clone(), store));
            extras.push(PlannedExtra {
                index: i,
                name,
                read: store,
                store,
            });
        }
    }
    Ok(Plan {
        fields,
        constants,
        extras,
        kept,
        id,
        asset,
        required,
        orders,
    })
}

/// Whether an invalid value of a field of this kind is stored as NULL with a warning
/// (unless the field is required) rather than refusing the row. Instants, status,
/// consent and owner refuse: a wrong one would corrupt the lead's timeline, lifecycle,
/// contact permission or assignment.
fn nullable(kind: FieldKind) -> bool {
    matches!(
        kind,
        FieldKind::Email
            | FieldKind::Phone
            | FieldKind::CompanySize
            | FieldKind::Country
            | FieldKind::Seniority
            | FieldKind::Word
            | FieldKind::Text
    )
}

/// One refused or warned row of the rejects file.
fn reject_row(line: u64, problems: &[(String, String, String)], cells: Vec<String>) -> Reject {
    let join = |part: fn(&(String, String, String)) -> &str, sep: &str| {
        problems.iter().map(part).collect::<Vec<_>>().join(sep)
    };
    Reject {
        line,
        columns: join(|b| b.0.as_str(), ", "),
        values: join(|b| b.1.as_str(), ", "),
        reasons: join(|b| b.2.as_str(), "; "),
        record: cells,
    }
}

fn opt(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Sets one field from its (non-empty) text, or says why the text is refused.
fn set_field(
    lead: &mut Lead,
    field: &str,
    kind: FieldKind,
    text: &str,
    date_format: Option<&str>,
    order: Option<DayOrder>,
) -> std::result::Result<(), String> {
    let t = text.trim();
    match kind {
        FieldKind::Email => {
            let key = normalize_email(t).ok_or_else(|| format!("'{t}' is not an email address"))?;
            lead.email = Some(t.to_string());
            lead.email_key = Some(key);
        }
        FieldKind::Phone => {
            normalize_phone(t).ok_or_else(|| format!("'{t}' is not a phone number"))?;
            lead.phone = Some(t.to_string());
        }
        FieldKind::Instant => {
            let v = values::instant(t, date_format, order)?;
            match field {
                "closed_at" => lead.closed_at = Some(v),
                _ => lead.created_at = Some(v),
            }
        }
        FieldKind::Integer => lead.owner_id = Some(values::integer(t)?),
        FieldKind::CompanySize => {
            let (n, band) = values::company_size(t)?;
            lead.company_size = n;
            lead.size_band.get_or_insert_with(|| band.to_string());
        }
        FieldKind::Country => lead.country = Some(values::country(t)?),
        FieldKind::Consent => {
            let c = t
                .to_lowercase()
                .parse::<ConsentLevel>()
                .map_err(|e| e.to_string())?;
            lead.consent = Some(c.as_str().to_string());
        }
        FieldKind::Status => {
            let s = t
                .to_lowercase()
                .parse::<LeadStatus>()
                .map_err(|e| e.to_string())?;
            lead.status = Some(s.as_str().to_string());
        }
        FieldKind::Seniority => {
            let s = values::word(t)?
                .parse::<Seniority>()
                .map_err(|e| e.to_string())?;
            lead.seniority = Some(s.as_str().to_string());
        }
        FieldKind::Word => {
            let w = values::word(t)?;
            match field {
                "source" => lead.source = Some(w),
                "channel" => lead.channel = Some(w),
                _ => lead.job_function = Some(w),
            }
        }
        FieldKind::Text => {
            let v = Some(t.to_string());
            match field {
                "campaign" => lead.campaign = v,
                "first_name" => lead.first_name = v,
                "last_name" => lead.last_name = v,
                "full_name" => {
                    // "Last, First" or "First … Last".
                    let (first, last) = match t.split_once(',') {
                        Some((l, f)) => (f.trim(), l.trim()),
                        None => match t.rsplit_once(char::is_whitespace) {
                            Some((f, l)) => (f.trim(), l.trim()),
                            None => ("", t),
                        },
                    };
                    lead.first_name.get_or_insert_with(|| first.to_string());
                    lead.last_name.get_or_insert_with(|| last.to_string());
                    if lead.first_name.as_deref() == Some("") {
                        lead.first_name = None;
                    }
                }
                "company" => lead.company = v,
                "job_title" => lead.job_title = v,
                "industry" => lead.industry = v,
                "size_band" => lead.size_band = v,
                "revenue_band" => lead.revenue_band = v,
                "status_reason" => lead.status_reason = v,
                _ => {}
            }
        }
    }
    Ok(())
}

fn has_field(lead: &Lead, field: &str) -> bool {
    match field {
        "created_at" => lead.created_at.is_some(),
        "source" => lead.source.is_some(),
        "channel" => lead.channel.is_some(),
        "campaign" => lead.campaign.is_some(),
        "first_name" => lead.first_name.is_some(),
        "last_name" => lead.last_name.is_some(),
        "full_name" => lead.first_name.is_some() || lead.last_name.is_some(),
        "email" => lead.email.is_some(),
        "phone" => lead.phone.is_some(),
        "company" => lead.company.is_some(),
        "job_title" => lead.job_title.is_some(),
        "job_function" => lead.job_function.is_some(),
        "seniority" => lead.seniority.is_some(),
        "industry" => lead.industry.is_some(),
        "company_size" => lead.company_size.is_some() || lead.size_band.is_some(),
        "size_band" => lead.size_band.is_some(),
        "revenue_band" => lead.revenue_band.is_some(),
        "country" => lead.country.is_some(),
        "consent" => lead.consent.is_some(),
        "status" => lead.status.is_some(),
        "status_reason" => lead.status_reason.is_some(),
        "owner_id" => lead.owner_id.is_some(),
        "closed_at" => lead.closed_at.is_some(),
        _ => false,
    }
}

/// "an int", "a float", … (the type's label with its article).
fn article(ty: ExtraType) -> String {
    match ty {
        ExtraType::Int => "an int".into(),
        t => format!("a {}", t.label()),
    }
}

/// A NULL of an extra column's stored type.
fn null_of(ty: ExtraType) -> ScalarValue {
    ScalarValue::try_from(&ty.data_type()).unwrap_or(ScalarValue::Utf8(None))
}

/// An extra cell read as `planned.read` and stored as `planned.store` (a whole number
/// as a float, a valid value as its text).
fn extra(
    text: &str,
    planned: &PlannedExtra,
    date_format: Option<&str>,
    order: Option<DayOrder>,
) -> std::result::Result<ScalarValue, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(null_of(planned.store));
    }
    let value = match planned.read {
        ExtraType::Text => ScalarValue::Utf8(Some(t.to_string())),
        ExtraType::Int => ScalarValue::Int64(Some(values::integer(t)?)),
        ExtraType::Float => ScalarValue::Float64(Some(values::float(t)?)),
        ExtraType::Bool => ScalarValue::Boolean(Some(values::boolean(t)?)),
        ExtraType::Timestamp => {
            ScalarValue::TimestampMicrosecond(Some(values::instant(t, date_format, order)?), None)
        }
    };
    Ok(match (planned.read, planned.store, value) {
        (r, s, v) if r == s => v,
        (_, ExtraType::Text, _) => ScalarValue::Utf8(Some(t.to_string())),
        (_, _, ScalarValue::Int64(Some(n))) => ScalarValue::Float64(Some(n as f64)),
        (_, s, _) => return Err(format!("cannot store as {}", s.label())),
    })
}

fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = h.finalize();
    let mut out = String::with_capacity(32);
    for b in &digest[..16] {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// Translates a cell through the mapping's `[values.FIELD]` table (exact, then
/// case-insensitive match).
fn translate<'a>(values: Option<&'a BTreeMap<String, String>>, text: &'a str) -> &'a str {
    let Some(table) = values else { return text };
    let t = text.trim();
    table
        .get(t)
        .or_else(|| {
            table
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(t))
                .map(|(_, v)| v)
        })
        .map_or(text, String::as_str)
}

/// Reads `text` (decoded) as CSV with `delimiter` through `mapping`; `kind` scopes
/// source identifiers, `sellers` are the owners a row may name, `stored` the extra lead
/// columns earlier imports stored (name → type), which extra columns must fit.
pub fn read(
    text: &str,
    delimiter: u8,
    mapping: &Mapping,
    kind: &str,
    sellers: &HashSet<i64>,
    stored: &BTreeMap<String, DataType>,
) -> Result<Read> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Argument {
            arg: "FILE".into(),
            reason: format!("cannot read the header line: {e}"),
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(Error::Argument {
            arg: "FILE".into(),
            reason: "the file is empty or has no header line".into(),
        });
    }
    let mut records = Vec::new();
    let mut lines = Vec::new();
    let mut out = Read {
        header: header.clone(),
        ..Read::default()
    };
    let mut record = csv::StringRecord::new();
    // Lines are counted from byte offsets: the reader's own count drifts with CRLF.
    let bytes = text.as_bytes();
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    let mut line_at = |offset: u64| -> u64 {
        let mut offset = (offset as usize).min(bytes.len());
        // A record starts after its line terminator (the reader may point at its `\n`).
        while offset < bytes.len() && matches!(bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        if offset >= counted_to {
            newlines += bytes[counted_to..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted_to = offset;
        }
        newlines + 1
    };
    loop {
        let line = line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                let line = record.position().map_or(line, |p| line_at(p.byte()));
                records.push(record.clone());
                lines.push(line);
            }
            Err(e) => {
                out.rejects.push(Reject {
                    line: e.position().map_or(line, |p| line_at(p.byte())),
                    columns: "(row)".into(),
                    values: String::new(),
                    reasons: format!("unreadable CSV: {e}"),
                    record: Vec::new(),
                });
                out.rows += 1;
            }
        }
    }
    let plan = plan(mapping, &header, &records, &lines, stored)?;
    out.extras = plan
        .extras
        .iter()
        .map(|e| (e.name.clone(), e.store))
        .collect();
    out.kept = plan.kept.clone();
    let used: Vec<usize> = plan
        .fields
        .iter()
        .map(|(_, _, i)| *i)
        .chain(plan.extras.iter().map(|e| e.index))
        .chain(plan.id)
        .chain(plan.asset)
        .collect();
    out.ignored = header
        .iter()
        .enumerate()
        .filter(|(i, h)| !used.contains(i) && !h.is_empty())
        .map(|(_, h)| h.clone())
        .collect();

    let mut seen_rows: HashMap<String, u64> = HashMap::new();
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    for (record, line) in records.iter().zip(lines) {
        out.rows += 1;
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_string()).collect();
        if cells.len() != header.len() {
            out.rejects.push(Reject {
                line,
                columns: "(row)".into(),
                values: String::new(),
                reasons: format!(
                    "has {} fields, the header has {}",
                    cells.len(),
                    header.len()
                ),
                record: cells,
            });
            continue;
        }
        let mut lead = Lead {
            line,
            ..Lead::default()
        };
        let mut bad: Vec<(String, String, String)> = Vec::new();
        // Invalid optional fields: stored as NULL, reported as warnings.
        let mut warned: Vec<(String, String, String)> = Vec::new();
        // Names first so that full_name only fills what they leave empty.
        let mut ordered: Vec<&(&str, FieldKind, usize)> = plan.fields.iter().collect();
        ordered.sort_by_key(|(f, _, _)| *f == "full_name");
        for (field, kind, i) in ordered {
            let raw = translate(mapping.values.get(*field), &cells[*i]);
            if raw.trim().is_empty() {
                continue;
            }
            let order = plan.orders.get(i).copied();
            if let Err(reason) = set_field(
                &mut lead,
                field,
                *kind,
                raw,
                mapping.date_format.as_deref(),
                order,
            ) {
                if nullable(*kind) && !plan.required.contains(field) {
                    warned.push((header[*i].clone(), cells[*i].clone(), reason));
                } else {
                    bad.push((header[*i].clone(), cells[*i].clone(), reason));
                }
            }
        }
        for (field, kind, value) in &plan.constants {
            if !has_field(&lead, field) {
                let _ = set_field(
                    &mut lead,
                    field,
                    *kind,
                    value,
                    mapping.date_format.as_deref(),
                    None,
                );
            }
        }
        for field in &plan.required {
            if !has_field(&lead, field) {
                let column = mapping
                    .columns
                    .get(*field)
                    .cloned()
                    .unwrap_or_else(|| field.to_string());
                bad.push((column, String::new(), format!("{field} is required")));
            }
        }
        // A phone that reads as digits but has no possible length for its country
        // (by libphonenumber's metadata) is kept as written, with a warning.
        let mut doubtful = Vec::new();
        if let Some(phone) = &lead.phone
            && let Some(reason) =
                leadql_models::duplicates::phone::invalid(phone, lead.country.as_deref())
        {
            let column = mapping.columns.get("phone").cloned().unwrap_or_default();
            doubtful.push((column, phone.clone(), reason));
        }
        for e in &plan.extras {
            let order = plan.orders.get(&e.index).copied();
            match extra(&cells[e.index], e, mapping.date_format.as_deref(), order) {
                Ok(v) => lead.extras.push(v),
                Err(reason) => {
                    // An extra column is optional: NULL of its type, and a warning.
                    lead.extras.push(null_of(e.store));
                    warned.push((header[e.index].clone(), cells[e.index].clone(), reason));
                }
            }
        }
        if let Some(owner) = lead.owner_id.filter(|o| !sellers.contains(o)) {
            let column = mapping.columns.get("owner_id").cloned().unwrap_or_default();
            bad.push((
                column,
                owner.to_string(),
                format!("no seller {owner} in sellers"),
            ));
        }
        if let (Some("open"), Some(_)) = (lead.status.as_deref(), lead.closed_at) {
            bad.push((
                "closed_at".into(),
                String::new(),
                "an open lead has no closed_at".into(),
            ));
        }
        // Without its invalid optional values, nothing would identify the lead: a blank
        // lead is refused, not imported.
        let anonymous = [
            &lead.email,
            &lead.phone,
            &lead.first_name,
            &lead.last_name,
            &lead.company,
        ]
        .iter()
        .all(|v| v.is_none());
        if !bad.is_empty() || (!warned.is_empty() && anonymous) {
            bad.extend(warned);
            out.rejects.push(reject_row(line, &bad, cells));
            continue;
        }
        for w in &mut warned {
            w.2 = format!(
                "warning: {}; {} stored as NULL, the lead is imported",
                w.2, w.0
            );
        }
        for d in &mut doubtful {
            d.2 = format!("warning: {}; kept as written, the lead is imported", d.2);
        }
        warned.extend(doubtful);
        if !warned.is_empty() {
            out.warnings.push(reject_row(line, &warned, cells.clone()));
        }
        // Derived fields.
        if let Some(title) = &lead.job_title {
            if lead.job_function.is_none() {
                lead.job_function = titles::job_function(title).map(str::to_string);
            }
            if lead.seniority.is_none() {
                lead.seniority = titles::seniority(title).map(|s| s.as_str().to_string());
            }
        }
        if lead.channel.is_none() {
            lead.channel = Some(
                lead.source
                    .as_deref()
                    .and_then(|s| SOURCES.iter().find(|((src, _), _)| *src == s))
                    .map_or("other", |((_, c), _)| c)
                    .to_string(),
            );
        }
        lead.asset = match (&plan.asset, &mapping.interaction) {
            (Some(i), _) => opt(&cells[*i]),
            (None, Some(spec)) => spec.asset_value.clone(),
            _ => None,
        };
        // Identity of the row.
        let id = plan.id.and_then(|i| opt(&cells[i]));
        lead.key = match &id {
            Some(id) => {
                let n = seen_ids.entry(id.clone()).or_insert(0);
                *n += 1;
                if *n > 1 {
                    out.repeated += 1;
                    continue;
                }
                format!(
                    "id:{}",
                    hash(&[kind, lead.source.as_deref().unwrap_or(""), id])
                )
            }
            None => {
                let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
                let content = hash(&refs);
                let n = seen_rows.entry(content.clone()).or_insert(0);
                *n += 1;
                format!("row:{content}#{n}")
            }
        };
        lead.external_id = id;
        out.leads.push(lead);
    }
    Ok(out)
}
