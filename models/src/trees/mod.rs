//! Decision trees and random forests as probability models, grown on histograms.
//!
//! The trees were linfa-trees trees until its cost showed: linfa-trees scans every row
//! at every node (50 trees on the 33k rows of Bank Marketing took 33 s), predicts hard
//! labels only, and prunes, after growing, every subtree whose leaves predict the same
//! label. They are now grown here, on binned columns ([`crate::bins`]): each column is
//! cut once into at most 255 bins, a node sums its rows into one histogram per column
//! (class counts per bin) and its best split is a scan over the bins; only the smaller
//! child's histogram is summed from rows, the larger one's is the parent's minus it
//! ([`grow`] has the details, shared with the boosted trees of [`crate::boost`]).
//! Columns with at most 255 distinct values (one-hot columns, counts, flags) are split
//! exactly as a search over their sorted values would; others at quantiles.
//!
//! The criterion is Gini impurity with class weights balancing the two classes (what
//! scikit-learn's `class_weight='balanced'` does), as with linfa-trees. There they
//! were needed because of its pruning: with converted leads a small minority nearly
//! every leaf predicted "not converted" and pruning collapsed trees to stumps. Without
//! pruning they are kept so that a split is valued by how well it separates the
//! converted minority, not by the purity it adds to the majority, and models keep the
//! splits they had. The weights only steer the splits: every node keeps the
//! *unweighted* share of positive rows that reach it, so a tree's probability is its
//! leaf's share of positives (calibrated leaf frequencies, not hard labels) and a
//! forest's the mean over its trees (as scikit-learn does). The same node shares give
//! exact per-feature explanations: walking from the root to the leaf, each split moves
//! the probability from the parent's share to the child's, and that step is credited to
//! the split's column; the steps add up to the leaf's share minus the root's (the base
//! rate). Trees are not pruned after growing.
//!
//! A random forest grows each tree on a bootstrap sample (row multiplicities used as
//! weights; a node's `rows` and share count in-bag rows with their multiplicity) and
//! draws `feature_fraction` of the columns afresh at every split (scikit-learn's
//! `max_features`). Until the histogram trees, each forest tree drew one column subset
//! for the whole tree. Trees are fitted in parallel over the shared binned matrix; each
//! tree's random numbers come from the seed and the tree's index, so a forest depends
//! on the seed only, not on the number of threads.
//!
//! The fitted types are linfa-compatible: [`TreeParams`] and [`ForestParams`] implement
//! linfa's `Fit` on a `Dataset` of `Array2<f64>` records and boolean targets, and
//! [`Tree`] and [`Forest`] implement `PredictInplace` (probabilities of `true`).

pub(crate) mod grow;

use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use ndarray::{Array1, ArrayBase, Data, Ix2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::bins::Binned;
use crate::train_error::TrainError;
use grow::{Criterion, Layout, Shape, Stat};

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
        check_nodes(&self.nodes, width, |at, node| {
            if (0.0..=1.0).contains(&node.rate) {
                Ok(())
            } else {
                Err(format!(
                    "node {at}: share of positives {} is not in [0, 1]",
                    node.rate
                ))
            }
        })
    }
}

/// The links of a stored tree's node, for [`check_nodes`].
pub(crate) trait Linked {
    /// Left child (0 for a leaf).
    fn left(&self) -> u32;
    /// Right child (0 for a leaf).
    fn right(&self) -> u32;
    /// Split column.
    fn column(&self) -> u32;
    /// Split threshold.
    fn threshold(&self) -> f64;
}

impl Linked for Node {
    fn left(&self) -> u32 {
        self.left
    }
    fn right(&self) -> u32 {
        self.right
    }
    fn column(&self) -> u32 {
        self.column
    }
    fn threshold(&self) -> f64 {
        self.threshold
    }
}

/// The structural checks of [`Tree::check`] for any stored tree, with `node_check`
/// run first on every node reached (the error names the node).
pub(crate) fn check_nodes<N: Linked>(
    nodes: &[N],
    width: usize,
    node_check: impl Fn(usize, &N) -> Result<(), String>,
) -> Result<(), String> {
    let n = nodes.len();
    if n == 0 {
        return Err("empty tree (no nodes)".into());
    }
    let mut seen = vec![false; n];
    seen[0] = true;
    let mut stack = vec![0usize];
    while let Some(at) = stack.pop() {
        let node = &nodes[at];
        node_check(at, node)?;
        if node.left() == 0 {
            if node.right() != 0 {
                return Err(format!(
                    "node {at}: a leaf (left = 0) with right child {}",
                    node.right()
                ));
            }
            continue;
        }
        if node.column() as usize >= width {
            return Err(format!(
                "node {at}: split column {} out of range (the pipeline has {width} columns)",
                node.column()
            ));
        }
        if !node.threshold().is_finite() {
            return Err(format!(
                "node {at}: threshold {} is not a finite number",
                node.threshold()
            ));
        }
        for child in [node.left(), node.right()] {
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
    /// Share of the model columns a forest draws at each split (rounded up; until
    /// the histogram trees, each forest tree drew its share once for the whole tree).
    pub feature_fraction: f64,
    /// Seed of the forest's bootstrap samples and column subsets.
    pub seed: u64,
}

/// Class counts of rows (with bootstrap multiplicity): the statistic of Gini trees.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Counts {
    /// Positive rows.
    pub positives: u32,
    /// Negative rows.
    pub negatives: u32,
}

impl Counts {
    /// One row of class `label`.
    pub(crate) fn of(label: bool) -> Counts {
        Counts {
            positives: u32::from(label),
            negatives: u32::from(!label),
        }
    }
}

impl Stat for Counts {
    /// A row's class, weighed by its bootstrap multiplicity.
    type Row = Counts;

    fn add_row(&mut self, row: &Counts) {
        self.add(row);
    }

    fn add(&mut self, other: &Self) {
        self.positives += other.positives;
        self.negatives += other.negatives;
    }

    fn sub(&mut self, other: &Self) {
        self.positives -= other.positives;
        self.negatives -= other.negatives;
    }

    fn rows(&self) -> u64 {
        u64::from(self.positives) + u64::from(self.negatives)
    }
}

/// Gini impurity with class weights, and the fewest rows of a leaf.
pub(crate) struct Gini {
    /// Weight of a positive row.
    pub positive: f64,
    /// Weight of a negative row.
    pub negative: f64,
    /// Fewest rows in a leaf (at least 1).
    pub min_leaf_rows: u64,
}

impl Gini {
    /// Weights giving both classes the same total weight over `total` (scikit-learn's
    /// `class_weight='balanced'`: `rows / (2 × rows of the class)`).
    pub fn balanced(total: &Counts, min_leaf_rows: usize) -> Gini {
        let rows = total.rows() as f64;
        Gini {
            positive: rows / (2.0 * f64::from(total.positives.max(1))),
            negative: rows / (2.0 * f64::from(total.negatives.max(1))),
            min_leaf_rows: (min_leaf_rows as u64).max(1),
        }
    }
}

impl Criterion<Counts> for Gini {
    /// Minus the node's weighted Gini impurity times its weight: `−2·wp·wn / (wp + wn)`.
    fn score(&self, node: &Counts) -> f64 {
        let p = self.positive * f64::from(node.positives);
        let n = self.negative * f64::from(node.negatives);
        if p + n > 0.0 {
            -2.0 * p * n / (p + n)
        } else {
            0.0
        }
    }

    fn admissible(&self, child: &Counts) -> bool {
        child.rows() >= self.min_leaf_rows
    }

    fn splittable(&self, node: &Counts) -> bool {
        node.rows() >= 2 * self.min_leaf_rows && node.positives > 0 && node.negatives > 0
    }

    fn min_gain(&self, node: &Counts) -> f64 {
        // Rounding noise of a split that separates nothing.
        1e-12
            * (self.positive * f64::from(node.positives)
                + self.negative * f64::from(node.negatives))
    }
}

/// Checks the matrix and labels shared by every fit; returns the rows.
pub(crate) fn check_data(x: &[f64], width: usize, y: &[bool]) -> Result<usize, TrainError> {
    let rows = y.len();
    if rows == 0 {
        return Err(TrainError::NoRows("training rows"));
    }
    if width == 0 {
        return Err(TrainError::NoFeatureColumns { in_query: false });
    }
    if rows > u32::MAX as usize {
        return Err(TrainError::TooManyRows {
            rows,
            limit: u32::MAX,
        });
    }
    if rows.checked_mul(width) != Some(x.len()) {
        return Err(TrainError::MatrixShape {
            values: x.len(),
            rows,
            width,
        });
    }
    Ok(rows)
}

fn check_depth(growth: &Growth) -> Result<(), TrainError> {
    if growth.max_depth == 0 {
        return Err(TrainError::invalid_option(
            "max_depth",
            "must be at least 1",
        ));
    }
    Ok(())
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

/// A tree in the stored form from a grown Gini tree.
fn stored(grown: &[grow::Grown<Counts>]) -> Tree {
    Tree {
        nodes: grown
            .iter()
            .map(|g| Node {
                column: g.column,
                threshold: g.threshold,
                left: g.left,
                right: g.right,
                rate: f64::from(g.stats.positives) / (g.stats.rows().max(1) as f64),
                rows: g.stats.rows(),
            })
            .collect(),
    }
}

/// Fits one decision tree on `x` and labels `y`.
///
/// `x` is COLUMN-MAJOR: `y.len()` rows and `width` columns, the value of row `r` in
/// column `c` at `x[c * y.len() + r]`. Every row is used once and every column is a
/// split candidate at every node (`trees`, `feature_fraction` and `seed` of `growth`
/// are not used).
pub fn fit_tree(x: &[f64], width: usize, y: &[bool], growth: &Growth) -> Result<Tree, TrainError> {
    let rows = check_data(x, width, y)?;
    check_depth(growth)?;
    let binned = Binned::new(x, rows, width)?;
    let layout = Layout::new(&binned);
    let stats: Vec<Counts> = y.iter().map(|&l| Counts::of(l)).collect();
    let mut total = Counts::default();
    stats.iter().for_each(|s| total.add(s));
    let gini = Gini::balanced(&total, growth.min_leaf_rows);
    let shape = Shape {
        max_depth: growth.max_depth,
        columns_per_split: width,
        threads: threads(),
    };
    // No column sampling: the generator is never drawn from.
    let mut rng = ChaCha8Rng::seed_from_u64(growth.seed);
    let mut work = grow::Workspace::default();
    work.order.extend(0..rows as u32);
    let grown = grow::grow(&layout, &stats, &mut work, &gini, &shape, &mut rng);
    Ok(stored(&grown))
}

/// Fits a random forest on `x` and labels `y`: `growth.trees` trees, each on a
/// bootstrap sample of the rows, drawing `growth.feature_fraction` of the columns
/// (rounded up, at least one) afresh at every split.
///
/// `x` is COLUMN-MAJOR: `y.len()` rows and `width` columns, the value of row `r` in
/// column `c` at `x[c * y.len() + r]`.
///
/// The bootstrap sample is kept as a multiplicity per row (how often it was drawn),
/// which weighs the row's class counts; node `rows` and shares count in-bag rows with
/// their multiplicity, and `min_leaf_rows` counts them the same way. Tree `i` draws
/// its sample and column subsets from a ChaCha8 generator seeded with `growth.seed`
/// on stream `i`, so the forest is the same whatever the number of threads fitting it.
///
/// Before the histogram trees the column subset was drawn once per tree.
pub fn fit_forest(
    x: &[f64],
    width: usize,
    y: &[bool],
    growth: &Growth,
) -> Result<Forest, TrainError> {
    fit_forest_on(x, width, y, growth, threads())
}

/// [`fit_forest`] on `threads` threads.
pub(crate) fn fit_forest_on(
    x: &[f64],
    width: usize,
    y: &[bool],
    growth: &Growth,
    threads: usize,
) -> Result<Forest, TrainError> {
    if growth.trees == 0 {
        return Err(TrainError::invalid_option(
            "num_trees",
            "must be at least 1",
        ));
    }
    if !(growth.feature_fraction > 0.0 && growth.feature_fraction <= 1.0) {
        return Err(TrainError::invalid_option(
            "feature_fraction",
            format!("must be in (0, 1], got {}", growth.feature_fraction),
        ));
    }
    let rows = check_data(x, width, y)?;
    check_depth(growth)?;
    let binned = Binned::new(x, rows, width)?;
    let layout = Layout::new(&binned);
    let shape = Shape {
        max_depth: growth.max_depth,
        columns_per_split: ((width as f64 * growth.feature_fraction).ceil() as usize)
            .clamp(1, width),
        // Trees, not histograms, are spread over the threads.
        threads: 1,
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = threads.clamp(1, growth.trees);
    let (layout, shape, next) = (&layout, &shape, &next);
    let fitted: Vec<Vec<(usize, Tree)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    let mut work = grow::Workspace::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= growth.trees {
                            return done;
                        }
                        done.push((i, bagged_tree(layout, y, growth, shape, i, &mut work)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut trees: Vec<Option<Tree>> = vec![None; growth.trees];
    for (i, tree) in fitted.into_iter().flatten() {
        trees[i] = Some(tree);
    }
    let trees: Option<Vec<Tree>> = trees.into_iter().collect();
    match trees {
        Some(trees) => Ok(Forest { trees }),
        None => Err(TrainError::Fit(
            "random forest: a fitting thread panicked".into(),
        )),
    }
}

/// Forest tree `index`: its bootstrap sample and its column subsets come from the
/// seed's stream `index`.
fn bagged_tree(
    layout: &Layout,
    y: &[bool],
    growth: &Growth,
    shape: &Shape,
    index: usize,
    work: &mut grow::Workspace<Counts>,
) -> Tree {
    let n = y.len();
    let mut rng = ChaCha8Rng::seed_from_u64(growth.seed);
    rng.set_stream(index as u64);
    let mut drawn = vec![0u32; n];
    for _ in 0..n {
        drawn[rng.gen_range(0..n)] += 1;
    }
    let stats: Vec<Counts> = drawn
        .iter()
        .zip(y)
        .map(|(&m, &l)| {
            if l {
                Counts {
                    positives: m,
                    negatives: 0,
                }
            } else {
                Counts {
                    positives: 0,
                    negatives: m,
                }
            }
        })
        .collect();
    work.order.clear();
    work.order
        .extend((0..n as u32).filter(|&r| drawn[r as usize] > 0));
    let mut total = Counts::default();
    stats.iter().for_each(|s| total.add(s));
    let gini = Gini::balanced(&total, growth.min_leaf_rows);
    stored(&grow::grow(layout, &stats, work, &gini, shape, &mut rng))
}

/// linfa parameters of one decision tree ([`fit_tree`]).
#[derive(Debug, Clone, Copy)]
pub struct TreeParams(pub Growth);

/// linfa parameters of a random forest ([`fit_forest`]).
#[derive(Debug, Clone, Copy)]
pub struct ForestParams(pub Growth);

/// A linfa record matrix as a column-major vector.
pub(crate) fn column_major<D: Data<Elem = f64>>(records: &ArrayBase<D, Ix2>) -> Vec<f64> {
    records.t().iter().copied().collect()
}

/// Calls `f` with each row of a linfa record matrix as a slice.
pub(crate) fn for_each_row<D: Data<Elem = f64>>(
    records: &ArrayBase<D, Ix2>,
    out: &mut Array1<f64>,
    f: impl Fn(&[f64]) -> f64,
) {
    let mut buffer = Vec::new();
    for (row, o) in records.rows().into_iter().zip(out.iter_mut()) {
        *o = match row.as_slice() {
            Some(slice) => f(slice),
            None => {
                buffer.clear();
                buffer.extend(row.iter().copied());
                f(&buffer)
            }
        };
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<bool>, TrainError> for TreeParams {
    type Object = Tree;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<bool>>,
    ) -> Result<Tree, TrainError> {
        let records = dataset.records();
        let labels: Vec<bool> = dataset.targets().iter().copied().collect();
        fit_tree(&column_major(records), records.ncols(), &labels, &self.0)
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<bool>, TrainError> for ForestParams {
    type Object = Forest;

    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<bool>>,
    ) -> Result<Forest, TrainError> {
        let records = dataset.records();
        let labels: Vec<bool> = dataset.targets().iter().copied().collect();
        fit_forest(&column_major(records), records.ncols(), &labels, &self.0)
    }
}

/// Probabilities of `true`. Rows must have at least the model's columns.
impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Tree {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        for_each_row(x, y, |row| self.probability(row));
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

/// Probabilities of `true`. Rows must have at least the model's columns.
impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for Forest {
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        for_each_row(x, y, |row| self.probability(row));
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two columns, column-major; positive when the first is above 0.5 (the second is
    /// noise).
    fn data(n: usize) -> (Vec<f64>, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut y = Vec::new();
        for _ in 0..n {
            a.push(rng.r#gen::<f64>());
            b.push(rng.r#gen::<f64>());
            // 10% label noise on each side.
            y.push((a[a.len() - 1] > 0.5) != rng.gen_bool(0.1));
        }
        a.extend(b);
        (a, y)
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
        let fraction = Growth {
            feature_fraction: 0.0,
            ..growth()
        };
        assert!(fit_forest(&x, 2, &y, &fraction).is_err());
        let depth = Growth {
            max_depth: 0,
            ..growth()
        };
        assert!(fit_forest(&x, 2, &y, &depth).is_err());
        assert!(fit_tree(&x, 2, &y, &depth).is_err());
        assert!(fit_tree(&[], 2, &[], &growth()).is_err());
        assert!(fit_forest(&[], 0, &y, &growth()).is_err());
        assert!(fit_tree(&x, 3, &y, &growth()).is_err(), "short matrix");
        let mut nan = x.clone();
        nan[5] = f64::NAN;
        assert!(fit_forest(&nan, 2, &y, &growth()).is_err());
    }

    #[test]
    fn forests_do_not_depend_on_the_number_of_threads() {
        let (x, y) = data(3000);
        let g = Growth {
            feature_fraction: 0.5,
            max_depth: 6,
            trees: 7,
            ..growth()
        };
        let one = fit_forest_on(&x, 2, &y, &g, 1).expect("fits");
        let two = fit_forest_on(&x, 2, &y, &g, 2).expect("fits");
        let three = fit_forest_on(&x, 2, &y, &g, 3).expect("fits");
        assert_eq!(one, two);
        assert_eq!(one, three);
        assert_eq!(one.check(2), Ok(()));
    }

    #[test]
    fn nodes_hold_in_bag_rows_and_leaves_respect_the_settings() {
        let (x, y) = data(2000);
        let g = Growth {
            max_depth: 8,
            min_leaf_rows: 30,
            trees: 4,
            feature_fraction: 0.5,
            seed: 9,
        };
        let forest = fit_forest(&x, 2, &y, &g).expect("fits");
        for tree in &forest.trees {
            // A bootstrap sample has as many draws as rows.
            assert_eq!(tree.nodes[0].rows, 2000);
            assert!(tree.depth() <= 8);
            for node in &tree.nodes {
                assert!(node.rows >= 30, "{node:?}");
                if !node.is_leaf() {
                    let (l, r) = (
                        &tree.nodes[node.left as usize],
                        &tree.nodes[node.right as usize],
                    );
                    assert_eq!(l.rows + r.rows, node.rows);
                    let positives = |n: &Node| (n.rate * n.rows as f64).round();
                    assert_eq!(positives(l) + positives(r), positives(node));
                }
            }
        }
        // Routing the training rows through a single tree reproduces its node counts.
        let tree = fit_tree(&x, 2, &y, &g).expect("fits");
        let mut counts = vec![(0u64, 0u64); tree.nodes.len()];
        for r in 0..2000 {
            for at in tree.path(&[x[r], x[2000 + r]]) {
                counts[at].0 += 1;
                counts[at].1 += u64::from(y[r]);
            }
        }
        for (node, (rows, positives)) in tree.nodes.iter().zip(counts) {
            assert_eq!(node.rows, rows);
            assert_eq!(node.rate, positives as f64 / rows as f64);
        }
    }

    #[test]
    fn models_written_before_load_and_score_the_same() {
        // A tree in the stored format (as linfa-trees models were written).
        let text = r#"{"trees":[{"nodes":[
            {"column":0,"threshold":0.5,"left":1,"right":2,"rate":0.3,"rows":10},
            {"column":0,"threshold":0.0,"left":0,"right":0,"rate":0.1,"rows":6},
            {"column":1,"threshold":2.0,"left":0,"right":0,"rate":0.6,"rows":4}]}]}"#;
        let forest: Forest = serde_json::from_str(text).expect("loads");
        assert_eq!(forest.check(2), Ok(()));
        assert_eq!(forest.probability(&[0.2, 9.0]), 0.1);
        assert_eq!(forest.probability(&[0.5, 9.0]), 0.6);
        assert_eq!(forest.base_rate(), 0.3);
    }

    #[test]
    fn linfa_fit_and_predict() {
        use linfa::Dataset;
        use linfa::traits::Predict;
        use ndarray::Array2;
        let (x, y) = data(500);
        let records = Array2::from_shape_fn((500, 2), |(r, c)| x[c * 500 + r]);
        let dataset = Dataset::new(records.clone(), Array1::from(y.clone()));
        let tree = TreeParams(growth()).fit(&dataset).expect("fits");
        assert_eq!(tree, fit_tree(&x, 2, &y, &growth()).expect("fits"));
        let forest = ForestParams(growth()).fit(&dataset).expect("fits");
        assert_eq!(forest, fit_forest(&x, 2, &y, &growth()).expect("fits"));
        let p: Array1<f64> = forest.predict(&records);
        assert_eq!(p[3], forest.probability(&[x[3], x[503]]));
        let p: Array1<f64> = tree.predict(&records.t().to_owned().t());
        assert_eq!(p[3], tree.probability(&[x[3], x[503]]));
    }
}
