//! `leadql run`, the main job: train or refresh the policy's predictive model, score
//! with every rule model, qualify, create and assign sales activities for newly
//! sales-ready leads, export every output table and print a summary.
//!
//! The run is keyed by its `as_of` instant: what it records in the workspace
//! (`qualification_history/`, `sales_activities/`) replaces what an earlier run at the
//! same instant recorded, so re-running on the same data gives the same tables, and a
//! run at a later instant sees the earlier ones (sticky sales-readiness, trends,
//! sellers' open items).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::{DataFrame, SessionContext};
use leadql_models::policy::Policy;
use leadql_udfs::qualification::sql::{literal, timestamp};

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::output::{self, Destination, Format};

mod handoff;
mod refresh;
mod report;

pub use handoff::activities_schema;
use handoff::handoff;
use refresh::{ModelLine, refresh_model};
use report::summary;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Qualification policy.
    pub policy: String,
    /// Instant of the run (µs since the epoch); `None`: the workspace's `as_of`.
    pub as_of: Option<i64>,
    /// Output directory.
    pub out: PathBuf,
    /// Retrain the predictive model even when its recipe and data are unchanged.
    pub retrain: bool,
    /// Leads shown in the summary.
    pub top: usize,
}

/// Days a hand-off stays in a seller's queue (counts against their capacity).
pub const QUEUE_DAYS: i64 = 14;

/// Workspace table of sales activities (one Parquet file per run).
pub const ACTIVITIES: &str = "sales_activities";
/// Workspace table of qualifications (one Parquet file per run and policy).
pub const HISTORY: &str = leadql_udfs::qualification::sql::HISTORY;

async fn collect(ctx: &SessionContext, text: &str) -> Result<Vec<RecordBatch>> {
    let frame = ctx.sql(text).await.map_err(Error::from)?;
    frame.collect().await.map_err(Error::from)
}

fn has_table(ctx: &SessionContext, name: &str) -> bool {
    ctx.table_exist(name).unwrap_or(false)
}

/// Runs the main job and prints its summary on stdout.
pub async fn run(ws: &Workspace, ctx: &SessionContext, opts: &RunOptions) -> Result<()> {
    let started = std::time::Instant::now();
    let policy = ws
        .policies
        .get("run", &opts.policy)
        .map_err(|e| Error::Query(e.strip_backtrace()))?;
    let as_of = match opts.as_of.or(ws.rule_models.default_as_of()) {
        Some(t) => t,
        None => {
            return Err(Error::Argument {
                arg: "--as-of".into(),
                reason: "the workspace sets no [workspace] as_of in workspace.toml; pass --as-of 'YYYY-MM-DD HH:MM:SS'".into(),
            });
        }
    };
    let t = timestamp(as_of);
    let mut report = String::new();
    let mut stages = Stages::new();

    // 1. The predictive model.
    let mut warnings = Vec::new();
    let mut policy = policy;
    let model_line = match policy.predictive_model.clone() {
        Some(name) => match refresh_model(ws, ctx, &name, opts.retrain).await {
            Ok(line) => Some(line),
            // No usable model (e.g. no closed leads to learn from yet): qualify on the
            // rule models alone rather than stop, and say so.
            Err(e) if ws.predictive_models.get("run", &name).is_err() => {
                warnings.push(format!(
                    "no predictive score: model '{name}' could not be trained ({e}); its criteria are skipped"
                ));
                let mut p = (*policy).clone();
                p.predictive_model = None;
                p.predictive_features = None;
                p.criteria.retain(|c| c.model != name);
                let mut only = leadql_udfs::qualification::Policies::new();
                only.insert(p.name.clone(), Ok(p.clone()));
                leadql_udfs::register_qualification(ctx, Arc::new(only), ws.rule_models.clone());
                policy = Arc::new(p);
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    stages.done("predictive model");

    // 2. Qualification (kept in memory: it is written twice and read by the rest).
    let qualification = ctx
        .sql(&format!(
            "SELECT * FROM qualify_leads({}, {t}) ORDER BY lead_id",
            literal(&policy.name)
        ))
        .await?
        .cache()
        .await?;
    ctx.register_table("run_qualification", qualification.clone().into_view())?;
    stages.done("qualification");

    // 3. Rule scores of every lead and the grading table.
    let scores = rule_scores(ctx, &policy, &t).await?;
    ctx.register_table("run_scores", scores.clone().into_view())?;
    stages.done("rule scores");
    let grades = grading(ctx, &policy, &t).await?;
    stages.done("grading");

    // 4. Hand-off.
    let activities = handoff(ctx, &policy, as_of).await?;
    stages.done("hand-off");

    // 5. Record the run in the workspace, then export.
    let stamp = chrono::DateTime::from_timestamp_micros(as_of)
        .map(|d| d.format("%Y%m%dT%H%M%S").to_string())
        .unwrap_or_default();
    let file_name = format!("{}-{stamp}.parquet", policy.name);
    let metadata = run_metadata(&policy, &t, model_line.as_ref());
    // The history and the activities are one change: both land, or neither.
    let mut change = crate::commit::Transaction::begin(&ws.dir)?;
    write(
        sorted(qualification.clone(), &["lead_id"])?,
        &change.stage(&ws.dir.join(HISTORY).join(&file_name))?,
        &metadata,
    )
    .await?;
    let activities_frame = ctx.read_batch(activities.clone())?;
    write(
        activities_frame.clone(),
        &change.stage(&ws.dir.join(ACTIVITIES).join(&file_name))?,
        &metadata,
    )
    .await?;
    change.commit()?;
    let out = &opts.out;
    let mut written = Vec::new();
    for (name, frame, keys) in [
        ("qualification", qualification.clone(), &["lead_id"][..]),
        ("lead_grades", grades.clone(), &["lead_id"][..]),
        ("lead_scores", scores, &["lead_id", "model"][..]),
        ("sales_activities", activities_frame, &["activity_id"][..]),
    ] {
        // Cached tables are read back partition by partition: sort for stable files.
        let frame = sorted(frame, keys)?;
        let path = out.join(format!("{name}.parquet"));
        let rows = write(frame, &path, &metadata).await?;
        written.push(format!("{} ({rows} rows)", path.display()));
    }
    stages.done("record and export");

    // 6. Summary.
    summary(
        ctx,
        &mut report,
        &policy,
        &t,
        model_line.as_ref(),
        &activities,
        opts.top,
    )
    .await?;
    stages.done("summary");
    stages.report();
    for w in &warnings {
        let _ = writeln!(report, "warning: {w}");
    }
    let _ = writeln!(report, "\nWritten: {}", written.join(", "));
    let _ = writeln!(
        report,
        "Recorded in the workspace: {HISTORY}/{file_name}, {ACTIVITIES}/{file_name} ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    print!("{report}");
    Ok(())
}

/// Wall time per stage of a run, printed to stderr when `LEADQL_TIMINGS` is set (for
/// benchmarks; the report itself prints only the total).
struct Stages {
    last: std::time::Instant,
    times: Vec<(&'static str, f64)>,
}

impl Stages {
    fn new() -> Self {
        Stages {
            last: std::time::Instant::now(),
            times: Vec::new(),
        }
    }

    fn done(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.times
            .push((stage, now.duration_since(self.last).as_secs_f64()));
        self.last = now;
    }

    fn report(&self) {
        if std::env::var_os("LEADQL_TIMINGS").is_some() {
            for (stage, secs) in &self.times {
                eprintln!("timing: {stage:<20} {secs:>7.2} s");
            }
        }
    }
}

/// Every lead's score under every rule model of the policy, one row per lead and model.
async fn rule_scores(ctx: &SessionContext, policy: &Policy, t: &str) -> Result<DataFrame> {
    if policy.rule_models.is_empty() {
        return Ok(ctx
            .sql("SELECT CAST(NULL AS BIGINT) AS lead_id, CAST(NULL AS VARCHAR) AS model, CAST(NULL AS DOUBLE) AS score, CAST(NULL AS VARCHAR) AS grade, CAST(NULL AS BOOLEAN) AS sales_ready, CAST(NULL AS TIMESTAMP) AS as_of WHERE false")
            .await?);
    }
    let parts: Vec<String> = policy
        .rule_models
        .iter()
        .map(|m| {
            format!(
                "SELECT lead_id, model, score, grade, sales_ready, as_of FROM score_leads({}, {t})",
                literal(m)
            )
        })
        .collect();
    Ok(ctx
        .sql(&format!(
            "{} ORDER BY lead_id, model",
            parts.join(" UNION ALL ")
        ))
        .await?
        .cache()
        .await?)
}

/// The grading table: per qualified lead, each rule model's score and grade, the
/// predictive score and grade, and the trend against the previous run.
async fn grading(ctx: &SessionContext, policy: &Policy, t: &str) -> Result<DataFrame> {
    let mut columns = Vec::new();
    let mut joins = Vec::new();
    for (i, m) in policy.rule_models.iter().enumerate() {
        let col = m.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        columns.push(format!(
            "r{i}.score AS \"{col}_score\", r{i}.grade AS \"{col}_grade\""
        ));
        joins.push(format!(
            "LEFT JOIN run_scores r{i} ON r{i}.lead_id = q.lead_id AND r{i}.model = {}",
            literal(m)
        ));
    }
    let (prev_cte, prev_join, trend) = if has_table(ctx, HISTORY) {
        (
            format!(
                "WITH prev AS (SELECT lead_id, coalesce(predictive_score, rule_score) AS v FROM {HISTORY} \
                 WHERE policy = {p} AND as_of = (SELECT max(as_of) FROM {HISTORY} WHERE policy = {p} AND as_of < {t})) ",
                p = literal(&policy.name)
            ),
            "LEFT JOIN prev ON prev.lead_id = q.lead_id".to_string(),
            "CASE WHEN prev.lead_id IS NULL THEN 'new' \
             WHEN coalesce(q.predictive_score, q.rule_score) - prev.v >= 5 THEN 'improving' \
             WHEN coalesce(q.predictive_score, q.rule_score) - prev.v <= -5 THEN 'declining' \
             ELSE 'steady' END"
                .to_string(),
        )
    } else {
        (String::new(), String::new(), "'new'".to_string())
    };
    let columns = if columns.is_empty() {
        String::new()
    } else {
        format!("{}, ", columns.join(", "))
    };
    let text = format!(
        "{prev_cte}SELECT q.lead_id, {columns}q.predictive_score, q.predictive_grade, {trend} AS trend, \
         q.sales_ready, q.policy, q.as_of FROM run_qualification q {} {prev_join} ORDER BY q.lead_id",
        joins.join(" ")
    );
    Ok(ctx.sql(&text).await?.cache().await?)
}

fn strings(batch: &RecordBatch, column: usize) -> Vec<Option<String>> {
    let a = batch.column(column);
    let cast = datafusion::arrow::compute::cast(a, &DataType::Utf8);
    match cast {
        Ok(c) => {
            let s = c.as_string::<i32>();
            (0..s.len())
                .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
                .collect()
        }
        Err(_) => vec![None; a.len()],
    }
}

fn int64s(batch: &RecordBatch, column: usize) -> Result<Vec<Option<i64>>> {
    let c = datafusion::arrow::compute::cast(batch.column(column), &DataType::Int64)
        .map_err(|e| Error::Query(format!("column {column}: {e}")))?;
    let a = c.as_primitive::<Int64Type>();
    Ok((0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i)))
        .collect())
}

fn run_metadata(policy: &Policy, t: &str, model: Option<&ModelLine>) -> Vec<(String, String)> {
    let mut models: Vec<String> = policy
        .rule_models
        .iter()
        .map(|m| format!("{m} (rule model)"))
        .collect();
    if let Some(m) = model {
        models.push(format!("{} v{} ({})", m.name, m.version, m.kind));
    }
    vec![
        ("leadql.version".into(), env!("CARGO_PKG_VERSION").into()),
        (
            "leadql.as_of".into(),
            t.trim_start_matches("TIMESTAMP '")
                .trim_end_matches('\'')
                .into(),
        ),
        ("leadql.policy".into(), policy.name.clone()),
        ("leadql.models".into(), models.join(", ")),
    ]
}

fn sorted(frame: DataFrame, keys: &[&str]) -> Result<DataFrame> {
    Ok(frame.sort(
        keys.iter()
            .map(|k| datafusion::prelude::col(*k).sort(true, false))
            .collect(),
    )?)
}

async fn write(frame: DataFrame, path: &Path, metadata: &[(String, String)]) -> Result<u64> {
    let stream = frame.execute_stream().await?;
    output::write_with_metadata(
        stream,
        Format::Parquet,
        &Destination::File(path.to_path_buf()),
        0,
        metadata,
    )
    .await
}
