//! `leadql report`: one self-contained HTML page about a policy's latest recorded run
//! and the models behind it, for analysts who would rather look at a ROC curve than
//! read `lift_decile_7 = 0.4508`.
//!
//! The page describes the run `leadql run` recorded ([`recorded_run`]: leads per
//! grade, the sales-ready funnel, the best sales-ready leads and their reasons), and
//! for each model ([`model_figures`]) its evaluation, drawn by [`charts`] into inline
//! SVG and laid out by [`page`]. Figures are computed as the workspace was known at
//! the run's instant, so a report of a past run shows what that run could see. The
//! file is written atomically.

pub mod charts;
pub mod model_figures;
pub mod page;
pub mod recorded_run;
mod values;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use leadql_models::policy::Policy;
use leadql_models::predictive::PredictiveModel;

use crate::atomic::AtomicFile;
use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::session::{self, SessionOptions};
use recorded_run::RecordedRun;

/// Sales-ready leads listed in a report.
pub const TOP_LEADS: usize = 20;

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The qualification policy whose latest recorded run is described.
    pub policy: String,
    /// Models to cover (rule or predictive, `name` or `name@N`); empty: the policy's
    /// predictive model (the version its run used) and its rule models.
    pub models: Vec<String>,
    /// Describe the latest run at or before this instant (µs); `None`: the latest.
    pub as_of: Option<i64>,
    /// The HTML file to write.
    pub out: PathBuf,
}

fn unknown_model(ws: &Workspace, name: &str, why: String) -> Error {
    Error::Argument {
        arg: "--model".into(),
        reason: format!(
            "'{name}' is neither a rule model ({}) nor a trained predictive model ({why})",
            ws.rule_models.names().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The report's file name beside a run's tables (`leadql run --report`).
pub const FILE_NAME: &str = "report.html";

/// Writes the report of `opts` for the workspace in `dir`; returns the path written.
pub async fn write(dir: &Path, session: &SessionOptions, opts: &ReportOptions) -> Result<PathBuf> {
    let ws = Workspace::open(dir)?;
    let policy = ws
        .policies
        .get("report", &opts.policy)
        .map_err(|e| Error::Argument {
            arg: "--policy".into(),
            reason: e.message().replace("report: ", ""),
        })?;
    let run = recorded_run::latest(dir, &policy.name, opts.as_of)?;
    // The models and the data as the run saw them.
    let ws = ws.known_at(run.as_of)?;
    let models = Models::of(&ws, &policy, &run, &opts.models)?;
    // Refuse an unwritable destination before the work.
    let file = create(&opts.out)?;
    let ctx = session::open(&ws, session).await?;
    render_to(&ws, &ctx, &policy, &run, &models, file).await?;
    Ok(opts.out.clone())
}

/// Writes the report of the run of `policy` that `leadql run` just recorded at
/// `as_of` to `out`, in the run's workspace and session (both as known at `as_of`).
pub async fn write_for_run(
    ws: &Workspace,
    ctx: &SessionContext,
    policy: &Policy,
    as_of: i64,
    out: &Path,
) -> Result<()> {
    let run = recorded_run::latest(&ws.dir, &policy.name, Some(as_of))?;
    let models = Models::of(ws, policy, &run, &[])?;
    let file = create(out)?;
    render_to(ws, ctx, policy, &run, &models, file).await
}

fn create(out: &Path) -> Result<AtomicFile> {
    if out.is_dir() {
        return Err(Error::Argument {
            arg: "--out".into(),
            reason: format!(
                "{} is a directory; name the HTML file to write",
                out.display()
            ),
        });
    }
    AtomicFile::create(out).map_err(|e| Error::Argument {
        arg: "--out".into(),
        reason: format!("cannot write the report: {e}"),
    })
}

/// The models a report covers.
struct Models {
    predictive: Vec<(String, Arc<PredictiveModel>)>,
    rules: Vec<String>,
}

impl Models {
    /// `names` (checked), or by default the predictive model version the run used and
    /// the policy's rule models.
    fn of(ws: &Workspace, policy: &Policy, run: &RecordedRun, names: &[String]) -> Result<Self> {
        let (mut predictive, mut rules) = (Vec::new(), Vec::new());
        if names.is_empty() {
            let spec = run.predictive_model().or(policy.predictive_model.clone());
            if let Some(spec) = spec
                && let Ok(model) = ws.predictive_models.get("report", &spec)
            {
                predictive.push((spec, model));
            }
            rules.extend(policy.rule_models.iter().cloned());
        }
        for name in names {
            if ws.rule_models.names().any(|n| n == name) {
                ws.rule_models
                    .get("report", name)
                    .map_err(|e| unknown_model(ws, name, e.message().replace("report: ", "")))?;
                rules.push(name.clone());
            } else {
                let model = ws
                    .predictive_models
                    .get("report", name)
                    .map_err(|e| unknown_model(ws, name, e.message().replace("report: ", "")))?;
                predictive.push((name.clone(), model));
            }
        }
        Ok(Models { predictive, rules })
    }
}

async fn render_to(
    ws: &Workspace,
    ctx: &SessionContext,
    policy: &Policy,
    run: &RecordedRun,
    models: &Models,
    mut file: AtomicFile,
) -> Result<()> {
    let rule_order: Vec<String> = policy
        .rule_models
        .first()
        .and_then(|m| ws.rule_models.get("report", m).ok())
        .map(|m| m.grades.iter().rev().map(|g| g.name.clone()).collect())
        .unwrap_or_default();
    let figures = recorded_run::figures(ctx, run, &rule_order, TOP_LEADS).await?;
    let mut predictive = Vec::new();
    for (spec, model) in &models.predictive {
        predictive.push(model_figures::predictive(ctx, spec, model).await?);
    }
    let mut rules = Vec::new();
    for name in &models.rules {
        let leads = recorded_run::qualification(ctx, run).await?;
        rules.push(model_figures::rule(ctx, name, run.as_of, leads).await?);
    }
    let html = page::render(&page::Contents {
        policy: policy.name.clone(),
        run: run.clone(),
        figures,
        predictive,
        rules,
    })?;
    let target = file.target().to_path_buf();
    file.write_all(html.as_bytes())
        .map_err(|e| Error::io(&target, e))?;
    file.commit().map_err(|e| Error::Argument {
        arg: "--out".into(),
        reason: format!("cannot write the report: {e}"),
    })
}
