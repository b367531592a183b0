//! Normalising and comparing what people type into forms: emails, phone numbers,
//! names. The building blocks of lead matching and duplicate detection.
//!
//! Each function returns `None` for input that holds no usable value (empty, or not
//! an email / phone number at all) rather than guessing.

/// Free-mail domains: sharing one says nothing about being the same person.
pub const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "qq.com",
    "163.com",
    "rediffmail.com",
    "btinternet.com",
    "proton.me",
    "protonmail.com",
    "mail.ru",
    "yandex.ru",
    "uol.com.br",
    "bol.com.br",
    "t-online.de",
    "ziggo.nl",
    "telefonica.net",
    "sapo.pt",
    "wp.pl",
    "onet.pl",
    "bigpond.com",
    "wanadoo.fr",
    "sfr.fr",
    "virgilio.it",
    "seznam.cz",
    "terra.com.br",
    "yahoo.de",
    "yahoo.es",
    "hotmail.es",
    "hotmail.de",
    "live.fr",
    "mail.com",
    "zoho.com",
    "naver.com",
    "yahoo.co.jp",
];

/// Whether `domain` (normalised, e.g. from [`email_domain`]) is a free-mail provider.
pub fn is_free_mail(domain: &str) -> bool {
    FREE_MAIL.contains(&domain)
}

/// Lower-cased, trimmed email with a `mailto:` prefix and surrounding `<>` removed;
/// `None` unless it has exactly one `@` with a non-empty local part and a dotted
/// domain without spaces.
///
/// ```
/// use leadql_models::matching::normalize_email;
/// assert_eq!(normalize_email("  Ana.Pérez@Example.COM ").as_deref(), Some("ana.pérez@example.com"));
/// assert_eq!(normalize_email("no-at-sign"), None);
/// ```
pub fn normalize_email(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    // `get`, not `[..7]`: byte 7 may fall inside a character (`toño@…`).
    if let Some(rest) = s
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("mailto:"))
        .and_then(|_| s.get(7..))
    {
        s = rest.trim();
    }
    let s = s.trim_start_matches('<').trim_end_matches('>').trim();
    let lower = s.to_lowercase();
    let (local, domain) = lower.split_once('@')?;
    let domain = domain.trim_end_matches('.');
    let valid = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.contains("..")
        && !lower.chars().any(char::is_whitespace);
    valid.then(|| format!("{local}@{domain}"))
}

/// The domain of an email (normalised), e.g. `example.com`; `None` if it is not an
/// email.
pub fn email_domain(raw: &str) -> Option<String> {
    normalize_email(raw).and_then(|e| e.split_once('@').map(|(_, d)| d.to_string()))
}

/// A phone number as typed, lower-cased and trimmed, without its extension (`x123`,
/// `ext. 12`, `#12`); `None` when letters remain (not a number).
pub fn phone_without_extension(raw: &str) -> Option<String> {
    let lower = raw.trim().to_lowercase();
    let main = ["ext", "x", "#"]
        .iter()
        .filter_map(|m| lower.find(m))
        .min()
        .map_or(lower.as_str(), |i| &lower[..i]);
    if main.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    Some(main.trim().to_string())
}

/// A phone number reduced to its digits: `+` and the digits when written in
/// international form (`+44 20 7946 0958`, `0044 20…` → `+442079460958`), the digits
/// alone otherwise (`(020) 7946-0958` → `02079460958`). Extensions (`x123`, `ext. 12`)
/// are dropped. `None` with fewer than 6 digits or letters other than an extension.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let main = phone_without_extension(raw)?;
    let main = main.as_str();
    let international = main.starts_with('+') || main.starts_with("00");
    let mut digits: String = main.chars().filter(char::is_ascii_digit).collect();
    if main.starts_with("00") {
        digits.drain(..2);
    }
    if digits.len() < 6 {
        return None;
    }
    Some(if international {
        format!("+{digits}")
    } else {
        digits
    })
}

/// Legal forms and filler words of company names, dropped before comparing
/// (`Goldenmark N.V.` and `Goldenmark` are the same company).
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "llp",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "bv",
    "nv",
    "kk",
    "lda",
    "oy",
    "ab",
    "as",
    "asa",
    "pty",
    "cv",
    "de",
    "sl",
    "sc",
    "the",
    "and",
];

/// Lower case, common Latin accents and dots removed, other punctuation as spaces,
/// legal forms dropped, words sorted: the form names are compared in.
pub fn fold_name(raw: &str) -> String {
    let mut buf = String::new();
    folded_words(raw, &mut buf, usize::MAX).join(" ")
}

/// How much of each name [`name_similarity`] compares: the first this many characters
/// of its folded form (letters, digits, and single spaces between words). Comparing
/// words is quadratic in their number and Jaro–Winkler in their length; real names are
/// far shorter, and a 50 MB argument must not run for minutes.
pub const NAME_SIMILARITY_MAX_CHARS: usize = 200;

/// The words of [`fold_name`], sorted, borrowed from `buf` (which it overwrites),
/// from the first `limit` characters of the folded text (runs of separators count as
/// one space; leading ones not at all).
fn folded_words<'a>(raw: &str, buf: &'a mut String, limit: usize) -> Vec<&'a str> {
    buf.clear();
    buf.reserve(raw.len().min(limit.saturating_mul(4)));
    let mut chars = 0usize;
    for c in raw.chars().flat_map(char::to_lowercase) {
        if chars >= limit {
            break;
        }
        let base = match fold_char(c) {
            Some(c) => c,
            None if is_dropped(c) => continue,
            None if buf.is_empty() || buf.ends_with(' ') => continue,
            None => ' ',
        };
        buf.push(base);
        chars += 1;
    }
    let mut words: Vec<&str> = buf
        .split_whitespace()
        .filter(|w| !LEGAL_FORMS.contains(w))
        .collect();
    words.sort_unstable();
    words
}

/// A lower-case letter or digit without its accent (`é` → `e`, `ł` → `l`); `None` for
/// everything else.
fn fold_char(c: char) -> Option<char> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ű' | 'ů' => 'u',
        'ý' | 'ÿ' => 'y',
        'ś' | 'š' | 'ş' => 's',
        'ź' | 'ż' | 'ž' => 'z',
        'ł' => 'l',
        'ř' => 'r',
        'ť' => 't',
        'ď' => 'd',
        'ß' => 's',
        c if c.is_alphanumeric() && !is_dropped(c) => c,
        _ => return None,
    })
}

/// Dots and combining marks (a decomposed `é` is `e` + U+0301): dropped, not read as
/// a word break.
fn is_dropped(c: char) -> bool {
    matches!(c,
        '.'
        | '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// A person's name as one folded word: lower case, accents, spaces, hyphens and
/// apostrophes gone, in the order typed (`de Boer`, `deBoer` and `De-Boer` are all
/// `deboer`; `Ferreira Azevedo` is `ferreiraazevedo`). Unlike [`fold_name`] nothing
/// is dropped as a legal form: `Åsa` stays `asa`.
pub fn fold_person_name(raw: &str) -> String {
    raw.chars()
        .flat_map(char::to_lowercase)
        .filter_map(fold_char)
        .collect()
}

/// Jaro–Winkler similarity (0–1) of two strings, by characters.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    // Names are short: up to 64 characters each, everything stays on the stack.
    const SHORT: usize = 64;
    let mut sa = ['\0'; SHORT];
    let mut sb = ['\0'; SHORT];
    let (mut la, mut lb) = (0, 0);
    let fits = a.chars().all(|c| {
        if la < SHORT {
            sa[la] = c;
        }
        la += 1;
        la <= SHORT
    }) && b.chars().all(|c| {
        if lb < SHORT {
            sb[lb] = c;
        }
        lb += 1;
        lb <= SHORT
    });
    if fits {
        return jaro_winkler_chars(&sa[..la], &sb[..lb]);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    jaro_winkler_chars(&a, &b)
}

fn jaro_winkler_chars(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    const SHORT: usize = 64;
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let (mut used_stack, mut used_heap) = ([false; SHORT], Vec::new());
    let b_used: &mut [bool] = if b.len() <= SHORT {
        &mut used_stack[..b.len()]
    } else {
        used_heap.resize(b.len(), false);
        &mut used_heap
    };
    let (mut matched_stack, mut matched_heap) = (['\0'; SHORT], Vec::new());
    let a_matched: &mut [char] = if a.len() <= SHORT {
        &mut matched_stack[..a.len()]
    } else {
        matched_heap.resize(a.len(), '\0');
        &mut matched_heap
    };
    let mut m = 0;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_used[j] && b[j] == *ca {
                b_used[j] = true;
                a_matched[m] = *ca;
                m += 1;
                break;
            }
        }
    }
    let a_matched = &a_matched[..m];
    if m == 0 {
        return 0.0;
    }
    let transpositions = b
        .iter()
        .zip(b_used.iter())
        .filter(|(_, used)| **used)
        .zip(a_matched)
        .filter(|((x, _), y)| *x != *y)
        .count()
        / 2;
    let m = m as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

/// Similarity (0–1) of two person or company names, word by word: each word of the
/// name with fewer words is paired with its most similar unused word of the other
/// (Jaro–Winkler), and the sum is divided by the larger word count, so a different
/// first name or an extra word lowers the score. Compared in their folded forms
/// ([`fold_name`]): case, accents, punctuation, legal forms and word order do not
/// count. Only the first [`NAME_SIMILARITY_MAX_CHARS`] characters of each folded name
/// are compared. `None` when either holds no letters or digits.
pub fn name_similarity(a: &str, b: &str) -> Option<f64> {
    let (mut buf_a, mut buf_b) = (String::new(), String::new());
    let limit = NAME_SIMILARITY_MAX_CHARS;
    let (a, b) = (
        folded_words(a, &mut buf_a, limit),
        folded_words(b, &mut buf_b, limit),
    );
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let mut used = vec![false; long.len()];
    let mut total = 0.0;
    for w in short {
        let best = long
            .iter()
            .enumerate()
            .filter(|(j, _)| !used[*j])
            .map(|(j, v)| (j, jaro_winkler(w, v)))
            .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)));
        if let Some((j, s)) = best {
            used[j] = true;
            total += s;
        }
    }
    Some(total / long.len() as f64)
}

/// One lead of a duplicate group: the group is named by its smallest lead id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupMember {
    /// The lead.
    pub lead_id: i64,
    /// The smallest lead id of its group.
    pub group_id: i64,
    /// How many leads the group has (at least 2).
    pub group_size: usize,
}

/// The groups that duplicate `pairs` link transitively (A~B and B~C put A, B and C in
/// one group): every lead of a pair, ordered by group and lead. Union–find with path
/// halving, near-linear in the number of pairs.
pub fn duplicate_groups(pairs: &[(i64, i64)]) -> Vec<GroupMember> {
    let mut ids: Vec<i64> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    ids.sort_unstable();
    ids.dedup();
    let index = |id: i64| ids.binary_search(&id).unwrap_or(0);
    let mut parent: Vec<usize> = (0..ids.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(a, b) in pairs {
        let (ra, rb) = (root(&mut parent, index(a)), root(&mut parent, index(b)));
        // The smaller index (smaller lead id) becomes the root: it names the group.
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let roots: Vec<usize> = (0..ids.len()).map(|i| root(&mut parent, i)).collect();
    let mut sizes = vec![0usize; ids.len()];
    for &r in &roots {
        sizes[r] += 1;
    }
    let mut members: Vec<GroupMember> = roots
        .iter()
        .enumerate()
        .map(|(i, &r)| GroupMember {
            lead_id: ids[i],
            group_id: ids[r],
            group_size: sizes[r],
        })
        .collect();
    members.sort_by_key(|m| (m.group_id, m.lead_id));
    members
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_names_fold_to_one_word_without_dropping_legal_forms() {
        for (typed, folded) in [
            ("de Boer", "deboer"),
            ("deBoer", "deboer"),
            ("De-Boer", "deboer"),
            ("Ferreira Azevedo", "ferreiraazevedo"),
            ("O'Brien", "obrien"),
            ("Åsa", "asa"),
            ("ÅSA", "asa"),
            ("Łukasz", "lukasz"),
            ("Mei Ling", "meiling"),
            ("  ", ""),
        ] {
            assert_eq!(fold_person_name(typed), folded, "{typed}");
        }
        // Company names still lose their legal forms, and their words are sorted.
        assert_eq!(fold_name("Åsa AB"), "");
        assert_eq!(fold_name("Boer de"), "boer");
    }

    #[test]
    fn duplicate_groups_are_transitive_and_named_by_their_smallest_lead() {
        let groups = duplicate_groups(&[(7, 9), (3, 9), (20, 21), (9, 7), (40, 40)]);
        let got: Vec<(i64, i64, usize)> = groups
            .iter()
            .map(|m| (m.lead_id, m.group_id, m.group_size))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, 3, 3),
                (7, 3, 3),
                (9, 3, 3),
                (20, 20, 2),
                (21, 20, 2),
                // A lead paired with itself is a group of one.
                (40, 40, 1),
            ]
        );
        assert!(duplicate_groups(&[]).is_empty());
    }

    #[test]
    fn a_chain_joins_into_one_group_whatever_the_order() {
        let mut pairs: Vec<(i64, i64)> = (1..1000).map(|i| (i, i + 1)).collect();
        pairs.reverse();
        let groups = duplicate_groups(&pairs);
        assert_eq!(groups.len(), 1000);
        assert!(
            groups
                .iter()
                .all(|m| m.group_id == 1 && m.group_size == 1000)
        );
    }

    #[test]
    fn emails_are_trimmed_lowercased_and_validated() {
        assert_eq!(
            normalize_email(" mailto:<John.Doe@Example.COM.> ").as_deref(),
            Some("john.doe@example.com")
        );
        assert_eq!(
            normalize_email("ÉLODIE@exemple.fr").as_deref(),
            Some("élodie@exemple.fr")
        );
        for bad in [
            "",
            "   ",
            "john",
            "@example.com",
            "john@",
            "john@localhost",
            "a@b@c.com",
            "jo hn@x.com",
            "j@.com",
            "j@x..com",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        assert_eq!(
            email_domain("Ana@Sub.Example.org").as_deref(),
            Some("sub.example.org")
        );
        assert_eq!(email_domain("nope"), None);
    }

    #[test]
    fn phones_keep_digits_and_the_international_prefix() {
        assert_eq!(
            normalize_phone("+44 20 7946 0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            normalize_phone("0044 (20) 7946-0958").as_deref(),
            Some("+442079460958")
        );
        assert_eq!(
            normalize_phone("(020) 7946.0958").as_deref(),
            Some("02079460958")
        );
        assert_eq!(
            normalize_phone("+1 555-0100 ext. 42").as_deref(),
            Some("+15550100")
        );
        assert_eq!(normalize_phone("555 0100 x7").as_deref(), Some("5550100"));
        for bad in ["", "12345", "call me", "n/a"] {
            assert_eq!(normalize_phone(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn jaro_winkler_matches_published_values() {
        // Winkler's classic examples.
        assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 1e-4);
        assert!((jaro_winkler("dwayne", "duane") - 0.84).abs() < 1e-4);
        assert!((jaro_winkler("dixon", "dicksonx") - 0.8133).abs() < 1e-4);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
        assert_eq!(jaro_winkler("same", "same"), 1.0);
    }

    #[test]
    fn names_compare_without_case_accents_punctuation_or_order() {
        assert_eq!(name_similarity("José  Núñez", "jose nunez"), Some(1.0));
        assert_eq!(name_similarity("Núñez, José", "José Núñez"), Some(1.0));
        let typo = name_similarity("Katherine Smith", "Kathrine Smith").expect("names");
        assert!(typo > 0.95 && typo < 1.0, "{typo}");
        let other = name_similarity("Katherine Smith", "Li Wei").expect("names");
        assert!(other < 0.6, "{other}");
        // Same family name, different person.
        let family = name_similarity("James Clark", "Liam Clark").expect("names");
        assert!(family < 0.85, "{family}");
        // Legal forms and dots do not count.
        assert_eq!(name_similarity("Goldenmark N.V.", "goldenmark"), Some(1.0));
        assert_eq!(
            name_similarity("Vertexvale S.A. de C.V.", "Vertexvale"),
            Some(1.0)
        );
        assert_eq!(name_similarity("", "x"), None);
        assert_eq!(name_similarity("---", "x"), None);
        assert_eq!(name_similarity("李伟", "李伟"), Some(1.0));
    }

    /// Issue 15: `normalize_email('toño.álvaro@example.es')` panicked (byte 7 inside `ñ`).
    #[test]
    fn multi_byte_combining_and_rtl_text_never_panics() {
        assert_eq!(
            normalize_email("toño.álvaro@example.es").as_deref(),
            Some("toño.álvaro@example.es")
        );
        assert_eq!(
            normalize_email("MAILTO:Toño@Example.es").as_deref(),
            Some("toño@example.es")
        );
        // Byte 7 inside a combining mark, an emoji, a CJK or an Arabic character.
        for raw in [
            "aaaaaa\u{301}@x.io",
            "abcde😀@x.io",
            "a李伟李@x.io",
            "aمحمد@x.io",
            "mailtö:a@x.io",
            "ñ",
            "mailto",
            "",
        ] {
            let _ = normalize_email(raw);
            let _ = email_domain(raw);
            let _ = normalize_phone(raw);
            let _ = name_similarity(raw, "Toño");
        }
        assert_eq!(
            normalize_email("aaaaaa\u{301}@x.io").as_deref(),
            Some("aaaaaa\u{301}@x.io")
        );
        // Right-to-left: Arabic and Hebrew addresses and names, with direction marks.
        assert_eq!(
            normalize_email(" محمد@مثال.مصر ").as_deref(),
            Some("محمد@مثال.مصر")
        );
        assert_eq!(
            email_domain("שרה@דוגמה.ישראל").as_deref(),
            Some("דוגמה.ישראל")
        );
        assert_eq!(name_similarity("محمد علي", "علي محمد"), Some(1.0));
        assert_eq!(name_similarity("\u{200F}שרה כהן", "כהן שרה"), Some(1.0));
        // Arabic-Indic digits are not a phone number; an extension after them is fine.
        assert_eq!(normalize_phone("٠٢٠ ٧٩٤٦ ٠٩٥٨"), None);
        assert_eq!(
            normalize_phone("+44 20 7946 0958 ext. ١٢").as_deref(),
            Some("+442079460958")
        );
        // Combining marks: a decomposed name equals its precomposed form.
        assert_eq!(
            name_similarity("Jose\u{301} Nun\u{303}ez", "José Núñez"),
            Some(1.0)
        );
        assert_eq!(fold_name("A\u{308}ngstro\u{308}m"), "angstrom");
        assert_eq!(fold_name("Ångström"), "angstrom");
    }

    #[test]
    fn name_similarity_compares_only_the_first_characters_of_huge_names() {
        let start = std::time::Instant::now();
        // 50 MB of words, and one 50 MB word: only the first 200 folded characters count.
        let words = "ana maria ".repeat(5_000_000);
        assert_eq!(name_similarity(&words, &words), Some(1.0));
        let word = "a".repeat(50_000_000);
        let short = "a".repeat(NAME_SIMILARITY_MAX_CHARS);
        assert_eq!(name_similarity(&word, &short), Some(1.0));
        assert!(name_similarity(&word, "Ana").is_some());
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        // What follows the first 200 characters (after folding) does not count.
        let head = format!("{}Smith", "José ".repeat(39));
        assert_eq!(fold_name(&head).chars().count(), 39 * 5 + 5);
        let a = format!("{head} Núñez");
        let b = format!("{head}  ...  Zhang Wei");
        assert_eq!(name_similarity(&a, &b), Some(1.0));
        // Separators count once: 300 commas before a name do not hide it.
        let padded = format!("{}Katherine Smith", ",".repeat(300));
        assert_eq!(name_similarity(&padded, "katherine smith"), Some(1.0));
    }
}
