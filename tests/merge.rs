//! `leadql lead merge` and `lead unmerge` through the binary, on copies of the sample:
//! the master's rule scores over the union of both leads' interactions, undo restoring
//! every score exactly, the point-in-time view before a merge, and the refusals (with
//! nothing recorded). `tests/crash.rs` kills a merge after each file operation.

use std::path::Path;

mod common;

use common::{csv_in, leadql_in, sample_copy};

/// Two open leads of the sample with interactions and no open opportunity.
const MASTER: &str = "4800";
const DUPLICATE: &str = "4447";
const AT: &str = "2026-07-01 09:00:00";

fn ok(ws: &Path, args: &[&str]) -> String {
    let o = leadql_in(ws, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn refused(ws: &Path, args: &[&str]) -> String {
    let o = leadql_in(ws, args);
    assert_eq!(o.status.code(), Some(1), "{args:?} should be refused");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Both rule models' scores of every lead, in a stable order.
fn scores(ws: &Path) -> String {
    csv_in(
        ws,
        "SELECT lead_id, model, score, grade, sales_ready FROM score_leads('engagement') \
         UNION ALL SELECT lead_id, model, score, grade, sales_ready FROM score_leads('fit') \
         ORDER BY model, lead_id",
    )
}

fn scores_of(ws: &Path, lead: &str) -> Vec<String> {
    scores(ws)
        .lines()
        .filter(|l| l.starts_with(&format!("{lead},")))
        .map(str::to_string)
        .collect()
}

/// What a merge may change: the merge log, the status log, current statuses.
fn logs(ws: &Path) -> String {
    csv_in(
        ws,
        "SELECT (SELECT count(*) FROM lead_merges) AS merges, \
                (SELECT count(*) FROM lead_status_events) AS events, \
                (SELECT string_agg(concat(lead_id, ':', status, ':', reason), ' ' ORDER BY lead_id) \
                   FROM lead_status WHERE lead_id IN (4800, 4447, 2516, 2534)) AS statuses",
    )
}

#[test]
fn the_master_scores_the_union_of_both_leads_interactions() {
    let merged = sample_copy();
    let before = scores_of(merged.path(), MASTER);
    ok(
        merged.path(),
        &[
            "lead", "merge", MASTER, DUPLICATE, "--at", AT, "--actor", "3",
        ],
    );
    let after = scores_of(merged.path(), MASTER);
    assert_ne!(before, after, "the duplicate's interactions count");

    // The reference: the same workspace with the duplicate's interactions rewritten
    // under the master's id, by hand.
    let union = sample_copy();
    let dir = union.path().join("interactions");
    let staged = union.path().join("union.parquet");
    ok(
        union.path(),
        &[
            "sql",
            &format!(
                "COPY (SELECT * REPLACE (CASE WHEN lead_id = {DUPLICATE} THEN {MASTER} ELSE lead_id END AS lead_id) \
                 FROM interactions) TO '{}' STORED AS PARQUET",
                staged.display()
            ),
        ],
    );
    for f in std::fs::read_dir(&dir).expect("interactions") {
        std::fs::remove_file(f.expect("file").path()).expect("remove");
    }
    std::fs::rename(&staged, dir.join("union.parquet")).expect("move");
    assert_eq!(after, scores_of(union.path(), MASTER));

    // The tables show the duplicate's rows under the master; the duplicate is closed
    // as merged and keeps its lead row.
    let plan = csv_in(
        merged.path(),
        "EXPLAIN SELECT count(*) FROM interactions WHERE lead_id = 1",
    );
    assert!(plan.contains("HashJoinExec"), "{plan}");
    let shown = csv_in(
        merged.path(),
        &format!(
            "SELECT (SELECT count(*) FROM interactions WHERE lead_id = {DUPLICATE}) AS dup_rows, \
                    (SELECT count(*) FROM interactions WHERE lead_id = {MASTER}) AS master_rows, \
                    (SELECT concat(status, ':', reason) FROM lead_status WHERE lead_id = {DUPLICATE}) AS status, \
                    (SELECT count(*) FROM leads WHERE lead_id = {DUPLICATE}) AS lead_row"
        ),
    );
    let reference = csv_in(
        union.path(),
        &format!("SELECT count(*) FROM interactions WHERE lead_id = {MASTER}"),
    );
    let master_rows = reference.lines().nth(1).expect("count");
    assert_eq!(
        shown.lines().nth(1),
        Some(format!("0,{master_rows},disqualified:merged,1").as_str()),
        "{shown}"
    );
    let log = csv_in(
        merged.path(),
        "SELECT master_id, duplicate_id, action, status_before, reason_before, actor_id FROM lead_merges",
    );
    assert_eq!(
        log,
        format!(
            "master_id,duplicate_id,action,status_before,reason_before,actor_id\n{MASTER},{DUPLICATE},merged,open,created,3\n"
        )
    );
}

#[test]
fn unmerging_restores_every_score_and_status_exactly() {
    let ws = sample_copy();
    let before = scores(ws.path());
    let status = |ws: &Path| {
        csv_in(
            ws,
            "SELECT lead_id, status FROM lead_status ORDER BY lead_id",
        )
    };
    let statuses = status(ws.path());
    // Another open lead merged too, by a --query that returns the master as well (as
    // a duplicate group does): the master stays.
    ok(
        ws.path(),
        &[
            "lead",
            "merge",
            MASTER,
            DUPLICATE,
            "--query",
            "SELECT lead_id FROM leads WHERE lead_id IN (4785, 4800)",
            "--at",
            AT,
        ],
    );
    assert_eq!(
        csv_in(
            ws.path(),
            "SELECT duplicate_id FROM lead_merges ORDER BY duplicate_id"
        ),
        "duplicate_id\n4447\n4785\n"
    );
    assert_ne!(scores(ws.path()), before);
    ok(
        ws.path(),
        &[
            "lead",
            "unmerge",
            "--query",
            "SELECT duplicate_id AS lead_id FROM lead_merges",
            "--at",
            "2026-07-02 09:00:00",
        ],
    );
    assert_eq!(scores(ws.path()), before);
    assert_eq!(status(ws.path()), statuses);
    // With no merge in force the table is read directly again, without the join
    // that puts duplicates under their masters.
    let plan = csv_in(
        ws.path(),
        "EXPLAIN SELECT count(*) FROM interactions WHERE lead_id = 1",
    );
    assert!(!plan.contains("Join"), "{plan}");
    assert_eq!(
        csv_in(
            ws.path(),
            "SELECT lead_id, reason FROM lead_status WHERE lead_id IN (4447, 4785) ORDER BY lead_id"
        ),
        "lead_id,reason\n4447,unmerged\n4785,unmerged\n"
    );
    // Unmerged, the lead changes like any other again; merged, it did not.
    ok(
        ws.path(),
        &[
            "lead",
            "merge",
            MASTER,
            DUPLICATE,
            "--at",
            "2026-07-03 09:00:00",
        ],
    );
    let err = refused(
        ws.path(),
        &["lead", "qualify", DUPLICATE, "--at", "2026-07-04 09:00:00"],
    );
    assert!(
        err.contains("lead 4447 is merged into lead 4800") && err.contains("lead unmerge"),
        "{err}"
    );
    ok(
        ws.path(),
        &["lead", "unmerge", DUPLICATE, "--at", "2026-07-04 09:00:00"],
    );
    ok(
        ws.path(),
        &["lead", "qualify", DUPLICATE, "--at", "2026-07-05 09:00:00"],
    );
}

#[test]
fn a_merged_lead_has_no_training_snapshots_and_an_undone_merge_leaves_none_behind() {
    let ws = sample_copy();
    // Daily instants in June, when the leads are open; the merge lasts two days.
    let snapshots = |ws: &Path| {
        csv_in(
            ws,
            "SELECT lead_id, count(*) AS n, count(label) AS labelled \
             FROM lead_snapshots(TIMESTAMP '2026-06-09 00:00:00', TIMESTAMP '2026-06-29 00:00:00', 1, 7) \
             WHERE lead_id IN (4447, 4800) GROUP BY lead_id ORDER BY lead_id",
        )
    };
    let before = snapshots(ws.path());
    assert!(before.contains("\n4447,21,"), "{before}");
    ok(
        ws.path(),
        &[
            "lead",
            "merge",
            MASTER,
            DUPLICATE,
            "--at",
            "2026-06-10 09:00:00",
        ],
    );
    let merged = snapshots(ws.path());
    assert!(
        !merged.contains("\n4447,"),
        "the duplicate lives on as its master: {merged}"
    );
    assert!(merged.contains("\n4800,"), "{merged}");
    ok(
        ws.path(),
        &["lead", "unmerge", DUPLICATE, "--at", "2026-06-12 09:00:00"],
    );
    // Open throughout again (the merge and its undoing are no outcome): the same
    // snapshots, the two merged days included.
    assert_eq!(snapshots(ws.path()), before);
}

#[test]
fn a_merged_pair_is_no_longer_reported_as_duplicates() {
    let ws = sample_copy();
    let pairs = |ws: &Path| {
        csv_in(
            ws,
            "SELECT lead_id, duplicate_id FROM lead_duplicates(0.05) WHERE lead_id = 3772 OR duplicate_id = 3772",
        )
    };
    assert_eq!(pairs(ws.path()), "lead_id,duplicate_id\n3772,3864\n");
    ok(ws.path(), &["lead", "merge", "3864", "3772", "--at", AT]);
    assert_eq!(pairs(ws.path()), "lead_id,duplicate_id\n");
    ok(
        ws.path(),
        &["lead", "unmerge", "3772", "--at", "2026-07-02 09:00:00"],
    );
    assert_eq!(pairs(ws.path()), "lead_id,duplicate_id\n3772,3864\n");
}

#[test]
fn a_session_before_the_merge_sees_the_leads_apart() {
    let ws = sample_copy();
    let before = scores_of(ws.path(), MASTER);
    ok(ws.path(), &["lead", "merge", MASTER, DUPLICATE, "--at", AT]);
    let as_of = |t: &str| {
        let o = leadql_in(
            ws.path(),
            &[
                "--as-of",
                t,
                "sql",
                "--format",
                "csv",
                &format!(
                    "SELECT lead_id, score FROM score_leads('engagement', TIMESTAMP '2026-06-30 00:00:00') WHERE lead_id = {MASTER}"
                ),
            ],
        );
        common::succeeded(&o)
    };
    let apart = as_of("2026-07-01 08:00:00");
    let together = as_of("2026-07-01 10:00:00");
    assert_ne!(apart, together);
    let engagement = before
        .iter()
        .find(|l| l.contains(",engagement,"))
        .expect("engagement score");
    let score = engagement.split(',').nth(2).expect("score");
    assert_eq!(
        apart.lines().nth(1),
        Some(format!("{MASTER},{score}").as_str())
    );
}

#[test]
fn merges_that_cannot_be_are_refused_and_record_nothing() {
    let ws = sample_copy();
    let w = ws.path();
    let untouched = logs(w);
    let cases: [(&[&str], &str); 8] = [
        (
            &["lead", "merge", "5", "5"],
            "lead 5 cannot be merged with itself",
        ),
        (
            &["lead", "merge", "5", "999999"],
            "lead 999999 does not exist",
        ),
        (
            &["lead", "merge", "999999", "5"],
            "master lead 999999 does not exist",
        ),
        (
            &["lead", "merge", "2516", "2534", "--at", AT],
            "lead 2516 (opportunity 678) and lead 2534 (opportunity 685) both have open opportunities",
        ),
        (
            &["lead", "merge", MASTER, "2534", "--at", AT],
            "lead 2534 has open opportunity 685: make it the master",
        ),
        (
            &["lead", "merge", MASTER, "4426", "--at", AT],
            "lead 4426 is qualified: only open leads can be merged",
        ),
        (
            &[
                "lead",
                "merge",
                MASTER,
                DUPLICATE,
                "--at",
                "2020-01-01 00:00:00",
            ],
            "after --at 2020-01-01 00:00:00",
        ),
        (&["lead", "unmerge", DUPLICATE], "lead 4447 is not merged"),
    ];
    for (args, expected) in cases {
        let err = refused(w, args);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            err.contains("nothing was recorded") || err.contains("does not exist"),
            "{err}"
        );
        assert_eq!(logs(w), untouched, "{args:?} recorded something");
    }
    let err = refused(w, &["lead", "merge", MASTER]);
    assert!(err.contains("no lead to merge"), "{err}");

    // Once merged: no second master, no merging into a merged lead, no merging a lead
    // that has merged leads of its own.
    ok(w, &["lead", "merge", MASTER, DUPLICATE, "--at", AT]);
    let merged = logs(w);
    for (args, expected) in [
        (
            ["lead", "merge", "5", DUPLICATE, "--at", AT],
            "lead 4447 is already merged into lead 4800",
        ),
        (
            ["lead", "merge", DUPLICATE, "5", "--at", AT],
            "master lead 4447 is itself merged into lead 4800",
        ),
        (
            ["lead", "merge", "5", MASTER, "--at", AT],
            "lead 4800 has merged leads of its own (4447)",
        ),
    ] {
        let err = refused(w, &args);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(logs(w), merged, "{args:?} recorded something");
    }
    let err = refused(
        w,
        &["lead", "unmerge", DUPLICATE, "--at", "2026-06-30 00:00:00"],
    );
    assert!(
        err.contains("lead 4447's latest change (or creation) is at 2026-07-01 09:00:00"),
        "{err}"
    );
    assert_eq!(logs(w), merged);
}
