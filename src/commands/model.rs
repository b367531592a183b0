//! `leadql model activate NAME VERSION`: pins the active version of a predictive
//! model (what `predict`, `qualify_leads` and `leadql run` score with), or unpins it
//! with `latest` so the newest version is active.

use clap::Subcommand;

use super::{Cli, data_dir, existing_workspace_lock, refuse_as_of};
use crate::catalog::Workspace;
use crate::error::{Error, Result};

/// Arguments of `leadql model`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// The change.
    #[command(subcommand)]
    action: ModelAction,
}

/// Changes to predictive model versions.
#[derive(Debug, Subcommand)]
pub enum ModelAction {
    /// Make VERSION the active version of NAME (what `predict('NAME', …)`,
    /// `qualify_leads` and `leadql run` score with); `latest` unpins, so the newest
    /// version is active. A later `leadql run` that publishes a retrained version
    /// replaces the pin.
    Activate {
        /// Model name.
        name: String,
        /// A version number, or `latest`.
        #[arg(value_parser = version)]
        version: Version,
    },
}

/// The version `model activate` makes active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// No pin: the newest version is active.
    Latest,
    /// This version number, pinned.
    Number(u32),
}

/// Parses `latest` or a version number.
fn version(text: &str) -> Result<Version, String> {
    match text {
        "latest" => Ok(Version::Latest),
        v => v
            .parse()
            .map(Version::Number)
            .map_err(|_| "expected a version number or 'latest'".to_string()),
    }
}

/// Runs `leadql model`.
pub fn execute(cli: &Cli, args: &ModelArgs) -> Result<()> {
    let ModelAction::Activate { name, version } = &args.action;
    refuse_as_of(cli, "model activate")?;
    let _lock = existing_workspace_lock(&data_dir(cli))?;
    let ws = Workspace::open(&data_dir(cli))?;
    let store = ws.predictive_models.store();
    let pin = match version {
        Version::Latest => None,
        Version::Number(n) => Some(*n),
    };
    store
        .activate(name, pin)
        .map_err(|e| Error::Query(e.to_string()))?;
    let active = store
        .active(name)
        .map_err(|e| Error::Query(e.to_string()))?;
    println!(
        "model '{name}': version {} is active{}",
        active.version,
        if pin.is_some() {
            " (pinned)"
        } else {
            " (the latest)"
        }
    );
    Ok(())
}
