//! L2-regularised logistic regression, solved on the sparse structure of leadql's
//! feature matrix.
//!
//! The objective is linfa-logistic's (and, scaled by `C = 1 / l2`, scikit-learn's):
//! the summed log loss of the rows plus `l2 / 2 · ‖w‖²`, the intercept not penalised.
//! It is minimised with the optimiser linfa-logistic uses — argmin's L-BFGS with 10
//! memory pairs and a Moré–Thuente line search — so at convergence the coefficients
//! are linfa's and scikit-learn's. What changes is how the objective is evaluated, and
//! the coordinates the optimiser sees:
//!
//! - **Diagonal preconditioning.** The curvature of a coefficient is about
//!   `p(1−p) · Σ x² + l2`: the row count for the intercept and the standardised
//!   numbers, the level's count for a one-hot column. A level seen 10 times among a
//!   million rows is five orders of magnitude flatter than the intercept, and L-BFGS,
//!   starting with no curvature information, crawls along it: linfa-logistic at
//!   scikit-learn's tolerance stopped 0.1 away from the optimum on such levels, and
//!   took hundreds of evaluations to get there. The optimiser works on `u = w / s`
//!   with `s = 1 / √(p̄(1−p̄) Σ x² + l2)` (p̄ the positive share), where every
//!   coordinate's curvature is about 1; the optimum is the same point.
//! - **A tolerance that means distance.** In those coordinates the Hessian is close to
//!   the identity, so the gradient's norm is about the distance to the optimum: the
//!   fit stops when it is below 10⁻⁵ (no coefficient more than about that from the
//!   optimum, the flat ones included), whatever the number of rows.
//! - **One-hot blocks as indices.** A categorical feature's block of the design matrix
//!   has exactly one 1 per row ([`Design`]). `X·w` adds one coefficient per block and
//!   `Xᵀ·r` adds `r` to one entry per block, instead of multiplying the whole block:
//!   at 1M generated leads about 20 operations per row instead of 130.
//! - **One pass for cost and gradient.** argmin asks for the cost and the gradient at
//!   the same point separately; both come from one evaluation, which keeps `X·w` and
//!   the residuals, and the second request is answered from it.
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

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use linfa::prelude::*;
use ndarray::{Array1, ArrayBase, Data, Ix2};

use crate::features::Design;
use crate::predictive::TrainError;

/// Rows per partial sum.
pub const CHUNK: usize = 1 << 15;

/// The default tolerance on the preconditioned gradient's norm.
pub const DEFAULT_TOLERANCE: f64 = 1e-5;

/// Settings of a fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticParams {
    /// L2 strength on the coefficients (`alpha` of linfa, `1 / C` of scikit-learn).
    pub l2: f64,
    /// Most L-BFGS iterations.
    pub max_iterations: u64,
    /// Stop when the gradient's norm in the preconditioned coordinates (about the
    /// distance to the optimum, see the module comment) is below this. `None`:
    /// [`DEFAULT_TOLERANCE`].
    pub gradient_tolerance: Option<f64>,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams {
            l2: 1.0,
            max_iterations: 200,
            gradient_tolerance: None,
        }
    }
}

impl LogisticParams {
    /// Checks the settings, naming the option at fault.
    pub fn check(&self) -> Result<(), TrainError> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(TrainError(format!(
                "l2 = {} must be a finite number ≥ 0",
                self.l2
            )));
        }
        if self.max_iterations == 0 {
            return Err(TrainError("max_iterations must be at least 1".into()));
        }
        if let Some(t) = self.gradient_tolerance
            && !(t.is_finite() && t > 0.0)
        {
            return Err(TrainError(format!(
                "gradient tolerance {t} must be a finite number > 0"
            )));
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
    /// L-BFGS iterations taken.
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
        return Err(TrainError(format!(
            "the feature matrix has {} rows but there are {} labels",
            design.rows,
            y.len()
        )));
    }
    if y.is_empty() {
        return Err(TrainError("no rows to fit".into()));
    }
    let width = design.width;
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let problem = Objective::new(design, y, params.l2, threads);
    let tolerance = params.gradient_tolerance.unwrap_or(DEFAULT_TOLERANCE);
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(tolerance)
        .map_err(|e| TrainError(format!("logistic regression settings: {e}")))?;
    let result = Executor::new(&problem, solver)
        .configure(|state| {
            state
                .param(vec![0.0; width + 1])
                .max_iters(params.max_iterations)
        })
        .run()
        .map_err(|e| TrainError(format!("logistic regression did not fit: {e}")))?;
    let iterations = result.state().get_iter();
    let u = result
        .state
        .best_param
        .ok_or_else(|| TrainError("logistic regression did not fit: no iterate".into()))?;
    let w = problem.coefficients(&u);
    let evaluations = problem.evaluations();
    if w.iter().any(|v| !v.is_finite()) {
        return Err(TrainError(
            "logistic regression did not fit: the coefficients diverged (try a larger l2)".into(),
        ));
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
    at: Vec<f64>,
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
    /// The latest evaluation.
    last: Option<Evaluation>,
    /// Evaluations computed (not answered from `last`).
    evaluations: u64,
}

/// The summed log loss plus the L2 penalty, as an argmin problem.
struct Objective<'a> {
    design: &'a Design,
    y: &'a [bool],
    l2: f64,
    threads: usize,
    /// The preconditioner: coefficient `j` is `scale[j] × u[j]` (intercept last).
    scale: Vec<f64>,
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
            scale: preconditioner(design, y, l2),
            scratch: Mutex::new(Scratch {
                margins: vec![0.0; design.rows],
                partials: vec![vec![0.0; design.width + 2]; chunks],
                last: None,
                evaluations: 0,
            }),
        }
    }

    /// The coefficients (intercept last) at preconditioned coordinates `u`.
    fn coefficients(&self, u: &[f64]) -> Vec<f64> {
        u.iter().zip(&self.scale).map(|(u, s)| u * s).collect()
    }

    /// Evaluations computed so far.
    fn evaluations(&self) -> u64 {
        self.scratch.lock().map_or(0, |s| s.evaluations)
    }

    /// Cost and gradient at `w`, computed once per point.
    fn evaluate(&self, w: &[f64]) -> Result<Evaluation, argmin::core::Error> {
        let mut scratch = self
            .scratch
            .lock()
            .map_err(|_| argmin::core::Error::msg("logistic objective: a thread panicked"))?;
        if let Some(last) = &scratch.last
            && last.at == w
        {
            return Ok(last.clone());
        }
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
        let evaluation = Evaluation {
            at: w.to_vec(),
            cost,
            gradient,
        };
        scratch.last = Some(evaluation.clone());
        scratch.evaluations += 1;
        Ok(evaluation)
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

/// `1 / √(p̄(1−p̄) Σ x² + l2)` per coefficient and `1 / √(p̄(1−p̄) n)` for the
/// intercept: the inverse square root of each coordinate's curvature at the start (all
/// predictions at the positive share p̄). 1 where that curvature is 0 (a column of
/// zeros without penalty, whose gradient is 0 anyway).
fn preconditioner(design: &Design, y: &[bool], l2: f64) -> Vec<f64> {
    let n = y.len().max(1) as f64;
    let share = (y.iter().filter(|t| **t).count() as f64 / n).clamp(0.01, 0.99);
    let q = share * (1.0 - share);
    let mut squares = vec![0.0; design.width + 1];
    for (column, values) in &design.dense {
        squares[*column] = values.iter().map(|x| x * x).sum();
    }
    for (first, codes) in &design.one_hot {
        for &k in codes {
            squares[first + k as usize] += 1.0;
        }
    }
    squares[design.width] = n;
    squares
        .iter()
        .enumerate()
        .map(|(j, sq)| {
            let curvature = q * sq + if j < design.width { l2 } else { 0.0 };
            if curvature > 0.0 {
                1.0 / curvature.sqrt()
            } else {
                1.0
            }
        })
        .collect()
}

/// argmin sees the objective in the preconditioned coordinates `u`.
impl CostFunction for &Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluate(&self.coefficients(u))?.cost)
    }
}

impl Gradient for &Objective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, u: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        let g = self.evaluate(&self.coefficients(u))?.gradient;
        Ok(g.iter().zip(&self.scale).map(|(g, s)| g * s).collect())
    }
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

impl From<linfa::Error> for TrainError {
    fn from(e: linfa::Error) -> Self {
        TrainError(e.to_string())
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
            gradient_tolerance: Some(1e-9),
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
            gradient_tolerance: Some(1e-9),
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
        assert!(e.0.starts_with("l2 = -1 must be"), "{e}");
        let e = fit(&design, &y[..3], &LogisticParams::default()).expect_err("shape");
        assert!(e.0.contains("16 rows but there are 3 labels"), "{e}");
        let e = fit(
            &design,
            &y,
            &LogisticParams {
                max_iterations: 0,
                ..LogisticParams::default()
            },
        )
        .expect_err("iterations");
        assert!(e.0.contains("max_iterations"), "{e}");
    }
}
