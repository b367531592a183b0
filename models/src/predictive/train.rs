//! Training: from the columns of a query to a [`PredictiveModel`].
//!
//! The labels are checked (`labels`), the rows split (`split`), the training rows
//! optionally balanced by oversampling the minority class, the feature [`Pipeline`]
//! fitted on them, then the estimator: a logistic regression by the
//! Newton–Cholesky solver of [`crate::logistic`], one histogram tree or a random forest
//! of [`crate::trees`], or gradient-boosted trees of [`crate::boost`]. The held-out
//! rows are then scored and evaluated ([`super::evaluate`], in `evaluation`).

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::labels::{binary_labels, both_classes};
use super::params::{boost_params, growth, logistic_params};
use super::split::{split_rows, take_rows};
use super::{
    Estimator, Evaluation, FORMAT_VERSION, ModelType, PredictiveModel, TrainOptions, evaluate,
};
use crate::boost;
use crate::features::{FitOptions, Layout, Pipeline, RawColumn};
use crate::logistic;
use crate::train_error::TrainError;
use crate::trees::{self, Forest};

/// What [`train`] needs besides the options.
#[derive(Debug)]
pub struct TrainingData {
    /// Feature names.
    pub names: Vec<String>,
    /// Feature columns.
    pub columns: Vec<RawColumn>,
    /// Label column.
    pub label: RawColumn,
    /// The split column when splitting by time.
    pub time: Option<Vec<Option<i64>>>,
    /// The split column when splitting by a boolean column.
    pub holdout: Option<Vec<Option<bool>>>,
}

/// Trains a model called `name` (its version is set by the registry).
pub fn train(
    name: &str,
    query: &str,
    data: TrainingData,
    options: TrainOptions,
    created_at: String,
) -> Result<PredictiveModel, TrainError> {
    train_timed(name, query, data, options, created_at).map(|(model, _)| model)
}

/// Wall time of each stage of [`train_timed`], in seconds: `split` (labels, checks,
/// row split), `matrix` (pipeline fit and the training matrix), `fit` (the
/// estimator alone), `evaluation` (held-out rows transformed, scored and measured).
pub type Stages = Vec<(&'static str, f64)>;

/// [`train`], also returning the time of each stage (for benchmarks: `CREATE MODEL`
/// prints them on stderr when `LEADQL_TIMINGS` is set).
pub fn train_timed(
    name: &str,
    query: &str,
    data: TrainingData,
    options: TrainOptions,
    created_at: String,
) -> Result<(PredictiveModel, Stages), TrainError> {
    options.check()?;
    let mut stages = Stages::new();
    let mut last = std::time::Instant::now();
    let mut done = |stage: &'static str| {
        let now = std::time::Instant::now();
        stages.push((stage, now.duration_since(last).as_secs_f64()));
        last = now;
    };
    let labels = binary_labels(&options.label, &data.label, options.positive.as_deref())?;
    let n = labels.len();
    let positives = both_classes(&options.label, &labels)?;
    if data.names.is_empty() {
        return Err(TrainError::NoFeatureColumns { in_query: true });
    }
    let mut warnings = Vec::new();
    let minority = positives.min(n - positives);
    if n < 500 || minority < 50 {
        warnings.push(format!(
            "small training set: {n} rows, {positives} positive, {} negative; expect unstable scores",
            n - positives
        ));
    }
    if (minority as f64) / (n as f64) < 0.05 {
        warnings.push(format!(
            "imbalanced classes: {:.1}% positive; consider balance_classes = true",
            100.0 * positives as f64 / n as f64
        ));
    }

    let (train_rows, test_rows) = split_rows(&data, &labels, &options)?;
    let fit_rows = if options.balance_classes {
        oversample_minority(&train_rows, &labels)
    } else {
        train_rows.clone()
    };

    done("split");
    let train_columns = take_rows(&data.columns, &fit_rows);
    let pipeline = Pipeline::fit(
        &data.names,
        &train_columns,
        FitOptions {
            min_level_count: options.min_level_count,
            max_levels: 50,
        },
    )?;
    let y: Vec<bool> = fit_rows.iter().map(|&r| labels[r]).collect();
    let estimator = fit_estimator(&pipeline, &train_columns, &y, &options, &mut done)?;
    done("fit");
    let mut model = PredictiveModel {
        format_version: FORMAT_VERSION,
        name: name.to_string(),
        version: 0,
        created_at,
        query: query.to_string(),
        options,
        pipeline,
        estimator,
        training_rows: fit_rows.len(),
        evaluation: Evaluation::default(),
        warnings,
        known_until: None,
        features: None,
        trained_through: None,
        backtest: Vec::new(),
    };
    if let (Some(h), Some(times)) = (model.options.horizon_days, data.time.as_ref()) {
        model.trained_through = train_rows
            .iter()
            .filter_map(|&r| times[r])
            .max()
            .map(|t| t.saturating_add((h * 86_400_000_000.0).round() as i64));
    }
    let test_columns = take_rows(&data.columns, &test_rows);
    let probabilities = model.probabilities(&model.pipeline.transform(&test_columns)?);
    let truth: Vec<bool> = test_rows.iter().map(|&r| labels[r]).collect();
    model.evaluation = evaluate(&probabilities, &truth);
    if model.evaluation.positives == 0 || model.evaluation.positives == model.evaluation.rows {
        model
            .warnings
            .push("the held-out rows have a single class: AUC is undefined".into());
    }
    done("evaluation");
    Ok((model, stages))
}

/// The training rows with rows of the minority class drawn (seeded, with replacement)
/// and added until both classes are as many.
fn oversample_minority(train_rows: &[usize], labels: &[bool]) -> Vec<usize> {
    let mut fit_rows = train_rows.to_vec();
    let (pos, neg): (Vec<usize>, Vec<usize>) = train_rows.iter().partition(|&&r| labels[r]);
    let (small, large) = if pos.len() < neg.len() {
        (pos, neg)
    } else {
        (neg, pos)
    };
    if !small.is_empty() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        while fit_rows.len() < 2 * large.len() {
            fit_rows.push(*small.choose(&mut rng).unwrap_or(&small[0]));
        }
    }
    fit_rows
}

/// Fits the options' estimator on the training columns through the fitted pipeline;
/// `done("matrix")` is called once the training matrix is built.
fn fit_estimator(
    pipeline: &Pipeline,
    train_columns: &[RawColumn],
    y: &[bool],
    options: &TrainOptions,
    done: &mut dyn FnMut(&'static str),
) -> Result<Estimator, TrainError> {
    let width = pipeline.width();
    Ok(match options.model_type {
        ModelType::LogisticReg => {
            let design = pipeline.design(train_columns)?;
            done("matrix");
            let fitted = logistic::fit(&design, y, &logistic_params(options))?;
            Estimator::Logistic {
                intercept: fitted.intercept,
                coefficients: fitted.coefficients,
            }
        }
        ModelType::DecisionTree | ModelType::RandomForest => {
            let x = pipeline.transform_in(train_columns, Layout::ColumnMajor)?;
            done("matrix");
            let growth = growth(options);
            let forest = if options.model_type == ModelType::DecisionTree {
                Forest {
                    trees: vec![trees::fit_tree(&x, width, y, &growth)?],
                }
            } else {
                trees::fit_forest(&x, width, y, &growth)?
            };
            let importances = forest.importances(width);
            Estimator::Trees {
                forest,
                importances,
            }
        }
        ModelType::BoostedTree => {
            let x = pipeline.transform_in(train_columns, Layout::ColumnMajor)?;
            done("matrix");
            let model = boost::fit_boosted(&x, width, y, &boost_params(options))?;
            let importances = model.importances(width);
            Estimator::Boosted { model, importances }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predictive::fixture::logistic_model;
    use crate::predictive::model::sigmoid;

    #[test]
    fn logistic_regression_gives_the_probability_of_the_positive_minority_class() {
        let m = logistic_model(2000);
        // Positives are the minority (~30%): linfa's "positive" would be false; the
        // stored model must still rank true high.
        let auc = m.evaluation.auc.expect("both classes");
        assert!(auc > 0.9, "auc {auc}");
        let Estimator::Logistic { coefficients, .. } = &m.estimator else {
            panic!("a logistic model has coefficients");
        };
        assert!(
            coefficients[0] > 0.0,
            "higher x must raise P(true): {coefficients:?}"
        );
        let row = m
            .pipeline
            .transform(&[
                RawColumn::Numeric(vec![Some(1.9)]),
                RawColumn::Text(vec![Some("a".into())]),
            ])
            .expect("row");
        assert!(m.probabilities(&row)[0] > 0.8);
        let logit = m.intercept() + m.contributions(&row).iter().sum::<f64>();
        assert!(
            (sigmoid(logit) - m.probabilities(&row)[0]).abs() < 1e-12,
            "contributions sum to the logit"
        );
    }

    #[test]
    fn small_data_gets_a_warning_not_a_refusal() {
        let m = logistic_model(200);
        assert!(
            m.warnings
                .iter()
                .any(|w| w.starts_with("small training set: 200 rows")),
            "{:?}",
            m.warnings
        );
    }
}
