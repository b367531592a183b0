//! How a file's columns become lead fields: mapping files, command-line overrides,
//! automatic mapping by header name, and the LinkedIn Lead Gen Forms preset.
//!
//! A mapping file is TOML:
//!
//! ```toml
//! description = "Trade-show badge scans"
//! delimiter = ";"              # detected when absent
//! encoding = "windows-1252"    # detected when absent
//! date_format = "%d/%m/%Y %H:%M"
//! id = "Badge ID"              # the row's identifier in its source system
//! required = ["email"]         # rows without these fields are rejected
//!
//! [columns]                    # lead field = "file column"
//! email = "E-mail"
//! full_name = "Name"
//!
//! [set]                        # lead field = constant, for fields no column holds
//! source = "event"
//!
//! [values.consent]             # file value = stored value ("" stores NULL)
//! "Yes" = "full"
//!
//! [extra]                      # file column = type: kept as an extra lead column
//! "Badge type" = "text"        # stored as badge_type
//! "Visits" = { type = "int", name = "booth_visits" }
//!
//! [interaction]                # record an interaction per imported lead
//! type = "event_checkin"
//! asset = "Booth"              # a file column, or a constant with asset_value
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use serde::Deserialize;

use crate::error::{Error, Result};

/// How a lead field's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text, trimmed.
    Text,
    /// An email address, validated.
    Email,
    /// A phone number, validated.
    Phone,
    /// An instant: ISO 8601 / RFC 3339 or the mapping's `date_format`.
    Instant,
    /// A whole number (thousands separators allowed).
    Integer,
    /// A head count, or a band such as `51-200` or `10,001+`.
    CompanySize,
    /// An ISO 3166-1 alpha-2 code or a country name.
    Country,
    /// A consent level.
    Consent,
    /// A lead status.
    Status,
    /// A seniority.
    Seniority,
    /// A lowercase `snake_case` word (source, channel, job function).
    Word,
}

/// The lead fields an import can fill, with how each is read. `full_name` is split into
/// first and last name when those are not mapped.
pub const FIELDS: &[(&str, FieldKind)] = &[
    ("created_at", FieldKind::Instant),
    ("source", FieldKind::Word),
    ("channel", FieldKind::Word),
    ("campaign", FieldKind::Text),
    ("first_name", FieldKind::Text),
    ("last_name", FieldKind::Text),
    ("full_name", FieldKind::Text),
    ("email", FieldKind::Email),
    ("phone", FieldKind::Phone),
    ("company", FieldKind::Text),
    ("job_title", FieldKind::Text),
    ("job_function", FieldKind::Word),
    ("seniority", FieldKind::Seniority),
    ("industry", FieldKind::Text),
    ("company_size", FieldKind::CompanySize),
    ("size_band", FieldKind::Text),
    ("revenue_band", FieldKind::Text),
    ("country", FieldKind::Country),
    ("consent", FieldKind::Consent),
    ("status", FieldKind::Status),
    ("status_reason", FieldKind::Text),
    ("owner_id", FieldKind::Integer),
    ("closed_at", FieldKind::Instant),
];

/// The kind of a field name, if it is one.
pub fn field_kind(name: &str) -> Option<FieldKind> {
    FIELDS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// Header spellings recognised by automatic mapping, besides the field names.
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "created_at",
        &[
            "created",
            "created on",
            "date",
            "submitted at",
            "created date",
        ],
    ),
    ("source", &["lead source"]),
    ("campaign", &["campaign name"]),
    ("first_name", &["first name", "firstname", "given name"]),
    (
        "last_name",
        &["last name", "lastname", "surname", "family name"],
    ),
    ("full_name", &["name", "full name", "contact name"]),
    (
        "email",
        &["email", "e-mail", "email address", "e-mail address", "mail"],
    ),
    (
        "phone",
        &[
            "phone",
            "phone number",
            "telephone",
            "mobile",
            "mobile phone",
            "business phone",
        ],
    ),
    (
        "company",
        &[
            "company",
            "company name",
            "organization",
            "organisation",
            "account name",
        ],
    ),
    ("job_title", &["title", "job title", "position"]),
    ("industry", &["industry"]),
    (
        "company_size",
        &[
            "company size",
            "employees",
            "number of employees",
            "headcount",
        ],
    ),
    ("country", &["country", "country/region", "country code"]),
    ("consent", &["consent"]),
];

/// A header cell reduced to lower-case words.
fn header_key(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The type of an extra column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraType {
    /// Text.
    Text,
    /// 64-bit integer.
    Int,
    /// Floating point.
    Float,
    /// true/false, yes/no, 1/0.
    Bool,
    /// An instant, read like `created_at`.
    Timestamp,
}

impl ExtraType {
    /// Its name in mappings and messages (`int`, `float`, …).
    pub fn label(self) -> &'static str {
        match self {
            ExtraType::Text => "text",
            ExtraType::Int => "int",
            ExtraType::Float => "float",
            ExtraType::Bool => "bool",
            ExtraType::Timestamp => "timestamp",
        }
    }

    /// The type of a column stored as `data_type` by an earlier import, if an import
    /// can write it.
    pub fn of(data_type: &DataType) -> Option<ExtraType> {
        match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(ExtraType::Text),
            DataType::Int64 => Some(ExtraType::Int),
            DataType::Float64 => Some(ExtraType::Float),
            DataType::Boolean => Some(ExtraType::Bool),
            DataType::Timestamp(_, None) => Some(ExtraType::Timestamp),
            DataType::Timestamp(_, Some(tz)) if tz.as_ref() == "UTC" || tz.as_ref() == "+00:00" => {
                Some(ExtraType::Timestamp)
            }
            _ => None,
        }
    }

    /// Whether values of this type can be stored in a column of type `stored` without
    /// loss: the same type, a whole number as a float, anything as text.
    pub fn widens_to(self, stored: ExtraType) -> bool {
        self == stored
            || stored == ExtraType::Text
            || (self == ExtraType::Int && stored == ExtraType::Float)
    }

    /// The Arrow type the column is stored as.
    pub fn data_type(self) -> DataType {
        match self {
            ExtraType::Text => DataType::Utf8,
            ExtraType::Int => DataType::Int64,
            ExtraType::Float => DataType::Float64,
            ExtraType::Bool => DataType::Boolean,
            ExtraType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }
}

/// The interaction recorded for each imported lead.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InteractionSpec {
    /// Interaction type (`form_submit`, `event_checkin`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Interaction channel (default `web`).
    pub channel: Option<String>,
    /// File column holding the asset (form, event, content piece).
    pub asset: Option<String>,
    /// Constant asset, when no column holds it.
    pub asset_value: Option<String>,
}

/// An `[extra]` entry: a type (`"int"`), or a type and the column name to store
/// (`{ type = "int", name = "calls" }`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ExtraSpec {
    /// Stored under the file column's name, made SQL-friendly by [`extra_name`].
    Type(ExtraType),
    /// Stored under `name`.
    Named {
        /// The type.
        #[serde(rename = "type")]
        kind: ExtraType,
        /// The stored column name.
        name: String,
    },
}

impl ExtraSpec {
    /// The type.
    pub fn kind(&self) -> ExtraType {
        match self {
            ExtraSpec::Type(t) | ExtraSpec::Named { kind: t, .. } => *t,
        }
    }

    /// The stored column name of file column `column`.
    pub fn name(&self, column: &str) -> String {
        match self {
            ExtraSpec::Type(_) => extra_name(column),
            ExtraSpec::Named { name, .. } => extra_name(name),
        }
    }
}

/// A column mapping: how to read the file and which column feeds which lead field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Field delimiter (one character; `\t` or `tab` for tab).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Text encoding.
    #[serde(default)]
    pub encoding: Option<String>,
    /// chrono format of dates that are not ISO 8601.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Column identifying the row in its source system (LinkedIn's Lead ID, a CRM id).
    #[serde(default)]
    pub id: Option<String>,
    /// Fields a row must have.
    #[serde(default)]
    pub required: Vec<String>,
    /// Lead field → file column.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Lead field → constant value.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Lead field → (file value → stored value).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// File column → type (and name), kept as extra lead columns.
    #[serde(default)]
    pub extra: BTreeMap<String, ExtraSpec>,
    /// Interaction recorded for each lead.
    #[serde(default)]
    pub interaction: Option<InteractionSpec>,
    /// Skip `[columns]` the file lacks instead of refusing the file (presets whose
    /// optional columns depend on the form).
    #[serde(skip)]
    pub optional_columns: bool,
    /// Columns a file must have to be of this kind (presets: LinkedIn's Lead ID and
    /// Submitted At); a file without them is refused, naming them.
    #[serde(skip)]
    pub required_columns: Vec<String>,
    /// Keep every column nothing else uses as an extra lead column, its type inferred
    /// from its values (`--keep-unmapped`; see [`crate::import::infer`]).
    #[serde(skip)]
    pub keep_unmapped: bool,
}

/// Where a mapping came from, for messages and the import log.
pub fn read(path: &Path) -> Result<Mapping> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|s| {
            // By bytes: a span need not fall on a character boundary.
            String::from_utf8_lossy(&text.as_bytes()[..s.start.min(text.len())])
                .lines()
                .count()
                .max(1)
        });
        Error::Argument {
            arg: "--mapping".into(),
            reason: format!(
                "{}{}: {}",
                path.display(),
                line.map(|l| format!(", line {l}")).unwrap_or_default(),
                e.message()
            ),
        }
    })
}

/// The LinkedIn Lead Gen Forms export: its column names, source and the form
/// submission recorded as an interaction.
pub fn linkedin() -> Mapping {
    let columns = [
        ("first_name", "First Name"),
        ("last_name", "Last Name"),
        ("email", "Email Address"),
        ("company", "Company Name"),
        ("job_title", "Job Title"),
        ("country", "Country"),
        ("phone", "Phone Number"),
        ("campaign", "Campaign Name"),
        ("created_at", "Submitted At"),
        ("industry", "Industry"),
        ("company_size", "Company Size"),
    ];
    Mapping {
        description: Some("LinkedIn Lead Gen Forms export".into()),
        id: Some("Lead ID".into()),
        columns: columns
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect(),
        set: [
            ("source", "social_linkedin"),
            ("channel", "social"),
            ("consent", "transactional"),
        ]
        .iter()
        .map(|(f, v)| (f.to_string(), v.to_string()))
        .collect(),
        interaction: Some(InteractionSpec {
            kind: "form_submit".into(),
            channel: Some("social".into()),
            asset: Some("Form Name".into()),
            asset_value: None,
        }),
        optional_columns: true,
        required_columns: vec!["Lead ID".into(), "Submitted At".into()],
        ..Mapping::default()
    }
}

/// Fields the header names on its own (`Email`, `First Name`, `Company`, …), for
/// imports without a mapping file.
pub fn automatic(header: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for h in header {
        let key = header_key(h);
        let field = FIELDS
            .iter()
            .map(|(f, _)| *f)
            .find(|f| header_key(f) == key)
            .or_else(|| {
                SYNONYMS
                    .iter()
                    .find(|(_, names)| names.iter().any(|n| header_key(n) == key))
                    .map(|(f, _)| *f)
            });
        if let Some(f) = field {
            out.entry(f.to_string()).or_insert_with(|| h.clone());
        }
    }
    out
}

/// The name an extra column is stored under: lower case, other characters as `_`
/// (`emp.var.rate` → `emp_var_rate`).
pub fn extra_name(column: &str) -> String {
    let mut s: String = column
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("x_{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_mapping_reads_common_headers() {
        let header: Vec<String> = ["E-mail", "First Name", "SURNAME", "Company", "Notes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = automatic(&header);
        assert_eq!(m.get("email").map(String::as_str), Some("E-mail"));
        assert_eq!(m.get("first_name").map(String::as_str), Some("First Name"));
        assert_eq!(m.get("last_name").map(String::as_str), Some("SURNAME"));
        assert_eq!(m.get("company").map(String::as_str), Some("Company"));
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn extra_names_are_sql_friendly() {
        assert_eq!(extra_name("emp.var.rate"), "emp_var_rate");
        assert_eq!(extra_name(" Badge type "), "badge_type");
        assert_eq!(extra_name("2nd choice"), "x_2nd_choice");
    }
}
