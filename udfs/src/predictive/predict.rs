//! `predict(model, relation)`: every row of a table or view with the model's `score`
//! (0–100), `grade` (A–D, the model's cut-offs) and `top_factors`.
//!
//! ```sql
//! SELECT lead_id, score, grade, top_factors FROM predict('conversion', 'open_leads') ORDER BY score DESC;
//! ```
//!
//! The relation must have the model's feature columns (by name). Streams and runs in
//! parallel like any query: scoring is the vectorised `predict_score` per batch.

use std::sync::{Arc, LazyLock};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{Documentation, Expr, col, ident, lit, when};

use super::factors::{FactorsKind, factors_udf};
use super::predict_score::predict_score_udf;
use super::registry::PredictiveModels;
use crate::args;
use crate::catalogue::{Build, Entry, Function, PREDICTIVE};
use crate::relation::{self, table};
use crate::scoring::common::state;

/// The SQL name.
pub const NAME: &str = "predict";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Predictive(|models| Function::Table(Arc::new(Predict::new(models.clone())))),
);

/// The `relation` and `as_of` arguments of `predict` and `explain_prediction`.
pub(super) const RELATION: &str =
    "A table or view holding the model's features as columns, by name (a constant string).";
pub(super) const AS_OF: &str = "Point-in-time models (trained with `horizon_days`) only, instead of a relation: the instant whose open leads are scored, on the features `lead_snapshot_features` computes at it, exactly as in training (a constant timestamp; default: the session's `as_of`).";

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        PREDICTIVE,
        "Every row of a table or view with the model's `score` (0–100), `grade` (`A`–`D` by the model's `grade_cutoffs`, default 75/50/25) and `top_factors` (as the scalar `top_factors`) added after its columns. A point-in-time model can instead score the leads open at an instant, computing their features itself: then the rows are the columns of `lead_snapshot_features` and the score the probability that the lead is qualified within the model's horizon. Streams and runs in parallel like any query.",
        "predict(model, relation)",
    )
    .with_alternative_syntax("predict(model [, as_of])")
    .with_argument("model", "A trained model: `'name'` (its active version) or `'name@N'` (version N); a constant string.")
    .with_argument("relation", RELATION)
    .with_argument("as_of", AS_OF)
    .with_sql_example(
        "> SELECT lead_id, round(score, 1) AS score, grade, top_factors FROM predict('conversion')
  ORDER BY score DESC, lead_id LIMIT 3;
+---------+-------+-------+------------------------------------------------------------------------------------------------------------------+
| lead_id | score | grade | top_factors                                                                                                      |
+---------+-------+-------+------------------------------------------------------------------------------------------------------------------+
| 4878    | 66.0  | A     | +age_days 1.14, +email_open_365d 1.00, +fit_score 0.92, -email_click_365d 0.86, -email_open_90d 0.66             |
| 4614    | 63.9  | A     | +fit_score 1.81, +age_days 0.76, +email_sent_365d 0.62, -pricing_page_visit_365d 0.56, -account_is_customer 0.50 |
| 4793    | 62.5  | A     | +web_visit_7d 1.51, +age_days 1.02, +engagement_score 0.60, -web_visit_365d 0.83, -pricing_page_visit_365d 0.56  |
+---------+-------+-------+------------------------------------------------------------------------------------------------------------------+
> SELECT grade, count(*) AS leads FROM predict('conversion', TIMESTAMP '2026-03-31 00:00:00')
  GROUP BY grade ORDER BY grade;
+-------+-------+
| grade | leads |
+-------+-------+
| A     | 31    |
| B     | 101   |
| C     | 115   |
| D     | 813   |
+-------+-------+",
    )
    .with_related_udf("predict_score")
    .with_related_udf("explain_prediction")
    .with_related_udf("top_factors")
    .with_related_udf("qualify_leads")
    .build()
});

/// The `predict` table function.
#[derive(Debug)]
pub struct Predict {
    models: Arc<PredictiveModels>,
}

impl Predict {
    /// Predicts with `models`.
    pub fn new(models: Arc<PredictiveModels>) -> Self {
        Predict { models }
    }
}

/// `(model, relation)` arguments: the model's features as column expressions over the
/// relation's DataFrame. The relation is a table or view name, or an instant: a
/// point-in-time model (trained with `horizon_days`) then scores the leads open at that
/// instant on its own features, recomputed by `lead_snapshot_features` exactly as in
/// training; `(model)` alone is the same at the session's `as_of`.
pub fn model_and_relation(
    models: &PredictiveModels,
    function: &str,
    fargs: &TableFunctionArgs,
) -> Result<(
    Arc<leadql_models::predictive::PredictiveModel>,
    datafusion::dataframe::DataFrame,
    Vec<Expr>,
)> {
    let state = state(fargs.session())?;
    let exprs = fargs.exprs();
    if exprs.is_empty() || exprs.len() > 2 {
        return plan_err!(
            "{function} expects (model, relation) or (model [, as_of]), got {} arguments",
            exprs.len()
        );
    }
    let name = args::string(state, function, "model", &exprs[0])?;
    let model = models.get(function, &name)?;
    let relation = match exprs.get(1) {
        Some(e) => match args::constant(state, e) {
            Ok(
                ScalarValue::Utf8(Some(r))
                | ScalarValue::Utf8View(Some(r))
                | ScalarValue::LargeUtf8(Some(r)),
            ) => Source::Relation(r),
            _ => Source::Instant(args::timestamp_micros(
                state,
                function,
                "relation or as_of",
                e,
            )?),
        },
        None => match models.as_of() {
            Some(t) => Source::Instant(t),
            None => {
                return plan_err!(
                    "{function}: no relation or as_of given and the workspace sets no as_of"
                );
            }
        },
    };
    let (frame, relation) = match relation {
        Source::Relation(r) => (table(state, &r)?, r),
        Source::Instant(t) => {
            let Some(horizon) = model.options.horizon_days else {
                return plan_err!(
                    "{function}: model '{}' was not trained on snapshots (no horizon_days), so it cannot compute its features at an instant: pass the relation holding them",
                    model.name
                );
            };
            let at = args::instant(t);
            let frame = relation::function(
                state,
                "lead_snapshot_features",
                &[at.clone(), at, lit(1i64), lit(horizon)],
            )?;
            (
                frame,
                format!("lead_snapshot_features at {}", instant_text(t)),
            )
        }
    };
    let mut features = vec![lit(name)];
    for f in &model.pipeline.features {
        if frame.schema().field_with_unqualified_name(&f.name).is_err() {
            return plan_err!(
                "{function}: '{relation}' has no column '{}', a feature of model '{}'",
                f.name,
                model.name
            );
        }
        features.push(ident(&f.name));
    }
    Ok((model, frame, features))
}

enum Source {
    Relation(String),
    Instant(i64),
}

impl TableFunctionImpl for Predict {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let (model, frame, features) = model_and_relation(&self.models, NAME, &args)?;
        let [a, b, c] = model.options.grade_cutoffs;
        let score = predict_score_udf(self.models.clone()).call(features.clone());
        let mut columns: Vec<Expr> = frame
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect();
        columns.push(score.alias("score"));
        columns.push(
            factors_udf(self.models.clone(), FactorsKind::Top)
                .call(features)
                .alias("top_factors"),
        );
        let scored = frame.select(columns)?;
        let grade = when(col("score").gt_eq(lit(a)), lit("A"))
            .when(col("score").gt_eq(lit(b)), lit("B"))
            .when(col("score").gt_eq(lit(c)), lit("C"))
            .otherwise(lit("D"))?;
        let mut out: Vec<Expr> = scored
            .schema()
            .columns()
            .into_iter()
            .filter(|c| c.name != "top_factors")
            .map(Expr::Column)
            .collect();
        out.push(grade.alias("grade"));
        out.push(col("top_factors"));
        Ok(scored.select(out)?.into_view())
    }
}

/// An instant as the text of its SQL literal, for messages.
fn instant_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| {
            format!(
                "TIMESTAMP '{}'",
                d.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f")
            )
        })
        .unwrap_or_else(|| micros.to_string())
}
