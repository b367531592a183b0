//! Property tests over hostile input (cargo-fuzz needs nightly, which this toolchain
//! lacks): arbitrary Unicode through every text function, and random edits of rule
//! models, policies and model files through their parsers and validators. Each case
//! must give a result or an error, never a panic or a hang. Case counts are fixed (the
//! `CASES` constant) so CI runs the same number every time.

use std::collections::HashSet;

use leadql_models::features::RawColumn;
use leadql_models::matching::{email_domain, name_similarity, normalize_email, normalize_phone};
use leadql_models::policy::Policy;
use leadql_models::predictive::{ModelType, TrainOptions, TrainingData, train};
use leadql_models::rules::RuleModel;
use leadql_models::store::load;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::Config;

const CASES: u32 = 2000;

/// Text that stresses Unicode handling: multi-byte letters, combining marks,
/// right-to-left digits and letters, zero-width and control characters, emoji.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "Z",
        "@",
        ".",
        "+",
        "-",
        " ",
        "(",
        ")",
        "0",
        "9",
        "ñ",
        "é",
        "e\u{301}",
        "\u{301}",
        "\u{200B}",
        "\u{FEFF}",
        "٣",
        "٤",
        "۷",
        "א",
        "ש",
        "ب",
        "🙂",
        "👩‍💻",
        "ß",
        "İ",
        "ﬁ",
        "\t",
        "\n",
        "\u{0}",
        "mailto:",
        "<",
        ">",
        "ext.",
        "x",
        "00",
        "Straße",
        "Åsa",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(Config { cases: CASES, ..Config::default() })]

    #[test]
    fn text_functions_never_panic(a in hostile_text(), b in any::<String>()) {
        for s in [&a, &b] {
            if let Some(e) = normalize_email(s) {
                prop_assert!(e.contains('@'));
                prop_assert_eq!(e.to_lowercase(), e.clone());
            }
            let _ = email_domain(s);
            if let Some(p) = normalize_phone(s) {
                prop_assert!(p.trim_start_matches('+').chars().all(|c| c.is_ascii_digit()), "{}", p);
            }
        }
        if let Some(x) = name_similarity(&a, &b) {
            prop_assert!((0.0..=1.0).contains(&x), "{}", x);
        }
        if let Some(x) = name_similarity(&a, &a) {
            prop_assert!((0.0..=1.0).contains(&x), "{}", x);
        }
    }

    #[test]
    fn rule_models_and_policies_parse_or_fail_cleanly(
        cut in 0usize..4000,
        insert in hostile_text(),
        which in 0usize..3,
    ) {
        let texts = [
            include_str!("../../data/sample/scoring/engagement.toml"),
            include_str!("../../data/sample/scoring/fit.toml"),
            include_str!("../../data/sample/policies/default.toml"),
        ];
        let text = texts[which];
        let mut at = cut.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let edited = format!("{}{}{}", &text[..at], insert, &text[at..]);
        if which < 2 {
            let _ = RuleModel::parse("m", "m.toml", &edited);
        } else {
            let _ = Policy::parse("p", "p.toml", &edited);
        }
        let _ = RuleModel::parse("m", "m.toml", &insert);
        let _ = Policy::parse("p", "p.toml", &insert);
    }
}

fn trained(kind: ModelType) -> String {
    let n = 400;
    let x: Vec<Option<f64>> = (0..n).map(|i| Some((i % 37) as f64 / 10.0)).collect();
    let c: Vec<Option<String>> = (0..n)
        .map(|i| Some(["a", "b", "c"][i % 3].to_string()))
        .collect();
    let y: Vec<Option<bool>> = (0..n).map(|i| Some((i % 37) > 20 || i % 11 == 0)).collect();
    let data = TrainingData {
        names: vec!["x".into(), "c".into()],
        columns: vec![RawColumn::Numeric(x), RawColumn::Text(c)],
        label: RawColumn::Bool(y),
        time: None,
        holdout: None,
    };
    let mut o = TrainOptions::new(kind, "y");
    o.num_trees = 3;
    let mut m = train("m", "q", data, o, "2026-01-01 00:00:00".into()).expect("trains");
    m.version = 1;
    serde_json::to_string(&m).expect("json")
}

/// Replaces the `pick`-th value of the JSON tree (depth first) by `with`.
fn mutate(v: &mut serde_json::Value, pick: &mut usize, with: &serde_json::Value) -> bool {
    if *pick == 0 {
        *v = with.clone();
        return true;
    }
    *pick -= 1;
    match v {
        serde_json::Value::Array(items) => items.iter_mut().any(|i| mutate(i, pick, with)),
        serde_json::Value::Object(map) => map.values_mut().any(|i| mutate(i, pick, with)),
        _ => false,
    }
}

fn replacement() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(0)),
        Just(serde_json::json!(5.0)),
        Just(serde_json::json!(1e308)),
        Just(serde_json::json!(4_000_000_000u64)),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!(null)),
        Just(serde_json::json!("x")),
        Just(serde_json::json!([0, 0])),
    ]
}

proptest! {
    #![proptest_config(Config { cases: CASES, ..Config::default() })]

    #[test]
    fn edited_model_files_load_or_fail_cleanly(
        kind in 0usize..3,
        edits in prop::collection::vec((0usize..5000, replacement()), 1..4),
    ) {
        thread_local! {
            static MODELS: Vec<String> = vec![
                trained(ModelType::LogisticReg),
                trained(ModelType::DecisionTree),
                trained(ModelType::RandomForest),
            ];
        }
        let text = MODELS.with(|m| m[kind].clone());
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        for (pick, with) in &edits {
            let mut p = *pick;
            mutate(&mut v, &mut p, with);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v1.json");
        std::fs::write(&path, serde_json::to_string(&v).expect("json")).expect("write");
        if let Ok(model) = load(&path) {
            // A file that loads is usable: every probability is in [0, 1].
            let columns = vec![
                RawColumn::Numeric(vec![Some(0.5), None, Some(-3.0)]),
                RawColumn::Text(vec![Some("a".into()), None, Some("zzz".into())]),
            ];
            if let Ok(matrix) = model.pipeline.transform(&columns) {
                for p in model.probabilities(&matrix) {
                    prop_assert!((0.0..=1.0).contains(&p), "{}", p);
                }
            }
        }
    }
}

#[test]
fn hostile_text_covers_the_cases_it_names() {
    // The strategy's pieces include multi-byte, combining, RTL and empty text.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = HashSet::new();
    for _ in 0..500 {
        let s = hostile_text()
            .new_tree(&mut runner)
            .expect("value")
            .current();
        if s.is_empty() {
            seen.insert("empty");
        }
        if s.contains('\u{301}') {
            seen.insert("combining");
        }
        if s.chars().any(|c| ('\u{0590}'..='\u{06FF}').contains(&c)) {
            seen.insert("rtl");
        }
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}
