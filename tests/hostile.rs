//! Lifecycle input that used to be accepted and do the wrong thing: a change dated
//! before the lead's history, a fractional lead id, a query with a trailing `;`.

mod common;

fn events(ws: &std::path::Path) -> String {
    let o = common::leadql_in(
        ws,
        &[
            "sql",
            "--format",
            "csv",
            "SELECT count(*) FROM lead_status_events",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_change_dated_before_the_leads_history_is_refused() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    let before = events(ws);
    let o = common::leadql_in(
        ws,
        &["lead", "qualify", "23", "--at", "1990-01-01 00:00:00"],
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("lead 23's latest change (or creation) is at"),
        "{e}"
    );
    assert!(e.contains("nothing was recorded"), "{e}");
    assert_eq!(events(ws), before);
}

#[test]
fn a_query_must_return_whole_lead_ids_and_may_end_with_a_semicolon() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    let before = events(ws);
    let o = common::leadql_in(
        ws,
        &[
            "lead",
            "qualify",
            "--query",
            "SELECT 11.7 AS lead_id",
            "--at",
            "2026-07-01 00:00:00",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("lead ids are whole numbers"), "{e}");
    assert_eq!(events(ws), before);
    // A trailing `;` and comment no longer break the query.
    let o = common::leadql_in(
        ws,
        &[
            "lead",
            "disqualify",
            "--reason",
            "lost",
            "--query",
            "SELECT lead_id FROM lead_status WHERE status = 'open' ORDER BY lead_id LIMIT 2; -- two leads",
            "--at",
            "2026-07-01 00:00:00",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    assert_ne!(events(ws), before);
}

#[test]
fn export_replaces_only_its_own_earlier_exports() {
    let tmp = common::sample_copy();
    let ws = tmp.path();
    let out = tempfile::tempdir().expect("out");
    let refused = |target: &str, extra: &[&str]| {
        let mut args = vec!["export", "leads", "--out", target];
        args.extend_from_slice(extra);
        let o = common::leadql_in(ws, &args);
        assert_eq!(o.status.code(), Some(1), "{target}: {o:?}");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // The workspace, a directory holding it, and the root.
    let e = refused(&ws.to_string_lossy(), &["--partition-by", "country"]);
    assert!(e.contains("is the workspace"), "{e}");
    let parent = ws.parent().expect("parent").to_string_lossy().into_owned();
    assert!(refused(&parent, &["--partition-by", "country"]).contains("is the workspace"));
    assert!(refused("/", &[]).contains("names no file"));
    // A directory that is not an earlier export keeps its content.
    let precious = out.path().join("precious");
    std::fs::create_dir_all(&precious).expect("mkdir");
    std::fs::write(precious.join("notes.txt"), "keep me").expect("write");
    let e = refused(&precious.to_string_lossy(), &["--partition-by", "country"]);
    assert!(e.contains("is not an earlier leadql export"), "{e}");
    assert_eq!(
        std::fs::read_to_string(precious.join("notes.txt")).expect("kept"),
        "keep me"
    );
    // An earlier partitioned export is replaced.
    let by_country = out.path().join("by_country");
    for _ in 0..2 {
        let o = common::leadql_in(
            ws,
            &[
                "export",
                "leads",
                "--out",
                &by_country.to_string_lossy(),
                "--partition-by",
                "country",
            ],
        );
        assert!(o.status.success(), "{o:?}");
    }
    assert!(by_country.join(".leadql-export").is_file());
}
