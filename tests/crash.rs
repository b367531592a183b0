//! Crash consistency: a writing command is killed after each of its file operations in
//! turn (`LEADQL_FAIL_AFTER_OP=N`, honoured by debug builds), and the workspace, opened
//! again, must show the change entirely or not at all, hold no staging or temporary
//! files, and accept the command again to reach the complete state exactly once.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::succeeded as ok;

/// Exit code of an injected failure (`leadql::commit::INJECTED_EXIT`).
const INJECTED: i32 = 86;

fn leadql_failing(ws: &Path, fail_after: Option<u64>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leadql"));
    c.env_remove("LEADQL_DATA")
        .env_remove("LEADQL_FAIL_AFTER_OP")
        .arg("--data")
        .arg(ws)
        .args(args);
    if let Some(n) = fail_after {
        c.env("LEADQL_FAIL_AFTER_OP", n.to_string());
    }
    c.output().expect("runs")
}

/// The state a query shows (a reader: opening the workspace recovers it).
fn state(ws: &Path, sql: &str) -> String {
    common::csv_in(ws, sql)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in common::walk(from) {
        let target = to.join(entry.strip_prefix(from).expect("inside"));
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&entry, &target).expect("copy");
    }
}

/// Staging folders or temporary files left in the workspace.
fn leftovers(ws: &Path) -> Vec<PathBuf> {
    common::walk(ws)
        .into_iter()
        .filter(|p| {
            let s = p.to_string_lossy();
            s.contains(".leadql-staging")
                || s.ends_with(".tmp")
                || s.ends_with(".leadql.lock")
                || s.contains(".dropped")
        })
        .collect()
}

/// Kills `args` on copies of `template` after file operation 1, 2, … until it
/// completes (or until the kill after the operation named `last`). After each kill the workspace must show `before` or `after` (through
/// `observe`), with nothing left behind; the command run again (when `before` was
/// shown, or always when `idempotent`) must then reach `after`. Returns the number
/// of kills that showed before and after; both must be some.
fn kill_at_every_operation(
    template: &Path,
    args: &[&str],
    idempotent: bool,
    last: Option<&str>,
    observe: &dyn Fn(&Path) -> String,
) -> (usize, usize) {
    let (saw_before, saw_after) = kills(template, args, idempotent, last, observe);
    assert!(
        saw_before > 0 && saw_after > 0,
        "kills showed both states (before {saw_before}, after {saw_after})"
    );
    (saw_before, saw_after)
}

/// [`kill_at_every_operation`] without requiring both states to be seen (a change
/// made by one rename shows only its after state once the rename is done).
fn kills(
    template: &Path,
    args: &[&str],
    idempotent: bool,
    last: Option<&str>,
    observe: &dyn Fn(&Path) -> String,
) -> (usize, usize) {
    let before = observe(template);
    let reference = tempfile::tempdir().expect("tmp");
    copy_dir(template, reference.path());
    ok(&leadql_failing(reference.path(), None, args));
    let after = observe(reference.path());
    assert_ne!(before, after, "the command changes the workspace");
    let (mut saw_before, mut saw_after) = (0, 0);
    for n in 1.. {
        assert!(n < 200, "the command never completed");
        let tmp = tempfile::tempdir().expect("tmp");
        let ws = tmp.path();
        copy_dir(template, ws);
        let o = leadql_failing(ws, Some(n), args);
        if o.status.success() {
            assert_eq!(observe(ws), after, "completed without a failure at {n}");
            break;
        }
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(INJECTED), "killed at {n}: {err}");
        let shown = observe(ws);
        assert!(
            leftovers(ws).is_empty(),
            "killed after operation {n}, left behind: {:?}",
            leftovers(ws)
        );
        if shown == before {
            saw_before += 1;
        } else if shown == after {
            saw_after += 1;
        } else {
            panic!(
                "killed after operation {n} ({err}): neither before nor after:\n{shown}\nbefore:\n{before}\nafter:\n{after}"
            );
        }
        if shown == before || idempotent {
            ok(&leadql_failing(ws, None, args));
            assert_eq!(observe(ws), after, "run again after the kill at {n}");
        }
        if last.is_some_and(|l| err.contains(&format!("({l})"))) {
            break;
        }
    }
    (saw_before, saw_after)
}

fn sample() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    common::copy_sample(&tmp.path().join("ws"));
    tmp
}

#[test]
fn a_killed_import_lands_entirely_or_not_at_all() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    let file = tmp.path().join("new.csv");
    std::fs::write(
        &file,
        "Email,First Name,Last Name,Company,Country\n\
         crash1@acme-crash.io,Ana,Lopez,Acme Crash,ES\n\
         crash2@beta-crash.io,Bo,Ng,Beta Crash,DE\n\
         crash3@acme-crash.io,Cy,Ortiz,Acme Crash,ES\n",
    )
    .expect("write");
    let f = file.to_str().expect("utf-8");
    let observe = |ws: &Path| {
        state(
            ws,
            "SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(DISTINCT lead_id) FROM leads) AS ids, \
             (SELECT count(*) FROM lead_imports) AS lead_imports, (SELECT count(*) FROM imports) AS imports, \
             (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM accounts) AS accounts, \
             (SELECT count(*) FROM interactions) AS interactions, \
             (SELECT count(*) FROM leads l LEFT JOIN lead_imports i ON i.lead_id = l.lead_id \
                WHERE l.email LIKE '%crash%' AND i.lead_id IS NULL) AS unlogged",
        )
    };
    let (b, a) = kill_at_every_operation(
        &ws,
        &["import", "csv", f, "--at", "2026-06-30 00:00:00"],
        true,
        None,
        &observe,
    );
    eprintln!("import: {b} kills showed the workspace before, {a} after");
}

#[test]
fn a_killed_lifecycle_change_lands_entirely_or_not_at_all() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    // Leads 11 (open, with an account) and 111 (open, without one).
    let observe = |ws: &Path| {
        state(
            ws,
            "SELECT (SELECT count(*) FROM lead_status_events) AS events, (SELECT count(*) FROM accounts) AS accounts, \
             (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM opportunities) AS opportunities, \
             (SELECT string_agg(status, ' ' ORDER BY lead_id) FROM lead_status WHERE lead_id IN (11, 111)) AS statuses",
        )
    };
    kill_at_every_operation(
        &ws,
        &[
            "lead",
            "qualify",
            "11",
            "111",
            "--create",
            "account,contact,opportunity",
            "--at",
            "2026-07-01 09:00:00",
        ],
        false,
        None,
        &observe,
    );
}

#[test]
fn a_killed_merge_lands_entirely_or_not_at_all() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    // Open leads 4800 and 4447, both with interactions.
    let observe = |ws: &Path| {
        state(
            ws,
            "SELECT (SELECT count(*) FROM lead_merges) AS merges, (SELECT count(*) FROM lead_status_events) AS events, \
             (SELECT count(*) FROM interactions WHERE lead_id = 4447) AS duplicate_rows, \
             (SELECT string_agg(concat(lead_id, ':', status, ':', reason), ' ' ORDER BY lead_id) FROM lead_status \
                WHERE lead_id IN (4447, 4800)) AS statuses",
        )
    };
    kill_at_every_operation(
        &ws,
        &[
            "lead",
            "merge",
            "4800",
            "4447",
            "--at",
            "2026-07-01 09:00:00",
        ],
        false,
        None,
        &observe,
    );
}

#[test]
fn a_killed_run_records_history_and_activities_together_or_neither() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    let out = tmp.path().join("out");
    let out = out.to_str().expect("utf-8");
    // Train the model once, then start from a workspace without run history (the
    // model is reused, so each attempt is quick).
    ok(&leadql_failing(&ws, None, &["run", "--out", out]));
    for folder in ["qualification_history", "sales_activities"] {
        std::fs::remove_dir_all(ws.join(folder)).expect("rm");
    }
    let observe = |ws: &Path| {
        // Opened first (recovering it), then looked at.
        state(ws, "SELECT 1");
        let has = |folder: &str| {
            std::fs::read_dir(ws.join(folder)).is_ok_and(|mut d| {
                d.any(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.')))
            })
        };
        match (has("qualification_history"), has("sales_activities")) {
            (false, false) => "no run recorded".to_string(),
            (true, true) => state(
                ws,
                "SELECT (SELECT count(*) FROM qualification_history) AS history, \
                 (SELECT count(*) FROM sales_activities) AS activities",
            ),
            (h, a) => format!("history recorded: {h}, activities recorded: {a}"),
        }
    };
    // The exports that follow the recorded change write outside the workspace.
    kill_at_every_operation(
        &ws,
        &["run", "--out", out],
        false,
        Some("staging removed"),
        &observe,
    );
}

const TRAIN_M: &str = "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'y', seed = 1) \
     AS SELECT CAST(lead_id % 7 AS DOUBLE) AS x, lead_id % 3 = 0 AS y FROM leads";

/// The predictive models as `SHOW MODELS` lists them (which loads every version, so a
/// half-written file fails it), and what each model's `ACTIVE` file pins, which must
/// be a version that exists.
fn models_state(ws: &Path) -> String {
    let shown = state(
        ws,
        "SHOW MODELS; SELECT model, version, active FROM show_models() ORDER BY model, version",
    );
    let mut pins = String::new();
    for folder in std::fs::read_dir(ws.join("models"))
        .expect("models")
        .flatten()
    {
        let active = folder.path().join("ACTIVE");
        if let Ok(text) = std::fs::read_to_string(&active) {
            let version = folder.path().join(format!("v{}.json", text.trim()));
            assert!(
                version.is_file(),
                "{} pins a missing version: {text}",
                active.display()
            );
            pins.push_str(&format!("{:?} pins {}", folder.file_name(), text.trim()));
        }
    }
    let listed = shown
        .rsplit_once("model,version,active\n")
        .map_or(shown.as_str(), |(_, rows)| rows);
    format!("{listed}{pins}")
}

#[test]
fn a_killed_create_model_leaves_no_half_written_version() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    // The first version of a new model (its folder created too).
    let (b, a) = kill_at_every_operation(&ws, &["sql", TRAIN_M], false, None, &models_state);
    eprintln!("CREATE MODEL (first version): {b} kills showed before, {a} after");
    // A second version while the first is pinned: the pin still names v1 after it.
    ok(&leadql_failing(&ws, None, &["sql", TRAIN_M]));
    ok(&leadql_failing(&ws, None, &["model", "activate", "m", "1"]));
    let (b, a) = kill_at_every_operation(&ws, &["sql", TRAIN_M], false, None, &models_state);
    eprintln!("CREATE MODEL (next version, pinned): {b} kills showed before, {a} after");
    assert!(models_state(&ws).contains("pins 1"));
}

#[test]
fn a_killed_drop_model_removes_the_model_entirely_or_not_at_all() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    ok(&leadql_failing(&ws, None, &["sql", TRAIN_M]));
    ok(&leadql_failing(&ws, None, &["sql", TRAIN_M]));
    ok(&leadql_failing(&ws, None, &["model", "activate", "m", "1"]));
    let before = models_state(&ws);
    assert!(
        before.contains("m,2,false") && before.contains("pins 1"),
        "{before}"
    );
    // One rename makes the model disappear: every kill shows it dropped.
    let (b, a) = kills(&ws, &["sql", "DROP MODEL m"], false, None, &models_state);
    assert_eq!(b, 0, "a kill showed the model still there");
    assert!(
        a >= 2,
        "a kill after the move aside and after the removal ({a})"
    );
}

#[test]
fn stray_model_files_of_a_killed_writer_are_removed_when_the_workspace_opens() {
    let tmp = sample();
    let ws = tmp.path().join("ws");
    ok(&leadql_failing(&ws, None, &["sql", TRAIN_M]));
    let m = ws.join("models/m");
    let strays = [
        m.join(".v2.json.4190001.tmp"),
        m.join(".ACTIVE.4190001.tmp"),
        ws.join("models/.old.4190001.dropped/v1.json"),
    ];
    for stray in &strays {
        std::fs::create_dir_all(stray.parent().expect("parent")).expect("mkdir");
        std::fs::write(stray, "{\"format_version\": 1, \"half").expect("write");
    }
    let shown = models_state(&ws);
    assert!(shown.contains("m,1,true"), "{shown}");
    assert!(!shown.contains("old"), "{shown}");
    for stray in &strays {
        assert!(!stray.exists(), "{} left", stray.display());
    }
    assert!(!ws.join("models/.old.4190001.dropped").exists());
    // The model itself is untouched and the next version is 2.
    ok(&leadql_failing(&ws, None, &["sql", TRAIN_M]));
    assert!(m.join("v2.json").is_file());
}

#[test]
fn a_killed_generate_force_leaves_the_old_workspace_or_the_new_one() {
    let template = tempfile::tempdir().expect("tmp");
    let old = template.path().join("ws");
    let generate = |ws: &Path, fail_after: Option<u64>, leads: &str| {
        let mut args = vec!["generate", "--leads", leads, "--seed", "2", "--quiet"];
        if ws.exists() {
            args.push("--force");
        }
        leadql_failing(ws, fail_after, &args)
    };
    ok(&generate(&old, None, "40"));
    // The analyst's own files survive a regeneration; trained models and run state
    // belong to the old data and do not.
    std::fs::write(old.join("scoring/notes.md"), "mine").expect("write");
    std::fs::create_dir_all(old.join("models/m")).expect("mkdir");
    std::fs::write(old.join("models/m/v1.json"), "{}").expect("write");
    std::fs::create_dir_all(old.join("sales_activities")).expect("mkdir");
    let observe = |ws: &Path| {
        assert_eq!(
            std::fs::read_to_string(ws.join("scoring/notes.md")).expect("notes kept"),
            "mine"
        );
        state(
            ws,
            "SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM interactions) AS interactions, \
             (SELECT count(*) FROM sellers) AS sellers",
        )
    };
    let before = observe(&old);
    let reference = tempfile::tempdir().expect("tmp");
    copy_dir(&old, &reference.path().join("ws"));
    ok(&generate(&reference.path().join("ws"), None, "10"));
    let after = observe(&reference.path().join("ws"));
    assert_ne!(before, after);
    let (mut saw_before, mut saw_after) = (0, 0);
    for n in 1.. {
        assert!(n < 50, "generate never completed");
        let tmp = tempfile::tempdir().expect("tmp");
        let ws = tmp.path().join("ws");
        copy_dir(&old, &ws);
        std::fs::create_dir_all(ws.join("sales_activities")).expect("mkdir");
        let o = generate(&ws, Some(n), "10");
        let shown = observe(&ws);
        assert!(
            leftovers(&ws).is_empty(),
            "killed after operation {n}, left behind: {:?}",
            leftovers(&ws)
        );
        if o.status.success() {
            assert_eq!(shown, after, "completed at {n}");
            assert!(!ws.join("models/m").exists() && !ws.join("sales_activities").exists());
            assert!(ws.join("models/conversion.sql").is_file());
            let names: Vec<_> = std::fs::read_dir(tmp.path())
                .expect("ls")
                .flatten()
                .collect();
            assert_eq!(names.len(), 1, "only the workspace is left: {names:?}");
            break;
        }
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(INJECTED), "killed at {n}: {err}");
        if shown == before {
            saw_before += 1;
            assert!(
                ws.join("models/m/v1.json").is_file(),
                "old workspace intact"
            );
        } else {
            assert_eq!(
                shown, after,
                "killed after operation {n}: neither old nor new"
            );
            saw_after += 1;
        }
        // The next generate completes and removes what the killed one left beside it.
        ok(&generate(&ws, None, "10"));
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("ls")
            .flatten()
            .collect();
        assert_eq!(names.len(), 1, "killed at {n}, then left beside: {names:?}");
    }
    assert!(
        saw_before > 0 && saw_after > 0,
        "kills showed both states (before {saw_before}, after {saw_after})"
    );
    eprintln!("generate --force: {saw_before} kills showed the old workspace, {saw_after} the new");
}
