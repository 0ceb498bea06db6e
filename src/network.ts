// KnnNetwork: the public network. It validates every argument (matrix.ts, labels.ts,
// options.ts), owns its weights in wasm linear memory, and runs queries through the kernels in
// chunks so that one call's scratch memory stays bounded whatever the number of queries.
import { KnnError } from './errors.js';
import { checkAddedLabels, encodeLabels, encodeTargets, type EncodedLabels, type Label } from './labels.js';
import { searchesDirectly, toMatrix, type Matrix, type MatrixInput } from './matrix.js';
import { neighbourCount, resolveOptions, type KnnOptions, type ResolvedOptions } from './options.js';
import { accuracy, checkTruth, rSquared } from './scoring.js';
import { decodeNetwork, encodeNetwork } from './serialize.js';
import { loadKernels, type Kernels, type Region } from './wasm.js';

/** Layer-2 weighting codes shared with assembly/project.ts. */
const WEIGHTING_CODES = { uniform: 0, distance: 1, softmax: 2 } as const;
// One chunk of queries may use about this much scratch (inputs, reducer state, outputs).
const CHUNK_BUDGET_BYTES = 4 * 1024 * 1024;
const MAX_CHUNK_QUERIES = 256;
// forward materialises q × n values per layer; beyond 2^28 float64s (2 GiB) a typed array
// cannot be had on every engine.
const MAX_FORWARD_VALUES = 2 ** 28;
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

/** The network's weights in wasm memory. */
interface Weights {
  readonly n: number;
  readonly d: number;
  /** X as given, row-major: the GEMM path recomputes its candidates' distances from it. */
  readonly points: Region;
  /** X again, in panels: the direct-difference search of small d reads it (none on the GEMM search). */
  readonly pointPanels: Region | undefined;
  /** W1 = −2·(X − μ), packed in panels (assembly/distance.ts). */
  readonly packed: Region;
  /** b1 = ‖X_i − μ‖², padded to whole panels. */
  readonly norms: Region;
  readonly mean: Region;
  /** W3: class codes (i32) or regression targets (f64). */
  readonly labels: Region;
  readonly largestNorm: number;
  /** The float32 copy of W1 that chooses the GEMM search's candidates (none on the direct search or with the option off). */
  readonly float32: Float32Copy | undefined;
  readonly classes: readonly Label[];
}

/** s·W1 in float32 (assembly/float32Distance.ts), the norms of its points, s and the largest norm. */
interface Float32Copy {
  readonly panels: Region;
  readonly norms: Region;
  readonly scale: number;
  readonly largestNorm: number;
}

interface Owned {
  readonly kernels: Kernels;
  readonly regions: Region[];
}

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

function releaseAll({ kernels, regions }: Owned): void {
  for (const region of regions) kernels.release(region);
  regions.length = 0;
}

// A network dropped without dispose() gives its memory back when it is collected.
const unreleased = new FinalizationRegistry<Owned>(releaseAll);

function weightsRegions(weights: Weights): Region[] {
  const regions = [weights.points, weights.packed, weights.norms, weights.mean, weights.labels];
  if (weights.pointPanels) regions.push(weights.pointPanels);
  if (weights.float32) regions.push(weights.float32.panels, weights.float32.norms);
  return regions;
}

/**
 * Copies the training data into wasm memory, centres it and packs W1, then X's panels for the
 * direct search (searchesDirectly: d ≤ 16, and below 8 features, few points or no float32
 * copy) or else W1's float32 copy when `float32Candidates`.
 */
function buildWeights(kernels: Kernels, matrix: Matrix, labels: EncodedLabels | Float64Array, float32Candidates: boolean): Weights {
  const { rows: n, cols: d } = matrix;
  const paddedRows = Math.ceil(n / 8) * 8;
  const kernelExports = kernels.exports;
  const direct = searchesDirectly(n, d, float32Candidates);
  const withFloat32 = float32Candidates && !direct;
  const sizes = [n * d * 8, paddedRows * d * 8, paddedRows * 8, d * 8, labels instanceof Float64Array ? n * 8 : n * 4];
  if (direct) sizes.push(paddedRows * d * 8);
  if (withFloat32) sizes.push(paddedRows * d * 4, paddedRows * 8);
  kernels.checkRoom(sizes.reduce((a, b) => a + b, 0), `fitting ${n} points × ${d} features`);
  const regions: Region[] = [];
  try {
    for (const bytes of sizes) regions.push(kernels.allocate(bytes));
  } catch (error) {
    for (const region of regions) kernels.release(region);
    throw error;
  }
  const [points, packed, norms, mean, labelRegion] = regions;
  const pointPanels = direct ? regions[5] : undefined;
  kernels.f64(points.pointer, n * d).set(matrix.data);
  if (labels instanceof Float64Array) kernels.f64(labelRegion.pointer, n).set(labels);
  else kernels.i32(labelRegion.pointer, n).set(labels.codes);
  if (pointPanels) kernelExports.packPoints(points.pointer, n, d, pointPanels.pointer);
  kernelExports.computeMean(points.pointer, n, d, mean.pointer);
  const largestNorm = kernelExports.packWeights(points.pointer, n, d, mean.pointer, packed.pointer, norms.pointer);
  let float32: Float32Copy | undefined;
  if (withFloat32) {
    const [panels32, norms32] = regions.slice(5);
    const scale = kernelExports.float32Scale(packed.pointer, n, d);
    const largest32 = kernelExports.packFloat32Weights(packed.pointer, n, d, scale, panels32.pointer, norms32.pointer);
    float32 = { panels: panels32, norms: norms32, scale, largestNorm: largest32 };
  }
  const classes = labels instanceof Float64Array ? [] : labels.classes;
  return { n, d, points, pointPanels, packed, norms, mean, labels: labelRegion, largestNorm, float32, classes };
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

export class KnnNetwork {
  readonly options: ResolvedOptions;
  readonly #kernels: Kernels;
  #weights: Weights | undefined;
  readonly #owned: Owned;

  private constructor(kernels: Kernels, weights: Weights, options: ResolvedOptions) {
    this.#kernels = kernels;
    this.#weights = weights;
    this.options = options;
    this.#owned = { kernels, regions: weightsRegions(weights) };
    unreleased.register(this, this.#owned, this);
  }

  /** Trains the network: its weights are the training data (DESIGN.md §1). */
  static async fit(X: MatrixInput, y: ArrayLike<Label>, options?: KnnOptions): Promise<KnnNetwork> {
    const resolved = resolveOptions(options);
    const matrix = toMatrix(X, 'X', undefined, undefined, resolved.float32Candidates);
    const labels = resolved.task === 'regression' ? encodeTargets(y, matrix.rows) : encodeLabels(y, matrix.rows);
    if (resolved.k !== 'all') neighbourCount(resolved.k, matrix.rows, 'options.k');
    const kernels = await loadKernels();
    return new KnnNetwork(kernels, buildWeights(kernels, matrix, labels, resolved.float32Candidates), resolved);
  }

  /** Rebuilds a network saved with toBytes(); it answers bit-for-bit as the original. */
  static async fromBytes(bytes: Uint8Array): Promise<KnnNetwork> {
    const saved = decodeNetwork(bytes);
    const options = resolveOptions(saved.options);
    const labels = saved.targets ?? { classes: saved.classes, codes: saved.codes! };
    const kernels = await loadKernels();
    const matrix = { data: saved.points, rows: saved.n, cols: saved.d };
    return new KnnNetwork(kernels, buildWeights(kernels, matrix, labels, options.float32Candidates), options);
  }

  #live(): Weights {
    if (!this.#weights) {
      throw new KnnError('DISPOSED', 'this network was disposed; fit a new one (or load it with KnnNetwork.fromBytes) to keep predicting.');
    }
    return this.#weights;
  }

  get #regression(): boolean {
    return this.options.task === 'regression';
  }

  get nSamples(): number {
    return this.#live().n;
  }

  get nFeatures(): number {
    return this.#live().d;
  }

  /** The class labels, sorted; the columns of predictProba. Empty for regression. */
  get classes(): readonly Label[] {
    return this.#live().classes;
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
        layout.queries, count, k, capacity, layout.kernelScratch, outIndices, outSquared,
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
          w.packed.pointer, w.norms.pointer, w.mean.pointer, w.n, w.d, labels, targets, classes, regression ? 1 : 0, lambda,
          layout.queries, count, layout.kernelScratch, scores,
        );
        use(start, count, scores, extra);
      });
      return;
    }
    const k = neighbourCount(this.options.k, w.n, 'options.k');
    this.#inNeighbourChunks(queries, k, [classes * 8, ...extraOutputBytes], (start, count, [outIndices, outSquared, scores, ...extra]) => {
      kernels.exports.projectOneHot(
        outIndices, outSquared, count, k, labels, targets, classes, regression ? 1 : 0, WEIGHTING_CODES[weights], lambda, scores,
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
    return toMatrix(X, 'X', this.#live().d);
  }

  /** Class labels (as given at fit), or a Float64Array of estimates for regression. */
  predict(X: MatrixInput): Label[] | Float64Array {
    const queries = this.#queries(X);
    return this.#regression ? this.#scores(queries) : this.#predictLabels(queries);
  }

  /** q × classes.length probabilities (z3), each row summing to 1. */
  predictProba(X: MatrixInput): Float64Array {
    if (this.#regression) {
      throw new KnnError('BAD_OPTION', "predictProba is for classification; this network has task 'regression': use predict.");
    }
    return this.#scores(this.#queries(X));
  }

  /** The k nearest training points of each query: q × k indices and Euclidean distances, ascending. */
  kneighbors(X: MatrixInput, k?: number | 'all'): { indices: Int32Array; distances: Float64Array } {
    const w = this.#live();
    const count = neighbourCount(k ?? this.options.k, w.n, 'k');
    const queries = this.#queries(X);
    const { indices, squared } = this.#neighbours(queries, count);
    for (let i = 0; i < squared.length; i++) squared[i] = Math.sqrt(squared[i]);
    return { indices, distances: squared };
  }

  /**
   * The three layers' activations: z1 (q × n squared distances from the fused GEMM), z2 (q × n
   * layer-2 weights, zero outside the k nearest), z3 (q × classes, or q × 1 for regression).
   */
  forward(X: MatrixInput): { z1: Float64Array; z2: Float64Array; z3: Float64Array } {
    const w = this.#live();
    const kernels = this.#kernels;
    const queries = this.#queries(X);
    if (queries.rows * w.n > MAX_FORWARD_VALUES) {
      throw new KnnError(
        'TOO_LARGE',
        `forward(X) returns q × n = ${queries.rows} × ${w.n} activations per layer, more than ${MAX_FORWARD_VALUES} a typed array holds here; pass fewer rows of X at a time.`,
      );
    }
    const z1 = new Float64Array(queries.rows * w.n);
    this.#inChunks(queries, { stateBytes: 0, outputBytes: [w.n * 8] }, (start, count, layout) => {
      kernels.exports.layerOneDistances(w.packed.pointer, w.norms.pointer, w.mean.pointer, w.n, w.d, layout.queries, count, layout.kernelScratch, layout.outputs[0]);
      z1.set(kernels.f64(layout.outputs[0], count * w.n), start * w.n);
    });
    // z2 is layer 3 with the identity for W3: each training point its own class.
    kernels.checkRoom(w.n * 4, 'forward');
    const identity = kernels.allocate(w.n * 4);
    try {
      const view = kernels.i32(identity.pointer, w.n);
      for (let i = 0; i < w.n; i++) view[i] = i;
      const z2 = this.#projectedScores(queries, { labels: identity.pointer, classes: w.n, regression: false });
      return { z1, z2, z3: this.#scores(queries) };
    } finally {
      kernels.release(identity);
    }
  }

  /** The network's weights, copied out: W1 = −2·(X − μ) (n × d), b1 = ‖X_i − μ‖², W3 (n × classes one-hot, or n × 1 targets), μ. */
  get weights(): { W1: Float64Array; b1: Float64Array; W3: Float64Array; mean: Float64Array } {
    const w = this.#live();
    const kernels = this.#kernels;
    const packed = kernels.f64(w.packed.pointer, Math.ceil(w.n / 8) * 8 * w.d);
    const W1 = new Float64Array(w.n * w.d);
    for (let i = 0; i < w.n; i++) {
      const panel = Math.floor(i / 8) * w.d * 8;
      for (let j = 0; j < w.d; j++) W1[i * w.d + j] = packed[panel + j * 8 + (i % 8)];
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
    return { W1, b1: kernels.f64(w.norms.pointer, w.n).slice(), W3, mean: kernels.f64(w.mean.pointer, w.d).slice() };
  }

  /** Accuracy (classification) or R² (regression) of the predictions for X against y. */
  score(X: MatrixInput, y: ArrayLike<Label>): number {
    const queries = this.#queries(X);
    const truth = checkTruth(y, queries.rows, this.#regression);
    const predicted = this.predict(queries);
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
   * Appends training points. The network is rebuilt on the union (new mean, new packing,
   * classes re-encoded), so it answers exactly as a network fitted on the union would.
   * Cost O((n + m)·d). On any error the network is unchanged.
   */
  add(X: MatrixInput, y: ArrayLike<Label>): void {
    const w = this.#live();
    const extra = toMatrix(X, 'X', w.d, w.n, this.options.float32Candidates);
    const old = this.#trainingData();
    const rows = w.n + extra.rows;
    const points = new Float64Array(rows * w.d);
    points.set(old.points);
    points.set(extra.data, old.points.length);
    let labels: EncodedLabels | Float64Array;
    if (this.#regression) {
      const added = encodeTargets(y, extra.rows, 'y', rows);
      labels = new Float64Array(rows);
      labels.set(old.labels as Float64Array);
      labels.set(added, w.n);
    } else {
      checkAddedLabels(y, extra.rows, w.classes);
      labels = encodeLabels([...(old.labels as Label[]), ...Array.from(y)], rows);
    }
    const rebuilt = buildWeights(this.#kernels, { data: points, rows, cols: w.d }, labels, this.options.float32Candidates);
    releaseAll(this.#owned);
    this.#weights = rebuilt;
    this.#owned.regions.push(...weightsRegions(rebuilt));
  }

  /** A self-contained, checksummed copy of the network (see serialize.ts). */
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
    releaseAll(this.#owned);
    unreleased.unregister(this);
    this.#weights = undefined;
  }
}

