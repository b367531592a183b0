//! `leadql generate --data DIR --leads N`: writes a realistic synthetic workspace,
//! deterministic for a seed, into a new or empty directory (or replaces one with
//! `--force`) ([`crate::generate`]).

use chrono::NaiveDate;

use super::{Cli, refuse_as_of};
use crate::catalog::new_or_empty;
use crate::error::{Error, Result};
use crate::generate::{self, GenerateOptions};

/// Arguments of `leadql generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Number of leads.
    #[arg(long)]
    leads: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Last day of the simulated period (YYYY-MM-DD); the workspace's "now".
    #[arg(long, value_name = "DATE")]
    end: Option<NaiveDate>,
    /// Length of the simulated period in days.
    #[arg(long, default_value_t = 730)]
    days: u32,
    /// Average interactions per lead.
    #[arg(long, default_value_t = 10.0)]
    interactions_per_lead: f64,
    /// Leads per Parquet part file.
    #[arg(long, default_value_t = 250_000)]
    leads_per_part: u64,
    /// Share of leads planted as duplicates of earlier leads (typos, case and
    /// format variants), listed in the planted_duplicates table.
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    duplicates: f64,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Replace the data of a directory that is not empty (without it, generate
    /// refuses one: it would replace an existing workspace's tables).
    #[arg(long)]
    force: bool,
}

/// Runs `leadql generate`.
pub async fn execute(cli: &Cli, args: &GenerateArgs) -> Result<()> {
    refuse_as_of(cli, "generate")?;
    let dir = cli.data.clone().ok_or_else(|| Error::Argument {
        arg: "--data".into(),
        reason: "generate needs --data DIR: the workspace to write".into(),
    })?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let _lock = crate::lock::write_lock(&dir)?;
    if !args.force && !new_or_empty(&dir)? {
        return Err(Error::Workspace {
            dir,
            reason: "is not empty, and generate would replace its data: choose a new \
                     or empty --data directory, or pass --force to replace it"
                .into(),
        });
    }
    let mut opts = GenerateOptions::new(dir, args.leads, args.seed);
    opts.end = args.end.unwrap_or_else(generate::default_end);
    opts.days = args.days;
    opts.interactions_per_lead = args.interactions_per_lead;
    opts.leads_per_part = args.leads_per_part;
    opts.duplicates = args.duplicates;
    opts.progress = !args.quiet;
    let dir = opts.dir.clone();
    let s = tokio::task::spawn_blocking(move || generate::generate(&opts))
        .await
        .map_err(|e| Error::Query(format!("generator failed: {e}")))??;
    eprintln!(
        "generated {} leads, {} interactions, {} status events, {} contacts, {} opportunities, {} accounts, {} sellers in {} ({:.1} s)",
        s.counts.leads,
        s.counts.interactions,
        s.counts.events,
        s.counts.contacts,
        s.counts.opportunities,
        s.accounts,
        s.sellers,
        dir.display(),
        s.seconds
    );
    Ok(())
}
