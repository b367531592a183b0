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

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, TimeUnit};
use datafusion::common::{JoinType, ScalarValue};
use datafusion::functions::core::expr_fn::{coalesce, greatest};
use datafusion::functions::string::expr_fn::{btrim, lower, split_part};
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{Expr, ExprFunctionExt, case, cast, col, lit, when};
use datafusion::prelude::{DataFrame, SessionContext};
use leadql_models::DisqualifyReason;
use leadql_models::domain::COUNTRIES;

use crate::catalog::Workspace;
use crate::error::{Error, Result};
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

/// The rows of `batches` with every column as an integer.
pub(crate) fn int_rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<i64>>>> {
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

pub(crate) fn instant_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| micros.to_string())
}

/// The distinct `lead_id`s the query `q` (given as `--query`) returns.
pub(crate) async fn query_ids(ctx: &SessionContext, q: &str) -> Result<Vec<i64>> {
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
    Ok(int_rows(&batches)?
        .into_iter()
        .filter_map(|r| r[0])
        .collect())
}

/// The leads a command names: `ids`, and the `lead_id`s of `query` other than `skip`,
/// sorted and distinct; none is an error on argument `missing.0` saying `missing.1`.
pub(crate) async fn target_ids(
    ctx: &SessionContext,
    ids: &[i64],
    query: Option<&str>,
    skip: Option<i64>,
    missing: (&str, &str),
) -> Result<Vec<i64>> {
    let mut all = ids.to_vec();
    if let Some(q) = query {
        all.extend(
            query_ids(ctx, q)
                .await?
                .into_iter()
                .filter(|id| Some(*id) != skip),
        );
    }
    all.sort_unstable();
    all.dedup();
    if all.is_empty() {
        return Err(Error::Argument {
            arg: missing.0.into(),
            reason: missing.1.into(),
        });
    }
    Ok(all)
}

/// Applies a change; nothing is written unless every lead may change.
pub async fn apply(
    ws: &Workspace,
    ctx: &SessionContext,
    opts: &LifecycleOptions,
) -> Result<Recorded> {
    let ids = target_ids(
        ctx,
        &opts.ids,
        opts.query.as_deref(),
        None,
        ("ID", "no lead to change: give lead ids or --query"),
    )
    .await?;
    let targets = targets(ctx, &ids)?;
    // A merged lead changes only by being unmerged.
    let merged = crate::merge::merged_into(ctx, &ids).await?;
    if !merged.is_empty() {
        let shown: Vec<String> = merged
            .iter()
            .take(5)
            .map(|(d, m)| format!("lead {d} is merged into lead {m}"))
            .collect();
        return Err(Error::Query(format!(
            "{} of {} leads cannot change, nothing was recorded: {}{} (`leadql lead unmerge` takes a lead out of its master)",
            merged.len(),
            ids.len(),
            shown.join("; "),
            if merged.len() > 5 { "; …" } else { "" }
        )));
    }

    // Current state of each target.
    let state = int_rows(&current_state(ctx, &targets).await?.collect().await?)?;
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

    let at = leadql_udfs::qualification::plan::recorded_instant(opts.at).map_err(|_| {
        Error::Argument {
            arg: "--at".into(),
            reason: format!(
                "{} is outside the instants the workspace can record (years 1677–2262)",
                instant_text(opts.at)
            ),
        }
    })?;
    let actor = match opts.actor {
        Some(a) => lit(a),
        None => null(DataType::Int64),
    };
    let (status, reason) = match &opts.change {
        // (Utf8View, as SQL's `CAST(NULL AS VARCHAR)` recorded it so far.)
        Change::Qualify { .. } => ("qualified", null(DataType::Utf8View)),
        Change::Disqualify { reason } => ("disqualified", lit(reason.as_str())),
        Change::Reopen => ("open", lit("reopened")),
    };
    let stamp = chrono::DateTime::from_timestamp_micros(opts.at)
        .map(|d| d.format("%Y%m%dT%H%M%S").to_string())
        .unwrap_or_default();
    let first_event = max_id(ctx, "lead_status_events", "event_id").await? + 1;
    let file = format!("change-{stamp}-{first_event}.parquet");
    let mut pending: Vec<(DataFrame, PathBuf)> = Vec::new();
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
        let records = Records::plan(ctx, &targets, account, contact).await?;
        if account {
            pending.push((
                records.accounts(at.clone())?,
                ws.dir.join("accounts").join(&file),
            ));
        }
        if contact {
            pending.push((
                records.contacts(at.clone())?,
                ws.dir.join("contacts").join(&file),
            ));
        }
        if opportunity {
            pending.push((
                records.opportunities(ctx, at.clone(), opts.actor).await?,
                ws.dir.join("opportunities").join(&file),
            ));
        }
    }
    let events = targets
        .select(vec![
            cast(lit(first_event - 1) + numbered("lead_id")?, DataType::Int64).alias("event_id"),
            cast(col("lead_id"), DataType::Int64).alias("lead_id"),
            at.alias("occurred_at"),
            lit(status).alias("status"),
            reason.alias("reason"),
            actor.alias("actor_id"),
        ])?
        .sort(vec![col("lead_id").sort(true, false)])?;
    pending.push((events, ws.dir.join("lead_status_events").join(&file)));

    // Every file is one change of the workspace: all land, or none.
    let mut change = crate::commit::Transaction::begin(&ws.dir)?;
    for (frame, target) in pending {
        let stage = change.stage(&target)?;
        let stream = frame
            .execute_stream()
            .await
            .map_err(|e| Error::Query(format!("{}: {e}", target.display())))?;
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

pub(crate) fn null(t: DataType) -> Expr {
    cast(lit(ScalarValue::Null), t)
}

/// `row_number()` over the rows ordered by `column`: 1, 2, … for new ids.
fn numbered(column: &str) -> Result<Expr> {
    Ok(row_number()
        .order_by(vec![col(column).sort(true, false)])
        .build()?)
}

/// The largest `column` of `table` (0 for an empty table): new ids continue after it.
pub(crate) async fn max_id(ctx: &SessionContext, table: &str, column: &str) -> Result<i64> {
    let batches = ctx
        .table(table)
        .await?
        .aggregate(vec![], vec![coalesce(vec![max(col(column)), lit(0i64)])])?
        .collect()
        .await?;
    Ok(int_rows(&batches)?.first().and_then(|r| r[0]).unwrap_or(0))
}

/// The lead ids to change, as a relation with one column `lead_id`.
pub(crate) fn targets(ctx: &SessionContext, ids: &[i64]) -> Result<DataFrame> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "lead_id",
        DataType::Int64,
        false,
    )]));
    let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(ids.to_vec()))])
        .map_err(|e| Error::Query(e.to_string()))?;
    Ok(ctx.read_batch(batch)?)
}

/// Per target: `lead_id`, its state (-1 unknown lead, 0 open, 1 qualified, 2
/// disqualified), its first open opportunity and the instant (µs) of its latest change
/// or creation, ordered by lead id.
pub(crate) async fn current_state(ctx: &SessionContext, targets: &DataFrame) -> Result<DataFrame> {
    let leads = ctx.table("leads").await?.select(vec![
        col("lead_id").alias("__lead"),
        col("status").alias("__recorded"),
        cast(col("created_at"), DataType::Int64).alias("__created"),
    ])?;
    let current = leadql_udfs::status::latest(ctx.table("lead_status_events").await?, None)?
        .select(vec![
            col("lead_id").alias("__current_lead"),
            col("status").alias("__current"),
            cast(col("changed_at"), DataType::Int64).alias("__changed"),
        ])?;
    let open = ctx
        .table("opportunities")
        .await?
        .filter(col("status").eq(lit("open")))?
        .aggregate(
            vec![col("lead_id").alias("__opportunity_lead")],
            vec![min(col("opportunity_id")).alias("__opportunity")],
        )?;
    let status = coalesce(vec![col("__current"), col("__recorded")]);
    Ok(targets
        .clone()
        .join(leads, JoinType::Left, &["lead_id"], &["__lead"], None)?
        .join(
            current,
            JoinType::Left,
            &["lead_id"],
            &["__current_lead"],
            None,
        )?
        .join(
            open,
            JoinType::Left,
            &["lead_id"],
            &["__opportunity_lead"],
            None,
        )?
        .select(vec![
            col("lead_id"),
            when(col("__lead").is_null(), lit(-1i64))
                .when(status.clone().eq(lit("open")), lit(0i64))
                .when(status.eq(lit("qualified")), lit(1i64))
                .otherwise(lit(2i64))?,
            col("__opportunity"),
            greatest(vec![col("__changed"), col("__created")]),
        ])?
        .sort(vec![col("lead_id").sort(true, false)])?)
}

/// The records qualifying creates: new accounts for target leads without one (when
/// asked), the account of every target, and new contacts (when asked).
struct Records {
    /// Target leads with every lead column.
    leads: DataFrame,
    /// New accounts: `__lead`, `__account` and the lead columns an account takes.
    new_accounts: DataFrame,
    /// Each target's account: `__la_lead`, `__la_account`.
    lead_account: DataFrame,
    /// New contacts: `__con_lead`, `__contact`.
    new_contacts: DataFrame,
}

impl Records {
    async fn plan(
        ctx: &SessionContext,
        targets: &DataFrame,
        account: bool,
        contact: bool,
    ) -> Result<Self> {
        let leads = ctx.table("leads").await?.join(
            targets
                .clone()
                .select(vec![col("lead_id").alias("__target")])?,
            JoinType::Inner,
            &["lead_id"],
            &["__target"],
            None,
        )?;
        let first_account = max_id(ctx, "accounts", "account_id").await?;
        let new_accounts = leads
            .clone()
            .filter(col("account_id").is_null().and(lit(account)))?
            .select(vec![
                col("lead_id").alias("__lead"),
                (lit(first_account) + numbered("lead_id")?).alias("__account"),
                col("company"),
                col("email"),
                col("industry"),
                col("company_size"),
                col("size_band"),
                col("revenue_band"),
                col("country"),
            ])?;
        let lead_account = leads
            .clone()
            .join(
                new_accounts.clone().select(vec![
                    col("__lead").alias("__new_lead"),
                    col("__account").alias("__new_account"),
                ])?,
                JoinType::Left,
                &["lead_id"],
                &["__new_lead"],
                None,
            )?
            .select(vec![
                col("lead_id").alias("__la_lead"),
                coalesce(vec![col("account_id"), col("__new_account")]).alias("__la_account"),
            ])?;
        let first_contact = max_id(ctx, "contacts", "contact_id").await?;
        let new_contacts = leads
            .clone()
            .filter(col("contact_id").is_null().and(lit(contact)))?
            .select(vec![
                col("lead_id").alias("__con_lead"),
                (lit(first_contact) + numbered("lead_id")?).alias("__contact"),
            ])?;
        Ok(Records {
            leads,
            new_accounts,
            lead_account,
            new_contacts,
        })
    }

    /// The new accounts' rows, as `accounts` stores them.
    fn accounts(&self, at: Expr) -> Result<DataFrame> {
        let mut territory = case(col("country"));
        for (c, _) in COUNTRIES {
            territory.when(lit(c.code), lit(c.territory));
        }
        let size = col("company_size");
        Ok(self
            .new_accounts
            .clone()
            .select(vec![
                cast(col("__account"), DataType::Int64).alias("account_id"),
                coalesce(vec![col("company"), lit("unknown")]).alias("name"),
                coalesce(vec![
                    lower(split_part(btrim(vec![col("email")]), lit("@"), lit(2i64))),
                    lit(""),
                ])
                .alias("domain"),
                coalesce(vec![col("industry"), lit("unknown")]).alias("industry"),
                cast(coalesce(vec![size.clone(), lit(0i64)]), DataType::Int32).alias("employees"),
                coalesce(vec![col("size_band"), lit("unknown")]).alias("size_band"),
                coalesce(vec![col("revenue_band"), lit("unknown")]).alias("revenue_band"),
                coalesce(vec![col("country"), lit("")]).alias("country"),
                territory.otherwise(lit("unknown"))?.alias("territory"),
                when(
                    size.clone().is_null().or(size.clone().lt_eq(lit(200i64))),
                    lit("smb"),
                )
                .when(size.lt_eq(lit(2000i64)), lit("mid_market"))
                .otherwise(lit("enterprise"))?
                .alias("segment"),
                lit(false).alias("is_customer"),
                at.alias("created_at"),
            ])?
            .sort(vec![col("account_id").sort(true, false)])?)
    }

    /// The new contacts' rows, as `contacts` stores them.
    fn contacts(&self, at: Expr) -> Result<DataFrame> {
        Ok(self
            .new_contacts
            .clone()
            .join(
                self.leads.clone(),
                JoinType::Inner,
                &["__con_lead"],
                &["lead_id"],
                None,
            )?
            .join(
                self.lead_account.clone(),
                JoinType::Inner,
                &["__con_lead"],
                &["__la_lead"],
                None,
            )?
            .select(vec![
                cast(col("__contact"), DataType::Int64).alias("contact_id"),
                cast(col("__la_account"), DataType::Int64).alias("account_id"),
                col("lead_id"),
                col("first_name"),
                col("last_name"),
                lower(btrim(vec![col("email")])).alias("email"),
                col("phone"),
                col("job_title"),
                at.alias("created_at"),
            ])?
            .sort(vec![col("contact_id").sort(true, false)])?)
    }

    /// An open opportunity per target, owned by the lead's owner (or `actor`).
    async fn opportunities(
        &self,
        ctx: &SessionContext,
        at: Expr,
        actor: Option<i64>,
    ) -> Result<DataFrame> {
        let first = max_id(ctx, "opportunities", "opportunity_id").await?;
        let owner = match actor {
            Some(a) => coalesce(vec![col("owner_id"), lit(a)]),
            None => col("owner_id"),
        };
        Ok(self
            .leads
            .clone()
            .join(
                self.lead_account.clone(),
                JoinType::Inner,
                &["lead_id"],
                &["__la_lead"],
                None,
            )?
            .join(
                self.new_contacts.clone(),
                JoinType::Left,
                &["lead_id"],
                &["__con_lead"],
                None,
            )?
            .select(vec![
                cast(lit(first) + numbered("lead_id")?, DataType::Int64).alias("opportunity_id"),
                col("lead_id"),
                cast(col("__la_account"), DataType::Int64).alias("account_id"),
                cast(
                    coalesce(vec![col("contact_id"), col("__contact")]),
                    DataType::Int64,
                )
                .alias("contact_id"),
                owner.alias("owner_id"),
                at.alias("created_at"),
                null(DataType::Float64).alias("estimated_value"),
                lit("open").alias("status"),
                null(DataType::Timestamp(TimeUnit::Nanosecond, None)).alias("closed_at"),
            ])?
            .sort(vec![col("lead_id").sort(true, false)])?)
    }
}
