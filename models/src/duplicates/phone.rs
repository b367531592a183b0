//! Phone numbers in E.164 (`+4930123456`), read with libphonenumber's metadata (the
//! `phonenumber` crate): a national number takes the lead's country as its region, so
//! `030 1234567` for a German lead and `+49 30 1234567` are the same number.

use phonenumber::{Mode, country};

/// The E.164 form of `raw`, read in `country`'s numbering plan (ISO 3166-1 alpha-2)
/// when it is written nationally; `None` when it cannot be read as a number (letters,
/// too short, no country for a national number). Numbers are not required to be
/// assigned ranges: matching needs one spelling per number, not a valid line.
pub fn e164(raw: &str, country: Option<&str>) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 64 {
        return None;
    }
    let region = country.and_then(|c| c.trim().to_ascii_uppercase().parse::<country::Id>().ok());
    if raw.chars().filter(char::is_ascii_digit).count() < 6 {
        return None;
    }
    // `00` is the international prefix of most plans: read it as `+` whatever the
    // region (without one, the library would not).
    let raw = match raw.strip_prefix("00") {
        Some(rest) => std::borrow::Cow::Owned(format!("+{rest}")),
        None => std::borrow::Cow::Borrowed(raw),
    };
    if !raw.starts_with('+') && region.is_none() {
        return None;
    }
    let number = phonenumber::parse(region, raw.as_ref()).ok()?;
    Some(number.format().mode(Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_meet() {
        let de = e164("030 1234567", Some("DE"));
        assert_eq!(de.as_deref(), Some("+49301234567"));
        assert_eq!(e164("+49 30 1234567", Some("FR")), de);
        assert_eq!(e164("0049 (30) 123-4567", None), de);
        assert_eq!(
            e164("(020) 7946 0958", Some("gb")).as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            e164("+1 415-555-0199", None).as_deref(),
            Some("+14155550199")
        );
    }

    #[test]
    fn unreadable_numbers_are_none() {
        assert_eq!(e164("030 1234567", None), None);
        assert_eq!(e164("call me", Some("DE")), None);
        assert_eq!(e164("", Some("DE")), None);
        assert_eq!(e164("12", Some("DE")), None);
    }
}
