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

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{MemTable, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::Documentation;

use super::backtest::{batch, schema};
use crate::args;
use crate::catalogue::{Build, Entry, Function, POINT_IN_TIME};
use crate::predictive::PredictiveModels;
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "model_backtest";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Table(Arc::new(ModelBacktest::new(models.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        POINT_IN_TIME,
        "The backtest a point-in-time model version took when it was trained, and keeps: training a model with `horizon_days` scores every lead open at the latest instant whose outcome is known (the training session's `as_of` minus the horizon), once that instant is after the training outcomes, and stores the rows `backtest(model, t, t, 1)` returns then. A version that later stops being active keeps its figures, so versions can be compared and rolled back on the record (`leadql model activate`). No rows for a model trained without `horizon_days`, when no such instant existed, or when the backtest failed at training (the version's warnings say why). Columns: those of `backtest`.",
        "model_backtest(model)",
    )
    .with_argument("model", "A trained model: `'name'` (its active version) or `'name@N'` (version N); a constant string.")
    .with_sql_example(
        "> SELECT version, as_of, in_training_period, segment, leads, converted, round(auc, 3) AS auc
  FROM model_backtest('conversion') WHERE segment IN ('all', 'top 5%') ORDER BY segment;
+---------+---------------------+--------------------+---------+-------+-----------+-------+
| version | as_of               | in_training_period | segment | leads | converted | auc   |
+---------+---------------------+--------------------+---------+-------+-----------+-------+
| 1       | 2026-04-01T00:00:00 | false              | all     | 1059  | 69        | 0.865 |
| 1       | 2026-04-01T00:00:00 | false              | top 5%  | 53    | 16        |       |
+---------+---------------------+--------------------+---------+-------+-----------+-------+",
    )
    .with_related_udf("backtest")
    .with_related_udf("show_models")
    .build()
});

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
