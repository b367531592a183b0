//! `email_domain(text)`: The domain of an email, normalised as by `normalize_email`; NULL when the value is not an email.
//!
//! ```sql
//! SELECT email_domain('Ana@Sub.Example.org');
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::{Documentation, ScalarUDF};
use leadql_models::matching;

use super::text::text_udf;
use crate::catalogue::{Build, CAPTURE, Entry, Function};

/// The SQL name.
pub const NAME: &str = "email_domain";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Standalone(|| Function::Scalar(email_domain_udf())),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CAPTURE,
        "The domain of an email, normalised as by `normalize_email`; NULL when the value is not an email.",
        "email_domain(text)",
    )
    .with_argument("text", "A string; NULL gives NULL.")
    .with_sql_example(
        "> SELECT email_domain('Ana@Sub.Example.org') AS domain, email_domain('ana@') AS not_an_email;
+-----------------+--------------+
| domain          | not_an_email |
+-----------------+--------------+
| sub.example.org |              |
+-----------------+--------------+
> SELECT email_domain(email) AS domain, count(*) AS leads FROM leads WHERE email IS NOT NULL
  GROUP BY domain ORDER BY leads DESC, domain LIMIT 3;
+-------------+-------+
| domain      | leads |
+-------------+-------+
| icloud.com  | 124   |
| gmail.com   | 109   |
| outlook.com | 106   |
+-------------+-------+",
    )
    .with_related_udf("normalize_email")
    .with_related_udf("lead_duplicates")
    .build()
});

/// The [`ScalarUDF`] `email_domain`.
pub fn email_domain_udf() -> Arc<ScalarUDF> {
    text_udf(NAME, matching::email_domain, &DOC)
}
