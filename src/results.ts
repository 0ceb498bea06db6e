// The shapes the networks return, with what each number means. KnnNetwork and ReferenceNetwork
// share them, so their declarations (what an editor shows) read the same.
import type { Label } from './labels.js';
import type { QueryInput } from './matrix.js';
import type { Task } from './options.js';

/**
 * What `predict` returns for a network of label type `L` and task `T`: for classification, the
 * predicted class of each query, as the labels were given to `fit` (`string[]` for string labels,
 * `number[]` for numbers); for regression, a `Float64Array` with one estimate per query (the
 * weighted mean of its neighbours' targets). When the task is known only at run time (`T` is
 * `Task`), either.
 */
export type Prediction<L extends Label, T extends Task> = T extends 'regression' ? Float64Array : T extends 'search' ? never : L[];

/**
 * The queries a method that needs labels (`predict`, `score`) takes on a network of task `T`:
 * a matrix or one vector, unless the network is known to have no labels (`T` exactly
 * 'search'): then `never`, so the call does not type-check.
 */
export type LabelledInput<T extends Task> = [T] extends ['search'] ? never : QueryInput;

/**
 * The argument `predictProba` takes on a network of task `T`: a matrix or one vector of
 * queries, unless the network is known to be a regressor or to have no labels (`T` exactly
 * 'regression' or 'search'), which have no classes: then `never`, so the call does not type-check.
 */
export type ClassifierInput<T extends Task> = [T] extends ['regression'] ? never : [T] extends ['search'] ? never : QueryInput;

/**
 * What `predictClass` returns for one query, as TensorFlow.js's knn-classifier does: the
 * predicted label, its index in `classes`, and each class's probability keyed by its label
 * (as a string, an object's keys being strings).
 */
export interface ClassPrediction<L extends Label> {
  /** The predicted label. */
  label: L;
  /** Its position in `net.classes`. */
  classIndex: number;
  /** Every class's probability, keyed by its label. */
  confidences: Record<string, number>;
}

/**
 * The k nearest training points of each of q queries, nearest first; equal distances list the
 * lower training index first. Both arrays are flat, row-major q × k: query r's j-th nearest
 * neighbour is `indices[r * k + j]`, at distance `distances[r * k + j]`.
 */
export interface Neighbours {
  /** q × k row indices into the training data (in the order the rows were given to fit and add). */
  indices: Int32Array;
  /**
   * q × k distances in the network's metric, computed directly in float64: Euclidean
   * √Σ(x_j − X_ij)² (the square roots of the squared distances `forward` reports as z1), or for
   * the cosine metric 1 − cos, as ‖x̂ − X̂_i‖² / 2 on the L2-normalised vectors (half of z1);
   * Manhattan Σ|x_j − X_ij| (z1); for the dot metric the inner products x·X_i (−z1), largest
   * first, so a row descends.
   */
  distances: Float64Array;
  /** On a network with stable ids (fit's `options.ids`): q × k ids of the same points, −1 where indices are. */
  ids?: Float64Array;
}

/**
 * Every training point within a radius of each of q queries, nearest first (ties by lower
 * index), in compressed rows like a CSR matrix: query r's neighbours are entries
 * `offsets[r]` to `offsets[r + 1] − 1` of `indices` and `distances`.
 */
export interface RadiusNeighbours {
  /** q + 1 positions: offsets[0] = 0, offsets[q] = the number of neighbours in all. */
  offsets: Int32Array;
  /** Row indices into the training data. */
  indices: Int32Array;
  /** Their distances in the network's metric (as `kneighbors` reports them). */
  distances: Float64Array;
  /** On a network with stable ids: the ids of the same points. */
  ids?: Float64Array;
}

/**
 * The three layers' activations for q queries against n training points, each a flat,
 * row-major Float64Array (row r belongs to query r).
 */
export interface LayerActivations {
  /**
   * Layer 1, q × n: the squared Euclidean distance from each query to each training point
   * (not its square root, unlike `kneighbors`; for the cosine metric, between the L2-normalised
   * vectors: 2(1 − cos)). KnnNetwork computes it as the network does,
   * ‖x̃‖² − 2·X̃_i·x̃ + ‖X̃_i‖² on centred data, clamped at 0, which can differ in the last bits
   * from the direct Σ(x_j − X_ij)² that `kneighbors` ranks by; ReferenceNetwork reports the
   * direct value. For the Manhattan metric it is Σ|x_j − X_ij|, and for the dot metric the
   * negated inner product −x·X_i (smaller is nearer), both computed directly, the same bits in
   * either network.
   */
  z1: Float64Array;
  /**
   * Layer 2, q × n: each training point's share of the query's vote, 0 outside its k nearest
   * (with k = 'all' and softmax weights, every point has a share); each row sums to 1.
   */
  z2: Float64Array;
  /**
   * Layer 3, q × classes.length: the class probabilities (what `predictProba` returns), columns
   * in the order of `classes`. For regression q × 1: the estimates.
   */
  z3: Float64Array;
}

/**
 * The network's weights, copied out (writing to them changes nothing), each a flat, row-major
 * Float64Array. With μ the mean of the training rows X (n × d), layer 1 is
 * z1_i = ‖x − μ‖² + W1_i·(x − μ) + b1_i.
 */
export interface NetworkWeights {
  /** n × d: W1 = −2·(X − μ); row i belongs to training point i. */
  W1: Float64Array;
  /** n values: b1_i = ‖X_i − μ‖². */
  b1: Float64Array;
  /**
   * Classification: n × classes.length, row i one-hot on training point i's class (column c is
   * `classes[c]`). Regression: the n targets.
   */
  W3: Float64Array;
  /** d values: μ, the mean of the training rows, subtracted from every input (layer 0). */
  mean: Float64Array;
}

/** predictClass's answer from one query's scores over `classes`: the best (ties to the class sorted first), and every class's probability by label. */
export function classPrediction<L extends Label>(classes: readonly L[], scores: Float64Array): ClassPrediction<L> {
  let best = 0;
  for (let c = 1; c < classes.length; c++) if (scores[c] > scores[best]) best = c;
  return { label: classes[best], classIndex: best, confidences: Object.fromEntries(classes.map((label, c) => [String(label), scores[c]])) };
}
