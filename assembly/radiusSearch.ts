// The radius search: every training point within a distance of one query, exact.

import { RangeReducer, sortCandidates } from './topk';
import { CANDIDATE_GEMM, expansionErrorBound, reducerIn, scratchBytes, UNIT_ROUNDOFF } from './stream';
import { COSINE, directLayer, DOT, EUCLIDEAN, MANHATTAN } from './metrics';
import { pointsIn, storedPointsIn, TrainingPoints } from './trainingPoints';

/**
 * Whether a point at layer-1 value z1 is within `radius`, exactly as the wrapper decides it
 * (metrics.ts withinRadius): its reported distance (√z1, z1 / 2 or z1) is ≤ radius; for the dot
 * metric, whose reported value is the inner product −z1, that is ≥ radius (negation is exact).
 */
@inline function withinRadius(metric: i32, z1: f64, radius: f64): bool {
  if (metric == DOT) return -z1 >= radius;
  return (metric == EUCLIDEAN ? Math.sqrt(z1) : metric == COSINE ? z1 / 2 : z1) <= radius;
}

/** z1 of point `index` computed directly in `metric`: Σ(x_j − X_ij)², Σ|x_j − X_ij| or −Σ x_j·X_ij. */
@inline function directValue(storage: TrainingPoints, metric: i32, query: usize, index: i32, d: i32): f64 {
  if (metric == MANHATTAN) return storage.manhattanDistance(query, index, d);
  return metric == DOT ? storage.dotProduct(query, index, d) : storage.squaredDistance(query, index, d);
}

/**
 * Every training point whose reported distance (√z1 Euclidean, z1 / 2 cosine, z1 Manhattan, with
 * z1 computed directly: Σ(x_j − X_ij)² or Σ|x_j − X_ij|) is ≤ `radius` (dot: whose inner
 * product −z1, z1 = −Σ x_j·X_ij, is ≥ `radius`), for one query. With
 * `listing`, their indices go to `outIndices` and their z1 values to `outSquared` (room for n
 * each), sorted by (z1, index); without, they are only counted (no sort), so a caller can size
 * its result before asking for it. Returns how many. `squaredLimit` is a bound on z1 that every
 * such point meets (metrics.ts layerOneRadiusBound).
 *
 * The stream collects every point whose distance value can be that small — the direct value
 * itself for d ≤ 16 (`pointPanels` given), else the expansion value, which exceeds the direct
 * one by at most the expansion bound (with the direct sum's own rounding) — and each collected
 * point is then measured directly. `scratch` holds scratchBytes(1, d, 0), then n list entries.
 * Manhattan and dot networks always have `pointPanels`.
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
 * storage of the widened values. With `direct` (d ≤ 16, Manhattan or dot) the widened values'
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
  if (direct) {
    reducer.begin(squaredLimit, list, n);
    storage.stream(reducer, n, d, query, 1, scratch, directLayer(metric));
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
    const squared = directValue(storage, metric, query, index, d);
    if (!withinRadius(metric, squared, radius)) continue;
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
