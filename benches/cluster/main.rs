//! Local execution against an in-process Ballista cluster on the same workspace:
//! wall time per query (median of the runs) for each mode, whether the results agree,
//! and how the cluster split the work (jobs, stages, tasks per executor, shuffle
//! bytes). Run by `benches/cluster/run.sh`, which writes `benches/results/cluster.md`.
//!
//! ```sh
//! cargo bench --bench cluster -- WORKSPACE [RUNS]
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::prelude::SessionContext;
use leadql::catalog::Workspace;
use leadql::cluster::scratch::{INLINE_BYTES, Scratch};
use leadql::cluster::{self, standalone};
use leadql::session::{self, SessionOptions};

const QUERIES: &[(&str, &str)] = &[
    (
        "rule score (engagement)",
        "SELECT count(*), sum(score) FROM score_leads('engagement')",
    ),
    (
        "decay aggregation",
        "SELECT count(*), sum(d) FROM (SELECT lead_id, sum(decay(1.0, occurred_at, TIMESTAMP '2026-06-30 00:00:00', 28)) AS d FROM interactions GROUP BY lead_id)",
    ),
    (
        "prediction (conversion)",
        "SELECT count(*), sum(score) FROM predict('conversion')",
    ),
    (
        "qualification (default)",
        "SELECT count(*), sum(predictive_score) FROM qualify_leads('default')",
    ),
];

/// (executors, tasks at once per executor, largest in-memory table inside a plan);
/// None: local.
const MODES: &[Option<(usize, usize, usize)>] = &[
    None,
    Some((1, 2, INLINE_BYTES)),
    Some((1, 1, INLINE_BYTES)),
    Some((2, 1, INLINE_BYTES)),
    // As before computed tables went as Parquet: every one inside the plan.
    Some((2, 1, usize::MAX)),
];

fn mode_name(mode: Option<(usize, usize, usize)>) -> String {
    match mode {
        None => "local (2 partitions)".into(),
        Some((e, c, inline)) => format!(
            "standalone, {e} executor{} × {c}{}",
            if e > 1 { "s" } else { "" },
            if inline == usize::MAX {
                ", computed rows inside plans"
            } else {
                ""
            }
        ),
    }
}

/// The query's two numbers (a count and a sum), or its error.
async fn run(ctx: &SessionContext, sql: &str) -> Result<(i64, f64), String> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let b = &batches[0];
    let n = b.column(0).as_primitive::<Int64Type>().value(0);
    let s = match b.column(1).data_type() {
        DataType::Float64 if !b.column(1).is_null(0) => {
            b.column(1).as_primitive::<Float64Type>().value(0)
        }
        _ => f64::NAN,
    };
    Ok((n, s))
}

/// A result line: query, mode, median wall time, the numbers or the error.
type Row = (String, String, f64, Result<(i64, f64), String>);

#[derive(Default)]
struct Split {
    jobs: usize,
    stages: usize,
    tasks: usize,
    per_executor: BTreeMap<String, usize>,
    shuffle_bytes: u64,
    stage_lines: Vec<String>,
}

async fn bench() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let ws_dir = PathBuf::from(args.next().expect("usage: cluster WORKSPACE [RUNS]"));
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let ws = Workspace::open(&ws_dir).expect("workspace");
    let local = session::open(&ws, &SessionOptions::default())
        .await
        .expect("session");
    let mut table: Vec<Row> = Vec::new();
    let mut splits: Vec<(String, String, Split)> = Vec::new();
    for mode in MODES {
        let (ctx, cluster) = match mode {
            None => (local.clone(), None),
            Some((executors, concurrency, inline_bytes)) => {
                let c = standalone::start(&standalone::Options {
                    executors: *executors,
                    concurrency: *concurrency,
                    ..standalone::Options::default()
                })
                .await
                .expect("cluster");
                let ctx = cluster::connect_url(
                    &local,
                    &c.url(),
                    Scratch {
                        inline_bytes: *inline_bytes,
                        ..Scratch::in_workspace(&ws.dir)
                    },
                )
                .await
                .expect("connects");
                (ctx, Some(c))
            }
        };
        for (name, sql) in QUERIES {
            let mut times = Vec::new();
            let mut result = Ok((0, 0.0));
            let before = match &cluster {
                Some(c) => c.jobs().await.expect("jobs"),
                None => Vec::new(),
            };
            for _ in 0..runs {
                let start = Instant::now();
                result = run(&ctx, sql).await;
                times.push(start.elapsed().as_secs_f64());
                if result.is_err() {
                    break;
                }
            }
            times.sort_by(f64::total_cmp);
            table.push((
                name.to_string(),
                mode_name(*mode),
                times[times.len() / 2],
                result,
            ));
            if let Some(c) = &cluster {
                // The last run's jobs: those after the earlier runs'.
                let new: Vec<String> = c
                    .jobs()
                    .await
                    .expect("jobs")
                    .into_iter()
                    .filter(|j| !before.contains(j))
                    .collect();
                let per_run = new.len() / runs.max(1);
                let mut split = Split::default();
                for job in &new[new.len() - per_run..] {
                    split.jobs += 1;
                    for s in c.job_stages(job).await.expect("stages") {
                        split.stages += 1;
                        split.tasks += s.tasks;
                        split.shuffle_bytes += s.shuffle_bytes;
                        for (e, n) in &s.tasks_per_executor {
                            *split.per_executor.entry(e.clone()).or_default() += n;
                        }
                        split.stage_lines.push(format!(
                            "stage {}: {} partitions, {} tasks ({}), shuffle {:.1} MiB",
                            s.stage,
                            s.partitions,
                            s.tasks,
                            s.tasks_per_executor
                                .iter()
                                .map(|(_, n)| n.to_string())
                                .collect::<Vec<_>>()
                                .join(" + "),
                            s.shuffle_bytes as f64 / 1048576.0
                        ));
                    }
                }
                splits.push((name.to_string(), mode_name(*mode), split));
            }
        }
    }
    println!("| query | mode | median wall (s) | rows | sum |");
    println!("|---|---|---:|---:|---:|");
    for (q, m, t, result) in &table {
        match result {
            Ok((n, s)) => println!("| {q} | {m} | {t:.3} | {n} | {s:.6} |"),
            Err(e) => {
                let e: String = e.chars().take(160).collect();
                println!(
                    "| {q} | {m} | failed after {t:.1} s | | {} |",
                    e.replace('|', "/")
                )
            }
        }
    }
    println!();
    println!("How the cluster split the work (the last run of each query):");
    println!();
    println!("| query | mode | jobs | stages | tasks | tasks per executor | shuffle (MiB) |");
    println!("|---|---|---:|---:|---:|---|---:|");
    for (q, m, s) in &splits {
        println!(
            "| {q} | {m} | {} | {} | {} | {} | {:.1} |",
            s.jobs,
            s.stages,
            s.tasks,
            s.per_executor
                .values()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" + "),
            s.shuffle_bytes as f64 / 1048576.0
        );
    }
    println!();
    println!("Stages of the two-executor runs:");
    println!();
    println!("```");
    for (q, m, s) in &splits {
        if m.ends_with("2 executors × 1") {
            println!("{q}:");
            for l in &s.stage_lines {
                println!("  {l}");
            }
        }
    }
    println!("```");
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(64 << 20)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(bench());
}
