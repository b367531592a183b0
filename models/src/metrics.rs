//! Ranking and classification metrics for scores against known outcomes.
//!
//! Used to evaluate rule models and predictive models alike. Reference values in the
//! tests come from scikit-learn (`roc_auc_score`, `precision_recall_fscore_support`)
//! on the same inputs.

/// Area under the ROC curve: the probability that a random positive outranks a random
/// negative, ties counting one half (Mann–Whitney U). `None` when either class is
/// absent or a score is NaN.
pub fn auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    if scores.len() != positive.len() || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos) = (0.0, 0usize);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let mean_rank = (i + j + 2) as f64 / 2.0;
        for &k in &order[i..=j] {
            if positive[k] {
                rank_sum += mean_rank;
                pos += 1;
            }
        }
        i = j + 1;
    }
    let neg = scores.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Precision, recall and F1 when scores at or above a threshold are called positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdMetrics {
    /// The threshold (inclusive).
    pub threshold: f64,
    /// True positives / predicted positives.
    pub precision: f64,
    /// True positives / actual positives.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Leads at or above the threshold.
    pub selected: usize,
}

/// Metrics at `threshold`.
pub fn at_threshold(scores: &[f64], positive: &[bool], threshold: f64) -> ThresholdMetrics {
    let (mut tp, mut fp, mut fnn) = (0usize, 0usize, 0usize);
    for (s, &y) in scores.iter().zip(positive) {
        match (*s >= threshold, y) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fnn += 1,
            (false, false) => {}
        }
    }
    metrics(threshold, tp, fp, fnn)
}

fn metrics(threshold: f64, tp: usize, fp: usize, fnn: usize) -> ThresholdMetrics {
    let precision = if tp + fp == 0 {
        0.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = if tp + fnn == 0 {
        0.0
    } else {
        tp as f64 / (tp + fnn) as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    ThresholdMetrics {
        threshold,
        precision,
        recall,
        f1,
        selected: tp + fp,
    }
}

/// The threshold (one of the scores) that maximises F1; on ties, the highest such
/// threshold (fewer leads for sales). `None` without positives.
pub fn best_f1_threshold(scores: &[f64], positive: &[bool]) -> Option<ThresholdMetrics> {
    let total_pos = positive.iter().filter(|p| **p).count();
    if total_pos == 0 || scores.len() != positive.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).filter(|&i| !scores[i].is_nan()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best: Option<ThresholdMetrics> = None;
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if positive[order[i]] {
                tp += 1
            } else {
                fp += 1
            }
            i += 1;
        }
        let m = metrics(s, tp, fp, total_pos - tp);
        if best.is_none_or(|b| m.f1 > b.f1) {
            best = Some(m);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_scikit_learn() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
        // With ties: roc_auc_score([0, 1, 0, 1, 1], [1, 1, 2, 2, 3]) == 0.6666…
        let a = auc(
            &[1.0, 1.0, 2.0, 2.0, 3.0],
            &[false, true, false, true, true],
        )
        .expect("both classes");
        assert!((a - 2.0 / 3.0).abs() < 1e-12, "{a}");
    }

    #[test]
    fn auc_needs_both_classes() {
        assert_eq!(auc(&[1.0, 2.0], &[true, true]), None);
        assert_eq!(auc(&[], &[]), None);
        assert_eq!(auc(&[f64::NAN, 1.0], &[true, false]), None);
    }

    #[test]
    fn best_threshold_maximises_f1() {
        // Thresholds 0.8 / 0.4 / 0.35 / 0.1 give F1 0.667 / 0.5 / 0.8 / 0.667.
        let m = best_f1_threshold(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true])
            .expect("positives");
        assert_eq!(m.threshold, 0.35);
        assert!((m.f1 - 0.8).abs() < 1e-12);
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.recall, 1.0);
        assert_eq!(m.selected, 3);
        let same = at_threshold(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true], 0.35);
        assert_eq!(same, m);
    }
}
