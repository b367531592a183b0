//! Binning of a feature matrix for histogram-based trees ([`crate::trees`],
//! [`crate::boost`]).
//!
//! Every column is cut once, before any tree grows, into at most [`MAX_BINS`] bins, and
//! each value is replaced by its bin's code (one byte). A split then only has to
//! compare bins: the rows of a node are summed into one histogram per column and the
//! best split is a scan over the histogram's ≤ 255 bins instead of a sort of the rows.
//!
//! The cuts are *thresholds* `t_1 < … < t_k` (k ≤ 254), stored as real values so a
//! fitted tree scores raw rows: the code of a value `v` is the number of thresholds
//! `≤ v`, so bin `j` (0-based) holds `t_j ≤ v < t_{j+1}`, and a split "after code `j`"
//! sends exactly the rows with `v < t_{j+1}` left — the trees' rule "value below the
//! threshold goes left".
//!
//! - A column with at most 255 distinct values gets one bin per distinct value, with
//!   thresholds at the midpoints between consecutive values: a split over its bins is
//!   the same as an exact split over its sorted values (one-hot and other small-integer
//!   columns, the bulk of a lead table, are binned exactly). The distinct values are
//!   collected in one pass that gives up as soon as a 256th appears, so 0/1 columns are
//!   never sorted.
//! - A column with more distinct values gets quantile thresholds: 255 bins of about
//!   equal counts, cut between distinct values, a value frequent enough to fill a bin
//!   (the zeros of a mostly-zero column) getting a bin to itself. They are computed on
//!   a deterministic subsample of at most [`QUANTILE_SAMPLE`] rows, as scikit-learn's
//!   `HistGradientBoosting*` does.
//!
//! Columns are binned in parallel (scoped threads); the result does not depend on the
//! number of threads.

use std::cmp::Ordering;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::train_error::TrainError;

/// Most bins of a column (codes `0..=254`).
pub const MAX_BINS: usize = 255;

/// Rows of the subsample that quantile thresholds are computed on.
pub const QUANTILE_SAMPLE: usize = 200_000;

/// A binned feature matrix: one byte per value, column-major, and each column's
/// thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Binned {
    rows: usize,
    width: usize,
    /// Code of row `r`, column `c` at `codes[c * rows + r]`.
    codes: Vec<u8>,
    /// Each column's sorted, strictly increasing thresholds (at most `MAX_BINS - 1`).
    thresholds: Vec<Vec<f64>>,
}

/// The code of `v` under sorted `thresholds`: how many thresholds are `≤ v`.
pub fn code_of(thresholds: &[f64], v: f64) -> u8 {
    thresholds.partition_point(|t| *t <= v) as u8
}

impl Binned {
    /// Bins `x`, COLUMN-MAJOR with `rows` rows and `width` columns (row `r`, column `c`
    /// at `x[c * rows + r]`). Values must be finite (the pipeline imputes); a NaN or an
    /// infinity is an error naming the column.
    pub fn new(x: &[f64], rows: usize, width: usize) -> Result<Binned, TrainError> {
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        Binned::with_threads(x, rows, width, threads)
    }

    /// [`Binned::new`] on at most `threads` threads.
    pub(crate) fn with_threads(
        x: &[f64],
        rows: usize,
        width: usize,
        threads: usize,
    ) -> Result<Binned, TrainError> {
        if rows.checked_mul(width) != Some(x.len()) {
            return Err(TrainError::MatrixShape {
                values: x.len(),
                rows,
                width,
            });
        }
        let sample = sample_rows(rows);
        let mut codes = vec![0u8; rows * width];
        let mut thresholds: Vec<Vec<f64>> = vec![Vec::new(); width];
        let threads = threads.clamp(1, width.max(1));
        // Column c goes to thread c % threads: each column is binned by itself, so the
        // split between threads changes nothing but the time.
        // (column, its codes, its thresholds)
        type Job<'a> = (usize, &'a mut [u8], &'a mut Vec<f64>);
        let mut work: Vec<Vec<Job>> = (0..threads).map(|_| Vec::new()).collect();
        if rows > 0 {
            for (c, (out, t)) in codes
                .chunks_exact_mut(rows)
                .zip(thresholds.iter_mut())
                .enumerate()
            {
                work[c % threads].push((c, out, t));
            }
        }
        let sample = &sample;
        // Each thread stops at its first bad column; the lowest bad column overall is
        // reported, whatever the number of threads.
        let failures: Vec<(usize, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .into_iter()
                .map(|columns| {
                    scope.spawn(move || {
                        for (c, out, t) in columns {
                            let column = &x[c * rows..(c + 1) * rows];
                            match bin_column(column, sample.as_deref(), out) {
                                Ok(thresholds) => *t = thresholds,
                                Err(e) => return Some((c, e)),
                            }
                        }
                        None
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Some((0, "a binning thread panicked".into())))
                })
                .collect()
        });
        if let Some((c, e)) = failures.into_iter().min_by_key(|(c, _)| *c) {
            return Err(TrainError::FeatureColumn {
                column: c,
                problem: e,
            });
        }
        Ok(Binned {
            rows,
            width,
            codes,
            thresholds,
        })
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The codes of column `c`, one per row.
    pub fn column(&self, c: usize) -> &[u8] {
        &self.codes[c * self.rows..(c + 1) * self.rows]
    }

    /// The sorted thresholds of column `c`; a split after code `j` is at
    /// `thresholds(c)[j]`.
    pub fn thresholds(&self, c: usize) -> &[f64] {
        &self.thresholds[c]
    }

    /// Bins of column `c` (its thresholds plus one).
    pub fn bins(&self, c: usize) -> usize {
        self.thresholds[c].len() + 1
    }
}

/// The rows quantiles are computed on: all of them up to [`QUANTILE_SAMPLE`], else a
/// sorted random subsample of that size with a fixed seed (`None` = all rows).
fn sample_rows(rows: usize) -> Option<Vec<usize>> {
    if rows <= QUANTILE_SAMPLE {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0x6269_6e73);
    let mut rows = rand::seq::index::sample(&mut rng, rows, QUANTILE_SAMPLE).into_vec();
    rows.sort_unstable();
    Some(rows)
}

fn cmp(a: &f64, b: &f64) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

/// The midpoint of `a < b`, strictly above `a` and at most `b` (so `a` gets the lower
/// code and `b` the upper one even where the two are adjacent floats).
fn midpoint(a: f64, b: f64) -> f64 {
    let m = a / 2.0 + b / 2.0;
    if m > a && m <= b { m } else { b }
}

/// The distinct values of `column`, sorted, or `None` once there are more than
/// [`MAX_BINS`]. Errors on a non-finite value.
fn distinct(column: &[f64]) -> Result<Option<Vec<f64>>, String> {
    let mut values: Vec<f64> = Vec::new();
    let mut last = f64::NAN;
    for (r, &v) in column.iter().enumerate() {
        // Runs of one value (the zeros of a one-hot column) skip the search.
        if v == last {
            continue;
        }
        if !v.is_finite() {
            return Err(format!("row {r} holds {v}, not a finite number"));
        }
        last = v;
        if let Err(at) = values.binary_search_by(|p| cmp(p, &v)) {
            if values.len() == MAX_BINS {
                return Ok(None);
            }
            values.insert(at, v);
        }
    }
    Ok(Some(values))
}

/// Thresholds of a column and its codes written into `out`.
fn bin_column(
    column: &[f64],
    sample: Option<&[usize]>,
    out: &mut [u8],
) -> Result<Vec<f64>, String> {
    let thresholds = match distinct(column)? {
        Some(values) => values.windows(2).map(|w| midpoint(w[0], w[1])).collect(),
        None => {
            if let Some(bad) = column.iter().position(|v| !v.is_finite()) {
                return Err(format!(
                    "row {bad} holds {}, not a finite number",
                    column[bad]
                ));
            }
            let mut values: Vec<f64> = match sample {
                Some(rows) => rows.iter().map(|&r| column[r]).collect(),
                None => column.to_vec(),
            };
            values.sort_unstable_by(cmp);
            thresholds_of_sorted(&values)
        }
    };
    for (o, &v) in out.iter_mut().zip(column) {
        *o = code_of(&thresholds, v);
    }
    Ok(thresholds)
}

/// Thresholds from sorted values: midpoints between the distinct values if there are at
/// most [`MAX_BINS`] of them, else up to `MAX_BINS` bins of about equal counts, cut
/// between distinct values. A value holding at least a bin's share of the rows (the
/// zeros of a mostly-zero column) gets a bin of its own, so its ties never share a bin
/// with their neighbours; the other bins share the remaining rows equally.
fn thresholds_of_sorted(values: &[f64]) -> Vec<f64> {
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for &v in values {
        match distinct.last_mut() {
            Some((last, count)) if *last == v => *count += 1,
            _ => distinct.push((v, 1)),
        }
    }
    if distinct.len() <= MAX_BINS {
        return distinct
            .windows(2)
            .map(|w| midpoint(w[0].0, w[1].0))
            .collect();
    }
    let mut out: Vec<f64> = Vec::with_capacity(MAX_BINS - 1);
    let mut remaining = values.len();
    let mut in_bin = 0;
    for w in distinct.windows(2) {
        let ((v, count), (next, next_count)) = (w[0], w[1]);
        in_bin += count;
        // The rows each bin left (this one included) would hold.
        let target = remaining as f64 / (MAX_BINS - out.len()) as f64;
        if in_bin as f64 >= target || next_count as f64 >= target {
            out.push(midpoint(v, next));
            remaining -= in_bin;
            in_bin = 0;
            if out.len() == MAX_BINS - 1 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    #[test]
    fn codes_count_the_thresholds_at_or_below_the_value() {
        // Distinct values 1, 2, 4: thresholds 1.5 and 3.
        let x = [4.0, 1.0, 2.0, 2.0, 1.0, 4.0];
        let b = Binned::new(&x, 6, 1).expect("bins");
        assert_eq!(b.thresholds(0), &[1.5, 3.0]);
        assert_eq!(b.column(0), &[2, 0, 1, 1, 0, 2]);
        assert_eq!(b.bins(0), 3);
        // A value exactly at a threshold is not below it: it gets the upper code and
        // goes right, like the trees' "value < threshold goes left".
        assert_eq!(code_of(b.thresholds(0), 1.5), 1);
        assert_eq!(code_of(b.thresholds(0), 3.0), 2);
        assert_eq!(code_of(b.thresholds(0), 2.999), 1);
        assert_eq!(code_of(b.thresholds(0), -10.0), 0);
        assert_eq!(code_of(b.thresholds(0), 10.0), 2);
        // Adjacent floats still get different codes.
        let a = 1.0f64;
        let next = f64::from_bits(a.to_bits() + 1);
        let b = Binned::new(&[a, next, a], 3, 1).expect("bins");
        assert_eq!(b.column(0), &[0, 1, 0]);
        assert!(b.thresholds(0)[0] > a && b.thresholds(0)[0] <= next);
    }

    #[test]
    fn columns_with_up_to_255_values_get_one_bin_per_value() {
        let rows = 10_000;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // Column 0: 0/1; column 1: exactly 255 distinct integers; column 2: constant.
        let mut x: Vec<f64> = (0..rows)
            .map(|_| f64::from(rng.gen_range(0..2u8)))
            .collect();
        x.extend((0..rows).map(|r| (r % 255) as f64 * 0.5 - 3.0));
        x.extend((0..rows).map(|_| 7.0));
        let b = Binned::new(&x, rows, 3).expect("bins");
        assert_eq!(b.thresholds(0), &[0.5]);
        assert_eq!(b.bins(1), 255);
        assert_eq!(b.bins(2), 1);
        assert!(b.column(2).iter().all(|&c| c == 0));
        for (r, (&flag, &code)) in b.column(0).iter().zip(b.column(1)).enumerate() {
            assert_eq!(flag, x[r] as u8);
            // The k-th smallest value gets code k.
            assert_eq!(code as usize, r % 255);
        }
        // Thresholds are the midpoints.
        assert_eq!(b.thresholds(1)[0], -2.75);
    }

    #[test]
    fn many_distinct_values_get_255_bins_of_about_equal_counts() {
        let rows = 300_000; // more than the quantile subsample
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let x: Vec<f64> = (0..rows)
            .map(|_| rng.r#gen::<f64>().powi(3) * 100.0)
            .collect();
        let b = Binned::new(&x, rows, 1).expect("bins");
        let t = b.thresholds(0);
        assert_eq!(b.bins(0), 255);
        assert!(t.windows(2).all(|w| w[0] < w[1]));
        let mut counts = [0usize; 256];
        for (&c, &v) in b.column(0).iter().zip(&x) {
            counts[c as usize] += 1;
            assert_eq!(c, code_of(t, v));
        }
        let expected = rows as f64 / 255.0;
        for &n in &counts[..255] {
            assert!(
                (n as f64 - expected).abs() < 0.2 * expected,
                "{n} vs {expected}"
            );
        }
        // Ties: a column that is 0 in 60% of rows and continuous elsewhere keeps the
        // zeros in one bin.
        let y: Vec<f64> = (0..rows)
            .map(|r| {
                if r % 5 < 3 {
                    0.0
                } else {
                    rng.r#gen::<f64>() + 1.0
                }
            })
            .collect();
        let b = Binned::new(&y, rows, 1).expect("bins");
        let zeros = b.column(0).iter().filter(|&&c| c == 0).count();
        assert_eq!(zeros, rows / 5 * 3);
        assert!(b.bins(0) <= 255 && b.bins(0) > 90, "{}", b.bins(0));
    }

    #[test]
    fn binning_does_not_depend_on_threads_and_refuses_non_finite_values() {
        let rows = 1000;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x: Vec<f64> = (0..rows * 5).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let one = Binned::with_threads(&x, rows, 5, 1).expect("bins");
        let two = Binned::with_threads(&x, rows, 5, 2).expect("bins");
        assert_eq!(one, two);
        let mut bad = x.clone();
        bad[3 * rows + 7] = f64::NAN;
        let e = Binned::new(&bad, rows, 5).expect_err("NaN");
        assert!(
            e.to_string().contains("column 3") && e.to_string().contains("row 7"),
            "{e}"
        );
        bad[3 * rows + 7] = f64::INFINITY;
        assert!(Binned::new(&bad, rows, 5).is_err());
        assert!(Binned::new(&x, rows, 4).is_err());
    }
}
