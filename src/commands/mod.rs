//! The command line: the global options, one module per command (its arguments and
//! its handler), and what the commands share: the workspace directory, its write lock,
//! the session options and `--as-of`.
//!
//! Arguments are parsed into typed values by clap (enumerations, instants, sizes,
//! `FIELD=VALUE` pairs), so a malformed value is a usage error naming the argument
//! before anything runs.
//!
//! Exit codes: 0 success, 1 an error (printed once on stderr as `error: …`), 2 invalid
//! usage (reported by the argument parser, or by a command for a value that is wrong
//! whatever the data).

pub mod cluster;
pub mod export;
pub mod generate;
pub mod import;
pub mod lead;
pub mod model;
pub mod report;
pub mod run;
pub mod schema;
pub mod serve;
pub mod shell;
pub mod sql;
pub mod user;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::lock::WriteLock;
use crate::session::{self, SessionOptions};

/// leadql: open, SQL-native lead scoring and qualification.
#[derive(Debug, Parser)]
#[command(name = "leadql", version, about, long_about = None)]
pub struct Cli {
    /// Workspace directory (default: $LEADQL_DATA, else the bundled sample data/sample).
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Memory for query operators before they spill to disk, e.g. 512M or 4G
    /// (default: half of the machine's memory).
    #[arg(long, global = true, value_name = "SIZE", value_parser = session::parse_size)]
    pub memory_limit: Option<usize>,
    /// Directory for spill files (default: the system's temporary directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
    /// See the workspace as it was known strictly before this instant,
    /// 'YYYY-MM-DD HH:MM:SS' (sql, shell, export, run; default for run: the
    /// workspace's as_of): later rows do not exist, statuses are as they stood, and
    /// scoring, training and backtests default to this instant. For report: the
    /// latest run recorded at or before it.
    #[arg(long, global = true, value_name = "INSTANT", value_parser = instant)]
    pub as_of: Option<DateTime<Utc>>,
    /// A command that writes to the workspace fails at once when another leadql
    /// command is writing to it, instead of waiting for it to finish.
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// Execute queries on a Ballista cluster (sql, run, export): df://HOST:PORT (a
    /// scheduler started with `leadql scheduler`), or standalone / standalone:N for a
    /// cluster of N executors inside this process. Every machine must see the
    /// workspace at the same path.
    #[arg(long, global = true, value_name = "TARGET")]
    pub cluster: Option<crate::cluster::Target>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL over the workspace and print or write the result.
    Sql(sql::SqlArgs),
    /// Run a cluster scheduler with leadql's functions (for `--cluster df://…`).
    Scheduler(cluster::SchedulerArgs),
    /// Run a cluster executor with leadql's functions, attached to a scheduler.
    Executor(cluster::ExecutorArgs),
    /// The main job: train or refresh the policy's predictive model, score, qualify,
    /// create and assign sales activities, export the tables and print a summary.
    Run(run::RunArgs),
    /// Write a self-contained HTML report of a policy's latest recorded run and its
    /// models: grades, the sales-ready funnel, top leads, ROC, lift, calibration,
    /// backtest AUC over time, rule evaluations.
    Report(report::ReportArgs),
    /// Export a table, view or query to a file, atomically (Parquet files carry the
    /// query, as_of and model versions in their metadata).
    Export(export::ExportArgs),
    /// Lead lifecycle: qualify, disqualify or reopen leads (appended to
    /// lead_status_events); merge one person's leads into one, or unmerge them.
    Lead(lead::LeadArgs),
    /// Capture leads from files: a CSV with a column mapping, or a LinkedIn Lead Gen
    /// Forms export. Rows imported before are skipped; refused rows go to a rejects CSV.
    Import(import::ImportArgs),
    /// Interactive SQL shell.
    Shell,
    /// Predictive model versions: pin or roll back the active one.
    Model(model::ModelArgs),
    /// Generate a realistic synthetic workspace (deterministic for a seed).
    Generate(generate::GenerateArgs),
    /// Print the workspace schema reference (the body of data/README.md) as Markdown.
    Schema,
    /// Serve the workspace over the PostgreSQL wire protocol (psql, DBeaver, Metabase,
    /// JDBC, psycopg), with SCRAM authentication, roles and optional TLS.
    Serve(serve::ServeArgs),
    /// Users of `leadql serve`: add (password from a prompt or stdin), remove, list.
    User(user::UserArgs),
}

/// Runs the parsed command line. A Parquet decoding error that names no file gets
/// the damaged workspace file named ([`crate::damaged`]).
pub async fn run(cli: Cli) -> Result<()> {
    let dir = data_dir(&cli);
    run_command(&cli)
        .await
        .map_err(|e| crate::damaged::name_damaged_file(e, &dir))
}

async fn run_command(cli: &Cli) -> Result<()> {
    crate::lock::set_no_wait(cli.no_wait);
    // A workspace is a directory leadql writes to atomically: never an object store.
    crate::object_stores::refuse_url("--data", &data_dir(cli))?;
    if cli.cluster.is_some()
        && !matches!(
            cli.command,
            Command::Sql(_) | Command::Run(_) | Command::Export(_)
        )
    {
        return Err(Error::Argument {
            arg: "--cluster".into(),
            reason: "applies to sql, run and export".into(),
        });
    }
    match &cli.command {
        Command::Scheduler(args) => cluster::scheduler(args).await,
        Command::Executor(args) => cluster::executor(args, cli.memory_limit).await,
        Command::Sql(args) => sql::execute(cli, args).await,
        Command::Run(args) => run::execute(cli, args).await,
        Command::Report(args) => report::execute(cli, args).await,
        Command::Export(args) => export::execute(cli, args).await,
        Command::Lead(args) => lead::execute(cli, args).await,
        Command::Import(args) => import::execute(cli, args).await,
        Command::Shell => shell::execute(cli).await,
        Command::Model(args) => model::execute(cli, args),
        Command::Generate(args) => generate::execute(cli, args).await,
        Command::Schema => schema::execute(),
        Command::Serve(args) => serve::execute(cli, args).await,
        Command::User(args) => user::execute(args),
    }
}

/// The workspace directory to use.
fn data_dir(cli: &Cli) -> PathBuf {
    if let Some(d) = &cli.data {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("LEADQL_DATA") {
        return PathBuf::from(d);
    }
    let local = PathBuf::from("data/sample");
    if local.join("leads").is_dir() {
        return local;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample")
}

/// The session options of the global arguments.
fn session_options(cli: &Cli) -> SessionOptions {
    SessionOptions {
        memory_limit: cli.memory_limit,
        spill_dir: cli.spill_dir.clone(),
        target_partitions: None,
        no_url_tables: false,
        memory_pool: None,
    }
}

/// The global `--as-of` instant (µs since the epoch).
/// A session over `ws` with the command's options, on the `--cluster` if one is given.
async fn open_session(cli: &Cli, ws: &Workspace) -> Result<datafusion::prelude::SessionContext> {
    let mut opts = session_options(cli);
    if let Some(crate::cluster::Target::Remote { .. }) = &cli.cluster {
        // Each stage gets this many tasks, whatever the client's cores.
        opts.target_partitions = Some(crate::cluster::REMOTE_PARTITIONS);
    }
    let ctx = session::open(ws, &opts).await?;
    match &cli.cluster {
        Some(target) => crate::cluster::connect(&ctx, target, &ws.dir).await,
        None => Ok(ctx),
    }
}

fn as_of(cli: &Cli) -> Option<i64> {
    cli.as_of.map(|t| t.timestamp_micros())
}

/// The workspace for reading commands, as known at `--as-of` when given.
fn reading_workspace(cli: &Cli) -> Result<Workspace> {
    let ws = Workspace::open(&data_dir(cli))?;
    match as_of(cli) {
        Some(t) => ws.known_at(t),
        None => Ok(ws),
    }
}

/// Commands that change the workspace do not travel in time.
fn refuse_as_of(cli: &Cli, command: &str) -> Result<()> {
    if cli.as_of.is_some() {
        return Err(Error::Argument {
            arg: "--as-of".into(),
            reason: format!(
                "applies to sql, shell, export and run, not to {command} (which changes the workspace now)"
            ),
        });
    }
    Ok(())
}

/// The write lock of the workspace `dir` when it exists (otherwise opening it reports
/// the error).
fn existing_workspace_lock(dir: &Path) -> Result<Option<WriteLock>> {
    if dir.join(crate::schema::LEADS.name).is_dir() {
        crate::lock::write_lock(dir).map(Some)
    } else {
        Ok(None)
    }
}

/// The write lock of the workspace `dir` when `path` is inside it.
fn write_lock_if_inside(dir: &Path, path: &Path) -> Result<Option<WriteLock>> {
    if dir.join(crate::schema::LEADS.name).is_dir() && crate::lock::is_inside(path, dir) {
        crate::lock::write_lock(dir).map(Some)
    } else {
        Ok(None)
    }
}

/// Parses an instant, 'YYYY-MM-DD HH:MM:SS' in UTC (`--as-of`, `--at`).
fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc())
        .map_err(|e| format!("expected 'YYYY-MM-DD HH:MM:SS' ({e})"))
}

/// The instant of a change (`--at`, µs since the epoch): the one given, else now
/// (whole seconds).
fn at_or_now(at: Option<DateTime<Utc>>) -> i64 {
    match at {
        Some(t) => t.timestamp_micros(),
        None => Utc::now().timestamp() * 1_000_000,
    }
}

/// Parses `FIELD=VALUE` (`--map`, `--set`); both sides trimmed, the field not empty.
fn pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| "expected a field name, '=' and a value".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_utc_seconds() {
        assert_eq!(
            instant("2026-07-01 09:30:00").map(|t| t.timestamp_micros()),
            Ok(1_782_898_200_000_000)
        );
        let e = instant("2026-07-01").expect_err("no time");
        assert_eq!(e, "expected 'YYYY-MM-DD HH:MM:SS' (premature end of input)");
        assert_eq!(at_or_now(instant("1970-01-01 00:00:01").ok()), 1_000_000);
    }

    #[test]
    fn pairs_need_a_field_and_an_equals_sign() {
        assert_eq!(
            pair(" source = event "),
            Ok(("source".into(), "event".into()))
        );
        assert_eq!(pair("note=a=b"), Ok(("note".into(), "a=b".into())));
        assert_eq!(pair("consent="), Ok(("consent".into(), String::new())));
        assert!(pair("source").is_err());
        assert!(pair("=event").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
