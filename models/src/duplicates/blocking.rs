//! Candidate pairs: leads that share a blocking key, in blocks of bounded size.
//!
//! Each lead gives up to eight keys (one per [`Kind`]); a key is hashed to 64 bits with
//! its kind, the `(hash, lead)` entries are sorted, and each run of equal hashes is a
//! block whose every pair is a candidate (scored block by block, never all held). A block of more than `max_block` leads is
//! split by full name (first and last, folded) and only the parts within the limit
//! are compared; the block is reported as [`Oversized`], with how many of its leads
//! were left out. A pair that shares several keys is scored in each of its blocks and
//! reported once.

use super::{Oversized, Prepared};

/// The keys leads are blocked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The normalised email.
    Email,
    /// The phone in E.164.
    Phone,
    /// The phone's last 8 digits (a number read in the wrong region, or without one).
    PhoneEnd,
    /// The email's local part (the same person at another domain), when specific
    /// enough: 5 characters or more with a separator (`jane.doe`, not `jane`), not a
    /// role such as `info` or `sales`.
    EmailLocal,
    /// Last name, first initial and the company's first word.
    LastNameCompany,
    /// First name, last initial and the company's first word (a typo in the last name).
    FirstNameCompany,
    /// Last name, first initial and the corporate email domain.
    LastNameDomain,
    /// First name, last initial and the corporate email domain.
    FirstNameDomain,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 8] = [
        Kind::Email,
        Kind::Phone,
        Kind::PhoneEnd,
        Kind::EmailLocal,
        Kind::LastNameCompany,
        Kind::FirstNameCompany,
        Kind::LastNameDomain,
        Kind::FirstNameDomain,
    ];

    /// The kind's name in warnings.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::PhoneEnd => "phone ending",
            Kind::EmailLocal => "email local part",
            Kind::LastNameCompany => "last name, first initial and company",
            Kind::FirstNameCompany => "first name, last initial and company",
            Kind::LastNameDomain => "last name, first initial and email domain",
            Kind::FirstNameDomain => "first name, last initial and email domain",
        }
    }
}

/// Local parts that name a role, not a person.
const ROLE_LOCALS: &[&str] = &[
    "info",
    "sales",
    "contact",
    "admin",
    "office",
    "hello",
    "support",
    "marketing",
    "noreply",
    "no-reply",
    "enquiries",
    "inquiries",
    "team",
    "mail",
    "test",
];

fn initial(s: &str) -> Option<char> {
    s.chars().next()
}

/// The value of `p`'s key of `kind`, if it has one.
pub fn key(p: &Prepared, kind: Kind) -> Option<String> {
    let name_at = |name: &str, other: &str, place: &str| -> Option<String> {
        (!name.is_empty() && !place.is_empty())
            .then(|| initial(other).map(|i| format!("{name} {i} @ {place}")))
            .flatten()
    };
    match kind {
        Kind::Email => p.email.clone(),
        Kind::Phone => p.phone.clone().filter(|n| n.len() >= 9),
        Kind::PhoneEnd => p.phone.as_deref().and_then(|n| {
            let digits: Vec<char> = n.chars().filter(char::is_ascii_digit).collect();
            (digits.len() >= 8).then(|| digits[digits.len() - 8..].iter().collect())
        }),
        Kind::EmailLocal => p.email.as_deref().and_then(|e| {
            let local = e.split_once('@')?.0;
            // A first name alone (`thomas@`) is thousands of people's.
            let specific = local.chars().count() >= 5
                && local.contains(['.', '_', '-'])
                && !ROLE_LOCALS.contains(&local);
            specific.then(|| local.to_string())
        }),
        Kind::LastNameCompany => name_at(&p.last, &p.first, &p.company_key),
        Kind::FirstNameCompany => name_at(&p.first, &p.last, &p.company_key),
        Kind::LastNameDomain => name_at(&p.last, &p.first, p.domain.as_deref().unwrap_or("")),
        Kind::FirstNameDomain => name_at(&p.first, &p.last, p.domain.as_deref().unwrap_or("")),
    }
}

/// FNV-1a, 64 bits, seeded with the kind: keys of different kinds never meet.
fn hash(kind: Kind, text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ ((kind as u64 + 1) << 56);
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The blocks of `leads` (indexes of at least two leads that share a key, at most
/// `max_block` of them; every pair inside one is a candidate), and the blocks that were
/// too large to compare in full. A pair that shares several keys is in several blocks.
pub fn blocks(leads: &[Prepared], max_block: usize) -> (Vec<Vec<u32>>, Vec<Oversized>) {
    let max_block = max_block.max(2);
    // Keys of runs of leads on every core, then one vector of exactly their size
    // (growing it by doubling would hold up to three times the entries at once).
    let parts: Vec<Vec<(u64, u32)>> = super::par_runs(leads, |start, run| {
        let mut part = Vec::with_capacity(run.len() * 4);
        for (i, p) in run.iter().enumerate() {
            for &k in &Kind::ALL {
                if let Some(v) = key(p, k) {
                    part.push((hash(k, &v), (start + i) as u32));
                }
            }
        }
        part
    });
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        entries.extend(part);
    }
    entries.sort_unstable();
    let mut blocks = Vec::new();
    let mut oversized = Vec::new();
    for run in entries.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        let members: Vec<u32> = run.iter().map(|e| e.1).collect();
        if members.len() <= max_block {
            blocks.push(members);
            continue;
        }
        let h = run[0].0;
        let skipped = split_by_name(leads, &members, max_block, &mut blocks);
        let first = &leads[members[0] as usize];
        let (kind, value) = Kind::ALL
            .iter()
            .find_map(|&k| key(first, k).filter(|v| hash(k, v) == h).map(|v| (k, v)))
            .unwrap_or((Kind::Email, String::new()));
        oversized.push(Oversized {
            kind,
            value,
            leads: members.len(),
            skipped,
        });
    }
    oversized.sort_by(|a, b| b.leads.cmp(&a.leads).then(a.value.cmp(&b.value)));
    (blocks, oversized)
}

/// The parts of an oversized block whose leads also share a full name, of at most
/// `max_block` leads; returns how many leads were in parts still too large (left out).
fn split_by_name(
    leads: &[Prepared],
    members: &[u32],
    max_block: usize,
    out: &mut Vec<Vec<u32>>,
) -> usize {
    let mut named: Vec<(u64, u32)> = members
        .iter()
        .filter_map(|&i| {
            let p = &leads[i as usize];
            (!p.first.is_empty() || !p.last.is_empty())
                .then(|| (hash(Kind::Email, &format!("{} {}", p.first, p.last)), i))
        })
        .collect();
    named.sort_unstable();
    let mut skipped = members.len() - named.len();
    for part in named.chunk_by(|a, b| a.0 == b.0) {
        if part.len() > max_block {
            skipped += part.len();
        } else if part.len() >= 2 {
            out.push(part.iter().map(|e| e.1).collect());
        }
    }
    skipped
}
