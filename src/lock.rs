//! One workspace writer at a time.
//!
//! Every command that changes a workspace (`import`, `lead`, `run`, `generate`,
//! `CREATE MODEL`/`DROP MODEL`, `model activate`, and `export`/`sql --output` into the
//! workspace) holds an exclusive advisory lock (`flock`) on `WORKSPACE/.leadql.lock`
//! from before it reads the workspace until its change is in place, so two writers
//! never compute the same new ids or check a lead's status against a stale log. A
//! second writer waits, saying so on stderr, or fails at once under `--no-wait`.
//! Readers never take the lock. The lock is released by the operating system when the
//! process ends, however it ends. The last holder deletes the file before releasing it,
//! so an idle workspace holds no lock file; a writer that locked a file deleted
//! meanwhile (its inode no longer at the path) opens the path again.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::{Error, Result};

/// The lock file, in the workspace directory.
pub const LOCK_FILE: &str = ".leadql.lock";

static NO_WAIT: AtomicBool = AtomicBool::new(false);

/// Locks held by this process: canonical workspace directory → (lock file, holders).
static HELD: Mutex<Option<HashMap<PathBuf, (File, usize)>>> = Mutex::new(None);

fn held() -> MutexGuard<'static, Option<HashMap<PathBuf, (File, usize)>>> {
    HELD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes a writer that finds the workspace locked fail at once instead of waiting
/// (the global `--no-wait` flag).
pub fn set_no_wait(no_wait: bool) {
    NO_WAIT.store(no_wait, Ordering::Relaxed);
}

/// The exclusive write lock of one workspace, held until dropped. Taking it again in
/// the same process (a `run` that trains through `CREATE MODEL`) nests.
#[derive(Debug)]
pub struct WriteLock {
    dir: PathBuf,
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let mut guard = held();
        if let Some(map) = guard.as_mut()
            && let Some((_, count)) = map.get_mut(&self.dir)
        {
            *count -= 1;
            if *count == 0 {
                // Deleted while still locked, then closed (which releases the lock).
                let _ = std::fs::remove_file(self.dir.join(LOCK_FILE));
                map.remove(&self.dir);
            }
        }
    }
}

/// The workspace a session was opened on (a session extension): statements that
/// write to it take its lock ([`session_write_lock`]).
#[derive(Debug, Clone)]
pub struct WorkspaceDir(pub PathBuf);

/// The write lock of the workspace `ctx` was opened on (none for a session without a
/// workspace).
pub fn session_write_lock(ctx: &datafusion::prelude::SessionContext) -> Result<Option<WriteLock>> {
    match ctx.state().config().get_extension::<WorkspaceDir>() {
        Some(dir) => write_lock(&dir.0).map(Some),
        None => Ok(None),
    }
}

/// The canonical form of a workspace directory (as given when it cannot be resolved).
pub fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Whether this process holds the write lock of `dir`.
pub fn holds(dir: &Path) -> bool {
    let dir = canonical(dir);
    held().as_ref().is_some_and(|m| m.contains_key(&dir))
}

fn open_lock_file(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))
}

/// Whether the locked `file` is still the lock file of `dir` (its last holder deletes
/// it on release).
fn still_at_path(dir: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(dir.join(LOCK_FILE)), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Takes the write lock of the workspace `dir` (which must exist), waiting for another
/// writer to finish unless `--no-wait` was given.
pub fn write_lock(dir: &Path) -> Result<WriteLock> {
    let dir = canonical(dir);
    {
        let mut guard = held();
        if let Some((_, count)) = guard.get_or_insert_with(HashMap::new).get_mut(&dir) {
            *count += 1;
            return Ok(WriteLock { dir });
        }
    }
    let mut said = false;
    let file = loop {
        let file = open_lock_file(&dir)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                if NO_WAIT.load(Ordering::Relaxed) {
                    return Err(Error::Workspace {
                        dir: dir.clone(),
                        reason: format!(
                            "another leadql command is writing to it (it holds {}); \
                             try again when it has finished, or leave out --no-wait to wait for it",
                            dir.join(LOCK_FILE).display()
                        ),
                    });
                }
                if !said {
                    eprintln!(
                        "waiting for another leadql command writing to {}…",
                        dir.display()
                    );
                    said = true;
                }
                file.lock().map_err(|e| Error::io(dir.join(LOCK_FILE), e))?;
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(dir.join(LOCK_FILE), e)),
        }
        if still_at_path(&dir, &file) {
            break file;
        }
    };
    held()
        .get_or_insert_with(HashMap::new)
        .insert(dir.clone(), (file, 1));
    Ok(WriteLock { dir })
}

/// Replaces the lock file this process holds for `dir` by `file`, already locked, which
/// is now `dir`'s lock file: after `generate` swaps a new workspace in, the old lock
/// file (in the old workspace, about to be removed) is released and the new one held
/// until the last holder drops its [`WriteLock`].
pub fn hand_over(dir: &Path, file: File) {
    let dir = canonical(dir);
    if let Some((held_file, _)) = held().as_mut().and_then(|m| m.get_mut(&dir)) {
        *held_file = file;
    }
}

/// Takes the write lock of `dir` only if no process holds it; `None` when another
/// process does (or the lock file cannot be created, as in a read-only workspace).
pub fn try_write_lock(dir: &Path) -> Option<WriteLock> {
    let dir = canonical(dir);
    {
        let mut guard = held();
        if let Some((_, count)) = guard.get_or_insert_with(HashMap::new).get_mut(&dir) {
            *count += 1;
            return Some(WriteLock { dir });
        }
    }
    let file = loop {
        let file = open_lock_file(&dir).ok()?;
        file.try_lock().ok()?;
        if still_at_path(&dir, &file) {
            break file;
        }
    };
    held()
        .get_or_insert_with(HashMap::new)
        .insert(dir.clone(), (file, 1));
    Some(WriteLock { dir })
}

/// Whether `path` (which need not exist) lies inside the directory `dir`.
pub fn is_inside(path: &Path, dir: &Path) -> bool {
    let dir = canonical(dir);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => return false,
        }
    };
    // Resolve the deepest existing ancestor (symbolic links included), then append
    // the rest.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(existing) {
            let mut full = c;
            for part in rest.iter().rev() {
                full.push(part);
            }
            return full.starts_with(&dir);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_nests_in_one_process_and_is_released_by_the_last_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write_lock(dir.path()).expect("first");
        let b = try_write_lock(dir.path()).expect("nested");
        assert!(holds(dir.path()));
        drop(a);
        assert!(holds(dir.path()));
        drop(b);
        assert!(!holds(dir.path()));
        assert!(!dir.path().join(LOCK_FILE).exists(), "deleted on release");
        // Another open file description sees it free again.
        let f = open_lock_file(dir.path()).expect("open");
        f.try_lock().expect("free");
    }

    #[test]
    fn paths_inside_the_workspace_are_recognised() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("leads")).expect("mkdir");
        assert!(is_inside(
            &dir.path().join("leads/new/x.parquet"),
            dir.path()
        ));
        assert!(is_inside(&dir.path().join("leads/../y.csv"), dir.path()));
        assert!(is_inside(dir.path(), dir.path()));
        assert!(!is_inside(&dir.path().join("../elsewhere.csv"), dir.path()));
    }
}
