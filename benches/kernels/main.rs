//! Criterion benchmarks of leadql's SQL function kernels — `decay`, `lead_grade`,
//! `predict_score`, `name_similarity` — at several batch sizes and null rates, on
//! seeded data.
//!
//! ```sh
//! cargo bench --bench kernels                 # all
//! cargo bench --bench kernels -- decay        # one function
//! ```
//!
//! Each benchmark evaluates the function over 65,536 rows held in memory, split into
//! batches of 1,024, 8,192 or 65,536 rows, with 0 % or 20 % NULL inputs, inside a
//! `SELECT sum(…)` so that DataFusion runs the real expression path (argument
//! coercion, batch dispatch) and nothing is printed. `predict_score` uses the
//! `conversion` model trained on a copy of the bundled sample; its input rows are the
//! sample's `lead_features` rows, repeated.
//!
//! `jaro_winkler` compares leadql's own Jaro–Winkler (`leadql_models::matching`, which
//! the duplicate matcher calls for every candidate pair) with `strsim`'s on the same
//! 10,000 seeded pairs of names and typos, after checking that both give the same
//! values.

use std::path::Path;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::{concat_batches, nullif};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use leadql::catalog::Workspace;
use leadql::session::{self, SessionOptions};

const ROWS: usize = 65_536;
const BATCHES: [usize; 3] = [1_024, 8_192, 65_536];
const NULL_RATES: [f64; 2] = [0.0, 0.2];
const AS_OF_US: i64 = 1_782_777_600_000_000; // 2026-06-30 00:00:00 UTC

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("ls").flatten() {
        let name = entry.file_name();
        let target = to.join(&name);
        let keep = !matches!(
            name.to_str(),
            Some("qualification_history" | "sales_activities")
        );
        if entry.path().is_dir() {
            if keep {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A session over a copy of the sample with the `conversion` model trained.
fn session(rt: &tokio::runtime::Runtime, dir: &Path) -> SessionContext {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample");
    copy_dir(&sample, dir);
    let _ = std::fs::remove_dir_all(dir.join("models/conversion"));
    rt.block_on(async {
        let ws = Workspace::open(dir).expect("workspace");
        let ctx = session::open(&ws, &SessionOptions::default())
            .await
            .expect("session");
        let recipe = std::fs::read_to_string(dir.join("models/conversion.sql")).expect("recipe");
        for statement in leadql::sql::parse(&recipe).expect("parses") {
            leadql::sql::plan(&ctx, statement)
                .await
                .expect("plans")
                .collect()
                .await
                .expect("trains");
        }
        // Reopen so that the session sees the trained version.
        let ws = Workspace::open(dir).expect("workspace");
        session::open(&ws, &SessionOptions::default())
            .await
            .expect("session")
    })
}

/// `column` with `rate` of its values set to NULL (seeded).
fn with_nulls(column: ArrayRef, rate: f64, rng: &mut ChaCha8Rng) -> ArrayRef {
    if rate == 0.0 {
        return column;
    }
    let mask: datafusion::arrow::array::BooleanArray = (0..column.len())
        .map(|_| Some(rng.gen_bool(rate)))
        .collect();
    nullif(&column, &mask).expect("nullif")
}

/// The seeded input table: points, instants, scores and name pairs.
fn inputs(rate: f64) -> RecordBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let first = [
        "Ana", "José", "Li", "Jürgen", "Siobhán", "Priya", "Ólafur", "Chen",
    ];
    let last = [
        "Pérez", "Müller", "O'Brien", "Nguyen", "Kowalski", "Tanaka", "Smith",
    ];
    let name = |rng: &mut ChaCha8Rng| {
        format!(
            "{} {}",
            first[rng.gen_range(0..first.len())],
            last[rng.gen_range(0..last.len())]
        )
    };
    let points: ArrayRef = Arc::new(
        (0..ROWS)
            .map(|_| Some(rng.gen_range(1.0..20.0)))
            .collect::<Float64Array>(),
    );
    let at: ArrayRef = Arc::new(
        (0..ROWS)
            .map(|_| Some(AS_OF_US - rng.gen_range(0..730 * 86_400_000_000i64)))
            .collect::<TimestampMicrosecondArray>(),
    );
    let score: ArrayRef = Arc::new(
        (0..ROWS)
            .map(|_| Some(rng.gen_range(-20.0..150.0)))
            .collect::<Float64Array>(),
    );
    let a: ArrayRef = Arc::new(
        (0..ROWS)
            .map(|_| Some(name(&mut rng)))
            .collect::<StringArray>(),
    );
    let b: ArrayRef = Arc::new(
        (0..ROWS)
            .map(|_| Some(name(&mut rng)))
            .collect::<StringArray>(),
    );
    let columns = vec![
        with_nulls(points, rate, &mut rng),
        with_nulls(at, rate, &mut rng),
        with_nulls(score, rate, &mut rng),
        with_nulls(a, rate, &mut rng),
        with_nulls(b, rate, &mut rng),
    ];
    let schema = Schema::new(vec![
        Field::new("points", DataType::Float64, true),
        Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new("score", DataType::Float64, true),
        Field::new("a", DataType::Utf8, true),
        Field::new("b", DataType::Utf8, true),
    ]);
    RecordBatch::try_new(Arc::new(schema), columns).expect("batch")
}

/// Registers `batch` as table `name`, split into batches of `size` rows.
fn register(ctx: &SessionContext, name: &str, batch: &RecordBatch, size: usize) {
    let parts: Vec<RecordBatch> = (0..batch.num_rows())
        .step_by(size)
        .map(|o| batch.slice(o, size.min(batch.num_rows() - o)))
        .collect();
    let _ = ctx.deregister_table(name);
    let table = MemTable::try_new(batch.schema(), vec![parts]).expect("table");
    ctx.register_table(name, Arc::new(table)).expect("register");
}

/// The sample's feature rows repeated to `ROWS`, `company_size` NULL at `rate`.
fn features(rt: &tokio::runtime::Runtime, ctx: &SessionContext, rate: f64) -> RecordBatch {
    let batches = rt.block_on(async {
        ctx.sql("SELECT seniority, job_function, industry, size_band, source, consent, CAST(company_size AS DOUBLE) AS company_size, web_visits, pricing_visits, forms, email_opens, email_clicks, downloads, webinars, event_checkins FROM lead_features")
            .await
            .expect("features")
            .collect()
            .await
            .expect("rows")
    });
    let one = concat_batches(&batches[0].schema(), &batches).expect("concat");
    let copies: Vec<RecordBatch> =
        std::iter::repeat_n(one.clone(), ROWS.div_ceil(one.num_rows())).collect();
    let all = concat_batches(&one.schema(), &copies)
        .expect("concat")
        .slice(0, ROWS);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let i = all.schema().index_of("company_size").expect("column");
    let mut columns = all.columns().to_vec();
    columns[i] = with_nulls(columns[i].clone(), rate, &mut rng);
    RecordBatch::try_new(all.schema(), columns).expect("batch")
}

fn kernels(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let ctx = session(&rt, &dir.path().join("ws"));
    let queries = [
        (
            "decay",
            "SELECT sum(decay(points, at, TIMESTAMP '2026-06-30 00:00:00', 30)) FROM k",
        ),
        (
            "lead_grade",
            "SELECT count(lead_grade(score, 'engagement')) FROM k",
        ),
        (
            "name_similarity",
            "SELECT sum(name_similarity(a, b)) FROM k",
        ),
        (
            "predict_score",
            "SELECT sum(predict_score('conversion', seniority, job_function, industry, size_band, source, consent, company_size, web_visits, pricing_visits, forms, email_opens, email_clicks, downloads, webinars, event_checkins)) FROM k",
        ),
    ];
    for (function, sql) in queries {
        let mut group = c.benchmark_group(function);
        group.throughput(Throughput::Elements(ROWS as u64));
        group.sample_size(10);
        for rate in NULL_RATES {
            let data = if function == "predict_score" {
                features(&rt, &ctx, rate)
            } else {
                inputs(rate)
            };
            for size in BATCHES {
                register(&ctx, "k", &data, size);
                let id = BenchmarkId::new(format!("nulls {:.0}%", rate * 100.0), size);
                group.bench_with_input(id, &size, |bench, _| {
                    bench.iter(|| {
                        rt.block_on(async {
                            ctx.sql(sql)
                                .await
                                .expect("plans")
                                .collect()
                                .await
                                .expect("runs")
                        })
                    })
                });
            }
        }
        group.finish();
    }
}

/// 10,000 seeded pairs of folded names: a name and a typo of it, or two names.
fn name_pairs() -> Vec<(String, String)> {
    let names = [
        "jansen",
        "muller",
        "garcia",
        "rossi",
        "nowak",
        "silva",
        "dubois",
        "smith",
        "kowalski",
        "johansson",
        "nieminen",
        "papadopoulos",
        "fernandez",
        "oconnor",
        "van der berg",
        "li wei",
        "goldenmark systems",
        "atlasbridge energy",
        "crescentstone market",
        "alpineworks legal",
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..10_000)
        .map(|_| {
            let a = names[rng.gen_range(0..names.len())].to_string();
            let b = if rng.gen_bool(0.5) {
                let mut chars: Vec<char> = a.chars().collect();
                let i = rng.gen_range(1..chars.len() - 1);
                match rng.gen_range(0..3) {
                    0 => chars.swap(i, i + 1),
                    1 => {
                        chars.remove(i);
                    }
                    _ => chars.insert(i, chars[i]),
                }
                chars.into_iter().collect()
            } else {
                names[rng.gen_range(0..names.len())].to_string()
            };
            (a, b)
        })
        .collect()
}

fn jaro_winkler(c: &mut Criterion) {
    let pairs = name_pairs();
    // Where the two differ, say so (with examples) rather than stop: the timings are
    // still worth having, and the difference is the finding.
    let differ: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(a, b)| {
            (leadql_models::matching::jaro_winkler(a, b) - strsim::jaro_winkler(a, b)).abs() > 1e-12
        })
        .collect();
    if !differ.is_empty() {
        eprintln!(
            "jaro_winkler: leadql and strsim differ on {} of {} pairs, e.g.:",
            differ.len(),
            pairs.len()
        );
        let mut seen = std::collections::BTreeSet::new();
        for (a, b) in differ
            .iter()
            .filter(|(a, b)| seen.insert((a.as_str(), b.as_str())))
            .take(5)
        {
            eprintln!(
                "  {a:?} {b:?}: leadql {:.6}, strsim {:.6}",
                leadql_models::matching::jaro_winkler(a, b),
                strsim::jaro_winkler(a, b)
            );
        }
    }

    let mut group = c.benchmark_group("jaro_winkler");
    group.throughput(Throughput::Elements(pairs.len() as u64));
    group.bench_function("leadql", |bench| {
        bench.iter(|| {
            pairs
                .iter()
                .map(|(a, b)| leadql_models::matching::jaro_winkler(a, b))
                .sum::<f64>()
        })
    });
    group.bench_function("strsim", |bench| {
        bench.iter(|| {
            pairs
                .iter()
                .map(|(a, b)| strsim::jaro_winkler(a, b))
                .sum::<f64>()
        })
    });
    group.finish();
}

criterion_group!(benches, kernels, jaro_winkler);
criterion_main!(benches);
