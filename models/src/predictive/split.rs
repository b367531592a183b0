//! The split of training rows from held-out evaluation rows ([`super::Split`]):
//! random with a seed, by a boolean column, or by time (the most recent share held out;
//! for point-in-time models whole instants, after a gap of one horizon).
//!
//! Rows are identified by their content, not their position ([`row_keys`]): a query
//! without ORDER BY may return rows in another order on every run (parallel scans), and
//! neither the split nor the fit may depend on it.

use super::{Split, TrainOptions, TrainingData};
use crate::features::RawColumn;
use crate::train_error::TrainError;

/// The training rows and the held-out rows of `data` (each in the order of their
/// [`row_keys`]), by the options' split. Numeric features must be finite (their values
/// identify the rows).
pub(super) fn split_rows(
    data: &TrainingData,
    labels: &[bool],
    options: &TrainOptions,
) -> Result<(Vec<usize>, Vec<usize>), TrainError> {
    let n = labels.len();
    for (name, column) in data.names.iter().zip(&data.columns) {
        if let RawColumn::Numeric(v) = column {
            crate::features::check_finite(name, v)?;
        }
    }
    let keys = row_keys(&data.columns, labels);
    let by_key = |rows: &mut Vec<usize>| rows.sort_by_key(|&i| (keys[i], i));
    let (mut train_rows, mut test_rows): (Vec<usize>, Vec<usize>) = match &options.split {
        Split::Random {
            test_fraction,
            seed,
        } => {
            let salt = mix(*seed ^ 0x5EED);
            (0..n).partition(|&i| {
                (mix(keys[i] ^ salt) >> 11) as f64 / (1u64 << 53) as f64 >= *test_fraction
            })
        }
        Split::Column { column } => {
            let flags = data
                .holdout
                .as_ref()
                .ok_or_else(|| missing_column("column", column))?;
            (0..n).partition(|&i| !flags[i].unwrap_or(false))
        }
        Split::Time {
            test_fraction,
            column,
        } if options.horizon_days.is_some() => {
            let times = data
                .time
                .as_ref()
                .ok_or_else(|| missing_column("time", column))?;
            let horizon = options.horizon_days.unwrap_or(0.0);
            snapshot_split(times, *test_fraction, horizon, column)?
        }
        Split::Time {
            test_fraction,
            column,
        } => {
            let times = data
                .time
                .as_ref()
                .ok_or_else(|| missing_column("time", column))?;
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| (times[i].unwrap_or(i64::MIN), keys[i], i));
            let test = ((n as f64) * test_fraction).round() as usize;
            let (r, t) = order.split_at(n - test.min(n));
            (r.to_vec(), t.to_vec())
        }
    };
    by_key(&mut train_rows);
    by_key(&mut test_rows);
    if test_rows.is_empty() || train_rows.is_empty() {
        return Err(TrainError::TooFewRows(n));
    }
    Ok((train_rows, test_rows))
}

/// The error of a split by `split` (`column`, `time`) without its column.
fn missing_column(split: &'static str, column: &str) -> TrainError {
    TrainError::MissingSplitColumn {
        split,
        column: column.to_string(),
    }
}

/// The given rows of each column, in the given order.
pub(super) fn take_rows(columns: &[RawColumn], rows: &[usize]) -> Vec<RawColumn> {
    columns
        .iter()
        .map(|c| match c {
            RawColumn::Numeric(v) => RawColumn::Numeric(rows.iter().map(|&r| v[r]).collect()),
            RawColumn::Text(v) => RawColumn::Text(rows.iter().map(|&r| v[r].clone()).collect()),
            RawColumn::Bool(v) => RawColumn::Bool(rows.iter().map(|&r| v[r]).collect()),
            RawColumn::Timestamp(v) => RawColumn::Timestamp(rows.iter().map(|&r| v[r]).collect()),
        })
        .collect()
}

/// SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of each row's values (features and label), independent of row order.
fn row_keys(columns: &[RawColumn], labels: &[bool]) -> Vec<u64> {
    let mut keys: Vec<u64> = labels.iter().map(|&l| mix(u64::from(l))).collect();
    for (c, column) in columns.iter().enumerate() {
        let salt = mix(c as u64 + 1);
        for (row, key) in keys.iter_mut().enumerate() {
            let v = match column {
                RawColumn::Numeric(v) => v[row].map_or(u64::MAX, f64::to_bits),
                RawColumn::Bool(v) => v[row].map_or(2, u64::from),
                RawColumn::Timestamp(v) => v[row].map_or(u64::MAX, |t| t as u64),
                RawColumn::Text(v) => v[row].as_deref().map_or(u64::MAX, |s| {
                    s.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
                        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
                    })
                }),
            };
            *key = mix(*key ^ mix(v ^ salt));
        }
    }
    // Identical rows are interchangeable: number their occurrences so that they still
    // spread over both sides of a split.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| (keys[i], i));
    let mut out = keys.clone();
    let mut occurrence = 0u64;
    for (k, &i) in order.iter().enumerate() {
        occurrence = if k > 0 && keys[order[k - 1]] == keys[i] {
            occurrence + 1
        } else {
            0
        };
        out[i] = mix(keys[i] ^ mix(occurrence.wrapping_add(0xD0B1)));
    }
    out
}

/// The split of snapshot rows (one per lead and instant): the latest whole instants
/// holding at least `test_fraction` of the rows are held out, and training keeps only
/// instants at least one horizon before the first held-out one, so that no training
/// label (an outcome within the horizon) falls in the held-out period.
fn snapshot_split(
    times: &[Option<i64>],
    test_fraction: f64,
    horizon_days: f64,
    column: &str,
) -> Result<(Vec<usize>, Vec<usize>), TrainError> {
    let n = times.len();
    let mut instants: Vec<i64> = times.iter().flatten().copied().collect();
    instants.sort_unstable();
    let want = ((n as f64) * test_fraction).ceil().max(1.0) as usize;
    // The earliest held-out instant: walk back from the latest until enough rows.
    let mut start = i64::MAX;
    let mut held = 0usize;
    let mut k = instants.len();
    while k > 0 && held < want {
        let t = instants[k - 1];
        while k > 0 && instants[k - 1] == t {
            k -= 1;
            held += 1;
        }
        start = t;
    }
    let gap = (horizon_days * 86_400_000_000.0).round() as i64;
    let last_train = start.saturating_sub(gap);
    let mut train = Vec::new();
    let mut test = Vec::new();
    for (i, t) in times.iter().enumerate() {
        match t {
            Some(t) if *t >= start => test.push(i),
            Some(t) if *t <= last_train => train.push(i),
            Some(_) => {}
            None => {
                return Err(TrainError::NullTime {
                    column: column.to_string(),
                    row: i + 1,
                });
            }
        }
    }
    if train.is_empty() {
        return Err(TrainError::NoTrainingSnapshot {
            horizon_days,
            held_out_from: start,
        });
    }
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predictive::fixture::data;
    use crate::predictive::{ModelType, train};

    #[test]
    fn time_split_holds_out_the_most_recent_rows() {
        let mut d = data(1000);
        d.time = Some((0..1000).map(Some).collect());
        let mut o = TrainOptions::new(ModelType::LogisticReg, "y");
        o.split = Split::Time {
            test_fraction: 0.2,
            column: "t".into(),
        };
        let m = train("m", "q", d, o, "t".into()).expect("trains");
        assert_eq!((m.training_rows, m.evaluation.rows), (800, 200));
    }

    #[test]
    fn snapshot_split_holds_out_whole_instants_after_a_horizon_gap() {
        // 10 monthly instants (30 days apart) of 100 rows each.
        let day = 86_400_000_000i64;
        let fit = |horizon_days: f64| {
            let mut d = data(1000);
            d.time = Some(
                (0..1000)
                    .map(|i| Some((i as i64 / 100) * 30 * day))
                    .collect(),
            );
            let mut o = TrainOptions::new(ModelType::LogisticReg, "y");
            o.split = Split::Time {
                test_fraction: 0.15,
                column: "as_of".into(),
            };
            o.horizon_days = Some(horizon_days);
            train("m", "q", d, o, "t".into())
        };
        let m = fit(45.0).expect("trains");
        // 15% of the rows is 150: the last two whole instants (day 240 and 270) are
        // held out; training ends 45 days before day 240, so at day 180 (7 instants).
        assert_eq!((m.training_rows, m.evaluation.rows), (700, 200));
        assert_eq!(m.trained_through, Some((180 + 45) * day));
        // A horizon longer than the history leaves nothing to train on.
        let e = fit(400.0).expect_err("no training rows");
        assert!(e.to_string().contains("at least 400 days"), "{e}");
    }

    #[test]
    fn row_order_does_not_change_the_model() {
        let d = data(1000);
        let mut shuffled = data(1000);
        let order: Vec<usize> = (0..1000).rev().collect();
        shuffled.columns = take_rows(&shuffled.columns, &order);
        shuffled.label = take_rows(std::slice::from_ref(&shuffled.label), &order).remove(0);
        let o = TrainOptions::new(ModelType::LogisticReg, "y");
        let a = train("m", "q", d, o.clone(), "t".into()).expect("trains");
        let b = train("m", "q", shuffled, o, "t".into()).expect("trains");
        assert_eq!(a.estimator, b.estimator);
        assert_eq!(a.evaluation, b.evaluation);
    }

    #[test]
    fn custom_split_holds_out_the_flagged_rows() {
        let mut d = data(1000);
        d.holdout = Some((0..1000).map(|i| Some(i % 4 == 0)).collect());
        let mut o = TrainOptions::new(ModelType::LogisticReg, "y");
        o.split = Split::Column { column: "h".into() };
        let m = train("m", "q", d, o, "t".into()).expect("trains");
        assert_eq!((m.training_rows, m.evaluation.rows), (750, 250));
    }
}
