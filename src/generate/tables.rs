//! Turns simulated leads into Arrow record batches, one per table, giving every row
//! its identifier.
//!
//! Identifiers of interactions, status events, contacts and opportunities are running
//! counters, handed out in lead order by the single [`Assembler`], so they are stable
//! for a seed whatever the chunking.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Array, Int64Builder, StringArray,
    StringBuilder, StringDictionaryBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::Int32Type;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;

use crate::schema;

use super::firms::{Account, Seller};
use super::lead::LeadLife;

/// The batches produced for one chunk of leads.
#[derive(Debug)]
pub struct ChunkBatches {
    /// `leads` rows.
    pub leads: RecordBatch,
    /// `interactions` rows.
    pub interactions: RecordBatch,
    /// `contacts` rows.
    pub contacts: RecordBatch,
    /// `opportunities` rows.
    pub opportunities: RecordBatch,
    /// `lead_status_events` rows.
    pub events: RecordBatch,
}

/// Hands out identifiers and builds batches, chunk after chunk.
#[derive(Debug, Default)]
pub struct Assembler {
    next_interaction: i64,
    next_event: i64,
    next_contact: i64,
    next_opportunity: i64,
}

/// Row counts so far, for the summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Leads.
    pub leads: u64,
    /// Interactions.
    pub interactions: u64,
    /// Contacts.
    pub contacts: u64,
    /// Opportunities.
    pub opportunities: u64,
    /// Status events.
    pub events: u64,
}

fn batch(table: &schema::Table, columns: Vec<ArrayRef>) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_new(table.schema(), columns)
}

impl Assembler {
    /// Row counts handed out so far (leads excluded).
    pub fn counts(&self) -> Counts {
        Counts {
            leads: 0,
            interactions: self.next_interaction as u64,
            contacts: self.next_contact as u64,
            opportunities: self.next_opportunity as u64,
            events: self.next_event as u64,
        }
    }

    /// Builds the batches of one chunk of leads.
    pub fn assemble(&mut self, lives: &[LeadLife]) -> Result<ChunkBatches, ArrowError> {
        let n = lives.len();
        // leads
        let mut lead_id = Int64Builder::with_capacity(n);
        let mut created = TimestampMicrosecondBuilder::with_capacity(n);
        let mut source = StringBuilder::new();
        let mut channel = StringBuilder::new();
        let mut campaign = StringBuilder::new();
        let mut first = StringBuilder::new();
        let mut last = StringBuilder::new();
        let mut email = StringBuilder::new();
        let mut phone = StringBuilder::new();
        let mut company = StringBuilder::new();
        let mut account = Int64Builder::with_capacity(n);
        let mut contact = Int64Builder::with_capacity(n);
        let mut title = StringBuilder::new();
        let mut function = StringBuilder::new();
        let mut seniority = StringBuilder::new();
        let mut industry = StringBuilder::new();
        let mut size = Int32Builder::with_capacity(n);
        let mut size_band = StringBuilder::new();
        let mut revenue_band = StringBuilder::new();
        let mut country = StringBuilder::new();
        let mut consent = StringBuilder::new();
        let mut status = StringBuilder::new();
        let mut reason = StringBuilder::new();
        let mut owner = Int64Builder::with_capacity(n);
        let mut closed = TimestampMicrosecondBuilder::with_capacity(n);
        // interactions
        let mut i_id = Int64Builder::new();
        let mut i_lead = Int64Builder::new();
        let mut i_at = TimestampMicrosecondBuilder::new();
        let mut i_type = StringDictionaryBuilder::<Int32Type>::new();
        let mut i_channel = StringDictionaryBuilder::<Int32Type>::new();
        let mut i_campaign = StringBuilder::new();
        let mut i_asset = StringBuilder::new();
        // contacts
        let mut c_id = Int64Builder::new();
        let mut c_account = Int64Builder::new();
        let mut c_lead = Int64Builder::new();
        let mut c_first = StringBuilder::new();
        let mut c_last = StringBuilder::new();
        let mut c_email = StringBuilder::new();
        let mut c_phone = StringBuilder::new();
        let mut c_title = StringBuilder::new();
        let mut c_created = TimestampMicrosecondBuilder::new();
        // opportunities
        let mut o_id = Int64Builder::new();
        let mut o_lead = Int64Builder::new();
        let mut o_account = Int64Builder::new();
        let mut o_contact = Int64Builder::new();
        let mut o_owner = Int64Builder::new();
        let mut o_created = TimestampMicrosecondBuilder::new();
        let mut o_value = Float64Builder::new();
        let mut o_status = StringBuilder::new();
        let mut o_closed = TimestampMicrosecondBuilder::new();
        // lead_status_events
        let mut e_id = Int64Builder::new();
        let mut e_lead = Int64Builder::new();
        let mut e_at = TimestampMicrosecondBuilder::new();
        let mut e_status = StringBuilder::new();
        let mut e_reason = StringBuilder::new();
        let mut e_actor = Int64Builder::new();

        for life in lives {
            let p = &life.person;
            let (st, st_reason, closed_at) = life.status();
            let contact_id = match life.qualified_at() {
                Some(at) => {
                    self.next_contact += 1;
                    let id = self.next_contact;
                    c_id.append_value(id);
                    c_account.append_option(p.account_id);
                    c_lead.append_value(life.id);
                    c_first.append_option(p.first_name.as_deref());
                    c_last.append_option(p.last_name.as_deref());
                    c_email.append_option(p.email.as_deref().map(|e| e.trim().to_lowercase()));
                    c_phone.append_option(p.phone.as_deref());
                    c_title.append_option(p.job_title.as_deref());
                    c_created.append_value(at);
                    Some(id)
                }
                None => None,
            };
            if let Some(opp) = &life.opportunity {
                self.next_opportunity += 1;
                o_id.append_value(self.next_opportunity);
                o_lead.append_value(life.id);
                o_account.append_option(p.account_id);
                o_contact.append_option(contact_id);
                o_owner.append_option(life.owner);
                o_created.append_value(opp.created_at);
                o_value.append_value(opp.value);
                o_status.append_value(opp.status);
                o_closed.append_option(opp.closed_at);
            }
            lead_id.append_value(life.id);
            created.append_value(life.created_at);
            source.append_value(life.source);
            channel.append_value(life.channel);
            campaign.append_option(life.campaign.as_deref());
            first.append_option(p.first_name.as_deref());
            last.append_option(p.last_name.as_deref());
            email.append_option(p.email.as_deref());
            phone.append_option(p.phone.as_deref());
            company.append_option(p.company.as_deref());
            account.append_option(p.account_id);
            contact.append_option(contact_id);
            title.append_option(p.job_title.as_deref());
            function.append_option(p.job_function);
            seniority.append_option(p.seniority);
            industry.append_option(p.industry);
            size.append_option(p.company_size);
            size_band.append_option(p.size_band);
            revenue_band.append_option(p.revenue_band);
            country.append_option(p.country);
            consent.append_value(life.consent.as_str());
            status.append_value(st.as_str());
            reason.append_option(st_reason);
            owner.append_option(life.owner);
            closed.append_option(closed_at);

            for a in &life.interactions {
                self.next_interaction += 1;
                i_id.append_value(self.next_interaction);
                i_lead.append_value(life.id);
                i_at.append_value(a.at);
                i_type.append_value(a.kind.as_str());
                i_channel.append_value(a.channel);
                i_campaign.append_option(a.campaign.as_deref());
                i_asset.append_option(a.asset.as_deref());
            }
            for c in &life.changes {
                self.next_event += 1;
                e_id.append_value(self.next_event);
                e_lead.append_value(life.id);
                e_at.append_value(c.at);
                e_status.append_value(c.status.as_str());
                e_reason.append_option(c.reason);
                e_actor.append_option(c.actor);
            }
        }

        fn arc<T: datafusion::arrow::array::ArrayBuilder>(mut b: T) -> ArrayRef {
            b.finish()
        }
        Ok(ChunkBatches {
            leads: batch(
                &schema::LEADS,
                vec![
                    arc(lead_id),
                    arc(created),
                    arc(source),
                    arc(channel),
                    arc(campaign),
                    arc(first),
                    arc(last),
                    arc(email),
                    arc(phone),
                    arc(company),
                    arc(account),
                    arc(contact),
                    arc(title),
                    arc(function),
                    arc(seniority),
                    arc(industry),
                    arc(size),
                    arc(size_band),
                    arc(revenue_band),
                    arc(country),
                    arc(consent),
                    arc(status),
                    arc(reason),
                    arc(owner),
                    arc(closed),
                ],
            )?,
            interactions: batch(
                &schema::INTERACTIONS,
                vec![
                    arc(i_id),
                    arc(i_lead),
                    arc(i_at),
                    arc(i_type),
                    arc(i_channel),
                    arc(i_campaign),
                    arc(i_asset),
                ],
            )?,
            contacts: batch(
                &schema::CONTACTS,
                vec![
                    arc(c_id),
                    arc(c_account),
                    arc(c_lead),
                    arc(c_first),
                    arc(c_last),
                    arc(c_email),
                    arc(c_phone),
                    arc(c_title),
                    arc(c_created),
                ],
            )?,
            opportunities: batch(
                &schema::OPPORTUNITIES,
                vec![
                    arc(o_id),
                    arc(o_lead),
                    arc(o_account),
                    arc(o_contact),
                    arc(o_owner),
                    arc(o_created),
                    arc(o_value),
                    arc(o_status),
                    arc(o_closed),
                ],
            )?,
            events: batch(
                &schema::LEAD_STATUS_EVENTS,
                vec![
                    arc(e_id),
                    arc(e_lead),
                    arc(e_at),
                    arc(e_status),
                    arc(e_reason),
                    arc(e_actor),
                ],
            )?,
        })
    }
}

/// Builds an `accounts` batch.
pub fn accounts_batch(accounts: &[Account]) -> Result<RecordBatch, ArrowError> {
    let mut id = Int64Builder::new();
    let mut name = StringBuilder::new();
    let mut domain = StringBuilder::new();
    let mut industry = StringBuilder::new();
    let mut employees = Int32Builder::new();
    let mut size_band = StringBuilder::new();
    let mut revenue_band = StringBuilder::new();
    let mut country = StringBuilder::new();
    let mut territory = StringBuilder::new();
    let mut segment = StringBuilder::new();
    let mut customer = BooleanBuilder::new();
    let mut created = TimestampMicrosecondBuilder::new();
    for a in accounts {
        id.append_value(a.id);
        name.append_value(&a.name);
        domain.append_value(&a.domain);
        industry.append_value(a.industry);
        employees.append_value(a.employees);
        size_band.append_value(super::firms::size_band(a.employees));
        revenue_band.append_value(a.revenue_band);
        country.append_value(a.country.code);
        territory.append_value(a.country.territory);
        segment.append_value(a.segment);
        customer.append_value(a.is_customer);
        created.append_value(a.created_at);
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(name.finish()),
        Arc::new(domain.finish()),
        Arc::new(industry.finish()),
        Arc::new(employees.finish()),
        Arc::new(size_band.finish()),
        Arc::new(revenue_band.finish()),
        Arc::new(country.finish()),
        Arc::new(territory.finish()),
        Arc::new(segment.finish()),
        Arc::new(customer.finish()),
        Arc::new(created.finish()),
    ];
    batch(&schema::ACCOUNTS, cols)
}

/// Builds a `sellers` batch.
pub fn sellers_batch(sellers: &[Seller]) -> Result<RecordBatch, ArrowError> {
    let mut id = Int64Builder::new();
    let mut name = StringBuilder::new();
    let mut email = StringBuilder::new();
    let mut territory = StringBuilder::new();
    let mut segment = StringBuilder::new();
    let mut capacity = Int32Builder::new();
    let mut active = BooleanBuilder::new();
    let mut hired = TimestampMicrosecondBuilder::new();
    for s in sellers {
        id.append_value(s.id);
        name.append_value(&s.name);
        email.append_value(&s.email);
        territory.append_value(s.territory);
        segment.append_value(s.segment);
        capacity.append_value(s.capacity);
        active.append_value(s.active);
        hired.append_value(s.hired_at);
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(name.finish()),
        Arc::new(email.finish()),
        Arc::new(territory.finish()),
        Arc::new(segment.finish()),
        Arc::new(capacity.finish()),
        Arc::new(active.finish()),
        Arc::new(hired.finish()),
    ];
    batch(&schema::SELLERS, cols)
}

/// The `planted_duplicates` rows: (lead, the lead it duplicates, variation).
pub fn planted_batch(rows: &[(i64, i64, &str)]) -> Result<RecordBatch, ArrowError> {
    batch(
        &schema::PLANTED_DUPLICATES,
        vec![
            Arc::new(rows.iter().map(|r| Some(r.0)).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| Some(r.1)).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| Some(r.2)).collect::<StringArray>()),
        ],
    )
}
