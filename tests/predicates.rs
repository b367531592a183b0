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
    edit(
        &ws.join("policies/default.toml"),
        "min_consent = \"transactional\"\n",
        "min_consent = \"transactional\"\nwhere = \"true) OR (true\"\n",
    );
    let e = failure(
        ws,
        &["sql", "SELECT count(*) FROM qualify_leads('default')"],
    );
    assert!(
        e.contains("default.toml: [audience] where: not a single SQL expression"),
        "{e}"
    );
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
    assert!(e.contains("when of hand-off rule 'by territory'"), "{e}");
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
