//! `model_backtest(model)`: the backtest a point-in-time model version took when it was
//! trained, kept with the version.
//!
//! ```sql
//! SELECT version, as_of, in_training_period, auc FROM model_backtest('conversion@2')
//! WHERE segment = 'all';
//! ```
//!
//! Training a model with `horizon_days` scores every lead open at the latest instant
//! whose outcome is known at training time (the session's `as_of` minus the horizon),
//! once that instant is after the training outcomes, and stores the result with the
//! version: rows and columns as `backtest(model, t, t, 1)` returns them. A version that
//! later stops being active keeps its figures, so versions can be compared and rolled
//! back on the record (`leadql model activate`). No rows for models trained without
//! `horizon_days`, when no such instant existed, or when the backtest failed at
//! training (the version's warnings say why).

use std::sync::Arc;

use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};

use super::backtest::{batch, schema};
use crate::args;
use crate::predictive::PredictiveModels;
use crate::scoring::common::state;

/// The `model_backtest` table function.
#[derive(Debug)]
pub struct ModelBacktest {
    predictive: Arc<PredictiveModels>,
}

impl ModelBacktest {
    /// Lists the stored backtests of `predictive`'s models.
    pub fn new(predictive: Arc<PredictiveModels>) -> Self {
        ModelBacktest { predictive }
    }
}

impl TableFunctionImpl for ModelBacktest {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        const NAME: &str = "model_backtest";
        let state = state(fargs.session())?;
        let exprs = fargs.exprs();
        if exprs.len() != 1 {
            return plan_err!("{NAME} expects (model), got {} arguments", exprs.len());
        }
        let name = args::string(state, NAME, "model", &exprs[0])?;
        let model = self.predictive.get(NAME, &name)?;
        let rows = batch(&name, Some(i64::from(model.version)), &model.backtest)?;
        Ok(Arc::new(MemTable::try_new(schema(), vec![vec![rows]])?))
    }
}
