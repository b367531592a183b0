//! The model registry of a workspace: `models/NAME/vN.json`, one file per version.
//!
//! Every change is one atomic rename, so a process killed at any instant leaves a model
//! entirely as it was or entirely changed:
//! - saving writes the next version aside (`.vN.json.PID.tmp`), syncs it and renames
//!   it into place: a crash never leaves a half-written version;
//! - pinning writes `ACTIVE` the same way, after checking the version exists;
//! - dropping renames the model's folder aside (`models/.NAME.PID.dropped`, invisible to
//!   the registry) before deleting it, so no half-dropped model (versions gone, `ACTIVE`
//!   still naming them) is ever seen.
//!
//! What a killed process left (temporary files, folders moved aside) is ignored by the
//! registry and removed by [`ModelStore::remove_leftovers`] when the workspace is opened.
//! Loading refuses files of another format version with a message saying so.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::fault::file_operation;
use crate::predictive::{FORMAT_VERSION, PredictiveModel};
use crate::train_error::TrainError;

/// A workspace's predictive models.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::File {
        path: path.to_path_buf(),
        problem: e.to_string(),
    }
}

/// Whether `name` is usable as a model name (letters, digits, `_`, `-`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks a user-supplied model name before it becomes a path. The one gate every
/// entry point passes (create, drop, load, predict: all reach the store's folders through
/// it), so a name such as `../x` or `/abs/dir` never touches a directory.
pub fn check_name(name: &str) -> Result<(), TrainError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(TrainError::InvalidModelName(name.to_string()))
    }
}

impl ModelStore {
    /// The registry in `dir` (usually `WORKSPACE/models`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelStore { dir: dir.into() }
    }

    /// The registry's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of model `name`, once the name is checked ([`check_name`]).
    fn folder(&self, name: &str) -> Result<PathBuf, TrainError> {
        check_name(name)?;
        Ok(self.dir.join(name))
    }

    fn versions(&self, name: &str) -> Result<Vec<(u32, PathBuf)>, TrainError> {
        let folder = self.folder(name)?;
        let mut out = Vec::new();
        let entries = match fs::read_dir(&folder) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io_err(&folder, e)),
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if let Some(v) = file
                .strip_prefix('v')
                .and_then(|f| f.strip_suffix(".json"))
                .and_then(|v| v.parse().ok())
            {
                out.push((v, entry.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Every model name, sorted.
    pub fn names(&self) -> Result<Vec<String>, TrainError> {
        let mut names = Vec::new();
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.path().is_dir() && valid_name(&name) && !self.versions(&name)?.is_empty() {
                    names.push(name);
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Saves `model` as the next version of its name; returns that version.
    pub fn save(&self, model: &mut PredictiveModel) -> Result<u32, TrainError> {
        let folder = self.folder(&model.name)?;
        let version = self.versions(&model.name)?.last().map_or(1, |(v, _)| v + 1);
        model.version = version;
        fs::create_dir_all(&folder).map_err(|e| io_err(&folder, e))?;
        let path = folder.join(format!("v{version}.json"));
        let text = serde_json::to_vec_pretty(model).map_err(|e| io_err(&path, e))?;
        write_atomically(&path, &text)?;
        Ok(version)
    }

    /// Loads the latest version of `name`.
    pub fn latest(&self, name: &str) -> Result<PredictiveModel, TrainError> {
        match self.versions(name)?.last() {
            Some((_, path)) => load(path),
            None => Err(TrainError::UnknownModel {
                name: name.to_string(),
                known: Some(self.names()?),
            }),
        }
    }

    /// Loads version `version` of `name`.
    pub fn version(&self, name: &str, version: u32) -> Result<PredictiveModel, TrainError> {
        let versions = self.versions(name)?;
        match versions.iter().find(|(v, _)| *v == version) {
            Some((_, path)) => load(path),
            None => Err(TrainError::UnknownVersion {
                name: name.to_string(),
                version,
                versions: versions.iter().map(|(v, _)| *v).collect(),
            }),
        }
    }

    /// The version of `name` pinned by [`ModelStore::activate`] (file `NAME/ACTIVE`),
    /// if any.
    pub fn pinned(&self, name: &str) -> Result<Option<u32>, TrainError> {
        let path = self.folder(name)?.join("ACTIVE");
        match fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map(Some).map_err(|_| {
                io_err(
                    &path,
                    format!("expected a version number, found '{}'", text.trim()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    /// The active version of `name`: the pinned one, else the latest.
    pub fn active(&self, name: &str) -> Result<PredictiveModel, TrainError> {
        match self.pinned(name)? {
            Some(v) => self.version(name, v),
            None => self.latest(name),
        }
    }

    /// Pins version `version` of `name` as its active version (`None`: unpin, the
    /// latest is active). Written atomically.
    pub fn activate(&self, name: &str, version: Option<u32>) -> Result<(), TrainError> {
        let path = self.folder(name)?.join("ACTIVE");
        match version {
            Some(v) => {
                self.version(name, v)?;
                write_atomically(&path, format!("{v}\n").as_bytes())
            }
            None => match fs::remove_file(&path) {
                Ok(()) => {
                    sync_dir(&self.folder(name)?);
                    file_operation("model unpinned");
                    Ok(())
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_err(&path, e)),
            },
        }
    }

    /// Every version of every model, oldest first.
    pub fn all(&self) -> Result<Vec<PredictiveModel>, TrainError> {
        let mut out = Vec::new();
        for name in self.names()? {
            for (_, path) in self.versions(&name)? {
                out.push(load(&path)?);
            }
        }
        Ok(out)
    }

    /// Removes every version of `name`; returns how many there were. The folder is
    /// first renamed aside (the one step that makes the model disappear), then deleted.
    pub fn drop_model(&self, name: &str) -> Result<usize, TrainError> {
        let folder = self.folder(name)?;
        let n = self.versions(name)?.len();
        if n == 0 {
            return Err(TrainError::UnknownModel {
                name: name.to_string(),
                known: None,
            });
        }
        let aside = self
            .dir
            .join(format!(".{name}.{}{DROPPED}", std::process::id()));
        if aside.exists() {
            fs::remove_dir_all(&aside).map_err(|e| io_err(&aside, e))?;
        }
        fs::rename(&folder, &aside).map_err(|e| io_err(&folder, e))?;
        sync_dir(&self.dir);
        file_operation("model moved aside");
        fs::remove_dir_all(&aside).map_err(|e| io_err(&aside, e))?;
        file_operation("dropped model removed");
        Ok(n)
    }

    /// What killed processes left in the registry: temporary files in model folders
    /// (`.NAME.PID.tmp`) and dropped models moved aside (`.NAME.PID.dropped`), of
    /// processes other than this one. Stale when no other writer holds the workspace.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let own = std::process::id();
        let mut found = Vec::new();
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return found;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if leftover_pid(&name, DROPPED).is_some_and(|pid| pid != own) {
                found.push(path);
            } else if valid_name(&name)
                && let Ok(files) = fs::read_dir(&path)
            {
                found.extend(
                    files
                        .flatten()
                        .filter(|f| {
                            let file = f.file_name().to_string_lossy().into_owned();
                            leftover_pid(&file, TEMPORARY).is_some_and(|pid| pid != own)
                        })
                        .map(|f| f.path()),
                );
            }
        }
        found.sort();
        found
    }

    /// Removes [`ModelStore::leftovers`]; call it only under the workspace's write
    /// lock. Returns how many were removed.
    pub fn remove_leftovers(&self) -> Result<usize, TrainError> {
        let leftovers = self.leftovers();
        for path in &leftovers {
            let removed = if path.is_dir() {
                fs::remove_dir_all(path)
            } else {
                fs::remove_file(path)
            };
            match removed {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(path, e)),
            }
        }
        Ok(leftovers.len())
    }
}

const TEMPORARY: &str = ".tmp";
const DROPPED: &str = ".dropped";

/// The process id in a leftover's name `.NAME.PID<suffix>`.
fn leftover_pid(file: &str, suffix: &str) -> Option<u32> {
    let body = file.strip_prefix('.')?.strip_suffix(suffix)?;
    let (_, pid) = body.rsplit_once('.')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Writes `contents` to `path` aside (`.NAME.PID.tmp`), syncs it and renames it into
/// place; the temporary file is removed when a step fails.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), TrainError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.{}{TEMPORARY}", std::process::id()));
    let written = fs::File::create(&temp)
        .and_then(|mut f| f.write_all(contents).and_then(|()| f.sync_all()))
        .map_err(|e| io_err(&temp, e));
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    file_operation("model file written aside");
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(io_err(path, e));
    }
    if let Some(parent) = path.parent() {
        sync_dir(parent);
    }
    file_operation("model file renamed into place");
    Ok(())
}

/// Makes renames in `dir` durable (best effort).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Loads one model file, checking its format version and its content
/// ([`PredictiveModel::validate`]).
pub fn load(path: &Path) -> Result<PredictiveModel, TrainError> {
    let text = fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let head: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| io_err(path, format!("not a model file ({e})")))?;
    match head.get("format_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(io_err(
                path,
                format!(
                    "model format version {v}, but this leadql reads version {FORMAT_VERSION}: retrain the model"
                ),
            ));
        }
        None => return Err(io_err(path, "not a model file (no format_version)")),
    }
    let model: PredictiveModel = serde_json::from_str(&text)
        .map_err(|e| io_err(path, format!("damaged model file ({e})")))?;
    model
        .validate()
        .map_err(|e| io_err(path, format!("invalid model file: {e}")))?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_are_other_processes_temporaries_and_dropped_folders_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ModelStore::new(dir.path());
        let m = dir.path().join("m");
        fs::create_dir_all(&m).expect("mkdir");
        let own = std::process::id();
        for file in [
            "v1.json".to_string(),
            ".v2.json.12.tmp".to_string(),
            ".ACTIVE.13.tmp".to_string(),
            format!(".v3.json.{own}.tmp"),
            ".v4.json.x.tmp".to_string(),
            "notes.tmp".to_string(),
        ] {
            fs::write(m.join(file), b"{").expect("write");
        }
        fs::create_dir_all(dir.path().join(".old.14.dropped")).expect("mkdir");
        fs::create_dir_all(dir.path().join(".old.x.dropped")).expect("mkdir");
        let names: Vec<String> = store
            .leftovers()
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [".old.14.dropped", "m/.ACTIVE.13.tmp", "m/.v2.json.12.tmp"]
        );
        assert_eq!(store.remove_leftovers().expect("removed"), 3);
        assert!(store.leftovers().is_empty());
        assert!(m.join("v1.json").is_file());
        assert!(m.join(format!(".v3.json.{own}.tmp")).is_file());
    }
}
