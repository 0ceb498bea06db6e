// Where a search reads the training points: float64 storage (X row-major, W1 packed, X's
// panels for small d, W1's float32 copy) or float32 storage (X's float32 panels alone; see
// float32Storage.ts). Each entry lays a TrainingPoints descriptor at the start of the call's
// scratch (STORAGE_BYTES, where no other part of the scratch reaches), and the searches
// (neighbourSearch.ts, radiusSearch.ts) ask it for tiles, direct distances and the float32
// proof's limit, so each proof is written once for both storages. The storage is a flag read
// once per stream or per distance, not a type, so the kernels hold one copy of each search:
// specialising each for each storage at compile time made each build 3.3 KB larger (32.5 KB
// against 29.2) and the searches no faster in bench/f32store.

import { directDotProduct, directManhattanDistance, directSquaredDistance, panelCount } from './distance';
import { candidateErrorBound, outOfFloat32Range } from './float32Distance';
import {
  storedCandidateErrorBound, storedDotProduct, storedFloat32Searchable, storedManhattanDistance, storedSquaredDistance, storedSquaredDistancePair,
  storedUnitCandidateErrorBound, storedUnitSingleErrorBound, storedUnitSquaredDistance, storedUnitSquaredDistancePair,
} from './storedDistance';
import { storedPointAddress, unitScaleAddress, UNIT_NORMS_OFFSET } from './float32Storage';
import {
  DIRECT_DIFFERENCES, groupNorms, groupScales, singleQueryCentreProducts, SMALLEST_SUBNORMAL, STORAGE_BYTES, STORED, streamDistances, streamFloat32Distances, UNIT_ROUNDOFF,
} from './stream';

if (offsetof<TrainingPoints>() > STORAGE_BYTES) {
  ERROR('the storage descriptor is larger than STORAGE_BYTES');
}

/** The call's storage descriptor (of type S: TrainingPoints, or a benchmark's variant), at the start of its scratch. */
@inline export function storageIn<S>(scratch: usize): S {
  return changetype<S>(scratch);
}

/** The float32 proof's margin for the direct recheck's own rounding (see float32CandidateSearch). */
@inline export function float32ProofShrink(d: i32): f64 {
  return 1.0 - <f64>(d + 8) * UNIT_ROUNDOFF;
}

/** Two rows' direct squared distances at once, row-major float64: each lane the bits of directSquaredDistance. */
@inline function directSquaredDistancePair(query: usize, first: usize, second: usize, d: i32): v128 {
  let sum = f64x2.splat(0);
  for (let j = 0; j < d; j++) {
    const offset = <usize>j << 3;
    const point = f64x2.replace_lane(f64x2.splat(load<f64>(first + offset)), 1, load<f64>(second + offset));
    const difference = f64x2.sub(f64x2.splat(load<f64>(query + offset)), point);
    sum = f64x2.add(sum, f64x2.mul(difference, difference));
  }
  return sum;
}

/**
 * The training points of one call. Float64 storage (`stored` false): X row-major (`points`),
 * W1 packed with b1 (`packed`, `pointNorms`) centred on `mean`, X's panels for the direct search
 * (`pointPanels`, or 0), and the float32 candidates' values: W1's copy scaled by `float32Scale`
 * with its norms (`float32Panels`, `float32Norms`, or 0). Float32 storage (`stored`): X's float32
 * panels as both `pointPanels` and `float32Panels`, b1 in `pointNorms`, the candidate norms in
 * `float32Norms`, `float32Scale` 1; no `points` nor `packed` (the expansion is formed from the
 * panels block by block). A cosine network on float32 storage has its `unitFactors` (else 0):
 * every value it reads widens to its unit row's (float32Storage.ts), and its float32
 * candidates are made from those unit values, block by block (centreUnitPanels).
 */
@unmanaged export class TrainingPoints {
  points: usize;
  pointPanels: usize;
  packed: usize;
  pointNorms: usize;
  mean: usize;
  float32Panels: usize;
  float32Norms: usize;
  unitFactors: usize;
  largestNorm: f64;
  float32Scale: f64;
  largestFloat32Norm: f64;
  stored: bool;

  /** Streams panels [firstPanel, endPanel) through layer-1 kernel `kernel` (a stream.ts code) into the reducer. */
  stream<R>(reducer: R, n: i32, d: i32, queries: usize, q: i32, scratch: usize, kernel: i32, firstPanel: i32 = 0, endPanel: i32 = panelCount(n)): void {
    const panels = this.stored || kernel >= DIRECT_DIFFERENCES ? this.pointPanels : this.packed;
    streamDistances(
      reducer, panels, this.pointNorms, n, d, this.mean, queries, q, scratch, this.stored ? kernel + STORED : kernel, firstPanel, endPanel, this.unitFactors,
    );
  }

  squaredDistance(query: usize, index: i32, d: i32): f64 {
    if (this.unitFactors != 0) {
      const factors = unitScaleAddress(this.unitFactors, index);
      return storedUnitSquaredDistance(query, storedPointAddress(this.pointPanels, d, index), load<f64>(factors), load<f64>(factors + UNIT_NORMS_OFFSET), d);
    }
    if (this.stored) return storedSquaredDistance(query, storedPointAddress(this.pointPanels, d, index), d);
    return directSquaredDistance(query, this.points + (<usize>index * <usize>d << 3), d);
  }

  manhattanDistance(query: usize, index: i32, d: i32): f64 {
    if (this.stored) return storedManhattanDistance(query, storedPointAddress(this.pointPanels, d, index), d);
    return directManhattanDistance(query, this.points + (<usize>index * <usize>d << 3), d);
  }

  /** The dot metric's z1 = −Σ_j x_j·X_ij, as dotProductPanels gives it. */
  dotProduct(query: usize, index: i32, d: i32): f64 {
    if (this.stored) return storedDotProduct(query, storedPointAddress(this.pointPanels, d, index), d);
    return directDotProduct(query, this.points + (<usize>index * <usize>d << 3), d);
  }

  /** The squared distances to points `first` and `second`, as two squaredDistance calls give them. */
  squaredDistancePair(query: usize, first: i32, second: i32, d: i32): v128 {
    if (this.unitFactors != 0) {
      return storedUnitSquaredDistancePair(
        query, storedPointAddress(this.pointPanels, d, first), storedPointAddress(this.pointPanels, d, second),
        unitScaleAddress(this.unitFactors, first), unitScaleAddress(this.unitFactors, second), d,
      );
    }
    if (this.stored) {
      return storedSquaredDistancePair(query, storedPointAddress(this.pointPanels, d, first), storedPointAddress(this.pointPanels, d, second), d);
    }
    return directSquaredDistancePair(query, this.points + (<usize>first * <usize>d << 3), this.points + (<usize>second * <usize>d << 3), d);
  }

  /** Whether the float32 candidates can be searched: W1's copy exists, or float32 storage's values are small enough for float32. */
  hasFloat32Candidates(d: i32): bool {
    return this.stored ? storedFloat32Searchable(this.largestFloat32Norm, d) : this.float32Panels != 0;
  }

  /**
   * Whether direct brute force streams X's panels, widened, through the direct kernel (float32
   * storage: strided rows would cost more); float64 storage's GEMM search holds no panels and
   * goes row by row.
   */
  @inline widensPanels(): bool {
    return this.stored;
  }

  streamFloat32<R>(reducer: R, n: i32, d: i32, queries: usize, q: i32, scratch: usize): void {
    streamFloat32Distances(reducer, this.float32Panels, this.float32Norms, n, d, this.mean, this.float32Scale, queries, q, scratch, this.stored, true, this.unitFactors);
  }

  /** What the float32 values are in units of the distances: s² for W1's copy scaled by s, 1 for float32 storage. */
  @inline float32Rescale(): f64 {
    return this.float32Scale * this.float32Scale;
  }

  /**
   * The float32 proof's limit for query r, in the float32 values' units: every rejected point's
   * direct distance times float32Rescale exceeds it (see float32CandidateSearch); −∞ for a query
   * the float32 GEMM could not take.
   */
  float32ProofLimit(worstKept: f64, r: i32, q: i32, d: i32, scratch: usize): f64 {
    const queryNorm = load<f64>(groupNorms(scratch, q, d) + (<usize>r << 3));
    let bound: f64;
    if (this.stored) {
      const scale = load<f64>(groupScales(scratch, q, d) + (<usize>r << 3));
      if (this.unitFactors == 0) {
        bound = storedCandidateErrorBound(queryNorm, scale, this.largestFloat32Norm, d);
      } else {
        bound = storedUnitCandidateErrorBound(queryNorm, scale, this.largestFloat32Norm, d);
        // One query ran storedUnitGemmSingle on the blocks whose scales allow it, and centred the others.
        if (q == 1) bound = Math.max(bound, storedUnitSingleErrorBound(queryNorm, scale, this.largestFloat32Norm, singleQueryCentreProducts(scratch, d), d));
      }
    } else {
      if (outOfFloat32Range(queryNorm)) return -Infinity;
      bound = candidateErrorBound(queryNorm, this.largestFloat32Norm, d);
    }
    return (worstKept - bound) * float32ProofShrink(d) - <f64>(d + 1) * SMALLEST_SUBNORMAL * this.float32Rescale();
  }
}

/** The descriptor, in `scratch`, of the training points' layouts, norms and centre (every search's common start; `stored`: float32 storage). */
export function pointsIn(scratch: usize, points: usize, pointPanels: usize, packed: usize, pointNorms: usize, mean: usize, largestPointNorm: f64, stored: bool): TrainingPoints {
  const storage = storageIn<TrainingPoints>(scratch);
  storage.points = points;
  storage.pointPanels = pointPanels;
  storage.packed = packed;
  storage.pointNorms = pointNorms;
  storage.mean = mean;
  storage.largestNorm = largestPointNorm;
  storage.stored = stored;
  storage.unitFactors = 0;
  return storage;
}

/** The descriptor of float32-stored points: their panels, norms, centre and (cosine; else 0) unit factors. */
export function storedPointsIn(scratch: usize, panels: usize, pointNorms: usize, mean: usize, largestPointNorm: f64, unitFactors: usize): TrainingPoints {
  const storage = pointsIn(scratch, 0, panels, 0, pointNorms, mean, largestPointNorm, true);
  storage.unitFactors = unitFactors;
  return storage;
}
