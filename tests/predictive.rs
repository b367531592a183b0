//! Predictive scoring from SQL on a copy of the bundled sample: train, list, evaluate,
//! predict, explain, drop — and the errors of bad training input.

use std::path::Path;
use std::process::{Command, Output};

mod common;

fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    common::copy_sample(tmp.path());
    tmp
}

fn leadql(ws: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--data", ws.to_str().expect("utf-8"), "sql"];
    all.extend_from_slice(args);
    Command::new(env!("CARGO_BIN_EXE_leadql"))
        .args(&all)
        .output()
        .expect("runs")
}

fn csv(ws: &Path, sql: &str) -> String {
    let o = leadql(ws, &["--format", "csv", sql]);
    assert!(
        o.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn error(ws: &Path, sql: &str) -> String {
    let o = leadql(ws, &[sql]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{sql} should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn train(ws: &Path) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/train_conversion.sql");
    let o = leadql(ws, &["-f", file.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

const FEATURES: &str = "seniority, job_function, industry, size_band, source, consent, company_size, web_visits, pricing_visits, forms, email_opens";

#[test]
fn train_evaluate_predict_and_explain_from_sql() {
    let ws = workspace();
    let d = ws.path();
    train(d);
    // The view is a session object: recreate it for each process.
    let view = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/train_conversion.sql"),
    )
    .expect("read");
    let view = view
        .split(";\n")
        .next()
        .expect("first statement")
        .to_string();

    let models = csv(d, "SHOW MODELS");
    let row: Vec<&str> = models
        .lines()
        .nth(1)
        .expect("one model")
        .split(',')
        .collect();
    assert_eq!(
        &row[..5],
        ["conversion", "1", "true", "logistic_reg", "converted"],
        "{models}"
    );
    let training_rows: usize = row[6].parse().expect("rows");
    assert!(
        (2900..=3100).contains(&training_rows),
        "about 80% of 3,750 closed leads: {training_rows}"
    );

    let auc: f64 = csv(
        d,
        "SELECT value FROM model_evaluation('conversion') WHERE metric = 'auc'",
    )
    .lines()
    .nth(1)
    .and_then(|v| v.parse().ok())
    .expect("auc");
    assert!(
        (0.72..0.86).contains(&auc),
        "held-out AUC {auc} outside the generator's realistic range"
    );

    // Scores are probabilities × 100; grades follow the default cut-offs.
    let check = csv(
        d,
        &format!(
            "{view}; SELECT count(*) AS n, min(score) >= 0 AND max(score) <= 100 AS bounded, \
             sum(CASE WHEN grade <> CASE WHEN score >= 75 THEN 'A' WHEN score >= 50 THEN 'B' WHEN score >= 25 THEN 'C' ELSE 'D' END THEN 1 ELSE 0 END) AS bad_grades \
             FROM predict('conversion', 'lead_features')"
        ),
    );
    assert_eq!(check, "n,bounded,bad_grades\n5000,true,0\n");

    // Contributions (with the intercept) add up to the logit of the score.
    let sums = csv(
        d,
        &format!(
            "{view}; SELECT count(*) AS off FROM (SELECT lead_id, sum(contribution) AS logit FROM explain_prediction('conversion', 'lead_features') GROUP BY lead_id) e \
             JOIN (SELECT lead_id, predict_score('conversion', {FEATURES}) / 100 AS p FROM lead_features) s USING (lead_id) \
             WHERE abs(e.logit - ln(s.p / (1 - s.p))) > 1e-6"
        ),
    );
    assert_eq!(sums, "off\n0\n");

    // A second training is version 2; DROP MODEL removes every version.
    train(d);
    assert!(csv(d, "SELECT max(version) AS v FROM show_models()").ends_with("\n2\n"));
    assert_eq!(
        csv(d, "DROP MODEL conversion"),
        "model,versions_removed\nconversion,2\n"
    );
    assert!(
        error(d, "SELECT * FROM model_evaluation('conversion')")
            .contains("unknown model 'conversion'")
    );
}

/// The feature view of `tests/sql/train_conversion.sql` (a session object: each
/// process recreates it).
fn feature_view() -> String {
    let file = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/train_conversion.sql"),
    )
    .expect("read");
    file.split(";\n")
        .next()
        .expect("first statement")
        .to_string()
}

/// A model file without its `version` and `created_at` lines: what two trainings on
/// the same data and seed must have in common, byte for byte.
fn without_version_and_time(file: &[u8]) -> String {
    String::from_utf8_lossy(file)
        .lines()
        .filter(|l| !l.contains("\"created_at\"") && !l.contains("\"version\""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn boosted_trees_train_score_and_explain_on_the_logit() {
    let ws = workspace();
    let d = ws.path();
    let view = feature_view();
    let create = |version: u32| {
        csv(
            d,
            &format!(
                "{view}; CREATE MODEL boost OPTIONS (model_type = 'boosted_tree', label = 'converted', seed = 7, \
                 max_iterations = 60, learn_rate = 0.1, max_tree_depth = 3, l2_reg = 1, subsample = 0.8) \
                 AS SELECT {FEATURES}, converted FROM lead_features WHERE status <> 'open'"
            ),
        );
        std::fs::read(d.join(format!("models/boost/v{version}.json"))).expect("model file")
    };
    let first = create(1);
    let shown = csv(
        d,
        "SELECT model_type, training_rows > 2000 AS rows_ok, auc > 0.7 AS auc_ok FROM show_models() WHERE model = 'boost'",
    );
    assert_eq!(shown, "model_type,rows_ok,auc_ok\nboosted_tree,true,true\n");
    // Probabilities, not labels: many distinct scores.
    let distinct = csv(
        d,
        &format!(
            "{view}; SELECT count(DISTINCT score) > 50 AS many FROM predict('boost', 'lead_features')"
        ),
    );
    assert_eq!(distinct, "many\ntrue\n");
    // Split-gain importances: non-negative, sum to 1, pricing visits lead.
    let top = csv(
        d,
        "SELECT feature, kind, round(sum(weight) OVER (), 6) AS total, min(weight) OVER () >= 0 AS nonneg \
         FROM model_features('boost') ORDER BY weight DESC LIMIT 1",
    );
    assert_eq!(
        top,
        "feature,kind,total,nonneg\npricing_visits,\"importance (split gain, sums to 1)\",1.0,true\n"
    );
    // Contributions plus the baseline add up to the logit of the score, for every lead.
    let off = csv(
        d,
        &format!(
            "{view}; SELECT count(*) AS leads, count(*) FILTER (WHERE abs(e.z - ln(s.p / (1 - s.p))) > 1e-9 OR f <> '(baseline)') AS off FROM \
             (SELECT lead_id, sum(contribution) AS z, max(CASE WHEN feature LIKE '(%' THEN feature END) AS f \
              FROM explain_prediction('boost', 'lead_features') GROUP BY lead_id) e \
             JOIN (SELECT lead_id, predict_score('boost', {FEATURES}) / 100 AS p FROM lead_features) s USING (lead_id)"
        ),
    );
    assert_eq!(off, "leads,off\n5000,0\n");
    // Same data and seed: the same model file, byte for byte (but its version and time).
    let second = create(2);
    assert_eq!(
        without_version_and_time(&first),
        without_version_and_time(&second)
    );
    // Options of another model type, and bad values, are refused by name.
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'boosted_tree', label = 'y', num_trees = 5) AS SELECT 1 AS x, true AS y",
    );
    assert!(
        e.contains("model option num_trees applies to random_forest models, not boosted_tree"),
        "{e}"
    );
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'boosted_tree', label = 'y', learn_rate = 2) AS SELECT 1 AS x, true AS y",
    );
    assert!(e.contains("learn_rate must be in (0, 1], got 2"), "{e}");
}

#[test]
fn trees_and_forests_train_score_and_explain_with_probabilities() {
    let ws = workspace();
    let d = ws.path();
    let view = feature_view();
    for (name, options) in [
        ("tree", "model_type = 'decision_tree', max_depth = 5"),
        (
            "forest",
            "model_type = 'random_forest', num_trees = 20, max_depth = 8",
        ),
    ] {
        csv(
            d,
            &format!(
                "{view}; CREATE MODEL {name} OPTIONS ({options}, label = 'converted', seed = 7) \
                 AS SELECT {FEATURES}, converted FROM lead_features WHERE status <> 'open'"
            ),
        );
        let auc: f64 = csv(
            d,
            &format!("SELECT value FROM model_evaluation('{name}') WHERE metric = 'auc'"),
        )
        .lines()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("auc");
        // Hard labels would give an AUC near 0.5-0.65; leaf frequencies rank properly.
        assert!((0.64..0.86).contains(&auc), "{name}: held-out AUC {auc}");
        // Scores take many values (leaf shares), not just 0 and 100.
        let distinct: usize = csv(
            d,
            &format!(
                "{view}; SELECT count(DISTINCT score) AS n FROM predict('{name}', 'lead_features')"
            ),
        )
        .lines()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("count");
        assert!(distinct >= 8, "{name}: only {distinct} distinct scores");
        // Importances are non-negative and sum to 1; pricing visits lead.
        let top = csv(
            d,
            &format!(
                "SELECT feature, round(sum(weight) OVER (), 6) AS total, min(weight) OVER () >= 0 AS nonneg \
                 FROM model_features('{name}') ORDER BY weight DESC LIMIT 1"
            ),
        );
        assert!(
            top.ends_with("\npricing_visits,1.0,true\n"),
            "{name}: {top}"
        );
        // Contributions plus the base rate add up to the probability.
        let off = csv(
            d,
            &format!(
                "{view}; SELECT count(*) AS off, count(DISTINCT f) AS baselines FROM \
                 (SELECT lead_id, sum(contribution) AS p, max(CASE WHEN feature LIKE '(%' THEN feature END) AS f \
                  FROM explain_prediction('{name}', 'lead_features') GROUP BY lead_id) e \
                 JOIN (SELECT lead_id, predict_score('{name}', {FEATURES}) / 100 AS p FROM lead_features) s USING (lead_id) \
                 WHERE abs(e.p - s.p) > 1e-9 OR f <> '(base rate)'"
            ),
        );
        assert_eq!(off, "off,baselines\n0,0\n", "{name}");
    }
    // Same data and seed: the same forest, byte for byte.
    let first = std::fs::read(d.join("models/forest/v1.json")).expect("v1");
    csv(
        d,
        &format!(
            "{view}; CREATE MODEL forest OPTIONS (model_type = 'random_forest', num_trees = 20, max_depth = 8, label = 'converted', seed = 7) \
             AS SELECT {FEATURES}, converted FROM lead_features WHERE status <> 'open'"
        ),
    );
    let second = std::fs::read(d.join("models/forest/v2.json")).expect("v2");
    assert_eq!(
        without_version_and_time(&first),
        without_version_and_time(&second)
    );
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'random_forest', label = 'y', num_trees = 0) AS SELECT 1 AS x, true AS y",
    );
    assert!(
        e.contains("num_trees = '0' must be a whole number from 1 to 10000"),
        "{e}"
    );
}

#[test]
fn option_values_are_sql_literals_and_keys_are_unique() {
    let ws = workspace();
    let d = ws.path();
    let query = "SELECT CAST(lead_id % 7 AS DOUBLE) AS x, CASE WHEN lead_id % 3 = 0 THEN 'Closed, Won' ELSE 'Lost' END AS outcome FROM leads";
    // A comma inside a quoted value is part of it, through both entry points.
    csv(
        d,
        &format!(
            "CREATE MODEL won OPTIONS (model_type = 'logistic_reg', label = 'outcome', positive = 'Closed, Won', seed = 3) AS {query}"
        ),
    );
    csv(
        d,
        &format!(
            "SELECT * FROM train_model('won2', '{}', 'logistic_reg', 'outcome', 'positive = ''Closed, Won'', seed = 3')",
            query.replace('\'', "''")
        ),
    );
    for name in ["won", "won2"] {
        let text =
            std::fs::read_to_string(d.join(format!("models/{name}/v1.json"))).expect("model");
        assert!(
            text.contains("\"positive\": \"Closed, Won\""),
            "{name}: {text}"
        );
    }
    let e = error(
        d,
        &format!(
            "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'outcome', seed = 1, seed = 2) AS {query}"
        ),
    );
    assert!(e.contains("model option seed is given twice"), "{e}");
    let e = error(
        d,
        &format!(
            "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'outcome', label = 'x') AS {query}"
        ),
    );
    assert!(e.contains("model option label is given twice"), "{e}");
    let e = error(
        d,
        "SELECT * FROM train_model('m', 'SELECT 1 AS x, true AS y', 'logistic_reg', 'y', 'l2 = 1, L2 = 2')",
    );
    assert!(e.contains("model option l2 is given twice"), "{e}");
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'random_forest', label = 'y', num_trees = 1000000000) AS SELECT 1 AS x, true AS y",
    );
    assert!(
        e.contains("num_trees = '1000000000' must be a whole number from 1 to 10000"),
        "{e}"
    );
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'decision_tree', label = 'y', max_depth = 100) AS SELECT 1 AS x, true AS y",
    );
    assert!(
        e.contains("max_depth = '100' must be a whole number from 1 to 64"),
        "{e}"
    );
}

#[test]
fn bad_training_input_gets_clear_errors() {
    let ws = workspace();
    let d = ws.path();
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'nope') AS SELECT seniority, status FROM leads",
    );
    assert!(
        e.contains(
            "label column 'nope' is not a column of the training query (columns: seniority, status)"
        ),
        "{e}"
    );
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'status') AS SELECT seniority, status FROM leads",
    );
    assert!(
        e.contains("label column 'status' is not binary: it has 3 distinct values"),
        "{e}"
    );
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'y') AS SELECT seniority, true AS y FROM leads",
    );
    assert!(
        e.contains("has a single class (5000 rows, 5000 positive)"),
        "{e}"
    );
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'y') AS SELECT CASE WHEN lead_id = 7 THEN 'NaN'::double ELSE 1.0 END AS x, lead_id % 2 = 0 AS y FROM leads",
    );
    assert!(
        e.contains("column 'x' row 7: NaN is not a finite number"),
        "{e}"
    );
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'svm', label = 'y') AS SELECT 1 AS x, true AS y",
    );
    assert!(e.contains("unknown model_type 'svm'"), "{e}");
    let e = error(
        d,
        "CREATE MODEL m OPTIONS (model_type = 'logistic_reg', label = 'y', l3 = 1) AS SELECT 1 AS x, true AS y",
    );
    assert!(e.contains("unknown model option 'l3'"), "{e}");
    let e = error(d, "SELECT predict_score('nope', 1)");
    assert!(e.contains("unknown model 'nope'"), "{e}");
}

#[test]
fn incompatible_model_file_versions_are_detected() {
    let ws = workspace();
    let d = ws.path();
    train(d);
    let file = d.join("models/conversion/v1.json");
    let text = std::fs::read_to_string(&file).expect("model file");
    // (The JSON round trip itself is a unit test of leadql-models.)
    std::fs::write(
        &file,
        text.replace("\"format_version\": 1", "\"format_version\": 99"),
    )
    .expect("tamper");
    let e = error(d, "SELECT * FROM model_features('conversion')");
    assert!(
        e.contains("model format version 99, but this leadql reads version 1"),
        "{e}"
    );
}

/// Issue 15: `DROP MODEL "../../victim"` and `drop_model('/abs/dir')` deleted any
/// directory holding a `v1.json`. Model names are checked before they become paths, on
/// drop, load, predict and create: a directory outside the workspace survives, and the
/// error names the argument.
#[test]
fn drop_model_with_a_path_as_name_deletes_nothing_outside_the_workspace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = tmp.path().join("ws");
    common::copy_sample(&ws);
    // models/../../victim is tmp/victim.
    let victim = tmp.path().join("victim");
    std::fs::create_dir_all(&victim).expect("mkdir");
    std::fs::write(victim.join("v1.json"), "{\"format_version\": 1}").expect("write");
    std::fs::write(victim.join("precious.txt"), "keep me").expect("write");
    let abs = victim.to_str().expect("utf-8");
    for sql in [
        "DROP MODEL \"../../victim\"".to_string(),
        "DROP MODEL IF EXISTS \"../../victim\"".to_string(),
        format!("SELECT * FROM drop_model('{abs}')"),
        format!("SELECT * FROM drop_model('{abs}', true)"),
    ] {
        let err = error(&ws, &sql);
        assert!(
            err.contains("drop_model: argument name: invalid model name"),
            "{sql}: {err}"
        );
        assert!(err.contains("a model name is not a path"), "{sql}: {err}");
    }
    for sql in [
        "SELECT * FROM model_evaluation('../../victim')".to_string(),
        "SELECT * FROM predict('../../victim', 'leads')".to_string(),
        format!("SELECT * FROM model_features('{abs}')"),
        "CREATE MODEL \"../../victim\" OPTIONS (model_type = 'logistic_reg', label = 'y') AS SELECT 1 AS a, true AS y".to_string(),
    ] {
        let err = error(&ws, &sql);
        assert!(err.contains("invalid model name"), "{sql}: {err}");
    }
    assert!(
        victim.join("v1.json").is_file(),
        "the victim's model file survives"
    );
    assert_eq!(
        std::fs::read_to_string(victim.join("precious.txt")).expect("survives"),
        "keep me"
    );
}
