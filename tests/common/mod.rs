//! Helpers shared by the end-to-end tests.

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub mod tables;
use std::process::{Command, Output};

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("ls").flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// Copies the bundled sample into `target`, without the state a local `leadql run`
/// may have recorded there (git-ignored: run history, activities, trained models).
pub fn copy_sample(target: &Path) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    for entry in walk(&sample) {
        let rel = entry.strip_prefix(&sample).expect("inside");
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        if matches!(
            first.as_deref(),
            Some("qualification_history" | "sales_activities")
        ) || (first.as_deref() == Some("models") && rel.components().count() > 2)
        {
            continue;
        }
        let to = target.join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&entry, &to).expect("copy");
    }
}

/// A fresh copy of the bundled sample (see [`copy_sample`]).
pub fn sample_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_sample(tmp.path());
    tmp
}

/// The numbers of the first data row of a CSV result (header skipped).
pub fn first_row_numbers(csv: &str) -> Vec<u64> {
    csv.lines()
        .nth(1)
        .expect("a data row")
        .split(',')
        .map(|v| v.parse().expect("a number"))
        .collect()
}

/// Runs the leadql binary on workspace `ws` (ignoring `LEADQL_DATA`).
pub fn leadql_in(ws: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leadql"))
        .env_remove("LEADQL_DATA")
        .arg("--data")
        .arg(ws)
        .args(args)
        .output()
        .expect("runs")
}

/// The standard output of a command that must have succeeded (its stderr otherwise).
pub fn succeeded(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The result of `sql` on workspace `ws` as CSV, header first.
pub fn csv_in(ws: &Path, sql: &str) -> String {
    succeeded(&leadql_in(ws, &["sql", "--format", "csv", sql]))
}

/// A free loopback port (bound, then released for the process about to use it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}
