// What add() and remove() change: the labels they append (checked against the network's), and
// the training set after them when the weights are rebuilt rather than appended to in place.
import { KnnError, describeValue } from './errors.js';
import type { HeldWeights } from './heldWeights.js';
import { checkRemaining } from './indices.js';
import { checkHeldTargets, encodeLabels, encodeTargets, extendClasses, readAddedLabels, targetLimit } from './labels.js';
import { toMatrix, type Matrix } from './matrix.js';
import { hasExpansion, prepareTrainingRows } from './metrics.js';
import type { ResolvedOptions, Task } from './options.js';
import { storageFor } from './planner.js';
import type { Kernels } from './wasm.js';
import {
  appendWeights, buildKeptWeights, buildUnionWeights, buildWeights, growWeights, readPoints, type AppendedLabels, type HeldLabels, type Weights, weightsRegions,
} from './weights.js';

// add() re-centres (re-packs every point on the mean of all) once the held centre is the mean
// of fewer than a quarter of the points; between, a full room is moved to one twice as large.
const RECENTRE_GROWTH = 4;

/**
 * The weights of a network with `options` on `matrix` and `labels`, with room for `capacity`
 * rows, stored as options.storage asks ('auto': as the matrix's type; a rebuild passes the held
 * points in their stored type, so it keeps their storage).
 */
export function buildNetworkWeights(kernels: Kernels, matrix: Matrix, labels: HeldLabels, options: ResolvedOptions, capacity = matrix.rows): Weights {
  const storage = storageFor(options.storage, matrix.data instanceof Float32Array);
  return buildWeights(kernels, matrix, labels, options.float32Candidates, hasExpansion(options.metric), storage, capacity, options.metric === 'cosine');
}

/** Checks that `y` is given exactly when the network has labels (`task` not 'search'). */
export function checkLabelsGiven(task: Task, y: unknown, call: string): void {
  const given = y !== undefined && y !== null;
  if (task === 'search' && given) {
    throw new KnnError('BAD_INPUT', `${call}: y is ${describeValue(y)}, but this network has no labels (task 'search'), so it takes none; call add(X).`);
  }
  if (task !== 'search' && !given) {
    throw new KnnError('BAD_INPUT', `${call}: y is ${describeValue(y)}, but this network has task '${task}' and needs one ${task === 'regression' ? 'target' : 'label'} per row of X; call add(X, y).`);
  }
}

/** The labels of a first training set (fit, or the first add of an empty network): class codes, targets, or none. */
export function encodeTrainingLabels(task: Task, y: unknown, rows: number): HeldLabels {
  if (task === 'search') return undefined;
  return task === 'regression' ? encodeTargets(y, rows) : encodeLabels(y, rows);
}

/**
 * The labels add() appends to `w` for `rows` new points: targets (the held ones rechecked
 * against the grown n), class codes in the union of the classes, or none.
 */
export function appendedLabels(kernels: Kernels, w: Weights, task: Task, y: unknown, rows: number): AppendedLabels {
  if (task === 'search') return undefined;
  const total = w.n + rows;
  if (task === 'regression') {
    const targets = encodeTargets(y, rows, 'y', total);
    if (w.largestTarget > targetLimit(total)) checkHeldTargets(kernels.f64(w.labels!.pointer, w.n), w.n, total);
    return { targets };
  }
  return extendClasses(w.classes, readAddedLabels(y, rows, w.classes));
}

/**
 * The held training set followed by `extra` and its labels, read out of wasm memory: what a
 * rebuild after add() packs for float32 storage (float64 points added to it are rounded here;
 * float64 storage is re-packed where it is held: buildUnionWeights).
 */
export function unionOf(kernels: Kernels, held: Weights, extra: Matrix, appended: AppendedLabels): { matrix: Matrix; labels: HeldLabels } {
  const rows = held.n + extra.rows;
  const points = held.stored ? new Float32Array(rows * held.d) : new Float64Array(rows * held.d);
  points.set(readPoints(kernels, held));
  points.set(extra.data, held.n * held.d);
  const matrix = { data: points, rows, cols: held.d };
  if (appended === undefined) return { matrix, labels: undefined };
  if ('targets' in appended) {
    const targets = new Float64Array(rows);
    targets.set(kernels.f64(held.labels!.pointer, held.n));
    targets.set(appended.targets, held.n);
    return { matrix, labels: targets };
  }
  const codes = new Int32Array(rows);
  codes.set(kernels.i32(held.labels!.pointer, held.n));
  const { recode } = appended;
  if (recode) for (let i = 0; i < held.n; i++) codes[i] = recode[codes[i]];
  codes.set(appended.codes, held.n);
  return { matrix, labels: { classes: appended.classes, codes } };
}

/** The labels of the points `removed` does not mark, in their order: classes encoded on what is left, as a fit on them encodes them. */
function remainingLabels(kernels: Kernels, w: Weights, removed: Uint8Array, rows: number): HeldLabels {
  if (!w.labels) return undefined;
  const kept = new Int32Array(rows);
  for (let i = 0, at = 0; i < w.n; i++) if (!removed[i]) kept[at++] = i;
  if (w.regression) {
    const targets = kernels.f64(w.labels.pointer, w.n);
    return Float64Array.from(kept, (i) => targets[i]);
  }
  const codes = kernels.i32(w.labels.pointer, w.n);
  return encodeLabels(Array.from(kept, (i) => w.classes[codes[i]]), rows);
}

/** A change built beside the weights it replaces: commit() makes it the network's, abandon() releases it. */
export interface PreparedChange {
  commit(): void;
  abandon(): void;
}

/** add() and remove() on a network's held weights: in place where they can, by a rebuild where they must. */
export class TrainingSetUpdates {
  readonly #kernels: Kernels;
  readonly #held: HeldWeights;
  readonly #options: ResolvedOptions;

  constructor(kernels: Kernels, held: HeldWeights, options: ResolvedOptions) {
    this.#kernels = kernels;
    this.#held = held;
    this.#options = options;
  }

  /**
   * Appends the rows of X and their labels `y` (none without labels): into an empty network,
   * as a fit would; else in place with room to grow (O(m·d), re-centring only when the room
   * doubles), or by a rebuild on the union when async calls still read the weights.
   * `beforeChange(rows)` checks what the caller adds beside them, once X and y are read and
   * before anything changes.
   */
  add(X: unknown, y: unknown, beforeChange?: (rows: number) => void): void {
    const { task, float32Candidates, metric } = this.#options;
    const w = this.#held.current;
    checkLabelsGiven(task, y, 'add(X, y)');
    if (!w) {
      const given = toMatrix(X, 'X', undefined, undefined, this.#options, true);
      const matrix = prepareTrainingRows(given, metric, storageFor(this.#options.storage, given.data instanceof Float32Array), 'X');
      const labels = encodeTrainingLabels(task, y, matrix.rows);
      beforeChange?.(matrix.rows);
      this.#rebuild(matrix, labels);
      return;
    }
    const kernels = this.#kernels;
    const extra = prepareTrainingRows(toMatrix(X, 'X', w.d, w.n, { float32Candidates, metric, storage: w.storage }, true), metric, w.storage, 'X');
    const rows = w.n + extra.rows;
    const appended = appendedLabels(kernels, w, task, y, extra.rows);
    beforeChange?.(extra.rows);
    // Async calls in flight read the weights as they were: then nothing is written in place.
    const inPlace = !this.#held.inUse;
    if (inPlace && rows > w.capacity && rows < RECENTRE_GROWTH * w.centredRows) this.#growRoom(w, Math.max(rows, 2 * w.capacity));
    const held = this.#held.current!; // in larger regions, if #growRoom moved it
    const grown = inPlace ? appendWeights(kernels, held, extra, appended, float32Candidates) : undefined;
    if (grown) {
      this.#held.grow(grown);
      return;
    }
    // Float64 points are re-packed from where they are held; float32 storage reads its panels out.
    const union = held.stored ? unionOf(kernels, held, extra, appended) : undefined;
    this.#replaceBy(
      (capacity) => union ? buildNetworkWeights(kernels, union.matrix, union.labels, this.#options, capacity) : buildUnionWeights(kernels, held, extra, appended, float32Candidates, capacity),
      rows, Math.max(rows, 2 * held.n),
    );
  }

  /**
   * Rebuilds the network on the points `removed` does not mark; `capped` lets it go below k
   * (to none), else it keeps at least k points.
   */
  keepAllBut(removed: Uint8Array, call: string, capped: boolean): void {
    this.preparedRemoval(removed, call, capped).commit();
  }

  /**
   * Builds the network on the points `removed` does not mark, as keepAllBut, without making it
   * the network's: commit() does that, abandon() lets it go. A sharded remove prepares every
   * shard's before it commits any, so that a shard whose rebuild fails (TOO_LARGE) leaves them
   * all as they were, and with them the labels held beside them.
   */
  preparedRemoval(removed: Uint8Array, call: string, capped: boolean): PreparedChange {
    const w = this.#held.current;
    const rows = w ? w.n - removed.reduce((sum, flag) => sum + flag, 0) : 0;
    // Nothing to remove (only an empty list of indices gets here on an empty network), or nothing named.
    if (!w || rows === w.n) return { commit: () => {}, abandon: () => {} };
    if (!capped) checkRemaining(rows, this.#options.k, call);
    if (rows === 0) return { commit: () => this.#held.replace(undefined), abandon: () => {} };
    const kernels = this.#kernels;
    const labels = remainingLabels(kernels, w, removed, rows);
    // The room the weights had (up to twice what is left), so that adds after a remove append in place.
    const capacity = Math.min(w.capacity, 2 * rows);
    const rebuilt = this.#builtWithin((room) => buildKeptWeights(kernels, w, removed, rows, labels, this.#options.float32Candidates, room), rows, capacity);
    return {
      commit: () => this.#held.replace(rebuilt),
      abandon: () => {
        for (const region of weightsRegions(rebuilt)) this.#kernels.release(region);
      },
    };
  }

  /**
   * Replaces the weights by ones built on `matrix` and `labels`, with room for `capacity` rows
   * (or just enough, when that much room cannot be had); the old ones are released only once
   * the new exist.
   */
  #rebuild(matrix: Matrix, labels: HeldLabels, capacity = matrix.rows): void {
    this.#replaceBy((room) => buildNetworkWeights(this.#kernels, matrix, labels, this.#options, room), matrix.rows, capacity);
  }

  /** Replaces the weights by `build(capacity)`'s, for `rows` rows (or `build(rows)`'s, when that much room cannot be had). */
  #replaceBy(build: (capacity: number) => Weights, rows: number, capacity: number): void {
    this.#held.replace(this.#builtWithin(build, rows, capacity));
  }

  /** `build(capacity)`, or `build(rows)` when room for `capacity` rows cannot be had. */
  #builtWithin(build: (capacity: number) => Weights, rows: number, capacity: number): Weights {
    try {
      return build(capacity);
    } catch (error) {
      if (!(capacity > rows && error instanceof KnnError && error.code === 'TOO_LARGE')) throw error;
      return build(rows);
    }
  }

  /**
   * Moves the weights to regions with room for `capacity` rows, as they are (no re-packing). When
   * that room cannot be had, nothing changes: add then re-packs on just enough room, or refuses.
   */
  #growRoom(w: Weights, capacity: number): void {
    try {
      this.#held.moved(growWeights(this.#kernels, w, capacity));
    } catch (error) {
      if (!(error instanceof KnnError && error.code === 'TOO_LARGE')) throw error;
    }
  }
}
