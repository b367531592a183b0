//! `CREATE MODEL name OPTIONS (…) AS query`: trains a predictive model and stores it as
//! the model's next version, through `train_model` ([`crate::predictive::train`]).
//!
//! ```sql
//! CREATE MODEL conversion OPTIONS (model_type = 'logistic_reg', label = 'label', horizon_days = 90)
//! AS SELECT * FROM lead_snapshot_features(NULL, NULL, 30, 90) WHERE label IS NOT NULL;
//! ```
//!
//! Its options are documented here, with the defaults of
//! [`TrainOptions::new`] and the model types [`options`](crate::predictive::options)
//! lets each apply to, so the reference states what the code does.

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;
use leadql_models::predictive::{ModelType, Split, TrainOptions};

use super::literal;
use crate::catalogue::{Entry, STATEMENTS};
use crate::predictive::options::{ALIASES, APPLIES_TO};
use crate::predictive::train;

/// The statement's keywords.
pub const NAME: &str = "CREATE MODEL";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::statement(NAME, || &DOC);

/// The query `CREATE MODEL name OPTIONS (options) AS query` runs: `train_model` with
/// `model_type` and `label` as arguments and the other options as text.
pub fn sql(name: &str, options: &[(String, String)], query: &str) -> String {
    let get = |k: &str| {
        options
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let rest: Vec<String> = options
        .iter()
        .filter(|(k, _)| k != "model_type" && k != "label")
        .map(|(k, v)| format!("{k} = {}", literal(v)))
        .collect();
    format!(
        "SELECT * FROM {}({}, {}, {}, {}, {})",
        train::NAME,
        literal(name),
        literal(query),
        literal(get("model_type")),
        literal(get("label")),
        literal(&rest.join(", "))
    )
}

/// What the reference says of `option` after its meaning: the model types it applies
/// to (none: all) and its BigQuery ML spelling, if any.
fn applies_to(option: &str) -> String {
    let mut out = String::new();
    if let Some((_, types)) = APPLIES_TO.iter().find(|(key, _)| *key == option) {
        let names: Vec<String> = types.iter().map(|t| format!("`{}`", t.as_str())).collect();
        out.push_str(&format!(" For {} only.", names.join(", ")));
    }
    if let Some((alias, _)) = ALIASES.iter().find(|(_, name)| *name == option) {
        out.push_str(&format!(" BigQuery ML's `{alias}` is accepted too."));
    }
    out
}

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    let d = TrainOptions::new(ModelType::LogisticReg, "label");
    let (test_fraction, seed) = match d.split {
        Split::Random {
            test_fraction,
            seed,
        } => (test_fraction, seed),
        _ => (0.2, 42),
    };
    let [a, b, c] = d.grade_cutoffs;
    let options: Vec<(&str, String)> = vec![
        ("name", "The model's name (letters, digits, `_` and `-`).".into()),
        ("model_type", "`'logistic_reg'`, `'decision_tree'`, `'random_forest'` or `'boosted_tree'` (required).".into()),
        ("label", "The column of the query holding the outcome (required): a boolean, or any column with `positive` naming the value that counts as converted.".into()),
        ("positive", "The label value that counts as converted (string and integer labels).".into()),
        ("split", "How rows are held out for the evaluation: `random` (`test_fraction` of them, drawn with `seed`; the default), `time` (the most recent `test_fraction` by `time_column`; the default of point-in-time models, by `as_of`) or `custom` (`split_column`: true = held out).".into()),
        ("test_fraction", format!("The share of rows held out (default {test_fraction}).")),
        ("seed", format!("Seed of the random split (default {seed}).")),
        ("time_column", "The timestamp column of a `time` split.".into()),
        ("split_column", "The boolean column of a `custom` split.".into()),
        ("balance_classes", format!("Oversample the minority class in the training rows (default {}).", d.balance_classes)),
        ("min_level_count", format!("String levels seen fewer times in training share one `(other)` column (default {}).", d.min_level_count)),
        ("grade_cutoffs", format!("The scores of grades A, B and C, decreasing (default `'{a}/{b}/{c}'`); lower is D.")),
        ("horizon_days", "Makes a point-in-time model: the label is \"qualified within this many days of the row's instant\", the features must be columns of `lead_snapshot_features` taken as they are (so `predict` can recompute them at any instant), the split is by instant (the latest whole instants holding `test_fraction` of the rows are held out, and training keeps only instants at least one horizon before them), and the version stores its horizon, feature definition, the instant it knew the data up to and its backtest (`model_backtest`).".into()),
        ("publish_tolerance", format!("`leadql run` publishes a retrained version only if its backtest AUC is at least the active version's minus this (default {}).", d.publish_tolerance)),
        ("l2", format!("L2 penalty: on the coefficients of a logistic regression (= 1/C of scikit-learn), on the leaf values of boosted trees (default {}).{}", d.l2, applies_to("l2"))),
        ("max_iterations", format!("Most Newton steps of a logistic regression, most rounds of boosted trees (default {}).{}", d.max_iterations, applies_to("max_iterations"))),
        ("max_depth", format!("Deepest split level (default 6, 10 for a forest).{}", applies_to("max_depth"))),
        ("min_leaf_rows", format!("Fewest training rows in a leaf (default {}).{}", d.min_leaf_rows, applies_to("min_leaf_rows"))),
        ("num_trees", format!("Trees in the forest (default {}).{}", d.num_trees, applies_to("num_trees"))),
        ("feature_fraction", format!("Share of the model columns tried at each split (default {}).{}", d.feature_fraction, applies_to("feature_fraction"))),
        ("learn_rate", format!("Shrinkage of each round's tree (default {}).{}", d.learn_rate, applies_to("learn_rate"))),
        ("min_split_loss", format!("Least loss reduction a split must bring (default {}).{}", d.min_split_loss, applies_to("min_split_loss"))),
        ("subsample", format!("Share of the training rows each round is fitted on (default {}).{}", d.subsample, applies_to("subsample"))),
        ("early_stop", format!("Hold out a seeded tenth of the training rows (from 10,000 rows on) and stop when its log loss has not improved for 10 rounds, keeping the best round (default {}).{}", d.early_stop, applies_to("early_stop"))),
        ("query", "The training query: every column but the label, `lead_id` and the split's column is a feature (numbers, strings, booleans or timestamps).".into()),
    ];
    let mut doc = Documentation::builder(
        STATEMENTS,
        format!(
            "Trains a predictive model on the rows of the query, evaluates it on held-out rows and stores it as the next version of `name` (`models/name/vN.json`), under the workspace's write lock; the result is the row `{train}` returns. Numbers are imputed with the training mean and standardised, booleans are 0/1, timestamps become ages, strings are one-hot encoded; the pipeline is stored with the model, so scoring transforms exactly as training did. Trees split on at most 255 quantile bins per column; tree scores are leaf class frequencies (forests: their mean) grown on class-balanced weights; boosted trees give the sigmoid of their summed leaf values. An option given to a model type it does not apply to is an error, as is an unknown or repeated one. Small or imbalanced data trains, with a warning. The sample's `conversion` model is trained by its recipe, [`models/conversion.sql`](../data/sample/models/conversion.sql). It runs `SELECT * FROM {train}('name', 'query', 'model_type', 'label', 'other options')`.",
            train = train::NAME,
        ),
        "CREATE MODEL name OPTIONS (model_type = '…', label = '…' [, option = value …]) AS query",
    );
    for (name, meaning) in options {
        doc = doc.with_argument(name, meaning);
    }
    doc.with_sql_example(
        "> CREATE MODEL closed_leads OPTIONS (model_type = 'boosted_tree', label = 'converted', max_iterations = 50)
  AS SELECT seniority, industry, company_size, web_visits, pricing_visits, forms, converted
  FROM lead_features WHERE status <> 'open';
> SELECT metric, round(value, 3) AS value FROM model_evaluation('closed_leads')
  WHERE metric IN ('rows', 'auc', 'log_loss');
+----------+-------+
| metric   | value |
+----------+-------+
| rows     | 763.0 |
| auc      | 0.727 |
| log_loss | 0.548 |
+----------+-------+",
    )
    .with_related_udf("train_model")
    .with_related_udf("SHOW MODELS")
    .with_related_udf("predict")
    .with_related_udf("lead_snapshot_features")
    .build()
});
