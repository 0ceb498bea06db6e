// The radius search: every training point within a distance of one query, exact.

import { RangeReducer, sortCandidates } from './topk';
import { CANDIDATE_GEMM, DIRECT_DIFFERENCES, expansionErrorBound, MANHATTAN_DIFFERENCES, reducerIn, scratchBytes, UNIT_ROUNDOFF } from './stream';
import { storageIn, TrainingPoints } from './trainingPoints';

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
  const storage = storageIn<TrainingPoints>(scratch);
  storage.points = points;
  storage.pointPanels = pointPanels;
  storage.packed = packed;
  storage.pointNorms = pointNorms;
  storage.mean = mean;
  storage.largestNorm = largestPointNorm;
  storage.stored = false;
  return pointsWithin(storage, n, d, query, squaredLimit, scratch, outIndices, outSquared, pointPanels != 0, manhattan);
}

/**
 * radiusNeighbours on float32 storage (float32Storage.ts): the same points and distances, bit
 * for bit, as on float64 storage of the widened values. With `direct` (d ≤ 16, or `manhattan`)
 * the widened values' direct differences are streamed, else the expansion formed on the fly.
 */
export function storedRadiusNeighbours(
  panels: usize, pointNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64,
  query: usize, squaredLimit: f64, scratch: usize, outIndices: usize, outSquared: usize, direct: bool, manhattan: bool,
): i32 {
  const storage = storageIn<TrainingPoints>(scratch);
  storage.points = 0;
  storage.pointPanels = panels;
  storage.packed = 0;
  storage.pointNorms = pointNorms;
  storage.mean = mean;
  storage.largestNorm = largestPointNorm;
  storage.stored = true;
  return pointsWithin(storage, n, d, query, squaredLimit, scratch, outIndices, outSquared, direct, manhattan);
}

/** The search of radiusNeighbours, on either storage. */
function pointsWithin(
  storage: TrainingPoints, n: i32, d: i32, query: usize, squaredLimit: f64, scratch: usize, outIndices: usize, outSquared: usize, direct: bool, manhattan: bool,
): i32 {
  const reducer = reducerIn<RangeReducer>(scratch, 1, d);
  const list = scratch + scratchBytes(1, d, 0);
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
    if (!(squared <= squaredLimit)) continue;
    store<i32>(outIndices + (<usize>kept << 2), index);
    store<f64>(outSquared + (<usize>kept << 3), squared);
    kept++;
  }
  sortCandidates(outSquared, outIndices, kept);
  return kept;
}
