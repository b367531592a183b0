//! Hostile sizes through the `leadql` binary: statements nested thousands of levels
//! deep. Each gives a result or a clear error (exit code 1), never an abort, within a
//! timeout.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

fn sample() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    common::copy_sample(tmp.path());
    tmp
}

/// Runs `leadql --data WS sql …ARGS` with `sql_text` in a file, killed after 120 s.
fn sql_file(ws: &Path, sql_text: &str, args: &[&str]) -> Output {
    let file = ws.join("statement.sql");
    std::fs::write(&file, sql_text).expect("write statement");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadql"))
        .env_remove("LEADQL_DATA")
        .args(["--data", ws.to_str().expect("utf-8"), "sql"])
        .args(args)
        .args(["-f", file.to_str().expect("utf-8")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("leadql runs");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().expect("kill");
            panic!("leadql ran for more than 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// A result (exit 0), or one clear `error:` line (exit 1); never a signal or a panic.
fn result_or_clear_error(o: &Output, needle: &str) -> bool {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("overflow"),
        "{err}"
    );
    match o.status.code() {
        Some(0) => true,
        Some(1) => {
            assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
            false
        }
        other => panic!("exit {other:?} (killed by a signal?): {err}"),
    }
}

#[test]
fn deeply_nested_statements_are_errors_not_aborts() {
    let ws = sample();
    let d = ws.path();
    let sum = format!("SELECT {}", vec!["1"; 8000].join(" + "));
    let or = format!(
        "SELECT count(*) FROM leads WHERE {}",
        (0..10_000)
            .map(|i| format!("lead_id = {i}"))
            .collect::<Vec<_>>()
            .join(" OR ")
    );
    let training = format!(
        "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'y') AS SELECT {} AS x, true AS y",
        vec!["1"; 5000].join(" + ")
    );
    for statement in [&sum, &or, &training] {
        let o = sql_file(d, statement, &[]);
        assert!(
            !result_or_clear_error(
                &o,
                "SQL expression nested too deeply: more than 1000 levels"
            ),
            "{}",
            &statement[..60]
        );
    }
    // A chain within the limit still runs.
    let o = sql_file(
        d,
        &format!("SELECT {} AS n", vec!["1"; 200].join(" + ")),
        &["--format", "csv"],
    );
    assert!(result_or_clear_error(&o, ""));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "n\n200\n");
}
