//! `leadql report` and `leadql run --report` end to end: the page a run writes on a
//! copy of the sample opens in headless Chromium without console errors, and each
//! chart's SVG (as the browser parsed it) has as many series and points as the data
//! behind it, computed here separately with leadql's SQL functions. Bad arguments get
//! errors naming them.
//!
//! Chromium is Debian's `chromium` package (`/usr/bin/chromium`, or `$LEADQL_CHROMIUM`),
//! which `scripts/test` installs.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{leadql_in, sample_copy, succeeded};

/// The chart colours (`leadql::report::charts::palette`).
const MAIN: &str = "#1F5FA8";
const REFERENCE: &str = "#999999";
const TRAINING: &str = "#E08A1E";
const WARNING: &str = "#C0392B";

fn chromium() -> PathBuf {
    let path = std::env::var_os("LEADQL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "{} not found: the report test needs headless Chromium (Debian package `chromium`; \
         scripts/test installs it, or set LEADQL_CHROMIUM)",
        path.display()
    );
    path
}

/// Runs headless Chromium on `page` with `args`; returns (stdout, stderr). Killed
/// after two minutes.
fn headless(page: &Path, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read both pipes while waiting, so a full pipe cannot block the browser.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).ok();
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "chromium did not finish within 2 minutes on {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        out.join().expect("stdout reader"),
        err.join().expect("stderr reader"),
    )
}

/// Console messages and uncaught errors Chromium logged.
fn console_messages(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

/// The value of attribute `name` in the start tag `tag`.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The start tags `<element …>` in `html`.
fn tags<'a>(html: &'a str, element: &str) -> Vec<&'a str> {
    let open = format!("<{element} ");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let end = rest[i..].find('>').map_or(rest.len(), |e| i + e + 1);
        out.push(&rest[i..end]);
        rest = &rest[end..];
    }
    out
}

/// One chart of the page: its kind, model and SVG.
#[derive(Debug)]
struct Chart<'a> {
    kind: &'a str,
    model: &'a str,
    svg: &'a str,
}

impl Chart<'_> {
    /// `<polyline>`s drawn in `colour`, each as its number of points.
    fn lines(&self, colour: &str) -> Vec<usize> {
        tags(self.svg, "polyline")
            .into_iter()
            .filter(|t| attribute(t, "stroke") == Some(colour))
            .map(|t| {
                attribute(t, "points")
                    .unwrap_or_default()
                    .split_whitespace()
                    .count()
            })
            .collect()
    }

    fn count(&self, element: &str, colour: &str) -> usize {
        tags(self.svg, element)
            .into_iter()
            .filter(|t| attribute(t, "fill") == Some(colour))
            .count()
    }
}

fn charts(dom: &str) -> Vec<Chart<'_>> {
    let mut out = Vec::new();
    for part in dom.split("<figure").skip(1) {
        let head = &part[..part.find('>').unwrap_or(part.len())];
        if attribute(head, "class") != Some("chart") {
            continue;
        }
        let body = &part[..part.find("</figure>").expect("figure closed")];
        let svg_start = body.find("<svg").expect("an svg in every chart");
        out.push(Chart {
            kind: attribute(head, "data-chart").expect("data-chart"),
            model: attribute(head, "data-model").expect("data-model"),
            svg: &body[svg_start..],
        });
    }
    out
}

/// The rows of a CSV query result in workspace `ws` (as known at `as_of`, if given).
fn query(ws: &Path, as_of: Option<&str>, sql: &str) -> Vec<Vec<String>> {
    let mut args = Vec::new();
    if let Some(t) = as_of {
        args.extend(["--as-of", t]);
    }
    args.extend(["sql", "--format", "csv", sql]);
    let out = succeeded(&leadql_in(ws, &args));
    out.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn number(ws: &Path, as_of: Option<&str>, sql: &str) -> usize {
    query(ws, as_of, sql)[0][0].parse().expect("a count")
}

#[test]
fn the_run_report_opens_in_chromium_and_its_charts_match_the_data() {
    let ws = sample_copy();
    let out = tempfile::tempdir().expect("out");
    let summary = succeeded(&leadql_in(
        ws.path(),
        &[
            "run",
            "--out",
            out.path().to_str().expect("utf-8"),
            "--report",
        ],
    ));
    let page = out.path().join("report.html");
    let written = summary
        .lines()
        .find(|l| l.starts_with("Written: "))
        .expect("a Written line");
    assert!(
        written.ends_with(&format!(
            "sales_activities.parquet ({} rows), {}",
            number(
                ws.path(),
                None,
                &format!(
                    "SELECT count(*) FROM '{}'",
                    out.path().join("sales_activities.parquet").display()
                )
            ),
            page.display()
        )),
        "{written}"
    );
    let html = std::fs::read_to_string(&page).expect("report.html");
    // Self-contained: no script, no external resource.
    assert!(!html.contains("<script"), "a script in the page");
    assert!(!html.contains(" src="), "an external resource");
    assert!(
        html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
            .find("http")
            .is_none(),
        "a network address in the page"
    );
    // Every evaluate_scoring metric of each rule model is explained in words.
    for metric in [
        "auc",
        "conversion_rate",
        "threshold_current",
        "f1_current",
        "threshold_suggested",
        "f1_suggested",
    ] {
        assert!(
            html.contains(&format!("<code>{metric}</code>")),
            "metric {metric} missing"
        );
        assert!(
            !html.contains(&format!("<td> <code>{metric}</code>")),
            "metric {metric} has no explanation"
        );
    }

    // The console check works: a page that logs an error is caught.
    let canary = out.path().join("canary.html");
    std::fs::write(
        &canary,
        "<!DOCTYPE html><html><body><script>console.error('canary'); missing();</script></body></html>",
    )
    .expect("canary");
    let (_, stderr) = headless(&canary, &["--dump-dom"]);
    assert_eq!(console_messages(&stderr).len(), 2, "{stderr}");

    let (dom, stderr) = headless(&page, &["--dump-dom"]);
    assert!(
        console_messages(&stderr).is_empty(),
        "console messages: {:?}",
        console_messages(&stderr)
    );
    assert!(
        dom.contains("<h1>Lead scoring report</h1>"),
        "not loaded: {dom:.400}"
    );
    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    let (_, stderr) = headless(
        &page,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1300,6000",
        ],
    );
    assert!(console_messages(&stderr).is_empty(), "{stderr}");
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "screenshot {} has {} bytes",
        screenshot.display(),
        png.len()
    );
    eprintln!("screenshot: {}", screenshot.display());

    // The data behind each chart, in the workspace as the run knew it.
    let ws = ws.path();
    let as_of = query(
        ws,
        None,
        "SELECT CAST(max(as_of) AS VARCHAR) FROM qualification_history",
    )[0][0]
        .replace('T', " ");
    let instant = &as_of[..19];
    let as_of = Some(instant);
    let qualification = out.path().join("qualification.parquet");
    let activities = out.path().join("sales_activities.parquet");
    let charts = charts(&dom);
    let kinds: Vec<(&str, &str)> = charts.iter().map(|c| (c.kind, c.model)).collect();
    let model = charts
        .iter()
        .find(|c| c.kind == "roc")
        .map(|c| c.model)
        .expect("a ROC chart");
    assert!(model.starts_with("conversion@"), "{model}");
    assert_eq!(
        kinds,
        vec![
            ("funnel", "default"),
            ("rule-grades", "default"),
            ("predictive-grades", "default"),
            ("roc", model),
            ("lift", model),
            ("calibration", model),
            ("backtest", model),
            ("rule-points", "engagement"),
            ("rule-points", "fit"),
        ]
    );
    let mut by_kind: HashMap<(&str, &str), &Chart> = HashMap::new();
    for c in &charts {
        by_kind.insert((c.kind, c.model), c);
    }

    // The funnel: five steps, and one bar per reason an activity is unassigned.
    let funnel = by_kind[&("funnel", "default")];
    assert_eq!(funnel.count("rect", MAIN), 5);
    let reasons = number(
        ws,
        as_of,
        &format!(
            "SELECT count(DISTINCT coalesce(unassigned_reason, '')) FROM '{}' WHERE seller_id IS NULL",
            activities.display()
        ),
    );
    assert_eq!(funnel.count("rect", WARNING), reasons);
    // One bar per grade.
    for (kind, column) in [
        ("rule-grades", "rule_grade"),
        ("predictive-grades", "predictive_grade"),
    ] {
        let grades = number(
            ws,
            as_of,
            &format!(
                "SELECT count(DISTINCT coalesce({column}, '(none)')) FROM '{}'",
                qualification.display()
            ),
        );
        assert!(grades > 1, "{kind}: {grades} grades");
        assert_eq!(
            by_kind[&(kind, "default")].count("rect", MAIN),
            grades,
            "{kind}"
        );
    }

    // The model's charts are at the latest instant of its 30-day backtest.
    let backtest = query(
        ws,
        as_of,
        &format!(
            "SELECT CAST(as_of AS VARCHAR) AS instant, auc IS NOT NULL, coalesce(in_training_period, false) \
             FROM backtest('{model}', NULL, NULL, 30) WHERE segment = 'all' ORDER BY instant"
        ),
    );
    assert!(backtest.len() > 10, "{backtest:?}");
    let latest = backtest.last().expect("an instant")[0].replace('T', " ");
    let latest = &latest[..19];
    let roc_points = number(
        ws,
        as_of,
        &format!(
            "SELECT count(*) FROM roc_curve('{model}', TIMESTAMP '{latest}', TIMESTAMP '{latest}', 1) \
             WHERE true_positive_rate IS NOT NULL AND false_positive_rate IS NOT NULL"
        ),
    );
    assert!(roc_points > 100, "{roc_points} ROC points");
    let roc = by_kind[&("roc", model)];
    assert_eq!(roc.lines(MAIN), vec![roc_points]);
    assert_eq!(roc.lines(REFERENCE), vec![2]);

    let deciles = number(
        ws,
        as_of,
        &format!(
            "SELECT count(*) FROM backtest('{model}', TIMESTAMP '{latest}', TIMESTAMP '{latest}', 1) \
             WHERE segment LIKE 'decile %' AND conversion_rate IS NOT NULL AND mean_predicted IS NOT NULL"
        ),
    );
    assert_eq!(deciles, 10);
    let lift = by_kind[&("lift", model)];
    assert_eq!(lift.lines(MAIN), vec![deciles]);
    assert_eq!(lift.count("circle", MAIN), deciles);
    assert_eq!(lift.lines(REFERENCE), vec![2]);
    let calibration = by_kind[&("calibration", model)];
    assert_eq!(calibration.count("circle", MAIN), deciles);
    assert_eq!(calibration.lines(REFERENCE), vec![2]);

    let with_auc: Vec<&Vec<String>> = backtest.iter().filter(|r| r[1] == "true").collect();
    let training = with_auc.iter().filter(|r| r[2] == "true").count();
    let chart = by_kind[&("backtest", model)];
    assert_eq!(chart.lines(MAIN), vec![with_auc.len()]);
    assert_eq!(chart.count("circle", TRAINING), training);
    assert_eq!(chart.count("circle", MAIN), with_auc.len() - training);
    assert!(with_auc.len() > training, "no out-of-time instant");

    // One bar per rule that fired for the run's leads at its instant.
    for rule_model in ["engagement", "fit"] {
        let rules = number(
            ws,
            as_of,
            &format!(
                "SELECT count(DISTINCT rule) FROM score_breakdown('{rule_model}', TIMESTAMP '{instant}') \
                 WHERE lead_id IN (SELECT lead_id FROM '{}')",
                qualification.display()
            ),
        );
        assert!(rules > 3, "{rule_model}: {rules} rules");
        assert_eq!(
            by_kind[&("rule-points", rule_model)].count("rect", MAIN),
            rules,
            "{rule_model}"
        );
    }

    // The top sales-ready leads, best first, with their reasons.
    let top = query(
        ws,
        as_of,
        &format!(
            "SELECT lead_id FROM '{}' WHERE sales_ready \
             ORDER BY predictive_score DESC NULLS LAST, rule_score DESC NULLS LAST, lead_id LIMIT 20",
            qualification.display()
        ),
    );
    let leads = &dom[dom.find("id=\"leads\"").expect("the leads section")..];
    let leads = &leads[..leads.find("</section>").expect("closed")];
    let shown: Vec<String> = leads
        .split("<tr><td class=\"n\">")
        .skip(1)
        .map(|r| r[..r.find('<').expect("cell")].to_string())
        .collect();
    let expected: Vec<String> = top.iter().map(|r| r[0].clone()).collect();
    assert_eq!(shown, expected);
}

#[test]
fn report_arguments_are_checked_and_a_run_is_required() {
    let ws = sample_copy();
    let out = tempfile::tempdir().expect("out");
    let page = out.path().join("r.html");
    let page_arg = page.to_str().expect("utf-8");

    let fails = |args: &[&str], needle: &str| {
        let o = leadql_in(ws.path(), args);
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    };
    // No recorded run yet.
    fails(
        &["report", "--out", page_arg],
        "invalid --policy: the workspace has no run of policy 'default' recorded",
    );
    succeeded(&leadql_in(
        ws.path(),
        &["run", "--out", out.path().to_str().expect("utf-8")],
    ));
    assert!(
        !out.path().join("report.html").exists(),
        "written without --report"
    );
    fails(
        &["report", "--policy", "nope", "--out", page_arg],
        "invalid --policy: unknown policy 'nope'",
    );
    fails(
        &["report", "--model", "nope", "--out", page_arg],
        "invalid --model: 'nope' is neither a rule model (engagement, fit) nor a trained predictive model",
    );
    fails(
        &["report", "--model", "conversion@99", "--out", page_arg],
        "invalid --model: 'conversion@99'",
    );
    fails(
        &["report", "--out", out.path().to_str().expect("utf-8")],
        "invalid --out:",
    );
    let blocked = out.path().join("a-file");
    std::fs::write(&blocked, "not a directory").expect("write");
    fails(
        &[
            "report",
            "--out",
            blocked.join("r.html").to_str().expect("utf-8"),
        ],
        "invalid --out: cannot write the report",
    );
    fails(
        &[
            "--as-of",
            "2020-01-01 00:00:00",
            "report",
            "--out",
            page_arg,
        ],
        "recorded at or before 2020-01-01 00:00:00",
    );
    assert!(!page.exists());
    // Models named: only those sections.
    let o = succeeded(&leadql_in(
        ws.path(),
        &["report", "--model", "fit", "--out", page_arg],
    ));
    assert_eq!(o, format!("Written: {}\n", page.display()));
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(html.contains("id=\"rules-fit\""));
    assert!(!html.contains("id=\"rules-engagement\""));
    assert!(!html.contains("data-chart=\"roc\""));
    // No temporary file is left beside it.
    let left: Vec<String> = std::fs::read_dir(out.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Lead names, companies, reasons and policy names are the workspace's text: the page
/// shows them as text, never as markup.
#[test]
fn text_from_the_workspace_is_escaped_in_the_report() {
    let ws = sample_copy();
    let tmp = tempfile::tempdir().expect("tmp");
    let csv = tmp.path().join("hostile.csv");
    std::fs::write(
        &csv,
        "Email,First Name,Last Name,Company,Country\n\
         hostile@hostile-example.io,<img src=x onerror=alert(1)>,O'Neil & \"Co\",<script>alert(2)</script>,ES\n",
    )
    .expect("csv");
    let o = leadql_in(
        ws.path(),
        &[
            "import",
            "csv",
            csv.to_str().expect("utf-8"),
            "--at",
            "2026-06-29 00:00:00",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(
        ws.path().join("policies/hostile.toml"),
        "description = \"the imported lead only\"\n\
         [scores]\nrule_models = [\"fit\"]\n\
         [audience]\nwhere = \"email LIKE 'hostile@%'\"\n\
         [sales_ready]\ncombine = \"any\"\n\
         [[sales_ready.criteria]]\nmodel = \"fit\"\nmin_score = -1000\n\
         [handoff]\nactivity = \"task\"\n\
         [[handoff.rules]]\nname = \"<b>anyone</b>\"\ndistribution = \"round_robin\"\n",
    )
    .expect("policy");
    let out = tmp.path().join("out");
    succeeded(&leadql_in(
        ws.path(),
        &[
            "run",
            "--policy",
            "hostile",
            "--out",
            out.to_str().expect("utf-8"),
            "--report",
        ],
    ));
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).expect("report");
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt; O&#39;Neil &amp; &quot;Co&quot;"),
        "the name is not shown as text"
    );
    assert!(html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(!html.contains("<img") && !html.contains("<script") && !html.contains("<b>anyone"));
    let (dom, stderr) = headless(&page, &["--dump-dom"]);
    assert!(console_messages(&stderr).is_empty(), "{stderr}");
    assert!(
        !dom.contains("<img") && !dom.contains("<script"),
        "markup in the DOM"
    );
    assert!(dom.contains("<h1>Lead scoring report</h1>"));
}
