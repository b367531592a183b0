//! `DROP MODEL [IF EXISTS] name`: removes every version of a model, through
//! `drop_model`.

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::literal;
use crate::catalogue::{Entry, STATEMENTS};
use crate::predictive::drop_model;

/// The statement's keywords.
pub const NAME: &str = "DROP MODEL";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::statement(NAME, || &DOC);

/// The query `DROP MODEL [IF EXISTS] name` runs.
pub fn sql(name: &str, if_exists: bool) -> String {
    format!(
        "SELECT * FROM {}({}, {if_exists})",
        drop_model::NAME,
        literal(name)
    )
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        STATEMENTS,
        format!(
            "Removes every version of a model, under the workspace's write lock, and returns `model, versions_removed`. An unknown model is an error unless `IF EXISTS` is given. It runs `{}`.",
            sql("name", false)
        ),
        "DROP MODEL [IF EXISTS] name",
    )
    .with_argument("IF EXISTS", "A missing model is not an error (0 versions removed).")
    .with_argument("name", "The model's name (an identifier).")
    .with_sql_example(
        "> DROP MODEL conversion;
+------------+------------------+
| model      | versions_removed |
+------------+------------------+
| conversion | 1                |
+------------+------------------+
> DROP MODEL IF EXISTS conversion;
+------------+------------------+
| model      | versions_removed |
+------------+------------------+
| conversion | 0                |
+------------+------------------+",
    )
    .with_related_udf("drop_model")
    .with_related_udf("SHOW MODELS")
    .build()
});
