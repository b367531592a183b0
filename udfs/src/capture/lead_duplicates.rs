//! `lead_duplicates([min_score [, max_block]])`: pairs of leads that are probably the
//! same person, each with one match score and the evidence behind it.
//!
//! ```sql
//! SELECT * FROM lead_duplicates() ORDER BY match_score DESC;
//! ```
//!
//! Columns: `lead_id` and `duplicate_id` (`lead_id < duplicate_id`), `match_score`
//! (0–1), `rule` (the strongest evidence in Dynamics 365's rule names: `same_email`,
//! `same_phone`, `similar_name_and_company`, `similar_name_same_domain`, else
//! `combined`) and `reasons` (all the evidence, comma-separated: `same_email`,
//! `similar_name`, `other_phone`, …).
//!
//! The matcher is [`leadql_models::duplicates`]: candidate pairs come from blocking
//! keys (email, E.164 phone, phone ending, email local part, names at the same company
//! or email domain) in blocks of at most `max_block` leads; a larger block is compared
//! only within the same full name and reported on stderr with its key, so a junk value
//! shared by thousands of leads costs nothing. The work runs when the query reads the
//! table, on all cores.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{
    DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, exec_datafusion_err, plan_err};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{Documentation, Expr, cast, col};

use leadql_models::duplicates::{
    DEFAULT_MAX_BLOCK, DEFAULT_MIN_SCORE, Found, Lead, LeadRef, Prepared, Settings, find_prepared,
    par_filter_map, prepare,
};

use crate::args;
use crate::catalogue::{Build, CAPTURE, Entry, Function};
use crate::deferred::DeferredTable;
use crate::relation;
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "lead_duplicates";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Standalone(|| Function::Table(Arc::new(LeadDuplicates))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CAPTURE,
        "Pairs of leads of the `leads` table that are probably the same person, each pair once (`lead_id < duplicate_id`) with one `match_score` (0–1) from all the evidence both leads give: same normalised email, same phone in E.164 (national numbers read in the lead's country), name and company similarity (Jaro–Winkler), same corporate email domain, different phones, countries or names against, creation within 30 days. `rule` names the strongest evidence in Dynamics 365's duplicate-rule words (`same_email`, `same_phone`, `similar_name_and_company`, `similar_name_same_domain`, else `combined`); `reasons` lists all of it. Candidates come from blocking keys (email, phone, phone ending, email local part, last name and first initial or first name and last initial at the same company or domain), in blocks of at most `max_block` leads: a larger block (a junk email shared by thousands) is compared only within the same full name and reported on stderr with its key. Columns: `lead_id, duplicate_id, match_score, rule, reasons`.",
        "lead_duplicates([min_score [, max_block]])",
    )
    .with_argument("min_score", "The least match score reported, from 0 to 1 (default 0.5).")
    .with_argument("max_block", "The most leads one blocking key may pair in full (default 100).")
    .with_sql_example(
        "> SELECT lead_id, duplicate_id, round(match_score, 3) AS score, reasons
  FROM lead_duplicates(0.1) ORDER BY score DESC, lead_id;
+---------+--------------+-------+----------------------------------------------------------------------------+
| lead_id | duplicate_id | score | reasons                                                                    |
+---------+--------------+-------+----------------------------------------------------------------------------+
| 3772    | 3864         | 0.378 | same_company,same_domain,close_in_time                                     |
| 2331    | 3325         | 0.269 | same_email,other_name,same_company,same_domain                             |
| 2326    | 4648         | 0.119 | other_phone,similar_name,same_company,same_domain                          |
| 4923    | 4988         | 0.119 | same_email,other_name,same_company,same_domain,other_country,close_in_time |
+---------+--------------+-------+----------------------------------------------------------------------------+",
    )
    .with_related_udf("name_similarity")
    .with_related_udf("normalize_email")
    .with_related_udf("normalize_phone")
    .build()
});

/// The `lead_duplicates` table function.
#[derive(Debug, Default)]
pub struct LeadDuplicates;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("lead_id", DataType::Int64, false),
        Field::new("duplicate_id", DataType::Int64, false),
        Field::new("match_score", DataType::Float64, false),
        Field::new("rule", DataType::Utf8, false),
        Field::new("reasons", DataType::Utf8, false),
    ]))
}

/// The `[min_score [, max_block]]` arguments of `function`.
pub(crate) fn settings(state: &SessionState, function: &str, exprs: &[Expr]) -> Result<Settings> {
    if exprs.len() > 2 {
        return plan_err!(
            "{function} expects ([min_score [, max_block]]), got {} arguments",
            exprs.len()
        );
    }
    let number = |e: &Expr, what: &str| -> Result<f64> {
        match args::constant(state, e)? {
            ScalarValue::Float64(Some(v)) => Ok(v),
            ScalarValue::Float32(Some(v)) => Ok(f64::from(v)),
            ScalarValue::Int64(Some(v)) => Ok(v as f64),
            ScalarValue::Int32(Some(v)) => Ok(f64::from(v)),
            ScalarValue::Decimal128(Some(v), _, scale) => {
                Ok(v as f64 / 10f64.powi(i32::from(scale)))
            }
            other => plan_err!("{function}: {what} must be a number, got {other}"),
        }
    };
    let min_score = match exprs.first() {
        Some(e) => number(e, "min_score")?,
        None => DEFAULT_MIN_SCORE,
    };
    if !(0.0..=1.0).contains(&min_score) {
        return plan_err!("{function}: min_score must be between 0 and 1, got {min_score}");
    }
    let max_block = match exprs.get(1) {
        Some(e) => number(e, "max_block")?,
        None => DEFAULT_MAX_BLOCK as f64,
    };
    if !(2.0..=100_000.0).contains(&max_block) || max_block.fract() != 0.0 {
        return plan_err!(
            "{function}: max_block must be a whole number from 2 to 100000, got {max_block}"
        );
    }
    Ok(Settings {
        min_score,
        max_block: max_block as usize,
    })
}

/// The identity columns of the `leads` table of the caller's session, as Arrow
/// batches: `lead_id` (Int64), six Utf8 columns, `created_at` (µs).
async fn identity_batches(state: &SessionState) -> Result<Vec<RecordBatch>> {
    let text = |name: &str| cast(col(name), DataType::Utf8).alias(name);
    let mut leads = relation::table(state, "leads")?;
    // A lead merged into another is that lead now: no pair of its own.
    if let Ok(merges) = relation::table(state, "lead_merges") {
        let merged = crate::status::merges_in_force(merges)?
            .select(vec![col("duplicate_id").alias("__merged_lead")])?;
        leads = leads.join(
            merged,
            datafusion::common::JoinType::LeftAnti,
            &["lead_id"],
            &["__merged_lead"],
            None,
        )?;
    }
    leads
        .select(vec![
            cast(col("lead_id"), DataType::Int64).alias("lead_id"),
            text("first_name"),
            text("last_name"),
            text("email"),
            text("phone"),
            text("company"),
            text("country"),
            cast(
                col("created_at"),
                DataType::Timestamp(TimeUnit::Microsecond, None),
            )
            .alias("created_at"),
        ])?
        .collect()
        .await
}

/// Row `i` of an [`identity_batches`] batch, borrowed; `None` without a lead id.
fn lead_at(b: &RecordBatch, i: usize) -> Option<LeadRef<'_>> {
    let ids = b.column(0).as_primitive::<Int64Type>();
    if ids.is_null(i) {
        return None;
    }
    let text = |c: usize| {
        let a = b.column(c).as_string::<i32>();
        a.is_valid(i).then(|| a.value(i))
    };
    let created = b.column(7).as_primitive::<TimestampMicrosecondType>();
    Some(LeadRef {
        id: ids.value(i),
        first_name: text(1),
        last_name: text(2),
        email: text(3),
        phone: text(4),
        company: text(5),
        country: text(6),
        created_at: created.is_valid(i).then(|| created.value(i)),
    })
}

/// The identity columns of the `leads` table of the caller's session, as the matcher
/// reads them.
pub async fn read_leads(state: &SessionState) -> Result<Vec<Lead>> {
    let batches = identity_batches(state).await?;
    let own = |s: Option<&str>| s.map(str::to_string);
    Ok(batches
        .iter()
        .flat_map(|b| (0..b.num_rows()).filter_map(move |i| lead_at(b, i)))
        .map(|l| Lead {
            id: l.id,
            first_name: own(l.first_name),
            last_name: own(l.last_name),
            email: own(l.email),
            phone: own(l.phone),
            company: own(l.company),
            country: own(l.country),
            created_at: l.created_at,
        })
        .collect())
}

/// The `leads` table of the caller's session, prepared for matching straight from its
/// Arrow batches (on every core), without owned copies of the raw text.
async fn read_prepared(state: &SessionState) -> Result<Vec<Prepared>> {
    let batches = identity_batches(state).await?;
    tokio::task::spawn_blocking(move || {
        let rows: Vec<(u32, u32)> = batches
            .iter()
            .enumerate()
            .flat_map(|(n, b)| (0..b.num_rows() as u32).map(move |i| (n as u32, i)))
            .collect();
        par_filter_map(&rows, |&(n, i)| {
            lead_at(&batches[n as usize], i as usize).map(|l| prepare(&l))
        })
    })
    .await
    .map_err(|e| exec_datafusion_err!("{NAME}: {e}"))
}

/// Reads the `leads` table of the caller's session and finds its duplicates (on a
/// blocking thread), reporting oversized blocks on stderr.
pub(crate) async fn duplicates(state: &SessionState, settings: Settings) -> Result<Found> {
    let prepared = read_prepared(state).await?;
    let found = tokio::task::spawn_blocking(move || find_prepared(prepared, &settings))
        .await
        .map_err(|e| exec_datafusion_err!("{NAME}: {e}"))?;
    // The largest blocks, then a count: one line per block would drown the output.
    const SHOWN: usize = 5;
    for o in found.oversized.iter().take(SHOWN) {
        let left_out = if o.skipped > 0 {
            format!("; {} of them left out", o.skipped)
        } else {
            String::new()
        };
        eprintln!(
            "warning: {NAME}: the {} {:?} is shared by {} leads (more than max_block {}): compared only within the same full name{left_out}",
            o.kind.name(),
            o.value,
            o.leads,
            settings.max_block
        );
    }
    if found.oversized.len() > SHOWN {
        eprintln!(
            "warning: {NAME}: {} more blocking keys are shared by more than max_block {} leads (compared only within the same full name)",
            found.oversized.len() - SHOWN,
            settings.max_block
        );
    }
    Ok(found)
}

impl TableFunctionImpl for LeadDuplicates {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let state = state(args.session())?;
        let settings = settings(state, NAME, args.exprs())?;
        Ok(DeferredTable::new(
            schema(),
            Box::new(move |state| {
                Box::pin(async move {
                    let found = duplicates(state, settings).await?;
                    let m = &found.matches;
                    Ok(RecordBatch::try_new(
                        schema(),
                        vec![
                            Arc::new(Int64Array::from_iter_values(m.iter().map(|p| p.lead_id))),
                            Arc::new(Int64Array::from_iter_values(
                                m.iter().map(|p| p.duplicate_id),
                            )),
                            Arc::new(Float64Array::from_iter_values(m.iter().map(|p| p.score))),
                            Arc::new(StringArray::from_iter_values(m.iter().map(|p| p.rule))),
                            Arc::new(StringArray::from_iter_values(
                                m.iter().map(|p| p.reasons.join(",")),
                            )),
                        ],
                    )?)
                })
            }),
        ))
    }
}
