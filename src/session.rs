//! Building the DataFusion session: memory limit with spilling, a spill directory,
//! leadql's SQL functions and the workspace's tables.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::memory_pool::{FairSpillPool, MemoryLimit, MemoryPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::catalog::Workspace;
use crate::error::{Error, Result};

/// How to build a session.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Memory for query operators (sorts, joins, aggregations), in bytes; past it they
    /// spill to disk. `None`: half of the machine's memory.
    pub memory_limit: Option<usize>,
    /// Where spill files go (default: the system's temporary directory).
    pub spill_dir: Option<PathBuf>,
    /// Parallelism (default: the number of cores).
    pub target_partitions: Option<usize>,
    /// No file paths as tables (`SELECT * FROM 'x.parquet'`): for `leadql serve`'s
    /// remote sessions, which must not read the server's files.
    pub no_url_tables: bool,
    /// The pool operators reserve memory from, instead of one of `memory_limit` bytes
    /// (`leadql serve`: a connection's pool inside the server's).
    pub memory_pool: Option<Arc<dyn MemoryPool>>,
}

/// Parses a memory size such as `512M`, `4G`, `1.5GiB` or `1000000` (bytes); the error
/// says why the text is not one (shown after the value by `--memory-limit`).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| "not a size (examples: 512M, 4G)".to_string())?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0_f64.powi(4),
        other => {
            return Err(format!("unknown unit '{other}' (use K, M, G or T)"));
        }
    };
    let bytes = value * factor;
    if !(bytes.is_finite() && bytes >= 1024.0 * 1024.0) {
        return Err("below 1M".to_string());
    }
    Ok(bytes as usize)
}

/// Half the memory this process may use: the machine's (`/proc/meminfo`), or its
/// control group's limit when lower ([`cgroup_memory_limit`]), as in a container or
/// a systemd service with `MemoryMax=`. None where the machine's cannot be read.
pub fn default_memory_limit() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    let machine = kib * 1024;
    Some(cgroup_memory_limit().map_or(machine, |g| g.min(machine)) / 2)
}

/// The lowest memory limit of this process's control group and its parents (cgroup
/// v2: `memory.max` from the group `/proc/self/cgroup` names up to the root; v1:
/// `memory.limit_in_bytes`), if any is set.
fn cgroup_memory_limit() -> Option<usize> {
    let read = |p: &std::path::Path| -> Option<usize> {
        std::fs::read_to_string(p)
            .ok()?
            .trim()
            .parse::<usize>()
            .ok()
    };
    let mut limits = Vec::new();
    let groups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    for line in groups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next(), parts.next());
        let Some(path) = path else { continue };
        let (root, file) = match controllers {
            Some("") => ("/sys/fs/cgroup", "memory.max"),
            Some(c) if c.split(',').any(|c| c == "memory") => {
                ("/sys/fs/cgroup/memory", "memory.limit_in_bytes")
            }
            _ => continue,
        };
        let mut dir = std::path::PathBuf::from(root).join(path.trim_start_matches('/'));
        loop {
            limits.extend(read(&dir.join(file)));
            if dir.as_os_str().len() <= root.len() || !dir.pop() {
                break;
            }
        }
    }
    limits.into_iter().min()
}

/// A session with leadql's functions registered and no tables.
pub fn context(opts: &SessionOptions) -> Result<SessionContext> {
    let mut config = SessionConfig::new().with_information_schema(true);
    if let Some(n) = opts.target_partitions {
        config = config.with_target_partitions(n.max(1));
    }
    // Files and tables on the local filesystem and on S3-compatible stores.
    let mut runtime = RuntimeEnvBuilder::new()
        .with_object_store_registry(crate::object_stores::ObjectStores::new());
    let pool: Option<(Arc<dyn MemoryPool>, usize)> = match &opts.memory_pool {
        // The given pool is always the one used, whatever limit it reports.
        Some(pool) => match pool.memory_limit() {
            MemoryLimit::Finite(limit) => Some((pool.clone(), limit)),
            _ => Some((pool.clone(), usize::MAX)),
        },
        None => opts
            .memory_limit
            .or_else(default_memory_limit)
            .map(|limit| {
                (
                    Arc::new(FairSpillPool::new(limit)) as Arc<dyn MemoryPool>,
                    limit,
                )
            }),
    };
    if let Some((pool, limit)) = pool {
        runtime = runtime.with_memory_pool(pool);
        // Each sort keeps a reservation for merging its spill files (10 MB by default);
        // under a small limit that reservation alone would exceed each sort's share.
        let partitions = config.target_partitions().max(1);
        let reservation = (limit / (4 * partitions)).min(10 << 20);
        config = config.set_usize(
            "datafusion.execution.sort_spill_reservation_bytes",
            reservation,
        );
    }
    if let Some(dir) = &opts.spill_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        runtime = runtime.with_temp_file_path(dir.clone());
    }
    // File paths work as tables: SELECT * FROM 'out/qualification.parquet'.
    let mut ctx = SessionContext::new_with_config_rt(config, runtime.build_arc()?);
    if !opts.no_url_tables {
        ctx = ctx.enable_url_table();
    }
    leadql_udfs::register_all(&ctx)?;
    Ok(ctx)
}

/// A session over the workspace `ws`: its tables, functions and views.
pub async fn open(ws: &Workspace, opts: &SessionOptions) -> Result<SessionContext> {
    let ctx = context(opts)?;
    // Statements that write (CREATE MODEL, DROP MODEL) take this workspace's lock.
    ctx.state_ref()
        .write()
        .config_mut()
        .set_extension(Arc::new(crate::lock::WorkspaceDir(ws.dir.clone())));
    ws.register(&ctx)?;
    // The current status of every lead, derived from the append-only lifecycle log.
    let events = ctx.table("lead_status_events").await?;
    ctx.register_table(
        "lead_status",
        leadql_udfs::status::latest(events, None)?.into_view(),
    )?;
    create_views(&ctx, ws).await?;
    Ok(ctx)
}

/// Creates the workspace's views (`views/NAME.sql`). A view may use another: views
/// are created in passes until none is left. A view that still fails (a typo, a model
/// not trained yet) is left out with a warning naming its file, so that the commands
/// that do not need it, `leadql run` among them, still work; a query using it then
/// reports an unknown table.
async fn create_views(ctx: &SessionContext, ws: &Workspace) -> Result<()> {
    let mut pending: Vec<&(String, std::path::PathBuf, String)> = ws.views.iter().collect();
    while !pending.is_empty() {
        let mut failed = Vec::new();
        let mut errors = Vec::new();
        for view in &pending {
            let (name, file, text) = view;
            let statement = format!("CREATE VIEW \"{name}\" AS {text}");
            if let Err(e) = ctx.sql(&statement).await {
                errors.push(format!(
                    "warning: {}: view '{name}' left out: {}",
                    file.display(),
                    e.strip_backtrace().lines().next().unwrap_or_default()
                ));
                failed.push(*view);
            }
        }
        if failed.len() == pending.len() {
            for e in errors {
                eprintln!("{e}");
            }
            break;
        }
        pending = failed;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("512M").ok(), Some(512 << 20));
        assert_eq!(parse_size("2G").ok(), Some(2 << 30));
        assert_eq!(parse_size("1.5GiB").ok(), Some(3 << 29));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3X").is_err());
        assert!(parse_size("10").is_err(), "10 bytes is below the minimum");
    }
}
