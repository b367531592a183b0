//! Training options written as `key = value` pairs (the `OPTIONS (…)` of `CREATE
//! MODEL`, or the last argument of `train_model`).

use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, UnaryOperator, Value as SqlValue};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;
use leadql_models::predictive::{ModelType, Split, TrainOptions};

/// Most trees in a random forest (`num_trees`).
pub const MAX_TREES: usize = 10_000;
/// Deepest tree (`max_depth`).
pub const MAX_DEPTH: usize = 64;
/// Most optimiser iterations of a logistic regression (`max_iterations`).
pub const MAX_ITERATIONS: usize = 100_000;
/// Largest `min_level_count` and `min_leaf_rows` (a billion rows).
pub const MAX_COUNT: usize = 1_000_000_000;

/// Accepted option keys.
pub const KEYS: &[&str] = &[
    "model_type",
    "label",
    "positive",
    "l2",
    "max_iterations",
    "split",
    "test_fraction",
    "seed",
    "time_column",
    "balance_classes",
    "min_level_count",
    "grade_cutoffs",
    "split_column",
    "max_depth",
    "min_leaf_rows",
    "num_trees",
    "feature_fraction",
    "horizon_days",
    "publish_tolerance",
    "learn_rate",
    "min_split_loss",
    "subsample",
    "early_stop",
    "l2_reg",
    "max_tree_depth",
];

/// BigQuery ML's names accepted for leadql's: `l2_reg` is `l2`, `max_tree_depth` is
/// `max_depth`.
pub(crate) const ALIASES: &[(&str, &str)] = &[("l2_reg", "l2"), ("max_tree_depth", "max_depth")];

/// Options that mean something for some model types only; giving one to another
/// type is an error rather than silently ignored.
pub(crate) const APPLIES_TO: &[(&str, &[ModelType])] = &[
    ("l2", &[ModelType::LogisticReg, ModelType::BoostedTree]),
    (
        "max_iterations",
        &[ModelType::LogisticReg, ModelType::BoostedTree],
    ),
    (
        "max_depth",
        &[
            ModelType::DecisionTree,
            ModelType::RandomForest,
            ModelType::BoostedTree,
        ],
    ),
    (
        "min_leaf_rows",
        &[
            ModelType::DecisionTree,
            ModelType::RandomForest,
            ModelType::BoostedTree,
        ],
    ),
    ("num_trees", &[ModelType::RandomForest]),
    ("feature_fraction", &[ModelType::RandomForest]),
    ("learn_rate", &[ModelType::BoostedTree]),
    ("min_split_loss", &[ModelType::BoostedTree]),
    ("subsample", &[ModelType::BoostedTree]),
    ("early_stop", &[ModelType::BoostedTree]),
];

/// One option value from its SQL expression: a string literal (`'Closed, Won'`, quotes
/// doubled inside), a number (`0.5`, `-1`), `true`/`false`, or a bare word (`time`,
/// `"time"`). Anything else (an expression such as `75/50/25`) is refused: quote it.
pub fn literal(key: &str, expr: &SqlExpr) -> Result<String> {
    match expr {
        SqlExpr::Value(v) => match &v.value {
            SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => Ok(s.clone()),
            SqlValue::Number(..) | SqlValue::Boolean(_) => Ok(v.value.to_string()),
            other => {
                plan_err!("model option {key} = {other}: give a string, a number or true/false")
            }
        },
        SqlExpr::Identifier(ident) => Ok(ident.value.clone()),
        SqlExpr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr: inner,
        } if matches!(inner.as_ref(), SqlExpr::Value(v) if matches!(v.value, SqlValue::Number(..))) => {
            Ok(expr.to_string())
        }
        other => plan_err!(
            "model option {key} = {other} is not a literal: quote it (e.g. {key} = '{other}')"
        ),
    }
}

/// Reads `key = literal [, key = literal …]` from `parser` (the body of `OPTIONS (…)`),
/// stopping before the first token after a value that is not a comma. Keys are
/// lower-cased; values are parsed as SQL literals ([`literal`]), so a comma inside a
/// quoted value is part of it. A key given twice is an error. Syntax errors come back
/// as [`DataFusionError::SQL`].
pub fn parse_option_list(parser: &mut Parser<'_>) -> Result<Vec<(String, String)>> {
    let sql = |e| DataFusionError::SQL(Box::new(e), None);
    let mut out: Vec<(String, String)> = Vec::new();
    loop {
        let key = parser
            .parse_identifier()
            .map_err(sql)?
            .value
            .to_ascii_lowercase();
        parser.expect_token(&Token::Eq).map_err(sql)?;
        let value = literal(&key, &parser.parse_expr().map_err(sql)?)?;
        out.push((key, value));
        if !parser.consume_token(&Token::Comma) {
            break;
        }
    }
    check_unique(&out)?;
    Ok(out)
}

/// An error if a key appears twice.
fn check_unique(pairs: &[(String, String)]) -> Result<()> {
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(earlier, _)| earlier == k) {
            return plan_err!("model option {k} is given twice: give each option once");
        }
    }
    Ok(())
}

/// Parses `a = 1, b = 'text, with a comma'` (the options argument of `train_model`)
/// into pairs, as [`parse_option_list`] does; an empty text has none.
pub fn parse_pairs(text: &str) -> Result<Vec<(String, String)>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| DataFusionError::SQL(Box::new(e), None))?;
    let out = parse_option_list(&mut parser)?;
    let next = parser.peek_token().token;
    if next != Token::EOF {
        return plan_err!("model options '{text}': expected ',' or the end, found {next}");
    }
    Ok(out)
}

/// `true`/`false` (or `1`/`0`, `yes`/`no`).
fn flag(key: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => plan_err!("model option {key} = '{v}' (expected true or false)"),
    }
}

/// Builds training options from pairs; `model_type` and `label` are required.
pub fn train_options(pairs: &[(String, String)]) -> Result<TrainOptions> {
    // BigQuery ML's spellings become leadql's; both at once is an error.
    let given = |k: &str| pairs.iter().any(|(key, _)| key == k);
    if let Some((alias, name)) = ALIASES.iter().find(|(a, n)| given(a) && given(n)) {
        return plan_err!("model options {alias} and {name} are the same option: give one");
    }
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| {
            let key = ALIASES
                .iter()
                .find(|(alias, _)| alias == k)
                .map_or(k.as_str(), |(_, name)| name);
            (key.to_string(), v.clone())
        })
        .collect();
    let pairs = pairs.as_slice();
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    check_unique(pairs)?;
    for (k, _) in pairs {
        if !KEYS.contains(&k.as_str()) {
            return plan_err!(
                "unknown model option '{k}' (expected one of: {})",
                KEYS.join(", ")
            );
        }
    }
    let Some(model_type) = get("model_type") else {
        return plan_err!("model option model_type is required (e.g. 'logistic_reg')");
    };
    let Some(label) = get("label") else {
        return plan_err!("model option label is required: the column with the outcome");
    };
    let model_type = ModelType::parse(model_type)
        .map_err(|e| datafusion::error::DataFusionError::Plan(e.to_string()))?;
    if let Some((key, types)) = APPLIES_TO
        .iter()
        .find(|(key, types)| get(key).is_some() && !types.contains(&model_type))
    {
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        return plan_err!(
            "model option {key} applies to {} models, not {}",
            names.join(" and "),
            model_type.as_str()
        );
    }
    let mut o = TrainOptions::new(model_type, label);
    let number = |k: &str, v: &str| -> Result<f64> {
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => plan_err!("model option {k} = '{v}' is not a number"),
        }
    };
    let count = |k: &str, v: &str, max: usize| -> Result<usize> {
        let x = number(k, v)?;
        if !(1.0..=max as f64).contains(&x) || x.fract() != 0.0 {
            return plan_err!("model option {k} = '{v}' must be a whole number from 1 to {max}");
        }
        Ok(x as usize)
    };
    o.positive = get("positive").map(str::to_string);
    if let Some(v) = get("l2") {
        o.l2 = number("l2", v)?;
        if o.l2 < 0.0 {
            return plan_err!("model option l2 must be >= 0");
        }
    }
    if let Some(v) = get("max_iterations") {
        o.max_iterations = count("max_iterations", v, MAX_ITERATIONS)? as u64;
    }
    let test_fraction = match get("test_fraction") {
        Some(v) => {
            let f = number("test_fraction", v)?;
            if !(f > 0.0 && f < 1.0) {
                return plan_err!("model option test_fraction must be between 0 and 1, got {f}");
            }
            f
        }
        None => 0.2,
    };
    if let Some(v) = get("horizon_days") {
        let h = number("horizon_days", v)?;
        if !(h > 0.0 && h <= 36_500.0) {
            return plan_err!(
                "model option horizon_days must be a number of days in (0, 36500], got {h}"
            );
        }
        o.horizon_days = Some(h);
    }
    if let Some(v) = get("publish_tolerance") {
        let t = number("publish_tolerance", v)?;
        if !(0.0..=1.0).contains(&t) {
            return plan_err!(
                "model option publish_tolerance is an AUC difference in [0, 1], got {t}"
            );
        }
        o.publish_tolerance = t;
    }
    // Point-in-time models split by their snapshots' instants unless told otherwise.
    let default_split = if o.horizon_days.is_some() {
        "time"
    } else {
        "random"
    };
    let time_column = get("time_column").or(o.horizon_days.map(|_| "as_of"));
    o.split = match get("split").unwrap_or(default_split) {
        "random" => Split::Random {
            test_fraction,
            seed: get("seed")
                .map(|s| number("seed", s))
                .transpose()?
                .unwrap_or(42.0) as u64,
        },
        "custom" => match get("split_column") {
            Some(c) => Split::Column {
                column: c.to_string(),
            },
            None => {
                return plan_err!(
                    "split = 'custom' needs split_column = '<boolean column, true = held out>'"
                );
            }
        },
        "time" => match time_column {
            Some(c) => Split::Time {
                test_fraction,
                column: c.to_string(),
            },
            None => return plan_err!("split = 'time' needs time_column = '<timestamp column>'"),
        },
        other => {
            return plan_err!("model option split = '{other}' (expected random, time or custom)");
        }
    };
    if o.horizon_days.is_some() && !matches!(o.split, Split::Time { .. }) {
        return plan_err!(
            "a model with horizon_days is trained on snapshots and splits by their instants: use split = 'time' (time_column = 'as_of')"
        );
    }
    if let Some(v) = get("balance_classes") {
        o.balance_classes = flag("balance_classes", v)?;
    }
    if let Some(v) = get("min_level_count") {
        o.min_level_count = count("min_level_count", v, MAX_COUNT)?;
    }
    if let Some(v) = get("max_depth") {
        o.max_depth = Some(count("max_depth", v, MAX_DEPTH)?);
    }
    if let Some(v) = get("min_leaf_rows") {
        o.min_leaf_rows = count("min_leaf_rows", v, MAX_COUNT)?;
    }
    if let Some(v) = get("num_trees") {
        o.num_trees = count("num_trees", v, MAX_TREES)?;
    }
    if let Some(v) = get("feature_fraction") {
        let f = number("feature_fraction", v)?;
        if !(f > 0.0 && f <= 1.0) {
            return plan_err!("model option feature_fraction must be in (0, 1], got {f}");
        }
        o.feature_fraction = f;
    }
    if let Some(v) = get("learn_rate") {
        let r = number("learn_rate", v)?;
        if !(r > 0.0 && r <= 1.0) {
            return plan_err!("model option learn_rate must be in (0, 1], got {r}");
        }
        o.learn_rate = r;
    }
    if let Some(v) = get("min_split_loss") {
        o.min_split_loss = number("min_split_loss", v)?;
        if o.min_split_loss < 0.0 {
            return plan_err!("model option min_split_loss must be >= 0");
        }
    }
    if let Some(v) = get("subsample") {
        let f = number("subsample", v)?;
        if !(f > 0.0 && f <= 1.0) {
            return plan_err!("model option subsample must be in (0, 1], got {f}");
        }
        o.subsample = f;
    }
    if let Some(v) = get("early_stop") {
        o.early_stop = flag("early_stop", v)?;
    }
    if let Some(v) = get("grade_cutoffs") {
        let cuts: Vec<f64> = v
            .split(['/', ';', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| number("grade_cutoffs", s))
            .collect::<Result<_>>()?;
        match cuts.as_slice() {
            [a, b, c] if a > b && b > c => o.grade_cutoffs = [*a, *b, *c],
            _ => {
                return plan_err!(
                    "model option grade_cutoffs = '{v}': give three decreasing scores for A, B and C, e.g. '75/50/25'"
                );
            }
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_pairs(text).expect("parses")
    }

    fn options(text: &str) -> Result<TrainOptions> {
        let mut all = vec![
            ("model_type".to_string(), "random_forest".to_string()),
            ("label".to_string(), "y".to_string()),
        ];
        all.extend(parse_pairs(text)?);
        train_options(&all)
    }

    fn error(text: &str) -> String {
        options(text).expect_err("invalid").to_string()
    }

    #[test]
    fn values_are_sql_literals_with_commas_inside_quotes() {
        assert_eq!(
            pairs("positive = 'Closed, Won', L2 = 0.5, split = time, seed = -1, x = true"),
            [
                ("positive".to_string(), "Closed, Won".to_string()),
                ("l2".to_string(), "0.5".to_string()),
                ("split".to_string(), "time".to_string()),
                ("seed".to_string(), "-1".to_string()),
                ("x".to_string(), "true".to_string()),
            ]
        );
        assert_eq!(pairs("positive = 'it''s'")[0].1, "it's");
        assert_eq!(pairs("  "), []);
        let o = options("positive = 'Closed, Won', grade_cutoffs = '75/50/25'").expect("valid");
        assert_eq!(o.positive.as_deref(), Some("Closed, Won"));
        assert_eq!(o.grade_cutoffs, [75.0, 50.0, 25.0]);
    }

    #[test]
    fn malformed_option_lists_are_errors() {
        let e = parse_pairs("grade_cutoffs = 75/50/25").expect_err("expression");
        assert!(e.to_string().contains("is not a literal: quote it"), "{e}");
        let e = parse_pairs("positive = 'a', b").expect_err("no value");
        assert!(e.to_string().contains("Expected: ="), "{e}");
        let e = parse_pairs("positive = 'a' seed = 1").expect_err("no comma");
        assert!(e.to_string().contains("expected ',' or the end"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse_pairs("seed = 1, SEED = 2").expect_err("twice");
        assert!(
            e.to_string()
                .contains("model option seed is given twice: give each option once"),
            "{e}"
        );
        // The label is train_model's fourth argument; giving it again is a duplicate.
        assert!(error("label = 'z'").contains("model option label is given twice"));
    }

    #[test]
    fn sizes_are_limited() {
        let e = error("num_trees = 1000000000");
        assert!(
            e.contains("num_trees = '1000000000' must be a whole number from 1 to 10000"),
            "{e}"
        );
        assert!(error("num_trees = 0").contains("from 1 to 10000"));
        assert!(
            error("max_depth = 65")
                .contains("max_depth = '65' must be a whole number from 1 to 64")
        );
        assert!(error("max_depth = 2.5").contains("whole number"));
        let iterations = |t: &str| boosted(t).expect_err("invalid").to_string();
        assert!(iterations("max_iterations = 1e9").contains("from 1 to 100000"));
        assert!(iterations("max_iterations = -3").contains("from 1 to 100000"));
        assert!(
            error("min_level_count = 0").contains("min_level_count = '0' must be a whole number")
        );
        assert!(error("min_level_count = 1e12").contains("from 1 to 1000000000"));
        let o = options("num_trees = 10000, max_depth = 64, min_level_count = 3")
            .expect("at the limits");
        assert_eq!(
            (o.num_trees, o.max_depth, o.min_level_count),
            (10_000, Some(64), 3)
        );
    }

    fn boosted(text: &str) -> Result<TrainOptions> {
        let mut all = vec![
            ("model_type".to_string(), "boosted_tree".to_string()),
            ("label".to_string(), "y".to_string()),
        ];
        all.extend(parse_pairs(text)?);
        train_options(&all)
    }

    #[test]
    fn boosted_trees_take_bigquery_mls_option_names() {
        let o = boosted(
            "max_iterations = 300, learn_rate = 0.05, max_tree_depth = 4, min_split_loss = 0.5, \
             l2_reg = 2, subsample = 0.8, early_stop = false",
        )
        .expect("valid");
        assert_eq!(
            (
                o.max_iterations,
                o.learn_rate,
                o.max_depth,
                o.min_split_loss,
                o.l2,
                o.subsample,
                o.early_stop
            ),
            (300, 0.05, Some(4), 0.5, 2.0, 0.8, false)
        );
        let d = boosted("").expect("defaults");
        assert_eq!(
            (d.learn_rate, d.subsample, d.early_stop, d.min_split_loss),
            (0.1, 1.0, true, 0.0)
        );
        let e = |t: &str| boosted(t).expect_err("invalid").to_string();
        assert!(e("learn_rate = 0").contains("learn_rate must be in (0, 1], got 0"));
        assert!(e("learn_rate = 1.5").contains("learn_rate must be in (0, 1]"));
        assert!(e("subsample = 0").contains("subsample must be in (0, 1]"));
        assert!(e("min_split_loss = -1").contains("min_split_loss must be >= 0"));
        assert!(e("early_stop = maybe").contains("early_stop = 'maybe' (expected true or false)"));
        assert!(e("max_tree_depth = 65").contains("max_depth = '65' must be a whole number"));
        assert!(
            e("l2 = 1, l2_reg = 2").contains("l2_reg and l2 are the same option: give one"),
            "{}",
            e("l2 = 1, l2_reg = 2")
        );
    }

    #[test]
    fn options_of_another_model_type_are_errors() {
        let e = error("learn_rate = 0.1");
        assert!(
            e.contains("model option learn_rate applies to boosted_tree models, not random_forest"),
            "{e}"
        );
        let e = error("l2 = 2");
        assert!(
            e.contains("model option l2 applies to logistic_reg and boosted_tree models"),
            "{e}"
        );
        let e = boosted("num_trees = 5")
            .expect_err("forest only")
            .to_string();
        assert!(
            e.contains("num_trees applies to random_forest models, not boosted_tree"),
            "{e}"
        );
    }
}
