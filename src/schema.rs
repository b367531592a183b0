//! The lead workspace's tables and their Arrow schemas, defined once.
//!
//! Every core table a workspace may hold is described here, column by column, with the
//! meaning of each column. The generator writes these schemas, the catalog validates
//! files against them, and `data/README.md` is generated from them (`leadql schema`),
//! so code and documentation cannot drift (a test checks the README).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// One column of a core table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name, as used in SQL.
    pub name: &'static str,
    /// Its kind of value.
    pub kind: Kind,
    /// Whether the column may hold NULL.
    pub nullable: bool,
    /// What it means, for `data/README.md`.
    pub doc: &'static str,
}

/// The kinds of value stored in core tables, and the Arrow types they map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 64-bit integer identifier or count (`Int64`).
    Id,
    /// 32-bit integer (`Int32`).
    Int,
    /// Floating-point amount (`Float64`).
    Float,
    /// UTF-8 text (`Utf8`).
    Text,
    /// UTF-8 text from a small vocabulary, dictionary-encoded
    /// (`Dictionary(Int32, Utf8)`): comparisons and filters work on the few distinct
    /// values instead of every row.
    Category,
    /// Instant in UTC, microsecond precision, stored without a time zone
    /// (`Timestamp(Microsecond, None)`).
    Timestamp,
    /// `Boolean`.
    Bool,
}

impl Kind {
    /// The Arrow type leadql writes and exposes for this kind.
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Id => DataType::Int64,
            Kind::Int => DataType::Int32,
            Kind::Float => DataType::Float64,
            Kind::Text => DataType::Utf8,
            Kind::Category => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
            }
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::Bool => DataType::Boolean,
        }
    }

    /// Whether a file column of type `found` can be read as this kind without loss.
    ///
    /// Files written by other tools differ in representation (string views,
    /// dictionaries, narrower integers, other timestamp units); those are accepted and
    /// cast on read. Anything else is a schema error.
    pub fn accepts(self, found: &DataType) -> bool {
        use DataType as D;
        match self {
            Kind::Id => matches!(
                found,
                D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32
            ),
            Kind::Int => matches!(found, D::Int8 | D::Int16 | D::Int32 | D::UInt8 | D::UInt16),
            Kind::Float => matches!(
                found,
                D::Float16 | D::Float32 | D::Float64 | D::Int8 | D::Int16 | D::Int32
            ),
            Kind::Text | Kind::Category => match found {
                D::Utf8 | D::LargeUtf8 | D::Utf8View => true,
                D::Dictionary(_, value) => matches!(**value, D::Utf8 | D::LargeUtf8 | D::Utf8View),
                _ => false,
            },
            Kind::Timestamp => match found {
                D::Timestamp(_, None) => true,
                D::Timestamp(_, Some(tz)) => matches!(tz.as_ref(), "UTC" | "+00:00" | "Z"),
                _ => false,
            },
            Kind::Bool => matches!(found, D::Boolean),
        }
    }

    /// Short name used in documentation and error messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Id => "int64",
            Kind::Int => "int32",
            Kind::Float => "float64",
            Kind::Text => "string",
            Kind::Category => "string (dictionary-encoded)",
            Kind::Timestamp => "timestamp (UTC, µs)",
            Kind::Bool => "boolean",
        }
    }
}

/// A core table of the lead workspace.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Table name: also the workspace sub-folder holding its Parquet files.
    pub name: &'static str,
    /// What one row is.
    pub doc: &'static str,
    /// Its columns, in order.
    pub columns: &'static [Column],
}

impl Table {
    /// The Arrow schema of the table.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(self.fields()))
    }

    /// Its Arrow fields, in column order (to extend with extra columns).
    pub fn fields(&self) -> Vec<Field> {
        self.columns
            .iter()
            .map(|c| Field::new(c.name, c.kind.data_type(), c.nullable))
            .collect()
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn col(name: &'static str, kind: Kind, nullable: bool, doc: &'static str) -> Column {
    Column {
        name,
        kind,
        nullable,
        doc,
    }
}

use Kind::{Bool, Category, Float, Id, Int, Text, Timestamp};

/// `leads`: one row per lead, with its current status.
pub const LEADS: Table = Table {
    name: "leads",
    doc: "One row per lead: a person who showed interest, with what we know of them and their company, and their current lifecycle status.",
    columns: &[
        col("lead_id", Id, false, "Unique lead identifier."),
        col(
            "created_at",
            Timestamp,
            false,
            "When the lead was captured.",
        ),
        col(
            "source",
            Text,
            false,
            "How the lead was captured: web_form, paid_search, organic_search, social_linkedin, event, webinar, referral, partner, content_syndication, purchased_list; imports set their own (default import).",
        ),
        col(
            "channel",
            Text,
            false,
            "Marketing channel of the source: web, paid, social, event, partner, email, list (other for unknown imported sources).",
        ),
        col(
            "campaign",
            Text,
            true,
            "Campaign that captured the lead (NULL for organic sources).",
        ),
        col("first_name", Text, true, "Given name."),
        col("last_name", Text, true, "Family name."),
        col(
            "email",
            Text,
            true,
            "Email address as entered (case and spacing not normalised).",
        ),
        col(
            "phone",
            Text,
            true,
            "Phone number as entered (formats vary by country and person).",
        ),
        col(
            "company",
            Text,
            true,
            "Company name as entered (may differ in spelling from the account name).",
        ),
        col(
            "account_id",
            Id,
            true,
            "Matched account (`accounts.account_id`), NULL when unmatched.",
        ),
        col(
            "contact_id",
            Id,
            true,
            "The lead's contact (`contacts.contact_id`): matched by email or created at import, or created when the lead was qualified.",
        ),
        col("job_title", Text, true, "Job title as entered."),
        col(
            "job_function",
            Text,
            true,
            "Function derived from the title: marketing, sales, it, engineering, data, operations, finance, hr, executive.",
        ),
        col(
            "seniority",
            Text,
            true,
            "Seniority derived from the title: entry, mid, senior, manager, director, vp, c_level.",
        ),
        col("industry", Text, true, "Industry of the company."),
        col("company_size", Int, true, "Number of employees."),
        col(
            "size_band",
            Text,
            true,
            "Employee band: 1-10, 11-50, 51-200, 201-1000, 1001-5000, 5001+.",
        ),
        col(
            "revenue_band",
            Text,
            true,
            "Annual revenue band: <1M, 1M-10M, 10M-50M, 50M-250M, 250M-1B, 1B+.",
        ),
        col("country", Text, true, "ISO 3166-1 alpha-2 country code."),
        col(
            "consent",
            Text,
            false,
            "Consent level, weakest first: none, transactional, marketing, full.",
        ),
        col(
            "status",
            Text,
            false,
            "Status when the lead was generated or imported: open, qualified or disqualified. The current status is the latest event in `lead_status_events` (view `lead_status`), which `leadql lead` appends to.",
        ),
        col(
            "status_reason",
            Text,
            true,
            "Reason of the current status: for disqualified leads lost, cannot_contact, no_longer_interested or canceled; reopened for reopened open leads.",
        ),
        col(
            "owner_id",
            Id,
            true,
            "Seller who owns the lead (`sellers.seller_id`), NULL when unassigned.",
        ),
        col(
            "closed_at",
            Timestamp,
            true,
            "When the lead was last qualified or disqualified; NULL while open.",
        ),
    ],
};

/// `interactions`: one row per recorded interaction of a lead.
pub const INTERACTIONS: Table = Table {
    name: "interactions",
    doc: "One row per interaction of a lead with marketing or sales: emails, visits, forms, downloads, events, webinars.",
    columns: &[
        col(
            "interaction_id",
            Id,
            false,
            "Unique interaction identifier.",
        ),
        col("lead_id", Id, false, "The lead (`leads.lead_id`)."),
        col("occurred_at", Timestamp, false, "When it happened."),
        col(
            "type",
            Category,
            false,
            "email_sent, email_open, email_click, form_submit, web_visit, pricing_page_visit, content_download, event_registration, event_checkin, webinar_attend, unsubscribe.",
        ),
        col(
            "channel",
            Category,
            false,
            "email, web, social, event or webinar.",
        ),
        col(
            "campaign",
            Text,
            true,
            "Campaign or journey the interaction belongs to, if any.",
        ),
        col(
            "asset",
            Text,
            true,
            "The email, page, form, content piece, event or webinar involved.",
        ),
    ],
};

/// `contacts`: people we have a relationship with.
pub const CONTACTS: Table = Table {
    name: "contacts",
    doc: "One row per contact: a person at an account, created when a lead is qualified or imported with an email no contact has.",
    columns: &[
        col("contact_id", Id, false, "Unique contact identifier."),
        col(
            "account_id",
            Id,
            true,
            "The contact's account (`accounts.account_id`).",
        ),
        col(
            "lead_id",
            Id,
            true,
            "The lead it was created from (`leads.lead_id`).",
        ),
        col("first_name", Text, true, "Given name."),
        col("last_name", Text, true, "Family name."),
        col("email", Text, true, "Email address (lower-case, trimmed)."),
        col("phone", Text, true, "Phone number."),
        col("job_title", Text, true, "Job title."),
        col(
            "created_at",
            Timestamp,
            false,
            "When the contact was created.",
        ),
    ],
};

/// `accounts`: companies.
pub const ACCOUNTS: Table = Table {
    name: "accounts",
    doc: "One row per account (company).",
    columns: &[
        col("account_id", Id, false, "Unique account identifier."),
        col("name", Text, false, "Company name."),
        col("domain", Text, false, "Web and email domain."),
        col("industry", Text, false, "Industry."),
        col("employees", Int, false, "Number of employees."),
        col(
            "size_band",
            Text,
            false,
            "Employee band (as in `leads.size_band`).",
        ),
        col(
            "revenue_band",
            Text,
            false,
            "Annual revenue band (as in `leads.revenue_band`).",
        ),
        col(
            "country",
            Text,
            false,
            "Headquarters country, ISO 3166-1 alpha-2.",
        ),
        col(
            "territory",
            Text,
            false,
            "Sales territory: north_america, latin_america, emea, apac.",
        ),
        col(
            "segment",
            Text,
            false,
            "Sales segment by size: smb, mid_market, enterprise.",
        ),
        col(
            "is_customer",
            Bool,
            false,
            "Whether the account already buys from us.",
        ),
        col(
            "created_at",
            Timestamp,
            false,
            "When the account was created.",
        ),
    ],
};

/// `sellers`: the sales team.
pub const SELLERS: Table = Table {
    name: "sellers",
    doc: "One row per seller who can own leads and sales activities.",
    columns: &[
        col("seller_id", Id, false, "Unique seller identifier."),
        col("name", Text, false, "Full name."),
        col("email", Text, false, "Work email."),
        col(
            "territory",
            Text,
            false,
            "Territory covered: north_america, latin_america, emea, apac.",
        ),
        col(
            "segment",
            Text,
            false,
            "Segment covered: smb, mid_market, enterprise.",
        ),
        col(
            "capacity",
            Int,
            false,
            "Maximum number of open hand-offs (sales activities of the last 14 days) at once.",
        ),
        col(
            "active",
            Bool,
            false,
            "Whether the seller currently takes new work.",
        ),
        col("hired_at", Timestamp, false, "When the seller joined."),
    ],
};

/// `opportunities`: sales opportunities created from qualified leads.
pub const OPPORTUNITIES: Table = Table {
    name: "opportunities",
    doc: "One row per opportunity, created when a lead is qualified.",
    columns: &[
        col(
            "opportunity_id",
            Id,
            false,
            "Unique opportunity identifier.",
        ),
        col("lead_id", Id, true, "Originating lead (`leads.lead_id`)."),
        col("account_id", Id, true, "Account (`accounts.account_id`)."),
        col(
            "contact_id",
            Id,
            true,
            "Primary contact (`contacts.contact_id`).",
        ),
        col("owner_id", Id, true, "Owning seller (`sellers.seller_id`)."),
        col(
            "created_at",
            Timestamp,
            false,
            "When the opportunity was created (the lead's qualification).",
        ),
        col(
            "estimated_value",
            Float,
            true,
            "Estimated deal value in EUR.",
        ),
        col("status", Text, false, "open, won or lost."),
        col(
            "closed_at",
            Timestamp,
            true,
            "When it was won or lost; NULL while open.",
        ),
    ],
};

/// `lead_status_events`: the append-only lifecycle log.
pub const LEAD_STATUS_EVENTS: Table = Table {
    name: "lead_status_events",
    doc: "Append-only lifecycle log: one row per status change of a lead. A lead's current status is its latest event.",
    columns: &[
        col(
            "event_id",
            Id,
            false,
            "Unique, increasing event identifier (orders events at the same instant).",
        ),
        col("lead_id", Id, false, "The lead (`leads.lead_id`)."),
        col("occurred_at", Timestamp, false, "When the change happened."),
        col(
            "status",
            Text,
            false,
            "Status after the change: open, qualified or disqualified.",
        ),
        col(
            "reason",
            Text,
            true,
            "created, reopened or unmerged for open; lost, cannot_contact, no_longer_interested, canceled or merged (by `leadql lead merge`) for disqualified; NULL for qualified.",
        ),
        col(
            "actor_id",
            Id,
            true,
            "Seller who made the change (`sellers.seller_id`); NULL for the system.",
        ),
    ],
};

/// `lead_merges`: append-only log of merges and their undoing.
pub const LEAD_MERGES: Table = Table {
    name: "lead_merges",
    doc: "Append-only log of `leadql lead merge` and `lead unmerge`: one row per duplicate merged into a master, or taken out again. A duplicate is merged while its latest row says so; its interactions and imports then count for the master (the `interactions` and `lead_imports` tables show them under the master's `lead_id` in every session that knows of the merge; `--as-of` an earlier instant shows the leads apart), and it is closed (disqualified, reason `merged`) with its own records kept.",
    columns: &[
        col(
            "merge_id",
            Id,
            false,
            "Unique, increasing identifier (orders rows at the same instant).",
        ),
        col(
            "master_id",
            Id,
            false,
            "The lead that stays (`leads.lead_id`).",
        ),
        col(
            "duplicate_id",
            Id,
            false,
            "The lead merged into it, or taken out (`leads.lead_id`).",
        ),
        col(
            "occurred_at",
            Timestamp,
            false,
            "When it was merged or unmerged.",
        ),
        col("action", Text, false, "merged or unmerged."),
        col(
            "status_before",
            Text,
            true,
            "For merged: the duplicate's status before the merge, which unmerging restores (open, qualified or disqualified).",
        ),
        col(
            "reason_before",
            Text,
            true,
            "For merged: the reason of that status.",
        ),
        col(
            "actor_id",
            Id,
            true,
            "Seller who made the change (`sellers.seller_id`); NULL for the system.",
        ),
    ],
};

/// `imports`: one row per import of a file.
pub const IMPORTS: Table = Table {
    name: "imports",
    doc: "One row per `leadql import` that added rows: which file, read how, and what became of its rows.",
    columns: &[
        col("import_id", Id, false, "Unique import identifier."),
        col("kind", Text, false, "csv or linkedin."),
        col("file", Text, false, "The imported file, as given."),
        col("sha256", Text, false, "SHA-256 of the file's bytes."),
        col(
            "mapping",
            Text,
            false,
            "The mapping used: a mapping file, `linkedin`, or `automatic` (by header names).",
        ),
        col("imported_at", Timestamp, false, "When the import ran."),
        col("rows_read", Id, false, "Data rows in the file."),
        col("rows_imported", Id, false, "Rows that became leads."),
        col(
            "rows_skipped",
            Id,
            false,
            "Rows already imported before (by this or an earlier import).",
        ),
        col(
            "rows_rejected",
            Id,
            false,
            "Rows refused, listed in the rejects file.",
        ),
        col(
            "rejects_file",
            Text,
            true,
            "The rejects file, NULL when no row was refused.",
        ),
    ],
};

/// `lead_imports`: which import and row each imported lead came from.
pub const LEAD_IMPORTS: Table = Table {
    name: "lead_imports",
    doc: "One row per imported lead: its import and source row. `row_key` identifies the source row (its identifier in the source system, else its content) so that importing the same rows again adds nothing.",
    columns: &[
        col("lead_id", Id, false, "The lead (`leads.lead_id`)."),
        col("import_id", Id, false, "The import (`imports.import_id`)."),
        col(
            "line",
            Id,
            false,
            "Line of the row in the imported file (the header is line 1).",
        ),
        col(
            "row_key",
            Text,
            false,
            "Identity of the source row: `id:` and a hash of the source system's identifier (e.g. LinkedIn's Lead ID), else `row:` and a hash of the row's cells with its occurrence number among identical rows.",
        ),
        col(
            "external_id",
            Text,
            true,
            "The lead's identifier in its source system, when the file has one.",
        ),
    ],
};

/// `planted_duplicates`: the ground truth of `leadql generate --duplicates`. Not a core
/// table: only generated workspaces with planted duplicates have it.
pub const PLANTED_DUPLICATES: Table = Table {
    name: "planted_duplicates",
    doc: "Written by `leadql generate --duplicates F`: each lead planted as a duplicate of an earlier one.",
    columns: &[
        col(
            "lead_id",
            Id,
            false,
            "The planted duplicate (`leads.lead_id`).",
        ),
        col("duplicate_of", Id, false, "The earlier lead it duplicates."),
        col(
            "variation",
            Text,
            false,
            "How it was typed again, i.e. the rule that should find it: same_email (case, spaces, name typo), same_phone (other formatting, no email), name_company (name typo, company variant, no email or phone), name_domain (other address at the same corporate domain, no company).",
        ),
    ],
};

/// Every core table, in documentation order.
pub const CORE_TABLES: &[Table] = &[
    LEADS,
    INTERACTIONS,
    CONTACTS,
    ACCOUNTS,
    SELLERS,
    OPPORTUNITIES,
    LEAD_STATUS_EVENTS,
    LEAD_MERGES,
    IMPORTS,
    LEAD_IMPORTS,
];

/// The core table called `name`, if it is one.
pub fn core_table(name: &str) -> Option<&'static Table> {
    CORE_TABLES.iter().find(|t| t.name == name)
}

/// Markdown reference of every core table (the body of `data/README.md`'s schema section).
pub fn markdown() -> String {
    let mut out = String::new();
    for table in CORE_TABLES {
        out.push_str(&format!("### `{}`\n\n{}\n\n", table.name, table.doc));
        out.push_str("| column | type | null | meaning |\n|---|---|---|---|\n");
        for c in table.columns {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                c.name,
                c.kind.label(),
                if c.nullable { "yes" } else { "no" },
                c.doc
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_unique_per_table() {
        for t in CORE_TABLES {
            let mut names: Vec<_> = t.columns.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(
                names.len(),
                t.columns.len(),
                "duplicate column in {}",
                t.name
            );
        }
    }

    #[test]
    fn data_readme_documents_the_schemas_verbatim() {
        let readme = include_str!("../data/README.md");
        assert!(
            readme.contains(&markdown()),
            "data/README.md is out of date: regenerate its schema section with `leadql schema`"
        );
    }

    #[test]
    fn text_accepts_views_and_dictionaries_but_not_numbers() {
        assert!(Kind::Text.accepts(&DataType::Utf8View));
        assert!(Kind::Text.accepts(&DataType::Dictionary(
            Box::new(DataType::Int32),
            Box::new(DataType::Utf8)
        )));
        assert!(!Kind::Text.accepts(&DataType::Int64));
        assert!(!Kind::Id.accepts(&DataType::Utf8));
        assert!(
            !Kind::Id.accepts(&DataType::UInt64),
            "u64 does not fit in i64"
        );
        assert!(!Kind::Timestamp.accepts(&DataType::Timestamp(
            TimeUnit::Second,
            Some("Europe/Paris".into())
        )));
    }
}
