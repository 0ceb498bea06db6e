// A network too large for one wasm memory (wasm32 addresses 4 GiB, and AssemblyScript has no
// memory64) keeps its points in shards: consecutive runs of them, each a network without labels
// on kernels of its own, in a memory of its own. A search asks every shard for its k nearest (or
// its points within the radius) and merges them by (z1, index) (neighbourMerge.ts): one
// network's answer, bit for bit. The labels stay here, in JavaScript; the votes are layer 3's
// own kernel (projectOneHot) run on the merged neighbours, so predictions are bit for bit too.
import type { CallOptions } from './callOptions.js';
import { KnnError } from './errors.js';
import { weightingCode, type FoundNeighbours } from './jobs.js';
import { checkHeldTargets, encodeLabels, encodeTargets, extendClasses, readAddedLabels, type EncodedLabels, type Label } from './labels.js';
import type { Matrix } from './matrix.js';
import { mergeNeighbourLists, mergeRadiusLists } from './neighbourMerge.js';
import type { ResolvedOptions, Task } from './options.js';
import { largestTrainingRows, storageFor, trainingBytesPerRow, type StorageKind } from './planner.js';
import type { RadiusNeighbours } from './results.js';
import type { PreparedChange } from './trainingUpdates.js';
import type { Kernels } from './wasm.js';
import type { AppendedLabels, HeldLabels } from './weights.js';

/** One shard as the set uses it: a network of `n` points without labels, searched on its own kernels. */
export interface Shard {
  readonly n: number;
  readonly storage: StorageKind;
  readonly algorithm: 'brute' | 'tree';
  /** Appends rows of X as given (validated, not yet in layer 1's form). */
  add(rows: Matrix): void;
  /** Builds this shard without the points `removed` marks (one byte a point of it; it may be left empty), to commit or abandon. */
  preparedRemoval(removed: Uint8Array): PreparedChange;
  /** The k nearest of each query among this shard's points (`allowed`: those it marks), z1 values, rows of min(k, n) padded with −1. */
  search(queries: Matrix, k: number, allowed: Uint8Array | undefined): FoundNeighbours;
  searchAsync(queries: Matrix, k: number, allowed: Uint8Array | undefined, call: CallOptions | undefined): Promise<FoundNeighbours>;
  /** The points within `radius`, z1 values for distances (see reportedRadius). */
  radius(queries: Matrix, radius: number, allowed: Uint8Array | undefined): RadiusNeighbours;
  radiusAsync(queries: Matrix, radius: number, allowed: Uint8Array | undefined, call: CallOptions | undefined): Promise<RadiusNeighbours>;
  /** The points as stored (float32 or float64), row-major. */
  points(): Float64Array | Float32Array;
  ready(): Promise<void>;
  dispose(): void;
}

const GIB = 1024 ** 3;
/**
 * Training weights one memory holds at most: past this a network is split into shards. The
 * rest of the 4 GiB is left to the queries' scratch and the pruned search's partition.
 */
let oneMemoryBytes = 4 * GIB - GIB / 4;
/**
 * Training weights each shard holds at most: room is left in its memory for the partition a
 * shard may build beside them, and for a rebuild (remove, an add past its room) whose new
 * weights are made before the old ones are released.
 */
let shardBytes = 1.5 * GIB;

/** For tests: the bytes past which a network is sharded, and each shard's; returns what restores the defaults. */
export function setShardBytes(oneMemory: number, shard: number): () => void {
  const previous = [oneMemoryBytes, shardBytes];
  [oneMemoryBytes, shardBytes] = [oneMemory, shard];
  return () => void ([oneMemoryBytes, shardBytes] = previous);
}

/**
 * How many of `rows` points of `cols` features each shard holds, for a network with `options`
 * whose data are float32 (`float32Input`) or not; undefined when one memory holds them all.
 */
export function shardRows(rows: number, cols: number, options: ResolvedOptions, float32Input: boolean): number | undefined {
  const storage = storageFor(options.storage, float32Input);
  if (rows * trainingBytesPerRow(rows, cols, options.float32Candidates, storage, options.metric) <= oneMemoryBytes) return undefined;
  const most = largestTrainingRows(shardBytes, cols, options.float32Candidates, storage, options.metric);
  if (most < 1) throw new KnnError('TOO_LARGE', `X has ${cols} features: one point of them does not fit a wasm memory; use fewer features.`);
  // Shards of equal size: the last one is not a sliver.
  return Math.ceil(rows / Math.ceil(rows / most));
}

/** Bytes of a sharded call's votes at a time: its queries are voted on in chunks of at most this. */
const VOTE_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * A sharded call's votes: q × classes scores (q estimates for a regressor), each row's
 * predicted class code where asked, and the classes the codes name (the call's: an add meanwhile
 * may have recoded the network's).
 */
export interface ShardVotes {
  scores: Float64Array;
  best: Int32Array | undefined;
  classes: readonly Label[];
}

export class ShardSet {
  readonly #shards: Shard[];
  /** Where each shard's points start among the network's. */
  #firsts: number[] = [];
  #labels: HeldLabels;
  readonly d: number;
  /** The most points a shard holds (fit's split): adds fill the last shard up to it, then start new ones. */
  readonly #rowsPerShard: number;
  /** A new shard on `rows` (as given), on kernels and a memory of its own. */
  readonly #makeShard: (rows: Matrix) => Shard;
  /** Adds and removes so far: a save reading the shards one at a time checks that none came between. */
  #changes = 0;
  /** Async calls running on each shard. */
  readonly #calls = new Map<Shard, number>();
  /** Shards a remove emptied while async calls ran on them: disposed when the last of those ends. */
  readonly #retiring = new Set<Shard>();

  constructor(shards: Shard[], labels: HeldLabels, d: number, rowsPerShard: number, makeShard: (rows: Matrix) => Shard) {
    this.#shards = shards;
    this.#labels = labels;
    this.d = d;
    this.#rowsPerShard = rowsPerShard;
    this.#makeShard = makeShard;
    this.#place();
  }

  /** Where each shard's points start, after a change. */
  #place(): void {
    this.#changes++;
    this.#firsts = [];
    this.#shards.reduce((first, shard) => (this.#firsts.push(first), first + shard.n), 0);
  }

  get labels(): HeldLabels {
    return this.#labels;
  }

  get count(): number {
    return this.#shards.length;
  }

  get n(): number {
    return this.#firsts[this.#firsts.length - 1] + this.#shards[this.#shards.length - 1].n;
  }

  get storage(): StorageKind {
    return this.#shards[0].storage;
  }

  /** 'tree' when every shard runs the pruned search, else 'brute' (each chooses for its own points, as one network would). */
  get algorithm(): 'brute' | 'tree' {
    return this.#shards.every((shard) => shard.algorithm === 'tree') ? 'tree' : 'brute';
  }

  get classes(): readonly Label[] {
    return this.#labels && 'classes' in this.#labels ? this.#labels.classes : [];
  }

  /** The class codes of a classifier's points. */
  get codes(): Int32Array {
    return (this.#labels as { codes: Int32Array }).codes;
  }

  /** The part of `allowed` (one byte a point of the network) that shard `s` holds. */
  #allowedIn(allowed: Uint8Array | undefined, s: number): Uint8Array | undefined {
    return allowed?.subarray(this.#firsts[s], this.#firsts[s] + this.#shards[s].n);
  }

  /** The k nearest of each query over every shard (those `allowed` marks), merged: rows of `width`, padded with −1 at Infinity. */
  search(queries: Matrix, k: number, width: number, allowed?: Uint8Array): FoundNeighbours {
    const parts = this.#shards.map((shard, s) => shard.search(queries, Math.min(k, shard.n), this.#allowedIn(allowed, s)));
    return mergeNeighbourLists(parts, this.#firsts, queries.rows, width);
  }

  /** search, each shard on its own pool at once: `call`'s signal aborts every one, its progress counts the shards done. */
  async searchAsync(queries: Matrix, k: number, width: number, allowed: Uint8Array | undefined, call: CallOptions | undefined): Promise<FoundNeighbours> {
    // The shards as the call finds them: an add or a remove meanwhile makes new `firsts`.
    const firsts = this.#firsts;
    const parts = await this.#eachShard((shard, s, signal) => shard.searchAsync(queries, Math.min(k, shard.n), this.#allowedIn(allowed, s), signal), call);
    return mergeNeighbourLists(parts, firsts, queries.rows, width);
  }

  /** Every shard's points within `radius` of each query, merged nearest first (z1 values for distances). */
  radius(queries: Matrix, radius: number, allowed?: Uint8Array): RadiusNeighbours {
    return mergeRadiusLists(this.#shards.map((shard, s) => shard.radius(queries, radius, this.#allowedIn(allowed, s))), this.#firsts);
  }

  async radiusAsync(queries: Matrix, radius: number, allowed: Uint8Array | undefined, call: CallOptions | undefined): Promise<RadiusNeighbours> {
    const firsts = this.#firsts;
    return mergeRadiusLists(await this.#eachShard((shard, s, signal) => shard.radiusAsync(queries, radius, this.#allowedIn(allowed, s), signal), call), firsts);
  }

  async #eachShard<R>(run: (shard: Shard, s: number, call: CallOptions | undefined) => Promise<R>, call: CallOptions | undefined): Promise<R[]> {
    let done = 0;
    const shards = this.#shards.slice();
    return Promise.all(
      shards.map(async (shard, s) => {
        // Counted while it runs: a remove that empties the shard meanwhile disposes it only once its calls end.
        this.#calls.set(shard, (this.#calls.get(shard) ?? 0) + 1);
        try {
          const part = await run(shard, s, call?.signal ? { signal: call.signal } : undefined);
          call?.onProgress?.(++done / shards.length);
          return part;
        } finally {
          const left = this.#calls.get(shard)! - 1;
          if (left > 0) this.#calls.set(shard, left);
          else {
            this.#calls.delete(shard);
            if (this.#retiring.delete(shard)) shard.dispose();
          }
        }
      }),
    );
  }

  /**
   * Layer 3 on `queries`: their k nearest over every shard, merged, then voted (#vote): q ×
   * classes scores, and with `argmax` each row's predicted class code.
   */
  votes(kernels: Kernels, queries: Matrix, k: number, options: ResolvedOptions, argmax: boolean): ShardVotes {
    return this.#vote(kernels, this.search(queries, k, k), k, options, argmax, this.#labels);
  }

  /** votes, each shard searched on its own pool at once (searchAsync), with the labels held when the call starts. */
  async votesAsync(kernels: Kernels, queries: Matrix, k: number, options: ResolvedOptions, argmax: boolean, call: CallOptions | undefined): Promise<ShardVotes> {
    // An add or a remove while the shards search changes the labels: the call votes with its own.
    const labels = this.#labels;
    return this.#vote(kernels, await this.searchAsync(queries, k, k, undefined, call), k, options, argmax, labels);
  }

  /**
   * Layer 3 on merged neighbours (`found`, k a row), by the kernels' projectOneHot and
   * argmaxRows on this thread's `kernels`. The neighbours' labels are gathered into the
   * kernels' shared scratch in neighbour order and each neighbour's index is its slot there:
   * the kernel reads labels only by index.
   */
  #vote(kernels: Kernels, found: FoundNeighbours, k: number, options: ResolvedOptions, argmax: boolean, labels: HeldLabels): ShardVotes {
    const rows = found.indices.length / k;
    const targets = labels instanceof Float64Array ? labels : undefined;
    const codes = (labels as EncodedLabels).codes;
    const classes = targets ? 1 : (labels as EncodedLabels).classes.length;
    const chunk = Math.max(1, Math.min(rows, Math.floor(VOTE_CHUNK_BYTES / (k * 20 + classes * 8 + 4))));
    const slotsAt = 0;
    const squaredAt = slotsAt + Math.ceil((chunk * k * 4) / 16) * 16;
    const labelsAt = squaredAt + chunk * k * 8;
    const scoresAt = labelsAt + chunk * k * 8;
    const bestAt = scoresAt + chunk * classes * 8;
    const scratch = kernels.scratch(bestAt + chunk * 4);
    const at = (offset: number) => scratch + offset;
    const scores = new Float64Array(rows * classes);
    const best = argmax ? new Int32Array(rows) : undefined;
    // Each chunk's slots are 0…count·k − 1: written once, for the largest chunk.
    const slots = kernels.i32(at(slotsAt), Math.min(chunk, rows) * k);
    for (let i = 0; i < slots.length; i++) slots[i] = i;
    for (let start = 0; start < rows; start += chunk) {
      const count = Math.min(chunk, rows - start);
      const neighbours = found.indices.subarray(start * k, (start + count) * k);
      kernels.f64(at(squaredAt), count * k).set(found.squared.subarray(start * k, (start + count) * k));
      if (targets) {
        const gathered = kernels.f64(at(labelsAt), count * k);
        for (let i = 0; i < neighbours.length; i++) gathered[i] = targets[neighbours[i]];
      } else {
        const gathered = kernels.i32(at(labelsAt), count * k);
        for (let i = 0; i < neighbours.length; i++) gathered[i] = codes[neighbours[i]];
      }
      kernels.exports.projectOneHot(at(slotsAt), at(squaredAt), count, k, at(labelsAt), at(labelsAt), classes, targets ? 1 : 0, weightingCode(options), options.lambda, at(scoresAt));
      scores.set(kernels.f64(at(scoresAt), count * classes), start * classes);
      if (best) {
        kernels.exports.argmaxRows(at(scoresAt), count, classes, at(bestAt));
        best.set(kernels.i32(at(bestAt), count), start);
      }
    }
    return { scores, best, classes: targets ? [] : (labels as EncodedLabels).classes };
  }

  /** The labels an add of `rows` points appends, `y` read and checked as an add to one network reads them (appendedLabels). */
  appendedLabels(task: Task, y: unknown, rows: number): AppendedLabels {
    if (task === 'search') return undefined;
    if (task === 'classification') return extendClasses(this.classes, readAddedLabels(y, rows, this.classes));
    const total = this.n + rows;
    const targets = encodeTargets(y, rows, 'y', total);
    checkHeldTargets(this.#labels as Float64Array, this.n, total);
    return { targets };
  }

  /**
   * Appends `rows` (as given) and their labels: the last shard takes what it has room for, new
   * shards the rest. The new shards are made first, so a failure (TOO_LARGE) leaves every shard
   * as it was.
   */
  add(rows: Matrix, appended: AppendedLabels): void {
    const { d } = this;
    const last = this.#shards[this.#shards.length - 1];
    const room = Math.max(0, Math.min(rows.rows, this.#rowsPerShard - last.n));
    const part = (first: number, count: number): Matrix => ({ data: rows.data.subarray(first * d, (first + count) * d), rows: count, cols: d });
    const made: Shard[] = [];
    try {
      for (let first = room; first < rows.rows; first += this.#rowsPerShard) made.push(this.#makeShard(part(first, Math.min(this.#rowsPerShard, rows.rows - first))));
      if (room > 0) last.add(part(0, room));
    } catch (error) {
      for (const shard of made) shard.dispose();
      throw error;
    }
    this.#shards.push(...made);
    this.#labels = joinedLabels(this.#labels, appended);
    this.#place();
  }

  /**
   * Removes the points `removed` marks, from each shard that holds one (an emptied shard is
   * dropped), or, where a shard cannot be rebuilt (TOO_LARGE), from none; the classes then are
   * those of the points left, as a fit on them makes them. The caller keeps at least one point.
   */
  keepAllBut(removed: Uint8Array): void {
    // Every shard's rebuild is made before any is committed: one that fails leaves all of them, and the labels, as they were.
    const prepared: PreparedChange[] = [];
    try {
      this.#shards.forEach((shard, s) => {
        const part = removed.subarray(this.#firsts[s], this.#firsts[s] + shard.n);
        if (part.includes(1)) prepared.push(shard.preparedRemoval(part));
      });
    } catch (error) {
      for (const change of prepared) change.abandon();
      throw error;
    }
    for (const change of prepared) change.commit();
    // Read every shard's n before disposing any: a disposed shard's n throws DISPOSED.
    const emptied = this.#shards.filter((shard) => shard.n === 0);
    this.#shards.splice(0, this.#shards.length, ...this.#shards.filter((shard) => shard.n > 0));
    for (const shard of emptied) this.#letGo(shard);
    this.#labels = keptLabels(this.#labels, removed);
    this.#place();
  }

  /** The points as stored, a run of rows a shard, each read out when a save reaches it, and the labels: what a save writes. */
  trainingData(): { points: { storage: StorageKind; runs: (() => Float64Array | Float32Array)[] }; codes?: Int32Array; targets?: Float64Array } {
    const changes = this.#changes;
    const read = (shard: Shard) => () => {
      if (this.#changes !== changes) throw new KnnError('BAD_INPUT', 'saveChunks(): the network changed (add or remove) while its chunks were being taken; take them again, with no change in between.');
      return shard.points();
    };
    const points = { storage: this.storage, runs: this.#shards.map(read) };
    const labels = this.#labels;
    return labels instanceof Float64Array ? { points, targets: labels } : labels ? { points, codes: labels.codes } : { points };
  }

  async ready(): Promise<void> {
    await Promise.all(this.#shards.map((shard) => shard.ready()));
  }

  /** Disposes `shard` now, or when the async calls running on it end (#eachShard). */
  #letGo(shard: Shard): void {
    if (this.#calls.has(shard)) this.#retiring.add(shard);
    else shard.dispose();
  }

  /** Lets the shards go (clear): each is disposed now, or when the async calls running on it end. */
  retire(): void {
    for (const shard of this.#shards) this.#letGo(shard);
    this.#shards.length = 0;
    // A save taking its chunks meanwhile must not go on reading shards kept for those calls.
    this.#changes++;
  }

  dispose(): void {
    for (const shard of this.#shards) shard.dispose();
    for (const shard of this.#retiring) shard.dispose();
    this.#retiring.clear();
  }
}

/** The held labels followed by those `appended` (class codes recoded where the classes grew). */
function joinedLabels(held: HeldLabels, appended: AppendedLabels): HeldLabels {
  if (appended === undefined) return undefined;
  if ('targets' in appended) return appendedRun(held as Float64Array, appended.targets);
  const old = (held as EncodedLabels).codes;
  const { recode } = appended;
  if (!recode) return { classes: appended.classes, codes: appendedRun(old, appended.codes) };
  // New classes renumber the held codes: into a new array, as a call that holds the old one still reads them.
  const codes = withRoom(Int32Array, old.length + appended.codes.length);
  for (let i = 0; i < old.length; i++) codes[i] = recode[old[i]];
  codes.set(appended.codes, old.length);
  return { classes: appended.classes, codes };
}

/**
 * `held` followed by `extra`: written in place past held's end where its buffer has room (the
 * views taken before, shorter, read what they read), else into a buffer twice as long, so that
 * single adds cost O(1) amortised rather than a copy of every label each.
 */
function appendedRun<T extends Float64Array | Int32Array>(held: T, extra: T): T {
  const length = held.length + extra.length;
  const room = held.buffer.byteLength / held.BYTES_PER_ELEMENT - held.byteOffset / held.BYTES_PER_ELEMENT;
  if (length <= room) {
    const grown = new (held.constructor as new (buffer: ArrayBufferLike, offset: number, length: number) => T)(held.buffer, held.byteOffset, length);
    grown.set(extra, held.length);
    return grown;
  }
  const grown = withRoom(held.constructor as new (length: number) => T, length);
  grown.set(held);
  grown.set(extra, held.length);
  return grown;
}

/** A new array of `length` on a buffer twice as long (at least 16), so that appends after it fit in place. */
function withRoom<T extends Float64Array | Int32Array>(create: new (length: number) => T, length: number): T {
  return new create(Math.max(2 * length, 16)).subarray(0, length) as T;
}

/** The labels of the points `removed` does not mark: classes re-encoded on what is left, as remove's rebuild does. */
function keptLabels(held: HeldLabels, removed: Uint8Array): HeldLabels {
  if (held === undefined) return undefined;
  if (held instanceof Float64Array) return held.filter((_, i) => !removed[i]);
  const kept: Label[] = [];
  held.codes.forEach((code, i) => removed[i] || kept.push(held.classes[code]));
  return encodeLabels(kept, kept.length);
}
