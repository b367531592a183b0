//! `format(formatstr, arg…)`: PostgreSQL's string formatting, for the clients of
//! `leadql serve` (Metabase's field sync builds type and table names with it).
//!
//! As PostgreSQL: `%s` the argument as text (NULL: empty), `%I` as an SQL identifier
//! (quoted when needed; NULL is an error), `%L` as an SQL literal (NULL: `NULL`), `%%`
//! a percent sign; `%2$s` takes the second argument, and a width (`%10s`, `%-10s`: left
//! aligned) pads, up to 10,000 characters. `*` widths are not supported. A NULL format
//! gives NULL; a result over 1 MiB is an error.
//!
//! ```sql
//! SELECT format('%I.%I has %s rows', 'public', 'Leads', 42)   -- public."Leads" has 42 rows
//! ```

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The SQL name.
pub const NAME: &str = "format";

/// `format` as a scalar function.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Format {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Format {
    signature: Signature,
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.is_empty() {
            return exec_err!("format() needs a format string");
        }
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        // All constants: one value (also for a batch of no rows).
        let rows = if scalar { 1 } else { args.number_rows };
        let texts: Vec<StringArray> = args
            .args
            .iter()
            .map(|a| {
                let array = a.to_array(rows)?;
                let text = cast(&array, &DataType::Utf8)?;
                Ok(text
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .cloned()
                    .unwrap_or_else(|| StringArray::from(vec![None::<&str>; rows])))
            })
            .collect::<Result<_>>()?;
        let mut out = StringBuilder::new();
        let mut values: Vec<Option<&str>> = Vec::with_capacity(texts.len() - 1);
        for row in 0..rows {
            if texts[0].is_null(row) {
                out.append_null();
                continue;
            }
            values.clear();
            values.extend(
                texts[1..]
                    .iter()
                    .map(|t| (!t.is_null(row)).then(|| t.value(row))),
            );
            out.append_value(render(texts[0].value(row), &values)?);
        }
        let array: ArrayRef = Arc::new(out.finish());
        if scalar {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&array, 0)?,
            ))
        } else {
            Ok(ColumnarValue::Array(array))
        }
    }
}

/// The widest padding a specifier may ask for (a larger one is an error, not an
/// allocation of that size).
const MAX_WIDTH: usize = 10_000;

/// The longest text one call may produce.
const MAX_LEN: usize = 1 << 20;

/// Formats one row.
fn render(format: &str, args: &[Option<&str>]) -> Result<String> {
    let error = |m: String| DataFusionError::Execution(format!("format(): {m}"));
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // %[position$][-][width]type
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        let mut position = None;
        if !digits.is_empty() && chars.peek() == Some(&'$') {
            chars.next();
            let n: usize = digits
                .parse()
                .map_err(|_| error(format!("argument position '{digits}' is too large")))?;
            if n == 0 {
                return Err(error("argument positions start at 1".into()));
            }
            position = Some(n - 1);
            digits.clear();
        }
        let mut left = false;
        if digits.is_empty() && chars.peek() == Some(&'-') {
            left = true;
            chars.next();
        }
        if digits.is_empty() {
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
        }
        if chars.peek() == Some(&'*') {
            return Err(error("'*' widths are not supported".into()));
        }
        let width: usize = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .ok()
                .filter(|w| *w <= MAX_WIDTH)
                .ok_or_else(|| error(format!("width '{digits}' is above {MAX_WIDTH}")))?
        };
        let Some(kind) = chars.next() else {
            return Err(error("unterminated format() type specifier".into()));
        };
        let index = position.unwrap_or(next);
        next = index + 1;
        let Some(arg) = args.get(index) else {
            return Err(error("too few arguments".into()));
        };
        let text = match kind {
            's' => arg.unwrap_or_default().to_string(),
            'I' => match arg {
                Some(a) => quote_ident(a),
                None => {
                    return Err(error(
                        "null values cannot be formatted as an SQL identifier".into(),
                    ));
                }
            },
            'L' => match arg {
                Some(a) => quote_literal(a),
                None => "NULL".to_string(),
            },
            other => {
                return Err(error(format!(
                    "unrecognized format() type specifier \"{other}\" (use s, I or L)"
                )));
            }
        };
        let pad = width.saturating_sub(text.chars().count());
        if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&text);
        }
        if out.len() > MAX_LEN {
            return Err(error(format!("the result is longer than {MAX_LEN} bytes")));
        }
    }
    Ok(out)
}

/// An identifier as PostgreSQL's `quote_ident` writes it: as is when it is lower case
/// letters, digits and `_` not starting with a digit, else in double quotes. (Unlike
/// PostgreSQL, key words such as `select` are not quoted.)
fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A literal as PostgreSQL's `quote_literal` writes it.
fn quote_literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if text.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(format: &str, args: &[Option<&str>]) -> String {
        render(format, args).expect("formats")
    }

    #[test]
    fn formats_as_postgres_does() {
        assert_eq!(
            f(
                "%I.%I has %s rows",
                &[Some("public"), Some("Leads"), Some("42")]
            ),
            "public.\"Leads\" has 42 rows"
        );
        assert_eq!(f("%s", &[Some("pg_catalog")]), "pg_catalog");
        assert_eq!(f("\"%s\".\"%s\"", &[Some("a"), Some("b")]), "\"a\".\"b\"");
        assert_eq!(f("%L %L", &[Some("O'Brien"), None]), "'O''Brien' NULL");
        assert_eq!(f("%L", &[Some("a\\b")]), "E'a\\\\b'");
        assert_eq!(f("[%s]", &[None]), "[]");
        // PostgreSQL's manual: an unnumbered specifier takes the argument after the
        // previous one.
        assert_eq!(
            f(
                "Testing %3$s, %2$s, %s",
                &[Some("one"), Some("two"), Some("three")]
            ),
            "Testing three, two, three"
        );
        assert_eq!(
            f("[%5s][%-5s]", &[Some("ab"), Some("cd")]),
            "[   ab][cd   ]"
        );
        assert_eq!(f("100%%", &[]), "100%");
        assert_eq!(f("%I", &[Some("a\"b")]), "\"a\"\"b\"");
        assert_eq!(f("%I", &[Some("9lives")]), "\"9lives\"");
    }

    #[test]
    fn bad_formats_are_errors_naming_the_problem() {
        for (format, args, message) in [
            ("%s %s", vec![Some("a")], "too few arguments"),
            (
                "%x",
                vec![Some("a")],
                "unrecognized format() type specifier \"x\"",
            ),
            ("%I", vec![None], "cannot be formatted as an SQL identifier"),
            ("%0$s", vec![Some("a")], "positions start at 1"),
            ("abc %", vec![], "unterminated"),
            ("%*s", vec![Some("a")], "'*' widths"),
            ("%99999999999999999s", vec![Some("a")], "is above 10000"),
            ("%10001s", vec![Some("a")], "is above 10000"),
        ] {
            let err = render(format, &args).expect_err(format).to_string();
            assert!(err.contains(message), "{format}: {err}");
        }
    }
}
