//! The shape shared by the one-string-in, one-string-out capture functions.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// A string function applying `f` to every non-NULL value (`None` → NULL).
#[derive(Debug)]
pub struct TextFunction {
    name: &'static str,
    f: fn(&str) -> Option<String>,
    doc: &'static Documentation,
    signature: Signature,
}

impl PartialEq for TextFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TextFunction {}

impl std::hash::Hash for TextFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The [`ScalarUDF`] `name(text)` computing `f`.
pub fn text_udf(
    name: &'static str,
    f: fn(&str) -> Option<String>,
    doc: &'static Documentation,
) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(TextFunction {
        name,
        f,
        doc,
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

/// Casts any string representation to `Utf8`.
pub fn as_utf8(value: &ColumnarValue, rows: usize, function: &str) -> Result<StringArray> {
    let array = value.to_array(rows)?;
    let utf8 = datafusion::arrow::compute::cast(&array, &DataType::Utf8)?;
    match utf8.as_any().downcast_ref::<StringArray>() {
        Some(s) => Ok(s.clone()),
        None => exec_err!("{function}: expected a string argument"),
    }
}

/// Whether a type is a string (or NULL) type.
pub fn is_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    ) || matches!(t, DataType::Dictionary(_, v) if is_text(v))
}

impl ScalarUDFImpl for TextFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_text(t) => Ok(vec![t.clone()]),
            [t] => plan_err!("{}(text) expects a string, got {t}", self.name),
            _ => plan_err!(
                "{} expects 1 argument (text), got {}",
                self.name,
                arg_types.len()
            ),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = as_utf8(&args.args[0], args.number_rows, self.name)?;
        let out: StringArray = (0..input.len())
            .map(|i| {
                if input.is_null(i) {
                    None
                } else {
                    (self.f)(input.value(i))
                }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(self.doc)
    }
}
