// A call split by training rows: each of the pool's workers takes a slice of the training
// points over all the queries, and this thread merges the slices' results. The neighbour search
// merges per-slice k-nearest lists; the softmax over all points merges its fixed blocks' states
// in the same tree a one-thread call uses. Either way the answer is the one-thread call's, bit for bit.
import { align16, type ChunkJob, type MergeStep } from './chunkRunner.js';
import { metricCode, outputLayer, searchCapacity, type FoundNeighbours, type Given, type JobContext } from './jobs.js';
import { layerOneCall, searchCall } from './pointCalls.js';
import { neighbourSliceCount } from './planner.js';
import { mergeNeighbourLists } from './neighbourMerge.js';

/**
 * A call split by training rows: one job per slice, each run by its own worker over all the
 * queries; `sharedBytes` of scratch every slice writes into (its pointer is each layout's
 * `shared`), and `merge` of the slices' results on this thread, into `given`.
 */
export interface SlicePlan extends MergeStep {
  readonly jobs: ChunkJob[];
  readonly given: Given;
}

/**
 * The neighbour search in slices of whole panels, for `rows` queries on `threads` workers.
 * Each slice's list is its exact k nearest by (squared distance, index), its distances computed
 * directly as the whole search computes them, so the k best of their union by the same order
 * are the whole search's answer, bit for bit. Undefined when n has too few panels to slice.
 */
export function neighbourSlices(context: JobContext, rows: number, k: number, threads: number): SlicePlan | undefined {
  const { kernels, weights: w, options } = context;
  const panels = Math.ceil(w.n / 8);
  const slices = neighbourSliceCount(w.n, threads);
  if (slices < 2) return undefined;
  const slicePanels = Math.ceil(panels / slices);
  const parts: FoundNeighbours[] = [];
  const firsts: number[] = [];
  const jobs: ChunkJob[] = [];
  for (let first = 0; first < panels; first += slicePanels) {
    const start = first * 8;
    const n = Math.min((first + slicePanels) * 8, w.n) - start;
    const sliceK = Math.min(k, n);
    const capacity = searchCapacity(w, n, sliceK);
    const part = { indices: new Int32Array(rows * sliceK), squared: new Float64Array(rows * sliceK) };
    parts.push(part);
    firsts.push(start);
    jobs.push({
      plan: { stateBytes: kernels.exports.topKStateBytes(capacity), outputBytes: [sliceK * 4, sliceK * 8] },
      calls: (count, layout) => [
        searchCall(w, metricCode(options), [layout.queries, count, sliceK, capacity, layout.kernelScratch, layout.outputs[0], layout.outputs[1]], start, n),
      ],
      collect: (at, count, layout) => {
        part.indices.set(kernels.i32(layout.outputs[0], count * sliceK), at * sliceK);
        part.squared.set(kernels.f64(layout.outputs[1], count * sliceK), at * sliceK);
      },
    });
  }
  const found = { indices: new Int32Array(rows * k), squared: new Float64Array(rows * k) };
  const merge = (): void => {
    const merged = mergeNeighbourLists(parts, firsts, rows, k);
    found.indices.set(merged.indices);
    found.squared.set(merged.squared);
  };
  return { jobs, sharedBytes: 0, given: found, merge };
}

/**
 * The softmax over all points in slices of its fixed blocks: each worker folds its blocks into
 * their states (in the shared scratch), and this thread merges every query's states in the
 * blocks' fixed tree, as the one-thread call does, bit for bit.
 */
export function softmaxSlices(context: JobContext, rows: number, threads: number): SlicePlan | undefined {
  const { kernels, weights: w, options } = context;
  const exports = kernels.exports;
  const { labels, classes, regression } = outputLayer(context);
  const blocks = exports.softmaxBlockCount(w.n, w.d, classes);
  const slices = Math.min(threads, blocks);
  if (slices < 2) return undefined;
  const { lambda } = options;
  const statesBytes = align16(rows * exports.softmaxQueryStateBytes(w.n, w.d, classes));
  const jobs: ChunkJob[] = [];
  for (let slice = 0; slice < slices; slice++) {
    const first = Math.floor((slice * blocks) / slices);
    const end = Math.floor(((slice + 1) * blocks) / slices);
    jobs.push({
      plan: { stateBytes: 0, outputBytes: [] },
      calls: (count, layout) => [
        layerOneCall('softmaxBlockStates', w, [
          w.norms.pointer, w.mean.pointer, w.n, w.d, labels, regression ? labels : 0, classes, regression ? 1 : 0, lambda,
          layout.queries, count, layout.kernelScratch, first, end, layout.shared!, metricCode(options),
        ]),
      ],
      collect: () => {},
    });
  }
  const scores = new Float64Array(rows * classes);
  const merge = (shared: number): void => {
    exports.softmaxMergeBlocks(shared, w.n, w.d, rows, classes, lambda, shared + statesBytes);
    scores.set(kernels.f64(shared + statesBytes, rows * classes));
  };
  return { jobs, sharedBytes: statesBytes + rows * classes * 8, given: { scores }, merge };
}
