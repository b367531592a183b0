//! What a job title says about a person: their function and seniority.
//!
//! Imported leads carry a free-text title ("Sr. Marketing Manager", "VP Sales EMEA",
//! "CTO"); scoring rules use the derived `job_function` and `seniority` columns. The
//! classification is by keywords, in English with the common French, German and
//! Spanish words, and returns `None` when the title does not say.

use crate::domain::Seniority;

/// Function keywords, most specific first: the first hit wins.
const FUNCTIONS: &[(&str, &[&str])] = &[
    (
        "executive",
        &[
            "ceo",
            "chief executive",
            "founder",
            "co-founder",
            "owner",
            "president",
            "managing director",
            "general manager",
            "geschäftsführer",
            "directeur général",
            "partner",
        ],
    ),
    (
        "marketing",
        &[
            "marketing",
            "cmo",
            "brand",
            "growth",
            "demand gen",
            "communications",
            "seo",
            "content",
        ],
    ),
    (
        "sales",
        &[
            "sales",
            "cro",
            "chief revenue",
            "account executive",
            "account manager",
            "business development",
            "bdr",
            "sdr",
            "commercial",
            "vertrieb",
            "ventas",
            "revenue",
        ],
    ),
    (
        "data",
        &[
            "data",
            "analytics",
            "bi",
            "business intelligence",
            "machine learning",
        ],
    ),
    (
        "engineering",
        &[
            "engineer",
            "engineering",
            "developer",
            "cto",
            "software",
            "architect",
            "devops",
            "ingénieur",
            "ingeniero",
        ],
    ),
    (
        "it",
        &[
            "it",
            "cio",
            "information technology",
            "systems",
            "infrastructure",
            "security",
            "network",
            "informatique",
        ],
    ),
    (
        "finance",
        &[
            "finance",
            "financial",
            "cfo",
            "accounting",
            "accountant",
            "controller",
            "treasurer",
            "treasury",
            "finanz",
        ],
    ),
    (
        "hr",
        &[
            "hr",
            "human resources",
            "people",
            "talent",
            "recruiter",
            "recruiting",
            "chief people",
        ],
    ),
    (
        "operations",
        &[
            "operations",
            "coo",
            "supply chain",
            "logistics",
            "procurement",
            "purchasing",
            "facilities",
        ],
    ),
];

/// Seniority keywords, most senior first: the first hit wins.
const SENIORITIES: &[(Seniority, &[&str])] = &[
    (
        Seniority::CLevel,
        &[
            "chief",
            "ceo",
            "cto",
            "cfo",
            "cio",
            "cmo",
            "coo",
            "cro",
            "founder",
            "owner",
            "president",
            "managing director",
            "geschäftsführer",
            "directeur général",
        ],
    ),
    (Seniority::Vp, &["vp", "svp", "evp"]),
    (
        Seniority::Director,
        &["director", "head of", "directeur", "leiter", "directora"],
    ),
    (
        Seniority::Manager,
        &[
            "manager",
            "team lead",
            "supervisor",
            "responsable",
            "gerente",
        ],
    ),
    (
        Seniority::Senior,
        &["senior", "sr", "lead", "principal", "staff"],
    ),
    (
        Seniority::Entry,
        &[
            "junior",
            "jr",
            "intern",
            "assistant",
            "coordinator",
            "trainee",
            "apprentice",
            "stagiaire",
            "praktikant",
        ],
    ),
    (
        Seniority::Mid,
        &[
            "specialist",
            "analyst",
            "associate",
            "consultant",
            "engineer",
            "developer",
            "executive",
            "representative",
            "accountant",
            "officer",
            "architect",
        ],
    ),
];

/// The title in lower case, punctuation as spaces, words separated and surrounded by one
/// space, so that keywords match whole words (`" it "`, not the `it` in `digital`).
fn words(title: &str) -> String {
    let mut s = String::with_capacity(title.len() + 2);
    s.push(' ');
    for c in title.chars().flat_map(char::to_lowercase) {
        s.push(if c.is_alphanumeric() || c == '-' {
            c
        } else {
            ' '
        });
    }
    s.push(' ');
    let s = s.split_whitespace().fold(String::from(" "), |mut acc, w| {
        acc.push_str(w);
        acc.push(' ');
        acc
    });
    // "Vice President" is a VP, not a president.
    s.replace(" vice president ", " vp ")
        .replace(" vice-president ", " vp ")
}

/// Whether `keyword` (one or more words) occurs in the title's words.
fn contains_word(words: &[&str], keyword: &str) -> bool {
    let n = keyword.split(' ').count();
    words
        .windows(n)
        .any(|w| w.iter().copied().eq(keyword.split(' ')))
}

/// The function a title belongs to (`marketing`, `sales`, `it`, `engineering`, `data`,
/// `operations`, `finance`, `hr`, `executive`), if it says.
///
/// ```
/// use leadql_models::titles::job_function;
/// assert_eq!(job_function("Sr. Marketing Manager"), Some("marketing"));
/// assert_eq!(job_function("VP Sales EMEA"), Some("sales"));
/// assert_eq!(job_function("Digital nomad"), None);
/// ```
pub fn job_function(title: &str) -> Option<&'static str> {
    let text = words(title);
    let w: Vec<&str> = text.split_whitespace().collect();
    FUNCTIONS
        .iter()
        .find(|(_, keys)| keys.iter().any(|k| contains_word(&w, k)))
        .map(|(f, _)| *f)
}

/// The seniority a title states, if it does.
///
/// ```
/// use leadql_models::titles::seniority;
/// use leadql_models::Seniority;
/// assert_eq!(seniority("Head of Data"), Some(Seniority::Director));
/// assert_eq!(seniority("CFO"), Some(Seniority::CLevel));
/// assert_eq!(seniority("Marketing"), None);
/// ```
pub fn seniority(title: &str) -> Option<Seniority> {
    let text = words(title);
    let w: Vec<&str> = text.split_whitespace().collect();
    SENIORITIES
        .iter()
        .find(|(_, keys)| keys.iter().any(|k| contains_word(&w, k)))
        .map(|(s, _)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_titles_classify_back_to_their_function_and_seniority() {
        let cases = [
            ("Marketing Coordinator", "marketing", Seniority::Entry),
            ("Junior Data Analyst", "data", Seniority::Entry),
            ("Sales Specialist", "sales", Seniority::Mid),
            (
                "Senior Engineering Analyst",
                "engineering",
                Seniority::Senior,
            ),
            ("IT Team Lead", "it", Seniority::Manager),
            ("Director of Finance", "finance", Seniority::Director),
            ("Head of Human Resources", "hr", Seniority::Director),
            ("Vice President, Operations", "operations", Seniority::Vp),
            ("CMO", "marketing", Seniority::CLevel),
            ("Chief People Officer", "hr", Seniority::CLevel),
            ("CEO", "executive", Seniority::CLevel),
        ];
        for (title, function, level) in cases {
            assert_eq!(job_function(title), Some(function), "{title}");
            assert_eq!(seniority(title), Some(level), "{title}");
        }
    }

    #[test]
    fn keywords_match_whole_words_only() {
        assert_eq!(job_function("Digital Transformation Lead"), None);
        assert_eq!(seniority("Leadership coach"), None);
        assert_eq!(job_function("Sr. IT Manager"), Some("it"));
        assert_eq!(seniority("Sr. IT Manager"), Some(Seniority::Manager));
    }

    #[test]
    fn empty_and_unicode_titles_do_not_panic() {
        assert_eq!(job_function(""), None);
        assert_eq!(seniority("   "), None);
        assert_eq!(seniority("Geschäftsführer"), Some(Seniority::CLevel));
        assert_eq!(job_function("Ingénieur logiciel"), Some("engineering"));
    }
}
