// radiusNeighbors: every training point within a radius of each query, in compressed rows.
// Results are counted before they are allocated: a call whose answer would not fit a typed
// array fails after counting, holding no more than a bounded buffer, instead of after building
// gigabytes of partial results. The searches here list each neighbour's layer-1 value z1 in
// `distances`; the call reports them in its metric (reportedRadius) once its answer is whole, so
// that answers merged from several shards are ordered by the value one network orders them by.
import { KnnError } from './errors.js';
import { align16, type ChunkJob } from './chunkRunner.js';
import type { Matrix } from './matrix.js';
import { layerOneRadiusBound, METRIC_CODES, type Metric, withinRadius } from './metrics.js';
import type { RadiusNeighbours } from './results.js';
import type { Kernels } from './wasm.js';
import { radiusCall } from './pointCalls.js';
import type { Weights } from './weights.js';
import type { TreeSearch } from './treeIndex.js';
import { radiusPartition } from './partitionRadius.js';

/** radiusNeighbors returns at most this many neighbours in all: beyond 2^28 float64s (2 GiB) a typed array cannot be had on every engine. */
export const MAX_RESULT_VALUES = 2 ** 28;
/**
 * Neighbours kept from the counting pass, at most (12 bytes each: 48 MiB). A call whose answer
 * fits is answered in that one pass; past it, the rest are only counted, the answer is
 * allocated once at its exact size, and the queries not kept are searched again to fill it.
 */
let keptWhileCounting = 2 ** 22;

/** For tests: sets how many neighbours the counting pass keeps; returns the previous number. */
export function setRadiusCountingBuffer(entries: number): number {
  const previous = keptWhileCounting;
  keptWhileCounting = entries;
  return previous;
}

/** One query's neighbours: indices and z1 values, nearest first. */
interface QueryNeighbours {
  readonly indices: Int32Array;
  readonly distances: Float64Array;
}

/**
 * Every training point within `radius` (inclusive, in `metric`) of each row of `queries`,
 * nearest first (by z1, ties by index), exact: the points brute force with direct differences
 * finds. Queries run one at a time, with scratch proportional to n.
 */
export function radiusNeighbours(kernels: Kernels, w: Weights, metric: Metric, queries: Matrix, radius: number): RadiusNeighbours {
  const queryBytes = align16(w.d * 8);
  const kernelScratch = align16(kernels.exports.scratchBytes(1, w.d, 0) + w.n * 4);
  const total = queryBytes + kernelScratch + align16(w.n * 4) + w.n * 8;
  kernels.checkRoom(total - kernels.scratchBytesHeld(), `radiusNeighbors on ${w.n} points`);
  const base = kernels.scratch(total);
  const [query, scratch, outIndices, outSquared] = [base, base + queryBytes, base + queryBytes + kernelScratch, base + queryBytes + kernelScratch + align16(w.n * 4)];
  const limit = layerOneRadiusBound(metric, radius);
  const search = (r: number, listing: boolean): number => {
    kernels.f64(query, w.d).set(queries.data.subarray(r * w.d, (r + 1) * w.d));
    const [entry, args] = radiusCall(w, false, [query, limit, radius, METRIC_CODES[metric], listing ? 1 : 0, scratch, outIndices, outSquared]);
    return kernels.entry(entry)(...args) as number;
  };
  const found = (count: number): QueryNeighbours => ({
    indices: kernels.i32(outIndices, count).slice(),
    distances: kernels.f64(outSquared, count).slice(),
  });
  const offsets = new Int32Array(queries.rows + 1);
  const kept: QueryNeighbours[] = [];
  for (let r = 0; r < queries.rows; r++) {
    const listing = kept.length === r && offsets[r] <= keptWhileCounting;
    const count = search(r, listing);
    if (offsets[r] + count > MAX_RESULT_VALUES) {
      throw new KnnError(
        'TOO_LARGE',
        `radiusNeighbors(X, ${radius}) finds more than ${MAX_RESULT_VALUES} neighbours for the first ${r + 1} of ${queries.rows} rows of X, more than a typed array holds here; pass fewer rows of X at a time, or a smaller radius.`,
      );
    }
    offsets[r + 1] = offsets[r] + count;
    if (listing) kept.push(found(count));
  }
  const indices = new Int32Array(offsets[queries.rows]);
  const distances = new Float64Array(offsets[queries.rows]);
  for (let r = 0; r < queries.rows; r++) {
    const part = r < kept.length ? kept[r] : (search(r, true), found(offsets[r + 1] - offsets[r]));
    indices.set(part.indices, offsets[r]);
    distances.set(part.distances, offsets[r]);
  }
  return { offsets, indices, distances };
}

/**
 * radiusNeighbours as a pooled call: `run` runs a job over the queries (on the pool when it is
 * large enough). A first pass counts each query's neighbours, so the answer is allocated once
 * at its size (or refused, TOO_LARGE, holding nothing); a second lists them into it. The same
 * kernels answer each query as the one-thread call does, bit for bit.
 */
export async function radiusNeighboursPooled(
  kernels: Kernels, w: Weights, metric: Metric, queries: Matrix, radius: number, run: (job: ChunkJob) => Promise<void>,
): Promise<RadiusNeighbours> {
  const limit = layerOneRadiusBound(metric, radius);
  // The kernel's list of candidates (n entries) lies in its scratch, after scratchBytes(1, d, 0):
  // a chunk's scratch of q states of n·4 bytes has room for it.
  const listRoom = w.n * 4;
  const rowsJob = (listing: boolean, collect: ChunkJob['collect']): ChunkJob => ({
    plan: { stateBytes: listRoom, outputBytes: listing ? [4, w.n * 4, w.n * 8] : [4] },
    calls: (count, layout) => [
      radiusCall(w, true, [
        layout.queries, count, limit, radius, METRIC_CODES[metric], listing ? 1 : 0, layout.kernelScratch,
        layout.outputs[0], layout.outputs[1] ?? 0, layout.outputs[2] ?? 0,
      ]),
    ],
    collect,
  });
  const counts = new Int32Array(queries.rows);
  await run(rowsJob(false, (start, count, layout) => counts.set(kernels.i32(layout.outputs[0], count), start)));
  const offsets = new Int32Array(queries.rows + 1);
  for (let r = 0; r < queries.rows; r++) {
    if (offsets[r] + counts[r] > MAX_RESULT_VALUES) {
      throw new KnnError(
        'TOO_LARGE',
        `radiusNeighborsAsync(X, ${radius}) finds more than ${MAX_RESULT_VALUES} neighbours for the first ${r + 1} of ${queries.rows} rows of X, more than a typed array holds here; pass fewer rows of X at a time, or a smaller radius.`,
      );
    }
    offsets[r + 1] = offsets[r] + counts[r];
  }
  const indices = new Int32Array(offsets[queries.rows]);
  const distances = new Float64Array(offsets[queries.rows]);
  await run(rowsJob(true, (start, count, layout) => {
    for (let r = start; r < start + count; r++) {
      const found = counts[r];
      const at = (r - start) * w.n;
      indices.set(kernels.i32(layout.outputs[1] + at * 4, found), offsets[r]);
      distances.set(kernels.f64(layout.outputs[2] + at * 8, found), offsets[r]);
    }
  }));
  return { offsets, indices, distances };
}

/**
 * radiusNeighbours over the network's partition (searchAlgorithm 'tree'): the same answer, bit
 * for bit. The partition's search keeps every point whose value is within layer 1's bound on
 * the radius (nodes beyond it skipped, nodes wholly inside counted by their size), counted over
 * the call before anything is allocated; then, as brute force, only the points whose reported
 * distance is ≤ radius stay, in the same order (by value, ties by caller index). It runs on
 * the calling thread, for the async form too.
 */
export function radiusNeighboursTree(kernels: Kernels, tree: TreeSearch, metric: Metric, queries: Matrix, radius: number, call: string): RadiusNeighbours {
  const limit = layerOneRadiusBound(metric, radius);
  const within = radiusPartition(kernels, tree.partition, tree.layers, queries, limit, tree.manhattan, (total) => {
    if (total > MAX_RESULT_VALUES) {
      throw new KnnError('TOO_LARGE', `${call} finds more than ${MAX_RESULT_VALUES} neighbours for the ${queries.rows} rows of X, more than a typed array holds here; pass fewer rows of X at a time, or a smaller radius.`);
    }
  });
  const offsets = new Int32Array(queries.rows + 1);
  const kept = new Uint8Array(within.values.length);
  for (let r = 0; r < queries.rows; r++) {
    let count = 0;
    for (let at = within.offsets[r]; at < within.offsets[r + 1]; at++) {
      if (withinRadius(metric, within.values[at], radius)) {
        kept[at] = 1;
        count++;
      }
    }
    offsets[r + 1] = offsets[r] + count;
  }
  const indices = new Int32Array(offsets[queries.rows]);
  const distances = new Float64Array(offsets[queries.rows]);
  let next = 0;
  for (let at = 0; at < kept.length; at++) {
    if (!kept[at]) continue;
    indices[next] = within.indices[at];
    distances[next++] = within.values[at];
  }
  return { offsets, indices, distances };
}

/** The radius search on this thread: over the partition where one runs (`tree`), else brute force. */
export function radiusOnThisThread(kernels: Kernels, w: Weights, tree: TreeSearch | undefined, metric: Metric, queries: Matrix, radius: number, call: string): RadiusNeighbours {
  return tree ? radiusNeighboursTree(kernels, tree, metric, queries, radius, call) : radiusNeighbours(kernels, w, metric, queries, radius);
}
