//! The workspace's qualification policies, by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::{Result, plan_err};
use leadql_models::policy::Policy;
use leadql_models::rules::ModelError;

/// Policies loaded from `policies/*.toml`; an invalid file is kept with its error and
/// reported when used.
#[derive(Debug, Default)]
pub struct Policies {
    policies: BTreeMap<String, Result<Arc<Policy>, ModelError>>,
}

impl Policies {
    /// No policies.
    pub fn new() -> Self {
        Policies::default()
    }

    /// Adds a parsed (or failed) policy.
    pub fn insert(&mut self, name: impl Into<String>, policy: Result<Policy, ModelError>) {
        self.policies.insert(name.into(), policy.map(Arc::new));
    }

    /// The policy `name`, or an error naming the known ones.
    pub fn get(&self, function: &str, name: &str) -> Result<Arc<Policy>> {
        match self.policies.get(name) {
            Some(Ok(p)) => Ok(p.clone()),
            Some(Err(e)) => plan_err!("{function}: policy '{name}' is invalid: {e}"),
            None => {
                let known: Vec<&str> = self.names().collect();
                plan_err!(
                    "{function}: unknown policy '{name}' (policies: {})",
                    if known.is_empty() {
                        "none; add policies/NAME.toml to the workspace".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            }
        }
    }

    /// Names of every policy file, valid or not.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }
}
