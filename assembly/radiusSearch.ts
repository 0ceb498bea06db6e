// The radius search: every training point within a distance of one query, exact.

import { RangeReducer, sortCandidates } from './topk';
import { CANDIDATE_GEMM, DIRECT_DIFFERENCES, expansionErrorBound, MANHATTAN_DIFFERENCES, reducerIn, scratchBytes, UNIT_ROUNDOFF } from './stream';
import { pointsIn, storedPointsIn, TrainingPoints } from './trainingPoints';

// The metrics as radiusNeighbours takes them: what it reports for a layer-1 value z1.
const EUCLIDEAN: i32 = 0;
const COSINE: i32 = 1;
const MANHATTAN: i32 = 2;

/** The distance users see for z1, exactly as the wrapper computes it (metrics.ts distanceOf). */
@inline function reportedDistance(metric: i32, z1: f64): f64 {
  return metric == EUCLIDEAN ? Math.sqrt(z1) : metric == COSINE ? z1 / 2 : z1;
}

/**
 * Every training point whose reported distance (√z1 Euclidean, z1 / 2 cosine, z1 Manhattan, with
 * z1 computed directly: Σ(x_j − X_ij)² or Σ|x_j − X_ij|) is ≤ `radius`, for one query. With
 * `listing`, their indices go to `outIndices` and their z1 values to `outSquared` (room for n
 * each), sorted by (z1, index); without, they are only counted (no sort), so a caller can size
 * its result before asking for it. Returns how many. `squaredLimit` is a bound on z1 that every
 * such point meets (metrics.ts layerOneRadiusBound).
 *
 * The stream collects every point whose distance value can be that small — the direct value
 * itself for d ≤ 16 (`pointPanels` given), else the expansion value, which exceeds the direct
 * one by at most the expansion bound (with the direct sum's own rounding) — and each collected
 * point is then measured directly. `scratch` holds scratchBytes(1, d, 0), then n list entries.
 * Manhattan networks always have `pointPanels`.
 */
export function radiusNeighbours(
  points: usize, pointPanels: usize, packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  query: usize, squaredLimit: f64, radius: f64, metric: i32, listing: bool, scratch: usize, outIndices: usize, outSquared: usize,
): i32 {
  const storage = pointsIn(scratch, points, pointPanels, packed, pointNorms, mean, largestPointNorm, false);
  return pointsWithin(storage, n, d, query, squaredLimit, radius, metric, listing, scratch, outIndices, outSquared, pointPanels != 0);
}

/**
 * radiusNeighbours on float32 storage (float32Storage.ts): X's float32 `panels`, b1 in
 * `pointNorms`, centred on `mean`; the same points and distances, bit for bit, as on float64
 * storage of the widened values. With `direct` (d ≤ 16, or Manhattan) the widened values'
 * direct differences are streamed, else the expansion formed from the panels block by block.
 * A cosine network passes its `unitFactors` (else 0): its values widen to its unit rows.
 */
export function storedRadiusNeighbours(
  panels: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  query: usize, squaredLimit: f64, radius: f64, metric: i32, listing: bool, scratch: usize, outIndices: usize, outSquared: usize, direct: bool,
  unitFactors: usize,
): i32 {
  const storage = storedPointsIn(scratch, panels, pointNorms, mean, largestPointNorm, unitFactors);
  return pointsWithin(storage, n, d, query, squaredLimit, radius, metric, listing, scratch, outIndices, outSquared, direct);
}

/** The search of radiusNeighbours, on either storage. */
function pointsWithin(
  storage: TrainingPoints, n: i32, d: i32, query: usize, squaredLimit: f64, radius: f64, metric: i32, listing: bool,
  scratch: usize, outIndices: usize, outSquared: usize, direct: bool,
): i32 {
  const reducer = reducerIn<RangeReducer>(scratch, 1, d);
  const list = scratch + scratchBytes(1, d, 0);
  const manhattan = metric == MANHATTAN;
  if (direct) {
    reducer.begin(squaredLimit, list, n);
    storage.stream(reducer, n, d, query, 1, scratch, manhattan ? MANHATTAN_DIFFERENCES : DIRECT_DIFFERENCES);
  } else {
    let centredNorm: f64 = 0;
    for (let j = 0; j < d; j++) {
      const centred = load<f64>(query + (<usize>j << 3)) - load<f64>(storage.mean + (<usize>j << 3));
      centredNorm += centred * centred;
    }
    // The norm only scales the bound, which has room for its rounding.
    const bound = expansionErrorBound(centredNorm, storage.largestNorm, d);
    const directShrink = 1.0 - <f64>(d + 4) * UNIT_ROUNDOFF;
    reducer.begin((squaredLimit / directShrink + bound) * (1.0 + 4.0 * UNIT_ROUNDOFF), list, n);
    storage.stream(reducer, n, d, query, 1, scratch, CANDIDATE_GEMM);
  }
  const found = reducer.count;
  let kept = 0;
  for (let c = 0; c < found; c++) {
    const index = reducer.listed(c);
    const squared = manhattan ? storage.manhattanDistance(query, index, d) : storage.squaredDistance(query, index, d);
    if (!(reportedDistance(metric, squared) <= radius)) continue;
    if (listing) {
      store<i32>(outIndices + (<usize>kept << 2), index);
      store<f64>(outSquared + (<usize>kept << 3), squared);
    }
    kept++;
  }
  if (listing) sortCandidates(outSquared, outIndices, kept);
  return kept;
}

/**
 * radiusNeighbours for q queries (rows of `queries`), one after another: the pool's form of it.
 * Query r's count goes to counts[r]; with `listing`, its neighbours to `outIndices` and
 * `outSquared` from entry r·n (room for n each). `scratch` holds scratchBytes(1, d, 0), then n
 * list entries.
 */
export function radiusNeighbourRows(
  points: usize, pointPanels: usize, packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  queries: usize, q: i32, squaredLimit: f64, radius: f64, metric: i32, listing: bool, scratch: usize, counts: usize, outIndices: usize, outSquared: usize,
): void {
  for (let r = 0; r < q; r++) {
    const query = queries + (<usize>r * <usize>d << 3);
    const at = <usize>r * <usize>n;
    const count = radiusNeighbours(
      points, pointPanels, packed, pointNorms, mean, n, d, largestPointNorm,
      query, squaredLimit, radius, metric, listing, scratch, outIndices + (at << 2), outSquared + (at << 3),
    );
    store<i32>(counts + (<usize>r << 2), count);
  }
}

/** radiusNeighbourRows on float32 storage (storedRadiusNeighbours for each query). */
export function storedRadiusNeighbourRows(
  panels: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  queries: usize, q: i32, squaredLimit: f64, radius: f64, metric: i32, listing: bool, scratch: usize, counts: usize, outIndices: usize, outSquared: usize,
  direct: bool, unitFactors: usize,
): void {
  for (let r = 0; r < q; r++) {
    const query = queries + (<usize>r * <usize>d << 3);
    const at = <usize>r * <usize>n;
    const count = storedRadiusNeighbours(
      panels, pointNorms, mean, n, d, largestPointNorm,
      query, squaredLimit, radius, metric, listing, scratch, outIndices + (at << 2), outSquared + (at << 3), direct, unitFactors,
    );
    store<i32>(counts + (<usize>r << 2), count);
  }
}
