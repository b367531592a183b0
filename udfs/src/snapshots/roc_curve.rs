//! `roc_curve(model, from, to, every_days [, horizon_days])`: the ROC curve of a rule
//! model or a predictive model at each past instant, on the same scored snapshots as
//! [`backtest`](super::backtest).
//!
//! ```sql
//! SELECT point, threshold, false_positive_rate, true_positive_rate
//! FROM roc_curve('conversion', NULL, NULL, 30) ORDER BY as_of, point;
//! ```
//!
//! For each instant the open leads are scored as `backtest` scores them and labelled
//! with whether they were qualified within the horizon. Calling the leads scored at or
//! above a threshold positive gives one point per distinct score, best first: `point`
//! 0 calls no lead positive (threshold NULL, rates 0), each next point lowers the
//! threshold to the next distinct score, and leads the model does not score (outside a
//! rule model's audience) come last as one point with threshold NULL. The area under
//! these points by the trapezoid rule is the instant's `auc` in `backtest` (ties count
//! half, as there).
//!
//! Columns: `model, version, as_of, in_training_period, point, threshold,
//! true_positive_rate, false_positive_rate, true_positives, false_positives,
//! positives, negatives`.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::Result;
use datafusion::logical_expr::Documentation;

use super::backtest::{Subject, by_instant, scored_snapshots_table};
use super::instants::documented;
use crate::catalogue::{Build, Entry, Function, POINT_IN_TIME};
use crate::predictive::PredictiveModels;
use crate::scoring::RuleModels;

/// The SQL name.
pub const NAME: &str = "roc_curve";

/// The catalogue entry.
pub const ENTRY: Entry = Entry::table(
    NAME,
    || &DOC,
    Build::Models(|rules, predictive| {
        Function::Table(Arc::new(RocCurve::new(rules.clone(), predictive.clone())))
    }),
);

static DOC: LazyLock<Documentation> = LazyLock::new(|| {
    let doc = Documentation::builder(
        POINT_IN_TIME,
        "The ROC curve of a rule model or a predictive model at each past instant whose outcome is known, on the leads `backtest` scores there (the open leads, scored as of the instant, labelled with whether they were qualified within the horizon). Calling the leads scored at or above a threshold positive gives one point per distinct score, best first: `point` 0 calls no lead positive (`threshold` NULL, both rates 0), each next point lowers the threshold to the next distinct score, and the leads the model does not score (outside a rule model's audience) come last as one point with `threshold` NULL. The area under the points by the trapezoid rule is the instant's `auc` in `backtest`. Columns: `model, version, as_of, in_training_period, point, threshold, true_positive_rate, false_positive_rate, true_positives, false_positives, positives, negatives`; the rates are NULL at an instant without positives (or negatives).",
        "roc_curve(model, from, to, every_days [, horizon_days])",
    )
    .with_argument("model", "A rule model's name, or a trained predictive model (`'name'` or `'name@N'`); a constant string.");
    documented(
        doc,
        Some("Default: a predictive model's own horizon, 90 days for a rule model."),
    )
    .with_sql_example(
        "> SELECT point, round(threshold, 1) AS threshold, true_positives, false_positives,
    round(true_positive_rate, 3) AS tpr, round(false_positive_rate, 3) AS fpr
  FROM roc_curve('engagement', TIMESTAMP '2026-03-31 00:00:00', TIMESTAMP '2026-03-31 00:00:00', 1)
  WHERE point IN (0, 1, 2, 100) OR threshold IS NULL ORDER BY point;
+-------+-----------+----------------+-----------------+-------+-------+
| point | threshold | true_positives | false_positives | tpr   | fpr   |
+-------+-----------+----------------+-----------------+-------+-------+
| 0     |           | 0              | 0               | 0.0   | 0.0   |
| 1     | 80.2      | 1              | 0               | 0.014 | 0.0   |
| 2     | 61.7      | 1              | 1               | 0.014 | 0.001 |
| 100   | 14.1      | 23             | 77              | 0.324 | 0.078 |
| 412   |           | 71             | 989             | 1.0   | 1.0   |
+-------+-----------+----------------+-----------------+-------+-------+
> SELECT round(sum((x - px) * (y + py) / 2), 3) AS area FROM (
    SELECT false_positive_rate AS x, true_positive_rate AS y,
      lag(false_positive_rate) OVER (ORDER BY point) AS px, lag(true_positive_rate) OVER (ORDER BY point) AS py
    FROM roc_curve('engagement', TIMESTAMP '2026-03-31 00:00:00', TIMESTAMP '2026-03-31 00:00:00', 1));
+-------+
| area  |
+-------+
| 0.708 |
+-------+",
    )
    .with_related_udf("backtest")
    .with_related_udf("evaluate_scoring")
    .build()
});

/// The `roc_curve` table function.
#[derive(Debug)]
pub struct RocCurve {
    rules: Arc<RuleModels>,
    predictive: Arc<PredictiveModels>,
}

impl RocCurve {
    /// ROC curves of the workspace's rule and predictive models.
    pub fn new(rules: Arc<RuleModels>, predictive: Arc<PredictiveModels>) -> Self {
        RocCurve { rules, predictive }
    }
}

/// Columns of a ROC curve.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, true),
        Field::new(
            "as_of",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("in_training_period", DataType::Boolean, true),
        Field::new("point", DataType::Int64, false),
        Field::new("threshold", DataType::Float64, true),
        Field::new("true_positive_rate", DataType::Float64, true),
        Field::new("false_positive_rate", DataType::Float64, true),
        Field::new("true_positives", DataType::Int64, false),
        Field::new("false_positives", DataType::Int64, false),
        Field::new("positives", DataType::Int64, false),
        Field::new("negatives", DataType::Int64, false),
    ]))
}

impl TableFunctionImpl for RocCurve {
    fn call_with_args(&self, fargs: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        scored_snapshots_table(
            &fargs,
            NAME,
            &self.rules,
            &self.predictive,
            schema(),
            roc_batch,
        )
    }
}

/// One point of a ROC curve.
#[derive(Debug, Clone, PartialEq)]
pub struct RocPoint {
    /// The lowest score called positive; `None` for the first point (nothing called
    /// positive) and for the point of the unscored leads.
    pub threshold: Option<f64>,
    /// Converted leads called positive.
    pub true_positives: i64,
    /// Leads called positive that did not convert.
    pub false_positives: i64,
}

/// The ROC points of one instant's leads, `(score, lead, converted)` best first (as
/// [`by_instant`] orders them; unscored leads have `-inf`).
pub fn points(rows: &[(f64, i64, bool)]) -> Vec<RocPoint> {
    let mut out = vec![RocPoint {
        threshold: None,
        true_positives: 0,
        false_positives: 0,
    }];
    let (mut tp, mut fp) = (0i64, 0i64);
    let mut i = 0;
    while i < rows.len() {
        let score = rows[i].0;
        while i < rows.len() && rows[i].0.total_cmp(&score).is_eq() {
            if rows[i].2 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        out.push(RocPoint {
            threshold: score.is_finite().then_some(score),
            true_positives: tp,
            false_positives: fp,
        });
    }
    out
}

/// The area under `points` by the trapezoid rule; `None` without positives or
/// negatives.
pub fn area(points: &[RocPoint]) -> Option<f64> {
    let last = points.last()?;
    let (p, n) = (last.true_positives as f64, last.false_positives as f64);
    if p == 0.0 || n == 0.0 {
        return None;
    }
    let sum: f64 = points
        .windows(2)
        .map(|w| {
            let dx = (w[1].false_positives - w[0].false_positives) as f64;
            dx * (w[1].true_positives + w[0].true_positives) as f64 / 2.0
        })
        .sum();
    Some(sum / (p * n))
}

/// The ROC table of `subject` from its scored snapshots (`lead_id, as_of, label,
/// score` batches).
pub fn roc_batch(subject: &Subject, batches: &[RecordBatch]) -> Result<RecordBatch> {
    let (name, version) = subject.name_and_version();
    let mut as_of = Vec::new();
    let mut training = Vec::new();
    let mut point = Vec::new();
    let mut threshold = Vec::new();
    let (mut tpr, mut fpr) = (Vec::new(), Vec::new());
    let (mut tps, mut fps, mut pos, mut neg) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (at, rows) in by_instant(batches) {
        let curve = points(&rows);
        let (p, n) = curve
            .last()
            .map_or((0, 0), |l| (l.true_positives, l.false_positives));
        for (k, pt) in curve.iter().enumerate() {
            as_of.push(at);
            training.push(subject.in_training_period(at));
            point.push(k as i64);
            threshold.push(pt.threshold);
            tpr.push((p > 0).then(|| pt.true_positives as f64 / p as f64));
            fpr.push((n > 0).then(|| pt.false_positives as f64 / n as f64));
            tps.push(pt.true_positives);
            fps.push(pt.false_positives);
            pos.push(p);
            neg.push(n);
        }
    }
    let len = as_of.len();
    Ok(RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(StringArray::from(vec![name.as_str(); len])),
            Arc::new(Int64Array::from(vec![version; len])),
            Arc::new(TimestampMicrosecondArray::from(as_of)),
            Arc::new(BooleanArray::from(training)),
            Arc::new(Int64Array::from(point)),
            Arc::new(Float64Array::from(threshold)),
            Arc::new(Float64Array::from(tpr)),
            Arc::new(Float64Array::from(fpr)),
            Arc::new(Int64Array::from(tps)),
            Arc::new(Int64Array::from(fps)),
            Arc::new(Int64Array::from(pos)),
            Arc::new(Int64Array::from(neg)),
        ],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadql_models::metrics::auc;

    fn rows(scored: &[(f64, bool)]) -> Vec<(f64, i64, bool)> {
        let mut r: Vec<(f64, i64, bool)> = scored
            .iter()
            .enumerate()
            .map(|(i, (s, y))| (*s, i as i64, *y))
            .collect();
        r.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        r
    }

    fn backtest_auc(r: &[(f64, i64, bool)]) -> Option<f64> {
        // As backtest computes it: unscored leads tie at the bottom.
        let scores: Vec<f64> = r
            .iter()
            .map(|x| if x.0.is_finite() { x.0 } else { -1e300 })
            .collect();
        let truth: Vec<bool> = r.iter().map(|x| x.2).collect();
        auc(&scores, &truth)
    }

    #[test]
    fn one_point_per_distinct_score_from_the_origin() {
        let r = rows(&[(0.9, true), (0.5, false), (0.5, true), (0.1, false)]);
        let p = points(&r);
        let got: Vec<(Option<f64>, i64, i64)> = p
            .iter()
            .map(|x| (x.threshold, x.true_positives, x.false_positives))
            .collect();
        assert_eq!(
            got,
            vec![
                (None, 0, 0),
                (Some(0.9), 1, 0),
                (Some(0.5), 2, 1),
                (Some(0.1), 2, 2)
            ]
        );
        // Ties count half: 0.9 beats both negatives, 0.5 (positive) ties one and
        // beats one: (2 + 1.5) / 4.
        assert_eq!(area(&p), Some(0.875));
        assert_eq!(area(&p), backtest_auc(&r));
    }

    #[test]
    fn unscored_leads_are_the_last_point() {
        let r = rows(&[
            (f64::NEG_INFINITY, true),
            (3.0, false),
            (f64::NEG_INFINITY, false),
            (7.0, true),
        ]);
        let p = points(&r);
        assert_eq!(p.len(), 4);
        assert_eq!(p[3].threshold, None);
        assert_eq!((p[3].true_positives, p[3].false_positives), (2, 2));
        assert_eq!(area(&p), backtest_auc(&r));
    }

    #[test]
    fn no_area_without_both_outcomes_or_leads() {
        assert_eq!(area(&points(&rows(&[(1.0, true), (2.0, true)]))), None);
        assert_eq!(area(&points(&[])), None);
        assert_eq!(points(&[]).len(), 1);
    }

    #[test]
    fn the_area_is_the_backtest_auc_on_many_ties() {
        // Deterministic pseudo-random scores with many ties.
        let mut x: u64 = 12345;
        let mut scored = Vec::new();
        for _ in 0..500 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let s = ((x >> 33) % 20) as f64;
            let y = (x >> 20).is_multiple_of(3) || s > 15.0;
            scored.push((if s == 0.0 { f64::NEG_INFINITY } else { s }, y));
        }
        let r = rows(&scored);
        let (a, b) = (area(&points(&r)), backtest_auc(&r));
        assert!(a.is_some());
        let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}
