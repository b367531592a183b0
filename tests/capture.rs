//! Duplicate detection through the binary: the plan of `lead_duplicates` (equality
//! joins only) and its precision and recall on planted duplicates. The capture
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

#[test]
fn lead_duplicates_pairs_leads_by_rule_without_comparing_all_pairs() {
    let check = csv("SELECT count(*) AS pairs, \
           count(*) FILTER (WHERE d.lead_id >= d.duplicate_id) AS unordered, \
           count(*) FILTER (WHERE rule = 'same_email' AND normalize_email(a.email) IS DISTINCT FROM normalize_email(b.email)) AS bad_email, \
           count(*) FILTER (WHERE rule LIKE 'similar%' AND (similarity < 0.9 OR name_similarity(concat_ws(' ', a.first_name, a.last_name), concat_ws(' ', b.first_name, b.last_name)) < 0.9)) AS bad_names, \
           count(*) - count(DISTINCT (d.lead_id, d.duplicate_id)) AS repeated \
         FROM lead_duplicates() d JOIN leads a ON a.lead_id = d.lead_id JOIN leads b ON b.lead_id = d.duplicate_id");
    let row = common::first_row_numbers(&check);
    assert!(row[0] > 10, "the sample has repeat leads: {check}");
    assert_eq!(&row[1..], [0, 0, 0, 0], "{check}");
    // A stricter threshold finds fewer similar-name pairs, never more.
    let strict: u64 = csv("SELECT count(*) FROM lead_duplicates(0.97)")
        .lines()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("count");
    assert!(strict < row[0], "{strict} vs {}", row[0]);
    // Blocking: only equality joins in the plan, no all-pairs comparison.
    let plan = csv("EXPLAIN SELECT * FROM lead_duplicates()");
    assert!(plan.contains("HashJoinExec"), "{plan}");
    assert!(
        !plan.contains("NestedLoopJoinExec") && !plan.contains("CrossJoinExec"),
        "{plan}"
    );
    let o = leadql(&["SELECT * FROM lead_duplicates(1.5)"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("min_similarity must be between 0 and 1"));
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
        assert!(r >= 0.9, "{variation} recall {r}: {precision}");
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
    assert!(any >= 0.6, "precision {any}: {by_rule}");

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
