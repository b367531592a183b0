//! `leadql scheduler` and `leadql executor`: a Ballista cluster that knows leadql's
//! functions (see `crate::cluster`).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cluster::nodes::{self, ExecutorOptions, SchedulerOptions};
use crate::error::{Error, Result};

/// Arguments of `leadql scheduler`.
#[derive(Debug, clap::Args)]
pub struct SchedulerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:50050", value_name = "HOST:PORT")]
    bind: SocketAddr,
    /// Host name executors and clients reach the scheduler by (default: the bind
    /// address).
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
}

/// Arguments of `leadql executor`.
#[derive(Debug, clap::Args)]
pub struct ExecutorArgs {
    /// The scheduler, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    scheduler: String,
    /// Address the executor's services listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "HOST")]
    bind_host: String,
    /// Host name the scheduler and other executors reach this executor by (default:
    /// the address the scheduler sees it connect from).
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Arrow Flight port (shuffle and result data).
    #[arg(long, default_value_t = 50051)]
    port: u16,
    /// gRPC port (tasks from the scheduler).
    #[arg(long, default_value_t = 50052)]
    grpc_port: u16,
    /// Tasks run at once (default: the machine's cores).
    #[arg(long, default_value_t = 0)]
    concurrency: usize,
    /// Directory for shuffle files (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
}

/// Runs `leadql scheduler`.
pub async fn scheduler(args: &SchedulerArgs) -> Result<()> {
    nodes::run_scheduler(&SchedulerOptions {
        bind: args.bind,
        external_host: args.external_host.clone(),
    })
    .await
}

/// Runs `leadql executor`.
pub async fn executor(args: &ExecutorArgs, memory_limit: Option<usize>) -> Result<()> {
    let bad = |reason: String| Error::Argument {
        arg: "--scheduler".into(),
        reason,
    };
    let (host, port) = args
        .scheduler
        .rsplit_once(':')
        .ok_or_else(|| bad(format!("'{}' is not HOST:PORT", args.scheduler)))?;
    let port: u16 = port
        .parse()
        .map_err(|_| bad(format!("'{port}' is no port number")))?;
    if host.is_empty() {
        return Err(bad("no host before the port".into()));
    }
    let work_dir = match &args.work_dir {
        Some(d) => Some(
            d.to_str()
                .ok_or_else(|| Error::Argument {
                    arg: "--work-dir".into(),
                    reason: format!("{} is not valid UTF-8", d.display()),
                })?
                .to_string(),
        ),
        None => None,
    };
    nodes::run_executor(&ExecutorOptions {
        scheduler_host: host.to_string(),
        scheduler_port: port,
        bind_host: args.bind_host.clone(),
        external_host: args.external_host.clone(),
        flight_port: args.port,
        grpc_port: args.grpc_port,
        concurrency: args.concurrency,
        work_dir,
        memory_limit: memory_limit.map(|m| m as u64),
    })
    .await
}
