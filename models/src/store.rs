//! The model registry of a workspace: `models/NAME/vN.json`, one file per version.
//!
//! Saving writes the next version beside the others (written aside, synced, renamed:
//! a crash never leaves a half-written model); loading refuses files of another format
//! version with a message saying so; dropping removes every version of a model.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::predictive::{FORMAT_VERSION, PredictiveModel, TrainError};

/// A workspace's predictive models.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError(format!("{}: {e}", path.display()))
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
        Err(TrainError(format!(
            "invalid model name '{name}': use letters, digits, _ and - (a model name is not a path)"
        )))
    }
}

impl ModelStore {
    /// The registry in `dir` (usually `WORKSPACE/models`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelStore { dir: dir.into() }
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
        let temp = folder.join(format!(".v{version}.json.{}.tmp", std::process::id()));
        let text = serde_json::to_vec_pretty(model).map_err(|e| io_err(&path, e))?;
        let mut f = fs::File::create(&temp).map_err(|e| io_err(&temp, e))?;
        f.write_all(&text)
            .and_then(|_| f.sync_all())
            .map_err(|e| io_err(&temp, e))?;
        fs::rename(&temp, &path).map_err(|e| io_err(&path, e))?;
        Ok(version)
    }

    /// Loads the latest version of `name`.
    pub fn latest(&self, name: &str) -> Result<PredictiveModel, TrainError> {
        match self.versions(name)?.last() {
            Some((_, path)) => load(path),
            None => {
                let known = self.names()?;
                Err(TrainError(format!(
                    "unknown model '{name}' (models: {})",
                    if known.is_empty() {
                        "none; train one with CREATE MODEL".into()
                    } else {
                        known.join(", ")
                    }
                )))
            }
        }
    }

    /// Loads version `version` of `name`.
    pub fn version(&self, name: &str, version: u32) -> Result<PredictiveModel, TrainError> {
        let versions = self.versions(name)?;
        match versions.iter().find(|(v, _)| *v == version) {
            Some((_, path)) => load(path),
            None => Err(TrainError(format!(
                "model '{name}' has no version {version} (versions: {})",
                if versions.is_empty() {
                    "none".to_string()
                } else {
                    versions
                        .iter()
                        .map(|(v, _)| v.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))),
        }
    }

    /// The version of `name` pinned by [`ModelStore::activate`] (file `NAME/ACTIVE`),
    /// if any.
    pub fn pinned(&self, name: &str) -> Result<Option<u32>, TrainError> {
        let path = self.folder(name)?.join("ACTIVE");
        match fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map(Some).map_err(|_| {
                TrainError(format!(
                    "{}: expected a version number, found '{}'",
                    path.display(),
                    text.trim()
                ))
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
                let temp = self
                    .folder(name)?
                    .join(format!(".ACTIVE.{}.tmp", std::process::id()));
                fs::write(&temp, format!("{v}\n")).map_err(|e| io_err(&temp, e))?;
                fs::rename(&temp, &path).map_err(|e| io_err(&path, e))
            }
            None => match fs::remove_file(&path) {
                Ok(()) => Ok(()),
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

    /// Removes every version of `name`; returns how many there were.
    pub fn drop_model(&self, name: &str) -> Result<usize, TrainError> {
        let folder = self.folder(name)?;
        let n = self.versions(name)?.len();
        if n == 0 {
            return Err(TrainError(format!("unknown model '{name}'")));
        }
        fs::remove_dir_all(&folder).map_err(|e| io_err(&folder, e))?;
        Ok(n)
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
