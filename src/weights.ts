// The network's weights in wasm memory: their layout, how a fit packs them, and how points are
// appended in place. Regions are sized for a capacity of rows, which add() grows geometrically,
// so that appending m points costs O(m·d) and re-packing everything (which also re-centres)
// happens only when the capacity doubles.
import type { EncodedLabels, Label } from './labels.js';
import type { Matrix } from './matrix.js';
import { planWeights, searchesDirectly } from './planner.js';
import type { Kernels, Region } from './wasm.js';

/** The network's weights in wasm memory, for its first `n` of `capacity` rows. */
export interface Weights {
  readonly n: number;
  readonly d: number;
  /** Labels are regression targets (f64), not class codes (i32). */
  readonly regression: boolean;
  /**
   * Layer 1 is the expansion (W1, b1 packed, centred on μ), for every metric but Manhattan,
   * whose layer 1 is not linear: it has only X's panels, and empty W1 and b1 regions.
   */
  readonly expansion: boolean;
  /** Rows every region has room for (n at fit; more after add grows them). */
  readonly capacity: number;
  /** X as given, row-major: the GEMM path recomputes its candidates' distances from it. */
  readonly points: Region;
  /** X again, in panels: the direct-difference search of small d reads it (none on the GEMM search). */
  readonly pointPanels: Region | undefined;
  /** W1 = −2·(X − μ), packed in panels (assembly/distance.ts). */
  readonly packed: Region;
  /** b1 = ‖X_i − μ‖², padded to whole panels. */
  readonly norms: Region;
  /** μ: the mean of X when the weights were last packed whole (a fit, or an add that re-centred them). */
  readonly mean: Region;
  /** How many rows μ is the mean of. */
  readonly centredRows: number;
  /** W3: class codes (i32) or regression targets (f64); none on a network without labels (task 'search'). */
  readonly labels: Region | undefined;
  readonly largestNorm: number;
  /** The float32 copy of W1 that chooses the GEMM search's candidates (none on the direct search or with the option off). */
  readonly float32: Float32Copy | undefined;
  readonly classes: readonly Label[];
  /** The largest |target| (regression; 0 for classification): the overflow bound depends on n. */
  readonly largestTarget: number;
}

/** s·W1 in float32 (assembly/float32Distance.ts), the norms of its points, s and the largest norm. */
interface Float32Copy {
  readonly panels: Region;
  readonly norms: Region;
  readonly scale: number;
  readonly largestNorm: number;
}

const PANEL_POINTS = 8;
// Appended points whose scaled squared norm reaches 2^200 (scaled values up to 2^100) make the float32 copy be scaled anew.
const LARGEST_SCALED_NORM = 2 ** 200;
const panelRows = (rows: number): number => Math.ceil(rows / PANEL_POINTS) * PANEL_POINTS;

/** The labels a network holds: class codes, regression targets, or none (task 'search'). */
export type HeldLabels = EncodedLabels | Float64Array | undefined;

/** Bytes of W3 per training point: a class code (i32), a target (f64), or nothing. */
function labelBytes(labels: HeldLabels | Weights): number {
  if (labels === undefined) return 0;
  if ('labels' in labels) return labels.labels === undefined ? 0 : labels.regression ? 8 : 4;
  return labels instanceof Float64Array ? 8 : 4;
}

export function weightsRegions(weights: Weights): Region[] {
  const regions = [weights.points, weights.packed, weights.norms, weights.mean];
  if (weights.labels) regions.push(weights.labels);
  if (weights.pointPanels) regions.push(weights.pointPanels);
  if (weights.float32) regions.push(weights.float32.panels, weights.float32.norms);
  return regions;
}

/**
 * Bytes of each region for `capacity` rows, in the order of weightsRegions: X, W1, b1, μ, the
 * labels if any (`labelBytes` a point), then X's panels (direct search) or the float32 copy and its norms.
 */
function regionSizes(capacity: number, d: number, labelBytesPerRow: number, expansion: boolean, direct: boolean, withFloat32: boolean): number[] {
  const padded = panelRows(capacity);
  const packedRows = expansion ? padded : 0;
  const sizes = [capacity * d * 8, packedRows * d * 8, packedRows * 8, d * 8];
  if (labelBytesPerRow > 0) sizes.push(capacity * labelBytesPerRow);
  if (direct) sizes.push(padded * d * 8);
  if (withFloat32) sizes.push(padded * d * 4, padded * 8);
  return sizes;
}

function largestMagnitude(values: Float64Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}

/**
 * Copies the training data into wasm memory, centres it and packs W1 (unless `expansion` is
 * false: Manhattan), then X's panels for the direct search (searchesDirectly: d ≤ 16, and below
 * 8 features, few points or no float32 copy; always without the expansion) or else W1's
 * float32 copy when `float32Candidates`. Regions have room for `capacity` rows (at least n).
 */
export function buildWeights(
  kernels: Kernels, matrix: Matrix, labels: HeldLabels, float32Candidates: boolean, expansion: boolean, capacity = matrix.rows,
): Weights {
  const { rows: n, cols: d } = matrix;
  const kernelExports = kernels.exports;
  const { direct, float32Copy: withFloat32 } = planWeights(n, d, float32Candidates, expansion);
  const sizes = regionSizes(capacity, d, labelBytes(labels), expansion, direct, withFloat32);
  const what = `fitting ${n} points × ${d} features`;
  kernels.checkRoom(sizes.reduce((a, b) => a + b, 0), what);
  // Nothing allocated here may outlive a failure, whichever step fails.
  const regions: Region[] = [];
  try {
    for (const bytes of sizes) regions.push(kernels.allocate(bytes, what));
    const [points, packed, norms, mean] = regions;
    const labelRegion = labels === undefined ? undefined : regions[4];
    const rest = regions.slice(labels === undefined ? 4 : 5);
    const pointPanels = direct ? rest[0] : undefined;
    kernels.f64(points.pointer, n * d).set(matrix.data);
    if (labels instanceof Float64Array) kernels.f64(labelRegion!.pointer, n).set(labels);
    else if (labels) kernels.i32(labelRegion!.pointer, n).set(labels.codes);
    if (pointPanels) kernelExports.packPoints(points.pointer, n, d, pointPanels.pointer, 0);
    let largestNorm = 0;
    if (expansion) {
      kernelExports.computeMean(points.pointer, n, d, mean.pointer);
      largestNorm = kernelExports.packWeights(points.pointer, n, d, mean.pointer, packed.pointer, norms.pointer, 0);
    } else {
      kernels.f64(mean.pointer, d).fill(0); // no centre
    }
    let float32: Float32Copy | undefined;
    if (withFloat32) {
      const [panels32, norms32] = rest;
      const scale = kernelExports.float32Scale(packed.pointer, n, d);
      const largest32 = kernelExports.packFloat32Weights(packed.pointer, n, d, scale, panels32.pointer, norms32.pointer, 0);
      float32 = { panels: panels32, norms: norms32, scale, largestNorm: largest32 };
    }
    const regression = labels instanceof Float64Array;
    const classes = labels === undefined || regression ? [] : labels.classes;
    const largestTarget = regression ? largestMagnitude(labels) : 0;
    return { n, d, regression, expansion, capacity, points, pointPanels, packed, norms, mean, centredRows: n, labels: labelRegion, largestNorm, float32, classes, largestTarget };
  } catch (error) {
    for (const region of regions) kernels.release(region);
    throw error;
  }
}

/** What append writes after the held labels: new points' class codes (in `classes`' order), targets, or nothing (no labels). */
export type AppendedLabels =
  | { readonly classes: readonly Label[]; readonly codes: Int32Array; readonly recode: Int32Array | undefined }
  | { readonly targets: Float64Array }
  | undefined;

/**
 * Appends `extra` (m rows) to weights that have room for them, in O(m·d): X's rows and labels
 * are written after the held ones and only they are packed (the float32 copy from their panel on),
 * centred on the held μ (the search's certificate holds for any centre; it only has to be the
 * one W1 and b1 were packed with). With `recode`, the held class codes are renumbered last
 * (a new class sorted before old ones). Returns the grown weights, or undefined, having changed
 * nothing the first n rows hold, when they must be rebuilt instead: no room, the search would
 * change layout at the new size, or the new points are larger than the float32 copy's scale holds.
 */
export function appendWeights(kernels: Kernels, w: Weights, extra: Matrix, labels: AppendedLabels, float32Candidates: boolean): Weights | undefined {
  const { n, d } = w;
  const rows = n + extra.rows;
  const sameSearch = !w.expansion || searchesDirectly(rows, d, float32Candidates) === searchesDirectly(n, d, float32Candidates);
  if (rows > w.capacity || !sameSearch) return undefined;
  const kernelExports = kernels.exports;
  kernels.f64(w.points.pointer + n * d * 8, extra.rows * d).set(extra.data);
  const largestNorm = w.expansion ? kernelExports.packWeights(w.points.pointer, rows, d, w.mean.pointer, w.packed.pointer, w.norms.pointer, n) : 0;
  let float32 = w.float32;
  if (float32) {
    // The copy's scale was chosen for the held points. Points far larger are packed again with a
    // new scale, before any of their scaled values could come near float32's range (2^128).
    if (!(float32.scale * float32.scale * largestNorm < LARGEST_SCALED_NORM)) return undefined;
    const largest32 = kernelExports.packFloat32Weights(w.packed.pointer, rows, d, float32.scale, float32.panels.pointer, float32.norms.pointer, n);
    float32 = { ...float32, largestNorm: Math.max(float32.largestNorm, largest32) };
  }
  if (w.pointPanels) kernelExports.packPoints(w.points.pointer, rows, d, w.pointPanels.pointer, n);
  let classes = w.classes;
  let largestTarget = w.largestTarget;
  if (labels === undefined) {
    // No labels to write.
  } else if ('targets' in labels) {
    kernels.f64(w.labels!.pointer + n * 8, extra.rows).set(labels.targets);
    largestTarget = Math.max(largestTarget, largestMagnitude(labels.targets));
  } else {
    kernels.i32(w.labels!.pointer + n * 4, extra.rows).set(labels.codes);
    if (labels.recode) {
      const held = kernels.i32(w.labels!.pointer, n);
      for (let i = 0; i < n; i++) held[i] = labels.recode[held[i]];
    }
    classes = labels.classes;
  }
  return { ...w, n: rows, largestNorm: Math.max(w.largestNorm, largestNorm), float32, classes, largestTarget };
}

/**
 * The same weights in regions with room for `capacity` rows: each region's used bytes are copied
 * (nothing is packed again, μ is kept), in O(n·d) memory traffic. The old regions are the
 * caller's to release. Nothing is changed when the new regions cannot be had (TOO_LARGE).
 */
export function growWeights(kernels: Kernels, w: Weights, capacity: number): Weights {
  const { n, d } = w;
  const old = weightsRegions(w);
  const sizes = regionSizes(capacity, d, labelBytes(w), w.expansion, w.pointPanels !== undefined, w.float32 !== undefined);
  const used = regionSizes(n, d, labelBytes(w), w.expansion, w.pointPanels !== undefined, w.float32 !== undefined);
  const what = `adding points to a network of ${n} points × ${d} features`;
  kernels.checkRoom(sizes.reduce((a, b) => a + b, 0), what);
  const regions: Region[] = [];
  try {
    for (const bytes of sizes) regions.push(kernels.allocate(bytes, what));
  } catch (error) {
    for (const region of regions) kernels.release(region);
    throw error;
  }
  const bytes = new Uint8Array(kernels.exports.memory.buffer);
  regions.forEach((region, i) => bytes.copyWithin(region.pointer, old[i].pointer, old[i].pointer + used[i]));
  const [points, packed, norms, mean] = regions;
  const labels = w.labels ? regions[4] : undefined;
  const rest = regions.slice(w.labels ? 5 : 4);
  const pointPanels = w.pointPanels ? rest[0] : undefined;
  const float32 = w.float32 ? { ...w.float32, panels: rest[0], norms: rest[1] } : undefined;
  return { ...w, capacity, points, pointPanels, packed, norms, mean, labels, float32 };
}

/**
 * The network's weights copied out of wasm memory, each flat row-major: W1 = −2·(X − μ) (n × d),
 * b1 = ‖X_i − μ‖² (n), W3 (n × classes one-hot, or the n regression targets), μ (d). Without the
 * expansion (Manhattan) W1 is X itself and b1 is zeros.
 */
export function readNetworkWeights(kernels: Kernels, w: Weights): { W1: Float64Array; b1: Float64Array; W3: Float64Array; mean: Float64Array } {
  let W1: Float64Array;
  if (w.expansion) {
    const packed = kernels.f64(w.packed.pointer, panelRows(w.n) * w.d);
    W1 = new Float64Array(w.n * w.d);
    for (let i = 0; i < w.n; i++) {
      const panel = Math.floor(i / PANEL_POINTS) * w.d * PANEL_POINTS;
      for (let j = 0; j < w.d; j++) W1[i * w.d + j] = packed[panel + j * PANEL_POINTS + (i % PANEL_POINTS)];
    }
  } else {
    W1 = kernels.f64(w.points.pointer, w.n * w.d).slice();
  }
  let W3: Float64Array;
  if (!w.labels) {
    W3 = new Float64Array(0);
  } else if (w.regression) {
    W3 = kernels.f64(w.labels.pointer, w.n).slice();
  } else {
    const c = w.classes.length;
    const codes = kernels.i32(w.labels.pointer, w.n);
    W3 = new Float64Array(w.n * c);
    for (let i = 0; i < w.n; i++) W3[i * c + codes[i]] = 1;
  }
  const b1 = w.expansion ? kernels.f64(w.norms.pointer, w.n).slice() : new Float64Array(w.n);
  return { W1, b1, W3, mean: kernels.f64(w.mean.pointer, w.d).slice() };
}

/** The training points as given (row-major), and their labels: class codes, regression targets, or none. */
export function readTrainingData(kernels: Kernels, w: Weights): { points: Float64Array; codes?: Int32Array; targets?: Float64Array } {
  const points = kernels.f64(w.points.pointer, w.n * w.d).slice();
  if (!w.labels) return { points };
  if (w.regression) return { points, targets: kernels.f64(w.labels.pointer, w.n).slice() };
  return { points, codes: kernels.i32(w.labels.pointer, w.n).slice() };
}
