//! A Ballista cluster inside this process: one scheduler and N executors, each with
//! leadql's functions and codecs, on loopback ports (`leadql --cluster standalone:N`,
//! tests, benchmarks). The scheduler's state is kept, so a finished job's stages can
//! be read back ([`Standalone::job_stages`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::BallistaCodec;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpcServer;
use ballista_core::utils::{GrpcServerConfig, create_grpc_server};
use ballista_core::{ConfigProducer, RuntimeProducer};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_server::{SchedulerServer, SessionBuilder};
use ballista_scheduler::state::execution_stage::ExecutionStage;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use crate::error::{Error, Result};

/// How to start a standalone cluster.
#[derive(Debug, Clone)]
pub struct Options {
    /// Executors.
    pub executors: usize,
    /// Tasks each executor runs at once (0: the machine's cores shared among the
    /// executors, at least 1 each).
    pub concurrency: usize,
    /// Whether the executors have leadql's functions and codecs (false only to test
    /// what a plain Ballista executor does with leadql's plans).
    pub executor_functions: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            executors: 1,
            concurrency: 0,
            executor_functions: true,
        }
    }
}

/// A running in-process cluster.
#[derive(Clone)]
pub struct Standalone {
    /// The scheduler's address.
    pub addr: SocketAddr,
    cluster: BallistaCluster,
}

/// One finished stage of a job: its tasks, partitions, and the bytes its tasks wrote
/// for the stages reading them (the shuffle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageReport {
    /// The stage's id in the job.
    pub stage: usize,
    /// Output partitions.
    pub partitions: usize,
    /// Tasks run (several partitions may share one task).
    pub tasks: usize,
    /// Tasks per executor, by executor id (sorted).
    pub tasks_per_executor: Vec<(String, usize)>,
    /// Bytes of shuffle output written for the consuming stage (0 for the last stage,
    /// whose output goes to the client).
    pub shuffle_bytes: u64,
}

pub(crate) fn ballista_error(e: impl std::fmt::Display) -> Error {
    Error::Query(format!("cluster: {e}"))
}

/// Starts a scheduler and `opts.executors` executors on loopback.
pub async fn start(opts: &Options) -> Result<Standalone> {
    let config_producer: ConfigProducer = Arc::new(super::ballista_config);
    let session_builder: SessionBuilder = Arc::new(super::function_state);
    let cluster =
        BallistaCluster::new_memory("localhost:50050", session_builder, config_producer.clone());
    let config = SchedulerConfig::default().with_scheduler_policy(TaskSchedulingPolicy::PullStaged);
    let mut server: SchedulerServer<LogicalPlanNode, PhysicalPlanNode> = SchedulerServer::new(
        "localhost:50050".to_string(),
        cluster.clone(),
        super::ballista_codec(),
        Arc::new(config),
        ballista_scheduler::metrics::default_metrics_collector().map_err(ballista_error)?,
    );
    server.init().await.map_err(ballista_error)?;
    let max_message = config_producer().ballista_grpc_client_max_message_size();
    let grpc = SchedulerGrpcServer::new(server)
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(max_message);
    let listener = tokio::net::TcpListener::bind("localhost:0")
        .await
        .map_err(ballista_error)?;
    let addr = listener.local_addr().map_err(ballista_error)?;
    tokio::spawn(
        create_grpc_server(&GrpcServerConfig::default())
            .add_service(grpc)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let client = connect(addr).await?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let vcores = match opts.concurrency {
        0 => (cores / opts.executors.max(1)).max(1),
        n => n,
    };
    let stores = crate::object_stores::ObjectStores::new();
    let runtime: RuntimeProducer = Arc::new(move |_config: &SessionConfig| {
        RuntimeEnvBuilder::new()
            .with_object_store_registry(stores.clone())
            .build_arc()
    });
    for _ in 0..opts.executors.max(1) {
        let (codec, registry) = if opts.executor_functions {
            (
                super::ballista_codec(),
                super::executor_functions().map_err(ballista_error)?,
            )
        } else {
            (
                BallistaCodec::default(),
                BallistaFunctionRegistry::default(),
            )
        };
        ballista_executor::new_standalone_executor_from_builder(
            client.clone(),
            vcores,
            config_producer.clone(),
            runtime.clone(),
            codec,
            registry,
        )
        .await
        .map_err(ballista_error)?;
    }
    Ok(Standalone { addr, cluster })
}

/// A gRPC client of the scheduler at `addr`, once it answers (within 10 s).
async fn connect(addr: SocketAddr) -> Result<SchedulerGrpcClient<tonic::transport::Channel>> {
    let url = format!("http://localhost:{}", addr.port());
    let mut last = None;
    for _ in 0..100 {
        match SchedulerGrpcClient::connect(url.clone()).await {
            Ok(client) => {
                return Ok(client
                    .max_decoding_message_size(super::MAX_MESSAGE)
                    .max_encoding_message_size(super::MAX_MESSAGE));
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(ballista_error(format!(
        "the in-process scheduler at {url} did not answer: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    )))
}

impl Standalone {
    /// The URL clients connect to.
    pub fn url(&self) -> String {
        format!("df://localhost:{}", self.addr.port())
    }

    /// The ids of the jobs the scheduler has run, sorted.
    pub async fn jobs(&self) -> Result<Vec<String>> {
        let mut jobs: Vec<String> = self
            .cluster
            .job_state()
            .get_jobs()
            .await
            .map_err(ballista_error)?
            .into_iter()
            .map(|j| j.to_string())
            .collect();
        jobs.sort();
        Ok(jobs)
    }

    /// The stages of the finished job `job`, in stage order.
    pub async fn job_stages(&self, job: &str) -> Result<Vec<StageReport>> {
        let graph = self
            .cluster
            .job_state()
            .get_execution_graph(&job.to_string().into())
            .await
            .map_err(ballista_error)?
            .ok_or_else(|| ballista_error(format!("no finished job {job}")))?;
        let stages = graph.stages();
        let mut out = Vec::new();
        let mut ids: Vec<&usize> = stages.keys().collect();
        ids.sort();
        for id in ids {
            let ExecutionStage::Successful(stage) = &stages[id] else {
                continue;
            };
            let mut per_executor: std::collections::BTreeMap<String, usize> = Default::default();
            for task in &stage.task_infos {
                if let ballista_core::serde::protobuf::task_status::Status::Successful(s) =
                    &task.task_status
                {
                    *per_executor.entry(s.executor_id.clone()).or_default() += 1;
                }
            }
            // What this stage wrote is what its consumers read.
            let mut bytes = 0u64;
            for link in &stage.output_links {
                let Some(ExecutionStage::Successful(consumer)) = stages.get(link) else {
                    continue;
                };
                if let Some(input) = consumer.inputs.get(id) {
                    for location in input.partition_locations.values().flatten() {
                        bytes += location.partition_stats.num_bytes().unwrap_or(0);
                    }
                }
            }
            out.push(StageReport {
                stage: *id,
                partitions: stage.partitions,
                tasks: stage.task_infos.len(),
                tasks_per_executor: per_executor.into_iter().collect(),
                shuffle_bytes: bytes,
            });
        }
        Ok(out)
    }
}
