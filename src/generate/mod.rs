//! `leadql generate`: a realistic synthetic lead workspace, deterministic and streamed.
//!
//! ```text
//! leadql generate --data /tmp/ws --leads 100000 --seed 7
//! ```
//!
//! Leads are simulated in chunks on a worker thread ([`lead::simulate`]) while the
//! calling thread turns them into Arrow batches ([`tables::Assembler`]) and encodes
//! Parquet. Memory is bounded by the chunk size and the row-group size, not by the
//! number of leads: accounts and sellers are derived from their ids ([`firms`]) rather
//! than held in memory. Same seed and options ⇒ byte-identical files.
//!
//! The whole workspace is written into a staging folder beside it and swapped into
//! place in one step ([`replace`]), so a reader never sees a half-written table and an
//! interrupted run leaves the previous workspace untouched.

mod firms;
mod lead;
mod names;
mod replace;
mod rng;
mod tables;
pub mod vocab;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use chrono::NaiveDate;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::atomic;
use crate::error::{Error, Result};
use crate::schema::{self, Table};

pub use tables::Counts;

/// One day in microseconds.
pub const DAY_US: i64 = 86_400_000_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Workspace directory (created if missing).
    pub dir: PathBuf,
    /// Number of leads.
    pub leads: u64,
    /// Random seed.
    pub seed: u64,
    /// End of the simulated period: the workspace's "now" (midnight UTC).
    pub end: NaiveDate,
    /// Length of the simulated period, in days.
    pub days: u32,
    /// Average number of interactions per lead (the mix and spread depend on intent).
    pub interactions_per_lead: f64,
    /// Leads per Parquet part file (each table is split at the same lead boundaries).
    pub leads_per_part: u64,
    /// Share of leads planted as duplicates of earlier leads (0 = none), recorded in
    /// the `planted_duplicates` table.
    pub duplicates: f64,
    /// Show a progress bar on a terminal.
    pub progress: bool,
}

impl GenerateOptions {
    /// Options with the documented defaults for `leads` leads and `seed` into `dir`.
    pub fn new(dir: impl Into<PathBuf>, leads: u64, seed: u64) -> Self {
        GenerateOptions {
            dir: dir.into(),
            leads,
            seed,
            end: default_end(),
            days: 730,
            interactions_per_lead: 10.0,
            leads_per_part: 250_000,
            duplicates: 0.0,
            progress: true,
        }
    }
}

/// The default end of the simulated period: 2026-06-30, fixed so that a seed always
/// gives the same data whatever the day it runs.
pub fn default_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default()
}

/// Measured `(intensity, mean interactions per lead)` of the simulation (20,000 leads,
/// seed 3): interactions grow sub-linearly with intensity because windows and journeys
/// end. Used to turn the requested mean into an intensity.
const CALIBRATION: [(f64, f64); 7] = [
    (0.0, 0.0),
    (5.0, 6.64),
    (10.0, 9.86),
    (20.0, 15.56),
    (50.0, 29.23),
    (100.0, 49.52),
    (200.0, 88.66),
];

/// The simulation intensity that gives about `mean` interactions per lead (piecewise
/// linear between calibration points, extrapolated past the last one).
pub fn intensity_for_mean(mean: f64) -> f64 {
    let last = CALIBRATION.len() - 1;
    let k = CALIBRATION
        .iter()
        .position(|&(_, m)| m >= mean)
        .unwrap_or(last)
        .max(1);
    let ((x0, m0), (x1, m1)) = (CALIBRATION[k - 1], CALIBRATION[k]);
    x0 + (mean - m0) * (x1 - x0) / (m1 - m0)
}

/// Derived parameters shared by every lead simulation.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Seed.
    pub seed: u64,
    /// Number of leads.
    pub leads: u64,
    /// Start of the period (µs since the epoch).
    pub start_us: i64,
    /// End of the period (µs since the epoch).
    pub end_us: i64,
    /// Number of accounts.
    pub accounts: i64,
    /// Groups of 60 sellers.
    pub seller_groups: i64,
    /// Simulation intensity ([`intensity_for_mean`] of the requested mean).
    pub interactions_per_lead: f64,
    /// Share of leads planted as duplicates of earlier ones.
    pub duplicates: f64,
}

/// What a run produced.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Rows per table.
    pub counts: Counts,
    /// Accounts written.
    pub accounts: u64,
    /// Sellers written.
    pub sellers: u64,
    /// Wall time in seconds.
    pub seconds: f64,
}

const CHUNK: u64 = 2048;

fn writer_properties(table: &Table) -> WriterProperties {
    let rows = if table.name == schema::INTERACTIONS.name {
        1 << 20
    } else {
        1 << 18
    };
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
        .set_max_row_group_row_count(Some(rows))
        .set_created_by(format!("leadql {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Writes one table as numbered part files inside a staging folder.
struct PartWriter {
    table: &'static Table,
    dir: PathBuf,
    part: usize,
    writer: Option<ArrowWriter<File>>,
    props: WriterProperties,
}

impl PartWriter {
    fn new(table: &'static Table, staging: &Path) -> Result<Self> {
        let dir = staging.join(table.name);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(PartWriter {
            table,
            dir,
            part: 0,
            writer: None,
            props: writer_properties(table),
        })
    }

    fn path(&self) -> PathBuf {
        self.dir.join(format!("part-{:05}.parquet", self.part))
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.writer.is_none() {
            let path = self.path();
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            let w = ArrowWriter::try_new(file, self.table.schema(), Some(self.props.clone()))
                .map_err(|e| Error::Write {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            self.writer = Some(w);
        }
        if batch.num_rows() > 0
            && let Some(w) = self.writer.as_mut()
        {
            w.write(batch).map_err(|e| Error::Write {
                path: self.dir.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Closes the current part (an empty part is still written, so that a zero-row
    /// table keeps its schema).
    fn finish_part(&mut self) -> Result<()> {
        if self.writer.is_none() {
            self.write(&RecordBatch::new_empty(self.table.schema()))?;
        }
        if let Some(w) = self.writer.take() {
            let path = self.path();
            let file = w.into_inner().map_err(|e| Error::Write {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            file.sync_all().map_err(|e| Error::io(&path, e))?;
            self.part += 1;
        }
        Ok(())
    }
}

/// Closes the current part of every per-lead table (they split at the same leads).
fn finish_parts(writers: [&mut PartWriter; 5]) -> Result<()> {
    for w in writers {
        w.finish_part()?;
    }
    Ok(())
}

/// Runs the generator. Returns what was written.
pub fn generate(opts: &GenerateOptions) -> Result<Summary> {
    let started = Instant::now();
    if opts.leads_per_part == 0 {
        return Err(Error::Argument {
            arg: "--leads-per-part".into(),
            reason: "must be at least 1".into(),
        });
    }
    if !(opts.interactions_per_lead.is_finite()
        && opts.interactions_per_lead >= 0.0
        && opts.interactions_per_lead <= 1000.0)
    {
        return Err(Error::Argument {
            arg: "--interactions-per-lead".into(),
            reason: format!("{} is not between 0 and 1000", opts.interactions_per_lead),
        });
    }
    if !(0.0..=0.5).contains(&opts.duplicates) {
        return Err(Error::Argument {
            arg: "--duplicates".into(),
            reason: format!("{} is not a share between 0 and 0.5", opts.duplicates),
        });
    }
    if opts.days == 0 {
        return Err(Error::Argument {
            arg: "--days".into(),
            reason: "must be at least 1".into(),
        });
    }
    let end_us = opts
        .end
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .ok_or_else(|| Error::Argument {
            arg: "--end".into(),
            reason: "not a valid date".into(),
        })?;
    let plan = Plan {
        seed: opts.seed,
        leads: opts.leads,
        start_us: end_us - i64::from(opts.days) * DAY_US,
        end_us,
        accounts: (opts.leads / 3).max(1) as i64,
        seller_groups: firms::seller_groups(opts.leads),
        interactions_per_lead: intensity_for_mean(opts.interactions_per_lead),
        duplicates: opts.duplicates,
    };

    fs::create_dir_all(&opts.dir).map_err(|e| Error::io(&opts.dir, e))?;
    let dir = fs::canonicalize(&opts.dir).map_err(|e| Error::io(&opts.dir, e))?;
    replace::remove_stale_staging(&dir);
    let staging = replace::staging_for(&dir)?;
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    }
    fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    // Everything is written beside the workspace, then swapped in at once: a failure or
    // a kill before the swap leaves the old workspace as it was.
    let staged = write_all(&plan, opts, &staging).and_then(|summary| {
        replace::carry_over(&dir, &staging)?;
        write_workspace_file(opts, &plan, &staging)?;
        write_default_models(&staging)?;
        crate::commit::file_operation("generated workspace staged");
        replace::exchange(&staging, &dir)?;
        crate::commit::file_operation("generated workspace swapped in");
        Ok(summary)
    });
    // After the swap, the staging folder holds the old workspace.
    let _ = fs::remove_dir_all(&staging);
    let summary = staged?;
    crate::commit::file_operation("replaced workspace removed");
    Ok(Summary {
        seconds: started.elapsed().as_secs_f64(),
        ..summary
    })
}

fn progress_bar(opts: &GenerateOptions) -> ProgressBar {
    if !opts.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(opts.leads), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{bar:30}] {human_pos}/{human_len} leads ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn write_all(plan: &Plan, opts: &GenerateOptions, staging: &Path) -> Result<Summary> {
    let mut leads = PartWriter::new(&schema::LEADS, staging)?;
    let mut interactions = PartWriter::new(&schema::INTERACTIONS, staging)?;
    let mut contacts = PartWriter::new(&schema::CONTACTS, staging)?;
    let mut opportunities = PartWriter::new(&schema::OPPORTUNITIES, staging)?;
    let mut events = PartWriter::new(&schema::LEAD_STATUS_EVENTS, staging)?;
    let bar = progress_bar(opts);

    let mut assembler = tables::Assembler::default();
    let mut written_leads = 0u64;
    let mut planted: Vec<(i64, i64, &'static str)> = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        // The worker simulates; this thread assembles and encodes. A bounded channel
        // keeps at most a few chunks in flight.
        let (tx, rx) = mpsc::sync_channel::<Vec<lead::LeadLife>>(3);
        let worker_plan = plan.clone();
        let per_part = opts.leads_per_part;
        scope.spawn(move || {
            let mut first = 1u64;
            while first <= worker_plan.leads {
                // Chunks never straddle a part boundary.
                let boundary = ((first - 1) / per_part + 1) * per_part;
                let last = (first + CHUNK - 1).min(boundary).min(worker_plan.leads);
                let lives = (first..=last)
                    .map(|id| lead::simulate(&worker_plan, id as i64))
                    .collect();
                if tx.send(lives).is_err() {
                    return;
                }
                first = last + 1;
            }
        });
        for lives in rx {
            let n = lives.len() as u64;
            planted.extend(
                lives
                    .iter()
                    .filter_map(|l| l.duplicate_of.map(|(of, how)| (l.id, of, how))),
            );
            let b = assembler.assemble(&lives).map_err(|e| Error::Write {
                path: staging.to_path_buf(),
                reason: e.to_string(),
            })?;
            leads.write(&b.leads)?;
            interactions.write(&b.interactions)?;
            contacts.write(&b.contacts)?;
            opportunities.write(&b.opportunities)?;
            events.write(&b.events)?;
            written_leads += n;
            if written_leads.is_multiple_of(opts.leads_per_part) && written_leads < plan.leads {
                finish_parts([
                    &mut leads,
                    &mut interactions,
                    &mut contacts,
                    &mut opportunities,
                    &mut events,
                ])?;
            }
            bar.inc(n);
        }
        Ok(())
    })?;
    finish_parts([
        &mut leads,
        &mut interactions,
        &mut contacts,
        &mut opportunities,
        &mut events,
    ])?;
    bar.finish_and_clear();

    if plan.duplicates > 0.0 {
        let mut writer = PartWriter::new(&schema::PLANTED_DUPLICATES, staging)?;
        let batch = tables::planted_batch(&planted).map_err(|e| Error::Write {
            path: staging.to_path_buf(),
            reason: e.to_string(),
        })?;
        writer.write(&batch)?;
        writer.finish_part()?;
    }

    let mut accounts = PartWriter::new(&schema::ACCOUNTS, staging)?;
    let mut first = 1i64;
    while first <= plan.accounts {
        let last = (first + 8191).min(plan.accounts);
        let chunk: Vec<_> = (first..=last)
            .map(|id| firms::account(plan.seed, id, plan.start_us))
            .collect();
        let batch = tables::accounts_batch(&chunk).map_err(|e| Error::Write {
            path: staging.to_path_buf(),
            reason: e.to_string(),
        })?;
        accounts.write(&batch)?;
        first = last + 1;
    }
    accounts.finish_part()?;

    let seller_count = plan.seller_groups * 60;
    let mut sellers = PartWriter::new(&schema::SELLERS, staging)?;
    let all: Vec<_> = (1..=seller_count)
        .map(|id| firms::seller(plan.seed, id, plan.start_us))
        .collect();
    let batch = tables::sellers_batch(&all).map_err(|e| Error::Write {
        path: staging.to_path_buf(),
        reason: e.to_string(),
    })?;
    sellers.write(&batch)?;
    sellers.finish_part()?;

    let mut counts = assembler.counts();
    counts.leads = written_leads;
    Ok(Summary {
        counts,
        accounts: plan.accounts as u64,
        sellers: seller_count as u64,
        seconds: 0.0,
    })
}

/// The files every generated workspace starts with: rule models, the `default`
/// qualification policy, the `lead_features` view and the `conversion` model's recipe.
pub const DEFAULT_FILES: &[(&str, &str)] = &[
    (
        "scoring/engagement.toml",
        include_str!("templates/engagement.toml"),
    ),
    ("scoring/fit.toml", include_str!("templates/fit.toml")),
    (
        "policies/default.toml",
        include_str!("templates/default_policy.toml"),
    ),
    (
        "views/lead_features.sql",
        include_str!("templates/lead_features.sql"),
    ),
    (
        "models/conversion.sql",
        include_str!("templates/conversion.sql"),
    ),
];

/// Writes the default files that the workspace does not have yet (an analyst's edits
/// are never overwritten).
fn write_default_models(dir: &Path) -> Result<()> {
    for (name, text) in DEFAULT_FILES {
        let path = dir.join(name);
        if !path.exists() {
            atomic::write(&path, text.as_bytes())?;
        }
    }
    Ok(())
}

fn write_workspace_file(opts: &GenerateOptions, plan: &Plan, dir: &Path) -> Result<()> {
    let text = format!(
        "# leadql workspace, written by `leadql generate`.\n\
         # The generator's parameters, so that the data can be made again.\n\
         [generated]\n\
         leads = {}\n\
         seed = {}\n\
         end = \"{}\"\n\
         days = {}\n\
         interactions_per_lead = {}\n\
         {}\
         \n\
         [workspace]\n\
         # Default `as_of` instant for scoring: the end of the simulated period.\n\
         as_of = \"{} 00:00:00\"\n",
        plan.leads,
        plan.seed,
        opts.end,
        opts.days,
        opts.interactions_per_lead,
        if opts.duplicates > 0.0 {
            format!("duplicates = {}\n", opts.duplicates)
        } else {
            String::new()
        },
        opts.end
    );
    atomic::write(dir.join("workspace.toml"), text.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_sample_ships_the_default_files() {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
        for (path, text) in DEFAULT_FILES {
            let got = std::fs::read_to_string(sample.join(path)).expect("sample file");
            assert_eq!(
                &got, text,
                "data/sample/{path} differs from the generator's template"
            );
        }
    }

    use super::*;

    #[test]
    fn intensity_inverts_the_calibration() {
        assert!((intensity_for_mean(9.86) - 10.0).abs() < 1e-9);
        assert!((intensity_for_mean(29.23) - 50.0).abs() < 1e-9);
        assert!(intensity_for_mean(50.0) > 100.0 && intensity_for_mean(50.0) < 102.0);
        assert!(
            intensity_for_mean(150.0) > 200.0,
            "extrapolates past the table"
        );
        assert_eq!(intensity_for_mean(0.0), 0.0);
    }
}
