// KnnNetwork: the public network. It validates every argument (matrix.ts, labels.ts,
// options.ts), owns its weights in wasm linear memory, and runs queries through the kernels in
// chunks so that one call's scratch memory stays bounded whatever the number of queries.
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
import { loadKernels, type Holding, type Kernels } from './wasm.js';
import { appendWeights, buildWeights, growWeights, weightsRegions, type AppendedLabels, type Weights } from './weights.js';

/** Layer-2 weighting codes shared with assembly/project.ts. */
const WEIGHTING_CODES = { uniform: 0, distance: 1, softmax: 2 } as const;
/** 'distance' votes when the metric's distance is a constant multiple of z1 (cosine), not √z1. */
const DISTANCE_PROPORTIONAL_CODE = 3;
// One chunk of queries may use about this much scratch (inputs, reducer state, outputs).
const CHUNK_BUDGET_BYTES = 4 * 1024 * 1024;
const MAX_CHUNK_QUERIES = 256;
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

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

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

/** What one chunk of queries needs besides its raw rows: reducer state and output bytes. */
interface ChunkPlan {
  readonly stateBytes: number;
  readonly outputBytes: readonly number[];
}

/** Where a chunk's pieces live in the shared scratch region. */
interface ChunkLayout {
  readonly queries: number;
  readonly outputs: number[];
  readonly kernelScratch: number;
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

  private constructor(kernels: Kernels, weights: Weights, options: ResolvedOptions<T>) {
    this.#kernels = kernels;
    this.#weights = weights;
    this.options = options;
    this.#holding = kernels.hold(this, this.#lifetime, weightsRegions(weights));
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
    const resolved = resolveOptions(options);
    const matrix = prepareRows(toMatrix(X, 'X', undefined, undefined, resolved.float32Candidates), resolved.metric, 'X');
    const labels = resolved.task === 'regression' ? encodeTargets(y, matrix.rows) : encodeLabels(y, matrix.rows);
    if (resolved.k !== 'all') neighbourCount(resolved.k, matrix.rows, 'options.k');
    const kernels = await loadKernels();
    return new KnnNetwork(kernels, buildWeights(kernels, matrix, labels, resolved.float32Candidates, resolved.metric !== 'manhattan'), resolved);
  }

  /**
   * Rebuilds a network saved with `toBytes()`; it answers bit for bit as the original. Its label
   * type and task are known only at run time (`options.task`, `classes`), so the result is a
   * plain `KnnNetwork`: assert the type you saved, e.g.
   * `(await KnnNetwork.fromBytes(bytes)) as KnnNetwork<string, 'classification'>`.
   */
  static async fromBytes(bytes: Uint8Array): Promise<KnnNetwork> {
    const saved = decodeNetwork(bytes);
    const options = resolveOptions(saved.options);
    const labels = saved.targets ?? { classes: saved.classes, codes: saved.codes! };
    const kernels = await loadKernels();
    const matrix = { data: saved.points, rows: saved.n, cols: saved.d };
    return new KnnNetwork(kernels, buildWeights(kernels, matrix, labels, options.float32Candidates, options.metric !== 'manhattan'), options);
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

  /** The panels layer 1 streams for forward and the softmax over all points: W1, or X's for Manhattan. */
  #layerOnePanels(): number {
    const w = this.#live();
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

  /**
   * Runs `queries` through the kernels in chunks sized to CHUNK_BUDGET_BYTES. For each chunk,
   * `compute` gets the chunk's query count and its scratch layout; views are made after the
   * scratch is (re)allocated, never kept across it.
   */
  #inChunks(queries: Matrix, plan: ChunkPlan, compute: (start: number, count: number, layout: ChunkLayout) => void): void {
    const kernels = this.#kernels;
    const { d } = this.#live();
    const outputPerQuery = plan.outputBytes.reduce((a, b) => a + b, 0);
    // Raw rows, their centred copy in the kernels' pair layout, a norm, reducer state, outputs.
    const perQuery = d * 8 + d * 8 + 16 + plan.stateBytes + outputPerQuery;
    const chunk = Math.max(1, Math.min(queries.rows, MAX_CHUNK_QUERIES, Math.floor(CHUNK_BUDGET_BYTES / perQuery)));
    const outputs: number[] = [];
    let offset = align16(chunk * d * 8);
    for (const bytes of plan.outputBytes) {
      outputs.push(offset);
      offset += align16(chunk * bytes);
    }
    const kernelScratchOffset = offset;
    const total = offset + kernels.exports.scratchBytes(chunk, d, plan.stateBytes);
    kernels.checkRoom(total - kernels.scratchBytesHeld(), `a chunk of ${chunk} queries`);
    const base = kernels.scratch(total);
    const layout = { queries: base, outputs: outputs.map((o) => base + o), kernelScratch: base + kernelScratchOffset };
    for (let start = 0; start < queries.rows; start += chunk) {
      const count = Math.min(chunk, queries.rows - start);
      kernels.f64(layout.queries, count * d).set(queries.data.subarray(start * d, (start + count) * d));
      compute(start, count, layout);
    }
  }

  /** The k nearest neighbours, exact: indices and squared distances, q × k each. */
  #neighbours(queries: Matrix, k: number): { indices: Int32Array; squared: Float64Array } {
    const kernels = this.#kernels;
    const indices = new Int32Array(queries.rows * k);
    const squared = new Float64Array(queries.rows * k);
    this.#inNeighbourChunks(queries, k, [], (start, count, [outIndices, outSquared]) => {
      indices.set(kernels.i32(outIndices, count * k), start * k);
      squared.set(kernels.f64(outSquared, count * k), start * k);
    });
    return { indices, squared };
  }

  /**
   * Runs the exact k-nearest search chunk by chunk; `use` gets each chunk's outputs: its
   * neighbour indices, squared distances, then one region per entry of `extraOutputBytes`.
   */
  #inNeighbourChunks(
    queries: Matrix, k: number, extraOutputBytes: number[],
    use: (start: number, count: number, outputs: number[]) => void,
  ): void {
    const w = this.#live();
    const kernels = this.#kernels;
    const capacity = w.pointPanels ? k : candidateCapacity(w.n, k);
    const plan = { stateBytes: kernels.exports.topKStateBytes(capacity), outputBytes: [k * 4, k * 8, ...extraOutputBytes] };
    this.#inChunks(queries, plan, (start, count, layout) => {
      const [outIndices, outSquared] = layout.outputs;
      kernels.exports.searchNeighbours(
        w.points.pointer, w.pointPanels?.pointer ?? 0, w.packed.pointer, w.norms.pointer, w.mean.pointer, w.n, w.d, w.largestNorm,
        w.float32?.panels.pointer ?? 0, w.float32?.norms.pointer ?? 0, w.float32?.scale ?? 1, w.float32?.largestNorm ?? 0,
        layout.queries, count, k, capacity, layout.kernelScratch, outIndices, outSquared, this.#manhattan,
      );
      use(start, count, layout.outputs);
    });
  }

  /**
   * Layers 2 and 3, chunk by chunk: `use` gets each chunk's q × classes scores in wasm memory,
   * then one region per entry of `extraOutputBytes`. `projection` is W3 — the network's own
   * labels or targets, or (for `forward`'s z2) the identity, which turns the projection into
   * the weights.
   */
  #project(
    queries: Matrix, projection: Projection, extraOutputBytes: number[],
    use: (start: number, count: number, scores: number, extra: number[]) => void,
  ): void {
    const w = this.#live();
    const kernels = this.#kernels;
    const { weights, lambda } = this.options;
    const { labels, classes, regression } = projection;
    const targets = regression ? labels : 0;
    if (this.options.k === 'all' && weights === 'softmax') {
      const plan = { stateBytes: kernels.exports.softmaxStateBytes(classes), outputBytes: [classes * 8, ...extraOutputBytes] };
      this.#inChunks(queries, plan, (start, count, layout) => {
        const [scores, ...extra] = layout.outputs;
        kernels.exports.softmaxScores(
          this.#layerOnePanels(), w.norms.pointer, w.mean.pointer, w.n, w.d, labels, targets, classes, regression ? 1 : 0, lambda,
          layout.queries, count, layout.kernelScratch, scores, this.#manhattan,
        );
        use(start, count, scores, extra);
      });
      return;
    }
    const k = neighbourCount(this.options.k, w.n, 'options.k');
    const weightingCode = weights === 'distance' && this.options.metric !== 'euclidean' ? DISTANCE_PROPORTIONAL_CODE : WEIGHTING_CODES[weights];
    this.#inNeighbourChunks(queries, k, [classes * 8, ...extraOutputBytes], (start, count, [outIndices, outSquared, scores, ...extra]) => {
      kernels.exports.projectOneHot(
        outIndices, outSquared, count, k, labels, targets, classes, regression ? 1 : 0, weightingCode, lambda, scores,
      );
      use(start, count, scores, extra);
    });
  }

  /** Layers 2 and 3 as a q × classes Float64Array (see #project). */
  #projectedScores(queries: Matrix, projection: Projection): Float64Array {
    const kernels = this.#kernels;
    const { classes } = projection;
    const scores = new Float64Array(queries.rows * classes);
    this.#project(queries, projection, [], (start, count, chunkScores) => {
      scores.set(kernels.f64(chunkScores, count * classes), start * classes);
    });
    return scores;
  }

  /** W3 as the network holds it: class codes, or regression targets. */
  #outputLayer(): Projection {
    const w = this.#live();
    return { labels: w.labels.pointer, classes: this.#regression ? 1 : w.classes.length, regression: this.#regression };
  }

  #scores(queries: Matrix): Float64Array {
    return this.#projectedScores(queries, this.#outputLayer());
  }

  /** The predicted class labels: the argmax of each row of scores, taken in wasm. */
  #predictLabels(queries: Matrix): Label[] {
    const kernels = this.#kernels;
    const { classes } = this.#live();
    const predicted = new Array<Label>(queries.rows);
    this.#project(queries, this.#outputLayer(), [4], (start, count, scores, [best]) => {
      kernels.exports.argmaxRows(scores, count, classes.length, best);
      const codes = kernels.i32(best, count);
      for (let r = 0; r < count; r++) predicted[start + r] = classes[codes[r]];
    });
    return predicted;
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
    return (this.#regression ? this.#scores(queries) : this.#predictLabels(queries)) as Prediction<L, T>;
  }

  /**
   * Class probabilities, flat row-major q × classes.length (query r, class `classes[c]` at
   * `[r * classes.length + c]`); each row sums to 1. Classification only: a regressor has no
   * classes, so on a `KnnNetwork<number, 'regression'>` X's type is `never` and the call does
   * not type-check (at run time it throws a KnnError).
   */
  predictProba(X: ClassifierInput<T>): Float64Array {
    if (this.#regression) {
      throw new KnnError('BAD_OPTION', "predictProba is for classification; this network has task 'regression': use predict.");
    }
    return this.#scores(this.#queries(X));
  }

  /**
   * The k nearest training points of each row of X, exact: q × k indices and distances in the
   * network's metric (Euclidean, not squared, by default), nearest first, ties toward the lower
   * training index. `k` defaults to
   * the network's own k.
   */
  kneighbors(X: MatrixInput, k?: number | 'all'): Neighbours {
    const w = this.#live();
    const asked = k === undefined ? this.options.k : k;
    const count = neighbourCount(asked, w.n, 'k');
    const queries = this.#queries(X);
    checkOutputSize(queries.rows, count, `kneighbors(X, ${asked === 'all' ? "'all'" : asked}) returns q × k`, 'pass fewer rows of X at a time, or ask for fewer neighbours');
    const { indices, squared } = this.#neighbours(queries, count);
    for (let i = 0; i < squared.length; i++) squared[i] = distanceOf(this.options.metric, squared[i]);
    return { indices, distances: squared };
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
    this.#inChunks(queries, { stateBytes: 0, outputBytes: [w.n * 8] }, (start, count, layout) => {
      kernels.exports.layerOneDistances(
        this.#layerOnePanels(), w.norms.pointer, w.mean.pointer, w.n, w.d, layout.queries, count, layout.kernelScratch, layout.outputs[0], this.#manhattan,
      );
      z1.set(kernels.f64(layout.outputs[0], count * w.n), start * w.n);
    });
    // z2 is layer 3 with the identity for W3: each training point its own class.
    kernels.checkRoom(w.n * 4, 'forward');
    const identity = kernels.allocate(w.n * 4, 'forward');
    try {
      const view = kernels.i32(identity.pointer, w.n);
      for (let i = 0; i < w.n; i++) view[i] = i;
      const z2 = this.#projectedScores(queries, { labels: identity.pointer, classes: w.n, regression: false });
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
    const predicted = this.#predict(queries);
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
    const recentreEveryTime = this.options.k === 'all' && this.options.weights === 'softmax';
    if (!recentreEveryTime && rows > w.capacity && rows < RECENTRE_GROWTH * w.centredRows) this.#growRoom(Math.max(rows, 2 * w.capacity));
    const held = this.#live(); // in larger regions, if #growRoom moved it
    const grown = recentreEveryTime ? undefined : appendWeights(kernels, held, extra, appended, this.options.float32Candidates);
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

  /** Makes `weights` the network's, releasing the regions it held before. */
  #install(weights: Weights): void {
    this.#kernels.releaseHeld(this.#holding);
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

  /** Frees the network's wasm memory; any later call throws KnnError('DISPOSED'). Idempotent. */
  dispose(): void {
    if (!this.#weights) return;
    this.#kernels.releaseHolding(this.#holding);
    this.#weights = undefined;
  }
}

