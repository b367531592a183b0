//! The predictive models a session can use: the workspace's model store plus a cache
//! of loaded models, updated when a model is trained or dropped in the session.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use datafusion::common::{Result, plan_datafusion_err};
use leadql_models::predictive::PredictiveModel;
use leadql_models::store::ModelStore;

/// Predictive models of a workspace.
#[derive(Debug)]
pub struct PredictiveModels {
    store: ModelStore,
    cache: RwLock<HashMap<String, Arc<PredictiveModel>>>,
    as_of: Option<i64>,
    /// The version each model name stands for, when fixed by another process (a
    /// cluster's client fixes them for its executors).
    pins: Option<BTreeMap<String, u32>>,
}

impl PredictiveModels {
    /// Models stored in `store`.
    pub fn new(store: ModelStore) -> Self {
        PredictiveModels {
            store,
            cache: RwLock::new(HashMap::new()),
            as_of: None,
            pins: None,
        }
    }

    /// Models stored in `store`, in a session that knows the workspace up to `as_of`
    /// (µs since the epoch): models trained here record it as what they knew.
    pub fn with_as_of(store: ModelStore, as_of: Option<i64>) -> Self {
        PredictiveModels {
            as_of,
            ..PredictiveModels::new(store)
        }
    }

    /// The same models with each name in `pins` standing for its version there.
    pub fn with_pins(mut self, pins: BTreeMap<String, u32>) -> Self {
        self.pins = Some(pins);
        self
    }

    /// The version every model of the store stands for in this session (its active
    /// version as of the session's instant), or the pins this registry was given.
    pub fn pins(&self, function: &str) -> Result<BTreeMap<String, u32>> {
        if let Some(pins) = &self.pins {
            return Ok(pins.clone());
        }
        let names = self
            .store
            .names()
            .map_err(|e| plan_datafusion_err!("{function}: {e}"))?;
        let mut pins = BTreeMap::new();
        for name in names {
            // A model with no version usable at the session's instant stays unpinned
            // (naming it is then the same error everywhere).
            if let Ok(model) = self.get(function, &name) {
                pins.insert(name, model.version);
            }
        }
        Ok(pins)
    }

    /// The instant the session knows the workspace up to.
    pub fn as_of(&self) -> Option<i64> {
        self.as_of
    }

    /// The store.
    pub fn store(&self) -> &ModelStore {
        &self.store
    }

    /// The model `spec` names: `name` is its active version (pinned with `leadql model
    /// activate`, else the latest), `name@3` its version 3.
    pub fn get(&self, function: &str, spec: &str) -> Result<Arc<PredictiveModel>> {
        if let Some(m) = self.cache.read().ok().and_then(|c| c.get(spec).cloned()) {
            return Ok(m);
        }
        let pinned = self
            .pins
            .as_ref()
            .and_then(|p| p.get(spec))
            .map(|v| format!("{spec}@{v}"));
        let loaded = match pinned.as_deref().unwrap_or(spec).split_once('@') {
            Some((name, version)) => {
                let v: u32 = version.parse().map_err(|_| {
                    plan_datafusion_err!(
                        "{function}: '{spec}' names no version: write NAME@N with N a version number"
                    )
                })?;
                self.store.version(name, v)
            }
            None => match (self.store.active(spec), self.as_of) {
                // In a session that knows the workspace up to `t`, versions trained on
                // later knowledge did not exist yet: the latest earlier one is active.
                (Ok(m), Some(t)) if m.known_until.is_some_and(|k| k > t) => self.known_by(spec, t),
                (other, _) => other,
            },
        };
        let model = Arc::new(loaded.map_err(|e| plan_datafusion_err!("{function}: {e}"))?);
        if let Ok(mut c) = self.cache.write() {
            c.insert(spec.to_string(), model.clone());
        }
        Ok(model)
    }

    /// The latest version of `name` trained on what was known by `t`.
    fn known_by(
        &self,
        name: &str,
        t: i64,
    ) -> Result<PredictiveModel, leadql_models::predictive::TrainError> {
        self.store
            .all()?
            .into_iter()
            .filter(|m| m.name == name && m.known_until.is_none_or(|k| k <= t))
            .max_by_key(|m| m.version)
            .ok_or_else(|| leadql_models::predictive::TrainError::NoVersionKnownBy {
                name: name.to_string(),
            })
    }

    /// Saves a newly trained model as the next version and makes it current.
    pub fn save(&self, mut model: PredictiveModel) -> Result<Arc<PredictiveModel>> {
        self.store
            .save(&mut model)
            .map_err(|e| plan_datafusion_err!("saving model: {e}"))?;
        let model = Arc::new(model);
        if let Ok(mut c) = self.cache.write() {
            // Unversioned names now resolve anew (a pinned version stays active).
            c.retain(|k, _| k.contains('@'));
        }
        Ok(model)
    }

    /// Removes every version of `name`; returns how many there were.
    pub fn drop_model(&self, name: &str) -> Result<usize> {
        let n = self
            .store
            .drop_model(name)
            .map_err(|e| plan_datafusion_err!("DROP MODEL: {e}"))?;
        if let Ok(mut c) = self.cache.write() {
            c.retain(|k, _| k.split('@').next() != Some(name));
        }
        Ok(n)
    }
}
