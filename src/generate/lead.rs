//! One lead's life: who they are, how much they want to buy, what they do, and how
//! sales decides.
//!
//! Each lead has hidden traits the tables never show: a *fit* (how well person and
//! company match the ideal customer) and an *intent* (how much they want to buy now).
//! Interaction volume, mix and timing depend on intent; the outcome (qualified or
//! disqualified, opportunity won or lost) depends on fit and intent plus noise. A model
//! that sees the person, the company and the interactions can rank leads well, but not
//! perfectly — as with real conversion data.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Normal, Poisson};

use leadql_models::{ConsentLevel, DisqualifyReason, InteractionType, LeadStatus};

use super::firms::{self, Account};
use super::names;
use super::rng::{Stream, entity_rng};
use super::vocab::{self, Country};
use super::{DAY_US, Plan};

/// The observable attributes of a lead (one `leads` row, before its outcome).
#[derive(Debug, Clone)]
pub struct Person {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Email as entered.
    pub email: Option<String>,
    /// Phone as entered.
    pub phone: Option<String>,
    /// Company as entered.
    pub company: Option<String>,
    /// Matched account.
    pub account_id: Option<i64>,
    /// Job title.
    pub job_title: Option<String>,
    /// Function derived from the title.
    pub job_function: Option<&'static str>,
    /// Seniority derived from the title.
    pub seniority: Option<&'static str>,
    /// Industry.
    pub industry: Option<&'static str>,
    /// Employees.
    pub company_size: Option<i32>,
    /// Employee band.
    pub size_band: Option<&'static str>,
    /// Revenue band.
    pub revenue_band: Option<&'static str>,
    /// Country code.
    pub country: Option<&'static str>,
}

/// One generated interaction (before it gets its id).
#[derive(Debug, Clone)]
pub struct Interaction {
    /// When (µs).
    pub at: i64,
    /// What.
    pub kind: InteractionType,
    /// Channel.
    pub channel: &'static str,
    /// Campaign or journey.
    pub campaign: Option<String>,
    /// Asset.
    pub asset: Option<String>,
}

/// One lifecycle change (before it gets its id).
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// When (µs).
    pub at: i64,
    /// New status.
    pub status: LeadStatus,
    /// `created`, `reopened`, a disqualify reason, or none.
    pub reason: Option<&'static str>,
    /// Seller who made it.
    pub actor: Option<i64>,
}

/// The opportunity of a qualified lead.
#[derive(Debug, Clone)]
pub struct Opportunity {
    /// Creation (= qualification) instant.
    pub created_at: i64,
    /// Estimated value, EUR.
    pub value: f64,
    /// open, won or lost.
    pub status: &'static str,
    /// Close instant.
    pub closed_at: Option<i64>,
}

/// Everything generated for one lead.
#[derive(Debug, Clone)]
pub struct LeadLife {
    /// Lead id.
    pub id: i64,
    /// For a planted duplicate: the lead it duplicates and how it was varied.
    pub duplicate_of: Option<(i64, &'static str)>,
    /// Capture instant.
    pub created_at: i64,
    /// Source.
    pub source: &'static str,
    /// Channel of the source.
    pub channel: &'static str,
    /// Campaign that captured it.
    pub campaign: Option<String>,
    /// Observable attributes.
    pub person: Person,
    /// Consent level.
    pub consent: ConsentLevel,
    /// Owning seller.
    pub owner: Option<i64>,
    /// Interactions, in time order.
    pub interactions: Vec<Interaction>,
    /// Lifecycle changes, in time order (the first is the creation).
    pub changes: Vec<StatusChange>,
    /// Opportunity, when qualified.
    pub opportunity: Option<Opportunity>,
}

impl LeadLife {
    /// Current status: the last change.
    pub fn status(&self) -> (LeadStatus, Option<&'static str>, Option<i64>) {
        let last = self.changes.last();
        match last {
            Some(c) if c.status != LeadStatus::Open => (c.status, c.reason, Some(c.at)),
            Some(c) => (
                LeadStatus::Open,
                c.reason.filter(|r| *r == "reopened"),
                None,
            ),
            None => (LeadStatus::Open, None, None),
        }
    }

    /// Instant of the (last) qualification, if the lead is qualified.
    pub fn qualified_at(&self) -> Option<i64> {
        match self.status() {
            (LeadStatus::Qualified, _, at) => at,
            _ => None,
        }
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn normal(rng: &mut ChaCha8Rng, sd: f64) -> f64 {
    Normal::new(0.0, sd).map(|d| d.sample(rng)).unwrap_or(0.0)
}

fn exp_days(rng: &mut ChaCha8Rng, mean_days: f64) -> i64 {
    let days = Exp::new(1.0 / mean_days.max(1e-3))
        .map(|d| d.sample(rng))
        .unwrap_or(mean_days);
    (days * DAY_US as f64) as i64
}

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean)
        .map(|d| d.sample(rng) as u64)
        .unwrap_or(0)
        .min(500)
}

fn quarter_label(at_us: i64) -> String {
    let dt = chrono::DateTime::from_timestamp_micros(at_us).unwrap_or_default();
    use chrono::Datelike;
    format!("{}-Q{}", dt.year(), (dt.month() - 1) / 3 + 1)
}

/// How well a person and company fit the ideal customer profile (roughly N(0, 1)).
fn fit_of(p: &Person, source: &str, personal_email: bool) -> f64 {
    let seniority = match p.seniority {
        Some("entry") => -0.8,
        Some("mid") => -0.3,
        Some("senior") => 0.0,
        Some("manager") => 0.3,
        Some("director") => 0.6,
        Some("vp") => 0.7,
        Some("c_level") => 0.5,
        _ => -0.3,
    };
    let function = match p.job_function {
        Some("marketing") => 0.6,
        Some("sales") => 0.4,
        Some("data") => 0.5,
        Some("it") => 0.2,
        Some("operations") => -0.1,
        Some("finance") => -0.3,
        Some("hr") => -0.6,
        Some("executive") => 0.3,
        _ => 0.0,
    };
    let size = match p.company_size {
        Some(..=10) => -0.9,
        Some(11..=50) => -0.4,
        Some(51..=200) => 0.0,
        Some(201..=1000) => 0.4,
        Some(1001..=5000) => 0.6,
        Some(_) => 0.5,
        None => -0.2,
    };
    let industry = match p.industry {
        Some("Software") => 0.4,
        Some("Financial Services" | "Retail") => 0.3,
        Some("Telecommunications") => 0.2,
        Some("Professional Services" | "Media") => 0.1,
        Some("Education") => -0.3,
        Some("Government") => -0.4,
        Some("Nonprofit") => -0.6,
        Some("Hospitality") => -0.2,
        Some("Real Estate") => -0.1,
        _ => 0.0,
    };
    let source = match source {
        "referral" => 0.5,
        "partner" | "event" => 0.3,
        "webinar" | "web_form" => 0.2,
        "organic_search" => 0.1,
        "social_linkedin" => -0.1,
        "content_syndication" => -0.3,
        "purchased_list" => -0.8,
        _ => 0.0,
    };
    let email = if personal_email { -0.4 } else { 0.0 };
    seniority + function + size + industry + source + email
}

/// The person and company side of a lead.
fn person(rng: &mut ChaCha8Rng, plan: &Plan, id: i64) -> (Person, bool, Country) {
    let account: Option<Account> = if plan.accounts > 0 && rng.gen_bool(0.9) {
        // Bigger (lower-numbered) accounts attract more leads.
        let u: f64 = rng.r#gen();
        let id = 1 + ((u.powf(1.4) * plan.accounts as f64) as i64).min(plan.accounts - 1);
        Some(firms::account(plan.seed, id, plan.start_us))
    } else {
        None
    };
    let country = match &account {
        Some(a) if rng.gen_bool(0.85) => a.country,
        _ => *vocab::weighted(rng, vocab::COUNTRIES),
    };
    // The lead's name comes from its own stream, with realistic frequencies
    // ([`names`]). The lead stream still makes the two draws that once chose it from
    // the short common lists, so every later draw, and every other field of the lead,
    // stays where it was.
    let _ = (
        vocab::pick(rng, vocab::first_names(country.names)),
        vocab::pick(rng, vocab::last_names(country.names)),
    );
    let (first, last) = names::lead_name(plan.seed, id, country.names);
    let (first, last) = (first.as_str(), last.as_str());

    let (industry, employees, revenue, company) = match &account {
        Some(a) => {
            let company = match rng.gen_range(0..20) {
                0 => a.name.to_uppercase(),
                1 => a.name.split(' ').next().unwrap_or(&a.name).to_string(),
                2 => a
                    .name
                    .replace(" Inc.", "")
                    .replace(" GmbH", "")
                    .replace(" Ltd", ""),
                _ => a.name.clone(),
            };
            (a.industry, a.employees, a.revenue_band, company)
        }
        None => {
            let industry = *vocab::weighted(rng, vocab::INDUSTRIES);
            let employees = firms::employees(rng).min(400);
            let descriptor = *vocab::pick(rng, vocab::company_descriptor(industry));
            let revenue = firms::revenue_band(rng, employees);
            (industry, employees, revenue, format!("{last} {descriptor}"))
        }
    };
    let domain = match &account {
        Some(a) => a.domain.clone(),
        None => format!(
            "{}.{}",
            vocab::ascii_fold(&company).to_lowercase(),
            country.tld
        ),
    };
    let personal = rng.gen_bool(0.15);
    let email = if rng.gen_bool(0.03) {
        None
    } else {
        let f = vocab::ascii_fold(first).to_lowercase();
        let l = vocab::ascii_fold(last).to_lowercase();
        let host = if personal {
            if !country.local_mail.is_empty() && rng.gen_bool(0.4) {
                (*vocab::pick(rng, country.local_mail)).to_string()
            } else {
                (*vocab::pick(rng, vocab::PERSONAL_MAIL)).to_string()
            }
        } else {
            domain
        };
        // A person's own firm: any style they like. At an account: the account's.
        let own = match rng.gen_range(0..10) {
            0..=4 => format!("{f}.{l}"),
            5 | 6 => format!("{}{l}", f.chars().next().unwrap_or('x')),
            7 => format!("{f}{}", l.chars().next().unwrap_or('x')),
            8 => f.clone(),
            _ => format!("{f}_{l}{}", rng.gen_range(1..99)),
        };
        let local = match &account {
            Some(a) if !personal => a.mail_style.local(&f, &l),
            _ => own,
        };
        // A free-mail address is one person's: numbered like the ones providers hand
        // out once the plain names are taken (the lead id keeps it unique).
        let local = if personal {
            format!(
                "{}{id}",
                local.trim_end_matches(|c: char| c.is_ascii_digit())
            )
        } else {
            local
        };
        let raw = format!("{local}@{host}");
        Some(match rng.gen_range(0..40) {
            0 => raw.to_uppercase(),
            1 => format!(" {raw} "),
            2 | 3 => format!("{}@{host}", capitalise_parts(&local)),
            _ => raw,
        })
    };
    let phone = rng.gen_bool(0.7).then(|| vocab::phone(rng, &country));

    let function = *vocab::weighted(rng, vocab::FUNCTIONS);
    let seniority = if function == "executive" {
        *vocab::weighted(rng, &[("c_level", 60.0), ("vp", 30.0), ("director", 10.0)])
    } else {
        *vocab::weighted(
            rng,
            &[
                ("entry", 12.0),
                ("mid", 25.0),
                ("senior", 18.0),
                ("manager", 22.0),
                ("director", 13.0),
                ("vp", 7.0),
                ("c_level", 3.0),
            ],
        )
    };
    let title = if seniority == "c_level" {
        vocab::chief_title(function).to_string()
    } else {
        vocab::pick(rng, vocab::title_templates(seniority))
            .replace("{}", vocab::function_word(function))
    };
    let has_title = rng.gen_bool(0.92);
    let missing = |rng: &mut ChaCha8Rng| rng.gen_bool(0.07);
    let p = Person {
        first_name: (!rng.gen_bool(0.01)).then(|| first.to_string()),
        last_name: (!rng.gen_bool(0.02)).then(|| last.to_string()),
        email,
        phone,
        company: (!rng.gen_bool(0.04)).then_some(company),
        account_id: account.as_ref().map(|a| a.id),
        job_title: has_title.then_some(title),
        job_function: has_title.then_some(function),
        seniority: has_title.then_some(seniority),
        industry: (!missing(rng)).then_some(industry),
        company_size: (!missing(rng)).then_some(employees),
        size_band: (!missing(rng)).then_some(firms::size_band(employees)),
        revenue_band: (!missing(rng)).then_some(revenue),
        country: (!rng.gen_bool(0.03)).then_some(country.code),
    };
    (p, personal, country)
}

/// `jane.doe42` → `Jane.Doe42`: the first letter and each after a `.` or `_` in
/// capitals, the way some people type their address.
fn capitalise_parts(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c == '.' || c == '_';
    }
    out
}

fn campaign_for(rng: &mut ChaCha8Rng, source: &str, at: i64) -> Option<String> {
    let q = quarter_label(at);
    let topic = *vocab::pick(rng, vocab::TOPICS);
    match source {
        "paid_search" => Some(format!("{q} Search – {topic}")),
        "social_linkedin" => Some(format!("{q} LinkedIn – {topic}")),
        "event" => Some(format!(
            "{q} {} Summit",
            vocab::pick(rng, vocab::EVENT_CITIES)
        )),
        "webinar" => Some(format!("{q} Webinar – {topic}")),
        "content_syndication" => Some(format!(
            "{q} Syndication – {}",
            vocab::pick(rng, vocab::CONTENT)
        )),
        "purchased_list" => Some(format!(
            "{q} List – {}",
            vocab::pick(rng, vocab::LIST_VENDORS)
        )),
        "partner" => Some(format!("Partner – {}", vocab::pick(rng, vocab::PARTNERS))),
        "web_form" if rng.gen_bool(0.5) => Some(format!("{q} Nurture – {topic}")),
        _ => None,
    }
}

fn consent_for(rng: &mut ChaCha8Rng, source: &str, country: &str) -> ConsentLevel {
    use ConsentLevel::*;
    let strict = matches!(
        country,
        "DE" | "FR" | "NL" | "SE" | "PL" | "IT" | "ES" | "PT"
    );
    let table: &[(ConsentLevel, f64)] = match (source, strict) {
        ("purchased_list", _) => &[(None, 50.0), (Transactional, 30.0), (Marketing, 20.0)],
        ("web_form" | "webinar" | "event", false) => &[
            (None, 4.0),
            (Transactional, 8.0),
            (Marketing, 30.0),
            (Full, 58.0),
        ],
        ("web_form" | "webinar" | "event", true) => &[
            (None, 8.0),
            (Transactional, 20.0),
            (Marketing, 37.0),
            (Full, 35.0),
        ],
        (_, false) => &[
            (None, 10.0),
            (Transactional, 15.0),
            (Marketing, 35.0),
            (Full, 40.0),
        ],
        (_, true) => &[
            (None, 15.0),
            (Transactional, 25.0),
            (Marketing, 35.0),
            (Full, 25.0),
        ],
    };
    *vocab::weighted(rng, table)
}

/// The first draws of lead `id`'s stream: when and how it was captured, and who it is.
#[allow(clippy::type_complexity)]
fn capture_of(
    plan: &Plan,
    rng: &mut ChaCha8Rng,
    id: i64,
) -> (
    i64,
    &'static str,
    &'static str,
    Option<String>,
    (Person, bool, Country),
) {
    let span = (plan.end_us - plan.start_us) as f64;
    // Lead ids follow creation time; volume grows over the period (density ∝ t^0.35).
    let q = ((id as f64 - rng.gen_range(0.0..1.0)) / plan.leads.max(1) as f64).clamp(0.0, 1.0);
    let created_at = plan.start_us + (span * q.powf(1.0 / 1.35)) as i64;
    let &(source, channel) = vocab::weighted(rng, vocab::SOURCES);
    let campaign = campaign_for(rng, source, created_at);
    let who = person(rng, plan, id);
    (created_at, source, channel, campaign, who)
}

/// Simulates lead `id` of the workspace described by `plan`.
pub fn simulate(plan: &Plan, id: i64) -> LeadLife {
    let mut rng = entity_rng(plan.seed, Stream::Lead, id as u64);
    let (created_at, source, channel, campaign, (person, personal_email, country)) =
        capture_of(plan, &mut rng, id);
    // A planted duplicate: an earlier lead captured again, typed differently.
    let (duplicate_of, person, personal_email, country) = match planted(plan, id) {
        Some((of, variation)) => {
            let mut original = entity_rng(plan.seed, Stream::Lead, of as u64);
            let (_, _, _, _, (p, personal, c)) = capture_of(plan, &mut original, of);
            let mut dup = entity_rng(plan.seed, Stream::Duplicate, id as u64);
            let (p, variation) = recapture(&mut dup, p, personal, variation);
            (Some((of, variation)), p, personal, c)
        }
        None => (None, person, personal_email, country),
    };
    let consent = consent_for(&mut rng, source, country.code);

    let fit = fit_of(&person, source, personal_email) + normal(&mut rng, 0.35);
    let intent = 0.35 * fit + normal(&mut rng, 1.0);

    // --- the sales decision -------------------------------------------------------
    let worked = rng.gen_bool(sigmoid(1.6 + 0.4 * fit));
    let decision_delay = 2 * DAY_US + exp_days(&mut rng, 45.0 / (1.0 + 0.5 * intent.max(0.0)));
    let decided_at = created_at + decision_delay;
    let noise = normal(&mut rng, 0.6);
    let qualifies = rng.gen_bool(sigmoid(-1.35 + 0.8 * fit + 1.05 * intent + noise));
    let engaged_until = if worked && decided_at < plan.end_us {
        decided_at + if qualifies { 90 * DAY_US } else { 20 * DAY_US }
    } else {
        plan.end_us
    };
    let window_end = engaged_until.min(plan.end_us);

    // --- interactions -------------------------------------------------------------
    let scale = plan.interactions_per_lead / 10.0;
    let mut acts: Vec<Interaction> = Vec::new();
    let capture = |kind, channel, asset: Option<String>| Interaction {
        at: created_at,
        kind,
        channel,
        campaign: campaign.clone(),
        asset,
    };
    use InteractionType as T;
    match source {
        "web_form" | "paid_search" | "organic_search" => {
            acts.push(capture(
                T::WebVisit,
                "web",
                Some((*vocab::pick(&mut rng, vocab::PAGES)).to_string()),
            ));
            let form = if rng.gen_bool(sigmoid(-1.2 + 0.8 * intent)) {
                "demo-request"
            } else {
                *vocab::pick(&mut rng, vocab::FORMS)
            };
            acts.push(capture(T::FormSubmit, "web", Some(form.to_string())));
        }
        "social_linkedin" => acts.push(capture(
            T::FormSubmit,
            "web",
            Some("linkedin-lead-gen-form".into()),
        )),
        "event" => acts.push(capture(T::EventRegistration, "event", campaign.clone())),
        "webinar" => acts.push(capture(T::EventRegistration, "webinar", campaign.clone())),
        "content_syndication" => acts.push(capture(
            T::ContentDownload,
            "web",
            Some((*vocab::pick(&mut rng, vocab::CONTENT)).to_string()),
        )),
        "referral" | "partner" => acts.push(capture(
            T::FormSubmit,
            "web",
            Some("partner-referral".into()),
        )),
        _ => {}
    }
    if matches!(source, "event" | "webinar") && rng.gen_bool(sigmoid(0.2 + 0.5 * intent)) {
        let kind = if source == "event" {
            T::EventCheckin
        } else {
            T::WebinarAttend
        };
        let mut a = capture(
            kind,
            if source == "event" {
                "event"
            } else {
                "webinar"
            },
            campaign.clone(),
        );
        a.at += rng.gen_range(1..21) * DAY_US;
        acts.push(a);
    }

    // Interest fades after capture; intent slows the fading.
    let interest_days = 25.0 * (0.6 * intent).exp();
    let tracked = consent >= ConsentLevel::Full;

    // Email nurture journey.
    if consent >= ConsentLevel::Marketing {
        let journey = campaign
            .clone()
            .unwrap_or_else(|| format!("{} Nurture – Welcome", quarter_label(created_at)));
        let sends = 1 + poisson(&mut rng, 4.0 * scale);
        let mut at = created_at + rng.gen_range(1..4) * DAY_US;
        for step in 0..sends {
            if at >= window_end {
                break;
            }
            let asset = Some(format!("nurture-email-{}", step + 1));
            acts.push(Interaction {
                at,
                kind: T::EmailSent,
                channel: "email",
                campaign: Some(journey.clone()),
                asset: asset.clone(),
            });
            let age_days = (at - created_at) as f64 / DAY_US as f64;
            let interest = (-age_days / interest_days).exp();
            if tracked && rng.gen_bool(sigmoid(-0.9 + 0.6 * intent + 1.2 * interest)) {
                let open_at = at + rng.gen_range(600_000_000..2 * DAY_US);
                acts.push(Interaction {
                    at: open_at,
                    kind: T::EmailOpen,
                    channel: "email",
                    campaign: Some(journey.clone()),
                    asset: asset.clone(),
                });
                if rng.gen_bool(sigmoid(-1.6 + 0.7 * intent)) {
                    acts.push(Interaction {
                        at: open_at + rng.gen_range(5_000_000..600_000_000),
                        kind: T::EmailClick,
                        channel: "email",
                        campaign: Some(journey.clone()),
                        asset: asset.clone(),
                    });
                }
            }
            if rng.gen_bool((0.02 * (-0.8 * intent).exp()).min(0.3)) {
                acts.push(Interaction {
                    at: at + rng.gen_range(DAY_US / 2..3 * DAY_US),
                    kind: T::Unsubscribe,
                    channel: "email",
                    campaign: Some(journey.clone()),
                    asset,
                });
                break;
            }
            at += rng.gen_range(5..15) * DAY_US;
        }
    }

    // Web sessions, spread with fading interest; untracked leads are seen less often.
    let sessions = poisson(
        &mut rng,
        2.2 * scale * (0.55 * intent).exp() * if tracked { 1.0 } else { 0.4 },
    );
    for _ in 0..sessions {
        let at = created_at + exp_days(&mut rng, interest_days.max(3.0));
        push_session(&mut rng, &mut acts, at, intent, None);
    }
    // A buying burst: research right before the sales decision, for real buyers mostly.
    let bursts = if qualifies {
        rng.gen_bool(0.55)
    } else {
        rng.gen_bool(0.12)
    };
    if bursts {
        let n = 1 + poisson(&mut rng, 1.5 * scale);
        for _ in 0..n {
            let at = decided_at - exp_days(&mut rng, 6.0);
            push_session(
                &mut rng,
                &mut acts,
                at.max(created_at),
                intent + 1.0,
                Some("buying"),
            );
        }
    }
    // Events and webinars after capture.
    let events = poisson(&mut rng, 0.35 * scale * (0.4 * intent).exp());
    for _ in 0..events {
        let at = created_at + exp_days(&mut rng, 60.0);
        let q = quarter_label(at);
        let (reg_channel, attend, name) = if rng.gen_bool(0.6) {
            (
                "webinar",
                T::WebinarAttend,
                format!("{q} Webinar – {}", vocab::pick(&mut rng, vocab::TOPICS)),
            )
        } else {
            (
                "event",
                T::EventCheckin,
                format!("{q} {} Summit", vocab::pick(&mut rng, vocab::EVENT_CITIES)),
            )
        };
        acts.push(Interaction {
            at,
            kind: T::EventRegistration,
            channel: reg_channel,
            campaign: Some(name.clone()),
            asset: Some(name.clone()),
        });
        if rng.gen_bool(sigmoid(0.0 + 0.5 * intent)) {
            acts.push(Interaction {
                at: at + rng.gen_range(1..30) * DAY_US,
                kind: attend,
                channel: reg_channel,
                campaign: Some(name.clone()),
                asset: Some(name),
            });
        }
    }
    acts.retain(|a| {
        a.at < window_end.max(created_at + 1) && a.at < plan.end_us && a.at >= created_at
    });
    acts.sort_by_key(|a| (a.at, a.kind));
    let unsubscribed = acts.iter().any(|a| a.kind == T::Unsubscribe);

    // --- lifecycle ----------------------------------------------------------------
    let territory = country.territory;
    let segment = firms::segment(person.company_size.unwrap_or(100));
    let owner = (worked || rng.gen_bool(0.6))
        .then(|| firms::seller_for(&mut rng, plan.seller_groups, territory, segment));
    let mut changes = vec![StatusChange {
        at: created_at,
        status: LeadStatus::Open,
        reason: Some("created"),
        actor: None,
    }];
    let mut opportunity = None;
    if worked && decided_at < plan.end_us {
        let engagement = acts.len();
        if qualifies {
            opportunity = Some(qualify(
                &mut changes,
                &mut rng,
                plan,
                decided_at,
                owner,
                (fit, intent, person.company_size),
            ));
        } else {
            let reason = disqualify_reason(&mut rng, source, unsubscribed, engagement);
            changes.push(StatusChange {
                at: decided_at,
                status: LeadStatus::Disqualified,
                reason: Some(reason.as_str()),
                actor: owner,
            });
            // Some disqualified leads come back.
            if reason != DisqualifyReason::Canceled && rng.gen_bool(0.06) {
                let reopened = decided_at + exp_days(&mut rng, 60.0) + DAY_US;
                if reopened < plan.end_us {
                    changes.push(StatusChange {
                        at: reopened,
                        status: LeadStatus::Open,
                        reason: Some("reopened"),
                        actor: owner,
                    });
                    let second = reopened + exp_days(&mut rng, 30.0) + DAY_US;
                    if second < plan.end_us {
                        if rng.gen_bool(sigmoid(-0.5 + 0.8 * intent)) {
                            opportunity = Some(qualify(
                                &mut changes,
                                &mut rng,
                                plan,
                                second,
                                owner,
                                (fit, intent, person.company_size),
                            ));
                        } else if rng.gen_bool(0.7) {
                            changes.push(StatusChange {
                                at: second,
                                status: LeadStatus::Disqualified,
                                reason: Some(DisqualifyReason::Lost.as_str()),
                                actor: owner,
                            });
                        }
                    }
                }
            }
        }
    }

    LeadLife {
        id,
        duplicate_of,
        created_at,
        source,
        channel,
        campaign,
        person,
        consent,
        owner,
        interactions: acts,
        changes,
        opportunity,
    }
}

fn push_session(
    rng: &mut ChaCha8Rng,
    acts: &mut Vec<Interaction>,
    at: i64,
    intent: f64,
    campaign: Option<&str>,
) {
    use InteractionType as T;
    let campaign = campaign.map(str::to_string);
    let pages = 1 + poisson(rng, 0.6);
    for i in 0..pages {
        acts.push(Interaction {
            at: at + i as i64 * 60_000_000,
            kind: T::WebVisit,
            channel: "web",
            campaign: campaign.clone(),
            asset: Some((*vocab::pick(rng, vocab::PAGES)).to_string()),
        });
    }
    let later = at + pages as i64 * 60_000_000;
    if rng.gen_bool(sigmoid(-2.0 + 0.9 * intent)) {
        acts.push(Interaction {
            at: later,
            kind: T::PricingPageVisit,
            channel: "web",
            campaign: campaign.clone(),
            asset: Some("/pricing".into()),
        });
    }
    if rng.gen_bool(0.12) {
        acts.push(Interaction {
            at: later + 30_000_000,
            kind: T::ContentDownload,
            channel: "web",
            campaign: campaign.clone(),
            asset: Some((*vocab::pick(rng, vocab::CONTENT)).to_string()),
        });
    }
    if rng.gen_bool(sigmoid(-3.4 + 1.0 * intent)) {
        let form = if rng.gen_bool(0.6) {
            "demo-request"
        } else {
            "contact-us"
        };
        acts.push(Interaction {
            at: later + 90_000_000,
            kind: T::FormSubmit,
            channel: "web",
            campaign,
            asset: Some(form.into()),
        });
    }
}

fn disqualify_reason(
    rng: &mut ChaCha8Rng,
    source: &str,
    unsubscribed: bool,
    engagement: usize,
) -> DisqualifyReason {
    use DisqualifyReason::*;
    if rng.gen_bool(if source == "purchased_list" {
        0.08
    } else {
        0.03
    }) {
        return Canceled;
    }
    if unsubscribed && rng.gen_bool(0.7) {
        return NoLongerInterested;
    }
    let cannot_contact = if engagement <= 2 { 0.55 } else { 0.2 };
    if rng.gen_bool(cannot_contact) {
        return CannotContact;
    }
    if rng.gen_bool(0.35) {
        NoLongerInterested
    } else {
        Lost
    }
}

/// Records a qualification at `at` and opens its opportunity; `traits` are the lead's
/// fit, intent and company size.
fn qualify(
    changes: &mut Vec<StatusChange>,
    rng: &mut ChaCha8Rng,
    plan: &Plan,
    at: i64,
    owner: Option<i64>,
    traits: (f64, f64, Option<i32>),
) -> Opportunity {
    changes.push(StatusChange {
        at,
        status: LeadStatus::Qualified,
        reason: None,
        actor: owner,
    });
    let (fit, intent, size) = traits;
    open_opportunity(rng, plan, at, fit, intent, size)
}

fn open_opportunity(
    rng: &mut ChaCha8Rng,
    plan: &Plan,
    at: i64,
    fit: f64,
    intent: f64,
    size: Option<i32>,
) -> Opportunity {
    let size = f64::from(size.unwrap_or(100).max(2));
    let value = (3_000.0 * size.powf(0.35) * (normal(rng, 0.5)).exp()).round();
    let closes_at = at + 10 * DAY_US + exp_days(rng, 50.0);
    let noise = normal(rng, 0.5);
    let won = rng.gen_bool(sigmoid(-0.6 + 0.5 * fit + 0.6 * intent + noise));
    if closes_at >= plan.end_us {
        Opportunity {
            created_at: at,
            value,
            status: "open",
            closed_at: None,
        }
    } else {
        Opportunity {
            created_at: at,
            value,
            status: if won { "won" } else { "lost" },
            closed_at: Some(closes_at),
        }
    }
}

/// Whether lead `id` is planted as a duplicate (`plan.duplicates` of leads, none among
/// the first 10): of which earlier lead, and by which rule it should be found.
fn planted(plan: &Plan, id: i64) -> Option<(i64, &'static str)> {
    if plan.duplicates <= 0.0 || id <= 10 {
        return None;
    }
    let mut rng = entity_rng(plan.seed, Stream::Duplicate, id as u64);
    if !rng.gen_bool(plan.duplicates.min(1.0)) {
        return None;
    }
    // Usually a recent lead (a second form fill), sometimes an old one.
    let back = if rng.gen_bool(0.7) {
        rng.gen_range(1..=(id - 1).min(2000))
    } else {
        rng.gen_range(1..id)
    };
    let variation = *vocab::weighted(
        &mut rng,
        &[
            ("same_email", 40.0),
            ("same_phone", 20.0),
            ("name_company", 25.0),
            ("name_domain", 15.0),
        ],
    );
    // The original is a lead typed once: a duplicate of a duplicate is one of its root.
    let mut of = id - back;
    while let Some((root, _)) = planted(plan, of) {
        of = root;
    }
    Some((of, variation))
}

/// A typo: two letters swapped, one dropped or doubled, accents dropped, or case.
fn typo(rng: &mut ChaCha8Rng, s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 4 {
        return s.to_lowercase();
    }
    let i = rng.gen_range(1..chars.len() - 1);
    let mut out = chars.clone();
    match rng.gen_range(0..5) {
        0 => out.swap(i, i + 1),
        1 => {
            out.remove(i);
        }
        2 => out.insert(i, chars[i]),
        3 => return vocab::ascii_fold(s),
        _ => return s.to_uppercase(),
    }
    out.into_iter().collect()
}

/// The same digits, written differently (the `+` or trunk prefix kept, so that the
/// normalised number is unchanged).
fn reformat_phone(rng: &mut ChaCha8Rng, phone: &str) -> String {
    let plus = phone.trim_start().starts_with('+');
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let sep = *vocab::pick(rng, &[" ", "-", ".", ""]);
    let groups: Vec<String> = digits
        .as_bytes()
        .chunks(3)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!("{}{}", if plus { "+" } else { "" }, groups.join(sep))
}

/// The original person typed again: identity fields from `original`, varied so that the
/// duplicate is found by the `variation` rule; the rest (title, size, …) stays the
/// original's too. Falls back to `name_company` when the original lacks what a
/// variation needs (an email, a phone, a corporate email domain).
fn recapture(
    rng: &mut ChaCha8Rng,
    original: Person,
    personal_email: bool,
    variation: &'static str,
) -> (Person, &'static str) {
    let mut p = original;
    let variation = match variation {
        "same_email" if p.email.is_none() => "name_company",
        "same_phone" if p.phone.is_none() => "name_company",
        // Another address at a free-mail provider is another person's as far as
        // anyone can tell: only corporate domains identify a company.
        "name_domain" if p.email.is_none() || personal_email => "name_company",
        v => v,
    };
    let variation = if variation == "name_company"
        && (p.company.is_none() || p.last_name.is_none() || p.first_name.is_none())
    {
        if p.email.is_some() {
            "same_email"
        } else {
            "same_phone"
        }
    } else {
        variation
    };
    match variation {
        "same_email" => {
            p.email = p.email.map(|e| match rng.gen_range(0..3) {
                0 => e.trim().to_uppercase(),
                1 => format!(" {} ", e.trim()),
                _ => e.trim().to_string(),
            });
            if rng.gen_bool(0.5) {
                p.last_name = p.last_name.map(|l| typo(rng, &l));
            }
            if rng.gen_bool(0.3) {
                p.phone = None;
            }
        }
        "same_phone" => {
            p.phone = p.phone.map(|ph| reformat_phone(rng, &ph));
            p.email = None;
            if rng.gen_bool(0.5) {
                p.first_name = p.first_name.map(|f| typo(rng, &f));
            }
        }
        "name_company" => {
            if rng.gen_bool(0.6) {
                p.last_name = p.last_name.map(|l| typo(rng, &l));
            } else {
                p.first_name = p.first_name.map(|f| typo(rng, &f));
            }
            p.company = p.company.map(|c| match rng.gen_range(0..3) {
                0 => c.to_uppercase(),
                1 => c.replace(['.', ','], ""),
                _ => c,
            });
            p.email = None;
            p.phone = None;
        }
        _ => {
            // name_domain: another address at the same corporate domain.
            p.email = p.email.map(|e| {
                let domain = e.trim().rsplit('@').next().unwrap_or("").to_lowercase();
                let first = p
                    .first_name
                    .as_deref()
                    .map(vocab::ascii_fold)
                    .unwrap_or_default();
                let last = p
                    .last_name
                    .as_deref()
                    .map(vocab::ascii_fold)
                    .unwrap_or_default();
                format!(
                    "{}{}@{domain}",
                    first.chars().next().unwrap_or('x').to_lowercase(),
                    last.to_lowercase()
                )
            });
            p.company = None;
            p.phone = None;
            if rng.gen_bool(0.4) {
                p.first_name = p.first_name.map(|f| typo(rng, &f));
            }
        }
    }
    (p, variation)
}
