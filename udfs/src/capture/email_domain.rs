//! `email_domain(text)`: The domain of an email, normalised as by `normalize_email`; NULL when the value is not an email.
//!
//! ```sql
//! SELECT email_domain('Ana@Sub.Example.org');
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::{DocSection, Documentation, ScalarUDF};
use leadql_models::matching;

use super::text::text_udf;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DocSection { include: true, label: "Lead capture", description: None },
        "The domain of an email, normalised as by `normalize_email`; NULL when the value is not an email.",
        "email_domain(text)",
    )
    .with_sql_example("> SELECT email_domain('Ana@Sub.Example.org');\nsub.example.org")
    .with_argument("text", "A string; NULL gives NULL.")
    .build()
});

/// The [`ScalarUDF`] `email_domain`.
pub fn email_domain_udf() -> Arc<ScalarUDF> {
    text_udf("email_domain", matching::email_domain, &DOC)
}
