//! Argument handling shared by the scoring table functions.

use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::common::{Result, plan_err};
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::Expr;
use leadql_models::RuleModel;

use super::plan::AsOf;
use super::registry::RuleModels;
use crate::args;

/// The caller's session state.
pub fn state(session: &dyn Session) -> Result<&SessionState> {
    match session.as_any().downcast_ref::<SessionState>() {
        Some(s) => Ok(s),
        None => plan_err!("leadql scoring functions need a DataFusion SessionState"),
    }
}

/// `(model [, as_of])` arguments: the model and the instant to score at.
pub fn model_and_as_of(
    state: &SessionState,
    models: &RuleModels,
    function: &str,
    exprs: &[Expr],
) -> Result<(Arc<RuleModel>, AsOf)> {
    if exprs.is_empty() || exprs.len() > 2 {
        return plan_err!(
            "{function} expects (model [, as_of]), got {} arguments",
            exprs.len()
        );
    }
    let name = args::string(state, function, "model", &exprs[0])?;
    let model = models.get(function, &name)?;
    let as_of = match exprs.get(1) {
        Some(e) => args::timestamp_micros(state, function, "as_of", e)?,
        None => match models.default_as_of() {
            Some(v) => v,
            None => {
                return plan_err!(
                    "{function}: no as_of given and the workspace sets no default (pass TIMESTAMP '…' or set [workspace] as_of in workspace.toml)"
                );
            }
        },
    };
    Ok((model, AsOf::Instant(as_of)))
}
