// Filtered searches: the k nearest (or those within a radius) among the points a filter allows,
// exactly as brute force over that subset finds them, with the caller's indices. Each call takes
// the cheapest of three exact ways (filteredSearch.ts): the whole network searched a little
// deeper, the allowed points dropped out of its answer; the allowed points gathered into weights
// of their own, in their order (so ties still go to the lower index), searched, and their
// positions mapped back; or brute force over the allowed points in JS. Where the partition
// searches (searchAlgorithm 'tree'), the k nearest come from its own search, skipping the points
// left out, or from one of the last two ways where it costs less (filteredTreeNeighbours).
import type { ChunkJob } from './chunkRunner.js';
import { KnnError, describeValue } from './errors.js';
import { directNeighbours, directRadius, dropLeftOut, filteredRadiusWay, filteredWay, keepAllowed, placeRows, prunedFilterWay, rowsOf, searchAgain, singleQueryFilterWay, type AllowedRows } from './filteredSearch.js';
import { bruteNeighbourPlan, neighboursJob, type FoundNeighbours, type JobContext } from './jobs.js';
import { classCode } from './labels.js';
import type { Matrix } from './matrix.js';
import { withinRadius, type Metric } from './metrics.js';
import type { SingleQueryParts } from './singleQuery.js';
import { allowedDirectCall, directPoints } from './pointCalls.js';
import type { ResolvedOptions, SearchFilter } from './options.js';
import type { RadiusNeighbours } from './results.js';
import type { Kernels } from './wasm.js';
import { buildKeptWeights, readLayerOnePoints, weightsRegions, type Weights } from './weights.js';
import { allowedClusterSearch } from './allowedClusters.js';
import { planPartition } from './partition.js';
import { TreeIndex, treeNeighbourPlan, withFilter, type TreeSearch } from './treeIndex.js';

/** The options of the searches besides a long call's. */
export const FILTER_OPTIONS = ['filter', 'classes'];

/** A radius search of `rows` queries that found nothing. */
export const emptyRadius = (rows: number): RadiusNeighbours => ({ offsets: new Int32Array(rows + 1), indices: new Int32Array(0), distances: new Float64Array(0) });

/**
 * The points `options` allow (1 = allowed) among `w`'s, or undefined when it filters nothing
 * (no filter given). `labels` reads the points' class codes.
 */
export function allowedPoints(options: SearchFilter | undefined, w: Pick<Weights, 'n' | 'classes'>, task: ResolvedOptions['task'], labels: () => Int32Array, call: string): Uint8Array | undefined {
  if (options === undefined || (options.filter === undefined && options.classes === undefined)) return undefined;
  let allowed: Uint8Array | undefined;
  if (options.filter !== undefined) {
    const { filter } = options;
    if (!(filter instanceof Uint8Array)) throw new KnnError('BAD_INPUT', `${call}: options.filter must be a Uint8Array of ${w.n} bytes (1 = allowed); got ${describeValue(filter)}.`);
    if (filter.length !== w.n) throw new KnnError('SHAPE_MISMATCH', `${call}: options.filter has ${filter.length} bytes but the network has ${w.n} points; pass one byte per point.`);
    allowed = filter.slice();
    const bad = firstNotBit(allowed);
    if (bad >= 0) throw new KnnError('BAD_INPUT', `${call}: options.filter[${bad}] is ${allowed[bad]}; each byte must be 1 (allowed) or 0 (left out).`);
  }
  if (options.classes !== undefined) {
    if (task !== 'classification') throw new KnnError('BAD_OPTION', `${call}: options.classes filters a classifier's points by class; this network has task '${task}'.`);
    const list: unknown = options.classes;
    if (!Array.isArray(list)) throw new KnnError('BAD_INPUT', `${call}: options.classes must be an array of the network's class labels; got ${describeValue(list)}.`);
    const wanted = new Uint8Array(w.classes.length);
    for (const label of list) wanted[classCode(w.classes, label, `${call}: options.classes`)] = 1;
    const codes = labels();
    allowed ??= new Uint8Array(w.n).fill(1);
    for (let i = 0; i < w.n; i++) allowed[i] &= wanted[codes[i]];
  }
  return allowed;
}

/** Counts the points `allowed` marks. */
function allowedCount(allowed: Uint8Array): number {
  const { words, tail } = wordsOf(allowed);
  let count = 0;
  // Four bytes of 0 or 1 sum into the top byte of word × 0x01010101.
  for (let i = 0; i < words.length; i++) count += Math.imul(words[i], 0x01010101) >>> 24;
  for (let i = tail; i < allowed.length; i++) count += allowed[i];
  return count;
}

/**
 * `bytes` (a copy of its own, so at offset 0) four at a time, and where the bytes past the last
 * whole word start. A filter is read once per call: a byte at a time, or a callback per byte
 * (findIndex, reduce), costs a tenth of a single query's search on 10 000 points.
 */
function wordsOf(bytes: Uint8Array): { words: Uint32Array; tail: number } {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteOffset % 4 === 0 ? bytes.length >>> 2 : 0);
  return { words, tail: words.length * 4 };
}

/** 1 where `allowed` holds 0 and 0 where it holds 1, four bytes at a time. */
function complement(allowed: Uint8Array): Uint8Array {
  const flipped = allowed.slice();
  const { words, tail } = wordsOf(flipped);
  for (let i = 0; i < words.length; i++) words[i] ^= 0x01010101;
  for (let i = tail; i < flipped.length; i++) flipped[i] ^= 1;
  return flipped;
}

/** The first byte of `bytes` other than 0 or 1, or −1. */
function firstNotBit(bytes: Uint8Array): number {
  const { words, tail } = wordsOf(bytes);
  let from = tail;
  for (let i = 0; i < words.length; i++) {
    if ((words[i] & 0xfefefefe) === 0) continue;
    from = i * 4;
    break;
  }
  for (let i = from; i < bytes.length; i++) if (bytes[i] > 1) return i;
  return -1;
}

/**
 * The allowed points as weights of their own (no labels), and the position of each among the
 * network's; with `tree`, the pruned search over a partition of their own.
 */
export interface GatheredPoints {
  readonly weights: Weights | undefined;
  readonly tree?: TreeSearch;
  readonly positions: Int32Array;
  release(): void;
}

/** The positions of the points `allowed` marks, ascending. */
function allowedPositions(allowed: Uint8Array): Int32Array {
  const positions = new Int32Array(allowedCount(allowed));
  const { words, tail } = wordsOf(allowed);
  let placed = 0;
  // Past four left-out points at a time: a filter that allows few (the direct way's) is mostly
  // zero words, and read a byte at a time it took a third of a direct call on 200 000 points.
  for (let i = 0; i < words.length; i++) {
    if (words[i] === 0) continue;
    for (let j = i * 4; j < i * 4 + 4; j++) if (allowed[j]) positions[placed++] = j;
  }
  for (let j = tail; j < allowed.length; j++) if (allowed[j]) positions[placed++] = j;
  return positions;
}

/** Whether brute force over allowed points runs in wasm (allowedNeighbours): a metric of differences, on either storage. */
function inWasm(metric: Metric): boolean {
  return metric !== 'dot';
}

/**
 * Brute force over the points `allowed` marks: each query's k nearest, as directNeighbours finds
 * them. It runs in wasm over the points where they lie (listedDirectNeighbours, eight points at
 * once: several times JS's speed), the dot metric in JS.
 */
function allowedNeighbours(kernels: Kernels, w: Weights, allowed: Uint8Array, queries: Matrix, k: number, metric: Metric): FoundNeighbours {
  if (!inWasm(metric) || k === 0) return directNeighbours(allowedRows(kernels, w, allowed), w.d, queries, k, metric);
  const indices = new Int32Array(queries.rows * k);
  const squared = new Float64Array(queries.rows * k);
  overAllowedInWasm(kernels, w, allowed, queries, k, metric, (r, outIndices, outValues) => {
    indices.set(kernels.i32(outIndices, k), r * k);
    squared.set(kernels.f64(outValues, k), r * k);
  });
  return { indices, squared };
}

/**
 * Brute force over the points `allowed` marks: each query's points within `radius`, as
 * directRadius finds them; in wasm (listedDirectNeighbours listing every value) where
 * allowedNeighbours runs there, the choice and the order in JS.
 */
function allowedRadius(kernels: Kernels, w: Weights, allowed: Uint8Array, queries: Matrix, radius: number, metric: Metric): RadiusNeighbours {
  if (!inWasm(metric)) return directRadius(allowedRows(kernels, w, allowed), w.d, queries, radius, metric);
  const offsets = new Int32Array(queries.rows + 1);
  const indices: number[] = [];
  const distances: number[] = [];
  overAllowedInWasm(kernels, w, allowed, queries, 0, metric, (r, _outIndices, outValues, positions) => {
    const values = kernels.f64(outValues, positions.length);
    const within: number[] = [];
    for (let j = 0; j < positions.length; j++) if (withinRadius(metric, values[j], radius)) within.push(j);
    // Positions ascend, so a stable sort by value leaves ties in index order.
    within.sort((a, b) => values[a] - values[b]);
    for (const j of within) {
      indices.push(positions[j]);
      distances.push(values[j]);
    }
    offsets[r + 1] = indices.length;
  });
  return { offsets, indices: Int32Array.from(indices), distances: Float64Array.from(distances) };
}

/**
 * Runs listedDirectNeighbours for each query over the allowed points (listed once), k kept (0:
 * every value, in the list's order); `take` reads each query's outputs before the next.
 */
function overAllowedInWasm(
  kernels: Kernels, w: Weights, allowed: Uint8Array, queries: Matrix, k: number, metric: Metric,
  take: (row: number, outIndices: number, outValues: number, positions: Int32Array) => void,
): void {
  const positions = allowedPositions(allowed);
  const { d } = w;
  const values = k === 0 ? positions.length : k;
  // The query row, the values and the k indices, then the list of allowed positions.
  const listAt = d * 8 + values * 8 + k * 4;
  const region = kernels.allocate(Math.max(16, listAt + positions.length * 4), `brute force over ${positions.length} allowed points`);
  try {
    const query = region.pointer;
    const outValues = query + d * 8;
    const outIndices = outValues + values * 8;
    const list = region.pointer + listAt;
    kernels.i32(list, positions.length).set(positions);
    const search = kernels.entry('listedDirectNeighbours');
    const manhattan = metric === 'manhattan' ? 1 : 0;
    const [points, stored, unitFactors] = directPoints(w);
    for (let r = 0; r < queries.rows; r++) {
      kernels.f64(query, d).set(queries.data.subarray(r * d, (r + 1) * d));
      search(query, points, d, list, positions.length, k, manhattan, outIndices, outValues, stored, unitFactors);
      take(r, outIndices, outValues, positions);
    }
  } finally {
    kernels.release(region);
  }
}

/**
 * The points `allowed` marks as brute force reads them. Float64 storage: a view on the network's
 * points in wasm memory (no copy). Float32 storage holds no float64 rows: the allowed rows alone
 * are read out of its panels (a cosine network's normalised), O(allowed · d) rather than O(n · d) a call.
 */
function allowedRows(kernels: Kernels, w: Weights, allowed: Uint8Array): AllowedRows {
  const positions = allowedPositions(allowed);
  if (!w.stored) return { points: kernels.f64(w.points!.pointer, w.n * w.d), rows: positions, positions };
  return { points: readLayerOnePoints(kernels, w, positions), rows: positions.map((_, j) => j), positions };
}

/**
 * Gathers the points `allowed` marks into weights of their own (no labels), packed as the network
 * packs its own: copied within wasm memory, as remove() keeps its points. With `boxes` (the
 * network's own search runs on a k-d tree) they get a partition of their own where the network's
 * options choose one for them, as a fit would: a k-d tree (clusters are not built for one call,
 * their k-means costs more than it saves).
 */
export function gatherAllowed(kernels: Kernels, w: Weights, allowed: Uint8Array, options: ResolvedOptions, boxes = false): GatheredPoints {
  const positions = allowedPositions(allowed);
  if (positions.length === 0) return { weights: undefined, positions, release: () => {} };
  const leftOut = complement(allowed);
  const weights = buildKeptWeights(kernels, w, leftOut, positions.length, undefined, options.float32Candidates, positions.length);
  const regions = weightsRegions(weights);
  const release = () => regions.forEach((region) => kernels.release(region));
  if (!boxes || planPartition(positions.length, w.d, options.metric)?.kind !== 'boxes') return { weights, positions, release };
  try {
    const index = new TreeIndex(kernels, options, { attach: (held) => regions.push(...held), detach: (held) => held.forEach((region) => kernels.release(region)), inUse: false, partitionServes: () => {} });
    index.replaced(weights);
    return { weights, tree: index.searchOf(weights), positions, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** Maps positions among the gathered points back to the network's (−1 stays −1), in place. */
export function toNetworkPositions(indices: Int32Array, positions: Int32Array): Int32Array {
  for (let i = 0; i < indices.length; i++) if (indices[i] >= 0) indices[i] = positions[indices[i]];
  return indices;
}

/** A filtered k-nearest search: what the call's job searches, and how its answer becomes the call's. */
export interface FilteredNeighbours {
  /** The weights the job searches: the network's, or the allowed points gathered. */
  readonly weights: Weights;
  /** The pruned search the job runs: the network's restricted to the allowed points, or the gathered points' own. */
  readonly tree?: TreeSearch;
  /** How many neighbours per row the job finds (0: the call runs no job). */
  readonly searched: number;
  /** How many neighbours per row the answer has: k, or the allowed count when smaller. */
  readonly found: number;
  /**
   * The answer, rows × found with the network's positions, from the job's rows × searched.
   * Call it while the job's weights are held (before an async call's queue moves on).
   */
  finish(searched: FoundNeighbours): FoundNeighbours;
  /** Frees what the call gathered. */
  release(): void;
}

/**
 * The k nearest of the points `allowed` marks among `w`'s, for `queries` (as layer 1 takes
 * them), the way filteredWay finds cheapest, on a network that searches by brute force. `run`
 * runs a job here (for rows the whole search could not settle, searched again over the allowed
 * points gathered).
 */
export function filteredNeighbours(
  kernels: Kernels, w: Weights, allowed: Uint8Array, options: ResolvedOptions, queries: Matrix, k: number,
  run: (queries: Matrix, job: ChunkJob) => void,
): FilteredNeighbours {
  const count = allowedCount(allowed);
  const found = Math.min(k, count);
  const directInWasm = inWasm(options.metric);
  const { way, width } = filteredWay(w.n, w.d, count, found, queries.rows, 1, directInWasm);
  if (found === 0 || way === 'direct') return overAllowed('direct', kernels, w, allowed, options, queries, found);
  if (way === 'gather') return overAllowed('gather', kernels, w, allowed, options, queries, found);
  const finish = (searched: FoundNeighbours): FoundNeighbours => {
    const { kept, unsettled } = keepAllowed(searched, queries.rows, width, found, allowed);
    if (unsettled.length === 0) return kept;
    const rows = rowsOf(queries, unsettled);
    if (searchAgain(w.d, count, rows.rows, 1, directInWasm).way === 'direct') {
      placeRows(kept, allowedNeighbours(kernels, w, allowed, rows, found, options.metric), unsettled, found);
      return kept;
    }
    const gathered = gatherAllowed(kernels, w, allowed, options);
    try {
      const again = neighboursJob({ kernels, weights: gathered.weights!, options, votes: undefined }, rows.rows, found);
      run(rows, again.job);
      toNetworkPositions(again.indices, gathered.positions);
      placeRows(kept, again, unsettled, found);
      return kept;
    } finally {
      gathered.release();
    }
  };
  return { weights: w, searched: width, found, finish, release: () => {} };
}

/** The k nearest of the allowed points searched over them alone: by direct differences ('direct', allowedNeighbours), or gathered into weights of their own and searched ('gather'; with `boxes`, on a k-d tree of their own where one pays). */
function overAllowed(way: 'gather' | 'direct', kernels: Kernels, w: Weights, allowed: Uint8Array, options: ResolvedOptions, queries: Matrix, found: number, boxes = false): FilteredNeighbours {
  if (way === 'direct') {
    return { weights: w, searched: 0, found, finish: () => allowedNeighbours(kernels, w, allowed, queries, found, options.metric), release: () => {} };
  }
  const gathered = gatherAllowed(kernels, w, allowed, options, boxes);
  const finish = ({ indices, squared }: FoundNeighbours) => ({ indices: toNetworkPositions(indices, gathered.positions), squared });
  return { weights: gathered.weights!, tree: gathered.tree, searched: found, found, finish, release: gathered.release };
}

/**
 * The k nearest of the points `filter` allows, where the network's pruned search (`tree`, which
 * serves a search for k and takes a filter) runs: restricted to them, or, where brute force over
 * them costs less (prunedFilterWay), gathered or in JS as filteredNeighbours runs those ways;
 * undefined when it filters nothing (every point allowed). The allowed bytes are copied into wasm memory, checked and
 * counted there (a plain filter is never copied in JS for the restricted search: on a large
 * network that copy costs many pruned searches), and released with the call.
 */
export function filteredTreeNeighbours(
  kernels: Kernels, w: Weights, tree: TreeSearch, filter: SearchFilter | undefined, options: ResolvedOptions, labels: () => Int32Array, queries: Matrix, k: number, call: string,
): FilteredNeighbours | undefined {
  if (filter === undefined || (filter.filter === undefined && filter.classes === undefined)) return undefined;
  const given = filter.filter;
  const plain = filter.classes === undefined && given instanceof Uint8Array && given.length === w.n;
  // Anything but a plain filter of the right shape is read (and its mistakes reported) as the other ways read it.
  const bytes = plain ? given : allowedPoints(filter, w, options.task, labels, call)!;
  const region = kernels.allocate(Math.max(16, w.n), `a filter of ${w.n} points`);
  new Uint8Array(kernels.exports.memory.buffer, region.pointer, w.n).set(bytes);
  const count = (kernels.exports as unknown as { countAllowed(bytes: number, n: number): number }).countAllowed(region.pointer, w.n);
  // Every point allowed: the unfiltered search, which reads no filter.
  if (count === w.n) {
    kernels.release(region);
    return undefined;
  }
  const found = Math.min(k, count);
  if (found <= 0) {
    kernels.release(region);
    // A byte other than 0 or 1: reported as allowedPoints reports it.
    if (count < 0) allowedPoints(filter, w, options.task, labels, call);
    return { weights: w, searched: 0, found: 0, finish: () => ({ indices: new Int32Array(0), squared: new Float64Array(0) }), release: () => {} };
  }
  const way = prunedFilterWay(w.n, w.d, count, queries.rows, tree.share, tree.partition.plan);
  if (way === 'clusters') {
    kernels.release(region);
    const search = allowedClusterSearch(kernels, tree, bytes, count);
    return { weights: w, tree: search.tree, searched: found, found, finish: (searched) => searched, release: search.release };
  }
  if (way !== 'pruned') {
    kernels.release(region);
    // The plain filter is the caller's: brute force over it may outlive this call (async), so it reads a copy.
    return overAllowed(way, kernels, w, plain ? bytes.slice() : bytes, options, queries, found, tree.partition.plan.kind === 'boxes');
  }
  return { weights: w, tree: withFilter(tree, region.pointer), searched: found, found, finish: (searched) => searched, release: () => kernels.release(region) };
}

/** A filtered radius search: the weights it searches (undefined: none), and how their answer becomes the call's. */
export interface FilteredRadius {
  readonly weights: Weights | undefined;
  /** The call's answer, with the network's positions, from the search's (empty where there is none). */
  finish(found: RadiusNeighbours): RadiusNeighbours;
  release(): void;
}

/**
 * The points within a radius among those `allowed` marks, the way filteredRadiusWay finds
 * cheapest (`share`: the whole network's search over brute force's, its partition's where one
 * searches); `radius` for the direct way.
 */
export function filteredRadius(kernels: Kernels, w: Weights, allowed: Uint8Array, options: ResolvedOptions, queries: Matrix, radius: number, share = 1): FilteredRadius {
  const count = allowedCount(allowed);
  const way = count === 0 ? 'direct' : filteredRadiusWay(w.n, w.d, count, queries.rows, share, inWasm(options.metric));
  if (way === 'whole') return { weights: w, finish: (found) => dropLeftOut(found, allowed), release: () => {} };
  if (way === 'direct') {
    const found = allowedRadius(kernels, w, allowed, queries, radius, options.metric);
    return { weights: undefined, finish: () => found, release: () => {} };
  }
  const gathered = gatherAllowed(kernels, w, allowed, options);
  return { weights: gathered.weights, finish: (found) => ({ ...found, indices: toNetworkPositions(found.indices, gathered.positions) }), release: gathered.release };
}

/**
 * A one-query plan's parts (SingleQueryPlans) for kneighbors with a plain filter, `width`
 * neighbours: the filter's bytes have a place in the plan's layout (after its outputs), where
 * `ready` copies them and counts them each call, before X is read. Where the network's partition
 * serves `width`, the plan's job is its search restricted to the allowed points, and on brute
 * force its search with the filter in its folds; its alternative,
 * for a metric with direct differences (not 'dot'), is brute force over them in wasm where the
 * storage holds them (allowedDirectNeighbours); singleQueryFilterWay picks per call. It
 * leaves to the general path a filter of the wrong length or with a byte other than 0 or 1
 * (reported there), fewer than `width` allowed, or one that way runs cheaper.
 */
export function filteredSingleQueryParts<R>(context: JobContext, width: number, answer: (found: FoundNeighbours) => R): SingleQueryParts<R, Uint8Array> {
  const { kernels, weights: w, tree, options } = context;
  // A partition searches float64 storage alone; the differences run on either storage.
  const partition = tree?.serves(width) ? tree : undefined;
  if (!inWasm(options.metric) || width > w.n) return { job: EMPTY_JOB, result: () => undefined as R, ready: () => false };
  const indices = new Int32Array(width);
  const squared = new Float64Array(width);
  const countAllowed = kernels.entry('countAllowed') as (bytes: number, n: number) => number;
  const outputBytes = [width * 4, width * 8, Math.max(16, w.n), GROUP_POSITIONS_BYTES];
  const brute = partition ? undefined : bruteNeighbourPlan(context, width);
  const searchPlan = partition ? treeNeighbourPlan(partition, width).plan : brute!.plan;
  return {
    job: {
      plan: { ...searchPlan, outputBytes },
      calls: (count, layout) => {
        const [outIndices, outSquared, allowed] = layout.outputs;
        if (brute) return brute.calls(count, layout.queries, layout.kernelScratch, outIndices, outSquared, allowed);
        return treeNeighbourPlan(withFilter(partition!, allowed), width).calls(count, layout.queries, layout.kernelScratch, outIndices, outSquared);
      },
      collect: (_start, _count, layout) => {
        indices.set(kernels.i32(layout.outputs[0], width));
        squared.set(kernels.f64(layout.outputs[1], width));
      },
    },
    // Direct differences over the allowed points, from X where they lie, into the same outputs.
    alternative: (layout) => {
      const [outIndices, outSquared, allowed, group] = layout.outputs;
      return [allowedDirectCall(w, layout.queries, allowed, group, width, options.metric === 'manhattan', outIndices, outSquared)];
    },
    result: () => answer({ indices: indices.slice(), squared: squared.slice() }),
    ready: (filter, layout) => {
      if (filter.length !== w.n) return false;
      const allowed = layout.outputs[2];
      new Uint8Array(kernels.exports.memory.buffer, allowed, w.n).set(filter);
      const count = countAllowed(allowed, w.n);
      if (count < width) return false;
      const way = singleQueryFilterWay(w.n, w.d, count, partition && { share: partition.share, plan: partition.partition.plan }, w.stored?.unitFactors !== undefined);
      return way === 'direct' ? 'alternative' : way === 'restricted';
    },
  };
}

/** Bytes of the eight positions allowedDirectNeighbours (assembly/filter.ts) collects a group in. */
const GROUP_POSITIONS_BYTES = 32;

/** A job that runs nothing. */
export const EMPTY_JOB: ChunkJob = { plan: { stateBytes: 0, outputBytes: [] }, calls: () => [], collect: () => {} };

/** A filter alone (no classes) as kneighbors' options may give it; undefined for anything else. */
export function plainFilter(options: SearchFilter | undefined): Uint8Array | undefined {
  return options?.classes === undefined && options?.filter instanceof Uint8Array ? options.filter : undefined;
}
