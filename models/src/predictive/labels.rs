//! The label column of a training query as booleans: booleans as they are, numbers
//! and strings when they have at most two distinct values (with the positive one given
//! or recognised), NULLs refused with the row; and the check that both outcomes occur.

use crate::features::RawColumn;
use crate::train_error::{LabelProblem, TrainError};

/// The error of label column `name` with `problem`.
fn label_error(name: &str, problem: LabelProblem) -> TrainError {
    TrainError::Label {
        column: name.to_string(),
        problem,
    }
}

/// An error when a label column has more than two distinct values (given sorted).
fn ensure_binary(name: &str, mut distinct: Vec<String>) -> Result<(), TrainError> {
    if distinct.len() <= 2 {
        return Ok(());
    }
    let count = distinct.len();
    distinct.truncate(5);
    Err(label_error(
        name,
        LabelProblem::NotBinary {
            count,
            first: distinct,
        },
    ))
}

/// Turns a label column into booleans, checking it is binary.
pub fn binary_labels(
    name: &str,
    column: &RawColumn,
    positive: Option<&str>,
) -> Result<Vec<bool>, TrainError> {
    let missing = |row: usize| label_error(name, LabelProblem::Null { row: row + 1 });
    match column {
        RawColumn::Bool(v) => v
            .iter()
            .enumerate()
            .map(|(i, b)| b.ok_or_else(|| missing(i)))
            .collect(),
        RawColumn::Numeric(v) => {
            let pos: f64 = match positive {
                Some(p) => p.parse().map_err(|_| {
                    label_error(
                        name,
                        LabelProblem::PositiveNotNumeric {
                            positive: p.to_string(),
                        },
                    )
                })?,
                None => 1.0,
            };
            let mut distinct: Vec<f64> = v.iter().flatten().copied().collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            ensure_binary(name, distinct.iter().map(f64::to_string).collect())?;
            v.iter()
                .enumerate()
                .map(|(i, x)| x.map(|x| x == pos).ok_or_else(|| missing(i)))
                .collect()
        }
        RawColumn::Text(v) => {
            let mut distinct: Vec<&str> = v.iter().flatten().map(String::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            ensure_binary(name, distinct.iter().map(|d| d.to_string()).collect())?;
            let pos = match positive {
                Some(p) => p.to_string(),
                None => match distinct.iter().find(|d| {
                    matches!(
                        **d,
                        "yes" | "true" | "1" | "converted" | "won" | "qualified"
                    )
                }) {
                    Some(d) => d.to_string(),
                    None => {
                        let values = distinct.iter().map(|d| d.to_string()).collect();
                        return Err(label_error(name, LabelProblem::WhichPositive { values }));
                    }
                },
            };
            v.iter()
                .enumerate()
                .map(|(i, x)| x.as_deref().map(|x| x == pos).ok_or_else(|| missing(i)))
                .collect()
        }
        RawColumn::Timestamp(_) => Err(label_error(name, LabelProblem::Timestamp)),
    }
}

/// The number of positive labels, when there are both positives and negatives.
pub(super) fn both_classes(label: &str, labels: &[bool]) -> Result<usize, TrainError> {
    let n = labels.len();
    let positives = labels.iter().filter(|l| **l).count();
    if positives == 0 || positives == n {
        return Err(label_error(
            label,
            LabelProblem::SingleClass { rows: n, positives },
        ));
    }
    Ok(positives)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predictive::fixture::data;
    use crate::predictive::{ModelType, TrainOptions, train};

    #[test]
    fn single_class_and_non_binary_labels_are_refused() {
        let mut d = data(100);
        d.label = RawColumn::Bool(vec![Some(true); 100]);
        let e = train(
            "m",
            "q",
            d,
            TrainOptions::new(ModelType::LogisticReg, "y"),
            "t".into(),
        )
        .expect_err("one class");
        assert!(
            e.to_string()
                .contains("single class (100 rows, 100 positive)"),
            "{e}"
        );
        let e = binary_labels(
            "y",
            &RawColumn::Numeric(vec![Some(0.0), Some(1.0), Some(2.0)]),
            None,
        )
        .expect_err("3 values");
        assert!(
            e.to_string()
                .contains("not binary: it has 3 distinct values"),
            "{e}"
        );
        let e = binary_labels(
            "y",
            &RawColumn::Text(vec![Some("x".into()), Some("z".into())]),
            None,
        )
        .expect_err("which");
        assert!(e.to_string().contains("say which is positive"), "{e}");
    }
}
