//! Linking imported leads to the workspace: existing contacts by email, existing
//! accounts by corporate email domain or company name, new ones created once per
//! email or company, and fresh identifiers for everything added.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int32Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::SessionContext;
use leadql_models::matching::{email_domain, fold_name, is_free_mail, normalize_email};

use super::rows::Lead;
use super::values;
use super::{ids, instants, table_batch, text};
use crate::error::{Error, Result};
use crate::schema;

/// What the workspace already holds, as far as linking is concerned.
#[derive(Debug, Default)]
pub struct State {
    /// Row keys of imported leads.
    pub keys: HashSet<String>,
    /// Normalised contact email → (contact, its account).
    pub contacts: HashMap<String, (i64, Option<i64>)>,
    /// Corporate domain → account.
    pub domains: HashMap<String, i64>,
    /// Folded account name → account.
    pub names: HashMap<String, i64>,
    /// Existing seller ids.
    pub sellers: HashSet<i64>,
    /// Next identifiers.
    pub next_lead: i64,
    /// Next contact id.
    pub next_contact: i64,
    /// Next account id.
    pub next_account: i64,
    /// Next interaction id.
    pub next_interaction: i64,
    /// Next status event id.
    pub next_event: i64,
    /// Next import id.
    pub next_import: i64,
}

async fn batches(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(sql).await?.collect().await?)
}

fn strings(b: &RecordBatch, i: usize) -> Result<Vec<Option<String>>> {
    let c = datafusion::arrow::compute::cast(b.column(i), &DataType::Utf8)
        .map_err(|e| Error::Query(e.to_string()))?;
    let a = c.as_string::<i32>();
    Ok((0..a.len())
        .map(|r| (!a.is_null(r)).then(|| a.value(r).to_string()))
        .collect())
}

fn longs(b: &RecordBatch, i: usize) -> Result<Vec<Option<i64>>> {
    let c = datafusion::arrow::compute::cast(b.column(i), &DataType::Int64)
        .map_err(|e| Error::Query(e.to_string()))?;
    let a = c.as_primitive::<Int64Type>();
    Ok((0..a.len())
        .map(|r| (!a.is_null(r)).then(|| a.value(r)))
        .collect())
}

impl State {
    /// Reads it from the workspace's tables.
    pub async fn load(ctx: &SessionContext) -> Result<Self> {
        let mut s = State::default();
        for b in batches(ctx, "SELECT row_key FROM lead_imports").await? {
            s.keys.extend(strings(&b, 0)?.into_iter().flatten());
        }
        for b in batches(
            ctx,
            "SELECT contact_id, email, account_id FROM contacts ORDER BY contact_id",
        )
        .await?
        {
            let (ids, emails, accounts) = (longs(&b, 0)?, strings(&b, 1)?, longs(&b, 2)?);
            for ((id, email), account) in ids.into_iter().zip(emails).zip(accounts) {
                if let (Some(id), Some(key)) = (id, email.as_deref().and_then(normalize_email)) {
                    s.contacts.entry(key).or_insert((id, account));
                }
            }
        }
        for b in batches(
            ctx,
            "SELECT account_id, name, domain FROM accounts ORDER BY account_id",
        )
        .await?
        {
            let (ids, names, domains) = (longs(&b, 0)?, strings(&b, 1)?, strings(&b, 2)?);
            for ((id, name), domain) in ids.into_iter().zip(names).zip(domains) {
                let Some(id) = id else { continue };
                if let Some(d) = domain.map(|d| d.trim().to_lowercase())
                    && !d.is_empty()
                    && !is_free_mail(&d)
                {
                    s.domains.entry(d).or_insert(id);
                }
                if let Some(n) = name.map(|n| fold_name(&n))
                    && !n.is_empty()
                {
                    s.names.entry(n).or_insert(id);
                }
            }
        }
        for b in batches(ctx, "SELECT seller_id FROM sellers").await? {
            s.sellers.extend(longs(&b, 0)?.into_iter().flatten());
        }
        let next = |table: &str, column: &str| {
            format!("SELECT coalesce(max({column}), 0) + 1 FROM {table}")
        };
        let one = async |table: &str, column: &str| -> Result<i64> {
            let b = batches(ctx, &next(table, column)).await?;
            Ok(b.first()
                .map(|b| longs(b, 0))
                .transpose()?
                .and_then(|v| v.first().copied().flatten())
                .unwrap_or(1))
        };
        s.next_lead = one("leads", "lead_id").await?;
        s.next_contact = one("contacts", "contact_id").await?;
        s.next_account = one("accounts", "account_id").await?;
        s.next_interaction = one("interactions", "interaction_id").await?;
        s.next_event = one("lead_status_events", "event_id").await?;
        s.next_import = one("imports", "import_id").await?;
        Ok(s)
    }
}

/// A lead with its identifiers.
#[derive(Debug, Clone)]
pub struct Linked {
    /// The lead's new id.
    pub lead_id: i64,
    /// Its account, matched or created.
    pub account_id: Option<i64>,
    /// Its contact, matched or created.
    pub contact_id: Option<i64>,
    /// What was imported.
    pub lead: Lead,
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Its id.
    pub account_id: i64,
    /// Name as first seen.
    pub name: String,
    /// Corporate email domain, or empty.
    pub domain: String,
    /// From the first lead naming it.
    pub industry: Option<String>,
    /// Head count.
    pub employees: Option<i32>,
    /// Band.
    pub size_band: Option<String>,
    /// Revenue band.
    pub revenue_band: Option<String>,
    /// Country.
    pub country: Option<String>,
}

/// A contact to create.
#[derive(Debug, Clone)]
pub struct NewContact {
    /// Its id.
    pub contact_id: i64,
    /// Its account.
    pub account_id: Option<i64>,
    /// The lead it comes from.
    pub lead_id: i64,
    /// Normalised email.
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Title.
    pub job_title: Option<String>,
}

/// Leads linked, with the records to create.
#[derive(Debug, Default)]
pub struct Links {
    /// The leads.
    pub leads: Vec<Linked>,
    /// Accounts to create.
    pub accounts: Vec<NewAccount>,
    /// Contacts to create.
    pub contacts: Vec<NewContact>,
    /// Leads linked to an existing account.
    pub accounts_matched: u64,
    /// Leads linked to an existing contact.
    pub contacts_matched: u64,
}

/// Links `leads` to `state`, assigning ids and creating accounts and contacts.
pub fn link(leads: Vec<Lead>, state: &State) -> Links {
    let mut out = Links::default();
    let mut domains = state.domains.clone();
    let mut names = state.names.clone();
    let mut contacts = state.contacts.clone();
    let mut next_account = state.next_account;
    let mut next_contact = state.next_contact;
    for (i, lead) in leads.into_iter().enumerate() {
        let lead_id = state.next_lead + i as i64;
        let domain = lead
            .email
            .as_deref()
            .and_then(email_domain)
            .filter(|d| !is_free_mail(d));
        let company_key = lead
            .company
            .as_deref()
            .map(fold_name)
            .filter(|k| !k.is_empty());
        let existing_contact = lead
            .email_key
            .as_ref()
            .and_then(|e| contacts.get(e).copied());
        // Account: corporate domain, then company name, then the contact's account.
        let mut account_id = domain
            .as_ref()
            .and_then(|d| domains.get(d).copied())
            .or_else(|| company_key.as_ref().and_then(|k| names.get(k).copied()));
        let created_here = account_id.is_some_and(|a| a >= state.next_account);
        if account_id.is_some() && !created_here {
            out.accounts_matched += 1;
        }
        if account_id.is_none() {
            account_id = existing_contact.and_then(|(_, a)| a);
            if account_id.is_some() {
                out.accounts_matched += 1;
            }
        }
        if account_id.is_none()
            && let (Some(key), Some(name)) = (&company_key, &lead.company)
        {
            let id = next_account;
            next_account += 1;
            names.insert(key.clone(), id);
            if let Some(d) = &domain {
                domains.entry(d.clone()).or_insert(id);
            }
            out.accounts.push(NewAccount {
                account_id: id,
                name: name.clone(),
                domain: domain.clone().unwrap_or_default(),
                industry: lead.industry.clone(),
                employees: lead.company_size,
                size_band: lead.size_band.clone(),
                revenue_band: lead.revenue_band.clone(),
                country: lead.country.clone(),
            });
            account_id = Some(id);
        }
        // Contact: by email, else a new one.
        let contact_id = match (existing_contact, &lead.email_key) {
            (Some((id, _)), _) => {
                if id < state.next_contact {
                    out.contacts_matched += 1;
                }
                Some(id)
            }
            (None, Some(email)) => {
                let id = next_contact;
                next_contact += 1;
                contacts.insert(email.clone(), (id, account_id));
                out.contacts.push(NewContact {
                    contact_id: id,
                    account_id,
                    lead_id,
                    email: email.clone(),
                    first_name: lead.first_name.clone(),
                    last_name: lead.last_name.clone(),
                    phone: lead.phone.clone(),
                    job_title: lead.job_title.clone(),
                });
                Some(id)
            }
            (None, None) => None,
        };
        out.leads.push(Linked {
            lead_id,
            account_id,
            contact_id,
            lead,
        });
    }
    out
}

/// The `accounts` rows to create.
pub fn accounts_batch(accounts: &[NewAccount], at: i64) -> Result<RecordBatch> {
    let segment = |a: &NewAccount| match (a.employees, a.size_band.as_deref()) {
        (Some(n), _) if n > 2000 => "enterprise",
        (Some(n), _) if n > 200 => "mid_market",
        (Some(_), _) => "smb",
        (None, Some("5001+")) => "enterprise",
        (None, Some("201-1000" | "1001-5000")) => "mid_market",
        _ => "smb",
    };
    let columns: Vec<ArrayRef> = vec![
        ids(accounts.iter().map(|a| Some(a.account_id))),
        text(accounts.iter().map(|a| Some(a.name.as_str()))),
        text(accounts.iter().map(|a| Some(a.domain.as_str()))),
        text(
            accounts
                .iter()
                .map(|a| Some(a.industry.as_deref().unwrap_or("unknown"))),
        ),
        Arc::new(
            accounts
                .iter()
                .map(|a| Some(a.employees.unwrap_or(0)))
                .collect::<Int32Array>(),
        ),
        text(accounts.iter().map(|a| {
            Some(
                a.size_band
                    .as_deref()
                    .or(a.employees.map(|e| values::size_band(i64::from(e))))
                    .unwrap_or("unknown"),
            )
        })),
        text(
            accounts
                .iter()
                .map(|a| Some(a.revenue_band.as_deref().unwrap_or("unknown"))),
        ),
        text(
            accounts
                .iter()
                .map(|a| Some(a.country.as_deref().unwrap_or(""))),
        ),
        text(
            accounts
                .iter()
                .map(|a| Some(values::territory(a.country.as_deref().unwrap_or("")))),
        ),
        text(accounts.iter().map(|a| Some(segment(a)))),
        Arc::new(
            accounts
                .iter()
                .map(|_| Some(false))
                .collect::<BooleanArray>(),
        ),
        instants(accounts.iter().map(|_| Some(at))),
    ];
    table_batch(&schema::ACCOUNTS, Vec::new(), columns)
}

/// The `contacts` rows to create.
pub fn contacts_batch(contacts: &[NewContact], at: i64) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        ids(contacts.iter().map(|c| Some(c.contact_id))),
        ids(contacts.iter().map(|c| c.account_id)),
        ids(contacts.iter().map(|c| Some(c.lead_id))),
        text(contacts.iter().map(|c| c.first_name.as_deref())),
        text(contacts.iter().map(|c| c.last_name.as_deref())),
        text(contacts.iter().map(|c| Some(c.email.as_str()))),
        text(contacts.iter().map(|c| c.phone.as_deref())),
        text(contacts.iter().map(|c| c.job_title.as_deref())),
        instants(contacts.iter().map(|_| Some(at))),
    ];
    table_batch(&schema::CONTACTS, Vec::new(), columns)
}
