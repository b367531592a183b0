//! `leadql serve` against the real `psql` (Debian's postgresql-client, installed by
//! scripts/test): queries, catalog commands, roles, SCRAM, TLS, cancel, startup
//! refusals. psycopg's tests are in python/tests/test_serve.py.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn psql_binary() -> PathBuf {
    std::env::var_os("LEADQL_PSQL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("psql"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Adds a user through `leadql user add`, the password on stdin.
fn add_user(users: &Path, name: &str, role: &str, password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadql"))
        .args(["user", "add", name, "--role", role, "--users"])
        .arg(users)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    writeln!(child.stdin.take().expect("stdin"), "{password}").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Server {
    child: Child,
    port: u16,
    _ws: tempfile::TempDir,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// A server on a copy of the sample with users alice (analyst, password
    /// "alice-pass") and mo (modeler, "mo-pass-1"), plus `extra` arguments.
    fn start(extra: &[&str]) -> Server {
        Server::start_with("1G", extra)
    }

    /// [`Server::start`] with this `--memory-limit` (per connection).
    fn start_with(memory_limit: &str, extra: &[&str]) -> Server {
        let ws = common::sample_copy();
        let dir = tempfile::tempdir().expect("dir");
        let users = dir.path().join("users.toml");
        add_user(&users, "alice", "analyst", "alice-pass");
        add_user(&users, "mo", "modeler", "mo-pass-1");
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_leadql"))
            .env_remove("LEADQL_DATA")
            .arg("--data")
            .arg(ws.path())
            .args(["--memory-limit", memory_limit, "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--users")
            .arg(&users)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let server = Server {
            child,
            port,
            _ws: ws,
            dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn psql_command(&self, user: &str, password: &str, sslmode: &str) -> Command {
        let mut c = Command::new(psql_binary());
        c.env("PGPASSWORD", password)
            .env("PGSSLMODE", sslmode)
            .env("PGCONNECT_TIMEOUT", "10")
            .args(["-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(["-U", user, "-d", "leadql"]);
        c
    }

    /// Runs psql with `-c` commands as `user`.
    fn psql(&self, user: &str, password: &str, commands: &[&str]) -> Output {
        let mut c = self.psql_command(user, password, "disable");
        c.args(["-A", "-t"]);
        for command in commands {
            c.args(["-c", command]);
        }
        c.output().expect("psql runs")
    }
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    assert!(!o.status.success(), "psql should have failed");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn psql_queries_lists_and_describes_tables() {
    let server = Server::start(&[]);
    let out = stdout(&server.psql(
        "alice",
        "alice-pass",
        &[
            "SELECT count(*) FROM leads",
            "SELECT lead_id, grade FROM score_leads('engagement') ORDER BY score DESC, lead_id LIMIT 2",
        ],
    ));
    let expected = common::csv_in(
        server._ws.path(),
        "SELECT lead_id, grade FROM score_leads('engagement') ORDER BY score DESC, lead_id LIMIT 2",
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("5000"));
    let from_cli: Vec<String> = expected
        .lines()
        .skip(1)
        .map(|l| l.replace(',', "|"))
        .collect();
    assert_eq!(lines.map(str::to_string).collect::<Vec<_>>(), from_cli);

    let tables = stdout(&server.psql("alice", "alice-pass", &["\\dt"]));
    for t in [
        "leads",
        "interactions",
        "lead_status_events",
        "opportunities",
    ] {
        assert!(
            tables.contains(&format!("public|{t}|table")),
            "{t} in {tables}"
        );
    }
    let leads = stdout(&server.psql("alice", "alice-pass", &["\\d leads"]));
    assert!(leads.contains("lead_id|bigint"), "{leads}");
    assert!(
        leads.contains("created_at|timestamp without time zone"),
        "{leads}"
    );
    assert!(leads.contains("email|text"), "{leads}");
}

#[test]
fn roles_decide_who_trains_models() {
    let server = Server::start(&[]);
    let create = "CREATE MODEL wire_test OPTIONS (model_type = 'logistic_reg', label = 'converted') AS SELECT * FROM lead_features";
    let refused = stderr(&server.psql("alice", "alice-pass", &[create]));
    assert!(
        refused.contains("permission denied for CREATE MODEL wire_test"),
        "{refused}"
    );
    assert!(refused.contains("you are analyst"), "{refused}");
    let refused = stderr(&server.psql(
        "alice",
        "alice-pass",
        &["SELECT * FROM drop_model('wire_test')"],
    ));
    assert!(refused.contains("permission denied"), "{refused}");
    let refused = stderr(&server.psql("mo", "mo-pass-1", &["COPY (SELECT 1) TO '/tmp/x.csv'"]));
    assert!(refused.contains("needs the admin role"), "{refused}");
    let refused = stderr(&server.psql("mo", "mo-pass-1", &["SELECT * FROM '/etc/passwd'"]));
    assert!(refused.contains("reads files by path"), "{refused}");

    let out = stdout(&server.psql("mo", "mo-pass-1", &[create, "SHOW MODELS"]));
    assert!(
        out.contains("wire_test|1|t|logistic_reg|converted"),
        "{out}"
    );
    // A new connection of the analyst sees the new model (no restart).
    let out = stdout(&server.psql(
        "alice",
        "alice-pass",
        &["SELECT count(*) > 0 FROM predict('wire_test', 'lead_features')"],
    ));
    assert_eq!(out.trim(), "t");
}

#[test]
fn settings_and_views_stay_in_their_connection() {
    let server = Server::start(&[]);
    let out = stdout(&server.psql(
        "alice",
        "alice-pass",
        &[
            "CREATE VIEW hot AS SELECT lead_id FROM score_leads('engagement') WHERE grade = 'Hot'",
            "SELECT count(*) > 0 FROM hot",
        ],
    ));
    assert!(out.contains('t'), "{out}");
    let err = stderr(&server.psql("alice", "alice-pass", &["SELECT count(*) FROM hot"]));
    assert!(err.contains("unknown table 'hot'"), "{err}");
    // A SET lasts for its connection only.
    let out = stdout(&server.psql(
        "alice",
        "alice-pass",
        &[
            "SET datafusion.explain.show_statistics = true",
            "SHOW datafusion.explain.show_statistics",
            "SET TIME ZONE 'Europe/Paris'",
            "SHOW timezone",
        ],
    ));
    assert!(
        out.contains("true") && out.contains("Europe/Paris"),
        "{out}"
    );
    let out = stdout(&server.psql(
        "alice",
        "alice-pass",
        &["SHOW datafusion.explain.show_statistics", "SHOW timezone"],
    ));
    assert!(
        out.contains("false") && !out.contains("true") && out.contains("UTC"),
        "{out}"
    );
}

#[test]
fn wrong_passwords_and_unknown_users_get_28p01() {
    let server = Server::start(&[]);
    let mut c = server.psql_command("alice", "wrong-password", "disable");
    c.args(["-c", "SELECT 1"]);
    let err = stderr(&c.output().expect("psql"));
    assert!(
        err.contains("password authentication failed for user \"alice\""),
        "{err}"
    );
    let mut c = server.psql_command("nobody", "whatever-1", "disable");
    c.args(["-c", "SELECT 1"]);
    let err = stderr(&c.output().expect("psql"));
    assert!(
        err.contains("password authentication failed for user \"nobody\""),
        "{err}"
    );
}

#[test]
fn psql_cancel_stops_a_running_query() {
    let server = Server::start(&[]);
    let mut c = server.psql_command("alice", "alice-pass", "disable");
    c.args([
        "-c",
        "SELECT count(*) FROM generate_series(1, 100000000000)",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = c.spawn().expect("psql");
    std::thread::sleep(Duration::from_secs(3));
    // psql sends a cancel request on SIGINT, as on Ctrl-C.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "cancel took too long"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("canceling statement due to user request"),
        "{err}"
    );
    // The connection's server side is fine afterwards.
    assert_eq!(
        stdout(&server.psql("alice", "alice-pass", &["SELECT 1"])).trim(),
        "1"
    );
}

#[test]
fn statement_timeout_stops_a_long_query() {
    let server = Server::start(&[]);
    let err = stderr(&server.psql(
        "alice",
        "alice-pass",
        &[
            "SET statement_timeout = 500",
            "SELECT count(*) FROM generate_series(1, 100000000000)",
        ],
    ));
    assert!(
        err.contains("canceling statement due to statement timeout"),
        "{err}"
    );
}

#[test]
fn tls_is_required_when_configured() {
    let dir = tempfile::tempdir().expect("dir");
    let cert = dir.path().join("server.crt");
    let key = dir.path().join("server.key");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = Server::start(&[
        "--tls-cert",
        cert.to_str().expect("utf8"),
        "--tls-key",
        key.to_str().expect("utf8"),
    ]);
    let mut c = server.psql_command("alice", "alice-pass", "require");
    c.args(["-A", "-t", "-c", "SELECT 41 + 1"]);
    assert_eq!(stdout(&c.output().expect("psql")).trim(), "42");
    let mut c = server.psql_command("alice", "alice-pass", "disable");
    c.args(["-c", "SELECT 1"]);
    let err = stderr(&c.output().expect("psql"));
    assert!(err.contains("this server requires TLS"), "{err}");
    drop(server);

    // A key that does not load is a startup error, not a plaintext server.
    std::fs::write(&key, "not a key").expect("write");
    let ws = common::sample_copy();
    let out = Command::new(env!("CARGO_BIN_EXE_leadql"))
        .arg("--data")
        .arg(ws.path())
        .args([
            "serve",
            "--insecure-no-auth",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
        ])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .output()
        .expect("serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid --tls-key") && err.contains("server.key"),
        "{err}"
    );
}

#[test]
fn no_users_and_no_flag_refuses_to_start() {
    let ws = common::sample_copy();
    let dir = tempfile::tempdir().expect("dir");
    let serve = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_leadql"))
            .arg("--data")
            .arg(ws.path())
            .arg("serve")
            .arg("--users")
            .arg(dir.path().join("users.toml"))
            .args(args)
            .output()
            .expect("serve")
    };
    let out = serve(&["--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no users: add one with `leadql user add"),
        "{err}"
    );
    let out = serve(&["--listen", "0.0.0.0:0", "--insecure-no-auth"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("only with a loopback --listen address"),
        "{err}"
    );

    // Passwords never come from the command line, and short ones are refused.
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadql"))
        .args(["user", "add", "x", "--role", "analyst", "--users"])
        .arg(dir.path().join("users.toml"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    writeln!(child.stdin.take().expect("stdin"), "short").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("shorter than 8 characters"));
    assert!(!dir.path().join("users.toml").exists(), "nothing written");
}

#[test]
fn a_removed_user_cannot_log_in_any_more() {
    let server = Server::start(&[]);
    assert_eq!(
        stdout(&server.psql("alice", "alice-pass", &["SELECT 1"])).trim(),
        "1"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_leadql"))
        .args(["user", "remove", "alice", "--users"])
        .arg(server.dir.path().join("users.toml"))
        .output()
        .expect("remove");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = server.psql_command("alice", "alice-pass", "disable");
    c.args(["-c", "SELECT 1"]);
    let err = stderr(&c.output().expect("psql"));
    assert!(err.contains("password authentication failed"), "{err}");
}

/// Debian's PostgreSQL JDBC driver and tests/jdbc/LeadqlJdbc.java compiled.
fn jdbc_client() -> (PathBuf, tempfile::TempDir) {
    let jar = std::env::var_os("LEADQL_JDBC_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/java/postgresql.jar"));
    assert!(
        jar.exists(),
        "{} missing: install Debian's libpostgresql-jdbc-java (scripts/test does) or set LEADQL_JDBC_JAR",
        jar.display()
    );
    let classes = tempfile::tempdir().expect("dir");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jdbc");
    let compiled = Command::new("javac")
        .arg("-d")
        .arg(classes.path())
        .arg(sources.join("LeadqlJdbc.java"))
        .arg(sources.join("BiSync.java"))
        .output()
        .expect("javac (Debian's default-jdk-headless)");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    (jar, classes)
}

/// Runs a psql script (statements and `\!` shell commands) in one connection.
fn psql_script(server: &Server, user: &str, password: &str, script: &str) -> Output {
    psql_script_with(server, user, password, &[], script)
}

/// [`psql_script`] with more psql arguments (later `-v` settings win).
fn psql_script_with(
    server: &Server,
    user: &str,
    password: &str,
    extra: &[&str],
    script: &str,
) -> Output {
    let mut c = server.psql_command(user, password, "disable");
    c.args(extra);
    c.args(["-A", "-t", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("psql");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    child.wait_with_output().expect("psql")
}

#[test]
fn an_open_connection_ends_when_its_user_is_removed_changed_or_expires() {
    let server = Server::start(&[]);
    let users = server.dir.path().join("users.toml");
    let leadql = env!("CARGO_BIN_EXE_leadql");
    // Removed while connected: the next statement ends the connection.
    let script = format!(
        "SELECT 'before';\n\\! {leadql} user remove mo --users {}\nSELECT 'after';\n",
        users.display()
    );
    let out = psql_script(&server, "mo", "mo-pass-1", &script);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}{err}");
    assert!(text.contains("before") && !text.contains("after"), "{text}");
    assert!(
        err.contains("FATAL")
            && err.contains("user \"mo\" was removed since this connection logged in"),
        "{err}"
    );
    // Changed (a new role or password) while connected: the same.
    let script = format!(
        "SELECT 'before';\n\\! echo new-alice-pass | {leadql} user add alice --role modeler --users {}\nSELECT 'after';\n",
        users.display()
    );
    let out = psql_script(&server, "alice", "alice-pass", &script);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("user \"alice\" was changed"), "{err}");
    assert_eq!(
        stdout(&server.psql("alice", "new-alice-pass", &["SELECT 'again'"])).trim(),
        "again"
    );
    // A password that expires while connected ends the connection at the next
    // statement; a login after it fails like a wrong password (28P01).
    let until = (chrono::Utc::now() + chrono::Duration::seconds(6))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut add = Command::new(leadql)
        .args([
            "user",
            "add",
            "eve",
            "--role",
            "analyst",
            "--valid-until",
            &until,
            "--users",
        ])
        .arg(&users)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("add");
    writeln!(add.stdin.take().expect("stdin"), "eve-pass-1").expect("write");
    let added = add.wait_with_output().expect("add");
    assert!(added.status.success());
    assert!(
        String::from_utf8_lossy(&added.stderr).contains("valid until"),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let out = psql_script(
        &server,
        "eve",
        "eve-pass-1",
        "SELECT 'before';\n\\! sleep 8\nSELECT 'after';\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("before"),
        "{err}"
    );
    assert!(
        err.contains(&format!("the password of user \"eve\" expired at {until}")),
        "{err}"
    );
    // (psql shows no SQLSTATE for a failed login; the message is 28P01's.)
    let mut c = server.psql_command("eve", "eve-pass-1", "disable");
    c.args(["-c", "SELECT 1"]);
    let err = stderr(&c.output().expect("psql"));
    assert!(
        err.contains("password authentication failed for user \"eve\""),
        "{err}"
    );
    let listed = Command::new(leadql)
        .args(["user", "list", "--users"])
        .arg(&users)
        .output()
        .expect("list");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains(&format!("eve\tanalyst\texpired {until}")),
        "{listed}"
    );
}

/// Runs `class` (tests/jdbc) against `server` with `jvm` options and `args` after the
/// port; asserts it succeeds and returns its standard output.
fn java(server: &Server, jvm: &[&str], class: &str, args: &[&str]) -> String {
    let (jar, classes) = jdbc_client();
    let classpath = format!("{}:{}", jar.display(), classes.path().display());
    let out = Command::new("java")
        .args(jvm)
        .args(["-cp", &classpath, class])
        .arg(server.port.to_string())
        .args(args)
        .output()
        .expect("java");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn the_jdbc_driver_binds_reads_typed_columns_lists_tables_and_cancels() {
    let server = Server::start(&[]);
    let text = java(&server, &[], "LeadqlJdbc", &["alice", "alice-pass"]);
    let expected = common::csv_in(
        server._ws.path(),
        "SELECT lead_id, grade FROM score_leads('engagement') WHERE score > 40.0 ORDER BY score DESC, lead_id LIMIT 3",
    );
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("row ")).collect();
    assert_eq!(rows.len(), 3, "{text}");
    for (row, want) in rows.iter().zip(expected.lines().skip(1)) {
        let (id, grade) = want.split_once(',').expect("two columns");
        let parts: Vec<&str> = row.split(' ').collect();
        assert_eq!(parts[1], id, "{text}");
        assert_eq!(parts[3], grade, "{text}");
        assert_eq!(parts[5], "2026-06-30", "{text}");
    }
    let count = common::csv_in(
        server._ws.path(),
        "SELECT count(*) FROM leads WHERE country = 'DE' AND created_at < TIMESTAMP '2026-01-01 00:00:00'",
    );
    let count = count.lines().nth(1).expect("a row");
    assert!(text.contains(&format!("count {count}\n")), "{text}");
    assert!(text.contains("table leads\n"), "{text}");
    // What DBeaver's navigator and Metabase's sync read: columns with Postgres types.
    for column in [
        "column lead_id int8",
        "column created_at timestamp",
        "column email text",
        "column company_size int4",
    ] {
        assert!(text.contains(&format!("{column}\n")), "{column} in {text}");
    }
    assert!(
        text.contains("cancelled 57014")
            && text.contains("canceling statement due to user request"),
        "{text}"
    );
}

#[test]
fn metabase_sync_and_dbeaver_navigator_queries_list_tables_and_columns() {
    let server = Server::start(&[]);
    // pgjdbc sends the JVM's zone as the TimeZone startup parameter.
    let text = java(
        &server,
        &["-Duser.timezone=America/New_York"],
        "BiSync",
        &["alice", "alice-pass"],
    );
    let step = |name: &str| -> String {
        let line = text
            .lines()
            .find(|l| l.split(' ').nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no step {name} in {text}"));
        assert!(line.starts_with("ok "), "{line}");
        line.to_string()
    };
    // Every step works, the ones the tools tolerate failing too.
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        22,
        "{text}"
    );
    assert!(step("metabase.select_1").ends_with(" 1"));
    assert!(step("metabase.schemas").ends_with(" pg_catalog,public"));
    let privileges = step("metabase.privileges");
    assert!(
        privileges.contains("public.leads,") && privileges.contains("public.lead_features,"),
        "{privileges}"
    );
    let tables = step("metabase.tables");
    assert!(
        tables.contains("leads:TABLE,") && tables.contains("lead_features:VIEW"),
        "{tables}"
    );
    // The zone statements compute in, not the client's (Metabase shifts timestamps
    // by this answer).
    assert!(step("metabase.timezone").ends_with(" UTC"), "{text}");
    let fields = step("metabase.fields");
    for column in [
        "0:lead_id:int8,",
        "1:created_at:timestamp,",
        "7:email:text,",
        "16:company_size:int4,",
    ] {
        assert!(fields.contains(column), "{column} in {fields}");
    }
    let tables = step("dbeaver.tables");
    assert!(
        tables.contains(",leads,") && tables.contains("lead_features"),
        "{tables}"
    );
    let columns = step("dbeaver.columns");
    assert!(columns.ends_with(" lead_id,created_at,source,channel,campaign,first_name,last_name,email,phone,company,account_id,contact_id,job_title,job_function,seniority,industry,company_size,size_band,revenue_band,country,consent,status,status_reason,owner_id,closed_at"), "{columns}");
    assert!(
        step("dbeaver.types")
            .split(' ')
            .next_back()
            .is_some_and(|n| n.parse::<usize>().is_ok_and(|n| n > 50))
    );
}

#[test]
fn jdbc_set_fetch_size_streams_a_result_larger_than_the_client_heap() {
    let server = Server::start(&[]);
    // 100,000 rows of 2,000 characters: 200 MB of text through a 64 MB heap.
    let text = java(
        &server,
        &["-Xmx64m"],
        "LeadqlJdbc",
        &["alice", "alice-pass", "fetch"],
    );
    assert!(
        text.contains("fetched 100000 sum 5000050000 chars 200000000\n"),
        "{text}"
    );
}

#[test]
fn a_query_over_its_memory_limit_fails_alone() {
    let server = Server::start_with("16M", &[]);
    let join = "SELECT count(*) FROM generate_series(1, 3000000) a JOIN generate_series(1, 3000000) b ON a.value = b.value";
    let mut c = server.psql_command("alice", "alice-pass", "disable");
    c.args(["-v", "VERBOSITY=verbose", "-c", join]);
    let err = stderr(&c.output().expect("psql"));
    assert!(
        err.contains("53200") && err.contains("out of memory under the memory limit"),
        "{err}"
    );
    // Other connections, each with its own 16M, are unaffected.
    let query = "SELECT count(*) FROM score_leads('engagement')";
    let out = stdout(&server.psql("mo", "mo-pass-1", &[query]));
    let expected = common::csv_in(server._ws.path(), query);
    assert_eq!(Some(out.trim()), expected.lines().nth(1));
}

#[test]
fn a_query_that_never_yields_neither_blocks_other_connections_nor_escapes_cancel() {
    let server = Server::start(&[]);
    // A nested-loop join that finds nothing works for a long time between batches.
    let mut c = server.psql_command("alice", "alice-pass", "disable");
    c.args([
        "-c",
        "SELECT count(*) FROM interactions a CROSS JOIN interactions b WHERE a.interaction_id + b.interaction_id < 0",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut busy = c.spawn().expect("psql");
    std::thread::sleep(Duration::from_secs(2));
    // Another connection's query is answered while the join still runs, well within
    // its statement_timeout (a starved query would be cancelled by it instead).
    let query = "SELECT count(*) FROM score_leads('engagement')";
    let out = stdout(&server.psql("mo", "mo-pass-1", &["SET statement_timeout = 20000", query]));
    let expected = common::csv_in(server._ws.path(), query);
    assert_eq!(out.lines().last(), expected.lines().nth(1));
    assert!(
        busy.try_wait().expect("status").is_none(),
        "the join ended before the other query was answered: nothing was shown"
    );
    Command::new("kill")
        .args(["-INT", &busy.id().to_string()])
        .status()
        .expect("kill");
    let out = busy.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("canceling statement due to user request"),
        "{err}"
    );
}

#[test]
fn an_error_stops_the_rest_of_a_multi_statement_text() {
    let server = Server::start(&[]);
    let mut c = server.psql_command("alice", "alice-pass", "disable");
    c.args([
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=0",
        "-c",
        "SELECT CAST(email AS INT) FROM leads; CREATE VIEW after_error AS SELECT 1 AS ran",
        "-c",
        "SELECT count(*) FROM after_error",
    ]);
    let out = c.output().expect("psql");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("22P02") || err.contains("Cast error"), "{err}");
    assert!(err.contains("unknown table 'after_error'"), "{err}");
}

#[test]
fn sigterm_lets_running_statements_finish_within_the_grace_period() {
    let mut server = Server::start(&["--grace", "3"]);
    let mut c = server.psql_command("alice", "alice-pass", "disable");
    c.args([
        "-c",
        "SELECT count(*) FROM generate_series(1, 100000000000)",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let busy = c.spawn().expect("psql");
    std::thread::sleep(Duration::from_secs(2));
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    // New connections are refused at once; the running statement gets the grace period.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", server.port)).is_err(),
        "still accepting after SIGTERM"
    );
    let status = server.child.wait().expect("server exits");
    assert!(status.success(), "{status}");
    let mut log = String::new();
    std::io::Read::read_to_string(server.child.stderr.as_mut().expect("stderr"), &mut log)
        .expect("log");
    assert!(
        log.contains("shutting down; 1 running statement(s) get up to 3 s"),
        "{log}"
    );
    assert!(
        log.contains("stopped with 1 statement(s) still running"),
        "{log}"
    );
    let out = busy.wait_with_output().expect("psql");
    assert!(!out.status.success(), "the statement cannot have finished");
}

/// psql running `script` from stdin as `user`, going on after errors.
fn psql_script_on(server: &Server, user: &str, password: &str, script: &str) -> Output {
    let extra = ["-v", "ON_ERROR_STOP=0", "-v", "VERBOSITY=verbose"];
    psql_script_with(server, user, password, &extra, script)
}

#[test]
fn jdbc_a_removed_user_cannot_read_on_from_a_partly_read_result() {
    let server = Server::start(&[]);
    let users = server.dir.path().join("users.toml");
    let users = users.to_str().expect("utf-8 path");
    let leadql = env!("CARGO_BIN_EXE_leadql");
    // The driver reads 500 rows at a time (Execute with a row limit on a suspended
    // portal); the user is removed after the first 500.
    let text = java(
        &server,
        &[],
        "LeadqlJdbc",
        &[
            "mo",
            "mo-pass-1",
            "revoke",
            leadql,
            "user",
            "remove",
            "mo",
            "--users",
            users,
        ],
    );
    assert!(text.contains("command exit 0"), "{text}");
    assert!(
        text.contains("stopped after 500 SQLSTATE 28000")
            && text.contains("user \"mo\" was removed since this connection logged in"),
        "{text}"
    );
}

#[test]
fn a_users_file_rewritten_with_the_same_size_and_time_is_seen_and_an_unreadable_one_fails_closed() {
    use std::os::unix::fs::MetadataExt;
    let server = Server::start(&[]);
    let users = server.dir.path().join("users.toml");
    let u = users.display();
    let scratch = server.dir.path().display();
    // alice's role changes in place from analyst to modeler: same size, same inode,
    // modification time set back.
    let script = format!(
        "SELECT 'before';\n\\! touch -r {u} {scratch}/ref && sed 's/role = \"analyst\"/role = \"modeler\"/' {u} > {scratch}/new && cat {scratch}/new > {u} && touch -r {scratch}/ref {u}\nSELECT 'after';\n"
    );
    let stamp = |p: &std::path::Path| {
        let m = std::fs::metadata(p).expect("users");
        (m.len(), m.mtime(), m.mtime_nsec(), m.ino())
    };
    let before = stamp(&users);
    let out = psql_script_on(&server, "alice", "alice-pass", &script);
    assert_eq!(
        stamp(&users),
        before,
        "the rewrite kept size, time and inode"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("before") && !text.contains("after"), "{text}");
    assert!(
        err.contains("FATAL") && err.contains("user \"alice\" was changed"),
        "{err}"
    );
    // A users file that cannot be parsed refuses logged-in users' statements (28000,
    // the connection stays) until it is mended.
    let script = format!(
        "SELECT 'before';\n\\! cp {u} {scratch}/saved && printf 'not toml [' > {u}\nSELECT 'during';\n\\! cat {scratch}/saved > {u}\nSELECT 'after';\n"
    );
    let out = psql_script_on(&server, "mo", "mo-pass-1", &script);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("before") && !text.contains("during") && text.contains("after"),
        "{text}{err}"
    );
    assert!(
        err.contains("28000") && err.contains("cannot read its users file"),
        "{err}"
    );
    assert!(!err.contains("FATAL"), "{err}");
    // A users file moved away for a moment, or emptied by a redirection, is not one
    // without users: the same, not a FATAL for everyone.
    let script = format!(
        "\\! mv {u} {scratch}/moved\nSELECT 'missing';\n\\! touch {u}\nSELECT 'empty';\n\\! mv {scratch}/moved {u}\nSELECT 'back';\n"
    );
    let out = psql_script_on(&server, "mo", "mo-pass-1", &script);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains("missing") && !text.contains("empty") && text.contains("back"),
        "{text}{err}"
    );
    assert_eq!(err.matches("28000").count(), 2, "{err}");
    assert!(!err.contains("FATAL"), "{err}");
}

#[test]
fn an_idle_cursor_is_stopped_and_its_memory_goes_to_other_connections() {
    // Two connections of 48M each under 64M for the server; each join below holds
    // about 36M while it runs.
    let server = Server::start_with(
        "48M",
        &["--server-memory", "64M", "--cursor-idle-timeout", "20"],
    );
    let join = "SELECT count(*) FROM generate_series(1, 2000000) a JOIN generate_series(1, 2000000) b ON a.value = b.value";
    let other = format!(
        "PGPASSWORD=mo-pass-1 {} -X -A -t -v VERBOSITY=verbose -h 127.0.0.1 -p {} -U mo -d leadql -c '{join}' 2>&1",
        psql_binary().display(),
        server.port
    );
    let script = format!(
        "BEGIN;\nDECLARE c CURSOR FOR SELECT a.value FROM generate_series(1, 2000000) a JOIN generate_series(1, 2000000) b ON a.value = b.value;\nFETCH 3 FROM c;\n\\echo first\n\\! {other}\n\\! sleep 25\n\\echo second\n\\! {other}\nFETCH ALL FROM c;\nFETCH ALL FROM c;\nROLLBACK;\nSELECT 'still connected';\n"
    );
    let out = psql_script_on(&server, "alice", "alice-pass", &script);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    let (first, second) = text.split_once("second").expect("both runs");
    // While the cursor holds its join's memory, the other connection's join, under
    // its own limit, does not fit in the server's.
    assert!(
        first.contains("53200") && first.contains("--server-memory"),
        "{text}{err}"
    );
    // After the idle timeout the cursor's memory is back.
    assert!(second.contains("2000000"), "{text}{err}");
    // Both reads after the stop fail: a stopped cursor never reads as a clean end.
    assert_eq!(err.matches("57014").count(), 2, "{text}{err}");
    assert!(err.contains("idle cursor"), "{err}");
    assert!(text.trim_end().ends_with("still connected"), "{text}{err}");
}

#[test]
fn a_cursor_read_slowly_is_not_idle_and_one_left_alone_is() {
    let server = Server::start(&["--cursor-idle-timeout", "2"]);
    // One row a second for 6 s: each read counts, although the query waits far
    // longer than 2 s for room to send its next batch.
    let mut script = String::from(
        "BEGIN;\nDECLARE c CURSOR FOR SELECT value FROM generate_series(1, 100000) ORDER BY value;\n",
    );
    for _ in 0..6 {
        script.push_str("FETCH 1 FROM c;\n\\! sleep 1\n");
    }
    // Left alone: the rows already made are read, then the stop (57014).
    script.push_str("\\! sleep 4\nFETCH ALL FROM c;\nROLLBACK;\nSELECT 'still connected';\n");
    let out = psql_script_on(&server, "alice", "alice-pass", &script);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    let rows: Vec<&str> = text.lines().filter(|l| l.parse::<i64>().is_ok()).collect();
    assert_eq!(rows, ["1", "2", "3", "4", "5", "6"], "{text}{err}");
    assert_eq!(err.matches("57014").count(), 1, "{err}");
    assert!(text.trim_end().ends_with("still connected"), "{text}{err}");
}

#[test]
fn time_zone_settings_follow_postgres_and_unknown_zones_are_refused() {
    let server = Server::start(&[]);
    let script = "SET TIME ZONE UTC;\nSHOW timezone;\n\
        SET TIME ZONE 'Europe/Paris';\nSHOW timezone;\nSELECT now();\n\
        SET SESSION TIMEZONE TO 'America/New_York';\nSHOW timezone;\n\
        SET TIME ZONE -7;\nSHOW timezone;\n\
        SET TIME ZONE 'Mars/Base';\nSHOW timezone;\n\
        SET TIME ZONE DEFAULT;\nSHOW timezone;\nSELECT now() IS NOT NULL;\n";
    let out = psql_script_on(&server, "alice", "alice-pass", script);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    let shown: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("SET") && !l.contains(':') || *l == "-07:00")
        .collect();
    assert_eq!(
        shown,
        [
            "UTC",
            "Europe/Paris",
            "America/New_York",
            "-07:00",
            "-07:00",
            "UTC",
            "t"
        ],
        "{text}{err}"
    );
    // now() follows the zone (Paris is UTC+1 or +2).
    assert!(text.contains("+01") || text.contains("+02"), "{text}");
    assert!(
        err.contains("22023")
            && err.contains("invalid value for parameter \"TimeZone\": \"Mars/Base\""),
        "{err}"
    );
}
