//! Atomic file replacement: write beside the target, flush to disk, then rename.
//!
//! Readers see either the old file or the complete new one, never a half-written file;
//! a process killed mid-write leaves the old file intact and a temporary file that the
//! next write replaces.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file being written beside its final path; [`AtomicFile::commit`] puts it in place.
/// Dropped without commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

/// The temporary sibling used while writing `target`.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

impl AtomicFile {
    /// Starts writing `target` (creating its parent directory if needed).
    pub fn create(target: impl Into<PathBuf>) -> Result<Self> {
        let target = target.into();
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        remove_stale_temporaries(&target);
        let temp = temp_path(&target);
        let file = File::create(&temp).map_err(|e| Error::io(&temp, e))?;
        Ok(AtomicFile {
            target,
            temp,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The final path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| Error::io(&self.target, io::Error::other("already committed")))?;
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&self.temp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&self.temp, e))?;
        drop(file);
        fs::rename(&self.temp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        sync_parent(&self.target);
        crate::commit::file_operation("file written");
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.writer.as_mut() {
            Some(w) => w.write(buf),
            None => Err(io::Error::other("write after commit")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Removes temporaries of `target` left by killed processes (`.NAME.PID.tmp` whose
/// process no longer runs; checked through `/proc`, so only on Linux).
pub fn remove_stale_temporaries(target: &Path) {
    let Some(name) = target.file_name() else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    remove_dead_writers(parent_of(target), &prefix, ".tmp");
}

/// The folder holding `path` (`.` for a bare name).
pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes the entries of `parent` named `PREFIX<pid>SUFFIX` whose process no longer
/// runs: what killed writers left beside their target. The check goes through
/// `/proc`, so nothing is removed where there is none.
pub fn remove_dead_writers(parent: &Path, prefix: &str, suffix: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_file(e.path()).or_else(|_| fs::remove_dir_all(e.path()));
        }
    }
}

/// Makes a rename durable by syncing the directory (best effort: not every platform
/// lets a directory be opened).
pub fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

/// Writes `contents` to `target` atomically.
pub fn write(target: impl Into<PathBuf>, contents: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(contents)
        .map_err(|e| Error::io(f.target().to_path_buf(), e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("out.csv");
        write(&target, b"old").expect("first write");
        {
            let mut f = AtomicFile::create(&target).expect("create");
            f.write_all(b"new but abandoned").expect("write");
        }
        assert_eq!(fs::read(&target).expect("read"), b"old");
        assert_eq!(
            fs::read_dir(dir.path()).expect("ls").count(),
            1,
            "temporary file left behind"
        );
        write(&target, b"new").expect("second write");
        assert_eq!(fs::read(&target).expect("read"), b"new");
    }
}
