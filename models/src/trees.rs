//! Decision trees and random forests (of linfa-trees trees) as probability models.
//!
//! linfa's trees predict hard labels only, and its ensemble only majority votes:
//! ranking leads by either loses most of the AUC. Each fitted tree is therefore
//! flattened into [`Tree`] and calibrated by routing the training rows through it:
//! every node keeps the share of positive rows that reach it. A tree's probability is
//! its leaf's share; a forest's is the mean over its trees (as scikit-learn does).
//! The same node shares give exact per-feature explanations: walking from the root to
//! the leaf, each split moves the probability from the parent's share to the child's,
//! and that step is credited to the split's column; the steps add up to the leaf's
//! share minus the root's (the base rate).

use std::panic::{AssertUnwindSafe, catch_unwind};

use linfa::ParamGuard;
use linfa::prelude::*;
use linfa_trees::{DecisionTree, TreeNode};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::predictive::TrainError;

/// One node of a flattened tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Model column tested by a split (index into the pipeline's output columns).
    pub column: u32,
    /// Rows whose value is below the threshold go left, the others right.
    pub threshold: f64,
    /// Index of the left child; 0 for a leaf.
    pub left: u32,
    /// Index of the right child; 0 for a leaf.
    pub right: u32,
    /// Share of positive training rows among those reaching the node.
    pub rate: f64,
    /// Training rows reaching the node.
    pub rows: u64,
}

impl Node {
    fn is_leaf(&self) -> bool {
        self.left == 0
    }
}

/// A fitted tree, root first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes; `nodes[0]` is the root.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// Flattens a linfa tree whose column `i` is model column `columns[i]`.
    fn from_linfa(tree: &DecisionTree<f64, bool>, columns: &[usize]) -> Tree {
        let mut nodes = Vec::new();
        // (node, its parent's index and whether it is the left child)
        type Pending<'a> = (&'a TreeNode<f64, bool>, Option<(usize, bool)>);
        let mut stack: Vec<Pending> = vec![(tree.root_node(), None)];
        while let Some((node, parent)) = stack.pop() {
            let index = nodes.len();
            if let Some((p, is_left)) = parent {
                let parent: &mut Node = &mut nodes[p];
                if is_left {
                    parent.left = index as u32;
                } else {
                    parent.right = index as u32;
                }
            }
            let (feature, threshold, _) = node.split();
            let children = node.children();
            let (left, right) = match (children[0], children[1]) {
                (Some(l), Some(r)) if !node.is_leaf() => (Some(l), Some(r)),
                _ => (None, None),
            };
            nodes.push(Node {
                column: columns.get(feature).copied().unwrap_or(0) as u32,
                threshold,
                left: 0,
                right: 0,
                rate: 0.0,
                rows: 0,
            });
            if let (Some(l), Some(r)) = (left, right) {
                stack.push((r, Some((index, false))));
                stack.push((l, Some((index, true))));
            }
        }
        Tree { nodes }
    }

    /// Node indices from the root to the leaf that `row` reaches.
    fn path<'a>(&'a self, row: &'a [f64]) -> impl Iterator<Item = usize> + 'a {
        let mut next = Some(0usize);
        std::iter::from_fn(move || {
            let at = next?;
            let node = &self.nodes[at];
            next = if node.is_leaf() {
                None
            } else if row[node.column as usize] < node.threshold {
                Some(node.left as usize)
            } else {
                Some(node.right as usize)
            };
            Some(at)
        })
    }

    /// Sets every node's share of positives from labelled rows (full model width).
    /// A node no row reaches inherits its parent's share.
    fn calibrate<'a>(&mut self, rows: impl Iterator<Item = (&'a [f64], bool)>) {
        let mut counts = vec![(0u64, 0u64); self.nodes.len()];
        for (row, label) in rows {
            for at in self.path(row) {
                counts[at].0 += 1;
                counts[at].1 += u64::from(label);
            }
        }
        // Parents come before their children (depth-first, pre-order).
        let mut parent_rate = vec![0.5; self.nodes.len()];
        for at in 0..self.nodes.len() {
            let (rows, positives) = counts[at];
            let rate = if rows == 0 {
                parent_rate[at]
            } else {
                positives as f64 / rows as f64
            };
            let node = &mut self.nodes[at];
            node.rows = rows;
            node.rate = rate;
            if !node.is_leaf() {
                parent_rate[node.left as usize] = rate;
                parent_rate[node.right as usize] = rate;
            }
        }
    }

    /// Probability of the positive label: the share of positives in the leaf.
    pub fn probability(&self, row: &[f64]) -> f64 {
        self.path(row)
            .last()
            .map_or(0.0, |leaf| self.nodes[leaf].rate)
    }

    /// Adds each split's step (child's share − parent's share) to its column.
    fn add_contributions(&self, row: &[f64], out: &mut [f64], weight: f64) {
        let mut previous: Option<usize> = None;
        for at in self.path(row) {
            if let Some(p) = previous {
                let parent = &self.nodes[p];
                out[parent.column as usize] += weight * (self.nodes[at].rate - parent.rate);
            }
            previous = Some(at);
        }
    }

    /// Gini impurity decrease per column, weighted by the rows at each split.
    fn add_importances(&self, out: &mut [f64]) {
        let gini = |n: &Node| 2.0 * n.rate * (1.0 - n.rate) * n.rows as f64;
        for node in self.nodes.iter().filter(|n| !n.is_leaf()) {
            let decrease = gini(node)
                - gini(&self.nodes[node.left as usize])
                - gini(&self.nodes[node.right as usize]);
            out[node.column as usize] += decrease.max(0.0);
        }
    }

    /// Deepest level (the root is level 0).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.nodes.len()];
        for at in 0..self.nodes.len() {
            let node = &self.nodes[at];
            if !node.is_leaf() {
                depth[node.left as usize] = depth[at] + 1;
                depth[node.right as usize] = depth[at] + 1;
            }
        }
        depth.into_iter().max().unwrap_or(0)
    }
}

impl Tree {
    /// Checks a tree read from a file before it scores anything: at least one node,
    /// every child index in range, every node reached exactly once from the root (no
    /// cycle, no shared or orphan node), a leaf's two child indices both 0, split
    /// columns below `width`, finite thresholds and shares of positives in [0, 1].
    /// The error names the node.
    pub fn check(&self, width: usize) -> Result<(), String> {
        let n = self.nodes.len();
        if n == 0 {
            return Err("empty tree (no nodes)".into());
        }
        let mut seen = vec![false; n];
        seen[0] = true;
        let mut stack = vec![0usize];
        while let Some(at) = stack.pop() {
            let node = &self.nodes[at];
            if !(0.0..=1.0).contains(&node.rate) {
                return Err(format!(
                    "node {at}: share of positives {} is not in [0, 1]",
                    node.rate
                ));
            }
            if node.is_leaf() {
                if node.right != 0 {
                    return Err(format!(
                        "node {at}: a leaf (left = 0) with right child {}",
                        node.right
                    ));
                }
                continue;
            }
            if node.column as usize >= width {
                return Err(format!(
                    "node {at}: split column {} out of range (the pipeline has {width} columns)",
                    node.column
                ));
            }
            if !node.threshold.is_finite() {
                return Err(format!(
                    "node {at}: threshold {} is not a finite number",
                    node.threshold
                ));
            }
            for child in [node.left, node.right] {
                let c = child as usize;
                if c >= n {
                    return Err(format!(
                        "node {at}: child {child} out of range (the tree has {n} nodes)"
                    ));
                }
                if seen[c] {
                    return Err(format!(
                        "node {at}: child {child} is reached twice (the nodes form a cycle or share a child, not a tree)"
                    ));
                }
                seen[c] = true;
                stack.push(c);
            }
        }
        match seen.iter().position(|s| !s) {
            Some(orphan) => Err(format!(
                "node {orphan} is not reachable from the root (not a tree)"
            )),
            None => Ok(()),
        }
    }
}

impl Forest {
    /// [`Tree::check`] for every tree, and at least one tree.
    pub fn check(&self, width: usize) -> Result<(), String> {
        if self.trees.is_empty() {
            return Err("no trees".into());
        }
        for (i, tree) in self.trees.iter().enumerate() {
            tree.check(width).map_err(|e| format!("tree {i}: {e}"))?;
        }
        Ok(())
    }
}

/// A forest: the mean of its trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    /// The trees.
    pub trees: Vec<Tree>,
}

impl Forest {
    /// Mean probability of the trees.
    pub fn probability(&self, row: &[f64]) -> f64 {
        let n = self.trees.len().max(1) as f64;
        self.trees.iter().map(|t| t.probability(row)).sum::<f64>() / n
    }

    /// Mean base rate (the root shares) of the trees.
    pub fn base_rate(&self) -> f64 {
        let n = self.trees.len().max(1) as f64;
        self.trees.iter().map(|t| t.nodes[0].rate).sum::<f64>() / n
    }

    /// Per-column contributions; with [`Self::base_rate`] they sum to the probability.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; row.len()];
        let weight = 1.0 / self.trees.len().max(1) as f64;
        for tree in &self.trees {
            tree.add_contributions(row, &mut out, weight);
        }
        out
    }

    /// Impurity-decrease importances per column, normalised to sum to 1.
    pub fn importances(&self, width: usize) -> Vec<f64> {
        let mut out = vec![0.0; width];
        for tree in &self.trees {
            let mut one = vec![0.0; width];
            tree.add_importances(&mut one);
            let total: f64 = one.iter().sum();
            if total > 0.0 {
                out.iter_mut().zip(one).for_each(|(o, v)| *o += v / total);
            }
        }
        let total: f64 = out.iter().sum();
        if total > 0.0 {
            out.iter_mut().for_each(|o| *o /= total);
        }
        out
    }
}

/// Tree-growing settings shared by both model types.
#[derive(Debug, Clone, Copy)]
pub struct Growth {
    /// Deepest split level.
    pub max_depth: usize,
    /// Fewest training rows in a leaf.
    pub min_leaf_rows: usize,
    /// Trees in a forest.
    pub trees: usize,
    /// Share of the model columns each forest tree sees.
    pub feature_fraction: f64,
    /// Seed of the forest's bootstrap samples and column subsets.
    pub seed: u64,
}

fn matrix(x: &[f64], width: usize, rows: usize) -> Result<Array2<f64>, TrainError> {
    Array2::from_shape_vec((rows, width), x.to_vec())
        .map_err(|e| TrainError(format!("feature matrix: {e}")))
}

/// Row weights giving both classes the same total weight.
///
/// linfa-trees prunes, after growing, every subtree whose leaves all predict the same
/// label; with converted leads in the minority nearly every leaf predicts "not
/// converted" and the tree would collapse to a stump. Balanced weights make a leaf
/// predict "converted" when its rate is above the base rate, so pruning only merges
/// siblings on the same side of it. The stored leaf shares are unweighted.
fn balanced_weights(y: &[bool]) -> Array1<f32> {
    let positives = y.iter().filter(|l| **l).count().max(1) as f64;
    let negatives = (y.len() as f64 - positives).max(1.0);
    let n = y.len() as f64;
    y.iter()
        .map(|&l| {
            (if l {
                n / (2.0 * positives)
            } else {
                n / (2.0 * negatives)
            }) as f32
        })
        .collect()
}

fn tree_params(growth: &Growth) -> linfa_trees::DecisionTreeParams<f64, bool> {
    DecisionTree::params()
        .max_depth(Some(growth.max_depth))
        .min_weight_leaf(growth.min_leaf_rows as f32)
        .min_weight_split(2.0 * growth.min_leaf_rows as f32)
}

/// Runs a linfa fit, turning a panic inside linfa into an error (linfa-trees indexes
/// and unwraps internally; user data must not abort the process).
fn guarded<T>(what: &str, fit: impl FnOnce() -> Result<T, TrainError>) -> Result<T, TrainError> {
    match catch_unwind(AssertUnwindSafe(fit)) {
        Ok(result) => result,
        Err(_) => Err(TrainError(format!(
            "{what} failed inside linfa (it panicked); try other max_depth / min_leaf_rows"
        ))),
    }
}

/// Fits one decision tree on `x` (row-major, `width` columns) and labels `y`.
pub fn fit_tree(x: &[f64], width: usize, y: &[bool], growth: &Growth) -> Result<Tree, TrainError> {
    let records = matrix(x, width, y.len())?;
    let dataset = Dataset::new(records, Array1::from(y.to_vec())).with_weights(balanced_weights(y));
    let fitted = guarded("decision tree", || {
        tree_params(growth)
            .fit(&dataset)
            .map_err(|e| TrainError(format!("decision tree did not fit: {e}")))
    })?;
    let columns: Vec<usize> = (0..width).collect();
    let mut tree = Tree::from_linfa(&fitted, &columns);
    tree.calibrate(x.chunks_exact(width).zip(y.iter().copied()));
    Ok(tree)
}

/// Fits a random forest: each tree is a linfa-trees tree grown on a bootstrap sample
/// of the rows and a random subset of the columns, calibrated on its own sample.
///
/// The bagging is done here rather than with linfa-ensemble 0.8.1, which draws the
/// column subsets *with* replacement (a tree asked for half the columns sees about 40%
/// of them, some twice), discards the in-bag row indices that calibration needs, and
/// unwraps errors of the trees it fits. Samples are drawn in order from one seeded
/// generator, so the forest is the same whatever the number of threads fitting it.
pub fn fit_forest(
    x: &[f64],
    width: usize,
    y: &[bool],
    growth: &Growth,
) -> Result<Forest, TrainError> {
    if growth.trees == 0 {
        return Err(TrainError("num_trees must be at least 1".into()));
    }
    if !(growth.feature_fraction > 0.0 && growth.feature_fraction <= 1.0) {
        return Err(TrainError(format!(
            "feature_fraction must be in (0, 1], got {}",
            growth.feature_fraction
        )));
    }
    tree_params(growth)
        .check_ref()
        .map_err(|e| TrainError(format!("tree settings: {e}")))?;
    let n = y.len();
    let k = ((width as f64 * growth.feature_fraction).ceil() as usize).clamp(1, width);
    let mut rng = ChaCha8Rng::seed_from_u64(growth.seed);
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(growth.trees);
    // Samples are drawn one batch of trees at a time (one tree per thread), so memory
    // holds `threads` bootstrap samples, not `num_trees` of them; the generator's
    // sequence, and so the forest, is the same as drawing them all up front.
    let mut trees = Vec::with_capacity(growth.trees.min(1 << 16));
    while trees.len() < growth.trees {
        let batch = threads.min(growth.trees - trees.len());
        let samples: Vec<(Vec<usize>, Vec<usize>)> = (0..batch)
            .map(|_| {
                let rows: Vec<usize> = (0..n).map(|_| rng.gen_range(0..n)).collect();
                let mut columns = rand::seq::index::sample(&mut rng, width, k).into_vec();
                columns.sort_unstable();
                (rows, columns)
            })
            .collect();
        let fitted: Vec<Result<Tree, TrainError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = samples
                .iter()
                .map(|(rows, columns)| {
                    scope.spawn(move || bagged_tree(x, width, y, rows, columns, growth))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(TrainError(
                            "random forest: a fitting thread panicked".into(),
                        ))
                    })
                })
                .collect()
        });
        for tree in fitted {
            trees.push(tree?);
        }
    }
    Ok(Forest { trees })
}

/// One forest tree on the rows `rows` (with repeats) and the columns `columns`.
fn bagged_tree(
    x: &[f64],
    width: usize,
    y: &[bool],
    rows: &[usize],
    columns: &[usize],
    growth: &Growth,
) -> Result<Tree, TrainError> {
    let mut sub = Vec::with_capacity(rows.len() * columns.len());
    for &r in rows {
        let row = &x[r * width..(r + 1) * width];
        sub.extend(columns.iter().map(|&c| row[c]));
    }
    let labels: Vec<bool> = rows.iter().map(|&r| y[r]).collect();
    let records = matrix(&sub, columns.len(), rows.len())?;
    let weights = balanced_weights(&labels);
    let dataset = Dataset::new(records, Array1::from(labels)).with_weights(weights);
    let fitted = guarded("random forest tree", || {
        tree_params(growth)
            .fit(&dataset)
            .map_err(|e| TrainError(format!("random forest tree did not fit: {e}")))
    })?;
    let mut tree = Tree::from_linfa(&fitted, columns);
    tree.calibrate(rows.iter().map(|&r| (&x[r * width..(r + 1) * width], y[r])));
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two columns; positive when the first is above 0.5 (the second is noise).
    fn data(n: usize) -> (Vec<f64>, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let a: f64 = rng.r#gen();
            let b: f64 = rng.r#gen();
            x.extend([a, b]);
            // 10% label noise on each side.
            y.push((a > 0.5) != rng.gen_bool(0.1));
        }
        (x, y)
    }

    fn growth() -> Growth {
        Growth {
            max_depth: 3,
            min_leaf_rows: 5,
            trees: 10,
            feature_fraction: 1.0,
            seed: 1,
        }
    }

    #[test]
    fn a_tree_gives_leaf_frequencies_not_hard_labels() {
        let (x, y) = data(1000);
        let tree = fit_tree(&x, 2, &y, &growth()).expect("fits");
        let high = tree.probability(&[0.9, 0.3]);
        let low = tree.probability(&[0.1, 0.3]);
        // 10% label noise: leaves hold about 0.9 and 0.1, not 1 and 0.
        assert!((high - 0.9).abs() < 0.05, "{high}");
        assert!((low - 0.1).abs() < 0.05, "{low}");
        assert_eq!(tree.nodes[0].rows, 1000);
        let share = y.iter().filter(|l| **l).count() as f64 / 1000.0;
        assert_eq!(tree.nodes[0].rate, share);
        assert!(tree.depth() <= 3);
    }

    #[test]
    fn contributions_add_up_to_probability_minus_base_rate() {
        let (x, y) = data(1000);
        let forest = fit_forest(&x, 2, &y, &growth()).expect("fits");
        for row in [[0.9, 0.3], [0.2, 0.8], [0.55, 0.05]] {
            let c = forest.contributions(&row);
            let sum: f64 = c.iter().sum::<f64>() + forest.base_rate();
            assert!((sum - forest.probability(&row)).abs() < 1e-12);
        }
        // The informative column carries nearly all the importance.
        let imp = forest.importances(2);
        assert!(imp[0] > 0.8, "{imp:?}");
        assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn forests_are_reproducible_with_the_seed() {
        let (x, y) = data(500);
        let g = Growth {
            feature_fraction: 0.5,
            ..growth()
        };
        let a = fit_forest(&x, 2, &y, &g).expect("fits");
        let b = fit_forest(&x, 2, &y, &g).expect("fits");
        assert_eq!(a, b);
        let c = fit_forest(&x, 2, &y, &Growth { seed: 2, ..g }).expect("fits");
        assert_ne!(a, c);
    }

    #[test]
    fn bad_settings_are_errors_not_panics() {
        let (x, y) = data(100);
        let zero = Growth {
            trees: 0,
            ..growth()
        };
        assert!(fit_forest(&x, 2, &y, &zero).is_err());
        let fraction = Growth {
            feature_fraction: 1.5,
            ..growth()
        };
        assert!(fit_forest(&x, 2, &y, &fraction).is_err());
    }
}
