// Option validation: the defaults (k = 1, uniform weights, λ = 1, classification) and one
// message style for every bad option.
import { KnnError, describeValue } from './errors.js';
import { METRICS, type Metric } from './metrics.js';
import type { ThreadsOption } from './threads.js';
import type { Label } from './labels.js';

/**
 * How the k nearest neighbours vote (layer 2): `'uniform'`, one vote each; `'distance'`, a vote
 * of 1/distance (a query that coincides with training points votes only with those points);
 * `'softmax'`, exp(−λ·squared distance), normalised.
 */
export type Weighting = 'uniform' | 'distance' | 'softmax';
/**
 * `'classification'` predicts class labels; `'regression'` predicts numbers (weighted mean
 * targets); `'search'` has no labels: a network for kneighbors and radiusNeighbors only (what
 * `fit(X)` without labels makes).
 */
export type Task = 'classification' | 'regression' | 'search';
/**
 * How a network keeps its training points: `'float32'`, once, at 4 bytes a value;
 * `'float64'`, at 8 bytes a value (with packed float64 copies for layer 1); `'auto'`, float32
 * when X arrives as float32 (a `Float32Array` as `data`, or rows that are all `Float32Array`s)
 * and float64 otherwise.
 */
export type StorageOption = 'auto' | 'float64' | 'float32';
/**
 * How the k nearest are searched: `'brute'` measures every training point; `'tree'` searches a
 * partition of the points (a k-d tree of boxes, or clusters with ball and slab bounds at high d)
 * and skips the parts that provably cannot hold a neighbour; `'auto'` (the default) builds the
 * partition and keeps it only where its cost model, fed by a deterministic sample (nothing is
 * timed), predicts it pays. Every choice answers bit for bit the same.
 */
export type Algorithm = 'auto' | 'brute' | 'tree';

/** The options of `fit`; every one may be left out. */
export interface KnnOptions {
  /**
   * Neighbours that vote: a whole number from 1 to the number of training points, or 'all'
   * (every point). Default 1, the nearest neighbour alone.
   */
  k?: number | 'all';
  /**
   * How the k nearest vote (default 'uniform'): 'uniform', one vote each; 'distance', 1/distance
   * (a query on training points votes only with them); 'softmax', exp(−λ·squared distance).
   * k: 'all' with 'softmax' is a softmax over every training point.
   */
  weights?: Weighting;
  /**
   * λ, the inverse temperature of the softmax weighting (λ = 1/temperature): finite and ≥ 0,
   * default 1. λ = 0 gives every neighbour the same vote; a very large λ (1e12) the nearest
   * neighbour alone. Used only by weights: 'softmax'.
   */
  lambda?: number;
  /**
   * 'classification' (the default with labels): labels are classes. 'regression': labels are
   * numeric targets. 'search' (the default without labels): no labels, only the neighbour
   * searches (kneighbors, radiusNeighbors).
   */
  task?: Task;
  /**
   * How distance is measured (default 'euclidean'). 'cosine' ranks by 1 − cos between
   * L2-normalised vectors, computed as ‖x̂ − X̂_i‖² / 2. 'manhattan' by Σ|x_j − X_ij|. 'dot' by
   * the inner product x·X_i, largest first (faiss's IndexFlatIP): the distances reported are
   * the inner products, descending; rows are used as given (not normalised; zero vectors are
   * fine). With 'dot', weights 'distance' and algorithm 'tree' are KnnErrors (BAD_OPTION).
   */
  metric?: Metric;
  /**
   * Keep a float32 copy of the weights (4·n·d bytes more) to choose the k nearest candidates at
   * twice the SIMD width when d > 16; every answer is still proven exact in float64. Turn it
   * off to save that memory (default true). For float64 storage only: with float32 storage the
   * stored values are the candidates, and this option changes nothing.
   */
  float32Candidates?: boolean;
  /**
   * How the training points are kept (default 'auto'). 'auto' keeps float32 input (a
   * `Float32Array` as `data`, or rows that are all `Float32Array`s) as float32, once: about
   * 4·d + 16 bytes a point instead of about 20·d + 16; other input stays float64. Every answer on
   * float32 storage is bit for bit what float64 storage gives for the same values widened
   * (widening is exact). 'float32' on float64 input rounds X to float32 once, at `fit` (and each
   * `add` rounds its points): answers are then exact for the rounded values; a value beyond
   * float32's range (±3.4e38) is a KnnError NON_FINITE. 'float64' keeps float64 whatever the
   * input. With metric 'cosine', float32 storage keeps the rows as given (4 bytes a value) and
   * 16 bytes a point more (each row's largest |value| and norm, in float64), and normalises each
   * value in float64 as it reads it: the unit rows float64 storage holds, bit for bit (about
   * 4·d + 32 bytes a point). Its k-nearest search chooses candidates with a float32 GEMM on the
   * unit rows rounded block by block, proven in float64; float32 storage always searches by brute
   * force. `net.storage` tells what is kept.
   */
  storage?: StorageOption;
  /**
   * How the k nearest are searched (default 'auto'): 'brute', every point measured; 'tree', a
   * partition of the points whose parts that cannot hold a neighbour are skipped; 'auto', the
   * partition where a deterministic cost model predicts it pays (the same choice on every
   * machine). A schedule, not an approximation: every choice gives the same bits. `options`
   * keeps what was asked, and toBytes saves that: the partition is derived from the points and
   * built again on load; `net.searchAlgorithm` reports what runs. The softmax over every point
   * (k: 'all' with softmax weights), `forward` and filtered searches stay dense.
   */
  algorithm?: Algorithm;
  /**
   * Threads the async methods (predictAsync, predictProbaAsync, kneighborsAsync, scoreAsync)
   * spread a call over: a whole number ≥ 1, or 'auto' for every core (one thread where the
   * environment has no shared memory: a browser page that is not cross-origin isolated).
   * Default 1: no worker pool, and the async methods run on the calling thread. A setting of
   * the machine, not of the model, so toBytes does not save it (fromBytes takes it again).
   */
  threads?: ThreadsOption;
  /**
   * The points' stable ids, one per row of X: whole numbers from 0 to 2^53 − 1, each once (a
   * database key, say). Positions renumber when points are removed; ids do not. The searches
   * then report them beside the positions (`ids` in their results), `removeIds` removes by
   * them, and every `add` gives ids for its points. Data, not a setting: `options` does not
   * show them, toBytes saves them with the points.
   */
  ids?: ArrayLike<number>;
}

/** The options a network was fitted with, every default filled in (`net.options`). */
export interface ResolvedOptions<T extends Task = Task> {
  /** Neighbours that vote: a whole number (at most the number of training points), or 'all'. */
  readonly k: number | 'all';
  /** How the k nearest vote: 'uniform', 'distance' (1/distance) or 'softmax'. */
  readonly weights: Weighting;
  /** λ of the softmax weighting (1 unless given; used only by 'softmax'). */
  readonly lambda: number;
  /** 'classification', 'regression' or 'search' (no labels). */
  readonly task: T;
  /** 'euclidean', 'cosine' (1 − cos between L2-normalised vectors), 'manhattan' or 'dot' (the inner product, largest first). */
  readonly metric: Metric;
  /** Whether the network keeps a float32 copy of its weights to choose candidates (true unless turned off; float64 storage only). */
  readonly float32Candidates: boolean;
  /** The storage asked for: 'auto' (unless given), 'float64' or 'float32'; `net.storage` tells what is kept. */
  readonly storage: StorageOption;
  /** How the k nearest are searched, as asked: 'auto' (unless given), 'brute' or 'tree' (`searchAlgorithm` says what runs). */
  readonly algorithm: Algorithm;
}

const WEIGHTINGS: readonly Weighting[] = ['uniform', 'distance', 'softmax'];
const TASKS: readonly Task[] = ['classification', 'regression', 'search'];
const STORAGES: readonly StorageOption[] = ['auto', 'float64', 'float32'];
const ALGORITHMS: readonly Algorithm[] = ['auto', 'brute', 'tree'];
const OPTION_NAMES = ['k', 'weights', 'lambda', 'task', 'metric', 'float32Candidates', 'algorithm', 'storage', 'threads', 'ids'];

function checkK(k: unknown, argument: string): number | 'all' {
  if (k === 'all') return k;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new KnnError('K_OUT_OF_RANGE', `${argument} must be a whole number ≥ 1 or 'all'; got ${describeValue(k)}.`);
  }
  return k;
}

function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) {
    throw new KnnError('BAD_OPTION', `options.${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}; got ${describeValue(value)}.`);
  }
  return value as T;
}

export function checkLambda(lambda: unknown, argument = 'options.lambda'): number {
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
    const code = typeof lambda === 'number' && !Number.isFinite(lambda) ? 'NON_FINITE' : 'BAD_OPTION';
    throw new KnnError(code, `${argument} must be a finite number ≥ 0 (the softmax's inverse temperature); got ${describeValue(lambda)}.`);
  }
  return lambda;
}

function checkSwitch(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new KnnError('BAD_OPTION', `options.${name} must be true or false; got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * Validates user options (unknown names included) and fills in the defaults of the model's
 * options; `threads`, a setting of the machine, is resolved apart (resolveThreads), and `ids`,
 * data, read apart (pointIds.ts).
 */
export function resolveOptions(options: unknown, defaultTask: Task = 'classification'): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new KnnError('BAD_OPTION', `options must be an object such as { k: 5 }; got ${describeValue(options)}.`);
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) {
      throw new KnnError('BAD_OPTION', `options.${name} is not an option; the options are ${OPTION_NAMES.join(', ')}.`);
    }
  }
  const given = options as Record<string, unknown>;
  const resolved = {
    k: given.k === undefined ? 1 : checkK(given.k, 'options.k'),
    weights: given.weights === undefined ? 'uniform' : checkChoice('weights', given.weights, WEIGHTINGS),
    lambda: given.lambda === undefined ? 1 : checkLambda(given.lambda),
    task: given.task === undefined ? defaultTask : checkChoice('task', given.task, TASKS),
    metric: given.metric === undefined ? 'euclidean' : checkChoice('metric', given.metric, METRICS),
    float32Candidates: given.float32Candidates === undefined ? true : checkSwitch('float32Candidates', given.float32Candidates),
    algorithm: given.algorithm === undefined ? 'auto' : checkChoice('algorithm', given.algorithm, ALGORITHMS),
    storage: given.storage === undefined ? 'auto' : checkChoice('storage', given.storage, STORAGES),
  } as const;
  if (resolved.metric === 'dot') checkDotOptions(resolved);
  return resolved;
}

/**
 * The options the dot metric refuses: 'distance' weights vote 1/distance, and an inner product
 * can be 0 or negative (no vote of it means "nearer"); a partition ('tree') needs a bound on the
 * metric over a box or a ball, and none is implemented for an inner product ('auto' runs brute
 * force for dot).
 */
function checkDotOptions({ weights, algorithm }: { weights: Weighting; algorithm: Algorithm }): void {
  if (weights === 'distance') {
    throw new KnnError(
      'BAD_OPTION',
      "options.weights 'distance' votes 1/distance, and metric 'dot' reports inner products, which can be 0 or negative; use weights 'uniform', or 'softmax' (exp(λ·x·X_i), attention over the k nearest).",
    );
  }
  if (algorithm === 'tree') {
    throw new KnnError(
      'BAD_OPTION',
      "options.algorithm 'tree' cannot search metric 'dot': no partition bound for an inner product is implemented; use algorithm 'brute' or 'auto' (which runs brute force for 'dot').",
    );
  }
}

/** The number of neighbours k stands for on n training points; k > n is an error. */
export function neighbourCount(k: unknown, n: number, argument: string): number {
  const checked = checkK(k, argument);
  if (checked === 'all') return n;
  if (checked > n) {
    throw new KnnError('K_OUT_OF_RANGE', `${argument} is ${checked} but there are only ${n} training points; pass k ≤ ${n}.`);
  }
  return checked;
}

/**
 * The radius of radiusNeighbors: a finite distance ≥ 0, or for the dot metric any finite inner
 * product (the points whose inner product with the query is at least it).
 */
export function checkRadius(radius: unknown, metric: Metric): number {
  if (metric === 'dot' && typeof radius === 'number' && !Number.isNaN(radius)) {
    if (!Number.isFinite(radius)) throw new KnnError('NON_FINITE', `radius is ${radius}; pass a finite inner product (kneighbors(X, 'all') lists every point).`);
    return radius;
  }
  if (typeof radius !== 'number' || !(radius >= 0)) {
    throw new KnnError('BAD_INPUT', `radius must be a distance ≥ 0; got ${describeValue(radius)}.`);
  }
  if (!Number.isFinite(radius)) {
    throw new KnnError('NON_FINITE', `radius is ${radius}; pass a finite distance (kneighbors(X, 'all') lists every point).`);
  }
  return radius;
}

/** A search's filter: which points it may return. */
export interface SearchFilter {
  /**
   * One byte per training point, in their order: 1 allows the point, 0 leaves it out. A row of
   * kneighbors with fewer than k allowed points ends with index −1 at distance Infinity.
   */
  filter?: Uint8Array;
  /** On a classifier: only the points of these classes (with `filter`, points both allow). */
  classes?: readonly Label[];
}

