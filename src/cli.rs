//! The command line: arguments as typed, validated into options, and dispatched.
//!
//! Exit codes: 0 success, 1 an error (printed once on stderr as `error: …`), 2 invalid
//! usage (reported by the argument parser).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::generate::{self, GenerateOptions};
use crate::output::{self, Destination, Format};
use crate::session::{self, SessionOptions};
use crate::{export, import, lifecycle, run, schema, shell, sql};

/// leadql: open, SQL-native lead scoring and qualification.
#[derive(Debug, Parser)]
#[command(name = "leadql", version, about, long_about = None)]
pub struct Cli {
    /// Workspace directory (default: $LEADQL_DATA, else the bundled sample data/sample).
    #[arg(long, global = true, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Memory for query operators before they spill to disk, e.g. 512M or 4G
    /// (default: half of the machine's memory).
    #[arg(long, global = true, value_name = "SIZE")]
    pub memory_limit: Option<String>,
    /// Directory for spill files (default: the system's temporary directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
    /// See the workspace as it was known strictly before this instant,
    /// 'YYYY-MM-DD HH:MM:SS' (sql, shell, export, run; default for run: the
    /// workspace's as_of): later rows do not exist, statuses are as they stood, and
    /// scoring, training and backtests default to this instant.
    #[arg(long, global = true, value_name = "INSTANT")]
    pub as_of: Option<String>,
    /// A command that writes to the workspace fails at once when another leadql
    /// command is writing to it, instead of waiting for it to finish.
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL over the workspace and print or write the result.
    Sql {
        /// SQL text (one or more statements separated by ';').
        query: Option<String>,
        /// Read SQL from a file (repeatable; files run in order, after QUERY).
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Output format: table, csv, json, ndjson, parquet or arrow (Arrow IPC stream).
        #[arg(long, default_value = "table")]
        format: String,
        /// Write the result to this file (atomically) instead of stdout.
        #[arg(long, short = 'o', value_name = "PATH")]
        output: Option<PathBuf>,
        /// Rows shown by the table format (0 = all).
        #[arg(long, default_value_t = 1000)]
        max_rows: usize,
        /// Print each statement's wall time (planning, execution and output) on stderr.
        #[arg(long)]
        timing: bool,
        /// CSV: write text cells as they are. By default a cell starting with =, +, -,
        /// @, a tab or a carriage return (not a plain signed number) gets a leading
        /// single quote, so spreadsheets do not run it as a formula (OWASP).
        #[arg(long)]
        raw: bool,
    },
    /// The main job: train or refresh the policy's predictive model, score, qualify,
    /// create and assign sales activities, export the tables and print a summary.
    Run {
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
    },
    /// Export a table, view or query to a file, atomically (Parquet files carry the
    /// query, as_of and model versions in their metadata).
    Export {
        /// A table or view name, or a query.
        source: String,
        /// Target file (a directory with --partition-by).
        #[arg(long, short = 'o', value_name = "PATH")]
        out: PathBuf,
        /// parquet, csv, json, ndjson or arrow (default: from the extension, else parquet).
        #[arg(long)]
        format: Option<String>,
        /// Write Hive-style partitions by these columns (repeatable or comma-separated).
        #[arg(long, value_delimiter = ',', value_name = "COLUMN")]
        partition_by: Vec<String>,
        /// CSV: write text cells as they are. By default a cell starting with =, +, -,
        /// @, a tab or a carriage return (not a plain signed number) gets a leading
        /// single quote, so spreadsheets do not run it as a formula (OWASP).
        #[arg(long)]
        raw: bool,
    },
    /// Lead lifecycle: qualify, disqualify or reopen leads (appended to
    /// lead_status_events).
    Lead {
        /// The change.
        #[command(subcommand)]
        action: LeadAction,
    },
    /// Capture leads from files: a CSV with a column mapping, or a LinkedIn Lead Gen
    /// Forms export. Rows imported before are skipped; refused rows go to a rejects CSV.
    Import {
        /// The kind of file.
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Interactive SQL shell.
    Shell,
    /// Predictive model versions: pin or roll back the active one.
    Model {
        /// The change.
        #[command(subcommand)]
        action: ModelAction,
    },
    /// Generate a realistic synthetic workspace (deterministic for a seed).
    Generate {
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
    },
    /// Print the workspace schema reference (the body of data/README.md) as Markdown.
    Schema,
}

/// Kinds of import.
#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A CSV file. Columns map to lead fields by --mapping FILE, --map FIELD=COLUMN,
    /// and otherwise by header names (Email, First Name, Company, …).
    Csv {
        /// The file.
        file: PathBuf,
        /// Mapping file (TOML; see data/README.md).
        #[arg(long, value_name = "MAP")]
        mapping: Option<PathBuf>,
        /// Map a lead field to a file column (repeatable; overrides the mapping file).
        #[arg(long = "map", value_name = "FIELD=COLUMN")]
        map: Vec<String>,
        /// Options of every import.
        #[command(flatten)]
        common: ImportArgs,
    },
    /// A LinkedIn Lead Gen Forms CSV export (First Name, Last Name, Email Address,
    /// Company Name, Job Title, Country, Phone Number, Lead ID, Form Name, Campaign
    /// Name, Submitted At); each submission is also recorded as a form_submit
    /// interaction.
    Linkedin {
        /// The file.
        file: PathBuf,
        /// Options of every import.
        #[command(flatten)]
        common: ImportArgs,
    },
}

/// Options of every import.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Set a lead field to a constant where the file has no value (repeatable), e.g.
    /// --set source=event --set consent=marketing.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Field delimiter (default: detected among , ; tab |).
    #[arg(long)]
    delimiter: Option<String>,
    /// An encoding label: utf-8, utf-16le, utf-16be, windows-1252, latin1, iso-8859-15, …
    /// (default: detected).
    #[arg(long)]
    encoding: Option<String>,
    /// chrono format of dates that are not ISO 8601, e.g. "%d/%m/%Y %H:%M".
    #[arg(long, value_name = "FORMAT")]
    date_format: Option<String>,
    /// Instant of the import, 'YYYY-MM-DD HH:MM:SS' (default: now, UTC).
    #[arg(long, value_name = "INSTANT")]
    at: Option<String>,
    /// Rejects file (default: _rejects/ in the workspace).
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
    /// Refuse the whole import when more rows than this are rejected.
    #[arg(long, value_name = "N")]
    max_rejects: Option<u64>,
    /// Read, check and report; write nothing to the workspace.
    #[arg(long)]
    dry_run: bool,
}

fn pairs(arg: &str, items: &[String]) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| Error::Argument {
                    arg: arg.into(),
                    reason: format!("'{item}' is not FIELD=VALUE"),
                })
        })
        .collect()
}

/// Opens the workspace an import writes to, creating an empty one in a new or empty
/// directory.
fn import_workspace(dir: &std::path::Path) -> Result<Workspace> {
    if new_or_empty(dir)? {
        let leads = dir.join(schema::LEADS.name);
        std::fs::create_dir_all(&leads).map_err(|e| Error::io(&leads, e))?;
    }
    Workspace::open(dir)
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
        version: String,
    },
}

/// Which leads a lifecycle change applies to, when and by whom.
#[derive(Debug, clap::Args)]
pub struct LeadTargets {
    /// Lead ids.
    ids: Vec<i64>,
    /// A query whose lead_id column adds leads (bulk changes).
    #[arg(long, value_name = "SQL")]
    query: Option<String>,
    /// Instant of the change, 'YYYY-MM-DD HH:MM:SS' (default: now, UTC).
    #[arg(long, value_name = "INSTANT")]
    at: Option<String>,
    /// Seller making the change (sellers.seller_id).
    #[arg(long, value_name = "SELLER_ID")]
    actor: Option<i64>,
}

/// Lifecycle changes.
#[derive(Debug, Subcommand)]
pub enum LeadAction {
    /// Open → qualified.
    Qualify {
        /// Records to create: account (for leads without one), contact, opportunity.
        #[arg(long, value_delimiter = ',', value_name = "LIST")]
        create: Vec<String>,
        /// The leads.
        #[command(flatten)]
        targets: LeadTargets,
    },
    /// Open → disqualified.
    Disqualify {
        /// lost, cannot_contact, no_longer_interested or canceled.
        #[arg(long)]
        reason: String,
        /// The leads.
        #[command(flatten)]
        targets: LeadTargets,
    },
    /// Disqualified → open.
    Reopen {
        /// The leads.
        #[command(flatten)]
        targets: LeadTargets,
    },
}

/// Whether `dir` does not exist or is an empty directory (where `generate` may write
/// without `--force`, and where an import creates a new workspace).
fn new_or_empty(dir: &std::path::Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        // The lock file of the writer checking (generate locks first) does not count.
        Ok(mut entries) => Ok(!entries.any(|e| {
            e.map_or(true, |e| {
                e.file_name().to_string_lossy() != crate::lock::LOCK_FILE
            })
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(Error::io(dir, e)),
    }
}

fn instant(arg: &str, text: &str) -> Result<i64> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc().timestamp_micros())
        .map_err(|e| Error::Argument {
            arg: arg.into(),
            reason: format!("'{text}' is not 'YYYY-MM-DD HH:MM:SS' ({e})"),
        })
}

/// The global `--as-of` instant (µs since the epoch).
fn as_of(cli: &Cli) -> Result<Option<i64>> {
    cli.as_of
        .as_deref()
        .map(|t| instant("--as-of", t))
        .transpose()
}

/// The write lock of the workspace `dir` when it exists (otherwise opening it reports
/// the error).
fn existing_workspace_lock(dir: &std::path::Path) -> Result<Option<crate::lock::WriteLock>> {
    if dir.join(schema::LEADS.name).is_dir() {
        crate::lock::write_lock(dir).map(Some)
    } else {
        Ok(None)
    }
}

/// The write lock of the workspace `dir` when `path` is inside it.
fn write_lock_if_inside(
    dir: &std::path::Path,
    path: &std::path::Path,
) -> Result<Option<crate::lock::WriteLock>> {
    if dir.join(schema::LEADS.name).is_dir() && crate::lock::is_inside(path, dir) {
        crate::lock::write_lock(dir).map(Some)
    } else {
        Ok(None)
    }
}

/// The workspace for reading commands, as known at `--as-of` when given.
fn reading_workspace(cli: &Cli) -> Result<Workspace> {
    let ws = Workspace::open(&data_dir(cli))?;
    match as_of(cli)? {
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

fn session_options(cli: &Cli) -> Result<SessionOptions> {
    Ok(SessionOptions {
        memory_limit: cli
            .memory_limit
            .as_deref()
            .map(session::parse_size)
            .transpose()?,
        spill_dir: cli.spill_dir.clone(),
        target_partitions: None,
    })
}

/// Runs the parsed command line. A Parquet decoding error that names no file gets
/// the damaged workspace file named ([`crate::damaged`]).
pub async fn run(cli: Cli) -> Result<()> {
    let dir = data_dir(&cli);
    run_command(cli)
        .await
        .map_err(|e| crate::damaged::name_damaged_file(e, &dir))
}

async fn run_command(cli: Cli) -> Result<()> {
    crate::lock::set_no_wait(cli.no_wait);
    match &cli.command {
        Command::Schema => {
            print!("{}", schema::markdown());
            Ok(())
        }
        Command::Generate {
            leads,
            seed,
            end,
            days,
            interactions_per_lead,
            leads_per_part,
            duplicates,
            quiet,
            force,
        } => {
            refuse_as_of(&cli, "generate")?;
            let dir = cli.data.clone().ok_or_else(|| Error::Argument {
                arg: "--data".into(),
                reason: "generate needs --data DIR: the workspace to write".into(),
            })?;
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            let _lock = crate::lock::write_lock(&dir)?;
            if !force && !new_or_empty(&dir)? {
                return Err(Error::Workspace {
                    dir,
                    reason: "is not empty, and generate would replace its data: choose a new \
                             or empty --data directory, or pass --force to replace it"
                        .into(),
                });
            }
            let mut opts = GenerateOptions::new(dir, *leads, *seed);
            opts.end = end.unwrap_or_else(generate::default_end);
            opts.days = *days;
            opts.interactions_per_lead = *interactions_per_lead;
            opts.leads_per_part = *leads_per_part;
            opts.duplicates = *duplicates;
            opts.progress = !quiet;
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
        Command::Sql {
            query,
            files,
            format,
            output,
            max_rows,
            timing,
            raw,
        } => {
            let format = format.parse::<Format>()?.raw(*raw);
            let mut texts: Vec<(String, String)> = Vec::new();
            if let Some(q) = query {
                texts.push(("QUERY".into(), q.clone()));
            }
            for f in files {
                let text = std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?;
                texts.push((f.display().to_string(), text));
            }
            if texts.is_empty() {
                return Err(Error::Argument {
                    arg: "QUERY".into(),
                    reason: "give a query or -f FILE".into(),
                });
            }
            let _lock = match output {
                Some(p) => write_lock_if_inside(&data_dir(&cli), p)?,
                None => None,
            };
            let ws = reading_workspace(&cli)?;
            let ctx = session::open(&ws, &session_options(&cli)?).await?;
            let destination = match output {
                Some(p) => Destination::File(p.clone()),
                None => Destination::Stdout,
            };
            let mut statements = Vec::new();
            for (origin, text) in &texts {
                let parsed = sql::parse(text).map_err(|e| with_origin(e, origin, texts.len()))?;
                statements.extend(parsed.into_iter().map(|s| (origin.clone(), s)));
            }
            let total = statements.len();
            for (i, (origin, statement)) in statements.into_iter().enumerate() {
                let started = std::time::Instant::now();
                let last = i + 1 == total;
                let label = |e: Error| {
                    if total > 1 {
                        Error::Query(format!("{origin}, statement {}: {e}", i + 1))
                    } else {
                        e
                    }
                };
                if format == Format::Table || last {
                    let stream = sql::stream(&ctx, statement).await.map_err(label)?;
                    output::write(stream, format, &destination, *max_rows).await?;
                } else {
                    // Machine formats carry one result: earlier statements (views,
                    // settings) run, the last statement's result is written.
                    sql::plan(&ctx, statement)
                        .await
                        .map_err(label)?
                        .collect()
                        .await
                        .map_err(|e| label(e.into()))?;
                }
                if *timing {
                    eprintln!("time: {:.3} s", started.elapsed().as_secs_f64());
                }
            }
            Ok(())
        }
        Command::Run {
            policy,
            out,
            retrain,
            top,
        } => {
            let as_of = as_of(&cli)?;
            let _lock = existing_workspace_lock(&data_dir(&cli))?;
            // The run sees the workspace as it was known at its instant.
            let ws = Workspace::open(&data_dir(&cli))?;
            let ws = match as_of.or(ws.rule_models.default_as_of()) {
                Some(t) => ws.known_at(t)?,
                None => ws,
            };
            let ctx = session::open(&ws, &session_options(&cli)?).await?;
            let opts = run::RunOptions {
                policy: policy.clone(),
                as_of,
                out: out.clone(),
                retrain: *retrain,
                top: *top,
            };
            run::run(&ws, &ctx, &opts).await
        }
        Command::Export {
            source,
            out,
            format,
            partition_by,
            raw,
        } => {
            let format: Format = match format {
                Some(f) => f.parse()?,
                None => match out.extension().and_then(|e| e.to_str()) {
                    Some("csv") => Format::Csv,
                    Some("json") => Format::Json,
                    Some("ndjson" | "jsonl") => Format::Ndjson,
                    Some("arrow" | "arrows") => Format::Arrow,
                    _ => Format::Parquet,
                },
            };
            let _lock = write_lock_if_inside(&data_dir(&cli), out)?;
            let ws = reading_workspace(&cli)?;
            let ctx = session::open(&ws, &session_options(&cli)?).await?;
            let opts = export::ExportOptions {
                source: source.clone(),
                out: out.clone(),
                format: format.raw(*raw),
                partition_by: partition_by.clone(),
            };
            let rows = export::export(&ws, &ctx, &opts).await?;
            eprintln!("exported {rows} rows to {} ({format})", out.display());
            Ok(())
        }
        Command::Lead { action } => {
            refuse_as_of(&cli, "lead")?;
            let (change, targets) = match action {
                LeadAction::Qualify { create, targets } => {
                    for c in create {
                        if !["account", "contact", "opportunity"].contains(&c.as_str()) {
                            return Err(Error::Argument {
                                arg: "--create".into(),
                                reason: format!("'{c}' (expected account, contact, opportunity)"),
                            });
                        }
                    }
                    let has = |x: &str| create.iter().any(|c| c == x);
                    (
                        lifecycle::Change::Qualify {
                            account: has("account"),
                            contact: has("contact"),
                            opportunity: has("opportunity"),
                        },
                        targets,
                    )
                }
                LeadAction::Disqualify { reason, targets } => {
                    if !lifecycle::REASONS.contains(&reason.as_str()) {
                        return Err(Error::Argument {
                            arg: "--reason".into(),
                            reason: format!(
                                "'{reason}' (expected {})",
                                lifecycle::REASONS.join(", ")
                            ),
                        });
                    }
                    (
                        lifecycle::Change::Disqualify {
                            reason: reason.clone(),
                        },
                        targets,
                    )
                }
                LeadAction::Reopen { targets } => (lifecycle::Change::Reopen, targets),
            };
            let at = match &targets.at {
                Some(t) => instant("--at", t)?,
                None => chrono::Utc::now().timestamp() * 1_000_000,
            };
            let _lock = existing_workspace_lock(&data_dir(&cli))?;
            let ws = Workspace::open(&data_dir(&cli))?;
            let ctx = session::open(&ws, &session_options(&cli)?).await?;
            let opts = lifecycle::LifecycleOptions {
                ids: targets.ids.clone(),
                query: targets.query.clone(),
                change,
                at,
                actor: targets.actor,
            };
            let r = lifecycle::apply(&ws, &ctx, &opts).await?;
            eprintln!(
                "recorded {} status change(s); created {} account(s), {} contact(s), {} opportunity(ies)",
                r.leads, r.accounts, r.contacts, r.opportunities
            );
            Ok(())
        }
        Command::Import { source } => {
            refuse_as_of(&cli, "import")?;
            let (kind, file, mut mapping, label, map, common) = match source {
                ImportSource::Csv {
                    file,
                    mapping,
                    map,
                    common,
                } => match mapping {
                    Some(path) => (
                        import::Kind::Csv,
                        file,
                        import::mapping::read(path)?,
                        path.display().to_string(),
                        map,
                        common,
                    ),
                    None => (
                        import::Kind::Csv,
                        file,
                        import::mapping::Mapping::default(),
                        "automatic".to_string(),
                        map,
                        common,
                    ),
                },
                ImportSource::Linkedin { file, common } => (
                    import::Kind::Linkedin,
                    file,
                    import::mapping::linkedin(),
                    "linkedin".to_string(),
                    &Vec::new(),
                    common,
                ),
            };
            for (field, column) in pairs("--map", map)? {
                mapping.columns.insert(field, column);
            }
            for (field, value) in pairs("--set", &common.set)? {
                mapping.set.insert(field, value);
            }
            if let Some(f) = &common.date_format {
                mapping.date_format = Some(f.clone());
            }
            let delimiter = common
                .delimiter
                .as_deref()
                .map(import::parse_delimiter)
                .transpose()
                .map_err(|reason| Error::Argument {
                    arg: "--delimiter".into(),
                    reason,
                })?;
            let encoding = common
                .encoding
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|reason| Error::Argument {
                    arg: "--encoding".into(),
                    reason,
                })?;
            let at = match &common.at {
                Some(t) => instant("--at", t)?,
                None => chrono::Utc::now().timestamp() * 1_000_000,
            };
            let _lock = if common.dry_run {
                None
            } else {
                let dir = data_dir(&cli);
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                Some(crate::lock::write_lock(&dir)?)
            };
            let ws = import_workspace(&data_dir(&cli))?;
            let ctx = session::open(&ws, &session_options(&cli)?).await?;
            let opts = import::ImportOptions {
                kind,
                file: file.clone(),
                mapping,
                mapping_label: label,
                delimiter,
                encoding,
                at,
                rejects: common.rejects.clone(),
                dry_run: common.dry_run,
                max_rejects: common.max_rejects,
            };
            let r = import::import(&ws, &ctx, &opts).await?;
            eprintln!(
                "{}{}: {} rows ({}, delimiter {:?}): {} imported, {} already imported, {} rejected; \
                 accounts: {} matched, {} created; contacts: {} matched, {} created; {} interactions",
                if common.dry_run {
                    "dry run, nothing written: "
                } else {
                    ""
                },
                file.display(),
                r.rows,
                r.encoding,
                r.delimiter,
                r.imported,
                r.skipped,
                r.rejected,
                r.accounts_matched,
                r.accounts_created,
                r.contacts_matched,
                r.contacts_created,
                r.interactions
            );
            if !r.ignored.is_empty() {
                eprintln!("columns not imported: {}", r.ignored.join(", "));
            }
            if r.warned > 0 {
                eprintln!(
                    "{} rows imported with an invalid optional field stored as NULL (warning rows in the rejects file)",
                    r.warned
                );
            }
            if let Some(p) = &r.rejects_file {
                eprintln!(
                    "rejected rows, with line, column and reason: {}",
                    p.display()
                );
            }
            Ok(())
        }
        Command::Model {
            action: ModelAction::Activate { name, version },
        } => {
            refuse_as_of(&cli, "model activate")?;
            let _lock = existing_workspace_lock(&data_dir(&cli))?;
            let ws = Workspace::open(&data_dir(&cli))?;
            let store = ws.predictive_models.store();
            let pin = match version.as_str() {
                "latest" => None,
                v => Some(v.parse::<u32>().map_err(|_| Error::Argument {
                    arg: "VERSION".into(),
                    reason: format!("'{v}' is not a version number or 'latest'"),
                })?),
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
        Command::Shell => {
            let ws = reading_workspace(&cli)?;
            let ctx = session::open(&ws, &session_options(&cli)?).await?;
            shell::run(&ctx, &ws).await
        }
    }
}

fn with_origin(e: Error, origin: &str, sources: usize) -> Error {
    if sources > 1 || origin != "QUERY" {
        match e {
            Error::SqlSyntax(m) => Error::SqlSyntax(format!("{origin}: {m}")),
            other => other,
        }
    } else {
        e
    }
}
