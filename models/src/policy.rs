//! Qualification policies: which scores count, when a lead is sales-ready, and how the
//! hand-off to sellers happens.
//!
//! A policy is a TOML file `policies/NAME.toml` in the workspace:
//!
//! ```toml
//! description = "Sales-ready when engaged, or when the model says they will convert"
//!
//! [scores]
//! rule_models = ["engagement", "fit"]    # the first is the policy's rule score
//! predictive_model = "conversion"        # optional
//! predictive_features = "lead_features"  # optional: relation with lead_id and the model's
//!                                        # features; without it, a point-in-time model
//!                                        # scores with its own features at the instant
//!
//! [audience]
//! min_consent = "marketing"              # optional
//! where = "country IS NOT NULL"          # optional SQL predicate over leads
//!
//! [sales_ready]
//! combine = "any"                        # any | all of the criteria
//! [[sales_ready.criteria]]
//! model = "engagement"
//! min_score = 40
//! [[sales_ready.criteria]]
//! model = "conversion"
//! min_grade = "B"                        # this grade or better
//!
//! [handoff]
//! activity = "phone_call"                # task | phone_call | appointment
//! due_days = 2
//! [[handoff.rules]]                      # ordered: the first matching rule wins
//! name = "enterprise"
//! when = "account_segment = 'enterprise'"
//! sellers = "segment = 'enterprise'"     # SQL predicate over active sellers
//! match = ["territory"]                  # seller columns equal to the lead's account_*
//! distribution = "load_balance"          # round_robin | load_balance
//! ```
//!
//! Errors name the file and line.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::ConsentLevel;
use crate::rules::{Lines, Located, ModelError};

/// How criteria combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Sales-ready when any criterion holds.
    Any,
    /// Sales-ready when every criterion holds.
    All,
}

/// One sales-ready criterion on one model's score or grade.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// A rule model of the policy or its predictive model.
    pub model: String,
    /// Minimum score (inclusive).
    pub min_score: Option<f64>,
    /// Minimum grade: this grade or a better one.
    pub min_grade: Option<String>,
    /// 1-based line of the criterion.
    pub line: usize,
}

/// The kind of sales activity created for a newly sales-ready lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// A to-do.
    Task,
    /// A call.
    PhoneCall,
    /// A meeting.
    Appointment,
}

impl ActivityKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Task => "task",
            ActivityKind::PhoneCall => "phone_call",
            ActivityKind::Appointment => "appointment",
        }
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a rule spreads leads over its sellers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// In turn, by seller id, skipping sellers at capacity.
    RoundRobin,
    /// To the seller with the fewest open items (then the lowest id).
    LoadBalance,
}

/// One assignment rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentRule {
    /// Rule name (shown on each activity).
    pub name: String,
    /// SQL predicate over the lead's qualification, its columns and its account's
    /// (`account_*`), with its line;
    /// `None` = all.
    pub when: Option<Located<String>>,
    /// SQL predicate over the `sellers` table choosing the pool, with its line; `None` =
    /// every active seller.
    pub sellers: Option<Located<String>>,
    /// Seller columns that must equal the lead's `account_<column>`.
    pub matching: Vec<String>,
    /// How leads are spread.
    pub distribution: Distribution,
    /// 1-based line of the rule.
    pub line: usize,
}

/// The hand-off settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Handoff {
    /// Activity created for each newly sales-ready lead.
    pub activity: ActivityKind,
    /// Days until the activity is due.
    pub due_days: u32,
    /// Ordered assignment rules.
    pub rules: Vec<AssignmentRule>,
}

/// A parsed, validated qualification policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Policy name (the file stem).
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// What it is for.
    pub description: String,
    /// Rule models scored; the first is the policy's rule score.
    pub rule_models: Vec<String>,
    /// Predictive model, if any.
    pub predictive_model: Option<String>,
    /// Relation giving the predictive model's features (with `lead_id`).
    pub predictive_features: Option<String>,
    /// Minimum consent level of the audience.
    pub min_consent: Option<ConsentLevel>,
    /// SQL predicate over leads restricting the audience, with its line.
    pub audience_where: Option<Located<String>>,
    /// How criteria combine.
    pub combine: Combine,
    /// Sales-ready criteria.
    pub criteria: Vec<Criterion>,
    /// The hand-off.
    pub handoff: Handoff,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    description: Option<String>,
    scores: Spanned<RawScores>,
    audience: Option<RawAudience>,
    sales_ready: Spanned<RawSalesReady>,
    handoff: Option<RawHandoff>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScores {
    rule_models: Vec<Spanned<String>>,
    predictive_model: Option<Spanned<String>>,
    predictive_features: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    min_consent: Option<Spanned<String>>,
    #[serde(rename = "where")]
    predicate: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSalesReady {
    combine: Option<Spanned<String>>,
    criteria: Vec<Spanned<RawCriterion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    model: Spanned<String>,
    min_score: Option<Spanned<f64>>,
    min_grade: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHandoff {
    activity: Option<Spanned<String>>,
    due_days: Option<Spanned<i64>>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    when: Option<Spanned<String>>,
    sellers: Option<Spanned<String>>,
    #[serde(rename = "match", default)]
    matching: Vec<Spanned<String>>,
    distribution: Option<Spanned<String>>,
}

/// Seller columns a rule may match on.
pub const MATCHABLE: &[&str] = &["territory", "segment"];

impl Policy {
    /// Parses and validates the policy `name` from `text` (read from `file`).
    pub fn parse(name: &str, file: &str, text: &str) -> Result<Self, ModelError> {
        let lines = Lines { text, file };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => lines.err(span, e.message().to_string()),
            None => ModelError {
                file: file.to_string(),
                line: None,
                message: e.message().to_string(),
            },
        })?;
        let scores_span = raw.scores.span();
        let scores = raw.scores.into_inner();
        if scores.rule_models.is_empty() && scores.predictive_model.is_none() {
            return Err(lines.err(
                scores_span,
                "scores: name at least one rule model or a predictive model",
            ));
        }
        let mut rule_models = Vec::new();
        for m in &scores.rule_models {
            if rule_models.contains(m.get_ref()) {
                return Err(lines.err(
                    m.span(),
                    format!("scores.rule_models: '{}' is listed twice", m.get_ref()),
                ));
            }
            rule_models.push(m.get_ref().clone());
        }
        let predictive_model = scores
            .predictive_model
            .as_ref()
            .map(|m| m.get_ref().clone());
        // Without a relation, a point-in-time model scores the leads open at the
        // qualification instant with its own features (`predict(model, as_of)`).
        let predictive_features = match (&scores.predictive_model, &scores.predictive_features) {
            (Some(_), Some(f)) => Some(f.get_ref().clone()),
            (None, Some(f)) => {
                return Err(lines.err(
                    f.span(),
                    "scores.predictive_features without scores.predictive_model",
                ));
            }
            (_, None) => None,
        };
        let (min_consent, audience_where) = match raw.audience {
            Some(a) => (
                a.min_consent
                    .map(|c| {
                        c.get_ref()
                            .parse::<ConsentLevel>()
                            .map_err(|e| lines.err(c.span(), format!("audience.min_consent: {e}")))
                    })
                    .transpose()?,
                a.predicate.as_ref().map(|p| lines.located(p)),
            ),
            None => (None, None),
        };
        let sales_span = raw.sales_ready.span();
        let sales = raw.sales_ready.into_inner();
        let combine = match sales
            .combine
            .as_ref()
            .map(|c| (c.get_ref().as_str(), c.span()))
        {
            None | Some(("any", _)) => Combine::Any,
            Some(("all", _)) => Combine::All,
            Some((other, span)) => {
                return Err(lines.err(
                    span,
                    format!("sales_ready.combine = '{other}' (expected any or all)"),
                ));
            }
        };
        if sales.criteria.is_empty() {
            return Err(lines.err(
                sales_span,
                "sales_ready: give at least one [[sales_ready.criteria]]",
            ));
        }
        let mut criteria = Vec::new();
        for c in sales.criteria {
            let span = c.span();
            let c = c.into_inner();
            let model = c.model.get_ref().clone();
            let known = rule_models.contains(&model) || predictive_model.as_ref() == Some(&model);
            if !known {
                return Err(lines.err(
                    c.model.span(),
                    format!(
                        "sales_ready criterion on '{model}', which is not among the policy's scores (rule models: {}; predictive: {})",
                        if rule_models.is_empty() { "none".into() } else { rule_models.join(", ") },
                        predictive_model.as_deref().unwrap_or("none")
                    ),
                ));
            }
            if c.min_score.is_none() == c.min_grade.is_none() {
                return Err(lines.err(
                    span,
                    format!("sales_ready criterion on '{model}': give exactly one of min_score or min_grade"),
                ));
            }
            if let Some(s) = &c.min_score
                && !s.get_ref().is_finite()
            {
                return Err(lines.err(s.span(), "min_score must be a finite number"));
            }
            if predictive_model.as_ref() == Some(&model)
                && let Some(g) = &c.min_grade
                && !["A", "B", "C", "D"].contains(&g.as_str())
            {
                return Err(lines.err(
                    span,
                    format!("min_grade '{g}' of the predictive model (expected A, B, C or D)"),
                ));
            }
            criteria.push(Criterion {
                model,
                min_score: c.min_score.map(|s| s.into_inner()),
                min_grade: c.min_grade,
                line: lines.line(span),
            });
        }
        let handoff = match raw.handoff {
            None => Handoff {
                activity: ActivityKind::PhoneCall,
                due_days: 2,
                rules: Vec::new(),
            },
            Some(h) => handoff(&lines, h)?,
        };
        Ok(Policy {
            name: name.to_string(),
            file: file.to_string(),
            description: raw.description.unwrap_or_default(),
            rule_models,
            predictive_model,
            predictive_features,
            min_consent,
            audience_where,
            combine,
            criteria,
            handoff,
        })
    }

    /// An error located at a criterion or rule line of this policy.
    pub fn error_at(&self, line: usize, message: impl Into<String>) -> ModelError {
        ModelError {
            file: self.file.clone(),
            line: Some(line),
            message: message.into(),
        }
    }
}

fn handoff(lines: &Lines<'_>, h: RawHandoff) -> Result<Handoff, ModelError> {
    let activity = match h
        .activity
        .as_ref()
        .map(|a| (a.get_ref().as_str(), a.span()))
    {
        None | Some(("phone_call", _)) => ActivityKind::PhoneCall,
        Some(("task", _)) => ActivityKind::Task,
        Some(("appointment", _)) => ActivityKind::Appointment,
        Some((other, span)) => {
            return Err(lines.err(
                span,
                format!("handoff.activity = '{other}' (expected task, phone_call or appointment)"),
            ));
        }
    };
    let due_days = match h.due_days {
        None => 2,
        Some(d) if (0..=365).contains(d.get_ref()) => *d.get_ref() as u32,
        Some(d) => {
            return Err(lines.err(d.span(), "handoff.due_days must be between 0 and 365"));
        }
    };
    let mut rules: Vec<AssignmentRule> = Vec::new();
    for r in h.rules {
        let span = r.span();
        let r = r.into_inner();
        let name = r.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(lines.err(r.name.span(), "assignment rule name is empty"));
        }
        if rules.iter().any(|x| x.name == name) {
            return Err(lines.err(r.name.span(), format!("duplicate assignment rule '{name}'")));
        }
        let mut matching = Vec::new();
        for m in &r.matching {
            if !MATCHABLE.contains(&m.get_ref().as_str()) {
                return Err(lines.err(
                    m.span(),
                    format!(
                        "rule '{name}': match = '{}' (expected one of: {})",
                        m.get_ref(),
                        MATCHABLE.join(", ")
                    ),
                ));
            }
            matching.push(m.get_ref().clone());
        }
        let distribution = match r
            .distribution
            .as_ref()
            .map(|d| (d.get_ref().as_str(), d.span()))
        {
            None | Some(("round_robin", _)) => Distribution::RoundRobin,
            Some(("load_balance", _)) => Distribution::LoadBalance,
            Some((other, span)) => {
                return Err(lines.err(
                    span,
                    format!("rule '{name}': distribution = '{other}' (expected round_robin or load_balance)"),
                ));
            }
        };
        rules.push(AssignmentRule {
            name,
            when: r
                .when
                .filter(|w| !w.get_ref().trim().is_empty())
                .map(|w| lines.located(&w)),
            sellers: r
                .sellers
                .filter(|s| !s.get_ref().trim().is_empty())
                .map(|s| lines.located(&s)),
            matching,
            distribution,
            line: lines.line(span),
        });
    }
    Ok(Handoff {
        activity,
        due_days,
        rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
description = "test"
[scores]
rule_models = ["engagement", "fit"]
predictive_model = "conversion"
predictive_features = "lead_features"
[audience]
min_consent = "marketing"
[sales_ready]
combine = "all"
[[sales_ready.criteria]]
model = "engagement"
min_score = 40
[[sales_ready.criteria]]
model = "conversion"
min_grade = "B"
[handoff]
activity = "task"
due_days = 3
[[handoff.rules]]
name = "enterprise"
when = "account_segment = 'enterprise'"
match = ["territory"]
distribution = "load_balance"
[[handoff.rules]]
name = "everyone else"
"#;

    #[test]
    fn a_full_policy_parses() {
        let p = Policy::parse("default", "policies/default.toml", GOOD).expect("valid");
        assert_eq!(p.rule_models, ["engagement", "fit"]);
        assert_eq!(p.combine, Combine::All);
        assert_eq!(p.criteria.len(), 2);
        assert_eq!(p.criteria[1].min_grade.as_deref(), Some("B"));
        assert_eq!(p.criteria[0].line, 11);
        assert_eq!(p.handoff.activity, ActivityKind::Task);
        assert_eq!(p.handoff.rules[0].distribution, Distribution::LoadBalance);
        assert_eq!(p.handoff.rules[1].distribution, Distribution::RoundRobin);
        assert_eq!(p.handoff.rules[1].when, None);
        assert_eq!(p.min_consent, Some(ConsentLevel::Marketing));
    }

    fn error(text: &str) -> String {
        Policy::parse("p", "p.toml", text)
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn mistakes_are_reported_with_file_and_line() {
        let e = error(&GOOD.replace("\nmodel = \"conversion\"", "\nmodel = \"nope\""));
        assert!(
            e.starts_with("p.toml:15: sales_ready criterion on 'nope'"),
            "{e}"
        );
        let e = error(&GOOD.replace("min_score = 40", "min_score = 40\nmin_grade = \"Hot\""));
        assert!(e.contains("exactly one of min_score or min_grade"), "{e}");
        let e = error(&GOOD.replace("\"load_balance\"", "\"fastest\""));
        assert!(
            e.starts_with("p.toml:24: rule 'enterprise': distribution = 'fastest'"),
            "{e}"
        );
        let e = error(&GOOD.replace("[\"territory\"]", "[\"country\"]"));
        assert!(e.contains("match = 'country'"), "{e}");
        let e = error(&GOOD.replace("activity = \"task\"", "activity = \"email\""));
        assert!(e.starts_with("p.toml:18: handoff.activity"), "{e}");
        let e = error(&GOOD.replace("due_days = 3", "due_dayz = 3"));
        assert!(
            e.starts_with("p.toml:19:") && e.contains("unknown field"),
            "{e}"
        );
        let p = Policy::parse(
            "p",
            "p.toml",
            &GOOD.replace("predictive_features = \"lead_features\"\n", ""),
        )
        .expect("a point-in-time model needs no feature relation");
        assert_eq!(p.predictive_features, None);
        assert_eq!(p.predictive_model.as_deref(), Some("conversion"));
        let e = error(&GOOD.replace("name = \"everyone else\"", "name = \"enterprise\""));
        assert!(e.contains("duplicate assignment rule 'enterprise'"), "{e}");
    }
}
