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

impl ModelStore {
    /// The registry in `dir` (usually `WORKSPACE/models`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelStore { dir: dir.into() }
    }

    fn versions(&self, name: &str) -> Result<Vec<(u32, PathBuf)>, TrainError> {
        let folder = self.dir.join(name);
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
        if !valid_name(&model.name) {
            return Err(TrainError(format!(
                "invalid model name '{}': use letters, digits, _ and -",
                model.name
            )));
        }
        let version = self.versions(&model.name)?.last().map_or(1, |(v, _)| v + 1);
        model.version = version;
        let folder = self.dir.join(&model.name);
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
        let n = self.versions(name)?.len();
        if n == 0 {
            return Err(TrainError(format!("unknown model '{name}'")));
        }
        let folder = self.dir.join(name);
        fs::remove_dir_all(&folder).map_err(|e| io_err(&folder, e))?;
        Ok(n)
    }
}

/// Loads one model file, checking its format version.
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
    serde_json::from_str(&text).map_err(|e| io_err(path, format!("damaged model file ({e})")))
}
