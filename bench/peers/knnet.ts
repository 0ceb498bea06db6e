/**
 * knnet itself: the wasm network (KnnNetwork) and its pure-TypeScript twin (ReferenceNetwork),
 * through the same public API a user calls.
 */
import { KnnNetwork } from '../../src/index.js';
import { ReferenceNetwork } from '../../src/reference.js';
import type { WorkloadData, WorkloadSpec } from '../workloads.js';
import type { Implementation, PreparedRun } from './types.js';

/** What the bench uses of a fitted network; KnnNetwork and ReferenceNetwork both provide it. */
interface FittedNetwork {
  predict(queries: { data: Float64Array; rows: number; cols: number }): ArrayLike<number | string>;
  kneighbors(queries: { data: Float64Array; rows: number; cols: number }, k?: number): { indices: Int32Array };
  dispose(): void;
}

type FitFunction = (data: WorkloadData) => Promise<FittedNetwork>;

/** The fit options of a workload: its k, weights, λ and metric. */
const fitOptions = (spec: WorkloadSpec) =>
  ({ k: spec.k, weights: spec.weights, lambda: spec.lambda, task: 'classification' as const, metric: spec.metric ?? 'euclidean' });

/** Fits a network of either kind to a workload, with the workload's k, weights, λ and metric. */
export function fitterFor(kind: 'wasm' | 'reference'): FitFunction {
  return async ({ spec, train, labels }) => {
    const matrix = { data: train, rows: spec.n, cols: spec.d };
    const options = fitOptions(spec);
    return kind === 'wasm'
      ? ((await KnnNetwork.fit(matrix, labels, options)) as FittedNetwork)
      : ((await ReferenceNetwork.fit(matrix, labels, options)) as FittedNetwork);
  };
}

function knnetImplementation(kind: 'wasm' | 'reference'): Implementation {
  const fit = fitterFor(kind);
  return {
    name: kind === 'wasm' ? 'knnet' : 'reference',
    label: kind === 'wasm' ? 'knnet (wasm)' : 'knnet reference (JS)',
    precision: 'f64',
    unsupported: () => undefined,
    async prepare(data: WorkloadData, queryCount: number): Promise<PreparedRun> {
      const network = await fit(data);
      const queries = { data: data.queries.subarray(0, queryCount * data.spec.d), rows: queryCount, cols: data.spec.d };
      let last: ArrayLike<number | string> | undefined;
      const predict = () => {
        last = network.predict(queries);
      };
      const k = data.spec.k;
      return {
        queryCount,
        predict,
        async predictions() {
          if (!last) predict();
          return Array.from(last!, Number);
        },
        neighbours: k === 'all' ? undefined : async () => network.kneighbors(queries, k).indices,
        dispose: () => network.dispose(),
      };
    },
  };
}

export const knnetWasmImplementation = knnetImplementation('wasm');

/**
 * knnet on a pool of `threads` workers: predictAsync over the same queries (a call below the
 * pool's threshold runs on the calling thread, as users get it).
 */
export function knnetThreadsImplementation(threads: number): Implementation {
  return {
    name: `knnet-${threads}t`,
    label: `knnet (wasm, ${threads} threads)`,
    precision: 'f64',
    unsupported: () => undefined,
    async prepare({ spec, train, labels, queries: allQueries }: WorkloadData, queryCount: number): Promise<PreparedRun> {
      const options = { ...fitOptions(spec), threads };
      const network = await KnnNetwork.fit({ data: train, rows: spec.n, cols: spec.d }, labels, options);
      const queries = { data: allQueries.subarray(0, queryCount * spec.d), rows: queryCount, cols: spec.d };
      let last: ArrayLike<number> | undefined;
      const predict = async () => {
        last = await network.predictAsync(queries);
      };
      await predict(); // starts the workers outside the timing
      const k = spec.k;
      return {
        queryCount,
        predict,
        predictions: async () => Array.from(last!, Number),
        neighbours: k === 'all' ? undefined : async () => (await network.kneighborsAsync(queries, k)).indices,
        dispose: () => network.dispose(),
      };
    },
  };
}
export const knnetReferenceImplementation = knnetImplementation('reference');
