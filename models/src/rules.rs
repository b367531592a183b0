//! Rule-based scoring models: the file format, its validation, and grades.
//!
//! A model is a TOML file in the workspace's `scoring/` folder; its name is the file
//! stem. Example (`scoring/engagement.toml`):
//!
//! ```toml
//! description = "How actively a lead engages with marketing"
//! sales_ready = 60
//!
//! [audience]
//! where = "country IS NOT NULL"      # SQL predicate over lead (and account_*) columns
//! min_consent = "marketing"          # none < transactional < marketing < full
//!
//! [decay]                            # model-wide: none | window | linear | exponential
//! kind = "exponential"
//! days = 30                          # window length, days to zero, or half-life
//!
//! [[fit]]
//! name = "decision_maker"
//! when = "seniority IN ('director', 'vp', 'c_level')"
//! points = 10
//!
//! [[behavior]]
//! name = "pricing_page"
//! type = "pricing_page_visit"
//! points = 8                         # per occurrence
//! frequency = "each"                 # each | at_least | none
//! cap = 5                            # count at most 5 occurrences
//! window_days = 28                   # only the last 28 days
//!
//! [[grade]]
//! name = "Cold"
//! max = 30                           # scores below 30
//! [[grade]]
//! name = "Hot"
//! min = 30                           # 30 and above
//! ```
//!
//! Validation is strict and every error names the file, the line and the field: unknown
//! fields, unknown interaction types or consent levels, bad decay parameters, duplicate
//! rule names, grades that overlap or leave gaps. SQL predicates are checked against the
//! workspace's tables by the `leadql-udfs` crate, which keeps their line numbers from
//! here.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::{ConsentLevel, InteractionType};

/// An error in a model file, with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelError {
    /// The file (as given to [`RuleModel::parse`]).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ModelError {}

/// A value from a model file with the line it was written on.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line.
    pub line: usize,
}

/// How points lose value with age.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decay {
    /// Points keep their value.
    None,
    /// Full value inside the last `days` days, nothing before.
    Window {
        /// Window length in days.
        days: f64,
    },
    /// Value falls linearly to zero at `days` days of age.
    Linear {
        /// Age at which points are worth nothing.
        days: f64,
    },
    /// Value halves every `half_life_days`.
    Exponential {
        /// Half-life in days.
        half_life_days: f64,
    },
}

/// How occurrences of a behaviour turn into points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Points for each occurrence (optionally capped).
    Each,
    /// Points once when there are at least this many occurrences.
    AtLeast(u32),
    /// Points when there is no occurrence at all.
    None,
}

/// A demographic or firmographic condition.
#[derive(Debug, Clone, PartialEq)]
pub struct FitRule {
    /// Rule name (unique in the model).
    pub name: String,
    /// SQL predicate over lead columns (and `account_*` columns).
    pub predicate: Located<String>,
    /// Points when the predicate holds (may be negative).
    pub points: f64,
}

/// A behavioural condition over interactions.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviorRule {
    /// Rule name (unique in the model).
    pub name: String,
    /// The interaction type counted.
    pub interaction: InteractionType,
    /// Optional SQL predicate over interaction columns.
    pub predicate: Option<Located<String>>,
    /// Points per occurrence (or once, for `at_least` / `none`).
    pub points: f64,
    /// How occurrences become points.
    pub frequency: Frequency,
    /// At most this many occurrences count (`each` only). With decay, the rule's total
    /// is capped at `cap × points`.
    pub cap: Option<u32>,
    /// Only occurrences in the last `window_days` days before `as_of` count.
    pub window_days: Option<f64>,
    /// Decay applied to this rule (the model's unless overridden).
    pub decay: Decay,
    /// Line of the rule in the file.
    pub line: usize,
}

/// A named score range: `min` inclusive, `max` exclusive; open ends are unbounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    /// Grade name.
    pub name: String,
    /// Lowest score of the grade (None: no lower bound).
    pub min: Option<f64>,
    /// Score from which the next grade starts (None: no upper bound).
    pub max: Option<f64>,
}

/// A validated rule-based scoring model.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleModel {
    /// Model name (the file stem).
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// Free text.
    pub description: Option<String>,
    /// Which leads are scored: SQL predicate over lead columns.
    pub audience: Option<Located<String>>,
    /// Minimum consent level of scored leads.
    pub min_consent: ConsentLevel,
    /// Model-wide decay.
    pub decay: Decay,
    /// Fit conditions.
    pub fit: Vec<FitRule>,
    /// Behaviour conditions.
    pub behavior: Vec<BehaviorRule>,
    /// Grades, lowest first, continuous.
    pub grades: Vec<Grade>,
    /// Score at or above which a lead is sales-ready.
    pub sales_ready: f64,
}

/// A number written as an integer or a float.
#[derive(Debug, Clone, Copy)]
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    description: Option<String>,
    audience: Option<RawAudience>,
    decay: Option<Spanned<RawDecay>>,
    #[serde(default)]
    fit: Vec<Spanned<RawFit>>,
    #[serde(default)]
    behavior: Vec<Spanned<RawBehavior>>,
    #[serde(default)]
    grade: Vec<Spanned<RawGrade>>,
    sales_ready: Spanned<Number>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    #[serde(rename = "where")]
    predicate: Option<Spanned<String>>,
    min_consent: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecay {
    kind: Spanned<String>,
    days: Option<Spanned<Number>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFit {
    name: Spanned<String>,
    when: Spanned<String>,
    points: Spanned<Number>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBehavior {
    name: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    #[serde(rename = "where")]
    predicate: Option<Spanned<String>>,
    points: Spanned<Number>,
    frequency: Option<Spanned<String>>,
    count: Option<Spanned<u32>>,
    cap: Option<Spanned<u32>>,
    window_days: Option<Spanned<Number>>,
    decay: Option<Spanned<RawDecay>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    name: Spanned<String>,
    min: Option<Spanned<Number>>,
    max: Option<Spanned<Number>>,
}

/// Turns byte offsets into line numbers.
pub(crate) struct Lines<'a> {
    pub(crate) text: &'a str,
    pub(crate) file: &'a str,
}

impl Lines<'_> {
    pub(crate) fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    pub(crate) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ModelError {
        ModelError {
            file: self.file.to_string(),
            line: Some(self.line(span)),
            message: message.into(),
        }
    }

    pub(crate) fn located(&self, s: &Spanned<String>) -> Located<String> {
        Located {
            value: s.get_ref().clone(),
            line: self.line(s.span()),
        }
    }
}

fn decay(lines: &Lines<'_>, raw: &Spanned<RawDecay>, field: &str) -> Result<Decay, ModelError> {
    let d = raw.get_ref();
    let days = d.days.as_ref().map(|n| (n.get_ref().0, n.span()));
    let need_days = |what: &str| -> Result<f64, ModelError> {
        match days {
            Some((v, _)) if v.is_finite() && v > 0.0 => Ok(v),
            Some((v, span)) => Err(lines.err(
                span,
                format!("{field}.days must be a positive number of days, got {v}"),
            )),
            None => Err(lines.err(
                raw.span(),
                format!(
                    "{field}: kind = \"{}\" needs days = … ({what})",
                    d.kind.get_ref()
                ),
            )),
        }
    };
    match d.kind.get_ref().as_str() {
        "none" => Ok(Decay::None),
        "window" => Ok(Decay::Window { days: need_days("the window length")? }),
        "linear" => Ok(Decay::Linear { days: need_days("the age at which points reach zero")? }),
        "exponential" => Ok(Decay::Exponential { half_life_days: need_days("the half-life")? }),
        other => Err(lines.err(
            d.kind.span(),
            format!("unknown {field}.kind '{other}' (expected one of: none, window, linear, exponential)"),
        )),
    }
}

fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> ModelError {
    let lines = Lines { text, file };
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => lines.err(span, message),
        None => ModelError {
            file: file.to_string(),
            line: None,
            message,
        },
    }
}

impl RuleModel {
    /// Parses and validates the model `name` from the TOML `text` of `file`.
    pub fn parse(name: &str, file: &str, text: &str) -> Result<Self, ModelError> {
        let raw: RawModel = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        let lines = Lines { text, file };
        let mut names = BTreeSet::new();
        let mut unique = |n: &Spanned<String>| -> Result<String, ModelError> {
            let v = n.get_ref().trim().to_string();
            if v.is_empty() {
                return Err(lines.err(n.span(), "rule name is empty"));
            }
            if !names.insert(v.clone()) {
                return Err(lines.err(n.span(), format!("duplicate rule name '{v}'")));
            }
            Ok(v)
        };

        let (audience, min_consent) = match &raw.audience {
            Some(a) => {
                let consent = match &a.min_consent {
                    Some(c) => c
                        .get_ref()
                        .parse::<ConsentLevel>()
                        .map_err(|e| lines.err(c.span(), format!("audience.min_consent: {e}")))?,
                    None => ConsentLevel::None,
                };
                (a.predicate.as_ref().map(|p| lines.located(p)), consent)
            }
            None => (None, ConsentLevel::None),
        };
        let model_decay = match &raw.decay {
            Some(d) => decay(&lines, d, "decay")?,
            None => Decay::None,
        };

        let mut fit = Vec::new();
        for f in &raw.fit {
            let r = f.get_ref();
            let points = finite(&lines, &r.points, "fit.points")?;
            fit.push(FitRule {
                name: unique(&r.name)?,
                predicate: lines.located(&r.when),
                points,
            });
        }

        let mut behavior = Vec::new();
        for b in &raw.behavior {
            let r = b.get_ref();
            let name = unique(&r.name)?;
            let interaction = r
                .kind
                .get_ref()
                .parse::<InteractionType>()
                .map_err(|e| lines.err(r.kind.span(), format!("behavior '{name}': {e}")))?;
            let points = finite(&lines, &r.points, "behavior.points")?;
            let frequency = match r
                .frequency
                .as_ref()
                .map(|f| (f.get_ref().as_str(), f.span()))
            {
                None | Some(("each", _)) => Frequency::Each,
                Some(("at_least", span)) => match &r.count {
                    Some(c) if *c.get_ref() >= 1 => Frequency::AtLeast(*c.get_ref()),
                    Some(c) => {
                        return Err(lines.err(
                            c.span(),
                            format!("behavior '{name}': count must be at least 1"),
                        ));
                    }
                    None => {
                        return Err(lines.err(
                            span,
                            format!("behavior '{name}': frequency = \"at_least\" needs count = N"),
                        ));
                    }
                },
                Some(("none", _)) => Frequency::None,
                Some((other, span)) => {
                    return Err(lines.err(
                        span,
                        format!("behavior '{name}': unknown frequency '{other}' (expected one of: each, at_least, none)"),
                    ));
                }
            };
            if let (Some(c), false) = (&r.count, matches!(frequency, Frequency::AtLeast(_))) {
                return Err(lines.err(
                    c.span(),
                    format!("behavior '{name}': count only applies to frequency = \"at_least\""),
                ));
            }
            let cap = match &r.cap {
                Some(c) if frequency != Frequency::Each => {
                    return Err(lines.err(
                        c.span(),
                        format!("behavior '{name}': cap only applies to frequency = \"each\""),
                    ));
                }
                Some(c) if *c.get_ref() == 0 => {
                    return Err(lines.err(
                        c.span(),
                        format!("behavior '{name}': cap must be at least 1"),
                    ));
                }
                Some(c) => Some(*c.get_ref()),
                None => None,
            };
            let window_days = match &r.window_days {
                Some(w) if w.get_ref().0.is_finite() && w.get_ref().0 > 0.0 => Some(w.get_ref().0),
                Some(w) => {
                    return Err(lines.err(
                        w.span(),
                        format!("behavior '{name}': window_days must be a positive number"),
                    ));
                }
                None => None,
            };
            let rule_decay = match &r.decay {
                Some(d) => decay(&lines, d, "behavior.decay")?,
                None => model_decay,
            };
            behavior.push(BehaviorRule {
                name,
                interaction,
                predicate: r.predicate.as_ref().map(|p| lines.located(p)),
                points,
                frequency,
                cap,
                window_days,
                decay: rule_decay,
                line: lines.line(b.span()),
            });
        }
        if fit.is_empty() && behavior.is_empty() {
            return Err(ModelError {
                file: file.into(),
                line: None,
                message: "the model has no [[fit]] or [[behavior]] rule".into(),
            });
        }

        let grades = grades(&lines, &raw.grade)?;
        let sales_ready = finite(&lines, &raw.sales_ready, "sales_ready")?;
        Ok(RuleModel {
            name: name.to_string(),
            file: file.to_string(),
            description: raw.description,
            audience,
            min_consent,
            decay: model_decay,
            fit,
            behavior,
            grades,
            sales_ready,
        })
    }

    /// The grade of `score` (None for NULL/NaN scores, or when the model has no grades).
    pub fn grade(&self, score: f64) -> Option<&str> {
        if score.is_nan() {
            return None;
        }
        self.grades
            .iter()
            .find(|g| g.min.is_none_or(|m| score >= m) && g.max.is_none_or(|m| score < m))
            .map(|g| g.name.as_str())
    }

    /// Names of every rule, fit rules first, in file order.
    pub fn rule_names(&self) -> Vec<&str> {
        self.fit
            .iter()
            .map(|r| r.name.as_str())
            .chain(self.behavior.iter().map(|r| r.name.as_str()))
            .collect()
    }
}

fn finite(lines: &Lines<'_>, n: &Spanned<Number>, field: &str) -> Result<f64, ModelError> {
    let v = n.get_ref().0;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(lines.err(n.span(), format!("{field} must be a finite number")))
    }
}

fn grades(lines: &Lines<'_>, raw: &[Spanned<RawGrade>]) -> Result<Vec<Grade>, ModelError> {
    if raw.is_empty() {
        return Err(ModelError {
            file: lines.file.into(),
            line: None,
            message: "the model needs at least one [[grade]]".into(),
        });
    }
    let mut out: Vec<(Grade, Range<usize>)> = Vec::new();
    let mut seen = BTreeSet::new();
    for g in raw {
        let r = g.get_ref();
        let name = r.name.get_ref().trim().to_string();
        if name.is_empty() || !seen.insert(name.clone()) {
            return Err(lines.err(
                r.name.span(),
                format!("grade name '{name}' is empty or repeated"),
            ));
        }
        let min = r.min.as_ref().map(|m| m.get_ref().0);
        let max = r.max.as_ref().map(|m| m.get_ref().0);
        if let (Some(lo), Some(hi)) = (min, max)
            && lo >= hi
        {
            return Err(lines.err(
                g.span(),
                format!("grade '{name}': min {lo} is not below max {hi}"),
            ));
        }
        out.push((Grade { name, min, max }, g.span()));
    }
    out.sort_by(|a, b| {
        let key = |g: &Grade| g.min.unwrap_or(f64::NEG_INFINITY);
        key(&a.0).total_cmp(&key(&b.0))
    });
    if out[0].0.min.is_some() {
        let (g, span) = &out[0];
        return Err(lines.err(
            span.clone(),
            format!(
                "grade '{}': the lowest grade must have no min, so that every score gets a grade",
                g.name
            ),
        ));
    }
    if let Some((g, span)) = out.last()
        && g.max.is_some()
    {
        return Err(lines.err(
            span.clone(),
            format!(
                "grade '{}': the highest grade must have no max, so that every score gets a grade",
                g.name
            ),
        ));
    }
    for pair in out.windows(2) {
        let ((a, _), (b, span)) = (&pair[0], &pair[1]);
        match (a.max, b.min) {
            (Some(hi), Some(lo)) if hi == lo => {}
            (Some(hi), Some(lo)) if hi > lo => {
                return Err(lines.err(
                    span.clone(),
                    format!(
                        "grades '{}' and '{}' overlap: {} < {}",
                        a.name, b.name, lo, hi
                    ),
                ));
            }
            (Some(hi), Some(lo)) => {
                return Err(lines.err(
                    span.clone(),
                    format!(
                        "gap between grades '{}' and '{}': scores from {hi} to {lo} get no grade",
                        a.name, b.name
                    ),
                ));
            }
            _ => {
                return Err(lines.err(span.clone(), format!("grades '{}' and '{}' overlap: only the lowest grade may omit min and only the highest may omit max", a.name, b.name)));
            }
        }
    }
    Ok(out.into_iter().map(|(g, _)| g).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
description = "test"
sales_ready = 50

[audience]
where = "country = 'US'"
min_consent = "marketing"

[decay]
kind = "exponential"
days = 30

[[fit]]
name = "vp"
when = "seniority = 'vp'"
points = 10

[[behavior]]
name = "pricing"
type = "pricing_page_visit"
points = 5.5
cap = 3
window_days = 28

[[behavior]]
name = "quiet"
type = "email_open"
points = -5
frequency = "none"
decay = { kind = "none" }

[[grade]]
name = "Cold"
max = 20
[[grade]]
name = "Hot"
min = 50
[[grade]]
name = "Warm"
min = 20
max = 50
"#;

    fn parse(text: &str) -> Result<RuleModel, String> {
        RuleModel::parse("m", "scoring/m.toml", text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_complete_model_parses() {
        let m = parse(GOOD).expect("valid");
        assert_eq!(m.min_consent, ConsentLevel::Marketing);
        assert_eq!(m.audience.as_ref().map(|a| a.line), Some(6));
        assert_eq!(
            m.behavior[0].decay,
            Decay::Exponential {
                half_life_days: 30.0
            }
        );
        assert_eq!(m.behavior[1].decay, Decay::None);
        assert_eq!(m.behavior[1].frequency, Frequency::None);
        assert_eq!(m.rule_names(), ["vp", "pricing", "quiet"]);
        let names: Vec<_> = m.grades.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Cold", "Warm", "Hot"], "grades are sorted by range");
    }

    #[test]
    fn grades_cover_every_score_with_min_inclusive() {
        let m = parse(GOOD).expect("valid");
        assert_eq!(m.grade(-100.0), Some("Cold"));
        assert_eq!(m.grade(19.99), Some("Cold"));
        assert_eq!(m.grade(20.0), Some("Warm"));
        assert_eq!(m.grade(50.0), Some("Hot"));
        assert_eq!(m.grade(f64::NAN), None);
    }

    #[test]
    fn unknown_field_names_the_line() {
        let e = parse(&GOOD.replace("points = 10", "points = 10\nweight = 2"))
            .expect_err("unknown field");
        assert!(
            e.starts_with("scoring/m.toml:17: unknown field `weight`"),
            "{e}"
        );
    }

    #[test]
    fn overlapping_grades_are_rejected() {
        let e =
            parse(&GOOD.replace("min = 20\nmax = 50", "min = 15\nmax = 50")).expect_err("overlap");
        assert!(e.contains("grades 'Cold' and 'Warm' overlap"), "{e}");
        assert!(e.starts_with("scoring/m.toml:"), "{e}");
    }

    #[test]
    fn gaps_between_grades_are_rejected() {
        let e = parse(&GOOD.replace("min = 20\nmax = 50", "min = 25\nmax = 50")).expect_err("gap");
        assert!(e.contains("gap between grades 'Cold' and 'Warm'"), "{e}");
    }

    #[test]
    fn unknown_interaction_type_names_the_line() {
        let e = parse(&GOOD.replace("type = \"pricing_page_visit\"", "type = \"pricing_visit\""))
            .expect_err("type");
        assert!(
            e.starts_with(
                "scoring/m.toml:20: behavior 'pricing': unknown interaction type 'pricing_visit'"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_decay_and_frequency_settings_are_rejected() {
        let e = parse(&GOOD.replace(
            "kind = \"exponential\"\ndays = 30",
            "kind = \"exponential\"",
        ))
        .expect_err("days");
        assert!(e.contains("needs days"), "{e}");
        let e = parse(&GOOD.replace("frequency = \"none\"", "frequency = \"at_least\""))
            .expect_err("count");
        assert!(e.contains("needs count = N"), "{e}");
        let e = parse(&GOOD.replace("cap = 3", "cap = 0")).expect_err("cap");
        assert!(e.contains("cap must be at least 1"), "{e}");
        let e = parse(&GOOD.replace("min_consent = \"marketing\"", "min_consent = \"opt_in\""))
            .expect_err("consent");
        assert!(e.contains("unknown consent level 'opt_in'"), "{e}");
    }

    #[test]
    fn duplicate_rule_names_are_rejected() {
        let e = parse(&GOOD.replace("name = \"quiet\"", "name = \"vp\"")).expect_err("dup");
        assert!(e.contains("duplicate rule name 'vp'"), "{e}");
    }
}
