//! `normalize_phone(text)`: A phone number reduced to its digits: `+` and the digits in international form (`+44 …`, `0044 …`), the digits alone otherwise; extensions dropped; NULL with fewer than 6 digits or other text.
//!
//! ```sql
//! SELECT normalize_phone('0044 (20) 7946-0958');
//! ```

use std::sync::{Arc, LazyLock};

use datafusion::logical_expr::{Documentation, ScalarUDF};
use leadql_models::matching;

use super::text::text_udf;
use crate::catalogue::{Build, CAPTURE, Entry, Function};

/// The SQL name.
pub const NAME: &str = "normalize_phone";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Standalone(|| Function::Scalar(normalize_phone_udf())),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CAPTURE,
        "A phone number reduced to its digits: `+` and the digits in international form (`+44 …`, `0044 …`), the digits alone otherwise; extensions dropped; NULL with fewer than 6 digits or other text.",
        "normalize_phone(text)",
    )
    .with_argument("text", "A string; NULL gives NULL.")
    .with_sql_example(
        "> SELECT normalize_phone('0044 (20) 7946-0958') AS international, normalize_phone('(020) 7946.0958 ext 4') AS national,
    normalize_phone('n/a') AS not_a_number;
+---------------+-------------+--------------+
| international | national    | not_a_number |
+---------------+-------------+--------------+
| +442079460958 | 02079460958 |              |
+---------------+-------------+--------------+",
    )
    .with_related_udf("lead_duplicates")
    .build()
});

/// The [`ScalarUDF`] `normalize_phone`.
pub fn normalize_phone_udf() -> Arc<ScalarUDF> {
    text_udf(NAME, matching::normalize_phone, &DOC)
}
