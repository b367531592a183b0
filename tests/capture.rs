//! The capture functions from SQL: edge cases (NULL, empty, unicode, wrong types) and
//! a check on the sample's messy emails and phones.

use std::path::Path;
use std::process::{Command, Output};

fn leadql(args: &[&str]) -> Output {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    Command::new(env!("CARGO_BIN_EXE_leadql"))
        .env_remove("LEADQL_DATA")
        .arg("--data")
        .arg(sample)
        .arg("sql")
        .args(args)
        .output()
        .expect("runs")
}

fn csv(sql: &str) -> String {
    let o = leadql(&["--format", "csv", sql]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn capture_functions_handle_null_empty_and_unicode() {
    assert_eq!(
        csv(
            "SELECT normalize_email(e) AS n, email_domain(e) AS d FROM (VALUES (' Ana.Pérez@Example.COM '), (''), (NULL), ('ana@'), ('mailto:BO@x.io')) t(e)"
        ),
        "n,d\nana.pérez@example.com,example.com\n,\n,\n,\nbo@x.io,x.io\n"
    );
    assert_eq!(
        csv(
            "SELECT normalize_phone(p) AS p FROM (VALUES ('+44 20 7946 0958'), ('0044 (20) 7946-0958'), ('(020) 7946.0958 ext 4'), ('n/a'), (''), (NULL)) t(p)"
        ),
        "p\n+442079460958\n+442079460958\n02079460958\n\"\"\n\"\"\n\"\"\n"
    );
    assert_eq!(
        csv(
            "SELECT round(name_similarity(a, b), 4) AS s FROM (VALUES ('Núñez, José', 'jose nunez'), ('martha', 'marhta'), ('Li Wei', NULL), ('', 'x'), ('李伟', '李伟')) t(a, b)"
        ),
        "s\n1.0\n0.9611\n\"\"\n\"\"\n1.0\n"
    );
    let o = leadql(&["SELECT name_similarity('a', 1)"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("name_similarity(a, b) expects two strings"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = leadql(&["SELECT normalize_email()"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn sample_emails_and_phones_normalise() {
    // The generator writes emails with stray case and spaces and phones in many
    // formats: every non-empty email normalises, and normalising is idempotent.
    assert_eq!(
        csv(
            "SELECT count(*) FILTER (WHERE email IS NOT NULL AND normalize_email(email) IS NULL) AS bad, \
             count(*) FILTER (WHERE normalize_email(normalize_email(email)) IS DISTINCT FROM normalize_email(email)) AS unstable, \
             count(*) FILTER (WHERE normalize_phone(normalize_phone(phone)) IS DISTINCT FROM normalize_phone(phone)) AS unstable_phones \
             FROM leads"
        ),
        "bad,unstable,unstable_phones\n0,0,0\n"
    );
}
