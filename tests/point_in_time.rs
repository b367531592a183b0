//! Point in time: snapshot labels, features that read nothing at or after their
//! instant, training and serving on the same features, backtests with a hand-computed
//! AUC, and `leadql run --as-of T` ignoring everything that happened from T on.

use std::fs;
use std::path::Path;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use leadql::catalog::Workspace;
use leadql::schema;
use leadql::session::{self, SessionOptions};

mod common;

use common::tables::{ids, micros, rows, texts, times, write, write_part};

const VISITS: &str = r#"
sales_ready = 3

[[behavior]]
name = "visits"
type = "web_visit"
points = 1

[[grade]]
name = "Low"
max = 2

[[grade]]
name = "High"
min = 2
"#;

/// Six leads whose lifecycles cover every snapshot case (see the comments), web
/// visits before 2026-02-01, and a rule model scoring one point per visit.
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let jan = "2026-01-01 00:00:00";
    write(
        d,
        &schema::LEADS,
        6,
        vec![
            ("lead_id", ids(&[1, 2, 3, 4, 5, 6])),
            (
                "created_at",
                times(&[jan, jan, jan, jan, "2026-02-15 00:00:00", jan]),
            ),
            (
                "status",
                texts(&[
                    "qualified",
                    "disqualified",
                    "qualified",
                    "qualified",
                    "open",
                    "open",
                ]),
            ),
        ],
    );
    // 1: qualified 02-15. 2: disqualified 02-10. 3: disqualified 01-20, reopened
    // 02-20, qualified 03-10. 4: qualified 04-15. 5: created 02-15. 6: never closed.
    let events = [
        (1, 1, jan, "open"),
        (2, 1, "2026-02-15 00:00:00", "qualified"),
        (3, 2, jan, "open"),
        (4, 2, "2026-02-10 00:00:00", "disqualified"),
        (5, 3, jan, "open"),
        (6, 3, "2026-01-20 00:00:00", "disqualified"),
        (7, 3, "2026-02-20 00:00:00", "open"),
        (8, 3, "2026-03-10 00:00:00", "qualified"),
        (9, 4, jan, "open"),
        (10, 4, "2026-04-15 00:00:00", "qualified"),
        (11, 5, "2026-02-15 00:00:00", "open"),
        (12, 6, jan, "open"),
    ];
    write(
        d,
        &schema::LEAD_STATUS_EVENTS,
        events.len(),
        vec![
            ("event_id", ids(&events.map(|e| e.0))),
            ("lead_id", ids(&events.map(|e| e.1))),
            ("occurred_at", times(&events.map(|e| e.2))),
            ("status", texts(&events.map(|e| e.3))),
        ],
    );
    // Visits before 2026-02-01: lead 1 two, lead 2 one, lead 4 three, lead 6 none;
    // lead 1's visit at 02-01 00:00:00 itself is not before that instant.
    let visits = [
        (1, 1, "2026-01-10 00:00:00"),
        (2, 1, "2026-01-20 00:00:00"),
        (3, 1, "2026-02-01 00:00:00"),
        (4, 2, "2026-01-12 00:00:00"),
        (5, 4, "2026-01-05 00:00:00"),
        (6, 4, "2026-01-15 00:00:00"),
        (7, 4, "2026-01-25 00:00:00"),
    ];
    write(
        d,
        &schema::INTERACTIONS,
        visits.len(),
        vec![
            ("interaction_id", ids(&visits.map(|v| v.0))),
            ("lead_id", ids(&visits.map(|v| v.1))),
            ("occurred_at", times(&visits.map(|v| v.2))),
            ("type", texts(&["web_visit"; 7])),
            ("channel", texts(&["web"; 7])),
        ],
    );
    fs::create_dir_all(d.join("scoring")).expect("mkdir");
    fs::write(d.join("scoring/visits.toml"), VISITS).expect("model");
    fs::write(
        d.join("workspace.toml"),
        "[workspace]\nas_of = \"2026-06-30 00:00:00\"\n",
    )
    .expect("workspace.toml");
    tmp
}

async fn context(ws: &Workspace) -> SessionContext {
    session::open(ws, &SessionOptions::default())
        .await
        .expect("session")
}

async fn text(ctx: &SessionContext, sql: &str) -> String {
    pretty_format_batches(&rows(ctx, sql).await)
        .expect("format")
        .to_string()
}

/// `(lead_id, as_of, label)` rows as text, one per line.
async fn snapshots(ctx: &SessionContext, call: &str) -> Vec<String> {
    let t = text(
        ctx,
        &format!(
            "SELECT lead_id || ' ' || CAST(CAST(as_of AS DATE) AS VARCHAR) || ' ' || coalesce(CAST(label AS VARCHAR), 'unknown') AS r \
             FROM {call} ORDER BY as_of, lead_id"
        ),
    )
    .await;
    t.lines()
        .filter(|l| l.starts_with("| ") && !l.contains(" r "))
        .map(|l| l.trim_matches(|c| c == '|' || c == ' ').to_string())
        .collect()
}

#[tokio::test]
async fn snapshot_labels_follow_the_lifecycle_log() {
    let tmp = workspace();
    let ws = Workspace::open(tmp.path()).expect("workspace");
    let ctx = context(&ws).await;
    // Instants 2026-02-01 and 2026-03-01 (back from `to` every 28 days), horizon 30.
    let got = snapshots(
        &ctx,
        "lead_snapshots(TIMESTAMP '2026-02-01 00:00:00', TIMESTAMP '2026-03-01 00:00:00', 28, 30)",
    )
    .await;
    assert_eq!(
        got,
        [
            "1 2026-02-01 true",  // qualified 02-15, within the horizon
            "2 2026-02-01 false", // disqualified within the horizon: a negative
            "4 2026-02-01 false", // qualified 04-15, after the horizon
            "6 2026-02-01 false", // never closed
            "3 2026-03-01 true",  // reopened 02-20: open again, qualified 03-10
            "4 2026-03-01 false",
            "5 2026-03-01 false", // created 02-15: not open at 02-01
            "6 2026-03-01 false",
        ]
    );
    // A horizon that ends after the workspace's as_of (06-30): outcome unknown.
    let got = snapshots(
        &ctx,
        "lead_snapshots(TIMESTAMP '2026-06-15 00:00:00', TIMESTAMP '2026-06-15 00:00:00', 1, 30)",
    )
    .await;
    assert_eq!(got, ["5 2026-06-15 unknown", "6 2026-06-15 unknown"]);
}

#[tokio::test]
async fn features_count_only_interactions_strictly_before_the_instant() {
    let tmp = workspace();
    let ws = Workspace::open(tmp.path()).expect("workspace");
    let ctx = context(&ws).await;
    let t = text(
        &ctx,
        "SELECT lead_id, web_visit_7d, web_visit_30d, days_since_web_visit, days_since_last_interaction, age_days, visits_score \
         FROM lead_snapshot_features(TIMESTAMP '2026-02-01 00:00:00', TIMESTAMP '2026-02-01 00:00:00', 1, 30) ORDER BY lead_id",
    )
    .await;
    // Lead 1: visits 22 and 12 days before (the one at the instant does not count);
    // lead 6: none (recency 1000 = never).
    let expected = "\
+---------+--------------+---------------+----------------------+-----------------------------+----------+--------------+
| lead_id | web_visit_7d | web_visit_30d | days_since_web_visit | days_since_last_interaction | age_days | visits_score |
+---------+--------------+---------------+----------------------+-----------------------------+----------+--------------+
| 1       | 0            | 2             | 12.0                 | 12.0                        | 31.0     | 2.0          |
| 2       | 0            | 1             | 20.0                 | 20.0                        | 31.0     | 1.0          |
| 4       | 1            | 3             | 7.0                  | 7.0                         | 31.0     | 3.0          |
| 6       | 0            | 0             | 1000.0               | 1000.0                      | 31.0     | 0.0          |
+---------+--------------+---------------+----------------------+-----------------------------+----------+--------------+";
    assert_eq!(t, expected);
}

const AT_T: &str = "SELECT * EXCLUDE (label) FROM lead_snapshot_features(TIMESTAMP '2026-02-01 00:00:00', TIMESTAMP '2026-02-01 00:00:00', 1, 30) ORDER BY lead_id";

#[tokio::test]
async fn adding_interactions_after_the_instant_changes_no_feature() {
    let tmp = workspace();
    let before = {
        let ws = Workspace::open(tmp.path()).expect("workspace");
        text(&context(&ws).await, AT_T).await
    };
    // Interactions at and after T for every open lead, a lead created after T and a
    // status change after T.
    write_part(
        tmp.path(),
        &schema::INTERACTIONS,
        "part-1.parquet",
        4,
        vec![
            ("interaction_id", ids(&[101, 102, 103, 104])),
            ("lead_id", ids(&[1, 2, 4, 6])),
            (
                "occurred_at",
                times(&[
                    "2026-02-01 00:00:00",
                    "2026-02-01 00:00:01",
                    "2026-03-01 00:00:00",
                    "2026-02-05 00:00:00",
                ]),
            ),
            (
                "type",
                texts(&[
                    "pricing_page_visit",
                    "web_visit",
                    "form_submit",
                    "email_click",
                ]),
            ),
            ("channel", texts(&["web", "web", "web", "email"])),
        ],
    );
    write_part(
        tmp.path(),
        &schema::LEADS,
        "part-1.parquet",
        1,
        vec![
            ("lead_id", ids(&[7])),
            ("created_at", times(&["2026-02-02 00:00:00"])),
            ("status", texts(&["open"])),
        ],
    );
    write_part(
        tmp.path(),
        &schema::LEAD_STATUS_EVENTS,
        "part-1.parquet",
        2,
        vec![
            ("event_id", ids(&[13, 14])),
            ("lead_id", ids(&[7, 6])),
            (
                "occurred_at",
                times(&["2026-02-02 00:00:00", "2026-02-03 00:00:00"]),
            ),
            ("status", texts(&["open", "qualified"])),
        ],
    );
    let ws = Workspace::open(tmp.path()).expect("workspace");
    let ctx = context(&ws).await;
    assert_eq!(text(&ctx, AT_T).await, before);
    // The later interactions do count at a later instant, for leads still open then:
    // lead 4's form (03-01) at 03-02; leads 1 and 6 were qualified by then.
    let later = text(
        &ctx,
        "SELECT sum(pricing_page_visit_30d + form_submit_30d + email_click_30d) AS n \
         FROM lead_snapshot_features(TIMESTAMP '2026-03-02 00:00:00', TIMESTAMP '2026-03-02 00:00:00', 1, 30)",
    )
    .await;
    assert!(later.contains("| 1 |"), "{later}");
}

#[tokio::test]
async fn backtest_of_a_rule_model_matches_a_hand_computed_auc() {
    let tmp = workspace();
    let ws = Workspace::open(tmp.path()).expect("workspace");
    let ctx = context(&ws).await;
    let t = text(
        &ctx,
        "SELECT segment, leads, converted, round(conversion_rate, 4) AS rate, round(auc, 4) AS auc, in_training_period \
         FROM backtest('visits', TIMESTAMP '2026-02-01 00:00:00', TIMESTAMP '2026-02-01 00:00:00', 1, 30) \
         WHERE segment IN ('all', 'top 5%', 'grade High', 'grade Low') ORDER BY segment",
    )
    .await;
    // Open at 02-01: leads 1 (converted, score 2), 2 (1), 4 (3) and 6 (0). The
    // converted lead outranks two of the three others: AUC 2/3. Top 5% = one lead
    // (4, not converted); High = scores >= 2: leads 1 and 4.
    let expected = "\
+------------+-------+-----------+------+--------+--------------------+
| segment    | leads | converted | rate | auc    | in_training_period |
+------------+-------+-----------+------+--------+--------------------+
| all        | 4     | 1         | 0.25 | 0.6667 | false              |
| grade High | 2     | 1         | 0.5  |        | false              |
| grade Low  | 2     | 0         | 0.0  |        | false              |
| top 5%     | 1     | 0         | 0.0  |        | false              |
+------------+-------+-----------+------+--------+--------------------+";
    assert_eq!(t, expected);
    // Instants whose outcome is not known by the workspace's as_of are left out.
    let none = rows(
        &ctx,
        "SELECT * FROM backtest('visits', TIMESTAMP '2026-06-15 00:00:00', TIMESTAMP '2026-06-15 00:00:00', 1, 30)",
    )
    .await;
    assert_eq!(none.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    let err = ctx
        .sql("SELECT * FROM backtest('nope', NULL, NULL, 30)")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("'nope' is neither a rule model"), "{err}");
}

#[tokio::test]
async fn evaluate_scoring_pools_snapshots_scored_at_their_instant() {
    let tmp = workspace();
    let ws = Workspace::open(tmp.path()).expect("workspace");
    let ctx = context(&ws).await;
    let t = text(
        &ctx,
        "SELECT metric, grade, leads, converted, round(value, 4) AS value \
         FROM evaluate_scoring('visits', TIMESTAMP '2026-02-01 00:00:00', TIMESTAMP '2026-02-01 00:00:00', 1, 30) \
         WHERE metric IN ('auc', 'conversion_rate', 'threshold_current', 'precision_current', 'threshold_suggested', 'f1_suggested') \
         ORDER BY metric, grade",
    )
    .await;
    // The open leads of the backtest above: scores 2 (converted), 1, 3, 0. The model's
    // sales_ready 3 selects lead 4 only (precision 0); F1 is best from score 2 (leads 1
    // and 4: precision 1/2, recall 1, F1 2/3).
    let expected = "\
+---------------------+-------+-------+-----------+--------+
| metric              | grade | leads | converted | value  |
+---------------------+-------+-------+-----------+--------+
| auc                 |       | 4     | 1         | 0.6667 |
| conversion_rate     | High  | 2     | 1         | 0.5    |
| conversion_rate     | Low   | 2     | 0         | 0.0    |
| f1_suggested        |       | 2     | 1         | 0.6667 |
| precision_current   |       | 1     | 0         | 0.0    |
| threshold_current   |       | 1     | 0         | 3.0    |
| threshold_suggested |       | 2     | 1         | 2.0    |
+---------------------+-------+-------+-----------+--------+";
    assert_eq!(t, expected);
}

#[tokio::test]
async fn training_rows_have_the_features_serving_computes_at_their_instant() {
    let tmp = common::sample_copy();
    // Training at the workspace's as_of (2026-06-30): its latest snapshot instant is
    // the as_of minus the 90-day horizon.
    let tk = "2026-04-01 00:00:00";
    let training = {
        let ws = Workspace::open(tmp.path()).expect("workspace");
        let ctx = context(&ws).await;
        text(
            &ctx,
            &format!(
                "SELECT * EXCLUDE (label) FROM lead_snapshot_features(NULL, NULL, 30, 90) \
                 WHERE as_of = TIMESTAMP '{tk}' ORDER BY lead_id"
            ),
        )
        .await
    };
    // Serving at that instant, in a session that knows only what existed before it
    // (what `leadql run --as-of` scores with).
    let ws = Workspace::open(tmp.path())
        .expect("workspace")
        .known_at(micros(tk))
        .expect("known at");
    let ctx = context(&ws).await;
    let serving = text(
        &ctx,
        &format!(
            "SELECT * EXCLUDE (label) FROM lead_snapshot_features(TIMESTAMP '{tk}', TIMESTAMP '{tk}', 1, 90) ORDER BY lead_id"
        ),
    )
    .await;
    assert!(
        training.lines().count() > 500,
        "{}",
        training.lines().count()
    );
    assert_eq!(training, serving);
}

#[tokio::test]
async fn max_rows_keeps_the_same_sample_of_known_snapshots() {
    let tmp = common::sample_copy();
    let ws = Workspace::open(tmp.path()).expect("workspace");
    let ctx = context(&ws).await;
    let q = "SELECT count(*) AS n, count(label) AS known, sum(lead_id * 7 + CAST(as_of AS BIGINT) % 1000) AS sig \
             FROM lead_snapshot_features(NULL, NULL, 30, 90, 3000)";
    let first = text(&ctx, q).await;
    assert_eq!(text(&ctx, q).await, first, "the sample is deterministic");
    let counts = rows(
        &ctx,
        "SELECT count(*), count(label) FROM lead_snapshot_features(NULL, NULL, 30, 90, 3000)",
    )
    .await;
    let n = datafusion::arrow::compute::cast(
        counts[0].column(0),
        &datafusion::arrow::datatypes::DataType::Int64,
    )
    .expect("cast");
    let n = n
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .expect("ints")
        .value(0);
    // 11,842 known snapshots sampled to about 3,000.
    assert!((2700..=3300).contains(&n), "{n}");
    assert!(
        first.contains(&format!("| {n} ")),
        "every sampled row has a known label: {first}"
    );
    let err = ctx
        .sql("SELECT * FROM lead_snapshot_features(NULL, NULL, 30, 90, 0)")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("max_rows must be a positive whole number"),
        "{err}"
    );
}

fn leadql(ws: &Path, args: &[&str]) -> String {
    let out = common::leadql_in(ws, args);
    assert!(
        out.status.success(),
        "leadql {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Everything a run at `t` wrote: its tables as CSV and its model's fitted numbers.
fn run_outputs(ws: &Path, t: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_path_buf();
    let summary = leadql(ws, &["--as-of", t, "run", "--out", &out.to_string_lossy()]);
    assert!(summary.contains("trained now"), "{summary}");
    let mut all = Vec::new();
    for (table, keys) in [
        ("qualification", "lead_id"),
        ("lead_grades", "lead_id"),
        ("lead_scores", "lead_id, model"),
        ("sales_activities", "activity_id"),
    ] {
        let path = out.join(format!("{table}.parquet"));
        all.push(leadql(
            ws,
            &[
                "sql",
                "--format",
                "csv",
                "--max-rows",
                "0",
                &format!("SELECT * FROM '{}' ORDER BY {keys}", path.display()),
            ],
        ));
    }
    let model: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(ws.join("models/conversion/v1.json")).expect("model file"),
    )
    .expect("json");
    for key in [
        "pipeline",
        "estimator",
        "evaluation",
        "training_rows",
        "known_until",
        "trained_through",
    ] {
        all.push(format!("{key}: {}", model[key]));
    }
    all
}

#[test]
fn a_run_as_of_t_ignores_leads_interactions_and_outcomes_from_t_on() {
    let t = "2025-12-31 00:00:00";
    let plain = common::sample_copy();
    let planted = common::sample_copy();
    let p = planted.path();
    // From T on: a new lead, interactions of open leads, and qualifications.
    write_part(
        p,
        &schema::LEADS,
        "planted.parquet",
        1,
        vec![
            ("lead_id", ids(&[900_001])),
            ("created_at", times(&["2026-01-05 00:00:00"])),
            ("status", texts(&["open"])),
            ("consent", texts(&["full"])),
        ],
    );
    let open = leadql(
        p,
        &[
            "--as-of",
            t,
            "sql",
            "--format",
            "csv",
            "SELECT lead_id FROM lead_snapshots(TIMESTAMP '2025-12-31 00:00:00', TIMESTAMP '2025-12-31 00:00:00', 1, 90) ORDER BY lead_id LIMIT 40",
        ],
    );
    let open: Vec<i64> = open
        .lines()
        .skip(1)
        .map(|l| l.trim().parse().expect("id"))
        .collect();
    assert_eq!(open.len(), 40);
    let n = open.len();
    let planted_ids = ids(&(0..n as i64).map(|i| 900_000 + i).collect::<Vec<_>>());
    write_part(
        p,
        &schema::INTERACTIONS,
        "planted.parquet",
        n,
        vec![
            ("interaction_id", planted_ids.clone()),
            ("lead_id", ids(&open)),
            ("occurred_at", times(&vec!["2025-12-31 00:00:00"; n])),
            ("type", texts(&vec!["pricing_page_visit"; n])),
            ("channel", texts(&vec!["web"; n])),
        ],
    );
    write_part(
        p,
        &schema::LEAD_STATUS_EVENTS,
        "planted.parquet",
        n,
        vec![
            ("event_id", planted_ids),
            ("lead_id", ids(&open)),
            ("occurred_at", times(&vec!["2026-01-02 00:00:00"; n])),
            ("status", texts(&vec!["qualified"; n])),
        ],
    );
    let a = run_outputs(plain.path(), t);
    let b = run_outputs(p, t);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    // The planted outcomes exist: a run that knows them sees them.
    let seen = leadql(
        p,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT count(*) FROM lead_status_events WHERE event_id >= 900000",
        ],
    );
    assert!(seen.contains("\n40"), "{seen}");
}

#[test]
fn versions_are_named_pinned_and_rolled_back() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().to_path_buf();
    leadql(
        ws,
        &[
            "--as-of",
            "2025-12-31 00:00:00",
            "run",
            "--out",
            &out.to_string_lossy(),
        ],
    );
    let summary = leadql(ws, &["run", "--out", &out.to_string_lossy()]);
    assert!(summary.contains("conversion v2"), "{summary}");
    assert!(summary.contains("backtest at "), "{summary}");
    // Reasons name the recency behind a predictive score.
    assert!(
        summary.contains("(A or better), last ")
            && (summary.contains(" ago") || summary.contains(" today")),
        "{summary}"
    );
    let count = |spec: &str| {
        leadql(
            ws,
            &[
                "sql",
                "--format",
                "csv",
                &format!("SELECT count(*) FROM predict('{spec}')"),
            ],
        )
    };
    assert_eq!(count("conversion@1"), count("conversion@2"));
    // Each version keeps the backtest it took when trained: at its training as_of minus
    // the horizon, equal to a fresh backtest of that version there.
    let csv = |query: &str| leadql(ws, &["sql", "--format", "csv", query]);
    for (version, instant) in [(1, "2025-10-02 00:00:00"), (2, "2026-04-01 00:00:00")] {
        let stored = csv(&format!(
            "SELECT as_of, in_training_period, segment, leads, converted, round(auc, 6) AS auc \
             FROM model_backtest('conversion@{version}') ORDER BY segment"
        ));
        let fresh = csv(&format!(
            "SELECT as_of, in_training_period, segment, leads, converted, round(auc, 6) AS auc \
             FROM backtest('conversion@{version}', TIMESTAMP '{instant}', TIMESTAMP '{instant}', 1) \
             ORDER BY segment"
        ));
        assert_eq!(stored.lines().count(), 18, "{stored}");
        assert_eq!(stored, fresh, "version {version}");
        assert!(stored.contains(",false,all,"), "{stored}");
    }
    let listed = csv("SELECT version, round(backtest_auc, 6) FROM show_models() ORDER BY version");
    let all_auc =
        csv("SELECT round(auc, 6) FROM model_backtest('conversion@2') WHERE segment = 'all'");
    assert_eq!(
        listed.lines().nth(2).and_then(|l| l.split(',').nth(1)),
        all_auc.lines().nth(1),
        "{listed}"
    );
    let pinned = leadql(ws, &["model", "activate", "conversion", "1"]);
    assert!(pinned.contains("version 1 is active (pinned)"), "{pinned}");
    let active = leadql(
        ws,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT version FROM show_models() WHERE active",
        ],
    );
    assert_eq!(active.lines().nth(1), Some("1"));
    leadql(ws, &["model", "activate", "conversion", "latest"]);
    let active = leadql(
        ws,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT version FROM show_models() WHERE active",
        ],
    );
    assert_eq!(active.lines().nth(1), Some("2"));
    let bad = common::leadql_in(ws, &["sql", "SELECT * FROM predict('conversion@9')"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("has no version 9 (versions: 1, 2)"), "{err}");
}

/// The publish gate compares both versions on the current data: after a change that
/// moves the outcomes at the gate's instant, the active version is backtested afresh,
/// not read from the backtest it stored on the old data.
#[test]
fn the_publish_gate_backtests_the_active_version_on_the_current_data() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().to_string_lossy().to_string();
    let t = "2025-12-31 00:00:00";
    leadql(ws, &["--as-of", t, "run", "--out", &out]);
    let csv = |query: &str| leadql(ws, &["sql", "--format", "csv", query]);
    let v1 = "backtest('conversion@1', TIMESTAMP '2025-10-02 00:00:00', TIMESTAMP '2025-10-02 00:00:00', 1)";
    let auc = |table: &str| {
        csv(&format!(
            "SELECT round(auc, 3) FROM {table} WHERE segment = 'all'"
        ))
        .lines()
        .nth(1)
        .expect("one row")
        .to_string()
    };
    let stored = auc("model_backtest('conversion@1')");
    assert_eq!(stored, auc(v1));
    // Forty leads open at the gate's instant and never closed turn out to have been
    // qualified soon after it: outcomes at that instant change.
    leadql(
        ws,
        &[
            "lead",
            "qualify",
            "--at",
            "2025-10-20 00:00:00",
            "--query",
            "SELECT s.lead_id FROM lead_snapshots(TIMESTAMP '2025-10-02 00:00:00', \
             TIMESTAMP '2025-10-02 00:00:00', 1, 90) s JOIN leads l ON l.lead_id = s.lead_id \
             WHERE l.status = 'open' ORDER BY s.lead_id LIMIT 40",
        ],
    );
    let fresh = auc(v1);
    assert_ne!(stored, fresh, "the change moves v1's backtest");
    let summary = leadql(ws, &["--as-of", t, "run", "--out", &out]);
    assert!(summary.contains("conversion v2"), "{summary}");
    assert!(
        summary.contains(&format!("active v1's {fresh}")),
        "the gate used v1's figure on the current data ({fresh}), not the stored {stored}:\n{summary}"
    );
}

/// A view over `lead_snapshot_features` computes its pairs once per query: a plan that
/// reads them several times sees one set, and a later query in the same session
/// computes them again from the lifecycle log as it is then.
#[tokio::test]
async fn a_view_over_snapshot_features_computes_its_pairs_per_query() {
    let tmp = workspace();
    let ws = Workspace::open(tmp.path()).expect("workspace");
    let ctx = context(&ws).await;
    rows(
        &ctx,
        "CREATE VIEW open_now AS SELECT * FROM lead_snapshot_features(\
         TIMESTAMP '2026-02-25 00:00:00', TIMESTAMP '2026-02-25 00:00:00', 1, 30)",
    )
    .await;
    let count = "SELECT count(*) AS n, count(DISTINCT a.lead_id) AS d \
                 FROM open_now a JOIN open_now b ON a.lead_id = b.lead_id";
    // Open on 02-25: lead 3 (reopened 02-20), 4, 5 and 6.
    let before = text(&ctx, count).await;
    assert!(before.contains("| 4 | 4 |"), "{before}");
    // The session's lifecycle log gains lead 6's qualification on 02-10.
    let log = rows(
        &ctx,
        "SELECT * FROM lead_status_events UNION ALL \
         SELECT * REPLACE (CAST(13 AS BIGINT) AS event_id, \
           CAST(TIMESTAMP '2026-02-10 00:00:00' AS TIMESTAMP) AS occurred_at, 'qualified' AS status) \
         FROM lead_status_events WHERE event_id = 12",
    )
    .await;
    let table =
        datafusion::datasource::MemTable::try_new(log[0].schema(), vec![log]).expect("table");
    ctx.deregister_table("lead_status_events")
        .expect("deregister");
    ctx.register_table("lead_status_events", std::sync::Arc::new(table))
        .expect("register");
    let after = text(&ctx, count).await;
    assert!(after.contains("| 3 | 3 |"), "{after}");
}

/// At an instant, leads are known as `lead_snapshots` and `--as-of` know them: created
/// and changed strictly before it. At 2026-02-15, lead 1 (qualified at 02-15 itself)
/// is still open and lead 5 (created at 02-15 itself) does not exist yet, for the
/// snapshots, the rule scores and the qualification table alike.
#[tokio::test]
async fn an_instant_knows_only_what_happened_strictly_before_it() {
    let tmp = workspace();
    fs::create_dir_all(tmp.path().join("policies")).expect("mkdir");
    fs::write(
        tmp.path().join("policies/visits.toml"),
        "[scores]\nrule_models = [\"visits\"]\n\n[sales_ready]\ncombine = \"any\"\n\n\
         [[sales_ready.criteria]]\nmodel = \"visits\"\nmin_score = 3\n",
    )
    .expect("policy");
    let ws = Workspace::open(tmp.path()).expect("workspace");
    let ctx = context(&ws).await;
    let at = "TIMESTAMP '2026-02-15 00:00:00'";
    let got = snapshots(&ctx, &format!("lead_snapshots({at}, {at}, 1, 30)")).await;
    assert_eq!(
        got,
        [
            "1 2026-02-15 true", // qualified at the instant itself: known after it
            "4 2026-02-15 false",
            "6 2026-02-15 false",
        ]
    );
    let leads = |sql: String| {
        let ctx = ctx.clone();
        async move {
            text(&ctx, &sql)
                .await
                .lines()
                .filter(|l| l.starts_with("| ") && !l.contains("lead_id"))
                .map(|l| l.trim_matches(|c| c == '|' || c == ' ').to_string())
                .collect::<Vec<_>>()
        }
    };
    let open = ["1", "4", "6"];
    assert_eq!(
        leads(format!(
            "SELECT lead_id FROM qualify_leads('visits', {at}) ORDER BY lead_id"
        ))
        .await,
        open
    );
    // Rule scores cover the leads that exist (the closed lead 2 as well), not lead 5.
    assert_eq!(
        leads(format!(
            "SELECT lead_id FROM score_leads('visits', {at}) ORDER BY lead_id"
        ))
        .await,
        ["1", "2", "3", "4", "6"]
    );
    // The workspace opened as of the same instant agrees.
    let before = Workspace::open(tmp.path())
        .expect("workspace")
        .known_at(micros("2026-02-15 00:00:00"))
        .expect("known at");
    let ctx = context(&before).await;
    let status = text(
        &ctx,
        "SELECT string_agg(lead_id || ':' || status, ' ' ORDER BY lead_id) AS s FROM lead_status",
    )
    .await;
    assert!(
        status.contains("1:open 2:disqualified 3:disqualified 4:open 6:open"),
        "{status}"
    );
}
