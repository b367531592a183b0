//! `normalize_phone(text)`: A phone number reduced to its digits: `+` and the digits in international form (`+44 …`, `0044 …`), the digits alone otherwise; extensions dropped; NULL with fewer than 6 digits or other text.
//!
//! ```sql
//! SELECT normalize_phone('0044 (20) 7946-0958');
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::{DocSection, Documentation, ScalarUDF};
use leadql_models::matching;

use super::text::text_udf;

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DocSection { include: true, label: "Lead capture", description: None },
        "A phone number reduced to its digits: `+` and the digits in international form (`+44 …`, `0044 …`), the digits alone otherwise; extensions dropped; NULL with fewer than 6 digits or other text.",
        "normalize_phone(text)",
    )
    .with_sql_example("> SELECT normalize_phone('0044 (20) 7946-0958');\n+442079460958")
    .with_argument("text", "A string; NULL gives NULL.")
    .build()
});

/// The [`ScalarUDF`] `normalize_phone`.
pub fn normalize_phone_udf() -> Arc<ScalarUDF> {
    text_udf("normalize_phone", matching::normalize_phone, &DOC)
}
