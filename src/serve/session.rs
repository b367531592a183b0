//! Sessions of `leadql serve`: one DataFusion session per connection, over the
//! workspace as it is when each statement starts.
//!
//! - **Isolation.** Each connection has its own `SessionContext`: its `SET`s, views and
//!   in-memory tables are its own, and its memory pool is its own (`--memory-limit`
//!   per connection, inside `--server-memory` for all; see [`super::memory`]), so one
//!   client's exploding join spills or fails alone.
//! - **Freshness.** Before each statement the server compares a fingerprint of the
//!   workspace (the modification times of its folders, which every atomic change
//!   renames files into, and of its model, rule, policy and view files) with the one
//!   its catalog was read at. When it changed (an import, a `leadql run`, a new model
//!   version by another process), the catalog is read again, once for all
//!   connections, and each connection's session is rebuilt on its next statement,
//!   keeping the connection's settings, views and tables.
//! - **Atomicity.** The catalog is read under the workspace's shared commit lock
//!   ([`crate::commit`]), so a statement sees a change entirely or not at all; a
//!   statement already running keeps the files it started with (Parquet files are
//!   never rewritten in place).

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use datafusion::prelude::SessionContext;

use crate::catalog::Workspace;
use crate::error::{Error, Result};
use crate::session::{self, SessionOptions};

use super::memory::{ConnectionPool, ServerMemory};
use super::users::{Role, User};

/// What every connection shares: the workspace directory, the session options, and the
/// catalog last read with its fingerprint.
#[derive(Debug)]
pub struct Shared {
    /// The workspace directory.
    pub dir: PathBuf,
    /// Options of every connection's session (memory limit per connection).
    pub options: SessionOptions,
    /// Whether admins may read files by path.
    pub allow_file_paths: bool,
    /// How long an open cursor may wait for its client before its query is stopped.
    pub cursor_idle: Option<std::time::Duration>,
    /// The memory all connections draw from, and each connection's limit.
    memory: (Arc<ServerMemory>, usize),
    current: Mutex<Option<(u64, Arc<Workspace>)>>,
    /// The last users-file problem written to stderr (each is written once).
    users_error: Mutex<Option<String>>,
}

/// A fingerprint of what the catalog depends on: the workspace folder, its table and
/// model folders (and each model's folder), and the files of `scoring/`, `policies/`,
/// `views/` and `workspace.toml`.
pub fn fingerprint(dir: &Path) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut stamp = |path: &Path| {
        if let Ok(meta) = std::fs::metadata(path) {
            path.hash(&mut hasher);
            meta.len().hash(&mut hasher);
            if let Ok(t) = meta.modified() {
                t.hash(&mut hasher);
            }
        }
    };
    stamp(dir);
    stamp(&dir.join("workspace.toml"));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return hasher.finish();
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        // Not leadql's own working folders (locks, staging, a cluster client's
        // per-query files): they change without the workspace changing.
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(".leadql"))
        })
        .collect();
    folders.sort();
    for folder in folders {
        stamp(&folder);
        let name = folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if matches!(name, "models" | "scoring" | "policies" | "views")
            && let Ok(inner) = std::fs::read_dir(&folder)
        {
            let mut paths: Vec<PathBuf> = inner.filter_map(|e| e.ok()).map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                stamp(&p);
            }
        }
    }
    hasher.finish()
}

impl Shared {
    /// Opens the workspace in `dir` once, so that a broken workspace stops the server
    /// at startup rather than at the first query.
    pub fn open(
        dir: &Path,
        options: SessionOptions,
        allow_file_paths: bool,
        memory: (Arc<ServerMemory>, usize),
        cursor_idle: Option<std::time::Duration>,
    ) -> Result<Shared> {
        let stamp = fingerprint(dir);
        let ws = Workspace::open(dir)?;
        Ok(Shared {
            dir: ws.dir.clone(),
            options,
            allow_file_paths,
            cursor_idle,
            memory,
            current: Mutex::new(Some((stamp, Arc::new(ws)))),
            users_error: Mutex::new(None),
        })
    }

    /// The users file reads well again: its next problem is written even if it is
    /// the same as the last one.
    fn users_file_good(&self) {
        if let Ok(mut last) = self.users_error.lock() {
            *last = None;
        }
    }

    /// Writes a users-file problem to stderr, once per problem and file content (every
    /// statement of every connection meets it until the file is mended).
    fn log_users_error(&self, reason: &str, digest: Option<Digest>) {
        let key = format!("{reason} {digest:?}");
        if let Ok(mut last) = self.users_error.lock()
            && last.as_deref() != Some(key.as_str())
        {
            eprintln!(
                "leadql serve: {reason} (statements of logged-in users are refused until it can be read)"
            );
            *last = Some(key);
        }
    }

    /// The catalog as the workspace is now, and its fingerprint (read again when the
    /// workspace changed; blocking: call from a blocking task).
    fn workspace_now(&self) -> Result<(u64, Arc<Workspace>)> {
        let stamp = fingerprint(&self.dir);
        let mut current = self
            .current
            .lock()
            .map_err(|_| Error::Query("internal: the catalog lock was poisoned".into()))?;
        if let Some((s, ws)) = current.as_ref()
            && *s == stamp
        {
            return Ok((*s, ws.clone()));
        }
        let ws = Arc::new(Workspace::open(&self.dir)?);
        *current = Some((stamp, ws.clone()));
        Ok((stamp, ws))
    }

    /// [`Shared::workspace_now`] off the async workers.
    pub async fn workspace(self: &Arc<Self>) -> Result<(u64, Arc<Workspace>)> {
        let shared = self.clone();
        tokio::task::spawn_blocking(move || shared.workspace_now())
            .await
            .map_err(|e| Error::Query(format!("internal: {e}")))?
    }
}

/// Cancel requests for a connection's running statement: each request moves the epoch
/// on and wakes the statement, which compares it with the epoch it started at.
#[derive(Debug, Default)]
pub struct Cancels {
    epoch: std::sync::atomic::AtomicU64,
    notify: tokio::sync::Notify,
}

impl Cancels {
    /// The current epoch (taken when a statement starts).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Cancels what runs now.
    pub fn cancel(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Resolves once a cancel request arrives after `epoch`.
    pub async fn cancelled(&self, epoch: u64) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.epoch() != epoch {
                return;
            }
            notified.await;
        }
    }
}

/// The threads one connection's statements execute on: a runtime of its own, with a
/// worker per core. DataFusion's operators yield only between batches, and one that
/// works long between two (a nested-loop join that finds nothing) would hold a
/// shared runtime's workers; on threads of its own it only gets its share of the
/// cores from the operating system's scheduler, and other connections keep theirs.
struct Threads(Option<tokio::runtime::Runtime>);

impl Drop for Threads {
    fn drop(&mut self) {
        // Dropped on the connections' runtime, which must not block on it.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// One connection's session.
pub struct Connection {
    /// Where its statements execute (created at the first one).
    threads: std::sync::OnceLock<Threads>,
    /// What all connections share.
    pub shared: Arc<Shared>,
    /// Cancel requests for this connection.
    pub cancels: Cancels,
    /// Its memory pool (kept when its session is rebuilt, since running statements
    /// hold reservations in it).
    pool: Arc<ConnectionPool>,
    kicked: tokio::sync::Notify,
    role: std::sync::OnceLock<Role>,
    /// Who logged in (none without authentication), and the users file's stamp when
    /// the login was last found still valid.
    login: std::sync::OnceLock<Login>,
    /// The users file's stat and digest when the login was last found still valid.
    users_seen: Mutex<Option<(Option<FileStat>, Digest)>>,
    state: tokio::sync::Mutex<Option<State>>,
}

/// Who logged in over SCRAM, as the users file said then.
#[derive(Debug)]
pub struct Login {
    /// The user name.
    pub name: String,
    /// The user's entry at login.
    pub entry: User,
    /// The users file.
    pub file: PathBuf,
}

/// What the users file holds: the SHA-256 of its bytes (of nothing when it is
/// missing). A digest of the content, not the file's size, time and inode, which a
/// rewrite can keep all three of.
type Digest = [u8; 32];

/// The users file's bytes and their digest; `Err` with the reason when it cannot be
/// read, is missing or is empty (as it is for a moment while an editor or a shell
/// redirection rewrites it in place: not a file without users).
fn read_users(path: &Path) -> std::result::Result<(Digest, String), String> {
    use sha2::Digest as _;
    let text = match std::fs::read(path) {
        Ok(bytes) => {
            String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Err(format!("{}: empty", path.display()));
    }
    Ok((sha2::Sha256::digest(text.as_bytes()).into(), text))
}

/// What changes whenever a file's content does, cheaply (one `stat`): size, inode and
/// the modification and status-change times in nanoseconds. The status-change time
/// cannot be set back (`touch -r` sets the modification time only), so an in-place
/// rewrite that keeps size, inode and modification time still changes it; the content
/// digest decides when this differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStat(u64, u64, i64, i64, i64, i64);

impl FileStat {
    fn of(path: &Path) -> Option<FileStat> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileStat(
            m.len(),
            m.ino(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        ))
    }
}

/// Why a login does not hold for the next statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The user was removed or changed, or the password expired: the connection ends.
    Revoked(String),
    /// The users file cannot be read now, so the login cannot be confirmed: the
    /// statement is refused, the connection stays (an editor may be saving it).
    Unconfirmed(String),
}

struct State {
    stamp: u64,
    ctx: SessionContext,
    /// The tables and views the workspace registered (the rest are the connection's).
    workspace_tables: HashSet<String>,
}

impl Connection {
    /// A connection that has not authenticated yet.
    pub fn new(shared: Arc<Shared>) -> Connection {
        let (server, limit) = &shared.memory;
        let pool = ConnectionPool::new(*limit, server.clone());
        Connection {
            pool,
            shared,
            role: std::sync::OnceLock::new(),
            login: std::sync::OnceLock::new(),
            users_seen: Mutex::new(None),
            threads: std::sync::OnceLock::new(),
            cancels: Cancels::default(),
            kicked: tokio::sync::Notify::new(),
            state: tokio::sync::Mutex::new(None),
        }
    }

    /// Sets the role once authentication succeeded.
    pub fn authenticated(&self, role: Role) {
        let _ = self.role.set(role);
    }

    /// Records who logged in (before [`Connection::authenticated`]).
    ///
    /// The users file is not taken as seen here: it was read at the start of the SCRAM
    /// exchange, which may be long before its end, so the first [`Connection::revoked`]
    /// reads it again and compares.
    pub fn logged_in(&self, login: Login) {
        let _ = self.login.set(login);
        if let Ok(mut seen) = self.users_seen.lock() {
            *seen = None;
        }
    }

    /// Whether the login still holds: not if its user's password expired, or the user
    /// was removed or changed (role, password, expiry) in the users file since
    /// ([`Refusal::Revoked`]); unconfirmed while the users file cannot be read or parsed
    /// ([`Refusal::Unconfirmed`]: fails closed, and says so on stderr once per state of
    /// the file). Parses the file again only when its content changed.
    pub fn revoked(&self) -> std::result::Result<(), Refusal> {
        let Some(login) = self.login.get() else {
            return Ok(());
        };
        let name = &login.name;
        if login.entry.expired(chrono::Utc::now()) {
            return Err(Refusal::Revoked(format!(
                "the password of user \"{name}\" expired at {}",
                login.entry.valid_until.as_deref().unwrap_or_default()
            )));
        }
        let unconfirmed = |reason: String, digest: Option<Digest>| {
            self.shared.log_users_error(&reason, digest);
            Err(Refusal::Unconfirmed(
                "the server cannot read its users file, so this login cannot be confirmed now: try again later".into(),
            ))
        };
        let mut seen = self
            .users_seen
            .lock()
            .map_err(|_| Refusal::Revoked("internal: the login lock was poisoned".into()))?;
        // Stat first, then read: a change after the stat is seen next time.
        let stat = FileStat::of(&login.file);
        if let Some((seen_stat, _)) = *seen
            && stat.is_some()
            && seen_stat == stat
        {
            return Ok(());
        }
        let (digest, text) = match read_users(&login.file) {
            Ok(read) => read,
            Err(reason) => return unconfirmed(reason, None),
        };
        if let Some((_, seen_digest)) = *seen
            && seen_digest == digest
        {
            *seen = Some((stat, digest));
            return Ok(());
        }
        match super::users::Users::parse(&text, &login.file) {
            Err(e) => unconfirmed(e.to_string(), Some(digest)),
            Ok(users) => match users.get(name) {
                None => Err(Refusal::Revoked(format!("user \"{name}\" was removed"))),
                Some(entry) if *entry != login.entry => Err(Refusal::Revoked(format!(
                    "user \"{name}\" was changed (role, password or expiry)"
                ))),
                Some(_) => {
                    self.shared.users_file_good();
                    *seen = Some((stat, digest));
                    Ok(())
                }
            },
        }
    }

    /// Ends the connection in a moment, after the error that says why has gone out.
    pub fn kick_soon(self: &Arc<Self>) {
        let connection = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if let Some(c) = connection.upgrade() {
                c.kick();
            }
        });
    }

    /// The runtime this connection's statements execute on.
    pub fn threads(&self) -> Result<tokio::runtime::Handle> {
        if let Some(Threads(Some(rt))) = self.threads.get() {
            return Ok(rt.handle().clone());
        }
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("leadql-query")
            .thread_stack_size(64 << 20)
            .enable_all()
            .build()
            .map_err(|e| Error::Query(format!("cannot start the query threads: {e}")))?;
        let handle = rt.handle().clone();
        // A concurrent first call of the same connection cannot happen (one statement
        // at a time); if it did, the loser's runtime is shut down when dropped here.
        let _ = self.threads.set(Threads(Some(rt)));
        Ok(self
            .threads
            .get()
            .and_then(|t| t.0.as_ref().map(|rt| rt.handle().clone()))
            .unwrap_or(handle))
    }

    /// The role, once authenticated.
    pub fn role(&self) -> Option<Role> {
        self.role.get().copied()
    }

    /// Ends the connection (the server drops its socket).
    pub fn kick(&self) {
        self.kicked.notify_one();
    }

    /// Resolves when the connection is to be dropped.
    pub async fn kicked(&self) {
        self.kicked.notified().await;
    }

    /// The session to run the next statement in: rebuilt when the workspace changed
    /// since the last one, keeping the connection's settings, views and tables.
    pub async fn context(&self) -> Result<SessionContext> {
        let (stamp, ws) = self.shared.workspace().await?;
        let mut state = self.state.lock().await;
        if let Some(s) = state.as_ref()
            && s.stamp == stamp
        {
            return Ok(s.ctx.clone());
        }
        let files = self.role() == Some(Role::Admin) && self.shared.allow_file_paths;
        let options = SessionOptions {
            no_url_tables: !files,
            memory_pool: Some(self.pool.clone()),
            ..self.shared.options.clone()
        };
        let ctx = session::open(&ws, &options).await?;
        datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog(
            &ctx,
            "datafusion",
            datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider,
        )
        .map_err(|e| Error::Query(format!("pg_catalog: {e}")))?;
        ctx.register_udf(super::format::udf());
        let workspace_tables: HashSet<String> = crate::sql::table_names(&ctx).into_iter().collect();
        if let Some(old) = state.take() {
            carry_over(&old, &ctx).await?;
        }
        *state = Some(State {
            stamp,
            ctx: ctx.clone(),
            workspace_tables,
        });
        Ok(ctx)
    }
}

/// Moves the connection's own settings, views and tables from the old session to the
/// new one (a view keeps the files it was created over).
async fn carry_over(old: &State, new: &SessionContext) -> Result<()> {
    let options = old.ctx.state().config().options().as_ref().clone();
    *new.state_ref().write().config_mut().options_mut() = options;
    let schema = old
        .ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"));
    let Some(schema) = schema else {
        return Ok(());
    };
    for name in crate::sql::table_names(&old.ctx) {
        if old.workspace_tables.contains(&name) {
            continue;
        }
        let provider = schema
            .table(&name)
            .await
            .map_err(|e| Error::Query(e.to_string()))?;
        if let Some(provider) = provider {
            let _ = new.deregister_table(name.as_str());
            new.register_table(name.as_str(), provider)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leadqls_working_folders_do_not_change_the_fingerprint() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join(".leadql-cluster")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("leads")).expect("mkdir");
        let before = fingerprint(dir.path());
        // A cluster client's query folder comes and goes.
        let query = dir.path().join(".leadql-cluster/q-1");
        std::fs::create_dir_all(&query).expect("mkdir");
        std::fs::write(query.join("t0-p0.parquet"), b"x").expect("write");
        assert_eq!(fingerprint(dir.path()), before);
        std::fs::remove_dir_all(&query).expect("rm");
        assert_eq!(fingerprint(dir.path()), before);
        // A table's folder changing does change it.
        std::fs::write(dir.path().join("leads/part-1.parquet"), b"x").expect("write");
        assert_ne!(fingerprint(dir.path()), before);
    }
}
