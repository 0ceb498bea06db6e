// The network's weights in wasm memory: their layout, how a fit packs them, and how points are
// appended in place. Regions are sized for a capacity of rows, which add() grows geometrically,
// so that appending m points costs O(m·d) and re-packing everything (which also re-centres)
// happens only when the capacity doubles. Two storages: float64 (X, W1 and their packed copies)
// and float32 (X once, in float32 panels: float32Weights.ts).
import { packKeptStoredPoints, packStoredPoints, readStoredRows, stagingBytes, storedRegionSizes, type PackedNorms, type StoredPoints } from './float32Weights.js';
import { KnnError } from './errors.js';
import type { EncodedLabels, Label } from './labels.js';
import type { Matrix } from './matrix.js';
import { normaliseRows } from './metrics.js';
import { planWeights, searchesDirectly, trainingSizeAdvice, type StorageKind } from './planner.js';
import type { Kernels, Region } from './wasm.js';

/** The network's weights in wasm memory, for its first `n` of `capacity` rows. */
export interface Weights {
  readonly n: number;
  readonly d: number;
  /** Labels are regression targets (f64), not class codes (i32). */
  readonly regression: boolean;
  /**
   * Layer 1 is the expansion (W1, b1 packed, centred on μ), for every metric but Manhattan,
   * whose layer 1 is not linear, and dot, whose exact value is its own sum: they have only X's
   * panels, and empty W1 and b1 regions.
   */
  readonly expansion: boolean;
  /** Rows every region has room for (n at fit; more after add grows them). */
  readonly capacity: number;
  /** What the points are kept as: 'float64' (the regions below) or 'float32' (`stored`, with b1 and μ). */
  readonly storage: StorageKind;
  /** The k-nearest search runs on direct values (Manhattan, dot, small d), else on the expansion's candidates. */
  readonly direct: boolean;
  /** Float64 storage: X as given, row-major: the GEMM path recomputes its candidates' distances from it. */
  readonly points: Region | undefined;
  /** Float64 storage: X again, in panels: the direct-difference search of small d reads it (none on the GEMM search). */
  readonly pointPanels: Region | undefined;
  /** Float64 storage: W1 = −2·(X − μ), packed in panels (assembly/distance.ts). */
  readonly packed: Region | undefined;
  /** Float32 storage: X's float32 panels and the candidates' norms. */
  readonly stored: StoredPoints | undefined;
  /** b1 = ‖X_i − μ‖², padded to whole panels. */
  readonly norms: Region;
  /** μ: the mean of X when the weights were last packed whole (a fit, or an add that re-centred them). */
  readonly mean: Region;
  /** How many rows μ is the mean of. */
  readonly centredRows: number;
  /** W3: class codes (i32) or regression targets (f64); none on a network without labels (task 'search'). */
  readonly labels: Region | undefined;
  readonly largestNorm: number;
  /** The float32 copy of W1 that chooses the GEMM search's candidates (none on the direct search, with the option off, or on float32 storage). */
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

/** The regions of `weights`, in the order of their storage's region sizes (regionSizes or storedRegionSizes). */
export function weightsRegions(weights: Weights): Region[] {
  if (weights.stored) {
    const stored = [weights.stored.panels, weights.norms, weights.stored.candidateNorms, weights.mean];
    if (weights.labels) stored.push(weights.labels);
    if (weights.stored.unitFactors) stored.push(weights.stored.unitFactors);
    return stored;
  }
  const regions = [weights.points!, weights.packed!, weights.norms, weights.mean];
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
 * false: Manhattan, dot), then X's panels for the direct search (searchesDirectly: d ≤ 16, and below
 * 8 features, few points or no float32 copy; always without the expansion) or else W1's
 * float32 copy when `float32Candidates`. Regions have room for `capacity` rows (at least n).
 * With `storage` 'float32', X is kept once as float32 panels instead (buildStoredWeights); then
 * `cosine` says that the rows are a cosine network's raw rows, which layer 1 reads normalised.
 */
export function buildWeights(
  kernels: Kernels, matrix: Matrix, labels: HeldLabels, float32Candidates: boolean, expansion: boolean, storage: StorageKind, capacity = matrix.rows,
  cosine = false,
): Weights {
  if (storage === 'float32') return buildStoredWeights(kernels, matrix, labels, expansion, capacity, cosine);
  const { rows: n, cols: d } = matrix;
  const float32Input = matrix.data instanceof Float32Array;
  return packFloat64Weights(kernels, n, d, labelBytes(labels), float32Candidates, expansion, capacity, float32Input, (points, labelRegion) => {
    kernels.f64(points.pointer, n * d).set(matrix.data);
    writeLabels(kernels, labelRegion, labels);
    return labelFacts(labels);
  });
}

/**
 * Float64 weights of the points `w` holds followed by `extra` (m rows) and their labels, in new
 * regions with room for `capacity` rows: what an add that cannot append in place builds (the
 * union re-packed and re-centred on its mean). The same bits as buildWeights on the union read
 * out of wasm memory (readPoints), but the held points and labels are copied within wasm memory,
 * never through fresh JavaScript arrays (whose first touch costs more than the packing: 60 ms
 * for 2 561 × 512 points on the bench machine). `w`'s regions are only read.
 */
export function buildUnionWeights(kernels: Kernels, w: Weights, extra: Matrix, appended: AppendedLabels, float32Candidates: boolean, capacity: number): Weights {
  const { n, d } = w;
  const rows = n + extra.rows;
  return packFloat64Weights(kernels, rows, d, labelBytes(w), float32Candidates, w.expansion, capacity, false, (points, labelRegion) => {
    // Allocating may have grown the memory: every view below is made after it.
    const bytes = new Uint8Array(kernels.exports.memory.buffer);
    bytes.copyWithin(points.pointer, w.points!.pointer, w.points!.pointer + n * d * 8);
    kernels.f64(points.pointer + n * d * 8, extra.rows * d).set(extra.data);
    if (appended === undefined) return labelFacts(undefined);
    if ('targets' in appended) {
      bytes.copyWithin(labelRegion!.pointer, w.labels!.pointer, w.labels!.pointer + n * 8);
      const targets = kernels.f64(labelRegion!.pointer, rows);
      targets.set(appended.targets, n);
      return { regression: true, classes: [], largestTarget: largestMagnitude(targets) };
    }
    bytes.copyWithin(labelRegion!.pointer, w.labels!.pointer, w.labels!.pointer + n * 4);
    const codes = kernels.i32(labelRegion!.pointer, rows);
    const { recode } = appended;
    if (recode) for (let i = 0; i < n; i++) codes[i] = recode[codes[i]];
    codes.set(appended.codes, n);
    return { regression: false, classes: appended.classes, largestTarget: 0 };
  });
}

/**
 * Float64 weights of n points × d features in regions with room for `capacity` rows: `write`
 * puts X's n rows in `points` and the labels in their region (both allocated, so its views are
 * made after any growth of the memory) and returns what the weights record of the labels; then
 * X is centred and W1 packed (unless `expansion` is false: Manhattan), then X's panels for the
 * direct search (searchesDirectly: d ≤ 16, and below 8 features, few points or no float32 copy;
 * always without the expansion) or else W1's float32 copy when `float32Candidates`.
 */
function packFloat64Weights(
  kernels: Kernels, n: number, d: number, labelBytesPerRow: number, float32Candidates: boolean, expansion: boolean, capacity: number, float32Input: boolean,
  write: (points: Region, labels: Region | undefined) => { regression: boolean; classes: readonly Label[]; largestTarget: number },
): Weights {
  const kernelExports = kernels.exports;
  const { direct, float32Copy: withFloat32 } = planWeights(n, d, float32Candidates, expansion);
  const sizes = regionSizes(capacity, d, labelBytesPerRow, expansion, direct, withFloat32);
  const what = `fitting ${n} points × ${d} features`;
  kernels.checkRoom(sizes.reduce((a, b) => a + b, 0), what, (room) => trainingSizeAdvice(room, d, float32Candidates, 'float64', float32Input));
  // Nothing allocated here may outlive a failure, whichever step fails.
  const regions: Region[] = [];
  try {
    for (const bytes of sizes) regions.push(kernels.allocate(bytes, what));
    const [points, packed, norms, mean] = regions;
    const labelRegion = labelBytesPerRow === 0 ? undefined : regions[4];
    const rest = regions.slice(labelBytesPerRow === 0 ? 4 : 5);
    const pointPanels = direct ? rest[0] : undefined;
    const facts = write(points, labelRegion);
    if (pointPanels) kernelExports.packPoints(points.pointer, n, d, pointPanels.pointer, 0);
    let largestNorm = 0;
    if (expansion) {
      kernelExports.computeMean(points.pointer, n, d, mean.pointer);
      largestNorm = kernelExports.packWeights(points.pointer, n, d, mean.pointer, packed.pointer, norms.pointer, 0);
    } else {
      kernels.f64(mean.pointer, d).fill(0); // no centre
    }
    const float32 = withFloat32 ? packFloat32Copy(kernels, packed, n, d, rest[0], rest[1]) : undefined;
    return {
      n, d, ...facts, expansion, capacity, storage: 'float64', direct, points, pointPanels, packed, stored: undefined, norms, mean,
      centredRows: n, labels: labelRegion, largestNorm, float32,
    };
  } catch (error) {
    for (const region of regions) kernels.release(region);
    throw error;
  }
}

/** W1's float32 copy of n points packed into `panels` and `norms`, scaled for them. */
function packFloat32Copy(kernels: Kernels, packed: Region, n: number, d: number, panels: Region, norms: Region): Float32Copy {
  const scale = kernels.exports.float32Scale(packed.pointer, n, d);
  const largestNorm = kernels.exports.packFloat32Weights(packed.pointer, n, d, scale, panels.pointer, norms.pointer, 0);
  return { panels, norms, scale, largestNorm };
}

/**
 * What only brute force's k-nearest search reads, taken out of `w` while a partition answers
 * those searches: W1's float32 copy, and (where the expansion can stand in: not Manhattan, not
 * dot) X's direct-search panels, `direct` turning off with them. The caller lets the regions go.
 * Brute force, for what the partition does not serve, then runs the GEMM search in float64: the
 * same answers.
 */
export function withoutBruteForceLayout(w: Weights): { weights: Weights; regions: Region[] } {
  const regions = w.float32 ? [w.float32.panels, w.float32.norms] : [];
  const panels = w.expansion && !w.stored ? w.pointPanels : undefined;
  if (panels) regions.push(panels);
  return { weights: { ...w, float32: undefined, ...(panels ? { pointPanels: undefined, direct: false } : {}) }, regions };
}

/**
 * `w` with the layout planWeights gives it again (X's direct-search panels, W1's float32 copy)
 * where withoutBruteForceLayout took it out, packed anew in regions for its capacity; undefined
 * when nothing is missing, or when the room cannot be had (brute force then searches in float64
 * alone: the same answers). The new regions are the caller's to hold.
 */
export function withBruteForceLayout(kernels: Kernels, w: Weights, float32Candidates: boolean): { weights: Weights; regions: Region[] } | undefined {
  if (w.stored) return undefined;
  const plan = planWeights(w.n, w.d, float32Candidates, w.expansion);
  const panelsMissing = plan.direct && !w.pointPanels;
  const copyMissing = plan.float32Copy && !w.float32;
  if (!panelsMissing && !copyMissing) return undefined;
  const rows = panelRows(w.capacity);
  const regions: Region[] = [];
  try {
    const allocate = (bytes: number) => regions[regions.push(kernels.allocate(bytes, 'the brute-force search\'s layout')) - 1];
    let weights: Weights = w;
    if (panelsMissing) {
      const pointPanels = allocate(rows * w.d * 8);
      kernels.exports.packPoints(w.points!.pointer, w.n, w.d, pointPanels.pointer, 0);
      weights = { ...weights, pointPanels, direct: true };
    }
    if (copyMissing) weights = { ...weights, float32: packFloat32Copy(kernels, w.packed!, w.n, w.d, allocate(rows * w.d * 4), allocate(rows * 8)) };
    return { weights, regions };
  } catch (error) {
    for (const region of regions) kernels.release(region);
    if (error instanceof KnnError && error.code === 'TOO_LARGE') return undefined;
    throw error;
  }
}

/** Writes the labels a fit holds (class codes or targets) to their region. */
function writeLabels(kernels: Kernels, region: Region | undefined, labels: HeldLabels): void {
  if (labels instanceof Float64Array) kernels.f64(region!.pointer, labels.length).set(labels);
  else if (labels) kernels.i32(region!.pointer, labels.codes.length).set(labels.codes);
}

/** What weights record of their labels: regression or not, the classes, the largest |target|. */
function labelFacts(labels: HeldLabels): { regression: boolean; classes: readonly Label[]; largestTarget: number } {
  const regression = labels instanceof Float64Array;
  return { regression, classes: labels === undefined || regression ? [] : labels.classes, largestTarget: regression ? largestMagnitude(labels) : 0 };
}

/** Runs of fewer values than this are copied one value at a time (buildKeptWeights). */
const SHORT_RUN_VALUES = 64;

/**
 * Weights on `w`'s points but those `removed` marks, in their order, with `labels` (the kept
 * points'), room for `capacity` rows, in w's storage: what remove() rebuilds on. The kept
 * points are copied within wasm memory (float64: a run of consecutive rows of X at a time;
 * float32: their panels' lanes) and packed as a fit packs them; reading them out to JavaScript
 * and back took over half of a remove's time (float64) and nearly all of it (float32).
 */
export function buildKeptWeights(kernels: Kernels, w: Weights, removed: Uint8Array, rows: number, labels: HeldLabels, float32Candidates: boolean, capacity: number): Weights {
  const { d } = w;
  if (w.stored) {
    const held = w.stored.panels;
    return storedWeightsOf(kernels, rows, d, labels, w.expansion, capacity, w.stored.unitFactors !== undefined, (panels, norms, candidateNorms, mean, unitFactors) =>
      packKeptStoredPoints(kernels, held, w.n, removed, rows, d, panels, norms, candidateNorms, mean, unitFactors, w.expansion));
  }
  return packFloat64Weights(kernels, rows, d, labelBytes(labels), float32Candidates, w.expansion, capacity, false, (points, labelRegion) => {
    const memory = new Float64Array(kernels.exports.memory.buffer);
    const source = w.points!.pointer / 8;
    let target = points.pointer / 8;
    // Four marks at a time past removed points (a filter's gather removes most of them).
    const words = removed.byteOffset % 4 === 0 ? new Uint32Array(removed.buffer, removed.byteOffset, removed.length >>> 2) : new Uint32Array(0);
    for (let start = 0; start < w.n; ) {
      if ((start & 3) === 0 && words[start >>> 2] === 0x01010101) {
        start += 4;
        continue;
      }
      if (removed[start]) {
        start++;
        continue;
      }
      let end = start + 1;
      while (end < w.n && !removed[end]) end++;
      const values = (end - start) * d;
      // A short run (a filter's scattered points) copied value by value: a call per run costs more.
      if (values < SHORT_RUN_VALUES) for (let j = 0, from = source + start * d; j < values; j++) memory[target + j] = memory[from + j];
      else memory.copyWithin(target, source + start * d, source + end * d);
      target += values;
      start = end;
    }
    writeLabels(kernels, labelRegion, labels);
    return labelFacts(labels);
  });
}

/**
 * Float32 storage of `matrix` (float64 values rounded to float32 once): X's float32 panels, b1
 * and the candidates' norms about μ (or, without the expansion, about 0: Manhattan and dot,
 * whose μ is 0), and the labels; regions with room for `capacity` rows. The search runs on direct
 * differences where float64 storage's would (planner.ts), with the stored values as its
 * candidates elsewhere. A `cosine` network's rows are kept raw, with each one's unit factors
 * (assembly/float32Storage.ts): its μ, b1 and every value layer 1 reads are its unit rows', and
 * its float32 candidates are its unit rows rounded, block by block.
 */
function buildStoredWeights(kernels: Kernels, matrix: Matrix, labels: HeldLabels, expansion: boolean, capacity: number, cosine: boolean): Weights {
  const { rows: n, cols: d } = matrix;
  return storedWeightsOf(kernels, n, d, labels, expansion, capacity, cosine, (panels, norms, candidateNorms, mean, unitFactors) =>
    packStoredPoints(kernels, matrix.data, n, d, panels, norms, candidateNorms, mean, unitFactors, 0, expansion));
}

/**
 * Float32 storage of n points × d in regions for `capacity` rows, their panels, norms and μ
 * written by `pack` (μ zero until it centres it), with `labels`.
 */
function storedWeightsOf(
  kernels: Kernels, n: number, d: number, labels: HeldLabels, expansion: boolean, capacity: number, cosine: boolean,
  pack: (panels: Region, norms: Region, candidateNorms: Region, mean: Region, unitFactors: Region | undefined) => PackedNorms,
): Weights {
  const sizes = storedRegionSizes(capacity, d, labelBytes(labels), cosine);
  const what = `fitting ${n} points × ${d} features`;
  const metric = cosine ? 'cosine' : 'euclidean';
  kernels.checkRoom(sizes.reduce((a, b) => a + b, 0) + stagingBytes(d), what, (room) => trainingSizeAdvice(room - stagingBytes(d), d, true, 'float32', true, metric));
  const regions: Region[] = [];
  try {
    for (const bytes of sizes) regions.push(kernels.allocate(bytes, what));
    const [panels, norms, candidateNorms, mean] = regions;
    const labelRegion = labels === undefined ? undefined : regions[4];
    const unitFactors = cosine ? regions[regions.length - 1] : undefined;
    kernels.f64(mean.pointer, d).fill(0);
    const packed = pack(panels, norms, candidateNorms, mean, unitFactors);
    writeLabels(kernels, labelRegion, labels);
    return {
      n, d, ...labelFacts(labels), expansion, capacity, storage: 'float32', direct: storedSearchesDirectly(n, d, expansion),
      points: undefined, pointPanels: undefined, packed: undefined, stored: { panels, candidateNorms, largestCandidateNorm: packed.largestCandidateNorm, unitFactors },
      norms, mean, centredRows: n, labels: labelRegion, largestNorm: packed.largestNorm, float32: undefined,
    };
  } catch (error) {
    for (const region of regions) kernels.release(region);
    throw error;
  }
}

/** Float32 storage always has its candidates (the stored values): it searches directly where float64 storage with its float32 copy would. */
function storedSearchesDirectly(n: number, d: number, expansion: boolean): boolean {
  return !expansion || searchesDirectly(n, d, true);
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
  if (w.stored) {
    // The panels' layout is the same whichever way the search runs: only the room limits.
    if (rows > w.capacity) return undefined;
    const { stored } = w;
    const packed = packStoredPoints(kernels, extra.data, extra.rows, d, stored.panels, w.norms, stored.candidateNorms, w.mean, stored.unitFactors, n, false);
    const grown = {
      ...w, n: rows, direct: storedSearchesDirectly(rows, d, w.expansion), largestNorm: Math.max(w.largestNorm, packed.largestNorm),
      stored: { ...stored, largestCandidateNorm: Math.max(stored.largestCandidateNorm, packed.largestCandidateNorm) },
    };
    return { ...grown, ...appendLabels(kernels, w, extra.rows, labels) };
  }
  const sameSearch = !w.expansion || searchesDirectly(rows, d, float32Candidates) === searchesDirectly(n, d, float32Candidates);
  if (rows > w.capacity || !sameSearch) return undefined;
  const kernelExports = kernels.exports;
  const points = w.points!.pointer;
  const packed = w.packed!.pointer;
  kernels.f64(points + n * d * 8, extra.rows * d).set(extra.data);
  const largestNorm = w.expansion ? kernelExports.packWeights(points, rows, d, w.mean.pointer, packed, w.norms.pointer, n) : 0;
  let float32 = w.float32;
  if (float32) {
    // The copy's scale was chosen for the held points. Points far larger are packed again with a
    // new scale, before any of their scaled values could come near float32's range (2^128).
    if (!(float32.scale * float32.scale * largestNorm < LARGEST_SCALED_NORM)) {
      // The new points took padding lanes of the held last panel, which later appends expect to
      // find padded (packWeights): that panel is packed again from its first lane (the held
      // points' lanes get the same bits, on the same μ).
      if (n % PANEL_POINTS !== 0) kernelExports.packWeights(points, n, d, w.mean.pointer, packed, w.norms.pointer, n - (n % PANEL_POINTS));
      return undefined;
    }
    const largest32 = kernelExports.packFloat32Weights(packed, rows, d, float32.scale, float32.panels.pointer, float32.norms.pointer, n);
    float32 = { ...float32, largestNorm: Math.max(float32.largestNorm, largest32) };
  }
  if (w.pointPanels) kernelExports.packPoints(points, rows, d, w.pointPanels.pointer, n);
  return { ...w, n: rows, largestNorm: Math.max(w.largestNorm, largestNorm), float32, ...appendLabels(kernels, w, extra.rows, labels) };
}

/** Writes the labels of `count` points appended after w's n (recoding the held class codes if asked); returns the classes and largest |target| after. */
function appendLabels(kernels: Kernels, w: Weights, count: number, labels: AppendedLabels): { classes: readonly Label[]; largestTarget: number } {
  const { n } = w;
  if (labels === undefined) return { classes: w.classes, largestTarget: w.largestTarget };
  if ('targets' in labels) {
    kernels.f64(w.labels!.pointer + n * 8, count).set(labels.targets);
    return { classes: w.classes, largestTarget: Math.max(w.largestTarget, largestMagnitude(labels.targets)) };
  }
  kernels.i32(w.labels!.pointer + n * 4, count).set(labels.codes);
  if (labels.recode) {
    const held = kernels.i32(w.labels!.pointer, n);
    for (let i = 0; i < n; i++) held[i] = labels.recode[held[i]];
  }
  return { classes: labels.classes, largestTarget: w.largestTarget };
}

/**
 * The same weights in regions with room for `capacity` rows: each region's used bytes are copied
 * (nothing is packed again, μ is kept), in O(n·d) memory traffic. The old regions are the
 * caller's to release. Nothing is changed when the new regions cannot be had (TOO_LARGE).
 */
export function growWeights(kernels: Kernels, w: Weights, capacity: number): Weights {
  const { n, d } = w;
  const old = weightsRegions(w);
  const sizesFor = (rows: number): number[] =>
    w.stored ? storedRegionSizes(rows, d, labelBytes(w), w.stored.unitFactors !== undefined) : regionSizes(rows, d, labelBytes(w), w.expansion, w.pointPanels !== undefined, w.float32 !== undefined);
  const sizes = sizesFor(capacity);
  const used = sizesFor(n);
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
  if (w.stored) {
    const [panels, norms, candidateNorms, mean] = regions;
    const labels = w.labels ? regions[4] : undefined;
    const unitFactors = w.stored.unitFactors ? regions[regions.length - 1] : undefined;
    return { ...w, capacity, norms, mean, labels, stored: { ...w.stored, panels, candidateNorms, unitFactors } };
  }
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
 * expansion (Manhattan, dot) W1 is X itself and b1 is zeros.
 */
export function readNetworkWeights(kernels: Kernels, w: Weights): { W1: Float64Array; b1: Float64Array; W3: Float64Array; mean: Float64Array } {
  let W1: Float64Array;
  if (w.stored) {
    // −2·(x − μ) in float64 on the widened (unit) values, as packWeights computes it (× −2 is exact).
    W1 = readLayerOnePoints(kernels, w);
    const mean = kernels.f64(w.mean.pointer, w.d);
    if (w.expansion) for (let i = 0; i < W1.length; i++) W1[i] = -2 * (W1[i] - mean[i % w.d]);
  } else if (w.expansion) {
    const packed = kernels.f64(w.packed!.pointer, panelRows(w.n) * w.d);
    W1 = new Float64Array(w.n * w.d);
    for (let i = 0; i < w.n; i++) {
      const panel = Math.floor(i / PANEL_POINTS) * w.d * PANEL_POINTS;
      for (let j = 0; j < w.d; j++) W1[i * w.d + j] = packed[panel + j * PANEL_POINTS + (i % PANEL_POINTS)];
    }
  } else {
    W1 = kernels.f64(w.points!.pointer, w.n * w.d).slice();
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

/** The training points as stored (row-major, float32 or float64), and their labels: class codes, regression targets, or none. */
export function readTrainingData(kernels: Kernels, w: Weights): { points: Float64Array | Float32Array; codes?: Int32Array; targets?: Float64Array } {
  const points = readPoints(kernels, w);
  if (!w.labels) return { points };
  if (w.regression) return { points, targets: kernels.f64(w.labels.pointer, w.n).slice() };
  return { points, codes: kernels.i32(w.labels.pointer, w.n).slice() };
}

/**
 * The training points at `positions` (all, in order, when absent), row-major, in float64 as
 * layer 1 reads them: float64 storage's (a copy), float32 storage's widened, a cosine network's
 * normalised as its unit factors normalise them (normaliseRow: the same bits).
 */
export function readLayerOnePoints(kernels: Kernels, w: Weights, positions?: ArrayLike<number>): Float64Array {
  const points = readPoints(kernels, w, positions);
  const rows = points.length / w.d;
  if (w.stored?.unitFactors) return normaliseRows({ data: points, rows, cols: w.d }, 'X').data as Float64Array;
  return points instanceof Float64Array ? points : Float64Array.from(points);
}

/** The training points at `positions` (all, in order, when absent), row-major, as stored: float32 or float64. */
export function readPoints(kernels: Kernels, w: Weights, positions?: ArrayLike<number>): Float64Array | Float32Array {
  if (w.stored) return readStoredRows(kernels, w.stored.panels, w.n, w.d, positions);
  const points = kernels.f64(w.points!.pointer, w.n * w.d);
  if (!positions) return points.slice();
  const rows = new Float64Array(positions.length * w.d);
  for (let r = 0; r < positions.length; r++) rows.set(points.subarray(positions[r] * w.d, (positions[r] + 1) * w.d), r * w.d);
  return rows;
}
