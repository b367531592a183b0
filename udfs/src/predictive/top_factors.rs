//! `top_factors(model, feature_1, …, feature_n)`: the strongest contributions to each
//! row's score, as text (implemented with `prediction_factors` in [`super::factors`]).

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::factors::{FactorsKind, factors_udf};
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};

/// The SQL name.
pub const NAME: &str = "top_factors";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Scalar(factors_udf(models.clone(), FactorsKind::Top))),
);

pub(super) static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "The strongest contributions to each row's score, as `prediction_factors` computes them (the baseline left out), as text: the three strongest positive ones then the two strongest negative ones, each with its size to two decimals, e.g. `+pricing_visits 1.32, +seniority 0.41, -company_size 0.08`; empty when no feature moves the score. `predict` adds it to every row.",
        "top_factors(model, feature_1, ..., feature_n)",
    )
    .with_argument("model", "A trained model: `'name'` (its active version) or `'name@N'` (version N); a constant string.")
    .with_argument("feature_1, ..., feature_n", "The values of the model's features, in its order.")
    .with_sql_example(
        "> CREATE MODEL closed_leads OPTIONS (model_type = 'logistic_reg', label = 'converted', seed = 7)
  AS SELECT seniority, company_size, pricing_visits, converted FROM lead_features WHERE status <> 'open';
> SELECT lead_id, top_factors('closed_leads', seniority, company_size, pricing_visits) AS top_factors
  FROM lead_features WHERE status = 'open' ORDER BY lead_id LIMIT 3;
+---------+-----------------------------------------------------------+
| lead_id | top_factors                                               |
+---------+-----------------------------------------------------------+
| 11      | +pricing_visits 0.52, +company_size 0.08, -seniority 0.86 |
| 17      | +seniority 0.09, +company_size 0.01, -pricing_visits 0.35 |
| 22      | -pricing_visits 0.35, -seniority 0.07                     |
+---------+-----------------------------------------------------------+",
    )
    .with_related_udf("prediction_factors")
    .with_related_udf("predict")
    .build()
});
