// The float32-storage benchmark's kernels (bench/f32store/index.ts compiles this file): every
// export of the shipped module, from the same sources, plus what only the benchmark needs —
// one pass over a region (the memory bound a single query meets), sweeps of each layer-1
// kernel over a block of panels (their speed apart from any search), and the k-nearest search
// with the rejected float32 variant, uncentred, so that its proven share can be set against the
// centred one's on the same data.
export * from '../../assembly/index';

import { distanceGemm, panelCount } from '../../assembly/distance';
import { float32DistanceGemm } from '../../assembly/float32Distance';
import {
  expandFloat32Panels, storedCandidateErrorBound, storedFloat32Gemm, storedFloat32GemmCentring, storedFloat32Searchable, storedSquaredDistance, storedSquaredDistancePair,
} from '../../assembly/storedDistance';
import { storedPointAddress } from '../../assembly/float32Storage';
import { EUCLIDEAN } from '../../assembly/metrics';
import { search } from '../../assembly/neighbourSearch';
import { groupNorms, groupScales, SMALLEST_SUBNORMAL, STORED, streamDistances, streamFloat32Distances } from '../../assembly/stream';
import { float32ProofShrink } from '../../assembly/trainingPoints';

// One pass over a region: the probe's float32 stream (bench/probe/stream.asm.ts).
export { streamSumF32 as streamSum } from '../probe/stream.asm';

export const PACKED_DISTANCE = 0;
export const STORED_DISTANCE = 1;
export const FLOAT32_COPY = 2;
export const STORED_FLOAT32 = 3;
export const STORED_FLOAT32_UNCENTRED = 4;

/**
 * `rounds` sweeps of one layer-1 kernel over panels [0, panels): for each of `units` query units
 * (pairs for the float64 GEMMs, groups of four for the float32 ones, laid out at `queries`,
 * d·16 bytes apart) one call over the whole block, tiles written to `tiles`. STORED_DISTANCE
 * expands the block into `expanded` once per sweep (W1 from `mean`: μ), and STORED_FLOAT32's first
 * unit centres it there as it goes (`mean`: μ32), as the streams do once per chunk.
 */
export function sweep(
  kernel: i32, queries: usize, units: i32, norms: usize, scales: usize, weights: usize, pointNorms: usize, mean: usize, d: i32, panels: i32,
  tiles: usize, tileStride: usize, expanded: usize, rounds: i32,
): void {
  for (let round = 0; round < rounds; round++) {
    if (kernel == STORED_DISTANCE) expandFloat32Panels(weights, mean, d, 0, panels, expanded);
    for (let unit = 0; unit < units; unit++) {
      const query = queries + <usize>unit * <usize>d * 16;
      switch (kernel) {
        case PACKED_DISTANCE: distanceGemm(query, 1, 1, weights, pointNorms, d, 0, panels, tiles, tiles + tileStride); break;
        case STORED_DISTANCE: distanceGemm(query, 1, 1, expanded, pointNorms, d, 0, panels, tiles, tiles + tileStride); break;
        case FLOAT32_COPY: float32DistanceGemm(query, norms, weights, pointNorms, d, 0, panels, tiles, tileStride); break;
        case STORED_FLOAT32:
          if (unit == 0) storedFloat32GemmCentring(query, norms, scales, weights, pointNorms, mean, expanded, d, 0, panels, tiles, tileStride);
          else storedFloat32Gemm(query, norms, scales, expanded, pointNorms, d, 0, panels, tiles, tileStride);
          break;
        default: storedFloat32Gemm(query, norms, scales, weights, pointNorms, d, 0, panels, tiles, tileStride);
      }
    }
  }
}

/**
 * Float32 storage searched by the uncentred float32 GEMM (`float32Norms` = ‖X_i‖²): the methods
 * of assembly/trainingPoints.ts's TrainingPoints on float32 storage, but for streamFloat32.
 */
@unmanaged class UncentredPoints {
  pointPanels: usize;
  pointNorms: usize;
  float32Norms: usize;
  mean: usize;
  largestNorm: f64;
  largestFloat32Norm: f64;

  stream<R>(reducer: R, n: i32, d: i32, queries: usize, q: i32, scratch: usize, kernel: i32, firstPanel: i32 = 0, endPanel: i32 = panelCount(n)): void {
    streamDistances(reducer, this.pointPanels, this.pointNorms, n, d, this.mean, queries, q, scratch, kernel + STORED, firstPanel, endPanel);
  }

  @inline squaredDistance(query: usize, index: i32, d: i32): f64 {
    return storedSquaredDistance(query, storedPointAddress(this.pointPanels, d, index), d);
  }

  @inline squaredDistancePair(query: usize, first: i32, second: i32, d: i32): v128 {
    return storedSquaredDistancePair(query, storedPointAddress(this.pointPanels, d, first), storedPointAddress(this.pointPanels, d, second), d);
  }

  @inline hasFloat32Candidates(d: i32): bool {
    return storedFloat32Searchable(this.largestFloat32Norm, d);
  }

  @inline widensPanels(): bool {
    return true;
  }

  streamFloat32<R>(reducer: R, n: i32, d: i32, queries: usize, q: i32, scratch: usize): void {
    streamFloat32Distances(reducer, this.pointPanels, this.float32Norms, n, d, this.mean, 1.0, queries, q, scratch, true, false);
  }

  @inline float32Rescale(): f64 {
    return 1.0;
  }

  float32ProofLimit(worstKept: f64, r: i32, q: i32, d: i32, scratch: usize): f64 {
    const queryNorm = load<f64>(groupNorms(scratch, q, d) + (<usize>r << 3));
    const scale = load<f64>(groupScales(scratch, q, d) + (<usize>r << 3));
    const bound = storedCandidateErrorBound(queryNorm, scale, this.largestFloat32Norm, d);
    return (worstKept - bound) * float32ProofShrink(d) - <f64>(d + 1) * SMALLEST_SUBNORMAL;
  }
}

/** searchStoredNeighbours with the uncentred float32 candidates (`candidateNorms` from packFloat32Norms on a zero mean). */
export function searchUncentredNeighbours(
  panels: usize, pointNorms: usize, candidateNorms: usize, mean: usize, n: i32, d: i32, largestPointNorm: f64, largestCandidateNorm: f64,
  queries: usize, q: i32, k: i32, capacity: i32, scratch: usize, outIndices: usize, outSquared: usize,
): void {
  const storage = changetype<UncentredPoints>(scratch);
  storage.pointPanels = panels;
  storage.pointNorms = pointNorms;
  storage.float32Norms = candidateNorms;
  storage.mean = mean;
  storage.largestNorm = largestPointNorm;
  storage.largestFloat32Norm = largestCandidateNorm;
  search(storage, n, d, queries, q, k, capacity, scratch, outIndices, outSquared, false, EUCLIDEAN);
}
