//! Held-out evaluation of a trained model: AUC, log loss, the F1-best threshold with
//! its confusion matrix, lift by decile and calibration error ([`crate::metrics`]).

use serde::{Deserialize, Serialize};

use crate::metrics::{self, Confusion};

/// Held-out evaluation of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Held-out rows.
    pub rows: usize,
    /// Positives among them.
    pub positives: usize,
    /// Area under the ROC curve.
    pub auc: Option<f64>,
    /// Mean log loss.
    pub log_loss: Option<f64>,
    /// Probability threshold maximising F1.
    pub threshold: f64,
    /// Accuracy at that threshold.
    pub accuracy: f64,
    /// Precision at that threshold.
    pub precision: f64,
    /// Recall at that threshold.
    pub recall: f64,
    /// F1 at that threshold.
    pub f1: f64,
    /// Confusion matrix at that threshold: `[tp, fp, tn, fn]`.
    pub confusion: [usize; 4],
    /// Lift of each decile, best first.
    pub lift: Vec<f64>,
    /// Expected calibration error (10 bins).
    pub calibration_error: Option<f64>,
}

impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            rows: 0,
            positives: 0,
            auc: None,
            log_loss: None,
            threshold: 0.5,
            accuracy: 0.0,
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
            confusion: [0; 4],
            lift: Vec::new(),
            calibration_error: None,
        }
    }
}

/// Evaluates probabilities against outcomes.
pub fn evaluate(probabilities: &[f64], truth: &[bool]) -> Evaluation {
    let best = metrics::best_f1_threshold(probabilities, truth);
    let threshold = best.map_or(0.5, |b| b.threshold);
    let c = Confusion::at(probabilities, truth, threshold);
    Evaluation {
        rows: truth.len(),
        positives: truth.iter().filter(|t| **t).count(),
        auc: metrics::auc(probabilities, truth),
        log_loss: metrics::log_loss(probabilities, truth),
        threshold,
        accuracy: c.accuracy(),
        precision: best.map_or(0.0, |b| b.precision),
        recall: best.map_or(0.0, |b| b.recall),
        f1: best.map_or(0.0, |b| b.f1),
        confusion: [
            c.true_positives,
            c.false_positives,
            c.true_negatives,
            c.false_negatives,
        ],
        lift: metrics::lift_by_decile(probabilities, truth)
            .iter()
            .map(|d| d.lift)
            .collect(),
        calibration_error: metrics::calibration_error(probabilities, truth, 10),
    }
}
