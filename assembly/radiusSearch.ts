// The radius search: every training point within a distance of one query, exact.

import { directManhattanDistance, directSquaredDistance } from './distance';
import { RangeReducer, sortCandidates } from './topk';
import {
  CANDIDATE_GEMM, DIRECT_DIFFERENCES, expansionErrorBound, MANHATTAN_DIFFERENCES, reducerIn, scratchBytes, streamDistances, UNIT_ROUNDOFF,
} from './stream';

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
