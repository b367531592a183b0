//! L2-regularised logistic regression, solved on the sparse structure of leadql's
//! feature matrix.
//!
//! The objective is linfa-logistic's (and, scaled by `C = 1 / l2`, scikit-learn's):
//! the summed log loss of the rows plus `l2 / 2 · ‖w‖²`, the intercept not penalised.
//! It is minimised by Newton's method with a Cholesky solve, scikit-learn's
//! `newton-cholesky` solver, which scikit-learn recommends for many rows and few
//! columns, one-hot categoricals included: leadql's case (about 130 model columns).
//! linfa-logistic's L-BFGS (argmin, 10 pairs, Moré–Thuente) was kept at first and
//! made fast per evaluation, but needed hundreds of evaluations at 1M leads, and
//! stopped early: the problem is badly conditioned twice over. A rarely seen level's
//! coefficient has a curvature of about `p(1−p) × its count + l2`, five orders of
//! magnitude below the intercept's at a million rows; and moving a whole one-hot block
//! up and the intercept down changes nothing but the penalty. At scikit-learn's
//! tolerance linfa stopped 0.1 from the optimum on such coefficients (see the tests).
//! Newton's step uses the exact Hessian, which knows both: it converges in about ten
//! steps to the optimum itself, where the coefficients are linfa's and scikit-learn's
//! converged ones. The Hessian costs one pass over the rows
//! ([`Objective::hessian`]) and a 131 × 131 factorisation.
//!
//! Each step is the Newton direction, shortened by halving until the cost falls
//! enough (Armijo); the fit stops when a step moves no coefficient by more than the
//! tolerance ([`DEFAULT_TOLERANCE`]), or after `max_iterations` steps. What makes the
//! passes over the rows cheap:
//!
//! - **One-hot blocks as indices.** A categorical feature's block of the design matrix
//!   has exactly one 1 per row ([`Design`]). `X·w` adds one coefficient per block and
//!   `Xᵀ·r` adds `r` to one entry per block, instead of multiplying the whole block:
//!   at 1M generated leads about 20 operations per row instead of 130.
//! - **One pass for cost and gradient**, and one for the Hessian, each computing
//!   `X·w` once.
//! - **No temporaries.** The margins live in one buffer reused by every evaluation.
//!   linfa-logistic allocates `X·w` and the residuals afresh each time, and, without
//!   BLAS, computes `X·w` as a matrix product with a 1-column matrix (matrixmultiply's
//!   packing) and `Xᵀ·r` as a strided mat-vec (see `benches/PROFILES.md`).
//! - **Both cores.** Rows are cut into fixed chunks of [`CHUNK`] rows whose partial
//!   sums are added in chunk order, so the result does not depend on the number of
//!   threads.
//!
//! The model is linfa-compatible: [`LogisticParams`] implements linfa's `Fit` on a
//! `Dataset` of a dense matrix and boolean targets, and [`FittedLogistic`] implements
//! `PredictInplace` (probabilities of `true`).

use std::sync::Mutex;

use linfa::prelude::*;
use ndarray::{Array1, ArrayBase, Data, Ix2};

use crate::features::Design;
use crate::train_error::TrainError;

/// Rows per partial sum.
pub const CHUNK: usize = 1 << 15;

/// The default tolerance: stop when a Newton step moves no coefficient by more than
/// this (Newton converges quadratically, so the coefficients are then that close to
/// the optimum or closer).
pub const DEFAULT_TOLERANCE: f64 = 1e-6;

/// Settings of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticParams {
    /// L2 strength on the coefficients (`alpha` of linfa, `1 / C` of scikit-learn).
    pub l2: f64,
    /// Most Newton steps.
    pub max_iterations: u64,
    /// Stop when a step moves no coefficient by more than this. `None`:
    /// [`DEFAULT_TOLERANCE`].
    pub tolerance: Option<f64>,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            l2: 1.0,
            max_iterations: 200,
            tolerance: None,
        }
    }
}

impl LogisticParams {
    /// Checks the settings, naming the option at fault.
    pub fn check(&self) -> Result<(), TrainError> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(TrainError::invalid_option(
                "l2",
                format!("= {} must be a finite number ≥ 0", self.l2),
            ));
        }
        if self.max_iterations == 0 {
            return Err(TrainError::invalid_option(
                "max_iterations",
                "must be at least 1",
            ));
        }
        if let Some(t) = self.tolerance
            && !(t.is_finite() && t > 0.0)
        {
            return Err(TrainError::invalid_option(
                "tolerance",
                format!("{t} must be a finite number > 0"),
            ));
        }
        Ok(())
    }
}

/// A fitted model: `P(true) = sigmoid(intercept + coefficients · x)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedLogistic {
    /// Intercept.
    pub intercept: f64,
    /// One coefficient per model column.
    pub coefficients: Vec<f64>,
    /// Newton steps taken.
    pub iterations: u64,
    /// Evaluations of the objective (cost and gradient together).
    pub evaluations: u64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// Fits on a design matrix and labels (`true` is the modelled class).
pub fn fit(
    design: &Design,
    y: &[bool],
    params: &LogisticParams,
) -> Result<FittedLogistic, TrainError> {
    params.check()?;
    if design.rows != y.len() {
        return Err(TrainError::LabelCount {
            rows: design.rows,
            labels: y.len(),
        });
    }
    if y.is_empty() {
        return Err(TrainError::NoRows("rows to fit"));
    }
    let width = design.width;
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let problem = Objective::new(design, y, params.l2, threads);
    let tolerance = params.tolerance.unwrap_or(DEFAULT_TOLERANCE);
    let diverged = || {
        TrainError::Fit(
            "logistic regression did not fit: the coefficients diverged (try a larger l2)".into(),
        )
    };
    let evaluate = |w: &[f64]| {
        problem
            .evaluate(w)
            .map_err(|e| TrainError::Fit(format!("logistic regression did not fit: {e}")))
    };
    let mut w = vec![0.0; width + 1];
    let mut here = evaluate(&w)?;
    let mut iterations = 0;
    while iterations < params.max_iterations {
        iterations += 1;
        let hessian = problem.hessian(&w);
        let step = newton_step(hessian, &here.gradient).ok_or_else(diverged)?;
        // Backtracking from the full step until the cost falls enough (Armijo).
        let slope: f64 = here.gradient.iter().zip(&step).map(|(g, d)| g * d).sum();
        let mut t = 1.0;
        let next = loop {
            let trial: Vec<f64> = w.iter().zip(&step).map(|(w, d)| w + t * d).collect();
            let there = evaluate(&trial)?;
            if there.cost <= here.cost + 1e-4 * t * slope {
                break Some((trial, there));
            }
            t *= 0.5;
            if t < 1e-10 {
                break None;
            }
        };
        let Some((trial, there)) = next else { break };
        let moved = step.iter().map(|d| (t * d).abs()).fold(0.0, f64::max);
        w = trial;
        here = there;
        if moved <= tolerance {
            break;
        }
    }
    let evaluations = problem.evaluations();
    if w.iter().any(|v| !v.is_finite()) {
        return Err(diverged());
    }
    Ok(FittedLogistic {
        intercept: w[width],
        coefficients: w[..width].to_vec(),
        iterations,
        evaluations,
    })
}

/// The objective at one point: cost and gradient (coefficients, then intercept).
#[derive(Debug, Clone)]
struct Evaluation {
    cost: f64,
    gradient: Vec<f64>,
}

/// Buffers reused by every evaluation.
#[derive(Debug)]
struct Scratch {
    /// Margins `X·w + b`, then residuals `sigmoid(z) − y`.
    margins: Vec<f64>,
    /// Per chunk: its gradient part (width + 1 entries) and its loss, last.
    partials: Vec<Vec<f64>>,
    /// Evaluations computed.
    evaluations: u64,
}

/// The summed log loss plus the L2 penalty.
struct Objective<'a> {
    design: &'a Design,
    y: &'a [bool],
    l2: f64,
    threads: usize,
    scratch: Mutex<Scratch>,
}

impl<'a> Objective<'a> {
    fn new(design: &'a Design, y: &'a [bool], l2: f64, threads: usize) -> Self {
        let chunks = design.rows.div_ceil(CHUNK);
        Objective {
            design,
            y,
            l2,
            threads: threads.clamp(1, chunks.max(1)),
            scratch: Mutex::new(Scratch {
                margins: vec![0.0; design.rows],
                partials: vec![vec![0.0; design.width + 2]; chunks],
                evaluations: 0,
            }),
        }
    }

    /// Evaluations computed so far.
    fn evaluations(&self) -> u64 {
        self.scratch.lock().map_or(0, |s| s.evaluations)
    }

    /// The Hessian of the objective at `w`: `Σ p(1−p) x xᵀ` over the rows (with the
    /// intercept's 1 as the last entry of x), plus `l2` on the coefficients' diagonal;
    /// its lower triangle, row-major `(width + 1)²`. A row has one non-zero per dense
    /// column, one per one-hot block and the intercept's, so a row adds about
    /// (21 × 22) / 2 products at 1M generated leads, not 131².
    fn hessian(&self, w: &[f64]) -> Vec<f64> {
        let dim = self.design.width + 1;
        // Chunk k is summed into group k mod GROUPS, in chunk order; the groups are
        // added in order. Memory holds GROUPS matrices whatever the rows, and the sum
        // does not depend on the number of threads.
        const GROUPS: usize = 8;
        let chunks = self.design.rows.div_ceil(CHUNK);
        let groups: Vec<usize> = (0..GROUPS.min(chunks.max(1))).collect();
        let mut partials: Vec<Vec<f64>> = vec![vec![0.0; dim * dim]; groups.len()];
        let per_thread = groups.len().div_ceil(self.threads).max(1);
        let stride = groups.len();
        std::thread::scope(|scope| {
            for (gs, out) in groups
                .chunks(per_thread)
                .zip(partials.chunks_mut(per_thread))
            {
                scope.spawn(move || {
                    for (&g, h) in gs.iter().zip(out.iter_mut()) {
                        for k in (g..chunks).step_by(stride) {
                            self.hessian_chunk(w, k * CHUNK, h);
                        }
                    }
                });
            }
        });
        let mut total = vec![0.0; dim * dim];
        for p in &partials {
            for (t, v) in total.iter_mut().zip(p) {
                *t += v;
            }
        }
        // Each pair was added once, at (earlier active entry, later one): fold the
        // upper triangle onto the lower.
        for i in 0..dim {
            for j in 0..i {
                total[i * dim + j] += total[j * dim + i];
            }
            if i < self.design.width {
                total[i * dim + i] += self.l2;
            }
        }
        total
    }

    /// Adds one chunk's part of [`Self::hessian`] (no penalty) to `h`.
    fn hessian_chunk(&self, w: &[f64], start: usize, h: &mut [f64]) {
        let width = self.design.width;
        let dim = width + 1;
        let end = (start + CHUNK).min(self.design.rows);
        let active = self.design.dense.len() + self.design.one_hot.len() + 1;
        let mut index = vec![0usize; active];
        let mut value = vec![0.0; active];
        for r in start..end {
            let mut z = w[width];
            let mut m = 0;
            for (column, values) in &self.design.dense {
                z += w[*column] * values[r];
                index[m] = *column;
                value[m] = values[r];
                m += 1;
            }
            for (first, codes) in &self.design.one_hot {
                let c = first + codes[r] as usize;
                z += w[c];
                index[m] = c;
                value[m] = 1.0;
                m += 1;
            }
            index[m] = width;
            value[m] = 1.0;
            let p = sigmoid(z);
            let q = p * (1.0 - p);
            for a in 0..active {
                let row = &mut h[index[a] * dim..(index[a] + 1) * dim];
                let qa = q * value[a];
                row[index[a]] += qa * value[a];
                for b in a + 1..active {
                    row[index[b]] += qa * value[b];
                }
            }
        }
    }

    /// Cost and gradient at `w`, from one pass over the rows.
    fn evaluate(&self, w: &[f64]) -> Result<Evaluation, String> {
        let mut scratch = self
            .scratch
            .lock()
            .map_err(|_| "a thread computing the objective panicked".to_string())?;
        let width = self.design.width;
        let Scratch {
            margins, partials, ..
        } = &mut *scratch;
        let mut work: Vec<(usize, &mut [f64], &mut Vec<f64>)> = margins
            .chunks_mut(CHUNK)
            .zip(partials.iter_mut())
            .enumerate()
            .map(|(k, (m, p))| (k * CHUNK, m, p))
            .collect();
        if self.threads <= 1 {
            for (start, m, p) in &mut work {
                self.chunk(w, *start, m, p);
            }
        } else {
            let per_thread = work.len().div_ceil(self.threads);
            std::thread::scope(|scope| {
                for part in work.chunks_mut(per_thread) {
                    scope.spawn(move || {
                        for (start, m, p) in part {
                            self.chunk(w, *start, m, p);
                        }
                    });
                }
            });
        }
        let mut gradient = vec![0.0; width + 1];
        let mut cost = 0.0;
        for p in partials.iter() {
            for (g, v) in gradient.iter_mut().zip(&p[..=width]) {
                *g += v;
            }
            cost += p[width + 1];
        }
        let mut penalty = 0.0;
        for (g, v) in gradient[..width].iter_mut().zip(&w[..width]) {
            *g += self.l2 * v;
            penalty += v * v;
        }
        cost += 0.5 * self.l2 * penalty;
        scratch.evaluations += 1;
        Ok(Evaluation { cost, gradient })
    }

    /// One chunk of rows from `start`: its loss and its part of `Xᵀ·r` (and of the
    /// intercept's gradient) into `partial`.
    fn chunk(&self, w: &[f64], start: usize, margins: &mut [f64], partial: &mut [f64]) {
        let width = self.design.width;
        let end = start + margins.len();
        margins.fill(w[width]);
        for (column, values) in &self.design.dense {
            let c = w[*column];
            for (z, x) in margins.iter_mut().zip(&values[start..end]) {
                *z += c * x;
            }
        }
        for (first, codes) in &self.design.one_hot {
            let block = &w[*first..];
            for (z, &k) in margins.iter_mut().zip(&codes[start..end]) {
                *z += block[k as usize];
            }
        }
        let mut loss = 0.0;
        let mut intercept = 0.0;
        for (z, &label) in margins.iter_mut().zip(&self.y[start..end]) {
            let t = f64::from(u8::from(label));
            loss += softplus(*z) - t * *z;
            *z = sigmoid(*z) - t;
            intercept += *z;
        }
        partial.fill(0.0);
        for (column, values) in &self.design.dense {
            partial[*column] = margins
                .iter()
                .zip(&values[start..end])
                .map(|(r, x)| r * x)
                .sum();
        }
        for (first, codes) in &self.design.one_hot {
            let block = &mut partial[*first..width];
            for (r, &k) in margins.iter().zip(&codes[start..end]) {
                block[k as usize] += r;
            }
        }
        partial[width] = intercept;
        partial[width + 1] = loss;
    }
}

/// The Newton step `−H⁻¹ g` by Cholesky factorisation of the Hessian (lower
/// triangle in row-major `dim × dim`). A Hessian that is not positive definite (no
/// penalty and collinear columns) gets a small ridge added until it is; `None` when
/// nothing finite comes out.
fn newton_step(hessian: Vec<f64>, gradient: &[f64]) -> Option<Vec<f64>> {
    let dim = gradient.len();
    let largest = (0..dim)
        .map(|i| hessian[i * dim + i])
        .fold(0.0f64, f64::max)
        .max(1e-300);
    let mut ridge = 0.0;
    for _ in 0..12 {
        if let Some(l) = cholesky(&hessian, dim, ridge) {
            // L y = −g, then Lᵀ d = y.
            let mut y = vec![0.0; dim];
            for i in 0..dim {
                let s: f64 = (0..i).map(|k| l[i * dim + k] * y[k]).sum();
                y[i] = (-gradient[i] - s) / l[i * dim + i];
            }
            let mut d = vec![0.0; dim];
            for i in (0..dim).rev() {
                let s: f64 = (i + 1..dim).map(|k| l[k * dim + i] * d[k]).sum();
                d[i] = (y[i] - s) / l[i * dim + i];
            }
            return d.iter().all(|v| v.is_finite()).then_some(d);
        }
        ridge = if ridge == 0.0 {
            largest * 1e-12
        } else {
            ridge * 100.0
        };
    }
    None
}

/// The lower Cholesky factor of `a + ridge·I`, or `None` if it is not positive definite.
fn cholesky(a: &[f64], dim: usize, ridge: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * dim + k] * l[j * dim + k]).sum();
            if i == j {
                let v = a[i * dim + i] + ridge - s;
                if v.is_nan() || v <= 0.0 {
                    return None;
                }
                l[i * dim + i] = v.sqrt();
            } else {
                l[i * dim + j] = (a[i * dim + j] - s) / l[j * dim + j];
            }
        }
    }
    Some(l)
}

/// A dense row-major matrix as a [`Design`] (every column dense).
fn dense_design<D: Data<Elem = f64>>(x: &ArrayBase<D, Ix2>) -> Design {
    Design {
        rows: x.nrows(),
        width: x.ncols(),
        dense: x
            .columns()
            .into_iter()
            .enumerate()
            .map(|(c, column)| (c, column.to_vec()))
            .collect(),
        one_hot: Vec::new(),
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<bool>, TrainError> for LogisticParams {
    type Object = FittedLogistic;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<bool>>,
    ) -> Result<FittedLogistic, TrainError> {
        let labels: Vec<bool> = dataset.targets().iter().copied().collect();
        fit(&dense_design(dataset.records()), &labels, self)
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for FittedLogistic {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        for (row, out) in x.rows().into_iter().zip(y.iter_mut()) {
            let z = self.intercept
                + row
                    .iter()
                    .zip(&self.coefficients)
                    .map(|(x, c)| x * c)
                    .sum::<f64>();
            *out = sigmoid(z);
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// 16 rows: two numbers and a 3-level categorical.
    fn small() -> (Design, Vec<bool>) {
        let x1 = [
            0.5, -1.2, 0.3, 1.8, -0.7, 0.0, 2.2, -1.5, 0.9, -0.3, 1.1, -2.0, 0.4, 1.5, -0.9, 0.2,
        ];
        let x2 = [
            1.0, 0.0, -1.0, 0.5, 2.0, -0.5, 1.5, -1.0, 0.0, 0.8, -1.5, 0.3, -0.2, 1.2, 0.6, -0.8,
        ];
        let level = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 1];
        let y = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0];
        let design = Design {
            rows: 16,
            width: 5,
            dense: vec![(0, x1.to_vec()), (1, x2.to_vec())],
            one_hot: vec![(2, level.to_vec())],
        };
        (design, y.iter().map(|&v| v == 1).collect())
    }

    /// The dense equivalent of a design, row-major.
    fn densify(d: &Design) -> Array2<f64> {
        let mut x = Array2::zeros((d.rows, d.width));
        for (c, values) in &d.dense {
            for (r, v) in values.iter().enumerate() {
                x[[r, *c]] = *v;
            }
        }
        for (first, codes) in &d.one_hot {
            for (r, k) in codes.iter().enumerate() {
                x[[r, first + *k as usize]] = 1.0;
            }
        }
        x
    }

    /// `rows` rows of 3 numbers and two categoricals (4 and 6 levels); positive with
    /// a logistic probability of a known linear score.
    fn generated(rows: usize, seed: u64) -> (Design, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut dense: Vec<Vec<f64>> = (0..3).map(|_| Vec::with_capacity(rows)).collect();
        let mut a = Vec::with_capacity(rows);
        let mut b = Vec::with_capacity(rows);
        let mut y = Vec::with_capacity(rows);
        for _ in 0..rows {
            let x: Vec<f64> = (0..3).map(|_| rng.gen_range(-2.0..2.0)).collect();
            let (ka, kb) = (rng.gen_range(0..4u32), rng.gen_range(0..6u32));
            let z = -1.5 + 0.8 * x[0] - 0.5 * x[1]
                + 0.1 * x[2]
                + [0.0, 0.4, -0.6, 1.0][ka as usize]
                + 0.2 * f64::from(kb);
            y.push(rng.r#gen::<f64>() < sigmoid(z));
            for (column, v) in dense.iter_mut().zip(x) {
                column.push(v);
            }
            a.push(ka);
            b.push(kb);
        }
        let design = Design {
            rows,
            width: 13,
            dense: dense.into_iter().enumerate().collect(),
            one_hot: vec![(3, a), (7, b)],
        };
        (design, y)
    }

    fn tight(l2: f64) -> LogisticParams {
        LogisticParams {
            l2,
            max_iterations: 1000,
            tolerance: Some(1e-9),
        }
    }

    #[test]
    fn coefficients_equal_scikit_learns_on_a_hand_checked_problem() {
        // scikit-learn 1.9.1: LogisticRegression(C=1 / l2, tol=1e-12, max_iter=10000)
        // .fit(X, y) on the dense X of `small()` (columns x1, x2, level 0, 1, 2).
        let references = [
            (
                1.0,
                -0.22012568604150548,
                [
                    1.2245735898312236,
                    0.33001012675284463,
                    -0.2620085780867032,
                    -0.3049271726941625,
                    0.5669357309922528,
                ],
            ),
            (
                4.0,
                -0.11352327233589674,
                [
                    0.6724914034021777,
                    0.14548644782507963,
                    -0.032763293344813746,
                    -0.14230779044608127,
                    0.17507108292043375,
                ],
            ),
        ];
        let (design, y) = small();
        for (l2, intercept, coefficients) in references {
            let m = fit(&design, &y, &tight(l2)).expect("fits");
            assert!(
                (m.intercept - intercept).abs() < 1e-6,
                "l2 {l2}: intercept {} vs {intercept}",
                m.intercept
            );
            for (c, (got, want)) in m.coefficients.iter().zip(coefficients).enumerate() {
                assert!(
                    (got - want).abs() < 1e-6,
                    "l2 {l2}: coefficient {c}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn coefficients_equal_linfa_logistics_converged_fit() {
        // The solver leadql used before: linfa-logistic on the dense matrix, run to
        // convergence; it models P(larger class), here `false`.
        let (design, y) = generated(5000, 1);
        let theirs = linfa_logistic::LogisticRegression::default()
            .alpha(1.0)
            .max_iterations(10_000)
            .gradient_tolerance(1e-8)
            .fit(&Dataset::new(densify(&design), Array1::from(y.clone())))
            .expect("linfa fits");
        let sign = if theirs.labels().pos.class { 1.0 } else { -1.0 };
        let ours = fit(&design, &y, &LogisticParams::default()).expect("fits");
        assert!((ours.intercept - sign * theirs.intercept()).abs() < 1e-4);
        for (c, (a, b)) in ours.coefficients.iter().zip(theirs.params()).enumerate() {
            assert!(
                (a - sign * b).abs() < 1e-4,
                "coefficient {c}: {a} vs {}",
                sign * b
            );
        }
        // linfa at the tolerance leadql ran it with (1e-4 × rows, scikit-learn's 1e-4 on
        // the mean loss) stopped far from that optimum on the rare levels.
        let loose = linfa_logistic::LogisticRegression::default()
            .alpha(1.0)
            .max_iterations(200)
            .gradient_tolerance(1e-4 * 5000.0)
            .fit(&Dataset::new(densify(&design), Array1::from(y)))
            .expect("linfa fits");
        let off = ours
            .coefficients
            .iter()
            .zip(loose.params())
            .map(|(a, b)| (a - sign * b).abs())
            .fold(0.0, f64::max);
        assert!(off > 0.01, "{off}");
    }

    #[test]
    fn rare_levels_converge_in_few_evaluations() {
        // 100,000 rows; one level of a categorical is seen about 17 times.
        let (mut design, y) = generated(100_000, 4);
        for (r, k) in design.one_hot[1].1.iter_mut().enumerate() {
            if *k == 5 && r % 1000 != 0 {
                *k = 4;
            }
        }
        let m = fit(&design, &y, &LogisticParams::default()).expect("fits");
        let exact = fit(&design, &y, &tight(1.0)).expect("fits");
        for (a, b) in m.coefficients.iter().zip(&exact.coefficients) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        assert!(m.evaluations < 60, "{} evaluations", m.evaluations);
    }

    #[test]
    fn one_hot_indices_fit_what_the_dense_matrix_fits() {
        let (design, y) = generated(3000, 2);
        let sparse = fit(&design, &y, &tight(1.0)).expect("fits");
        let dense = LogisticParams {
            l2: 1.0,
            max_iterations: 1000,
            tolerance: Some(1e-9),
        }
        .fit(&Dataset::new(densify(&design), Array1::from(y)))
        .expect("fits");
        assert!((sparse.intercept - dense.intercept).abs() < 1e-8);
        for (a, b) in sparse.coefficients.iter().zip(&dense.coefficients) {
            assert!((a - b).abs() < 1e-8, "{a} vs {b}");
        }
        let p = dense.predict(&densify(&design));
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn cost_and_gradient_do_not_depend_on_the_number_of_threads() {
        // Several chunks of rows.
        let (design, y) = generated(3 * CHUNK + 17, 3);
        let w: Vec<f64> = (0..14).map(|i| 0.1 * i as f64 - 0.6).collect();
        let one = Objective::new(&design, &y, 1.0, 1)
            .evaluate(&w)
            .expect("cost");
        let two = Objective::new(&design, &y, 1.0, 2)
            .evaluate(&w)
            .expect("cost");
        let three = Objective::new(&design, &y, 1.0, 3)
            .evaluate(&w)
            .expect("cost");
        assert_eq!(one.cost.to_bits(), two.cost.to_bits());
        assert_eq!(one.gradient, two.gradient);
        assert_eq!(one.gradient, three.gradient);
        // So is the Hessian, and it is the gradient's derivative.
        let h1 = Objective::new(&design, &y, 1.0, 1).hessian(&w);
        let h2 = Objective::new(&design, &y, 1.0, 2).hessian(&w);
        assert_eq!(h1, h2);
        let objective = Objective::new(&design, &y, 1.0, 2);
        for (i, j) in [(0, 0), (4, 1), (13, 13), (9, 4)] {
            let h = 1e-6;
            let mut up = w.clone();
            up[j] += h;
            let mut down = w.clone();
            down[j] -= h;
            let numeric = (objective.evaluate(&up).expect("up").gradient[i]
                - objective.evaluate(&down).expect("down").gradient[i])
                / (2.0 * h);
            let exact = h1[i.max(j) * 14 + i.min(j)];
            assert!(
                (numeric - exact).abs() < 1e-4 * exact.abs().max(1.0),
                "H[{i}][{j}]: {numeric} vs {exact}"
            );
        }
        // The gradient is the cost's: a central difference along one coordinate.
        let h = 1e-5;
        for k in [0, 4, 13] {
            let mut up = w.clone();
            up[k] += h;
            let mut down = w.clone();
            down[k] -= h;
            let objective = Objective::new(&design, &y, 1.0, 2);
            let numeric = (objective.evaluate(&up).expect("up").cost
                - objective.evaluate(&down).expect("down").cost)
                / (2.0 * h);
            assert!(
                (numeric - one.gradient[k]).abs() < 1e-4 * one.gradient[k].abs().max(1.0),
                "coordinate {k}: {numeric} vs {}",
                one.gradient[k]
            );
        }
    }

    #[test]
    fn bad_settings_and_shapes_are_errors() {
        let (design, y) = small();
        let e = fit(
            &design,
            &y,
            &LogisticParams {
                l2: -1.0,
                ..LogisticParams::default()
            },
        )
        .expect_err("negative l2");
        assert!(e.to_string().starts_with("l2 = -1 must be"), "{e}");
        let e = fit(&design, &y[..3], &LogisticParams::default()).expect_err("shape");
        assert!(
            e.to_string().contains("16 rows but there are 3 labels"),
            "{e}"
        );
        let e = fit(
            &design,
            &y,
            &LogisticParams {
                max_iterations: 0,
                ..LogisticParams::default()
            },
        )
        .expect_err("iterations");
        assert!(e.to_string().contains("max_iterations"), "{e}");
    }
}
