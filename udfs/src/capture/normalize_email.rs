//! `normalize_email(text)`: Lower-cased, trimmed email (a `mailto:` prefix and `<>` removed); NULL unless it is an email with one `@`, a local part and a dotted domain.
//!
//! ```sql
//! SELECT normalize_email(' Ana.Perez@Example.COM ');
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::{DocSection, Documentation, ScalarUDF};
use leadql_models::matching;

use super::text::text_udf;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DocSection { include: true, label: "Lead capture", description: None },
        "Lower-cased, trimmed email (a `mailto:` prefix and `<>` removed); NULL unless it is an email with one `@`, a local part and a dotted domain.",
        "normalize_email(text)",
    )
    .with_sql_example("> SELECT normalize_email(' Ana.Perez@Example.COM ');\nana.perez@example.com")
    .with_argument("text", "A string; NULL gives NULL.")
    .build()
});

/// The [`ScalarUDF`] `normalize_email`.
pub fn normalize_email_udf() -> Arc<ScalarUDF> {
    text_udf("normalize_email", matching::normalize_email, &DOC)
}
