// Every training point within a limit of a query, over a partition: the points brute force's
// radiusNeighbours keeps (direct value ≤ limit: squared Euclidean, or Manhattan), sorted by
// (value, caller index). A node (box or cluster) whose lower bound exceeds the limit is skipped;
// one whose upper bound is within it lies wholly inside, so a count needs no distance there.
// Counting first lets the caller allocate the results once (countBoxRadius, countClusterRadius);
// the search then measures every point it reports, as brute force does.

import { boxBound, boxFarBound, partitionTail } from './leafSearch';
import { queryDistancePanels } from './distance';
import { boxBytes, middleLeaf } from './partition';
import { boundClusters, clusterUpperBound } from './clusterSearch';
import { ClusterLayout, layClusters } from './clusterPartition';
import { directSquaredDistance } from './distance';
import { sortCandidatesOrdered } from './topk';

const PANEL_POINTS: i32 = 8;
const STACK_ENTRIES: i32 = 64;
const STACK_ENTRY_BYTES: usize = 12;

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~<usize>15;
}

/** Scratch of the box radius search and count: one leaf's tile of values, the traversal stack, and what it found. */
export function radiusBoxScratchBytes(leafPoints: i32): usize {
  return walkBytes(leafPoints) + align16(offsetof<Found>());
}

function walkBytes(leafPoints: i32): usize {
  return align16(<usize>leafPoints << 3) + align16(<usize>STACK_ENTRIES * STACK_ENTRY_BYTES);
}

/** Where a box walk records what it finds: a count, and (collecting) positions and values. */
@unmanaged class Found {
  count: i32;
  room: i32;
  positions: usize;
  values: usize;
}

@inline function note(found: Found, position: i32, value: f64): void {
  const slot = found.count++;
  if (slot >= found.room) return;
  store<i32>(found.positions + (<usize>slot << 2), position);
  store<f64>(found.values + (<usize>slot << 3), value);
}

/**
 * Walks the box tree (and the tail leaves) for one query: every point whose value is at most
 * `limit` is counted, and with `collect` noted (position, value). A node wholly inside the limit
 * is counted by its size when not collecting.
 */
@inline function walkBoxes(
  manhattan: bool, collect: bool, pointPanels: usize, n: i32, d: i32, leafPoints: i32, treeLeaves: i32,
  boxes: usize, tailBoxes: usize, query: usize, limit: f64, scratch: usize, found: Found,
): void {
  const tile = scratch;
  const stack = scratch + align16(<usize>leafPoints << 3);
  let top = 0;
  store<i32>(stack, 0);
  store<i32>(stack, 0, 4);
  store<i32>(stack, treeLeaves, 8);
  top = treeLeaves > 0 ? 1 : 0;
  while (top > 0) {
    top--;
    const entry = stack + <usize>top * STACK_ENTRY_BYTES;
    const node = load<i32>(entry);
    const first = load<i32>(entry, 4);
    const end = load<i32>(entry, 8);
    const box = boxes + <usize>node * boxBytes(d);
    if (boxBound(manhattan, query, box, d) > limit) continue;
    const inside = boxFarBound(manhattan, query, box, d) <= limit;
    if (inside && !collect) {
      found.count += min(n, end * leafPoints) - first * leafPoints;
      continue;
    }
    if (end - first == 1) {
      scanLeafWithin(manhattan, pointPanels, n, d, leafPoints, first, query, limit, tile, found);
      continue;
    }
    const middle = middleLeaf(first, end);
    const right = stack + <usize>top * STACK_ENTRY_BYTES;
    store<i32>(right, node + 2 * (middle - first));
    store<i32>(right, middle, 4);
    store<i32>(right, end, 8);
    const left = right + STACK_ENTRY_BYTES;
    store<i32>(left, node + 1);
    store<i32>(left, first, 4);
    store<i32>(left, middle, 8);
    top += 2;
  }
  const tailLeaves = partitionTail(n, leafPoints, treeLeaves);
  for (let t = 0; t < tailLeaves; t++) {
    const box = tailBoxes + <usize>t * boxBytes(d);
    if (boxBound(manhattan, query, box, d) > limit) continue;
    const leaf = treeLeaves + t;
    if (!collect && boxFarBound(manhattan, query, box, d) <= limit) {
      found.count += min(n, (leaf + 1) * leafPoints) - leaf * leafPoints;
      continue;
    }
    scanLeafWithin(manhattan, pointPanels, n, d, leafPoints, leaf, query, limit, tile, found);
  }
}

/** Notes the points of leaf `leaf` whose value is at most `limit`. */
@inline function scanLeafWithin(
  manhattan: bool, pointPanels: usize, n: i32, d: i32, leafPoints: i32, leaf: i32, query: usize, limit: f64, tile: usize, found: Found,
): void {
  const start = leaf * leafPoints;
  const count = min(n, start + leafPoints) - start;
  queryDistancePanels(manhattan, query, pointPanels, d, start / PANEL_POINTS, (count + PANEL_POINTS - 1) / PANEL_POINTS, tile);
  for (let i = 0; i < count; i++) {
    const value = load<f64>(tile + (<usize>i << 3));
    if (value <= limit) note(found, start + i, value);
  }
}

/**
 * How many training points lie within `limit` of each of q queries (rows at `queries`), over a
 * box partition (arguments as searchBoxPartition's): one i32 per query to `outCounts`.
 * `scratch` holds radiusBoxScratchBytes(leafPoints).
 */
export function countBoxRadius(
  pointPanels: usize, n: i32, d: i32, leafPoints: i32, treeLeaves: i32, boxes: usize, tailBoxes: usize,
  queries: usize, q: i32, limit: f64, scratch: usize, outCounts: usize, manhattan: bool,
): void {
  const found = changetype<Found>(scratch + walkBytes(leafPoints));
  for (let r = 0; r < q; r++) {
    found.count = 0;
    found.room = 0;
    const query = queries + (<usize>r * <usize>d << 3);
    if (manhattan) walkBoxes(true, false, pointPanels, n, d, leafPoints, treeLeaves, boxes, tailBoxes, query, limit, scratch, found);
    else walkBoxes(false, false, pointPanels, n, d, leafPoints, treeLeaves, boxes, tailBoxes, query, limit, scratch, found);
    store<i32>(outCounts + (<usize>r << 2), found.count);
  }
}

/**
 * The training points within `limit` of one query over a box partition: positions and values
 * (squared Euclidean, or Manhattan) sorted by (value, caller index order[position]), at most
 * `room` of them written; returns how many there are. `scratch` as countBoxRadius's.
 */
export function radiusBoxPartition(
  pointPanels: usize, n: i32, d: i32, leafPoints: i32, treeLeaves: i32, order: usize, boxes: usize, tailBoxes: usize,
  query: usize, limit: f64, scratch: usize, outPositions: usize, outValues: usize, room: i32, manhattan: bool,
): i32 {
  const found = changetype<Found>(scratch + walkBytes(leafPoints));
  found.count = 0;
  found.room = room;
  found.positions = outPositions;
  found.values = outValues;
  if (manhattan) walkBoxes(true, true, pointPanels, n, d, leafPoints, treeLeaves, boxes, tailBoxes, query, limit, scratch, found);
  else walkBoxes(false, true, pointPanels, n, d, leafPoints, treeLeaves, boxes, tailBoxes, query, limit, scratch, found);
  sortCandidatesOrdered(outValues, outPositions, min(found.count, room), order);
  return found.count;
}

// The cluster radius search's scratch: the cluster layout's descriptor, the centred query, its
// dot products with the centres, its distances to them, its lower bounds, and its norm.
function radiusClusterPiece(piece: i32, d: i32, clusters: i32): usize {
  const perCluster = align16(<usize>clusters << 3);
  let offset = align16(offsetof<ClusterLayout>());
  if (piece == 0) return offset;
  offset += align16(<usize>d << 3);
  for (let p = 1; p < piece; p++) offset += perCluster;
  return offset;
}

/** Scratch of the cluster radius search and count. */
export function radiusClusterScratchBytes(d: i32, clusters: i32): usize {
  return radiusClusterPiece(4, d, clusters) + 16;
}

/**
 * Bounds one query (centred at `mean`) against every cluster; leaves the lower bounds and the
 * distances to the centres in the scratch and returns the layout.
 */
function boundQuery(query: usize, d: i32, mean: usize, clusterData: usize, clusters: i32, scratch: usize): ClusterLayout {
  const layout = changetype<ClusterLayout>(scratch);
  layClusters(layout, clusterData, clusters, d);
  boundClusters(
    query, mean, d, clusters, layout, scratch + radiusClusterPiece(0, d, clusters), scratch + radiusClusterPiece(1, d, clusters),
    scratch + radiusClusterPiece(2, d, clusters), scratch + radiusClusterPiece(3, d, clusters), scratch + radiusClusterPiece(4, d, clusters),
  );
  return layout;
}

/**
 * How many training points lie within `limit` (a squared distance) of each of q queries over a
 * cluster partition (arguments as searchClusterPartition's): one i32 per query to `outCounts`.
 * A cluster wholly inside is counted by its size; the others' members are measured directly.
 */
export function countClusterRadius(
  points: usize, n: i32, d: i32, mean: usize, clusterData: usize, clusters: i32,
  queries: usize, q: i32, limit: f64, scratch: usize, outCounts: usize,
): void {
  for (let r = 0; r < q; r++) {
    const query = queries + (<usize>r * <usize>d << 3);
    const layout = boundQuery(query, d, mean, clusterData, clusters, scratch);
    const lower = scratch + radiusClusterPiece(3, d, clusters);
    const toCentres = scratch + radiusClusterPiece(2, d, clusters);
    const queryNorm = load<f64>(scratch + radiusClusterPiece(4, d, clusters));
    let count = 0;
    // Points appended after the clusters were built have no bound: always measured.
    for (let p = load<i32>(layout.starts + (<usize>clusters << 2)); p < n; p++) if (directSquaredDistance(query, points + (<usize>p * <usize>d << 3), d) <= limit) count++;
    for (let c = 0; c < clusters; c++) {
      const first = load<i32>(layout.starts + (<usize>c << 2));
      const end = load<i32>(layout.starts + (<usize>(c + 1) << 2));
      if (end == first || load<f64>(lower + (<usize>c << 3)) > limit) continue;
      const upper = clusterUpperBound(
        d, load<f64>(toCentres + (<usize>c << 3)), queryNorm, load<f64>(layout.radii + (<usize>c << 3)), load<f64>(layout.memberNorms + (<usize>c << 3)),
      );
      if (upper <= limit) {
        count += end - first;
        continue;
      }
      for (let p = first; p < end; p++) if (directSquaredDistance(query, points + (<usize>p * <usize>d << 3), d) <= limit) count++;
    }
    store<i32>(outCounts + (<usize>r << 2), count);
  }
}

/**
 * The training points within `limit` (a squared distance) of one query over a cluster
 * partition: positions and squared distances sorted by (distance, caller index), at most `room`
 * written; returns how many there are.
 */
export function radiusClusterPartition(
  points: usize, n: i32, d: i32, mean: usize, order: usize, clusterData: usize, clusters: i32,
  query: usize, limit: f64, scratch: usize, outPositions: usize, outValues: usize, room: i32,
): i32 {
  const layout = boundQuery(query, d, mean, clusterData, clusters, scratch);
  const lower = scratch + radiusClusterPiece(3, d, clusters);
  let count = 0;
  for (let c = 0; c <= clusters; c++) {
    // Cluster K is the points appended after the clusters were built: no bound, always measured.
    const first = load<i32>(layout.starts + (<usize>c << 2));
    const end = c < clusters ? load<i32>(layout.starts + (<usize>(c + 1) << 2)) : n;
    if (end == first || (c < clusters && load<f64>(lower + (<usize>c << 3)) > limit)) continue;
    for (let p = first; p < end; p++) {
      const value = directSquaredDistance(query, points + (<usize>p * <usize>d << 3), d);
      if (!(value <= limit)) continue;
      if (count < room) {
        store<i32>(outPositions + (<usize>count << 2), p);
        store<f64>(outValues + (<usize>count << 3), value);
      }
      count++;
    }
  }
  sortCandidatesOrdered(outValues, outPositions, min(count, room), order);
  return count;
}
