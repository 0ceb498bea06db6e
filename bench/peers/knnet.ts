/**
 * knnet itself: the wasm network (KnnNetwork) and its pure-TypeScript twin (ReferenceNetwork),
 * through the same public API a user calls.
 */
import { KnnNetwork } from '../../src/index.js';
import { ReferenceNetwork } from '../../src/reference.js';
import type { WorkloadData } from '../workloads.js';
import { NOT_YET_SUPPORTED, supportsOption } from './knnetOptions.js';
import type { Implementation, PreparedRun } from './types.js';

/** What the bench uses of a fitted network; KnnNetwork and ReferenceNetwork both provide it. */
interface FittedNetwork {
  predict(queries: { data: Float64Array; rows: number; cols: number }): ArrayLike<number | string>;
  kneighbors(queries: { data: Float64Array; rows: number; cols: number }, k?: number): { indices: Int32Array };
  dispose(): void;
}

type FitFunction = (data: WorkloadData) => Promise<FittedNetwork>;

/** The options a workload fits with: its k, weights, λ and metric. */
function fitOptions(spec: WorkloadData['spec']) {
  return { k: spec.k, weights: spec.weights, lambda: spec.lambda, task: 'classification' as const, metric: spec.metric ?? 'euclidean' };
}

/**
 * Fits a network of either kind to a workload, with the workload's k, weights, λ and metric,
 * and `extra` options (the wasm network only).
 */
export function fitterFor(kind: 'wasm' | 'reference', extra: Record<string, unknown> = {}): FitFunction {
  return async ({ spec, train, labels }) => {
    const matrix = { data: train, rows: spec.n, cols: spec.d };
    return kind === 'wasm'
      ? ((await KnnNetwork.fit(matrix, labels, { ...fitOptions(spec), ...extra })) as FittedNetwork)
      : ((await ReferenceNetwork.fit(matrix, labels, fitOptions(spec))) as FittedNetwork);
  };
}

function knnetImplementation(kind: 'wasm' | 'reference', variant?: { name: string; label: string; extra: Record<string, unknown>; workloads: string[] }): Implementation {
  const fit = fitterFor(kind, variant?.extra);
  return {
    name: variant?.name ?? (kind === 'wasm' ? 'knnet' : 'reference'),
    label: variant?.label ?? (kind === 'wasm' ? 'knnet (wasm)' : 'knnet reference (JS)'),
    precision: 'f64',
    threads: 1,
    unsupported: (spec) => (!variant || variant.workloads.includes(spec.name) ? undefined : `runs on ${variant.workloads.join(' and ')} only`),
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

/** The workloads where a brute-force row stands beside the default one (the per-core comparison with onnxruntime). */
export const BRUTE_ROW_WORKLOADS = ['W2', 'W3'];

/**
 * knnet fitted with algorithm 'brute', on W2 and W3: brute force stays visible beside the
 * default (pruned) rows. Where this knnet has no algorithm option, the row runs the default and
 * its label says so.
 */
export async function knnetBruteImplementation(): Promise<Implementation> {
  const supported = await supportsOption('algorithm', 'brute');
  return knnetImplementation('wasm', {
    name: 'knnet-brute',
    label: `knnet (wasm, algorithm 'brute')${supported ? '' : ` ${NOT_YET_SUPPORTED}`}`,
    extra: supported ? { algorithm: 'brute' } : {},
    workloads: BRUTE_ROW_WORKLOADS,
  });
}

/**
 * knnet on a pool of `threads` workers: predictAsync over the same queries (a call below the
 * pool's threshold runs on the calling thread, as users get it).
 */
export function knnetThreadsImplementation(threads: number): Implementation {
  return {
    name: `knnet-${threads}t`,
    label: `knnet (wasm, ${threads} threads)`,
    precision: 'f64',
    threads,
    unsupported: () => undefined,
    async prepare({ spec, train, labels, queries: allQueries }: WorkloadData, queryCount: number): Promise<PreparedRun> {
      const network = await KnnNetwork.fit({ data: train, rows: spec.n, cols: spec.d }, labels, { ...fitOptions(spec), threads });
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

/** The thread count knnet gives `threads: 'auto'` here (a network of two points, fitted and disposed). */
export async function knnetAutoThreads(): Promise<number> {
  const network = await KnnNetwork.fit({ data: Float64Array.of(0, 1), rows: 2, cols: 1 }, [0, 1], { threads: 'auto' });
  const threads = network.threads;
  network.dispose();
  return threads;
}
