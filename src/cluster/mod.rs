//! Cluster mode: leadql's queries executed on an [Apache DataFusion Ballista]
//! cluster (`leadql --cluster df://HOST:PORT sql|run|export …`).
//!
//! - The client plans as it does alone: the workspace's tables, views and table
//!   functions expand into a DataFusion plan over the workspace's Parquet files
//!   ([`planner`] says what happens to the few table functions computed by leadql).
//! - Ballista's planner sends the logical plan to the scheduler, which plans it
//!   physically, cuts it into stages at each shuffle and hands the stages' tasks to the
//!   executors; the result streams back to the client, which writes it (exports, run
//!   state and models stay the client's writes, on its filesystem).
//! - The scheduler and executors are leadql's own processes (`leadql scheduler`,
//!   `leadql executor`, [`nodes`]) or in-process ones ([`standalone`]): they know
//!   leadql's SQL functions, and read the workspace's models themselves ([`codec`]).
//!   Every machine must see the workspace at the same path.
//!
//! [Apache DataFusion Ballista]: https://datafusion.apache.org/ballista/

pub mod codec;
pub mod nodes;
pub mod planner;
pub mod scratch;
pub mod standalone;

use std::str::FromStr;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::BallistaCodec;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::SessionState;
use datafusion::execution::registry::FunctionRegistry;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, Result};
use codec::{LogicalCodec, PhysicalCodec};
use planner::ClusterPlanner;
use scratch::Scratch;

/// Where `--cluster` sends queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A running scheduler (`df://HOST:PORT`).
    Remote {
        /// The scheduler's host.
        host: String,
        /// The scheduler's port.
        port: u16,
    },
    /// A cluster started inside this process: one scheduler and `executors` executors
    /// (`standalone`, `standalone:N`).
    Standalone {
        /// The number of executors.
        executors: usize,
    },
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let usage = "expected df://HOST:PORT (a scheduler started with `leadql scheduler`), standalone or standalone:N (an in-process cluster of N executors)";
        if let Some(rest) = text.strip_prefix("standalone") {
            let executors = match rest.strip_prefix(':') {
                None if rest.is_empty() => 1,
                Some(n) => n
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| format!("'{n}' is no number of executors from 1 to 64"))?,
                None => return Err(usage.to_string()),
            };
            return Ok(Target::Standalone { executors });
        }
        let address = text
            .strip_prefix("df://")
            .ok_or_else(|| usage.to_string())?;
        let (host, port) = address.rsplit_once(':').ok_or_else(|| usage.to_string())?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("'{port}' is no port number"))?;
        let host_ok = !host.is_empty()
            && host.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':')
            });
        if !host_ok {
            return Err(format!("'{host}' is no host name or address"));
        }
        Ok(Target::Remote {
            host: host.to_string(),
            port,
        })
    }
}

/// Ballista's adaptive planner is off: in Ballista 55 it re-plans a join stage without
/// end when one side of the join is empty (a workspace with no merges is such a case).
const ADAPTIVE_PLANNER: &str = "ballista.planner.adaptive.enabled";

/// Partitions (tasks per stage) of plans sent to a remote cluster, as Ballista's
/// client has them (the client's cores say nothing about the cluster's).
pub const REMOTE_PARTITIONS: usize = 16;

/// The largest gRPC message between a leadql client, scheduler and executors: plans
/// carry the rows a table function computed on the client (Ballista's default, 16 MiB,
/// stops them at about 100k leads).
pub const MAX_MESSAGE: usize = 1 << 30;

/// The session settings of every machine of a leadql cluster: Ballista's defaults,
/// with the adaptive planner off ([`ADAPTIVE_PLANNER`]) and messages up to
/// [`MAX_MESSAGE`].
pub fn ballista_config() -> SessionConfig {
    let mut config = SessionConfig::new_with_ballista();
    // The keys are Ballista's own, registered by `new_with_ballista`.
    let _ = config.options_mut().set(ADAPTIVE_PLANNER, "false");
    let _ = config
        .options_mut()
        .set(MAX_MESSAGE_KEY, &MAX_MESSAGE.to_string());
    config
}

const MAX_MESSAGE_KEY: &str = "ballista.client.grpc_max_message_size";

/// The codecs every machine of a leadql cluster uses.
pub fn ballista_codec() -> BallistaCodec {
    BallistaCodec::new(
        Arc::new(LogicalCodec::default()),
        Arc::new(PhysicalCodec::default()),
    )
}

/// DataFusion's functions and leadql's functions that need no workspace, as a
/// scheduler's or executor's registry holds them. (The workspace-bound ones arrive
/// with their binding: [`codec`].)
pub fn function_state(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let state = ballista_core::utils::default_session_builder(config)?;
    // The files a plan names are read from the filesystem or an S3-compatible store.
    let runtime = RuntimeEnvBuilder::new()
        .with_object_store_registry(crate::object_stores::ObjectStores::new())
        .build_arc()?;
    let mut state = SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(runtime)
        .build();
    for udf in leadql_udfs::workspace_bound::standalone_all() {
        state.register_udf(udf)?;
    }
    Ok(state)
}

/// The function registry of leadql's executors.
pub fn executor_functions() -> datafusion::common::Result<BallistaFunctionRegistry> {
    let state = function_state(ballista_config())?;
    Ok(BallistaFunctionRegistry::from(&state))
}

/// `local` (a session from [`crate::session::open`] over the workspace in `workspace`)
/// made to execute its queries on the cluster `target`. A standalone cluster is
/// started in this process and lives as long as it.
pub async fn connect(
    local: &SessionContext,
    target: &Target,
    workspace: &std::path::Path,
) -> Result<SessionContext> {
    let url = match target {
        Target::Remote { host, port } => {
            probe(host, *port).await?;
            format!("df://{host}:{port}")
        }
        Target::Standalone { executors } => {
            let cluster = standalone::start(&standalone::Options {
                executors: *executors,
                ..standalone::Options::default()
            })
            .await?;
            cluster.url()
        }
    };
    let scratch = Scratch::in_workspace(workspace);
    scratch.remove_stale();
    connect_url(local, &url, scratch).await
}

/// An error unless a scheduler answers at `host:port` within 10 s.
async fn probe(host: &str, port: u16) -> Result<()> {
    let url = format!("http://{host}:{port}");
    let attempt = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient::connect(
            url.clone(),
        ),
    )
    .await;
    match attempt {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::Query(format!(
            "--cluster df://{host}:{port}: no scheduler answers ({e}); start one with `leadql scheduler`"
        ))),
        Err(_) => Err(Error::Query(format!(
            "--cluster df://{host}:{port}: no scheduler answered within 10 s"
        ))),
    }
}

/// `local` made to execute its queries on the scheduler at `url` (`df://HOST:PORT`),
/// with in-memory tables larger than `scratch` allows written under it.
pub async fn connect_url(
    local: &SessionContext,
    url: &str,
    scratch: Scratch,
) -> Result<SessionContext> {
    let state = local.state();
    let config = state
        .config()
        .clone()
        .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default()));
    let state = SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .build();
    let remote = SessionContext::remote_with_state(url, state.clone())
        .await
        .map_err(|e| Error::Query(format!("--cluster {url}: {e}")))?;
    // Ballista's state keeps only DataFusion's functions: leadql's go back in.
    for udf in state.scalar_functions().values() {
        remote.register_udf((**udf).clone());
    }
    let mut remote = remote.state();
    // Ballista's defaults turn hash joins off; DataFusion 55's sort-merge join fails
    // outer joins with a filter on a non-nullable column ("declared as non-nullable
    // but contains null values", apache/datafusion#21197), which leadql's
    // point-in-time plans use. Hash joins are what leadql runs alone too.
    let max_message = MAX_MESSAGE.to_string();
    for (key, value) in [
        (ADAPTIVE_PLANNER, "false"),
        ("datafusion.optimizer.prefer_hash_join", "true"),
        (MAX_MESSAGE_KEY, max_message.as_str()),
    ] {
        remote
            .config_mut()
            .options_mut()
            .set(key, value)
            .map_err(|e| Error::Query(format!("--cluster {url}: {e}")))?;
    }
    let planner = ClusterPlanner {
        inner: remote.query_planner().clone(),
        local: local.clone(),
        scratch,
    };
    let state = SessionStateBuilder::new_from_existing(remote)
        .with_query_planner(Arc::new(planner))
        // `DataFrame::cache` as DataFusion has it: the rows are computed (on the
        // cluster) and kept by the client, and go with the plans that read them
        // (inside the plan, or as Parquet in the workspace: [`scratch`]).
        // (Ballista's own cache factory is not used by its 55 scheduler: plans
        // reading it did not finish.)
        .with_cache_factory(None)
        .build();
    Ok(SessionContext::new_with_state(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_clear_errors() {
        assert_eq!(
            "df://sched.example:50050".parse(),
            Ok(Target::Remote {
                host: "sched.example".into(),
                port: 50050
            })
        );
        assert_eq!(
            "standalone".parse(),
            Ok(Target::Standalone { executors: 1 })
        );
        assert_eq!(
            "standalone:2".parse(),
            Ok(Target::Standalone { executors: 2 })
        );
        assert!(
            "standalone:0"
                .parse::<Target>()
                .expect_err("0")
                .contains("'0' is no number of executors")
        );
        assert!(
            "df://host"
                .parse::<Target>()
                .expect_err("no port")
                .starts_with("expected df://HOST:PORT")
        );
        assert!(
            "df://host:http"
                .parse::<Target>()
                .expect_err("port")
                .contains("'http' is no port number")
        );
        assert!(
            "df://a b:1"
                .parse::<Target>()
                .expect_err("host")
                .contains("'a b' is no host")
        );
        assert!("http://host:1".parse::<Target>().is_err());
    }
}
