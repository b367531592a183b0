//! `leadql serve`: the workspace as a PostgreSQL-wire endpoint (see [`crate::serve`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{Cli, data_dir, session_options};
use crate::error::Result;
use crate::serve::{self, ServeOptions};

/// Arguments of `leadql serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:5432", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// The users file: roles and SCRAM-SHA-256 verifiers, maintained by `leadql user`
    /// (default: $XDG_CONFIG_HOME/leadql/users.toml, else ~/.config/leadql/users.toml).
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// TLS certificate chain (PEM); with --tls-key, plaintext connections are refused.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Every connection is read-only (the analyst role), whatever its user's role.
    #[arg(long)]
    read_only: bool,
    /// Most client connections at once; more are refused with SQLSTATE 53300 (0: no limit).
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_connections: usize,
    /// No authentication, every connection an admin: only with a loopback --listen
    /// address, for one person's machine.
    #[arg(long)]
    insecure_no_auth: bool,
    /// Let admin connections read files by path (CREATE EXTERNAL TABLE, FROM 'x.parquet').
    #[arg(long)]
    allow_file_paths: bool,
    /// Memory all connections' queries may reserve together (default: half the
    /// machine's memory); each connection's own limit is the global --memory-limit
    /// (default: a quarter of this), past which its operators spill.
    #[arg(long, value_name = "SIZE", value_parser = crate::session::parse_size)]
    server_memory: Option<usize>,
    /// Seconds running statements get to finish after SIGTERM or Ctrl-C.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    grace: u64,
    /// Seconds an open cursor or partly read result (DECLARE, JDBC's setFetchSize) may
    /// wait for its client before its query is stopped and its memory released; the
    /// client's next read of it then fails with SQLSTATE 57014 (0: never).
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    cursor_idle_timeout: u64,
}

/// The default users file.
pub fn default_users_file() -> PathBuf {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    config.join("leadql").join("users.toml")
}

/// Runs `leadql serve`.
pub async fn execute(cli: &Cli, args: &ServeArgs) -> Result<()> {
    let opts = ServeOptions {
        listen: args.listen,
        users: args.users.clone().unwrap_or_else(default_users_file),
        insecure_no_auth: args.insecure_no_auth,
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        read_only: args.read_only,
        max_connections: args.max_connections,
        allow_file_paths: args.allow_file_paths,
        grace: Duration::from_secs(args.grace),
        server_memory: args.server_memory,
        cursor_idle: (args.cursor_idle_timeout > 0)
            .then(|| Duration::from_secs(args.cursor_idle_timeout)),
    };
    serve::serve(&data_dir(cli), session_options(cli), opts).await
}
