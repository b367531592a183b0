//! Reading one cell of an import: instants, numbers, company sizes, countries. Each
//! function returns the reason a value is refused, for the rejects file.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};

use leadql_models::domain::COUNTRIES;

/// Order of day and month in slashed dates (`03/04/2026`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOrder {
    /// Day first (Europe).
    DayMonth,
    /// Month first (United States).
    MonthDay,
}

/// ISO forms accepted without a `date_format`.
const ISO: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// Earliest year an imported instant may have.
pub const MIN_YEAR: i32 = 1900;
/// Latest year an imported instant may have.
pub const MAX_YEAR: i32 = 2200;

/// An instant (µs since the epoch, UTC). Without `format`: RFC 3339 (offsets converted
/// to UTC), ISO 8601 date-times and dates (taken as UTC, a trailing ` UTC` or `Z`
/// allowed), and slashed dates read in `order`. With `format`: that chrono format,
/// as a date-time or a date (a date alone also matches the format's date part).
/// Years outside [`MIN_YEAR`]–[`MAX_YEAR`] are refused: year 0 or ±262,142 parse, but
/// are typos, and later date arithmetic on them fails.
pub fn instant(text: &str, format: Option<&str>, order: Option<DayOrder>) -> Result<i64, String> {
    let v = parse_instant(text, format, order)?;
    let year = DateTime::from_timestamp_micros(v).map(|d| d.year());
    match year {
        Some(y) if (MIN_YEAR..=MAX_YEAR).contains(&y) => Ok(v),
        _ => Err(format!(
            "'{}' is outside the years {MIN_YEAR}–{MAX_YEAR}",
            text.trim()
        )),
    }
}

fn parse_instant(text: &str, format: Option<&str>, order: Option<DayOrder>) -> Result<i64, String> {
    let t = text.trim();
    if let Some(f) = format {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(d.and_utc().timestamp_micros());
        }
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Ok(d.timestamp_micros());
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Ok(midnight(d));
        }
        // A date alone where the format also has a time of day.
        if let Some(date_part) = f.split_whitespace().next()
            && let Ok(d) = NaiveDate::parse_from_str(t, date_part)
        {
            return Ok(midnight(d));
        }
        return Err(format!("'{t}' does not match date_format '{f}'"));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp_micros());
    }
    let bare = t
        .strip_suffix(" UTC")
        .or_else(|| t.strip_suffix('Z'))
        .unwrap_or(t);
    for f in ISO {
        if let Ok(d) = NaiveDateTime::parse_from_str(bare, f) {
            return Ok(d.and_utc().timestamp_micros());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(bare, "%Y-%m-%d") {
        return Ok(midnight(d));
    }
    if let Some((day, month)) = slashed_parts(bare) {
        let (first, second) = (day, month);
        let order = match order {
            Some(o) => o,
            None if first > 12 => DayOrder::DayMonth,
            None if second > 12 => DayOrder::MonthDay,
            None => {
                return Err(format!(
                    "'{t}' is ambiguous (day/month or month/day): set date_format in the mapping, e.g. \"%d/%m/%Y\""
                ));
            }
        };
        let f = match order {
            DayOrder::DayMonth => "%d/%m/%Y",
            DayOrder::MonthDay => "%m/%d/%Y",
        };
        let (date, time) = bare.split_once(' ').unwrap_or((bare, ""));
        let day = NaiveDate::parse_from_str(date, f).map_err(|e| format!("'{t}': {e}"))?;
        let time = time.trim();
        if time.is_empty() {
            return Ok(midnight(day));
        }
        for tf in ["%H:%M:%S", "%H:%M", "%I:%M %p", "%I:%M:%S %p"] {
            if let Ok(clock) = chrono::NaiveTime::parse_from_str(time, tf) {
                return Ok(day.and_time(clock).and_utc().timestamp_micros());
            }
        }
        return Err(format!("'{t}': unreadable time of day '{time}'"));
    }
    Err(format!(
        "'{t}' is not a date (expected ISO 8601 such as 2026-05-31 or 2026-05-31 14:05:00, or set date_format)"
    ))
}

fn midnight(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or(0)
}

/// The first two numbers of a slashed date `a/b/yyyy …`.
pub fn slashed_parts(text: &str) -> Option<(u32, u32)> {
    let date = text.split_whitespace().next()?;
    let mut parts = date.split('/');
    let a = parts.next()?.parse().ok()?;
    let b = parts.next()?.parse().ok()?;
    let year = parts.next()?;
    (year.len() == 4 && year.parse::<u32>().is_ok() && parts.next().is_none()).then_some((a, b))
}

/// A whole number; `,` `'` `_` and spaces as thousands separators, and `.` when every
/// group after it has three digits (`1.200` is 1200 in German exports).
pub fn integer(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let compact: String = t
        .chars()
        .filter(|c| !matches!(c, ',' | '\'' | '_' | ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let compact = if compact.contains('.')
        && compact.split('.').skip(1).all(|g| g.len() == 3)
        && !compact.starts_with('.')
    {
        compact.replace('.', "")
    } else {
        compact
    };
    compact
        .parse::<i64>()
        .map_err(|_| format!("'{t}' is not a whole number"))
}

/// A decimal number: `.` or `,` as the decimal mark (`3,5` is 3.5), no thousands
/// separators.
pub fn float(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let v = t
        .parse::<f64>()
        .or_else(|_| t.replace(',', ".").parse::<f64>())
        .map_err(|_| format!("'{t}' is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("'{t}' is not a finite number"))
    }
}

/// A boolean: true/false, yes/no, y/n, 1/0 (any case).
pub fn boolean(text: &str) -> Result<bool, String> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "t" => Ok(true),
        "false" | "no" | "n" | "0" | "f" => Ok(false),
        _ => Err(format!("'{}' is not true/false or yes/no", text.trim())),
    }
}

/// The employee band of a head count (the bands of `leads.size_band`).
pub fn size_band(employees: i64) -> &'static str {
    match employees {
        i64::MIN..=10 => "1-10",
        11..=50 => "11-50",
        51..=200 => "51-200",
        201..=1000 => "201-1000",
        1001..=5000 => "1001-5000",
        _ => "5001+",
    }
}

/// A company size: a head count (`1,200`) or a band (`51-200`, `51-200 employees`,
/// `10,001+`). Returns the head count when given, and the band.
pub fn company_size(text: &str) -> Result<(Option<i32>, &'static str), String> {
    let t = text.trim();
    let body = t
        .trim_end_matches("employees")
        .trim_end_matches("Employees")
        .trim();
    if let Ok(n) = integer(body) {
        if n < 0 {
            return Err(format!("'{t}' is a negative head count"));
        }
        let n32 = i32::try_from(n).map_err(|_| format!("'{t}' is too large a head count"))?;
        return Ok((Some(n32), size_band(n)));
    }
    if let Some(low) = body.strip_suffix('+') {
        let low = integer(low).map_err(|_| format!("'{t}' is not a head count or band"))?;
        return Ok((None, size_band(low.max(5001))));
    }
    if let Some((low, high)) = body.split_once('-')
        && let (Ok(low), Ok(high)) = (integer(low), integer(high))
        && low <= high
    {
        return Ok((None, size_band(high)));
    }
    Err(format!(
        "'{t}' is not a head count or a band such as 51-200"
    ))
}

/// Country names (English and a few native spellings) → ISO 3166-1 alpha-2 codes.
const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("united states", "US"),
    ("united states of america", "US"),
    ("usa", "US"),
    ("u.s.", "US"),
    ("u.s.a.", "US"),
    ("america", "US"),
    ("canada", "CA"),
    ("mexico", "MX"),
    ("méxico", "MX"),
    ("brazil", "BR"),
    ("brasil", "BR"),
    ("argentina", "AR"),
    ("chile", "CL"),
    ("colombia", "CO"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("great britain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("ireland", "IE"),
    ("germany", "DE"),
    ("deutschland", "DE"),
    ("austria", "AT"),
    ("österreich", "AT"),
    ("switzerland", "CH"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("france", "FR"),
    ("belgium", "BE"),
    ("belgique", "BE"),
    ("netherlands", "NL"),
    ("the netherlands", "NL"),
    ("holland", "NL"),
    ("nederland", "NL"),
    ("luxembourg", "LU"),
    ("spain", "ES"),
    ("españa", "ES"),
    ("portugal", "PT"),
    ("italy", "IT"),
    ("italia", "IT"),
    ("sweden", "SE"),
    ("sverige", "SE"),
    ("norway", "NO"),
    ("denmark", "DK"),
    ("finland", "FI"),
    ("poland", "PL"),
    ("polska", "PL"),
    ("czech republic", "CZ"),
    ("czechia", "CZ"),
    ("hungary", "HU"),
    ("romania", "RO"),
    ("greece", "GR"),
    ("turkey", "TR"),
    ("türkiye", "TR"),
    ("israel", "IL"),
    ("united arab emirates", "AE"),
    ("uae", "AE"),
    ("saudi arabia", "SA"),
    ("south africa", "ZA"),
    ("nigeria", "NG"),
    ("egypt", "EG"),
    ("kenya", "KE"),
    ("india", "IN"),
    ("china", "CN"),
    ("japan", "JP"),
    ("south korea", "KR"),
    ("korea", "KR"),
    ("singapore", "SG"),
    ("hong kong", "HK"),
    ("taiwan", "TW"),
    ("australia", "AU"),
    ("new zealand", "NZ"),
    ("indonesia", "ID"),
    ("malaysia", "MY"),
    ("philippines", "PH"),
    ("thailand", "TH"),
    ("vietnam", "VN"),
];

/// An ISO 3166-1 alpha-2 code from a code (alpha-2 or alpha-3, any case) or a
/// country's name or common alias in English (the `celes` crate's ISO 3166-1 list),
/// or one of a few names in other languages.
pub fn country(text: &str) -> Result<String, String> {
    use std::str::FromStr;
    let t = text.trim();
    if t.eq_ignore_ascii_case("uk") {
        return Ok("GB".into());
    }
    let lower = t.to_lowercase();
    let squeezed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    let snake = lower.split_whitespace().collect::<Vec<_>>().join("_");
    let found = celes::Country::from_alpha2(t)
        .or_else(|_| celes::Country::from_alpha3(t))
        .or_else(|_| celes::Country::from_str(&squeezed))
        .or_else(|_| celes::Country::from_str(&snake))
        .or_else(|_| celes::Country::from_alias(&squeezed))
        .or_else(|_| celes::Country::from_alias(&snake));
    if let Ok(c) = found {
        return Ok(c.alpha2.to_string());
    }
    COUNTRY_NAMES
        .iter()
        .find(|(n, _)| *n == lower)
        .map(|(_, c)| c.to_string())
        .ok_or_else(|| {
            format!("unknown country '{t}' (give an ISO 3166-1 code such as DE or DEU, or an English name)")
        })
}

/// The sales territory of a country code, `unknown` when not one of the workspace's.
pub fn territory(code: &str) -> &'static str {
    COUNTRIES
        .iter()
        .find(|(c, _)| c.code == code)
        .map_or("unknown", |(c, _)| c.territory)
}

/// A lowercase `snake_case` word (`Paid Search` → `paid_search`).
pub fn word(text: &str) -> Result<String, String> {
    let w: String = text
        .trim()
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    if w.is_empty() {
        Err(format!("'{}' holds no word", text.trim()))
    } else {
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|x| x.and_hms_opt(h, min, 0))
            .map(|x| x.and_utc().timestamp_micros())
            .expect("valid")
    }

    #[test]
    fn instants_in_iso_rfc3339_and_slashed_forms() {
        let t = at(2026, 5, 31, 14, 5);
        assert_eq!(instant("2026-05-31 14:05:00", None, None), Ok(t));
        assert_eq!(instant("2026-05-31T14:05:00Z", None, None), Ok(t));
        assert_eq!(instant("2026-05-31T16:05:00+02:00", None, None), Ok(t));
        assert_eq!(instant("2026-05-31 14:05:00 UTC", None, None), Ok(t));
        assert_eq!(instant("31/05/2026 14:05", None, None), Ok(t));
        assert_eq!(instant("05/31/2026 2:05 PM", None, None), Ok(t));
        assert_eq!(
            instant("03/04/2026", None, Some(DayOrder::DayMonth)),
            Ok(at(2026, 4, 3, 0, 0))
        );
        let e = instant("03/04/2026", None, None).expect_err("ambiguous");
        assert!(e.contains("ambiguous"), "{e}");
        assert_eq!(
            instant("31.05.2026", Some("%d.%m.%Y"), None),
            Ok(at(2026, 5, 31, 0, 0))
        );
        assert!(instant("yesterday", None, None).is_err());
    }

    #[test]
    fn numbers_with_separators() {
        assert_eq!(integer("1,200"), Ok(1200));
        assert_eq!(integer("1.200.000"), Ok(1_200_000));
        assert_eq!(integer("12 500"), Ok(12500));
        assert!(integer("1.5").is_err());
        assert!(integer("ten").is_err());
        assert_eq!(float("3,5"), Ok(3.5));
        assert!(float("NaN").is_err());
    }

    #[test]
    fn company_sizes_and_bands() {
        assert_eq!(company_size("1,200"), Ok((Some(1200), "1001-5000")));
        assert_eq!(company_size("51-200 employees"), Ok((None, "51-200")));
        assert_eq!(company_size("10,001+"), Ok((None, "5001+")));
        assert!(company_size("big").is_err());
        assert!(company_size("-5").is_err());
    }

    #[test]
    fn countries_by_code_or_name() {
        assert_eq!(country("de"), Ok("DE".into()));
        assert_eq!(country("United States"), Ok("US".into()));
        assert_eq!(country("UK"), Ok("GB".into()));
        assert_eq!(country("Deutschland"), Ok("DE".into()));
        assert!(country("Atlantis").is_err());
        assert!(country("XX").is_err(), "not an ISO 3166-1 code");
        // X Education's countries the generator's vocabulary lacked.
        for (name, code) in [
            ("Russia", "RU"),
            ("Kuwait", "KW"),
            ("Oman", "OM"),
            ("Qatar", "QA"),
            ("Bahrain", "BH"),
            ("Uganda", "UG"),
            ("Ghana", "GH"),
            ("Bangladesh", "BD"),
            ("Tanzania", "TZ"),
            ("United Arab Emirates", "AE"),
            ("DEU", "DE"),
        ] {
            assert_eq!(country(name).as_deref(), Ok(code), "{name}");
        }
    }
}
