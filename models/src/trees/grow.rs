//! The histogram tree grower shared by the Gini trees ([`super`]) and the boosted
//! trees ([`crate::boost`]).
//!
//! A tree is grown depth first over a list of row indices, each node owning a range of
//! it; a split partitions its node's range stably (without branches) and the rows'
//! weights move along with them, so histograms read the weights in sequence. What is
//! summed per row and how a split is scored are parameters: a [`Stat`] is
//! the per-row (and per-bin) statistic — class counts for Gini trees, gradient and
//! hessian sums for boosting — and a [`Criterion`] scores nodes (a split's gain is
//! `score(left) + score(right) − score(parent)`) and says which children are allowed.
//!
//! A node's histogram holds, for every bin of every column, the statistic summed over
//! the node's rows in that bin; the best split of a column is one left-to-right scan of
//! its bins. Only the smaller child's histogram is summed from its rows: the larger
//! child's is the parent's minus the smaller's (the subtraction trick), so each level
//! of a tree reads at most half of the rows.
//!
//! The rows are read through a [`Layout`] built once per fit: one fixed-size record
//! of bytes per row, so a row costs one read wherever it lies. Columns where one bin
//! holds at least half of the rows (one-hot columns, mostly 0) are *sparse*: their
//! most frequent bin is never summed but derived as the node's total minus the
//! column's other bins, and sparse columns that are never off their common bin on the
//! same row (the levels of one one-hot feature) share one byte of the record (a
//! bundle). The other columns take a byte each. A one-hot lead table then costs one
//! histogram update per *feature* and row instead of one per one-hot column and row.
//!
//! Threads: large nodes are summed in a fixed number of blocks of rows (depending only
//! on the node's size), on several threads when asked, and the blocks are added in
//! order; and a tree that draws no random columns grows the two subtrees of a large
//! node whose split is not lopsided on threads of their own (numbering the nodes in
//! pre-order afterwards). Floating-point sums, so the grown tree, do not depend on the
//! number of threads. Forests instead grow whole trees in parallel, one thread each.

use rand_chacha::ChaCha8Rng;

use crate::bins::Binned;

/// A statistic summed over rows: per histogram bin and per node.
pub(crate) trait Stat: Copy + Default + Send + Sync {
    /// What one row contributes (kept small: rows' weights are copied at every split).
    type Row: Copy + Default + Send + Sync;
    /// Adds one row.
    fn add_row(&mut self, row: &Self::Row);
    /// Adds `other`.
    fn add(&mut self, other: &Self);
    /// Subtracts `other` (a part of `self`).
    fn sub(&mut self, other: &Self);
    /// Rows summed (with bootstrap multiplicity).
    fn rows(&self) -> u64;
}

/// How nodes are scored and which splits are allowed.
pub(crate) trait Criterion<S>: Sync {
    /// The node's score; a split gains `score(left) + score(right) − score(node)`.
    fn score(&self, node: &S) -> f64;
    /// Whether a child with these statistics is allowed (fewest rows, hessian…).
    fn admissible(&self, child: &S) -> bool;
    /// Whether a node is worth a split search at all (enough rows for two children,
    /// not pure…).
    fn splittable(&self, node: &S) -> bool;
    /// A split must gain strictly more than this.
    fn min_gain(&self, node: &S) -> f64;
}

/// Rows per block of a histogram sum; nodes of fewer rows are summed in one block.
const BLOCK_ROWS: usize = 8_192;
/// Most blocks of one histogram sum.
const MAX_BLOCKS: usize = 8;

/// The binned matrix arranged for histogram sums (see the module comment).
pub(crate) struct Layout<'a> {
    /// The binned matrix (column-major codes, thresholds).
    pub binned: &'a Binned,
    /// Column `c`'s bins are `offsets[c]..offsets[c + 1]` of a histogram.
    offsets: Vec<usize>,
    /// Bytes of a row's record: one per dense column, then one per bundle.
    record: usize,
    /// The rows' records, row-major: row `r`'s is `records[r * record..(r + 1) * record]`.
    records: Vec<u8>,
    /// Histogram offsets of the dense columns (a dense column's byte is its code).
    dense_offsets: Vec<usize>,
    /// For each bundle, 256 entries: the histogram bin of each code of the bundle's
    /// byte, [`NO_BIN`] for code 0 (every column of the bundle in its common bin).
    bundle_bins: Vec<u32>,
    /// Sparse columns (the columns of bundles) and the histogram index of their most
    /// frequent bin.
    sparse: Vec<(usize, usize)>,
}

/// A bundle byte that adds to no bin.
const NO_BIN: u32 = u32::MAX;

/// Sparse columns whose uncommon rows never overlap, sharing one byte of the record.
struct Bundle {
    /// The histogram bins of codes `1..`.
    bins: Vec<u32>,
    /// Rows where some column of the bundle is off its common bin.
    taken: Vec<u64>,
}

/// Most bundles a column tries to join before it starts one of its own.
const BUNDLE_TRIES: usize = 64;

impl<'a> Layout<'a> {
    /// Arranges `binned`.
    ///
    /// A column whose most frequent bin holds at least half of the rows is *sparse*.
    /// Sparse columns are packed greedily, in column order, into bundles of columns
    /// that are never off their most frequent bin on the same row (the levels of a
    /// one-hot feature): a bundle is one byte per row, 0 where all its columns are in
    /// their common bin, else the code of the one column that is not. Histogram sums
    /// skip the zeros and derive each sparse column's common bin from the node total.
    /// Bundles are exact (no row of one overlaps), as LightGBM's exclusive feature
    /// bundling is when it allows no conflicts.
    pub fn new(binned: &'a Binned) -> Layout<'a> {
        let rows = binned.rows();
        let width = binned.width();
        let mut offsets = Vec::with_capacity(width + 1);
        offsets.push(0usize);
        for c in 0..width {
            offsets.push(offsets[c] + binned.bins(c));
        }
        let mut dense_columns = Vec::new();
        let mut sparse = Vec::new();
        for c in 0..width {
            let mut counts = [0usize; 256];
            for &code in binned.column(c) {
                counts[code as usize] += 1;
            }
            // The most frequent code (the lowest of equals).
            let (mode, &most) = counts
                .iter()
                .enumerate()
                .rev()
                .max_by_key(|(_, n)| **n)
                .unwrap_or((0, &0));
            if 2 * most >= rows {
                sparse.push((c, mode as u8));
            } else {
                dense_columns.push(c);
            }
        }
        // Bundles, and each sparse column's bundle and first code in it.
        let words = rows.div_ceil(64);
        let mut bundles: Vec<Bundle> = Vec::new();
        let mut placed: Vec<(usize, u8)> = Vec::with_capacity(sparse.len());
        for &(c, mode) in &sparse {
            let column = binned.column(c);
            let uncommon = binned.bins(c) - 1;
            let fits = |b: &Bundle| {
                b.bins.len() + 1 + uncommon <= 256
                    && column
                        .iter()
                        .enumerate()
                        .all(|(r, &code)| code == mode || b.taken[r / 64] & (1 << (r % 64)) == 0)
            };
            let first = bundles.len().saturating_sub(BUNDLE_TRIES);
            let at = match (first..bundles.len()).find(|&b| fits(&bundles[b])) {
                Some(b) => b,
                None => {
                    bundles.push(Bundle {
                        bins: Vec::new(),
                        taken: vec![0u64; words],
                    });
                    bundles.len() - 1
                }
            };
            let bundle = &mut bundles[at];
            placed.push((at, (bundle.bins.len() + 1) as u8));
            for code in (0..binned.bins(c)).filter(|&k| k != mode as usize) {
                bundle.bins.push((offsets[c] + code) as u32);
            }
            for (r, &code) in column.iter().enumerate() {
                if code != mode {
                    bundle.taken[r / 64] |= 1 << (r % 64);
                }
            }
        }
        let nd = dense_columns.len();
        let record = nd + bundles.len();
        let mut records = vec![0u8; rows * record];
        // Dense codes, transposed in blocks of rows so the writes stay in cache.
        const TILE: usize = 4096;
        for start in (0..rows).step_by(TILE) {
            let end = (start + TILE).min(rows);
            for (j, &c) in dense_columns.iter().enumerate() {
                let column = &binned.column(c)[start..end];
                for (i, &code) in column.iter().enumerate() {
                    records[(start + i) * record + j] = code;
                }
            }
        }
        for (&(c, mode), &(at, first)) in sparse.iter().zip(&placed) {
            for (r, &code) in binned.column(c).iter().enumerate() {
                if code != mode {
                    // The column's uncommon codes, in order, skipping its common one.
                    let rank = code - u8::from(code > mode);
                    records[r * record + nd + at] = first + rank;
                }
            }
        }
        let mut bundle_bins = Vec::with_capacity(bundles.len() * 256);
        for bundle in &bundles {
            bundle_bins.push(NO_BIN);
            bundle_bins.extend(&bundle.bins);
            bundle_bins.resize(bundle_bins.len() + 255 - bundle.bins.len(), NO_BIN);
        }
        Layout {
            binned,
            dense_offsets: dense_columns.iter().map(|&c| offsets[c]).collect(),
            sparse: sparse
                .iter()
                .map(|&(c, mode)| (c, offsets[c] + mode as usize))
                .collect(),
            offsets,
            record,
            records,
            bundle_bins,
        }
    }

    /// Bins of a whole histogram (all columns).
    pub fn bins(&self) -> usize {
        self.offsets[self.offsets.len() - 1]
    }

    /// The bins of column `c` within a histogram.
    fn column<'h, S>(&self, hist: &'h [S], c: usize) -> &'h [S] {
        &hist[self.offsets[c]..self.offsets[c + 1]]
    }

    /// Sums the rows `idx` (row `idx[i]` weighing `weights[i]`) into a zeroed `hist`,
    /// except the most frequent bins of the sparse columns; returns the rows' total.
    fn sum_block<S: Stat>(&self, idx: &[u32], weights: &[S::Row], hist: &mut [S]) -> S {
        let nd = self.dense_offsets.len();
        let mut total = S::default();
        for (&r, s) in idx.iter().zip(weights) {
            let r = r as usize;
            total.add_row(s);
            let (dense, bundles) =
                self.records[r * self.record..(r + 1) * self.record].split_at(nd);
            for (&offset, &code) in self.dense_offsets.iter().zip(dense) {
                hist[offset + code as usize].add_row(s);
            }
            for (bins, &code) in self.bundle_bins.chunks_exact(256).zip(bundles) {
                let b = bins[code as usize];
                if b != NO_BIN {
                    hist[b as usize].add_row(s);
                }
            }
        }
        total
    }

    /// [`Layout::sum_block`] of a block.
    fn sum<S: Stat>(&self, block: &mut Block<S>) {
        block.total = self.sum_block(block.rows, block.weights, block.hist);
    }

    /// The histogram of the rows `idx` (row `idx[i]` weighing `weights[i]`: the
    /// weights are kept in the rows' order so they are read in sequence) into `out`, and
    /// their total. `spare` keeps block buffers between calls.
    pub fn histogram<S: Stat>(
        &self,
        idx: &[u32],
        weights: &[S::Row],
        out: &mut [S],
        threads: usize,
        spare: &mut Vec<Vec<S>>,
    ) -> S {
        out.fill(S::default());
        let blocks = (idx.len() / BLOCK_ROWS).clamp(1, MAX_BLOCKS);
        let total = if blocks == 1 {
            self.sum_block(idx, weights, out)
        } else {
            let size = idx.len().div_ceil(blocks);
            let chunks: Vec<(&[u32], &[S::Row])> =
                idx.chunks(size).zip(weights.chunks(size)).collect();
            while spare.len() + 1 < chunks.len() {
                spare.push(vec![S::default(); self.bins()]);
            }
            let mut blocks: Vec<Block<S>> = Vec::with_capacity(chunks.len());
            let mut buffers = std::iter::once(&mut *out).chain(
                spare
                    .iter_mut()
                    .take(chunks.len() - 1)
                    .map(|b| b.as_mut_slice()),
            );
            for &(rows, weights) in &chunks {
                if let Some(hist) = buffers.next() {
                    hist.fill(S::default());
                    blocks.push(Block {
                        rows,
                        weights,
                        hist,
                        total: S::default(),
                    });
                }
            }
            let threads = threads.clamp(1, blocks.len());
            let per = blocks.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let mut groups = blocks.chunks_mut(per);
                let mine = groups.next();
                for group in groups {
                    scope.spawn(move || group.iter_mut().for_each(|b| self.sum(b)));
                }
                if let Some(group) = mine {
                    group.iter_mut().for_each(|b| self.sum(b));
                }
            });
            let totals: Vec<S> = blocks.iter().map(|b| b.total).collect();
            drop(blocks);
            for b in spare.iter().take(chunks.len() - 1) {
                for (o, v) in out.iter_mut().zip(b) {
                    o.add(v);
                }
            }
            let mut total = S::default();
            for t in &totals {
                total.add(t);
            }
            total
        };
        for &(c, mode) in &self.sparse {
            let mut rest = total;
            let first = self.offsets[c];
            for (b, v) in out[first..self.offsets[c + 1]].iter().enumerate() {
                if first + b != mode {
                    rest.sub(v);
                }
            }
            out[mode] = rest;
        }
        total
    }
}

/// One block of rows of a histogram sum: its rows, their weights, its buffer, and
/// the total of its rows once summed.
struct Block<'a, S: Stat> {
    rows: &'a [u32],
    weights: &'a [S::Row],
    hist: &'a mut [S],
    total: S,
}

/// The best split of a node found over its histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Split<S> {
    /// Column.
    pub column: usize,
    /// Codes up to this one go left.
    pub bin: u8,
    /// Gain.
    pub gain: f64,
    /// Statistics of the left child.
    pub left: S,
}

/// The best split over `columns` (in their order; ties keep the first, so the lowest
/// column and bin) of a node with histogram `hist` and total `total`, if one gains more
/// than the criterion's minimum with both children admissible.
pub(crate) fn best_split<S: Stat, C: Criterion<S>>(
    layout: &Layout,
    hist: &[S],
    total: &S,
    columns: impl Iterator<Item = usize>,
    criterion: &C,
) -> Option<Split<S>> {
    let parent = criterion.score(total);
    let mut best: Option<Split<S>> = None;
    let mut best_gain = criterion.min_gain(total);
    for c in columns {
        let bins = layout.column(hist, c);
        let mut left = S::default();
        for (j, bin) in bins.iter().enumerate().take(bins.len().saturating_sub(1)) {
            left.add(bin);
            if !criterion.admissible(&left) {
                continue;
            }
            let mut right = *total;
            right.sub(&left);
            // The right child only shrinks from here on.
            if !criterion.admissible(&right) {
                break;
            }
            let gain = criterion.score(&left) + criterion.score(&right) - parent;
            if gain > best_gain {
                best_gain = gain;
                best = Some(Split {
                    column: c,
                    bin: j as u8,
                    gain,
                    left,
                });
            }
        }
    }
    best
}

/// A node of a grown tree, in pre-order (parents before children, left subtrees
/// first).
#[derive(Debug, Clone)]
pub(crate) struct Grown<S> {
    /// Split column (0 for a leaf).
    pub column: u32,
    /// Codes up to this one go left.
    pub bin: u8,
    /// The split's threshold: values below it go left.
    pub threshold: f64,
    /// Left child (0 for a leaf).
    pub left: u32,
    /// Right child (0 for a leaf).
    pub right: u32,
    /// The split's gain (0 for a leaf).
    pub gain: f64,
    /// The node's rows summed.
    pub stats: S,
    /// The node's rows are `order[start..end]` of the [`Workspace`] grown with.
    pub start: usize,
    /// End of the node's rows.
    pub end: usize,
}

impl<S> Grown<S> {
    /// Whether the node is a leaf.
    pub fn is_leaf(&self) -> bool {
        self.left == 0
    }
}

/// Settings of one tree.
pub(crate) struct Shape {
    /// Deepest split level (the root is level 0; leaves are at most this deep).
    pub max_depth: usize,
    /// Columns drawn at random for each split (all of them when it is the width).
    pub columns_per_split: usize,
    /// Threads summing a histogram.
    pub threads: usize,
}

/// Buffers of one thread growing (part of) a tree.
struct Buffers<S: Stat> {
    /// The right child's rows and weights during a partition.
    scratch: (Vec<u32>, Vec<S::Row>),
    /// Histograms not in use.
    pool: Vec<Vec<S>>,
    /// Block buffers of [`Layout::histogram`].
    spare: Vec<Vec<S>>,
}

/// Buffers of [`grow`], kept from one tree to the next.
pub(crate) struct Workspace<S: Stat> {
    /// The rows to grow on, ascending, set before [`grow`]; after it, permuted so that
    /// node `i` of the tree holds `order[nodes[i].start..nodes[i].end]`.
    pub order: Vec<u32>,
    /// The rows' weights in the rows' order, partitioned along with them.
    weights: Vec<S::Row>,
    /// One set of buffers per thread.
    buffers: Vec<Buffers<S>>,
}

impl<S: Stat> Default for Buffers<S> {
    fn default() -> Self {
        Buffers {
            scratch: (Vec::new(), Vec::new()),
            pool: Vec::new(),
            spare: Vec::new(),
        }
    }
}

impl<S: Stat> Default for Workspace<S> {
    fn default() -> Self {
        Workspace {
            order: Vec::new(),
            weights: Vec::new(),
            buffers: Vec::new(),
        }
    }
}

/// A node waiting to be numbered and split.
struct Pending<S> {
    /// Its parent in the iterative loop, and whether it is the left child.
    parent: Option<(usize, bool)>,
    start: usize,
    end: usize,
    depth: usize,
    total: S,
    /// Its histogram, if it may be split.
    hist: Option<Vec<S>>,
}

/// Stable partition of `rows` (and their `weights`): the rows whose code in `codes`
/// is at most `bin` first. Returns how many they are. `right_rows` and
/// `right_weights` (as long as `rows`) are scratch space.
fn partition<S: Copy>(
    rows: &mut [u32],
    weights: &mut [S],
    right_rows: &mut [u32],
    right_weights: &mut [S],
    codes: &[u8],
    bin: u8,
) -> usize {
    // Without branches (which way a row goes is a coin toss for the predictor): every
    // row is written to both sides and only one side's end moves on.
    let n = rows.len();
    let (mut left, mut right) = (0, 0);
    for i in 0..n {
        let (r, w) = (rows[i], weights[i]);
        let goes_left = usize::from(codes[r as usize] <= bin);
        rows[left] = r;
        weights[left] = w;
        right_rows[right] = r;
        right_weights[right] = w;
        left += goes_left;
        right += 1 - goes_left;
    }
    rows[left..].copy_from_slice(&right_rows[..right]);
    weights[left..].copy_from_slice(&right_weights[..right]);
    left
}

/// A split node and its two children (not yet numbered).
struct Children<S> {
    node: Grown<S>,
    left: Pending<S>,
    right: Pending<S>,
}

/// What growing one tree needs besides rows and buffers.
struct Grower<'a, 'b, S, C> {
    layout: &'a Layout<'b>,
    criterion: &'a C,
    max_depth: usize,
    /// Columns drawn per split (all when it is the width).
    columns_per_split: usize,
    width: usize,
    _stat: std::marker::PhantomData<S>,
}

/// Rows below which a node's two subtrees are not grown on separate threads.
const PARALLEL_ROWS: usize = 2 * BLOCK_ROWS;
/// Levels down to which subtrees may be handed to threads of their own.
const PARALLEL_DEPTH: usize = 16;

impl<S: Stat, C: Criterion<S>> Grower<'_, '_, S, C> {
    fn take(&self, pool: &mut Vec<Vec<S>>) -> Vec<S> {
        pool.pop()
            .unwrap_or_else(|| vec![S::default(); self.layout.bins()])
    }

    /// A node as a leaf.
    fn leaf(p: &Pending<S>) -> Grown<S> {
        Grown {
            column: 0,
            bin: 0,
            threshold: 0.0,
            left: 0,
            right: 0,
            gain: 0.0,
            stats: p.total,
            start: p.start,
            end: p.end,
        }
    }

    /// Splits `p` (whose rows are exactly `order` and `weights`), or gives it back as
    /// a leaf. The children carry the histograms they need to be split in turn.
    fn split(
        &self,
        mut p: Pending<S>,
        order: &mut [u32],
        weights: &mut [S::Row],
        buffers: &mut Buffers<S>,
        threads: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Children<S>, Grown<S>> {
        let Some(mut hist) = p.hist.take() else {
            return Err(Self::leaf(&p));
        };
        let Buffers {
            scratch,
            pool,
            spare,
        } = buffers;
        let sampled;
        let columns: &[usize] = if self.columns_per_split < self.width {
            let mut drawn =
                rand::seq::index::sample(rng, self.width, self.columns_per_split).into_vec();
            drawn.sort_unstable();
            sampled = drawn;
            &sampled
        } else {
            &[]
        };
        let candidates: Box<dyn Iterator<Item = usize>> = if columns.is_empty() {
            Box::new(0..self.width)
        } else {
            Box::new(columns.iter().copied())
        };
        let Some(split) = best_split(self.layout, &hist, &p.total, candidates, self.criterion)
        else {
            pool.push(hist);
            return Err(Self::leaf(&p));
        };
        let (right_rows, right_weights) = scratch;
        let n = order.len();
        if right_rows.len() < n {
            right_rows.resize(n, 0);
            right_weights.resize(n, S::Row::default());
        }
        let mid = partition(
            order,
            weights,
            &mut right_rows[..n],
            &mut right_weights[..n],
            self.layout.binned.column(split.column),
            split.bin,
        );

        let depth = p.depth + 1;
        let mut right_total = p.total;
        right_total.sub(&split.left);
        let wants = |s: &S| depth < self.max_depth && self.criterion.splittable(s);
        let (need_left, need_right) = (wants(&split.left), wants(&right_total));
        let (mut left_total, mut right_total) = (split.left, right_total);
        let (left_hist, right_hist) = if need_left || need_right {
            // Sum the smaller child; the larger is the parent minus it.
            let left_smaller = mid <= n - mid;
            let small_rows = if left_smaller { 0..mid } else { mid..n };
            let mut small = self.take(pool);
            let small_total = self.layout.histogram(
                &order[small_rows.clone()],
                &weights[small_rows],
                &mut small,
                threads,
                spare,
            );
            for (h, s) in hist.iter_mut().zip(&small) {
                h.sub(s);
            }
            let mut large_total = p.total;
            large_total.sub(&small_total);
            let (l, r) = if left_smaller {
                left_total = small_total;
                right_total = large_total;
                (small, hist)
            } else {
                left_total = large_total;
                right_total = small_total;
                (hist, small)
            };
            let mut keep = |h: Vec<S>, need: bool| {
                if need {
                    Some(h)
                } else {
                    pool.push(h);
                    None
                }
            };
            (keep(l, need_left), keep(r, need_right))
        } else {
            pool.push(hist);
            (None, None)
        };
        let mut node = Self::leaf(&p);
        node.column = split.column as u32;
        node.bin = split.bin;
        node.threshold = self.layout.binned.thresholds(split.column)[split.bin as usize];
        node.gain = split.gain;
        Ok(Children {
            node,
            left: Pending {
                parent: None,
                start: p.start,
                end: p.start + mid,
                depth,
                total: left_total,
                hist: left_hist,
            },
            right: Pending {
                parent: None,
                start: p.start + mid,
                end: p.end,
                depth,
                total: right_total,
                hist: right_hist,
            },
        })
    }

    /// Grows the subtree under `root` on one thread of control (histograms of large
    /// nodes summed on `threads`): its nodes in pre-order, numbered from 0. `order`
    /// and `weights` are the subtree's rows, starting at row position `root.start`.
    fn subtree(
        &self,
        root: Pending<S>,
        order: &mut [u32],
        weights: &mut [S::Row],
        buffers: &mut Buffers<S>,
        threads: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Grown<S>> {
        let base = root.start;
        let mut nodes: Vec<Grown<S>> = Vec::new();
        let mut stack = vec![root];
        while let Some(p) = stack.pop() {
            let index = nodes.len();
            if let Some((parent, is_left)) = p.parent {
                if is_left {
                    nodes[parent].left = index as u32;
                } else {
                    nodes[parent].right = index as u32;
                }
            }
            let range = p.start - base..p.end - base;
            match self.split(
                p,
                &mut order[range.clone()],
                &mut weights[range],
                buffers,
                threads,
                rng,
            ) {
                Err(leaf) => nodes.push(leaf),
                Ok(Children {
                    node,
                    mut left,
                    mut right,
                }) => {
                    nodes.push(node);
                    left.parent = Some((index, true));
                    right.parent = Some((index, false));
                    // Right pushed first: the left subtree is numbered first.
                    stack.push(right);
                    stack.push(left);
                }
            }
        }
        nodes
    }

    /// Grows the subtree under `root` on `buffers.len()` threads: a node whose
    /// children both hold a quarter of its rows or more grows them on threads of
    /// their own; otherwise the children are grown one after the other, each on all
    /// the threads. Only for trees that draw no random columns (the draws would depend
    /// on the order the nodes are split in).
    fn parallel(
        &self,
        root: Pending<S>,
        order: &mut [u32],
        weights: &mut [S::Row],
        buffers: &mut [Buffers<S>],
        rng: &mut ChaCha8Rng,
    ) -> Vec<Grown<S>> {
        let threads = buffers.len();
        let rows = root.end - root.start;
        if threads < 2 || rows < PARALLEL_ROWS || root.depth >= PARALLEL_DEPTH {
            return self.subtree(root, order, weights, &mut buffers[0], threads, rng);
        }
        let children = match self.split(root, order, weights, &mut buffers[0], threads, rng) {
            Err(leaf) => return vec![leaf],
            Ok(children) => children,
        };
        let Children { node, left, right } = children;
        let mid = left.end - left.start;
        let (left_order, right_order) = order.split_at_mut(mid);
        let (left_weights, right_weights) = weights.split_at_mut(mid);
        let balanced = 4 * mid.min(rows - mid) >= rows;
        let (left_nodes, right_nodes) = if balanced {
            let (mine, theirs) = buffers.split_at_mut(threads / 2);
            // No column draws here: the generators are not used.
            let mut other = rng.clone();
            std::thread::scope(|scope| {
                let handle = scope.spawn(move || {
                    self.parallel(right, right_order, right_weights, theirs, &mut other)
                });
                let left_nodes = self.parallel(left, left_order, left_weights, mine, rng);
                let right_nodes = handle.join();
                (left_nodes, right_nodes)
            })
        } else {
            (
                self.parallel(left, left_order, left_weights, buffers, rng),
                Ok(self.parallel(right, right_order, right_weights, buffers, rng)),
            )
        };
        let right_nodes = match right_nodes {
            Ok(nodes) => nodes,
            // A panic of the other thread is a bug; carry it on here.
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // Pre-order: the node, its left subtree, its right subtree.
        let mut nodes = Vec::with_capacity(1 + left_nodes.len() + right_nodes.len());
        let shift = |mut g: Grown<S>, by: usize| {
            if !g.is_leaf() {
                g.left += by as u32;
                g.right += by as u32;
            }
            g
        };
        let mut node = node;
        node.left = 1;
        node.right = (1 + left_nodes.len()) as u32;
        let right_at = 1 + left_nodes.len();
        nodes.push(node);
        nodes.extend(left_nodes.into_iter().map(|g| shift(g, 1)));
        nodes.extend(right_nodes.into_iter().map(|g| shift(g, right_at)));
        nodes
    }
}

/// Grows a tree on the rows `work.order` (ascending; row `r` weighs `stats[r]`); the
/// nodes, root first (pre-order). Column subsets are drawn from `rng` node by node in
/// pre-order; trees that draw none are grown on `shape.threads` threads, the others
/// on one (with large histograms summed on `shape.threads`). Either way the tree does
/// not depend on the number of threads.
pub(crate) fn grow<S: Stat, C: Criterion<S>>(
    layout: &Layout,
    stats: &[S::Row],
    work: &mut Workspace<S>,
    criterion: &C,
    shape: &Shape,
    rng: &mut ChaCha8Rng,
) -> Vec<Grown<S>> {
    let width = layout.binned.width();
    let grower = Grower {
        layout,
        criterion,
        max_depth: shape.max_depth,
        columns_per_split: shape.columns_per_split.clamp(1, width.max(1)),
        width,
        _stat: std::marker::PhantomData,
    };
    let threads = shape.threads.max(1);
    let Workspace {
        order,
        weights,
        buffers,
    } = work;
    weights.clear();
    weights.extend(order.iter().map(|&r| stats[r as usize]));
    while buffers.len() < threads {
        buffers.push(Buffers::default());
    }
    let mut hist = grower.take(&mut buffers[0].pool);
    let total = layout.histogram(order, weights, &mut hist, threads, &mut buffers[0].spare);
    let root = Pending {
        parent: None,
        start: 0,
        end: order.len(),
        depth: 0,
        total,
        hist: if shape.max_depth > 0 && criterion.splittable(&total) {
            Some(hist)
        } else {
            buffers[0].pool.push(hist);
            None
        },
    };
    if grower.columns_per_split < width {
        grower.subtree(root, order, weights, &mut buffers[0], threads, rng)
    } else {
        grower.parallel(root, order, weights, &mut buffers[..threads], rng)
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::trees::{Counts, Gini};

    /// Four columns of at most 255 distinct values each (integers, a 0/1 flag, 200
    /// random reals, 3 levels), column-major, and labels depending on three of them.
    fn data(n: usize, seed: u64) -> (Vec<f64>, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let reals: Vec<f64> = (0..200).map(|_| rng.gen_range(-5.0..5.0)).collect();
        let mut columns: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(n)).collect();
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let a = f64::from(rng.gen_range(0..50u8));
            let b = f64::from(u8::from(rng.gen_bool(0.3)));
            let c = reals[rng.gen_range(0..reals.len())];
            let d = f64::from(rng.gen_range(0..3u8)) * 2.5;
            let p = 0.05 + 0.4 * f64::from(u8::from(a > 30.0)) + 0.2 * b + 0.03 * c;
            y.push(rng.gen_bool(p.clamp(0.01, 0.99)));
            for (column, v) in columns.iter_mut().zip([a, b, c, d]) {
                column.push(v);
            }
        }
        (columns.concat(), y)
    }

    /// Weighted Gini impurity times weight, written out.
    fn impurity(positives: f64, negatives: f64, wp: f64, wn: f64) -> f64 {
        let (p, n) = (positives * wp, negatives * wn);
        if p + n == 0.0 {
            0.0
        } else {
            2.0 * p * n / (p + n)
        }
    }

    /// The best split over the sorted values of each column of the rows `rows`:
    /// (column, the two values the threshold lies between, gain).
    fn exact(
        x: &[f64],
        n: usize,
        y: &[bool],
        rows: &[u32],
        wp: f64,
        wn: f64,
        min_leaf: usize,
    ) -> Option<(usize, f64, f64, f64)> {
        let (tp, tn) = rows.iter().fold((0.0, 0.0), |(p, q), &r| {
            if y[r as usize] {
                (p + 1.0, q)
            } else {
                (p, q + 1.0)
            }
        });
        let parent = impurity(tp, tn, wp, wn);
        let mut best: Option<(usize, f64, f64, f64)> = None;
        for c in 0..x.len() / n {
            let mut sorted: Vec<(f64, bool)> = rows
                .iter()
                .map(|&r| (x[c * n + r as usize], y[r as usize]))
                .collect();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (mut lp, mut ln) = (0.0, 0.0);
            for i in 0..sorted.len() - 1 {
                if sorted[i].1 {
                    lp += 1.0
                } else {
                    ln += 1.0
                }
                if sorted[i].0 == sorted[i + 1].0 {
                    continue;
                }
                let left = i + 1;
                if left < min_leaf || sorted.len() - left < min_leaf {
                    continue;
                }
                let gain = parent - impurity(lp, ln, wp, wn) - impurity(tp - lp, tn - ln, wp, wn);
                if best.is_none_or(|b| gain > b.3) {
                    best = Some((c, sorted[i].0, sorted[i + 1].0, gain));
                }
            }
        }
        best
    }

    #[test]
    fn histogram_splits_equal_exact_splits_over_sorted_values() {
        for seed in 0..6 {
            let n = 3000;
            let (x, y) = data(n, seed);
            let binned = Binned::new(&x, n, 4).expect("bins");
            let layout = Layout::new(&binned);
            let stats: Vec<Counts> = y.iter().map(|&l| Counts::of(l)).collect();
            // The root, and nodes of a third and a tenth of the rows (some bins empty).
            let all: Vec<u32> = (0..n as u32).collect();
            let third: Vec<u32> = all
                .iter()
                .copied()
                .filter(|&r| x[3 * n + r as usize] == 2.5)
                .collect();
            let tenth: Vec<u32> = all
                .iter()
                .copied()
                .filter(|r| r % 10 == seed as u32)
                .collect();
            for (rows, min_leaf) in [(&all, 1), (&all, 40), (&third, 7), (&tenth, 3)] {
                let mut total = Counts::default();
                rows.iter().for_each(|&r| total.add(&stats[r as usize]));
                let gini = Gini::balanced(&total, min_leaf);
                let mut hist = vec![Counts::default(); layout.bins()];
                let weights: Vec<Counts> = rows.iter().map(|&r| stats[r as usize]).collect();
                let summed = layout.histogram(rows, &weights, &mut hist, 2, &mut Vec::new());
                assert_eq!(summed, total);
                let split = best_split(&layout, &hist, &total, 0..4, &gini).expect("a split");
                let threshold = binned.thresholds(split.column)[split.bin as usize];
                let (column, below, above, gain) =
                    exact(&x, n, &y, rows, gini.positive, gini.negative, min_leaf)
                        .expect("an exact split");
                assert_eq!(split.column, column, "seed {seed}");
                assert!(
                    (split.gain - gain).abs() <= 1e-9 * gain.abs(),
                    "{} vs {gain}",
                    split.gain
                );
                // The same partition of the node's rows: nothing of the node lies
                // between the two thresholds.
                assert!(
                    threshold > below && threshold <= above,
                    "{below} < {threshold} <= {above}"
                );
                if rows.len() == n {
                    // At the root every bin is occupied: the very same threshold.
                    assert_eq!(threshold, below / 2.0 + above / 2.0);
                }
            }
        }
    }
}
