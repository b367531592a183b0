//! Replacing a workspace by a generated one in one step.
//!
//! `generate` writes the whole new workspace in a staging folder beside it
//! (`PARENT/.NAME.leadql-generate-PID`), with the analyst's own files carried over
//! (rule models, policies, views, model recipes, any other file: hard links, or copies
//! across file systems), then exchanges the two directories with one
//! `renameat2(RENAME_EXCHANGE)` and removes the old one. A process killed at any
//! instant leaves the old workspace intact (before the exchange) or the complete new
//! one (after it); a staging folder of a dead process is removed by the next
//! `generate` of that workspace.
//!
//! What the new data makes meaningless is not carried over: the tables, the import log,
//! run history and sales activities, trained model versions and `workspace.toml`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::schema;

const STAGING_TAG: &str = ".leadql-generate-";

/// The staging folder beside the workspace `dir` (canonical) for this process.
pub fn staging_for(dir: &Path) -> Result<PathBuf> {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return Err(Error::Workspace {
            dir: dir.to_path_buf(),
            reason: "generate needs a directory with a parent folder".into(),
        });
    };
    Ok(parent.join(format!(
        ".{}{STAGING_TAG}{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Removes the staging folders of `dir` left by processes that no longer run (and,
/// from older versions, staging folders inside it).
pub fn remove_stale_staging(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(STAGING_TAG) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    let Some(name) = dir.file_name() else {
        return;
    };
    let prefix = format!(".{}{STAGING_TAG}", name.to_string_lossy());
    crate::atomic::remove_dead_writers(crate::atomic::parent_of(dir), &prefix, "");
}

/// Whether the top-level entry `name` of a workspace is generated data or state that
/// belongs to it (not carried over into a regenerated workspace).
fn belongs_to_the_data(name: &str) -> bool {
    name.starts_with(".leadql")
        || name == "workspace.toml"
        || name == crate::run::HISTORY
        || name == crate::run::ACTIVITIES
        || name == schema::PLANTED_DUPLICATES.name
        || schema::core_table(name).is_some()
}

/// Carries the analyst's files of the workspace `from` over into the staged one `to`
/// (hard links where possible), leaving out the data and its state, and trained model
/// versions (`models/NAME/`; the recipes `models/NAME.sql` are kept).
pub fn carry_over(from: &Path, to: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(from) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if belongs_to_the_data(&name) {
            continue;
        }
        let source = e.path();
        let target = to.join(&name);
        if name == "models" && source.is_dir() {
            fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
            for m in fs::read_dir(&source)
                .map_err(|e| Error::io(&source, e))?
                .flatten()
            {
                if !m.path().is_dir() {
                    link_or_copy(&m.path(), &target.join(m.file_name()))?;
                }
            }
        } else {
            link_tree(&source, &target)?;
        }
    }
    Ok(())
}

fn link_tree(source: &Path, target: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(source).map_err(|e| Error::io(source, e))?;
    if meta.is_dir() {
        fs::create_dir_all(target).map_err(|e| Error::io(target, e))?;
        for e in fs::read_dir(source)
            .map_err(|e| Error::io(source, e))?
            .flatten()
        {
            link_tree(&e.path(), &target.join(e.file_name()))?;
        }
        Ok(())
    } else if meta.is_symlink() {
        let to = fs::read_link(source).map_err(|e| Error::io(source, e))?;
        std::os::unix::fs::symlink(&to, target).map_err(|e| Error::io(target, e))
    } else {
        link_or_copy(source, target)
    }
}

fn link_or_copy(source: &Path, target: &Path) -> Result<()> {
    if fs::hard_link(source, target).is_ok() {
        return Ok(());
    }
    fs::copy(source, target)
        .map(|_| ())
        .map_err(|e| Error::io(target, e))
}

/// Puts the staged workspace in place of `dir` in one step (the old one is then at
/// `staging`), handing this process's write lock over to the new workspace's lock file
/// so that no other writer slips in while the old one is removed.
pub fn exchange(staging: &Path, dir: &Path) -> Result<()> {
    let lock_path = staging.join(crate::lock::LOCK_FILE);
    let lock = File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
    lock.try_lock().map_err(|e| {
        Error::io(
            &lock_path,
            std::io::Error::other(format!("cannot lock the staged workspace ({e})")),
        )
    })?;
    for d in [staging, dir] {
        crate::atomic::sync_parent(&d.join("x"));
    }
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        staging,
        rustix::fs::CWD,
        dir,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(|e| {
        Error::io(
            dir,
            std::io::Error::other(format!(
                "cannot swap in the generated workspace from {} ({e}); the old workspace is unchanged",
                staging.display()
            )),
        )
    })?;
    crate::lock::hand_over(dir, lock);
    crate::atomic::sync_parent(dir);
    Ok(())
}
