//! The report's HTML page: one self-contained file (inline CSS and SVG, no script, no
//! network), every text that comes from the workspace (lead names, companies, reasons,
//! model, rule and policy names) HTML-escaped.

use std::fmt::Write as _;

use super::charts::{self, palette};
use super::model_figures::{PredictiveFigures, RuleFigures};
use super::recorded_run::{RecordedRun, RunFigures};
use crate::error::Result;

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct Contents {
    /// The policy.
    pub policy: String,
    /// The run described.
    pub run: RecordedRun,
    /// Its figures.
    pub figures: RunFigures,
    /// The predictive models covered.
    pub predictive: Vec<PredictiveFigures>,
    /// The rule models covered.
    pub rules: Vec<RuleFigures>,
}

/// `text` with `& < > " '` escaped, safe in element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An instant as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn instant_text(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| micros.to_string())
}

fn date(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.naive_utc().format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| micros.to_string())
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1}%", v * 100.0))
}

/// A slug usable in an `id` (ASCII letters, digits and `-`).
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0; color: #222; background: #f4f5f7; }
header { background: #1f3b57; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 2px 0; color: #d8e2ec; }
main { padding: 8px 32px 32px; max-width: 1280px; }
nav { margin: 12px 0; }
nav a { margin-right: 14px; color: #1f5fa8; }
section { background: #fff; border-radius: 6px; padding: 8px 20px 16px; margin: 16px 0; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 20px; border-bottom: 1px solid #e3e6ea; padding-bottom: 6px; }
h3 { font-size: 16px; margin: 8px 0 4px; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; flex: 0 1 580px; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: #555; margin: 2px 0 6px; max-width: 560px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { white-space: nowrap; }
.keys { display: block; white-space: nowrap; margin-top: 2px; }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin: 0 4px 0 8px; }
.note { color: #555; font-size: 13px; }
";

fn figure(out: &mut String, chart: &str, model: &str, title: &str, caption: &str, svg: &str) {
    let _ = write!(
        out,
        "<figure class=\"chart\" data-chart=\"{chart}\" data-model=\"{}\"><h3>{}</h3><figcaption>{caption}</figcaption>{svg}</figure>",
        escape(model),
        escape(title)
    );
}

/// Legend keys: a dot of each colour and what it stands for, on a line of their own.
fn keys(items: &[(plotters::style::RGBColor, &str)]) -> String {
    let mut out = String::from("<span class=\"keys\">");
    for (colour, what) in items {
        let _ = write!(
            out,
            "<span class=\"key\" style=\"background:{}\"></span>{what}",
            palette::hex(*colour)
        );
    }
    out.push_str("</span>");
    out
}

/// The report page.
pub fn render(c: &Contents) -> Result<String> {
    let mut out = String::new();
    let title = format!(
        "leadql report — policy '{}' as of {}",
        c.policy,
        instant_text(c.run.as_of)
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(&title)
    );
    let _ = write!(
        out,
        "<header><h1>Lead scoring report</h1><p>Policy <b>{}</b> — the run recorded as of <b>{}</b> (UTC) by <code>leadql run</code></p><p>Models: {}</p><p>Generated by leadql {}</p></header><main>",
        escape(&c.policy),
        instant_text(c.run.as_of),
        escape(if c.run.models.is_empty() {
            "(not recorded)"
        } else {
            &c.run.models
        }),
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("<nav><a href=\"#run\">The run</a><a href=\"#leads\">Top sales-ready leads</a>");
    for p in &c.predictive {
        let _ = write!(
            out,
            "<a href=\"#model-{}\">{}</a>",
            slug(&p.spec),
            escape(p.spec.split('@').next().unwrap_or_default())
        );
    }
    for r in &c.rules {
        let _ = write!(
            out,
            "<a href=\"#rules-{}\">{}</a>",
            slug(&r.name),
            escape(&r.name)
        );
    }
    out.push_str("</nav>");
    run_section(&mut out, c)?;
    leads_section(&mut out, c);
    for p in &c.predictive {
        predictive_section(&mut out, p)?;
    }
    for r in &c.rules {
        rule_section(&mut out, r)?;
    }
    out.push_str("<p class=\"note\">Charts drawn with plotters; every figure comes from leadql's SQL functions (<code>qualification_history</code>, <code>sales_activities</code>, <code>model_evaluation</code>, <code>model_features</code>, <code>backtest</code>, <code>roc_curve</code>, <code>evaluate_scoring</code>, <code>score_breakdown</code>), so each can be rerun in <code>leadql sql</code>.</p></main></body></html>\n");
    Ok(out)
}

fn run_section(out: &mut String, c: &Contents) -> Result<()> {
    let f = &c.figures.funnel;
    out.push_str("<section id=\"run\"><h2>The run</h2><div class=\"grid\">");
    let mut steps = vec![
        (
            "Open leads in the audience".to_string(),
            f.open as f64,
            false,
        ),
        ("Sales-ready".to_string(), f.sales_ready as f64, false),
        ("Newly sales-ready".to_string(), f.newly as f64, false),
        ("Activities created".to_string(), f.activities as f64, false),
        ("Assigned to a seller".to_string(), f.assigned as f64, false),
    ];
    for (reason, n) in &f.unassigned {
        steps.push((format!("Unassigned: {reason}"), *n as f64, true));
    }
    let label_width = steps
        .iter()
        .map(|s| s.0.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 48) as u32
        * 7
        + 20;
    figure(
        out,
        "funnel",
        &c.policy,
        "Sales-ready funnel",
        &format!(
            "Leads open at the run's instant in the policy's audience, those sales-ready (including leads kept sales-ready from earlier runs), those sales-ready for the first time, and the activities the run created for them.{}",
            if f.unassigned.is_empty() {
                String::new()
            } else {
                keys(&[(palette::WARNING, "unassigned, by reason")])
            }
        ),
        &charts::bars(&steps, "Leads / activities", label_width)?,
    );
    for (chart, label, counts) in [
        ("rule-grades", "rule grade", &c.figures.rule_grades),
        (
            "predictive-grades",
            "predictive grade",
            &c.figures.predictive_grades,
        ),
    ] {
        let items: Vec<(String, f64)> = counts
            .counts
            .iter()
            .map(|(g, n)| (g.clone(), *n as f64))
            .collect();
        if items.iter().all(|i| i.0 == "(none)") {
            continue;
        }
        figure(
            out,
            chart,
            &c.policy,
            &format!("Leads per {label}"),
            "Open leads in the policy's audience at the run's instant.",
            &charts::columns(&items, label, "Leads")?,
        );
    }
    out.push_str("</div></section>");
    Ok(())
}

fn leads_section(out: &mut String, c: &Contents) {
    let top = &c.figures.top;
    let _ = write!(
        out,
        "<section id=\"leads\"><h2>Top sales-ready leads</h2><p class=\"note\">The {} best sales-ready leads of the run by predictive score, then rule score.</p>",
        top.len()
    );
    if top.is_empty() {
        out.push_str("<p>No lead was sales-ready at this run.</p></section>");
        return;
    }
    out.push_str("<table><tr><th>lead</th><th>name</th><th>company</th><th>predictive</th><th>rule score</th><th>sales-ready since</th><th>reasons</th></tr>");
    for l in top {
        let grade = |g: &Option<String>| g.as_deref().map(escape).unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{} {}</td><td class=\"n\">{} {}</td><td>{}</td><td>{}</td></tr>",
            l.lead_id,
            escape(&l.name),
            escape(&l.company),
            l.predictive.0.map_or("–".into(), |v| format!("{v:.1}%")),
            grade(&l.predictive.1),
            num(l.rule.0, 1),
            grade(&l.rule.1),
            l.since.map(date).unwrap_or_default(),
            escape(&l.reasons)
        );
    }
    out.push_str("</table></section>");
}

fn predictive_section(out: &mut String, p: &PredictiveFigures) -> Result<()> {
    let metric = |name: &str| p.held_out.iter().find(|m| m.0 == name).and_then(|m| m.1);
    let _ = write!(
        out,
        "<section id=\"model-{}\"><h2>Predictive model {} (version {}, {})</h2>",
        slug(&p.spec),
        escape(p.spec.split('@').next().unwrap_or_default()),
        p.version,
        escape(&p.kind)
    );
    let _ = write!(
        out,
        "<p>Held-out AUC <b>{}</b> on {} rows ({} qualified){}.</p>",
        num(metric("auc"), 3),
        num(metric("rows"), 0),
        num(metric("positives"), 0),
        p.horizon_days
            .map(|h| format!(
                "; the score is the probability that a lead open at an instant is qualified within {h} days"
            ))
            .unwrap_or_default()
    );
    match p.latest {
        None => out.push_str("<p class=\"note\">No backtest: not a point-in-time model, or no instant's outcome is known yet.</p>"),
        Some(latest) => {
            let _ = write!(
                out,
                "<p>At <b>{}</b>, the latest instant whose outcome is known: {} open leads, {} qualified within the horizon (base rate {}), AUC <b>{}</b>.</p><div class=\"grid\">",
                date(latest),
                p.backtest.last().map_or(0, |b| b.leads),
                p.backtest.last().map_or(0, |b| b.converted),
                pct(p.base_rate),
                num(p.auc, 3)
            );
            figure(
                out,
                "roc",
                &p.spec,
                &format!("ROC curve at {} (AUC {})", date(latest), num(p.auc, 3)),
                &format!(
                    "Each point: the leads scored at or above a threshold called positive. {}",
                    keys(&[(palette::MAIN, "model"), (palette::REFERENCE, "random ranking")])
                ),
                &charts::roc(&p.roc)?,
            );
            if let Some(base) = p.base_rate.filter(|b| *b > 0.0) {
                figure(
                    out,
                    "lift",
                    &p.spec,
                    &format!("Lift by decile at {}", date(latest)),
                    &format!(
                        "How many times more often each tenth of the leads converted than all leads. {}",
                    keys(&[(palette::MAIN, "model"), (palette::REFERENCE, "no lift")])
                    ),
                    &charts::lift(&p.deciles, base)?,
                );
            }
            figure(
                out,
                "calibration",
                &p.spec,
                &format!("Calibration by decile at {}", date(latest)),
                &format!(
                    "Mean predicted probability against the share qualified, per tenth of the leads. {}",
                    keys(&[(palette::MAIN, "decile"), (palette::REFERENCE, "perfect calibration")])
                ),
                &charts::calibration(&p.deciles)?,
            );
            figure(
                out,
                "backtest",
                &p.spec,
                "Backtest AUC over time",
                &format!(
                    "Every {} days over two years, the leads open at each instant scored as of it. {}",
                    super::model_figures::BACKTEST_EVERY_DAYS,
                    keys(&[
                        (palette::MAIN, "out of time"),
                        (palette::TRAINING, "outcomes were training data")
                    ])
                ),
                &charts::backtest(&p.backtest)?,
            );
            out.push_str("</div>");
            out.push_str("<h3>Deciles</h3><table><tr><th>decile</th><th>leads</th><th>predicted</th><th>actual</th></tr>");
            for d in &p.deciles {
                let _ = write!(
                    out,
                    "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    d.decile,
                    d.leads,
                    pct(d.predicted),
                    pct(d.actual)
                );
            }
            out.push_str("</table>");
        }
    }
    if !p.features.is_empty() {
        out.push_str(
            "<h3>Top features</h3><table><tr><th>feature</th><th>kind</th><th>weight</th></tr>",
        );
        for (f, k, w) in &p.features {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{w:.3}</td></tr>",
                escape(f),
                escape(k)
            );
        }
        out.push_str("</table><p class=\"note\">Weights of standardised features (logistic regression) or importances (trees), from <code>model_features</code>.</p>");
    }
    out.push_str("</section>");
    Ok(())
}

fn rule_section(out: &mut String, r: &RuleFigures) -> Result<()> {
    let _ = write!(
        out,
        "<section id=\"rules-{}\"><h2>Rule model {}</h2>",
        slug(&r.name),
        escape(&r.name)
    );
    let value = |m: &str| r.evaluation.iter().find(|e| e.metric == m);
    if let Some(a) = value("auc") {
        let _ = write!(
            out,
            "<p>Ranks past outcomes with AUC <b>{}</b> ({} lead snapshots, {} qualified within the horizon; <code>evaluate_scoring</code>).</p>",
            num(a.value, 3),
            a.leads,
            a.converted
        );
    }
    out.push_str("<table><tr><th>metric</th><th>grade</th><th>leads</th><th>qualified</th><th>value</th></tr>");
    for e in &r.evaluation {
        let _ = write!(
            out,
            "<tr><td>{} <code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            metric_label(&e.metric),
            escape(&e.metric),
            e.grade.as_deref().map(escape).unwrap_or_default(),
            e.leads,
            e.converted,
            num(e.value, 3)
        );
    }
    out.push_str("</table>");
    if r.rules.is_empty() {
        out.push_str("<p>No rule fired at the run's instant.</p>");
    } else {
        let items: Vec<(String, f64, bool)> = r
            .rules
            .iter()
            .map(|t| (t.rule.clone(), t.points, false))
            .collect();
        let width = items
            .iter()
            .map(|i| i.0.chars().count())
            .max()
            .unwrap_or(10)
            .clamp(10, 40) as u32
            * 7
            + 20;
        out.push_str("<div class=\"grid\">");
        figure(
            out,
            "rule-points",
            &r.name,
            "Points per rule at the run's instant",
            "Total points each rule gave the run's leads (open, in the policy's audience) at its instant (<code>score_breakdown</code>).",
            &charts::bars(&items, "Points", width)?,
        );
        out.push_str(
            "<div><table><tr><th>rule</th><th>kind</th><th>leads</th><th>points</th></tr>",
        );
        for t in &r.rules {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td></tr>",
                escape(&t.rule),
                escape(&t.kind),
                t.leads,
                t.points
            );
        }
        out.push_str("</table></div></div>");
    }
    out.push_str("</section>");
    Ok(())
}

/// What an `evaluate_scoring` metric means, for readers of the report (the metric's
/// own name is shown beside it).
fn metric_label(metric: &str) -> &'static str {
    match metric {
        "auc" => "AUC: how well scores rank who qualified",
        "conversion_rate" => "Share qualified within the horizon",
        "threshold_current" => "Sales-ready threshold (the model's)",
        "precision_current" => "Precision at the model's threshold",
        "recall_current" => "Recall at the model's threshold",
        "f1_current" => "F1 at the model's threshold",
        "threshold_suggested" => "Threshold that maximises F1",
        "precision_suggested" => "Precision at the suggested threshold",
        "recall_suggested" => "Recall at the suggested threshold",
        "f1_suggested" => "F1 at the suggested threshold",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(escape("Zoë"), "Zoë");
    }

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(slug("conversion@3"), "conversion-3");
    }
}
