//! The scalar functions whose results depend on a workspace's models
//! (`predict_score`, `prediction_factors`, `top_factors` read predictive models,
//! `lead_grade` rule models), and how another process rebuilds them.
//!
//! A plan sent to a cluster carries functions by name. Those that need no workspace
//! are rebuilt from the [catalogue](crate::catalogue) by name alone ([`standalone`]);
//! these four also carry their [`Binding`]: the workspace folder, which every machine
//! of the cluster reads at the same path, and the instant the client's session knows
//! the workspace up to. A machine that receives one reads the models from that
//! folder itself ([`bind`]): model state never travels through the client.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use crate::catalogue::{Build, CATALOGUE, Function, Kind};
use crate::predictive::factors::Factors;
use crate::predictive::predict_score::PredictScore;
use crate::predictive::{PredictiveModels, prediction_factors, top_factors};
use crate::scoring::RuleModels;
use crate::scoring::lead_grade::LeadGrade;

/// Where a workspace-bound function reads its models.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Binding {
    /// The workspace folder.
    pub workspace: PathBuf,
    /// The instant (µs since the epoch) the session knows the workspace up to, if set.
    pub as_of: Option<i64>,
    /// The version each predictive model name stands for in the client's session
    /// (`'conversion'` is `conversion@3` on every machine, whatever is trained or
    /// activated meanwhile).
    pub pins: BTreeMap<String, u32>,
}

/// The functions whose first argument names a predictive model (`'name'` or
/// `'name@N'`).
pub const MODEL_ARGUMENT: &[&str] = &[
    crate::predictive::predict_score::NAME,
    prediction_factors::NAME,
    top_factors::NAME,
];

/// The binding of `udf`, if it is one of the workspace-bound functions and its models
/// were read from a workspace folder; an error when the model store cannot be read.
pub fn binding(udf: &ScalarUDF) -> Result<Option<Binding>> {
    let inner = udf.inner();
    let predictive = |m: &PredictiveModels| -> Result<Option<Binding>> {
        let Some(workspace) = m.store().dir().parent() else {
            return Ok(None);
        };
        Ok(Some(Binding {
            workspace: workspace.to_path_buf(),
            as_of: m.as_of(),
            pins: m.pins(udf.name())?,
        }))
    };
    if let Some(f) = inner.downcast_ref::<PredictScore>() {
        return predictive(f.models());
    }
    if let Some(f) = inner.downcast_ref::<Factors>() {
        return predictive(f.models());
    }
    if let Some(f) = inner.downcast_ref::<LeadGrade>() {
        let rules = f.models();
        return Ok(rules.workspace().map(|dir| Binding {
            workspace: dir.to_path_buf(),
            as_of: rules.default_as_of(),
            pins: BTreeMap::new(),
        }));
    }
    Ok(None)
}

/// The workspace-bound scalar function `name` over `rules` and `predictive`, or None
/// when `name` is not one.
pub fn bind(
    name: &str,
    rules: &Arc<RuleModels>,
    predictive: &Arc<PredictiveModels>,
) -> Option<Arc<ScalarUDF>> {
    let entry = CATALOGUE
        .iter()
        .find(|e| e.name == name && e.kind == Kind::Scalar)?;
    let function = match entry.build {
        Build::Rules(f) => f(rules),
        Build::Predictive(f) => f(predictive),
        Build::Models(f) => f(rules, predictive),
        _ => return None,
    };
    match function {
        Function::Scalar(udf) => Some(udf),
        Function::Table(_) => None,
    }
}

/// The catalogue's scalar function `name` that needs no workspace (`decay`,
/// `normalize_email`, …), or None.
pub fn standalone(name: &str) -> Option<Arc<ScalarUDF>> {
    let entry = CATALOGUE
        .iter()
        .find(|e| e.name == name && e.kind == Kind::Scalar)?;
    match entry.build {
        Build::Standalone(f) => match f() {
            Function::Scalar(udf) => Some(udf),
            Function::Table(_) => None,
        },
        _ => None,
    }
}

/// Every scalar function of the catalogue that needs no workspace.
pub fn standalone_all() -> Vec<Arc<ScalarUDF>> {
    CATALOGUE
        .iter()
        .filter_map(|e| standalone(e.name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadql_models::store::ModelStore;

    #[test]
    fn bound_functions_name_their_workspace_and_rebuild_by_name() {
        let rules = Arc::new(RuleModels::new(Some(7)).read_from("/ws"));
        let predictive = Arc::new(PredictiveModels::with_as_of(
            ModelStore::new("/ws/models"),
            Some(7),
        ));
        for name in [
            "predict_score",
            "prediction_factors",
            "top_factors",
            "lead_grade",
        ] {
            let udf = bind(name, &rules, &predictive).expect(name);
            assert_eq!(udf.name(), name);
            assert_eq!(
                binding(&udf).expect("binds"),
                Some(Binding {
                    workspace: "/ws".into(),
                    as_of: Some(7),
                    pins: BTreeMap::new(),
                }),
                "{name}"
            );
            assert!(standalone(name).is_none(), "{name} needs a workspace");
        }
        let decay = standalone("decay").expect("decay needs no workspace");
        assert_eq!(binding(&decay).expect("no binding"), None);
        assert!(bind("decay", &rules, &predictive).is_none());
        assert!(
            standalone_all()
                .iter()
                .any(|u| u.name() == "name_similarity")
        );
        // Rule models not read from a folder have no binding.
        let loose = bind("lead_grade", &Arc::new(RuleModels::new(None)), &predictive);
        assert_eq!(loose.map(|u| binding(&u).expect("no binding")), Some(None));
    }
}
