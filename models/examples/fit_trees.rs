//! Speed check of the histogram trees on a lead-table-like matrix: 600k rows of 10
//! numeric columns and 10 one-hot features of 12 levels (130 columns), about 8.5%
//! positive. Fits a 50-tree depth-10 random forest and 200 rounds of depth-6 boosted
//! trees and prints their seconds and held-out AUC.
//!
//! `cargo run -p leadql-models --release --example fit_trees [rows]`
//!
//! On the 2-core development machine, while another cargo build shared it: the forest
//! 5.3–7.7 s, the 200 boosting rounds 16.5–20 s (binning included in both).

use std::time::Instant;

use leadql_models::boost::{BoostParams, fit_boosted};
use leadql_models::metrics::auc;
use leadql_models::trees::{Growth, fit_forest};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const NUMERIC: usize = 10;
const GROUPS: usize = 10;
const LEVELS: usize = 12;

/// Column-major rows × 130 matrix and labels.
fn synthetic(rows: usize, seed: u64) -> (Vec<f64>, Vec<bool>, Vec<f64>) {
    let width = NUMERIC + GROUPS * LEVELS;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = vec![0.0; rows * width];
    let mut y = Vec::with_capacity(rows);
    let mut truth = Vec::with_capacity(rows);
    // The same effects for every sample (training and held-out).
    let mut fixed = ChaCha8Rng::seed_from_u64(0);
    let effects: Vec<f64> = (0..GROUPS * LEVELS)
        .map(|_| fixed.gen_range(-0.8..0.8))
        .collect();
    for r in 0..rows {
        let mut logit = -4.8;
        for c in 0..NUMERIC {
            // Standardised-looking numbers, some rounded to few values.
            let mut v: f64 = rng.gen_range(-2.0..2.0) + rng.gen_range(-1.0..1.0);
            if c % 3 == 0 {
                v = v.round();
            }
            x[c * rows + r] = v;
            logit += match c {
                0 => 0.8 * v,
                1 => 0.6 * (v * v - 1.5),
                2 => {
                    if v > 0.5 {
                        0.7
                    } else {
                        0.0
                    }
                }
                _ => 0.05 * v,
            };
        }
        for g in 0..GROUPS {
            // Skewed level frequencies, as real categories are.
            let level = ((rng.r#gen::<f64>().powi(2)) * LEVELS as f64) as usize;
            let column = NUMERIC + g * LEVELS + level;
            x[column * rows + r] = 1.0;
            logit += effects[g * LEVELS + level];
        }
        y.push(rng.r#gen::<f64>() < 1.0 / (1.0 + (-logit).exp()));
        truth.push(logit);
    }
    (x, y, truth)
}

fn row(x: &[f64], rows: usize, r: usize) -> Vec<f64> {
    (0..x.len() / rows).map(|c| x[c * rows + r]).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::args().nth(1).map_or(Ok(600_000), |a| a.parse())?;
    let width = NUMERIC + GROUPS * LEVELS;
    let (x, y, _) = synthetic(rows, 1);
    let (tx, ty, best) = synthetic(50_000, 2);
    let positives = y.iter().filter(|l| **l).count();
    println!(
        "{rows} rows × {width} columns, {:.1}% positive",
        100.0 * positives as f64 / rows as f64
    );
    println!(
        "held-out AUC of the true logits: {:.4}",
        auc(&best, &ty).unwrap_or(f64::NAN)
    );
    let test: Vec<Vec<f64>> = (0..ty.len()).map(|r| row(&tx, ty.len(), r)).collect();

    let growth = Growth {
        max_depth: 10,
        min_leaf_rows: 20,
        trees: 50,
        feature_fraction: 0.5,
        seed: 42,
    };
    let start = Instant::now();
    let forest = fit_forest(&x, width, &y, &growth)?;
    let seconds = start.elapsed().as_secs_f64();
    let scores: Vec<f64> = test.iter().map(|r| forest.probability(r)).collect();
    let nodes: usize = forest.trees.iter().map(|t| t.nodes.len()).sum();
    println!(
        "random forest, 50 trees, depth 10: {seconds:.1} s ({nodes} nodes), held-out AUC {:.4}",
        auc(&scores, &ty).unwrap_or(f64::NAN)
    );

    for early_stop in [false, true] {
        let params = BoostParams {
            max_iterations: 200,
            max_depth: 6,
            early_stop,
            ..BoostParams::default()
        };
        let start = Instant::now();
        let boosted = fit_boosted(&x, width, &y, &params)?;
        let seconds = start.elapsed().as_secs_f64();
        let scores: Vec<f64> = test.iter().map(|r| boosted.probability(r)).collect();
        println!(
            "boosted trees, depth 6, early_stop {early_stop}: {} rounds in {seconds:.1} s, held-out AUC {:.4}",
            boosted.rounds(),
            auc(&scores, &ty).unwrap_or(f64::NAN)
        );
    }
    Ok(())
}
