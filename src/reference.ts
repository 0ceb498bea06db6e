// The same network in plain TypeScript, without wasm: readable, exact, and slow. It is the test
// oracle every fast path must agree with, and the baseline of the benchmark suite.
//
// Layer 1 here is the direct Σ(x_j − X_ij)² (the value the wasm network must report exactly);
// layers 2 and 3 add the weights in neighbour order, as assembly/project.ts does, so uniform and
// distance votes agree bit-for-bit.
/**
 * The same network in plain TypeScript, without wasm: exact and slow, the oracle the wasm
 * network is tested against: `import { ReferenceNetwork } from 'knnet/reference'`.
 * @module knnet/reference
 */
import { KnnError, describeValue } from './errors.js';
import { checkRemaining, readIndices } from './indices.js';
import { checkClassification, checkHeldTargets, classCode, countPerClass, encodeLabels, encodeTargets, readAddedLabels, type EncodedLabels, type Label } from './labels.js';
import { toMatrix, type Matrix, type MatrixInput, type QueryInput } from './matrix.js';
import { distanceOf, hasExpansion, layerOneValue, normaliseRows, prepareRows, prepareTrainingRows, withinRadius, type Metric } from './metrics.js';
import { checkRadius, neighbourCount, resolveOptions, type KnnOptions, type ResolvedOptions, type Task } from './options.js';
import { storageFor, type StorageKind } from './planner.js';
import type { ClassifierInput, ClassPrediction, LabelledInput, LayerActivations, NetworkWeights, Neighbours, Prediction, RadiusNeighbours } from './results.js';
import { accuracy, argmaxLabels, checkTruth, rSquared } from './scoring.js';
import { decodeNetwork, encodeNetwork } from './serialize.js';
import { checkLabelsGiven, encodeTrainingLabels } from './trainingUpdates.js';
import { PointIds, readIds } from './pointIds.js';
import { readAddOptions } from './callOptions.js';


/** Indices of the k smallest of `distances`, ascending, ties toward the lower index. */
export function nearestIndices(distances: Float64Array, k: number): Int32Array {
  const order = new Int32Array(k);
  const kept = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < distances.length; i++) {
    const distance = distances[i];
    if (size === k && !(distance < kept[k - 1])) continue;
    // Insertion after every kept distance ≤ this one: equal distances stay in index order.
    let slot = size < k ? size++ : k - 1;
    while (slot > 0 && kept[slot - 1] > distance) {
      kept[slot] = kept[slot - 1];
      order[slot] = order[slot - 1];
      slot--;
    }
    kept[slot] = distance;
    order[slot] = i;
  }
  return order;
}

/**
 * Layer 2's vote of a neighbour at z1 = `squared` when the nearest is at `nearest`. A 'distance'
 * vote is 1/dist taken as dist_nearest/dist: the same once normalised, and never overflowing.
 * Cosine's distance is z1/2, so its ratio is taken on z1 itself (the halving cancels exactly).
 */
function neighbourWeight(weights: ResolvedOptions['weights'], metric: Metric, squared: number, nearest: number, lambda: number): number {
  if (weights === 'distance') {
    if (nearest === 0) return squared === 0 ? 1 : 0;
    return metric === 'euclidean' ? Math.sqrt(nearest) / Math.sqrt(squared) : nearest / squared;
  }
  if (weights === 'softmax') return Math.exp(-lambda * (squared - nearest));
  return 1;
}

/** The training points, row-major, widened to float64. */
interface TrainingPoints {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * A network of label type `L` and task `T` (as KnnNetwork's) that answers as KnnNetwork does,
 * in plain TypeScript without WebAssembly: the same API (plus `fitSync`), the same answers
 * (bit for bit for uniform and distance votes), and O(n·d) work per query with no SIMD.
 */
export class ReferenceNetwork<L extends Label = Label, T extends Task = Task> {
  /** The options the network was fitted with, every default filled in. */
  readonly options: ResolvedOptions<T>;
  #points: TrainingPoints;
  #classes: readonly Label[];
  #codes: Int32Array;
  #targets: Float64Array;
  #disposed = false;
  /** k is a cap (a network from create, or emptied by clear): see KnnNetwork. */
  #capped: boolean;
  /** The points' stable ids, where the network has them (see KnnNetwork). */
  #ids: PointIds | undefined;
  /**
   * What KnnNetwork would store the points as: float32 storage's values are rounded to float32
   * (then widened here); a cosine network's are then its raw rows, normalised where layer 1 reads
   * them (#layerOnePoints), as KnnNetwork's kernels normalise them.
   */
  #storage: StorageKind = 'float64';

  private constructor(points: TrainingPoints, labels: EncodedLabels | Float64Array | undefined, options: ResolvedOptions<T>, capped: boolean, ids?: Float64Array) {
    this.options = options;
    this.#ids = ids && new PointIds(ids);
    this.#points = points;
    this.#capped = capped;
    this.#classes = [];
    this.#codes = new Int32Array(0);
    this.#targets = new Float64Array(0);
    this.#setLabels(labels);
  }

  #setLabels(labels: EncodedLabels | Float64Array | undefined): void {
    this.#classes = labels === undefined || labels instanceof Float64Array ? [] : labels.classes;
    this.#codes = labels === undefined || labels instanceof Float64Array ? new Int32Array(0) : labels.codes;
    this.#targets = labels instanceof Float64Array ? labels : new Float64Array(0);
  }

  /** Trains a classifier on string labels: `predict` returns `string[]` (as KnnNetwork.fit). */
  static fit(X: MatrixInput, y: ArrayLike<string>, options?: KnnOptions & { task?: 'classification' }): Promise<ReferenceNetwork<string, 'classification'>>;
  /** Trains a classifier on numeric labels: `predict` returns `number[]` (as KnnNetwork.fit). */
  static fit(X: MatrixInput, y: ArrayLike<number>, options?: KnnOptions & { task?: 'classification' }): Promise<ReferenceNetwork<number, 'classification'>>;
  /** Trains a regressor: `predict` returns a Float64Array, and there is no `predictProba`. */
  static fit(X: MatrixInput, y: ArrayLike<number>, options: KnnOptions & { task: 'regression' }): Promise<ReferenceNetwork<number, 'regression'>>;
  /** Holds X without labels (task 'search'), as KnnNetwork.fit(X). */
  static fit(X: MatrixInput, y?: null, options?: KnnOptions & { task?: 'search' }): Promise<ReferenceNetwork<never, 'search'>>;
  /** Labels or task known only at run time: `predict` may return labels or a Float64Array. */
  static fit(X: MatrixInput, y?: ArrayLike<Label> | null, options?: KnnOptions): Promise<ReferenceNetwork>;
  static async fit(X: MatrixInput, y?: ArrayLike<Label> | null, options?: KnnOptions): Promise<ReferenceNetwork> {
    return ReferenceNetwork.fitSync(X, y, options);
  }

  /** An empty network to add points to, k a cap (as KnnNetwork.create). */
  static create(options?: KnnOptions): ReferenceNetwork {
    return new ReferenceNetwork({ data: new Float64Array(0), rows: 0, cols: 0 }, undefined, resolveOptions(options), true);
  }

  /** `fit` without the promise (no WebAssembly to load): a classifier predicting `string[]`. */
  static fitSync(X: MatrixInput, y: ArrayLike<string>, options?: KnnOptions & { task?: 'classification' }): ReferenceNetwork<string, 'classification'>;
  /** `fit` without the promise (no WebAssembly to load): a classifier predicting `number[]`. */
  static fitSync(X: MatrixInput, y: ArrayLike<number>, options?: KnnOptions & { task?: 'classification' }): ReferenceNetwork<number, 'classification'>;
  /** `fit` without the promise (no WebAssembly to load): a regressor predicting a Float64Array. */
  static fitSync(X: MatrixInput, y: ArrayLike<number>, options: KnnOptions & { task: 'regression' }): ReferenceNetwork<number, 'regression'>;
  /** `fit` without the promise, without labels (task 'search'). */
  static fitSync(X: MatrixInput, y?: null, options?: KnnOptions & { task?: 'search' }): ReferenceNetwork<never, 'search'>;
  /** `fit` without the promise, for labels or a task known only at run time. */
  static fitSync(X: MatrixInput, y?: ArrayLike<Label> | null, options?: KnnOptions): ReferenceNetwork;
  static fitSync(X: MatrixInput, y?: ArrayLike<Label> | null, options?: KnnOptions): ReferenceNetwork {
    const labelled = y !== undefined && y !== null;
    const resolved = resolveOptions(options, labelled ? 'classification' : 'search');
    if (labelled === (resolved.task === 'search')) checkLabelsGiven(resolved.task, y, 'fit(X, y)');
    const rows = toMatrix(X, 'X');
    const matrix = prepareTrainingRows(rows, resolved.metric, storageFor(resolved.storage, rows.data instanceof Float32Array), 'X');
    const labels = encodeTrainingLabels(resolved.task, y, matrix.rows);
    const given = (options as { ids?: unknown } | undefined)?.ids;
    const ids = given === undefined ? undefined : readIds(given, matrix.rows, undefined, 'options.ids');
    if (resolved.k !== 'all') neighbourCount(resolved.k, matrix.rows, 'options.k');
    const network = new ReferenceNetwork({ data: new Float64Array(0), rows: 0, cols: 0 }, labels, resolved, false, ids);
    network.#holdFirst(matrix);
    return network;
  }

  /** Holds `matrix` as the first training points, stored as KnnNetwork would store them (float32 storage rounds). */
  #holdFirst(matrix: Matrix): void {
    this.#storage = storageFor(this.options.storage, matrix.data instanceof Float32Array);
    this.#points = { data: this.#stored(matrix.data), rows: matrix.rows, cols: matrix.cols };
  }

  /** Values as the storage keeps them, widened to float64. */
  #stored(values: Float64Array | Float32Array): Float64Array {
    return Float64Array.from(this.#storage === 'float32' && values instanceof Float64Array ? Float32Array.from(values) : values);
  }

  /** Rebuilds a network saved with `toBytes()` (by either network); see KnnNetwork.fromBytes. */
  static async fromBytes(bytes: Uint8Array): Promise<ReferenceNetwork> {
    const saved = decodeNetwork(bytes);
    const labels = saved.targets ?? (saved.codes ? { classes: saved.classes, codes: saved.codes } : undefined);
    const network = new ReferenceNetwork({ data: new Float64Array(0), rows: 0, cols: 0 }, labels, resolveOptions(saved.options), saved.capped, saved.ids);
    network.#holdFirst({ data: saved.points, rows: saved.n, cols: saved.d });
    return network;
  }

  #live(): TrainingPoints {
    if (this.#disposed) throw new KnnError('DISPOSED', 'this network was disposed; fit a new one to keep predicting.');
    return this.#points;
  }

  /** The training points, for a call that needs some: EMPTY while there are none. */
  #held(call: string): TrainingPoints {
    const points = this.#live();
    if (points.rows === 0) throw new KnnError('EMPTY', `${call}: this network holds no training points yet; add some first.`);
    return points;
  }

  #checkLabels(call: string, classesOnly = false): void {
    if (this.options.task === 'search') throw new KnnError('NO_LABELS', `${call} needs labels, and this network has none (task 'search').`);
    if (classesOnly && this.#regression) throw new KnnError('BAD_OPTION', `${call} is for classification; this network has task 'regression': use predict.`);
  }

  /** How many nearest neighbours vote among n points; the softmax over every point is handled apart. */
  #votes(n: number, k: number | 'all' = this.options.k): number {
    if (k === 'all') return n;
    return this.#capped ? Math.min(k, n) : neighbourCount(k, n, 'options.k');
  }

  get #regression(): boolean {
    return this.options.task === 'regression';
  }

  /** n, the number of training points. */
  get nSamples(): number {
    return this.#live().rows;
  }

  /** d, the number of features. */
  get nFeatures(): number {
    return this.#live().cols;
  }

  /** The distinct class labels, sorted: the columns of predictProba. Empty for regression. */
  get classes(): readonly L[] {
    this.#live();
    return this.#classes as readonly L[];
  }

  #queries(X: unknown, call = 'this call'): Matrix {
    return prepareRows(toMatrix(X, 'X', this.#held(call).cols), this.options.metric, 'X');
  }

  /** The points as layer 1 reads them: a cosine network's raw float32 rows normalised, else as held. */
  #layerOnePoints(call = 'this call'): TrainingPoints {
    const points = this.#held(call);
    const raw = this.options.metric === 'cosine' && this.#storage === 'float32' && points.rows > 0;
    return raw ? (normaliseRows(points, 'X') as TrainingPoints) : points;
  }

  /** Layer 1 for query r: the metric's z1 to all n points, computed directly. */
  #layerOne(queries: Matrix, r: number): Float64Array {
    const points = this.#layerOnePoints();
    const z1 = new Float64Array(points.rows);
    for (let i = 0; i < points.rows; i++) z1[i] = layerOneValue(this.options.metric, points.data, i, queries.data, r, points.cols);
    return z1;
  }

  /** Layer 2 for one query: (training index, weight) pairs, in the order they are summed. */
  #layerTwo(z1: Float64Array, votes?: number): { indices: ArrayLike<number>; weights: Float64Array } {
    const { k, weights, lambda, metric } = this.options;
    if (votes === undefined && k === 'all' && weights === 'softmax') {
      let minimum = Infinity;
      for (const z of z1) minimum = Math.min(minimum, z);
      const softmax = z1.map((z) => Math.exp(-lambda * (z - minimum)));
      return { indices: Array.from(z1.keys()), weights: softmax };
    }
    const order = nearestIndices(z1, votes ?? this.#votes(z1.length));
    const nearest = z1[order[0]];
    return { indices: order, weights: Float64Array.from(order, (i) => neighbourWeight(weights, metric, z1[i], nearest, lambda)) };
  }

  /** Layer 3 for one query: weighted class scores (or weighted mean target), normalised. */
  #layerThree(indices: ArrayLike<number>, weights: Float64Array): Float64Array {
    const scores = new Float64Array(this.#regression ? 1 : this.#classes.length);
    let total = 0;
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j];
      total += weights[j];
      if (this.#regression) scores[0] += weights[j] * this.#targets[i];
      else scores[this.#codes[i]] += weights[j];
    }
    for (let c = 0; c < scores.length; c++) scores[c] /= total;
    return scores;
  }

  #scores(queries: Matrix, votes?: number): Float64Array {
    const width = this.#regression ? 1 : this.#classes.length;
    const scores = new Float64Array(queries.rows * width);
    for (let r = 0; r < queries.rows; r++) {
      const { indices, weights } = this.#layerTwo(this.#layerOne(queries, r), votes);
      scores.set(this.#layerThree(indices, weights), r * width);
    }
    return scores;
  }

  /** Class labels of the type given to fit, or a Float64Array of estimates for regression. */
  predict(X: LabelledInput<T>): Prediction<L, T> {
    this.#checkLabels('predict(X)');
    return this.#predict(this.#queries(X, 'predict(X)'));
  }

  #predict(queries: Matrix): Prediction<L, T> {
    const scores = this.#scores(queries);
    return (this.#regression ? scores : argmaxLabels(scores, queries.rows, this.#classes)) as Prediction<L, T>;
  }


  /** Class probabilities, flat row-major q × classes.length. Classification only. */
  predictProba(X: ClassifierInput<T>): Float64Array {
    this.#checkLabels('predictProba(X)', true);
    return this.#scores(this.#queries(X, 'predictProba(X)'));
  }

  /** One query's label, class index and confidences by label, as KnnNetwork.predictClass. */
  predictClass(x: ClassifierInput<T>, k?: number): ClassPrediction<L> {
    this.#checkLabels('predictClass(x)', true);
    const queries = this.#queries(x, 'predictClass(x)');
    const votes = k === undefined ? undefined : Math.min(neighbourCount(k, Number.MAX_SAFE_INTEGER, 'k'), this.#points.rows);
    const scores = this.#scores(queries, votes);
    const classIndex = this.#classes.indexOf(argmaxLabels(scores, 1, this.#classes)[0]);
    const classes = this.#classes as readonly L[];
    return { label: classes[classIndex], classIndex, confidences: Object.fromEntries(classes.map((label, c) => [String(label), scores[c]])) };
  }

  /** The k nearest training points: q × k indices and distances in the network's metric; −1 and Infinity past the points a created network holds. */
  kneighbors(X: QueryInput, k?: number | 'all'): Neighbours {
    const n = this.#held('kneighbors(X, k)').rows;
    const asked = k === undefined ? this.options.k : k;
    const width = asked === 'all' ? n : neighbourCount(asked, this.#capped ? Number.MAX_SAFE_INTEGER : n, 'k');
    const count = Math.min(width, n);
    const queries = this.#queries(X);
    const indices = new Int32Array(queries.rows * width).fill(-1);
    const distances = new Float64Array(queries.rows * width).fill(Infinity);
    for (let r = 0; r < queries.rows; r++) {
      const z1 = this.#layerOne(queries, r);
      const order = nearestIndices(z1, count);
      indices.set(order, r * width);
      for (let j = 0; j < count; j++) distances[r * width + j] = distanceOf(this.options.metric, z1[order[j]]);
    }
    return this.#withIds({ indices, distances });
  }

  /** Results with the points' ids beside their positions, where the network has ids. */
  #withIds<R extends { indices: Int32Array }>(result: R): R {
    return this.#ids ? { ...result, ids: this.#ids.at(result.indices) } : result;
  }

  /** The three layers' activations; z1 holds the direct squared distances. */
  forward(X: LabelledInput<T>): LayerActivations {
    this.#checkLabels('forward(X)');
    const n = this.#held('forward(X)').rows;
    const queries = this.#queries(X);
    const width = this.#regression ? 1 : this.#classes.length;
    const z1 = new Float64Array(queries.rows * n);
    const z2 = new Float64Array(queries.rows * n);
    const z3 = new Float64Array(queries.rows * width);
    for (let r = 0; r < queries.rows; r++) {
      const distances = this.#layerOne(queries, r);
      const { indices, weights } = this.#layerTwo(distances);
      let total = 0;
      for (const weight of weights) total += weight;
      for (let j = 0; j < indices.length; j++) z2[r * n + indices[j]] = weights[j] / total;
      z1.set(distances, r * n);
      z3.set(this.#layerThree(indices, weights), r * width);
    }
    return { z1, z2, z3 };
  }

  /** The network's weights, computed from the training data, each flat row-major. */
  get weights(): NetworkWeights {
    const { data, rows: n, cols: d } = this.#layerOnePoints('weights');
    const c = this.#classes.length;
    const W3 = this.#regression ? this.#targets.slice() : new Float64Array(n * c);
    if (this.options.task === 'classification') for (let i = 0; i < n; i++) W3[i * c + this.#codes[i]] = 1;
    // Manhattan's layer 1, Σ|x − X_i|, is not linear, and dot's, −Σ x·X_i, not the expansion: their weights are X itself, no centre.
    if (!hasExpansion(this.options.metric)) return { W1: data.slice(), b1: new Float64Array(n), W3, mean: new Float64Array(d) };
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= n;
    const W1 = new Float64Array(n * d);
    const b1 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const centred = data[i * d + j] - mean[j];
        b1[i] += centred * centred;
        W1[i * d + j] = -2 * centred;
      }
    }
    return { W1, b1, W3, mean };
  }

  /** Accuracy (classification) or R² (regression) against the true y. */
  score(X: LabelledInput<T>, y: ArrayLike<L>): number {
    this.#checkLabels('score(X, y)');
    const queries = this.#queries(X, 'score(X, y)');
    const truth = checkTruth(y, queries.rows, this.#regression);
    const predicted = this.#predict(queries);
    return this.#regression ? rSquared(predicted as Float64Array, truth as ArrayLike<number>) : accuracy(predicted as Label[], truth);
  }

  /** Appends training points (with their ids, on a network that has ids); it then answers as a network fitted on the union. */
  add(X: MatrixInput, y?: ArrayLike<L> | null, options?: { ids?: ArrayLike<number> }): void {
    const points = this.#live();
    checkLabelsGiven(this.options.task, y, 'add(X, y)');
    const given = readAddOptions(options).ids;
    if (points.rows === 0) {
      const first = toMatrix(X, 'X');
      const matrix = prepareTrainingRows(first, this.options.metric, storageFor(this.options.storage, first.data instanceof Float32Array), 'X');
      this.#setLabels(encodeTrainingLabels(this.options.task, y, matrix.rows));
      this.#ids = given === undefined ? undefined : new PointIds(readIds(given, matrix.rows, undefined, 'options.ids'));
      this.#holdFirst(matrix);
      return;
    }
    const extra = prepareTrainingRows(toMatrix(X, 'X', points.cols, points.rows), this.options.metric, this.#storage, 'X');
    if ((given === undefined) !== (this.#ids === undefined)) throw new KnnError('BAD_INPUT', `add(X, y, { ids }): this network ${this.#ids ? 'has ids: pass one per row of X' : 'has no ids: add without them'}.`);
    if (given !== undefined) this.#ids = this.#ids!.appended(readIds(given, extra.rows, this.#ids, 'options.ids'));
    const rows = points.rows + extra.rows;
    const data = new Float64Array(rows * points.cols);
    data.set(points.data);
    data.set(this.#stored(extra.data), points.data.length);
    if (this.#regression) {
      const targets = new Float64Array(rows);
      targets.set(this.#targets);
      targets.set(encodeTargets(y, extra.rows, 'y', rows), points.rows);
      checkHeldTargets(targets, points.rows, rows);
      this.#targets = targets;
    } else if (this.options.task === 'classification') {
      const added = readAddedLabels(y, extra.rows, this.#classes);
      const union = encodeLabels([...Array.from(this.#codes, (code) => this.#classes[code]), ...added], rows);
      this.#classes = union.classes;
      this.#codes = union.codes;
    }
    this.#points = { data, rows, cols: points.cols };
  }

  /** Every training point within `radius` of each query, by brute force; see KnnNetwork.radiusNeighbors. */
  radiusNeighbors(X: QueryInput, radius: number): RadiusNeighbours {
    const points = this.#layerOnePoints('radiusNeighbors(X, radius)');
    const checkedRadius = checkRadius(radius, this.options.metric);
    const queries = this.#queries(X);
    const offsets = new Int32Array(queries.rows + 1);
    const found: { index: number; squared: number }[] = [];
    for (let r = 0; r < queries.rows; r++) {
      const within: { index: number; squared: number }[] = [];
      for (let i = 0; i < points.rows; i++) {
        const squared = layerOneValue(this.options.metric, points.data, i, queries.data, r, points.cols);
        if (withinRadius(this.options.metric, squared, checkedRadius)) within.push({ index: i, squared });
      }
      within.sort((a, b) => a.squared - b.squared || a.index - b.index);
      found.push(...within);
      offsets[r + 1] = found.length;
    }
    return this.#withIds({
      offsets,
      indices: Int32Array.from(found, (entry) => entry.index),
      distances: Float64Array.from(found, (entry) => distanceOf(this.options.metric, entry.squared)),
    });
  }

  /** Removes the points at `indices`; later points move down. */
  remove(indices: ArrayLike<number>): void {
    this.#keepAllBut(readIndices(indices, this.#live().rows), 'remove(indices)');
  }

  /** Removes the points with stable ids `ids`, on a network that has ids. */
  removeIds(ids: ArrayLike<number>): void {
    this.#live();
    if (!this.#ids) throw new KnnError('BAD_INPUT', 'removeIds(ids): this network has no ids; remove by position with remove(indices).');
    this.#keepAllBut(this.#ids.positionsOf(ids), 'removeIds(ids)');
  }

  /** Removes every point of class `label`. */
  removeClass(label: L): void {
    this.#live();
    this.#checkLabels('removeClass(label)');
    checkClassification(this.#regression, 'removeClass(label)');
    const code = classCode(this.#classes, label, 'removeClass(label)');
    this.#keepAllBut(Uint8Array.from(this.#codes, (c) => (c === code ? 1 : 0)), `removeClass(${describeValue(label)})`);
  }

  /** Training points per class, in the order of `classes`. */
  classCounts(): Map<L, number> {
    this.#live();
    this.#checkLabels('classCounts()');
    checkClassification(this.#regression, 'classCounts()');
    return countPerClass(this.#classes, this.#codes) as Map<L, number>;
  }

  #keepAllBut(removed: Uint8Array, call: string): void {
    const { data, rows: n, cols } = this.#live();
    const kept: number[] = [];
    for (let i = 0; i < n; i++) if (!removed[i]) kept.push(i);
    if (kept.length === n) return;
    if (!this.#capped) checkRemaining(kept.length, this.options.k, call);
    if (kept.length === 0) {
      this.clear();
      return;
    }
    this.#ids = this.#ids?.without(removed);
    const points = new Float64Array(kept.length * cols);
    kept.forEach((i, row) => points.set(data.subarray(i * cols, (i + 1) * cols), row * cols));
    if (this.#regression) {
      this.#targets = Float64Array.from(kept, (i) => this.#targets[i]);
    } else if (this.options.task === 'classification') {
      const union = encodeLabels(kept.map((i) => this.#classes[this.#codes[i]]), kept.length);
      this.#classes = union.classes;
      this.#codes = union.codes;
    }
    this.#points = { data: points, rows: kept.length, cols };
  }

  /** Removes every point: the network is empty, k a cap (as KnnNetwork.clear). */
  clear(): void {
    this.#live();
    this.#points = { data: new Float64Array(0), rows: 0, cols: 0 };
    this.#setLabels(undefined);
    this.#ids = undefined;
    this.#capped = true;
  }

  /** The network as bytes, in the format KnnNetwork.fromBytes reads too. */
  toBytes(): Uint8Array {
    const { data, rows, cols } = this.#live();
    const labels = this.#regression ? { targets: this.#targets } : this.options.task === 'classification' && rows > 0 ? { codes: this.#codes } : {};
    return encodeNetwork({ options: this.options, n: rows, d: cols, classes: this.#classes, capped: this.#capped, ids: this.#ids?.values, points: this.#storage === 'float32' && rows > 0 ? Float32Array.from(data) : data, ...labels });
  }

  /** Marks the network disposed: later calls throw KnnError('DISPOSED'), as KnnNetwork's do. */
  dispose(): void {
    this.#disposed = true;
  }
}
