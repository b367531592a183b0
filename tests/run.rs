//! The main job (`leadql run`) and `leadql export` on copies of the bundled sample:
//! real processes, real Parquet files, read back by pyarrow and DuckDB.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;

use common::{csv_in as csv, succeeded as ok};

/// A copy of the sample (in `ws/` of a temporary directory).
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    common::copy_sample(&tmp.path().join("ws"));
    tmp
}

fn leadql(ws: &Path, args: &[&str]) -> Output {
    common::leadql_in(ws, args)
}

fn python(script: &str) -> String {
    let py = std::env::var("LEADQL_PYTHON").unwrap_or_else(|_| "python3".into());
    let o = Command::new(py)
        .args(["-c", script])
        .output()
        .expect("python runs (set LEADQL_PYTHON or use scripts/test)");
    assert!(
        o.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_main_job_qualifies_assigns_exports_and_repeats_identically() {
    let tmp = workspace();
    let ws = tmp.path().join("ws");
    let out = tmp.path().join("out");
    let out_s = out.to_str().expect("utf-8");
    let summary = ok(&leadql(&ws, &["run", "--out", out_s]));
    assert!(
        summary.contains("Predictive model: conversion v1 (logistic_reg), held-out AUC 0.")
            && summary.contains("trained now"),
        "{summary}"
    );
    assert!(summary.contains("Open leads qualified: "), "{summary}");
    assert!(summary.contains("Top sales-ready leads:"), "{summary}");
    for table in [
        "qualification",
        "lead_grades",
        "lead_scores",
        "sales_activities",
    ] {
        assert!(out.join(format!("{table}.parquet")).is_file(), "{table}");
    }

    // The qualification only holds leads open at as_of, sales-ready ones have reasons.
    let check = csv(
        &ws,
        &format!(
            "SELECT count(*) AS n, count(*) FILTER (WHERE sales_ready AND reasons LIKE 'not sales-ready%') AS bad_reasons, \
             count(*) FILTER (WHERE NOT sales_ready AND reasons NOT LIKE 'not sales-ready%') AS bad_reasons2 \
             FROM '{}' q JOIN leads l USING (lead_id) WHERE l.status <> 'open'",
            out.join("qualification.parquet").display()
        ),
    );
    assert_eq!(check, "n,bad_reasons,bad_reasons2\n0,0,0\n");

    // Every newly sales-ready lead got exactly one activity; assigned sellers stay
    // within capacity (the open hand-offs in their queue).
    let check = csv(
        &ws,
        "SELECT (SELECT count(*) FROM qualification_history WHERE sales_ready) AS ready, \
                (SELECT count(DISTINCT lead_id) FROM sales_activities) AS with_activity, \
                (SELECT count(*) FROM sales_activities) AS activities, \
                (SELECT count(*) FROM (SELECT a.seller_id, count(*) AS n FROM sales_activities a WHERE a.status = 'open' GROUP BY a.seller_id) x \
                   JOIN sellers s USING (seller_id) \
                   WHERE x.n > s.capacity) AS over_capacity",
    );
    let row = common::first_row_numbers(&check);
    assert!(row[0] > 10, "{check}");
    assert_eq!(row[0], row[1], "{check}");
    assert_eq!(row[1], row[2], "{check}");
    assert_eq!(row[3], 0, "{check}");

    // Same data, same as_of: the same tables, byte for byte, and the model is reused.
    let again = tmp.path().join("again");
    let summary = ok(&leadql(
        &ws,
        &["run", "--out", again.to_str().expect("utf-8")],
    ));
    assert!(summary.contains("unchanged data: reused"), "{summary}");
    for table in [
        "qualification",
        "lead_grades",
        "lead_scores",
        "sales_activities",
    ] {
        let a = std::fs::read(out.join(format!("{table}.parquet"))).expect("first");
        let b = std::fs::read(again.join(format!("{table}.parquet"))).expect("second");
        assert!(a == b, "{table} differs between identical runs");
    }

    // A later run: earlier sales-ready leads stay sales-ready (even where the decayed
    // engagement score dropped), get no second activity, and have a trend.
    let later = tmp.path().join("later");
    ok(&leadql(
        &ws,
        &[
            "run",
            "--out",
            later.to_str().expect("utf-8"),
            "--as-of",
            "2026-08-31 00:00:00",
        ],
    ));
    let check = csv(
        &ws,
        &format!(
            "SELECT count(*) FILTER (WHERE NOT l.sales_ready) AS dropped, \
                    count(*) FILTER (WHERE l.reasons LIKE 'sales-ready since 2026-06-30%') AS kept \
             FROM qualification_history e JOIN '{}' l USING (lead_id) WHERE e.sales_ready",
            later.join("qualification.parquet").display()
        ),
    );
    let row = common::first_row_numbers(&check);
    assert_eq!(row[0], 0, "{check}");
    assert!(
        row[1] > 0,
        "some leads are kept only by their mark: {check}"
    );
    let trends = csv(
        &ws,
        &format!(
            "SELECT count(*) FILTER (WHERE trend = 'new') AS new FROM '{}'",
            later.join("lead_grades.parquet").display()
        ),
    );
    assert_eq!(trends, "new\n0\n", "every lead was graded by the first run");

    // pyarrow reads the key-value metadata; DuckDB reads the tables.
    let got = python(&format!(
        "import pyarrow.parquet as pq, duckdb\n\
         m = pq.read_metadata(r'{q}').metadata\n\
         print(m[b'leadql.as_of'].decode(), m[b'leadql.policy'].decode(), m[b'leadql.models'].decode(), sep='|')\n\
         print(duckdb.sql(\"SELECT count(*) FROM read_parquet('{q}') WHERE sales_ready\").fetchall()[0][0])",
        q = out.join("qualification.parquet").display()
    ));
    let mut lines = got.lines();
    assert_eq!(
        lines.next(),
        Some(
            "2026-06-30 00:00:00.000000|default|engagement (rule model), fit (rule model), conversion v1 (logistic_reg)"
        )
    );
    assert_eq!(
        lines.next().map(|n| n.parse::<u64>().ok()),
        Some(Some(row_ready(&ws)))
    );
}

fn row_ready(ws: &Path) -> u64 {
    csv(
        ws,
        "SELECT count(*) FROM qualification_history WHERE sales_ready AND as_of = TIMESTAMP '2026-06-30 00:00:00'",
    )
    .lines()
    .nth(1)
    .and_then(|v| v.parse().ok())
    .expect("count")
}

#[test]
fn bad_run_and_export_input_gets_clear_errors() {
    let tmp = workspace();
    let ws = tmp.path().join("ws");
    let o = leadql(&ws, &["run", "--policy", "nope", "--out", "/dev/null/x"]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("unknown policy 'nope' (policies: default)"),
        "{e}"
    );
    std::fs::write(
        ws.join("policies/broken.toml"),
        "[scores]\nrule_models = [\"engagement\"]\n[sales_ready]\n[[sales_ready.criteria]]\nmodel = \"engagement\"\nmin_grade = \"Lukewarm\"\n",
    )
    .expect("write");
    // The error of `SELECT * FROM qualify_leads('POLICY')`, which must fail with 1.
    let qualify_error = |policy: &str| {
        let sql = format!("SELECT * FROM qualify_leads('{policy}')");
        let o = leadql(&ws, &["sql", &sql]);
        let e = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{e}");
        e
    };
    let e = qualify_error("broken");
    assert!(
        e.contains("broken.toml:4: min_grade 'Lukewarm' is not a grade of rule model 'engagement' (grades: Cold, Warm, Hot)"),
        "{e}"
    );
    // Errors met while the policy's plan is built name the policy (its file, or the
    // call), not only their cause.
    let default = std::fs::read_to_string(ws.join("policies/default.toml")).expect("read");
    let with = |from: &str, to: &str| {
        assert!(default.contains(from), "{from}");
        default.replace(from, to)
    };
    let unknown_rule = ws.join("policies/unknown_rule.toml");
    std::fs::write(
        &unknown_rule,
        with(
            "rule_models = [\"engagement\", \"fit\"]",
            "rule_models = [\"engagement\", \"nope\"]",
        ),
    )
    .expect("write");
    let e = qualify_error("unknown_rule");
    assert!(
        e.contains(&format!(
            "policy {}: qualify_leads: unknown scoring model 'nope'",
            unknown_rule.display()
        )),
        "{e}"
    );
    let ghost = with(
        "predictive_model = \"conversion\"",
        "predictive_model = \"ghost\"",
    )
    .replace(
        "model = \"conversion\"\nmin_grade = \"A\"",
        "model = \"fit\"\nmin_score = 50",
    );
    std::fs::write(ws.join("policies/ghost.toml"), ghost).expect("write");
    let e = qualify_error("ghost");
    assert!(
        e.contains("qualify_leads('ghost'): predict: unknown model 'ghost'"),
        "{e}"
    );
    let o = leadql(
        &ws,
        &[
            "export",
            "leads",
            "--out",
            "x.parquet",
            "--partition-by",
            "nope",
        ],
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("'nope' is not a column of the result"), "{e}");
    let o = leadql(&ws, &["run", "--as-of", "yesterday"]);
    assert_eq!(o.status.code(), Some(2), "invalid usage");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--as-of"));
}

#[test]
fn a_killed_export_leaves_the_previous_file_intact() {
    let tmp = workspace();
    let ws = tmp.path().join("ws");
    let target = tmp.path().join("export.parquet");
    let t = target.to_str().expect("utf-8");
    ok(&leadql(&ws, &["export", "leads", "--out", t]));
    let before = std::fs::read(&target).expect("first export");
    // A large export (50k interactions × 400 ≈ 20M rows) killed part-way.
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadql"))
        .env_remove("LEADQL_DATA")
        .arg("--data")
        .arg(&ws)
        .args([
            "export",
            "SELECT i.*, g.value AS copy FROM interactions i CROSS JOIN generate_series(1, 400) g",
            "--out",
            t,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    // Wait until it has started writing its temporary file, then kill -9.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let writing = std::fs::read_dir(tmp.path())
            .expect("ls")
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"));
        if writing || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(
        !status.success(),
        "the export finished before it was killed"
    );
    assert_eq!(
        std::fs::read(&target).expect("still there"),
        before,
        "the previous export changed"
    );
    // The next export removes the dead process's temporary and succeeds.
    ok(&leadql(&ws, &["export", "SELECT 1 AS x", "--out", t]));
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporaries left: {left:?}");
}

#[test]
fn lifecycle_changes_are_appended_checked_and_all_or_nothing() {
    let tmp = workspace();
    let ws = tmp.path().join("ws");
    let at = ["--at", "2026-07-01 09:00:00"];
    // Leads 11 (open, with an account) and 111 (open, without one).
    let before = csv(
        &ws,
        "SELECT (SELECT count(*) FROM lead_status_events) AS events, (SELECT count(*) FROM accounts) AS accounts, \
         (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM opportunities) AS opportunities",
    );
    let n = common::first_row_numbers(&before);
    let mut args = vec![
        "lead",
        "qualify",
        "11",
        "111",
        "--create",
        "account,contact,opportunity",
        "--actor",
        "3",
    ];
    args.extend(at);
    ok(&leadql(&ws, &args));
    let after = csv(
        &ws,
        "SELECT (SELECT count(*) FROM lead_status_events) AS events, (SELECT count(*) FROM accounts) AS accounts, \
         (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM opportunities) AS opportunities",
    );
    assert_eq!(
        after.lines().nth(1),
        Some(format!("{},{},{},{}", n[0] + 2, n[1] + 1, n[2] + 2, n[3] + 2).as_str()),
        "two events, one new account (lead 111 had none), two contacts and opportunities"
    );
    assert_eq!(
        csv(
            &ws,
            "SELECT lead_id, status FROM lead_status WHERE lead_id IN (11, 111) ORDER BY lead_id"
        ),
        "lead_id,status\n11,qualified\n111,qualified\n"
    );
    assert_eq!(
        csv(
            &ws,
            "SELECT o.lead_id, o.status, c.lead_id = o.lead_id AS same_contact, o.account_id = c.account_id AS same_account \
             FROM opportunities o JOIN contacts c USING (contact_id) WHERE o.lead_id IN (11, 111) ORDER BY o.lead_id"
        ),
        "lead_id,status,same_contact,same_account\n11,open,true,true\n111,open,true,true\n"
    );

    // Illegal changes are refused and record nothing, even in a batch with legal ones.
    let refuse = |args: &[&str], expected: &str| {
        let events = csv(&ws, "SELECT count(*) AS n FROM lead_status_events");
        let o = leadql(&ws, args);
        let e = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(1), "{e}");
        assert!(e.contains(expected), "{e}");
        assert!(e.contains("nothing was recorded"), "{e}");
        assert_eq!(
            csv(&ws, "SELECT count(*) AS n FROM lead_status_events"),
            events
        );
    };
    refuse(
        &["lead", "disqualify", "17", "11", "--reason", "lost"],
        "lead 11 has open opportunity",
    );
    refuse(
        &["lead", "qualify", "11"],
        "lead 11 is qualified: only open leads can be qualified",
    );
    refuse(
        &["lead", "reopen", "17"],
        "lead 17 is open: only disqualified leads can be reopened",
    );
    refuse(
        &["lead", "qualify", "99999999"],
        "lead 99999999 does not exist",
    );

    // Bulk from a query, then reopen one: the log decides the current status.
    ok(&leadql(
        &ws,
        &[
            "lead",
            "disqualify",
            "--query",
            "SELECT lead_id FROM leads WHERE lead_id IN (17, 22)",
            "--reason",
            "cannot_contact",
            "--at",
            "2026-07-02 00:00:00",
        ],
    ));
    ok(&leadql(
        &ws,
        &["lead", "reopen", "17", "--at", "2026-07-03 00:00:00"],
    ));
    assert_eq!(
        csv(
            &ws,
            "SELECT lead_id, status, reason FROM lead_status WHERE lead_id IN (17, 22) ORDER BY lead_id"
        ),
        "lead_id,status,reason\n17,open,reopened\n22,disqualified,cannot_contact\n"
    );
    // qualify_leads follows the log: 22 is no longer open, 17 is again.
    let recipe = ws.join("models/conversion.sql");
    ok(&leadql(
        &ws,
        &["sql", "-f", recipe.to_str().expect("utf-8")],
    ));
    assert_eq!(
        csv(
            &ws,
            "SELECT lead_id FROM qualify_leads('default', TIMESTAMP '2026-07-04 00:00:00') WHERE lead_id IN (11, 17, 22) ORDER BY lead_id"
        ),
        "lead_id\n17\n"
    );
    let o = leadql(&ws, &["lead", "disqualify", "17", "--reason", "bored"]);
    assert_eq!(o.status.code(), Some(2), "invalid usage");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("invalid value 'bored' for '--reason <REASON>'")
            && e.contains(
                "[possible values: lost, cannot_contact, no_longer_interested, canceled]"
            ),
        "{e}"
    );
}

#[test]
fn exports_are_read_back_by_duckdb_and_pyarrow() {
    let tmp = workspace();
    let ws = tmp.path().join("ws");
    let dir = tmp.path();
    let query = "SELECT lead_id, first_name, country, created_at, company_size FROM leads WHERE lead_id <= 300";
    for (file, extra) in [
        ("e.parquet", &[][..]),
        ("e.csv", &[][..]),
        ("e.json", &[][..]),
        ("e.ndjson", &[][..]),
        ("by_country", &["--partition-by", "country"][..]),
    ] {
        let out = dir.join(file);
        let mut args = vec!["export", query, "--out", out.to_str().expect("utf-8")];
        args.extend(extra);
        ok(&leadql(&ws, &args));
    }
    let got = python(&format!(
        "import duckdb, pyarrow.parquet as pq\n\
         d = r'{d}'\n\
         q = lambda s: duckdb.sql(s).fetchall()[0]\n\
         print(q(f\"SELECT count(*), sum(lead_id), count(DISTINCT first_name) FROM read_parquet('{{d}}/e.parquet')\"))\n\
         print(q(f\"SELECT count(*), sum(lead_id), count(DISTINCT first_name) FROM read_csv('{{d}}/e.csv')\"))\n\
         print(q(f\"SELECT count(*), sum(lead_id), count(DISTINCT first_name) FROM read_json('{{d}}/e.json')\"))\n\
         print(q(f\"SELECT count(*), sum(lead_id), count(DISTINCT first_name) FROM read_json('{{d}}/e.ndjson')\"))\n\
         print(q(f\"SELECT count(*), sum(lead_id), count(DISTINCT first_name) FROM read_parquet('{{d}}/by_country/**/*.parquet', hive_partitioning = true)\"))\n\
         m = pq.read_metadata(d + '/e.parquet').metadata\n\
         print(m[b'leadql.as_of'].decode(), m[b'leadql.rule_models'].decode(), sep='|')",
        d = dir.display()
    ));
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), 6, "{got}");
    for l in &lines[1..5] {
        assert_eq!(*l, lines[0], "{got}");
    }
    assert!(lines[0].starts_with("(300, 45150, "), "{got}");
    assert_eq!(lines[5], "2026-06-30 00:00:00|engagement, fit");
}

#[test]
fn the_main_job_runs_on_an_empty_workspace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = tmp.path().join("ws");
    let o = Command::new(env!("CARGO_BIN_EXE_leadql"))
        .args(["generate", "--leads", "0", "--seed", "1", "-q", "--data"])
        .arg(&ws)
        .output()
        .expect("runs");
    ok(&o);
    let out = tmp.path().join("out");
    let summary = ok(&leadql(
        &ws,
        &["run", "--out", out.to_str().expect("utf-8")],
    ));
    assert!(
        summary.contains("Open leads qualified: 0; sales-ready: 0"),
        "{summary}"
    );
    assert!(
        summary.contains("warning: no predictive score: model 'conversion' could not be trained"),
        "{summary}"
    );
    assert!(out.join("lead_grades.parquet").is_file());
}
