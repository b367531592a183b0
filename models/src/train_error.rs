//! The error of training, storing and loading predictive models.
//!
//! One enum serves the predictive side of the crate: the options and the training of
//! [`crate::predictive`], the estimators of [`crate::logistic`], [`crate::trees`] and
//! [`crate::boost`] (and the binning of [`crate::bins`] they share), the model registry
//! of [`crate::store`] and the checks of [`crate::validate`]. It lives in a module of
//! its own so that the estimators do not depend on `predictive`, which depends on them.
//!
//! Each variant carries what its message needs; [`Display`](fmt::Display) turns it into
//! a message that says what was wrong and, where there is something to do, what.

use std::fmt;
use std::path::PathBuf;

use crate::features::FeatureError;

/// Errors of training and prediction, each saying what to change.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainError {
    /// A setting is out of range: `"{option} {problem}"`, e.g. `learn_rate` and
    /// `must be in (0, 1], got 0`.
    InvalidOption {
        /// The option, as spelled in `OPTIONS (…)`.
        option: &'static str,
        /// What is wrong with its value (the value included).
        problem: String,
    },
    /// `model_type` names no estimator.
    UnknownModelType(String),
    /// The label column cannot serve as a binary outcome.
    Label {
        /// The label column.
        column: String,
        /// What is wrong with it.
        problem: LabelProblem,
    },
    /// Nothing to fit: `"no {0}"` (`training rows`, `rows to fit`).
    NoRows(&'static str),
    /// So few rows that the split leaves one side empty.
    TooFewRows(usize),
    /// No feature columns: in the training query (`in_query`), or in the matrix an
    /// estimator was given.
    NoFeatureColumns {
        /// Whether the training query is at fault.
        in_query: bool,
    },
    /// More training rows than trees index.
    TooManyRows {
        /// Training rows.
        rows: usize,
        /// The most trees support.
        limit: u32,
    },
    /// A feature matrix whose length is not rows × columns.
    MatrixShape {
        /// Values in the matrix.
        values: usize,
        /// Rows it should have.
        rows: usize,
        /// Columns it should have.
        width: usize,
    },
    /// A feature matrix with another number of rows than there are labels.
    LabelCount {
        /// Rows of the matrix.
        rows: usize,
        /// Labels.
        labels: usize,
    },
    /// A column of the feature matrix that cannot be binned (e.g. not finite).
    FeatureColumn {
        /// The matrix column, from 0.
        column: usize,
        /// Why.
        problem: String,
    },
    /// The feature pipeline refused the data.
    Feature(FeatureError),
    /// The split needs a column the training query did not give.
    MissingSplitColumn {
        /// The kind of split: `column` or `time`.
        split: &'static str,
        /// The column named in the options.
        column: String,
    },
    /// The time column of a split is NULL in a row.
    NullTime {
        /// The time column.
        column: String,
        /// The row, from 1.
        row: usize,
    },
    /// A point-in-time split left no snapshot a whole horizon before the held-out ones.
    NoTrainingSnapshot {
        /// The horizon.
        horizon_days: f64,
        /// The first held-out instant, µs since the epoch.
        held_out_from: i64,
    },
    /// Boosted trees got one class only among the rows they train on.
    BoostedSingleClass {
        /// Rows trained on.
        rows: usize,
        /// Positive ones among them.
        positives: usize,
    },
    /// An estimator failed while fitting; the message names it and says why.
    Fit(String),
    /// A model name that is not a plain name.
    InvalidModelName(String),
    /// No model of that name.
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The models there are, when listed in the message.
        known: Option<Vec<String>>,
    },
    /// The model has no such version.
    UnknownVersion {
        /// The model.
        name: String,
        /// The version asked for.
        version: u32,
        /// Its versions.
        versions: Vec<u32>,
    },
    /// No version of the model was trained on what was known by the session's `as_of`.
    NoVersionKnownBy {
        /// The model.
        name: String,
    },
    /// Reading, writing or parsing a file or folder of the registry failed.
    File {
        /// The file or folder.
        path: PathBuf,
        /// What failed.
        problem: String,
    },
    /// A stored model that cannot score (edited or damaged); the message says what is
    /// wrong.
    InvalidModel(String),
}

/// What is wrong with a label column.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelProblem {
    /// NULL in a row.
    Null {
        /// The row, from 1.
        row: usize,
    },
    /// More than two distinct values.
    NotBinary {
        /// How many.
        count: usize,
        /// The first (at most) five, sorted.
        first: Vec<String>,
    },
    /// The `positive` option is not a number but the label is numeric.
    PositiveNotNumeric {
        /// The `positive` option.
        positive: String,
    },
    /// Two string values, none of them recognised as the positive one.
    WhichPositive {
        /// The values, sorted.
        values: Vec<String>,
    },
    /// A timestamp column.
    Timestamp,
    /// Only one of the two outcomes occurs.
    SingleClass {
        /// Rows.
        rows: usize,
        /// Positive ones among them.
        positives: usize,
    },
}

impl TrainError {
    /// An error naming an out-of-range `option` and what is wrong with its value.
    pub fn invalid_option(option: &'static str, problem: impl Into<String>) -> Self {
        TrainError::InvalidOption {
            option,
            problem: problem.into(),
        }
    }
}

/// `none` for an empty list, else its items separated by commas.
fn listed<T: fmt::Display>(items: &[T], none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items
            .iter()
            .map(T::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn micros_text(t: i64) -> String {
    chrono::DateTime::from_timestamp_micros(t)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| t.to_string())
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::InvalidOption { option, problem } => write!(f, "{option} {problem}"),
            TrainError::UnknownModelType(given) => write!(
                f,
                "unknown model_type '{given}' (expected one of: logistic_reg, decision_tree, random_forest, boosted_tree)"
            ),
            TrainError::Label { column, problem } => label_message(f, column, problem),
            TrainError::NoRows(what) => write!(f, "no {what}"),
            TrainError::TooFewRows(n) => {
                write!(f, "{n} rows are too few to hold out an evaluation split")
            }
            TrainError::NoFeatureColumns { in_query: true } => {
                f.write_str("the training query has no feature columns besides the label")
            }
            TrainError::NoFeatureColumns { in_query: false } => f.write_str("no feature columns"),
            TrainError::TooManyRows { rows, limit } => {
                write!(
                    f,
                    "{rows} training rows are more than trees support ({limit})"
                )
            }
            TrainError::MatrixShape {
                values,
                rows,
                width,
            } => write!(
                f,
                "feature matrix: {values} values are not {rows} rows × {width} columns"
            ),
            TrainError::LabelCount { rows, labels } => write!(
                f,
                "the feature matrix has {rows} rows but there are {labels} labels"
            ),
            TrainError::FeatureColumn { column, problem } => {
                write!(f, "feature column {column}: {problem}")
            }
            TrainError::Feature(e) => fmt::Display::fmt(e, f),
            TrainError::MissingSplitColumn { split, column } => {
                write!(f, "split by {split} needs the column '{column}'")
            }
            TrainError::NullTime { column, row } => {
                write!(f, "time column '{column}' is NULL in row {row}")
            }
            TrainError::NoTrainingSnapshot {
                horizon_days,
                held_out_from,
            } => write!(
                f,
                "no snapshot is at least {horizon_days} days (the horizon) before the held-out instants from {}: train over a longer span or hold out less (test_fraction)",
                micros_text(*held_out_from)
            ),
            TrainError::BoostedSingleClass { rows, positives } => write!(
                f,
                "boosted trees need both classes among the training rows ({rows} rows, {positives} positive)"
            ),
            TrainError::Fit(message) | TrainError::InvalidModel(message) => f.write_str(message),
            TrainError::InvalidModelName(name) => write!(
                f,
                "invalid model name '{name}': use letters, digits, _ and - (a model name is not a path)"
            ),
            TrainError::UnknownModel { name, known: None } => {
                write!(f, "unknown model '{name}'")
            }
            TrainError::UnknownModel {
                name,
                known: Some(known),
            } => write!(
                f,
                "unknown model '{name}' (models: {})",
                listed(known, "none; train one with CREATE MODEL")
            ),
            TrainError::UnknownVersion {
                name,
                version,
                versions,
            } => write!(
                f,
                "model '{name}' has no version {version} (versions: {})",
                listed(versions, "none")
            ),
            TrainError::NoVersionKnownBy { name } => write!(
                f,
                "no version of model '{name}' was trained on what was known by the session's as_of"
            ),
            TrainError::File { path, problem } => write!(f, "{}: {problem}", path.display()),
        }
    }
}

fn label_message(f: &mut fmt::Formatter<'_>, name: &str, problem: &LabelProblem) -> fmt::Result {
    match problem {
        LabelProblem::Null { row } => write!(
            f,
            "label column '{name}' is NULL in row {row} (filter those rows out, e.g. WHERE {name} IS NOT NULL)"
        ),
        LabelProblem::NotBinary { count, first } => write!(
            f,
            "label column '{name}' is not binary: it has {count} distinct values ({}…)",
            first.join(", ")
        ),
        LabelProblem::PositiveNotNumeric { positive } => write!(
            f,
            "positive value '{positive}' is not a number, but label '{name}' is numeric"
        ),
        LabelProblem::WhichPositive { values } => write!(
            f,
            "label column '{name}' has values {}: say which is positive with OPTIONS (positive = '…')",
            values.join(", ")
        ),
        LabelProblem::Timestamp => write!(
            f,
            "label column '{name}' is a timestamp, not a binary outcome"
        ),
        LabelProblem::SingleClass { rows, positives } => write!(
            f,
            "label '{name}' has a single class ({rows} rows, {positives} positive): a model needs both outcomes"
        ),
    }
}

impl std::error::Error for TrainError {}

impl From<FeatureError> for TrainError {
    fn from(e: FeatureError) -> Self {
        TrainError::Feature(e)
    }
}

impl From<linfa::Error> for TrainError {
    fn from(e: linfa::Error) -> Self {
        TrainError::Fit(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_where() {
        let cases = [
            (
                TrainError::invalid_option("learn_rate", "must be in (0, 1], got 0"),
                "learn_rate must be in (0, 1], got 0",
            ),
            (
                TrainError::Label {
                    column: "y".into(),
                    problem: LabelProblem::NotBinary {
                        count: 7,
                        first: vec!["0".into(), "1".into()],
                    },
                },
                "label column 'y' is not binary: it has 7 distinct values (0, 1…)",
            ),
            (
                TrainError::UnknownModel {
                    name: "m".into(),
                    known: Some(Vec::new()),
                },
                "unknown model 'm' (models: none; train one with CREATE MODEL)",
            ),
            (
                TrainError::UnknownVersion {
                    name: "m".into(),
                    version: 3,
                    versions: vec![1, 2],
                },
                "model 'm' has no version 3 (versions: 1, 2)",
            ),
            (
                TrainError::NoTrainingSnapshot {
                    horizon_days: 400.0,
                    held_out_from: 86_400_000_000,
                },
                "no snapshot is at least 400 days (the horizon) before the held-out instants from 1970-01-02 00:00:00: train over a longer span or hold out less (test_fraction)",
            ),
            (
                TrainError::File {
                    path: "models/m/v1.json".into(),
                    problem: "damaged model file (EOF)".into(),
                },
                "models/m/v1.json: damaged model file (EOF)",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }
}
