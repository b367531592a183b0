//! `leadql run`, the main job: train or refresh the policy's predictive model, score
//! with every rule model, qualify, create and assign sales activities for newly
//! sales-ready leads, export every output table and print a summary.
//!
//! The run is keyed by its `as_of` instant: what it records in the workspace
//! (`qualification_history/`, `sales_activities/`) replaces what an earlier run at the
//! same instant recorded, so re-running on the same data gives the same tables, and a
//! run at a later instant sees the earlier ones (sticky sales-readiness, trends,
//! sellers' open items).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, TimeUnit};
use datafusion::common::JoinType;
use datafusion::common::ScalarValue;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::logical_expr::{Expr, col, ident, lit, when};
use datafusion::prelude::{DataFrame, SessionContext};
use leadql_models::policy::Policy;
use leadql_udfs::args::instant;
use leadql_udfs::relation::function;

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::output::{self, Destination, Format};

mod handoff;
mod refresh;
mod summary;

pub use handoff::activities_schema;
use handoff::handoff;
use refresh::refresh_model;
pub use summary::{
    Activities, BacktestFigures, ModelLine, RunSummary, TopLead, Written, best_first,
    best_sales_ready,
};

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
    /// Also write the HTML report of the run (`report.html`) beside the tables.
    pub report: bool,
}

/// Days a hand-off stays in a seller's queue (counts against their capacity).
pub const QUEUE_DAYS: i64 = 14;

/// Workspace table of sales activities (one Parquet file per run).
pub const ACTIVITIES: &str = "sales_activities";
/// Workspace table of qualifications (one Parquet file per run and policy).
pub const HISTORY: &str = leadql_udfs::qualification::plan::HISTORY;

/// The workspace table `name` of the run's session.
async fn table(ctx: &SessionContext, name: &str) -> Result<DataFrame> {
    Ok(ctx.table(name).await?)
}

/// The table function `name(args…)` in the run's session.
fn call(ctx: &SessionContext, name: &str, args: &[Expr]) -> Result<DataFrame> {
    Ok(function(&ctx.state(), name, args)?)
}

fn has_table(ctx: &SessionContext, name: &str) -> bool {
    ctx.table_exist(name).unwrap_or(false)
}

/// Runs the main job and prints its summary on stdout.
pub async fn run(ws: &Workspace, ctx: &SessionContext, opts: &RunOptions) -> Result<RunSummary> {
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
    let qualification = call(
        ctx,
        "qualify_leads",
        &[lit(policy.name.as_str()), instant(as_of)],
    )?
    .sort(vec![col("lead_id").sort(true, false)])?
    .cache()
    .await?;
    ctx.register_table("run_qualification", qualification.clone().into_view())?;
    stages.done("qualification");

    // 3. Rule scores of every lead and the grading table.
    let scores = rule_scores(ctx, &policy, as_of).await?;
    ctx.register_table("run_scores", scores.clone().into_view())?;
    stages.done("rule scores");
    let grades = grading(ctx, &policy, &qualification, &scores, as_of).await?;
    stages.done("grading");

    // 4. Hand-off.
    let activities = handoff(ctx, &policy, &qualification, as_of).await?;
    stages.done("hand-off");

    // 5. Record the run in the workspace, then export.
    let stamp = chrono::DateTime::from_timestamp_micros(as_of)
        .map(|d| d.format("%Y%m%dT%H%M%S").to_string())
        .unwrap_or_default();
    let file_name = format!("{}-{stamp}.parquet", policy.name);
    let metadata = run_metadata(&policy, as_of, model_line.as_ref());
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
        written.push(Written {
            path: path.display().to_string(),
            rows: Some(rows),
        });
    }
    if opts.report {
        let path = out.join(crate::report::FILE_NAME);
        crate::report::write_for_run(ws, ctx, &policy, as_of, &path)
            .await
            .map_err(|e| {
                Error::Query(format!(
                    "the run was recorded and its tables written, but not its report: {e}"
                ))
            })?;
        written.push(Written {
            path: path.display().to_string(),
            rows: None,
        });
    }
    stages.done("record and export");

    // 6. Summary.
    let mut summary = summary::summarise(
        &policy,
        &qualification,
        as_of,
        model_line.as_ref(),
        &activities,
        opts.top,
    )
    .await?;
    stages.done("summary");
    stages.report();
    summary.warnings = warnings;
    summary.written = written;
    summary.recorded = vec![
        format!("{HISTORY}/{file_name}"),
        format!("{ACTIVITIES}/{file_name}"),
    ];
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
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
async fn rule_scores(ctx: &SessionContext, policy: &Policy, as_of: i64) -> Result<DataFrame> {
    let mut union: Option<DataFrame> = None;
    for m in &policy.rule_models {
        let scores = call(ctx, "score_leads", &[lit(m.as_str()), instant(as_of)])?
            .select_columns(&["lead_id", "model", "score", "grade", "sales_ready", "as_of"])?;
        union = Some(match union {
            None => scores,
            Some(u) => u.union(scores)?,
        });
    }
    let Some(union) = union else {
        let schema = Schema::new(vec![
            Field::new("lead_id", DataType::Int64, true),
            Field::new("model", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
            Field::new("grade", DataType::Utf8, true),
            Field::new("sales_ready", DataType::Boolean, true),
            Field::new(
                "as_of",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
        ]);
        return Ok(ctx.read_batch(RecordBatch::new_empty(Arc::new(schema)))?);
    };
    Ok(union
        .sort(vec![
            col("lead_id").sort(true, false),
            col("model").sort(true, false),
        ])?
        .cache()
        .await?)
}

/// The as_of of the policy's latest recorded run before `as_of`, if any.
async fn previous_run(ctx: &SessionContext, policy: &Policy, as_of: i64) -> Result<ScalarValue> {
    let latest = table(ctx, HISTORY)
        .await?
        .filter(
            col("policy")
                .eq(lit(policy.name.as_str()))
                .and(col("as_of").lt(instant(as_of))),
        )?
        .aggregate(vec![], vec![max(col("as_of")).alias("as_of")])?
        .collect()
        .await?;
    Ok(match latest.first().filter(|b| b.num_rows() == 1) {
        Some(b) => ScalarValue::try_from_array(b.column(0), 0)?,
        None => ScalarValue::Null,
    })
}

/// The grading table: per qualified lead, each rule model's score and grade, the
/// predictive score and grade, and the trend against the previous run.
async fn grading(
    ctx: &SessionContext,
    policy: &Policy,
    qualification: &DataFrame,
    scores: &DataFrame,
    as_of: i64,
) -> Result<DataFrame> {
    // The qualification's columns under names no rule model's columns can take
    // (a model called `rule` has a `rule_score` column).
    let mut frame = qualification.clone().select(vec![
        col("lead_id"),
        col("rule_score").alias("__rule_score"),
        col("predictive_score").alias("__predictive_score"),
        col("predictive_grade").alias("__predictive_grade"),
        col("sales_ready").alias("__sales_ready"),
        col("policy").alias("__policy"),
        col("as_of").alias("__as_of"),
    ])?;
    let mut columns = vec![col("lead_id")];
    for (i, m) in policy.rule_models.iter().enumerate() {
        let name = m.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let key = format!("__r{i}_lead");
        let (score, grade) = (format!("{name}_score"), format!("{name}_grade"));
        let model = scores
            .clone()
            .filter(col("model").eq(lit(m.as_str())))?
            .select(vec![
                col("lead_id").alias(&key),
                col("score").alias(&score),
                col("grade").alias(&grade),
            ])?;
        frame = frame.join(model, JoinType::Left, &["lead_id"], &[&key], None)?;
        // Named as they are spelled (`col` would fold `Fit_score` to `fit_score`).
        columns.extend([ident(score), ident(grade)]);
    }
    let value = coalesce(vec![col("__predictive_score"), col("__rule_score")]);
    let previous = if has_table(ctx, HISTORY) {
        previous_run(ctx, policy, as_of).await?
    } else {
        ScalarValue::Null
    };
    let trend = match previous {
        at if at.is_null() => lit("new"),
        at => {
            let prev = table(ctx, HISTORY)
                .await?
                .filter(
                    col("policy")
                        .eq(lit(policy.name.as_str()))
                        .and(col("as_of").eq(lit(at))),
                )?
                .select(vec![
                    col("lead_id").alias("__prev_lead"),
                    coalesce(vec![col("predictive_score"), col("rule_score")]).alias("__prev"),
                ])?;
            frame = frame.join(prev, JoinType::Left, &["lead_id"], &["__prev_lead"], None)?;
            let change = value.clone() - col("__prev");
            when(col("__prev_lead").is_null(), lit("new"))
                .when(change.clone().gt_eq(lit(5i64)), lit("improving"))
                .when(change.lt_eq(lit(-5i64)), lit("declining"))
                .otherwise(lit("steady"))?
        }
    };
    columns.extend([
        col("__predictive_score").alias("predictive_score"),
        col("__predictive_grade").alias("predictive_grade"),
        trend.alias("trend"),
        col("__sales_ready").alias("sales_ready"),
        col("__policy").alias("policy"),
        col("__as_of").alias("as_of"),
    ]);
    Ok(frame
        .select(columns)?
        .sort(vec![col("lead_id").sort(true, false)])?
        .cache()
        .await?)
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

fn run_metadata(policy: &Policy, as_of: i64, model: Option<&ModelLine>) -> Vec<(String, String)> {
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
        ("leadql.as_of".into(), instant_text(as_of)),
        ("leadql.policy".into(), policy.name.clone()),
        ("leadql.models".into(), models.join(", ")),
    ]
}

/// An instant as `YYYY-MM-DD HH:MM:SS.ffffff`, as the run records and prints it.
pub(super) fn instant_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        .unwrap_or_else(|| micros.to_string())
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
