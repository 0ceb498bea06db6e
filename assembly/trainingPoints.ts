// Where a search reads the training points: float64 storage (X row-major, W1 packed, X's
// panels for small d, W1's float32 copy) or float32 storage (X's float32 panels alone; see
// float32Storage.ts). The searches (neighbourSearch.ts, radiusSearch.ts) are generic in the
// storage class, so each proof is written once and compiled for each storage; both classes
// have the same methods, and each entry lays its storage's descriptor at the start of the
// call's scratch (STORAGE_BYTES, where no other part of the scratch reaches).

import { directManhattanDistance, directSquaredDistance, panelCount } from './distance';
import { candidateErrorBound, outOfFloat32Range } from './float32Distance';
import {
  storedCandidateErrorBound, storedFloat32Searchable, storedManhattanDistance, storedSquaredDistance, storedSquaredDistancePair,
} from './storedDistance';
import { storedPointAddress } from './float32Storage';
import {
  DIRECT_DIFFERENCES, groupNorms, groupScales, SMALLEST_SUBNORMAL, STORAGE_BYTES, STORED, streamDistances, streamFloat32Distances, UNIT_ROUNDOFF,
} from './stream';

if (max(offsetof<Float64Points>(), offsetof<Float32Points>()) > STORAGE_BYTES) {
  ERROR('a storage descriptor is larger than STORAGE_BYTES');
}

/** The call's storage descriptor of type S, at the start of its scratch. */
@inline export function storageIn<S>(scratch: usize): S {
  return changetype<S>(scratch);
}

/** The proof's margin for the direct recheck's own rounding (see float32CandidateSearch). */
@inline function directShrink(d: i32): f64 {
  return 1.0 - <f64>(d + 8) * UNIT_ROUNDOFF;
}

/** X and its direct distances, row-major float64: the recheck's two candidates at once. */
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
 * Float64 storage: X row-major (`points`), W1 packed with b1 (`packed`, `pointNorms`) centred on
 * `mean`, X's panels for the direct search (`pointPanels`, or 0), and W1's float32 copy scaled
 * by `float32Scale` with its norms (`float32Panels`, `float32Norms`, or 0).
 */
@unmanaged export class Float64Points {
  points: usize;
  pointPanels: usize;
  packed: usize;
  pointNorms: usize;
  mean: usize;
  float32Panels: usize;
  float32Norms: usize;
  largestNorm: f64;
  float32Scale: f64;
  largestFloat32Norm: f64;

  /** Streams panels [firstPanel, endPanel) through layer-1 kernel `kernel` (a stream.ts code) into the reducer. */
  stream<R>(reducer: R, n: i32, d: i32, queries: usize, q: i32, scratch: usize, kernel: i32, firstPanel: i32 = 0, endPanel: i32 = panelCount(n)): void {
    const panels = kernel >= DIRECT_DIFFERENCES ? this.pointPanels : this.packed;
    streamDistances(reducer, panels, this.pointNorms, n, d, this.mean, queries, q, scratch, kernel, firstPanel, endPanel);
  }

  @inline squaredDistance(query: usize, index: i32, d: i32): f64 {
    return directSquaredDistance(query, this.points + (<usize>index * <usize>d << 3), d);
  }

  @inline manhattanDistance(query: usize, index: i32, d: i32): f64 {
    return directManhattanDistance(query, this.points + (<usize>index * <usize>d << 3), d);
  }

  /** The squared distances to points `first` and `second`, as two squaredDistance calls give them. */
  @inline squaredDistancePair(query: usize, first: i32, second: i32, d: i32): v128 {
    return directSquaredDistancePair(query, this.points + (<usize>first * <usize>d << 3), this.points + (<usize>second * <usize>d << 3), d);
  }

  @inline hasFloat32Candidates(d: i32): bool {
    return this.float32Panels != 0;
  }

  /** Whether direct brute force can stream X's panels (the GEMM search holds none: it goes row by row). */
  @inline widensPanels(): bool {
    return false;
  }

  streamFloat32<R>(reducer: R, n: i32, d: i32, queries: usize, q: i32, scratch: usize): void {
    streamFloat32Distances(reducer, this.float32Panels, this.float32Norms, n, d, this.mean, this.float32Scale, queries, q, scratch, false);
  }

  /** What the float32 values are in units of the distances: s², s the copy's scale. */
  @inline float32Rescale(): f64 {
    return this.float32Scale * this.float32Scale;
  }

  /**
   * The float32 proof's limit for query r, in the copy's scaled units: every rejected point's
   * direct distance times s² exceeds it (see float32CandidateSearch); −∞ for a query the
   * float32 GEMM could not take.
   */
  float32ProofLimit(worstKept: f64, r: i32, q: i32, d: i32, scratch: usize): f64 {
    const queryNorm = load<f64>(groupNorms(scratch, q, d) + (<usize>r << 3));
    if (outOfFloat32Range(queryNorm)) return -Infinity;
    const underflow = <f64>(d + 1) * SMALLEST_SUBNORMAL * this.float32Rescale();
    return (worstKept - candidateErrorBound(queryNorm, this.largestFloat32Norm, d)) * directShrink(d) - underflow;
  }
}

/**
 * Float32 storage: X's float32 panels (`panels`), b1 centred on `mean` (`pointNorms`) and the
 * candidate norms ‖f32(X_i − μ32)‖² (`candidateNorms`); the float64 expansion is formed from
 * the panels on the fly, and the float32 candidates are the stored values themselves.
 */
@unmanaged export class Float32Points {
  panels: usize;
  pointNorms: usize;
  candidateNorms: usize;
  mean: usize;
  largestNorm: f64;
  largestCandidateNorm: f64;

  stream<R>(reducer: R, n: i32, d: i32, queries: usize, q: i32, scratch: usize, kernel: i32, firstPanel: i32 = 0, endPanel: i32 = panelCount(n)): void {
    streamDistances(reducer, this.panels, this.pointNorms, n, d, this.mean, queries, q, scratch, kernel + STORED, firstPanel, endPanel);
  }

  @inline squaredDistance(query: usize, index: i32, d: i32): f64 {
    return storedSquaredDistance(query, storedPointAddress(this.panels, d, index), d);
  }

  @inline manhattanDistance(query: usize, index: i32, d: i32): f64 {
    return storedManhattanDistance(query, storedPointAddress(this.panels, d, index), d);
  }

  @inline squaredDistancePair(query: usize, first: i32, second: i32, d: i32): v128 {
    return storedSquaredDistancePair(query, storedPointAddress(this.panels, d, first), storedPointAddress(this.panels, d, second), d);
  }

  @inline hasFloat32Candidates(d: i32): bool {
    return storedFloat32Searchable(this.largestCandidateNorm, d);
  }

  /** Direct brute force streams the panels, widened, through the direct kernel (strided rows would cost more). */
  @inline widensPanels(): bool {
    return true;
  }

  streamFloat32<R>(reducer: R, n: i32, d: i32, queries: usize, q: i32, scratch: usize): void {
    streamFloat32Distances(reducer, this.panels, this.candidateNorms, n, d, this.mean, 1.0, queries, q, scratch, true);
  }

  /** The stored float32 values are in the data's units. */
  @inline float32Rescale(): f64 {
    return 1.0;
  }

  /** The float32 proof's limit for query r, in the data's units (see float32CandidateSearch). */
  float32ProofLimit(worstKept: f64, r: i32, q: i32, d: i32, scratch: usize): f64 {
    const queryNorm = load<f64>(groupNorms(scratch, q, d) + (<usize>r << 3));
    const scale = load<f64>(groupScales(scratch, q, d) + (<usize>r << 3));
    const underflow = <f64>(d + 1) * SMALLEST_SUBNORMAL;
    return (worstKept - storedCandidateErrorBound(queryNorm, scale, this.largestCandidateNorm, d)) * directShrink(d) - underflow;
  }
}
