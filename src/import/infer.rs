//! The type of a column kept by `--keep-unmapped`, inferred from its values.
//!
//! Each non-empty cell is classified on its own ([`CellKind::of`]) and a column's type is
//! the narrowest every cell fits ([`column_type`]): whole numbers and decimals make a
//! `float` column, any other mix is `text`. The rules are conservative, so that a value
//! is never read as something it might not be:
//!
//! - empty cells are NULL and say nothing; a column with only empty cells has no type
//!   (it is not kept);
//! - `int`: an optional `-` and digits, fitting 64 bits, without leading zeros (`00123`
//!   is an identifier, so its column is `text`);
//! - `float`: the same with a `.` and decimals and/or an exponent (`2.5`, `-0.25`,
//!   `1e-3`, `6.02E23`); no thousands separators or decimal commas (`1,200` and `3,5`
//!   are ambiguous between locales: such a column is `text`; declare it in the
//!   mapping's `[extra]` as `int` or `float` to read them);
//! - `bool`: `true`/`false`, or `yes`/`no`, in any case, one pair per column (`1`/`0`
//!   are numbers; `y`/`n`, `t`/`f` text);
//! - `timestamp`: what `created_at` accepts (ISO 8601 dates and date-times, RFC 3339,
//!   the mapping's `date_format`), years 1900–2200, and slashed dates when the column's
//!   own values settle day/month order;
//! - anything else, or a mix, is `text`.

use super::mapping::ExtraType;
use super::values::{self, DayOrder};

/// What one non-empty cell reads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// A whole number.
    Int,
    /// A decimal number.
    Float,
    /// `true` or `false`.
    TrueFalse,
    /// `yes` or `no`.
    YesNo,
    /// An instant.
    Timestamp,
    /// Anything else.
    Text,
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Digits without a leading zero (`0` itself is fine).
fn plain_digits(s: &str) -> bool {
    digits(s) && (s == "0" || !s.starts_with('0'))
}

fn is_int(t: &str) -> bool {
    plain_digits(t.strip_prefix('-').unwrap_or(t)) && t.parse::<i64>().is_ok()
}

fn is_float(t: &str) -> bool {
    let body = t.strip_prefix('-').unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (whole, decimals) = match mantissa.split_once('.') {
        Some((w, d)) => (w, Some(d)),
        None => (mantissa, None),
    };
    plain_digits(whole)
        && (decimals.is_some() || exponent.is_some())
        && decimals.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
        && t.parse::<f64>().is_ok_and(f64::is_finite)
}

impl CellKind {
    /// The kind of a cell's (trimmed, non-empty) text; `order` is its column's day/month
    /// order of slashed dates.
    pub fn of(text: &str, date_format: Option<&str>, order: Option<DayOrder>) -> CellKind {
        let t = text.trim();
        if is_int(t) {
            CellKind::Int
        } else if is_float(t) {
            CellKind::Float
        } else if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
            CellKind::TrueFalse
        } else if t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("no") {
            CellKind::YesNo
        } else if values::instant(t, date_format, order).is_ok() {
            CellKind::Timestamp
        } else {
            CellKind::Text
        }
    }

    /// The kind of a column holding cells of both kinds.
    fn join(self, other: CellKind) -> CellKind {
        match (self, other) {
            (a, b) if a == b => a,
            (CellKind::Int, CellKind::Float) | (CellKind::Float, CellKind::Int) => CellKind::Float,
            _ => CellKind::Text,
        }
    }

    /// The column type of a column of such cells.
    pub fn extra_type(self) -> ExtraType {
        match self {
            CellKind::Int => ExtraType::Int,
            CellKind::Float => ExtraType::Float,
            CellKind::TrueFalse | CellKind::YesNo => ExtraType::Bool,
            CellKind::Timestamp => ExtraType::Timestamp,
            CellKind::Text => ExtraType::Text,
        }
    }
}

/// The day/month order of a column's slashed dates, from its first unambiguous value.
pub fn day_order<'a>(cells: impl Iterator<Item = &'a str>) -> Option<DayOrder> {
    for cell in cells {
        if let Some((a, b)) = values::slashed_parts(cell) {
            if a > 12 {
                return Some(DayOrder::DayMonth);
            }
            if b > 12 {
                return Some(DayOrder::MonthDay);
            }
        }
    }
    None
}

/// The type of a column of cells, `None` when every cell is empty.
pub fn column_type<'a>(
    cells: impl Iterator<Item = &'a str>,
    date_format: Option<&str>,
    order: Option<DayOrder>,
) -> Option<ExtraType> {
    let mut kind: Option<CellKind> = None;
    for cell in cells {
        let t = cell.trim();
        if t.is_empty() {
            continue;
        }
        let k = CellKind::of(t, date_format, order);
        let joined = kind.map_or(k, |so_far| so_far.join(k));
        if joined == CellKind::Text {
            return Some(ExtraType::Text);
        }
        kind = Some(joined);
    }
    kind.map(CellKind::extra_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(cells: &[&str]) -> Option<ExtraType> {
        column_type(
            cells.iter().copied(),
            None,
            day_order(cells.iter().copied()),
        )
    }

    #[test]
    fn numbers_are_plain_and_identifiers_stay_text() {
        assert_eq!(infer(&["1", "-20", "", "0"]), Some(ExtraType::Int));
        assert_eq!(infer(&["1", "2.5", "1e3"]), Some(ExtraType::Float));
        assert_eq!(infer(&["0.5", "-0.25", "6.02E23"]), Some(ExtraType::Float));
        assert_eq!(infer(&["00123", "4"]), Some(ExtraType::Text));
        assert_eq!(infer(&["012.5"]), Some(ExtraType::Text));
        assert_eq!(infer(&["1,200"]), Some(ExtraType::Text));
        assert_eq!(infer(&["3,5"]), Some(ExtraType::Text));
        assert_eq!(infer(&["1", "n/a"]), Some(ExtraType::Text));
        assert_eq!(infer(&["NaN", "inf"]), Some(ExtraType::Text));
        assert_eq!(infer(&["1.", ".5"]), Some(ExtraType::Text));
        assert_eq!(
            infer(&["12345678901234567890123"]),
            Some(ExtraType::Text),
            "too long for int64: an identifier"
        );
        assert_eq!(infer(&["", " "]), None);
    }

    #[test]
    fn booleans_are_one_pair_and_dates_need_a_settled_order() {
        assert_eq!(infer(&["TRUE", "false"]), Some(ExtraType::Bool));
        assert_eq!(infer(&["Yes", "no", ""]), Some(ExtraType::Bool));
        assert_eq!(infer(&["yes", "false"]), Some(ExtraType::Text));
        assert_eq!(infer(&["1", "0"]), Some(ExtraType::Int));
        assert_eq!(infer(&["y", "n"]), Some(ExtraType::Text));
        assert_eq!(
            infer(&["2026-01-31", "2026-02-01 10:30:00", "2026-03-01T08:00:00Z"]),
            Some(ExtraType::Timestamp)
        );
        assert_eq!(
            infer(&["03/04/2026", "25/04/2026"]),
            Some(ExtraType::Timestamp)
        );
        assert_eq!(infer(&["03/04/2026", "05/06/2026"]), Some(ExtraType::Text));
        assert_eq!(infer(&["1850-01-01"]), Some(ExtraType::Text));
        assert_eq!(infer(&["2026-01-31", "soon"]), Some(ExtraType::Text));
    }
}
