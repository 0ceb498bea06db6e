// KnnNetwork: the public network. It validates every argument (matrix.ts, labels.ts,
// options.ts), owns its weights in wasm linear memory (weights.ts), and turns each method into
// jobs of kernel calls (jobs.ts) that its runner (chunkRunner.ts) runs in chunks, here or on its
// worker pool; the planner (planner.ts) decides how each call is split.
import { KnnError, describeValue } from './errors.js';
import {
  checkClassification, checkHeldTargets, classCode, countPerClass, encodeLabels, encodeTargets, extendClasses, readAddedLabels, targetLimit,
  type EncodedLabels, type Label,
} from './labels.js';
import { checkRemaining, readIndices } from './indices.js';
import { distanceOf, prepareRows } from './metrics.js';
import { toMatrix, type Matrix, type MatrixInput } from './matrix.js';
import { checkRadius, neighbourCount, resolveOptions, type KnnOptions, type ResolvedOptions, type Task } from './options.js';
import type { ClassifierInput, LayerActivations, NetworkWeights, Neighbours, Prediction, RadiusNeighbours } from './results.js';
import { accuracy, checkTruth, rSquared } from './scoring.js';
import { decodeNetwork, encodeNetwork } from './serialize.js';
import { resolveThreads, type ThreadsOption } from './threads.js';
import { loadKernels, type Holding, type Kernels, type Region } from './wasm.js';
import {
  appendWeights, buildWeights, growWeights, readNetworkWeights, readTrainingData, weightsRegions, type AppendedLabels, type Weights,
} from './weights.js';
import { ChunkRunner, type ChunkJob } from './chunkRunner.js';
import {
  layerOneJob, neighboursJob, outputLayer, predictJob, scoresJob, votingNeighbours, type FoundNeighbours, type Given, type JobContext,
} from './jobs.js';
import { neighbourSlices, softmaxSlices } from './trainingRowSlices.js';
import { splitsByTrainingRows } from './planner.js';
import { radiusNeighbours } from './radius.js';

// forward materialises q × n values per layer, kneighbors q × k; beyond 2^28 float64s (2 GiB)
// a typed array cannot be had on every engine.
const MAX_OUTPUT_VALUES = 2 ** 28;
// add() re-centres (re-packs every point on the mean of all) once the held centre is the mean
// of fewer than a quarter of the points; between, a full room is moved to one twice as large.
const RECENTRE_GROWTH = 4;

/** Throws TOO_LARGE when a call would return rows × columns values, more than a typed array holds. */
function checkOutputSize(rows: number, columns: number, what: string, fix: string): void {
  if (rows * columns <= MAX_OUTPUT_VALUES) return;
  throw new KnnError('TOO_LARGE', `${what} = ${rows} × ${columns} values, more than the ${MAX_OUTPUT_VALUES} a typed array holds here; ${fix}.`);
}

/** Options of fromBytes: only the machine's settings, since the model's come with the bytes. */
export interface LoadOptions {
  /** As `threads` in fit's options (default 1); toBytes does not save it. */
  threads?: ThreadsOption;
}

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

  /** What the jobs of a call read: the kernels, the weights as they are now, the options. */
  get #context(): JobContext {
    return { kernels: this.#kernels, weights: this.#live(), options: this.options };
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
    if (!this.#usesPool(queries.rows, 1)) return undefined;
    const context = this.#context;
    const w = context.weights;
    const streamedBytes = w.n * w.d * (k !== undefined && w.float32 && !w.pointPanels ? 4 : 8);
    const plan = k === undefined ? softmaxSlices(context, queries.rows, this.threads) : neighbourSlices(context, queries.rows, k, this.threads);
    if (!plan || !splitsByTrainingRows(queries.rows, this.threads, streamedBytes, plan.jobs.length)) return undefined;
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

  #releaseRetired(): void {
    for (const region of this.#retired) this.#kernels.release(region);
    this.#retired = [];
  }

  #scores(queries: Matrix): Float64Array {
    const context = this.#context;
    const { job, scores } = scoresJob(context, queries.rows, outputLayer(context));
    this.#runner.run(queries, job);
    return scores;
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
    const { job, result } = predictJob(this.#context, queries.rows);
    this.#runner.run(queries, job);
    return result() as Prediction<L, T>;
  }

  /**
   * predict, spread over the network's threads (see the `threads` option): the same result,
   * bit for bit. Small calls, and every call of a network with one thread, run on this thread.
   */
  async predictAsync(X: MatrixInput): Promise<Prediction<L, T>> {
    return this.#predictAsync(this.#queries(X));
  }

  async #predictAsync(queries: Matrix): Promise<Prediction<L, T>> {
    const split = this.#splitByPoints(queries, votingNeighbours(this.options, this.#live().n));
    const { job, result } = predictJob(this.#context, queries.rows, split?.given);
    if (split) await split.run(() => this.#runner.run(queries, job));
    else await this.#runAsync(queries, job);
    return result() as Prediction<L, T>;
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
    const split = this.#splitByPoints(queries, votingNeighbours(this.options, this.#live().n));
    const context = this.#context;
    const { job, scores } = scoresJob(context, queries.rows, outputLayer(context), split?.given);
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
    const searched = neighboursJob(this.#context, queries.rows, count);
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
    return radiusNeighbours(this.#kernels, w, this.options.metric, this.#queries(X), checkedRadius);
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
    const context = this.#context;
    const layerOne = layerOneJob(context, queries.rows);
    this.#runner.run(queries, layerOne.job);
    // z2 is layer 3 with the identity for W3: each training point its own class.
    kernels.checkRoom(w.n * 4, 'forward');
    const identity = kernels.allocate(w.n * 4, 'forward');
    try {
      const view = kernels.i32(identity.pointer, w.n);
      for (let i = 0; i < w.n; i++) view[i] = i;
      const { job, scores: z2 } = scoresJob(context, queries.rows, { labels: identity.pointer, classes: w.n, regression: false });
      this.#runner.run(queries, job);
      return { z1: layerOne.z1, z2, z3: this.#scores(queries) };
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
    return readNetworkWeights(this.#kernels, this.#live());
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
    const old = readTrainingData(this.#kernels, w);
    const points = new Float64Array(rows * w.d);
    const kept: number[] = [];
    for (let i = 0; i < w.n; i++) {
      if (removed[i]) continue;
      points.set(old.points.subarray(i * w.d, (i + 1) * w.d), kept.length * w.d);
      kept.push(i);
    }
    const labels = old.targets
      ? Float64Array.from(kept, (i) => old.targets![i])
      : encodeLabels(kept.map((i) => w.classes[old.codes![i]]), rows);
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
    return encodeNetwork({ options: this.options, n: w.n, d: w.d, classes: w.classes, ...readTrainingData(this.#kernels, w) });
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

