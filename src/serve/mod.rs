//! `leadql serve`: the workspace as a PostgreSQL-wire SQL endpoint for psql, DBeaver,
//! Metabase, Grafana, JDBC and psycopg.
//!
//! Built on `pgwire` (the protocol, TLS) and `datafusion-postgres` (Arrow → Postgres
//! encoding, the `pg_catalog` emulation, the `SET`/`SHOW`, transaction and cursor
//! statements), with leadql's own pieces where the stock ones do not fit:
//!
//! - [`startup`]: SCRAM-SHA-256 against stored verifiers ([`users`], [`scram`]), TLS
//!   required when configured, and the connection's role;
//! - [`query`]: leadql's statement layer on both protocols (so `CREATE MODEL` works),
//!   role checks ([`access`]), cancel requests and `statement_timeout`;
//! - [`session`]: one session per connection, over the workspace as it is now, with
//!   its memory inside the server's ([`memory`]);
//! - what BI tools' catalog queries need beyond the stock emulation:
//!   [`information_schema`], [`format`], [`descriptions`].
//!
//! Shutdown: SIGTERM or SIGINT stops accepting connections, lets running statements
//! finish for up to the grace period, then exits.

pub mod access;
pub mod descriptions;
pub mod format;
pub mod information_schema;
pub mod memory;
pub mod query;
pub mod scram;
pub mod session;
pub mod startup;
pub mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pgwire::api::{ConnectionManager, NoopHandler, PgWireServerHandlers};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

use crate::error::{Error, Result};
use crate::session::SessionOptions;

use self::session::{Connection, Shared};
use self::startup::{Auth, Gate, Startup};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The users file (SCRAM verifiers and roles).
    pub users: PathBuf,
    /// No authentication (loopback addresses only).
    pub insecure_no_auth: bool,
    /// TLS certificate chain and private key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Every connection is read-only (the analyst role), whatever its user's role.
    pub read_only: bool,
    /// Most connections at once (0: no limit).
    pub max_connections: usize,
    /// Admins may read files by path (`CREATE EXTERNAL TABLE`, `FROM 'x.parquet'`).
    pub allow_file_paths: bool,
    /// How long running statements may take to finish after SIGTERM.
    pub grace: Duration,
    /// Memory all connections may reserve together (None: half the machine's).
    pub server_memory: Option<usize>,
    /// How long an open cursor may wait for its client before its query is stopped.
    pub cursor_idle: Option<Duration>,
}

/// Statements running now, for the drain at shutdown.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts one running statement while alive.
pub struct Running;

impl Running {
    /// Starts counting.
    pub fn start() -> Running {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The handlers of one connection.
struct Handlers {
    service: Arc<query::Service>,
    startup: Arc<Startup>,
    cancel: Arc<startup::Canceller>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.service.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.service.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }

    fn error_handler(&self) -> Arc<impl pgwire::api::ErrorHandler> {
        Arc::new(NoopHandler)
    }
}

/// Loads the TLS certificate chain and key; any failure stops the server (never a
/// plaintext fallback).
fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<TlsAcceptor> {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let bad = |path: &std::path::Path, reason: String| Error::Argument {
        arg: if path == cert {
            "--tls-cert".into()
        } else {
            "--tls-key".into()
        },
        reason: format!("{}: {reason}", path.display()),
    };
    let cert_pem = std::fs::read(cert).map_err(|e| bad(cert, e.to_string()))?;
    let chain: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(cert, format!("not a PEM certificate ({e})")))?;
    if chain.is_empty() {
        return Err(bad(cert, "no certificate in the file".into()));
    }
    let key_pem = std::fs::read(key).map_err(|e| bad(key, e.to_string()))?;
    let private = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| bad(key, format!("not a PEM private key ({e})")))?
        .ok_or_else(|| bad(key, "no private key in the file".into()))?;
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| bad(key, format!("does not fit the certificate ({e})")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves the workspace in `dir` until SIGTERM or SIGINT.
pub async fn serve(
    dir: &std::path::Path,
    options: SessionOptions,
    opts: ServeOptions,
) -> Result<()> {
    let auth = if opts.insecure_no_auth {
        if !opts.listen.ip().is_loopback() {
            return Err(Error::Argument {
                arg: "--insecure-no-auth".into(),
                reason: format!(
                    "only with a loopback --listen address (127.0.0.1 or ::1), not {}",
                    opts.listen
                ),
            });
        }
        Auth::Insecure
    } else {
        let users = users::Users::load(&opts.users)?;
        if users.is_empty() {
            return Err(Error::Argument {
                arg: "--users".into(),
                reason: format!(
                    "{} has no users: add one with `leadql user add NAME --role analyst` (or, on a loopback address only, serve with --insecure-no-auth)",
                    opts.users.display()
                ),
            });
        }
        if let Ok(meta) = std::fs::metadata(&opts.users) {
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
            if mode & 0o077 != 0 {
                eprintln!(
                    "leadql serve: warning: {} is readable by others (mode {:o}); `chmod 600` it",
                    opts.users.display(),
                    mode & 0o777
                );
            }
        }
        Auth::Scram(opts.users.clone())
    };
    let tls = match &opts.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    let server_memory = opts
        .server_memory
        .or_else(crate::session::default_memory_limit)
        .unwrap_or(4 << 30);
    let per_connection = options
        .memory_limit
        .unwrap_or(server_memory / 4)
        .min(server_memory);
    let memory = memory::ServerMemory::new(server_memory);
    let shared = Arc::new(Shared::open(
        dir,
        options.clone(),
        opts.allow_file_paths,
        (memory, per_connection),
        opts.cursor_idle,
    )?);
    let connections = Arc::new(ConnectionManager::new());
    let gate = Arc::new(Gate {
        auth: auth.clone(),
        tls_required: tls.is_some(),
        connections: connections.clone(),
        read_only: opts.read_only,
        registry: std::sync::Mutex::new(std::collections::HashMap::new()),
    });
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|e| Error::Argument {
            arg: "--listen".into(),
            reason: format!("cannot listen on {}: {e}", opts.listen),
        })?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::Query(e.to_string()))?;
    let memory = format!(
        "{} MiB per connection{}, {} MiB in all",
        per_connection >> 20,
        if options.memory_limit.is_some_and(|m| m > server_memory) {
            " (--memory-limit is above --server-memory)"
        } else {
            ""
        },
        server_memory >> 20
    );
    eprintln!(
        "leadql serve: listening on {address}; TLS {}; auth {}; workspace {}; memory {memory}; {}{}",
        if tls.is_some() { "required" } else { "off" },
        match &auth {
            Auth::Scram(p) => format!("SCRAM-SHA-256 (users {})", p.display()),
            Auth::Insecure => "none (--insecure-no-auth: every connection is admin)".into(),
        },
        shared.dir.display(),
        if opts.max_connections > 0 {
            format!("at most {} connections", opts.max_connections)
        } else {
            "no connection limit".into()
        },
        if opts.read_only { "; read-only" } else { "" },
    );
    // Connections (the protocol, logins, cancel requests) run on a runtime of their
    // own, one thread; each connection's statements on threads of that connection
    // (see session::Connection::threads), so a busy query delays no login, cancel
    // request or other connection's query beyond its share of the cores.
    let connections_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("leadql-connections")
        .enable_all()
        .build()
        .map_err(|e| Error::Query(format!("cannot start the connection runtime: {e}")))?;
    let accepting =
        connections_runtime.spawn(accept(listener, shared, gate, tls, opts.max_connections));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::Query(format!("cannot watch SIGTERM: {e}")))?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    accepting.abort();
    let started = tokio::time::Instant::now();
    let running = RUNNING.load(Ordering::SeqCst);
    eprintln!(
        "leadql serve: shutting down; {running} running statement(s) get up to {} s to finish",
        opts.grace.as_secs()
    );
    while RUNNING.load(Ordering::SeqCst) > 0 && started.elapsed() < opts.grace {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = RUNNING.load(Ordering::SeqCst);
    if left > 0 {
        eprintln!("leadql serve: stopped with {left} statement(s) still running");
    } else {
        eprintln!("leadql serve: stopped");
    }
    connections_runtime.shutdown_background();
    Ok(())
}

/// Accepts connections until aborted.
async fn accept(
    listener: TcpListener,
    shared: Arc<Shared>,
    gate: Arc<Gate>,
    tls: Option<TlsAcceptor>,
    max_connections: usize,
) {
    let limit =
        (max_connections > 0).then(|| Arc::new(tokio::sync::Semaphore::new(max_connections)));
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                eprintln!("leadql serve: accept failed: {e}");
                continue;
            }
        };
        let permit = match &limit {
            Some(l) => l.clone().try_acquire_owned().ok(),
            None => None,
        };
        let full = limit.is_some() && permit.is_none();
        let connection = Arc::new(Connection::new(shared.clone()));
        let handlers = Arc::new(Handlers {
            service: Arc::new(query::Service::new(connection.clone())),
            startup: Arc::new(Startup::new(gate.clone(), connection.clone(), full)),
            cancel: Arc::new(startup::Canceller { gate: gate.clone() }),
        });
        let acceptor = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            // A failed login (or any message before one) ends the connection: pgwire
            // would keep reading after a FATAL error.
            tokio::select! {
                r = pgwire::tokio::process_socket(socket, acceptor, handlers) => {
                    if let Err(e) = r {
                        eprintln!("leadql serve: connection from {peer}: {e}");
                    }
                }
                () = connection.kicked() => {}
            }
        });
    }
}
