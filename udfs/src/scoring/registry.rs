//! The rule models a session can score with, as loaded from a workspace.
//!
//! Model files that failed validation stay listed with their error, so that using them
//! reports the file and line instead of "unknown model".

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::{Result, plan_err};
use leadql_models::{ModelError, RuleModel};

/// Rule models by name, and the default `as_of` instant of the workspace.
#[derive(Debug, Default)]
pub struct RuleModels {
    models: BTreeMap<String, Result<Arc<RuleModel>, ModelError>>,
    default_as_of: Option<i64>,
    workspace: Option<std::path::PathBuf>,
}

impl RuleModels {
    /// An empty registry with an optional default `as_of` (µs since the epoch).
    pub fn new(default_as_of: Option<i64>) -> Self {
        RuleModels {
            models: BTreeMap::new(),
            default_as_of,
            workspace: None,
        }
    }

    /// The same registry, read from the workspace in `dir` (whose `scoring/` folder a
    /// cluster's executors read again: [`crate::workspace_bound`]).
    pub fn read_from(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.workspace = Some(dir.into());
        self
    }

    /// The workspace the models were read from, if any.
    pub fn workspace(&self) -> Option<&std::path::Path> {
        self.workspace.as_deref()
    }

    /// Adds a model (or the error that prevented loading it) under `name`.
    pub fn insert(&mut self, name: impl Into<String>, model: Result<RuleModel, ModelError>) {
        self.models.insert(name.into(), model.map(Arc::new));
    }

    /// The model called `name`, or a planning error naming the problem.
    pub fn get(&self, function: &str, name: &str) -> Result<Arc<RuleModel>> {
        match self.models.get(name) {
            Some(Ok(m)) => Ok(m.clone()),
            Some(Err(e)) => plan_err!("{function}: model '{name}' is invalid: {e}"),
            None => {
                let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
                plan_err!(
                    "{function}: unknown scoring model '{name}' (models: {})",
                    if known.is_empty() {
                        "none; add one to the workspace's scoring/ folder".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            }
        }
    }

    /// Every model name, valid or not.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.models.keys().map(String::as_str)
    }

    /// Errors of the models that failed to load.
    pub fn errors(&self) -> impl Iterator<Item = &ModelError> {
        self.models.values().filter_map(|m| m.as_ref().err())
    }

    /// The workspace's default `as_of` instant.
    pub fn default_as_of(&self) -> Option<i64> {
        self.default_as_of
    }
}
