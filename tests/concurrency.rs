//! Concurrent writers: parallel imports and lifecycle changes of one workspace each
//! land exactly once with distinct ids (the workspace write lock serialises them);
//! `--no-wait` fails at once while another writer holds the lock, a writer without it
//! waits and says so, and readers are never blocked.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{csv_in as csv, succeeded as ok};

fn spawn(ws: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_leadql"))
        .env_remove("LEADQL_DATA")
        .env_remove("LEADQL_FAIL_AFTER_OP")
        .arg("--data")
        .arg(ws)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts")
}

fn sample() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    common::copy_sample(&tmp.path().join("ws"));
    tmp
}

/// Rows whose id repeats another row's, for each id column.
fn duplicate_ids(ws: &Path) -> String {
    csv(
        ws,
        "SELECT (SELECT count(*) - count(DISTINCT lead_id) FROM leads) AS leads, \
         (SELECT count(*) - count(DISTINCT contact_id) FROM contacts) AS contacts, \
         (SELECT count(*) - count(DISTINCT account_id) FROM accounts) AS accounts, \
         (SELECT count(*) - count(DISTINCT interaction_id) FROM interactions) AS interactions, \
         (SELECT count(*) - count(DISTINCT opportunity_id) FROM opportunities) AS opportunities, \
         (SELECT count(*) - count(DISTINCT event_id) FROM lead_status_events) AS events, \
         (SELECT count(*) - count(DISTINCT import_id) FROM imports) AS imports, \
         (SELECT count(*) - count(DISTINCT lead_id) FROM lead_imports) AS lead_imports",
    )
}

const NO_DUPLICATES: &str = "leads,contacts,accounts,interactions,opportunities,events,imports,lead_imports\n0,0,0,0,0,0,0,0\n";

#[test]
fn parallel_imports_of_different_files_each_land_once_with_distinct_ids() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    let n = 4;
    let mut files = Vec::new();
    for i in 0..n {
        let file = tmp.path().join(format!("batch{i}.csv"));
        std::fs::write(
            &file,
            format!(
                "Email,First Name,Last Name,Company,Country\n\
                 conc{i}a@conc{i}.io,Ana,Lopez{i},Conc {i},ES\n\
                 conc{i}b@conc{i}.io,Bo,Ng{i},Conc {i},DE\n\
                 conc{i}c@other{i}.io,Cy,Ortiz{i},Other {i},FR\n"
            ),
        )
        .expect("write");
        files.push(file);
    }
    // Half at the same instant, half at different ones.
    let children: Vec<Child> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let at = format!("2026-06-30 0{}:00:00", i / 2);
            spawn(
                &ws,
                &["import", "csv", f.to_str().expect("utf-8"), "--at", &at],
            )
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().expect("waits");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(err.contains("3 imported"), "{err}");
    }
    assert_eq!(
        csv(
            &ws,
            "SELECT count(*) AS leads, count(DISTINCT l.email) AS emails, count(DISTINCT li.import_id) AS imports \
             FROM leads l JOIN lead_imports li ON li.lead_id = l.lead_id WHERE l.email LIKE 'conc%'"
        ),
        format!("leads,emails,imports\n{},{},{n}\n", 3 * n, 3 * n)
    );
    assert_eq!(duplicate_ids(&ws), NO_DUPLICATES);
    // Importing the files again adds nothing.
    for f in &files {
        let err = String::from_utf8_lossy(
            &common::leadql_in(&ws, &["import", "csv", f.to_str().expect("utf-8")]).stderr,
        )
        .into_owned();
        assert!(err.contains("0 imported, 3 already imported"), "{err}");
    }
}

#[test]
fn parallel_lifecycle_changes_of_different_leads_all_land() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    let open = csv(
        &ws,
        "SELECT l.lead_id FROM leads l LEFT JOIN lead_status s ON s.lead_id = l.lead_id \
         WHERE coalesce(s.status, l.status) = 'open' \
           AND l.lead_id NOT IN (SELECT lead_id FROM opportunities WHERE status = 'open' AND lead_id IS NOT NULL) \
         ORDER BY l.lead_id LIMIT 6",
    );
    let ids: Vec<String> = open.lines().skip(1).map(str::to_string).collect();
    assert_eq!(ids.len(), 6, "{open}");
    let events_before: u64 = csv(&ws, "SELECT count(*) AS n FROM lead_status_events")
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("count");
    let at = "2026-07-01 09:00:00";
    let children: Vec<Child> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            if i % 2 == 0 {
                spawn(
                    &ws,
                    &[
                        "lead",
                        "qualify",
                        id,
                        "--create",
                        "contact,opportunity",
                        "--at",
                        at,
                    ],
                )
            } else {
                spawn(
                    &ws,
                    &["lead", "disqualify", id, "--reason", "lost", "--at", at],
                )
            }
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().expect("waits"));
    }
    let expected: String = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            format!(
                "{id},{}\n",
                if i % 2 == 0 {
                    "qualified"
                } else {
                    "disqualified"
                }
            )
        })
        .collect();
    assert_eq!(
        csv(
            &ws,
            &format!(
                "SELECT lead_id, status FROM lead_status WHERE lead_id IN ({}) ORDER BY lead_id",
                ids.join(", ")
            )
        ),
        format!("lead_id,status\n{expected}")
    );
    assert_eq!(
        csv(&ws, "SELECT count(*) AS n FROM lead_status_events"),
        format!("n\n{}\n", events_before + 6)
    );
    assert_eq!(
        csv(
            &ws,
            &format!(
                "SELECT count(*) AS opportunities FROM opportunities WHERE lead_id IN ({}) AND status = 'open'",
                ids.join(", ")
            )
        ),
        "opportunities\n3\n"
    );
    assert_eq!(duplicate_ids(&ws), NO_DUPLICATES);
}

#[test]
fn a_second_writer_waits_or_fails_fast_and_readers_never_wait() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    let file = tmp.path().join("one.csv");
    std::fs::write(
        &file,
        "Email,First Name,Company\nwait@wait.io,Wai,Wait Co\n",
    )
    .expect("write");
    let f = file.to_str().expect("utf-8");
    // This test plays the writer holding the lock.
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(ws.join(".leadql.lock"))
        .expect("lock file");
    lock.lock().expect("locked");

    let o = common::leadql_in(&ws, &["--no-wait", "import", "csv", f]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("another leadql command is writing to it") && err.contains("--no-wait"),
        "{err}"
    );
    // Every other writer fails fast too; the same commands writing elsewhere run.
    let inside = ws.join("exported.csv");
    let outside = tmp.path().join("exported.csv");
    for args in [
        vec!["lead", "qualify", "11"],
        vec![
            "run",
            "--out",
            tmp.path().join("out").to_str().expect("utf-8"),
        ],
        vec!["sql", "DROP MODEL IF EXISTS nothing"],
        vec!["sql", "SELECT * FROM drop_model('nothing', true)"],
        vec!["model", "activate", "conversion", "latest"],
        vec![
            "export",
            "sellers",
            "--out",
            inside.to_str().expect("utf-8"),
        ],
        vec!["sql", "SELECT 1", "-o", inside.to_str().expect("utf-8")],
        vec!["generate", "--leads", "10", "--force", "--quiet"],
    ] {
        let mut with = vec!["--no-wait"];
        with.extend(args.iter().copied());
        let o = common::leadql_in(&ws, &with);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("another leadql command is writing to it"),
            "{args:?}: {err}"
        );
    }
    assert!(!inside.exists());
    ok(&common::leadql_in(
        &ws,
        &[
            "--no-wait",
            "export",
            "sellers",
            "--out",
            outside.to_str().expect("utf-8"),
        ],
    ));
    ok(&common::leadql_in(
        &ws,
        &["--no-wait", "sql", "SHOW MODELS"],
    ));

    // Readers are not blocked.
    let started = Instant::now();
    assert_eq!(
        csv(
            &ws,
            "SELECT count(*) AS n FROM leads WHERE email = 'wait@wait.io'"
        ),
        "n\n0\n"
    );
    assert!(started.elapsed() < Duration::from_secs(30));

    // A writer without --no-wait waits, says so, and goes on once the lock is free.
    let mut waiting = spawn(&ws, &["import", "csv", f]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            waiting.try_wait().expect("status").is_none(),
            "finished while the lock was held"
        );
        // It has reached the lock once it has opened the lock file too.
        if Instant::now() > deadline
            || std::fs::read_dir(format!("/proc/{}/fd", waiting.id())).is_ok_and(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|p| p.ends_with(".leadql.lock"))
                })
            })
        {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(waiting.try_wait().expect("status").is_none());
    drop(lock);
    let o = waiting.wait_with_output().expect("waits");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("waiting for another leadql command writing to") && err.contains("1 imported"),
        "{err}"
    );
    assert!(
        !ws.join(".leadql.lock").exists(),
        "the last writer removes the lock file"
    );
}
