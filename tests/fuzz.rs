//! Property tests over hostile input through the engine (cargo-fuzz needs nightly,
//! which this toolchain lacks; `models/tests/fuzz.rs` covers the model-file parsers):
//!
//! - CSV import: arbitrary Unicode rows (multi-byte letters, combining marks,
//!   right-to-left digits, empty and huge fields, stray quotes, delimiters and bytes)
//!   through decoding, delimiter detection and row validation, in process: each file
//!   is read, or refused with a reason, and every refused row has a line and a reason;
//! - every leadql scalar SQL function, listed from a workspace session's registry
//!   (everything DataFusion itself does not define), called with arbitrary text,
//!   numbers, timestamps and NULLs, as literals (folded at plan time) and as columns:
//!   a result or an error, never a panic.
//!
//! Case counts are fixed (`CASES`, `CSV_CASES`) so CI runs the same number every time.

use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;

use datafusion::prelude::SessionContext;
use leadql::catalog::Workspace;
use leadql::import::{decode, mapping, rows};
use leadql::session::{self, SessionOptions};
use proptest::prelude::*;
use proptest::test_runner::Config;

mod common;

/// Calls of the scalar functions.
const CASES: u32 = 1000;
/// CSV files (each up to 8 × 8 cells, a few of them huge).
const CSV_CASES: u32 = 700;

/// Pieces of hostile text.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a",
        "Z",
        "@",
        ".",
        "+",
        "-",
        " ",
        "0",
        "9",
        "ñ",
        "é",
        "e\u{301}",
        "\u{301}",
        "\u{200B}",
        "\u{FEFF}",
        "\u{202E}",
        "٣",
        "٤",
        "۷",
        "א",
        "ب",
        "🙂",
        "👩‍💻",
        "ß",
        "İ",
        "ﬁ",
        "\t",
        "\n",
        "\r\n",
        "\u{0}",
        "\"",
        "\"\"",
        ",",
        ";",
        "|",
        "'",
        "\\",
        "mailto:",
        "<",
        ">",
        "x",
        "Straße",
        "Åsa",
        "2026-06-30",
        "1e308",
        "NaN",
        "=cmd",
    ])
}

/// Hostile text, rarely huge (a repeated piece of up to 60,000 bytes).
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => prop::collection::vec(piece(), 0..30).prop_map(|v| v.concat()),
        3 => any::<String>(),
        1 => (piece(), 1000usize..60_000).prop_map(|(p, n)| p.repeat(n / p.len().max(1))),
    ]
}

/// A CSV file: a header of known and hostile columns, rows of hostile cells, joined
/// with a delimiter, encoded as UTF-8 (with or without BOM) or UTF-16, with stray bytes
/// sometimes.
fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    let column = prop_oneof![
        prop::sample::select(vec![
            "Email",
            "First Name",
            "Last Name",
            "Company",
            "Country",
            "Phone",
            "Job Title",
            "Created",
            "Company Size",
            "lead_id",
            "Source",
        ])
        .prop_map(str::to_string),
        hostile_text(),
    ];
    (
        prop::collection::vec(column, 0..8),
        prop::collection::vec(prop::collection::vec(hostile_text(), 0..8), 0..8),
        prop::sample::select(vec![",", ";", "\t", "|"]),
        0u8..5,
        prop::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(|(header, rows, delimiter, form, stray)| {
            let mut text = header.join(delimiter);
            for row in rows {
                text.push('\n');
                text.push_str(&row.join(delimiter));
            }
            match form {
                0 => text.into_bytes(),
                1 => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
                2 => [0xFF, 0xFE]
                    .into_iter()
                    .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                    .collect(),
                _ => {
                    let mut bytes = text.into_bytes();
                    let at = bytes.len() / 2;
                    bytes.splice(at..at, stray);
                    bytes
                }
            }
        })
}

proptest! {
    #![proptest_config(Config { cases: CSV_CASES, ..Config::default() })]

    #[test]
    fn csv_imports_read_or_refuse_every_file_with_a_reason(bytes in csv_file()) {
        let (text, _encoding) = match decode::decode(&bytes, None) {
            Ok(decoded) => decoded,
            Err(reason) => {
                prop_assert!(!reason.is_empty());
                return Ok(());
            }
        };
        let delimiter = decode::sniff_delimiter(&text);
        let header: Vec<String> = text
            .lines()
            .next()
            .unwrap_or("")
            .split(char::from(delimiter))
            .map(|h| h.trim().to_string())
            .collect();
        let mut mapping = mapping::Mapping::default();
        for (field, column) in mapping::automatic(&header) {
            mapping.columns.entry(field).or_insert(column);
        }
        // Every other column kept, its type inferred.
        mapping.keep_unmapped = true;
        let sellers: HashSet<i64> = [1, 2, 3].into_iter().collect();
        match rows::read(&text, delimiter, &mapping, "csv", &sellers, &Default::default()) {
            Ok(read) => {
                prop_assert_eq!(read.leads.len() as u64 + read.rejects.len() as u64 + read.repeated, read.rows);
                for r in read.rejects.iter().chain(&read.warnings) {
                    prop_assert!(r.line >= 1 && !r.reasons.is_empty(), "{:?}", r);
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

/// `name(args)` with literal arguments (folded at plan time), and over columns of a
/// two-row relation (the arguments, then NULLs).
fn calls(name: &str, args: &[Arg]) -> Vec<String> {
    let literals: Vec<String> = args.iter().map(Arg::sql).collect();
    let scalar = format!("SELECT {name}({})", literals.join(", "));
    if args.is_empty() {
        return vec![scalar];
    }
    let columns: Vec<String> = (0..args.len()).map(|i| format!("c{i}")).collect();
    let nulls = vec!["NULL"; args.len()].join(", ");
    let column = format!(
        "SELECT {name}({}) FROM (VALUES ({}), ({nulls})) AS t({})",
        columns.join(", "),
        literals.join(", "),
        columns.join(", ")
    );
    vec![scalar, column]
}

/// One argument of a function call.
#[derive(Debug, Clone)]
enum Arg {
    Text(String),
    Int(i64),
    Float(f64),
    Seconds(i64),
    Bool(bool),
    Null,
}

impl Arg {
    fn sql(&self) -> String {
        match self {
            Arg::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Arg::Int(n) => format!("CAST({n} AS BIGINT)"),
            Arg::Float(x) if x.is_finite() => format!("CAST({x:?} AS DOUBLE)"),
            Arg::Float(x) => format!("CAST('{x}' AS DOUBLE)"),
            Arg::Seconds(s) => format!("to_timestamp_seconds(CAST({s} AS BIGINT))"),
            Arg::Bool(b) => b.to_string(),
            Arg::Null => "NULL".into(),
        }
    }
}

fn arg() -> impl Strategy<Value = Arg> {
    prop_oneof![
        4 => hostile_text().prop_map(Arg::Text),
        1 => prop::sample::select(vec!["engagement", "fit", "m", "m@1", "m@99", "nope"])
            .prop_map(|s| Arg::Text(s.to_string())),
        2 => any::<i64>().prop_map(Arg::Int),
        1 => (-1000i64..1000).prop_map(Arg::Int),
        2 => prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-0.0),
            -1e3f64..1e3
        ]
        .prop_map(Arg::Float),
        1 => (-4_000_000_000i64..4_000_000_000).prop_map(Arg::Seconds),
        1 => any::<bool>().prop_map(Arg::Bool),
        1 => Just(Arg::Null),
    ]
}

/// Arguments of any kinds, or shaped like the functions' own signatures (text;
/// points, instant, instant, half-life; a model name then numbers; a score then a
/// model name) with arbitrary values, so that calls also get past type checking.
fn arguments() -> impl Strategy<Value = Vec<Arg>> {
    let text = || hostile_text().prop_map(Arg::Text);
    let number = || {
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            -1e3f64..1e3
        ]
        .prop_map(Arg::Float)
    };
    let instant = || (-4_000_000_000i64..4_000_000_000).prop_map(Arg::Seconds);
    let model = || {
        prop::sample::select(vec!["m", "m@1", "engagement", "fit", "m@x", ""])
            .prop_map(|s| Arg::Text(s.to_string()))
    };
    prop_oneof![
        2 => prop::collection::vec(arg(), 0..5),
        1 => (text(), text()).prop_map(|(a, b)| vec![a, b]),
        1 => (number(), instant(), instant(), number()).prop_map(|(a, b, c, d)| vec![a, b, c, d]),
        1 => (model(), prop::collection::vec(number(), 0..4)).prop_map(|(m, mut v)| {
            v.insert(0, m);
            v
        }),
        1 => (number(), model()).prop_map(|(a, b)| vec![a, b]),
    ]
}

/// A session over a copy of the sample with a trained model `m`, the names of its
/// leadql scalar functions, and a runtime to run queries on.
fn session() -> &'static (SessionContext, Vec<String>, tokio::runtime::Runtime) {
    static SESSION: OnceLock<(SessionContext, Vec<String>, tokio::runtime::Runtime)> =
        OnceLock::new();
    SESSION.get_or_init(|| {
        let dir = Box::leak(Box::new(common::sample_copy()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let ctx = runtime.block_on(async {
            let ws = Workspace::open(dir.path()).expect("workspace");
            let ctx = session::open(&ws, &SessionOptions::default())
                .await
                .expect("session");
            ctx.sql(
                "SELECT * FROM train_model('m', 'SELECT CAST(lead_id % 7 AS DOUBLE) AS x, \
                 lead_id % 3 = 0 AS y FROM leads', 'logistic_reg', 'y')",
            )
            .await
            .expect("plan")
            .collect()
            .await
            .expect("train");
            ctx
        });
        let builtin: HashSet<String> = SessionContext::new()
            .state()
            .scalar_functions()
            .keys()
            .cloned()
            .collect();
        let ours: BTreeSet<String> = ctx
            .state()
            .scalar_functions()
            .keys()
            .filter(|name| !builtin.contains(*name))
            .cloned()
            .collect();
        (ctx, ours.into_iter().collect(), runtime)
    })
}

#[test]
fn the_function_list_holds_every_leadql_scalar_function() {
    let (_, names, _) = session();
    for expected in [
        "normalize_email",
        "normalize_phone",
        "email_domain",
        "name_similarity",
        "decay",
        "lead_grade",
        "predict_score",
        "top_factors",
        "prediction_factors",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    eprintln!(
        "{} leadql scalar functions: {}",
        names.len(),
        names.join(", ")
    );
}

proptest! {
    #![proptest_config(Config { cases: CASES, ..Config::default() })]

    #[test]
    fn every_scalar_function_returns_a_result_or_an_error(
        pick in any::<prop::sample::Index>(),
        args in arguments(),
    ) {
        let (ctx, names, runtime) = session();
        let name = &names[pick.index(names.len())];
        // Every prefix of the arguments: each arity the function may accept.
        for n in 0..=args.len() {
            for sql in calls(name, &args[..n]) {
                let outcome = runtime.block_on(async {
                    let df = ctx.sql(&sql).await?;
                    df.collect().await
                });
                if let Err(e) = outcome {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
        }
    }
}
