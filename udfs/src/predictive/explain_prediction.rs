//! `explain_prediction(model, relation)`: `lead_id, feature, contribution` for every row
//! of a relation with a `lead_id` column: each feature's contribution to the score plus
//! the baseline; per lead they sum to the logit (logistic models, baseline
//! `(intercept)`; boosted trees, baseline `(baseline)`) or to the probability (trees
//! and forests, baseline `(base rate)`).
//!
//! ```sql
//! SELECT feature, contribution FROM explain_prediction('conversion', 'open_leads') WHERE lead_id = 42;
//! ```

use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::col;

use super::factors::{FactorsKind, factors_udf};
use super::predict::model_and_relation;
use super::registry::PredictiveModels;

/// The `explain_prediction` table function.
#[derive(Debug)]
pub struct ExplainPrediction {
    models: Arc<PredictiveModels>,
}

impl ExplainPrediction {
    /// Explains predictions of `models`.
    pub fn new(models: Arc<PredictiveModels>) -> Self {
        ExplainPrediction { models }
    }
}

impl TableFunctionImpl for ExplainPrediction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (_, frame, features) = model_and_relation(&self.models, "explain_prediction", &args)?;
        if frame
            .schema()
            .field_with_unqualified_name("lead_id")
            .is_err()
        {
            return plan_err!("explain_prediction: the relation needs a lead_id column");
        }
        let factors = factors_udf(self.models.clone(), FactorsKind::List).call(features);
        let frame = frame
            .select(vec![col("lead_id"), factors.alias("factor")])?
            .unnest_columns(&["factor"])?;
        Ok(frame
            .select(vec![
                col("lead_id"),
                get_field(col("factor"), "feature").alias("feature"),
                get_field(col("factor"), "contribution").alias("contribution"),
            ])?
            .into_view())
    }
}
