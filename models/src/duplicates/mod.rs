//! Duplicate leads at scale: candidate pairs from cheap blocking keys with capped
//! blocks, then one match score per pair from the evidence both leads give.
//!
//! 1. **Prepare** each lead once ([`prepare`]): folded names and company, the
//!    normalised email and its corporate domain, the phone in E.164 ([`phone`]).
//! 2. **Block** ([`blocking`]): leads that share a key (the email, the phone, the
//!    email's local part, the phone's last digits, the last name and first initial at
//!    the same company or domain, or the first name and last initial) form a block,
//!    and every pair inside a block is a candidate. A block larger than
//!    [`Settings::max_block`] (5,000 leads sharing `test@test.com`) is compared only
//!    within the same full name, and is reported ([`Oversized`]), so one junk value
//!    cannot produce millions of pairs.
//! 3. **Score** ([`evidence`]): each candidate's evidence (same email, same phone,
//!    name and company similarity, same domain and country, creation times) adds
//!    log-odds weights into one score from 0 to 1, with the evidence named as reasons.
//!
//! Work is split over the machine's cores with scoped threads; memory is a few
//! hundred bytes per lead and 16 bytes per key, plus the pairs found: candidate pairs
//! are scored block by block and never all held.

pub mod blocking;
pub mod evidence;
pub mod phone;

use crate::matching::{fold_name, fold_person_name, is_free_mail, normalize_email};

/// One lead as captured (the `leads` table's identity columns).
#[derive(Debug, Clone, Default)]
pub struct Lead {
    /// The lead id.
    pub id: i64,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email, as typed.
    pub email: Option<String>,
    /// Phone, as typed.
    pub phone: Option<String>,
    /// Company name, as typed.
    pub company: Option<String>,
    /// Country (ISO 3166-1 alpha-2): the region of national phone numbers.
    pub country: Option<String>,
    /// Creation instant, microseconds since the epoch.
    pub created_at: Option<i64>,
}

/// A lead's identity columns, borrowed (from a [`Lead`] or straight from Arrow
/// arrays, so that a million leads are never copied into owned strings first).
#[derive(Debug, Clone, Copy, Default)]
pub struct LeadRef<'a> {
    /// The lead id.
    pub id: i64,
    /// First name.
    pub first_name: Option<&'a str>,
    /// Last name.
    pub last_name: Option<&'a str>,
    /// Email, as typed.
    pub email: Option<&'a str>,
    /// Phone, as typed.
    pub phone: Option<&'a str>,
    /// Company name, as typed.
    pub company: Option<&'a str>,
    /// Country (ISO 3166-1 alpha-2).
    pub country: Option<&'a str>,
    /// Creation instant, microseconds since the epoch.
    pub created_at: Option<i64>,
}

impl Lead {
    /// The lead, borrowed.
    pub fn borrowed(&self) -> LeadRef<'_> {
        LeadRef {
            id: self.id,
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            company: self.company.as_deref(),
            country: self.country.as_deref(),
            created_at: self.created_at,
        }
    }
}

/// A lead in the forms matching compares.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// The lead id.
    pub id: i64,
    /// First name as one folded word ([`fold_person_name`]; "" when missing).
    pub first: String,
    /// Last name as one folded word ("" when missing).
    pub last: String,
    /// Normalised email.
    pub email: Option<String>,
    /// The email's domain when it is a company's (not free mail).
    pub domain: Option<String>,
    /// The phone in E.164.
    pub phone: Option<String>,
    /// Folded company name ("" when missing).
    pub company: String,
    /// The company's first word, folded, up to 6 characters ("" when missing).
    pub company_key: String,
    /// Country code, upper case.
    pub country: Option<String>,
    /// Creation instant (µs).
    pub created_at: Option<i64>,
}

/// Reads a lead into the forms matching compares.
pub fn prepare(lead: &LeadRef<'_>) -> Prepared {
    let fold = |s: Option<&str>| s.map(fold_name).unwrap_or_default();
    let person = |s: Option<&str>| s.map(fold_person_name).unwrap_or_default();
    let email = lead.email.and_then(normalize_email);
    let domain = email
        .as_deref()
        .and_then(|e| e.split_once('@'))
        .map(|(_, d)| d.to_string())
        .filter(|d| !is_free_mail(d));
    let country = lead
        .country
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    let phone = lead.phone.and_then(|p| phone::e164(p, country.as_deref()));
    let company_key = lead
        .company
        .and_then(|c| c.split_whitespace().map(fold_name).find(|w| !w.is_empty()))
        .map(|w| w.chars().filter(|c| !c.is_whitespace()).take(6).collect())
        .unwrap_or_default();
    Prepared {
        id: lead.id,
        first: person(lead.first_name),
        last: person(lead.last_name),
        email,
        domain,
        phone,
        company: fold(lead.company),
        company_key,
        country,
        created_at: lead.created_at,
    }
}

/// How to match.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The most leads one block may hold before it is compared only within the same
    /// full name (and reported).
    pub max_block: usize,
    /// The least match score a pair is reported with.
    pub min_score: f64,
}

/// The default [`Settings::max_block`].
pub const DEFAULT_MAX_BLOCK: usize = 100;

/// The default [`Settings::min_score`].
pub const DEFAULT_MIN_SCORE: f64 = 0.5;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_block: DEFAULT_MAX_BLOCK,
            min_score: DEFAULT_MIN_SCORE,
        }
    }
}

/// A pair of leads that are probably the same person.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The smaller lead id.
    pub lead_id: i64,
    /// The larger lead id.
    pub duplicate_id: i64,
    /// How likely the two are one person, 0–1.
    pub score: f64,
    /// The strongest evidence, in Dynamics 365's words ([`evidence::Scored::rule`]).
    pub rule: &'static str,
    /// The evidence for (and against) the pair.
    pub reasons: Vec<&'static str>,
}

/// A block too large to compare in full: its key, and how many leads share it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oversized {
    /// Which key.
    pub kind: blocking::Kind,
    /// The shared value.
    pub value: String,
    /// How many leads share it.
    pub leads: usize,
    /// Leads of the block left uncompared by it (in parts still too large after
    /// splitting by full name).
    pub skipped: usize,
}

/// What [`find`] found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The pairs at or above the least score, by lead and duplicate id.
    pub matches: Vec<Match>,
    /// The blocks too large to compare in full, largest first.
    pub oversized: Vec<Oversized>,
    /// How many candidate pairs were compared (a pair in several blocks counts in
    /// each).
    pub candidates: usize,
}

/// Finds the duplicate pairs among `leads`.
///
/// Takes the leads by value: once prepared, their raw text is dropped, which halves
/// the memory of a million-lead run.
pub fn find(leads: Vec<Lead>, settings: &Settings) -> Found {
    let prepared = par_map(&leads, |l| prepare(&l.borrowed()));
    drop(leads);
    find_prepared(prepared, settings)
}

/// Finds the duplicate pairs among leads already prepared ([`prepare`]).
pub fn find_prepared(prepared: Vec<Prepared>, settings: &Settings) -> Found {
    let (blocks, oversized) = blocking::blocks(&prepared, settings.max_block);
    let candidates = blocks.iter().map(|b| b.len() * (b.len() - 1) / 2).sum();
    let mut matches: Vec<Match> = par_map(&blocks, |block| {
        let mut found = Vec::new();
        for (n, &i) in block.iter().enumerate() {
            for &j in &block[n + 1..] {
                let (a, b) = (&prepared[i as usize], &prepared[j as usize]);
                let Some(s) = evidence::score_at_least(a, b, settings.min_score) else {
                    continue;
                };
                let (lead_id, duplicate_id) = if a.id <= b.id {
                    (a.id, b.id)
                } else {
                    (b.id, a.id)
                };
                found.push(Match {
                    lead_id,
                    duplicate_id,
                    score: s.score,
                    rule: s.rule,
                    reasons: s.reasons,
                });
            }
        }
        found
    })
    .into_iter()
    .flatten()
    .collect();
    matches.sort_by_key(|m| (m.lead_id, m.duplicate_id));
    matches.dedup_by_key(|m| (m.lead_id, m.duplicate_id));
    Found {
        matches,
        oversized,
        candidates,
    }
}

/// `f` over `items` on every core, in order.
pub fn par_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    par_filter_map(items, |item| Some(f(item)))
}

/// The `Some` values of `f` over `items`, on every core, in order.
pub fn par_filter_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> Option<U> + Sync) -> Vec<U> {
    let parts = par_runs(items, |_, run| {
        run.iter().filter_map(&f).collect::<Vec<U>>()
    });
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        out.extend(part);
    }
    out
}

/// `f` over `items` cut into one run per core (a single run for fewer than 10,000
/// items), each given with the index of its first item; the results in order.
pub fn par_runs<T: Sync, U: Send>(items: &[T], f: impl Fn(usize, &[T]) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < 10_000 {
        return vec![f(0, items)];
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let runs: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(n, run)| scope.spawn(move || f(n * chunk, run)))
            .collect();
        runs.into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(id: i64, first: &str, last: &str, email: &str, phone: &str, company: &str) -> Lead {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Lead {
            id,
            first_name: some(first),
            last_name: some(last),
            email: some(email),
            phone: some(phone),
            company: some(company),
            country: Some("DE".into()),
            created_at: Some(id * 86_400_000_000),
        }
    }

    #[test]
    fn the_same_person_typed_three_ways_is_found_and_namesakes_are_not() {
        let leads = vec![
            lead(
                1,
                "Jürgen",
                "Weber",
                "j.weber@acme.de",
                "030 1234567",
                "ACME GmbH",
            ),
            // Same email in other case, last name typo.
            lead(2, "Jurgen", "Webber", " J.Weber@ACME.de ", "", "Acme"),
            // Same phone written internationally, no email.
            lead(3, "Jürgen", "Weber", "", "+49 30 1234567", "ACME GmbH"),
            // Same name and company, nothing else: typed again at an event.
            lead(4, "Jürgen", "Webr", "", "", "ACME GmbH"),
            // A namesake elsewhere: other company, email, phone and country.
            Lead {
                country: Some("AT".into()),
                ..lead(
                    5,
                    "Jürgen",
                    "Weber",
                    "jw@other.at",
                    "0660 7654321",
                    "Other AG",
                )
            },
        ];
        let found = find(leads, &Settings::default());
        let pairs: Vec<(i64, i64)> = found
            .matches
            .iter()
            .map(|m| (m.lead_id, m.duplicate_id))
            .collect();
        for p in [(1, 2), (1, 3), (1, 4)] {
            assert!(pairs.contains(&p), "{p:?} in {:?}", found.matches);
        }
        assert!(
            !pairs.iter().any(|&(a, b)| a == 5 || b == 5),
            "{:?}",
            found.matches
        );
        let by_email = found
            .matches
            .iter()
            .find(|m| m.duplicate_id == 2)
            .expect("1-2");
        assert_eq!(by_email.rule, "same_email");
        assert!(by_email.reasons.contains(&"same_email"), "{by_email:?}");
        let by_phone = found
            .matches
            .iter()
            .find(|m| m.duplicate_id == 3)
            .expect("1-3");
        assert_eq!(by_phone.rule, "same_phone");
    }

    #[test]
    fn a_junk_email_shared_by_thousands_is_reported_not_paired_in_full() {
        let leads: Vec<Lead> = (0..5000)
            .map(|i| {
                lead(
                    i,
                    &format!("First{i}"),
                    &format!("Last{i}"),
                    "test@test.com",
                    "",
                    "",
                )
            })
            .collect();
        let found = find(leads, &Settings::default());
        assert!(found.candidates < 1000, "{}", found.candidates);
        assert!(found.matches.is_empty(), "{:?}", &found.matches[..3]);
        let o = &found.oversized[0];
        assert_eq!(
            (o.kind, o.value.as_str(), o.leads),
            (blocking::Kind::Email, "test@test.com", 5000)
        );
    }
}
