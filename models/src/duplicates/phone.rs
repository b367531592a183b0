//! Phone numbers in E.164 (`+4930123456`) from libphonenumber's metadata (the
//! `phonenumber` crate): a national number takes the lead's country as its region, so
//! `030 1234567` for a German lead and `+49 30 1234567` are the same number.
//!
//! The country calling code and national (trunk) prefix come from the region's
//! metadata; the number is not run through the library's parser, whose regular
//! expressions, compiled per pattern behind one shared lock, cost over 100 µs a number
//! across many regions (a million leads took minutes). So `030 1234567` in Germany
//! (code 49, trunk prefix 0) is `+49301234567`, and `06 1234 5678` in Italy (no trunk
//! prefix: the 0 is part of the number) is `+390612345678`. Numbers are not checked
//! against assigned ranges: matching needs one spelling per number, not a valid line.

use phonenumber::metadata::DATABASE;

/// The E.164 form of `raw`, read in `country`'s numbering plan (ISO 3166-1 alpha-2)
/// when it is written nationally; `None` when it cannot be read as a number (letters
/// other than an extension, fewer than 6 or more than 15 digits, no known country for
/// a national number).
pub fn e164(raw: &str, country: Option<&str>) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 64 {
        return None;
    }
    let main = crate::matching::phone_without_extension(raw)?;
    // `+49 (0)30 …`: the trunk prefix some write in brackets after the country code.
    let main = main.replacen("(0)", "", 1);
    let international = main.starts_with('+') || main.starts_with("00");
    let mut digits: String = main.chars().filter(char::is_ascii_digit).collect();
    if international {
        if main.starts_with("00") {
            digits.drain(..2);
        }
        return (8..=15)
            .contains(&digits.len())
            .then(|| format!("+{digits}"));
    }
    let region = country?.trim().to_ascii_uppercase();
    let meta = DATABASE.by_id(region.as_str())?;
    // The trunk prefix goes, as libphonenumber's parser takes it (`8 812 …` and
    // `812 …` in Russia both lose their 8: the test below holds the two to agree).
    let national = match meta.national_prefix() {
        Some(prefix) if !prefix.is_empty() => digits.strip_prefix(prefix).unwrap_or(&digits),
        _ => digits.as_str(),
    };
    if national.len() < 6 {
        return None;
    }
    let number = format!("+{}{national}", meta.country_code());
    (number.len() <= 16).then_some(number)
}

/// The lengths a national number can have after country calling code `code`: those
/// of every kind of number a subscriber can have in its regions (the metadata's
/// general descriptor carries none of its own), local-only lengths included (dialled
/// without the area code), as libphonenumber's `isPossibleNumber` counts them. Built
/// once for every code.
fn possible_lengths(code: u16) -> Option<&'static [u16]> {
    static LENGTHS: std::sync::OnceLock<std::collections::HashMap<u16, Vec<u16>>> =
        std::sync::OnceLock::new();
    LENGTHS
        .get_or_init(|| {
            let mut all: std::collections::HashMap<u16, Vec<u16>> = Default::default();
            for m in DATABASE.iter() {
                let d = m.descriptors();
                let lengths = all.entry(m.country_code()).or_default();
                for kind in [
                    d.fixed_line(),
                    d.mobile(),
                    d.toll_free(),
                    d.premium_rate(),
                    d.shared_cost(),
                    d.personal_number(),
                    d.voip(),
                    d.pager(),
                    d.uan(),
                    d.voicemail(),
                ]
                .into_iter()
                .flatten()
                {
                    lengths.extend_from_slice(kind.possible_length());
                    lengths.extend_from_slice(kind.possible_local_length());
                }
            }
            for lengths in all.values_mut() {
                lengths.sort_unstable();
                lengths.dedup();
            }
            all.retain(|_, l| !l.is_empty());
            all
        })
        .get(&code)
        .map(Vec::as_slice)
}

/// Why `raw` is no possible phone number, or `None` when it is one: read in
/// `country`'s numbering plan when written nationally ([`e164`]), its national number
/// must have one of the lengths libphonenumber's metadata gives for its country
/// calling code (what libphonenumber's `isPossibleNumber` checks). For imported rows:
/// a metadata lookup, not the library's parser and validator, whose regular
/// expressions cost about 280 µs a number (a 100,000-row import took 29 s instead of
/// 1.3 s); numbers are not checked against assigned ranges.
pub fn invalid(raw: &str, country: Option<&str>) -> Option<String> {
    let raw = raw.trim();
    let Some(number) = e164(raw, country) else {
        let plan = match country.map(|c| c.trim().to_ascii_uppercase()) {
            Some(r) => format!("in {r}'s numbering plan"),
            None => "(no country: an international number needs its + and code)".into(),
        };
        return Some(format!("'{raw}' cannot be read as a phone number {plan}"));
    };
    let digits = &number[1..];
    for code_len in 1..=3.min(digits.len()) {
        let Ok(code) = digits[..code_len].parse::<u16>() else {
            continue;
        };
        if DATABASE.by_code(&code).is_none() {
            continue;
        }
        let national = (digits.len() - code_len) as u16;
        let lengths = possible_lengths(code).unwrap_or(&[]);
        if lengths.is_empty() || lengths.contains(&national) {
            return None;
        }
        let shown: Vec<String> = lengths.iter().map(u16::to_string).collect();
        return Some(format!(
            "'{raw}' has {national} digits after +{code}, no possible length there ({} digits, by libphonenumber's metadata)",
            shown.join(", ")
        ));
    }
    Some(format!("'{raw}' starts with no known country calling code"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imported_numbers_are_checked_against_the_numbering_plan() {
        assert_eq!(invalid("030 1234567", Some("DE")), None);
        assert_eq!(invalid("+44 20 7946 0958", None), None);
        // A local-only length (London without its 20) is possible, as in
        // libphonenumber's isPossibleNumber.
        assert_eq!(invalid("+44 7946 0958", None), None);
        assert_eq!(invalid("+1 415 555 2671", Some("de")), None);
        let short = invalid("+1 415 555 267", Some("US")).expect("nine digits");
        assert!(
            short.contains("has 9 digits after +1, no possible length there (7, 10 digits"),
            "{short}"
        );
        let national = invalid("030 1234567", None).expect("no region");
        assert!(national.contains("no country"), "{national}");
        assert!(invalid("call me", Some("FR")).is_some());
    }

    #[test]
    fn national_and_international_forms_meet() {
        let de = e164("030 1234567", Some("DE"));
        assert_eq!(de.as_deref(), Some("+49301234567"));
        assert_eq!(e164("+49 30 1234567", Some("FR")), de);
        assert_eq!(e164("0049 (30) 123-4567", None), de);
        assert_eq!(e164("+49 (0)30 1234567", None), de);
        assert_eq!(
            e164("(020) 7946 0958", Some("gb")).as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            e164("+1 415-555-0199 ext. 12", None).as_deref(),
            Some("+14155550199")
        );
        assert_eq!(
            e164("(415) 555-0199", Some("US")).as_deref(),
            Some("+14155550199")
        );
        // Italy keeps its leading 0 (no trunk prefix).
        assert_eq!(
            e164("06 1234 5678", Some("IT")).as_deref(),
            Some("+390612345678")
        );
    }

    #[test]
    fn the_library_reads_national_numbers_the_same_way() {
        // The metadata route against the library's own parser and formatter.
        for (raw, region) in [
            ("030 1234567", "DE"),
            ("(020) 7946 0958", "GB"),
            ("06 12 34 56 78", "FR"),
            ("020 756 4816", "NL"),
            ("06 1234 5678", "IT"),
            ("(415) 555-0199", "US"),
            // A trunk prefix that is also an area code's first digit: the library
            // reads the 8 as the trunk prefix too.
            ("812 123 4567", "RU"),
            ("1 415 555 0199", "US"),
        ] {
            let id: phonenumber::country::Id = region.parse().expect("region");
            let parsed = phonenumber::parse(Some(id), raw).expect("parses");
            let library = parsed.format().mode(phonenumber::Mode::E164).to_string();
            assert_eq!(e164(raw, Some(region)), Some(library), "{raw} in {region}");
        }
    }

    #[test]
    fn unreadable_numbers_are_none() {
        assert_eq!(e164("030 1234567", None), None);
        assert_eq!(e164("030 1234567", Some("XX")), None);
        assert_eq!(e164("call me", Some("DE")), None);
        assert_eq!(e164("", Some("DE")), None);
        assert_eq!(e164("12", Some("DE")), None);
        assert_eq!(e164("+1 2", None), None);
    }
}
