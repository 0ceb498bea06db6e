// The neighbour searches' work besides checking their arguments: kneighbors' job (over the
// network's points or those a filter allows, by brute force or the partition) and the radius
// search on this thread or the pool. KnnNetwork checks the call and hands its parts here.
import type { CallOptions } from './callOptions.js';
import type { ChunkJob } from './chunkRunner.js';
import { allowedPoints, EMPTY_JOB, emptyRadius, filteredNeighbours, filteredRadius, filteredTreeNeighbours, type FilteredNeighbours } from './filters.js';
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
  /** Runs a job here (a filter's rows searched again). */
  run(queries: Matrix, job: ChunkJob): void;
}

export { FILTER_OPTIONS } from './filters.js';

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
 * kneighbors' job for k (the network's own when undefined; a cap when `capped`), `searched`
 * neighbours a row deep: over the network's points, or as a filter's search runs (filters.ts:
 * the partition's search restricted to the allowed points; else the whole network a little
 * deeper, the allowed points gathered — searched by brute force — or none, brute force over
 * them in finish). `release` frees what was gathered; `context` is what the job reads;
 * `finishFound` is `finish` with z1 values for distances, without ids.
 */
export function kneighborsJob(s: SearchSurface, queries: Matrix, k: number | 'all' | undefined, capped: boolean, filter: SearchFilter | undefined, call: string) {
  const { kernels, weights: w, options } = s.context;
  const width = neighbourWidth(k, w.n, options.k, capped);
  const asked = k ?? options.k;
  checkOutputSize(queries.rows, width, `kneighbors(X, ${asked === 'all' ? "'all'" : asked}) returns q × k`, 'pass fewer rows of X at a time, or ask for fewer neighbours');
  const labels = () => kernels.i32(w.labels!.pointer, w.n);
  const tree = s.context.tree?.serves(Math.min(width, w.n)) ? s.context.tree : undefined;
  let filtered: FilteredNeighbours | undefined;
  if (tree) filtered = filteredTreeNeighbours(kernels, w, tree, filter, options, labels, queries, width, call);
  else {
    const allowed = allowedPoints(filter, w, options.task, labels, call);
    filtered = allowed && filteredNeighbours(kernels, w, allowed, options, queries, width, s.run);
  }
  const context = filtered && (filtered.tree || filtered.weights !== w) ? { ...s.context, weights: filtered.weights, tree: filtered.tree } : s.context;
  const searched = filtered ? filtered.searched : Math.min(width, w.n);
  // No search (nothing allowed, or brute force over the allowed points): an empty job.
  const search = searched > 0 ? neighboursJob(context, queries.rows, searched) : { job: EMPTY_JOB, indices: new Int32Array(0), squared: new Float64Array(0) };
  // The answer with z1 values for distances (what a sharded network merges), and as reported.
  const finishFound = (given?: FoundNeighbours): FoundNeighbours => {
    const found = given ?? search;
    return padNeighbours(filtered ? filtered.finish(found) : found, queries.rows, filtered ? filtered.found : searched, width);
  };
  const finish = (given?: FoundNeighbours): Neighbours => reported(s, finishFound(given));
  return { job: search.job, searched, context, finish, finishFound, release: () => filtered?.release() };
}

/**
 * The weights a radius search of `queries` reads: the network's (with its partition, where one
 * runs), or as a filter's search runs (filters.ts; undefined: none). `finish` turns the
 * search's answer into the call's and adds ids; `release` frees what was gathered.
 */
function searchedPoints(s: SearchSurface, filter: SearchFilter | undefined, queries: Matrix, radius: number, call: string): {
  weights: Weights | undefined; tree?: TreeSearch; finish: (found: RadiusNeighbours) => RadiusNeighbours; release: () => void;
} {
  const { kernels, weights: w, options, tree } = s.context;
  const allowed = allowedPoints(filter, w, options.task, () => kernels.i32(w.labels!.pointer, w.n), call);
  if (!allowed) return { weights: w, tree, finish: (found) => s.withIds(found), release: () => {} };
  const filtered = filteredRadius(kernels, w, allowed, options, queries, radius, tree?.share);
  return { ...filtered, tree: filtered.weights === w ? tree : undefined, finish: (found) => s.withIds(filtered.finish(found)) };
}

/** radiusNeighbors on this thread, with z1 values for distances (see reportedRadius); `call` names it in errors. */
export function radiusSearch(s: SearchSurface, queries: Matrix, radius: number, filter: SearchFilter | undefined, call: string): RadiusNeighbours {
  const searched = searchedPoints(s, filter, queries, radius, `${call.slice(0, -1)}, options)`);
  try {
    const w = searched.weights;
    return searched.finish(w ? radiusOnThisThread(s.context.kernels, w, searched.tree, s.context.options.metric, queries, radius, call) : emptyRadius(queries.rows));
  } finally {
    searched.release();
  }
}

/**
 * radiusNeighborsAsync, with z1 values for distances (see reportedRadius): on the pool when the
 * call is large enough (a count pass, then a list pass), else on this thread; the partition's
 * radius search always runs on this thread.
 */
export async function radiusSearchAsync(s: SearchSurface, queries: Matrix, radius: number, filter: SearchFilter | undefined, callOptions: CallOptions | undefined, call: string): Promise<RadiusNeighbours> {
  const searched = searchedPoints(s, filter, queries, radius, `${call.slice(0, -1)}, options)`);
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
