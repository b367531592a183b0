//! `leadql lead merge MASTER DUPLICATE…` and `leadql lead unmerge DUPLICATE…`: one
//! person's leads made one, and taken apart again, as Dynamics 365 merges leads.
//!
//! A merge appends to two logs, in one change of the workspace ([`crate::commit`]):
//! a `lead_merges` row per duplicate (with the duplicate's status before, so that
//! unmerging can restore it) and a `lead_status_events` row closing the duplicate
//! (disqualified, reason `merged`). Nothing is rewritten: the duplicate keeps its own
//! lead row, interactions, imports and status history.
//!
//! While a duplicate is merged its interactions and imports count for the master:
//! every session shows the `interactions` and `lead_imports` tables with the
//! duplicate's `lead_id` replaced by the master's ([`register_identity`]), so rule
//! scores, features, predictions and views all see one person. A session known at an
//! instant before the merge (`--as-of`) sees the leads apart, as they were then.
//!
//! Refused, with nothing recorded: a lead merged with itself, an unknown lead, a
//! duplicate that is not open (a conversion or a loss is history), already merged,
//! with merged leads of its own or with an open opportunity (the lead with the
//! opportunity is the master; two with open opportunities cannot be merged), a master
//! that is itself merged, or an `--at` before a lead's latest change. Unmerging
//! refuses a lead that is not merged.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::common::JoinType;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::min;
use datafusion::logical_expr::{cast, col, lit};
use datafusion::prelude::{DataFrame, SessionContext};

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::lifecycle::{instant_text, max_id, target_ids, targets};
use crate::output::{self, Destination, Format};
use crate::schema;

/// Tables whose rows follow a merged duplicate's master.
pub const FOLLOW_THE_MASTER: [&str; 2] = ["interactions", "lead_imports"];

/// `leadql lead merge`: which leads, when and by whom.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// The lead that stays.
    pub master: i64,
    /// Leads merged into it (given on the command line).
    pub duplicates: Vec<i64>,
    /// A query whose `lead_id` column adds duplicates.
    pub query: Option<String>,
    /// Instant of the merge (µs since the epoch).
    pub at: i64,
    /// Seller making the change.
    pub actor: Option<i64>,
}

/// `leadql lead unmerge`: which merged leads to take out, when and by whom.
#[derive(Debug, Clone)]
pub struct UnmergeOptions {
    /// Merged leads.
    pub duplicates: Vec<i64>,
    /// A query whose `lead_id` column adds merged leads.
    pub query: Option<String>,
    /// Instant of the change (µs since the epoch).
    pub at: i64,
    /// Seller making the change.
    pub actor: Option<i64>,
}

/// A `lead_merges` row to append.
struct MergeRow {
    master: i64,
    duplicate: i64,
    action: &'static str,
    status_before: Option<String>,
    reason_before: Option<String>,
}

/// A `lead_status_events` row to append.
struct StatusRow {
    lead: i64,
    status: String,
    reason: Option<String>,
}

/// The merges in force in `merges` (a `lead_merges` relation): per duplicate whose
/// latest row is `merged`, `duplicate_id, master_id, status_before, reason_before,
/// merged_at` ([`leadql_udfs::status::merges_in_force`]).
pub fn in_force(merges: DataFrame) -> Result<DataFrame> {
    Ok(leadql_udfs::status::merges_in_force(merges)?)
}

fn table(ctx: &SessionContext, name: &str) -> Result<DataFrame> {
    let provider = futures::executor::block_on(ctx.table_provider(name))?;
    Ok(ctx.read_table(provider)?)
}

/// The merges in force, as `(duplicate, master)` pairs, read straight from the
/// `lead_merges` Parquet `files` (a few rows per merge; read when a session opens, so
/// that a workspace whose merges were all undone reads its tables directly), counting
/// only rows before `known_at` when given.
pub fn read_in_force(files: &[PathBuf], known_at: Option<i64>) -> Result<Vec<(i64, i64)>> {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    // Per duplicate: (occurred_at, merge_id) of its latest row, and the master if that
    // row is a merge.
    let mut latest: HashMap<i64, ((i64, i64), Option<i64>)> = HashMap::new();
    for file in files {
        let unreadable = |e: &dyn std::fmt::Display| Error::UnreadableParquet {
            file: file.clone(),
            reason: e.to_string(),
        };
        let f = std::fs::File::open(file).map_err(|e| Error::io(file, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.build())
            .map_err(|e| unreadable(&e))?;
        for batch in reader {
            let b = batch.map_err(|e| unreadable(&e))?;
            let column = |name: &str| {
                b.column_by_name(name)
                    .cloned()
                    .ok_or_else(|| unreadable(&format!("no column {name}")))
            };
            let at = column("occurred_at")?;
            let at = datafusion::arrow::compute::cast(
                &at,
                &DataType::Timestamp(TimeUnit::Microsecond, None),
            )
            .map_err(|e| unreadable(&e))?;
            let (ids, masters, dups, at, actions) = (
                ints(&column("merge_id")?)?,
                ints(&column("master_id")?)?,
                ints(&column("duplicate_id")?)?,
                ints(&at)?,
                texts(&column("action")?)?,
            );
            for r in 0..b.num_rows() {
                let (Some(id), Some(master), Some(dup), Some(at)) =
                    (ids[r], masters[r], dups[r], at[r])
                else {
                    continue;
                };
                if known_at.is_some_and(|t| at >= t) {
                    continue;
                }
                let merged = (actions[r].as_deref() == Some("merged")).then_some(master);
                let entry = latest.entry(dup).or_insert(((at, id), merged));
                if (at, id) >= entry.0 {
                    *entry = ((at, id), merged);
                }
            }
        }
    }
    let mut pairs: Vec<(i64, i64)> = latest
        .into_iter()
        .filter_map(|(dup, (_, master))| master.map(|m| (dup, m)))
        .collect();
    pairs.sort_unstable();
    Ok(pairs)
}

/// Replaces the [`FOLLOW_THE_MASTER`] tables registered in `ctx` by views in which a
/// merged duplicate's rows carry its master's `lead_id` (`merges`: `(duplicate,
/// master)` pairs; call after the tables, and their point-in-time views, are
/// registered).
pub fn register_identity(ctx: &SessionContext, merges: &[(i64, i64)]) -> Result<()> {
    let pairs = RecordBatch::try_new(
        Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
            datafusion::arrow::datatypes::Field::new("__merged", DataType::Int64, false),
            datafusion::arrow::datatypes::Field::new("__master", DataType::Int64, false),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(merges.iter().map(|m| m.0))),
            Arc::new(Int64Array::from_iter_values(merges.iter().map(|m| m.1))),
        ],
    )
    .map_err(|e| Error::Query(e.to_string()))?;
    let merges = ctx.read_batch(pairs)?;
    for name in FOLLOW_THE_MASTER {
        if !ctx.table_exist(name)? {
            continue;
        }
        let frame = table(ctx, name)?;
        let Ok(lead) = frame.schema().field_with_unqualified_name("lead_id") else {
            continue;
        };
        let lead_type = lead.data_type().clone();
        let columns: Vec<String> = frame
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let joined = frame.join(
            merges.clone(),
            JoinType::Left,
            &["lead_id"],
            &["__merged"],
            None,
        )?;
        let select = columns
            .iter()
            .map(|c| {
                if c == "lead_id" {
                    cast(
                        coalesce(vec![col("__master"), col("lead_id")]),
                        lead_type.clone(),
                    )
                    .alias("lead_id")
                } else {
                    col(c.as_str())
                }
            })
            .collect::<Vec<_>>();
        let view = joined.select(select)?.into_view();
        ctx.deregister_table(name)?;
        ctx.register_table(name, view)?;
    }
    Ok(())
}

/// What a merge or unmerge needs to know of one lead.
#[derive(Debug, Clone, Default)]
struct Facts {
    /// Whether the lead exists.
    exists: bool,
    /// Current status and its reason.
    status: Option<String>,
    reason: Option<String>,
    /// Instant (µs) of its latest change, or of its creation.
    latest: Option<i64>,
    /// Its first open opportunity.
    open_opportunity: Option<i64>,
    /// The lead it is merged into, the status it had before, and when.
    merged_into: Option<(i64, Option<String>, Option<String>, i64)>,
    /// Leads merged into it.
    masters_of: Vec<i64>,
}

fn ints(a: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let a = datafusion::arrow::compute::cast(a, &DataType::Int64)
        .map_err(|e| Error::Query(e.to_string()))?;
    let a = a.as_primitive::<Int64Type>();
    Ok((0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect())
}

fn texts(a: &ArrayRef) -> Result<Vec<Option<String>>> {
    let a = datafusion::arrow::compute::cast(a, &DataType::Utf8)
        .map_err(|e| Error::Query(e.to_string()))?;
    let a = a.as_string::<i32>();
    Ok((0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect())
}

/// The [`Facts`] of each of `ids`.
async fn facts(ctx: &SessionContext, ids: &[i64]) -> Result<HashMap<i64, Facts>> {
    let mut out: HashMap<i64, Facts> = ids.iter().map(|&i| (i, Facts::default())).collect();
    let micros = |e| cast(e, DataType::Int64);
    let leads = ctx.table("leads").await?.select(vec![
        col("lead_id").alias("__lead"),
        col("status").alias("__recorded"),
        col("status_reason").alias("__recorded_reason"),
        micros(cast(
            col("created_at"),
            DataType::Timestamp(TimeUnit::Microsecond, None),
        ))
        .alias("__created"),
    ])?;
    let latest = leadql_udfs::status::latest(ctx.table("lead_status_events").await?, None)?
        .select(vec![
            col("lead_id").alias("__event_lead"),
            col("status").alias("__status"),
            col("reason").alias("__reason"),
            micros(cast(
                col("changed_at"),
                DataType::Timestamp(TimeUnit::Microsecond, None),
            ))
            .alias("__changed"),
        ])?;
    let open = ctx
        .table("opportunities")
        .await?
        .filter(col("status").eq(lit("open")))?
        .aggregate(
            vec![col("lead_id").alias("__opportunity_lead")],
            vec![min(col("opportunity_id")).alias("__opportunity")],
        )?;
    let merges = in_force(ctx.table("lead_merges").await?)?;
    let merged = merges.clone().select(vec![
        col("duplicate_id").alias("__dup"),
        col("master_id").alias("__into"),
        col("status_before").alias("__before"),
        col("reason_before").alias("__reason_before"),
        micros(cast(
            col("merged_at"),
            DataType::Timestamp(TimeUnit::Microsecond, None),
        ))
        .alias("__merged_at"),
    ])?;
    let rows = targets(ctx, ids)?
        .join(leads, JoinType::Left, &["lead_id"], &["__lead"], None)?
        .join(
            latest,
            JoinType::Left,
            &["lead_id"],
            &["__event_lead"],
            None,
        )?
        .join(
            open,
            JoinType::Left,
            &["lead_id"],
            &["__opportunity_lead"],
            None,
        )?
        .join(merged, JoinType::Left, &["lead_id"], &["__dup"], None)?
        .select(vec![
            col("lead_id"),
            col("__lead"),
            coalesce(vec![col("__status"), col("__recorded")]),
            // The reason of the latest event, or the recorded one without events.
            datafusion::logical_expr::when(col("__status").is_not_null(), col("__reason"))
                .otherwise(col("__recorded_reason"))?,
            datafusion::functions::core::expr_fn::greatest(vec![
                col("__changed"),
                col("__created"),
            ]),
            col("__opportunity"),
            col("__into"),
            col("__before"),
            col("__reason_before"),
            col("__merged_at"),
        ])?
        .collect()
        .await?;
    for b in &rows {
        let c = b.columns();
        let (id, lead, status, reason, latest, opp, into, before, reason_before, merged_at) = (
            ints(&c[0])?,
            ints(&c[1])?,
            texts(&c[2])?,
            texts(&c[3])?,
            ints(&c[4])?,
            ints(&c[5])?,
            ints(&c[6])?,
            texts(&c[7])?,
            texts(&c[8])?,
            ints(&c[9])?,
        );
        for i in 0..b.num_rows() {
            let Some(f) = id[i].and_then(|id| out.get_mut(&id)) else {
                continue;
            };
            f.exists = lead[i].is_some();
            f.status = status[i].clone();
            f.reason = reason[i].clone();
            f.latest = latest[i];
            f.open_opportunity = opp[i];
            f.merged_into = into[i].map(|m| {
                (
                    m,
                    before[i].clone(),
                    reason_before[i].clone(),
                    merged_at[i].unwrap_or(0),
                )
            });
        }
    }
    // Leads merged into each of `ids`.
    let masters = merges
        .join(
            targets(ctx, ids)?,
            JoinType::Inner,
            &["master_id"],
            &["lead_id"],
            None,
        )?
        .select_columns(&["master_id", "duplicate_id"])?
        .collect()
        .await?;
    for b in &masters {
        let (m, d) = (ints(b.column(0))?, ints(b.column(1))?);
        for i in 0..b.num_rows() {
            if let (Some(m), Some(d)) = (m[i], d[i])
                && let Some(f) = out.get_mut(&m)
            {
                f.masters_of.push(d);
            }
        }
    }
    for f in out.values_mut() {
        f.masters_of.sort_unstable();
    }
    Ok(out)
}

/// Each of `ids` that is merged, with the lead it is merged into.
pub async fn merged_into(ctx: &SessionContext, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    let mut found: Vec<(i64, i64)> = facts(ctx, ids)
        .await?
        .into_iter()
        .filter_map(|(id, f)| f.merged_into.map(|(m, ..)| (id, m)))
        .collect();
    found.sort_unstable();
    Ok(found)
}

fn list(ids: &[i64]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The problems that refuse a change of `at`, or an error naming them.
fn refuse_if_any(problems: Vec<String>, what: &str, leads: usize) -> Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    let n = problems.len();
    let shown: Vec<String> = problems.into_iter().take(5).collect();
    Err(Error::Query(format!(
        "{what} refused, nothing was recorded ({n} problem{} among {leads} leads): {}{}",
        if n == 1 { "" } else { "s" },
        shown.join("; "),
        if n > 5 { "; …" } else { "" }
    )))
}

fn late(id: i64, f: &Facts, at: i64) -> Option<String> {
    f.latest.filter(|l| at < *l).map(|l| {
        format!(
            "lead {id}'s latest change (or creation) is at {}, after --at {}",
            instant_text(l),
            instant_text(at)
        )
    })
}

/// Merges the duplicates into the master; nothing is written unless every one may be
/// merged. Returns the number of leads merged.
pub async fn merge(ws: &Workspace, ctx: &SessionContext, opts: &MergeOptions) -> Result<usize> {
    // A query for a duplicate group returns the master too: it stays.
    let mut dups = target_ids(
        ctx,
        &opts.duplicates,
        opts.query.as_deref(),
        Some(opts.master),
        (
            "DUPLICATE",
            "no lead to merge: give duplicate lead ids or --query",
        ),
    )
    .await?;
    let mut problems = Vec::new();
    if dups.contains(&opts.master) {
        problems.push(format!("lead {} cannot be merged with itself", opts.master));
        dups.retain(|d| *d != opts.master);
    }
    let mut all = vec![opts.master];
    all.extend(&dups);
    let facts = facts(ctx, &all).await?;
    let master = &facts[&opts.master];
    if !master.exists {
        problems.push(format!("master lead {} does not exist", opts.master));
    } else if let Some((into, ..)) = master.merged_into {
        problems.push(format!(
            "master lead {} is itself merged into lead {into}: merge into {into}, or unmerge {} first",
            opts.master, opts.master
        ));
    }
    problems.extend(late(opts.master, master, opts.at));
    for &d in &dups {
        let f = &facts[&d];
        if !f.exists {
            problems.push(format!("lead {d} does not exist"));
            continue;
        }
        if let Some((into, ..)) = f.merged_into {
            problems.push(format!("lead {d} is already merged into lead {into}"));
        } else if let Some(status) = f.status.as_deref().filter(|s| *s != "open") {
            // A closed lead's outcome (a conversion, a loss) is history: merging it
            // would rewrite it.
            problems.push(format!(
                "lead {d} is {status}: only open leads can be merged into another"
            ));
        }
        match (f.open_opportunity, master.open_opportunity) {
            (Some(o), Some(m)) => problems.push(format!(
                "lead {} (opportunity {m}) and lead {d} (opportunity {o}) both have open opportunities: close one (won or lost) before merging",
                opts.master
            )),
            (Some(o), None) => problems.push(format!(
                "lead {d} has open opportunity {o}: make it the master (the lead with the opportunity stays), or close the opportunity first"
            )),
            _ => {}
        }
        if !f.masters_of.is_empty() {
            problems.push(format!(
                "lead {d} has merged leads of its own ({}): unmerge them, then merge them with it",
                list(&f.masters_of)
            ));
        }
        problems.extend(late(d, f, opts.at));
    }
    refuse_if_any(problems, "merge", all.len())?;

    let rows: Vec<MergeRow> = dups
        .iter()
        .map(|&d| MergeRow {
            master: opts.master,
            duplicate: d,
            action: "merged",
            status_before: facts[&d].status.clone(),
            reason_before: facts[&d].reason.clone(),
        })
        .collect();
    let events: Vec<StatusRow> = dups
        .iter()
        .map(|&d| StatusRow {
            lead: d,
            status: "disqualified".into(),
            reason: Some("merged".into()),
        })
        .collect();
    record(ws, ctx, opts.at, opts.actor, &rows, &events).await?;
    Ok(dups.len())
}

/// Takes merged leads out of their masters, restoring the status each had before;
/// nothing is written unless every one is merged. Returns the number of leads.
pub async fn unmerge(ws: &Workspace, ctx: &SessionContext, opts: &UnmergeOptions) -> Result<usize> {
    let dups = target_ids(
        ctx,
        &opts.duplicates,
        opts.query.as_deref(),
        None,
        (
            "DUPLICATE",
            "no lead to unmerge: give merged lead ids or --query",
        ),
    )
    .await?;
    let facts = facts(ctx, &dups).await?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut events = Vec::new();
    for &d in &dups {
        let f = &facts[&d];
        if !f.exists {
            problems.push(format!("lead {d} does not exist"));
            continue;
        }
        let Some((master, before, reason_before, _)) = &f.merged_into else {
            problems.push(format!("lead {d} is not merged"));
            continue;
        };
        problems.extend(late(d, f, opts.at));
        let status = before.clone().unwrap_or_else(|| "open".into());
        let reason = match status.as_str() {
            "open" => Some("unmerged".to_string()),
            _ => reason_before.clone(),
        };
        rows.push(MergeRow {
            master: *master,
            duplicate: d,
            action: "unmerged",
            status_before: None,
            reason_before: None,
        });
        events.push(StatusRow {
            lead: d,
            status,
            reason,
        });
    }
    refuse_if_any(problems, "unmerge", dups.len())?;
    record(ws, ctx, opts.at, opts.actor, &rows, &events).await?;
    Ok(dups.len())
}

/// Appends the `lead_merges` rows and the status events as one change.
async fn record(
    ws: &Workspace,
    ctx: &SessionContext,
    at: i64,
    actor: Option<i64>,
    merges: &[MergeRow],
    events: &[StatusRow],
) -> Result<()> {
    leadql_udfs::qualification::plan::recorded_instant(at).map_err(|_| Error::Argument {
        arg: "--at".into(),
        reason: format!(
            "{} is outside the instants the workspace can record (years 1677–2262)",
            instant_text(at)
        ),
    })?;
    let first_merge = max_id(ctx, "lead_merges", "merge_id").await? + 1;
    let first_event = max_id(ctx, "lead_status_events", "event_id").await? + 1;
    let n = merges.len();
    let instants = || TimestampMicrosecondArray::from(vec![at; n]);
    let actors = || Int64Array::from(vec![actor; n]);
    let merge_batch = RecordBatch::try_new(
        schema::LEAD_MERGES.schema(),
        vec![
            Arc::new(Int64Array::from_iter_values(
                (0..n as i64).map(|i| first_merge + i),
            )),
            Arc::new(Int64Array::from_iter_values(
                merges.iter().map(|m| m.master),
            )),
            Arc::new(Int64Array::from_iter_values(
                merges.iter().map(|m| m.duplicate),
            )),
            Arc::new(instants()),
            Arc::new(StringArray::from_iter_values(
                merges.iter().map(|m| m.action),
            )),
            Arc::new(StringArray::from_iter(
                merges.iter().map(|m| m.status_before.clone()),
            )),
            Arc::new(StringArray::from_iter(
                merges.iter().map(|m| m.reason_before.clone()),
            )),
            Arc::new(actors()),
        ],
    )
    .map_err(|e| Error::Query(e.to_string()))?;
    let m = events.len();
    let event_batch = RecordBatch::try_new(
        schema::LEAD_STATUS_EVENTS.schema(),
        vec![
            Arc::new(Int64Array::from_iter_values(
                (0..m as i64).map(|i| first_event + i),
            )),
            Arc::new(Int64Array::from_iter_values(events.iter().map(|e| e.lead))),
            Arc::new(TimestampMicrosecondArray::from(vec![at; m])),
            Arc::new(StringArray::from_iter_values(
                events.iter().map(|e| e.status.as_str()),
            )),
            Arc::new(StringArray::from_iter(
                events.iter().map(|e| e.reason.clone()),
            )),
            Arc::new(Int64Array::from(vec![actor; m])),
        ],
    )
    .map_err(|e| Error::Query(e.to_string()))?;
    let stamp = chrono::DateTime::from_timestamp_micros(at)
        .map(|d| d.format("%Y%m%dT%H%M%S").to_string())
        .unwrap_or_default();
    // `merge-`: never the name of a lifecycle change's file (`change-…`).
    let file = format!("merge-{stamp}-{first_merge}.parquet");
    let pending: [(RecordBatch, PathBuf); 2] = [
        (merge_batch, ws.dir.join("lead_merges").join(&file)),
        (event_batch, ws.dir.join("lead_status_events").join(&file)),
    ];
    // Both files are one change of the workspace: both land, or neither.
    let mut change = crate::commit::Transaction::begin(&ws.dir)?;
    for (batch, target) in pending {
        let stage = change.stage(&target)?;
        let stream = ctx
            .read_batch(batch)?
            .execute_stream()
            .await
            .map_err(|e| Error::Query(format!("{}: {e}", target.display())))?;
        output::write(
            stream,
            Format::Parquet,
            &Destination::File(stage.clone()),
            0,
        )
        .await?;
    }
    change.commit()?;
    Ok(())
}
