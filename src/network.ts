// KnnNetwork: the public network. It validates every argument (matrix.ts, labels.ts,
// options.ts), owns its weights in wasm linear memory (weights.ts), and turns each method into
// jobs of kernel calls that its runner (chunkRunner.ts) runs in chunks, here or on its worker
// pool; for few queries on the pool it splits the training rows into slices and merges them.
import { KnnError, describeValue } from './errors.js';
import {
  checkClassification, checkHeldTargets, classCode, countPerClass, encodeLabels, encodeTargets, extendClasses, readAddedLabels, targetLimit,
  type EncodedLabels, type Label,
} from './labels.js';
import { checkRemaining, readIndices } from './indices.js';
import { distanceOf, layerOneRadiusBound, prepareRows } from './metrics.js';
import { toMatrix, type Matrix, type MatrixInput } from './matrix.js';
import { checkRadius, neighbourCount, resolveOptions, type KnnOptions, type ResolvedOptions, type Task } from './options.js';
import type { ClassifierInput, LayerActivations, NetworkWeights, Neighbours, Prediction, RadiusNeighbours } from './results.js';
import { accuracy, checkTruth, rSquared } from './scoring.js';
import { decodeNetwork, encodeNetwork } from './serialize.js';
import { resolveThreads, type ThreadsOption } from './threads.js';
import { loadKernels, type Holding, type Kernels, type Region } from './wasm.js';
import { appendWeights, buildWeights, growWeights, weightsRegions, type AppendedLabels, type Weights } from './weights.js';
import { align16, ChunkRunner, SMALLEST_PART_QUERIES, type ChunkJob, type MergeStep } from './chunkRunner.js';
import type { KernelCall } from './workerPool.js';

/** Layer-2 weighting codes shared with assembly/project.ts. */
const WEIGHTING_CODES = { uniform: 0, distance: 1, softmax: 2 } as const;
/** 'distance' votes when the metric's distance is a constant multiple of z1 (cosine), not √z1. */
const DISTANCE_PROPORTIONAL_CODE = 3;
// forward materialises q × n values per layer, kneighbors q × k; beyond 2^28 float64s (2 GiB)
// a typed array cannot be had on every engine.
const MAX_OUTPUT_VALUES = 2 ** 28;
// radiusNeighbors returns at most this many neighbours in all, for the same reason.
const MAX_RESULT_VALUES = MAX_OUTPUT_VALUES;
// add() re-centres (re-packs every point on the mean of all) once the held centre is the mean
// of fewer than a quarter of the points; between, a full room is moved to one twice as large.
const RECENTRE_GROWTH = 4;
/**
 * How many expansion candidates the GEMM path keeps per query (the direct-difference path, for
 * d ≤ 16, keeps exactly k): k plus a margin, enough for the exactness
 * proof to hold unless many points tie at the k-th distance (that query is then answered by
 * a second pass). Each extra candidate costs selection work and a direct distance per query:
 * noise next to the GEMM for large n, but much of the time for small n, where the margin
 * shrinks (at n = 105 it is 1, which also lets the heap-free row selection serve k ≤ 7).
 */
function candidateCapacity(n: number, k: number): number {
  const margin = Math.min(8, Math.max(1, Math.floor(n / 128)));
  return Math.min(n, k + margin);
}

/** Throws TOO_LARGE when a call would return rows × columns values, more than a typed array holds. */
function checkOutputSize(rows: number, columns: number, what: string, fix: string): void {
  if (rows * columns <= MAX_OUTPUT_VALUES) return;
  throw new KnnError('TOO_LARGE', `${what} = ${rows} × ${columns} values, more than the ${MAX_OUTPUT_VALUES} a typed array holds here; ${fix}.`);
}

/** Layer 3's weights W3 in wasm memory: class codes (or targets) and how many outputs. */
interface Projection {
  readonly labels: number;
  readonly classes: number;
  readonly regression: boolean;
}

/** Exact k nearest neighbours of q queries: indices and squared distances, q × k each, nearest first. */
interface FoundNeighbours {
  readonly indices: Int32Array;
  readonly squared: Float64Array;
}

/** Layer 3's q × classes scores of the softmax over all points, merged from every block. */
interface MergedScores {
  readonly scores: Float64Array;
}

/** What a call split by training rows computed on the pool, for the job that finishes it here. */
type Given = FoundNeighbours | MergedScores;

const isMergedScores = (given: Given | undefined): given is MergedScores => given !== undefined && 'scores' in given;

/**
 * A call split by training rows: one job per slice, each run by its own worker over all the
 * queries; `sharedBytes` of scratch every slice writes into (its pointer is each layout's
 * `shared`), and `merge` of the slices' results on this thread, into `given`.
 */
interface SlicePlan extends MergeStep {
  readonly jobs: ChunkJob[];
  readonly given: Given;
}

/**
 * Writes to `found` the k best of each query's entries over `parts` (part p's indices counted
 * from `firsts[p]`), by squared distance, then index: the order the kernels keep.
 */
function mergeNeighbours(parts: readonly FoundNeighbours[], firsts: readonly number[], k: number, found: FoundNeighbours): void {
  const { indices, squared } = found;
  const rows = indices.length / k;
  const candidates: { index: number; squared: number }[] = [];
  for (let r = 0; r < rows; r++) {
    candidates.length = 0;
    parts.forEach((part, p) => {
      const width = part.indices.length / rows;
      for (let j = 0; j < width; j++) candidates.push({ index: part.indices[r * width + j] + firsts[p], squared: part.squared[r * width + j] });
    });
    candidates.sort((a, b) => (a.squared < b.squared ? -1 : a.squared > b.squared ? 1 : a.index - b.index));
    for (let j = 0; j < k; j++) {
      indices[r * k + j] = candidates[j].index;
      squared[r * k + j] = candidates[j].squared;
    }
  }
}

/** Options of fromBytes: only the machine's settings, since the model's come with the bytes. @inline */
export interface LoadOptions {
  /** As `threads` in fit's options (default 1); toBytes does not save it. */
  threads?: ThreadsOption;
}

// A slice of the training rows (the neighbour search split by training rows) has at least this many panels of 8.
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
 * Exact k-nearest-neighbour prediction as a three-layer network whose weights are the training
 * data: layer 1 computes squared distances to every training point, layer 2 weights the k
 * nearest, layer 3 sums their votes per class (or their targets, for regression).
 *
 * `L` is the label type and `T` the task, both fixed by `fit`: a classifier fitted on string
 * labels is a `KnnNetwork<string, 'classification'>` and its `predict` returns `string[]`; on
 * numbers, `KnnNetwork<number, 'classification'>` and `number[]`; a regressor is a
 * `KnnNetwork<number, 'regression'>` and its `predict` returns a `Float64Array`. A plain
 * `KnnNetwork` (what `fromBytes` returns) may be any of them.
 *
 * The network holds its weights in WebAssembly memory: call `dispose()` when done with it.
 */
export class KnnNetwork<L extends Label = Label, T extends Task = Task> {
  /** The options the network was fitted with, every default filled in. */
  readonly options: ResolvedOptions<T>;
  readonly #kernels: Kernels;
  #weights: Weights | undefined;
  readonly #holding: Holding;
  /** Referenced by this network alone: the kernels watch it to reclaim the regions of a collected network. */
  readonly #lifetime = {};
  /** How many threads the async methods use (1: no pool). */
  readonly threads: number;
  readonly #runner: ChunkRunner;
  /** The async call in progress or queued last: async calls on one network run one after another. */
  #lastAsyncCall: Promise<unknown> = Promise.resolve();
  /** Async calls on the pool, running or queued. */
  #asyncCallsRunning = 0;
  /** Weights replaced (add, remove) while an async call read them: released once it is done. */
  #retired: Region[] = [];

  private constructor(kernels: Kernels, weights: Weights, options: ResolvedOptions<T>, threads: number) {
    this.#kernels = kernels;
    this.#weights = weights;
    this.options = options;
    this.threads = threads;
    this.#runner = new ChunkRunner(kernels, threads, this);
    this.#holding = kernels.hold(this, this.#lifetime, weightsRegions(weights));
  }

  /** The kernels a network with `threads` runs on: the shared-memory build when it has a pool. */
  static #kernelsFor(threads: number): Promise<Kernels> {
    return loadKernels(undefined, threads > 1);
  }

  /**
   * Trains a classifier on n rows of X (n × d) and their string class labels y: its `predict`
   * returns `string[]`. The network's weights are the training data, copied (the caller's
   * arrays are never modified). Throws a KnnError naming the argument for any bad input.
   */
  static fit(X: MatrixInput, y: ArrayLike<string>, options?: KnnOptions & { task?: 'classification' }): Promise<KnnNetwork<string, 'classification'>>;
  /**
   * Trains a classifier on n rows of X (n × d) and their numeric class labels y: its `predict`
   * returns `number[]`. The network's weights are the training data, copied (the caller's
   * arrays are never modified). Throws a KnnError naming the argument for any bad input.
   */
  static fit(X: MatrixInput, y: ArrayLike<number>, options?: KnnOptions & { task?: 'classification' }): Promise<KnnNetwork<number, 'classification'>>;
  /**
   * Trains a regressor (`task: 'regression'`) on n rows of X (n × d) and their numeric targets
   * y: its `predict` returns a Float64Array of estimates, and it has no classes (no
   * `predictProba`). The weights are the training data, copied. Throws a KnnError naming the
   * argument for any bad input.
   */
  static fit(X: MatrixInput, y: ArrayLike<number>, options: KnnOptions & { task: 'regression' }): Promise<KnnNetwork<number, 'regression'>>;
  /**
   * Trains a network whose label type or task is known only at run time: its `predict` returns
   * the labels or a Float64Array (`options.task` tells which). Throws a KnnError naming the
   * argument for any bad input.
   */
  static fit(X: MatrixInput, y: ArrayLike<Label>, options?: KnnOptions): Promise<KnnNetwork>;
  static async fit(X: MatrixInput, y: ArrayLike<Label>, options?: KnnOptions): Promise<KnnNetwork> {
    const isObject = typeof options === 'object' && options !== null && !Array.isArray(options);
    const { threads: threadsOption, ...modelOptions } = isObject ? options : {};
    const resolved = resolveOptions(isObject ? modelOptions : options);
    const threads = resolveThreads(threadsOption);
    const matrix = prepareRows(toMatrix(X, 'X', undefined, undefined, resolved.float32Candidates), resolved.metric, 'X');
    const labels = resolved.task === 'regression' ? encodeTargets(y, matrix.rows) : encodeLabels(y, matrix.rows);
    if (resolved.k !== 'all') neighbourCount(resolved.k, matrix.rows, 'options.k');
    const kernels = await KnnNetwork.#kernelsFor(threads);
    return new KnnNetwork(kernels, buildWeights(kernels, matrix, labels, resolved.float32Candidates, resolved.metric !== 'manhattan'), resolved, threads);
  }

  /**
   * Rebuilds a network saved with `toBytes()`; it answers bit for bit as the original. Its label
   * type and task are known only at run time (`options.task`, `classes`), so the result is a
   * plain `KnnNetwork`: assert the type you saved, e.g.
   * `(await KnnNetwork.fromBytes(bytes)) as KnnNetwork<string, 'classification'>`.
   * `options.threads` is as in fit (the bytes do not carry it).
   */
  static async fromBytes(bytes: Uint8Array, options?: LoadOptions): Promise<KnnNetwork> {
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      throw new KnnError('BAD_OPTION', `fromBytes(bytes, options): options must be an object such as { threads: 'auto' }; got ${describeValue(options)}.`);
    }
    for (const name of Object.keys(options ?? {})) {
      if (name !== 'threads') throw new KnnError('BAD_OPTION', `options.${name} is not an option of fromBytes; its only option is threads (the others are saved in the bytes).`);
    }
    const threads = resolveThreads(options?.threads);
    const saved = decodeNetwork(bytes);
    const resolvedOptions = resolveOptions(saved.options);
    const labels = saved.targets ?? { classes: saved.classes, codes: saved.codes! };
    const kernels = await KnnNetwork.#kernelsFor(threads);
    const matrix = { data: saved.points, rows: saved.n, cols: saved.d };
    return new KnnNetwork(kernels, buildWeights(kernels, matrix, labels, resolvedOptions.float32Candidates, resolvedOptions.metric !== 'manhattan'), resolvedOptions, threads);
  }

  #live(): Weights {
    if (!this.#weights) {
      throw new KnnError('DISPOSED', 'this network was disposed; fit a new one (or load it with KnnNetwork.fromBytes) to keep predicting.');
    }
    return this.#weights;
  }

  /** 1 for the Manhattan metric, whose layer 1 the kernels run on X's panels (not W1): as the kernels take it. */
  get #manhattan(): number {
    return this.options.metric === 'manhattan' ? 1 : 0;
  }

  /**
   * The panels layer 1 streams for forward and the softmax over all points: W1, or X's for
   * Manhattan. A job takes them from the weights it captured when it was built, as it takes
   * everything else: an add or remove during an async call replaces the network's weights.
   */
  static #layerOnePanels(w: Weights): number {
    return w.expansion ? w.packed.pointer : w.pointPanels!.pointer;
  }

  get #regression(): boolean {
    return this.options.task === 'regression';
  }

  /** n, the number of training points (rows of X, including any added since). */
  get nSamples(): number {
    return this.#live().n;
  }

  /** d, the number of features: the length of every row of X and of every query. */
  get nFeatures(): number {
    return this.#live().d;
  }

  /**
   * The distinct class labels, sorted (numbers ascending, strings by UTF-16 code unit): the
   * columns of `predictProba`, in order. Empty for regression.
   */
  get classes(): readonly L[] {
    return this.#live().classes as readonly L[];
  }

  /** Whether an async call of `rows` queries goes to the pool (else it runs on this thread). */
  #usesPool(rows: number, fewestRows = 2): boolean {
    const { n, d } = this.#live();
    return this.#runner.usesPool(rows, n, d, fewestRows);
  }

  /**
   * Runs `job` over `queries` for an async method: on the pool when the call is large enough,
   * else here. Async calls on one network are queued, one at a time; those on other networks
   * (each with a pool of its own) run side by side.
   */
  async #runAsync(queries: Matrix, job: ChunkJob): Promise<void> {
    if (!this.#usesPool(queries.rows)) {
      this.#runner.run(queries, job);
      return;
    }
    // `queries` is the network's own copy of the caller's rows (toMatrix): what the caller does
    // to its array while the call waits on the queue cannot reach it.
    await this.#queued(() => this.#runner.runOnPool(queries, job));
  }

  /**
   * Runs `work` on the pool once the network's earlier async calls are done. Its jobs point at
   * the weights as they are now: until it has run, weights that add or remove replace are kept
   * (#retired), and dispose fails it.
   */
  async #queued(work: () => Promise<void>): Promise<void> {
    this.#asyncCallsRunning++;
    const call = this.#lastAsyncCall.then(async () => {
      this.#live();
      await work();
    });
    this.#lastAsyncCall = call.catch(() => {});
    try {
      await call;
    } finally {
      if (--this.#asyncCallsRunning === 0) this.#releaseRetired();
    }
  }

  /**
   * A call split by training rows, each worker taking a slice of them and this thread merging
   * the slices' results: undefined when the call is better split by queries (enough queries for
   * every worker, on weights that stay in the caches) or small. `k` is the neighbour search's,
   * or undefined for the softmax over all points.
   *
   * `run(finish)` must be called at once (it queues the call, which holds the weights as they
   * are now); it fills `given`, then calls `finish` while the call still holds them.
   */
  #splitByPoints(queries: Matrix, k: number | undefined): { given: Given; run(finish: () => void): Promise<void> } | undefined {
    const fewQueries = queries.rows < this.threads * SMALLEST_PART_QUERIES;
    if (!(fewQueries || this.#streamedBytes(k) >= SLICED_STREAM_BYTES) || !this.#usesPool(queries.rows, 1)) return undefined;
    const plan = k === undefined ? this.#softmaxSlices(queries.rows) : this.#neighbourSlices(queries.rows, k);
    // Slices are few where blocks or panels are (many classes, a small n): then the split by
    // queries, if it has more parts, keeps more workers busy.
    if (!plan || plan.jobs.length < Math.min(this.threads, Math.ceil(queries.rows / SMALLEST_PART_QUERIES))) return undefined;
    // Every slice takes all the queries in one chunk; where they do not fit one (a very large k,
    // or very many classes), the split by queries serves.
    const shapes = plan.jobs.map((job) => this.#runner.shape(queries.rows, queries.cols, job.plan));
    if (shapes.some((shape) => shape.chunk < queries.rows)) return undefined;
    // One part a slice, over all the queries: each worker takes one.
    const parts = plan.jobs.map((job, slice) => ({ job, shape: shapes[slice], start: 0, count: queries.rows }));
    const run = (finish: () => void) =>
      this.#queued(async () => {
        await this.#runner.runParts(queries, parts, `${parts.length} slices of the training rows`, plan);
        finish();
      });
    return { given: plan.given, run };
  }

  /** Bytes the layer-1 stream reads per pass over the training points, for the search (`k`) or the softmax over all. */
  #streamedBytes(k: number | undefined): number {
    const w = this.#live();
    return w.n * w.d * (k !== undefined && w.float32 && !w.pointPanels ? 4 : 8);
  }

  /**
   * The neighbour search in slices of whole panels. Each slice's list is its exact k nearest by
   * (squared distance, index), its distances computed directly as the whole search computes
   * them, so the k best of their union by the same order are the whole search's answer, bit for bit.
   */
  #neighbourSlices(rows: number, k: number): SlicePlan | undefined {
    const w = this.#live();
    const panels = Math.ceil(w.n / 8);
    const slices = Math.min(this.threads, Math.floor(panels / SMALLEST_SLICE_PANELS));
    if (slices < 2) return undefined;
    const slicePanels = Math.ceil(panels / slices);
    const parts: FoundNeighbours[] = [];
    const firsts: number[] = [];
    const jobs: ChunkJob[] = [];
    for (let first = 0; first < panels; first += slicePanels) {
      const start = first * 8;
      const n = Math.min((first + slicePanels) * 8, w.n) - start;
      const sliceK = Math.min(k, n);
      const capacity = w.pointPanels ? sliceK : candidateCapacity(n, sliceK);
      const part = { indices: new Int32Array(rows * sliceK), squared: new Float64Array(rows * sliceK) };
      parts.push(part);
      firsts.push(start);
      const panelBytes = w.d * 64;
      jobs.push({
        plan: { stateBytes: this.#kernels.exports.topKStateBytes(capacity), outputBytes: [sliceK * 4, sliceK * 8] },
        calls: (count, layout) => [
          ['searchNeighbours', [
            w.points.pointer + start * w.d * 8, w.pointPanels ? w.pointPanels.pointer + first * panelBytes : 0,
            w.packed.pointer + first * panelBytes, w.norms.pointer + start * 8, w.mean.pointer, n, w.d, w.largestNorm,
            w.float32 ? w.float32.panels.pointer + first * (panelBytes / 2) : 0, w.float32 ? w.float32.norms.pointer + start * 8 : 0,
            w.float32?.scale ?? 1, w.float32?.largestNorm ?? 0,
            layout.queries, count, sliceK, capacity, layout.kernelScratch, layout.outputs[0], layout.outputs[1], this.#manhattan,
          ]],
        ],
        collect: (at, count, layout) => {
          part.indices.set(this.#kernels.i32(layout.outputs[0], count * sliceK), at * sliceK);
          part.squared.set(this.#kernels.f64(layout.outputs[1], count * sliceK), at * sliceK);
        },
      });
    }
    const found = { indices: new Int32Array(rows * k), squared: new Float64Array(rows * k) };
    return { jobs, sharedBytes: 0, given: found, merge: () => mergeNeighbours(parts, firsts, k, found) };
  }

  /**
   * The softmax over all points in slices of its fixed blocks: each worker folds its blocks into
   * their states (in the shared scratch), and this thread merges every query's states in the
   * blocks' fixed tree, as the one-thread call does, bit for bit.
   */
  #softmaxSlices(rows: number): SlicePlan | undefined {
    const w = this.#live();
    const exports = this.#kernels.exports;
    const { labels, classes, regression } = this.#outputLayer();
    const blocks = exports.softmaxBlockCount(w.n, w.d, classes);
    const slices = Math.min(this.threads, blocks);
    if (slices < 2) return undefined;
    const { lambda } = this.options;
    const statesBytes = align16(rows * exports.softmaxQueryStateBytes(w.n, w.d, classes));
    const jobs: ChunkJob[] = [];
    for (let slice = 0; slice < slices; slice++) {
      const first = Math.floor((slice * blocks) / slices);
      const end = Math.floor(((slice + 1) * blocks) / slices);
      jobs.push({
        plan: { stateBytes: 0, outputBytes: [] },
        calls: (count, layout) => [
          ['softmaxBlockStates', [
            KnnNetwork.#layerOnePanels(w), w.norms.pointer, w.mean.pointer, w.n, w.d, labels, regression ? labels : 0, classes, regression ? 1 : 0, lambda,
            layout.queries, count, layout.kernelScratch, first, end, layout.shared!, this.#manhattan,
          ]],
        ],
        collect: () => {},
      });
    }
    const scores = new Float64Array(rows * classes);
    const merge = (shared: number): void => {
      exports.softmaxMergeBlocks(shared, w.n, w.d, rows, classes, lambda, shared + statesBytes);
      scores.set(this.#kernels.f64(shared + statesBytes, rows * classes));
    };
    return { jobs, sharedBytes: statesBytes + rows * classes * 8, given: { scores }, merge };
  }

  #releaseRetired(): void {
    for (const region of this.#retired) this.#kernels.release(region);
    this.#retired = [];
  }

  /**
   * The exact k-nearest search's job; `after` adds calls on each chunk's outputs, `use` reads
   * them. With `given`, the neighbours were found already (split by training rows): each chunk
   * copies its rows of them in, in place of the search.
   */
  #neighbourJob(
    k: number, extraOutputBytes: number[],
    after: (count: number, outputs: number[]) => KernelCall[],
    use: (start: number, count: number, outputs: number[]) => void,
    given?: FoundNeighbours,
  ): ChunkJob {
    const w = this.#live();
    const kernels = this.#kernels;
    if (given) {
      return {
        plan: { stateBytes: 0, outputBytes: [k * 4, k * 8, ...extraOutputBytes] },
        prepare: (start, count, layout) => {
          kernels.i32(layout.outputs[0], count * k).set(given.indices.subarray(start * k, (start + count) * k));
          kernels.f64(layout.outputs[1], count * k).set(given.squared.subarray(start * k, (start + count) * k));
        },
        calls: (count, layout) => after(count, layout.outputs),
        collect: (start, count, layout) => use(start, count, layout.outputs),
      };
    }
    const capacity = w.pointPanels ? k : candidateCapacity(w.n, k);
    return {
      plan: { stateBytes: kernels.exports.topKStateBytes(capacity), outputBytes: [k * 4, k * 8, ...extraOutputBytes] },
      calls: (count, layout) => [
        ['searchNeighbours', [
          w.points.pointer, w.pointPanels?.pointer ?? 0, w.packed.pointer, w.norms.pointer, w.mean.pointer, w.n, w.d, w.largestNorm,
          w.float32?.panels.pointer ?? 0, w.float32?.norms.pointer ?? 0, w.float32?.scale ?? 1, w.float32?.largestNorm ?? 0,
          layout.queries, count, k, capacity, layout.kernelScratch, layout.outputs[0], layout.outputs[1], this.#manhattan,
        ]],
        ...after(count, layout.outputs),
      ],
      collect: (start, count, layout) => use(start, count, layout.outputs),
    };
  }

  /** The k nearest neighbours, exact: indices and squared distances, q × k each. */
  #neighboursJob(rows: number, k: number): { job: ChunkJob } & FoundNeighbours {
    const kernels = this.#kernels;
    const indices = new Int32Array(rows * k);
    const squared = new Float64Array(rows * k);
    const job = this.#neighbourJob(k, [], () => [], (start, count, [outIndices, outSquared]) => {
      indices.set(kernels.i32(outIndices, count * k), start * k);
      squared.set(kernels.f64(outSquared, count * k), start * k);
    });
    return { job, indices, squared };
  }

  /**
   * Layers 2 and 3 as a job: `after` adds calls on each chunk's q × classes scores (and one
   * region per entry of `extraOutputBytes`), `use` reads them. `projection` is W3 — the
   * network's own labels or targets, or (for `forward`'s z2) the identity, which turns the
   * projection into the weights.
   */
  #projectJob(
    projection: Projection, extraOutputBytes: number[],
    after: (count: number, scores: number, extra: number[]) => KernelCall[],
    use: (start: number, count: number, scores: number, extra: number[]) => void,
    given?: Given,
  ): ChunkJob {
    const w = this.#live();
    const kernels = this.#kernels;
    const { weights, lambda } = this.options;
    const { labels, classes, regression } = projection;
    const targets = regression ? labels : 0;
    if (isMergedScores(given)) {
      return {
        plan: { stateBytes: 0, outputBytes: [classes * 8, ...extraOutputBytes] },
        prepare: (start, count, layout) => kernels.f64(layout.outputs[0], count * classes).set(given.scores.subarray(start * classes, (start + count) * classes)),
        calls: (count, layout) => after(count, layout.outputs[0], layout.outputs.slice(1)),
        collect: (start, count, layout) => use(start, count, layout.outputs[0], layout.outputs.slice(1)),
      };
    }
    if (this.options.k === 'all' && weights === 'softmax') {
      return {
        plan: { stateBytes: kernels.exports.softmaxQueryStateBytes(w.n, w.d, classes), outputBytes: [classes * 8, ...extraOutputBytes] },
        calls: (count, layout) => {
          const [scores, ...extra] = layout.outputs;
          return [
            ['softmaxScores', [
              KnnNetwork.#layerOnePanels(w), w.norms.pointer, w.mean.pointer, w.n, w.d, labels, targets, classes, regression ? 1 : 0, lambda,
              layout.queries, count, layout.kernelScratch, scores, this.#manhattan,
            ]],
            ...after(count, scores, extra),
          ];
        },
        collect: (start, count, layout) => use(start, count, layout.outputs[0], layout.outputs.slice(1)),
      };
    }
    const k = neighbourCount(this.options.k, w.n, 'options.k');
    const weightingCode = weights === 'distance' && this.options.metric !== 'euclidean' ? DISTANCE_PROPORTIONAL_CODE : WEIGHTING_CODES[weights];
    return this.#neighbourJob(
      k, [classes * 8, ...extraOutputBytes],
      (count, [outIndices, outSquared, scores, ...extra]) => [
        ['projectOneHot', [outIndices, outSquared, count, k, labels, targets, classes, regression ? 1 : 0, weightingCode, lambda, scores]],
        ...after(count, scores, extra),
      ],
      (start, count, [, , scores, ...extra]) => use(start, count, scores, extra),
      given,
    );
  }

  /** Layers 2 and 3 as a q × classes Float64Array (see #projectJob). */
  #scoresJob(rows: number, projection: Projection, given?: Given): { job: ChunkJob; scores: Float64Array } {
    const kernels = this.#kernels;
    const { classes } = projection;
    const scores = new Float64Array(rows * classes);
    const job = this.#projectJob(projection, [], () => [], (start, count, chunkScores) => {
      scores.set(kernels.f64(chunkScores, count * classes), start * classes);
    }, given);
    return { job, scores };
  }

  /** W3 as the network holds it: class codes, or regression targets. */
  #outputLayer(): Projection {
    const w = this.#live();
    return { labels: w.labels.pointer, classes: this.#regression ? 1 : w.classes.length, regression: this.#regression };
  }

  #scores(queries: Matrix): Float64Array {
    const { job, scores } = this.#scoresJob(queries.rows, this.#outputLayer());
    this.#runner.run(queries, job);
    return scores;
  }

  /** The predicted class labels: the argmax of each row of scores, taken in wasm. */
  #predictLabelsJob(rows: number, given?: Given): { job: ChunkJob; predicted: Label[] } {
    const kernels = this.#kernels;
    const { classes } = this.#live();
    const predicted = new Array<Label>(rows);
    const job = this.#projectJob(
      this.#outputLayer(), [4],
      (count, scores, [best]) => [['argmaxRows', [scores, count, classes.length, best]]],
      (start, count, _scores, [best]) => {
        const codes = kernels.i32(best, count);
        for (let r = 0; r < count; r++) predicted[start + r] = classes[codes[r]];
      },
      given,
    );
    return { job, predicted };
  }

  /** predict's job: labels, or a regressor's estimates. */
  #predictJob(rows: number, given?: Given): { job: ChunkJob; result: () => Prediction<L, T> } {
    if (this.#regression) {
      const { job, scores } = this.#scoresJob(rows, this.#outputLayer(), given);
      return { job, result: () => scores as Prediction<L, T> };
    }
    const { job, predicted } = this.#predictLabelsJob(rows, given);
    return { job, result: () => predicted as Prediction<L, T> };
  }

  #queries(X: unknown): Matrix {
    return prepareRows(toMatrix(X, 'X', this.#live().d), this.options.metric, 'X');
  }

  /**
   * One prediction per row of X: for classification the class with the highest score (ties go
   * to the class sorted first), as an array of labels of the type given to fit; for regression
   * a Float64Array of estimates, each the weighted mean of the neighbours' targets.
   */
  predict(X: MatrixInput): Prediction<L, T> {
    return this.#predict(this.#queries(X));
  }

  #predict(queries: Matrix): Prediction<L, T> {
    const { job, result } = this.#predictJob(queries.rows);
    this.#runner.run(queries, job);
    return result();
  }

  /**
   * predict, spread over the network's threads (see the `threads` option): the same result,
   * bit for bit. Small calls, and every call of a network with one thread, run on this thread.
   */
  async predictAsync(X: MatrixInput): Promise<Prediction<L, T>> {
    return this.#predictAsync(this.#queries(X));
  }

  async #predictAsync(queries: Matrix): Promise<Prediction<L, T>> {
    const split = this.#splitByPoints(queries, this.#votingNeighbours());
    const { job, result } = this.#predictJob(queries.rows, split?.given);
    if (split) await split.run(() => this.#runner.run(queries, job));
    else await this.#runAsync(queries, job);
    return result();
  }

  /** How many neighbours vote (undefined for the softmax over every point, which no neighbour search serves). */
  #votingNeighbours(): number | undefined {
    if (this.options.k === 'all' && this.options.weights === 'softmax') return undefined;
    return neighbourCount(this.options.k, this.#live().n, 'options.k');
  }

  /**
   * Class probabilities, flat row-major q × classes.length (query r, class `classes[c]` at
   * `[r * classes.length + c]`); each row sums to 1. Classification only: a regressor has no
   * classes, so on a `KnnNetwork<number, 'regression'>` X's type is `never` and the call does
   * not type-check (at run time it throws a KnnError).
   */
  predictProba(X: ClassifierInput<T>): Float64Array {
    this.#checkClassifier('predictProba');
    return this.#scores(this.#queries(X));
  }

  #checkClassifier(method: string): void {
    if (this.#regression) {
      throw new KnnError('BAD_OPTION', `${method} is for classification; this network has task 'regression': use ${method.endsWith('Async') ? 'predictAsync' : 'predict'}.`);
    }
  }

  /** predictProba, spread over the network's threads (see predictAsync): the same result, bit for bit. */
  async predictProbaAsync(X: ClassifierInput<T>): Promise<Float64Array> {
    this.#checkClassifier('predictProbaAsync');
    const queries = this.#queries(X);
    const split = this.#splitByPoints(queries, this.#votingNeighbours());
    const { job, scores } = this.#scoresJob(queries.rows, this.#outputLayer(), split?.given);
    if (split) await split.run(() => this.#runner.run(queries, job));
    else await this.#runAsync(queries, job);
    return scores;
  }

  /**
   * The k nearest training points of each row of X, exact: q × k indices and distances in the
   * network's metric (Euclidean, not squared, by default), nearest first, ties toward the lower
   * training index. `k` defaults to
   * the network's own k.
   */
  kneighbors(X: MatrixInput, k?: number | 'all'): Neighbours {
    const { queries, job, finish } = this.#kneighborsJob(X, k);
    this.#runner.run(queries, job);
    return finish();
  }

  /** kneighbors, spread over the network's threads (see predictAsync): the same result, bit for bit. */
  async kneighborsAsync(X: MatrixInput, k?: number | 'all'): Promise<Neighbours> {
    const { queries, job, count, finish } = this.#kneighborsJob(X, k);
    const split = this.#splitByPoints(queries, count);
    if (split) {
      await split.run(() => {});
      return finish(split.given as FoundNeighbours);
    }
    await this.#runAsync(queries, job);
    return finish();
  }

  #kneighborsJob(X: MatrixInput, k: number | 'all' | undefined): { queries: Matrix; job: ChunkJob; count: number; finish: (given?: FoundNeighbours) => Neighbours } {
    const w = this.#live();
    const asked = k === undefined ? this.options.k : k;
    const count = neighbourCount(asked, w.n, 'k');
    const queries = this.#queries(X);
    checkOutputSize(queries.rows, count, `kneighbors(X, ${asked === 'all' ? "'all'" : asked}) returns q × k`, 'pass fewer rows of X at a time, or ask for fewer neighbours');
    const searched = this.#neighboursJob(queries.rows, count);
    const finish = (given?: FoundNeighbours): Neighbours => {
      const { indices, squared } = given ?? searched;
      for (let i = 0; i < squared.length; i++) squared[i] = distanceOf(this.options.metric, squared[i]);
      return { indices, distances: squared };
    };
    return { queries, job: searched.job, count, finish };
  }

  /**
   * Every training point within `radius` (in the network's metric, inclusive) of each row of X,
   * nearest first (ties by index), in compressed rows: the neighbours of query r are entries
   * offsets[r] … offsets[r + 1] − 1 of `indices` and `distances`. Exact: the points brute force
   * with direct differences finds. Queries run one at a time, with scratch proportional to n.
   */
  radiusNeighbors(X: MatrixInput, radius: number): RadiusNeighbours {
    const w = this.#live();
    const checkedRadius = checkRadius(radius);
    const { metric } = this.options;
    const queries = this.#queries(X);
    const kernels = this.#kernels;
    const queryBytes = align16(w.d * 8);
    const kernelScratch = align16(kernels.exports.scratchBytes(1, w.d, 0) + w.n * 4);
    const total = queryBytes + kernelScratch + align16(w.n * 4) + w.n * 8;
    kernels.checkRoom(total - kernels.scratchBytesHeld(), `radiusNeighbors on ${w.n} points`);
    const base = kernels.scratch(total);
    const [query, scratch, outIndices, outSquared] = [base, base + queryBytes, base + queryBytes + kernelScratch, base + queryBytes + kernelScratch + align16(w.n * 4)];
    const offsets = new Int32Array(queries.rows + 1);
    const found: { indices: Int32Array; distances: Float64Array }[] = [];
    for (let r = 0; r < queries.rows; r++) {
      kernels.f64(query, w.d).set(queries.data.subarray(r * w.d, (r + 1) * w.d));
      const candidates = kernels.exports.radiusNeighbours(
        w.points.pointer, w.pointPanels?.pointer ?? 0, w.packed.pointer, w.norms.pointer, w.mean.pointer, w.n, w.d, w.largestNorm,
        query, layerOneRadiusBound(metric, checkedRadius), scratch, outIndices, outSquared, this.#manhattan,
      );
      // The kernel's limit lets in a little more than the radius: trim by the distance itself.
      const squared = kernels.f64(outSquared, candidates);
      let count = candidates;
      while (count > 0 && !(distanceOf(metric, squared[count - 1]) <= checkedRadius)) count--;
      if (offsets[r] + count > MAX_RESULT_VALUES) {
        throw new KnnError(
          'TOO_LARGE',
          `radiusNeighbors(X, ${checkedRadius}) finds more than ${MAX_RESULT_VALUES} neighbours for the first ${r + 1} of ${queries.rows} rows of X, more than a typed array holds here; pass fewer rows of X at a time, or a smaller radius.`,
        );
      }
      offsets[r + 1] = offsets[r] + count;
      found.push({ indices: kernels.i32(outIndices, count).slice(), distances: squared.subarray(0, count).map((value) => distanceOf(metric, value)) });
    }
    const indices = new Int32Array(offsets[queries.rows]);
    const distances = new Float64Array(offsets[queries.rows]);
    found.forEach((part, r) => {
      indices.set(part.indices, offsets[r]);
      distances.set(part.distances, offsets[r]);
    });
    return { offsets, indices, distances };
  }

  /**
   * The three layers' activations for each row of X, flat row-major: z1 (q × n squared
   * distances), z2 (q × n vote shares, zero outside the k nearest), z3 (q × classes.length
   * probabilities, or q × 1 estimates for regression). Memory grows with q × n: pass a few rows.
   */
  forward(X: MatrixInput): LayerActivations {
    const w = this.#live();
    const kernels = this.#kernels;
    const queries = this.#queries(X);
    checkOutputSize(queries.rows, w.n, 'forward(X) returns, per layer, q × n', 'pass fewer rows of X at a time');
    const z1 = new Float64Array(queries.rows * w.n);
    this.#runner.run(queries, {
      plan: { stateBytes: 0, outputBytes: [w.n * 8] },
      calls: (count, layout) => [
        ['layerOneDistances', [
          KnnNetwork.#layerOnePanels(w), w.norms.pointer, w.mean.pointer, w.n, w.d, layout.queries, count, layout.kernelScratch, layout.outputs[0], this.#manhattan,
        ]],
      ],
      collect: (start, count, layout) => z1.set(kernels.f64(layout.outputs[0], count * w.n), start * w.n),
    });
    // z2 is layer 3 with the identity for W3: each training point its own class.
    kernels.checkRoom(w.n * 4, 'forward');
    const identity = kernels.allocate(w.n * 4, 'forward');
    try {
      const view = kernels.i32(identity.pointer, w.n);
      for (let i = 0; i < w.n; i++) view[i] = i;
      const { job, scores: z2 } = this.#scoresJob(queries.rows, { labels: identity.pointer, classes: w.n, regression: false });
      this.#runner.run(queries, job);
      return { z1, z2, z3: this.#scores(queries) };
    } finally {
      kernels.release(identity);
    }
  }

  /**
   * The network's weights, copied out, each flat row-major: W1 = −2·(X − μ) (n × d),
   * b1 = ‖X_i − μ‖² (n), W3 (n × classes.length one-hot, or the n regression targets), μ (d).
   * For the Manhattan metric layer 1 is z1_i = Σ_j |x_j − W1_ij|, not linear: W1 is X itself,
   * b1 and μ are zeros.
   */
  get weights(): NetworkWeights {
    const w = this.#live();
    const kernels = this.#kernels;
    let W1: Float64Array;
    if (w.expansion) {
      const packed = kernels.f64(w.packed.pointer, Math.ceil(w.n / 8) * 8 * w.d);
      W1 = new Float64Array(w.n * w.d);
      for (let i = 0; i < w.n; i++) {
        const panel = Math.floor(i / 8) * w.d * 8;
        for (let j = 0; j < w.d; j++) W1[i * w.d + j] = packed[panel + j * 8 + (i % 8)];
      }
    } else {
      W1 = kernels.f64(w.points.pointer, w.n * w.d).slice();
    }
    let W3: Float64Array;
    if (this.#regression) {
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

  /** Accuracy (classification) or R² (regression) of the predictions for X against the true y. */
  score(X: MatrixInput, y: ArrayLike<L>): number {
    const queries = this.#queries(X);
    const truth = checkTruth(y, queries.rows, this.#regression);
    return this.#scoreOf(this.#predict(queries), truth);
  }

  /** score, spread over the network's threads (see predictAsync): the same result, bit for bit. */
  async scoreAsync(X: MatrixInput, y: ArrayLike<L>): Promise<number> {
    const queries = this.#queries(X);
    const truth = checkTruth(y, queries.rows, this.#regression);
    return this.#scoreOf(await this.#predictAsync(queries), truth);
  }

  #scoreOf(predicted: Prediction<L, T>, truth: ReturnType<typeof checkTruth>): number {
    return this.#regression ? rSquared(predicted as Float64Array, truth as ArrayLike<number>) : accuracy(predicted as Label[], truth);
  }

  /** The training data and labels as given (labels decoded from their codes). */
  #trainingData(): { points: Float64Array; labels: Label[] | Float64Array } {
    const w = this.#live();
    const points = this.#kernels.f64(w.points.pointer, w.n * w.d).slice();
    if (this.#regression) return { points, labels: this.#kernels.f64(w.labels.pointer, w.n).slice() };
    const codes = this.#kernels.i32(w.labels.pointer, w.n);
    return { points, labels: Array.from(codes, (code) => w.classes[code]) };
  }

  /**
   * Appends training points; the network then answers exactly as one fitted on the union would
   * (predict, predictProba, kneighbors, radiusNeighbors and score bit for bit, and the same
   * toBytes). Labels may introduce new classes but keep the network's label type. Amortised
   * cost O(m·d) for m points: the weights have room to grow, new points are packed in place
   * against the held centre μ, and everything is re-packed and re-centred on the union's mean
   * only when the room doubles. Until then `weights.mean`, W1, b1 and `forward().z1` use the
   * held μ (z1 may differ from a fresh fit's in the last bits; the answers above do not). A
   * network with k: 'all' and softmax weights reads z1 itself, so each add re-centres it:
   * O((n + m)·d). On any error the network is unchanged.
   */
  add(X: MatrixInput, y: ArrayLike<L>): void {
    const w = this.#live();
    const kernels = this.#kernels;
    const extra = prepareRows(toMatrix(X, 'X', w.d, w.n, this.options.float32Candidates), this.options.metric, 'X');
    const rows = w.n + extra.rows;
    let appended: AppendedLabels;
    if (this.#regression) {
      const targets = encodeTargets(y, extra.rows, 'y', rows);
      if (w.largestTarget > targetLimit(rows)) checkHeldTargets(kernels.f64(w.labels.pointer, w.n), w.n, rows);
      appended = { targets };
    } else {
      appended = extendClasses(w.classes, readAddedLabels(y, extra.rows, w.classes));
    }
    // The softmax over every point reads z1 from the expansion, which depends on the centre (Manhattan has none).
    const recentreEveryTime = this.options.k === 'all' && this.options.weights === 'softmax' && this.options.metric !== 'manhattan';
    // Async calls in flight read the weights as they were: then nothing is written in place.
    const inPlace = !recentreEveryTime && this.#asyncCallsRunning === 0;
    if (inPlace && rows > w.capacity && rows < RECENTRE_GROWTH * w.centredRows) this.#growRoom(Math.max(rows, 2 * w.capacity));
    const held = this.#live(); // in larger regions, if #growRoom moved it
    const grown = inPlace ? appendWeights(kernels, held, extra, appended, this.options.float32Candidates) : undefined;
    if (grown) {
      this.#weights = grown;
      return;
    }
    const points = new Float64Array(rows * held.d);
    points.set(kernels.f64(held.points.pointer, held.n * held.d));
    points.set(extra.data, held.n * held.d);
    let labels: EncodedLabels | Float64Array;
    if ('targets' in appended) {
      labels = new Float64Array(rows);
      labels.set(kernels.f64(held.labels.pointer, held.n));
      labels.set(appended.targets, held.n);
    } else {
      const codes = new Int32Array(rows);
      codes.set(kernels.i32(held.labels.pointer, held.n));
      const { recode } = appended;
      if (recode) for (let i = 0; i < held.n; i++) codes[i] = recode[codes[i]];
      codes.set(appended.codes, held.n);
      labels = { classes: appended.classes, codes };
    }
    this.#rebuild({ data: points, rows, cols: held.d }, labels, recentreEveryTime ? rows : Math.max(rows, 2 * held.n));
  }

  /**
   * Removes the training points at `indices` (each named once). Later points move down to fill
   * the gaps, keeping their order: the network is exactly a fresh fit on the remaining points,
   * and a class left with no point leaves `classes`. Cost O(n·d). On any error the network is unchanged.
   */
  remove(indices: ArrayLike<number>): void {
    const w = this.#live();
    this.#keepAllBut(readIndices(indices, w.n), `remove(indices)`);
  }

  /** Removes every training point of class `label` (as TensorFlow.js's clearClass does); see remove. */
  removeClass(label: L): void {
    const w = this.#live();
    checkClassification(this.#regression, 'removeClass(label)');
    const code = classCode(w.classes, label, 'removeClass(label)');
    const codes = this.#kernels.i32(w.labels.pointer, w.n);
    this.#keepAllBut(Uint8Array.from(codes, (c) => (c === code ? 1 : 0)), `removeClass(${describeValue(label)})`);
  }

  /** How many training points each class has, in the order of `classes`. */
  classCounts(): Map<L, number> {
    const w = this.#live();
    checkClassification(this.#regression, 'classCounts()');
    return countPerClass(w.classes, this.#kernels.i32(w.labels.pointer, w.n)) as Map<L, number>;
  }

  /** Rebuilds the network on the points `removed` does not mark (see remove). */
  #keepAllBut(removed: Uint8Array, call: string): void {
    const w = this.#live();
    const rows = w.n - removed.reduce((sum, flag) => sum + flag, 0);
    checkRemaining(rows, this.options.k, call);
    const old = this.#trainingData();
    const points = new Float64Array(rows * w.d);
    const kept: number[] = [];
    for (let i = 0; i < w.n; i++) {
      if (removed[i]) continue;
      points.set(old.points.subarray(i * w.d, (i + 1) * w.d), kept.length * w.d);
      kept.push(i);
    }
    const labels = this.#regression
      ? Float64Array.from(kept, (i) => (old.labels as Float64Array)[i])
      : encodeLabels(kept.map((i) => (old.labels as Label[])[i]), rows);
    this.#rebuild({ data: points, rows, cols: w.d }, labels);
  }

  /**
   * Replaces the weights by ones built on `matrix` and `labels`, with room for `capacity` rows
   * (or just enough, when that much room cannot be had); the old ones are released only once
   * the new exist.
   */
  #rebuild(matrix: Matrix, labels: EncodedLabels | Float64Array, capacity = matrix.rows): void {
    const float32 = this.options.float32Candidates;
    const expansion = this.options.metric !== 'manhattan';
    let rebuilt: Weights;
    try {
      rebuilt = buildWeights(this.#kernels, matrix, labels, float32, expansion, capacity);
    } catch (error) {
      if (!(capacity > matrix.rows && error instanceof KnnError && error.code === 'TOO_LARGE')) throw error;
      rebuilt = buildWeights(this.#kernels, matrix, labels, float32, expansion);
    }
    this.#install(rebuilt);
  }

  /**
   * Moves the weights to regions with room for `capacity` rows, as they are (no re-packing). When
   * that room cannot be had, nothing changes: add then re-packs on just enough room, or refuses.
   */
  #growRoom(capacity: number): void {
    try {
      this.#install(growWeights(this.#kernels, this.#live(), capacity));
    } catch (error) {
      if (!(error instanceof KnnError && error.code === 'TOO_LARGE')) throw error;
    }
  }

  /**
   * Makes `weights` the network's. The regions it held before are released, or, while async
   * calls still read them, retired until the last one ends.
   */
  #install(weights: Weights): void {
    if (this.#asyncCallsRunning > 0) this.#retired.push(...this.#holding.regions.splice(0));
    else this.#kernels.releaseHeld(this.#holding);
    this.#weights = weights;
    this.#holding.regions.push(...weightsRegions(weights));
  }

  /**
   * The whole network (training data, labels, options) as self-contained, checksummed bytes,
   * to store or send; `KnnNetwork.fromBytes` (in Node or a browser) restores it.
   */
  toBytes(): Uint8Array {
    const w = this.#live();
    const { points } = this.#trainingData();
    const labels = this.#regression
      ? { targets: this.#kernels.f64(w.labels.pointer, w.n).slice() }
      : { codes: this.#kernels.i32(w.labels.pointer, w.n).slice() };
    return encodeNetwork({ options: this.options, n: w.n, d: w.d, classes: w.classes, points, ...labels });
  }

  /**
   * Frees the network's wasm memory and ends its worker pool; any later call throws
   * KnnError('DISPOSED'), and async calls still running are rejected with it. Idempotent.
   */
  dispose(): void {
    if (!this.#weights) return;
    this.#runner.dispose();
    this.#kernels.releaseHolding(this.#holding);
    this.#releaseRetired();
    this.#weights = undefined;
  }
}

