//! One match score per candidate pair: the evidence of both leads, as log-odds weights.
//!
//! | evidence | weight | reason |
//! |---|---:|---|
//! | same normalised email | +8 | `same_email` |
//! | same phone (E.164) | +8 | `same_phone` |
//! | both phones known, different | −3 | `other_phone` |
//! | both emails known, different, at different domains | −2.5 | `other_email` |
//! | names (first and last, Jaro–Winkler, best of both orders) ≥ 0.97 | +4.5 | `same_name` |
//! | names ≥ 0.90 | +3 | `similar_name` |
//! | names < 0.80 | −7 | `other_name` |
//! | companies ≥ 0.95 | +2.5 | `same_company` |
//! | companies ≥ 0.85 | +0.5 | `similar_company` |
//! | companies < 0.70 | −2.5 | `other_company` |
//! | same corporate email domain | +2 | `same_domain` |
//! | both countries known, different | −2.5 | `other_country` |
//! | created within 30 days of each other | +1.5 | `close_in_time` |
//!
//! The sum, with a prior of −6.5 (a pair that shares only a blocking key is rarely one
//! person), goes through the logistic function: 0.5 is even odds, the default
//! threshold. The weights are set by hand, with the signs and order a person would
//! give them, and adjusted against the generator's planted duplicates: the evidence
//! combinations of every candidate pair of a 100,000-lead workspace
//! (`benches/duplicates/candidates.sql`), their share of true pairs, and the precision
//! and recall each change gave (`benches/duplicates/calibrate.py` fits a logistic
//! regression on the same table for comparison; its weights follow the generator's
//! quirks, such as company variants that never differ by a letter, and were not
//! taken).

use super::Prepared;
use crate::matching::jaro_winkler;

/// The log-odds before any evidence.
const PRIOR: f64 = -6.5;

/// 30 days in microseconds.
const CLOSE_IN_TIME_US: i64 = 30 * 86_400_000_000;

/// A candidate pair, scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// How likely the pair is one person, 0–1.
    pub score: f64,
    /// The strongest evidence in Dynamics 365's duplicate-rule words: `same_email`,
    /// `same_phone`, `similar_name_and_company`, `similar_name_same_domain`, or
    /// `combined` when no single rule holds.
    pub rule: &'static str,
    /// The evidence that counted, for and against.
    pub reasons: Vec<&'static str>,
}

/// Similarity of two persons' names: first with first and last with last, or crossed
/// (a form filled in the wrong order); the mean of the two Jaro–Winkler values. `None`
/// when either lacks both names.
pub fn name_similarity(a: &Prepared, b: &Prepared) -> Option<f64> {
    let known = |p: &Prepared| !p.first.is_empty() && !p.last.is_empty();
    if known(a) && known(b) {
        let straight = (jaro_winkler(&a.first, &b.first) + jaro_winkler(&a.last, &b.last)) / 2.0;
        let crossed = (jaro_winkler(&a.first, &b.last) + jaro_winkler(&a.last, &b.first)) / 2.0;
        Some(straight.max(crossed))
    } else if !a.last.is_empty() && !b.last.is_empty() {
        // One first name missing: the last names alone, a little discounted.
        Some(jaro_winkler(&a.last, &b.last) * 0.95)
    } else {
        None
    }
}

/// The most the name and company evidence can add ([`score`]: `same_name` and
/// `same_company`).
const MOST_FROM_NAMES: f64 = 4.5 + 2.5;

/// The evidence of the leads' contact details: the same email or phone, or both
/// known and different.
fn contact_evidence(a: &Prepared, b: &Prepared, add: &mut impl FnMut(f64, &'static str)) {
    match (&a.email, &b.email) {
        (Some(x), Some(y)) if x == y => add(8.0, "same_email"),
        (Some(_), Some(_)) if a.domain != b.domain => add(-2.5, "other_email"),
        _ => {}
    }
    match (&a.phone, &b.phone) {
        (Some(x), Some(y)) if x == y => add(8.0, "same_phone"),
        (Some(_), Some(_)) => add(-3.0, "other_phone"),
        _ => {}
    }
}

/// The evidence of the leads' context: the same corporate domain, different
/// countries, creation within 30 days.
fn context_evidence(a: &Prepared, b: &Prepared, add: &mut impl FnMut(f64, &'static str)) {
    if a.domain.is_some() && a.domain == b.domain {
        add(2.0, "same_domain");
    }
    if let (Some(x), Some(y)) = (&a.country, &b.country)
        && x != y
    {
        add(-2.5, "other_country");
    }
    if let (Some(x), Some(y)) = (a.created_at, b.created_at)
        && x.abs_diff(y) <= CLOSE_IN_TIME_US as u64
    {
        add(1.5, "close_in_time");
    }
}

/// The log-odds of the evidence that needs no string comparison.
fn cheap_weight(a: &Prepared, b: &Prepared) -> f64 {
    let mut w = PRIOR;
    let mut add = |x: f64, _: &'static str| w += x;
    contact_evidence(a, b, &mut add);
    context_evidence(a, b, &mut add);
    w
}

/// [`score`], or `None` without comparing names when even the best name and company
/// evidence could not lift the pair to `min_score` (most candidates of a large
/// workspace: namesakes with other emails and phones).
pub fn score_at_least(a: &Prepared, b: &Prepared, min_score: f64) -> Option<Scored> {
    let best = 1.0 / (1.0 + (-(cheap_weight(a, b) + MOST_FROM_NAMES)).exp());
    if best < min_score {
        return None;
    }
    let s = score(a, b);
    (s.score >= min_score).then_some(s)
}

/// The match score of leads `a` and `b`.
pub fn score(a: &Prepared, b: &Prepared) -> Scored {
    let mut weight = PRIOR;
    let mut reasons = Vec::new();
    let mut add = |w: f64, reason: &'static str| {
        weight += w;
        reasons.push(reason);
    };
    contact_evidence(a, b, &mut add);
    let names = name_similarity(a, b);
    match names {
        Some(s) if s >= 0.97 => add(4.5, "same_name"),
        Some(s) if s >= 0.90 => add(3.0, "similar_name"),
        Some(s) if s < 0.80 => add(-7.0, "other_name"),
        _ => {}
    }
    let company = (!a.company.is_empty() && !b.company.is_empty())
        .then(|| jaro_winkler(&a.company, &b.company));
    match company {
        Some(s) if s >= 0.95 => add(2.5, "same_company"),
        Some(s) if s >= 0.85 => add(0.5, "similar_company"),
        Some(s) if s < 0.70 => add(-2.5, "other_company"),
        _ => {}
    }
    context_evidence(a, b, &mut add);
    let same_email = reasons.contains(&"same_email");
    let same_phone = reasons.contains(&"same_phone");
    let same_domain = reasons.contains(&"same_domain");
    let similar_names = names.is_some_and(|s| s >= 0.90);
    let rule = if same_email {
        "same_email"
    } else if same_phone {
        "same_phone"
    } else if similar_names && company.is_some_and(|s| s >= 0.85) {
        "similar_name_and_company"
    } else if similar_names && same_domain {
        "similar_name_same_domain"
    } else {
        "combined"
    };
    Scored {
        score: 1.0 / (1.0 + (-weight).exp()),
        rule,
        reasons,
    }
}
