//! `prediction_factors(model, feature_1, …, feature_n)`: per row, each feature's
//! contribution to the model's score, and the baseline (implemented with `top_factors`
//! in [`super::factors`]).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::factors::{FactorsKind, factors_udf};
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};

/// The SQL name.
pub const NAME: &str = "prediction_factors";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Scalar(factors_udf(models.clone(), FactorsKind::List))),
);

pub(super) static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "What drives each row's score: a list of `{feature, contribution}`, one per feature of the model in its order, then the baseline. Logistic regression: contributions to the logit, baseline `(intercept)`, summing to the logit of the score. Decision trees and forests: the steps of the probability along each tree's path, baseline `(base rate)`, summing to the probability. Boosted trees: the steps of the logit along every round's tree path, baseline `(baseline)`, summing to the logit. Features are passed as to `predict_score`; `explain_prediction` gives the same for a whole table, one row per feature.",
        "prediction_factors(model, feature_1, ..., feature_n)",
    )
    .with_argument("model", "A trained model: `'name'` (its active version) or `'name@N'` (version N); a constant string.")
    .with_argument("feature_1, ..., feature_n", "The values of the model's features, in its order.")
    .with_sql_example(
        "> CREATE MODEL closed_leads OPTIONS (model_type = 'logistic_reg', label = 'converted', seed = 7)
  AS SELECT seniority, company_size, pricing_visits, converted FROM lead_features WHERE status <> 'open';
> SELECT f.feature AS feature, round(f.contribution, 3) AS contribution
  FROM (SELECT unnest(prediction_factors('closed_leads', 'vp', 1200, 3)) AS f);
+----------------+--------------+
| feature        | contribution |
+----------------+--------------+
| seniority      | 0.582        |
| company_size   | 0.059        |
| pricing_visits | 2.244        |
| (intercept)    | -0.824       |
+----------------+--------------+",
    )
    .with_related_udf("explain_prediction")
    .with_related_udf("top_factors")
    .with_related_udf("predict_score")
    .build()
});
