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
import { toMatrix, type Matrix, type MatrixInput } from './matrix.js';
import { distanceOf, layerOneValue, prepareRows, type Metric } from './metrics.js';
import { checkRadius, neighbourCount, resolveOptions, type KnnOptions, type ResolvedOptions, type Task } from './options.js';
import type { ClassifierInput, LayerActivations, NetworkWeights, Neighbours, Prediction, RadiusNeighbours } from './results.js';
import { accuracy, argmaxLabels, checkTruth, rSquared } from './scoring.js';
import { decodeNetwork, encodeNetwork } from './serialize.js';


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

  private constructor(points: TrainingPoints, labels: EncodedLabels | Float64Array, options: ResolvedOptions<T>) {
    this.options = options;
    this.#points = points;
    this.#classes = labels instanceof Float64Array ? [] : labels.classes;
    this.#codes = labels instanceof Float64Array ? new Int32Array(0) : labels.codes;
    this.#targets = labels instanceof Float64Array ? labels : new Float64Array(0);
  }

  /** Trains a classifier on string labels: `predict` returns `string[]` (as KnnNetwork.fit). */
  static fit(X: MatrixInput, y: ArrayLike<string>, options?: KnnOptions & { task?: 'classification' }): Promise<ReferenceNetwork<string, 'classification'>>;
  /** Trains a classifier on numeric labels: `predict` returns `number[]` (as KnnNetwork.fit). */
  static fit(X: MatrixInput, y: ArrayLike<number>, options?: KnnOptions & { task?: 'classification' }): Promise<ReferenceNetwork<number, 'classification'>>;
  /** Trains a regressor: `predict` returns a Float64Array, and there is no `predictProba`. */
  static fit(X: MatrixInput, y: ArrayLike<number>, options: KnnOptions & { task: 'regression' }): Promise<ReferenceNetwork<number, 'regression'>>;
  /** Labels or task known only at run time: `predict` may return labels or a Float64Array. */
  static fit(X: MatrixInput, y: ArrayLike<Label>, options?: KnnOptions): Promise<ReferenceNetwork>;
  static async fit(X: MatrixInput, y: ArrayLike<Label>, options?: KnnOptions): Promise<ReferenceNetwork> {
    return ReferenceNetwork.fitSync(X, y, options);
  }

  /** `fit` without the promise (no WebAssembly to load): a classifier predicting `string[]`. */
  static fitSync(X: MatrixInput, y: ArrayLike<string>, options?: KnnOptions & { task?: 'classification' }): ReferenceNetwork<string, 'classification'>;
  /** `fit` without the promise (no WebAssembly to load): a classifier predicting `number[]`. */
  static fitSync(X: MatrixInput, y: ArrayLike<number>, options?: KnnOptions & { task?: 'classification' }): ReferenceNetwork<number, 'classification'>;
  /** `fit` without the promise (no WebAssembly to load): a regressor predicting a Float64Array. */
  static fitSync(X: MatrixInput, y: ArrayLike<number>, options: KnnOptions & { task: 'regression' }): ReferenceNetwork<number, 'regression'>;
  /** `fit` without the promise, for labels or a task known only at run time. */
  static fitSync(X: MatrixInput, y: ArrayLike<Label>, options?: KnnOptions): ReferenceNetwork;
  static fitSync(X: MatrixInput, y: ArrayLike<Label>, options?: KnnOptions): ReferenceNetwork {
    const resolved = resolveOptions(options);
    const matrix = prepareRows(toMatrix(X, 'X'), resolved.metric, 'X');
    const labels = resolved.task === 'regression' ? encodeTargets(y, matrix.rows) : encodeLabels(y, matrix.rows);
    if (resolved.k !== 'all') neighbourCount(resolved.k, matrix.rows, 'options.k');
    return new ReferenceNetwork({ data: Float64Array.from(matrix.data), rows: matrix.rows, cols: matrix.cols }, labels, resolved);
  }

  /** Rebuilds a network saved with `toBytes()` (by either network); see KnnNetwork.fromBytes. */
  static async fromBytes(bytes: Uint8Array): Promise<ReferenceNetwork> {
    const saved = decodeNetwork(bytes);
    const labels = saved.targets ?? { classes: saved.classes, codes: saved.codes! };
    return new ReferenceNetwork({ data: saved.points, rows: saved.n, cols: saved.d }, labels, resolveOptions(saved.options));
  }

  #live(): TrainingPoints {
    if (this.#disposed) throw new KnnError('DISPOSED', 'this network was disposed; fit a new one to keep predicting.');
    return this.#points;
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

  #queries(X: unknown): Matrix {
    return prepareRows(toMatrix(X, 'X', this.#live().cols), this.options.metric, 'X');
  }

  /** Layer 1 for query r: the metric's z1 to all n points, computed directly. */
  #layerOne(queries: Matrix, r: number): Float64Array {
    const points = this.#live();
    const z1 = new Float64Array(points.rows);
    for (let i = 0; i < points.rows; i++) z1[i] = layerOneValue(this.options.metric, points.data, i, queries.data, r, points.cols);
    return z1;
  }

  /** Layer 2 for one query: (training index, weight) pairs, in the order they are summed. */
  #layerTwo(z1: Float64Array): { indices: ArrayLike<number>; weights: Float64Array } {
    const { k, weights, lambda, metric } = this.options;
    if (k === 'all' && weights === 'softmax') {
      let minimum = Infinity;
      for (const z of z1) minimum = Math.min(minimum, z);
      const softmax = z1.map((z) => Math.exp(-lambda * (z - minimum)));
      return { indices: Array.from(z1.keys()), weights: softmax };
    }
    const order = nearestIndices(z1, neighbourCount(k, z1.length, 'options.k'));
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

  #scores(queries: Matrix): Float64Array {
    const width = this.#regression ? 1 : this.#classes.length;
    const scores = new Float64Array(queries.rows * width);
    for (let r = 0; r < queries.rows; r++) {
      const { indices, weights } = this.#layerTwo(this.#layerOne(queries, r));
      scores.set(this.#layerThree(indices, weights), r * width);
    }
    return scores;
  }

  /** Class labels of the type given to fit, or a Float64Array of estimates for regression. */
  predict(X: MatrixInput): Prediction<L, T> {
    return this.#predict(this.#queries(X));
  }

  #predict(queries: Matrix): Prediction<L, T> {
    const scores = this.#scores(queries);
    return (this.#regression ? scores : argmaxLabels(scores, queries.rows, this.#classes)) as Prediction<L, T>;
  }


  /** Class probabilities, flat row-major q × classes.length. Classification only. */
  predictProba(X: ClassifierInput<T>): Float64Array {
    if (this.#regression) {
      throw new KnnError('BAD_OPTION', "predictProba is for classification; this network has task 'regression': use predict.");
    }
    return this.#scores(this.#queries(X));
  }

  /** The k nearest training points: q × k indices and distances in the network's metric. */
  kneighbors(X: MatrixInput, k?: number | 'all'): Neighbours {
    const count = neighbourCount(k === undefined ? this.options.k : k, this.#live().rows, 'k');
    const queries = this.#queries(X);
    const indices = new Int32Array(queries.rows * count);
    const distances = new Float64Array(queries.rows * count);
    for (let r = 0; r < queries.rows; r++) {
      const z1 = this.#layerOne(queries, r);
      const order = nearestIndices(z1, count);
      indices.set(order, r * count);
      for (let j = 0; j < count; j++) distances[r * count + j] = distanceOf(this.options.metric, z1[order[j]]);
    }
    return { indices, distances };
  }

  /** The three layers' activations; z1 holds the direct squared distances. */
  forward(X: MatrixInput): LayerActivations {
    const n = this.#live().rows;
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
    const { data, rows: n, cols: d } = this.#live();
    const c = this.#classes.length;
    const W3 = this.#regression ? this.#targets.slice() : new Float64Array(n * c);
    if (!this.#regression) for (let i = 0; i < n; i++) W3[i * c + this.#codes[i]] = 1;
    // Manhattan's layer 1, Σ|x − X_i|, is not linear: its weights are X itself, no centre.
    if (this.options.metric === 'manhattan') return { W1: data.slice(), b1: new Float64Array(n), W3, mean: new Float64Array(d) };
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
  score(X: MatrixInput, y: ArrayLike<L>): number {
    const queries = this.#queries(X);
    const truth = checkTruth(y, queries.rows, this.#regression);
    const predicted = this.#predict(queries);
    return this.#regression ? rSquared(predicted as Float64Array, truth as ArrayLike<number>) : accuracy(predicted as Label[], truth);
  }

  /** Appends training points; it then answers as a network fitted on the union. */
  add(X: MatrixInput, y: ArrayLike<L>): void {
    const points = this.#live();
    const extra = prepareRows(toMatrix(X, 'X', points.cols, points.rows), this.options.metric, 'X');
    const rows = points.rows + extra.rows;
    const data = new Float64Array(rows * points.cols);
    data.set(points.data);
    data.set(extra.data, points.data.length);
    if (this.#regression) {
      const targets = new Float64Array(rows);
      targets.set(this.#targets);
      targets.set(encodeTargets(y, extra.rows, 'y', rows), points.rows);
      checkHeldTargets(targets, points.rows, rows);
      this.#targets = targets;
    } else {
      const added = readAddedLabels(y, extra.rows, this.#classes);
      const union = encodeLabels([...Array.from(this.#codes, (code) => this.#classes[code]), ...added], rows);
      this.#classes = union.classes;
      this.#codes = union.codes;
    }
    this.#points = { data, rows, cols: points.cols };
  }

  /** Every training point within `radius` of each query, by brute force; see KnnNetwork.radiusNeighbors. */
  radiusNeighbors(X: MatrixInput, radius: number): RadiusNeighbours {
    const points = this.#live();
    const checkedRadius = checkRadius(radius);
    const queries = this.#queries(X);
    const offsets = new Int32Array(queries.rows + 1);
    const found: { index: number; squared: number }[] = [];
    for (let r = 0; r < queries.rows; r++) {
      const within: { index: number; squared: number }[] = [];
      for (let i = 0; i < points.rows; i++) {
        const squared = layerOneValue(this.options.metric, points.data, i, queries.data, r, points.cols);
        if (distanceOf(this.options.metric, squared) <= checkedRadius) within.push({ index: i, squared });
      }
      within.sort((a, b) => a.squared - b.squared || a.index - b.index);
      found.push(...within);
      offsets[r + 1] = found.length;
    }
    return {
      offsets,
      indices: Int32Array.from(found, (entry) => entry.index),
      distances: Float64Array.from(found, (entry) => distanceOf(this.options.metric, entry.squared)),
    };
  }

  /** Removes the points at `indices`; later points move down. */
  remove(indices: ArrayLike<number>): void {
    this.#keepAllBut(readIndices(indices, this.#live().rows), 'remove(indices)');
  }

  /** Removes every point of class `label`. */
  removeClass(label: L): void {
    this.#live();
    checkClassification(this.#regression, 'removeClass(label)');
    const code = classCode(this.#classes, label, 'removeClass(label)');
    this.#keepAllBut(Uint8Array.from(this.#codes, (c) => (c === code ? 1 : 0)), `removeClass(${describeValue(label)})`);
  }

  /** Training points per class, in the order of `classes`. */
  classCounts(): Map<L, number> {
    this.#live();
    checkClassification(this.#regression, 'classCounts()');
    return countPerClass(this.#classes, this.#codes) as Map<L, number>;
  }

  #keepAllBut(removed: Uint8Array, call: string): void {
    const { data, rows: n, cols } = this.#live();
    const kept: number[] = [];
    for (let i = 0; i < n; i++) if (!removed[i]) kept.push(i);
    checkRemaining(kept.length, this.options.k, call);
    const points = new Float64Array(kept.length * cols);
    kept.forEach((i, row) => points.set(data.subarray(i * cols, (i + 1) * cols), row * cols));
    if (this.#regression) {
      this.#targets = Float64Array.from(kept, (i) => this.#targets[i]);
    } else {
      const union = encodeLabels(kept.map((i) => this.#classes[this.#codes[i]]), kept.length);
      this.#classes = union.classes;
      this.#codes = union.codes;
    }
    this.#points = { data: points, rows: kept.length, cols };
  }

  /** The network as bytes, in the format KnnNetwork.fromBytes reads too. */
  toBytes(): Uint8Array {
    const { data, rows, cols } = this.#live();
    const labels = this.#regression ? { targets: this.#targets } : { codes: this.#codes };
    return encodeNetwork({ options: this.options, n: rows, d: cols, classes: this.#classes, points: data, ...labels });
  }

  /** Marks the network disposed: later calls throw KnnError('DISPOSED'), as KnnNetwork's do. */
  dispose(): void {
    this.#disposed = true;
  }
}
