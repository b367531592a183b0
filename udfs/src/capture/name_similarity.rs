//! `name_similarity(a, b)`: how alike two person or company names are, from 0 to 1:
//! word by word Jaro–Winkler, with case, common accents, punctuation, legal forms
//! (Inc., GmbH, N.V., …) and word order removed (see
//! [`leadql_models::matching::name_similarity`]).
//!
//! ```sql
//! SELECT name_similarity('Núñez, José', 'jose nunez');  -- 1.0
//! ```
//!
//! Only the first [`NAME_SIMILARITY_MAX_CHARS`](matching::NAME_SIMILARITY_MAX_CHARS)
//! (200) characters of each folded name are compared. NULL when either argument is NULL
//! or holds no letters or digits.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use leadql_models::matching;

use super::text::{as_utf8, is_text};
use crate::catalogue::{Build, CAPTURE, Entry, Function};

/// The SQL name.
pub const NAME: &str = "name_similarity";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::scalar(
    NAME,
    || &DOC,
    Build::Standalone(|| Function::Scalar(name_similarity_udf())),
);

/// The `name_similarity` function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NameSimilarity {
    signature: Signature,
}

/// The [`ScalarUDF`] `name_similarity`.
pub fn name_similarity_udf() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(NameSimilarity {
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        CAPTURE,
        "Similarity from 0 to 1 of two person or company names: each word of the shorter name paired with its most similar word of the other (Jaro–Winkler), summed and divided by the larger word count; case, common accents, punctuation, legal forms and word order do not count. Only the first 200 characters of each name after folding (letters, digits, single spaces) are compared, so huge inputs stay fast. NULL when either is NULL or has no letters or digits.",
        "name_similarity(a, b)",
    )
    .with_argument("a", "A name (a string).")
    .with_argument("b", "Another name (a string).")
    .with_sql_example(
        "> SELECT round(name_similarity('Katherine Smith', 'Kathrine Smith'), 4) AS typo,
    name_similarity('Núñez, José', 'jose nunez') AS folded, name_similarity('Acme GmbH', 'ACME') AS legal_form,
    round(name_similarity('Acme', 'Zenith'), 4) AS different, name_similarity('Li Wei', NULL) AS missing;
+--------+--------+------------+-----------+---------+
| typo   | folded | legal_form | different | missing |
+--------+--------+------------+-----------+---------+
| 0.9639 | 1.0    | 1.0        | 0.4722    |         |
+--------+--------+------------+-----------+---------+",
    )
    .with_related_udf("lead_duplicates")
    .build()
});

impl ScalarUDFImpl for NameSimilarity {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a, b] if is_text(a) && is_text(b) => Ok(arg_types.to_vec()),
            [a, b] => plan_err!("name_similarity(a, b) expects two strings, got {a} and {b}"),
            _ => plan_err!(
                "name_similarity expects 2 arguments (a, b), got {}",
                arg_types.len()
            ),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let a = as_utf8(&args.args[0], rows, NAME)?;
        let b = as_utf8(&args.args[1], rows, NAME)?;
        let out: Float64Array = (0..rows)
            .map(|i| {
                if a.is_null(i) || b.is_null(i) {
                    None
                } else {
                    matching::name_similarity(a.value(i), b.value(i))
                }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOC)
    }
}
