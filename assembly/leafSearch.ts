// The k-nearest search over a partition (assembly/partition.ts): each query walks the tree
// depth first, nearer child first, and scans a leaf's panels only while the leaf's bound does
// not exceed its current k-th distance. The answers are brute force's, bit for bit: the same
// distances (each lane sums its point's terms in dimension order from 0, as the brute-force
// kernels do) and the same ties (toward the lower caller index, order[position]).
//
// Outputs are positions (the network's labels are in leaf order too); positionsToIndices maps
// them to the caller's indices.

import { MINIMA_BYTES, sortCandidatesOrdered, topKFoldAllowed, topKFoldOrdered, TopKHeap, topKStateBytes } from './topk';
import { boxBytes, middleLeaf } from './partition';
import { queryDistancePanels } from './distance';

const PANEL_POINTS: i32 = 8;
const PANEL_BYTES_PER_DIMENSION: i32 = PANEL_POINTS * 8;
/** Entries of a traversal stack: one per level, and the tree is at most 40 levels deep. */
const STACK_ENTRIES: i32 = 64;
// An entry: the node, its leaf range and its bound.
const STACK_ENTRY_BYTES: usize = 24;

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~<usize>15;
}

/** Bytes of a search's work counters at the start of its scratch: boxes bounded, points scanned (f64 each). */
const COUNTER_BYTES: usize = 16;

/**
 * Scratch of the box search of q queries for k neighbours and leaves of leafPoints: the work
 * counters, a heap, the fold's minima, one leaf's tile of distances, the traversal stack, and
 * the queries' visiting order (two lists of q (subtree, row) pairs and a radix count).
 */
export function boxSearchScratchBytes(q: i32, k: i32, leafPoints: i32): usize {
  return visitsOffset(k, leafPoints) + 2 * (<usize>q << 3) + RADIX_BYTES;
}

function visitsOffset(k: i32, leafPoints: i32): usize {
  return COUNTER_BYTES + align16(topKStateBytes(k)) + MINIMA_BYTES + align16(<usize>leafPoints << 3) + <usize>STACK_ENTRIES * STACK_ENTRY_BYTES;
}

const RADIX_BYTES: usize = 256 * 4;

/**
 * After a box search, what it did in all, at `scratch` (its scratch): the boxes it bounded
 * (f64 at +0) and the points it scanned (f64 at +8). The planner's cost model reads them.
 */
export function boxSearchWork(scratch: usize): usize {
  return scratch;
}

/** Replaces `count` positions by the caller's indices, order[position], in place. */
export function positionsToIndices(order: usize, positions: usize, count: i32): void {
  for (let i = 0; i < count; i++) {
    const at = positions + (<usize>i << 2);
    store<i32>(at, load<i32>(order + (<usize>load<i32>(at) << 2)));
  }
}

/**
 * A lower bound on the direct distance, as the kernels compute it, from `query` to every point
 * in `box` (d lows, then d highs, float32 rounded outward from the points' own box): Σ_j g_j²
 * (Manhattan: Σ_j g_j), summed in dimension order from 0, where g_j = fl(lo_j − x_j) if
 * x_j < lo_j, fl(x_j − hi_j) if x_j > hi_j, else 0 (the float32 bounds widened exactly).
 *
 * Why it never exceeds a point's computed distance: for a point y in the box, lo_j ≤ y_j ≤ hi_j
 * (the outward rounding only widens the box), and the kernel's j-th difference is
 * fl(x_j − y_j), whose magnitude is fl(|x_j − y_j|) (rounding to nearest is symmetric). When
 * x_j < lo_j, |x_j − y_j| = y_j − x_j ≥ lo_j − x_j, and correctly rounded subtraction is
 * monotone, so fl(|x_j − y_j|) ≥ g_j; likewise above hi_j; otherwise g_j = 0. Squaring and
 * adding are correctly rounded and monotone too, and the bound performs the same operations in
 * the same order as the kernel (a difference, a square, an addition onto the running sum from
 * 0), each on operands no larger than the kernel's, so by induction over j every partial sum,
 * and so the bound, is at most the point's computed distance. Wasm never contracts a multiply
 * and an add, so neither sum is fused. Hence a node whose bound exceeds the k-th distance kept
 * holds no point that can get in, and one whose bound equals it holds only points at exactly
 * that distance.
 */
@inline export function boxBound(manhattan: bool, query: usize, box: usize, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) {
    const x = load<f64>(query + (<usize>j << 3));
    const low = <f64>load<f32>(box + (<usize>j << 2));
    const high = <f64>load<f32>(box + (<usize>(d + j) << 2));
    const gap = x < low ? low - x : x > high ? x - high : 0.0;
    sum += manhattan ? gap : gap * gap;
  }
  return sum;
}

/**
 * An upper bound on the direct distance, as the kernels compute it, from `query` to every point
 * in `box`: Σ_j f_j² (Manhattan: Σ_j f_j) in dimension order from 0, f_j = max(fl(x_j − lo_j),
 * fl(hi_j − x_j)). For y in the box, |x_j − y_j| ≤ max(x_j − lo_j, hi_j − x_j), and the same
 * monotonicity as boxBound's gives every term, every partial sum and so the whole at least the
 * point's computed distance: a node whose upper bound is within a radius lies wholly inside it.
 */
@inline export function boxFarBound(manhattan: bool, query: usize, box: usize, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) {
    const x = load<f64>(query + (<usize>j << 3));
    const far = Math.max(x - <f64>load<f32>(box + (<usize>j << 2)), <f64>load<f32>(box + (<usize>(d + j) << 2)) - x);
    sum += manhattan ? far : far * far;
  }
  return sum;
}

/**
 * The k nearest training points of each of q queries over a box partition, exact: positions
 * and distance values (squared Euclidean, or Manhattan with `manhattan`) ascending, ties toward
 * the lower caller index order[position], k per query to outPositions and outDistances.
 *
 * `pointPanels` is X in packPoints' panels, in leaf order; n points, of which the tree's
 * `treeLeaves` leaves (boxes and lowest indices from buildBoxPartition) hold the first
 * positions up to min(n, treeLeaves·leafPoints), and tail leaves (boxes in `tailBoxes`, one per
 * leafPoints positions, their caller indices their positions) the rest. `scratch` holds
 * boxSearchScratchBytes(q, k, leafPoints). k ≤ n.
 *
 * With `allowed` (not 0: a byte per caller index, 1 = allowed) only the allowed points are
 * candidates: the k nearest of them, as brute force over those alone finds them; k ≤ their
 * count. The bounds stay the partition's own: a box bounds every point in it, allowed or not,
 * and a node's lowest caller index is at most its lowest allowed one, so a node they rule out
 * holds no allowed point that could get in.
 */
export function searchBoxPartition(
  pointPanels: usize, n: i32, d: i32, leafPoints: i32, treeLeaves: i32,
  order: usize, boxes: usize, lowestIndices: usize, tailBoxes: usize,
  queries: usize, q: i32, k: i32, scratch: usize, outPositions: usize, outDistances: usize, manhattan: bool, allowed: usize,
): void {
  if (manhattan) searchBoxes(true, pointPanels, n, d, leafPoints, treeLeaves, order, boxes, lowestIndices, tailBoxes, queries, q, k, scratch, outPositions, outDistances, allowed);
  else searchBoxes(false, pointPanels, n, d, leafPoints, treeLeaves, order, boxes, lowestIndices, tailBoxes, queries, q, k, scratch, outPositions, outDistances, allowed);
}

@inline function searchBoxes(
  manhattan: bool, pointPanels: usize, n: i32, d: i32, leafPoints: i32, treeLeaves: i32,
  order: usize, boxes: usize, lowestIndices: usize, tailBoxes: usize,
  queries: usize, q: i32, k: i32, scratch: usize, outPositions: usize, outDistances: usize, allowed: usize,
): void {
  const counters = scratch;
  const heap = changetype<TopKHeap>(scratch + COUNTER_BYTES);
  const distances = heap.distances();
  const positions = heap.indices(k);
  const minima = scratch + COUNTER_BYTES + align16(topKStateBytes(k));
  let bounded: f64 = 0;
  let scanned: f64 = 0;
  const tile = minima + MINIMA_BYTES;
  const stack = tile + align16(<usize>leafPoints << 3);
  const visits = scratch + visitsOffset(k, leafPoints);
  const tailLeaves = partitionTail(n, leafPoints, treeLeaves);
  // Many queries go in the order of the subtree each would enter first at depth SORT_DEPTH:
  // neighbours in that order walk much of the same path and leaves, which the caches then
  // still hold. Few are spread too thin for that to pay for finding their subtrees.
  const sorted = q >= SORT_QUERIES && treeLeaves > 0;
  for (let r = 0; r < q; r++) {
    const visit = visits + (<usize>r << 3);
    store<i32>(visit, sorted ? firstSubtree(manhattan, queries + (<usize>r * <usize>d << 3), d, boxes, treeLeaves) : 0);
    store<i32>(visit, r, 4);
  }
  if (sorted) sortVisits(visits, visits + (<usize>q << 3), visits + 2 * (<usize>q << 3), q);
  for (let visited = 0; visited < q; visited++) {
    const r = load<i32>(visits + (<usize>visited << 3), 4);
    const query = queries + (<usize>r * <usize>d << 3);
    let size = 0;
    // The tree, nearer child first; each entry's bound is checked when it is popped, against
    // the k-th distance as it is then.
    let top = 0;
    pushEntry(stack, top++, 0, 0, treeLeaves, 0);
    while (top > 0) {
      top--;
      const entry = stack + <usize>top * STACK_ENTRY_BYTES;
      let node = load<i32>(entry);
      let first = load<i32>(entry, 4);
      let end = load<i32>(entry, 8);
      let bound = load<f64>(entry, 16);
      while (true) {
        if (!admits(size, k, bound, lowestIndices + (<usize>node << 2), distances, positions, order)) break;
        if (end - first == 1) {
          size = scanLeaf(manhattan, pointPanels, n, d, leafPoints, first, query, tile, minima, distances, positions, size, k, order, allowed);
          scanned += <f64>(min(n, (first + 1) * leafPoints) - first * leafPoints);
          break;
        }
        const middle = middleLeaf(first, end);
        const left = node + 1;
        const right = node + 2 * (middle - first);
        const leftBound = boxBound(manhattan, query, boxes + <usize>left * boxBytes(d), d);
        const rightBound = boxBound(manhattan, query, boxes + <usize>right * boxBytes(d), d);
        bounded += 2;
        if (rightBound < leftBound) {
          pushEntry(stack, top++, left, first, middle, leftBound);
          node = right;
          first = middle;
          bound = rightBound;
        } else {
          pushEntry(stack, top++, right, middle, end, rightBound);
          node = left;
          end = middle;
          bound = leftBound;
        }
      }
    }
    for (let t = 0; t < tailLeaves; t++) {
      const leaf = treeLeaves + t;
      const bound = boxBound(manhattan, query, tailBoxes + <usize>t * boxBytes(d), d);
      bounded++;
      // A tail leaf's points keep their own indices: its lowest is its first position's.
      if (admits(size, k, bound, order + (<usize>(leaf * leafPoints) << 2), distances, positions, order)) {
        size = scanLeaf(manhattan, pointPanels, n, d, leafPoints, leaf, query, tile, minima, distances, positions, size, k, order, allowed);
        scanned += <f64>(min(n, (leaf + 1) * leafPoints) - leaf * leafPoints);
      }
    }
    sortCandidatesOrdered(distances, positions, size, order);
    memory.copy(outPositions + (<usize>r * <usize>k << 2), positions, <usize>k << 2);
    memory.copy(outDistances + (<usize>r * <usize>k << 3), distances, <usize>k << 3);
  }
  store<f64>(counters, bounded);
  store<f64>(counters, scanned, 8);
}

/**
 * Depth of the subtrees the queries are sorted by: the tree's top SORT_DEPTH levels (a few
 * thousand nodes) stay in cache, so finding a query's subtree costs no memory traffic.
 */
const SORT_DEPTH: i32 = 12;
/**
 * From this many queries in one call the search sorts them by subtree. Measured on 1M uniform
 * points (k = 5, queries in calls of q, sorted ÷ unsorted time): in 2 dimensions 1.12 at
 * q = 256, 1.14 at 1 024, 1.02 at 2 500, 0.90 at 10 000; in 4 dimensions 1.08, 0.95, 0.79, 0.71.
 */
const SORT_QUERIES: i32 = 2048;

/**
 * The node (preorder number: left to right in space) a query reaches at depth SORT_DEPTH (or at
 * a leaf) by always taking the child with the smaller bound (the left one on a tie).
 */
@inline function firstSubtree(manhattan: bool, query: usize, d: i32, boxes: usize, treeLeaves: i32): i32 {
  let node = 0;
  let first = 0;
  let end = treeLeaves;
  for (let depth = 0; depth < SORT_DEPTH && end - first > 1; depth++) {
    const middle = middleLeaf(first, end);
    const left = node + 1;
    const right = node + 2 * (middle - first);
    if (boxBound(manhattan, query, boxes + <usize>right * boxBytes(d), d) < boxBound(manhattan, query, boxes + <usize>left * boxBytes(d), d)) {
      node = right;
      first = middle;
    } else {
      node = left;
      end = middle;
    }
  }
  return node;
}

/**
 * Sorts q (subtree, row) pairs of i32 by subtree, stably: four passes of a byte each between `pairs`
 * and `spare` (the result ends in `pairs`), counting in `counts` (256 i32).
 */
function sortVisits(pairs: usize, spare: usize, counts: usize, q: i32): void {
  let from = pairs;
  let to = spare;
  for (let shift = 0; shift < 32; shift += 8) {
    memory.fill(counts, 0, RADIX_BYTES);
    for (let i = 0; i < q; i++) {
      const at = counts + (<usize>((load<i32>(from + (<usize>i << 3)) >>> shift) & 255) << 2);
      store<i32>(at, load<i32>(at) + 1);
    }
    let total = 0;
    for (let b = 0; b < 256; b++) {
      const at = counts + (<usize>b << 2);
      const count = load<i32>(at);
      store<i32>(at, total);
      total += count;
    }
    for (let i = 0; i < q; i++) {
      const pair = from + (<usize>i << 3);
      const at = counts + (<usize>((load<i32>(pair) >>> shift) & 255) << 2);
      const slot = load<i32>(at);
      store<i32>(at, slot + 1);
      store<i64>(to + (<usize>slot << 3), load<i64>(pair));
    }
    const swap = from;
    from = to;
    to = swap;
  }
}

/** Leaves after the tree's, each of leafPoints positions (the last may hold fewer). */
@inline export function partitionTail(n: i32, leafPoints: i32, treeLeaves: i32): i32 {
  const treeEnd = treeLeaves * leafPoints;
  return n > treeEnd ? (n - treeEnd + leafPoints - 1) / leafPoints : 0;
}

@inline function pushEntry(stack: usize, slot: i32, node: i32, first: i32, end: i32, bound: f64): void {
  const entry = stack + <usize>slot * STACK_ENTRY_BYTES;
  store<i32>(entry, node);
  store<i32>(entry, first, 4);
  store<i32>(entry, end, 8);
  store<f64>(entry, bound, 16);
}

/**
 * Whether a node whose points' distances are at least `bound` and whose lowest caller index is
 * at `lowest` may hold a point that gets into the heap: the heap is not full, or the bound is
 * below its root's distance, or equal to it with a lower index somewhere below (read only
 * then: a load per node visited would miss the cache as often as the boxes do).
 */
@inline function admits(size: i32, k: i32, bound: f64, lowest: usize, distances: usize, positions: usize, order: usize): bool {
  if (size < k) return true;
  const worst = load<f64>(distances);
  return bound < worst || (bound == worst && load<i32>(lowest) < load<i32>(order + (<usize>load<i32>(positions) << 2)));
}

/** Folds leaf `leaf`'s points (positions leaf·leafPoints … up to n; with `allowed`, the allowed ones) into the heap; returns its size. */
@inline function scanLeaf(
  manhattan: bool, pointPanels: usize, n: i32, d: i32, leafPoints: i32, leaf: i32, query: usize, tile: usize, minima: usize,
  distances: usize, positions: usize, size: i32, k: i32, order: usize, allowed: usize,
): i32 {
  const start = leaf * leafPoints;
  const count = min(n, start + leafPoints) - start;
  queryDistancePanels(manhattan, query, pointPanels, d, start / PANEL_POINTS, (count + PANEL_POINTS - 1) / PANEL_POINTS, tile);
  if (allowed != 0) return topKFoldAllowed(tile, count, start, distances, positions, size, k, minima, order, allowed);
  return topKFoldOrdered(tile, count, start, distances, positions, size, k, minima, order);
}
