//! Duplicate detection through the binary: `lead_duplicates`' pairs and scores, a junk
//! value shared by thousands of leads, and precision and recall on planted duplicates. The capture
//! functions' values, NULLs and errors are pinned in `tests/slt/capture.slt`.

use std::path::Path;
use std::process::{Command, Output};

mod common;

fn leadql(args: &[&str]) -> Output {
    // A copy of the sample, without state a local `leadql run` may have left in it.
    let sample = tempfile::tempdir().expect("tempdir");
    common::copy_sample(sample.path());
    Command::new(env!("CARGO_BIN_EXE_leadql"))
        .env_remove("LEADQL_DATA")
        .arg("--data")
        .arg(sample.path())
        .arg("sql")
        .args(args)
        .output()
        .expect("runs")
}

fn csv(sql: &str) -> String {
    let o = leadql(&["--format", "csv", sql]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A generated workspace of `leads` leads, 5% of them planted duplicates (the sample
/// has none: its people are all different).
fn planted_workspace(leads: &str, seed: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("planted");
    let args = [
        "generate",
        "--leads",
        leads,
        "--seed",
        seed,
        "--duplicates",
        "0.05",
        "-q",
    ];
    at(&ws, &args);
    (tmp, ws)
}

fn count(dir: &Path, sql: &str) -> u64 {
    at(dir, &["sql", "--format", "csv", sql])
        .lines()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("count")
}

#[test]
fn lead_duplicates_scores_each_pair_once_and_a_stricter_threshold_keeps_fewer() {
    let (_tmp, ws) = planted_workspace("2000", "3");
    let check = at(
        &ws,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT count(*) AS pairs, \
               count(*) FILTER (WHERE lead_id >= duplicate_id) AS unordered, \
               count(*) FILTER (WHERE match_score < 0.5 OR match_score > 1) AS out_of_range, \
               count(*) FILTER (WHERE reasons = '') AS no_reason, \
               count(*) - count(DISTINCT (lead_id, duplicate_id)) AS repeated \
             FROM lead_duplicates()",
        ],
    );
    let row = common::first_row_numbers(&check);
    assert!(row[0] > 50, "about 100 planted duplicates: {check}");
    assert_eq!(&row[1..], [0, 0, 0, 0], "{check}");
    let strict = count(&ws, "SELECT count(*) FROM lead_duplicates(0.9)");
    assert!(strict < row[0], "{strict} vs {}", row[0]);
    // The sample's 5,000 leads are 5,000 people.
    assert_eq!(
        csv("SELECT count(*) FROM lead_duplicates()"),
        "count(*)\n0\n"
    );
    let o = leadql(&["SELECT * FROM lead_duplicates(1.5)"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("min_score must be between 0 and 1"));
}

#[test]
fn a_junk_email_shared_by_5000_leads_is_reported_and_pairs_nothing() {
    // 5,000 leads with planted duplicates, plus a copy of each typed with one junk
    // address and its own name: 12.5M pairs if the address were a block like any other.
    let (_tmp, ws) = planted_workspace("5000", "8");
    let ws = ws.as_path();
    let before = count(ws, "SELECT count(*) FROM lead_duplicates()");
    assert!(before > 100, "{before} pairs before the junk");
    let junk = ws.join("leads").join("junk.parquet");
    let copy = format!(
        "COPY (SELECT * REPLACE (lead_id + 1000000 AS lead_id, ' TEST@test.com' AS email, \
         concat('First', lead_id) AS first_name, concat('Last', lead_id) AS last_name, \
         CAST(NULL AS VARCHAR) AS phone) FROM leads) TO '{}' STORED AS PARQUET",
        junk.display()
    );
    at(ws, &["sql", &copy]);
    let o = common::leadql_in(
        ws,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT count(*) AS pairs, count(*) FILTER (WHERE duplicate_id > 1000000) AS junk FROM lead_duplicates()",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "the email \"test@test.com\" is shared by 5000 leads (more than max_block 100)"
        ),
        "{err}"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.lines().nth(1),
        Some(format!("{before},0").as_str()),
        "{out}"
    );
}

fn at(dir: &Path, args: &[&str]) -> String {
    let o = common::leadql_in(dir, args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The value of `column` in the row whose first cell is `key`, from CSV text.
fn cell(csv: &str, key: &str, column: &str) -> f64 {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let i = header.iter().position(|h| *h == column).expect("column");
    let row = lines
        .find(|l| l.split(',').next() == Some(key))
        .unwrap_or_else(|| panic!("no row {key} in {csv}"));
    row.split(',')
        .nth(i)
        .expect("cell")
        .parse()
        .expect("number")
}

#[test]
fn planted_duplicates_are_found_with_measured_precision_and_recall() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("dups");
    let w = ws.to_str().expect("utf-8");
    let generate = [
        "generate",
        "--leads",
        "4000",
        "--seed",
        "11",
        "--duplicates",
        "0.05",
        "-q",
    ];
    Command::new(env!("CARGO_BIN_EXE_leadql"))
        .args(["--data", w])
        .args(generate)
        .output()
        .expect("generates");
    let planted = at(
        &ws,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT count(*) AS n, count(DISTINCT variation) AS kinds, min(duplicate_of < lead_id) AS earlier FROM planted_duplicates",
        ],
    );
    let n = cell(&format!("k,{}", planted.replace('\n', "\nk,")), "k", "n");
    assert!(
        (150.0..250.0).contains(&n),
        "about 5% of 4000 leads planted: {planted}"
    );
    assert!(planted.ends_with(",4,true\n"), "{planted}");

    let quality = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/duplicates/quality.sql");
    let q = quality.to_str().expect("utf-8");
    let precision = at(&ws, &["sql", "--format", "csv", "-f", q]);
    // The last statement's result is written: recall per variation.
    let recall = cell(&precision, "all true pairs", "recall");
    assert!(recall >= 0.95, "recall {recall}: {precision}");
    assert_eq!(cell(&precision, "same_email", "recall"), 1.0, "{precision}");
    for variation in ["same_phone", "name_company", "name_domain"] {
        let r = cell(&precision, variation, "recall");
        assert!(r >= 0.85, "{variation} recall {r}: {precision}");
    }
    // Precision, from the first statement alone.
    let text = std::fs::read_to_string(&quality).expect("sql");
    let first_select = text
        .split(';')
        .find(|s| {
            s.trim_start_matches(|c: char| c.is_whitespace())
                .lines()
                .any(|l| l.starts_with("SELECT f.rule"))
        })
        .expect("precision query");
    let views: String = text.split(';').take(2).map(|s| format!("{s};")).collect();
    let by_rule_sql = tmp.path().join("by_rule.sql");
    std::fs::write(&by_rule_sql, format!("{views}{first_select}")).expect("write");
    let by_rule = at(
        &ws,
        &[
            "sql",
            "--format",
            "csv",
            "-f",
            by_rule_sql.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(cell(&by_rule, "same_phone", "precision"), 1.0, "{by_rule}");
    let any = cell(&by_rule, "any rule", "precision");
    assert!(any >= 0.95, "precision {any}: {by_rule}");

    // The same seed plants the same duplicates.
    let again = tmp.path().join("again");
    Command::new(env!("CARGO_BIN_EXE_leadql"))
        .args(["--data", again.to_str().expect("utf-8")])
        .args(generate)
        .output()
        .expect("generates");
    let list = "SELECT * FROM planted_duplicates ORDER BY lead_id";
    assert_eq!(
        at(&ws, &["sql", "--format", "csv", list]),
        at(&again, &["sql", "--format", "csv", list])
    );
}
