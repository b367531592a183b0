//! Cluster mode on a real in-process Ballista cluster of two executors: every result
//! is the local result (same rows in the same order, integers and strings exact,
//! floats within 1e-9), the work is spread over both executors, exports match, and
//! an executor without leadql's functions fails naming the missing function.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use leadql::catalog::Workspace;
use leadql::cluster::{self, standalone};
use leadql::session::{self, SessionOptions};

mod common;

use common::{leadql_in, sample_copy, succeeded};

/// One value, compared as the test needs: floats with a tolerance, the rest exactly
/// (strings whatever their Arrow string type).
#[derive(Debug)]
enum Value {
    Float(Option<f64>),
    Text(Option<String>),
    Other(String),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Float(Some(a)), Value::Float(Some(b))) => {
                a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
            }
            (Value::Float(a), Value::Float(b)) => a.is_none() && b.is_none(),
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Other(a), Value::Other(b)) => a == b,
            _ => false,
        }
    }
}

fn rows(batches: &[RecordBatch]) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            let row = b
                .columns()
                .iter()
                .map(
                    |c| match ScalarValue::try_from_array(c, i).expect("value") {
                        ScalarValue::Float64(v) => Value::Float(v),
                        ScalarValue::Float32(v) => Value::Float(v.map(f64::from)),
                        ScalarValue::Utf8(v)
                        | ScalarValue::Utf8View(v)
                        | ScalarValue::LargeUtf8(v) => Value::Text(v),
                        ScalarValue::Dictionary(_, v) => Value::Text(Some(v.to_string())),
                        other => Value::Other(other.to_string()),
                    },
                )
                .collect();
            out.push(row);
        }
    }
    out
}

async fn collect(ctx: &SessionContext, sql: &str) -> Vec<Vec<Value>> {
    let frame = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("plans {sql}: {e}"));
    rows(
        &frame
            .collect()
            .await
            .unwrap_or_else(|e| panic!("runs {sql}: {e}")),
    )
}

/// A copy of the sample with the `conversion` model trained (by a local run) and a
/// `closed` model on the `lead_features` view.
fn trained_sample() -> tempfile::TempDir {
    let ws = sample_copy();
    let out = tempfile::tempdir().expect("tempdir");
    succeeded(&leadql_in(
        ws.path(),
        &["run", "--out", out.path().to_str().expect("utf-8")],
    ));
    succeeded(&leadql_in(
        ws.path(),
        &[
            "sql",
            "CREATE MODEL closed OPTIONS (model_type = 'logistic_reg', label = 'converted', seed = 7)
             AS SELECT seniority, company_size, pricing_visits, converted FROM lead_features WHERE status <> 'open'",
        ],
    ));
    ws
}

async fn local_session(ws: &Path) -> SessionContext {
    let ws = Workspace::open(ws).expect("workspace");
    session::open(&ws, &SessionOptions::default())
        .await
        .expect("session")
}

const QUERIES: &[&str] = &[
    // Rule scores of both sample models.
    "SELECT * FROM score_leads('engagement') ORDER BY lead_id",
    "SELECT * FROM score_leads('fit') ORDER BY lead_id",
    // A decay aggregation over the interactions (shuffled by lead).
    "SELECT lead_id, count(*) AS n, sum(decay(1.0, occurred_at, TIMESTAMP '2026-06-30 00:00:00', 28)) AS decayed
     FROM interactions GROUP BY lead_id ORDER BY lead_id",
    // The workspace-bound scalar functions on the executors: rule models by name,
    // predictive models by the client's version.
    "SELECT lead_id, lead_grade(score, 'engagement') AS grade FROM score_leads('engagement') ORDER BY lead_id",
    "SELECT * FROM qualify_leads('default') ORDER BY lead_id",
    "SELECT * FROM predict('conversion') ORDER BY lead_id",
    "SELECT * FROM predict('closed', 'lead_features') ORDER BY lead_id",
    // Computed by leadql on the client (its queries on the cluster), then joined.
    "SELECT e.metric, e.grade, e.leads, e.converted, e.value FROM evaluate_scoring('engagement') e ORDER BY 1, 2",
];

/// Runs `test` on a runtime like the binary's: deep plans recurse on the scheduler's
/// and the client's worker threads (2 MiB stacks overflow).
fn on_runtime(test: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .thread_stack_size(64 << 20)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(test)
}

#[test]
fn results_on_two_executors_are_the_local_results() {
    on_runtime(results_on_two_executors());
}

async fn results_on_two_executors() {
    let ws = trained_sample();
    let local = local_session(ws.path()).await;
    let cluster = standalone::start(&standalone::Options {
        executors: 2,
        concurrency: 1,
        ..standalone::Options::default()
    })
    .await
    .expect("cluster starts");
    let remote = cluster::connect_url(&local, &cluster.url())
        .await
        .expect("connects");
    for sql in QUERIES {
        let here = collect(&local, sql).await;
        let there = collect(&remote, sql).await;
        assert!(!here.is_empty(), "{sql}: no rows");
        assert_eq!(here.len(), there.len(), "{sql}: row counts");
        for (i, (a, b)) in here.iter().zip(&there).enumerate() {
            assert_eq!(a, b, "{sql}: row {i}");
        }
    }
    // The work went to the cluster, and to both executors.
    let jobs = cluster.jobs().await.expect("jobs");
    assert!(jobs.len() >= QUERIES.len(), "{} jobs", jobs.len());
    let mut executors = std::collections::BTreeSet::new();
    let mut shuffled = 0;
    for job in &jobs {
        for stage in cluster.job_stages(job).await.expect("stages") {
            assert_eq!(
                stage.tasks,
                stage
                    .tasks_per_executor
                    .iter()
                    .map(|(_, n)| n)
                    .sum::<usize>(),
                "every task of a finished stage succeeded"
            );
            executors.extend(stage.tasks_per_executor.iter().map(|(e, _)| e.clone()));
            shuffled += stage.shuffle_bytes;
        }
    }
    assert_eq!(executors.len(), 2, "tasks ran on both executors");
    assert!(shuffled > 0, "stages exchanged data");
}

#[test]
fn an_executor_without_leadqls_functions_names_the_missing_one() {
    on_runtime(executor_without_functions());
}

async fn executor_without_functions() {
    let ws = sample_copy();
    let local = local_session(ws.path()).await;
    let cluster = standalone::start(&standalone::Options {
        executors: 1,
        concurrency: 1,
        executor_functions: false,
    })
    .await
    .expect("cluster starts");
    let remote = cluster::connect_url(&local, &cluster.url())
        .await
        .expect("connects");
    let e = remote
        .sql("SELECT lead_id, decay(1.0, occurred_at, TIMESTAMP '2026-06-30 00:00:00', 28) FROM interactions")
        .await
        .expect("plans on the client")
        .collect()
        .await
        .expect_err("the executor cannot run it");
    let text = e.to_string();
    assert!(
        text.contains("scalar function decay"),
        "the error names the function: {text}"
    );
}

#[test]
fn exports_and_runs_on_a_cluster_match_local_ones() {
    let ws = trained_sample();
    let dir = tempfile::tempdir().expect("tempdir");
    let query = "SELECT s.lead_id, s.score, s.grade, q.predictive_score FROM score_leads('engagement') s JOIN qualify_leads('default') q USING (lead_id)";
    let here = dir.path().join("local.parquet");
    let there = dir.path().join("cluster.parquet");
    succeeded(&leadql_in(
        ws.path(),
        &["export", query, "--out", here.to_str().expect("utf-8")],
    ));
    succeeded(&leadql_in(
        ws.path(),
        &[
            "--cluster",
            "standalone:2",
            "export",
            query,
            "--out",
            there.to_str().expect("utf-8"),
        ],
    ));
    let (h, t) = (here.display(), there.display());
    let diff = succeeded(&leadql_in(
        ws.path(),
        &[
            "sql",
            "--format",
            "csv",
            &format!(
                "SELECT (SELECT count(*) FROM '{h}') AS n,
                        (SELECT count(*) FROM (SELECT * FROM '{h}' EXCEPT SELECT * FROM '{t}')) AS missing,
                        (SELECT count(*) FROM (SELECT * FROM '{t}' EXCEPT SELECT * FROM '{h}')) AS extra"
            ),
        ],
    ));
    assert_eq!(diff, "n,missing,extra\n1105,0,0\n", "{diff}");
}

#[test]
fn cluster_is_refused_where_it_does_not_apply() {
    let ws = sample_copy();
    let o = leadql_in(ws.path(), &["--cluster", "standalone", "shell"]);
    assert_eq!(o.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--cluster") && err.contains("sql, run and export"),
        "{err}"
    );
    let o = leadql_in(ws.path(), &["--cluster", "df://nohost", "sql", "SELECT 1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected df://HOST:PORT"));
}

/// A free loopback port (bound, then released for the process about to use it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Kills the child when dropped (a failed assertion must not leave servers behind).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn leadql_scheduler_and_executors_serve_cluster_queries() {
    let ws = trained_sample();
    let work = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_leadql");
    let scheduler_port = free_port();
    let spawn = |args: Vec<String>| {
        Child(
            std::process::Command::new(bin)
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("starts"),
        )
    };
    let _scheduler = spawn(vec![
        "scheduler".into(),
        "--bind".into(),
        format!("127.0.0.1:{scheduler_port}"),
    ]);
    let _executors: Vec<Child> = (0..2)
        .map(|i| {
            spawn(vec![
                "executor".into(),
                "--scheduler".into(),
                format!("127.0.0.1:{scheduler_port}"),
                "--port".into(),
                free_port().to_string(),
                "--grpc-port".into(),
                free_port().to_string(),
                "--concurrency".into(),
                "1".into(),
                "--work-dir".into(),
                work.path()
                    .join(format!("executor-{i}"))
                    .display()
                    .to_string(),
            ])
        })
        .collect();
    let target = format!("df://127.0.0.1:{scheduler_port}");
    let sql = "SELECT q.lead_id, q.predictive_score, s.score FROM qualify_leads('default') q
               JOIN score_leads('fit') s USING (lead_id) ORDER BY lead_id";
    let local = succeeded(&leadql_in(ws.path(), &["sql", "--format", "csv", sql]));
    // The executors register with the scheduler within seconds; until then a job waits.
    let remote = succeeded(&leadql_in(
        ws.path(),
        &["--cluster", &target, "sql", "--format", "csv", sql],
    ));
    assert_eq!(local.lines().count(), 1106);
    assert_eq!(local, remote);
    // Both executors wrote shuffle files for the job.
    for i in 0..2 {
        let dir = work.path().join(format!("executor-{i}"));
        assert!(
            std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0) > 0,
            "{} is empty",
            dir.display()
        );
    }
}
