//! Predicates in policies and rule models are single expressions: text that would
//! escape its parentheses, or a query that would call the function evaluating it, is
//! an error naming the file, never injected SQL or an endless recursion.

use std::fs;
use std::path::Path;

mod common;

fn failure(ws: &Path, args: &[&str]) -> String {
    let out = common::leadql_in(ws, args);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{from} not in {}", path.display());
    fs::write(path, text.replacen(from, to, 1)).expect("write");
}

#[test]
fn a_policy_audience_cannot_escape_its_parentheses() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    // Checked when the workspace loads: the policy is invalid.
    let e = audience_error(ws, "true) OR (true");
    assert!(e.contains("policy 'default' is invalid: "), "{e}");
    assert!(e.contains("not a single SQL expression"), "{e}");
    let line = line_of(&ws.join("policies/default.toml"), "where = ");
    // `leadql run` refuses the policy the same way.
    let out = tempfile::tempdir().expect("out");
    let e = failure(ws, &["run", "--out", &out.path().to_string_lossy()]);
    assert!(
        e.contains(&format!("default.toml:{line}: invalid SQL predicate")),
        "{e}"
    );
}

/// Gives the sample policy `default` the audience `where = "predicate"` and returns
/// the error `qualify_leads('default')` reports, after checking that it names the
/// policy file, the predicate's line and the predicate.
fn audience_error(ws: &Path, predicate: &str) -> String {
    let policy = ws.join("policies/default.toml");
    edit(
        &policy,
        "min_consent = \"transactional\"\n",
        &format!("min_consent = \"transactional\"\nwhere = \"{predicate}\"\n"),
    );
    let e = failure(
        ws,
        &["sql", "SELECT count(*) FROM qualify_leads('default')"],
    );
    let line = line_of(&policy, "where = ");
    let expected = format!(
        "{}:{line}: invalid SQL predicate in [audience] where ({predicate}): ",
        policy.display()
    );
    assert!(e.contains(&expected), "{e}\nexpected: {expected}");
    e
}

/// The 1-based line of `path` holding `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    let text = fs::read_to_string(path).expect("read");
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn a_rule_predicate_calling_its_own_model_is_refused_not_recursed() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    edit(
        &ws.join("scoring/fit.toml"),
        "when = \"seniority = 'manager'\"",
        "when = \"lead_id IN (SELECT lead_id FROM score_leads('fit'))\"",
    );
    let e = failure(ws, &["sql", "SELECT count(*) FROM score_leads('fit')"]);
    assert!(e.contains("fit.toml:"), "{e}");
    assert!(e.contains("may not contain a query"), "{e}");
}

#[test]
fn a_handoff_rule_cannot_inject_sql() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    edit(
        &ws.join("policies/default.toml"),
        "when = \"account_territory IS NOT NULL\"",
        "when = \"true) THEN 0 END, (SELECT 1\"",
    );
    let out = tempfile::tempdir().expect("out");
    let e = failure(ws, &["run", "--out", &out.path().to_string_lossy()]);
    let line = line_of(&ws.join("policies/default.toml"), "when = \"true)");
    assert!(
        e.contains(&format!(
            "default.toml:{line}: invalid SQL predicate in when of hand-off rule 'by territory'"
        )),
        "{e}"
    );
}

#[test]
fn a_folder_not_named_like_a_table_is_ignored_with_a_warning() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    let backup = ws.join("leads.bak");
    fs::create_dir_all(&backup).expect("mkdir");
    for f in common::walk(&ws.join("leads")) {
        fs::copy(&f, backup.join(f.file_name().expect("name"))).expect("copy");
    }
    let out = common::leadql_in(
        ws,
        &["sql", "--format", "csv", "SELECT count(*) FROM leads"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "count(*)\n5000\n");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("leads.bak ignored: 'leads.bak' is not a table name"),
        "{e}"
    );
}

#[test]
fn a_broken_view_is_left_out_with_a_warning_and_other_commands_work() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    fs::write(
        ws.join("views/needs_model.sql"),
        "SELECT * FROM predict('not_trained_yet', 'lead_features')",
    )
    .expect("view");
    let out = common::leadql_in(
        ws,
        &["sql", "--format", "csv", "SELECT count(*) FROM leads"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "count(*)\n5000\n");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("needs_model.sql: view 'needs_model' left out"),
        "{e}"
    );
    let using = common::leadql_in(ws, &["sql", "SELECT * FROM needs_model"]);
    assert_eq!(using.status.code(), Some(1));
}

#[test]
fn a_predicate_naming_an_unknown_column_is_an_error_at_its_line() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    let policy = ws.join("policies/default.toml");
    // The example: text that would change the plan if pasted into SQL.
    audience_error(ws, "country='DE') OR (true");
    // Well-formed, but over a column sellers do not have: found when the plan is built.
    edit(&policy, "where = \"country='DE') OR (true\"\n", "");
    edit(
        &policy,
        "sellers = \"segment = 'smb'\"",
        "sellers = \"segmnt = 'smb'\"",
    );
    let out = tempfile::tempdir().expect("out");
    let e = failure(ws, &["run", "--out", &out.path().to_string_lossy()]);
    let line = line_of(&policy, "sellers = ");
    assert!(
        e.contains(&format!(
            "default.toml:{line}: invalid SQL predicate in sellers of hand-off rule 'leads without an account' (segmnt = 'smb')"
        )),
        "{e}"
    );
}

#[test]
fn rule_models_named_like_run_columns_or_with_capitals_grade_and_hand_off() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    // A model called `rule` (its grading columns are rule_score, rule_grade) and one
    // spelled with capitals.
    fs::copy(
        ws.join("scoring/engagement.toml"),
        ws.join("scoring/rule.toml"),
    )
    .expect("copy");
    fs::copy(ws.join("scoring/fit.toml"), ws.join("scoring/Big_Fit.toml")).expect("copy");
    let policy = ws.join("policies/default.toml");
    edit(
        &policy,
        "rule_models = [\"engagement\", \"fit\"]",
        "rule_models = [\"engagement\", \"fit\", \"rule\", \"Big_Fit\"]",
    );
    // A hand-off rule may route on the qualification's columns.
    edit(
        &policy,
        "when = \"account_segment = 'enterprise'\"",
        "when = \"account_segment = 'enterprise' AND predictive_score >= 0 AND sales_ready\"",
    );
    let out = tempfile::tempdir().expect("out");
    common::succeeded(&common::leadql_in(
        ws,
        &["run", "--out", &out.path().to_string_lossy()],
    ));
    let grades = out.path().join("lead_grades.parquet");
    let columns = common::csv_in(
        ws,
        &format!(
            "SELECT count(*) AS n, count(rule_score) = count(engagement_score) AS same_count, \
             bool_and(rule_score = engagement_score) AS same_scores, count(\"Big_Fit_score\") AS big \
             FROM '{}'",
            grades.display()
        ),
    );
    let row: Vec<&str> = columns.lines().nth(1).expect("row").split(',').collect();
    assert_eq!(&row[1..3], &["true", "true"], "{columns}");
    assert_eq!(row[0], row[3], "{columns}");
    let activities = common::csv_in(
        ws,
        &format!(
            "SELECT count(*) FROM '{}' WHERE rule = 'enterprise accounts'",
            out.path().join("sales_activities.parquet").display()
        ),
    );
    assert_ne!(activities.lines().nth(1), Some("0"), "{activities}");
}

#[test]
fn an_aggregate_predicate_is_refused_at_its_line() {
    let tmp = common::sample_copy();
    let e = audience_error(tmp.path(), "count(*) > 0");
    assert!(e.contains("a predicate is evaluated per row"), "{e}");
}

#[test]
fn a_change_dated_past_what_the_workspace_can_record_is_refused() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    let out = common::leadql_in(
        ws,
        &[
            "lead",
            "qualify",
            "43",
            "--create",
            "opportunity",
            "--at",
            "9999-12-31 23:59:59",
        ],
    );
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("--at") && e.contains("outside the instants"),
        "{e}"
    );
    // Nothing was recorded.
    let events = common::csv_in(
        ws,
        "SELECT count(*) FROM lead_status_events WHERE lead_id = 43 AND occurred_at > TIMESTAMP '2200-01-01 00:00:00'",
    );
    assert_eq!(events.lines().nth(1), Some("0"), "{events}");
}
