//! `leadql lead qualify|disqualify|reopen`: lifecycle changes appended to
//! `lead_status_events`, for one lead, several, or every lead a query returns.
//!
//! A lead's current status is its latest event (by `occurred_at`, then `event_id`),
//! never the `leads.status` column written at generation or import. Transitions follow
//! Dynamics 365: only open leads are qualified or disqualified, only disqualified leads
//! are reopened, and a lead with an open opportunity cannot be disqualified. A batch is
//! all or nothing: every lead is checked first, and one illegal change refuses the
//! whole batch. Qualifying can create the account and the contact (for leads without
//! them) and an open opportunity. New rows go to new Parquet files written as one
//! change of the workspace ([`crate::commit`]), so an interrupted command records the
//! status changes with all their records, or nothing.

use std::path::PathBuf;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use leadql_models::DisqualifyReason;

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::generate::vocab::COUNTRIES;
use crate::output::{self, Destination, Format};

/// A lifecycle change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Open → qualified, creating the listed records.
    Qualify {
        /// Create an account for leads without one.
        account: bool,
        /// Create a contact.
        contact: bool,
        /// Create an open opportunity.
        opportunity: bool,
    },
    /// Open → disqualified with a reason.
    Disqualify {
        /// lost, cannot_contact, no_longer_interested or canceled.
        reason: DisqualifyReason,
    },
    /// Disqualified → open.
    Reopen,
}

/// Which leads, when and by whom.
#[derive(Debug, Clone)]
pub struct LifecycleOptions {
    /// Lead ids given on the command line.
    pub ids: Vec<i64>,
    /// A query whose `lead_id` column adds leads.
    pub query: Option<String>,
    /// The change.
    pub change: Change,
    /// Instant of the change (µs since the epoch).
    pub at: i64,
    /// Seller making the change.
    pub actor: Option<i64>,
}

/// What was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Leads changed.
    pub leads: usize,
    /// Accounts created.
    pub accounts: usize,
    /// Contacts created.
    pub contacts: usize,
    /// Opportunities created.
    pub opportunities: usize,
}

async fn ints(ctx: &SessionContext, sql: &str) -> Result<Vec<Vec<Option<i64>>>> {
    let batches: Vec<RecordBatch> = ctx.sql(sql).await?.collect().await?;
    int_rows(&batches)
}

/// The rows of `batches` with every column as an integer.
fn int_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<i64>>>> {
    let mut rows = Vec::new();
    for b in batches {
        let columns: Vec<_> = b
            .columns()
            .iter()
            .map(|c| {
                datafusion::arrow::compute::cast(c, &datafusion::arrow::datatypes::DataType::Int64)
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Query(e.to_string()))?;
        for i in 0..b.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| {
                        let a = c.as_primitive::<Int64Type>();
                        (!a.is_null(i)).then(|| a.value(i))
                    })
                    .collect(),
            );
        }
    }
    Ok(rows)
}

fn instant_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| micros.to_string())
}

fn ts(micros: i64) -> String {
    leadql_udfs::qualification::sql::timestamp(micros)
}

/// Applies a change; nothing is written unless every lead may change.
pub async fn apply(
    ws: &Workspace,
    ctx: &SessionContext,
    opts: &LifecycleOptions,
) -> Result<Recorded> {
    // The targets.
    let mut ids = opts.ids.clone();
    if let Some(q) = &opts.query {
        let frame = ctx
            .sql(q)
            .await
            .map_err(|e| Error::Query(format!("--query: {e}")))?;
        let field = frame
            .schema()
            .field_with_unqualified_name("lead_id")
            .map_err(|_| Error::Argument {
                arg: "--query".into(),
                reason: "the query must return a lead_id column".into(),
            })?;
        if !field.data_type().is_integer() {
            return Err(Error::Argument {
                arg: "--query".into(),
                reason: format!(
                    "the query's lead_id column is {}, but lead ids are whole numbers",
                    field.data_type()
                ),
            });
        }
        // The query's own plan, not its text pasted into another statement (a
        // trailing `;` or `-- comment` would break that).
        let batches = frame
            .select(vec![datafusion::prelude::col("lead_id")])?
            .distinct()?
            .collect()
            .await?;
        ids.extend(int_rows(&batches)?.into_iter().filter_map(|r| r[0]));
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(Error::Argument {
            arg: "ID".into(),
            reason: "no lead to change: give lead ids or --query".into(),
        });
    }
    let list = ids
        .iter()
        .map(|i| format!("({i})"))
        .collect::<Vec<_>>()
        .join(", ");
    let targets = format!("(VALUES {list}) AS t(lead_id)");

    // Current state of each target.
    let state = ints(
        ctx,
        &format!(
            "WITH cur AS (SELECT lead_id, last_value(status ORDER BY occurred_at, event_id) AS status, \
               CAST(max(occurred_at) AS BIGINT) AS changed \
               FROM lead_status_events GROUP BY lead_id), \
             opp AS (SELECT lead_id, min(opportunity_id) AS opportunity_id FROM opportunities WHERE status = 'open' GROUP BY lead_id) \
             SELECT t.lead_id, CASE WHEN l.lead_id IS NULL THEN -1 \
                      WHEN coalesce(cur.status, l.status) = 'open' THEN 0 \
                      WHEN coalesce(cur.status, l.status) = 'qualified' THEN 1 ELSE 2 END, \
                    opp.opportunity_id, greatest(cur.changed, CAST(l.created_at AS BIGINT)) \
             FROM {targets} LEFT JOIN leads l ON l.lead_id = t.lead_id \
             LEFT JOIN cur ON cur.lead_id = t.lead_id LEFT JOIN opp ON opp.lead_id = t.lead_id ORDER BY t.lead_id"
        ),
    )
    .await?;
    let mut refused = Vec::new();
    for row in &state {
        let (id, status, opp) = (row[0].unwrap_or(0), row[1].unwrap_or(-1), row[2]);
        // A change is appended after the lead's history: one dated before its latest
        // change (or its creation) would be recorded and yet change nothing.
        if let Some(latest) = row[3].filter(|l| status >= 0 && opts.at < *l) {
            refused.push(format!(
                "lead {id}'s latest change (or creation) is at {}, after --at {}",
                instant_text(latest),
                instant_text(opts.at)
            ));
            continue;
        }
        let name = ["open", "qualified", "disqualified"]
            .get(status as usize)
            .copied()
            .unwrap_or("unknown");
        let problem = match (&opts.change, status, opp) {
            (_, -1, _) => Some(format!("lead {id} does not exist")),
            (Change::Disqualify { .. }, _, Some(o)) => Some(format!(
                "lead {id} has open opportunity {o}: close it (won or lost) before disqualifying the lead"
            )),
            (Change::Qualify { .. } | Change::Disqualify { .. }, s, _) if s != 0 => Some(format!(
                "lead {id} is {name}: only open leads can be {}",
                if matches!(opts.change, Change::Qualify { .. }) {
                    "qualified"
                } else {
                    "disqualified"
                }
            )),
            (Change::Reopen, s, _) if s != 2 => Some(format!(
                "lead {id} is {name}: only disqualified leads can be reopened"
            )),
            _ => None,
        };
        refused.extend(problem);
    }
    if !refused.is_empty() {
        let n = refused.len();
        refused.truncate(5);
        return Err(Error::Query(format!(
            "{n} of {} leads cannot change, nothing was recorded: {}{}",
            ids.len(),
            refused.join("; "),
            if n > 5 { "; …" } else { "" }
        )));
    }

    let at = ts(opts.at);
    let actor = opts
        .actor
        .map_or("CAST(NULL AS BIGINT)".to_string(), |a| a.to_string());
    let max =
        |table: &str, column: &str| format!("(SELECT coalesce(max({column}), 0) FROM {table})");
    let (status, reason) = match &opts.change {
        Change::Qualify { .. } => ("qualified", "CAST(NULL AS VARCHAR)".to_string()),
        Change::Disqualify { reason } => (
            "disqualified",
            leadql_udfs::qualification::sql::literal(reason.as_str()),
        ),
        Change::Reopen => ("open", "'reopened'".to_string()),
    };
    let stamp = chrono::DateTime::from_timestamp_micros(opts.at)
        .map(|d| d.format("%Y%m%dT%H%M%S").to_string())
        .unwrap_or_default();
    let first_event: i64 = ints(
        ctx,
        &format!("SELECT {}", max("lead_status_events", "event_id")),
    )
    .await?
    .first()
    .and_then(|r| r[0])
    .unwrap_or(0)
        + 1;
    let file = format!("change-{stamp}-{first_event}.parquet");
    let mut pending: Vec<(String, PathBuf)> = Vec::new();
    let mut recorded = Recorded {
        leads: ids.len(),
        accounts: 0,
        contacts: 0,
        opportunities: 0,
    };

    if let Change::Qualify {
        account,
        contact,
        opportunity,
    } = opts.change
    {
        let territory = COUNTRIES
            .iter()
            .map(|(c, _)| format!("WHEN '{}' THEN '{}'", c.code, c.territory))
            .collect::<Vec<_>>()
            .join(" ");
        let new_accounts = format!(
            "new_acc AS (SELECT l.lead_id, {} + row_number() OVER (ORDER BY l.lead_id) AS account_id, \
             l.company, l.email, l.industry, l.company_size, l.size_band, l.revenue_band, l.country \
             FROM leads l JOIN {targets} ON t.lead_id = l.lead_id WHERE l.account_id IS NULL AND {account})",
            max("accounts", "account_id")
        );
        let lead_account = format!(
            "la AS (SELECT l.lead_id, coalesce(l.account_id, n.account_id) AS account_id FROM leads l \
             JOIN {targets} ON t.lead_id = l.lead_id LEFT JOIN new_acc n ON n.lead_id = l.lead_id)"
        );
        let new_contacts = format!(
            "new_con AS (SELECT l.lead_id, {} + row_number() OVER (ORDER BY l.lead_id) AS contact_id \
             FROM leads l JOIN {targets} ON t.lead_id = l.lead_id WHERE l.contact_id IS NULL AND {contact})",
            max("contacts", "contact_id")
        );
        let with = format!("WITH {new_accounts}, {lead_account}, {new_contacts}");
        if account {
            pending.push((
                format!(
                    "{with} SELECT CAST(account_id AS BIGINT) AS account_id, coalesce(company, 'unknown') AS name, \
                     coalesce(lower(split_part(trim(email), '@', 2)), '') AS domain, coalesce(industry, 'unknown') AS industry, \
                     CAST(coalesce(company_size, 0) AS INT) AS employees, coalesce(size_band, 'unknown') AS size_band, \
                     coalesce(revenue_band, 'unknown') AS revenue_band, coalesce(country, '') AS country, \
                     CASE country {territory} ELSE 'unknown' END AS territory, \
                     CASE WHEN company_size IS NULL OR company_size <= 200 THEN 'smb' WHEN company_size <= 2000 THEN 'mid_market' ELSE 'enterprise' END AS segment, \
                     false AS is_customer, {at} AS created_at FROM new_acc ORDER BY account_id"
                ),
                ws.dir.join("accounts").join(&file),
            ));
        }
        if contact {
            pending.push((
                format!(
                    "{with} SELECT CAST(c.contact_id AS BIGINT) AS contact_id, CAST(la.account_id AS BIGINT) AS account_id, l.lead_id, \
                     l.first_name, l.last_name, lower(trim(l.email)) AS email, l.phone, l.job_title, {at} AS created_at \
                     FROM new_con c JOIN leads l ON l.lead_id = c.lead_id JOIN la ON la.lead_id = c.lead_id ORDER BY contact_id"
                ),
                ws.dir.join("contacts").join(&file),
            ));
        }
        if opportunity {
            let owner = opts.actor.map_or("l.owner_id".to_string(), |a| {
                format!("coalesce(l.owner_id, {a})")
            });
            pending.push((
                format!(
                    "{with} SELECT CAST({} + row_number() OVER (ORDER BY l.lead_id) AS BIGINT) AS opportunity_id, l.lead_id, \
                     CAST(la.account_id AS BIGINT) AS account_id, CAST(coalesce(l.contact_id, c.contact_id) AS BIGINT) AS contact_id, {owner} AS owner_id, \
                     {at} AS created_at, CAST(NULL AS DOUBLE) AS estimated_value, 'open' AS status, \
                     CAST(NULL AS TIMESTAMP) AS closed_at \
                     FROM leads l JOIN {targets} ON t.lead_id = l.lead_id JOIN la ON la.lead_id = l.lead_id \
                     LEFT JOIN new_con c ON c.lead_id = l.lead_id ORDER BY l.lead_id",
                    max("opportunities", "opportunity_id")
                ),
                ws.dir.join("opportunities").join(&file),
            ));
        }
    }
    pending.push((
        format!(
            "SELECT CAST({} + row_number() OVER (ORDER BY lead_id) AS BIGINT) AS event_id, CAST(lead_id AS BIGINT) AS lead_id, \
             {at} AS occurred_at, '{status}' AS status, {reason} AS reason, {actor} AS actor_id FROM {targets} ORDER BY lead_id",
            first_event - 1
        ),
        ws.dir.join("lead_status_events").join(&file),
    ));

    // Every file is one change of the workspace: all land, or none.
    let mut change = crate::commit::Transaction::begin(&ws.dir)?;
    for (sql, target) in &pending {
        let stage = change.stage(target)?;
        let stream = ctx
            .sql(sql)
            .await
            .map_err(|e| Error::Query(format!("{}: {e}", target.display())))?
            .execute_stream()
            .await?;
        let rows = output::write(
            stream,
            Format::Parquet,
            &Destination::File(stage.clone()),
            0,
        )
        .await?;
        let table = target
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match table.as_str() {
            "accounts" => recorded.accounts = rows as usize,
            "contacts" => recorded.contacts = rows as usize,
            "opportunities" => recorded.opportunities = rows as usize,
            _ => {}
        }
    }
    change.commit()?;
    Ok(recorded)
}
