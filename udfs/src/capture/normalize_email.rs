//! `normalize_email(text)`: Lower-cased, trimmed email (a `mailto:` prefix and `<>` removed); NULL unless it is an email with one `@`, a local part and a dotted domain.
//!
//! ```sql
//! SELECT normalize_email(' Ana.Perez@Example.COM ');
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::{Documentation, ScalarUDF};
use leadql_models::matching;

use super::text::text_udf;
use crate::catalogue::{Build, CAPTURE, Entry, Function};

/// The SQL name.
pub const NAME: &str = "normalize_email";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Standalone(|| Function::Scalar(normalize_email_udf())),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CAPTURE,
        "Lower-cased, trimmed email (a `mailto:` prefix and `<>` removed); NULL unless it is an email with one `@`, a local part and a dotted domain.",
        "normalize_email(text)",
    )
    .with_argument("text", "A string; NULL gives NULL.")
    .with_sql_example(
        "> SELECT normalize_email(' Ana.Perez@Example.COM ') AS email, normalize_email('mailto:<bob@x.io>') AS mailto,
    normalize_email('not an email') AS not_one, normalize_email(NULL) AS missing;
+-----------------------+----------+---------+---------+
| email                 | mailto   | not_one | missing |
+-----------------------+----------+---------+---------+
| ana.perez@example.com | bob@x.io |         |         |
+-----------------------+----------+---------+---------+",
    )
    .with_related_udf("email_domain")
    .with_related_udf("lead_duplicates")
    .build()
});

/// The [`ScalarUDF`] `normalize_email`.
pub fn normalize_email_udf() -> Arc<ScalarUDF> {
    text_udf(NAME, matching::normalize_email, &DOC)
}
