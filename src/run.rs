//! `leadql run`, the main job: train or refresh the policy's predictive model, score
//! with every rule model, qualify, create and assign sales activities for newly
//! sales-ready leads, export every output table and print a summary.
//!
//! The run is keyed by its `as_of` instant: what it records in the workspace
//! (`qualification_history/`, `sales_activities/`) replaces what an earlier run at the
//! same instant recorded, so re-running on the same data gives the same tables, and a
//! run at a later instant sees the earlier ones (sticky sales-readiness, trends,
//! sellers' open items).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, TimeUnit};
use datafusion::prelude::{DataFrame, SessionContext};
use leadql_models::assignment::{self, Candidate, Pool, SellerLoad};
use leadql_models::policy::Policy;
use leadql_udfs::qualification::sql::{literal, timestamp};

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::output::{self, Destination, Format};
use crate::sql;

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

/// The predictive model a run scores with, and what the run learnt about it.
#[derive(Debug, Clone)]
struct ModelLine {
    name: String,
    /// The active version after the run.
    version: u32,
    kind: String,
    /// Held-out AUC of the active version.
    auc: Option<f64>,
    /// Whether this run trained a version.
    trained: bool,
    /// Label horizon of a point-in-time model, in days.
    horizon_days: Option<f64>,
    /// Out-of-time backtest of the active version at its latest instant.
    backtest: Option<BacktestFigures>,
    /// What happened to a newly trained version (published, or kept back and why).
    publish: Option<String>,
}

/// One instant of a backtest: AUC and the calibration of the top 5%.
#[derive(Debug, Clone, PartialEq)]
struct BacktestFigures {
    as_of: String,
    auc: Option<f64>,
    leads: i64,
    top5_predicted: Option<f64>,
    top5_actual: Option<f64>,
}

impl ModelLine {
    fn of(m: &leadql_models::predictive::PredictiveModel, trained: bool) -> Self {
        ModelLine {
            name: m.name.clone(),
            version: m.version,
            kind: m.options.model_type.as_str().into(),
            auc: m.evaluation.auc,
            trained,
            horizon_days: m.options.horizon_days,
            backtest: None,
            publish: None,
        }
    }
}

/// Trains the model from `models/NAME.sql` when it has no version yet, when the
/// recipe, the workspace's data or the run's `as_of` changed since the version it
/// produced, or when asked to. A retrained point-in-time version is published only if
/// its out-of-time backtest AUC is at least the active version's minus the model's
/// `publish_tolerance`; otherwise the active version stays pinned.
async fn refresh_model(
    ws: &Workspace,
    ctx: &SessionContext,
    name: &str,
    retrain: bool,
) -> Result<ModelLine> {
    leadql_models::store::check_name(name).map_err(|e| Error::Query(e.0))?;
    let recipe = ws.dir.join("models").join(format!("{name}.sql"));
    let stamp_file = ws.dir.join("models").join(name).join(".trained-from");
    let current = ws.predictive_models.get("run", name).ok();
    let text = match std::fs::read_to_string(&recipe) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&recipe, e)),
    };
    let Some(text) = text else {
        // No recipe: use the trained model as it is.
        return match current {
            Some(m) => {
                with_backtest(
                    ctx,
                    &mut Backtests::default(),
                    ModelLine::of(&m, false),
                    &m,
                    Stored::Stale,
                )
                .await
            }
            None => Err(Error::Query(format!(
                "the policy uses predictive model '{name}', which is not trained and has no recipe {} (a CREATE MODEL statement)",
                recipe.display()
            ))),
        };
    };
    let fingerprint = fingerprint(ws, &text);
    let recorded = std::fs::read_to_string(&stamp_file).unwrap_or_default();
    if let Some(m) = &current
        && !retrain
        && recorded.trim() == format!("{fingerprint} v{}", m.version)
    {
        // The data has not changed since the run that trained the latest version; a
        // version the gate kept instead was backtested on older data.
        let latest = ws.predictive_models.store().latest(name).ok();
        let stored = if latest.is_some_and(|l| l.version == m.version) {
            Stored::Current
        } else {
            Stored::Stale
        };
        return with_backtest(
            ctx,
            &mut Backtests::default(),
            ModelLine::of(m, false),
            m,
            stored,
        )
        .await;
    }
    let statements = sql::parse(&text).map_err(|e| match e {
        Error::SqlSyntax(m) => Error::SqlSyntax(format!("{}: {m}", recipe.display())),
        other => other,
    })?;
    let training = std::time::Instant::now();
    for statement in statements {
        sql::plan(ctx, statement)
            .await
            .map_err(|e| Error::Query(format!("{}: {e}", recipe.display())))?
            .collect()
            .await
            .map_err(|e| Error::Query(format!("{}: {e}", recipe.display())))?;
    }
    let store = ws.predictive_models.store();
    let trained = store
        .latest(name)
        .map_err(|e| Error::Query(format!("{}: {e}", recipe.display())))?;
    let mut line = ModelLine::of(&trained, true);
    let mut active = trained.clone();
    let mut backtests = Backtests::default();
    timing("  training", training);
    let gate = std::time::Instant::now();
    if let Some(previous) = current.as_ref().filter(|p| p.version != trained.version) {
        match publish_decision(ctx, &mut backtests, &trained, previous).await? {
            Publish::Yes(why) => {
                store.activate(name, None).map_err(|e| Error::Query(e.0))?;
                line.publish = Some(why);
            }
            Publish::No(why) => {
                store
                    .activate(name, Some(previous.version))
                    .map_err(|e| Error::Query(e.0))?;
                active = (**previous).clone();
                line = ModelLine::of(previous, false);
                line.publish = Some(why);
            }
        }
    }
    crate::atomic::write(
        &stamp_file,
        format!("{fingerprint} v{}\n", active.version).as_bytes(),
    )?;
    timing("  publish gate", gate);
    // The active version is the new one (trained on this data), or the kept one that
    // the gate just backtested afresh.
    with_backtest(ctx, &mut backtests, line, &active, Stored::Current).await
}

fn timing(stage: &str, since: std::time::Instant) {
    if std::env::var_os("LEADQL_TIMINGS").is_some() {
        eprintln!(
            "timing: {stage:<20} {:>7.2} s",
            since.elapsed().as_secs_f64()
        );
    }
}

enum Publish {
    Yes(String),
    No(String),
}

/// Compares a newly trained point-in-time version with the active one on the same
/// out-of-time instants: those after the new version's training outcomes.
async fn publish_decision(
    ctx: &SessionContext,
    backtests: &mut Backtests,
    new: &leadql_models::predictive::PredictiveModel,
    active: &leadql_models::predictive::PredictiveModel,
) -> Result<Publish> {
    let Some(instant) = new.honest_instant() else {
        return Ok(Publish::Yes(format!(
            "v{} published (not a point-in-time model: no backtest gate)",
            new.version
        )));
    };
    // Both versions at the latest instant whose outcome is known: after the new
    // version's training outcomes, so an out-of-time check for it.
    let new_auc = backtests
        .at(ctx, new, instant, Stored::Current)
        .await?
        .and_then(|b| b.auc);
    let old_auc = if active.options.horizon_days.is_some() {
        backtests
            // Its stored backtest may be of other data (the fingerprint changed).
            .at(ctx, active, instant, Stored::Stale)
            .await
            .ok()
            .flatten()
            .and_then(|b| b.auc)
    } else {
        // A model of the old kind cannot be scored at past instants: nothing to keep.
        None
    };
    let tolerance = new.options.publish_tolerance;
    Ok(match (new_auc, old_auc) {
        (Some(n), Some(o)) if n + tolerance < o => Publish::No(format!(
            "v{} not published: its backtest AUC {n:.3} is below active v{}'s {o:.3} by more than publish_tolerance {tolerance}; v{} stays active",
            new.version, active.version, active.version
        )),
        (Some(n), Some(o)) => Publish::Yes(format!(
            "v{} published: backtest AUC {n:.3} against active v{}'s {o:.3} (publish_tolerance {tolerance})",
            new.version, active.version
        )),
        _ => Publish::Yes(format!(
            "v{} published (v{} could not be backtested on the same instants)",
            new.version, active.version
        )),
    })
}

/// Adds the active version's latest out-of-time backtest to `line`.
async fn with_backtest(
    ctx: &SessionContext,
    backtests: &mut Backtests,
    mut line: ModelLine,
    model: &leadql_models::predictive::PredictiveModel,
    stored: Stored,
) -> Result<ModelLine> {
    if let Some(instant) = model.honest_instant() {
        // The workspace's as_of may leave no instant with a known outcome yet.
        line.backtest = backtests
            .at(ctx, model, instant, stored)
            .await
            .ok()
            .flatten();
    }
    Ok(line)
}

/// Whether a version's stored backtest describes the workspace's current data: it does
/// for a version trained on it (in this run, or with the same data fingerprint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Current,
    Stale,
}

/// The backtests a run computed, by model version and instant: the publish gate and
/// the summary look at the same instant, and each backtest scores every open lead.
#[derive(Default)]
struct Backtests(HashMap<(String, u32, i64), Option<BacktestFigures>>);

impl Backtests {
    /// `backtest('NAME@VERSION', t, t, 1)`: the figures of all open leads and the top
    /// 5%, from the backtest stored with the version when it was taken at `instant` on
    /// the current data.
    async fn at(
        &mut self,
        ctx: &SessionContext,
        model: &leadql_models::predictive::PredictiveModel,
        instant: i64,
        stored: Stored,
    ) -> Result<Option<BacktestFigures>> {
        let (name, version) = (model.name.as_str(), model.version);
        let key = (name.to_string(), version, instant);
        if let Some(known) = self.0.get(&key) {
            return Ok(known.clone());
        }
        if let (Stored::Current, Some(all), Some(top)) = (
            stored,
            model.stored_backtest(instant, "all"),
            model.stored_backtest(instant, "top 5%"),
        ) {
            let figures = BacktestFigures {
                as_of: chrono::DateTime::from_timestamp_micros(instant)
                    .map(|d| d.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
                    .unwrap_or_default(),
                auc: all.auc,
                leads: all.leads,
                top5_predicted: top.mean_predicted,
                top5_actual: top.conversion_rate,
            };
            self.0.insert(key, Some(figures.clone()));
            return Ok(Some(figures));
        }
        let text = format!(
            "SELECT CAST(as_of AS VARCHAR) AS instant, auc, leads, mean_predicted, conversion_rate, segment \
             FROM backtest({}, {t}, {t}, 1) \
             WHERE segment IN ('all', 'top 5%') ORDER BY segment LIMIT 2",
            literal(&format!("{name}@{version}")),
            t = timestamp(instant)
        );
        let batches = collect(ctx, &text).await?;
        let figures = batches.iter().find(|b| b.num_rows() == 2).map(|b| {
            let f = |c: usize| {
                datafusion::arrow::compute::cast(b.column(c), &DataType::Float64)
                    .ok()
                    .map(|a| {
                        let a = a.as_primitive::<Float64Type>().clone();
                        (0..a.len())
                            .map(|i| (!a.is_null(i)).then(|| a.value(i)))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            };
            let (auc, leads, predicted, actual) = (f(1), f(2), f(3), f(4));
            BacktestFigures {
                as_of: strings(b, 0)[0].clone().unwrap_or_default(),
                auc: auc.first().copied().flatten(),
                leads: leads.first().copied().flatten().unwrap_or(0.0) as i64,
                top5_predicted: predicted.get(1).copied().flatten(),
                top5_actual: actual.get(1).copied().flatten(),
            }
        });
        self.0.insert(key, figures.clone());
        Ok(figures)
    }
}

/// FNV-1a over the recipe, the run's instant, the workspace's views and every table
/// file's name and size.
fn fingerprint(ws: &Workspace, recipe: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(recipe.as_bytes());
    eat(&ws.known_at.unwrap_or(0).to_le_bytes());
    for (name, _, text) in &ws.views {
        eat(name.as_bytes());
        eat(text.as_bytes());
    }
    for t in &ws.tables {
        if t.name == HISTORY || t.name == ACTIVITIES {
            continue;
        }
        for f in &t.files {
            eat(t.name.as_bytes());
            eat(f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .as_bytes());
            let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            eat(&size.to_le_bytes());
        }
    }
    format!("{h:016x}")
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

/// Creates an activity for every newly sales-ready lead and assigns it.
async fn handoff(ctx: &SessionContext, policy: &Policy, as_of: i64) -> Result<RecordBatch> {
    let t = timestamp(as_of);
    let handoff = &policy.handoff;
    // Leads sales-ready from this run on (not marked by an earlier run) and without an
    // activity from an earlier run, best first.
    let earlier = if has_table(ctx, ACTIVITIES) {
        format!(
            "AND q.lead_id NOT IN (SELECT e.lead_id FROM {ACTIVITIES} e WHERE e.created_at < {t})"
        )
    } else {
        String::new()
    };
    // The first matching rule and the lead's account columns.
    let mut case = String::from("CASE");
    for (i, r) in handoff.rules.iter().enumerate() {
        let when = checked(policy, r, "when", r.when.as_deref())?;
        let _ = write!(case, " WHEN coalesce({when}, false) THEN {i}");
    }
    case.push_str(" END");
    let rule_expr = if handoff.rules.is_empty() {
        "CAST(NULL AS BIGINT)".to_string()
    } else {
        case
    };
    let candidates_sql = format!(
        "WITH lv AS (SELECT l.*, a.territory AS account_territory, a.segment AS account_segment, \
           a.industry AS account_industry, a.employees AS account_employees, a.country AS account_country, \
           a.is_customer AS account_is_customer \
           FROM leads l LEFT JOIN accounts a ON a.account_id = l.account_id) \
         SELECT q.lead_id, {rule_expr} AS rule, lv.account_territory, lv.account_segment \
         FROM run_qualification q JOIN lv ON lv.lead_id = q.lead_id \
         WHERE q.sales_ready AND q.sales_ready_since = {t} {earlier} \
         ORDER BY q.predictive_score DESC NULLS LAST, q.rule_score DESC NULLS LAST, q.lead_id"
    );
    let batches = collect(ctx, &candidates_sql)
        .await
        .map_err(|e| Error::Query(format!("{}: handoff rules: {e}", policy.file)))?;
    let mut candidates = Vec::new();
    for b in &batches {
        let ids = int64s(b, 0)?;
        let rules = int64s(b, 1)?;
        let territory = strings(b, 2);
        let segment = strings(b, 3);
        for i in 0..b.num_rows() {
            let Some(lead_id) = ids[i] else { continue };
            let rule = rules[i].map(|r| r as usize);
            let key = rule
                .and_then(|r| handoff.rules.get(r))
                .map(|r| {
                    r.matching
                        .iter()
                        .map(|m| match m.as_str() {
                            "territory" => territory[i].clone().unwrap_or_default(),
                            _ => segment[i].clone().unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            candidates.push(Candidate { lead_id, rule, key });
        }
    }
    // Pools.
    let mut pools = Vec::new();
    for r in &handoff.rules {
        let predicate = checked(policy, r, "sellers", r.sellers.as_deref())?;
        let b = collect(
            ctx,
            &format!(
                "SELECT seller_id, territory, segment FROM sellers WHERE active AND coalesce({predicate}, false) ORDER BY seller_id"
            ),
        )
        .await
        .map_err(|e| Error::Query(format!("{}:{}: sellers of rule '{}': {e}", policy.file, r.line, r.name)))?;
        let mut sellers: BTreeMap<Vec<String>, Vec<i64>> = BTreeMap::new();
        for batch in &b {
            let ids = int64s(batch, 0)?;
            let territory = strings(batch, 1);
            let segment = strings(batch, 2);
            for i in 0..batch.num_rows() {
                let Some(id) = ids[i] else { continue };
                let key: Vec<String> = r
                    .matching
                    .iter()
                    .map(|m| match m.as_str() {
                        "territory" => territory[i].clone().unwrap_or_default(),
                        _ => segment[i].clone().unwrap_or_default(),
                    })
                    .collect();
                sellers.entry(key).or_default().push(id);
            }
        }
        pools.push(Pool {
            rule: r.name.clone(),
            distribution: r.distribution,
            sellers,
        });
    }
    // Loads: the hand-offs still in a seller's queue, i.e. open activities of earlier
    // runs created within the last QUEUE_DAYS. Leads a seller merely owns are not
    // counted: CRMs keep thousands of stale owned leads nobody works, and counting them
    // left every seller "at capacity" and most hand-offs unassigned.
    let open_activities = if has_table(ctx, ACTIVITIES) {
        format!(
            "LEFT JOIN (SELECT seller_id, count(*) AS n FROM {ACTIVITIES} WHERE status = 'open' AND created_at < {t} \
             AND created_at >= {since} GROUP BY seller_id) act ON act.seller_id = s.seller_id",
            since = timestamp(as_of - QUEUE_DAYS * 86_400_000_000)
        )
    } else {
        "LEFT JOIN (SELECT CAST(NULL AS BIGINT) AS seller_id, CAST(0 AS BIGINT) AS n WHERE false) act ON act.seller_id = s.seller_id".to_string()
    };
    let loads = collect(
        ctx,
        &format!(
            "SELECT s.seller_id, s.capacity, coalesce(act.n, 0) AS open_items FROM sellers s \
             {open_activities} ORDER BY s.seller_id"
        ),
    )
    .await?;
    let mut sellers = Vec::new();
    for b in &loads {
        let ids = int64s(b, 0)?;
        let caps = int64s(b, 1)?;
        let open = int64s(b, 2)?;
        for i in 0..b.num_rows() {
            if let (Some(seller_id), Some(capacity)) = (ids[i], caps[i]) {
                sellers.push(SellerLoad {
                    seller_id,
                    capacity,
                    open_items: open[i].unwrap_or(0),
                });
            }
        }
    }
    let assigned = assignment::assign(&candidates, &pools, &sellers);

    // Activity ids continue after the earlier runs' ones.
    let first_id = if has_table(ctx, ACTIVITIES) {
        let b = collect(
            ctx,
            &format!("SELECT max(activity_id) FROM {ACTIVITIES} WHERE created_at < {t}"),
        )
        .await?;
        b.first()
            .and_then(|b| int64s(b, 0).ok())
            .and_then(|v| v.first().copied().flatten())
            .unwrap_or(0)
            + 1
    } else {
        1
    };
    let n = assigned.len();
    let due = as_of + i64::from(handoff.due_days) * 86_400_000_000;
    let schema = Arc::new(activities_schema());
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            (0..n as i64).map(|i| first_id + i),
        )),
        Arc::new(Int64Array::from_iter_values(
            assigned.iter().map(|a| a.lead_id),
        )),
        Arc::new(StringArray::from(vec![handoff.activity.as_str(); n])),
        Arc::new(Int64Array::from(
            assigned.iter().map(|a| a.seller_id).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            assigned.iter().map(|a| a.rule.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(vec![policy.name.as_str(); n])),
        Arc::new(StringArray::from(
            assigned
                .iter()
                .map(|a| {
                    if a.seller_id.is_some() {
                        "open"
                    } else {
                        "unassigned"
                    }
                })
                .collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            assigned
                .iter()
                .map(|a| a.unassigned_reason.clone())
                .collect::<Vec<_>>(),
        )),
        Arc::new(TimestampMicrosecondArray::from(vec![as_of; n])),
        Arc::new(TimestampMicrosecondArray::from(vec![due; n])),
    ];
    RecordBatch::try_new(schema, columns)
        .map_err(|e| Error::Query(format!("sales activities: {e}")))
}

/// A hand-off rule's predicate as one expression (`(true)` when absent), or an error
/// naming the policy file, line and rule.
fn checked(
    policy: &Policy,
    rule: &leadql_models::policy::AssignmentRule,
    what: &str,
    text: Option<&str>,
) -> Result<String> {
    match text {
        None => Ok("(true)".into()),
        Some(t) => leadql_udfs::predicate::expression(t).map_err(|e| {
            Error::Query(format!(
                "{}:{}: {what} of hand-off rule '{}': {e}",
                policy.file, rule.line, rule.name
            ))
        }),
    }
}

/// Columns of `sales_activities`.
pub fn activities_schema() -> Schema {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
    Schema::new(vec![
        Field::new("activity_id", DataType::Int64, false),
        Field::new("lead_id", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("seller_id", DataType::Int64, true),
        Field::new("rule", DataType::Utf8, true),
        Field::new("policy", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("unassigned_reason", DataType::Utf8, true),
        Field::new("created_at", ts.clone(), false),
        Field::new("due_at", ts, false),
    ])
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

async fn summary(
    ctx: &SessionContext,
    report: &mut String,
    policy: &Policy,
    t: &str,
    model: Option<&ModelLine>,
    activities: &RecordBatch,
    top: usize,
) -> Result<()> {
    let _ = writeln!(
        report,
        "leadql run — policy '{}' as of {}",
        policy.name,
        t.trim_start_matches("TIMESTAMP '").trim_end_matches('\'')
    );
    if let Some(m) = model {
        let _ = writeln!(
            report,
            "Predictive model: {} v{} ({}), held-out AUC {}{}",
            m.name,
            m.version,
            m.kind,
            m.auc.map_or("n/a".into(), |a| format!("{a:.3}")),
            if m.trained {
                ", trained now"
            } else {
                ", unchanged data: reused"
            }
        );
        if let Some(h) = m.horizon_days {
            let _ = writeln!(
                report,
                "  predictive_score = probability (%) that an open lead is qualified within {h} days"
            );
        }
        if let Some(b) = &m.backtest {
            let pct = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{:.1}%", 100.0 * v));
            let _ = writeln!(
                report,
                "  backtest at {} ({} open leads): AUC {}; top 5% predicted {}, actual {}",
                b.as_of,
                b.leads,
                b.auc.map_or("n/a".into(), |a| format!("{a:.3}")),
                pct(b.top5_predicted),
                pct(b.top5_actual)
            );
        }
        if let Some(p) = &m.publish {
            let _ = writeln!(report, "  {p}");
        }
    }
    let counts = collect(
        ctx,
        "SELECT count(*), count(*) FILTER (WHERE sales_ready), \
           count(*) FILTER (WHERE sales_ready AND sales_ready_since = as_of) FROM run_qualification",
    )
    .await?;
    if let Some(b) = counts.first() {
        let v = |c| int64s(b, c).ok().and_then(|v| v.first().copied().flatten());
        let _ = writeln!(
            report,
            "Open leads qualified: {}; sales-ready: {} ({} newly)",
            v(0).unwrap_or(0),
            v(1).unwrap_or(0),
            v(2).unwrap_or(0)
        );
    }
    for (label, column) in [
        ("rule grade", "rule_grade"),
        ("predictive grade", "predictive_grade"),
    ] {
        let b = collect(
            ctx,
            &format!(
                "SELECT coalesce({column}, '(none)'), count(*) FROM run_qualification GROUP BY 1 ORDER BY 1"
            ),
        )
        .await?;
        let mut parts = Vec::new();
        for batch in &b {
            let names = strings(batch, 0);
            let n = int64s(batch, 1)?;
            for i in 0..batch.num_rows() {
                parts.push(format!(
                    "{} {}",
                    names[i].clone().unwrap_or_default(),
                    n[i].unwrap_or(0)
                ));
            }
        }
        if !parts.is_empty() {
            let _ = writeln!(report, "Leads per {label}: {}", parts.join(", "));
        }
    }
    let assigned = activities.column(3).len() - activities.column(3).null_count();
    let sellers: HashSet<i64> = activities
        .column(3)
        .as_primitive::<Int64Type>()
        .iter()
        .flatten()
        .collect();
    let _ = writeln!(
        report,
        "Activities ({}): {} created, {assigned} assigned to {} sellers, {} unassigned",
        policy.handoff.activity,
        activities.num_rows(),
        sellers.len(),
        activities.num_rows() - assigned
    );
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let column = strings(activities, 7);
    for (i, seller) in activities
        .column(3)
        .as_primitive::<Int64Type>()
        .iter()
        .enumerate()
    {
        if seller.is_none() {
            let reason = column[i]
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            *reasons.entry(reason).or_default() += 1;
        }
    }
    if !reasons.is_empty() {
        let parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let _ = writeln!(report, "  unassigned by reason: {}", parts.join("; "));
    }
    let b = collect(
        ctx,
        &format!(
            "SELECT lead_id, round(predictive_score, 1), round(rule_score, 1), reasons FROM run_qualification \
             WHERE sales_ready ORDER BY predictive_score DESC NULLS LAST, rule_score DESC NULLS LAST, lead_id LIMIT {top}"
        ),
    )
    .await?;
    let _ = writeln!(report, "Top sales-ready leads:");
    for batch in &b {
        let ids = int64s(batch, 0)?;
        let p = batch.column(1).as_primitive_opt::<Float64Type>().cloned();
        let r = batch.column(2).as_primitive_opt::<Float64Type>().cloned();
        let reasons = strings(batch, 3);
        for i in 0..batch.num_rows() {
            let show = |a: &Option<datafusion::arrow::array::Float64Array>| {
                a.as_ref()
                    .filter(|a| !a.is_null(i))
                    .map_or("-".to_string(), |a| format!("{:.1}", a.value(i)))
            };
            let _ = writeln!(
                report,
                "  lead {:>8}  predictive {:>5}  rule {:>6}  {}",
                ids[i].unwrap_or(0),
                show(&p),
                show(&r),
                reasons[i].clone().unwrap_or_default()
            );
        }
    }
    Ok(())
}
