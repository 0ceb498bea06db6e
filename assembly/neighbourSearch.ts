// The exact k-nearest search: candidates from a GEMM's expansion (float64, or float32: W1's copy
// or float32 storage's values) rechecked with direct differences and proven to be brute force's
// selection, or direct differences alone for small d; a query the proof cannot settle gets a
// second pass or direct brute force. Both storages (searchNeighbours: float64,
// searchStoredNeighbours: float32) run the same functions on their TrainingPoints descriptor
// (trainingPoints.ts), so each proof is written once; the functions are generic in the
// descriptor's class so that bench/f32store can run them on a variant of its own.

import { PANEL_POINTS } from './distance';
import { offerCandidate, RangeReducer, sortCandidates, TopKHeap, topKStateBytes, TopKReducer } from './topk';
import {
  blockPanels, CANDIDATE_GEMM, DIRECT_DIFFERENCES, expansionErrorBound, float32BlockPanels, minimaOffset, pairNorms, reducerIn, scratchBytes, statesOffset, UNIT_ROUNDOFF,
} from './stream';
import { directLayer } from './metrics';
import { pointsIn, storedPointsIn } from './trainingPoints';

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
 * `metric` is a metrics.ts code: for Manhattan and dot the network always has `pointPanels`, and
 * the values are the Manhattan distances Σ|x_j − X_ij| (or the dot metric's −Σ x_j·X_ij)
 * instead of squares, exact as they come.
 */
export function searchNeighbours(
  points: usize, pointPanels: usize, packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  float32Panels: usize, float32Norms: usize, float32Scale: f64, largestFloat32Norm: f64,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize, metric: i32, allowed: usize,
): void {
  const storage = pointsIn(scratch, points, pointPanels, packed, pointNorms, mean, largestPointNorm, false);
  storage.float32Panels = float32Panels;
  storage.float32Norms = float32Norms;
  storage.float32Scale = float32Scale;
  storage.largestFloat32Norm = largestFloat32Norm;
  search(storage, n, d, queries, q, k, capacity, scratch, outIndices, outSquared, pointPanels != 0, metric, allowed);
}

/**
 * searchNeighbours on float32 storage (float32Storage.ts): X's float32 `panels`, b1 in
 * `pointNorms` and the candidate norms in `candidateNorms` (from packFloat32Norms, with their
 * largest values), centred on `mean`. With `direct` (`capacity` = k) the search runs on direct
 * values of the widened values (d ≤ 16, Manhattan or dot); otherwise the float32 GEMM on the
 * stored values chooses the candidates, and a query it cannot prove (or every query, when the
 * values are too large for float32's range: storedFloat32Searchable) goes through the float64
 * search on the expansion formed on the fly. The answers are searchNeighbours' on float64
 * storage of the widened values, bit for bit, whatever path each query takes. A cosine
 * network passes its `unitFactors` (else 0): its values widen to its unit rows, and its float32
 * candidates are those unit rows rounded, block by block (centreUnitPanels).
 */
export function searchStoredNeighbours(
  panels: usize, pointNorms: usize, candidateNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64, largestCandidateNorm: f64,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize, direct: bool, metric: i32, unitFactors: usize, allowed: usize,
): void {
  const storage = storedPointsIn(scratch, panels, pointNorms, mean, largestPointNorm, unitFactors);
  storage.float32Panels = panels;
  storage.float32Norms = candidateNorms;
  storage.float32Scale = 1.0;
  storage.largestFloat32Norm = largestCandidateNorm;
  search(storage, n, d, queries, q, k, capacity, scratch, outIndices, outSquared, direct, metric, allowed);
}

/**
 * The search of searchNeighbours, on the points of `storage` (a TrainingPoints, or a class with
 * its methods). With `allowed` (a byte per point, 1 = allowed; 0: none) it searches the allowed
 * points alone, at least k of them: every fold and offer passes over the others, so each proof
 * holds over the allowed points as it holds over all, and a heap that did not fill holds every
 * allowed point.
 */
export function search<S>(
  storage: S, n: i32, d: i32, queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize, direct: bool, metric: i32, allowed: usize = 0,
): void {
  if (direct) {
    directPanelSearch(storage, n, d, queries, q, k, scratch, outIndices, outSquared, directLayer(metric), allowed);
    return;
  }
  // Few points per candidate: direct brute force is exact by construction and costs less
  // than the GEMM plus the recheck of a large share of the points.
  if (n <= DIRECT_SEARCH_FACTOR * capacity && storage.widensPanels()) {
    directPanelSearch(storage, n, d, queries, q, k, scratch, outIndices, outSquared, DIRECT_DIFFERENCES, allowed);
    return;
  }
  if (n <= DIRECT_SEARCH_FACTOR * capacity) {
    const heap = changetype<TopKHeap>(scratch + statesOffset(q, d));
    for (let r = 0; r < q; r++) {
      directNeighbours(storage, n, d, queries + (<usize>r * <usize>d << 3), k, heap.distances(), heap.indices(capacity), allowed);
      writeNeighbours(outIndices + (<usize>r * <usize>k << 2), outSquared + (<usize>r * <usize>k << 3), heap.indices(capacity), heap.distances(), k);
    }
    return;
  }
  if (!storage.hasFloat32Candidates(d)) {
    searchInFloat64(storage, n, d, queries, q, k, capacity, scratch, outIndices, outSquared, allowed);
    return;
  }
  const failures = float32CandidateSearch(storage, n, d, queries, q, k, capacity, scratch, outIndices, outSquared, allowed);
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
  searchInFloat64(storage, n, d, queries, failures, k, capacity, scratch, outIndices, outSquared, allowed);
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
function searchInFloat64<S>(
  storage: S, n: i32, d: i32, queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize, allowed: usize,
): void {
  if (candidateSearch(storage, n, d, queries, q, k, capacity, scratch, outIndices, outSquared, allowed) == 0) return;
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
    if (limit < Infinity && rangeSearch(storage, n, d, query, k, limit, scratch, room, indices, squared, allowed)) continue;
    // Direct brute force: on float32 storage its panels streamed through the direct kernel (one
    // query's layout of the scratch stays below the rows set aside past it), else row by row.
    if (storage.widensPanels()) {
      directPanelSearch(storage, n, d, query, 1, k, scratch, indices, squared, DIRECT_DIFFERENCES, allowed);
      continue;
    }
    directNeighbours(storage, n, d, query, k, heap.distances(), heap.indices(k), allowed);
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
 * heap empty, for a stream whose tiles hold `tilePanels` panels (blockPanels for the float64
 * stream, float32BlockPanels for the float32 one), over the points `allowed` marks (0: all).
 */
function startTopK(n: i32, d: i32, q: i32, capacity: i32, scratch: usize, tilePanels: i32, allowed: usize): TopKReducer {
  const reducer = reducerIn<TopKReducer>(scratch, q, d);
  // One tile holds every point and at most 16 are kept (past 8, from a row of at least 16:
  // fillLimit's sixteen columns): select from the whole row (smallestOfRow), unfiltered.
  const selectFromRow = allowed == 0 && n <= tilePanels * PANEL_POINTS && (capacity <= 8 || (capacity <= 16 && n >= 16));
  reducer.begin(scratch + statesOffset(q, d), q, capacity, selectFromRow, scratch + minimaOffset(q, d), allowed);
  return reducer;
}

/**
 * The search for small d: direct distances from X's panels, so the k kept per query are
 * exact as they come (each heap holds k, not k + margin) and need neither recheck nor proof.
 */
function directPanelSearch<S>(
  storage: S, n: i32, d: i32, queries: usize, q: i32, k: i32, scratch: usize,
  outIndices: usize, outSquared: usize, kernel: i32, allowed: usize,
): void {
  const reducer = startTopK(n, d, q, k, scratch, blockPanels(d), allowed);
  storage.stream(reducer, n, d, queries, q, scratch, kernel);
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
function candidateSearch<S>(
  storage: S, n: i32, d: i32, queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize, allowed: usize,
): i32 {
  const reducer = startTopK(n, d, q, capacity, scratch, blockPanels(d), allowed);
  storage.stream(reducer, n, d, queries, q, scratch, CANDIDATE_GEMM);
  const queryNorms = pairNorms(scratch, q, d);
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
    recomputeDirectly(storage, query, d, indices, distances, size);
    sortCandidates(distances, indices, size);
    const kth = load<f64>(distances + (<usize>(k - 1) << 3));
    const bound = expansionErrorBound(load<f64>(queryNorms + (<usize>r << 3)), storage.largestNorm, d);
    // A heap that kept every point (or every allowed point: it did not fill) needs no proof.
    if (capacity < n && size == capacity && !(kth < (worstKept - bound) * directShrink)) {
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

// Below this (in the float32 values' units: for W1's copy the data's largest centred value is
// then about 1) a float32 proof is not attempted: the arithmetic of its test would itself round in float64's
// subnormal range.
const SMALLEST_PROVABLE_GAP: f64 = 1e-290;

/**
 * The float32 GEMM with a `capacity`-candidate heap per query, then the direct float64 recheck
 * and the proof; like candidateSearch, but a query it cannot prove only gets FAILED as its first
 * index (it goes to the float64 search). Returns how many failed.
 *
 * The proof, in the float32 values' units (distances times ρ: s² for W1's copy scaled by s, 1 for
 * float32 storage): every rejected point r has a float32 value z_r ≥ W, the largest kept one,
 * so its exact distance times ρ is ≥ W − B (B from candidateErrorBound, or
 * storedCandidateErrorBound), and its directly computed distance D̂_r, whose relative rounding
 * is at most (d + 2)·2^−53 and whose squares can each lose half a float64 subnormal, satisfies
 * D̂_r·ρ ≥ (W − B)(1 − (d + 2)·2^−53) − d·2^−1075·ρ. The test
 * kth·ρ < (W − B)(1 − (d + 8)·2^−53) − (d + 1)·2^−1074·ρ (float32ProofLimit) implies kth < D̂_r
 * for every rejected r, with room for this line's own roundings; kth·ρ is exact (ρ a power of
 * two in range) or, where it rounds in the subnormal range, still below the test's float64 limit
 * only if the exact product is (or +∞ where it overflows, failing the test). When ρ < 1 the last
 * term rounds to 0, but the limit is then required above SMALLEST_PROVABLE_GAP, so the margin
 * between (d + 8) and (d + 2) roundings dwarfs d·2^−1075. So the k best candidates by
 * (D̂, index) are the k best of all n.
 */
function float32CandidateSearch<S>(
  storage: S, n: i32, d: i32, queries: usize, q: i32, k: i32, capacity: i32, scratch: usize,
  outIndices: usize, outSquared: usize, allowed: usize,
): i32 {
  const reducer = startTopK(n, d, q, capacity, scratch, float32BlockPanels(d), allowed);
  storage.streamFloat32(reducer, n, d, queries, q, scratch);
  const rescale = storage.float32Rescale();
  let failures = 0;
  for (let r = 0; r < q; r++) {
    const heap = reducer.heap(r);
    const size = heap.size;
    const distances = heap.distances();
    const indices = heap.indices(capacity);
    let worstKept: f64 = -Infinity;
    for (let c = 0; c < size; c++) worstKept = Math.max(worstKept, load<f64>(distances + (<usize>c << 3)));
    // A filtered heap that did not fill holds every allowed point: nothing to prove.
    const everyAllowed = allowed != 0 && size < capacity;
    const limit = everyAllowed ? Infinity : storage.float32ProofLimit(worstKept, r, q, d, scratch);
    let proven = limit > SMALLEST_PROVABLE_GAP;
    if (proven) {
      recomputeDirectly(storage, queries + (<usize>r * <usize>d << 3), d, indices, distances, size);
      sortCandidates(distances, indices, size);
      proven = everyAllowed || load<f64>(distances + (<usize>(k - 1) << 3)) * rescale < limit;
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
function rangeSearch<S>(
  storage: S, n: i32, d: i32, query: usize, k: i32, limit: f64, scratch: usize, room: i32,
  outIndices: usize, outSquared: usize, allowed: usize,
): bool {
  const heap = changetype<TopKHeap>(scratch + statesOffset(1, d));
  const heapDistances = heap.distances();
  const heapIndices = heap.indices(k);
  const reducer = reducerIn<RangeReducer>(scratch, 1, d);
  reducer.begin(limit, changetype<usize>(heap) + topKStateBytes(k), room);
  storage.stream(reducer, n, d, query, 1, scratch, CANDIDATE_GEMM);
  if (!reducer.complete()) return false;
  const found = reducer.count;
  let size = 0;
  for (let c = 0; c < found; c++) {
    const index = reducer.listed(c);
    if (allowed != 0 && load<u8>(allowed + <usize>index) == 0) continue;
    size = offerCandidate(heapDistances, heapIndices, size, k, storage.squaredDistance(query, index, d), index);
  }
  sortCandidates(heapDistances, heapIndices, size);
  writeNeighbours(outIndices, outSquared, heapIndices, heapDistances, k);
  return true;
}

/**
 * Replaces `size` candidates' expansion values by their direct distances, two candidates per
 * f64x2: each lane sums its own differences in dimension order, so the result is bit-for-bit
 * the scalar direct distance, with two dependency chains in flight instead of one.
 */
function recomputeDirectly<S>(storage: S, query: usize, d: i32, indices: usize, distances: usize, size: i32): void {
  let c = 0;
  for (; c + 1 < size; c += 2) {
    const first = load<i32>(indices + (<usize>c << 2));
    const second = load<i32>(indices + (<usize>(c + 1) << 2));
    v128.store(distances + (<usize>c << 3), storage.squaredDistancePair(query, first, second, d));
  }
  if (c < size) store<f64>(distances + (<usize>c << 3), storage.squaredDistance(query, load<i32>(indices + (<usize>c << 2)), d));
}

/** Brute force with direct differences over all n points: the fallback for a doubtful query. */
function directNeighbours<S>(storage: S, n: i32, d: i32, query: usize, k: i32, distances: usize, indices: usize, allowed: usize): void {
  let size = 0;
  let worst: f64 = Infinity;
  for (let i = 0; i < n; i++) {
    if (allowed != 0 && load<u8>(allowed + <usize>i) == 0) continue;
    const squared = storage.squaredDistance(query, i, d);
    if (size == k && !(squared < worst)) continue;
    size = offerCandidate(distances, indices, size, k, squared, i);
    if (size == k) worst = load<f64>(distances);
  }
  sortCandidates(distances, indices, size);
}
