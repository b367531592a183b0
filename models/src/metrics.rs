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

/// Mean negative log-likelihood of `probabilities` (of the positive class), clipped
/// to [1e-15, 1 - 1e-15] as scikit-learn does. `None` for empty input.
pub fn log_loss(probabilities: &[f64], positive: &[bool]) -> Option<f64> {
    if probabilities.is_empty() || probabilities.len() != positive.len() {
        return None;
    }
    let eps = 1e-15;
    let total: f64 = probabilities
        .iter()
        .zip(positive)
        .map(|(p, &y)| {
            let p = p.clamp(eps, 1.0 - eps);
            if y { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    Some(total / probabilities.len() as f64)
}

/// Counts of a binary classification at a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Confusion {
    /// Positives predicted positive.
    pub true_positives: usize,
    /// Negatives predicted positive.
    pub false_positives: usize,
    /// Negatives predicted negative.
    pub true_negatives: usize,
    /// Positives predicted negative.
    pub false_negatives: usize,
}

impl Confusion {
    /// The confusion matrix when scores at or above `threshold` are called positive.
    pub fn at(scores: &[f64], positive: &[bool], threshold: f64) -> Self {
        let mut c = Confusion::default();
        for (s, &y) in scores.iter().zip(positive) {
            match (*s >= threshold, y) {
                (true, true) => c.true_positives += 1,
                (true, false) => c.false_positives += 1,
                (false, false) => c.true_negatives += 1,
                (false, true) => c.false_negatives += 1,
            }
        }
        c
    }

    /// Share of correct predictions.
    pub fn accuracy(&self) -> f64 {
        let n =
            self.true_positives + self.false_positives + self.true_negatives + self.false_negatives;
        if n == 0 {
            0.0
        } else {
            (self.true_positives + self.true_negatives) as f64 / n as f64
        }
    }
}

/// One decile of leads ranked by score, best first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decile {
    /// 1 = the 10% best-scored leads.
    pub decile: usize,
    /// Leads in the decile.
    pub leads: usize,
    /// Positives among them.
    pub positives: usize,
    /// Positive rate in the decile divided by the overall positive rate.
    pub lift: f64,
}

/// Lift by decile: leads sorted by descending score and cut into ten near-equal groups.
pub fn lift_by_decile(scores: &[f64], positive: &[bool]) -> Vec<Decile> {
    let n = scores.len().min(positive.len());
    let total_pos = positive[..n].iter().filter(|p| **p).count();
    if n == 0 || total_pos == 0 {
        return Vec::new();
    }
    let base = total_pos as f64 / n as f64;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    (0..10)
        .filter_map(|d| {
            let (from, to) = (d * n / 10, (d + 1) * n / 10);
            if from == to {
                return None;
            }
            let positives = order[from..to].iter().filter(|&&i| positive[i]).count();
            let leads = to - from;
            Some(Decile {
                decile: d + 1,
                leads,
                positives,
                lift: positives as f64 / leads as f64 / base,
            })
        })
        .collect()
}

/// Expected calibration error over `bins` equal-width probability bins: the
/// lead-weighted mean gap between predicted probability and observed rate.
pub fn calibration_error(probabilities: &[f64], positive: &[bool], bins: usize) -> Option<f64> {
    if probabilities.is_empty() || bins == 0 || probabilities.len() != positive.len() {
        return None;
    }
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for (p, &y) in probabilities.iter().zip(positive) {
        let b = ((p.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1);
        sum_p[b] += p;
        sum_y[b] += f64::from(u8::from(y));
        count[b] += 1;
    }
    let n = probabilities.len() as f64;
    Some(
        (0..bins)
            .filter(|&b| count[b] > 0)
            .map(|b| (sum_p[b] - sum_y[b]).abs() / n)
            .sum(),
    )
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

    #[test]
    fn log_loss_matches_scikit_learn() {
        // sklearn.metrics.log_loss([1, 0, 1], [0.9, 0.2, 0.6]) == 0.2797765635793422
        let l = log_loss(&[0.9, 0.2, 0.6], &[true, false, true]).expect("non-empty");
        assert!((l - 0.279_776_563_579_342_2).abs() < 1e-12, "{l}");
    }

    #[test]
    fn confusion_and_accuracy() {
        let c = Confusion::at(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true], 0.5);
        assert_eq!(
            (
                c.true_positives,
                c.false_positives,
                c.true_negatives,
                c.false_negatives
            ),
            (1, 0, 2, 1)
        );
        assert_eq!(c.accuracy(), 0.75);
    }

    #[test]
    fn lift_ranks_positives_into_the_first_deciles() {
        // 20 leads, the 4 best-scored are the 4 positives: base rate 0.2, the first
        // decile (2 leads) has rate 1.0 → lift 5.
        let scores: Vec<f64> = (0..20).map(f64::from).collect();
        let positive: Vec<bool> = (0..20).map(|i| i >= 16).collect();
        let d = lift_by_decile(&scores, &positive);
        assert_eq!(d.len(), 10);
        assert_eq!((d[0].leads, d[0].positives, d[0].lift), (2, 2, 5.0));
        assert_eq!((d[2].positives, d[2].lift), (0, 0.0));
    }

    #[test]
    fn calibration_error_is_zero_when_rates_match() {
        let e = calibration_error(&[0.25, 0.25, 0.25, 0.25], &[true, false, false, false], 10)
            .expect("some");
        assert!(e.abs() < 1e-12);
        let e = calibration_error(&[0.9, 0.9], &[false, false], 10).expect("some");
        assert!((e - 0.9).abs() < 1e-12);
    }
}
