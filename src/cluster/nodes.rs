//! leadql's own cluster processes: Ballista's scheduler and executor with leadql's
//! functions and codecs (`leadql scheduler`, `leadql executor`), so users do not
//! build their own binaries. Both run until stopped (Ctrl-C or SIGTERM).

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;

use super::codec::{LogicalCodec, PhysicalCodec};
use super::standalone::ballista_error;
use crate::error::{Error, Result};

/// How to run a scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// The host name executors and clients reach this scheduler by (default: the
    /// bind address).
    pub external_host: Option<String>,
}

/// Runs a scheduler until it is stopped.
pub async fn run_scheduler(opts: &SchedulerOptions) -> Result<()> {
    let config = SchedulerConfig {
        bind_host: opts.bind.ip().to_string(),
        bind_port: opts.bind.port(),
        external_host: opts
            .external_host
            .clone()
            .unwrap_or_else(|| opts.bind.ip().to_string()),
        grpc_server_max_decoding_message_size: super::MAX_MESSAGE as u32,
        grpc_server_max_encoding_message_size: super::MAX_MESSAGE as u32,
        override_session_builder: Some(Arc::new(super::function_state)),
        override_config_producer: Some(Arc::new(super::ballista_config)),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(ballista_error)?;
    eprintln!(
        "leadql scheduler listening on {} (clients: leadql --cluster df://{}:{} …)",
        opts.bind,
        config.external_host,
        opts.bind.port()
    );
    start_server(cluster, opts.bind, Arc::new(config))
        .await
        .map_err(ballista_error)
}

/// How to run an executor.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// The address this executor's services listen on.
    pub bind_host: String,
    /// The host name the scheduler and other executors reach this one by.
    pub external_host: Option<String>,
    /// The Arrow Flight port (shuffle and result data).
    pub flight_port: u16,
    /// The gRPC port (tasks pushed by the scheduler).
    pub grpc_port: u16,
    /// Tasks run at once (0: the machine's cores).
    pub concurrency: usize,
    /// Where shuffle files go (default: a temporary directory).
    pub work_dir: Option<String>,
    /// Memory for the executor's query operators, in bytes (default: Ballista's, 70%
    /// of the machine's).
    pub memory_limit: Option<u64>,
}

/// The executor's base runtime: spill files in its work directory, files from the
/// filesystem or S3-compatible stores (Ballista adds each task's memory pool).
fn runtime(work_dir: Option<String>) -> ballista_core::RuntimeProducer {
    let stores = crate::object_stores::ObjectStores::new();
    Arc::new(move |_config| {
        let mut runtime = RuntimeEnvBuilder::new().with_object_store_registry(stores.clone());
        if let Some(dir) = &work_dir {
            runtime = runtime.with_temp_file_path(dir);
        }
        runtime.build_arc()
    })
}

/// Runs an executor until it is stopped.
pub async fn run_executor(opts: &ExecutorOptions) -> Result<()> {
    if let Some(dir) = &opts.work_dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(std::path::Path::new(dir), e))?;
    }
    let config = ExecutorProcessConfig {
        scheduler_host: opts.scheduler_host.clone(),
        scheduler_port: opts.scheduler_port,
        bind_host: opts.bind_host.clone(),
        external_host: opts.external_host.clone(),
        port: opts.flight_port,
        grpc_port: opts.grpc_port,
        vcores: opts.concurrency,
        work_dir: opts.work_dir.clone(),
        memory_pool_size: opts.memory_limit,
        grpc_max_decoding_message_size: super::MAX_MESSAGE as u32,
        grpc_max_encoding_message_size: super::MAX_MESSAGE as u32,
        // Try the scheduler for a minute before giving up.
        scheduler_connect_timeout_seconds: 60,
        override_function_registry: Some(Arc::new(
            super::executor_functions().map_err(ballista_error)?,
        )),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        override_config_producer: Some(Arc::new(super::ballista_config)),
        override_runtime_producer: Some(runtime(opts.work_dir.clone())),
        ..ExecutorProcessConfig::default()
    };
    eprintln!(
        "leadql executor: scheduler {}:{}, Flight port {}, gRPC port {}",
        opts.scheduler_host, opts.scheduler_port, opts.flight_port, opts.grpc_port
    );
    start_executor_process(Arc::new(config))
        .await
        .map_err(ballista_error)
}
