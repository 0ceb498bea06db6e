// KnnNetwork: the public network. It validates every argument (matrix.ts, labels.ts,
// options.ts), holds its weights in wasm linear memory (weights.ts, heldWeights.ts; the pruned
// search's partition beside them, treeIndex.ts), and turns each method into jobs of kernel calls
// (jobs.ts, searches.ts) that its runner (chunkRunner.ts) runs in chunks, here or on its worker
// pool; the planner (planner.ts) decides the search and how each call is split.
import { KnnError, describeValue } from './errors.js';
import { checkClassification, classCode, countPerClass, type Label } from './labels.js';
import { checkRemaining, readIndices } from './indices.js';
import { prepareRows, prepareTrainingRows } from './metrics.js';
import { toMatrix, type Matrix, type MatrixInput, type QueryInput } from './matrix.js';
import { checkRadius, neighbourCount, resolveOptions, type KnnOptions, type ResolvedOptions, type SearchFilter, type Task } from './options.js';
import { classPrediction, type ClassifierInput, type ClassPrediction, type LabelledInput, type LayerActivations, type NetworkWeights, type Neighbours, type Prediction, type RadiusNeighbours } from './results.js';
import { accuracy, checkTruth, rSquared } from './scoring.js';
import { decodeNetwork, encodeNetwork, encodeNetworkChunks, SavedNetworkReader, type NetworkToSave, type SavedNetwork } from './serialize.js';
import { resolveLoadThreads, type LoadOptions } from './threads.js';
import { loadedKernels, loadKernels, privateKernels, releasePrivateKernels, type Kernels } from './wasm.js';
import { readNetworkWeights, readTrainingData, type HeldLabels, type Weights } from './weights.js';
import { storageFor, type StorageKind } from './planner.js';
import { HeldWeights } from './heldWeights.js';
import { ChunkRunner, type ChunkJob } from './chunkRunner.js';
import { forwardLayers, neighboursJob, outputLayer, predictJob, scoresJob, softmaxOverAll, type FoundNeighbours, type JobContext } from './jobs.js';
import { buildNetworkWeights, checkLabelsGiven, encodeTrainingLabels, TrainingSetUpdates } from './trainingUpdates.js';
import { SingleQueryPlans, type SingleQueryCall } from './singleQuery.js';
import { addedIds, PointIds, readIds } from './pointIds.js';
import { PooledCalls } from './pooledCalls.js';
import { CallSteps, checkCallOptions, readAddOptions, type CallOptions } from './callOptions.js';
import { readNetworkOptions, type FitOptions } from './networkOptions.js';
import { checkOutputSize, padNeighbours, reportedNeighbours, reportedRadius } from './neighbourLists.js';
import { ShardSet, shardRows, type Shard, type ShardVotes } from './shards.js';
import { allowedPoints, filteredSingleQueryParts, plainFilter } from './filters.js';
import { FILTER_OPTIONS, kneighborsJob, neighbourWidth, radiusSearch, radiusSearchAsync, reported, type SearchSurface } from './searches.js';

/** The labels `add` takes on a network of label type `L` and task `T`: none without labels (task 'search'). */
export type AddedLabels<L extends Label, T extends Task> = [T] extends ['search'] ? null : ArrayLike<L> | null;

/** kneighbors' job (searches.ts) and the queries it runs on. */
type SearchJob = ReturnType<typeof kneighborsJob> & { readonly queries: Matrix };

/** predict's one-query parts (a function of the module's, so a call allocates no closure for them). */
function onePrediction(context: JobContext): { job: ChunkJob; result: () => unknown } {
  const { job, result } = predictJob(context, 1);
  return { job, result: () => result().slice() };
}

/** predictProba's one-query parts (as onePrediction). */
function oneProbabilityRow(context: JobContext): { job: ChunkJob; result: () => Float64Array } {
  const { job, scores } = scoresJob(context, 1, outputLayer(context));
  return { job, result: () => scores.slice() };
}

/** What `add` takes besides the points and their labels. */
export interface AddOptions {
  /** The points' stable ids (see fit's `options.ids`): required on a network that has ids, refused on one that has none. */
  ids?: ArrayLike<number>;
}

/**
 * Exact k-nearest-neighbour prediction as a three-layer network whose weights are the training
 * data: layer 1 computes squared distances to every training point, layer 2 weights the k
 * nearest, layer 3 sums their votes per class (or their targets, for regression).
 *
 * `L` is the label type and `T` the task, both fixed by `fit`: a classifier fitted on string
 * labels is a `KnnNetwork<string, 'classification'>` and its `predict` returns `string[]`; on
 * numbers, `KnnNetwork<number, 'classification'>` and `number[]`; a regressor is a
 * `KnnNetwork<number, 'regression'>` and its `predict` returns a `Float64Array`; a network
 * without labels (`fit(X)`) is a `KnnNetwork<never, 'search'>`, for the neighbour searches
 * alone. A plain `KnnNetwork` (what `fromBytes` returns) may be any of them.
 *
 * The network holds its weights in WebAssembly memory: call `dispose()` when done with it.
 */
export class KnnNetwork<L extends Label = Label, T extends Task = Task> {
  /** The options the network was fitted with, every default filled in. */
  readonly options: ResolvedOptions<T>;
  /** How many threads the async methods use (1: no pool); what `options.threads` resolved to on this machine. */
  readonly threads: number;
  readonly #kernels: Kernels;
  readonly #held: HeldWeights;
  readonly #runner: ChunkRunner;
  /**
   * k is a cap rather than a requirement: with fewer points held, every point votes and a
   * neighbour list ends with −1 entries. True for a network from `create` (and any network
   * once `clear` emptied it); a fitted network keeps scikit-learn's rule, k ≤ n.
   */
  #capped: boolean;
  readonly #singleQueries: SingleQueryPlans;
  readonly #pooled: PooledCalls;
  readonly #updates: TrainingSetUpdates;
  /** The points' stable ids, on a network fitted with ids (or whose first add gave them). */
  #ids: PointIds | undefined;
  /** The shards of a network too large for one wasm memory (shards.ts): it then holds no weights of its own. */
  #shards: ShardSet | undefined;

  private constructor(kernels: Kernels, weights: Weights | undefined, options: ResolvedOptions<T>, threads: number, capped: boolean, ids?: PointIds, shards?: ShardSet) {
    this.#kernels = kernels;
    this.#shards = shards;
    this.#ids = ids;
    this.options = options;
    this.threads = threads;
    this.#capped = capped;
    this.#runner = new ChunkRunner(kernels, threads, this);
    this.#held = new HeldWeights(kernels, this, weights, options);
    this.#singleQueries = new SingleQueryPlans(kernels, this.#runner, options.metric, () => this.#context);
    this.#pooled = new PooledCalls(this.#runner, this.#held, threads);
    this.#updates = new TrainingSetUpdates(kernels, this.#held, options);
  }

  /** The kernels a network with `threads` runs on: the shared-memory build when it has a pool. */
  static #kernelsFor(threads: number): Promise<Kernels> {
    return loadKernels(undefined, threads > 1);
  }

  /**
   * Trains a classifier on n rows of X (n × d) and their string class labels y: its `predict`
   * returns `string[]`. The network's weights are the training data, copied (the caller's
   * arrays are never modified). Throws a KnnError naming the argument for any bad input.
   * `options.signal` aborts it and `options.onProgress` follows it: see FitOptions.
   */
  static fit(X: MatrixInput, y: ArrayLike<string>, options?: FitOptions & { task?: 'classification' }): Promise<KnnNetwork<string, 'classification'>>;
  /**
   * Trains a classifier on n rows of X (n × d) and their numeric class labels y: its `predict`
   * returns `number[]`. The network's weights are the training data, copied (the caller's
   * arrays are never modified). Throws a KnnError naming the argument for any bad input.
   */
  static fit(X: MatrixInput, y: ArrayLike<number>, options?: FitOptions & { task?: 'classification' }): Promise<KnnNetwork<number, 'classification'>>;
  /**
   * Trains a regressor (`task: 'regression'`) on n rows of X (n × d) and their numeric targets
   * y: its `predict` returns a Float64Array of estimates, and it has no classes (no
   * `predictProba`). The weights are the training data, copied. Throws a KnnError naming the
   * argument for any bad input.
   */
  static fit(X: MatrixInput, y: ArrayLike<number>, options: FitOptions & { task: 'regression' }): Promise<KnnNetwork<number, 'regression'>>;
  /**
   * Holds n rows of X (n × d) without labels (task 'search'): a network for `kneighbors`,
   * `radiusNeighbors` and their async forms, `add(X)`, `remove`, `toBytes`. The label calls
   * (predict, predictProba, score, …) do not type-check on it, and throw a KnnError if called.
   */
  static fit(X: MatrixInput, y?: null, options?: FitOptions & { task?: 'search' }): Promise<KnnNetwork<never, 'search'>>;
  /**
   * Trains a network whose label type or task is known only at run time: its `predict` returns
   * the labels or a Float64Array (`options.task` tells which). Throws a KnnError naming the
   * argument for any bad input.
   * `options.signal` aborts it and `options.onProgress` follows it: see FitOptions.
   */
  static fit(X: MatrixInput, y?: ArrayLike<Label> | null, options?: FitOptions): Promise<KnnNetwork>;
  static async fit(X: MatrixInput, y?: ArrayLike<Label> | null, options?: FitOptions): Promise<KnnNetwork> {
    const labelled = y !== undefined && y !== null;
    const { resolved, threads, ids, call } = readNetworkOptions(options, labelled ? 'classification' : 'search', 'fit(X, y, options)');
    if (!labelled && resolved.task !== 'search') {
      throw new KnnError('BAD_INPUT', `fit(X, y): y is ${describeValue(y)} but options.task is '${resolved.task}', which needs one ${resolved.task === 'regression' ? 'target' : 'label'} per row of X; pass y, or leave task out for a network without labels.`);
    }
    if (labelled && resolved.task === 'search') {
      throw new KnnError('BAD_INPUT', "fit(X, y): options.task 'search' holds no labels; call fit(X) or fit(X, null, options).");
    }
    const steps = new CallSteps(call);
    // Without a signal or onProgress, and with the kernels loaded, X is read and packed before
    // fit awaits anything, so typed-array data need not be copied first (toMatrix's borrow);
    // otherwise it is copied, like everything the caller gave, before the first await, so that
    // a change made while fit is pending cannot reach it.
    const ready = steps.followed ? undefined : loadedKernels(undefined, threads > 1);
    const given = toMatrix(X, 'X', undefined, undefined, { ...resolved, shardable: true }, ready !== undefined);
    const matrix = prepareTrainingRows(given, resolved.metric, storageFor(resolved.storage, given.data instanceof Float32Array), 'X');
    const labels = encodeTrainingLabels(resolved.task, y, matrix.rows);
    const pointIds = ids === undefined ? undefined : new PointIds(readIds(ids, matrix.rows, undefined, 'options.ids'));
    if (resolved.k !== 'all') neighbourCount(resolved.k, matrix.rows, 'options.k');
    let kernels = ready;
    if (kernels === undefined) {
      await steps.reached(0.7);
      kernels = await KnnNetwork.#kernelsFor(threads);
      await steps.reached(0.75);
    }
    const network = KnnNetwork.#built(kernels, matrix, labels, resolved, threads, false, pointIds);
    await steps.reached(1, () => network.dispose());
    return network;
  }

  /**
   * A network on `matrix` and its labels: its weights in `kernels`' memory, or, past what one
   * wasm memory holds, in shards (shards.ts), each on kernels and a memory of its own. Built
   * without awaiting anything: fit may have borrowed the caller's data.
   */
  static #built(kernels: Kernels, matrix: Matrix, labels: HeldLabels, options: ResolvedOptions, threads: number, capped: boolean, ids: PointIds | undefined): KnnNetwork {
    const rowsPerShard = shardRows(matrix.rows, matrix.cols, options, matrix.data instanceof Float32Array);
    if (rowsPerShard === undefined) return new KnnNetwork(kernels, buildNetworkWeights(kernels, matrix, labels, options), options, threads, capped, ids);
    if (softmaxOverAll(options)) {
      throw new KnnError('TOO_LARGE', `X's ${matrix.rows} points of ${matrix.cols} features need more than one wasm memory, and the softmax over every point (k: 'all', weights: 'softmax') runs in one: use a number for k, or fewer points.`);
    }
    const shards: Shard[] = [];
    try {
      for (let first = 0; first < matrix.rows; first += rowsPerShard) {
        const rows = Math.min(rowsPerShard, matrix.rows - first);
        shards.push(KnnNetwork.#shardOn(kernels, { data: matrix.data.subarray(first * matrix.cols, (first + rows) * matrix.cols), rows, cols: matrix.cols }, options, threads));
      }
    } catch (error) {
      for (const shard of shards) shard.dispose();
      throw error;
    }
    // Shards made by a later add keep the network's storage, as an add to one network does.
    const later = { ...options, storage: shards[0].storage };
    const makeShard = (rows: Matrix) => KnnNetwork.#shardOn(kernels, prepareTrainingRows(rows, options.metric, later.storage, 'X'), later, threads);
    return new KnnNetwork(kernels, undefined, options, threads, capped, ids, new ShardSet(shards, labels, matrix.cols, rowsPerShard, makeShard));
  }

  /**
   * A shard on `prepared` rows (in layer 1's form) of a network with `options` on `like`'s build:
   * a network without labels (k a cap on it, as on a created network) on kernels and a memory of
   * its own.
   */
  static #shardOn(like: Kernels, prepared: Matrix, options: ResolvedOptions, threads: number): Shard {
    const shardOptions: ResolvedOptions = { ...options, task: 'search' };
    const kernels = privateKernels(like);
    return new KnnNetwork(kernels, buildNetworkWeights(kernels, prepared, undefined, shardOptions), shardOptions, threads, true).#asShard();
  }

  /** This network as a shard of a larger one: its searches with z1 values for distances, without ids. */
  #asShard(): Shard {
    const filter = (allowed: Uint8Array | undefined) => allowed && { filter: allowed };
    const network = this;
    return {
      get n() {
        return network.nSamples;
      },
      get storage() {
        return network.storage!;
      },
      get algorithm() {
        return network.searchAlgorithm;
      },
      add: (rows) => this.add(rows, null),
      preparedRemoval: (removed) => this.#updates.preparedRemoval(removed, 'remove(indices)', true),
      search: (queries, k, allowed) => this.#found(queries, k, filter(allowed)),
      searchAsync: (queries, k, allowed, call) => this.#foundAsync(queries, k, filter(allowed), call),
      radius: (queries, radius, allowed) => radiusSearch(this.#surface, queries, radius, filter(allowed), 'radiusNeighbors(X, radius)'),
      radiusAsync: (queries, radius, allowed, call) => radiusSearchAsync(this.#surface, queries, radius, filter(allowed), call, 'radiusNeighborsAsync(X, radius)'),
      points: () => readTrainingData(this.#kernels, this.#live()).points,
      ready: () => this.ready(),
      dispose: () => {
        // Once: its kernels go to the idle list one time, or two later shards would share a memory.
        if (this.#held.disposed) return;
        this.dispose();
        releasePrivateKernels(this.#kernels);
      },
    };
  }

  /**
   * The shards of a network past one wasm memory (DISPOSED once disposed), undefined for one in
   * one memory.
   */
  get #sharding(): ShardSet | undefined {
    void this.#held.current;
    return this.#shards;
  }

  /** Throws TOO_LARGE for `call`, which needs the network in one wasm memory, on a sharded network. */
  #inOneMemory(call: string): void {
    const shards = this.#sharding;
    if (!shards) return;
    throw new KnnError(
      'TOO_LARGE',
      `${call} needs the network in one wasm memory; this one holds its ${shards.n} points in ${shards.count} shard${shards.count === 1 ? '' : 's'}, more than one memory holds. ` +
        'Every search and prediction, add, remove and saving in chunks work on it (docs/memory.md).',
    );
  }

  /**
   * An empty network to `add` points to, as TensorFlow.js's knn-classifier starts: its first
   * `add` sets the number of features (and, for a classifier, the label type). On it, k is a
   * cap: with fewer than k points held, every point votes and `kneighbors` rows end with
   * index −1 at distance Infinity. A query before any point is added throws KnnError EMPTY.
   * `task` chooses what it learns: 'classification' (default), 'regression' or 'search' (no labels).
   */
  static create<C extends Label = Label>(options?: KnnOptions & { task?: 'classification' }): Promise<KnnNetwork<C, 'classification'>>;
  /** An empty regressor to `add` points and targets to (see the classifier's `create`). */
  static create(options: KnnOptions & { task: 'regression' }): Promise<KnnNetwork<number, 'regression'>>;
  /** An empty network without labels, to `add(X)` points to and search (see the classifier's `create`). */
  static create(options: KnnOptions & { task: 'search' }): Promise<KnnNetwork<never, 'search'>>;
  /** An empty network whose task is known only at run time. */
  static create(options?: KnnOptions): Promise<KnnNetwork>;
  static async create(options?: KnnOptions): Promise<KnnNetwork> {
    const { resolved, threads, ids } = readNetworkOptions(options, 'classification');
    if (ids !== undefined) throw new KnnError('BAD_OPTION', 'create(options): options.ids belongs to fit; a created network takes ids with its points, add(X, y, { ids }).');
    const kernels = await KnnNetwork.#kernelsFor(threads);
    return new KnnNetwork(kernels, undefined, resolved, threads, true);
  }

  /**
   * Rebuilds a network saved with `toBytes()`; it answers bit for bit as the original. Its label
   * type and task are known only at run time (`options.task`, `classes`), so the result is a
   * plain `KnnNetwork`: assert the type you saved, e.g.
   * `(await KnnNetwork.fromBytes(bytes)) as KnnNetwork<string, 'classification'>`.
   * `options.threads` is as in fit (the bytes do not carry it).
   */
  static async fromBytes(bytes: Uint8Array, options?: LoadOptions): Promise<KnnNetwork> {
    const threads = resolveLoadThreads(options);
    return KnnNetwork.#loaded(decodeNetwork(bytes), threads);
  }

  /**
   * Rebuilds a network saved with `saveChunks()` (or `toBytes()`) from its bytes in chunks of any
   * size: an iterable or async iterable of Uint8Arrays, such as a Node stream
   * (`KnnNetwork.fromChunks(createReadStream(path))`) or a fetch response's body. The saved form
   * is never held whole: the points once, as stored. A network too large for one wasm memory is
   * loaded into shards, as fit makes them. `options.threads` is as in fit.
   */
  static async fromChunks(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, options?: LoadOptions): Promise<KnnNetwork> {
    const threads = resolveLoadThreads(options);
    const reader = new SavedNetworkReader();
    for await (const chunk of chunks) reader.push(chunk);
    return KnnNetwork.#loaded(reader.finish(), threads);
  }

  /** The network `saved` describes, on `threads`. */
  static async #loaded(saved: SavedNetwork, threads: number): Promise<KnnNetwork> {
    const resolved = resolveOptions(saved.options);
    const labels: HeldLabels = saved.targets ?? (saved.codes ? { classes: saved.classes, codes: saved.codes } : undefined);
    const kernels = await KnnNetwork.#kernelsFor(threads);
    const ids = saved.ids && new PointIds(saved.ids);
    if (saved.n === 0) return new KnnNetwork(kernels, undefined, resolved, threads, saved.capped, ids);
    return KnnNetwork.#built(kernels, { data: saved.points, rows: saved.n, cols: saved.d }, labels, resolved, threads, saved.capped, ids);
  }

  /** The weights, for a call that needs training points: DISPOSED once disposed, EMPTY while there are none. */
  #live(call = 'this call'): Weights {
    const weights = this.#held.current;
    if (!weights) throw new KnnError('EMPTY', `${call}: this network holds no training points yet; add(X${this.options.task === 'search' ? '' : ', y'}) some first.`);
    return weights;
  }

  /** What the jobs of a call read: the kernels, the weights as they are now, the options, the votes. */
  get #context(): JobContext {
    const weights = this.#live();
    return { kernels: this.#kernels, weights, options: this.options, votes: this.#votes(weights.n), tree: this.#held.treeSearch(weights) };
  }

  /** How many nearest neighbours vote among n points (undefined: the softmax over every point). */
  #votes(n: number): number | undefined {
    if (softmaxOverAll(this.options)) return undefined;
    const { k } = this.options;
    if (this.#capped) return k === 'all' ? n : Math.min(k, n);
    return neighbourCount(k, n, 'options.k');
  }

  get #regression(): boolean {
    return this.options.task === 'regression';
  }

  /**
   * Starts the worker pool of a network with `threads` > 1 and resolves once every worker has
   * loaded the kernels; at once for one thread. The pool otherwise starts on the first async
   * call that uses it, which then waits for it (about 0.1 s in Node): call this first where
   * that first call's latency matters (a server's first request).
   */
  async ready(): Promise<void> {
    await this.#sharding?.ready();
    await this.#runner.ready();
  }

  /**
   * What runs the k-nearest selection now: 'tree', the pruned search over a partition of the
   * points, or 'brute'. It follows `options.algorithm`: 'auto' picks the tree where its cost
   * model predicts it pays, and picks again as the network grows or shrinks (a network that
   * starts small or empty can switch to the tree); the softmax over every point, a k of 'all'
   * or above 64, and an empty network run brute force. Every choice gives the same bits.
   */
  get searchAlgorithm(): 'brute' | 'tree' {
    return this.#sharding?.algorithm ?? this.#held.searchAlgorithm;
  }

  /** n, the number of training points (rows of X, including any added since); 0 for an empty network. */
  get nSamples(): number {
    return this.#sharding?.n ?? this.#held.current?.n ?? 0;
  }

  /**
   * How many wasm memories hold the training points: 1 for a network in one memory (0 while it
   * holds none), more for a network past what one memory holds (wasm32 addresses 4 GiB), kept
   * in shards that answer as one network, bit for bit (docs/memory.md).
   */
  get shards(): number {
    return this.#sharding?.count ?? (this.#held.current ? 1 : 0);
  }

  /** d, the number of features: the length of every row of X and of every query; 0 for an empty network. */
  get nFeatures(): number {
    return this.#sharding?.d ?? this.#held.current?.d ?? 0;
  }

  /**
   * What the training points are stored as now: 'float32' (once, 4 bytes a value) or 'float64'
   * (see `options.storage`); undefined while the network holds no points (its first add decides).
   */
  get storage(): StorageKind | undefined {
    return this.#sharding?.storage ?? this.#held.current?.storage;
  }

  /**
   * The distinct class labels, sorted (numbers ascending, strings by UTF-16 code unit): the
   * columns of `predictProba`, in order. Empty for regression, search and an empty network.
   */
  get classes(): readonly L[] {
    return (this.#sharding?.classes ?? this.#held.current?.classes ?? []) as readonly L[];
  }

  /** The rows of X (a matrix, or one vector) as the network's own copy, in layer 1's form; EMPTY on an empty network. */
  #queries(X: unknown, call: string): Matrix {
    return prepareRows(toMatrix(X, 'X', this.#sharding?.d ?? this.#live(call).d), this.options.metric, 'X');
  }

  /** Throws a KnnError when the network has no labels (task 'search') or, for `classesOnly`, no classes. */
  #checkLabels(call: string, classesOnly = false): void {
    if (this.options.task === 'search') {
      throw new KnnError('NO_LABELS', `${call} needs labels, and this network has none (task 'search', fitted as fit(X)): use kneighbors or radiusNeighbors, or fit with labels.`);
    }
    if (classesOnly && this.#regression) {
      const instead = call.startsWith('predictProbaAsync') ? 'predictAsync' : 'predict';
      throw new KnnError('BAD_OPTION', `${call} is for classification; this network has task 'regression': use ${instead}.`);
    }
  }

  /**
   * `call` on X by its one-query plan when X is one query (a copy of what the plan's job
   * collected), else undefined: the general path serves it. The plan is laid out again after
   * the weights change.
   */
  #singleQuery<R>(call: SingleQueryCall, X: unknown, build: (context: JobContext) => { job: ChunkJob; result: () => R }): R | undefined {
    // The call's name is spelt out only where it is reported: a one-query call allocates nothing it can skip.
    return this.#singleQueries.run(call, X, this.#held.current ?? this.#live(`${call}(X)`), build);
  }

  #scores(queries: Matrix): Float64Array {
    const context = this.#context;
    const { job, scores } = scoresJob(context, queries.rows, outputLayer(context));
    this.#runner.run(queries, job);
    return scores;
  }

  /**
   * One prediction per row of X (a matrix, or one query as a vector): for classification the
   * class with the highest score (ties go to the class sorted first), as an array of labels of
   * the type given to fit; for regression a Float64Array of estimates, each the weighted mean of
   * the neighbours' targets.
   */
  predict(X: LabelledInput<T>): Prediction<L, T> {
    this.#checkLabels('predict(X)');
    if (this.#sharding) return this.#predict(this.#queries(X, 'predict(X)'));
    const single = this.#singleQuery('predict', X, onePrediction);
    return (single ?? this.#predict(this.#queries(X, 'predict(X)'))) as Prediction<L, T>;
  }

  #predict(queries: Matrix): Prediction<L, T> {
    const shards = this.#sharding;
    if (shards) {
      return this.#shardedPrediction(shards.votes(this.#kernels, queries, this.#votes(shards.n)!, this.options, !this.#regression));
    }
    const { job, result } = predictJob(this.#context, queries.rows);
    this.#runner.run(queries, job);
    return result() as Prediction<L, T>;
  }

  /**
   * predict, spread over the network's threads (see the `threads` option): the same result,
   * bit for bit. Small calls, and every call of a network with one thread, run on this thread.
   * `options.signal` aborts the call between its parts (it rejects with the signal's reason);
   * `options.onProgress` hears the share done after each part.
   */
  async predictAsync(X: LabelledInput<T>, options?: CallOptions): Promise<Prediction<L, T>> {
    this.#checkLabels('predictAsync(X)');
    const call = checkCallOptions(options, 'predictAsync(X, options)');
    return this.#predictAsync(this.#queries(X, 'predictAsync(X)'), call);
  }

  async #predictAsync(queries: Matrix, call: CallOptions | undefined): Promise<Prediction<L, T>> {
    const shards = this.#sharding;
    if (shards) {
      return this.#shardedPrediction(await shards.votesAsync(this.#kernels, queries, this.#votes(shards.n)!, this.options, !this.#regression, call));
    }
    const context = this.#context;
    return (await this.#pooled.runSplit(context, queries, context.votes, (given) => predictJob(context, queries.rows, given), call)) as Prediction<L, T>;
  }

  /** Predictions from a sharded network's votes: classes (the highest score's), or a regressor's estimates. */
  #shardedPrediction({ scores, best, classes }: ShardVotes): Prediction<L, T> {
    return (best ? Array.from(best, (code) => classes[code]) : scores) as Prediction<L, T>;
  }

  /**
   * Class probabilities, flat row-major q × classes.length (query r, class `classes[c]` at
   * `[r * classes.length + c]`); each row sums to 1. Classification only: a regressor has no
   * classes, so on a `KnnNetwork<number, 'regression'>` X's type is `never` and the call does
   * not type-check (at run time it throws a KnnError).
   */
  predictProba(X: ClassifierInput<T>): Float64Array {
    this.#checkLabels('predictProba(X)', true);
    const shards = this.#sharding;
    if (shards) {
      return shards.votes(this.#kernels, this.#queries(X, 'predictProba(X)'), this.#votes(shards.n)!, this.options, false).scores;
    }
    const single = this.#singleQuery('predictProba', X, oneProbabilityRow);
    return single ?? this.#scores(this.#queries(X, 'predictProba(X)'));
  }

  /** predictProba, spread over the network's threads (see predictAsync, and its options): the same result, bit for bit. */
  async predictProbaAsync(X: ClassifierInput<T>, options?: CallOptions): Promise<Float64Array> {
    this.#checkLabels('predictProbaAsync(X)', true);
    const call = checkCallOptions(options, 'predictProbaAsync(X, options)');
    const queries = this.#queries(X, 'predictProbaAsync(X)');
    const shards = this.#sharding;
    if (shards) {
      return (await shards.votesAsync(this.#kernels, queries, this.#votes(shards.n)!, this.options, false, call)).scores;
    }
    const context = this.#context;
    return this.#pooled.runSplit(context, queries, context.votes, (given) => {
      const { job, scores } = scoresJob(context, queries.rows, outputLayer(context), given);
      return { job, result: () => scores };
    }, call);
  }

  /**
   * One query's class, as TensorFlow.js's knn-classifier's predictClass gives it: the label, its
   * index in `classes`, and every class's probability keyed by label. `x` is one vector of d
   * values; `k`, when given, overrides the network's k for this call (a cap, as on a created
   * network: with fewer points, all of them vote). Classification only.
   */
  predictClass(x: ClassifierInput<T>, k?: number): ClassPrediction<L> {
    this.#checkLabels('predictClass(x)', true);
    const queries = this.#queries(x, 'predictClass(x)');
    if (queries.rows !== 1) {
      throw new KnnError('SHAPE_MISMATCH', `predictClass(x) takes one query; x has ${queries.rows} rows: pass one vector of ${queries.cols} values, or use predictProba for several.`);
    }
    const shards = this.#sharding;
    if (shards) {
      const votes = k === undefined ? this.#votes(shards.n)! : Math.min(neighbourCount(k, Number.MAX_SAFE_INTEGER, 'k'), shards.n);
      return classPrediction(shards.classes as readonly L[], shards.votes(this.#kernels, queries, votes, this.options, false).scores);
    }
    const context = this.#context;
    const votes = k === undefined ? context.votes : Math.min(neighbourCount(k, Number.MAX_SAFE_INTEGER, 'k'), context.weights.n);
    const { job, scores } = scoresJob({ ...context, votes }, 1, outputLayer(context));
    this.#runner.run(queries, job);
    return classPrediction(context.weights.classes as readonly L[], scores);
  }

  /**
   * The k nearest training points of each row of X (a matrix, or one query as a vector),
   * exact: q × k indices and distances in the network's metric (Euclidean, not squared, by
   * default), nearest first, ties toward the lower training index (metric 'dot': the inner
   * products, largest first). `k` defaults to the
   * network's own k. On a network from `create` holding fewer than k points, each row ends
   * with index −1 at distance Infinity. `options.filter` / `options.classes` restrict the search
   * to the points they allow: exactly the k nearest of those, rows padded as above where fewer
   * are allowed.
   */
  kneighbors(X: QueryInput, k?: number | 'all', options?: SearchFilter): Neighbours {
    checkCallOptions(options, 'kneighbors(X, k, options)', FILTER_OPTIONS);
    const shards = this.#sharding;
    if (shards) {
      const { queries, width, allowed } = this.#shardedSearch(shards, X, k, options, 'kneighbors(X, k)');
      return this.#shardedNeighbours(shards.search(queries, width, width, allowed));
    }
    const filter = plainFilter(options);
    if (options === undefined || filter) {
      const weights = this.#live('kneighbors(X, k)');
      const width = neighbourWidth(k, weights.n, this.options.k, this.#capped);
      const single = filter
        ? this.#singleQueries.run(`filtered kneighbors ${width}`, X, weights, (context) => filteredSingleQueryParts(context, width, (found) => reported(this.#surface, found)), filter)
        : this.#singleQuery(`kneighbors ${width}`, X, (context) => {
          const found = Math.min(width, weights.n);
          const searched = neighboursJob(context, 1, found);
          return { job: searched.job, result: () => reported(this.#surface, padNeighbours({ indices: searched.indices.slice(), squared: searched.squared.slice() }, 1, found, width)) };
        });
      if (single) return single;
    }
    const { queries, job, finish, release } = this.#kneighborsJob(X, k, options, 'kneighbors(X, k)');
    try {
      this.#runner.run(queries, job);
      return finish();
    } finally {
      release();
    }
  }

  /** kneighbors, spread over the network's threads (see predictAsync, and its options): the same result, bit for bit. */
  async kneighborsAsync(X: QueryInput, k?: number | 'all', options?: SearchFilter & CallOptions): Promise<Neighbours> {
    const call = checkCallOptions(options, 'kneighborsAsync(X, k, options)', FILTER_OPTIONS);
    const shards = this.#sharding;
    if (shards) {
      const { queries, width, allowed } = this.#shardedSearch(shards, X, k, options, 'kneighborsAsync(X, k)');
      const ids = this.#ids;
      return this.#shardedNeighbours(await shards.searchAsync(queries, width, width, allowed, call), ids);
    }
    const search = this.#kneighborsJob(X, k, options, 'kneighborsAsync(X, k)');
    return this.#searchAsync(search, call, search.finish);
  }

  /**
   * A search's job (kneighborsJob) run as an async call, split by training rows or by queries;
   * `answer` turns what it found into the call's answer. It reads the weights (a filter's rows
   * searched again), so it runs while the call holds them.
   */
  async #searchAsync<R>(search: SearchJob, call: CallOptions | undefined, answer: (given?: FoundNeighbours) => R): Promise<R> {
    const { queries, job, searched, context, release } = search;
    let result: R | undefined;
    try {
      const split = this.#pooled.splitByTrainingRows(context, queries, searched, call);
      if (split) await split.run(() => void (result = answer(split.given as FoundNeighbours)));
      else await this.#pooled.run(context, queries, job, call, () => void (result = answer()));
      return result!;
    } finally {
      release();
    }
  }

  /** As a shard: the k nearest (those `filter` allows) of prepared `queries`, z1 values for distances, rows padded with −1. */
  #found(queries: Matrix, k: number, filter: SearchFilter | undefined): FoundNeighbours {
    const { job, finishFound, release } = kneighborsJob(this.#surface, queries, k, true, filter, 'kneighbors(X, k)');
    try {
      this.#runner.run(queries, job);
      return finishFound();
    } finally {
      release();
    }
  }

  /** #found as an async call. */
  #foundAsync(queries: Matrix, k: number, filter: SearchFilter | undefined, call: CallOptions | undefined): Promise<FoundNeighbours> {
    const search = { queries, ...kneighborsJob(this.#surface, queries, k, true, filter, 'kneighborsAsync(X, k)') };
    return this.#searchAsync(search, call, search.finishFound);
  }

  /** A sharded search's queries, row width and allowed points (undefined: all), its arguments checked as kneighborsJob checks them. */
  #shardedSearch(shards: ShardSet, X: QueryInput, k: number | 'all' | undefined, filter: SearchFilter | undefined, call: string) {
    const queries = this.#queries(X, call);
    const width = neighbourWidth(k, shards.n, this.options.k, this.#capped);
    const asked = k ?? this.options.k;
    checkOutputSize(queries.rows, width, `kneighbors(X, ${asked === 'all' ? "'all'" : asked}) returns q × k`, 'pass fewer rows of X at a time, or ask for fewer neighbours');
    const allowed = allowedPoints(filter, shards, this.options.task, () => shards.codes, call);
    return { queries, width, allowed };
  }

  /** Merged neighbour lists as kneighbors reports them: distances in the metric, and ids (the network's when the call started). */
  #shardedNeighbours(found: FoundNeighbours, ids = this.#ids): Neighbours {
    return this.#withIds(reportedNeighbours(found, this.options.metric), ids);
  }

  /**
   * What the searches (searches.ts) read of this network, as a call finds it: the ids too, so
   * that an async call reports the ids its points had when it was called, whatever a remove or
   * an add does before it ends.
   */
  get #surface(): SearchSurface {
    const ids = this.#ids;
    return { context: this.#context, pooled: this.#pooled, run: (queries, job) => this.#runner.run(queries, job), withIds: (result) => this.#withIds(result, ids) };
  }

  /** A search's answer with the ids of its points (`ids`: the network's when the call started), on a network that has ids. */
  #withIds<R extends { indices: Int32Array }>(result: R, ids = this.#ids): R {
    return ids ? { ...result, ids: ids.at(result.indices) } : result;
  }

  /** kneighbors' job (searches.ts) for X and k, its arguments checked. */
  #kneighborsJob(X: QueryInput, k: number | 'all' | undefined, filter: SearchFilter | undefined, call: string) {
    this.#live(call);
    const queries = this.#queries(X, call);
    return { queries, ...kneighborsJob(this.#surface, queries, k, this.#capped, filter, call) };
  }

  /**
   * Every training point within `radius` (in the network's metric, inclusive) of each row of X,
   * nearest first (ties by index), in compressed rows: the neighbours of query r are entries
   * offsets[r] … offsets[r + 1] − 1 of `indices` and `distances`. Exact: the points brute force
   * with direct differences finds. Queries run one at a time, with scratch proportional to n.
   * With metric 'dot', `radius` is a least inner product (any finite number): every point with
   * x·X_i ≥ radius, exactly, largest inner product first.
   */
  radiusNeighbors(X: QueryInput, radius: number, options?: SearchFilter): RadiusNeighbours {
    checkCallOptions(options, 'radiusNeighbors(X, radius, options)', FILTER_OPTIONS);
    const shards = this.#sharding;
    if (shards) {
      const { queries, radius: checkedRadius, allowed } = this.#shardedRadius(shards, X, radius, options, 'radiusNeighbors(X, radius)');
      return this.#withIds(reportedRadius(shards.radius(queries, checkedRadius, allowed), this.options.metric));
    }
    this.#live('radiusNeighbors(X, radius)');
    const checkedRadius = checkRadius(radius, this.options.metric);
    const queries = this.#queries(X, 'radiusNeighbors(X, radius)');
    return reportedRadius(radiusSearch(this.#surface, queries, checkedRadius, options, 'radiusNeighbors(X, radius)'), this.options.metric);
  }

  /**
   * radiusNeighbors, spread over the network's threads (see predictAsync): the same result, bit
   * for bit. It counts every query's neighbours first, then lists them into an answer allocated
   * once: on the pool that is two passes over the points, where the call on this thread keeps
   * what it counted (up to a bound) and needs one.
   */
  async radiusNeighborsAsync(X: QueryInput, radius: number, options?: SearchFilter & CallOptions): Promise<RadiusNeighbours> {
    const call = checkCallOptions(options, 'radiusNeighborsAsync(X, radius, options)', FILTER_OPTIONS);
    const shards = this.#sharding;
    if (shards) {
      const { queries, radius: checkedRadius, allowed } = this.#shardedRadius(shards, X, radius, options, 'radiusNeighborsAsync(X, radius)');
      const ids = this.#ids;
      return this.#withIds(reportedRadius(await shards.radiusAsync(queries, checkedRadius, allowed, call), this.options.metric), ids);
    }
    this.#live('radiusNeighborsAsync(X, radius)');
    const checkedRadius = checkRadius(radius, this.options.metric);
    const queries = this.#queries(X, 'radiusNeighborsAsync(X, radius)');
    return reportedRadius(await radiusSearchAsync(this.#surface, queries, checkedRadius, options, call, 'radiusNeighborsAsync(X, radius)'), this.options.metric);
  }

  /** A sharded radius search's queries, radius and allowed points (undefined: all), checked. */
  #shardedRadius(shards: ShardSet, X: QueryInput, radius: number, filter: SearchFilter | undefined, call: string) {
    const checkedRadius = checkRadius(radius, this.options.metric);
    const queries = this.#queries(X, call);
    return { queries, radius: checkedRadius, allowed: allowedPoints(filter, shards, this.options.task, () => shards.codes, `${call.slice(0, -1)}, options)`) };
  }

  /**
   * The three layers' activations for each row of X, flat row-major: z1 (q × n squared
   * distances), z2 (q × n vote shares, zero outside the k nearest), z3 (q × classes.length
   * probabilities, or q × 1 estimates for regression). Memory grows with q × n: pass a few rows.
   */
  forward(X: LabelledInput<T>): LayerActivations {
    this.#checkLabels('forward(X)');
    this.#inOneMemory('forward(X)');
    const queries = this.#queries(X, 'forward(X)');
    checkOutputSize(queries.rows, this.#live().n, 'forward(X) returns, per layer, q × n', 'pass fewer rows of X at a time');
    return forwardLayers({ ...this.#context, tree: undefined }, queries, (job) => this.#runner.run(queries, job));
  }

  /**
   * The network's weights, copied out, each flat row-major: W1 = −2·(X − μ) (n × d),
   * b1 = ‖X_i − μ‖² (n), W3 (n × classes.length one-hot, or the n regression targets; empty
   * without labels), μ (d). For the Manhattan metric layer 1 is z1_i = Σ_j |x_j − W1_ij|, not
   * linear, and for dot z1_i = −Σ_j x_j·W1_ij (in dimension order, not the expansion): W1 is X
   * itself, b1 and μ are zeros.
   */
  get weights(): NetworkWeights {
    this.#inOneMemory('weights');
    return readNetworkWeights(this.#kernels, this.#live('weights'));
  }

  /** Accuracy (classification) or R² (regression) of the predictions for X against the true y. */
  score(X: LabelledInput<T>, y: ArrayLike<L>): number {
    this.#checkLabels('score(X, y)');
    const queries = this.#queries(X, 'score(X, y)');
    const truth = checkTruth(y, queries.rows, this.#regression);
    return this.#scoreOf(this.#predict(queries), truth);
  }

  /** score, spread over the network's threads (see predictAsync, and its options): the same result, bit for bit. */
  async scoreAsync(X: LabelledInput<T>, y: ArrayLike<L>, options?: CallOptions): Promise<number> {
    this.#checkLabels('scoreAsync(X, y)');
    const call = checkCallOptions(options, 'scoreAsync(X, y, options)');
    const queries = this.#queries(X, 'scoreAsync(X, y)');
    const truth = checkTruth(y, queries.rows, this.#regression);
    return this.#scoreOf(await this.#predictAsync(queries, call), truth);
  }

  #scoreOf(predicted: Prediction<L, T>, truth: ReturnType<typeof checkTruth>): number {
    return this.#regression ? rSquared(predicted as Float64Array, truth as ArrayLike<number>) : accuracy(predicted as Label[], truth);
  }

  /**
   * Appends training points (and their labels; none on a network without labels); the network
   * then answers exactly as one fitted on the union would (predict, predictProba, kneighbors,
   * radiusNeighbors and score bit for bit, and the same toBytes). Labels may introduce new
   * classes but keep the network's label type; the first add to an empty network sets the
   * number of features and the label type. Amortised cost O(m·d) for m points: the weights
   * have room to grow, new points are packed in place against the held centre μ, and everything
   * is re-packed and re-centred on the union's mean only when the room doubles. Until then
   * `weights.mean`, W1, b1 and `forward().z1` use the held μ (z1 may differ from a fresh fit's
   * in the last bits; every selection above does not). The softmax over every point (k: 'all',
   * softmax weights) reads z1 itself: until the next re-centring its probabilities equal a fresh
   * fit's within the expansion's rounding bound on z1 (its labels too, unless two classes tie
   * within it). On any error the network is unchanged.
   */
  add(X: MatrixInput, y?: AddedLabels<L, T>, options?: AddOptions): void {
    const shards = this.#sharding;
    if (shards) {
      this.#addToShards(shards, X, y, options);
      return;
    }
    const empty = this.#held.current === undefined;
    let ids: Float64Array | undefined;
    this.#updates.add(X, y, (rows) => {
      ids = addedIds(readAddOptions(options).ids, rows, empty ? undefined : this.#ids, empty);
    });
    if (ids) this.#ids = empty || !this.#ids ? new PointIds(ids) : this.#ids.appended(ids);
  }

  /** add on a network in shards: X and y read and checked as an add to one network checks them, then the shards take the rows. */
  #addToShards(shards: ShardSet, X: MatrixInput, y: unknown, options: AddOptions | undefined): void {
    const { task, float32Candidates, metric } = this.options;
    checkLabelsGiven(task, y, 'add(X, y)');
    const rows = toMatrix(X, 'X', shards.d, shards.n, { float32Candidates, metric, storage: shards.storage, shardable: true });
    const appended = shards.appendedLabels(task, y, rows.rows);
    const ids = addedIds(readAddOptions(options).ids, rows.rows, this.#ids, false);
    shards.add(rows, appended);
    if (ids) this.#ids = this.#ids!.appended(ids);
  }

  /**
   * Removes the training points at `indices` (each named once). Later points move down to fill
   * the gaps, keeping their order: the network is exactly a fresh fit on the remaining points,
   * and a class left with no point leaves `classes`. Cost O(n·d). On any error the network is
   * unchanged. A fitted network keeps at least k points; one from `create` may be emptied.
   */
  remove(indices: ArrayLike<number>): void {
    this.#keepAllBut(readIndices(indices, this.nSamples), 'remove(indices)');
  }

  /**
   * Removes the points whose stable ids are `ids` (each named once), on a network that has ids
   * (see fit's `options.ids`); the other points keep theirs. See remove.
   */
  removeIds(ids: ArrayLike<number>): void {
    void this.#held.current;
    if (!this.#ids) throw new KnnError('BAD_INPUT', 'removeIds(ids): this network has no ids (fit it with options.ids to have them); remove by position with remove(indices).');
    this.#keepAllBut(this.#ids.positionsOf(ids), 'removeIds(ids)');
  }

  /** Removes the points `removed` marks, and their ids. */
  #keepAllBut(removed: Uint8Array, call: string): void {
    const shards = this.#sharding;
    if (shards) {
      const rows = shards.n - removed.reduce((sum, flag) => sum + flag, 0);
      // Nothing named: nothing changes (as on one network), and a save in chunks goes on.
      if (rows === shards.n) return;
      if (!this.#capped) checkRemaining(rows, this.options.k, call);
      if (rows === 0) this.clear();
      else shards.keepAllBut(removed);
      this.#ids = this.#ids?.without(removed);
      return;
    }
    this.#updates.keepAllBut(removed, call, this.#capped);
    this.#ids = this.#ids?.without(removed);
    if (this.nSamples === 0) this.#ids = undefined;
  }

  /** Removes every training point of class `label` (as TensorFlow.js's clearClass does); see remove. */
  removeClass(label: L): void {
    this.#checkLabels('removeClass(label)');
    checkClassification(this.#regression, 'removeClass(label)');
    const shards = this.#sharding;
    const w = this.#held.current;
    const code = classCode(this.classes, label, 'removeClass(label)');
    const codes = shards ? shards.codes : this.#kernels.i32(w!.labels!.pointer, w!.n);
    this.#keepAllBut(Uint8Array.from(codes, (c) => (c === code ? 1 : 0)), `removeClass(${describeValue(label)})`);
  }

  /**
   * Removes every training point, as TensorFlow.js's clearAllClasses does: the network is then
   * empty, as one from `create` (k a cap; its next add sets the number of features and the label type).
   */
  clear(): void {
    // Async calls running on the shards answer for the points they were called on, as one network's do.
    this.#sharding?.retire();
    this.#shards = undefined;
    this.#held.replace(undefined);
    this.#ids = undefined;
    this.#capped = true;
  }

  /** The points' stable ids, in the order of their positions (a copy); undefined on a network without ids. */
  get ids(): Float64Array | undefined {
    void this.#held.current;
    return this.#ids?.values.slice();
  }

  /** How many training points each class has, in the order of `classes`. */
  classCounts(): Map<L, number> {
    this.#checkLabels('classCounts()');
    checkClassification(this.#regression, 'classCounts()');
    const shards = this.#sharding;
    if (shards) return countPerClass(shards.classes, shards.codes) as Map<L, number>;
    const w = this.#held.current;
    return countPerClass(w?.classes ?? [], w ? this.#kernels.i32(w.labels!.pointer, w.n) : []) as Map<L, number>;
  }

  /**
   * The whole network (training data, labels, options) as self-contained, checksummed bytes,
   * to store or send; `KnnNetwork.fromBytes` (in Node or a browser) restores it.
   */
  toBytes(): Uint8Array {
    return encodeNetwork(this.#toSave());
  }

  /**
   * The bytes toBytes returns, in chunks of at most 16 MiB (their concatenation is toBytes()'s
   * bytes), for a network too large for one array: write them out, e.g.
   * `await pipeline(Readable.from(net.saveChunks()), createWriteStream(path))`, and load them
   * with `KnnNetwork.fromChunks`. The points are read as the chunks are taken: a network in one
   * memory is copied out when this is called; a sharded one a shard at a time, so an add, a
   * remove or a dispose before its last chunk makes the next one throw (BAD_INPUT or DISPOSED)
   * rather than write a form that mixes two networks.
   */
  saveChunks(): Iterable<Uint8Array> {
    return encodeNetworkChunks(this.#toSave());
  }

  /** What toBytes and saveChunks write. */
  #toSave(): NetworkToSave {
    const shards = this.#sharding;
    const common = { options: this.options, classes: this.classes, capped: this.#capped, ids: this.#ids?.values };
    if (shards) return { ...common, n: shards.n, d: shards.d, ...shards.trainingData() };
    const w = this.#held.current;
    return { ...common, n: w?.n ?? 0, d: w?.d ?? 0, ...(w ? readTrainingData(this.#kernels, w) : { points: new Float64Array(0) }) };
  }

  /**
   * Frees the network's wasm memory and ends its worker pool; any later call throws
   * KnnError('DISPOSED'), and async calls still running are rejected with it. Idempotent.
   */
  dispose(): void {
    if (this.#held.disposed) return;
    // The shards' memories are freed only once nothing references their instances: dropped here,
    // so a disposed network still referenced does not keep gigabytes alive.
    this.#shards?.dispose();
    this.#shards = undefined;
    this.#runner.dispose();
    this.#held.dispose();
  }
}
