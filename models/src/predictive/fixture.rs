//! The training data the unit tests of the predictive modules share.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{ModelType, PredictiveModel, TrainOptions, TrainingData, train};
use crate::features::RawColumn;

/// `n` rows of a numeric feature `x`, a categorical `c` and a boolean label that is
/// true when x + noise > 1.2: a learnable, imbalanced problem.
pub(super) fn data(n: usize) -> TrainingData {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..2.0)).collect();
    let y: Vec<Option<bool>> = x
        .iter()
        .map(|v| Some(v + rng.gen_range(-0.5..0.5) > 1.2))
        .collect();
    let c: Vec<Option<String>> = (0..n)
        .map(|i| Some(if i % 3 == 0 { "a" } else { "b" }.to_string()))
        .collect();
    TrainingData {
        names: vec!["x".into(), "c".into()],
        columns: vec![
            RawColumn::Numeric(x.into_iter().map(Some).collect()),
            RawColumn::Text(c),
        ],
        label: RawColumn::Bool(y),
        time: None,
        holdout: None,
    }
}

/// A logistic regression trained with the default options on [`data`]`(n)`.
pub(super) fn logistic_model(n: usize) -> PredictiveModel {
    train(
        "m",
        "q",
        data(n),
        TrainOptions::new(ModelType::LogisticReg, "y"),
        "t".into(),
    )
    .expect("trains")
}
