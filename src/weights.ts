// The network's weights in wasm memory: their layout, how a fit packs them, and how points are
// appended in place. Regions are sized for a capacity of rows, which add() grows geometrically,
// so that appending m points costs O(m·d) and re-packing everything (which also re-centres)
// happens only when the capacity doubles.
import type { EncodedLabels, Label } from './labels.js';
import { searchesDirectly, type Matrix } from './matrix.js';
import type { Kernels, Region } from './wasm.js';

/** The network's weights in wasm memory, for its first `n` of `capacity` rows. */
export interface Weights {
  readonly n: number;
  readonly d: number;
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
  /** μ: the mean of X when the weights were last packed whole (a fit, or an add that grew them). */
  readonly mean: Region;
  /** W3: class codes (i32) or regression targets (f64). */
  readonly labels: Region;
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
const panelRows = (rows: number): number => Math.ceil(rows / PANEL_POINTS) * PANEL_POINTS;

export function weightsRegions(weights: Weights): Region[] {
  const regions = [weights.points, weights.packed, weights.norms, weights.mean, weights.labels];
  if (weights.pointPanels) regions.push(weights.pointPanels);
  if (weights.float32) regions.push(weights.float32.panels, weights.float32.norms);
  return regions;
}

function largestMagnitude(values: Float64Array): number {
  let largest = 0;
  for (const value of values) largest = Math.max(largest, Math.abs(value));
  return largest;
}

/**
 * Copies the training data into wasm memory, centres it and packs W1, then X's panels for the
 * direct search (searchesDirectly: d ≤ 16, and below 8 features, few points or no float32
 * copy) or else W1's float32 copy when `float32Candidates`. Regions have room for `capacity`
 * rows (at least n).
 */
export function buildWeights(
  kernels: Kernels, matrix: Matrix, labels: EncodedLabels | Float64Array, float32Candidates: boolean, capacity = matrix.rows,
): Weights {
  const { rows: n, cols: d } = matrix;
  const padded = panelRows(capacity);
  const kernelExports = kernels.exports;
  const direct = searchesDirectly(n, d, float32Candidates);
  const withFloat32 = float32Candidates && !direct;
  const sizes = [capacity * d * 8, padded * d * 8, padded * 8, d * 8, labels instanceof Float64Array ? capacity * 8 : capacity * 4];
  if (direct) sizes.push(padded * d * 8);
  if (withFloat32) sizes.push(padded * d * 4, padded * 8);
  const what = `fitting ${n} points × ${d} features`;
  kernels.checkRoom(sizes.reduce((a, b) => a + b, 0), what);
  // Nothing allocated here may outlive a failure, whichever step fails.
  const regions: Region[] = [];
  try {
    for (const bytes of sizes) regions.push(kernels.allocate(bytes, what));
    const [points, packed, norms, mean, labelRegion] = regions;
    const pointPanels = direct ? regions[5] : undefined;
    kernels.f64(points.pointer, n * d).set(matrix.data);
    if (labels instanceof Float64Array) kernels.f64(labelRegion.pointer, n).set(labels);
    else kernels.i32(labelRegion.pointer, n).set(labels.codes);
    if (pointPanels) kernelExports.packPoints(points.pointer, n, d, pointPanels.pointer, 0);
    kernelExports.computeMean(points.pointer, n, d, mean.pointer);
    const largestNorm = kernelExports.packWeights(points.pointer, n, d, mean.pointer, packed.pointer, norms.pointer, 0);
    let float32: Float32Copy | undefined;
    if (withFloat32) {
      const [panels32, norms32] = regions.slice(5);
      const scale = kernelExports.float32Scale(packed.pointer, n, d, 0);
      const largest32 = kernelExports.packFloat32Weights(packed.pointer, n, d, scale, panels32.pointer, norms32.pointer, 0);
      float32 = { panels: panels32, norms: norms32, scale, largestNorm: largest32 };
    }
    const regression = labels instanceof Float64Array;
    const classes = regression ? [] : labels.classes;
    const largestTarget = regression ? largestMagnitude(labels) : 0;
    return { n, d, capacity, points, pointPanels, packed, norms, mean, labels: labelRegion, largestNorm, float32, classes, largestTarget };
  } catch (error) {
    for (const region of regions) kernels.release(region);
    throw error;
  }
}

/** What append writes after the held labels: new points' class codes (in `classes`' order), or targets. */
export type AppendedLabels =
  | { readonly classes: readonly Label[]; readonly codes: Int32Array; readonly recode: Int32Array | undefined }
  | { readonly targets: Float64Array };

/**
 * Appends `extra` (m rows) to weights that have room for them, in O(m·d): X's rows and labels
 * are written after the held ones and only the panels from the first new point's on are packed,
 * centred on the held μ (the search's certificate holds for any centre; it only has to be the
 * one W1 and b1 were packed with). With `recode`, the held class codes are renumbered last
 * (a new class sorted before old ones). Returns the grown weights, or undefined, having changed
 * nothing the first n rows hold, when they must be rebuilt instead: no room, the search would
 * change layout at the new size, or the new points are larger than the float32 copy's scale holds.
 */
export function appendWeights(kernels: Kernels, w: Weights, extra: Matrix, labels: AppendedLabels, float32Candidates: boolean): Weights | undefined {
  const { n, d } = w;
  const rows = n + extra.rows;
  if (rows > w.capacity || searchesDirectly(rows, d, float32Candidates) !== searchesDirectly(n, d, float32Candidates)) return undefined;
  const kernelExports = kernels.exports;
  const firstPanel = Math.floor(n / PANEL_POINTS);
  kernels.f64(w.points.pointer + n * d * 8, extra.rows * d).set(extra.data);
  const largestNorm = kernelExports.packWeights(w.points.pointer, rows, d, w.mean.pointer, w.packed.pointer, w.norms.pointer, firstPanel);
  let float32 = w.float32;
  if (float32) {
    // A smaller scale means the new points reach beyond the range the copy was scaled for.
    if (kernelExports.float32Scale(w.packed.pointer, rows, d, firstPanel) < float32.scale) return undefined;
    const largest32 = kernelExports.packFloat32Weights(w.packed.pointer, rows, d, float32.scale, float32.panels.pointer, float32.norms.pointer, firstPanel);
    float32 = { ...float32, largestNorm: Math.max(float32.largestNorm, largest32) };
  }
  if (w.pointPanels) kernelExports.packPoints(w.points.pointer, rows, d, w.pointPanels.pointer, firstPanel);
  let classes = w.classes;
  let largestTarget = w.largestTarget;
  if ('targets' in labels) {
    kernels.f64(w.labels.pointer + n * 8, extra.rows).set(labels.targets);
    largestTarget = Math.max(largestTarget, largestMagnitude(labels.targets));
  } else {
    kernels.i32(w.labels.pointer + n * 4, extra.rows).set(labels.codes);
    if (labels.recode) {
      const held = kernels.i32(w.labels.pointer, n);
      for (let i = 0; i < n; i++) held[i] = labels.recode[held[i]];
    }
    classes = labels.classes;
  }
  return { ...w, n: rows, largestNorm: Math.max(w.largestNorm, largestNorm), float32, classes, largestTarget };
}
