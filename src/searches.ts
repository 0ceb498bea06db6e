// The neighbour searches' work besides checking their arguments: kneighbors' job (over the
// network's points or those a filter allows, by brute force or the partition) and the radius
// search on this thread or the pool. KnnNetwork checks the call and hands its parts here.
import type { CallOptions } from './callOptions.js';
import type { ChunkJob } from './chunkRunner.js';
import { allowedPoints, gatherAllowed, toNetworkPositions } from './filters.js';
import { neighboursJob, type FoundNeighbours, type JobContext } from './jobs.js';
import type { Matrix } from './matrix.js';
import { checkOutputSize, padNeighbours, reportedNeighbours } from './neighbourLists.js';
import { neighbourCount, type SearchFilter } from './options.js';
import type { PooledCalls } from './pooledCalls.js';
import { radiusNeighboursPooled, radiusOnThisThread } from './radius.js';
import type { Neighbours, RadiusNeighbours } from './results.js';
import type { TreeSearch } from './treeIndex.js';
import type { Weights } from './weights.js';

/** What a network's searches read: its job context (kernels, weights, options, partition), its pool, and how it adds ids. */
export interface SearchSurface {
  readonly context: JobContext;
  readonly pooled: PooledCalls;
  withIds<R extends { indices: Int32Array }>(result: R): R;
}

/** The options of the searches besides a long call's. */
export const FILTER_OPTIONS = ['filter', 'classes'];

/** A radius search of `rows` queries that found nothing. */
const emptyRadius = (rows: number): RadiusNeighbours => ({ offsets: new Int32Array(rows + 1), indices: new Int32Array(0), distances: new Float64Array(0) });

/** The width of kneighbors' rows for `k` (`ownK`, the network's, by default) on n points: k ≤ n on a fitted network, any k on a created one (`capped`). */
export function neighbourWidth(k: number | 'all' | undefined, n: number, ownK: number | 'all', capped: boolean): number {
  const asked = k === undefined ? ownK : k;
  if (asked === 'all') return n;
  return neighbourCount(asked, capped ? Number.MAX_SAFE_INTEGER : n, 'k');
}

/** Neighbour lists as kneighbors reports them: distances in the metric, ids where the network has them. */
export function reported(s: SearchSurface, found: FoundNeighbours): Neighbours {
  return s.withIds(reportedNeighbours(found, s.context.options.metric));
}

/**
 * kneighbors' job for k (the network's own when undefined; a cap when `capped`): over the network's points, or over those
 * `filter` allows, gathered for the call (`release` frees them; `context` is what the job
 * reads: a gathered set is searched by brute force).
 */
export function kneighborsJob(s: SearchSurface, queries: Matrix, k: number | 'all' | undefined, capped: boolean, filter: SearchFilter | undefined, call: string) {
  const { kernels, weights: w, options } = s.context;
  const width = neighbourWidth(k, w.n, options.k, capped);
  const asked = k ?? options.k;
  checkOutputSize(queries.rows, width, `kneighbors(X, ${asked === 'all' ? "'all'" : asked}) returns q × k`, 'pass fewer rows of X at a time, or ask for fewer neighbours');
  const allowed = allowedPoints(filter, w, options.task, () => kernels.i32(w.labels!.pointer, w.n), call);
  const gathered = allowed && gatherAllowed(kernels, w, allowed, options);
  const context = gathered?.weights ? { ...s.context, weights: gathered.weights, tree: undefined } : s.context;
  const found = Math.min(width, gathered ? gathered.positions.length : w.n);
  // Nothing allowed: no search, every row padded.
  const searched = found > 0 ? neighboursJob(context, queries.rows, found) : { job: { plan: { stateBytes: 0, outputBytes: [] }, calls: () => [], collect: () => {} } as ChunkJob, indices: new Int32Array(0), squared: new Float64Array(0) };
  const finish = (given?: FoundNeighbours): Neighbours => {
    const { indices, squared } = given ?? searched;
    if (gathered) toNetworkPositions(indices, gathered.positions);
    return reported(s, padNeighbours({ indices, squared }, queries.rows, found, width));
  };
  return { job: searched.job, found, context, finish, release: () => gathered?.release() };
}

/**
 * The weights a radius search reads: the network's (with its partition, where one runs), or the
 * points `filter` allows gathered for the call (undefined when none is). `finish` maps a radius
 * result's positions back and adds ids; `release` frees what was gathered.
 */
function searchedPoints(s: SearchSurface, filter: SearchFilter | undefined, call: string): {
  weights: Weights | undefined; tree?: TreeSearch; finish: (found: RadiusNeighbours) => RadiusNeighbours; release: () => void;
} {
  const { kernels, weights: w, options, tree } = s.context;
  const allowed = allowedPoints(filter, w, options.task, () => kernels.i32(w.labels!.pointer, w.n), call);
  if (!allowed) return { weights: w, tree, finish: (found) => s.withIds(found), release: () => {} };
  const gathered = gatherAllowed(kernels, w, allowed, options);
  const finish = (found: RadiusNeighbours): RadiusNeighbours => s.withIds({ ...found, indices: toNetworkPositions(found.indices, gathered.positions) });
  return { weights: gathered.weights, finish, release: gathered.release };
}

/** radiusNeighbors on this thread; `call` names it in errors. */
export function radiusSearch(s: SearchSurface, queries: Matrix, radius: number, filter: SearchFilter | undefined, call: string): RadiusNeighbours {
  const searched = searchedPoints(s, filter, `${call.slice(0, -1)}, options)`);
  try {
    const w = searched.weights;
    return searched.finish(w ? radiusOnThisThread(s.context.kernels, w, searched.tree, s.context.options.metric, queries, radius, call) : emptyRadius(queries.rows));
  } finally {
    searched.release();
  }
}

/**
 * radiusNeighborsAsync: on the pool when the call is large enough (a count pass, then a list
 * pass), else on this thread; the partition's radius search always runs on this thread.
 */
export async function radiusSearchAsync(s: SearchSurface, queries: Matrix, radius: number, filter: SearchFilter | undefined, callOptions: CallOptions | undefined, call: string): Promise<RadiusNeighbours> {
  const searched = searchedPoints(s, filter, `${call.slice(0, -1)}, options)`);
  const { kernels, options } = s.context;
  try {
    const w = searched.weights;
    if (!w) return searched.finish(emptyRadius(queries.rows));
    if (searched.tree || !s.pooled.usesPool({ ...s.context, weights: w }, queries.rows)) {
      callOptions?.signal?.throwIfAborted();
      const found = radiusOnThisThread(kernels, w, searched.tree, options.metric, queries, radius, call);
      callOptions?.onProgress?.(1);
      return searched.finish(found);
    }
    const passes = (run: (job: ChunkJob) => Promise<void>) => radiusNeighboursPooled(kernels, w, options.metric, queries, radius, run);
    return searched.finish(await s.pooled.runPasses(queries, passes, 2, callOptions));
  } finally {
    searched.release();
  }
}
