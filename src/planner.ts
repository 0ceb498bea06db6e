// The planner: every decision about how a network runs, made in one place from its size (n
// points, d features), its options and the machine. Which layer-1 kernel its k-nearest search
// streams and so which packed layouts its weights hold (decided at each build: fit, load, and
// the rebuilds of add and remove), how many candidates the expansion keeps, and how a call on
// the worker pool is split (by queries, or by training rows). The weights, the jobs and the
// runner read these decisions; none of them decides again. Also what the points are stored as
// (float32 or float64), and so how many bytes each costs and how many fit.
import type { Metric } from './metrics.js';
import type { StorageOption } from './options.js';

/** What a network keeps its training points as: float32 (once, 4 bytes a value) or float64. */
export type StorageKind = 'float32' | 'float64';

/**
 * The storage of training data that arrive as float32 (`float32Input`) or not: what the caller
 * asked for, or for 'auto' the data's own type. Every metric, cosine included: float32 storage
 * keeps a cosine network's raw rows and, per row, what rebuilds its unit row bit for bit
 * (assembly/float32Storage.ts).
 */
export function storageFor(requested: StorageOption | StorageKind, float32Input: boolean): StorageKind {
  if (requested !== 'auto') return requested;
  return float32Input ? 'float32' : 'float64';
}

/**
 * Up to this many features the k-nearest search can run on direct differences, with X kept in
 * the direct kernel's panels: the same number as the kernels' directPanelDimensions() (a test
 * checks that they agree).
 */
export const DIRECT_SEARCH_FEATURES = 16;

/**
 * From this many training points and features the float32 candidate search beats direct
 * differences even for d ≤ DIRECT_SEARCH_FEATURES. Measured (k = 5, 100–1 000 queries, median
 * of 9 alternating runs on a loaded machine): at d = 8–16 the float32 path takes 0.66–0.76× the
 * direct search's time for n = 3 000–100 000, but 1.2–1.3× at n = 1 000, where the recheck of
 * k + margin candidates per query weighs more; at d = 4–6 the two are even (0.94–1.06, 1.48 at
 * n = 3 000, d = 4), and at d = 1–2 direct differences win by 1.4–3×.
 */
export const FLOAT32_SEARCH_MIN_POINTS = 3000;
export const FLOAT32_SEARCH_MIN_FEATURES = 8;

/** Whether a network of `rows` points and `cols` features searches on direct differences (else a GEMM). */
export function searchesDirectly(rows: number, cols: number, float32Candidates: boolean): boolean {
  if (cols > DIRECT_SEARCH_FEATURES) return false;
  return !(float32Candidates && rows >= FLOAT32_SEARCH_MIN_POINTS && cols >= FLOAT32_SEARCH_MIN_FEATURES);
}

/** What a network's weights hold besides X and its labels, for n points of d features. */
export interface WeightsLayout {
  /**
   * Layer 1 is the expansion (W1, b1 packed, centred on μ), for every metric but Manhattan,
   * whose layer 1 is not linear, and dot: they have X's panels only.
   */
  readonly expansion: boolean;
  /** X in the direct-difference kernel's panels: the k-nearest search runs on direct differences. */
  readonly direct: boolean;
  /** W1's float32 copy, which chooses the GEMM search's candidates. */
  readonly float32Copy: boolean;
}

/** The layout for `rows` points of `cols` features: Manhattan, dot and small d search directly; else the GEMM, with the float32 copy unless turned off. */
export function planWeights(rows: number, cols: number, float32Candidates: boolean, expansion: boolean): WeightsLayout {
  const direct = !expansion || searchesDirectly(rows, cols, float32Candidates);
  return { expansion, direct, float32Copy: float32Candidates && !direct };
}

/**
 * Bytes a network of `rows` points holds per training row of `cols` features. Float64 storage:
 * X as given and the packed W1 (float64), then X again in panels for the direct search or else,
 * with `float32Candidates`, W1's float32 copy and its norms; then a norm and a label. Float32
 * storage: X's float32 panels, b1 and the candidates' norms, a cosine network's unit factors,
 * then a label (assembly/float32Storage.ts).
 */
export function trainingBytesPerRow(rows: number, cols: number, float32Candidates: boolean, storage: StorageKind = 'float64', metric: Metric = 'euclidean'): number {
  if (storage === 'float32') return cols * 4 + 16 + (metric === 'cosine' ? 16 : 0) + 8;
  const extra = searchesDirectly(rows, cols, float32Candidates) ? cols * 8 : float32Candidates ? cols * 4 + 8 : 0;
  return cols * 8 * 2 + extra + 16;
}

/** The most training rows of `cols` features whose trainingBytesPerRow fit in `bytes` (a binary search: the bytes per row change with the search's kernel). */
export function largestTrainingRows(bytes: number, cols: number, float32Candidates: boolean, storage: StorageKind, metric: Metric = 'euclidean'): number {
  let fits = 0;
  let tooMany = Math.floor(bytes / (cols * 4)) + 1;
  while (tooMany - fits > 1) {
    const rows = Math.floor((fits + tooMany) / 2);
    if (rows * trainingBytesPerRow(rows, cols, float32Candidates, storage, metric) <= bytes) fits = rows;
    else tooMany = rows;
  }
  return fits;
}

/**
 * What a TOO_LARGE for training data should add: the most rows of `cols` features that fit in
 * `bytes` as the network would store them, and where another setting holds more, that setting
 * and how many it holds.
 */
export function trainingSizeAdvice(bytes: number, cols: number, float32Candidates: boolean, storage: StorageKind, float32Input: boolean, metric: Metric = 'euclidean'): string {
  const most = largestTrainingRows(bytes, cols, float32Candidates, storage, metric);
  const now = `at most ${most} points of ${cols} features fit (${storage} storage)`;
  if (storage === 'float64') {
    const asFloat32 = largestTrainingRows(bytes, cols, float32Candidates, 'float32', metric);
    const how = float32Input ? "storage: 'auto' keeps this float32 input as float32" : "storage: 'float32' keeps X as float32, rounding it once";
    const withoutCopy = float32Candidates ? largestTrainingRows(bytes, cols, false, 'float64') : most;
    const copyHint = withoutCopy > most ? `; float32Candidates: false holds ${withoutCopy}` : '';
    return `${now}; ${how}, 4 bytes a value: up to ${asFloat32} points${copyHint}`;
  }
  return `${now}: use fewer points or features`;
}

/**
 * How many expansion candidates the GEMM path keeps per query (the direct-difference path
 * keeps exactly k): k plus a margin, enough for the exactness proof to hold unless many points
 * tie at the k-th distance (that query is then answered by a second pass). Each extra candidate
 * costs selection work and a direct distance per query: noise next to the GEMM for large n,
 * but much of the time for small n, where the margin shrinks (at n = 105 it is 1, which also
 * lets the heap-free row selection serve k ≤ 7).
 */
export function candidateCapacity(n: number, k: number): number {
  const margin = Math.min(8, Math.max(1, Math.floor(n / 128)));
  return Math.min(n, k + margin);
}

/** A slice of the training rows (the neighbour search split by training rows) has at least this many panels of 8. */
const SMALLEST_SLICE_PANELS = 64;

/**
 * A split by queries streams the weights once per part; from this many bytes streamed (more
 * than a core's L2 holds) a call is split by training rows instead, which streams them once in
 * all. Measured on W3 (100 queries, 100 000 × 128 points: 51 MB of float32 panels) on one
 * thread: two parts of 50 queries took 1.10× one call of 100, four parts 1.32×; on W2 (2.5 MB)
 * any split cost nothing.
 */
const SLICED_STREAM_BYTES = 8 * 1024 * 1024;

/**
 * Each of the pool's workers takes parts of at least this many queries, so that a part still
 * shares its blocks of weights among query pairs as a chunk does; a call of fewer queries per
 * worker is better split by training rows.
 */
export const SMALLEST_PART_QUERIES = 8;

/** How many slices of whole panels the neighbour search of n points is split into on `threads` workers (fewer than 2: none). */
export function neighbourSliceCount(n: number, threads: number): number {
  return Math.min(threads, Math.floor(Math.ceil(n / 8) / SMALLEST_SLICE_PANELS));
}

/**
 * Whether a pooled call of `rows` queries, streaming `streamedBytes` of weights per pass, should
 * be split by training rows into `slices` (each worker taking a slice over all the queries)
 * rather than by queries: when there are too few queries for every worker, or the weights are
 * past the caches, and only when the slices keep at least as many workers busy as the split by
 * queries would (slices are few where blocks or panels are: many classes, a small n).
 */
export function splitsByTrainingRows(rows: number, threads: number, streamedBytes: number, slices: number): boolean {
  const fewQueries = rows < threads * SMALLEST_PART_QUERIES;
  if (!(fewQueries || streamedBytes >= SLICED_STREAM_BYTES)) return false;
  return slices >= 2 && slices >= Math.min(threads, Math.ceil(rows / SMALLEST_PART_QUERIES));
}

/**
 * The pruned search serves searches for up to this many neighbours (kneighbors with a larger
 * k, or a network whose k is larger, runs brute force: the same bits). Its cost model was
 * fitted at k = 5; a heap of many neighbours per query prunes little.
 */
export const TREE_LARGEST_K = 64;

/** Below this many points 'auto' does not build a partition: brute force's pass over them is cheaper than a tree's visit. */
export const PLAN_MIN_POINTS = 256;

/**
 * Which k-nearest search a network of n points asks for (treeIndex.ts builds and keeps the
 * partition): 'brute' where none can serve (no points, the softmax over every point, k 'all'
 * or beyond TREE_LARGEST_K) or the caller asked for it, or where n is below PLAN_MIN_POINTS
 * for 'auto'; 'tree' as asked; 'auto' the partition's cost model decides. Float32 storage
 * always searches by brute force: the partition keeps its own float64 layouts of X, which
 * would undo what storing X once as float32 saves.
 */
export function planSearch(
  options: { readonly algorithm: 'auto' | 'brute' | 'tree'; readonly k: number | 'all' }, n: number, storage: StorageKind = 'float64',
): 'auto' | 'brute' | 'tree' {
  if (n === 0 || storage === 'float32' || options.algorithm === 'brute' || options.k === 'all' || options.k > TREE_LARGEST_K) return 'brute';
  if (options.algorithm === 'tree') return 'tree';
  return n < PLAN_MIN_POINTS ? 'brute' : 'auto';
}
