//! The closed vocabularies of the lead domain.
//!
//! Every enum here is stored as a lowercase `snake_case` string in the workspace's
//! Parquet files (see `data/README.md`). Parsing is strict: an unknown spelling is an
//! error that lists the accepted ones, so that a typo in a model file or an import is
//! caught where it was written instead of silently scoring nothing.
//!
//! The reference tables shared by the generator, import and the lifecycle commands are
//! here too: the countries ([`COUNTRIES`], ISO 3166-1 codes with their sales territory,
//! dialling prefix and domain) and the lead sources ([`SOURCES`], with their channel).

use std::fmt;
use std::str::FromStr;

/// A value that did not belong to one of the domain's vocabularies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// Which vocabulary was expected (e.g. `interaction type`).
    pub kind: &'static str,
    /// The value that was given.
    pub value: String,
    /// The accepted spellings.
    pub accepted: Vec<&'static str>,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} '{}' (expected one of: {})",
            self.kind,
            self.value,
            self.accepted.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

/// Declares a vocabulary enum with its stored spellings, `as_str`, `ALL`, `Display` and
/// `FromStr`. Variants are listed in their natural order (used by `Ord`).
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling stored in Parquet files and used in SQL and model files.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownValue {
                        kind: $kind,
                        value: s.to_string(),
                        accepted: $name::ALL.iter().map(|v| v.as_str()).collect(),
                    })
            }
        }
    };
}

vocabulary! {
    /// What a lead (or the system, on its behalf) did, as recorded in `interactions.type`.
    InteractionType, "interaction type" {
        /// A marketing email was sent to the lead.
        EmailSent => "email_sent",
        /// The lead opened a marketing email (needs tracking consent).
        EmailOpen => "email_open",
        /// The lead clicked a link in a marketing email.
        EmailClick => "email_click",
        /// The lead submitted a web form (contact us, demo request, newsletter, …).
        FormSubmit => "form_submit",
        /// The lead visited a page of the website.
        WebVisit => "web_visit",
        /// The lead visited the pricing page: a strong buying signal.
        PricingPageVisit => "pricing_page_visit",
        /// The lead downloaded gated content (white paper, e-book, report).
        ContentDownload => "content_download",
        /// The lead registered for an event.
        EventRegistration => "event_registration",
        /// The lead checked in at an event it registered for.
        EventCheckin => "event_checkin",
        /// The lead attended a webinar.
        WebinarAttend => "webinar_attend",
        /// The lead unsubscribed from marketing email.
        Unsubscribe => "unsubscribe",
    }
}

vocabulary! {
    /// How far a lead allowed us to contact and track it, weakest first.
    ///
    /// The order matters: a scoring model's minimum consent level admits every lead at
    /// that level or above.
    ConsentLevel, "consent level" {
        /// No consent recorded: the lead may not be emailed.
        None => "none",
        /// Transactional messages only (replies to its own requests).
        Transactional => "transactional",
        /// Marketing email allowed.
        Marketing => "marketing",
        /// Marketing email and behavioural tracking (opens, clicks, visits) allowed.
        Full => "full",
    }
}

vocabulary! {
    /// A lead's lifecycle status (Dynamics 365 Sales semantics).
    LeadStatus, "lead status" {
        /// Not yet decided.
        Open => "open",
        /// Qualified: turned into an opportunity (and contact/account where needed).
        Qualified => "qualified",
        /// Disqualified, with a [`DisqualifyReason`].
        Disqualified => "disqualified",
    }
}

vocabulary! {
    /// Why a lead was disqualified (the Dynamics 365 Sales status reasons).
    DisqualifyReason, "disqualify reason" {
        /// Lost to a competitor or to doing nothing.
        Lost => "lost",
        /// Nobody could reach the lead.
        CannotContact => "cannot_contact",
        /// The lead said it is no longer interested.
        NoLongerInterested => "no_longer_interested",
        /// Cancelled: a duplicate, a test or junk entry.
        Canceled => "canceled",
    }
}

vocabulary! {
    /// A person's seniority, derived from the job title, most junior first.
    Seniority, "seniority" {
        /// Entry level, assistants and coordinators.
        Entry => "entry",
        /// Experienced individual contributors.
        Mid => "mid",
        /// Senior and lead individual contributors.
        Senior => "senior",
        /// Managers of a team.
        Manager => "manager",
        /// Directors and heads of a function.
        Director => "director",
        /// Vice presidents.
        Vp => "vp",
        /// C-level executives and founders.
        CLevel => "c_level",
    }
}

/// A country leads and accounts can be in.
#[derive(Debug, Clone, Copy)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code.
    pub code: &'static str,
    /// Sales territory it belongs to.
    pub territory: &'static str,
    /// The group of personal names its people have.
    pub names: NameRegion,
    /// International dialling prefix, without `+`.
    pub dial: &'static str,
    /// Top-level domain of its companies.
    pub tld: &'static str,
    /// Local personal email providers (besides the global ones).
    pub local_mail: &'static [&'static str],
}

/// Groups of first and last names (the generator has a list of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRegion {
    /// English-speaking countries.
    English,
    /// German-speaking countries.
    German,
    /// France.
    French,
    /// Spain, Mexico.
    Spanish,
    /// Portugal, Brazil.
    Portuguese,
    /// Italy.
    Italian,
    /// Netherlands.
    Dutch,
    /// Sweden.
    Nordic,
    /// Poland.
    Polish,
    /// India.
    Indian,
    /// Japan.
    Japanese,
    /// Singapore.
    Chinese,
}

const fn country(
    code: &'static str,
    territory: &'static str,
    names: NameRegion,
    dial: &'static str,
    tld: &'static str,
    local_mail: &'static [&'static str],
) -> Country {
    Country {
        code,
        territory,
        names,
        dial,
        tld,
        local_mail,
    }
}

/// The countries of the workspace's leads and accounts, with the share of leads they
/// produce (the weights of generated data).
pub const COUNTRIES: &[(Country, f64)] = &[
    (
        country("US", "north_america", NameRegion::English, "1", "com", &[]),
        34.0,
    ),
    (
        country("CA", "north_america", NameRegion::English, "1", "ca", &[]),
        5.0,
    ),
    (
        country(
            "GB",
            "emea",
            NameRegion::English,
            "44",
            "co.uk",
            &["btinternet.com"],
        ),
        10.0,
    ),
    (
        country(
            "DE",
            "emea",
            NameRegion::German,
            "49",
            "de",
            &["gmx.de", "web.de", "t-online.de"],
        ),
        8.0,
    ),
    (
        country(
            "FR",
            "emea",
            NameRegion::French,
            "33",
            "fr",
            &["orange.fr", "free.fr"],
        ),
        6.0,
    ),
    (
        country("NL", "emea", NameRegion::Dutch, "31", "nl", &["ziggo.nl"]),
        3.0,
    ),
    (
        country(
            "ES",
            "emea",
            NameRegion::Spanish,
            "34",
            "es",
            &["telefonica.net"],
        ),
        3.0,
    ),
    (
        country(
            "IT",
            "emea",
            NameRegion::Italian,
            "39",
            "it",
            &["libero.it"],
        ),
        3.0,
    ),
    (
        country("SE", "emea", NameRegion::Nordic, "46", "se", &[]),
        2.0,
    ),
    (
        country(
            "PT",
            "emea",
            NameRegion::Portuguese,
            "351",
            "pt",
            &["sapo.pt"],
        ),
        2.0,
    ),
    (
        country(
            "PL",
            "emea",
            NameRegion::Polish,
            "48",
            "pl",
            &["wp.pl", "onet.pl"],
        ),
        2.0,
    ),
    (
        country("ZA", "emea", NameRegion::English, "27", "co.za", &[]),
        1.0,
    ),
    (
        country(
            "IN",
            "apac",
            NameRegion::Indian,
            "91",
            "in",
            &["rediffmail.com"],
        ),
        6.0,
    ),
    (
        country(
            "AU",
            "apac",
            NameRegion::English,
            "61",
            "com.au",
            &["bigpond.com"],
        ),
        4.0,
    ),
    (
        country("JP", "apac", NameRegion::Japanese, "81", "co.jp", &[]),
        3.0,
    ),
    (
        country("SG", "apac", NameRegion::Chinese, "65", "com.sg", &[]),
        2.0,
    ),
    (
        country(
            "BR",
            "latin_america",
            NameRegion::Portuguese,
            "55",
            "com.br",
            &["uol.com.br"],
        ),
        4.0,
    ),
    (
        country(
            "MX",
            "latin_america",
            NameRegion::Spanish,
            "52",
            "com.mx",
            &[],
        ),
        2.0,
    ),
];

/// Lead sources (`leads.source`) with their channel (`leads.channel`) and share of
/// leads (the weights of generated data).
pub const SOURCES: &[((&str, &str), f64)] = &[
    (("web_form", "web"), 22.0),
    (("paid_search", "paid"), 14.0),
    (("organic_search", "web"), 12.0),
    (("social_linkedin", "social"), 10.0),
    (("event", "event"), 8.0),
    (("webinar", "event"), 8.0),
    (("referral", "partner"), 4.0),
    (("partner", "partner"), 5.0),
    (("content_syndication", "paid"), 8.0),
    (("purchased_list", "list"), 9.0),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for t in InteractionType::ALL {
            assert_eq!(t.as_str().parse::<InteractionType>(), Ok(*t));
        }
        for c in ConsentLevel::ALL {
            assert_eq!(c.to_string().parse::<ConsentLevel>(), Ok(*c));
        }
    }

    #[test]
    fn unknown_value_lists_the_accepted_ones() {
        let err = "pricing_visit"
            .parse::<InteractionType>()
            .expect_err("unknown");
        let msg = err.to_string();
        assert!(
            msg.starts_with("unknown interaction type 'pricing_visit'"),
            "{msg}"
        );
        assert!(msg.contains("pricing_page_visit"), "{msg}");
    }

    #[test]
    fn consent_levels_are_ordered_weakest_first() {
        assert!(ConsentLevel::None < ConsentLevel::Transactional);
        assert!(ConsentLevel::Marketing < ConsentLevel::Full);
        assert!(Seniority::Entry < Seniority::CLevel);
    }

    #[test]
    fn parsing_is_case_sensitive() {
        assert!("Open".parse::<LeadStatus>().is_err());
        assert!("open".parse::<LeadStatus>().is_ok());
    }
}
