//! Object stores: Parquet files read from a real S3-compatible server (moto's, from
//! PyPI, installed by scripts/test and started here) by `leadql sql` alone and on a
//! cluster of two executors, with the same results as the workspace's own tables;
//! a missing bucket is an error naming it; object-store URLs are refused where leadql
//! writes.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;

use common::{free_port, sample_copy, succeeded};

/// The Python of the test environment (`LEADQL_PYTHON`, set by scripts/test).
fn python() -> String {
    std::env::var("LEADQL_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// moto's S3 server on a loopback port, stopped when dropped.
struct S3 {
    child: std::process::Child,
    port: u16,
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3 {
    fn start() -> S3 {
        let port = free_port();
        let child = Command::new(python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto's server starts (set LEADQL_PYTHON or use scripts/test)");
        let s3 = S3 { child, port };
        for _ in 0..150 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return s3;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto's server did not listen on port {port}");
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates `bucket` and uploads every `.parquet` file of `dir` under `prefix/`.
    fn upload(&self, bucket: &str, dir: &Path, prefix: &str) {
        let script = r#"
import os, sys, boto3
endpoint, bucket, folder, prefix = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
try:
    s3.create_bucket(Bucket=bucket)
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
for name in sorted(os.listdir(folder)):
    if name.endswith(".parquet"):
        s3.upload_file(os.path.join(folder, name), bucket, prefix + "/" + name)
"#;
        let o = Command::new(python())
            .args(["-c", script, &self.endpoint(), bucket])
            .arg(dir)
            .arg(prefix)
            .output()
            .expect("python runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    /// `leadql ARGS` on workspace `ws` with the store's endpoint and credentials in
    /// the environment, as a user sets them.
    fn leadql(&self, ws: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_leadql"))
            .env_remove("LEADQL_DATA")
            .env("AWS_ENDPOINT", self.endpoint())
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .arg("--data")
            .arg(ws)
            .args(args)
            .output()
            .expect("runs")
    }
}

#[test]
fn s3_tables_read_like_the_workspace_alone_and_on_a_cluster() {
    let ws = sample_copy();
    let s3 = S3::start();
    s3.upload(
        "crm",
        &ws.path().join("interactions"),
        "events/interactions",
    );
    let from_s3 = "SELECT count(*) AS n, count(DISTINCT i.lead_id) AS leads, sum(CASE WHEN l.status = 'open' THEN 1 ELSE 0 END) AS open_rows
                   FROM 's3://crm/events/interactions/' i JOIN leads l USING (lead_id)";
    let from_ws = from_s3.replace("'s3://crm/events/interactions/'", "interactions");
    let expected = succeeded(&s3.leadql(ws.path(), &["sql", "--format", "csv", &from_ws]));
    assert!(
        expected.lines().nth(1).is_some_and(|l| !l.starts_with('0')),
        "{expected}"
    );
    let alone = succeeded(&s3.leadql(ws.path(), &["sql", "--format", "csv", from_s3]));
    assert_eq!(alone, expected);
    // The executors read the store themselves (the client sends the plan, not rows).
    let on_cluster = |sql: &str| {
        succeeded(&s3.leadql(
            ws.path(),
            &["--cluster", "standalone:2", "sql", "--format", "csv", sql],
        ))
    };
    let cluster = on_cluster(from_s3);
    assert_eq!(cluster, expected);
    // An external table over the store, on the cluster.
    let external = on_cluster(
        "CREATE EXTERNAL TABLE events STORED AS PARQUET LOCATION 's3://crm/events/interactions/';
         SELECT count(*) AS n FROM events",
    );
    let n = expected
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .expect("n");
    assert!(external.ends_with(&format!("n\n{n}\n")), "{external}");
}

#[test]
fn a_missing_bucket_is_an_error_naming_it() {
    let ws = sample_copy();
    let s3 = S3::start();
    let o = s3.leadql(
        ws.path(),
        &[
            "sql",
            "SELECT count(*) FROM 's3://no-such-bucket/events/x.parquet'",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nothing readable at 's3://no-such-bucket/events/x.parquet'"),
        "{err}"
    );
}

#[test]
fn object_store_urls_are_refused_where_leadql_writes() {
    let ws = sample_copy();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_leadql"))
            .env_remove("LEADQL_DATA")
            .args(args)
            .output()
            .expect("runs")
    };
    let data = ws.path().to_str().expect("utf-8");
    for (args, arg) in [
        (
            vec![
                "--data",
                data,
                "export",
                "leads",
                "--out",
                "s3://crm/leads.parquet",
            ],
            "--out",
        ),
        (
            vec!["--data", data, "run", "--out", "s3://crm/out"],
            "--out",
        ),
        (
            vec![
                "--data",
                data,
                "sql",
                "SELECT 1",
                "--output",
                "s3://crm/x.csv",
            ],
            "--output",
        ),
        (
            vec!["--data", "s3://crm/workspace", "sql", "SELECT 1"],
            "--data",
        ),
    ] {
        let o = run(&args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("invalid {arg}")) && err.contains("is an object-store URL"),
            "{args:?}: {err}"
        );
    }
    // Nothing was written into the workspace by the refused commands.
    assert!(!ws.path().join("qualification_history").exists());
}
