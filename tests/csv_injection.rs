//! CSV output neutralises spreadsheet formulas (OWASP's CSV-injection guidance): a text
//! cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
//! single quote, through `leadql sql --format csv` and `leadql export … --out x.csv`
//! (partitioned too); numbers stay numbers; `--raw` writes cells as they are.

use std::path::Path;
use std::process::{Command, Output};

mod common;

fn leadql(ws: &Path, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_leadql"))
        .env_remove("LEADQL_DATA")
        .arg("--data")
        .arg(ws)
        .args(args)
        .output()
        .expect("leadql runs");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

const QUERY: &str = "SELECT '=HYPERLINK(\"http://x\")' AS formula, '+1+2' AS plus, '@SUM(A1)' AS at, \
     chr(9) || '=1' AS tab, '-2+3' AS minus, '-5' AS negative_text, '+442079460958' AS phone, \
     -3 AS negative, -2.5 AS negative_decimal, 'Ana' AS name, CAST(NULL AS VARCHAR) AS missing";

const SAFE: &str = "formula,plus,at,tab,minus,negative_text,phone,negative,negative_decimal,name,missing\n\
     \"'=HYPERLINK(\"\"http://x\"\")\",'+1+2,'@SUM(A1),'\t=1,'-2+3,-5,+442079460958,-3,-2.5,Ana,\n";

#[test]
fn csv_output_neutralises_formulas_unless_raw() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).expect("ws");
    common::copy_sample(&ws);
    let out = leadql(&ws, &["sql", "--format", "csv", QUERY]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), SAFE);
    let out = leadql(&ws, &["sql", "--format", "csv", "--raw", QUERY]);
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        raw.contains("\"=HYPERLINK(\"\"http://x\"\")\",+1+2,@SUM(A1),\t=1,-2+3,"),
        "{raw}"
    );

    let file = tmp.path().join("x.csv");
    leadql(
        &ws,
        &["export", QUERY, "--out", file.to_str().expect("utf-8")],
    );
    assert_eq!(std::fs::read_to_string(&file).expect("x.csv"), SAFE);
    leadql(
        &ws,
        &[
            "export",
            QUERY,
            "--out",
            file.to_str().expect("utf-8"),
            "--raw",
        ],
    );
    assert!(
        std::fs::read_to_string(&file)
            .expect("x.csv")
            .contains(",+1+2,@SUM(A1),")
    );

    // Imported lead data, partitioned: every file's text cells are neutralised, the
    // partition column becomes directory names.
    let dir = tmp.path().join("parts");
    leadql(
        &ws,
        &[
            "export",
            "SELECT first_name, '=' || first_name AS formula, lead_id, country FROM leads WHERE lead_id <= 20",
            "--out",
            dir.to_str().expect("utf-8"),
            "--format",
            "csv",
            "--partition-by",
            "country",
        ],
    );
    let mut rows = 0;
    for f in common::walk(&dir) {
        let text = std::fs::read_to_string(&f).expect("part");
        for line in text.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            assert!(cells[1].starts_with("'="), "{line}");
            assert!(cells[2].parse::<i64>().is_ok(), "{line}");
            rows += 1;
        }
    }
    assert_eq!(rows, 20);
}
