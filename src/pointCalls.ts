// The kernel calls that read the training points, for either storage: float64 storage's entries
// take X, its panels, W1 and W1's float32 copy; float32 storage's (assembly/float32Storage.ts)
// take X's float32 panels and the candidates' norms, and answer bit for bit as float64 storage
// does on the widened values (a cosine network's widened to its unit rows, with its unit factors
// last). Everything after the points' arguments is the same for both.
import type { Weights } from './weights.js';
import type { KernelCall } from './workerPool.js';

/** Float64 storage's entries that stream layer 1 and their float32-storage twins, whose first argument is X's float32 panels instead. */
const STORED_LAYER_ONE = {
  softmaxScores: 'storedSoftmaxScores',
  softmaxBlockStates: 'storedSoftmaxBlockStates',
  layerOneDistances: 'storedLayerOneDistances',
} as const;

/** Where a cosine network's unit factors start at panel `firstPanel` (assembly/float32Storage.ts: 128 bytes a panel); 0 for other metrics. */
function unitFactorsOf(w: Weights, firstPanel = 0): number {
  return w.stored?.unitFactors ? w.stored.unitFactors.pointer + firstPanel * 128 : 0;
}

/**
 * The k-nearest search of points `start` … `start + n − 1` (whole panels from `start`) as one
 * call in `metric` (its kernel code, jobs.ts metricCode); `rest` is what follows the points' arguments: queries, q, k, capacity, scratch, the two
 * outputs. With `allowed` (a filter's bytes in wasm memory, one per point of the network, 1 =
 * allowed, at least k of them among these points) it searches the allowed points alone: the
 * kernels index the bytes from the first point they search, so they get the filter from `start`.
 */
export function searchCall(w: Weights, metric: number, rest: readonly number[], start = 0, n = w.n, allowed = 0): KernelCall {
  const firstPanel = start / 8;
  if (w.stored) {
    return ['searchStoredNeighbours', [
      w.stored.panels.pointer + firstPanel * w.d * 32, w.norms.pointer + start * 8, w.stored.candidateNorms.pointer + start * 8, w.mean.pointer,
      n, w.d, w.largestNorm, w.stored.largestCandidateNorm, ...rest, w.direct ? 1 : 0, metric, unitFactorsOf(w, firstPanel), allowed && allowed + start,
    ]];
  }
  const panelBytes = w.d * 64;
  return ['searchNeighbours', [
    w.points!.pointer + start * w.d * 8, w.pointPanels ? w.pointPanels.pointer + firstPanel * panelBytes : 0,
    w.packed!.pointer + firstPanel * panelBytes, w.norms.pointer + start * 8, w.mean.pointer, n, w.d, w.largestNorm,
    w.float32 ? w.float32.panels.pointer + firstPanel * (panelBytes / 2) : 0, w.float32 ? w.float32.norms.pointer + start * 8 : 0,
    w.float32?.scale ?? 1, w.float32?.largestNorm ?? 0, ...rest, metric, allowed && allowed + start,
  ]];
}

/**
 * A call of `entry`, which streams layer 1 over every point (forward's z1, the softmax over all
 * points), on the panels the storage has: W1 (or X's panels without the expansion), or X's
 * float32 panels. `rest` follows the panels: b1, μ, n, d and the entry's own arguments.
 */
export function layerOneCall(entry: keyof typeof STORED_LAYER_ONE, w: Weights, rest: readonly number[]): KernelCall {
  if (w.stored) return [STORED_LAYER_ONE[entry], [w.stored.panels.pointer, ...rest, unitFactorsOf(w)]];
  return [entry, [w.expansion ? w.packed!.pointer : w.pointPanels!.pointer, ...rest]];
}

/**
 * The radius search of one query (`rows`: false) or of a chunk of queries (true) as one call;
 * `rest` follows the points' arguments (the query or queries, the bound, …, the outputs).
 */
export function radiusCall(w: Weights, rows: boolean, rest: readonly number[]): KernelCall {
  if (w.stored) {
    const points = [w.stored.panels.pointer, w.norms.pointer, w.mean.pointer, w.n, w.d, w.largestNorm];
    return [rows ? 'storedRadiusNeighbourRows' : 'storedRadiusNeighbours', [...points, ...rest, w.direct ? 1 : 0, unitFactorsOf(w)]];
  }
  const points = [w.points!.pointer, w.pointPanels?.pointer ?? 0, w.packed!.pointer, w.norms.pointer, w.mean.pointer, w.n, w.d, w.largestNorm];
  return [rows ? 'radiusNeighbourRows' : 'radiusNeighbours', [...points, ...rest]];
}

/**
 * One query's k nearest among the points `allowed` marks, by direct differences in wasm
 * (allowedDirectNeighbours) where the storage holds them: X's float64 rows, or float32 storage's
 * panels (a cosine network's read as its unit rows).
 */
export function allowedDirectCall(w: Weights, query: number, allowed: number, group: number, k: number, manhattan: boolean, outIndices: number, outValues: number): KernelCall {
  const [points, stored, unitFactors] = directPoints(w);
  return ['allowedDirectNeighbours', [query, points, w.n, w.d, allowed, group, k, manhattan ? 1 : 0, outIndices, outValues, stored, unitFactors]];
}

/**
 * Where the direct differences of assembly/filter.ts read the points, as their arguments name
 * it: the address (X's float64 rows, or float32 storage's panels), 1 for the panels, and a
 * cosine network's unit factors (else 0).
 */
export function directPoints(w: Weights): [points: number, stored: number, unitFactors: number] {
  return w.stored ? [w.stored.panels.pointer, 1, unitFactorsOf(w)] : [w.points!.pointer, 0, 0];
}
