//! `leadql import`: CSV and LinkedIn imports into a copy of the sample workspace and
//! into a new one, with malformed rows, unknown columns, other delimiters and
//! encodings, repeated imports, the real bank-marketing file, and `--keep-unmapped`
//! (inferred types, name collisions, type stability across imports, kept columns in
//! SQL, a rule model and `CREATE MODEL`).

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

fn leadql(ws: &Path, args: &[&str]) -> Output {
    common::leadql_in(ws, args)
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn csv(ws: &Path, sql: &str) -> String {
    let o = leadql(ws, &["sql", "--format", "csv", sql]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn number(ws: &Path, sql: &str) -> i64 {
    csv(ws, sql)
        .lines()
        .nth(1)
        .expect("a row")
        .trim()
        .parse()
        .expect("a number")
}

fn sample() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    common::copy_sample(&ws);
    (tmp, ws)
}

/// Windows-1252 bytes of a text (the test texts use only characters it has).
fn cp1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            c if (c as u32) < 0x100 => c as u8,
            c => panic!("{c} is not in the test's subset of Windows-1252"),
        })
        .collect()
}

fn files(ws: &Path) -> Vec<PathBuf> {
    let mut f: Vec<PathBuf> = common::walk(ws)
        .into_iter()
        .filter(|p| !p.starts_with(ws.join("_rejects")))
        .collect();
    f.sort();
    f
}

#[test]
fn a_semicolon_windows_1252_file_imports_good_rows_rejects_bad_ones_and_repeats_as_nothing() {
    let (tmp, ws) = sample();
    // An existing account and contact to link to.
    let (account, domain, account_name) = {
        let r = csv(
            &ws,
            "SELECT account_id, domain, name FROM accounts WHERE domain <> '' ORDER BY account_id LIMIT 1",
        );
        let row: Vec<String> = r
            .lines()
            .nth(1)
            .expect("row")
            .split(',')
            .map(String::from)
            .collect();
        (row[0].clone(), row[1].clone(), row[2].clone())
    };
    let contact_email = csv(
        &ws,
        "SELECT email FROM contacts WHERE account_id IS NOT NULL ORDER BY contact_id LIMIT 1",
    )
    .lines()
    .nth(1)
    .expect("row")
    .to_string();
    let text = format!(
        "E-mail;Vorname;Nachname;Firma;Position;Land;Erstellt;Mitarbeiter;Notiz\r\n\
         jürgen.müller@{domain};Jürgen;Müller;;Leiter Vertrieb;Deutschland;31.05.2026 10:00;1.200;€ budget\r\n\
         {};Known;Contact;;CFO;FR;01.06.2026;50;\r\n\
         not-an-email;Carl;Jones;Foo AG;CTO;FR;02.06.2026;10;\r\n\
         dan@newco-import.test;Dan;Wu;NewCo Import;Analyst;Atlantis;32.06.2026;ten;\r\n\
         too;few;fields\r\n\
         zoé@newco-import.test;Zoé;Stone;NewCo Import GmbH;VP Sales;GB;03.06.2026;51-200;\r\n\
         ;;;{account_name};;;03.06.2026;;\r\n",
        contact_email.to_uppercase()
    );
    let file = tmp.path().join("messe.csv");
    std::fs::write(&file, cp1252(&text)).expect("write");
    let mapping = tmp.path().join("messe.toml");
    std::fs::write(
        &mapping,
        "date_format = \"%d.%m.%Y %H:%M\"\n\
         [columns]\nemail = \"E-mail\"\nfirst_name = \"Vorname\"\nlast_name = \"Nachname\"\n\
         company = \"Firma\"\njob_title = \"Position\"\ncountry = \"Land\"\n\
         created_at = \"Erstellt\"\ncompany_size = \"Mitarbeiter\"\n\
         [set]\nsource = \"event\"\nconsent = \"marketing\"\n\
         [interaction]\ntype = \"event_checkin\"\nasset_value = \"Hannover Messe 2026\"\n",
    )
    .expect("mapping");
    let leads_before = number(&ws, "SELECT count(*) FROM leads");
    let rejects = tmp.path().join("rejects.csv");
    let args = [
        "import",
        "csv",
        file.to_str().expect("utf-8"),
        "--mapping",
        mapping.to_str().expect("utf-8"),
        "--rejects",
        rejects.to_str().expect("utf-8"),
        "--at",
        "2026-06-30 00:00:00",
    ];
    let err = ok(&leadql(&ws, &args));
    assert!(err.contains("windows-1252, delimiter ';'"), "{err}");
    assert!(
        err.contains("7 rows") && err.contains("5 imported") && err.contains("2 rejected"),
        "{err}"
    );
    // An invalid optional field (the email) keeps the lead, with the field NULL and a
    // warning row in the rejects file.
    assert!(
        err.contains("1 rows imported with warnings: an invalid optional field stored as NULL"),
        "{err}"
    );
    assert!(err.contains("columns not imported: Notiz"), "{err}");

    // The rejects file names line, column and reason, and keeps the row's cells; the
    // warning comes in line order.
    let r = std::fs::read_to_string(&rejects).expect("rejects");
    let lines: Vec<&str> = r.lines().collect();
    assert_eq!(lines.len(), 4, "{r}");
    assert!(
        lines[0].starts_with("line,column,value,reason,E-mail,Vorname"),
        "{r}"
    );
    assert!(
        lines[1].starts_with(
            "4,E-mail,not-an-email,\"warning: 'not-an-email' is not an email address; E-mail stored as NULL, the lead is imported\",not-an-email,Carl"
        ),
        "{r}"
    );
    assert!(lines[2].starts_with("5,"), "{r}");
    for what in [
        "Erstellt",
        "Mitarbeiter",
        "Land",
        "does not match date_format",
        "unknown country 'Atlantis'",
    ] {
        assert!(lines[2].contains(what), "{what}: {r}");
    }
    assert!(
        lines[3].starts_with("6,(row),,\"has 3 fields, the header has 9\""),
        "{r}"
    );

    // Good rows landed, with their values read and linked.
    assert_eq!(number(&ws, "SELECT count(*) FROM leads"), leads_before + 5);
    let imported = csv(
        &ws,
        "SELECT first_name, created_at, source, channel, consent, country, company_size, size_band, job_function, seniority, \
         account_id IS NOT NULL AS has_account, contact_id IS NOT NULL AS has_contact FROM leads l JOIN lead_imports USING (lead_id) ORDER BY line",
    );
    assert_eq!(
        imported,
        "first_name,created_at,source,channel,consent,country,company_size,size_band,job_function,seniority,has_account,has_contact\n\
         Jürgen,2026-05-31T10:00:00,event,event,marketing,DE,1200,1001-5000,sales,director,true,true\n\
         Known,2026-06-01T00:00:00,event,event,marketing,FR,50,11-50,finance,c_level,true,true\n\
         Carl,2026-06-02T00:00:00,event,event,marketing,FR,10,1-10,engineering,c_level,true,false\n\
         Zoé,2026-06-03T00:00:00,event,event,marketing,GB,,51-200,sales,vp,true,true\n\
         ,2026-06-03T00:00:00,event,event,marketing,,,,,,true,false\n"
    );
    // Jürgen joins the account of his email domain; the known contact is reused; Zoé's
    // new company became one account; the last row matched the account by name.
    assert_eq!(
        csv(
            &ws,
            "SELECT CAST(l.account_id AS VARCHAR) AS a FROM leads l JOIN lead_imports i USING (lead_id) WHERE i.line IN (2, 8) ORDER BY line"
        ),
        format!("a\n{account}\n{account}\n")
    );
    assert_eq!(
        number(
            &ws,
            &format!("SELECT count(*) FROM contacts WHERE lower(email) = lower('{contact_email}')")
        ),
        1
    );
    assert_eq!(
        number(
            &ws,
            "SELECT count(*) FROM accounts WHERE name = 'NewCo Import GmbH' OR name = 'NewCo Import'"
        ),
        1,
        "the rejected row's company was not created; Zoé's was"
    );
    assert_eq!(
        number(
            &ws,
            "SELECT count(*) FROM interactions WHERE type = 'event_checkin' AND asset = 'Hannover Messe 2026'"
        ),
        5
    );
    assert_eq!(
        number(
            &ws,
            "SELECT count(*) FROM lead_status_events e JOIN lead_imports USING (lead_id) WHERE e.reason = 'created'"
        ),
        5
    );

    // The same file again adds nothing, and says so.
    let before = files(&ws);
    let err = ok(&leadql(&ws, &args));
    assert!(
        err.contains("0 imported, 5 already imported, 2 rejected"),
        "{err}"
    );
    assert_eq!(files(&ws), before, "a repeated import writes no file");
    assert_eq!(number(&ws, "SELECT count(*) FROM leads"), leads_before + 5);
    assert_eq!(number(&ws, "SELECT count(*) FROM imports"), 1);
}

#[test]
fn mapping_errors_name_the_column_and_write_nothing() {
    let (tmp, ws) = sample();
    let file = tmp.path().join("leads.csv");
    std::fs::write(&file, "Email\tName\tCompany\na@b.io\tAna Lopez\tX\n").expect("write");
    let before = files(&ws);
    let f = file.to_str().expect("utf-8");

    let o = leadql(&ws, &["import", "csv", f, "--map", "phone=Telephone"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("[columns] phone: the file has no column 'Telephone' (its columns: Email, Name, Company)"),
        "{err}"
    );
    let o = leadql(&ws, &["import", "csv", f, "--map", "emial=Email"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown lead field 'emial'"));
    let o = leadql(&ws, &["import", "csv", f, "--set", "consent=maybe"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--set") && err.contains("unknown consent level 'maybe'"),
        "{err}"
    );
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[columns]\nemail = \"Email\"\nphone = 3\n").expect("write");
    let o = leadql(
        &ws,
        &[
            "import",
            "csv",
            f,
            "--mapping",
            bad.to_str().expect("utf-8"),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.toml, line 3"), "{err}");
    assert_eq!(files(&ws), before);

    // Every row refused: an error, nothing written.
    std::fs::write(
        &file,
        "Email,Created\nnope,2026-01-01\nstill-no,2026-01-02\n",
    )
    .expect("write");
    let o = leadql(&ws, &["import", "csv", f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("all 2 rows were rejected"));
    assert_eq!(files(&ws), before);

    // Too many rejects: refused as a whole.
    std::fs::write(
        &file,
        "Email,Created\nok@x.io,2026-01-01\nnope,2026-01-02\n",
    )
    .expect("write");
    let o = leadql(&ws, &["import", "csv", f, "--max-rejects", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("more than --max-rejects 0"));
    assert_eq!(files(&ws), before);

    // Automatic mapping with a tab delimiter, full name split, dry run writes nothing.
    std::fs::write(&file, "Email\tName\tCompany\na@b.io\tAna María Lopez\tX\n").expect("write");
    let err = ok(&leadql(&ws, &["import", "csv", f, "--dry-run"]));
    assert!(
        err.starts_with("dry run, nothing written") && err.contains("1 imported"),
        "{err}"
    );
    assert_eq!(files(&ws), before);
    ok(&leadql(
        &ws,
        &["import", "csv", f, "--at", "2026-06-30 00:00:00"],
    ));
    assert_eq!(
        csv(
            &ws,
            "SELECT first_name, last_name, created_at, source, consent, status FROM leads WHERE email = 'a@b.io'"
        ),
        "first_name,last_name,created_at,source,consent,status\nAna María,Lopez,2026-06-30T00:00:00,import,none,open\n"
    );
}

fn linkedin_export(rows: &[(&str, &str, &str, &str)]) -> Vec<u8> {
    // LinkedIn's columns, with a custom question; UTF-16LE with BOM like Excel's
    // "Unicode text" saves.
    let mut text = String::from(
        "Lead ID,First Name,Last Name,Email Address,Company Name,Job Title,Country,Phone Number,Form Name,Campaign Name,Submitted At,What is your budget?\n",
    );
    for (id, first, email, submitted) in rows {
        text.push_str(&format!(
            "{id},{first},Kowalski,{email},Łódź Robotics sp. z o.o.,Head of IT,Poland,+48 22 123 45 67,Demo request Q2,\"Robotics, Q2 2026\",{submitted},\"10,000\"\n"
        ));
    }
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

#[test]
fn linkedin_exports_import_with_their_form_submissions_and_overlaps_add_only_new_leads() {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("new-ws");
    let first = tmp.path().join("leads-1.csv");
    std::fs::write(
        &first,
        linkedin_export(&[
            (
                "urn:li:lead:1",
                "Anna",
                "anna@lodz-robotics.pl",
                "2026-05-02 09:15:00 UTC",
            ),
            (
                "urn:li:lead:2",
                "Piotr",
                "piotr@lodz-robotics.pl",
                "2026-05-03 11:00:00 UTC",
            ),
        ]),
    )
    .expect("write");
    let err = ok(&leadql(
        &ws,
        &[
            "import",
            "linkedin",
            first.to_str().expect("utf-8"),
            "--at",
            "2026-06-30 00:00:00",
        ],
    ));
    assert!(
        err.contains("utf-16le") && err.contains("2 imported"),
        "{err}"
    );
    assert!(
        err.contains(
            "accounts: 0 matched, 1 created; contacts: 0 matched, 2 created; 2 interactions"
        ),
        "{err}"
    );
    assert!(
        err.contains("columns not imported: What is your budget?"),
        "{err}"
    );
    assert_eq!(
        csv(
            &ws,
            "SELECT l.first_name, l.source, l.channel, l.campaign, l.country, l.job_function, l.seniority, i.type, i.asset, i.occurred_at, li.external_id \
                  FROM leads l JOIN interactions i USING (lead_id) JOIN lead_imports li USING (lead_id) ORDER BY l.lead_id"
        ),
        "first_name,source,channel,campaign,country,job_function,seniority,type,asset,occurred_at,external_id\n\
         Anna,social_linkedin,social,\"Robotics, Q2 2026\",PL,it,director,form_submit,Demo request Q2,2026-05-02T09:15:00,urn:li:lead:1\n\
         Piotr,social_linkedin,social,\"Robotics, Q2 2026\",PL,it,director,form_submit,Demo request Q2,2026-05-03T11:00:00,urn:li:lead:2\n"
    );
    assert_eq!(
        csv(&ws, "SELECT name, domain, country, territory FROM accounts"),
        "name,domain,country,territory\nŁódź Robotics sp. z o.o.,lodz-robotics.pl,PL,emea\n"
    );

    // A later export repeats lead 2 and adds lead 3: only lead 3 is new.
    let second = tmp.path().join("leads-2.csv");
    std::fs::write(
        &second,
        linkedin_export(&[
            (
                "urn:li:lead:2",
                "Piotr",
                "piotr@lodz-robotics.pl",
                "2026-05-03 11:00:00 UTC",
            ),
            (
                "urn:li:lead:3",
                "Ewa",
                "ewa@lodz-robotics.pl",
                "2026-06-01 08:00:00 UTC",
            ),
        ]),
    )
    .expect("write");
    let err = ok(&leadql(
        &ws,
        &["import", "linkedin", second.to_str().expect("utf-8")],
    ));
    assert!(err.contains("1 imported, 1 already imported"), "{err}");
    assert!(err.contains("accounts: 1 matched, 0 created"), "{err}");
    assert_eq!(number(&ws, "SELECT count(*) FROM leads"), 3);
    assert_eq!(
        number(&ws, "SELECT count(DISTINCT account_id) FROM leads"),
        1
    );
    assert_eq!(number(&ws, "SELECT count(*) FROM imports"), 2);
    // Imported leads score and qualify like any other.
    assert_eq!(number(&ws, "SELECT count(*) FROM lead_status"), 3);
}

#[test]
fn the_bank_marketing_file_imports_with_its_documented_mapping() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // In the repository, gzip-compressed (CC BY 4.0: tests/data/bank-marketing/LICENCE.md).
    let file = root.join("tests/data/bank-marketing/bank-additional-full.csv.gz");
    assert!(file.is_file(), "{} is missing", file.display());
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("bank");
    let mapping = root.join("data/mappings/bank-marketing.toml");
    let args = [
        "import",
        "csv",
        file.to_str().expect("utf-8"),
        "--mapping",
        mapping.to_str().expect("utf-8"),
        "--at",
        "2010-11-30 00:00:00",
    ];
    let err = ok(&leadql(&ws, &args));
    assert!(
        err.contains(
            "41188 rows (utf-8, delimiter ';'): 41188 imported, 0 already imported, 0 rejected"
        ),
        "{err}"
    );
    // The data set's published class balance: 4,640 subscribed of 41,188.
    assert_eq!(
        csv(
            &ws,
            "SELECT status, count(*) AS n, min(age) AS min_age, max(age) AS max_age FROM leads GROUP BY status ORDER BY status"
        ),
        "status,n,min_age,max_age\ndisqualified,36548,17,95\nqualified,4640,17,98\n"
    );
    assert_eq!(
        number(&ws, "SELECT count(*) FROM leads WHERE job_title IS NULL"),
        330
    );
    let err = ok(&leadql(&ws, &args));
    assert!(err.contains("0 imported, 41188 already imported"), "{err}");
    assert_eq!(number(&ws, "SELECT count(*) FROM leads"), 41188);
}

#[test]
fn out_of_range_years_are_refused_and_invalid_optional_fields_become_null_with_a_warning() {
    let (tmp, ws) = sample();
    let file = tmp.path().join("years.csv");
    std::fs::write(
        &file,
        "Email,Created,Country,Employees\n\
         y1@x.io,0000-01-01,DE,10\n\
         y2@x.io,1899-12-31 23:59:59,DE,10\n\
         y3@x.io,2201-01-01,DE,10\n\
         y4@x.io,1900-01-01,DE,10\n\
         y5@x.io,2200-12-31 23:59:59,Atlantis,ten\n",
    )
    .expect("write");
    let rejects = tmp.path().join("rejects.csv");
    let mapping = tmp.path().join("m.toml");
    std::fs::write(
        &mapping,
        "[columns]\nemail = \"Email\"\ncreated_at = \"Created\"\ncountry = \"Country\"\ncompany_size = \"Employees\"\n",
    )
    .expect("mapping");
    let err = ok(&leadql(
        &ws,
        &[
            "import",
            "csv",
            file.to_str().expect("utf-8"),
            "--mapping",
            mapping.to_str().expect("utf-8"),
            "--rejects",
            rejects.to_str().expect("utf-8"),
            "--at",
            "2026-06-30 00:00:00",
        ],
    ));
    assert!(
        err.contains("5 rows") && err.contains("2 imported") && err.contains("3 rejected"),
        "{err}"
    );
    assert!(
        err.contains("1 rows imported with warnings: an invalid optional field stored as NULL"),
        "{err}"
    );
    let r = std::fs::read_to_string(&rejects).expect("rejects");
    let lines: Vec<&str> = r.lines().collect();
    assert_eq!(lines.len(), 5, "{r}");
    // Line and column of each out-of-range instant.
    for (line, value) in [
        (2, "0000-01-01"),
        (3, "1899-12-31 23:59:59"),
        (4, "2201-01-01"),
    ] {
        let expected = format!(
            "{line},Created,{value},'{value}' is outside the years 1900–2200,y{}@x.io",
            line - 1
        );
        assert!(lines[line - 1].starts_with(&expected), "{expected}: {r}");
    }
    // The last row is imported with its country and head count NULL, and warned about.
    assert!(
        lines[4].starts_with(
            "6,\"Employees, Country\",\"ten, Atlantis\",\"warning: 'ten' is not a head count"
        ),
        "{r}"
    );
    assert!(
        lines[4].contains("Country stored as NULL, the lead is imported"),
        "{r}"
    );
    assert_eq!(
        csv(
            &ws,
            "SELECT email, created_at, country, company_size, size_band FROM leads WHERE email LIKE 'y_@x.io' ORDER BY email"
        ),
        "email,created_at,country,company_size,size_band\n\
         y4@x.io,1900-01-01T00:00:00,DE,10,1-10\n\
         y5@x.io,2200-12-31T23:59:59,,,\n"
    );
}

#[test]
fn import_linkedin_refuses_a_file_without_linkedins_columns() {
    let (tmp, ws) = sample();
    let file = tmp.path().join("not-linkedin.csv");
    std::fs::write(&file, "Email,First Name,Company\nnl@x.io,Nora,Acme\n").expect("write");
    let before = files(&ws);
    let f = file.to_str().expect("utf-8");
    let o = leadql(&ws, &["import", "linkedin", f]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not a LinkedIn Lead Gen Forms export: it lacks the columns Lead ID, Submitted At (its columns: Email, First Name, Company)"),
        "{err}"
    );
    assert_eq!(files(&ws), before, "nothing written");
    // The same file through import csv is new, not "already imported".
    let err = ok(&leadql(&ws, &["import", "csv", f]));
    assert!(err.contains("1 imported"), "{err}");
}

/// Imports `bytes` as a CSV into `ws`; returns the command's output.
fn import_bytes(ws: &Path, name: &str, bytes: &[u8]) -> Output {
    let file = ws.parent().expect("parent").join(name);
    std::fs::write(&file, bytes).expect("write");
    leadql(
        ws,
        &[
            "import",
            "csv",
            file.to_str().expect("utf-8"),
            "--at",
            "2026-06-30 00:00:00",
        ],
    )
}

#[test]
fn windows_1252_and_utf8_bom_files_import_with_correct_names_and_mixed_ones_are_refused() {
    let (_tmp, ws) = sample();
    // Windows-1252 throughout, bytes written by hand: ü = FC, é = E9, è = E8, ç = E7.
    let cp1252: &[u8] = b"Email,First Name,Last Name,Company,Country\r\n\
        hans.mueller@mueller-enc.de,Hans,M\xFCller,M\xFCller Maschinenbau,DE\r\n\
        f.lefevre@sg-enc.fr,Fran\xE7ois,Lef\xE8vre,Soci\xE9t\xE9 G\xE9n\xE9rale,FR\r\n";
    let err = ok(&import_bytes(&ws, "cp1252.csv", cp1252));
    assert!(
        err.contains("windows-1252") && err.contains("2 imported"),
        "{err}"
    );
    assert_eq!(
        csv(
            &ws,
            "SELECT last_name, company FROM leads WHERE email LIKE '%-enc.%' ORDER BY email"
        ),
        "last_name,company\nLefèvre,Société Générale\nMüller,Müller Maschinenbau\n"
    );
    // UTF-8 with a byte-order mark: the first header is still `Email`.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(
        "Email,First Name,Last Name,Company,Country\n\
         zoe@zoe-bom.io,Zoë,Ødegård,Œuvre Ltd,NO\n"
            .as_bytes(),
    );
    let err = ok(&import_bytes(&ws, "bom.csv", &bom));
    assert!(err.contains("utf-8") && err.contains("1 imported"), "{err}");
    assert_eq!(
        csv(
            &ws,
            "SELECT email, first_name, last_name, company FROM leads WHERE email LIKE '%-bom.%'"
        ),
        "email,first_name,last_name,company\nzoe@zoe-bom.io,Zoë,Ødegård,Œuvre Ltd\n"
    );
    // UTF-8 with one Windows-1252 line: refused, naming the line, nothing imported.
    let mut mixed = "Email,First Name,Last Name,Company,Country\n\
                     jose@mixed-enc.es,José,García,Acme,ES\n"
        .as_bytes()
        .to_vec();
    mixed.extend_from_slice(b"pena@mixed-enc.es,Pe\xF1a,Ruiz,Acme,ES\n");
    let leads = number(&ws, "SELECT count(*) FROM leads");
    let o = import_bytes(&ws, "mixed.csv", &mixed);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("line 3: not valid UTF-8") && err.contains("mixes encodings"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(number(&ws, "SELECT count(*) FROM leads"), leads);
}

/// A new workspace under a temporary directory, and a helper importing a file's
/// `text` into it with the given extra arguments.
fn new_workspace() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tmp");
    let ws = tmp.path().join("ws");
    (tmp, ws)
}

fn import_text(ws: &Path, name: &str, text: &str, args: &[&str]) -> Output {
    let file = ws.parent().expect("parent").join(name);
    std::fs::write(&file, text).expect("write");
    let mut all = vec![
        "import",
        "csv",
        file.to_str().expect("utf-8"),
        "--at",
        "2026-06-30 00:00:00",
    ];
    all.extend(args);
    leadql(ws, &all)
}

fn failed(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    err
}

#[test]
fn keep_unmapped_stores_other_columns_with_inferred_types_and_nulls() {
    let (_tmp, ws) = new_workspace();
    let file = "Email,First Name,Plan Tier,Seats,Spend,Trial,Newsletter,Demo Date,Signed,Customer No,Budget,Notes,Empty\n\
        a1@x.io,Ann,gold,12,1500.50,true,Yes,2026-03-01,25/03/2026,00123,\"1,200\",call back,\n\
        a2@x.io,Bob,silver,,99,FALSE,no,2026-03-02 10:30:00,03/04/2026,00456,800,,\n\
        a3@x.io,Cid,,-3,,,,,,98765,\"2,500\",n/a,\n";
    // Without the option the columns are listed as not imported.
    let err = ok(&import_text(&ws, "own.csv", file, &["--dry-run"]));
    assert!(
        err.contains("columns not imported: Plan Tier, Seats, Spend, Trial, Newsletter, Demo Date, Signed, Customer No, Budget, Notes, Empty"),
        "{err}"
    );
    let err = ok(&import_text(&ws, "own.csv", file, &["--keep-unmapped"]));
    assert!(err.contains("3 imported"), "{err}");
    assert!(
        err.contains(
            "kept as extra lead columns: Plan Tier as plan_tier (text), Seats as seats (int), \
             Spend as spend (float), Trial as trial (bool), Newsletter as newsletter (bool), \
             Demo Date as demo_date (timestamp), Signed as signed (timestamp), \
             Customer No as customer_no (text), Budget as budget (text), Notes as notes (text)"
        ),
        "{err}"
    );
    // A column of empty cells has no type to infer: not kept.
    assert!(err.contains("columns not imported: Empty"), "{err}");
    assert_eq!(
        csv(
            &ws,
            "SELECT arrow_typeof(plan_tier) AS p, arrow_typeof(seats) AS s, arrow_typeof(spend) AS f, \
             arrow_typeof(trial) AS t, arrow_typeof(demo_date) AS d, arrow_typeof(customer_no) AS c \
             FROM leads LIMIT 1"
        ),
        "p,s,f,t,d,c\nUtf8,Int64,Float64,Boolean,Timestamp(µs),Utf8\n"
    );
    assert_eq!(
        csv(
            &ws,
            "SELECT email, plan_tier, seats, spend, trial, newsletter, demo_date, signed, customer_no, budget, notes \
             FROM leads ORDER BY email"
        ),
        "email,plan_tier,seats,spend,trial,newsletter,demo_date,signed,customer_no,budget,notes\n\
         a1@x.io,gold,12,1500.5,true,true,2026-03-01T00:00:00,2026-03-25T00:00:00,00123,\"1,200\",call back\n\
         a2@x.io,silver,,99.0,false,false,2026-03-02T10:30:00,2026-04-03T00:00:00,00456,800,\n\
         a3@x.io,,-3,,,,,,98765,\"2,500\",n/a\n"
    );
    assert_eq!(
        number(
            &ws,
            "SELECT count(*) FROM leads WHERE seats IS NULL AND spend = 99"
        ),
        1
    );
}

#[test]
fn keep_unmapped_name_collisions_are_errors_naming_both_columns_and_write_nothing() {
    let (tmp, ws) = sample();
    let before = files(&ws);
    let err = failed(&import_text(
        &ws,
        "ids.csv",
        "Email,Lead ID,Score\nc1@x.io,L-1,3\n",
        &["--keep-unmapped"],
    ));
    assert!(
        err.contains("column 'Lead ID' would be kept as 'lead_id', a lead column"),
        "{err}"
    );
    let err = failed(&import_text(
        &ws,
        "twice.csv",
        "Email,Plan Tier,plan_tier\nc1@x.io,gold,1\n",
        &["--keep-unmapped"],
    ));
    assert!(
        err.contains("columns 'Plan Tier' and 'plan_tier' would both be kept as extra lead column 'plan_tier'"),
        "{err}"
    );
    let err = failed(&import_text(
        &ws,
        "account.csv",
        "Email,Account Segment\nc1@x.io,smb\n",
        &["--keep-unmapped"],
    ));
    assert!(
        err.contains(
            "column 'Account Segment' would be kept as 'account_segment', the name rule models give an account column"
        ),
        "{err}"
    );
    // With [extra] naming one of them, the other is kept under its own name.
    let mapping = tmp.path().join("rename.toml");
    std::fs::write(
        &mapping,
        "[columns]\nemail = \"Email\"\n[extra]\n\"Lead ID\" = { type = \"text\", name = \"crm_lead_id\" }\n",
    )
    .expect("mapping");
    assert_eq!(files(&ws), before, "nothing written by refused imports");
    let err = ok(&import_text(
        &ws,
        "ids.csv",
        "Email,Lead ID,Score\nc1@x.io,L-1,3\n",
        &[
            "--keep-unmapped",
            "--mapping",
            mapping.to_str().expect("utf-8"),
        ],
    ));
    assert!(
        err.contains("kept as extra lead columns: Score as score (int)"),
        "{err}"
    );
    assert_eq!(
        csv(
            &ws,
            "SELECT crm_lead_id, score FROM leads WHERE email = 'c1@x.io'"
        ),
        "crm_lead_id,score\nL-1,3\n"
    );
}

#[test]
fn a_later_import_must_fit_the_stored_types_or_fails_naming_column_and_line() {
    let (tmp, ws) = new_workspace();
    ok(&import_text(
        &ws,
        "first.csv",
        "Email,Seats,Score,Plan,Trial\nd1@x.io,4,0.5,gold,yes\nd2@x.io,5,1.5,silver,no\n",
        &["--keep-unmapped"],
    ));
    let before = files(&ws);
    // A decimal where earlier imports stored whole numbers.
    let err = failed(&import_text(
        &ws,
        "second.csv",
        "Email,Seats,Score\nd3@x.io,6,2\nd4@x.io,2.5,3\n",
        &["--keep-unmapped"],
    ));
    assert!(
        err.contains("second.csv")
            && err.contains(
                "column 'Seats', line 3: '2.5' is not an int (int column 'seats', as earlier imports stored it); nothing was imported"
            ),
        "{err}"
    );
    // An identifier (leading zero) is text, not an int either.
    let err = failed(&import_text(
        &ws,
        "third.csv",
        "Email,Seats\nd3@x.io,6\n\nd4@x.io,007\n",
        &["--keep-unmapped"],
    ));
    assert!(
        err.contains("column 'Seats', line 4: '007' is not an int"),
        "{err}"
    );
    // A timestamp where earlier imports stored bool.
    let err = failed(&import_text(
        &ws,
        "fourth.csv",
        "Email,Trial\nd3@x.io,2026-01-01\n",
        &["--keep-unmapped"],
    ));
    assert!(
        err.contains("column 'Trial', line 2: '2026-01-01' is not a bool"),
        "{err}"
    );
    // An explicit [extra] type must agree too.
    let mapping = tmp.path().join("float.toml");
    std::fs::write(&mapping, "[extra]\nSeats = \"float\"\n").expect("mapping");
    let err = failed(&import_text(
        &ws,
        "fifth.csv",
        "Email,Seats\nd3@x.io,6\n",
        &["--mapping", mapping.to_str().expect("utf-8")],
    ));
    assert!(
        err.contains("[extra] 'Seats' is declared float, but earlier imports stored 'seats' as int: declare it int"),
        "{err}"
    );
    assert_eq!(files(&ws), before, "nothing written by refused imports");

    // Widening is safe: whole numbers into a float column, anything into text, true
    // and false into a yes/no column.
    let err = ok(&import_text(
        &ws,
        "sixth.csv",
        "Email,Seats,Score,Plan,Trial\nd5@x.io,7,3,42,TRUE\nd6@x.io,,,007,\n",
        &["--keep-unmapped"],
    ));
    assert!(
        err.contains("Seats as seats (int), Score as score (float), Plan as plan (text), Trial as trial (bool)"),
        "{err}"
    );
    assert_eq!(
        csv(
            &ws,
            "SELECT email, seats, score, plan, trial FROM leads ORDER BY email"
        ),
        "email,seats,score,plan,trial\n\
         d1@x.io,4,0.5,gold,true\n\
         d2@x.io,5,1.5,silver,false\n\
         d5@x.io,7,3.0,42,true\n\
         d6@x.io,,,007,\n"
    );
    // A later file without those columns: NULL there.
    ok(&import_text(
        &ws,
        "seventh.csv",
        "Email\nd7@x.io\n",
        &["--keep-unmapped"],
    ));
    assert_eq!(
        number(
            &ws,
            "SELECT count(*) FROM leads WHERE seats IS NULL AND score IS NULL"
        ),
        2
    );
}

#[test]
fn keep_unmapped_with_a_mapping_keeps_its_extra_types_and_infers_the_rest() {
    let (tmp, ws) = new_workspace();
    let mapping = tmp.path().join("badges.toml");
    std::fs::write(
        &mapping,
        "id = \"Badge ID\"\n\
         [columns]\nemail = \"E-mail\"\n\
         [extra]\n\"Visits\" = { type = \"int\", name = \"booth_visits\" }\n\"Badge type\" = \"text\"\n",
    )
    .expect("mapping");
    let m = mapping.to_str().expect("utf-8");
    let err = ok(&import_text(
        &ws,
        "badges.csv",
        "Badge ID,E-mail,Visits,Badge type,Score,Region\n\
         B1,e1@x.io,\"1,200\",007,4.5,EMEA\n\
         B2,e2@x.io,3,VIP,5,\n",
        &["--mapping", m, "--keep-unmapped"],
    ));
    // The [extra] columns keep their declared types (an int with a thousands separator,
    // a text of digits); the badge ID is the row's identity, not kept.
    assert!(
        err.contains("kept as extra lead columns: Score as score (float), Region as region (text)"),
        "{err}"
    );
    assert!(!err.contains("columns not imported"), "{err}");
    assert_eq!(
        csv(
            &ws,
            "SELECT email, booth_visits, badge_type, score, region, arrow_typeof(booth_visits) AS t \
             FROM leads ORDER BY email"
        ),
        "email,booth_visits,badge_type,score,region,t\n\
         e1@x.io,1200,007,4.5,EMEA,Int64\n\
         e2@x.io,3,VIP,5.0,,Int64\n"
    );
    // An [extra] name and a kept column's name colliding: both file columns named.
    std::fs::write(
        &mapping,
        "[columns]\nemail = \"E-mail\"\n[extra]\n\"Visits\" = { type = \"int\", name = \"score\" }\n",
    )
    .expect("mapping");
    let err = failed(&import_text(
        &ws,
        "badges2.csv",
        "E-mail,Visits,Score\ne3@x.io,1,2\n",
        &["--mapping", m, "--keep-unmapped"],
    ));
    assert!(
        err.contains(
            "columns 'Visits' and 'Score' would both be kept as extra lead column 'score'"
        ),
        "{err}"
    );
}

#[test]
fn kept_columns_are_usable_in_sql_rule_models_and_create_model() {
    let (_tmp, ws) = new_workspace();
    let mut text = String::from("Email,Status,Seats,Trial,Plan,Spend\n");
    for i in 0..60 {
        let converted = i % 3 == 0;
        text.push_str(&format!(
            "f{i}@x.io,{},{},{},{},{}\n",
            if converted {
                "qualified"
            } else {
                "disqualified"
            },
            if converted { 10 + i % 7 } else { 1 + i % 9 },
            if i % 2 == 0 { "true" } else { "false" },
            ["gold", "silver", "bronze"][i % 3],
            if i % 5 == 0 {
                String::new()
            } else {
                format!("{}.25", i * 10)
            },
        ));
    }
    let err = ok(&import_text(&ws, "own.csv", &text, &["--keep-unmapped"]));
    assert!(err.contains("60 imported"), "{err}");
    assert!(
        err.contains("Seats as seats (int), Trial as trial (bool), Plan as plan (text), Spend as spend (float)"),
        "{err}"
    );
    // A rule model over the file's own columns.
    let scoring = ws.join("scoring");
    std::fs::create_dir_all(&scoring).expect("mkdir");
    std::fs::write(
        scoring.join("own.toml"),
        "description = \"From the CSV's own columns\"\nsales_ready = 20\n\
         [[fit]]\nname = \"big_team\"\nwhen = \"seats >= 10\"\npoints = 15\n\
         [[fit]]\nname = \"on_trial\"\nwhen = \"trial\"\npoints = 10\n\
         [[fit]]\nname = \"gold\"\nwhen = \"plan = 'gold' AND spend > 100\"\npoints = 5\n\
         [[grade]]\nname = \"B\"\nmax = 20\n[[grade]]\nname = \"A\"\nmin = 20\n",
    )
    .expect("rule model");
    assert_eq!(
        csv(
            &ws,
            "SELECT l.email, s.score, s.sales_ready FROM score_leads('own', TIMESTAMP '2026-07-01 00:00:00') s \
             JOIN leads l USING (lead_id) WHERE l.email IN ('f0@x.io', 'f3@x.io', 'f1@x.io') ORDER BY l.email"
        ),
        // f0: 10 seats, trial, gold but no spend; f1: 2 seats, no trial; f3: 13 seats,
        // no trial, gold with spend 30.25.
        "email,score,sales_ready\nf0@x.io,25.0,true\nf1@x.io,0.0,false\nf3@x.io,15.0,false\n"
    );
    // And as features of a predictive model.
    ok(&leadql(
        &ws,
        &[
            "sql",
            "CREATE MODEL own OPTIONS (model_type = 'logistic_reg', label = 'converted', seed = 1) \
             AS SELECT seats, trial, plan, spend, status = 'qualified' AS converted FROM leads",
        ],
    ));
    let features = csv(
        &ws,
        "SELECT DISTINCT split_part(feature, '=', 1) AS f FROM model_features('own') ORDER BY f",
    );
    for f in ["seats", "trial", "plan", "spend"] {
        assert!(
            features.lines().any(|l| l.starts_with(f)),
            "{f}: {features}"
        );
    }
    assert_eq!(
        number(
            &ws,
            "SELECT count(*) FROM leads WHERE predict_score('own', seats, trial, plan, spend) IS NOT NULL"
        ),
        60
    );
}

#[test]
fn rows_matching_existing_leads_are_flagged_skipped_or_kept() {
    // Lead 1 of the sample typed again (case, spacing, the phone's own spacing), and
    // one new person.
    let file_text = "first_name,last_name,email,phone,company,country\n\
        BO,Santetti, Bo_Santetti85@SantettiNetworks.nl ,+31 20 7564816,Santetti Networks,NL\n\
        Nieuw,Persoon,nieuw.persoon@example.org,,Example BV,NL\n";
    let run = |mode: &str| {
        let (tmp, ws) = sample();
        let file = tmp.path().join("fair.csv");
        std::fs::write(&file, file_text).expect("write");
        let before = number(&ws, "SELECT count(*) FROM leads");
        let err = ok(&leadql(
            &ws,
            &[
                "import",
                "csv",
                file.to_str().expect("utf-8"),
                "--on-duplicate",
                mode,
                "--at",
                "2026-07-01 00:00:00",
            ],
        ));
        let added = number(&ws, "SELECT count(*) FROM leads") - before;
        let listed: Vec<String> = std::fs::read_dir(ws.join("_rejects"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().ends_with("-duplicates.csv"))
                    .map(|p| std::fs::read_to_string(p).expect("read"))
                    .collect()
            })
            .unwrap_or_default();
        (err, added, listed, tmp)
    };
    let (err, added, listed, _t) = run("flag");
    assert_eq!(added, 2, "{err}");
    assert!(
        err.contains("1 rows match an existing lead (imported, flagged)"),
        "{err}"
    );
    assert_eq!(listed.len(), 1, "{err}");
    let rows: Vec<&str> = listed[0].lines().collect();
    assert_eq!(
        rows[0],
        "line,lead_id,duplicate_of,match_score,reasons,action"
    );
    assert_eq!(rows.len(), 2, "{}", listed[0]);
    let cells: Vec<&str> = rows[1].split(',').collect();
    assert_eq!((cells[0], cells[2]), ("2", "1"), "{}", rows[1]);
    assert!(
        cells[1].parse::<i64>().is_ok_and(|id| id > 5000),
        "{}",
        rows[1]
    );
    assert!(
        rows[1].contains("same_email") && rows[1].contains("same_phone"),
        "{}",
        rows[1]
    );
    assert!(rows[1].ends_with(",flagged"), "{}", rows[1]);

    let (err, added, listed, _t) = run("skip");
    assert_eq!(added, 1, "{err}");
    assert!(
        err.contains("1 rows match an existing lead (not imported)"),
        "{err}"
    );
    assert!(
        listed[0]
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("2,,1,") && l.ends_with(",skipped")),
        "{}",
        listed[0]
    );

    let (err, added, listed, _t) = run("keep");
    assert_eq!(added, 2, "{err}");
    assert!(
        !err.contains("match an existing lead") && listed.is_empty(),
        "{err}"
    );
}

#[test]
fn phones_of_no_possible_length_in_the_leads_country_are_kept_with_a_warning() {
    let (_tmp, ws) = new_workspace();
    let o = import_text(
        &ws,
        "phones.csv",
        "email,phone,country\n\
         a@berlin-example.de,030 1234567,DE\n\
         b@example.com,+1 415 555 010,US\n\
         c@example.fr,01 23,FR\n",
        &[],
    );
    let err = ok(&o);
    assert!(err.contains("3 imported"), "{err}");
    assert!(
        err.contains("2 rows imported with warnings"),
        "the short French number is no phone at all (NULL), the US one is kept: {err}"
    );
    // (CSV output quotes a leading `+` against formula injection.)
    assert_eq!(
        csv(&ws, "SELECT email, phone FROM leads ORDER BY email"),
        "email,phone\na@berlin-example.de,030 1234567\nb@example.com,'+1 415 555 010\nc@example.fr,\n"
    );
    let rejects: Vec<PathBuf> = common::walk(&ws)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("_rejects"))
        .collect();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let r = std::fs::read_to_string(&rejects[0]).expect("rejects");
    assert!(
        r.contains("'+1 415 555 010' has 9 digits after +1, no possible length there (7, 10 digits, by libphonenumber's metadata); kept as written"),
        "{r}"
    );
    assert!(!r.contains("030 1234567"), "{r}");
}

#[test]
fn imported_closed_leads_were_open_from_creation_to_closing() {
    let (_tmp, ws) = new_workspace();
    let text = "email,status,created_at,closed_at\n\
                won@x.io,qualified,2026-01-10 00:00:00,2026-03-10 00:00:00\n\
                lost@x.io,disqualified,2026-01-10 00:00:00,\n\
                new@x.io,open,2026-01-10 00:00:00,\n";
    let err = ok(&import_text(&ws, "history.csv", text, &[]));
    assert!(err.contains("3 imported"), "{err}");
    // Each lead opened at its creation; a closed one closed at closed_at (or, without
    // one, at its creation).
    assert_eq!(
        csv(
            &ws,
            "SELECT l.email, e.occurred_at, e.status, e.reason FROM lead_status_events e \
             JOIN leads l USING (lead_id) ORDER BY l.email, e.event_id"
        ),
        "email,occurred_at,status,reason\n\
         lost@x.io,2026-01-10T00:00:00,open,created\n\
         lost@x.io,2026-01-10T00:00:00,disqualified,\n\
         new@x.io,2026-01-10T00:00:00,open,created\n\
         won@x.io,2026-01-10T00:00:00,open,created\n\
         won@x.io,2026-03-10T00:00:00,qualified,\n"
    );
    // Between its creation and its closing the won lead was open: to a session as of
    // an instant in between, and to the training snapshots at such instants.
    let o = leadql(
        &ws,
        &[
            "--as-of",
            "2026-02-15 00:00:00",
            "sql",
            "--format",
            "csv",
            "SELECT email, status FROM leads ORDER BY email",
        ],
    );
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "email,status\nlost@x.io,disqualified\nnew@x.io,open\nwon@x.io,open\n"
    );
    let o = leadql(
        &ws,
        &[
            "--as-of",
            "2026-06-30 00:00:00",
            "sql",
            "--format",
            "csv",
            "SELECT l.email, s.as_of, s.label FROM lead_snapshots(TIMESTAMP '2026-02-01 00:00:00', \
             TIMESTAMP '2026-03-01 00:00:00', 28, 30) s JOIN leads l USING (lead_id) \
             ORDER BY l.email, s.as_of",
        ],
    );
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "email,as_of,label\n\
         new@x.io,2026-02-01T00:00:00,false\n\
         new@x.io,2026-03-01T00:00:00,false\n\
         won@x.io,2026-02-01T00:00:00,false\n\
         won@x.io,2026-03-01T00:00:00,true\n"
    );
}
