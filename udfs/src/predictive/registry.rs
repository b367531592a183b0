//! The predictive models a session can use: the workspace's model store plus a cache
//! of loaded models, updated when a model is trained or dropped in the session.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use datafusion::common::{Result, plan_datafusion_err};
use leadql_models::predictive::PredictiveModel;
use leadql_models::store::ModelStore;

/// Predictive models of a workspace.
#[derive(Debug)]
pub struct PredictiveModels {
    store: ModelStore,
    cache: RwLock<HashMap<String, Arc<PredictiveModel>>>,
}

impl PredictiveModels {
    /// Models stored in `store`.
    pub fn new(store: ModelStore) -> Self {
        PredictiveModels {
            store,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The store.
    pub fn store(&self) -> &ModelStore {
        &self.store
    }

    /// The latest version of `name`.
    pub fn get(&self, function: &str, name: &str) -> Result<Arc<PredictiveModel>> {
        if let Some(m) = self.cache.read().ok().and_then(|c| c.get(name).cloned()) {
            return Ok(m);
        }
        let model = Arc::new(
            self.store
                .latest(name)
                .map_err(|e| plan_datafusion_err!("{function}: {e}"))?,
        );
        if let Ok(mut c) = self.cache.write() {
            c.insert(name.to_string(), model.clone());
        }
        Ok(model)
    }

    /// Saves a newly trained model as the next version and makes it current.
    pub fn save(&self, mut model: PredictiveModel) -> Result<Arc<PredictiveModel>> {
        self.store
            .save(&mut model)
            .map_err(|e| plan_datafusion_err!("saving model: {e}"))?;
        let model = Arc::new(model);
        if let Ok(mut c) = self.cache.write() {
            c.insert(model.name.clone(), model.clone());
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
            c.remove(name);
        }
        Ok(n)
    }
}
