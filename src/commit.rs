//! Atomic multi-file changes: stage, write a journal, apply.
//!
//! A change that adds several files (an import's leads, contacts, interactions and
//! import log; a lifecycle change's events and created records; a run's qualification
//! history and sales activities) is one [`Transaction`]:
//!
//! 1. every new file is written under a hidden staging folder of the workspace,
//!    `.leadql-staging/PID-START-N/` (catalogs ignore hidden folders);
//! 2. a journal listing the renames (staged file → final path) is written beside them,
//!    synced, and renamed into place as `journal`: **this is the commit point**;
//! 3. the renames are applied, then the journal and the staging folder removed.
//!
//! After a kill at any instant, [`recover`] (run when a workspace is opened) finishes a
//! change whose journal exists (roll forward: renames are idempotent), and removes a
//! staging folder without one (roll back: nothing of it was visible), together with the
//! `.NAME.PID.tmp` files of [`crate::atomic`] left by killed writers and what a killed
//! `CREATE MODEL`, `DROP MODEL` or `model activate` left in `models/`
//! ([`leadql_models::store::ModelStore::remove_leftovers`]). It does so only
//! under the workspace's write lock ([`crate::lock`]), so never under a live writer. A
//! reader that opens the workspace while a writer applies its renames waits the few
//! milliseconds that takes (a shared `flock` on the workspace directory itself, which
//! the applying writer holds exclusively), so it sees the change
//! entirely or not at all.
//!
//! Debug builds count file operations and exit with code 86 after the N-th when
//! `LEADQL_FAIL_AFTER_OP=N` is set: the crash-consistency tests kill a command after
//! each file operation in turn.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::atomic;
use crate::error::{Error, Result};
use crate::lock::{self, WriteLock};

/// The staging folder of the workspace.
pub const STAGING: &str = ".leadql-staging";
const JOURNAL: &str = "journal";
const JOURNAL_VERSION: &str = "leadql-journal 1";

/// Exit code of an injected failure.
pub const INJECTED_EXIT: i32 = leadql_models::fault::INJECTED_EXIT;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// The start of this process's staging folder names: its id and the instant it first
/// staged, so a later process reusing the id never mistakes a dead one's folder for
/// its own.
fn own_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{}-{nanos}-", std::process::id())
    })
}

/// Marks the end of one file operation; in debug builds, exits the process without any
/// clean-up (as a kill would) when it is the N-th and `LEADQL_FAIL_AFTER_OP=N`. One
/// count for the whole process, model files included ([`leadql_models::fault`]).
pub fn file_operation(what: &str) {
    leadql_models::fault::file_operation(what);
}

/// A multi-file change being staged; nothing is visible until [`Transaction::commit`].
/// Dropped without commit, its staged files are removed.
#[derive(Debug)]
pub struct Transaction {
    workspace: PathBuf,
    stage: PathBuf,
    renames: Vec<(PathBuf, PathBuf)>,
    done: bool,
    _lock: WriteLock,
}

impl Transaction {
    /// Starts a change of the workspace `dir`, taking its write lock if this process
    /// does not hold it yet (commands take it before reading what they change).
    pub fn begin(dir: &Path) -> Result<Self> {
        let lock = lock::write_lock(dir)?;
        let workspace = lock::canonical(dir);
        let n = SEQUENCE.fetch_add(1, Ordering::SeqCst);
        let stage = workspace.join(STAGING).join(format!("{}{n}", own_prefix()));
        if stage.exists() {
            fs::remove_dir_all(&stage).map_err(|e| Error::io(&stage, e))?;
        }
        fs::create_dir_all(&stage).map_err(|e| Error::io(&stage, e))?;
        Ok(Transaction {
            workspace,
            stage,
            renames: Vec::new(),
            done: false,
            _lock: lock,
        })
    }

    /// Where to write the new file that will become `target` (a path inside the
    /// workspace) when the change commits.
    pub fn stage(&mut self, target: &Path) -> Result<PathBuf> {
        let target = if target.is_absolute() {
            target.to_path_buf()
        } else {
            self.workspace.join(target)
        };
        let parent = target.parent().map(lock::canonical).ok_or_else(|| {
            Error::io(&target, std::io::Error::other("a change needs a file path"))
        })?;
        let target = parent.join(target.file_name().unwrap_or_default());
        if !target.starts_with(&self.workspace) {
            return Err(Error::io(
                &target,
                std::io::Error::other("a change writes only inside its workspace"),
            ));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staged = self.stage.join(format!("{}-{name}", self.renames.len()));
        self.renames.push((staged.clone(), target));
        Ok(staged)
    }

    /// Makes the change: journal (the commit point), renames, clean-up. Every staged
    /// path must have been written.
    pub fn commit(mut self) -> Result<()> {
        for (staged, _) in &self.renames {
            if !staged.is_file() {
                return Err(Error::io(
                    staged,
                    std::io::Error::other("staged file was not written"),
                ));
            }
        }
        sync_dir(&self.stage);
        file_operation("staged files written");
        let mut text = format!("{JOURNAL_VERSION}\n");
        for (staged, target) in &self.renames {
            let name = staged
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| Error::io(staged, std::io::Error::other("not UTF-8")))?;
            let rel = target
                .strip_prefix(&self.workspace)
                .ok()
                .and_then(|r| r.to_str())
                .ok_or_else(|| Error::io(target, std::io::Error::other("not UTF-8")))?;
            text.push_str(&serde_json::json!([name, rel]).to_string());
            text.push('\n');
        }
        text.push_str(&format!("end {}\n", self.renames.len()));
        let _applying = commit_lock(&self.workspace, true);
        atomic::write(self.stage.join(JOURNAL), text.as_bytes())?;
        file_operation("journal written");
        apply(&self.workspace, &self.stage, &self.renames)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.stage);
            if let Some(parent) = self.stage.parent() {
                let _ = fs::remove_dir(parent);
            }
        }
    }
}

/// Applies a committed journal's renames (skipping those already done), then removes
/// the journal and the staging folder.
fn apply(workspace: &Path, stage: &Path, renames: &[(PathBuf, PathBuf)]) -> Result<()> {
    for (staged, target) in renames {
        if staged.exists() {
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            fs::rename(staged, target).map_err(|e| Error::io(target, e))?;
            atomic::sync_parent(target);
            file_operation("rename");
        }
    }
    let journal = stage.join(JOURNAL);
    fs::remove_file(&journal).map_err(|e| Error::io(&journal, e))?;
    sync_dir(stage);
    file_operation("journal removed");
    fs::remove_dir_all(stage).map_err(|e| Error::io(stage, e))?;
    let _ = fs::remove_dir(workspace.join(STAGING));
    sync_dir(workspace);
    file_operation("staging removed");
    Ok(())
}

/// The renames of a journal, if it is complete.
fn read_journal(workspace: &Path, stage: &Path) -> Option<Vec<(PathBuf, PathBuf)>> {
    let text = fs::read_to_string(stage.join(JOURNAL)).ok()?;
    let mut lines = text.lines();
    if lines.next()? != JOURNAL_VERSION {
        return None;
    }
    let mut renames = Vec::new();
    for line in lines {
        if let Some(n) = line.strip_prefix("end ") {
            return (n.parse::<usize>().ok()? == renames.len()).then_some(renames);
        }
        let (name, rel): (String, String) = serde_json::from_str(line).ok()?;
        let rel = Path::new(&rel);
        if name.contains('/')
            || rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return None;
        }
        renames.push((stage.join(name), workspace.join(rel)));
    }
    None
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A shared (reader) or exclusive (applying writer) lock on the workspace directory
/// itself (no file is created, so a reader writes nothing); `None` where a directory
/// cannot be opened or locked.
fn commit_lock(workspace: &Path, exclusive: bool) -> Option<File> {
    let file = File::open(workspace).ok()?;
    let locked = if exclusive {
        file.lock()
    } else {
        file.lock_shared()
    };
    locked.ok().map(|()| file)
}

/// What [`recover`] returns: held while the workspace's files are listed, so a writer
/// does not apply a change meanwhile.
#[derive(Debug)]
pub struct Recovered {
    _shared: Option<File>,
}

/// Finishes or removes what killed writers left in the workspace `dir`: a committed
/// change is rolled forward, an uncommitted one removed, stale temporary files deleted.
/// Does nothing while another process holds the write lock (a live writer), or when
/// `dir` is not a workspace. Keep the returned value until the workspace's files are
/// listed.
pub fn recover(dir: &Path) -> Result<Recovered> {
    if !dir.join(crate::schema::LEADS.name).is_dir() {
        return Ok(Recovered { _shared: None });
    }
    let workspace = lock::canonical(dir);
    let staging = workspace.join(STAGING);
    let own = own_prefix();
    let leftovers = workspace.join(STAGING).is_dir();
    let temporaries = stale_temporaries(&workspace);
    let models = leadql_models::store::ModelStore::new(workspace.join("models"));
    let model_leftovers = !models.leftovers().is_empty();
    // A lock file left by a killed writer is removed when its lock is released.
    let stale_lock = workspace.join(lock::LOCK_FILE).exists();
    // The write lock is taken only when there is something to clean, and only if free.
    if (leftovers || stale_lock || model_leftovers || !temporaries.is_empty())
        && let Some(_lock) = lock::try_write_lock(&workspace)
    {
        if leftovers {
            let mut stages: Vec<PathBuf> = fs::read_dir(&staging)
                .map_err(|e| Error::io(&staging, e))?
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with(own))
                .map(|e| e.path())
                .collect();
            stages.sort();
            for stage in stages {
                match read_journal(&workspace, &stage) {
                    Some(renames) => {
                        let _applying = commit_lock(&workspace, true);
                        apply(&workspace, &stage, &renames)?;
                        eprintln!(
                            "note: finished a change interrupted in {} ({} files)",
                            workspace.display(),
                            renames.len()
                        );
                    }
                    None => {
                        fs::remove_dir_all(&stage).map_err(|e| Error::io(&stage, e))?;
                    }
                }
            }
            let _ = fs::remove_dir(&staging);
        }
        // Listed again under the lock: a writer may have finished meanwhile.
        for file in stale_temporaries(&workspace) {
            let _ = fs::remove_file(file);
        }
        models
            .remove_leftovers()
            .map_err(|e| Error::Query(e.to_string()))?;
    }
    Ok(Recovered {
        _shared: commit_lock(&workspace, false),
    })
}

/// The `.NAME.PID.tmp` files of other processes in the workspace folder and its table
/// folders (stale when no other process holds the write lock).
fn stale_temporaries(workspace: &Path) -> Vec<PathBuf> {
    let mut folders = vec![workspace.to_path_buf()];
    if let Ok(entries) = fs::read_dir(workspace) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() && !name.starts_with(".leadql") {
                folders.push(e.path());
            }
        }
    }
    let own = format!(".{}.tmp", std::process::id());
    let mut stale = Vec::new();
    for folder in folders {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(body) = name
                .strip_prefix('.')
                .and_then(|rest| rest.strip_suffix(".tmp"))
            else {
                continue;
            };
            let is_pid = body
                .rsplit_once('.')
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
            if is_pid && !name.ends_with(&own) && e.path().is_file() {
                stale.push(e.path());
            }
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("leads")).expect("mkdir");
        dir
    }

    #[test]
    fn a_commit_moves_every_staged_file_and_leaves_no_staging() {
        let dir = workspace();
        let mut tx = Transaction::begin(dir.path()).expect("begin");
        let a = tx.stage(&dir.path().join("leads/a.parquet")).expect("a");
        let b = tx.stage(&dir.path().join("contacts/b.parquet")).expect("b");
        fs::write(&a, b"a").expect("write");
        fs::write(&b, b"b").expect("write");
        tx.commit().expect("commit");
        assert_eq!(
            fs::read(dir.path().join("leads/a.parquet")).expect("a"),
            b"a"
        );
        assert_eq!(
            fs::read(dir.path().join("contacts/b.parquet")).expect("b"),
            b"b"
        );
        assert!(!dir.path().join(STAGING).exists());
    }

    #[test]
    fn an_abandoned_change_leaves_nothing() {
        let dir = workspace();
        {
            let mut tx = Transaction::begin(dir.path()).expect("begin");
            let a = tx.stage(&dir.path().join("leads/a.parquet")).expect("a");
            fs::write(&a, b"a").expect("write");
        }
        assert!(!dir.path().join("leads/a.parquet").exists());
        assert!(!dir.path().join(STAGING).exists());
    }

    #[test]
    fn recovery_rolls_a_journal_forward_and_removes_an_unjournaled_stage() {
        let dir = workspace();
        let ws = lock::canonical(dir.path());
        // A committed change whose first rename happened (as if killed after it).
        let done = ws.join(STAGING).join("1-0");
        fs::create_dir_all(&done).expect("mkdir");
        fs::write(done.join("1-b.parquet"), b"b").expect("write");
        fs::write(ws.join("leads/a.parquet"), b"a").expect("write");
        fs::write(
            done.join(JOURNAL),
            format!(
                "{JOURNAL_VERSION}\n[\"0-a.parquet\",\"leads/a.parquet\"]\n[\"1-b.parquet\",\"contacts/b.parquet\"]\nend 2\n"
            ),
        )
        .expect("journal");
        // An uncommitted one, and a stale temporary.
        let open = ws.join(STAGING).join("2-0");
        fs::create_dir_all(&open).expect("mkdir");
        fs::write(open.join("0-c.parquet"), b"c").expect("write");
        fs::write(ws.join("leads/.d.parquet.1.tmp"), b"d").expect("write");
        drop(recover(dir.path()).expect("recover"));
        assert_eq!(fs::read(ws.join("contacts/b.parquet")).expect("b"), b"b");
        assert!(ws.join("leads/a.parquet").is_file());
        assert!(!ws.join("leads/c.parquet").exists());
        assert!(!ws.join(STAGING).exists());
        assert!(!ws.join("leads/.d.parquet.1.tmp").exists());
    }
}
