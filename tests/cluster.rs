//! Cluster mode on a real in-process Ballista cluster of two executors: every result
//! is the local result (same rows in the same order, integers and strings exact,
//! floats within 1e-9), the work is spread over both executors, exports match, and
//! an executor without leadql's functions fails naming the missing function.

use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use leadql::catalog::Workspace;
use leadql::cluster::scratch::{INLINE_BYTES, Scratch};
use leadql::cluster::{self, standalone};
use leadql::session::{self, SessionOptions};

mod common;

use common::{free_port, leadql_in, sample_copy, succeeded};

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

/// A cluster of `executors` executors running one task at once each, in this
/// process, and `local` (a session over the workspace in `ws`) made to run its queries
/// there, with in-memory tables up to `inline_bytes` inside plans.
async fn on_cluster(
    local: &SessionContext,
    ws: &Path,
    executors: usize,
    executor_functions: bool,
    inline_bytes: usize,
) -> (standalone::Standalone, SessionContext) {
    let cluster = standalone::start(&standalone::Options {
        executors,
        concurrency: 1,
        executor_functions,
    })
    .await
    .expect("cluster starts");
    let scratch = Scratch {
        inline_bytes,
        ..Scratch::in_workspace(&std::fs::canonicalize(ws).expect("workspace path"))
    };
    let remote = cluster::connect_url(local, &cluster.url(), scratch)
        .await
        .expect("connects");
    (cluster, remote)
}

#[test]
fn results_on_two_executors_are_the_local_results() {
    on_runtime(results_on_two_executors());
}

async fn results_on_two_executors() {
    let ws = trained_sample();
    let local = local_session(ws.path()).await;
    let (cluster, remote) = on_cluster(&local, ws.path(), 2, true, INLINE_BYTES).await;
    for sql in QUERIES {
        let here = collect(&local, sql).await;
        let there = collect(&remote, sql).await;
        assert!(!here.is_empty(), "{sql}: no rows");
        assert_eq!(here.len(), there.len(), "{sql}: row counts");
        for (i, (a, b)) in here.iter().zip(&there).enumerate() {
            assert_eq!(a, b, "{sql}: row {i}");
        }
    }
    // Relations the optimizer proves empty keep their columns.
    for sql in [
        "SELECT 1 AS one, 'x' AS two WHERE false",
        "SELECT lead_id, email FROM leads WHERE 1 = 0",
        "SELECT l.lead_id, s.score FROM leads l JOIN (SELECT * FROM score_leads('fit') WHERE false) s USING (lead_id)",
        // The same name twice, under two qualifiers.
        "SELECT l.lead_id, s.lead_id, s.score FROM leads l JOIN score_leads('fit') s ON l.lead_id = s.lead_id WHERE false",
    ] {
        let schema = |batches: Vec<RecordBatch>, ctx: &str| {
            assert_eq!(
                batches.iter().map(|b| b.num_rows()).sum::<usize>(),
                0,
                "{ctx} {sql}: no rows"
            );
            batches
                .first()
                .map(|b| {
                    b.schema()
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let run = |ctx: SessionContext| async move {
            let frame = ctx.sql(sql).await.expect("plans");
            let declared: Vec<String> = frame
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let plan = frame.create_physical_plan().await.expect("physical");
            let produced: Vec<String> = plan
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx())
                .await
                .expect("runs");
            (declared, produced, batches)
        };
        let (declared, here_cols, here) = run(local.clone()).await;
        let (_, there_cols, there) = run(remote.clone()).await;
        assert_eq!(here_cols, declared, "{sql}: local columns");
        assert_eq!(there_cols, declared, "{sql}: cluster columns");
        let here = schema(here, "local");
        let there = schema(there, "cluster");
        if !here.is_empty() || !there.is_empty() {
            assert_eq!(here, there, "{sql}: batch columns");
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
fn computed_tables_above_the_limit_reach_the_cluster_as_parquet() {
    on_runtime(computed_tables_as_parquet());
}

/// With no table small enough to travel inside a plan, the rows the client computed
/// (the point-in-time pairs, an evaluation's queries' cached rows, a sampled training
/// set) go as Parquet under the workspace; the results are the local ones, and the
/// files are gone once the result has been read.
async fn computed_tables_as_parquet() {
    let ws = trained_sample();
    let local = local_session(ws.path()).await;
    let (_cluster, remote) = on_cluster(&local, ws.path(), 2, true, 0).await;
    let scratch = ws.path().join(cluster::scratch::FOLDER);
    let queries = [
        "SELECT * FROM predict('conversion') ORDER BY lead_id",
        "SELECT * FROM qualify_leads('default') ORDER BY lead_id",
        "SELECT e.metric, e.grade, e.leads, e.converted, e.value FROM evaluate_scoring('engagement') e ORDER BY 1, 2",
        // max_rows: the labelled pairs are cached and sampled before features.
        "SELECT lead_id, as_of, label, web_visit_30d, engagement_score
         FROM lead_snapshot_features(NULL, NULL, 30, 90, 500) ORDER BY lead_id, as_of",
    ];
    for sql in queries {
        let here = collect(&local, sql).await;
        let plan = remote
            .sql(sql)
            .await
            .expect("plans")
            .create_physical_plan()
            .await
            .expect("physical plan");
        let shown = datafusion::physical_plan::displayable(plan.as_ref())
            .indent(false)
            .to_string();
        assert!(
            shown.contains("ComputedTablesAsParquet: tables="),
            "{sql}: {shown}"
        );
        let files: Vec<_> = walk(&scratch);
        assert!(
            files
                .iter()
                .any(|f| f.extension().is_some_and(|e| e == "parquet")),
            "{sql}: Parquet files under {}: {files:?}",
            scratch.display()
        );
        let task = remote.task_ctx();
        let there = rows(
            &datafusion::physical_plan::collect(plan, task)
                .await
                .unwrap_or_else(|e| panic!("runs {sql}: {e}")),
        );
        assert!(!here.is_empty(), "{sql}: no rows");
        assert_eq!(here.len(), there.len(), "{sql}: row counts");
        for (i, (a, b)) in here.iter().zip(&there).enumerate() {
            assert_eq!(a, b, "{sql}: row {i}");
        }
        assert_eq!(
            walk(&scratch),
            Vec::<std::path::PathBuf>::new(),
            "{sql}: files removed"
        );
    }
    // A client that cannot write the workspace's scratch folder says where.
    std::fs::remove_dir_all(&scratch).ok();
    std::fs::write(&scratch, "not a folder").expect("write");
    let e = remote
        .sql(queries[0])
        .await
        .expect("plans")
        .collect()
        .await
        .expect_err("nowhere to write");
    let text = e.to_string();
    assert!(
        text.contains("cannot create") && text.contains(cluster::scratch::FOLDER),
        "{text}"
    );
}

/// The files under `dir`, recursively (none when it does not exist).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn executors_score_with_the_model_version_the_client_resolved() {
    on_runtime(pinned_versions());
}

/// The client's session resolved `closed` to v1; v2 (a decision tree, scoring very
/// differently) is trained by another process afterwards. The cluster must still
/// score with v1, as the same session alone does; a new session scores with v2.
async fn pinned_versions() {
    let ws = trained_sample();
    let sql = "SELECT lead_id, score FROM predict('closed', 'lead_features') ORDER BY lead_id";
    let local = local_session(ws.path()).await;
    let v1 = collect(&local, sql).await;
    succeeded(&leadql_in(
        ws.path(),
        &[
            "sql",
            "CREATE MODEL closed OPTIONS (model_type = 'decision_tree', label = 'converted', max_depth = 2)
             AS SELECT seniority, company_size, pricing_visits, converted FROM lead_features WHERE status <> 'open'",
        ],
    ));
    let v2 = collect(&local_session(ws.path()).await, sql).await;
    assert_ne!(v1, v2, "the two versions score differently");
    let (_cluster, remote) = on_cluster(&local, ws.path(), 2, true, INLINE_BYTES).await;
    assert_eq!(
        collect(&remote, sql).await,
        v1,
        "the cluster scored with v1"
    );
}

#[test]
fn an_executor_without_leadqls_functions_names_the_missing_one() {
    on_runtime(executor_without_functions());
}

async fn executor_without_functions() {
    let ws = sample_copy();
    let local = local_session(ws.path()).await;
    let (_cluster, remote) = on_cluster(&local, ws.path(), 1, false, INLINE_BYTES).await;
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

    // The main job on a cluster (training's queries, scoring, qualification, hand-off)
    // writes the tables a local run writes, on a second copy of the sample.
    let other = sample_copy();
    let (alone, clustered) = (dir.path().join("alone"), dir.path().join("clustered"));
    succeeded(&leadql_in(
        other.path(),
        &["run", "--out", alone.to_str().expect("utf-8")],
    ));
    let third = sample_copy();
    succeeded(&leadql_in(
        third.path(),
        &[
            "--cluster",
            "standalone:2",
            "run",
            "--out",
            clustered.to_str().expect("utf-8"),
        ],
    ));
    for table in [
        "qualification",
        "lead_grades",
        "lead_scores",
        "sales_activities",
    ] {
        let (a, c) = (
            alone.join(format!("{table}.parquet")),
            clustered.join(format!("{table}.parquet")),
        );
        let (a, c) = (a.display(), c.display());
        let diff = succeeded(&leadql_in(
            other.path(),
            &[
                "sql",
                "--format",
                "csv",
                &format!(
                    "SELECT (SELECT count(*) FROM '{a}') > 0 AS rows,
                            (SELECT count(*) FROM (SELECT * FROM '{a}' EXCEPT SELECT * FROM '{c}')) AS missing,
                            (SELECT count(*) FROM (SELECT * FROM '{c}' EXCEPT SELECT * FROM '{a}')) AS extra"
                ),
            ],
        ));
        assert_eq!(diff, "rows,missing,extra\ntrue,0,0\n", "{table}: {diff}");
    }
}

#[test]
fn a_standalone_cluster_leaves_no_shuffle_files_behind() {
    let ws = sample_copy();
    let temp = tempfile::tempdir().expect("tempdir");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_leadql"))
        .env_remove("LEADQL_DATA")
        .env("TMPDIR", temp.path())
        .arg("--data")
        .arg(ws.path())
        .args([
            "--cluster",
            "standalone:2",
            "sql",
            "SELECT grade, count(*) AS n FROM score_leads('engagement') GROUP BY grade ORDER BY grade",
        ])
        .output()
        .expect("runs");
    let out = succeeded(&o);
    assert!(out.contains("Cold"), "{out}");
    // The executors' shuffle files (stages with a repartition: a hash aggregation)
    // lived in a folder of the process's own, removed when it ended.
    let left: Vec<_> = walk(temp.path());
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(std::fs::read_dir(temp.path()).expect("ls").count(), 0);
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
    // Where executors would write, or the client would run alone.
    for (args, arg) in [
        (
            vec![
                "--cluster",
                "standalone",
                "export",
                "leads",
                "--out",
                "x",
                "--partition-by",
                "status",
            ],
            "--partition-by",
        ),
        (
            vec!["--cluster", "standalone", "run", "--report"],
            "--report",
        ),
    ] {
        let o = leadql_in(ws.path(), &args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("invalid {arg}: not with --cluster")),
            "{err}"
        );
    }
    // No scheduler at that address: said at once, naming it.
    let port = free_port();
    let o = leadql_in(
        ws.path(),
        &[
            "--cluster",
            &format!("df://127.0.0.1:{port}"),
            "sql",
            "SELECT 1",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "--cluster df://127.0.0.1:{port}: no scheduler answers"
        )),
        "{err}"
    );
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
    // The scheduler listens before the client connects.
    let listening = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", scheduler_port)).is_ok()
    });
    assert!(listening, "the scheduler listens on {scheduler_port}");
    let target = format!("df://127.0.0.1:{scheduler_port}");
    let sql = "SELECT q.lead_id, q.predictive_score, s.score FROM qualify_leads('default') q
               JOIN score_leads('fit') s USING (lead_id) ORDER BY lead_id";
    let local = succeeded(&leadql_in(ws.path(), &["sql", "--format", "csv", sql]));
    // The executors register with the scheduler within seconds; until then a job waits.
    let remote = succeeded(&within(
        std::process::Command::new(bin)
            .env_remove("LEADQL_DATA")
            .arg("--data")
            .arg(ws.path())
            .args(["--cluster", &target, "sql", "--format", "csv", sql]),
        std::time::Duration::from_secs(120),
    ));
    assert_eq!(local.lines().count(), 1106);
    assert_eq!(local, remote);
    // Both executors wrote shuffle files (Arrow IPC) for the job.
    for i in 0..2 {
        let dir = work.path().join(format!("executor-{i}"));
        let shuffles = common::walk(&dir)
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "arrow" || e == "data"))
            .count();
        assert!(shuffles > 0, "no shuffle file under {}", dir.display());
    }
}

/// The output of `command`, killed after `limit` (a cluster without executors waits).
fn within(command: &mut std::process::Command, limit: std::time::Duration) -> std::process::Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let start = std::time::Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("no answer within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}
