//! `SHOW MODELS`: the main columns of `show_models()`, one row per model version.

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use crate::catalogue::{Entry, STATEMENTS};
use crate::predictive::show_models;

/// The statement's keywords.
pub const NAME: &str = "SHOW MODELS";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::statement(NAME, || &DOC);

/// The query `SHOW MODELS` runs.
pub fn sql() -> String {
    format!(
        "SELECT model, version, active, model_type, label, horizon_days, training_rows, auc, backtest_auc, known_until, created_at FROM {}() ORDER BY model, version",
        show_models::NAME
    )
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        STATEMENTS,
        format!(
            "Lists every stored version of every predictive model, with the version an unversioned name uses marked `active`. It runs `{}`; `show_models()` has more columns (the features in order, the training query).",
            sql()
        ),
        NAME,
    )
    .with_sql_example("> SHOW MODELS;")
    .with_related_udf("show_models")
    .with_related_udf("CREATE MODEL")
    .with_related_udf("DROP MODEL")
    .build()
});
