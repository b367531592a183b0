//! `leadql report`: a self-contained HTML page about a policy's latest recorded run
//! (leads per grade, the sales-ready funnel, the best sales-ready leads) and its
//! models (ROC, lift, calibration, features, backtest AUC over time; rule models'
//! evaluations and point totals).

use std::path::PathBuf;

use super::{Cli, as_of, data_dir, session_options, write_lock_if_inside};
use crate::error::Result;
use crate::report::{self, ReportOptions};

/// Arguments of `leadql report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Qualification policy whose latest recorded run (`leadql run`) is described.
    #[arg(long, default_value = "default")]
    policy: String,
    /// A model to cover (rule model, or predictive model as NAME or NAME@VERSION);
    /// repeatable. Default: the policy's predictive model, as its run used it, and its
    /// rule models.
    #[arg(long = "model", value_name = "NAME")]
    models: Vec<String>,
    /// The HTML file to write (atomically).
    #[arg(long, default_value = "report.html", value_name = "PATH")]
    out: PathBuf,
}

/// Runs `leadql report`: with `--as-of`, the latest run at or before that instant.
pub async fn execute(cli: &Cli, args: &ReportArgs) -> Result<()> {
    crate::object_stores::refuse_url("--out", &args.out)?;
    let dir = data_dir(cli);
    let _lock = write_lock_if_inside(&dir, &args.out)?;
    let opts = ReportOptions {
        policy: args.policy.clone(),
        models: args.models.clone(),
        as_of: as_of(cli),
        out: args.out.clone(),
    };
    let path = report::write(&dir, &session_options(cli), &opts).await?;
    println!("Written: {}", path.display());
    Ok(())
}
