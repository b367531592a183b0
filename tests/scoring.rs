//! Rule-based scoring on a small hand-built workspace whose expected scores are worked
//! out in the comments, plus the same functions on the bundled sample.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, Int32Array, Int64Array, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use datafusion::prelude::SessionContext;
use leadql::catalog::Workspace;
use leadql::schema;
use leadql::session::{self, SessionOptions};

mod common;

use common::tables::{ids, micros, rows, texts, times, write};

const MODEL: &str = r#"
sales_ready = 20

[audience]
min_consent = "marketing"

[[fit]]
name = "vp"
when = "seniority = 'vp'"
points = 10

[[fit]]
name = "big_account"
when = "account_employees >= 1000"
points = 5

[[behavior]]
name = "pricing"
type = "pricing_page_visit"
points = 4
cap = 2
window_days = 30

[[behavior]]
name = "opens"
type = "email_open"
points = 8
decay = { kind = "exponential", days = 10 }

[[behavior]]
name = "quiet"
type = "web_visit"
frequency = "none"
points = -3

[[behavior]]
name = "visits"
type = "web_visit"
frequency = "at_least"
count = 3
points = 6
decay = { kind = "linear", days = 20 }

[[grade]]
name = "Low"
max = 10

[[grade]]
name = "Mid"
min = 10
max = 20

[[grade]]
name = "High"
min = 20
"#;

/// Five leads (see each comment) and their interactions; default `as_of` 2026-06-30.
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write(
        d,
        &schema::LEADS,
        5,
        vec![
            ("lead_id", ids(&[1, 2, 3, 4, 5])),
            (
                "created_at",
                times(&[
                    "2026-01-01 00:00:00",
                    "2026-03-01 00:00:00",
                    "2026-03-01 00:00:00",
                    "2026-07-15 00:00:00",
                    "2026-02-01 00:00:00",
                ]),
            ),
            ("source", texts(&["web_form"; 5])),
            ("channel", texts(&["web"; 5])),
            ("seniority", texts(&["vp", "manager", "vp", "vp", "vp"])),
            (
                "account_id",
                Arc::new(Int64Array::from(vec![Some(1), None, None, None, Some(2)])),
            ),
            // Lead 3 only allows transactional contact: outside the audience.
            (
                "consent",
                texts(&["full", "marketing", "transactional", "full", "marketing"]),
            ),
            (
                "status",
                texts(&["qualified", "disqualified", "open", "open", "disqualified"]),
            ),
            (
                "closed_at",
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(micros("2026-06-30 00:00:00")),
                    Some(micros("2026-06-30 00:00:00")),
                    None,
                    None,
                    Some(micros("2026-06-30 00:00:00")),
                ])),
            ),
        ],
    );
    write(
        d,
        &schema::ACCOUNTS,
        2,
        vec![
            ("account_id", ids(&[1, 2])),
            ("name", texts(&["Big Co", "Small Co"])),
            ("domain", texts(&["big.example", "small.example"])),
            ("industry", texts(&["Software", "Retail"])),
            ("employees", Arc::new(Int32Array::from(vec![5000, 50]))),
            ("size_band", texts(&["5001+", "11-50"])),
            ("revenue_band", texts(&["1B+", "1M-10M"])),
            ("country", texts(&["US", "US"])),
            ("territory", texts(&["north_america", "north_america"])),
            ("segment", texts(&["enterprise", "smb"])),
            (
                "is_customer",
                Arc::new(BooleanArray::from(vec![false, false])),
            ),
            (
                "created_at",
                times(&["2020-01-01 00:00:00", "2020-01-01 00:00:00"]),
            ),
        ],
    );
    let events: &[(i64, &str, &str)] = &[
        (1, "pricing_page_visit", "2026-06-29 00:00:00"),
        (1, "pricing_page_visit", "2026-06-25 00:00:00"),
        (1, "pricing_page_visit", "2026-06-20 00:00:00"),
        (1, "pricing_page_visit", "2026-05-01 00:00:00"), // outside the 30-day window
        (1, "pricing_page_visit", "2026-06-30 12:00:00"), // after as_of
        (1, "email_open", "2026-06-20 00:00:00"),
        (1, "web_visit", "2026-06-29 00:00:00"),
        (1, "web_visit", "2026-06-28 00:00:00"),
        (1, "web_visit", "2026-06-20 00:00:00"),
        (5, "email_open", "2026-06-10 00:00:00"),
        (5, "web_visit", "2026-06-01 00:00:00"),
        (5, "web_visit", "2026-06-01 01:00:00"),
        (3, "pricing_page_visit", "2026-06-29 00:00:00"),
    ];
    let n = events.len();
    write(
        d,
        &schema::INTERACTIONS,
        n,
        vec![
            ("interaction_id", ids(&(1..=n as i64).collect::<Vec<_>>())),
            (
                "lead_id",
                ids(&events.iter().map(|e| e.0).collect::<Vec<_>>()),
            ),
            (
                "occurred_at",
                times(&events.iter().map(|e| e.2).collect::<Vec<_>>()),
            ),
            (
                "type",
                texts(&events.iter().map(|e| e.1).collect::<Vec<_>>()),
            ),
            ("channel", texts(&vec!["web"; n])),
        ],
    );
    fs::create_dir_all(d.join("scoring")).expect("mkdir");
    fs::write(d.join("scoring/ref.toml"), MODEL).expect("model");
    fs::write(
        d.join("workspace.toml"),
        "[workspace]\nas_of = \"2026-06-30 00:00:00\"\n",
    )
    .expect("ws");
    tmp
}

async fn context(dir: &Path) -> SessionContext {
    let ws = Workspace::open(dir).expect("workspace opens");
    session::open(&ws, &SessionOptions::default())
        .await
        .expect("session")
}

/// `(lead_id, score, grade, sales_ready)` ordered by lead.
async fn scores(ctx: &SessionContext, call: &str) -> Vec<(i64, f64, String, bool)> {
    let mut out = Vec::new();
    for b in rows(
        ctx,
        &format!("SELECT lead_id, score, grade, sales_ready FROM {call} ORDER BY lead_id"),
    )
    .await
    {
        for i in 0..b.num_rows() {
            out.push((
                b.column(0).as_primitive::<Int64Type>().value(i),
                b.column(1).as_primitive::<Float64Type>().value(i),
                b.column(2).as_string::<i32>().value(i).to_string(),
                b.column(3).as_boolean().value(i),
            ));
        }
    }
    out
}

#[tokio::test]
async fn hand_computed_scores() {
    let ws = workspace();
    let ctx = context(ws.path()).await;
    let got = scores(&ctx, "score_leads('ref')").await;
    // Lead 1: vp 10 + big account 5 + pricing 3 visits in the window capped at 2 × 4 = 8
    //   + one open 10 days old at half-life 10 = 8 × 0.5 = 4
    //   + 3 visits (at_least 3), latest 1 day old, linear over 20 days = 6 × 0.95 = 5.7
    //   = 32.7 → High, sales-ready. The pricing visit after as_of does not count.
    // Lead 2: no interactions: quiet -3 → Low.
    // Lead 3: outside the audience (transactional consent); lead 4: created after as_of.
    // Lead 5: vp 10 + open 20 days old = 8 × 0.25 = 2; 2 visits < 3 → 12 → Mid.
    assert_eq!(
        got,
        vec![
            (1, 32.7, "High".into(), true),
            (2, -3.0, "Low".into(), false),
            (5, 12.0, "Mid".into(), false)
        ]
    );
}

#[tokio::test]
async fn windows_of_different_widths_count_up_to_their_own_edge() {
    // Three windows (60, 15 and 5 days): the plan keeps only interactions some rule can
    // count, grouped by window; each rule must still see exactly its own window, edge
    // included (age <= width).
    let ws = workspace();
    fs::write(
        ws.path().join("scoring/windows.toml"),
        "sales_ready = 10\n\
         [[behavior]]\nname = \"pricing\"\ntype = \"pricing_page_visit\"\npoints = 2\nwindow_days = 60\n\
         [[behavior]]\nname = \"opens\"\ntype = \"email_open\"\npoints = 1\nwindow_days = 15\n\
         [[behavior]]\nname = \"visits\"\ntype = \"web_visit\"\npoints = 1\nwindow_days = 5\n\
         [[grade]]\nname = \"Low\"\nmax = 5\n\
         [[grade]]\nname = \"High\"\nmin = 5\n",
    )
    .expect("model");
    let ctx = context(ws.path()).await;
    let got = scores(&ctx, "score_leads('windows')").await;
    // Lead 1: pricing 06-29, 06-25, 06-20 and 05-01 (exactly 60 days: counted) = 4 × 2;
    //   open 06-20 (10 days) = 1; visits 06-29 and 06-28 (06-20 is 10 days old) = 2 → 11.
    // Lead 3 (no audience here): pricing 06-29 = 2. Lead 5: open 20 days old, visits
    //   29 days old → 0. Lead 2: nothing. Lead 4 is created after as_of.
    assert_eq!(
        got,
        vec![
            (1, 11.0, "High".into(), true),
            (2, 0.0, "Low".into(), false),
            (3, 2.0, "Low".into(), false),
            (5, 0.0, "Low".into(), false)
        ]
    );
}

#[tokio::test]
async fn scoring_as_of_an_earlier_instant_ignores_later_interactions() {
    let ws = workspace();
    let ctx = context(ws.path()).await;
    let got = scores(&ctx, "score_leads('ref', TIMESTAMP '2026-06-21 00:00:00')").await;
    // Lead 1 as of 06-21: only the 06-20 pricing visit (4) and the 06-20 open, one day
    //   old: 8 × 2^(-1/10) = 7.4643; one visit < 3; 10 + 5 + 4 + 7.4643 = 26.4643.
    // Lead 5 as of 06-21: open 11 days old: 8 × 2^(-1.1) = 3.7321; 10 + 3.7321 = 13.7321.
    assert_eq!(
        got,
        vec![
            (1, 26.4643, "High".into(), true),
            (2, -3.0, "Low".into(), false),
            (5, 13.7321, "Mid".into(), false)
        ]
    );
    let as_of = rows(&ctx, "SELECT DISTINCT CAST(as_of AS VARCHAR) FROM score_leads('ref', TIMESTAMP '2026-06-21 00:00:00')").await;
    assert_eq!(
        as_of[0].column(0).as_string_view().value(0),
        "2026-06-21T00:00:00"
    );
}

#[tokio::test]
async fn breakdown_lists_fired_rules_and_sums_to_the_score() {
    let ws = workspace();
    let ctx = context(ws.path()).await;
    let b = rows(&ctx, "SELECT rule, points, occurrences FROM score_breakdown('ref') WHERE lead_id = 1 ORDER BY rule").await;
    let rules: Vec<(String, f64, i64)> = (0..b[0].num_rows())
        .map(|i| {
            (
                b[0].column(0).as_string::<i32>().value(i).to_string(),
                b[0].column(1).as_primitive::<Float64Type>().value(i),
                b[0].column(2).as_primitive::<Int64Type>().value(i),
            )
        })
        .collect();
    assert_eq!(
        rules,
        vec![
            ("big_account".into(), 5.0, 1),
            ("opens".into(), 4.0, 1),
            ("pricing".into(), 8.0, 3),
            ("visits".into(), 5.7, 3),
            ("vp".into(), 10.0, 1),
        ]
    );
    let mismatches = rows(
        &ctx,
        "SELECT count(*) FROM score_leads('ref') s LEFT JOIN \
         (SELECT lead_id, round(sum(points), 4) AS total FROM score_breakdown('ref') GROUP BY lead_id) b USING (lead_id) \
         WHERE coalesce(b.total, 0) <> s.score",
    )
    .await;
    assert_eq!(
        mismatches[0].column(0).as_primitive::<Int64Type>().value(0),
        0
    );
}

#[tokio::test]
async fn lead_grade_matches_the_model_ranges() {
    let ws = workspace();
    let ctx = context(ws.path()).await;
    let b = rows(&ctx, "SELECT lead_grade(9.99, 'ref'), lead_grade(10, 'ref'), lead_grade(20, 'ref'), lead_grade(NULL, 'ref')").await;
    let grade = |c: usize| {
        let col = b[0].column(c);
        if col.is_null(0) {
            None
        } else {
            Some(col.as_string::<i32>().value(0).to_string())
        }
    };
    assert_eq!(
        (grade(0), grade(1), grade(2), grade(3)),
        (
            Some("Low".into()),
            Some("Mid".into()),
            Some("High".into()),
            None
        )
    );
}

async fn error_of(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => match df.collect().await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{sql} should fail"),
        },
    }
}

#[tokio::test]
async fn bad_models_and_calls_give_errors_with_file_and_line() {
    let ws = workspace();
    let d = ws.path();
    let bad = |name: &str, text: String| {
        fs::write(d.join(format!("scoring/{name}.toml")), text).expect("write")
    };
    bad(
        "unknown_field",
        MODEL.replace("points = 10", "points = 10\nweight = 1"),
    );
    bad(
        "overlap",
        MODEL.replace("min = 10\nmax = 20", "min = 5\nmax = 20"),
    );
    bad(
        "bad_sql",
        MODEL.replace("seniority = 'vp'", "seniority = = 'vp'"),
    );
    bad(
        "bad_column",
        MODEL.replace("seniority = 'vp'", "senority = 'vp'"),
    );
    bad(
        "bad_type",
        MODEL.replace("type = \"email_open\"", "type = \"email_opened\""),
    );
    let ctx = context(d).await;
    let cases = [
        (
            "unknown_field",
            "unknown_field.toml:11: unknown field `weight`",
        ),
        ("overlap", "overlap.toml:"),
        (
            "bad_sql",
            "bad_sql.toml:9: invalid SQL predicate in fit rule 'vp'",
        ),
        (
            "bad_column",
            "bad_column.toml:9: invalid SQL predicate in fit rule 'vp' (senority = 'vp')",
        ),
        (
            "bad_type",
            "bad_type.toml:26: behavior 'opens': unknown interaction type 'email_opened'",
        ),
    ];
    for (model, expected) in cases {
        let e = error_of(&ctx, &format!("SELECT * FROM score_leads('{model}')")).await;
        assert!(e.contains(expected), "{model}: {e}");
    }
    let e = error_of(&ctx, "SELECT * FROM score_leads('nope')").await;
    assert!(e.contains("unknown scoring model 'nope' (models: bad_column, bad_sql, bad_type, overlap, ref, unknown_field)"), "{e}");
    let e = error_of(&ctx, "SELECT * FROM score_leads('ref', 'yesterday')").await;
    assert!(
        e.contains("score_leads: argument as_of must be a timestamp"),
        "{e}"
    );
    let e = error_of(&ctx, "SELECT * FROM score_leads(42)").await;
    assert!(e.contains("argument model must be a string literal"), "{e}");
}

#[tokio::test]
async fn sample_models_score_every_lead_consistently() {
    // A copy of the sample, without state a local `leadql run` may have left in it.
    let tmp = tempfile::tempdir().expect("tempdir");
    common::copy_sample(tmp.path());
    let ctx = context(tmp.path()).await;
    for model in ["engagement", "fit"] {
        // Grades and sales_ready agree with lead_grade and the model's threshold, and
        // every breakdown sums to its score.
        let sql = format!(
            "SELECT count(*) AS leads, \
               sum(CASE WHEN grade IS DISTINCT FROM lead_grade(score, '{model}') THEN 1 ELSE 0 END) AS bad_grades, \
               sum(CASE WHEN sales_ready <> (score >= 40) THEN 1 ELSE 0 END) AS bad_ready, \
               sum(CASE WHEN coalesce(b.total, 0) <> s.score THEN 1 ELSE 0 END) AS bad_sums, \
               count(DISTINCT grade) AS grades \
             FROM score_leads('{model}') s LEFT JOIN \
               (SELECT lead_id, round(sum(points), 4) AS total FROM score_breakdown('{model}') GROUP BY lead_id) b USING (lead_id)"
        );
        let b = rows(&ctx, &sql).await;
        let v = |c: usize| b[0].column(c).as_primitive::<Int64Type>().value(0);
        assert!(v(0) > 4000, "{model}: {} leads scored", v(0));
        assert_eq!(
            (v(1), v(2), v(3)),
            (0, 0, 0),
            "{model}: inconsistent grades, readiness or breakdowns"
        );
        assert!(v(4) >= 3, "{model}: only {} grades used", v(4));
    }
}

#[tokio::test]
async fn window_decay_counts_only_the_window_at_full_value() {
    let ws = workspace();
    fs::write(
        ws.path().join("scoring/recent.toml"),
        "sales_ready = 10\n[decay]\nkind = \"window\"\ndays = 5\n\
         [[behavior]]\nname = \"pricing\"\ntype = \"pricing_page_visit\"\npoints = 4\n\
         [[behavior]]\nname = \"opens\"\ntype = \"email_open\"\npoints = 1\nwindow_days = 15\n\
         [[grade]]\nname = \"All\"\n",
    )
    .expect("model");
    let ctx = context(ws.path()).await;
    let got = scores(&ctx, "score_leads('recent')").await;
    // Lead 1: pricing visits on 06-29 and 06-25 are within 5 days of 06-30 (06-20 and
    //   05-01 are not): 2 × 4 = 8; its open on 06-20 is 10 days old, inside the rule's
    //   own 15-day window: + 1 = 9. Lead 3 (transactional) is scored: no audience here,
    //   one pricing visit on 06-29: 4. Lead 5: an open 20 days old, outside: 0.
    assert_eq!(
        got,
        vec![
            (1, 9.0, "All".into(), false),
            (2, 0.0, "All".into(), false),
            (3, 4.0, "All".into(), false),
            (5, 0.0, "All".into(), false),
        ]
    );
}
