//! `leadql run`: the main job. Trains or refreshes the policy's predictive model,
//! scores, qualifies, creates and assigns sales activities, exports the tables and
//! prints a summary, all as the workspace was known at `--as-of` (default: the
//! workspace's as_of).

use std::path::PathBuf;

use super::{Cli, as_of, data_dir, existing_workspace_lock};
use crate::catalog::Workspace;
use crate::error::Result;
use crate::run;

/// Arguments of `leadql run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Qualification policy (policies/NAME.toml).
    #[arg(long, default_value = "default")]
    policy: String,
    /// Directory for the exported tables.
    #[arg(long, default_value = "out", value_name = "DIR")]
    out: PathBuf,
    /// Retrain the predictive model even when its recipe and data are unchanged.
    #[arg(long)]
    retrain: bool,
    /// Sales-ready leads listed in the summary.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Also write the run's HTML report (report.html) beside the tables in --out.
    #[arg(long)]
    report: bool,
}

/// Runs `leadql run`.
pub async fn execute(cli: &Cli, args: &RunArgs) -> Result<()> {
    crate::object_stores::refuse_url("--out", &args.out)?;
    if cli.cluster.is_some() && args.report {
        return Err(crate::error::Error::Argument {
            arg: "--report".into(),
            reason: "not with --cluster: run on the cluster, then `leadql report` alone".into(),
        });
    }
    let as_of = as_of(cli);
    let _lock = existing_workspace_lock(&data_dir(cli))?;
    // The run sees the workspace as it was known at its instant.
    let ws = Workspace::open(&data_dir(cli))?;
    let ws = match as_of.or(ws.rule_models.default_as_of()) {
        Some(t) => ws.known_at(t)?,
        None => ws,
    };
    let ctx = super::open_session(cli, &ws).await?;
    let opts = run::RunOptions {
        policy: args.policy.clone(),
        as_of,
        out: args.out.clone(),
        retrain: args.retrain,
        top: args.top,
        report: args.report,
    };
    let summary = run::run(&ws, &ctx, &opts).await?;
    print!("{}", summary.text());
    Ok(())
}
