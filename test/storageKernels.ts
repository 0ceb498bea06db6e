// Networks built straight on the kernels' exports, in either storage, for tests that compare
// the two kernel by kernel: float64 storage as src/weights.ts lays it out today (X row-major,
// W1 packed with b1, X's panels, W1's float32 copy), and float32 storage (X's float32 panels,
// b1, the candidate norms; assembly/float32Storage.ts) packed through a staging region in
// chunks, as a fit would.
import { METRIC_CODES } from '../src/metrics.js';
import type { Kernels, Region } from '../src/wasm.js';

const PANEL_POINTS = 8;
/** The kernels' metric code: Manhattan, or squared Euclidean. */
const kernelMetric = (manhattan: boolean): number => METRIC_CODES[manhattan ? 'manhattan' : 'euclidean'];
const padded = (n: number): number => Math.ceil(n / PANEL_POINTS) * PANEL_POINTS;

/** How many candidates the GEMM searches keep (src/network.ts's candidateCapacity). */
export function candidateCapacity(n: number, k: number): number {
  return Math.min(n, k + Math.min(8, Math.max(1, Math.floor(n / 128))));
}

export interface Float64Network {
  readonly n: number;
  readonly d: number;
  readonly points: Region;
  readonly pointPanels: Region;
  readonly packed: Region;
  readonly norms: Region;
  readonly mean: Region;
  readonly largestNorm: number;
  readonly float32Panels: Region;
  readonly float32Norms: Region;
  readonly float32Scale: number;
  readonly largestFloat32Norm: number;
}

export interface Float32Network {
  readonly n: number;
  readonly d: number;
  readonly panels: Region;
  readonly norms: Region;
  readonly candidateNorms: Region;
  readonly mean: Region;
  readonly largestNorm: number;
  readonly largestCandidateNorm: number;
}

export type Network = Float64Network | Float32Network;

const isFloat32 = (network: Network): network is Float32Network => 'candidateNorms' in network;

/** Float64 storage of `data` (n × d), every layout at once: the searches pick theirs by the pointers they pass. */
export function float64Network(kernels: Kernels, data: Float64Array, n: number, d: number): Float64Network {
  const k = kernels.exports;
  const rows = padded(n);
  const points = kernels.allocate(n * d * 8);
  const pointPanels = kernels.allocate(rows * d * 8);
  const packed = kernels.allocate(rows * d * 8);
  const norms = kernels.allocate(rows * 8);
  const mean = kernels.allocate(d * 8);
  const float32Panels = kernels.allocate(rows * d * 4);
  const float32Norms = kernels.allocate(rows * 8);
  kernels.f64(points.pointer, n * d).set(data);
  k.packPoints(points.pointer, n, d, pointPanels.pointer, 0);
  k.computeMean(points.pointer, n, d, mean.pointer);
  const largestNorm = k.packWeights(points.pointer, n, d, mean.pointer, packed.pointer, norms.pointer, 0);
  const float32Scale = k.float32Scale(packed.pointer, n, d);
  const largestFloat32Norm = k.packFloat32Weights(packed.pointer, n, d, float32Scale, float32Panels.pointer, float32Norms.pointer, 0);
  return { n, d, points, pointPanels, packed, norms, mean, largestNorm, float32Panels, float32Norms, float32Scale, largestFloat32Norm };
}

/**
 * Float32 storage of `data` (n × d float32), packed `chunkRows` rows at a time through a staging
 * region (the first chunk may be shorter, `firstChunk` rows, so later chunks start mid-panel);
 * throws if a value is not finite.
 */
export function float32Network(kernels: Kernels, data: Float32Array, n: number, d: number, chunkRows = 64, firstChunk = chunkRows): Float32Network {
  const k = kernels.exports;
  const rows = padded(n);
  const panels = kernels.allocate(rows * d * 4);
  const norms = kernels.allocate(rows * 8);
  const candidateNorms = kernels.allocate(rows * 8);
  const mean = kernels.allocate(d * 8);
  const sums = kernels.allocate(d * 8);
  const staging = kernels.allocate(Math.max(chunkRows, firstChunk) * d * 4);
  const largest = kernels.allocate(16);
  try {
    kernels.f64(sums.pointer, d).fill(0);
    for (let first = 0; first < n; ) {
      const count = Math.min(first === 0 ? firstChunk : chunkRows, n - first);
      kernels.f32(staging.pointer, count * d).set(data.subarray(first * d, (first + count) * d));
      const bad = k.packFloat32Rows(staging.pointer, count, d, sums.pointer, panels.pointer, first);
      if (bad >= 0) throw new Error(`value ${first * d + bad} is not finite`);
      first += count;
    }
    const meanView = kernels.f64(mean.pointer, d);
    const sumView = kernels.f64(sums.pointer, d);
    for (let j = 0; j < d; j++) meanView[j] = sumView[j] / n;
    k.packFloat32Norms(panels.pointer, n, d, mean.pointer, norms.pointer, candidateNorms.pointer, 0, largest.pointer, 0);
    const [largestNorm, largestCandidateNorm] = kernels.f64(largest.pointer, 2);
    return { n, d, panels, norms, candidateNorms, mean, largestNorm, largestCandidateNorm };
  } finally {
    for (const region of [sums, staging, largest]) kernels.release(region);
  }
}

export function releaseNetwork(kernels: Kernels, network: Network): void {
  for (const value of Object.values(network)) if (typeof value === 'object' && value !== null && 'pointer' in value) kernels.release(value as Region);
}

/** Runs `call` on a scratch region and copies of the queries, releasing every region after. */
function withRegions<T>(kernels: Kernels, sizes: number[], call: (pointers: number[]) => T): T {
  const regions = sizes.map((bytes) => kernels.allocate(Math.max(bytes, 16)));
  try {
    return call(regions.map((region) => region.pointer));
  } finally {
    for (const region of regions) kernels.release(region);
  }
}

/** Which search answers: direct differences, the float64 GEMM, or the float32 candidates (W1's copy, or float32 storage's values). */
export type SearchPath = 'direct' | 'float64' | 'float32';

export interface Neighbours {
  indices: Int32Array;
  squared: Float64Array;
}

/**
 * The k nearest of q queries (row-major float64) on `network`, by `path`; from `firstPanel` on,
 * the slice of the training points a worker of a pool searches (indices within the slice).
 */
export function kneighbors(
  kernels: Kernels, network: Network, queries: Float64Array, q: number, k: number, path: SearchPath, manhattan = false, firstPanel = 0,
): Neighbours {
  const { d } = network;
  const start = firstPanel * PANEL_POINTS;
  const n = network.n - start;
  const panelBytes = d * PANEL_POINTS * 8;
  const capacity = path === 'direct' ? k : candidateCapacity(n, k);
  const scratchBytes = kernels.exports.scratchBytes(q, d, kernels.exports.topKStateBytes(capacity));
  return withRegions(kernels, [q * d * 8, scratchBytes, q * k * 4, q * k * 8], ([queryRows, scratch, outIndices, outSquared]) => {
    kernels.f64(queryRows, q * d).set(queries);
    if (isFloat32(network)) {
      if (path === 'float64') throw new Error('float32 storage searches on the float32 candidates (or their float64 fallback)');
      kernels.exports.searchStoredNeighbours(
        network.panels.pointer + firstPanel * (panelBytes / 2), network.norms.pointer + start * 8, network.candidateNorms.pointer + start * 8, network.mean.pointer,
        n, d, network.largestNorm, network.largestCandidateNorm,
        queryRows, q, k, capacity, scratch, outIndices, outSquared, path === 'direct' ? 1 : 0, kernelMetric(manhattan), 0, 0,
      );
    } else {
      kernels.exports.searchNeighbours(
        network.points.pointer + start * d * 8, path === 'direct' ? network.pointPanels.pointer + firstPanel * panelBytes : 0, network.packed.pointer + firstPanel * panelBytes,
        network.norms.pointer + start * 8, network.mean.pointer, n, d, network.largestNorm,
        path === 'float32' ? network.float32Panels.pointer + firstPanel * (panelBytes / 2) : 0, network.float32Norms.pointer + start * 8, network.float32Scale, network.largestFloat32Norm,
        queryRows, q, k, capacity, scratch, outIndices, outSquared, kernelMetric(manhattan), 0,
      );
    }
    return { indices: kernels.i32(outIndices, q * k).slice(), squared: kernels.f64(outSquared, q * k).slice() };
  });
}

/** forward's z1 (q × n) on `network`. */
export function layerOne(kernels: Kernels, network: Network, queries: Float64Array, q: number, manhattan = false): Float64Array {
  const { n, d } = network;
  return withRegions(kernels, [q * d * 8, kernels.exports.scratchBytes(q, d, 0), q * n * 8], ([queryRows, scratch, output]) => {
    kernels.f64(queryRows, q * d).set(queries);
    if (isFloat32(network)) {
      kernels.exports.storedLayerOneDistances(network.panels.pointer, network.norms.pointer, network.mean.pointer, n, d, queryRows, q, scratch, output, kernelMetric(manhattan), 0);
    } else {
      const panels = manhattan ? network.pointPanels : network.packed;
      kernels.exports.layerOneDistances(panels.pointer, network.norms.pointer, network.mean.pointer, n, d, queryRows, q, scratch, output, kernelMetric(manhattan));
    }
    return kernels.f64(output, q * n).slice();
  });
}

/** The softmax over all points projected on `classes` classes (labels: codes, one per point), q × classes. */
export function softmaxScores(
  kernels: Kernels, network: Network, labels: Int32Array, classes: number, lambda: number, queries: Float64Array, q: number, manhattan = false,
): Float64Array {
  const { n, d } = network;
  const stateBytes = kernels.exports.softmaxQueryStateBytes(n, d, classes);
  return withRegions(kernels, [q * d * 8, kernels.exports.scratchBytes(q, d, stateBytes), n * 4, q * classes * 8], ([queryRows, scratch, labelCodes, output]) => {
    kernels.f64(queryRows, q * d).set(queries);
    kernels.i32(labelCodes, n).set(labels);
    if (isFloat32(network)) {
      kernels.exports.storedSoftmaxScores(
        network.panels.pointer, network.norms.pointer, network.mean.pointer, n, d, labelCodes, 0, classes, 0, lambda, queryRows, q, scratch, output, kernelMetric(manhattan), 0,
      );
    } else {
      const panels = manhattan ? network.pointPanels : network.packed;
      kernels.exports.softmaxScores(panels.pointer, network.norms.pointer, network.mean.pointer, n, d, labelCodes, 0, classes, 0, lambda, queryRows, q, scratch, output, kernelMetric(manhattan));
    }
    return kernels.f64(output, q * classes).slice();
  });
}

/**
 * Every point within Euclidean distance √`limit` (or, `manhattan`, Manhattan distance `limit`)
 * of one query, by `path` ('direct' or not), sorted by (z1, index).
 */
export function pointsWithin(kernels: Kernels, network: Network, query: Float64Array, limit: number, direct: boolean, manhattan = false): Neighbours {
  const { n, d } = network;
  const radius = manhattan ? limit : Math.sqrt(limit);
  const bound = manhattan ? limit : radius * radius * (1 + 8 * 2 ** -53);
  const metric = kernelMetric(manhattan);
  return withRegions(kernels, [d * 8, kernels.exports.scratchBytes(1, d, 0) + n * 4, n * 4, n * 8], ([queryRow, scratch, outIndices, outSquared]) => {
    kernels.f64(queryRow, d).set(query);
    const found = isFloat32(network)
      ? kernels.exports.storedRadiusNeighbours(
        network.panels.pointer, network.norms.pointer, network.mean.pointer, n, d, network.largestNorm, queryRow, bound, radius, metric, 1, scratch, outIndices, outSquared,
        direct ? 1 : 0, 0,
      )
      : kernels.exports.radiusNeighbours(
        network.points.pointer, direct ? network.pointPanels.pointer : 0, network.packed.pointer, network.norms.pointer, network.mean.pointer, n, d, network.largestNorm,
        queryRow, bound, radius, metric, 1, scratch, outIndices, outSquared,
      );
    return { indices: kernels.i32(outIndices, found).slice(), squared: kernels.f64(outSquared, found).slice() };
  });
}
