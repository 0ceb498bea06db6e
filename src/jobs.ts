// The jobs of a network's calls: for each method, the kernel entries that compute a chunk of
// queries and how to read their outputs (ChunkJob), built from the weights as they are when the
// call starts. A job captures those weights: an add or a remove during an async call replaces
// the network's, not the job's. The runner (chunkRunner.ts) runs a job here or on the pool.
import type { ChunkJob } from './chunkRunner.js';
import type { Label } from './labels.js';
import { METRIC_CODES } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import { candidateCapacity } from './planner.js';
import { layerOneCall, searchCall } from './pointCalls.js';
import type { Kernels } from './wasm.js';
import type { Weights } from './weights.js';
import type { KernelCall } from './workerPool.js';
import { treeNeighbourPlan, type TreeSearch } from './treeIndex.js';

/** Layer-2 weighting codes shared with assembly/project.ts. */
const WEIGHTING_CODES = { uniform: 0, distance: 1, softmax: 2 } as const;
/** 'distance' votes when the metric's distance is a constant multiple of z1 (cosine), not √z1. */
const DISTANCE_PROPORTIONAL_CODE = 3;

/**
 * What every job of one call reads: the kernels, the weights as the call found them, the
 * options, and how many nearest neighbours vote (undefined for the softmax over every point).
 */
export interface JobContext {
  readonly kernels: Kernels;
  readonly weights: Weights;
  readonly options: ResolvedOptions;
  readonly votes: number | undefined;
  /** The pruned search over the weights' partition, where it runs (searchAlgorithm 'tree'); else brute force. */
  readonly tree?: TreeSearch;
}

/** Layer 3's weights W3 in wasm memory: class codes (or targets) and how many outputs. */
export interface Projection {
  readonly labels: number;
  readonly classes: number;
  readonly regression: boolean;
}

/** Exact k nearest neighbours of q queries: indices and squared distances, q × k each, nearest first. */
export interface FoundNeighbours {
  readonly indices: Int32Array;
  readonly squared: Float64Array;
}

/** Layer 3's q × classes scores of the softmax over all points, merged from every block. */
export interface MergedScores {
  readonly scores: Float64Array;
}

/** What a call split by training rows computed on the pool, for the job that finishes it here. */
export type Given = FoundNeighbours | MergedScores;

const isMergedScores = (given: Given | undefined): given is MergedScores => given !== undefined && 'scores' in given;

/** Layer 2's weighting as assembly/project.ts takes it, for the network's weights and metric. */
export function weightingCode({ weights, metric }: ResolvedOptions): number {
  return weights === 'distance' && metric !== 'euclidean' ? DISTANCE_PROPORTIONAL_CODE : WEIGHTING_CODES[weights];
}

/** The metric's code as the kernels take it (Manhattan and dot run on X's panels, not W1). */
export function metricCode(options: ResolvedOptions): number {
  return METRIC_CODES[options.metric];
}

/** Whether layer 2 is the softmax over every point, which no neighbour search serves. */
export function softmaxOverAll(options: ResolvedOptions): boolean {
  return options.k === 'all' && options.weights === 'softmax';
}

/** W3 as the network holds it: class codes, or regression targets (a network with labels only). */
export function outputLayer({ weights: w, options }: JobContext): Projection {
  const regression = options.task === 'regression';
  return { labels: w.labels!.pointer, classes: regression ? 1 : w.classes.length, regression };
}

/** How many candidates a search of n points keeps per query: k on direct differences, k plus a margin on the expansion. */
export function searchCapacity(w: Weights, n: number, k: number): number {
  return w.direct ? k : candidateCapacity(n, k);
}

/**
 * The exact k-nearest search's job; `after` adds calls on each chunk's outputs, `use` reads
 * them. With `given`, the neighbours were found already (split by training rows): each chunk
 * copies its rows of them in, in place of the search.
 */
export function neighbourJob(
  context: JobContext, k: number, extraOutputBytes: number[],
  after: (count: number, outputs: number[]) => KernelCall[],
  use: (start: number, count: number, outputs: number[]) => void,
  given?: FoundNeighbours,
): ChunkJob {
  const { kernels } = context;
  if (given) {
    return {
      plan: { stateBytes: 0, outputBytes: [k * 4, k * 8, ...extraOutputBytes] },
      prepare: (start, count, layout) => {
        kernels.i32(layout.outputs[0], count * k).set(given.indices.subarray(start * k, (start + count) * k));
        kernels.f64(layout.outputs[1], count * k).set(given.squared.subarray(start * k, (start + count) * k));
      },
      calls: (count, layout) => after(count, layout.outputs),
      collect: (start, count, layout) => use(start, count, layout.outputs),
    };
  }
  if (context.tree?.serves(k)) {
    const tree = treeNeighbourPlan(context.tree, k);
    return {
      plan: { ...tree.plan, outputBytes: [k * 4, k * 8, ...extraOutputBytes] },
      calls: (count, layout) => [...tree.calls(count, layout.queries, layout.kernelScratch, layout.outputs[0], layout.outputs[1]), ...after(count, layout.outputs)],
      collect: (start, count, layout) => use(start, count, layout.outputs),
    };
  }
  const brute = bruteNeighbourPlan(context, k);
  return {
    plan: { ...brute.plan, outputBytes: [k * 4, k * 8, ...extraOutputBytes] },
    calls: (count, layout) => [...brute.calls(count, layout.queries, layout.kernelScratch, layout.outputs[0], layout.outputs[1]), ...after(count, layout.outputs)],
    collect: (start, count, layout) => use(start, count, layout.outputs),
  };
}

/**
 * The chunk plan and kernel call of brute force's k-nearest search over the whole network (as
 * treeNeighbourPlan is the partition's): indices and squared distances (Manhattan: distances),
 * k per query; with `allowed` (a filter's bytes in wasm memory) over the allowed points alone.
 */
export function bruteNeighbourPlan(context: JobContext, k: number): {
  plan: { stateBytes: number };
  calls: (count: number, queries: number, scratch: number, outIndices: number, outSquared: number, allowed?: number) => KernelCall[];
} {
  const { kernels, weights: w, options } = context;
  const capacity = searchCapacity(w, w.n, k);
  return {
    plan: { stateBytes: kernels.exports.topKStateBytes(capacity) },
    calls: (count, queries, scratch, outIndices, outSquared, allowed = 0) => [
      searchCall(w, metricCode(options), [queries, count, k, capacity, scratch, outIndices, outSquared], 0, w.n, allowed),
    ],
  };
}

/** The k nearest neighbours, exact: indices and squared distances, q × k each. */
export function neighboursJob(context: JobContext, rows: number, k: number): { job: ChunkJob } & FoundNeighbours {
  const { kernels } = context;
  const indices = new Int32Array(rows * k);
  const squared = new Float64Array(rows * k);
  const job = neighbourJob(context, k, [], () => [], (start, count, [outIndices, outSquared]) => {
    indices.set(kernels.i32(outIndices, count * k), start * k);
    squared.set(kernels.f64(outSquared, count * k), start * k);
  });
  return { job, indices, squared };
}

/**
 * Layers 2 and 3 as a job: `after` adds calls on each chunk's q × classes scores (and one
 * region per entry of `extraOutputBytes`), `use` reads them. `projection` is W3 — the
 * network's own labels or targets, or (for `forward`'s z2) the identity, which turns the
 * projection into the weights.
 */
export function projectJob(
  context: JobContext, projection: Projection, extraOutputBytes: number[],
  after: (count: number, scores: number, extra: number[]) => KernelCall[],
  use: (start: number, count: number, scores: number, extra: number[]) => void,
  given?: Given,
): ChunkJob {
  const { kernels, weights: w, options } = context;
  const { lambda } = options;
  const { labels, classes, regression } = projection;
  const targets = regression ? labels : 0;
  if (isMergedScores(given)) {
    return {
      plan: { stateBytes: 0, outputBytes: [classes * 8, ...extraOutputBytes] },
      prepare: (start, count, layout) => kernels.f64(layout.outputs[0], count * classes).set(given.scores.subarray(start * classes, (start + count) * classes)),
      calls: (count, layout) => after(count, layout.outputs[0], layout.outputs.slice(1)),
      collect: (start, count, layout) => use(start, count, layout.outputs[0], layout.outputs.slice(1)),
    };
  }
  if (context.votes === undefined) {
    return {
      plan: { stateBytes: kernels.exports.softmaxQueryStateBytes(w.n, w.d, classes), outputBytes: [classes * 8, ...extraOutputBytes] },
      calls: (count, layout) => {
        const [scores, ...extra] = layout.outputs;
        return [
          layerOneCall('softmaxScores', w, [
            w.norms.pointer, w.mean.pointer, w.n, w.d, labels, targets, classes, regression ? 1 : 0, lambda,
            layout.queries, count, layout.kernelScratch, scores, metricCode(options),
          ]),
          ...after(count, scores, extra),
        ];
      },
      collect: (start, count, layout) => use(start, count, layout.outputs[0], layout.outputs.slice(1)),
    };
  }
  const k = context.votes;
  return neighbourJob(
    context, k, [classes * 8, ...extraOutputBytes],
    (count, [outIndices, outSquared, scores, ...extra]) => [
      ['projectOneHot', [outIndices, outSquared, count, k, labels, targets, classes, regression ? 1 : 0, weightingCode(options), lambda, scores]],
      ...after(count, scores, extra),
    ],
    (start, count, [, , scores, ...extra]) => use(start, count, scores, extra),
    given,
  );
}

/** Layers 2 and 3 as a q × classes Float64Array (see projectJob). */
export function scoresJob(context: JobContext, rows: number, projection: Projection, given?: Given): { job: ChunkJob; scores: Float64Array } {
  const { kernels } = context;
  const { classes } = projection;
  const scores = new Float64Array(rows * classes);
  const job = projectJob(context, projection, [], () => [], (start, count, chunkScores) => {
    scores.set(kernels.f64(chunkScores, count * classes), start * classes);
  }, given);
  return { job, scores };
}

/** The predicted class labels: the argmax of each row of scores, taken in wasm. */
export function predictLabelsJob(context: JobContext, rows: number, given?: Given): { job: ChunkJob; predicted: Label[] } {
  const { kernels, weights: w } = context;
  const { classes } = w;
  const predicted = new Array<Label>(rows);
  const job = projectJob(
    context, outputLayer(context), [4],
    (count, scores, [best]) => [['argmaxRows', [scores, count, classes.length, best]]],
    (start, count, _scores, [best]) => {
      const codes = kernels.heap.i32;
      for (let r = 0; r < count; r++) predicted[start + r] = classes[codes[(best >> 2) + r]];
    },
    given,
  );
  return { job, predicted };
}

/** predict's job: labels, or a regressor's estimates. */
export function predictJob(context: JobContext, rows: number, given?: Given): { job: ChunkJob; result: () => Label[] | Float64Array } {
  if (context.options.task === 'regression') {
    const { job, scores } = scoresJob(context, rows, outputLayer(context), given);
    return { job, result: () => scores };
  }
  const { job, predicted } = predictLabelsJob(context, rows, given);
  return { job, result: () => predicted };
}

/** Layer 1 itself, q × n squared distances, for `forward`. */
function layerOneJob(context: JobContext, rows: number): { job: ChunkJob; z1: Float64Array } {
  const { kernels, weights: w, options } = context;
  const z1 = new Float64Array(rows * w.n);
  const job: ChunkJob = {
    plan: { stateBytes: 0, outputBytes: [w.n * 8] },
    calls: (count, layout) => [
      layerOneCall('layerOneDistances', w, [w.norms.pointer, w.mean.pointer, w.n, w.d, layout.queries, count, layout.kernelScratch, layout.outputs[0], metricCode(options)]),
    ],
    collect: (start, count, layout) => z1.set(kernels.f64(layout.outputs[0], count * w.n), start * w.n),
  };
  return { job, z1 };
}

/**
 * The three layers' activations for `queries` (forward), each job run by `run`: z1, layer 1
 * itself; z2, layer 3 with the identity for W3 (each training point its own class), which
 * turns the projection into the weights; z3, the network's own projection.
 */
export function forwardLayers(context: JobContext, queries: { rows: number }, run: (job: ChunkJob) => void): { z1: Float64Array; z2: Float64Array; z3: Float64Array } {
  const { kernels, weights: w } = context;
  const layerOne = layerOneJob(context, queries.rows);
  run(layerOne.job);
  kernels.checkRoom(w.n * 4, 'forward');
  const identity = kernels.allocate(w.n * 4, 'forward');
  try {
    const view = kernels.i32(identity.pointer, w.n);
    for (let i = 0; i < w.n; i++) view[i] = i;
    const layerTwo = scoresJob(context, queries.rows, { labels: identity.pointer, classes: w.n, regression: false });
    run(layerTwo.job);
    const layerThree = scoresJob(context, queries.rows, outputLayer(context));
    run(layerThree.job);
    return { z1: layerOne.z1, z2: layerTwo.scores, z3: layerThree.scores };
  } finally {
    kernels.release(identity);
  }
}
