//! End-to-end tests of the `leadql` binary on the bundled sample and on generated
//! workspaces: real Parquet files, real processes, real exit codes.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leadql"));
    c.env_remove("LEADQL_DATA");
    c
}

/// A copy of the bundled sample, without the state a local `leadql run` may have
/// recorded in `data/sample` (tests never read the sample in place).
fn sample() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    common::copy_sample(tmp.path());
    tmp
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("leadql runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a query on the sample and returns stdout, failing the test on error.
fn sql(args: &[&str]) -> String {
    let data = sample();
    let mut all = vec!["--data", data.path().to_str().expect("utf-8 path"), "sql"];
    all.extend_from_slice(args);
    let o = run(&all);
    assert!(
        o.status.success(),
        "leadql sql {args:?} failed: {}",
        stderr(&o)
    );
    stdout(&o)
}

/// Asserts a clean failure: exit code 1, one `error:` line naming `needle`, no panic.
fn assert_clean_error(o: &Output, needle: &str) {
    assert_failure(o, 1, needle);
}

/// Asserts a clean usage error: exit code 2, one `error:` line naming `needle`.
fn assert_usage_error(o: &Output, needle: &str) {
    assert_failure(o, 2, needle);
}

/// Asserts a value the argument parser refuses: exit code 2, a first line
/// `error: invalid value 'VALUE' for 'ARG …'` and `needle` (the valid values, or why
/// the value is not one).
fn assert_invalid_value(o: &Output, value: &str, arg: &str, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("error: invalid value '{value}' for '{arg} ")),
        "{err}"
    );
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

fn assert_failure(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

fn checksums(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for table in fs::read_dir(dir).expect("ls") {
        let table = table.expect("entry").path();
        let files: Vec<PathBuf> = if table.is_dir() {
            fs::read_dir(&table)
                .expect("ls")
                .map(|e| e.expect("entry").path())
                .collect()
        } else {
            vec![table.clone()]
        };
        for f in files {
            let key = f.strip_prefix(dir).expect("inside").display().to_string();
            out.insert(key, fs::read(&f).expect("read"));
        }
    }
    out
}

fn generate(dir: &Path, leads: &str, seed: &str) {
    let o = run(&[
        "generate",
        "--data",
        dir.to_str().expect("utf-8"),
        "--leads",
        leads,
        "--seed",
        seed,
        "-q",
    ]);
    assert!(o.status.success(), "generate failed: {}", stderr(&o));
}

#[test]
fn same_seed_gives_identical_files_and_another_seed_differs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    generate(&a, "2000", "7");
    generate(&b, "2000", "7");
    generate(&c, "2000", "8");
    let (ca, cb, cc) = (checksums(&a), checksums(&b), checksums(&c));
    assert_eq!(
        ca.keys().count(),
        13,
        "7 tables, 2 scoring models, a policy, a view, a model recipe, workspace.toml: {:?}",
        ca.keys()
    );
    assert!(ca == cb, "same seed must give byte-identical files");
    let differing = ca.iter().filter(|(k, v)| cc.get(*k) != Some(v)).count();
    assert!(
        differing >= 6,
        "another seed must change the data ({differing} files differ)"
    );
}

#[test]
fn regenerating_replaces_tables_without_leaving_stale_parts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ws");
    let d = dir.to_str().expect("utf-8");
    let o = run(&[
        "generate",
        "--data",
        d,
        "--leads",
        "3000",
        "--seed",
        "1",
        "--leads-per-part",
        "1000",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read_dir(dir.join("leads")).expect("ls").count(), 3);
    let o = run(&[
        "generate", "--data", d, "--leads", "500", "--seed", "1", "-q", "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read_dir(dir.join("leads")).expect("ls").count(), 1);
    let o = run(&[
        "--data",
        d,
        "sql",
        "SELECT count(*) AS n FROM leads",
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&o), "n\n500\n");
    let hidden: Vec<_> = fs::read_dir(&dir)
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "staging left behind: {hidden:?}");
}

#[test]
fn a_zero_lead_workspace_has_every_table_empty() {
    let tmp = tempfile::tempdir().expect("tempdir");
    generate(tmp.path(), "0", "1");
    let o = run(&[
        "--data",
        tmp.path().to_str().expect("utf-8"),
        "sql",
        "--format",
        "csv",
        "SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM interactions) AS interactions",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "leads,interactions\n0,0\n");
}

#[test]
fn sample_has_five_thousand_leads_and_joins_with_interactions() {
    assert_eq!(
        sql(&["SELECT count(*) AS n FROM leads", "--format", "csv"]),
        "n\n5000\n"
    );
    let out = sql(&[
        "--format",
        "csv",
        "SELECT l.status, count(DISTINCT l.lead_id) AS leads, count(i.interaction_id) AS interactions \
         FROM leads l LEFT JOIN interactions i ON i.lead_id = l.lead_id GROUP BY l.status ORDER BY l.status",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "status,leads,interactions");
    let statuses: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["disqualified", "open", "qualified"]);
    let total: u64 = lines[1..]
        .iter()
        .map(|l| {
            l.split(',')
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(total, 5000);
}

#[test]
fn current_status_matches_the_last_lifecycle_event() {
    let out = sql(&[
        "--format",
        "csv",
        "SELECT count(*) AS mismatches FROM leads l JOIN (\
           SELECT lead_id, last_value(status ORDER BY event_id) AS status FROM lead_status_events GROUP BY lead_id\
         ) e USING (lead_id) WHERE e.status <> l.status",
    ]);
    assert_eq!(out, "mismatches\n0\n");
}

#[test]
fn table_format_shows_a_row_count() {
    let out = sql(&["SELECT lead_id FROM leads ORDER BY lead_id LIMIT 2"]);
    assert!(out.contains("| lead_id |"), "{out}");
    assert!(out.trim_end().ends_with("(2 rows)"), "{out}");
    let out = sql(&[
        "SELECT lead_id FROM leads ORDER BY lead_id",
        "--max-rows",
        "3",
    ]);
    assert!(out.contains("(5000 rows, first 3 shown"), "{out}");
}

#[test]
fn file_with_several_statements_runs_in_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("q.sql");
    fs::write(
        &file,
        "-- hot leads\nCREATE VIEW hot AS SELECT lead_id FROM interactions WHERE type = 'pricing_page_visit';\n\
         SELECT count(DISTINCT lead_id) > 0 AS any_hot FROM hot;\n",
    )
    .expect("write");
    let out = sql(&["-f", file.to_str().expect("utf-8"), "--format", "csv"]);
    assert_eq!(out, "any_hot\ntrue\n");
}

#[test]
fn output_file_is_written_and_readable_as_parquet() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("out/hot.parquet");
    sql(&[
        "SELECT lead_id, score FROM (SELECT lead_id, count(*) AS score FROM interactions GROUP BY lead_id) WHERE score > 20",
        "--format",
        "parquet",
        "--output",
        path.to_str().expect("utf-8"),
    ]);
    let file = fs::File::open(&path).expect("written");
    let reader =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("valid parquet")
            .build()
            .expect("reader");
    let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    let expected = sql(&[
        "--format",
        "csv",
        "SELECT count(*) AS n FROM (SELECT lead_id FROM interactions GROUP BY lead_id HAVING count(*) > 20)",
    ]);
    assert_eq!(format!("n\n{rows}\n"), expected);
    assert_eq!(
        fs::read_dir(path.parent().expect("dir"))
            .expect("ls")
            .count(),
        1,
        "no temporary left"
    );
}

#[test]
fn arrow_stream_output_reads_back() {
    let data = sample();
    let o = run(&[
        "--data",
        data.path().to_str().expect("utf-8"),
        "sql",
        "--format",
        "arrow",
        "SELECT lead_id, email, created_at FROM leads ORDER BY lead_id LIMIT 10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let reader =
        datafusion::arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(o.stdout), None)
            .expect("IPC stream");
    assert_eq!(reader.schema().field(2).name(), "created_at");
    let rows: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
    assert_eq!(rows, 10);
}

/// The Python interpreter used to check interoperability: `LEADQL_PYTHON` (set by
/// `scripts/test`, a virtual environment with pyarrow) or `python3`.
fn python() -> String {
    std::env::var("LEADQL_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn python_reads(format: &str, script: &str) -> String {
    let data = sample();
    let o = run(&[
        "--data",
        data.path().to_str().expect("utf-8"),
        "sql",
        "--format",
        format,
        "SELECT lead_id, first_name, email, company_size, created_at, closed_at FROM leads ORDER BY lead_id LIMIT 50",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs (set LEADQL_PYTHON or use scripts/test)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&o.stdout)
        .expect("pipe");
    let out = child.wait_with_output().expect("python finishes");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn python_csv_json_and_pyarrow_read_the_outputs() {
    let csv = python_reads(
        "csv",
        "import csv,sys; r=list(csv.DictReader(sys.stdin)); print(len(r), r[0]['lead_id'], sum(1 for x in r if x['closed_at']==''))",
    );
    let json = python_reads(
        "json",
        "import json,sys; r=json.load(sys.stdin); print(len(r), r[0]['lead_id'], sum(1 for x in r if x['closed_at'] is None))",
    );
    let ndjson = python_reads(
        "ndjson",
        "import json,sys; r=[json.loads(l) for l in sys.stdin]; print(len(r), r[0]['lead_id'], sum(1 for x in r if x['closed_at'] is None))",
    );
    let arrow = python_reads(
        "arrow",
        "import pyarrow as pa,sys; t=pa.ipc.open_stream(sys.stdin.buffer).read_all(); print(t.num_rows, t.column('lead_id')[0].as_py(), t.column('closed_at').null_count)",
    );
    assert!(csv.starts_with("50 1 "), "{csv}");
    assert_eq!(csv, json, "CSV and JSON disagree");
    assert_eq!(json, ndjson, "JSON and NDJSON disagree");
    assert_eq!(json, arrow, "JSON and Arrow disagree");
    // Names with accents survive every format.
    let names = python_reads(
        "json",
        "import json,sys; print(any(any(ord(c) > 127 for c in (x['first_name'] or '')) for x in json.load(sys.stdin)))",
    );
    assert_eq!(names, "True");
}

fn broken_workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    generate(tmp.path(), "300", "3");
    tmp
}

/// Runs `sql QUERY` on `ws` and returns the output.
fn query(ws: &Path, sql: &str) -> Output {
    common::leadql_in(ws, &["sql", "--format", "csv", sql])
}

/// Asserts a failure (exit 1, no panic) whose `error:` line names `file`.
fn assert_names_file(o: &Output, file: &Path) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(
        line.contains(&file.display().to_string()) && line.contains("not a readable Parquet file"),
        "the error does not name {}: {err}",
        file.display()
    );
}

#[test]
fn truncated_parquet_file_fails_the_queries_that_read_its_table_naming_it() {
    let ws = common::sample_copy();
    let file = ws.path().join("interactions/part-00000.parquet");
    let bytes = fs::read(&file).expect("read");
    fs::write(&file, &bytes[..bytes.len() / 2]).expect("truncate");
    for sql in [
        "SELECT count(*) FROM interactions",
        "SELECT type, count(*) FROM interactions GROUP BY type",
        "SELECT count(*) FROM leads l JOIN interactions i USING (lead_id)",
    ] {
        assert_names_file(&query(ws.path(), sql), &file);
    }
    // Commands that do not read the table still work, with a warning naming the file.
    let o = query(ws.path(), "SELECT count(*) FROM leads");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "count(*)\n5000\n");
    assert!(
        stderr(&o).contains("warning: table interactions:")
            && stderr(&o).contains("part-00000.parquet"),
        "{}",
        stderr(&o)
    );
    let o = run(&["--data", ws.path().to_str().expect("utf-8"), "schema"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A command that reads it through a function fails the same way.
    assert_names_file(
        &query(
            ws.path(),
            "SELECT sum(score) FROM score_leads('engagement')",
        ),
        &file,
    );
}

#[test]
fn garbled_parquet_pages_fail_with_the_file_named() {
    let ws = common::sample_copy();
    let file = ws.path().join("interactions/part-00000.parquet");
    let mut bytes = fs::read(&file).expect("read");
    // Keep the footer (its length is the 4 bytes before the closing magic), garble
    // every page before it.
    let n = bytes.len();
    let footer = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().expect("4 bytes")) as usize;
    for (i, b) in bytes[4..n - 8 - footer].iter_mut().enumerate() {
        *b = (i * 37 % 251) as u8;
    }
    fs::write(&file, &bytes).expect("garble");
    // The footer still opens; decoding the pages fails and names the file.
    for sql in [
        "SELECT type, count(*) FROM interactions GROUP BY type",
        "SELECT * FROM interactions ORDER BY interaction_id LIMIT 3",
    ] {
        assert_names_file(&query(ws.path(), sql), &file);
    }
    let o = query(ws.path(), "SELECT count(*) FROM leads");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "count(*)\n5000\n");
}

#[test]
fn wrong_column_type_names_the_file_and_column() {
    let ws = broken_workspace();
    let d = ws.path().to_str().expect("utf-8");
    // Rewrite leads with company_size as text, through leadql itself.
    let bad = ws.path().join("bad.parquet");
    let o = run(&[
        "--data",
        d,
        "sql",
        "--format",
        "parquet",
        "--output",
        bad.to_str().expect("utf-8"),
        "SELECT * REPLACE (CAST(company_size AS VARCHAR) AS company_size) FROM leads",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    fs::rename(&bad, ws.path().join("leads/part-00000.parquet")).expect("replace");
    let o = run(&["--data", d, "sql", "SELECT count(*) FROM leads"]);
    assert_clean_error(
        &o,
        "leads/part-00000.parquet: column 'company_size' of table 'leads' has type Utf8View, expected int32",
    );
}

#[test]
fn missing_column_names_the_file_and_column() {
    let ws = broken_workspace();
    let d = ws.path().to_str().expect("utf-8");
    let bad = ws.path().join("bad.parquet");
    let o = run(&[
        "--data",
        d,
        "sql",
        "--format",
        "parquet",
        "--output",
        bad.to_str().expect("utf-8"),
        "SELECT * EXCLUDE (occurred_at) FROM interactions",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    fs::rename(&bad, ws.path().join("interactions/part-00000.parquet")).expect("replace");
    let o = run(&["--data", d, "sql", "SELECT 1"]);
    assert_clean_error(&o, "table 'interactions' needs column 'occurred_at'");
}

#[test]
fn unknown_table_lists_the_known_tables() {
    let data = sample();
    let o = run(&[
        "--data",
        data.path().to_str().expect("utf-8"),
        "sql",
        "SELECT * FROM lead",
    ]);
    assert_clean_error(
        &o,
        "unknown table 'lead' (tables: accounts, contacts, imports, interactions, lead_features, lead_imports, lead_merges, lead_status, lead_status_events, leads, opportunities, sellers)",
    );
}

#[test]
fn syntax_error_says_where() {
    let data = sample();
    let o = run(&[
        "--data",
        data.path().to_str().expect("utf-8"),
        "sql",
        "SELECT count(* FROM leads",
    ]);
    assert_clean_error(&o, "SQL syntax error");
    assert!(stderr(&o).contains("Line: 1, Column"), "{}", stderr(&o));
}

#[test]
fn not_a_workspace_and_bad_arguments_are_clear_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = run(&[
        "--data",
        tmp.path().to_str().expect("utf-8"),
        "sql",
        "SELECT 1",
    ]);
    assert_clean_error(&o, "not a leadql workspace: it has no leads/ folder");
    let data = sample();
    let o = run(&[
        "--data",
        data.path().to_str().expect("utf-8"),
        "sql",
        "--format",
        "xml",
        "SELECT 1",
    ]);
    assert_invalid_value(
        &o,
        "xml",
        "--format",
        "[possible values: table, csv, json, ndjson, parquet, arrow]",
    );
    let o = run(&[
        "--data",
        data.path().to_str().expect("utf-8"),
        "--memory-limit",
        "lots",
        "sql",
        "SELECT 1",
    ]);
    assert_invalid_value(
        &o,
        "lots",
        "--memory-limit",
        "'--memory-limit <SIZE>': not a size (examples: 512M, 4G)",
    );
    let o = run(&["generate", "--leads", "10"]);
    assert_usage_error(&o, "generate needs --data DIR");
}

#[test]
fn a_small_memory_limit_spills_instead_of_failing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = sample();
    let spill = tmp.path().join("spill");
    let out = tmp.path().join("sorted.csv");
    let query = "SELECT i.*, l.email FROM interactions i JOIN leads l USING (lead_id) ORDER BY i.asset, i.occurred_at DESC";
    let limited = |extra: &[&str]| {
        let mut args = vec![
            "--data",
            data.path().to_str().expect("utf-8"),
            "--memory-limit",
            "16M",
            "--spill-dir",
            spill.to_str().expect("utf-8"),
            "sql",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    // The sort does not fit in 16 MB with the join beside it: it must spill to disk...
    let analyze = format!("EXPLAIN ANALYZE {query}");
    let o = limited(&["--max-rows", "0", &analyze]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = stdout(&o);
    let sort = plan
        .lines()
        .find(|l| l.contains("SortExec"))
        .expect("a sort in the plan");
    assert!(
        !sort.contains("spill_count=0,") && sort.contains("spill_count="),
        "no spill: {sort}"
    );
    // ...and still return every row.
    let o = limited(&[
        "--format",
        "csv",
        "--output",
        out.to_str().expect("utf-8"),
        query,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = fs::read_to_string(&out).expect("read").lines().count();
    let n = sql(&["--format", "csv", "SELECT count(*) AS n FROM interactions"]);
    assert_eq!(format!("n\n{}\n", lines - 1), n);
}

#[test]
fn shell_runs_statements_and_backslash_commands() {
    let data = sample();
    let mut child = bin()
        .args(["--data", data.path().to_str().expect("utf-8"), "shell"])
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shell starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"SELECT count(*) AS n\n  FROM leads;\nSELECT nope FROM leads;\n\\d\n\\d sellers\nSELECT 41 + 1 AS last_without_semicolon")
        .expect("type");
    let o = child.wait_with_output().expect("shell ends");
    let out = stdout(&o);
    // A piped script with a failing statement goes on, then exits 1.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 statement failed"), "{}", stderr(&o));
    assert!(
        out.contains("| 42 "),
        "the last statement runs without ';': {out}"
    );
    assert!(out.contains("| 5000 |"), "multi-line statement: {out}");
    assert!(
        out.contains("interactions") && out.contains("core table"),
        "\\d: {out}"
    );
    assert!(
        out.contains("capacity") && out.contains("Maximum number of open hand-offs"),
        "\\d sellers: {out}"
    );
    assert!(
        stderr(&o).contains("error: "),
        "the bad statement reports an error and the shell goes on"
    );
}

#[test]
fn invalid_usage_exits_2_and_errors_exit_1() {
    let data = sample();
    let ws = data.path();
    let bad_format = common::leadql_in(ws, &["sql", "--format", "nope", "SELECT 1"]);
    assert_invalid_value(
        &bad_format,
        "nope",
        "--format",
        "[possible values: table, csv, json, ndjson, parquet, arrow]",
    );
    let bad_query = common::leadql_in(ws, &["sql", "SELECT nope"]);
    assert_eq!(bad_query.status.code(), Some(1), "{bad_query:?}");
}

#[test]
fn both_sample_models_score_from_the_command_line() {
    for model in ["engagement", "fit"] {
        let out = sql(&[
            "--format",
            "csv",
            &format!(
                "SELECT count(*) > 4000 AS many, count(DISTINCT grade) >= 3 AS graded FROM score_leads('{model}')"
            ),
        ]);
        assert_eq!(out, "many,graded\ntrue,true\n", "{model}");
    }
    let data = sample();
    let o = run(&[
        "--data",
        data.path().to_str().expect("utf-8"),
        "sql",
        "SELECT * FROM score_leads('engagment')",
    ]);
    assert_clean_error(
        &o,
        "unknown scoring model 'engagment' (models: engagement, fit)",
    );
}

/// Issue 15: `generate --data EXISTING_WORKSPACE --leads 10` silently replaced the data.
#[test]
fn generate_refuses_a_non_empty_directory_without_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("ws");
    let d = dir.to_str().expect("utf-8");
    generate(&dir, "50", "3");
    fs::create_dir_all(dir.join("imports")).expect("mkdir");
    fs::write(dir.join("imports/keep.txt"), "mine").expect("write");
    let before = checksums(&dir);
    let o = run(&["generate", "--data", d, "--leads", "10", "-q"]);
    assert_clean_error(&o, d);
    assert!(
        stderr(&o).contains("is not empty") && stderr(&o).contains("--force"),
        "{}",
        stderr(&o)
    );
    assert!(checksums(&dir) == before, "nothing was replaced");
    // Any non-empty directory, workspace or not.
    let other = tmp.path().join("notes");
    fs::create_dir_all(&other).expect("mkdir");
    fs::write(other.join("todo.txt"), "x").expect("write");
    let o = run(&[
        "generate",
        "--data",
        other.to_str().expect("utf-8"),
        "--leads",
        "10",
        "-q",
    ]);
    assert_clean_error(&o, "--force");
    // An empty directory is fine; --force replaces the tables.
    let empty = tmp.path().join("empty");
    fs::create_dir_all(&empty).expect("mkdir");
    generate(&empty, "10", "3");
    let o = run(&[
        "generate", "--data", d, "--leads", "10", "--seed", "3", "-q", "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "--data",
        d,
        "sql",
        "SELECT count(*) AS n FROM leads",
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&o), "n\n10\n");
}

/// Issue 15: the piped shell wrote `~/.leadql_history`. History belongs to interactive
/// sessions only (and then to `$XDG_DATA_HOME/leadql/history`).
#[test]
fn a_piped_shell_writes_no_history() {
    let data = sample();
    let home = tempfile::tempdir().expect("tempdir");
    let xdg = home.path().join("xdg-data");
    let mut child = bin()
        .args(["--data", data.path().to_str().expect("utf-8"), "shell"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", &xdg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shell starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"SELECT count(*) AS n FROM leads;\n\\q\n")
        .expect("type");
    let o = child.wait_with_output().expect("shell ends");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("| 5000 |"), "{}", stdout(&o));
    let written = common::walk(home.path());
    assert!(written.is_empty(), "a piped shell wrote {written:?}");
}
