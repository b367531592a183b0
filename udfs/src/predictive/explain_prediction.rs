//! `explain_prediction(model, relation)`: `lead_id, feature, contribution` for every row
//! of a relation with a `lead_id` column: `prediction_factors` unnested.
//!
//! ```sql
//! SELECT feature, contribution FROM explain_prediction('conversion', 'open_leads') WHERE lead_id = 42;
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::{Documentation, col};

use super::factors::{FactorsKind, factors_udf};
use super::predict::{AS_OF, RELATION, model_and_relation};
use super::registry::PredictiveModels;
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};

/// The SQL name.
pub const NAME: &str = "explain_prediction";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Table(Arc::new(ExplainPrediction::new(models.clone())))),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "Why each row of a relation scores what it does: one row per row of the relation and feature of the model, then one for the baseline, with its contribution as `prediction_factors` computes it. Per lead they sum to the logit of the score (logistic regression, baseline `(intercept)`; boosted trees, `(baseline)`) or to the probability (decision trees and forests, `(base rate)`). The relation needs a `lead_id` column; as with `predict`, a point-in-time model can take an instant instead. Columns: `lead_id, feature, contribution`.",
        "explain_prediction(model, relation)",
    )
    .with_alternative_syntax("explain_prediction(model [, as_of])")
    .with_argument("model", "A trained model: `'name'` (its active version) or `'name@N'` (version N); a constant string.")
    .with_argument("relation", RELATION)
    .with_argument("as_of", AS_OF)
    .with_sql_example(
        "> SELECT feature, round(contribution, 3) AS contribution FROM explain_prediction('conversion')
  WHERE lead_id = 4878 ORDER BY abs(contribution) DESC, feature LIMIT 5;
+------------------+--------------+
| feature          | contribution |
+------------------+--------------+
| (intercept)      | -3.084       |
| age_days         | 1.143        |
| email_open_365d  | 1.0          |
| fit_score        | 0.917        |
| email_click_365d | -0.862       |
+------------------+--------------+",
    )
    .with_related_udf("prediction_factors")
    .with_related_udf("predict")
    .with_related_udf("model_features")
    .build()
});

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
        let (_, frame, features) = model_and_relation(&self.models, NAME, &args)?;
        if frame
            .schema()
            .field_with_unqualified_name("lead_id")
            .is_err()
        {
            return plan_err!("{NAME}: the relation needs a lead_id column");
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
