// The k-nearest search over a cluster partition (assembly/clusterPartition.ts), for d > 16 where
// layer 1 is a GEMM. Each query first bounds its distance to every cluster (ball and slab,
// safe under rounding: clusterBound), then:
//
// - with the float32 copy: queries sorted by their nearest cluster go in groups of four (the
//   float32 GEMM's tile), and a group scans, in order of its smallest bound, every cluster
//   that one of its queries may still need, folding each query's candidates (k + margin) into
//   an order-aware heap. Each query's candidates are then rechecked directly and proven: every
//   point scanned and rejected is beaten (the float32 certificate, as float32CandidateSearch
//   proves it for brute force: a rejected point's value was at least the worst kept, so no
//   weaker), and every cluster not scanned has a bound above the k-th distance. A query that
//   cannot be proven is searched again directly (directClusterSearch).
// - without it (or for such a query): clusters in order of the query's bound, each scanned with
//   direct distances from the row-major X while its bound does not exceed the k-th distance so
//   far: exact as it goes.
//
// Positions are leaf order's (outputs too); ties rank by order[position], the caller's index.

import { candidateErrorBound, float32DistanceGemm, float32DistanceGemmSingle, groupBytes, groupCount, GROUP_QUERIES, prepareFloat32Queries } from './float32Distance';
import { directSquaredDistance } from './distance';
import { isAllowed, MINIMA_BYTES, offerCandidateOrdered, sortCandidatesOrdered, topKFoldAllowed, topKFoldOrdered, TopKHeap, topKStateBytes } from './topk';
import { ClusterLayout, dotLanes, layClusters, squaredDistanceLanes } from './clusterPartition';

const PANEL_POINTS: i32 = 8;
const UNIT_ROUNDOFF: f64 = 1.1102230246251565e-16; // 2^-53
const SMALLEST_SUBNORMAL: f64 = 5e-324;
// A block of the float32 GEMM: about 256 KiB of float32 panels, as the brute-force stream's.
const BLOCK_BYTES: i32 = 256 * 1024;
const MAX_BLOCK_PANELS: i32 = 128;
// Below this (scaled units) a float32 proof is not attempted, as in float32CandidateSearch.
const SMALLEST_PROVABLE_GAP: f64 = 1e-290;

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~<usize>15;
}

function blockPanels(d: i32): i32 {
  const panels = BLOCK_BYTES / (d * PANEL_POINTS * 4);
  return panels < 1 ? 1 : panels > MAX_BLOCK_PANELS ? MAX_BLOCK_PANELS : panels;
}

// The scratch of a chunk of q queries, in this order: the cluster layout's descriptor; per
// query its row in the caller's order (i32), its nearest cluster (i32) and its safe squared
// bound to every cluster (K f64); a copy of the query rows; one centred query, its dot products
// with the centres and its distances to them (K f64 each); the float32 groups and their norms;
// one tile per query of a group; the candidates' heaps; the fold's minima; a group's cluster
// order (K i32) and their keys (K f64) and scanned marks (K i32); a k-heap for the direct
// search; its counters; each slot's float32 error bound (candidateErrorBound, once a query).
const DESCRIPTOR: i32 = 0;
const ROWS: i32 = 1;
const HOMES: i32 = 2;
const BOUNDS: i32 = 3;
const COPIES: i32 = 4;
const CENTRED: i32 = 5;
const DOTS: i32 = 6;
const DISTANCES: i32 = 7;
const GROUPS: i32 = 8;
const GROUP_NORMS: i32 = 9;
const TILES: i32 = 10;
const HEAPS: i32 = 11;
const MINIMA: i32 = 12;
const CLUSTER_ORDER: i32 = 13;
const CLUSTER_KEYS: i32 = 14;
const SCANNED: i32 = 15;
const DIRECT_HEAP: i32 = 16;
const COUNTERS: i32 = 17;
const GROUP_ERRORS: i32 = 18;
const PIECES: i32 = 19;

function pieceBytes(piece: i32, q: i32, d: i32, clusters: i32, k: i32, capacity: i32): usize {
  return align16(unalignedPieceBytes(piece, q, d, clusters, k, capacity));
}

function unalignedPieceBytes(piece: i32, q: i32, d: i32, clusters: i32, k: i32, capacity: i32): usize {
  const rowBytes = <usize>d << 3;
  const perCluster = <usize>clusters << 3;
  if (piece == DESCRIPTOR) return align16(offsetof<ClusterLayout>());
  if (piece == ROWS || piece == HOMES) return align16(<usize>q << 2);
  if (piece == BOUNDS) return <usize>q * perCluster;
  if (piece == COPIES) return align16(<usize>q * rowBytes);
  if (piece == CENTRED) return align16(rowBytes);
  if (piece == DOTS || piece == DISTANCES || piece == CLUSTER_KEYS) return perCluster;
  if (piece == GROUPS) return align16(groupBytes(q, d));
  if (piece == GROUP_NORMS || piece == GROUP_ERRORS) return <usize>(groupCount(q) * GROUP_QUERIES) << 3;
  if (piece == TILES) return <usize>GROUP_QUERIES * (<usize>(blockPanels(d) * PANEL_POINTS) << 3);
  if (piece == HEAPS) return <usize>q * topKStateBytes(capacity);
  if (piece == MINIMA) return MINIMA_BYTES;
  if (piece == CLUSTER_ORDER || piece == SCANNED) return align16(<usize>clusters << 2);
  if (piece == DIRECT_HEAP) return topKStateBytes(k);
  return 16;
}

function pieceAt(scratch: usize, piece: i32, q: i32, d: i32, clusters: i32, k: i32, capacity: i32): usize {
  let offset = scratch;
  for (let p = 0; p < piece; p++) offset += pieceBytes(p, q, d, clusters, k, capacity);
  return offset;
}

/**
 * After a cluster search of a chunk of q queries, what it did in all, at the returned address
 * in its scratch: the points its groups streamed through the float32 GEMM (f64, each once per
 * group of four queries) and the points it measured directly (f64 at +8, every point of the
 * direct search and of the unproven queries' second search). The planner's cost model reads them.
 */
export function clusterSearchWork(scratch: usize, q: i32, d: i32, clusters: i32, k: i32, capacity: i32): usize {
  return pieceAt(scratch, COUNTERS, q, d, clusters, k, capacity);
}

/** Scratch bytes of clusterSearch for a chunk of q queries. */
export function clusterSearchScratchBytes(q: i32, d: i32, clusters: i32, k: i32, capacity: i32): usize {
  return pieceAt(0, PIECES, q, d, clusters, k, capacity);
}

/**
 * A lower bound on the directly computed squared distance Σ_j fl(q_j − x_j)² (summed in
 * dimension order, as every reported distance is) from query q to every member x of cluster B,
 * given the query's nearest cluster A. Inputs, all computed in float64 from the centred query
 * q̃ = fl(q − μ), each sum in any order (dotLanes): `toCentre` = fl(√Σ(q̃ − c_B)²),
 * `along` = fl(ĝ_B − ĝ_A) with ĝ_c = fl(Σ c_j q̃_j),
 * `queryNorm` ≥ ‖q̃‖; from the build: R_B ≥ max ‖x̃ − c_B‖, X_B ≥ max ‖x̃‖, N_A ≥ ‖c_A‖,
 * N_B ≥ ‖c_B‖, L ≥ ‖c_B − c_A‖, and [lo, hi] the range of the members' fl(ĝ_B(x̃) − ĝ_A(x̃)).
 *
 * Why it holds (u = 2^−53; every quantity below is non-negative unless said):
 * 1. Centring. Each coordinate of q̃ and x̃ = fl(x − μ) is within u of its exact value relative,
 *    so ‖q − x‖ ≥ ‖q̃ − x̃‖ − u(‖q − μ‖ + ‖x − μ‖) ≥ ‖q̃ − x̃‖ − 2u(queryNorm + X_B).
 * 2. Ball. ‖q̃ − x̃‖ ≥ ‖q̃ − c_B‖ − ‖x̃ − c_B‖ ≥ toCentre·(1 − (d + 4)u) − R_B (a sum of d squares
 *    and its square root lose at most (d + 3)u relative).
 * 3. Slab. For v = c_B − c_A (exact, of the stored centres), v·x̃ − v·q̃ = v·(x̃ − q̃) ≤ L·‖q̃ − x̃‖.
 *    A float64 dot product of d terms errs by at most γ_d·Σ|c_j||y_j| ≤ γ_d·‖c‖‖y‖, and the
 *    difference of two adds u of its size, so fl(ĝ_B − ĝ_A) is within
 *    E_y = (d + 2)u·1.01·(N_A + N_B)·‖y‖ of v·y, for y = q̃ and for each member y = x̃. Hence when
 *    along < lo, ‖q̃ − x̃‖ ≥ (lo − along − E)/L with E = (d + 2)u·1.01·(N_A + N_B)(queryNorm + X_B),
 *    and when along > hi, ‖q̃ − x̃‖ ≥ (along − hi − E)/L.
 * 4. The bound on ‖q − x‖ is β = max(ball, slab) less the centring term and less the rounding
 *    of these few operations themselves, which 8u times the sum of the magnitudes involved
 *    covers many times over. Then each squared difference the direct sum adds is at least
 *    (q_j − x_j)²(1 − u)² less half a subnormal, and its d − 1 additions lose (d − 1)u relative,
 *    so the computed distance is at least β²(1 − (d + 2)u) − d·2^−1075; this function returns
 *    β²(1 − (d + 8)u) − (d + 1)·2^−1074 (its own two roundings included), or 0 when β ≤ 0.
 * A cluster whose bound exceeds the k-th distance kept thus holds no point that can get in.
 */
@inline function clusterBound(
  d: i32, toCentre: f64, along: f64, hasSlab: bool, queryNorm: f64,
  radius: f64, memberNorm: f64, normA: f64, normB: f64, length: f64, low: f64, high: f64,
): f64 {
  const ball = toCentre * (1.0 - <f64>(d + 4) * UNIT_ROUNDOFF) - radius;
  let slab: f64 = -Infinity;
  let slabMagnitude: f64 = 0;
  if (hasSlab && length > 0) {
    const drift = <f64>(d + 2) * UNIT_ROUNDOFF * 1.01 * (normA + normB) * (queryNorm + memberNorm);
    if (along < low) slab = (low - along - drift) / length;
    else if (along > high) slab = (along - high - drift) / length;
    slabMagnitude = (Math.abs(low) + Math.abs(high) + Math.abs(along) + drift) / length;
  }
  const rounding = 8 * UNIT_ROUNDOFF * (toCentre + radius + slabMagnitude) + 2 * UNIT_ROUNDOFF * (queryNorm + memberNorm) * (1 + 4 * UNIT_ROUNDOFF);
  const beta = Math.max(ball, slab) - rounding;
  if (!(beta > 0)) return 0;
  return beta * beta * (1.0 - <f64>(d + 8) * UNIT_ROUNDOFF) - <f64>(d + 1) * SMALLEST_SUBNORMAL;
}

/**
 * An upper bound on the directly computed squared distance from query q to every member of
 * cluster B (inputs as clusterBound's): ‖q − x‖ ≤ ‖q̃ − x̃‖ + 2u(queryNorm + X_B) ≤
 * ‖q̃ − c_B‖ + R_B + 2u(queryNorm + X_B), with ‖q̃ − c_B‖ ≤ toCentre·(1 + (d + 4)u), plus 8u of
 * the magnitudes for these operations' own rounding; the direct sum of d squares exceeds the
 * exact square by at most (d + 2)u relative and d·2^−1075, so this returns
 * U²(1 + (d + 8)u) + (d + 1)·2^−1074. A cluster whose upper bound is within a radius lies wholly
 * inside it.
 */
@inline export function clusterUpperBound(d: i32, toCentre: f64, queryNorm: f64, radius: f64, memberNorm: f64): f64 {
  const centreDistance = toCentre * (1.0 + <f64>(d + 4) * UNIT_ROUNDOFF);
  const upper = centreDistance + radius + 2 * UNIT_ROUNDOFF * (queryNorm + memberNorm) * (1 + 4 * UNIT_ROUNDOFF) + 8 * UNIT_ROUNDOFF * (centreDistance + radius);
  return upper * upper * (1.0 + <f64>(d + 8) * UNIT_ROUNDOFF) + <f64>(d + 1) * SMALLEST_SUBNORMAL;
}

/**
 * Fills `bounds` (K f64) with clusterBound for one query and every cluster, leaving the centred
 * query in `centred`, its dot products with the centres in `dots` and its distances to them
 * (fl(√Σ(q̃ − c)²)) in `distances`; returns its nearest cluster (by that distance, among those
 * with members; ties to the lower) and stores ‖q̃‖ rounded up at `queryNormAt`.
 */
export function boundClusters(
  query: usize, mean: usize, d: i32, clusters: i32, layout: ClusterLayout,
  centred: usize, dots: usize, distances: usize, bounds: usize, queryNormAt: usize = 0,
): i32 {
  let queryNormSquared: f64 = 0;
  for (let j = 0; j < d; j++) {
    const value = load<f64>(query + (<usize>j << 3)) - load<f64>(mean + (<usize>j << 3));
    store<f64>(centred + (<usize>j << 3), value);
    queryNormSquared += value * value;
  }
  const queryNorm = Math.sqrt(queryNormSquared) * (1.0 + <f64>(d + 4) * UNIT_ROUNDOFF);
  if (queryNormAt != 0) store<f64>(queryNormAt, queryNorm);
  let home = -1;
  let nearest: f64 = Infinity;
  for (let c = 0; c < clusters; c++) {
    const centre = layout.centres + (<usize>c * <usize>d << 3);
    const dot = dotLanes(centre, centred, d);
    const squared = squaredDistanceLanes(centred, centre, d);
    const toCentre = Math.sqrt(squared);
    store<f64>(dots + (<usize>c << 3), dot);
    store<f64>(distances + (<usize>c << 3), toCentre);
    const members = load<i32>(layout.starts + (<usize>(c + 1) << 2)) - load<i32>(layout.starts + (<usize>c << 2));
    if (members > 0 && toCentre < nearest) {
      nearest = toCentre;
      home = c;
    }
  }
  const homeDot = load<f64>(dots + (<usize>home << 3));
  const normA = load<f64>(layout.centreNorms + (<usize>home << 3));
  for (let b = 0; b < clusters; b++) {
    const slab = layout.slabs + (<usize>(b * clusters + home) << 4);
    const bound = clusterBound(
      d, load<f64>(distances + (<usize>b << 3)), load<f64>(dots + (<usize>b << 3)) - homeDot, b != home, queryNorm,
      load<f64>(layout.radii + (<usize>b << 3)), load<f64>(layout.memberNorms + (<usize>b << 3)),
      normA, load<f64>(layout.centreNorms + (<usize>b << 3)), load<f64>(layout.pairLengths + (<usize>(b * clusters + home) << 3)),
      load<f64>(slab), load<f64>(slab, 8),
    );
    store<f64>(bounds + (<usize>b << 3), bound);
  }
  return home;
}

/** Sorts the K cluster numbers in `clusterOrder` by `keys` ascending (insertion sort: K ≤ a few dozen). */
function sortClusters(clusterOrder: usize, keys: usize, clusters: i32): void {
  for (let c = 0; c < clusters; c++) store<i32>(clusterOrder + (<usize>c << 2), c);
  for (let i = 1; i < clusters; i++) {
    const cluster = load<i32>(clusterOrder + (<usize>i << 2));
    const key = load<f64>(keys + (<usize>cluster << 3));
    let slot = i;
    while (slot > 0 && load<f64>(keys + (<usize>load<i32>(clusterOrder + (<usize>(slot - 1) << 2)) << 3)) > key) {
      store<i32>(clusterOrder + (<usize>slot << 2), load<i32>(clusterOrder + (<usize>(slot - 1) << 2)));
      slot--;
    }
    store<i32>(clusterOrder + (<usize>slot << 2), cluster);
  }
}

/**
 * The k nearest training points of each of q queries over a cluster partition, exact:
 * positions and squared distances Σ(x_j − X_ij)² ascending, ties toward the lower caller index
 * order[position], k per query (in the caller's row order) to outPositions and outSquared.
 *
 * `points` is X row-major in leaf order; `clusterData` from buildClusterPartition (K clusters,
 * centred on `mean`). With `float32Panels` (the float32 copy of W1 in leaf order, its norms,
 * scale and largest norm from packFloat32Weights), candidates come from the float32 GEMM, k +
 * margin (`capacity`) per query; without it (0), the search runs on direct distances. The
 * query rows are reordered (they are the call's scratch). `scratch` holds
 * clusterSearchScratchBytes(q, d, K, k, capacity). k ≤ n.
 * With `allowed` (not 0: a byte per caller index, 1 = allowed) only the allowed points are
 * offered to the heaps, and k is at most their count. Every bound stays the cluster's own (it
 * bounds each member, allowed or not), and the float32 proof's rejected points are the allowed
 * ones the heap turned away, so the answer is brute force's over the allowed points.
 */
export function searchClusterPartition(
  points: usize, n: i32, d: i32, mean: usize, order: usize, clusterData: usize, clusters: i32,
  float32Panels: usize, float32Norms: usize, float32Scale: f64, largestFloat32Norm: f64,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize, outPositions: usize, outSquared: usize, allowed: usize,
): void {
  const layout = changetype<ClusterLayout>(pieceAt(scratch, DESCRIPTOR, q, d, clusters, k, capacity));
  layClusters(layout, clusterData, clusters, d);
  const rows = pieceAt(scratch, ROWS, q, d, clusters, k, capacity);
  const homes = pieceAt(scratch, HOMES, q, d, clusters, k, capacity);
  const bounds = pieceAt(scratch, BOUNDS, q, d, clusters, k, capacity);
  const copies = pieceAt(scratch, COPIES, q, d, clusters, k, capacity);
  const centred = pieceAt(scratch, CENTRED, q, d, clusters, k, capacity);
  const dots = pieceAt(scratch, DOTS, q, d, clusters, k, capacity);
  const distances = pieceAt(scratch, DISTANCES, q, d, clusters, k, capacity);
  const clusterOrder = pieceAt(scratch, CLUSTER_ORDER, q, d, clusters, k, capacity);
  const keys = pieceAt(scratch, CLUSTER_KEYS, q, d, clusters, k, capacity);
  const directHeap = changetype<TopKHeap>(pieceAt(scratch, DIRECT_HEAP, q, d, clusters, k, capacity));
  const counters = pieceAt(scratch, COUNTERS, q, d, clusters, k, capacity);
  store<f64>(counters, 0);
  store<f64>(counters, 0, 8);
  const rowBytes = <usize>d << 3;
  const boundBytes = <usize>clusters << 3;

  // Bounds, then the queries sorted by nearest cluster (a stable counting sort), so that a
  // group of four shares its clusters; bounds stay in the caller's row order.
  for (let r = 0; r < q; r++) {
    const home = boundClusters(queries + <usize>r * rowBytes, mean, d, clusters, layout, centred, dots, distances, bounds + <usize>r * boundBytes);
    store<i32>(homes + (<usize>r << 2), home);
  }
  let sorted = 0;
  for (let c = 0; c < clusters; c++) {
    for (let r = 0; r < q; r++) if (load<i32>(homes + (<usize>r << 2)) == c) store<i32>(rows + (<usize>(sorted++) << 2), r);
  }
  memory.copy(copies, queries, <usize>q * rowBytes);
  for (let s = 0; s < q; s++) memory.copy(queries + <usize>s * rowBytes, copies + <usize>load<i32>(rows + (<usize>s << 2)) * rowBytes, rowBytes);

  if (float32Panels == 0) {
    for (let s = 0; s < q; s++) {
      const row = load<i32>(rows + (<usize>s << 2));
      directClusterSearch(
        points, n, d, order, layout, clusters, queries + <usize>s * rowBytes, bounds + <usize>row * boundBytes, k, clusterOrder, directHeap,
        outPositions + (<usize>row * <usize>k << 2), outSquared + (<usize>row * <usize>k << 3), counters, allowed,
      );
    }
    return;
  }
  float32ClusterSearch(
    points, n, d, mean, order, layout, clusters, float32Panels, float32Norms, float32Scale, largestFloat32Norm,
    queries, q, k, capacity, scratch, rows, bounds, clusterOrder, keys, directHeap, outPositions, outSquared, counters, allowed,
  );
}

/**
 * One query's exact search on direct distances: clusters in order of its bound, each scanned
 * point by point while its bound does not exceed the k-th distance kept (a bound equal to it
 * may hide a tie with a lower index). Writes k positions and squared distances.
 */
function directClusterSearch(
  points: usize, n: i32, d: i32, order: usize, layout: ClusterLayout, clusters: i32,
  query: usize, bounds: usize, k: i32, clusterOrder: usize, heap: TopKHeap,
  outPositions: usize, outSquared: usize, counters: usize, allowed: usize,
): void {
  sortClusters(clusterOrder, bounds, clusters);
  const distances = heap.distances();
  const positions = heap.indices(k);
  let size = 0;
  const rowBytes = <usize>d << 3;
  // Points appended after the clusters were built have no bound: always measured.
  for (let p = load<i32>(layout.starts + (<usize>clusters << 2)); p < n; p++) {
    if (isAllowed(allowed, order, p)) size = offerCandidateOrdered(distances, positions, size, k, directSquaredDistance(query, points + <usize>p * rowBytes, d), p, order);
  }
  for (let i = 0; i < clusters; i++) {
    const cluster = load<i32>(clusterOrder + (<usize>i << 2));
    if (size == k && load<f64>(bounds + (<usize>cluster << 3)) > load<f64>(distances)) break;
    const first = load<i32>(layout.starts + (<usize>cluster << 2));
    const end = load<i32>(layout.starts + (<usize>(cluster + 1) << 2));
    for (let p = first; p < end; p++) {
      if (isAllowed(allowed, order, p)) size = offerCandidateOrdered(distances, positions, size, k, directSquaredDistance(query, points + <usize>p * rowBytes, d), p, order);
    }
    store<f64>(counters, load<f64>(counters, 8) + <f64>(end - first), 8);
  }
  sortCandidatesOrdered(distances, positions, size, order);
  memory.copy(outPositions, positions, <usize>k << 2);
  memory.copy(outSquared, distances, <usize>k << 3);
}

/**
 * The float32 candidate search in groups of four sorted queries (`rows`: a sorted slot's caller
 * row), then each query's recheck and proof; an unproven query goes to directClusterSearch.
 */
function float32ClusterSearch(
  points: usize, n: i32, d: i32, mean: usize, order: usize, layout: ClusterLayout, clusters: i32,
  panels32: usize, norms32: usize, scale: f64, largestNorm32: f64,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize, rows: usize, bounds: usize,
  clusterOrder: usize, keys: usize, directHeap: TopKHeap, outPositions: usize, outSquared: usize, counters: usize, allowed: usize,
): void {
  const groups = pieceAt(scratch, GROUPS, q, d, clusters, k, capacity);
  const groupNorms = pieceAt(scratch, GROUP_NORMS, q, d, clusters, k, capacity);
  const tiles = pieceAt(scratch, TILES, q, d, clusters, k, capacity);
  const heaps = pieceAt(scratch, HEAPS, q, d, clusters, k, capacity);
  const minima = pieceAt(scratch, MINIMA, q, d, clusters, k, capacity);
  const scanned = pieceAt(scratch, SCANNED, q, d, clusters, k, capacity);
  const errors = pieceAt(scratch, GROUP_ERRORS, q, d, clusters, k, capacity);
  const heapBytes = topKStateBytes(capacity);
  const rowBytes = <usize>d << 3;
  const boundBytes = <usize>clusters << 3;
  const rescale = scale * scale;
  const directShrink = 1.0 - <f64>(d + 8) * UNIT_ROUNDOFF;
  const underflow = <f64>(d + 1) * SMALLEST_SUBNORMAL * rescale;
  prepareFloat32Queries(queries, q, d, mean, scale, groups, groupNorms);
  // Each slot's float32 error once: the scan below tests it against every cluster.
  for (let s = 0; s < q; s++) {
    changetype<TopKHeap>(heaps + <usize>s * heapBytes).size = 0;
    store<f64>(errors + (<usize>s << 3), candidateErrorBound(load<f64>(groupNorms + (<usize>s << 3)), largestNorm32, d));
  }

  const groupTotal = groupCount(q);
  for (let g = 0; g < groupTotal; g++) {
    const firstSlot = g * GROUP_QUERIES;
    const members = min(GROUP_QUERIES, q - firstSlot);
    const group = groups + <usize>g * <usize>d * <usize>(GROUP_QUERIES * 4);
    // The group's clusters by its smallest bound.
    for (let c = 0; c < clusters; c++) {
      let smallest: f64 = Infinity;
      for (let m = 0; m < members; m++) {
        const row = load<i32>(rows + (<usize>(firstSlot + m) << 2));
        smallest = Math.min(smallest, load<f64>(bounds + <usize>row * boundBytes + (<usize>c << 3)));
      }
      store<f64>(keys + (<usize>c << 3), smallest);
      store<i32>(scanned + (<usize>c << 2), 0);
    }
    sortClusters(clusterOrder, keys, clusters);
    for (let i = 0; i < clusters; i++) {
      const cluster = load<i32>(clusterOrder + (<usize>i << 2));
      const first = load<i32>(layout.starts + (<usize>cluster << 2));
      const end = load<i32>(layout.starts + (<usize>(cluster + 1) << 2));
      if (end == first) continue;
      // Needed by a query whose heap is not full, or whose bound to it, in the GEMM's scaled
      // units, is within the float32 error of its worst candidate.
      let needed = false;
      for (let m = 0; m < members && !needed; m++) {
        const slot = firstSlot + m;
        const heap = changetype<TopKHeap>(heaps + <usize>slot * heapBytes);
        if (heap.size < capacity) {
          needed = true;
          continue;
        }
        const row = load<i32>(rows + (<usize>slot << 2));
        const bound = load<f64>(bounds + <usize>row * boundBytes + (<usize>cluster << 3));
        needed = bound * rescale - load<f64>(errors + (<usize>slot << 3)) <= load<f64>(heap.distances());
      }
      if (!needed) continue;
      store<i32>(scanned + (<usize>cluster << 2), 1);
      store<f64>(counters, load<f64>(counters) + <f64>(end - first));
      scanRange(n, d, order, panels32, norms32, group, groupNorms + (<usize>firstSlot << 3), members, heaps + <usize>firstSlot * heapBytes, heapBytes, capacity, tiles, minima, first, end, allowed);
    }
    // Points appended after the clusters were built have no bound: every group scans them.
    const tailStart = load<i32>(layout.starts + (<usize>clusters << 2));
    if (tailStart < n) {
      store<f64>(counters, load<f64>(counters) + <f64>(n - tailStart));
      scanRange(n, d, order, panels32, norms32, group, groupNorms + (<usize>firstSlot << 3), members, heaps + <usize>firstSlot * heapBytes, heapBytes, capacity, tiles, minima, tailStart, n, allowed);
    }
    // Recheck and prove each query of the group.
    for (let m = 0; m < members; m++) {
      const slot = firstSlot + m;
      const row = load<i32>(rows + (<usize>slot << 2));
      const query = queries + <usize>slot * rowBytes;
      const heap = changetype<TopKHeap>(heaps + <usize>slot * heapBytes);
      const size = heap.size;
      const distances = heap.distances();
      const positions = heap.indices(capacity);
      const queryBounds = bounds + <usize>row * boundBytes;
      let worstKept: f64 = size < capacity ? Infinity : -Infinity;
      for (let c = 0; c < size; c++) worstKept = Math.max(worstKept, load<f64>(distances + (<usize>c << 3)));
      for (let c = 0; c < size; c++) {
        const position = load<i32>(positions + (<usize>c << 2));
        store<f64>(distances + (<usize>c << 3), directSquaredDistance(query, points + <usize>position * rowBytes, d));
      }
      sortCandidatesOrdered(distances, positions, size, order);
      const kth = load<f64>(distances + (<usize>(k - 1) << 3));
      let proven = size >= k;
      if (proven && worstKept < Infinity) {
        const limit = (worstKept - load<f64>(errors + (<usize>slot << 3))) * directShrink - underflow;
        proven = limit > SMALLEST_PROVABLE_GAP && kth * rescale < limit;
      }
      for (let c = 0; c < clusters && proven; c++) {
        if (load<i32>(scanned + (<usize>c << 2)) != 0) continue;
        const clusterPoints = load<i32>(layout.starts + (<usize>(c + 1) << 2)) - load<i32>(layout.starts + (<usize>c << 2));
        if (clusterPoints > 0 && !(kth < load<f64>(queryBounds + (<usize>c << 3)))) proven = false;
      }
      const outP = outPositions + (<usize>row * <usize>k << 2);
      const outD = outSquared + (<usize>row * <usize>k << 3);
      if (proven) {
        memory.copy(outP, positions, <usize>k << 2);
        memory.copy(outD, distances, <usize>k << 3);
      } else {
        clusterSearchFallbacks++;
        directClusterSearch(points, n, d, order, layout, clusters, query, queryBounds, k, clusterOrder, directHeap, outP, outD, counters, allowed);
      }
    }
  }
}

/**
 * Streams positions first … end − 1 of the float32 copy past one group of `members` queries
 * (their float32 rows in `group`, norms at `groupNorms`, heaps from `heaps`, `heapBytes` apart),
 * folding each query's values for exactly those positions: a panel shared with a neighbouring
 * range is folded once for each range, its own positions each time.
 */
function scanRange(
  n: i32, d: i32, order: usize, panels32: usize, norms32: usize, group: usize, groupNorms: usize, members: i32,
  heaps: usize, heapBytes: usize, capacity: i32, tiles: usize, minima: usize, first: i32, end: i32, allowed: usize,
): void {
  const step = blockPanels(d);
  const tileStride = <usize>(step * PANEL_POINTS) << 3;
  const firstPanel = first / PANEL_POINTS;
  const endPanel = (end + PANEL_POINTS - 1) / PANEL_POINTS;
  for (let block = firstPanel; block < endPanel; block += step) {
    const count = min(step, endPanel - block);
    if (members == 1) float32DistanceGemmSingle(group, load<f64>(groupNorms), panels32, norms32, d, block, count, tiles);
    else float32DistanceGemm(group, groupNorms, panels32, norms32, d, block, count, tiles, tileStride);
    const from = max(first, block * PANEL_POINTS);
    const to = min(end, min(n, (block + count) * PANEL_POINTS));
    for (let m = 0; m < members; m++) {
      const heap = changetype<TopKHeap>(heaps + <usize>m * heapBytes);
      const tile = tiles + <usize>m * tileStride + (<usize>(from - block * PANEL_POINTS) << 3);
      heap.size = allowed != 0
        ? topKFoldAllowed(tile, to - from, from, heap.distances(), heap.indices(capacity), heap.size, capacity, minima, order, allowed)
        : topKFoldOrdered(tile, to - from, from, heap.distances(), heap.indices(capacity), heap.size, capacity, minima, order);
    }
  }
}

let clusterSearchFallbacks: i32 = 0;

/** How many queries, since the kernels were loaded, the float32 cluster search could not prove and searched directly (a diagnostic). */
export function clusterSearchFallbackQueries(): i32 {
  return clusterSearchFallbacks;
}
