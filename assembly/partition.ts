// The partition of the training points for the pruned search: the rows permuted into leaves of
// whole panels, an implicit binary tree over the leaves, and a bounding box per node, all in
// flat arrays (the shape of kdbush's index and scipy's cKDTree: no node objects).
//
// Positions and the order. The network stores every layout in leaf order: position p holds the
// caller's point order[p]. Leaf l holds positions [l·P, (l + 1)·P) for P = leafPoints (a
// multiple of the panel's 8 points), the last leaf of the tree the rest, so every leaf starts
// on a panel. Points appended later (add) take the positions after the tree's and keep their
// own index (order[p] = p there): they fill the tree's last leaf, whose box and whose
// ancestors' boxes grow, then tail leaves, each with a box of its own (growBoxPartition).
//
// The tree. The node over leaves [first, end) is a leaf when end − first = 1; otherwise its
// left child holds leaves [first, middle), middle = first + ⌈(end − first)/2⌉, its right child
// [middle, end). Nodes are numbered in preorder, so the left child of node v is v + 1 and its
// right child v + 2·(middle − first); a tree of L leaves has 2L − 1 nodes. Nothing about the
// shape is stored: a traversal carries each node's leaf range.
//
// Per node: its box, the per-dimension minimum and maximum of its points (d lows, then d highs),
// stored in float32 rounded outward (each low down, each high up to a float32), so a box holds
// its points in half the bytes (the search's memory traffic is mostly boxes and leaves); and
// the lowest caller index among its points (i32), which lets a search skip a node at exactly
// the k-th distance when none of its points could win the tie.
//
// The split (k-d, median): a node splits its cell (the box its ancestors' splits leave it, the
// root's being the data's bounding box) across the cell's widest dimension, at the point of
// rank middle·P, selected in place (selectRows: Floyd and Rivest's selection over a
// branch-free block partition, partitionRows), rows and order moving together. Rows at or before the split have a key at most the split
// value, rows after it at least. The boxes are the points' own (tight), computed once the rows
// are in place.

/** Deepest node the split recursion reaches: a tree of 2^31 leaves is 32 levels deep. */
const MAX_DEPTH: i32 = 40;

/** Leaves of the tree over n points (the last may hold fewer than leafPoints); 0 for n = 0. */
export function partitionLeaves(n: i32, leafPoints: i32): i32 {
  return (n + leafPoints - 1) / leafPoints;
}

/** Nodes of a tree over `leaves` leaves: 2·leaves − 1 (0 for none). */
export function partitionNodes(leaves: i32): i32 {
  return leaves > 0 ? 2 * leaves - 1 : 0;
}

/** The first leaf of the right child of the node over leaves [first, end). */
@inline export function middleLeaf(first: i32, end: i32): i32 {
  return first + ((end - first + 1) >> 1);
}

/** Bytes of one node's box: d lows and d highs, float32. */
@inline export function boxBytes(d: i32): usize {
  return <usize>d << 3;
}

/** Bytes of one cell of the build (d lows and d highs, float64). */
@inline function cellBytes(d: i32): usize {
  return <usize>d << 4;
}

/** Scratch bytes buildBoxPartition needs: one cell per level of the recursion, and a partition's block offsets. */
export function boxPartitionScratchBytes(d: i32): usize {
  return <usize>MAX_DEPTH * cellBytes(d) + 2 * <usize>BLOCK_ROWS;
}

/** The largest float32 at most x (−∞ below float32's range). */
@inline function float32Below(x: f64): f32 {
  const rounded = <f32>x;
  if (<f64>rounded <= x) return rounded;
  const bits = reinterpret<u32>(rounded);
  // Below a positive float32 is the next smaller magnitude; below a negative, the next larger; below 0, −2^−149.
  if (rounded == 0) return reinterpret<f32>(<u32>0x80000001);
  return reinterpret<f32>(rounded > 0 ? bits - 1 : bits + 1);
}

/** The smallest float32 at least x (+∞ above float32's range). */
@inline function float32Above(x: f64): f32 {
  return -float32Below(-x);
}

@inline function key(points: usize, d: i32, row: i32, dimension: i32): f64 {
  return load<f64>(points + ((<usize>row * <usize>d + <usize>dimension) << 3));
}

@inline function swapRows(points: usize, d: i32, order: usize, a: i32, b: i32): void {
  const rowBytes = <usize>d << 3;
  const rowA = points + <usize>a * rowBytes;
  const rowB = points + <usize>b * rowBytes;
  let offset: usize = 0;
  for (; offset + 16 <= rowBytes; offset += 16) {
    const values = v128.load(rowA + offset);
    v128.store(rowA + offset, v128.load(rowB + offset));
    v128.store(rowB + offset, values);
  }
  if (offset < rowBytes) {
    const value = load<f64>(rowA + offset);
    store<f64>(rowA + offset, load<f64>(rowB + offset));
    store<f64>(rowB + offset, value);
  }
  const orderA = order + (<usize>a << 2);
  const orderB = order + (<usize>b << 2);
  const index = load<i32>(orderA);
  store<i32>(orderA, load<i32>(orderB));
  store<i32>(orderB, index);
}

/** Rows a block of the partition classifies at once (BLOCK_ROWS bytes of offsets per side). */
const BLOCK_ROWS: i32 = 64;

/**
 * Partitions rows [left, right] around the value `pivot` of `dimension`: returns b such that
 * rows left … b − 1 have keys at most the pivot and rows b … right at least.
 *
 * Blocks of BLOCK_ROWS rows from each end are classified without branches (the offsets of the
 * rows on the wrong side written to `offsets`, a count advanced by each comparison's result),
 * then swapped in pairs, as in Edelkamp and Weiß's BlockQuicksort: a comparison's outcome on
 * random keys is a coin toss, which a branch per row mispredicts half the time. Keys equal to
 * the pivot count as on the wrong side from both ends, so ties split evenly. The last two blocks
 * share what is left, so no row is classified by a branch: the small ranges at the bottom of
 * the build are most of its partitions.
 */
function partitionRows(points: usize, d: i32, order: usize, left: i32, right: i32, pivot: f64, dimension: i32, offsets: usize): i32 {
  const rowBytes = <usize>d << 3;
  const keys = points + (<usize>dimension << 3);
  const leftOffsets = offsets;
  const rightOffsets = offsets + <usize>BLOCK_ROWS;
  // Rows before i are at most the pivot and rows after j at least; the blocks being emptied lie within i … j.
  let i = left;
  let j = right;
  let leftCount = 0;
  let rightCount = 0;
  let leftStart = 0;
  let rightStart = 0;
  let leftSize = BLOCK_ROWS;
  let rightSize = BLOCK_ROWS;
  while (true) {
    const unsorted = j - i + 1;
    const last = unsorted <= 2 * BLOCK_ROWS;
    if (last) {
      // A block still holding misplaced rows keeps its BLOCK_ROWS; the other takes the rest.
      if (leftCount == 0 && rightCount == 0) {
        leftSize = unsorted >> 1;
        rightSize = unsorted - leftSize;
      } else if (leftCount == 0) {
        leftSize = unsorted - BLOCK_ROWS;
      } else {
        rightSize = unsorted - BLOCK_ROWS;
      }
    }
    if (leftCount == 0) {
      leftStart = 0;
      leftCount = misplacedFromLeft(keys + <usize>i * rowBytes, rowBytes, leftSize, pivot, leftOffsets);
    }
    if (rightCount == 0) {
      rightStart = 0;
      rightCount = misplacedFromRight(keys + <usize>j * rowBytes, rowBytes, rightSize, pivot, rightOffsets);
    }
    const pairs = min(leftCount, rightCount);
    for (let c = 0; c < pairs; c++) {
      swapRows(points, d, order, i + <i32>load<u8>(leftOffsets + <usize>(leftStart + c)), j - <i32>load<u8>(rightOffsets + <usize>(rightStart + c)));
    }
    leftCount -= pairs;
    rightCount -= pairs;
    leftStart += pairs;
    rightStart += pairs;
    if (leftCount == 0) i += leftSize;
    if (rightCount == 0) j -= rightSize;
    if (last) break;
  }
  // The last blocks covered i … j: at most one still holds misplaced rows, and the rest of it is
  // on its side. Its misplaced rows go to its far end, the highest offset first, so each swaps
  // with a row on its side.
  for (let c = leftStart + leftCount - 1; c >= leftStart; c--) {
    swapRows(points, d, order, i + <i32>load<u8>(leftOffsets + <usize>c), j);
    j--;
  }
  for (let c = rightStart + rightCount - 1; c >= rightStart; c--) {
    swapRows(points, d, order, j - <i32>load<u8>(rightOffsets + <usize>c), i);
    i++;
  }
  return leftCount > 0 ? j + 1 : i;
}

/** Writes the offsets c < size of the rows whose key at `key` + c·rowBytes is at least the pivot (misplaced on the left), ascending; returns their count. */
@inline function misplacedFromLeft(key: usize, rowBytes: usize, size: i32, pivot: f64, offsets: usize): i32 {
  let count = 0;
  for (let c = 0; c < size; c++) {
    store<u8>(offsets + <usize>count, <u8>c);
    count += i32(load<f64>(key) >= pivot);
    key += rowBytes;
  }
  return count;
}

/** Writes the offsets c < size of the rows whose key at `key` − c·rowBytes is at most the pivot (misplaced on the right), ascending; returns their count. */
@inline function misplacedFromRight(key: usize, rowBytes: usize, size: i32, pivot: f64, offsets: usize): i32 {
  let count = 0;
  for (let c = 0; c < size; c++) {
    store<u8>(offsets + <usize>count, <u8>c);
    count += i32(load<f64>(key) <= pivot);
    key -= rowBytes;
  }
  return count;
}

/**
 * Rearranges rows [left, right] (inclusive) so that row `rank` holds the key it would hold were
 * they sorted by `dimension`, rows before it keys at most its own, rows after it at least:
 * Floyd and Rivest's selection. A large range first selects the same rank within a sample
 * window around it (sized ~n^(2/3), offset by a standard deviation toward the middle), which
 * leaves a pivot close to the target at `rank`; one partition pass around its value then
 * leaves a short range to finish, so each level of the build reads its rows about once.
 */
function selectRows(points: usize, d: i32, order: usize, left: i32, right: i32, rank: i32, dimension: i32, offsets: usize): void {
  while (right > left) {
    const length = right - left + 1;
    if (length > 600) {
      const position = rank - left + 1;
      const logarithm = Math.log(<f64>length);
      const sample = 0.5 * Math.exp(2 * logarithm / 3);
      const half = <f64>length / 2;
      const deviation = 0.5 * Math.sqrt(logarithm * sample * (<f64>length - sample) / <f64>length) * (<f64>position < half ? -1.0 : 1.0);
      const windowLeft = max(left, <i32>Math.floor(<f64>rank - <f64>position * sample / <f64>length + deviation));
      const windowRight = min(right, <i32>Math.floor(<f64>rank + <f64>(length - position) * sample / <f64>length + deviation));
      selectRows(points, d, order, windowLeft, windowRight, rank, dimension, offsets);
    } else {
      medianOfThreeAt(points, d, order, left, rank, right, dimension);
    }
    // The pivot row waits at `left` while the rest is partitioned around its value, then goes to
    // the boundary: its final place, so each round shortens the range.
    const pivot = key(points, d, rank, dimension);
    swapRows(points, d, order, left, rank);
    const boundary = partitionRows(points, d, order, left + 1, right, pivot, dimension, offsets);
    const place = boundary - 1;
    swapRows(points, d, order, left, place);
    if (rank == place) return;
    if (rank < place) right = place - 1;
    else left = place + 1;
  }
}

/** Swaps into row `middle` whichever of rows first, middle and last holds the median of their keys. */
function medianOfThreeAt(points: usize, d: i32, order: usize, first: i32, middle: i32, last: i32, dimension: i32): void {
  const a = key(points, d, first, dimension);
  const b = key(points, d, middle, dimension);
  const c = key(points, d, last, dimension);
  if ((a <= b) == (b <= c)) return;
  swapRows(points, d, order, middle, (b <= a) == (a <= c) ? first : last);
}

/**
 * Builds the partition of n row-major points (d values each) in place: permutes the rows into
 * leaf order, writes order[p] (the caller's index of position p), every node's box (float32,
 * rounded outward) and its lowest caller index. `boxes` holds partitionNodes(partitionLeaves(n, leafPoints)) boxes of
 * boxBytes(d), `lowestIndices` as many i32; `scratch` boxPartitionScratchBytes(d).
 */
export function buildBoxPartition(points: usize, n: i32, d: i32, leafPoints: i32, order: usize, boxes: usize, lowestIndices: usize, scratch: usize): void {
  for (let i = 0; i < n; i++) store<i32>(order + (<usize>i << 2), i);
  const leaves = partitionLeaves(n, leafPoints);
  if (leaves == 0) return;
  rowsBox(points, d, 0, n, scratch);
  splitNode(points, n, d, leafPoints, order, scratch, 0, leaves, 0);
  nodeBoxes(points, n, d, leafPoints, order, boxes, lowestIndices, 0, 0, leaves, scratch);
}

/**
 * Writes the bounding box (lows, then highs) of rows [first, end) to `box`, two dimensions at
 * a time without a branch per value (the last of an odd d shares a vector with a copy of itself).
 */
function rowsBox(points: usize, d: i32, first: i32, end: i32, box: usize): void {
  for (let j = 0; j < d; j++) {
    store<f64>(box + (<usize>j << 3), Infinity);
    store<f64>(box + (<usize>(d + j) << 3), -Infinity);
  }
  const highs = box + (<usize>d << 3);
  const pairs = d & ~1;
  for (let i = first; i < end; i++) {
    const row = points + (<usize>i * <usize>d << 3);
    for (let j = 0; j < pairs; j += 2) {
      const offset = <usize>j << 3;
      const values = v128.load(row + offset);
      v128.store(box + offset, f64x2.pmin(values, v128.load(box + offset)));
      v128.store(highs + offset, f64x2.pmax(values, v128.load(highs + offset)));
    }
    if (pairs < d) {
      const offset = <usize>pairs << 3;
      const value = load<f64>(row + offset);
      store<f64>(box + offset, Math.min(value, load<f64>(box + offset)));
      store<f64>(highs + offset, Math.max(value, load<f64>(highs + offset)));
    }
  }
}

/** Splits the node over leaves [first, end) whose cell is at `cells` + depth·cellBytes(d), and its descendants. */
function splitNode(points: usize, n: i32, d: i32, leafPoints: i32, order: usize, cells: usize, first: i32, end: i32, depth: i32): void {
  if (end - first < 2) return;
  const cell = cells + <usize>depth * cellBytes(d);
  let widest = 0;
  let widestSpread: f64 = -1;
  for (let j = 0; j < d; j++) {
    const spread = load<f64>(cell + (<usize>(d + j) << 3)) - load<f64>(cell + (<usize>j << 3));
    if (spread > widestSpread) {
      widestSpread = spread;
      widest = j;
    }
  }
  const middle = middleLeaf(first, end);
  const split = middle * leafPoints;
  selectRows(points, d, order, first * leafPoints, min(n, end * leafPoints) - 1, split, widest, cells + <usize>MAX_DEPTH * cellBytes(d));
  const splitValue = key(points, d, split, widest);
  const child = cell + cellBytes(d);
  memory.copy(child, cell, cellBytes(d));
  store<f64>(child + (<usize>(d + widest) << 3), splitValue);
  splitNode(points, n, d, leafPoints, order, cells, first, middle, depth + 1);
  memory.copy(child, cell, cellBytes(d));
  store<f64>(child + (<usize>widest << 3), splitValue);
  splitNode(points, n, d, leafPoints, order, cells, middle, end, depth + 1);
}

/**
 * Writes the boxes and lowest caller indices of `node` (over leaves [first, end)) and its
 * descendants; a leaf's box is measured in float64 in `cell`, then rounded outward.
 */
function nodeBoxes(
  points: usize, n: i32, d: i32, leafPoints: i32, order: usize, boxes: usize, lowestIndices: usize, node: i32, first: i32, end: i32, cell: usize,
): void {
  const box = boxes + <usize>node * boxBytes(d);
  const lowest = lowestIndices + (<usize>node << 2);
  if (end - first == 1) {
    const start = first * leafPoints;
    const stop = min(n, end * leafPoints);
    rowsBox(points, d, start, stop, cell);
    for (let j = 0; j < d; j++) {
      store<f32>(box + (<usize>j << 2), float32Below(load<f64>(cell + (<usize>j << 3))));
      store<f32>(box + (<usize>(d + j) << 2), float32Above(load<f64>(cell + (<usize>(d + j) << 3))));
    }
    let smallest = i32.MAX_VALUE;
    for (let p = start; p < stop; p++) smallest = min(smallest, load<i32>(order + (<usize>p << 2)));
    store<i32>(lowest, smallest);
    return;
  }
  const middle = middleLeaf(first, end);
  const left = node + 1;
  const right = node + 2 * (middle - first);
  nodeBoxes(points, n, d, leafPoints, order, boxes, lowestIndices, left, first, middle, cell);
  nodeBoxes(points, n, d, leafPoints, order, boxes, lowestIndices, right, middle, end, cell);
  const leftBox = boxes + <usize>left * boxBytes(d);
  const rightBox = boxes + <usize>right * boxBytes(d);
  for (let j = 0; j < d; j++) {
    const low = <usize>j << 2;
    const high = <usize>(d + j) << 2;
    store<f32>(box + low, Mathf.min(load<f32>(leftBox + low), load<f32>(rightBox + low)));
    store<f32>(box + high, Mathf.max(load<f32>(leftBox + high), load<f32>(rightBox + high)));
  }
  store<i32>(lowest, min(load<i32>(lowestIndices + (<usize>left << 2)), load<i32>(lowestIndices + (<usize>right << 2))));
}

/**
 * Grows the partition by the points at positions oldN … n − 1 (appended to X in leaf order;
 * their caller indices are their positions, which the caller writes to order): each point first
 * fills the tree's last leaf (up to treeLeaves·leafPoints), widening that leaf's box and its
 * ancestors' (the tree's rightmost path); after it come tail leaves of leafPoints positions,
 * whose boxes (`tailBoxes`, one per tail leaf) start at their first point and widen with the
 * rest. The lowest caller indices stay right: no appended index is lower than a held one.
 */
export function growBoxPartition(points: usize, oldN: i32, n: i32, d: i32, leafPoints: i32, treeLeaves: i32, boxes: usize, tailBoxes: usize): void {
  const treeEnd = treeLeaves * leafPoints;
  for (let p = oldN; p < n; p++) {
    const row = points + (<usize>p * <usize>d << 3);
    if (p < treeEnd) {
      let node = 0;
      let first = 0;
      let end = treeLeaves;
      while (true) {
        widenBox(boxes + <usize>node * boxBytes(d), row, d, false);
        if (end - first == 1) break;
        const middle = middleLeaf(first, end);
        node += 2 * (middle - first);
        first = middle;
      }
      continue;
    }
    const tail = (p - treeEnd) / leafPoints;
    widenBox(tailBoxes + <usize>tail * boxBytes(d), row, d, (p - treeEnd) % leafPoints == 0);
  }
}

/** Widens a float32 box (outward) to hold the point `row`, or, with `fresh`, makes it the point's own. */
function widenBox(box: usize, row: usize, d: i32, fresh: bool): void {
  for (let j = 0; j < d; j++) {
    const value = load<f64>(row + (<usize>j << 3));
    const low = box + (<usize>j << 2);
    const high = box + (<usize>(d + j) << 2);
    const below = float32Below(value);
    const above = float32Above(value);
    store<f32>(low, fresh ? below : Mathf.min(load<f32>(low), below));
    store<f32>(high, fresh ? above : Mathf.max(load<f32>(high), above));
  }
}
