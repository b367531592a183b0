//! The feature pipeline of predictive models: from the columns of a training query to
//! a numeric matrix, and the identical transform at scoring time.
//!
//! - numbers: missing values imputed with the training mean, then standardised;
//! - booleans: 1 / 0, missing imputed with the training share, then standardised;
//! - timestamps: age in days before the training reference instant, then as numbers;
//! - strings: one-hot over the levels seen at least `min_level_count` times (at most
//!   `max_levels`), rarer and unseen levels share an `(other)` column, NULL is `(null)`.
//!
//! The fitted [`Pipeline`] is stored with the model, so scoring applies exactly the
//! transform training used.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

const DAY_US: f64 = 86_400_000_000.0;
/// The column of rare and unseen categorical levels.
pub const OTHER: &str = "(other)";
/// The column of NULL categorical values.
pub const NULL: &str = "(null)";

/// One input column, by kind of value.
#[derive(Debug, Clone, PartialEq)]
pub enum RawColumn {
    /// Numbers (integers are converted).
    Numeric(Vec<Option<f64>>),
    /// Strings.
    Text(Vec<Option<String>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Instants, µs since the epoch.
    Timestamp(Vec<Option<i64>>),
}

impl RawColumn {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            RawColumn::Numeric(v) => v.len(),
            RawColumn::Text(v) => v.len(),
            RawColumn::Bool(v) => v.len(),
            RawColumn::Timestamp(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kind(&self) -> &'static str {
        match self {
            RawColumn::Numeric(_) => "numeric",
            RawColumn::Text(_) => "string",
            RawColumn::Bool(_) => "boolean",
            RawColumn::Timestamp(_) => "timestamp",
        }
    }
}

/// An error in the feature data, naming the column and row.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureError(pub String);

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FeatureError {}

/// How one input column becomes output columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transform {
    /// Impute with `fill`, then `(x - mean) / std`.
    Numeric {
        /// Training mean.
        mean: f64,
        /// Training standard deviation (1 when constant).
        std: f64,
    },
    /// 1 / 0, missing → training share of true, then standardised.
    Boolean {
        /// Training share of true.
        mean: f64,
        /// Its standard deviation (1 when constant).
        std: f64,
    },
    /// Age in days before `reference`, then as `Numeric`.
    Timestamp {
        /// Reference instant (µs): the latest training value.
        reference: i64,
        /// Training mean age in days.
        mean: f64,
        /// Its standard deviation.
        std: f64,
    },
    /// One column per level, then [`OTHER`].
    Categorical {
        /// Kept levels (may include [`NULL`]).
        levels: Vec<String>,
    },
}

/// One input column of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// Column name in the training query.
    pub name: String,
    /// Its transform.
    pub transform: Transform,
}

/// Options of [`Pipeline::fit`].
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    /// Levels seen fewer times go to [`OTHER`].
    pub min_level_count: usize,
    /// At most this many levels per column (the most frequent).
    pub max_levels: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            min_level_count: 10,
            max_levels: 50,
        }
    }
}

/// A fitted feature pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Input columns, in order.
    pub features: Vec<Feature>,
}

fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count();
    if n == 0 {
        return (0.0, 1.0);
    }
    let mean = values.clone().sum::<f64>() / n as f64;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    let std = var.sqrt();
    (mean, if std > 1e-12 { std } else { 1.0 })
}

/// An error naming the first NaN or infinite value of a numeric column (1-based row).
pub fn check_finite(name: &str, values: &[Option<f64>]) -> Result<(), FeatureError> {
    match values
        .iter()
        .position(|v| v.is_some_and(|x| !x.is_finite()))
    {
        Some(row) => Err(FeatureError(format!(
            "column '{name}' row {}: {} is not a finite number (remove or replace NaN and infinite values)",
            row + 1,
            values[row].unwrap_or_default()
        ))),
        None => Ok(()),
    }
}

/// How a feature matrix is stored in its `Vec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row after row (`row * width + column`): one lead's features side by side.
    RowMajor,
    /// Column after column (`column * rows + row`): what linfa's logistic gradient reads.
    ColumnMajor,
}

impl Pipeline {
    /// Fits the pipeline on training columns.
    pub fn fit(
        names: &[String],
        columns: &[RawColumn],
        opts: FitOptions,
    ) -> Result<Self, FeatureError> {
        let mut features = Vec::with_capacity(columns.len());
        for (name, column) in names.iter().zip(columns) {
            let transform = match column {
                RawColumn::Numeric(v) => {
                    check_finite(name, v)?;
                    let (mean, std) = mean_std(v.iter().flatten().copied());
                    Transform::Numeric { mean, std }
                }
                RawColumn::Bool(v) => {
                    let (mean, std) = mean_std(v.iter().flatten().map(|b| f64::from(u8::from(*b))));
                    Transform::Boolean { mean, std }
                }
                RawColumn::Timestamp(v) => {
                    let reference = v.iter().flatten().copied().max().unwrap_or(0);
                    let (mean, std) =
                        mean_std(v.iter().flatten().map(|t| (reference - t) as f64 / DAY_US));
                    Transform::Timestamp {
                        reference,
                        mean,
                        std,
                    }
                }
                RawColumn::Text(v) => {
                    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                    for value in v {
                        *counts.entry(value.as_deref().unwrap_or(NULL)).or_default() += 1;
                    }
                    let mut frequent: Vec<(&str, usize)> = counts
                        .into_iter()
                        .filter(|(_, c)| *c >= opts.min_level_count.max(1))
                        .collect();
                    frequent.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                    frequent.truncate(opts.max_levels);
                    let mut levels: Vec<String> =
                        frequent.into_iter().map(|(l, _)| l.to_string()).collect();
                    levels.sort();
                    Transform::Categorical { levels }
                }
            };
            features.push(Feature {
                name: name.clone(),
                transform,
            });
        }
        Ok(Pipeline { features })
    }

    /// Names of the output columns (`column` or `column=level`).
    pub fn output_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.features {
            match &f.transform {
                Transform::Categorical { levels } => {
                    out.extend(levels.iter().map(|l| format!("{}={l}", f.name)));
                    out.push(format!("{}={OTHER}", f.name));
                }
                _ => out.push(f.name.clone()),
            }
        }
        out
    }

    /// Number of output columns of each input feature.
    pub fn feature_widths(&self) -> Vec<usize> {
        self.features
            .iter()
            .map(|f| match &f.transform {
                Transform::Categorical { levels } => levels.len() + 1,
                _ => 1,
            })
            .collect()
    }

    /// Number of output columns.
    pub fn width(&self) -> usize {
        self.feature_widths().iter().sum()
    }

    /// Transforms columns (same order and kinds as at fit time) into a row-major matrix
    /// of `rows × width()` values.
    pub fn transform(&self, columns: &[RawColumn]) -> Result<Vec<f64>, FeatureError> {
        self.transform_in(columns, Layout::RowMajor)
    }

    /// [`Self::transform`] with the matrix laid out in `layout`.
    pub fn transform_in(
        &self,
        columns: &[RawColumn],
        layout: Layout,
    ) -> Result<Vec<f64>, FeatureError> {
        let rows = self.check_columns(columns)?;
        let width = self.width();
        let mut out = vec![0.0; rows * width];
        let at = |r: usize, c: usize| match layout {
            Layout::RowMajor => r * width + c,
            Layout::ColumnMajor => c * rows + r,
        };
        let mut offset = 0;
        for (f, column) in self.features.iter().zip(columns) {
            match f.output(column)? {
                Output::Value(values) => {
                    for (r, x) in values.into_iter().enumerate() {
                        out[at(r, offset)] = x;
                    }
                    offset += 1;
                }
                Output::OneHot { levels, codes } => {
                    for (r, k) in codes.into_iter().enumerate() {
                        out[at(r, offset + k as usize)] = 1.0;
                    }
                    offset += levels;
                }
            }
        }
        Ok(out)
    }

    /// The transformed columns kept as they are built: a dense column per number,
    /// boolean and timestamp, and the level's index per row for each categorical
    /// feature (whose one-hot block has exactly one 1 per row). The logistic solver
    /// reads this instead of the dense matrix, which is mostly zeros.
    pub fn design(&self, columns: &[RawColumn]) -> Result<Design, FeatureError> {
        let rows = self.check_columns(columns)?;
        let mut design = Design {
            rows,
            width: self.width(),
            dense: Vec::new(),
            one_hot: Vec::new(),
        };
        let mut offset = 0;
        for (f, column) in self.features.iter().zip(columns) {
            match f.output(column)? {
                Output::Value(values) => {
                    design.dense.push((offset, values));
                    offset += 1;
                }
                Output::OneHot { levels, codes } => {
                    design.one_hot.push((offset, codes));
                    offset += levels;
                }
            }
        }
        Ok(design)
    }

    /// Checks the columns' number and lengths; returns the rows.
    fn check_columns(&self, columns: &[RawColumn]) -> Result<usize, FeatureError> {
        if columns.len() != self.features.len() {
            return Err(FeatureError(format!(
                "the model expects {} feature columns ({}), got {}",
                self.features.len(),
                self.features
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                columns.len()
            )));
        }
        let rows = columns.first().map_or(0, RawColumn::len);
        for (f, column) in self.features.iter().zip(columns) {
            if column.len() != rows {
                return Err(FeatureError(format!(
                    "column '{}' has {} rows, expected {rows}",
                    f.name,
                    column.len()
                )));
            }
        }
        Ok(rows)
    }
}

/// A transformed feature matrix that keeps one-hot blocks as level indices (see
/// [`Pipeline::design`]); its dense equivalent is [`Pipeline::transform`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Rows.
    pub rows: usize,
    /// Model columns of the dense equivalent.
    pub width: usize,
    /// Single columns: (model column, value per row).
    pub dense: Vec<(usize, Vec<f64>)>,
    /// One-hot blocks: (the block's first model column, the 1's column within the
    /// block per row).
    pub one_hot: Vec<(usize, Vec<u32>)>,
}

/// What one input feature becomes.
enum Output {
    /// One model column.
    Value(Vec<f64>),
    /// A one-hot block of `levels` columns: the column of the 1 per row.
    OneHot { levels: usize, codes: Vec<u32> },
}

impl Feature {
    /// This feature's transform of `column`.
    fn output(&self, column: &RawColumn) -> Result<Output, FeatureError> {
        let mismatch = || {
            FeatureError(format!(
                "column '{}' is {}, but the model was trained on a {} column",
                self.name,
                column.kind(),
                match self.transform {
                    Transform::Numeric { .. } => "numeric",
                    Transform::Boolean { .. } => "boolean",
                    Transform::Timestamp { .. } => "timestamp",
                    Transform::Categorical { .. } => "string",
                }
            ))
        };
        Ok(match (&self.transform, column) {
            (Transform::Numeric { mean, std }, RawColumn::Numeric(v)) => {
                check_finite(&self.name, v)?;
                Output::Value(
                    v.iter()
                        .map(|x| (x.unwrap_or(*mean) - mean) / std)
                        .collect(),
                )
            }
            (Transform::Boolean { mean, std }, RawColumn::Bool(v)) => Output::Value(
                v.iter()
                    .map(|x| (x.map_or(*mean, |b| f64::from(u8::from(b))) - mean) / std)
                    .collect(),
            ),
            (
                Transform::Timestamp {
                    reference,
                    mean,
                    std,
                },
                RawColumn::Timestamp(v),
            ) => Output::Value(
                v.iter()
                    .map(|x| (x.map_or(*mean, |t| (reference - t) as f64 / DAY_US) - mean) / std)
                    .collect(),
            ),
            (Transform::Categorical { levels }, RawColumn::Text(v)) => Output::OneHot {
                levels: levels.len() + 1,
                codes: v
                    .iter()
                    .map(|x| {
                        let level = x.as_deref().unwrap_or(NULL);
                        levels
                            .binary_search_by(|l| l.as_str().cmp(level))
                            .unwrap_or(levels.len()) as u32
                    })
                    .collect(),
            },
            _ => return Err(mismatch()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbers_are_imputed_and_standardised() {
        let cols = vec![RawColumn::Numeric(vec![Some(1.0), Some(3.0), None])];
        let p = Pipeline::fit(&names(&["x"]), &cols, FitOptions::default()).expect("fit");
        // mean 2, std 1: 1 → -1, 3 → 1, NULL → mean → 0.
        assert_eq!(p.transform(&cols).expect("transform"), vec![-1.0, 1.0, 0.0]);
    }

    #[test]
    fn strings_are_one_hot_with_rare_and_unseen_levels_in_other() {
        let train = vec![RawColumn::Text(vec![
            Some("a".into()),
            Some("a".into()),
            Some("b".into()),
            None,
            None,
        ])];
        let p = Pipeline::fit(
            &names(&["s"]),
            &train,
            FitOptions {
                min_level_count: 2,
                max_levels: 10,
            },
        )
        .expect("fit");
        assert_eq!(p.output_names(), ["s=(null)", "s=a", "s=(other)"]);
        let test = vec![RawColumn::Text(vec![
            Some("a".into()),
            Some("b".into()),
            Some("zzz".into()),
            None,
        ])];
        let m = p.transform(&test).expect("transform");
        assert_eq!(
            m,
            vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
        );
    }

    #[test]
    fn nan_and_infinity_are_errors_naming_column_and_row() {
        let cols = vec![RawColumn::Numeric(vec![Some(1.0), Some(f64::NAN)])];
        let e = Pipeline::fit(&names(&["spend"]), &cols, FitOptions::default()).expect_err("NaN");
        assert!(
            e.to_string()
                .starts_with("column 'spend' row 2: NaN is not a finite number"),
            "{e}"
        );
    }

    #[test]
    fn scoring_columns_must_match_the_training_kinds() {
        let p = Pipeline::fit(
            &names(&["x"]),
            &[RawColumn::Numeric(vec![Some(1.0)])],
            FitOptions::default(),
        )
        .expect("fit");
        let e = p
            .transform(&[RawColumn::Text(vec![Some("1".into())])])
            .expect_err("kind");
        assert_eq!(
            e.to_string(),
            "column 'x' is string, but the model was trained on a numeric column"
        );
        let e = p.transform(&[]).expect_err("arity");
        assert!(
            e.to_string()
                .starts_with("the model expects 1 feature columns (x), got 0")
        );
    }

    #[test]
    fn column_major_layout_is_the_transpose_of_the_row_major_one() {
        let cols = vec![
            RawColumn::Numeric(vec![Some(1.0), Some(3.0), None]),
            RawColumn::Text(vec![Some("b".into()), None, Some("a".into())]),
        ];
        let p = Pipeline::fit(&names(&["x", "c"]), &cols, FitOptions::default()).expect("fit");
        let (rows, width) = (3, p.width());
        let by_row = p.transform(&cols).expect("rows");
        let by_column = p.transform_in(&cols, Layout::ColumnMajor).expect("columns");
        assert_eq!(by_row.len(), rows * width);
        for r in 0..rows {
            for c in 0..width {
                assert_eq!(
                    by_row[r * width + c],
                    by_column[c * rows + r],
                    "row {r}, column {c}"
                );
            }
        }
        assert_ne!(
            by_row, by_column,
            "a 3-row matrix of width {width} differs when transposed"
        );
    }

    #[test]
    fn timestamps_become_ages_before_the_latest_training_instant() {
        let day = 86_400_000_000i64;
        let cols = vec![RawColumn::Timestamp(vec![Some(10 * day), Some(8 * day)])];
        let p = Pipeline::fit(&names(&["t"]), &cols, FitOptions::default()).expect("fit");
        // Ages 0 and 2 days: mean 1, std 1 → -1, 1.
        assert_eq!(p.transform(&cols).expect("transform"), vec![-1.0, 1.0]);
    }
}
