// Float32 storage's weights in wasm memory (assembly/float32Storage.ts): X once, as float32
// panels of 8 points interleaved per dimension, b1 = ‖X_i − μ‖² and the candidates' norms in
// float64, and μ; a cosine network also holds each point's unit factors (m and s, float64), from
// which every value widens to its unit row's. Packing streams the caller's rows through a small
// staging region, so a fit never holds a second copy of X in wasm memory: 4·d + 16 bytes a
// point (cosine: 4·d + 32), plus the labels.
import { KnnError } from './errors.js';
import type { Kernels, Region } from './wasm.js';

const PANEL_POINTS = 8;
/**
 * Values staged per packing call: 64 Ki float32 values (256 KiB) fit a core's L2 beside the
 * panels being written, and make the call overhead negligible.
 */
const STAGED_VALUES = 1 << 16;

const panelRows = (rows: number): number => Math.ceil(rows / PANEL_POINTS) * PANEL_POINTS;

/**
 * X's float32 panels (the only copy of X), the norms of the float32 centred values the candidate
 * GEMM multiplies, and a cosine network's unit factors (m and s of each point, 16 bytes a point).
 */
export interface StoredPoints {
  readonly panels: Region;
  readonly candidateNorms: Region;
  readonly largestCandidateNorm: number;
  readonly unitFactors: Region | undefined;
}

/**
 * Bytes of each region of float32 storage for `capacity` rows: the panels, b1, the candidates'
 * norms, μ, the labels if any, then the unit factors if `unit` (the cosine metric).
 */
export function storedRegionSizes(capacity: number, d: number, labelBytesPerRow: number, unit: boolean): number[] {
  const padded = panelRows(capacity);
  const sizes = [padded * d * 4, padded * 8, padded * 8, d * 8];
  if (labelBytesPerRow > 0) sizes.push(capacity * labelBytesPerRow);
  if (unit) sizes.push(padded * 16);
  return sizes;
}

/** Bytes packStoredPoints allocates for its call, beside the network's regions. */
export function stagingBytes(d: number): number {
  return stagedRows(d) * d * 4 + d * 8 + 16;
}

/** Rows per packing call: whole panels, so that every call but the first packs whole panels with SIMD. */
function stagedRows(d: number): number {
  return Math.max(PANEL_POINTS, Math.floor(STAGED_VALUES / d / PANEL_POINTS) * PANEL_POINTS);
}

/** The largest b1 and the largest candidate norm among the points packStoredPoints wrote. */
export interface PackedNorms {
  readonly largestNorm: number;
  readonly largestCandidateNorm: number;
}

/**
 * Packs `rows` rows of `data` (row-major, d values each; float64 values are rounded to float32
 * on the way) as points firstPoint … firstPoint + rows − 1 of `panels`, with `unitFactors` (the
 * cosine metric: no row may round to a zero row) writes their unit factors, then writes their b1
 * and candidate norms about `mean`. With `centre`, `mean` is first set to the mean of the widened
 * (unit) rows (a fit: firstPoint is 0); without it, the held μ is kept (an add). A value that
 * rounds beyond float32's range is a KnnError NON_FINITE naming it, thrown before any point of
 * the network (below firstPoint) changes.
 */
export function packStoredPoints(
  kernels: Kernels, data: Float32Array | Float64Array, rows: number, d: number,
  panels: Region, norms: Region, candidateNorms: Region, mean: Region, unitFactors: Region | undefined, firstPoint: number, centre: boolean,
): PackedNorms {
  const exports = kernels.exports;
  const chunk = stagedRows(d);
  // No call stages more rows than are packed: a single add stages one row, not 256 KiB.
  const staging = kernels.allocate(Math.min(chunk, rows) * d * 4, `packing ${rows} points × ${d} features`);
  const sums = kernels.allocate(d * 8 + 16);
  try {
    kernels.f64(sums.pointer, d).fill(0);
    // A first call that completes a partly filled panel keeps every later one on whole panels.
    const head = Math.min(rows, (PANEL_POINTS - (firstPoint % PANEL_POINTS)) % PANEL_POINTS);
    for (let first = 0; first < rows;) {
      const count = Math.min(first === 0 && head > 0 ? head : chunk, rows - first);
      const values = data.subarray(first * d, (first + count) * d);
      kernels.f32(staging.pointer, count * d).set(values);
      const bad = exports.packFloat32Rows(staging.pointer, count, d, sums.pointer, panels.pointer, firstPoint + first);
      if (bad >= 0) throw beyondFloat32(first * d + bad, d, values[bad]);
      first += count;
    }
    return finishStoredPoints(kernels, firstPoint + rows, d, panels, norms, candidateNorms, mean, unitFactors, firstPoint, centre, sums, true);
  } finally {
    kernels.release(staging);
    kernels.release(sums);
  }
}

/**
 * The points of `held` panels (n of them) but those `removed` marks, in their order, as points
 * 0 … rows − 1 of `panels`, then their unit factors, μ (with `centre`), b1 and candidate norms
 * as packStoredPoints writes them for a fit on those rows: what remove() rebuilds on, copied
 * within wasm memory.
 */
export function packKeptStoredPoints(
  kernels: Kernels, held: Region, n: number, removed: Uint8Array, rows: number, d: number,
  panels: Region, norms: Region, candidateNorms: Region, mean: Region, unitFactors: Region | undefined, centre: boolean,
): PackedNorms {
  const marks = kernels.allocate(Math.max(16, n), `removing points of ${n}`);
  const sums = kernels.allocate(d * 8 + 16);
  try {
    new Uint8Array(kernels.exports.memory.buffer, marks.pointer, n).set(removed);
    kernels.exports.keepStoredPoints(held.pointer, n, d, marks.pointer, panels.pointer);
    return finishStoredPoints(kernels, rows, d, panels, norms, candidateNorms, mean, unitFactors, 0, centre, sums, false);
  } finally {
    kernels.release(marks);
    kernels.release(sums);
  }
}

/**
 * The rest of packing points firstPoint … n − 1 into float32 `panels`: their unit factors (the
 * cosine metric), μ with `centre` (the mean of the n widened or unit rows: `rawSums` says that
 * `sums` already holds the raw rows' sums, packFloat32Rows's), then b1 and the candidate norms.
 */
function finishStoredPoints(
  kernels: Kernels, n: number, d: number, panels: Region, norms: Region, candidateNorms: Region, mean: Region, unitFactors: Region | undefined,
  firstPoint: number, centre: boolean, sums: Region, rawSums: boolean,
): PackedNorms {
  const exports = kernels.exports;
  const factors = unitFactors?.pointer ?? 0;
  if (unitFactors) exports.packUnitFactors(panels.pointer, n, d, firstPoint, factors);
  if (centre && (unitFactors || !rawSums)) {
    // The mean of the unit rows (the sums packFloat32Rows takes are of the raw values), or of rows it did not pack.
    kernels.f64(sums.pointer, d).fill(0);
    exports.sumFloat32Points(panels.pointer, d, 0, n, sums.pointer, factors);
  }
  if (centre) {
    const meanView = kernels.f64(mean.pointer, d);
    const sumView = kernels.f64(sums.pointer, d);
    for (let j = 0; j < d; j++) meanView[j] = sumView[j] / n;
  }
  const largest = sums.pointer + d * 8;
  exports.packFloat32Norms(panels.pointer, n, d, mean.pointer, norms.pointer, candidateNorms.pointer, firstPoint, largest, factors);
  const [largestNorm, largestCandidateNorm] = kernels.f64(largest, 2);
  return { largestNorm, largestCandidateNorm };
}

function beyondFloat32(at: number, d: number, value: number): KnnError {
  return new KnnError(
    'NON_FINITE',
    `X[${Math.floor(at / d)}][${at % d}] is ${value}, beyond float32's range (±3.4e38): the network stores float32 (options.storage), which would make it ±Infinity; ` +
      "scale X, or fit with storage: 'float64'.",
  );
}

/**
 * The rows at `positions` (every row, in order, when absent) copied out of float32 panels of
 * `n` points × d, row-major.
 */
export function readStoredRows(kernels: Kernels, panels: Region, n: number, d: number, positions?: ArrayLike<number>): Float32Array {
  const values = kernels.f32(panels.pointer, panelRows(n) * d);
  const count = positions ? positions.length : n;
  const rows = new Float32Array(count * d);
  for (let r = 0; r < count; r++) {
    const i = positions ? positions[r] : r;
    const base = Math.floor(i / PANEL_POINTS) * d * PANEL_POINTS + (i % PANEL_POINTS);
    const row = r * d;
    for (let j = 0; j < d; j++) rows[row + j] = values[base + j * PANEL_POINTS];
  }
  return rows;
}
