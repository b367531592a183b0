//! Accounts and sellers, each derived from its identifier alone.
//!
//! An account's (or seller's) attributes come from a random stream seeded by the
//! workspace seed and the identifier, so any lead can look up "its" account without
//! the generator keeping every account in memory: memory stays flat as N grows.

use rand::Rng;
use rand_distr::{Distribution, LogNormal};

use super::DAY_US;
use super::rng::{Stream, entity_rng};
use super::vocab::{self, COUNTRIES, Country, INDUSTRIES};

/// An account (company), as derived from its id.
#[derive(Debug, Clone)]
pub struct Account {
    /// Identifier.
    pub id: i64,
    /// Company name.
    pub name: String,
    /// Unique web and email domain.
    pub domain: String,
    /// Industry.
    pub industry: &'static str,
    /// Employees.
    pub employees: i32,
    /// Annual revenue band.
    pub revenue_band: &'static str,
    /// Headquarters country.
    pub country: Country,
    /// Sales segment.
    pub segment: &'static str,
    /// Already a customer.
    pub is_customer: bool,
    /// Creation instant (µs since the epoch).
    pub created_at: i64,
    /// How its people's email addresses are made.
    pub mail_style: MailStyle,
}

/// How an organisation makes its people's email addresses (`jane.doe@`, `jdoe@`, …).
/// Two people with one name at one organisation get one address, as they would
/// before IT numbered the second; with realistic names that is rare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStyle {
    /// `jane.doe`
    FirstDotLast,
    /// `jdoe`
    InitialLast,
    /// `janed`
    FirstInitial,
    /// `jane_doe`
    FirstUnderscoreLast,
    /// `jane`: small organisations only.
    First,
}

impl MailStyle {
    /// The local part for a person (names already folded to lower-case ASCII).
    pub fn local(self, first: &str, last: &str) -> String {
        let initial = |s: &str| s.chars().next().unwrap_or('x');
        match self {
            MailStyle::FirstDotLast => format!("{first}.{last}"),
            MailStyle::InitialLast => format!("{}{last}", initial(first)),
            MailStyle::FirstInitial => format!("{first}{}", initial(last)),
            MailStyle::FirstUnderscoreLast => format!("{first}_{last}"),
            MailStyle::First => first.to_string(),
        }
    }
}

/// The mail style of account `id` (its own stream: the account's other draws stay).
fn mail_style(seed: u64, id: i64, employees: i32) -> MailStyle {
    let mut rng = entity_rng(seed, Stream::MailStyle, id as u64);
    let style = *vocab::weighted(
        &mut rng,
        &[
            (MailStyle::FirstDotLast, 50.0),
            (MailStyle::InitialLast, 25.0),
            (MailStyle::FirstInitial, 8.0),
            (MailStyle::FirstUnderscoreLast, 7.0),
            (MailStyle::First, 10.0),
        ],
    );
    if style == MailStyle::First && employees >= 50 {
        MailStyle::FirstDotLast
    } else {
        style
    }
}

/// Employee band of a head count.
pub fn size_band(employees: i32) -> &'static str {
    match employees {
        ..=10 => "1-10",
        11..=50 => "11-50",
        51..=200 => "51-200",
        201..=1000 => "201-1000",
        1001..=5000 => "1001-5000",
        _ => "5001+",
    }
}

/// Sales segment of a head count.
pub fn segment(employees: i32) -> &'static str {
    match employees {
        ..=200 => "smb",
        201..=2000 => "mid_market",
        _ => "enterprise",
    }
}

/// Revenue band, from head count with per-company noise.
pub fn revenue_band<R: Rng>(rng: &mut R, employees: i32) -> &'static str {
    let per_head = LogNormal::new(11.9, 0.6)
        .map(|d| d.sample(rng))
        .unwrap_or(150_000.0);
    let revenue = f64::from(employees) * per_head;
    match revenue {
        r if r < 1e6 => "<1M",
        r if r < 1e7 => "1M-10M",
        r if r < 5e7 => "10M-50M",
        r if r < 2.5e8 => "50M-250M",
        r if r < 1e9 => "250M-1B",
        _ => "1B+",
    }
}

/// A head count drawn from the skewed distribution of company sizes.
pub fn employees<R: Rng>(rng: &mut R) -> i32 {
    let x: f64 = LogNormal::new(4.3, 1.9)
        .map(|d| d.sample(rng))
        .unwrap_or(100.0);
    x.clamp(2.0, 250_000.0) as i32
}

/// Number of distinct base names (root × noun × descriptor slot).
const NAME_POOL: i64 = (vocab::COMPANY_ROOTS.len() * vocab::COMPANY_NOUNS.len()) as i64;

/// Number of places ([`place`]) an account name can carry.
const PLACES: usize = vocab::PLACE_QUALIFIERS.len() * vocab::PLACE_FEATURES.len();

/// Place `i` of [`PLACES`]: a qualifier and a feature (`North Lake`, `Old Harbour`).
fn place(i: usize) -> String {
    let q = vocab::PLACE_QUALIFIERS[i % vocab::PLACE_QUALIFIERS.len()];
    let f = vocab::PLACE_FEATURES[i / vocab::PLACE_QUALIFIERS.len()];
    format!("{q} {f}")
}

/// Derives account `id` (1-based) of a workspace.
pub fn account(seed: u64, id: i64, start_us: i64) -> Account {
    let mut rng = entity_rng(seed, Stream::Account, id as u64);
    let industry = *vocab::weighted(&mut rng, INDUSTRIES);
    let country = *vocab::weighted(&mut rng, COUNTRIES);
    let employees = employees(&mut rng);
    let revenue_band = revenue_band(&mut rng, employees);
    // A bijection id -> (base name, repetition): the first NAME_POOL accounts take the
    // base names; later ones add a place (`Crescentstone North Lake Market`), so that
    // names stay distinct up to NAME_POOL × PLACES accounts (480,000: a 1.4M-lead
    // workspace) and only repeat past that, as they do across countries. Domains are
    // unique always. (No draws from the account's stream: its other fields are as
    // before.)
    let slot = (id - 1).rem_euclid(NAME_POOL);
    let repeat = (id - 1) / NAME_POOL;
    let mixed = (slot * 7919).rem_euclid(NAME_POOL) as usize;
    let root = vocab::COMPANY_ROOTS[mixed % vocab::COMPANY_ROOTS.len()];
    let noun = vocab::COMPANY_NOUNS[mixed / vocab::COMPANY_ROOTS.len()];
    let descriptor = *vocab::pick(&mut rng, vocab::company_descriptor(industry));
    let suffix = *vocab::pick(&mut rng, vocab::legal_suffixes(country.code));
    let places = PLACES as i64;
    let base = match repeat {
        0 => format!("{root}{noun}"),
        r => format!(
            "{root}{noun} {}",
            place((r - 1).rem_euclid(places) as usize)
        ),
    };
    let name = if suffix.is_empty() {
        format!("{base} {descriptor}")
    } else {
        format!("{base} {descriptor} {suffix}")
    };
    let slug: String = vocab::ascii_fold(&format!("{base}{descriptor}"))
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let cycle = (repeat - 1).max(0) / places;
    let domain = if cycle == 0 {
        format!("{slug}.{}", country.tld)
    } else {
        format!("{slug}{cycle}.{}", country.tld)
    };
    let created_at = start_us - rng.gen_range(0..(6 * 365)) * DAY_US - rng.gen_range(0..DAY_US);
    Account {
        id,
        name,
        domain,
        industry,
        employees,
        revenue_band,
        country,
        segment: segment(employees),
        is_customer: rng.gen_bool(0.08),
        created_at,
        mail_style: mail_style(seed, id, employees),
    }
}

/// Territories, in the slot pattern sellers are laid out by (20 slots: 8 North America,
/// 7 EMEA, 3 APAC, 2 Latin America, matching lead volumes).
const SELLER_SLOTS: [&str; 20] = [
    "north_america",
    "emea",
    "north_america",
    "emea",
    "apac",
    "north_america",
    "emea",
    "north_america",
    "latin_america",
    "emea",
    "north_america",
    "apac",
    "emea",
    "north_america",
    "emea",
    "north_america",
    "apac",
    "emea",
    "north_america",
    "latin_america",
];

/// Segments, cycling every block of 20 sellers.
const SEGMENTS: [&str; 3] = ["smb", "mid_market", "enterprise"];

/// Sellers come in groups of 60 (20 slots × 3 segments); this many groups for `leads`.
pub fn seller_groups(leads: u64) -> i64 {
    (leads.div_ceil(100_000)).max(1) as i64
}

/// A seller, as derived from its id.
#[derive(Debug, Clone)]
pub struct Seller {
    /// Identifier.
    pub id: i64,
    /// Full name.
    pub name: String,
    /// Work email.
    pub email: String,
    /// Territory.
    pub territory: &'static str,
    /// Segment.
    pub segment: &'static str,
    /// Maximum open items.
    pub capacity: i32,
    /// Takes new work.
    pub active: bool,
    /// Joined at (µs since the epoch).
    pub hired_at: i64,
}

/// Derives seller `id` (1-based).
pub fn seller(seed: u64, id: i64, start_us: i64) -> Seller {
    let mut rng = entity_rng(seed, Stream::Seller, id as u64);
    let index = (id - 1) as usize;
    let territory = SELLER_SLOTS[index % SELLER_SLOTS.len()];
    let segment = SEGMENTS[(index / SELLER_SLOTS.len()) % SEGMENTS.len()];
    let region = match territory {
        "emea" => *vocab::pick(
            &mut rng,
            &[
                vocab::NameRegion::English,
                vocab::NameRegion::German,
                vocab::NameRegion::French,
                vocab::NameRegion::Dutch,
            ],
        ),
        "apac" => *vocab::pick(
            &mut rng,
            &[
                vocab::NameRegion::English,
                vocab::NameRegion::Indian,
                vocab::NameRegion::Japanese,
            ],
        ),
        "latin_america" => *vocab::pick(
            &mut rng,
            &[vocab::NameRegion::Spanish, vocab::NameRegion::Portuguese],
        ),
        _ => vocab::NameRegion::English,
    };
    let first = *vocab::pick(&mut rng, vocab::first_names(region));
    let last = *vocab::pick(&mut rng, vocab::last_names(region));
    let email = format!(
        "{}.{}{}@leadql-demo.example",
        vocab::ascii_fold(first).to_lowercase(),
        vocab::ascii_fold(last).to_lowercase(),
        id
    );
    Seller {
        id,
        name: format!("{first} {last}"),
        email,
        territory,
        segment,
        capacity: rng.gen_range(15..=40),
        active: rng.gen_bool(0.94),
        hired_at: start_us - rng.gen_range(-200..(5 * 365)) * DAY_US,
    }
}

/// Picks the seller who owns a lead in `territory` and `segment`: uniformly among the
/// `groups × slots` sellers covering that pair.
pub fn seller_for<R: Rng>(rng: &mut R, groups: i64, territory: &str, segment: &str) -> i64 {
    let slots: Vec<usize> = SELLER_SLOTS
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == territory)
        .map(|(i, _)| i)
        .collect();
    let seg = SEGMENTS.iter().position(|s| *s == segment).unwrap_or(0);
    let slot = if slots.is_empty() {
        0
    } else {
        *vocab::pick(rng, &slots)
    };
    let group = rng.gen_range(0..groups);
    let block = seg as i64 + 3 * group;
    block * SELLER_SLOTS.len() as i64 + slot as i64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_a_pure_function_of_seed_and_id() {
        let a = account(7, 42, 0);
        let b = account(7, 42, 0);
        assert_eq!(
            (a.name, a.domain, a.employees),
            (b.name, b.domain, b.employees)
        );
        assert_ne!(account(8, 42, 0).domain, account(7, 42, 0).domain);
    }

    #[test]
    fn account_names_stay_distinct_past_the_base_names() {
        let mut names: Vec<String> = (1..=(NAME_POOL * 3))
            .map(|id| account(1, id, 0).name.to_lowercase())
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(account(1, NAME_POOL + 1, 0).name.contains("North Lake"));
    }

    #[test]
    fn account_domains_are_unique() {
        let mut domains: Vec<String> = (1..=(NAME_POOL * (PLACES as i64 + 3)))
            .map(|id| account(1, id, 0).domain)
            .collect();
        let n = domains.len();
        domains.sort();
        domains.dedup();
        assert_eq!(domains.len(), n);
    }

    #[test]
    fn seller_for_returns_a_seller_of_that_territory_and_segment() {
        let mut rng = entity_rng(3, Stream::Lead, 1);
        let groups = 3;
        for (t, s) in [
            ("apac", "enterprise"),
            ("latin_america", "smb"),
            ("emea", "mid_market"),
        ] {
            for _ in 0..50 {
                let id = seller_for(&mut rng, groups, t, s);
                assert!(id >= 1 && id <= groups * 60, "{id}");
                let seller = seller(3, id, 0);
                assert_eq!((seller.territory, seller.segment), (t, s));
            }
        }
    }
}
