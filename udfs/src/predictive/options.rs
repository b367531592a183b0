//! Training options written as `key = value` pairs (the `OPTIONS (…)` of `CREATE
//! MODEL`, or the last argument of `train_model`).

use datafusion::common::{Result, plan_err};
use leadql_models::predictive::{ModelType, Split, TrainOptions};

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
];

/// Parses `a = 1, b = 'text'` into pairs (quotes removed, keys lower-cased).
pub fn parse_pairs(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return plan_err!("option '{part}' is not key = value");
        };
        let v = v.trim().trim_matches('\'').trim_matches('"').to_string();
        out.push((k.trim().to_ascii_lowercase(), v));
    }
    Ok(out)
}

/// Builds training options from pairs; `model_type` and `label` are required.
pub fn train_options(pairs: &[(String, String)]) -> Result<TrainOptions> {
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
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
    let model_type =
        ModelType::parse(model_type).map_err(|e| datafusion::error::DataFusionError::Plan(e.0))?;
    let mut o = TrainOptions::new(model_type, label);
    let number = |k: &str, v: &str| -> Result<f64> {
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => plan_err!("model option {k} = '{v}' is not a number"),
        }
    };
    o.positive = get("positive").map(str::to_string);
    if let Some(v) = get("l2") {
        o.l2 = number("l2", v)?;
        if o.l2 < 0.0 {
            return plan_err!("model option l2 must be >= 0");
        }
    }
    if let Some(v) = get("max_iterations") {
        o.max_iterations = number("max_iterations", v)? as u64;
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
        o.balance_classes = match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return plan_err!("model option balance_classes = '{v}' (expected true or false)"),
        };
    }
    if let Some(v) = get("min_level_count") {
        o.min_level_count = number("min_level_count", v)? as usize;
    }
    let count = |k: &str, v: &str, min: f64| -> Result<usize> {
        let x = number(k, v)?;
        if x < min || x.fract() != 0.0 {
            return plan_err!("model option {k} = '{v}' must be a whole number >= {min}");
        }
        Ok(x as usize)
    };
    if let Some(v) = get("max_depth") {
        o.max_depth = Some(count("max_depth", v, 1.0)?);
    }
    if let Some(v) = get("min_leaf_rows") {
        o.min_leaf_rows = count("min_leaf_rows", v, 1.0)?;
    }
    if let Some(v) = get("num_trees") {
        o.num_trees = count("num_trees", v, 1.0)?;
    }
    if let Some(v) = get("feature_fraction") {
        let f = number("feature_fraction", v)?;
        if !(f > 0.0 && f <= 1.0) {
            return plan_err!("model option feature_fraction must be in (0, 1], got {f}");
        }
        o.feature_fraction = f;
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
