// The kernels' entry points. The wrapper (src/wasm.ts) calls one entry per chunk of queries;
// each streams the packed weights through the distance GEMM in blocks (or, for the k-nearest
// search with d ≤ 16, X's panels through the direct-difference kernel) and hands every tile of
// distances to one reducer (top-k, online softmax, a range's list, or a plain copy for `forward`).
//
// A reducer is an object in memory, not a set of globals: its descriptor (TopKReducer,
// SoftmaxReducer, RangeReducer, CopyReducer) lies in the call's scratch and says where the
// per-query states are and how to fold a tile into them. The streams are generic in the
// reducer, so each folds through a direct call, and instances of the kernels on one shared
// memory (a worker pool), each with scratch of its own, never share a reducer's state.

import {
  candidateGemm, directDistancePanels, directManhattanDistance, directSquaredDistance, distanceGemm, manhattanDistancePanels, panelCount, pairCount,
  prepareQueries, PANEL_POINTS,
} from './distance';
import { MINIMA_BYTES, offerCandidate, RangeReducer, sortCandidates, TopKHeap, topKStateBytes, TopKReducer } from './topk';
import { finishBlockStates, softmaxStateBytes, SoftmaxReducer } from './softmax';
import { candidateErrorBound, float32DistanceGemm, groupBytes, groupCount, GROUP_QUERIES, outOfFloat32Range, prepareFloat32Queries } from './float32Distance';

export { allocate, release, capacityBytes, allocatedBytes, allocatedRegions } from './memory';
export { computeMean, packPoints, packWeights } from './distance';
export { candidateErrorBound, float32Scale, packFloat32Weights } from './float32Distance';
export { argmaxRows, projectOneHot } from './project';
export { stableExp } from './softmax';
export { topKStateBytes } from './topk';
export { boxPartitionScratchBytes, buildBoxPartition, growBoxPartition, partitionLeaves, partitionNodes } from './partition';
export { boxSearchScratchBytes, boxSearchWork, positionsToIndices, searchBoxPartition } from './leafSearch';
export { buildClusterPartition, clusterDataBytes, clusterPartitionScratchBytes, permuteRows } from './clusterPartition';
export { clusterSearchFallbackQueries, clusterSearchScratchBytes, clusterSearchWork, searchClusterPartition } from './clusterSearch';
export { countBoxRadius, countClusterRadius, radiusBoxPartition, radiusBoxScratchBytes, radiusClusterPartition, radiusClusterScratchBytes } from './radiusSearch';

// A block of training points is sized to stay in L2 (≈256 KiB of packed weights) while every
// query pair of the chunk streams over it, so the weights come from memory once per chunk.
const BLOCK_BYTES: i32 = 256 * 1024;
const MAX_BLOCK_PANELS: i32 = 128;
const UNIT_ROUNDOFF: f64 = 1.1102230246251565e-16; // 2^-53
const SMALLEST_SUBNORMAL: f64 = 5e-324;
const DIRECT_SEARCH_FACTOR: i32 = 4;
// Up to this many features the k-nearest search runs on direct differences
// (directDistancePanels): a subtraction per product costs less than the GEMM's epilogue, the
// k + margin candidates' recheck and the proof. Measured (k = 5): at d = 4 the direct search
// takes 0.75× the GEMM path's time for Iris-size calls and 0.3–0.7× for n = 1 000–10 000; at
// d = 16 about 1.05× for n = 10 000 but 0.5× for n = 1 000; at d = 32, 1.25×.
const DIRECT_PANEL_DIMENSIONS: i32 = 16;

/** The largest d for which a network packs X for the direct search (packPoints). */
export function directPanelDimensions(): i32 {
  return DIRECT_PANEL_DIMENSIONS;
}

function blockPanels(d: i32): i32 {
  const panels = BLOCK_BYTES / (d * PANEL_POINTS * 8);
  return panels < 1 ? 1 : panels > MAX_BLOCK_PANELS ? MAX_BLOCK_PANELS : panels;
}

/** Like blockPanels for the float32 copy: its panels take half the bytes, so twice as many fit. */
function float32BlockPanels(d: i32): i32 {
  const panels = BLOCK_BYTES / (d * PANEL_POINTS * 4);
  return panels < 1 ? 1 : panels > MAX_BLOCK_PANELS ? MAX_BLOCK_PANELS : panels;
}

@inline function align16(bytes: usize): usize {
  return (bytes + 15) & ~<usize>15;
}

// Scratch layout for one chunk of q queries, in this order: query pairs (interleaved per
// dimension), query norms, two tile rows, the reducer's descriptor (REDUCER_BYTES), the top-k
// folds' minima (MINIMA_BYTES), then the reducer's per-query state (`stateBytes` each: a top-k
// heap, or an online-softmax state). Everything a call writes lives here, in the caller's
// region, and the static data holds constants only: instances on one shared memory then never
// write to the same bytes.
function pairsBytes(q: i32, d: i32): usize { return align16(<usize>pairCount(q) * <usize>d * 16); }
function normsBytes(q: i32): usize { return align16(<usize>(pairCount(q) * 2) << 3); }
function tileBytes(d: i32): usize { return <usize>(blockPanels(d) * PANEL_POINTS) << 3; }
// The float32 candidate search lays the same front out as query groups (float32), their norms
// and one tile per query of a group; the reducer states start after the larger of the two.
function groupNormsBytes(q: i32): usize { return align16(<usize>(groupCount(q) * GROUP_QUERIES) << 3); }
function float32TileBytes(d: i32): usize { return <usize>(float32BlockPanels(d) * PANEL_POINTS) << 3; }
function float32FrontBytes(q: i32, d: i32): usize {
  return align16(groupBytes(q, d)) + groupNormsBytes(q) + <usize>GROUP_QUERIES * float32TileBytes(d);
}

// Room for the largest reducer descriptor; the compiler checks that each one fits.
const REDUCER_BYTES: usize = 64;
if (max(max(offsetof<TopKReducer>(), offsetof<SoftmaxReducer>()), max(offsetof<RangeReducer>(), offsetof<CopyReducer>())) > REDUCER_BYTES) {
  ERROR('a reducer descriptor is larger than REDUCER_BYTES');
}

/** Where the reducer's descriptor lies in a chunk's scratch: after the larger front. */
function reducerOffset(q: i32, d: i32): usize {
  const float64Front = pairsBytes(q, d) + normsBytes(q) + 2 * tileBytes(d);
  const float32Front = float32FrontBytes(q, d);
  return float64Front > float32Front ? float64Front : float32Front;
}

/** The call's reducer descriptor of type R, in the scratch of a chunk of q queries. */
@inline function reducerIn<R>(scratch: usize, q: i32, d: i32): R {
  return changetype<R>(scratch + reducerOffset(q, d));
}

/** Where the top-k folds' minima lie in a chunk's scratch. */
function minimaOffset(q: i32, d: i32): usize {
  return reducerOffset(q, d) + REDUCER_BYTES;
}

/** Where the reducer states start in a chunk's scratch. */
function statesOffset(q: i32, d: i32): usize {
  return minimaOffset(q, d) + MINIMA_BYTES;
}

export function scratchBytes(q: i32, d: i32, stateBytes: usize): usize {
  return statesOffset(q, d) + <usize>q * stateBytes;
}

// Which layer-1 kernel streamDistances runs. The k-nearest search selects on the expansion
// (CANDIDATE_GEMM, multiply-adds fused in the relaxed-SIMD build) and rechecks directly; what
// users read from the expansion itself (forward's z1, the softmax over all points) takes
// DISTANCE_GEMM, whose bits are the same in both builds.
const CANDIDATE_GEMM: i32 = 0;
const DISTANCE_GEMM: i32 = 1;
const DIRECT_DIFFERENCES: i32 = 2;
const MANHATTAN_DIFFERENCES: i32 = 3;

/**
 * Streams the training points of panels firstPanel … endPanel − 1 (all n by default) past the
 * chunk's q queries, tile by tile, into `reducer.fold(query, tile, count, firstIndex)`: with a
 * GEMM `kernel`, the expansion on W1 (`panels` from packWeights, `pointNorms`, centred on
 * `mean`); with DIRECT_DIFFERENCES, direct differences on X (`panels` from packPoints;
 * `pointNorms` and `mean` unused). Tiles start every blockPanels(d) panels from panel 0,
 * whatever the range. R is a reducer class: each one gets a copy of this loop of its own, its
 * fold called directly.
 */
function streamDistances<R>(
  reducer: R, panels: usize, pointNorms: usize, n: i32, d: i32, mean: usize, queries: usize, q: i32, scratch: usize, kernel: i32,
  firstPanel: i32 = 0, endPanel: i32 = panelCount(n),
): void {
  const pairs = scratch;
  const queryNorms = pairs + pairsBytes(q, d);
  const tileA = queryNorms + normsBytes(q);
  const tileB = tileA + tileBytes(d);
  // Raw queries are the centred ones with μ = 0: x − 0 is x exactly.
  const direct = kernel == DIRECT_DIFFERENCES || kernel == MANHATTAN_DIFFERENCES;
  prepareQueries(queries, q, d, direct ? 0 : mean, pairs, queryNorms);
  const step = blockPanels(d);
  const pairTotal = pairCount(q);
  for (let first = firstPanel; first < endPanel; first += step) {
    const count = min(step, endPanel - first);
    const firstIndex = first * PANEL_POINTS;
    const valid = min(count * PANEL_POINTS, n - firstIndex);
    for (let pair = 0; pair < pairTotal; pair++) {
      const queryPair = pairs + <usize>pair * <usize>d * 16;
      if (kernel == DIRECT_DIFFERENCES) {
        directDistancePanels(queryPair, panels, d, first, count, tileA, tileB);
      } else if (kernel == MANHATTAN_DIFFERENCES) {
        manhattanDistancePanels(queryPair, panels, d, first, count, tileA, tileB);
      } else {
        const normA = load<f64>(queryNorms + (<usize>(2 * pair) << 3));
        const normB = load<f64>(queryNorms + (<usize>(2 * pair + 1) << 3));
        if (kernel == CANDIDATE_GEMM) candidateGemm(queryPair, normA, normB, panels, pointNorms, d, first, count, tileA, tileB);
        else distanceGemm(queryPair, normA, normB, panels, pointNorms, d, first, count, tileA, tileB);
      }
      reducer.fold(2 * pair, tileA, valid, firstIndex);
      if (2 * pair + 1 < q) reducer.fold(2 * pair + 1, tileB, valid, firstIndex);
    }
  }
}

/**
 * Rounding bound of the expansion for one query: |z1 − Σ(x_j − X_ij)²| ≤ bound for every
 * training point. Centring, the two norms and the d-term dot product each lose at most a few
 * units of roundoff of (‖x̃‖ + max‖X̃_i‖)²; the factor 2d + 16 covers them with room to spare,
 * and the last term covers underflow in the products.
 *
 * The same bound holds for candidateGemm in both builds. It is derived in the standard model,
 * where each operation's result is (exact)(1 + δ) + η with |δ| ≤ u and |η| ≤ half the smallest
 * subnormal, and each dot-product step s + a·b is charged two roundings: the product's and the
 * sum's. A fused multiply-add (relaxed SIMD) rounds that step once: it is the same step with
 * the product's δ = 0 and one η in place of two. Every error term of the fused sum is thus
 * one of the unfused sum's or smaller, whichever rounding the engine picks for each lane and
 * each step, so a bound that holds for all δ, η of the unfused sum holds for the fused one.
 * The norms, the epilogue and the direct recheck are never fused.
 */
function expansionErrorBound(queryNorm: f64, largestPointNorm: f64, d: i32): f64 {
  const scale = Math.sqrt(queryNorm) + Math.sqrt(largestPointNorm);
  return <f64>(2 * d + 16) * UNIT_ROUNDOFF * scale * scale + <f64>(2 * d + 16) * SMALLEST_SUBNORMAL;
}

/**
 * The k nearest training points of each of q queries, exact: indices and squared distances
 * Σ(x_j − X_ij)² (computed directly) ascending, ties toward the lower index.
 *
 * Up to DIRECT_PANEL_DIMENSIONS features (`pointPanels` given, `capacity` = k) the search runs
 * on direct differences and is exact as it goes (directPanelSearch). Beyond, a GEMM's expansion
 * selects `capacity` ≥ k candidates, whose distances are recomputed directly and proven to be
 * the brute-force selection. With the float32 copy (`float32Panels` given, from
 * packFloat32Weights with `float32Scale`) the candidates come from the float32 GEMM
 * (float32CandidateSearch); a query it cannot prove goes through the float64 search
 * (searchInFloat64). The query rows may be reordered (they are the call's scratch).
 * With `manhattan` the network always has `pointPanels`, and the values are the Manhattan
 * distances Σ|x_j − X_ij| instead of squares, exact as they come.
 */
export function searchNeighbours(
  points: usize, pointPanels: usize, packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  float32Panels: usize, float32Norms: usize, float32Scale: f64, largestFloat32Norm: f64,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize, manhattan: bool,
): void {
  if (pointPanels != 0) {
    directPanelSearch(pointPanels, n, d, queries, q, k, scratch, outIndices, outSquared, manhattan ? MANHATTAN_DIFFERENCES : DIRECT_DIFFERENCES);
    return;
  }
  // Few points per candidate: direct brute force is exact by construction and costs less
  // than the GEMM plus the recheck of a large share of the points.
  if (n <= DIRECT_SEARCH_FACTOR * capacity) {
    const heap = changetype<TopKHeap>(scratch + statesOffset(q, d));
    for (let r = 0; r < q; r++) {
      directNeighbours(points, n, d, queries + (<usize>r * <usize>d << 3), k, heap.distances(), heap.indices(capacity));
      writeNeighbours(outIndices + (<usize>r * <usize>k << 2), outSquared + (<usize>r * <usize>k << 3), heap.indices(capacity), heap.distances(), k);
    }
    return;
  }
  if (float32Panels == 0) {
    searchInFloat64(points, packed, pointNorms, mean, n, d, largestPointNorm, queries, q, k, capacity, scratch, outIndices, outSquared);
    return;
  }
  const failures = float32CandidateSearch(
    points, float32Panels, float32Norms, mean, float32Scale, largestFloat32Norm, n, d,
    queries, q, k, capacity, scratch, outIndices, outSquared,
  );
  float32Unproven += failures;
  if (failures == 0) return;
  // The unproven queries go through the float64 search together, so its blocks of weights are
  // still shared: their rows are moved to the front, the proven answers are set aside past the
  // scratch that search uses for `failures` queries (statesOffset(q) + failures states: the
  // other q − failures states have room for them), and everything is put back in row order.
  const stateBytes = topKStateBytes(capacity);
  const entryBytes = <usize>k * 12 + 4;
  const setAside = scratch + statesOffset(q, d) + <usize>failures * stateBytes;
  const rowBytes = <usize>d << 3;
  let proven = 0;
  let unproven = 0;
  for (let r = 0; r < q; r++) {
    const indices = outIndices + (<usize>r * <usize>k << 2);
    if (load<i32>(indices) == FAILED) {
      if (unproven != r) memory.copy(queries + <usize>unproven * rowBytes, queries + <usize>r * rowBytes, rowBytes);
      unproven++;
      continue;
    }
    const entry = setAside + <usize>proven * entryBytes;
    store<i32>(entry, r);
    memory.copy(entry + 4, indices, <usize>k << 2);
    memory.copy(entry + 4 + (<usize>k << 2), outSquared + (<usize>r * <usize>k << 3), <usize>k << 3);
    proven++;
  }
  searchInFloat64(points, packed, pointNorms, mean, n, d, largestPointNorm, queries, failures, k, capacity, scratch, outIndices, outSquared);
  // From the last row down, every row's source (a set-aside answer, or an earlier row of the
  // float64 answers) has not been overwritten yet.
  let nextProven = proven - 1;
  let nextUnproven = failures - 1;
  for (let r = q - 1; r >= 0; r--) {
    const indices = outIndices + (<usize>r * <usize>k << 2);
    const squared = outSquared + (<usize>r * <usize>k << 3);
    const entry = setAside + <usize>nextProven * entryBytes;
    if (nextProven >= 0 && load<i32>(entry) == r) {
      memory.copy(indices, entry + 4, <usize>k << 2);
      memory.copy(squared, entry + 4 + (<usize>k << 2), <usize>k << 3);
      nextProven--;
    } else {
      if (nextUnproven != r) {
        memory.copy(indices, outIndices + (<usize>nextUnproven * <usize>k << 2), <usize>k << 2);
        memory.copy(squared, outSquared + (<usize>nextUnproven * <usize>k << 3), <usize>k << 3);
      }
      nextUnproven--;
    }
  }
}

/**
 * The float64 expansion's search: candidates from the GEMM, then the proof (candidateSearch).
 * A query that fails it (ties at the boundary) is searched again alone, collecting every point
 * whose expansion value could hide a distance up to its k-th candidate's; only if that set
 * would outgrow the scratch (norms that dwarf the distances) does it get direct brute force.
 * Uses scratchBytes(q, d, topKStateBytes(capacity)) of scratch, no more.
 */
function searchInFloat64(
  points: usize, packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize,
): void {
  if (candidateSearch(points, packed, pointNorms, mean, n, d, largestPointNorm, queries, q, k, capacity, scratch, outIndices, outSquared) == 0) return;
  // A k-heap for the queries that need direct brute force.
  const heap = changetype<TopKHeap>(scratch + statesOffset(q, d));
  // The second pass has the whole scratch for one query: a k-heap, then the collected indices.
  const room = <i32>((scratchBytes(q, d, topKStateBytes(capacity)) - statesOffset(1, d) - <usize>k * 12 - 16) >> 2);
  for (let r = 0; r < q; r++) {
    const indices = outIndices + (<usize>r * <usize>k << 2);
    if (load<i32>(indices) != FAILED) continue;
    const squared = outSquared + (<usize>r * <usize>k << 3);
    const query = queries + (<usize>r * <usize>d << 3);
    const limit = load<f64>(squared);
    if (limit < Infinity && rangeSearch(points, packed, pointNorms, mean, n, d, query, k, limit, scratch, room, indices, squared)) continue;
    directNeighbours(points, n, d, query, k, heap.distances(), heap.indices(k));
    writeNeighbours(indices, squared, heap.indices(k), heap.distances(), k);
  }
}

const FAILED: i32 = -1;

let float32Unproven: i32 = 0;

/**
 * How many queries, since the kernels were loaded, the float32 candidate search could not
 * prove and handed to the float64 search (a diagnostic: it says which path answered). A
 * global of this instance, unlike the reducers' state, because it outlives every call: it
 * counts this instance's calls, and the queries a worker pool's instances search are not
 * counted here.
 */
export function float32UnprovenQueries(): i32 {
  return float32Unproven;
}

/** Copies one query's k results (indices, squared distances) to the output. */
function writeNeighbours(outIndices: usize, outSquared: usize, indices: usize, squared: usize, k: i32): void {
  for (let j = 0; j < k; j++) {
    store<i32>(outIndices + (<usize>j << 2), load<i32>(indices + (<usize>j << 2)));
    store<f64>(outSquared + (<usize>j << 3), load<f64>(squared + (<usize>j << 3)));
  }
}

/**
 * Sets up the call's top-k reducer (in `scratch`) to keep `capacity` candidates per query, each
 * heap empty.
 */
function startTopK(n: i32, d: i32, q: i32, capacity: i32, scratch: usize): TopKReducer {
  const reducer = reducerIn<TopKReducer>(scratch, q, d);
  // One tile holds every point and at most 8 are kept: select from the whole row (smallestOfRow).
  const selectFromRow = n <= blockPanels(d) * PANEL_POINTS && capacity <= 8;
  reducer.begin(scratch + statesOffset(q, d), q, capacity, selectFromRow, scratch + minimaOffset(q, d));
  return reducer;
}

/**
 * The search for small d: direct distances from packPoints' panels, so the k kept per query are
 * exact as they come (each heap holds k, not k + margin) and need neither recheck nor proof.
 */
function directPanelSearch(
  pointPanels: usize, n: i32, d: i32, queries: usize, q: i32, k: i32, scratch: usize,
  outIndices: usize, outSquared: usize, kernel: i32,
): void {
  const reducer = startTopK(n, d, q, k, scratch);
  streamDistances(reducer, pointPanels, 0, n, d, 0, queries, q, scratch, kernel);
  for (let r = 0; r < q; r++) {
    reducer.finish(r);
    const heap = reducer.heap(r);
    writeNeighbours(outIndices + (<usize>r * <usize>k << 2), outSquared + (<usize>r * <usize>k << 3), heap.indices(k), heap.distances(), k);
  }
}

/**
 * One pass of the GEMM with a `capacity`-candidate heap per query, then the direct recheck and
 * the proof. Proven queries get their answer. The others get FAILED as their first index and,
 * as their first squared distance, the expansion value below which their neighbours must lie.
 * Returns how many failed.
 */
function candidateSearch(
  points: usize, packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize,
): i32 {
  const reducer = startTopK(n, d, q, capacity, scratch);
  streamDistances(reducer, packed, pointNorms, n, d, mean, queries, q, scratch, CANDIDATE_GEMM);
  const queryNorms = scratch + pairsBytes(q, d);
  const directShrink = 1.0 - <f64>(d + 4) * UNIT_ROUNDOFF;
  let failures = 0;
  for (let r = 0; r < q; r++) {
    const heap = reducer.heap(r);
    const size = heap.size;
    const distances = heap.distances();
    const indices = heap.indices(capacity);
    const query = queries + (<usize>r * <usize>d << 3);
    let worstKept: f64 = 0;
    for (let c = 0; c < size; c++) worstKept = Math.max(worstKept, load<f64>(distances + (<usize>c << 3)));
    recomputeDirectly(query, points, d, indices, distances, size);
    sortCandidates(distances, indices, size);
    const kth = load<f64>(distances + (<usize>(k - 1) << 3));
    const bound = expansionErrorBound(load<f64>(queryNorms + (<usize>r << 3)), largestPointNorm, d);
    if (capacity < n && !(kth < (worstKept - bound) * directShrink)) {
      // A neighbour lies at most at kth (directly computed), so its expansion value is at most
      // kth / directShrink + bound; the slack factor covers this line's own two roundings.
      // When the bound swallows every kept value the second pass would collect nearly all n:
      // an infinite limit sends the query straight to direct brute force instead.
      const limit = worstKept - bound > 0 ? (kth / directShrink + bound) * (1.0 + 4.0 * UNIT_ROUNDOFF) : Infinity;
      store<i32>(outIndices + (<usize>r * <usize>k << 2), FAILED);
      store<f64>(outSquared + (<usize>r * <usize>k << 3), limit);
      failures++;
      continue;
    }
    writeNeighbours(outIndices + (<usize>r * <usize>k << 2), outSquared + (<usize>r * <usize>k << 3), indices, distances, k);
  }
  return failures;
}

/**
 * Streams all n points of the float32 copy past the chunk's q queries, one group of
 * GROUP_QUERIES at a time, into `reducer.fold` (the scaled float32 expansion values, as
 * float64). Generic in the reducer class R, as streamDistances.
 */
function streamFloat32Distances<R>(
  reducer: R, panels32: usize, pointNorms: usize, n: i32, d: i32, mean: usize, scale: f64, queries: usize, q: i32, scratch: usize,
): void {
  const groups = scratch;
  const queryNorms = groups + align16(groupBytes(q, d));
  const tiles = queryNorms + groupNormsBytes(q);
  const tileStride = float32TileBytes(d);
  prepareFloat32Queries(queries, q, d, mean, scale, groups, queryNorms);
  const panelTotal = panelCount(n);
  const step = float32BlockPanels(d);
  const groupTotal = groupCount(q);
  for (let first = 0; first < panelTotal; first += step) {
    const count = min(step, panelTotal - first);
    const firstIndex = first * PANEL_POINTS;
    const valid = min(count * PANEL_POINTS, n - firstIndex);
    for (let g = 0; g < groupTotal; g++) {
      const group = groups + <usize>g * <usize>d * <usize>(GROUP_QUERIES * 4);
      float32DistanceGemm(group, queryNorms + (<usize>(g * GROUP_QUERIES) << 3), panels32, pointNorms, d, first, count, tiles, tileStride);
      for (let lane = 0; lane < GROUP_QUERIES; lane++) {
        const query = g * GROUP_QUERIES + lane;
        if (query < q) reducer.fold(query, tiles + <usize>lane * tileStride, valid, firstIndex);
      }
    }
  }
}

// Below this (in scaled units, where the data's largest centred value is about 1) a float32
// proof is not attempted: the arithmetic of its test would itself round in float64's
// subnormal range.
const SMALLEST_PROVABLE_GAP: f64 = 1e-290;

/**
 * The float32 GEMM with a `capacity`-candidate heap per query, then the direct float64 recheck
 * and the proof; like candidateSearch, but a query it cannot prove only gets FAILED as its first
 * index (it goes to the float64 search). Returns how many failed.
 *
 * The proof, in scaled units (distances times s²): every rejected point r has a float32 value
 * z_r ≥ W, the largest kept one, so its exact scaled distance is ≥ W − B (B from
 * candidateErrorBound), and its directly computed distance D̂_r, whose relative rounding is at
 * most (d + 2)·2^−53 and whose squares can each lose half a float64 subnormal, satisfies
 * D̂_r·s² ≥ (W − B)(1 − (d + 2)·2^−53) − d·2^−1075·s². The test
 * kth·s² < (W − B)(1 − (d + 8)·2^−53) − (d + 1)·2^−1074·s² implies kth < D̂_r for every
 * rejected r, with room for this line's own roundings; kth·s² is exact (s² a power of two in
 * range) or, where it rounds in the subnormal range, still below the test's float64 limit only
 * if the exact product is (or +∞ where it overflows, failing the test). When s² < 1 the last
 * term rounds to 0, but the limit is then required above SMALLEST_PROVABLE_GAP, so the margin
 * between (d + 8) and (d + 2) roundings dwarfs d·2^−1075. So the k best candidates by
 * (D̂, index) are the k best of all n.
 */
function float32CandidateSearch(
  points: usize, panels32: usize, pointNorms: usize, mean: usize, scale: f64, largestPointNorm: f64, n: i32, d: i32,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize,
): i32 {
  const reducer = startTopK(n, d, q, capacity, scratch);
  streamFloat32Distances(reducer, panels32, pointNorms, n, d, mean, scale, queries, q, scratch);
  const queryNorms = scratch + align16(groupBytes(q, d));
  const rescale = scale * scale;
  const directShrink = 1.0 - <f64>(d + 8) * UNIT_ROUNDOFF;
  const underflow = <f64>(d + 1) * SMALLEST_SUBNORMAL * rescale;
  let failures = 0;
  for (let r = 0; r < q; r++) {
    const queryNorm = load<f64>(queryNorms + (<usize>r << 3));
    const heap = reducer.heap(r);
    const size = heap.size;
    const distances = heap.distances();
    const indices = heap.indices(capacity);
    let proven = !outOfFloat32Range(queryNorm);
    if (proven) {
      let worstKept: f64 = -Infinity;
      for (let c = 0; c < size; c++) worstKept = Math.max(worstKept, load<f64>(distances + (<usize>c << 3)));
      const query = queries + (<usize>r * <usize>d << 3);
      recomputeDirectly(query, points, d, indices, distances, size);
      sortCandidates(distances, indices, size);
      const kth = load<f64>(distances + (<usize>(k - 1) << 3));
      const limit = (worstKept - candidateErrorBound(queryNorm, largestPointNorm, d)) * directShrink - underflow;
      proven = limit > SMALLEST_PROVABLE_GAP && kth * rescale < limit;
    }
    if (!proven) {
      store<i32>(outIndices + (<usize>r * <usize>k << 2), FAILED);
      failures++;
      continue;
    }
    writeNeighbours(outIndices + (<usize>r * <usize>k << 2), outSquared + (<usize>r * <usize>k << 3), indices, distances, k);
  }
  return failures;
}

/**
 * The second pass for one query: every point whose expansion value is at most `limit` (so every
 * point that can be among the k nearest) is collected, its distance computed directly, and the
 * k best kept by (distance, index). False when more points qualify than `room` holds.
 */
function rangeSearch(
  points: usize, packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  query: usize, k: i32, limit: f64, scratch: usize, room: i32,
  outIndices: usize, outSquared: usize,
): bool {
  const heap = changetype<TopKHeap>(scratch + statesOffset(1, d));
  const heapDistances = heap.distances();
  const heapIndices = heap.indices(k);
  const reducer = reducerIn<RangeReducer>(scratch, 1, d);
  reducer.begin(limit, changetype<usize>(heap) + topKStateBytes(k), room);
  streamDistances(reducer, packed, pointNorms, n, d, mean, query, 1, scratch, CANDIDATE_GEMM);
  if (!reducer.complete()) return false;
  const found = reducer.count;
  let size = 0;
  for (let c = 0; c < found; c++) {
    const index = reducer.listed(c);
    size = offerCandidate(heapDistances, heapIndices, size, k, directSquaredDistance(query, points + (<usize>index * <usize>d << 3), d), index);
  }
  sortCandidates(heapDistances, heapIndices, size);
  writeNeighbours(outIndices, outSquared, heapIndices, heapDistances, k);
  return true;
}

/**
 * Replaces `size` candidates' expansion values by their direct distances, two candidates per
 * f64x2: each lane sums its own differences in dimension order, so the result is bit-for-bit
 * the scalar directSquaredDistance, with two dependency chains in flight instead of one.
 */
function recomputeDirectly(query: usize, points: usize, d: i32, indices: usize, distances: usize, size: i32): void {
  let c = 0;
  for (; c + 1 < size; c += 2) {
    const first = points + (<usize>load<i32>(indices + (<usize>c << 2)) * <usize>d << 3);
    const second = points + (<usize>load<i32>(indices + (<usize>(c + 1) << 2)) * <usize>d << 3);
    let sum = f64x2.splat(0);
    for (let j = 0; j < d; j++) {
      const offset = <usize>j << 3;
      const point = f64x2.replace_lane(f64x2.splat(load<f64>(first + offset)), 1, load<f64>(second + offset));
      const difference = f64x2.sub(f64x2.splat(load<f64>(query + offset)), point);
      sum = f64x2.add(sum, f64x2.mul(difference, difference));
    }
    v128.store(distances + (<usize>c << 3), sum);
  }
  if (c < size) {
    const point = points + (<usize>load<i32>(indices + (<usize>c << 2)) * <usize>d << 3);
    store<f64>(distances + (<usize>c << 3), directSquaredDistance(query, point, d));
  }
}

/** Brute force with direct differences over all n points: the fallback for a doubtful query. */
function directNeighbours(points: usize, n: i32, d: i32, query: usize, k: i32, distances: usize, indices: usize): void {
  let size = 0;
  let worst: f64 = Infinity;
  for (let i = 0; i < n; i++) {
    const squared = directSquaredDistance(query, points + (<usize>i * <usize>d << 3), d);
    if (size == k && !(squared < worst)) continue;
    size = offerCandidate(distances, indices, size, k, squared, i);
    if (size == k) worst = load<f64>(distances);
  }
  sortCandidates(distances, indices, size);
}

// The softmax over all points folds fixed blocks of whole tiles into states of their own, then
// merges the blocks' states in a fixed tree. The blocks depend on n, d and the number of classes
// alone, so a pool that gives each worker a range of blocks rounds exactly as one thread that
// folds them all. A query's states take at most SOFTMAX_STATES_BYTES (or one block's): forward's
// z2 projects on n "classes", where 32 states of n values each would cost far more than its
// output, and states take chunk room from queries (at 64 KiB, a 1 000-class network's chunks
// shrank from 240 queries to 56 and its sync calls slowed by 6–11 %; 16 KiB still gives it 2 blocks).
const MAX_SOFTMAX_BLOCKS: i32 = 32;
const SOFTMAX_STATES_BYTES: usize = 16 * 1024;

function softmaxTilesPerBlock(n: i32, d: i32, classes: i32): i32 {
  const step = blockPanels(d);
  const tiles = (panelCount(n) + step - 1) / step;
  const fitting = <i32>(SOFTMAX_STATES_BYTES / softmaxStateBytes(classes));
  const blocks = fitting < 1 ? 1 : fitting > MAX_SOFTMAX_BLOCKS ? MAX_SOFTMAX_BLOCKS : fitting;
  return (tiles + blocks - 1) / blocks;
}

/** How many blocks of training points the softmax over all points folds separately (1 … 32). */
export function softmaxBlockCount(n: i32, d: i32, classes: i32): i32 {
  const panelsPerBlock = softmaxTilesPerBlock(n, d, classes) * blockPanels(d);
  return (panelCount(n) + panelsPerBlock - 1) / panelsPerBlock;
}

/** The bytes of one query's states (one per block) for the softmax over all points. */
export function softmaxQueryStateBytes(n: i32, d: i32, classes: i32): usize {
  return <usize>softmaxBlockCount(n, d, classes) * softmaxStateBytes(classes);
}

/**
 * Folds blocks firstBlock … endBlock − 1 of the training points into their online-softmax
 * states, for q queries: query r's state of block b at
 * `states + r·softmaxQueryStateBytes + b·softmaxStateBytes`. Other blocks' states are untouched,
 * so workers may fill one `states` region side by side.
 */
export function softmaxBlockStates(
  packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
  queries: usize, q: i32, scratch: usize, firstBlock: i32, endBlock: i32, states: usize, manhattan: bool,
): void {
  const panelsPerBlock = softmaxTilesPerBlock(n, d, classes) * blockPanels(d);
  const reducer = reducerIn<SoftmaxReducer>(scratch, q, d);
  reducer.begin(
    states, softmaxQueryStateBytes(n, d, classes), panelsPerBlock * PANEL_POINTS, labels, targets, classes, regression, lambda,
    q, firstBlock, endBlock,
  );
  const endPanel = min(endBlock * panelsPerBlock, panelCount(n));
  const kernel = manhattan ? MANHATTAN_DIFFERENCES : DISTANCE_GEMM;
  streamDistances(reducer, packed, pointNorms, n, d, mean, queries, q, scratch, kernel, firstBlock * panelsPerBlock, endPanel);
}

/**
 * Merges each query's block states (as softmaxBlockStates left them, every block folded) in a
 * fixed pairwise tree, in place, and writes the class probabilities (or regression estimates):
 * q × classes values to `output`.
 */
export function softmaxMergeBlocks(states: usize, n: i32, d: i32, q: i32, classes: i32, lambda: f64, output: usize): void {
  const blocks = softmaxBlockCount(n, d, classes);
  const stateBytes = softmaxStateBytes(classes);
  const queryStride = softmaxQueryStateBytes(n, d, classes);
  for (let r = 0; r < q; r++) {
    finishBlockStates(states + <usize>r * queryStride, blocks, stateBytes, classes, lambda, output + (<usize>r * <usize>classes << 3));
  }
}

/**
 * softmax(−λ·z1) over all n points, projected on the classes (or targets): every block folded
 * online, then merged. The states live in `scratch`, sized by scratchBytes(q, d,
 * softmaxQueryStateBytes(n, d, classes)).
 */
export function softmaxScores(
  packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
  queries: usize, q: i32, scratch: usize, output: usize, manhattan: bool,
): void {
  const states = scratch + statesOffset(q, d);
  softmaxBlockStates(packed, pointNorms, mean, n, d, labels, targets, classes, regression, lambda, queries, q, scratch, 0, softmaxBlockCount(n, d, classes), states, manhattan);
  softmaxMergeBlocks(states, n, d, q, classes, lambda, output);
}

/** The copy reducer of `forward`: each tile goes to its place in the q × `rowLength` `output`. */
@unmanaged class CopyReducer {
  output: usize;
  rowLength: i32;

  begin(output: usize, rowLength: i32): void {
    this.output = output;
    this.rowLength = rowLength;
  }

  @inline fold(query: i32, tile: usize, count: i32, firstIndex: i32): void {
    memory.copy(this.output + ((<usize>query * <usize>this.rowLength + <usize>firstIndex) << 3), tile, <usize>count << 3);
  }
}

/** Layer 1 itself, q × n, for `forward`. */
export function layerOneDistances(
  packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  queries: usize, q: i32, scratch: usize, output: usize, manhattan: bool,
): void {
  const reducer = reducerIn<CopyReducer>(scratch, q, d);
  reducer.begin(output, n);
  streamDistances(reducer, packed, pointNorms, n, d, mean, queries, q, scratch, manhattan ? MANHATTAN_DIFFERENCES : DISTANCE_GEMM);
}

/**
 * Every training point whose direct squared distance Σ(x_j − X_ij)² is ≤ `squaredLimit`, for one
 * query: their indices to `outIndices` and squared distances to `outSquared` (room for n each),
 * sorted by (distance, index); returns how many. The wrapper derives the limit from a radius
 * and trims the sorted list by the metric's own distance.
 *
 * The stream collects every point whose distance value can be that small — the direct value
 * itself for d ≤ 16 (`pointPanels` given), else the expansion value, which exceeds the direct
 * one by at most the expansion bound (with the direct sum's own rounding) — and each collected
 * point is then measured directly. `scratch` holds scratchBytes(1, d, 0), then n list entries.
 * With `manhattan` (always with `pointPanels`) the distance and its limit are Σ|x_j − X_ij|.
 */
export function radiusNeighbours(
  points: usize, pointPanels: usize, packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  query: usize, squaredLimit: f64, scratch: usize, outIndices: usize, outSquared: usize, manhattan: bool,
): i32 {
  const reducer = reducerIn<RangeReducer>(scratch, 1, d);
  const list = scratch + scratchBytes(1, d, 0);
  if (pointPanels != 0) {
    reducer.begin(squaredLimit, list, n);
    streamDistances(reducer, pointPanels, 0, n, d, 0, query, 1, scratch, manhattan ? MANHATTAN_DIFFERENCES : DIRECT_DIFFERENCES);
  } else {
    let centredNorm: f64 = 0;
    for (let j = 0; j < d; j++) {
      const centred = load<f64>(query + (<usize>j << 3)) - load<f64>(mean + (<usize>j << 3));
      centredNorm += centred * centred;
    }
    // The norm only scales the bound, which has room for its rounding.
    const bound = expansionErrorBound(centredNorm, largestPointNorm, d);
    const directShrink = 1.0 - <f64>(d + 4) * UNIT_ROUNDOFF;
    reducer.begin((squaredLimit / directShrink + bound) * (1.0 + 4.0 * UNIT_ROUNDOFF), list, n);
    streamDistances(reducer, packed, pointNorms, n, d, mean, query, 1, scratch, CANDIDATE_GEMM);
  }
  const found = reducer.count;
  let kept = 0;
  for (let c = 0; c < found; c++) {
    const index = reducer.listed(c);
    const point = points + (<usize>index * <usize>d << 3);
    const squared = manhattan ? directManhattanDistance(query, point, d) : directSquaredDistance(query, point, d);
    if (!(squared <= squaredLimit)) continue;
    store<i32>(outIndices + (<usize>kept << 2), index);
    store<f64>(outSquared + (<usize>kept << 3), squared);
    kept++;
  }
  sortCandidates(outSquared, outIndices, kept);
  return kept;
}
