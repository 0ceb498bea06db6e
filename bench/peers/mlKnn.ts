/**
 * ml-knn (mljs): the k-nearest-neighbour classifier most npm users find first. It builds a
 * k-d tree over number[][] rows; in 64 or 128 dimensions the tree prunes almost nothing, so it
 * is slow on W2/W3 and the bench times it on a prefix of the queries. It exposes predictions
 * only (no neighbour indices), and has no softmax mode.
 */
import { toRows, type WorkloadData, type WorkloadSpec } from '../workloads.js';
import { importPeer } from './resolve.js';
import type { Implementation, PreparedRun } from './types.js';

interface KnnClassifier {
  predict(rows: number[][]): number[];
}
export type KnnConstructor = new (dataset: number[][], labels: number[], options: { k: number }) => KnnClassifier;

/** ml-knn's classifier class, from bench/node_modules (PeerUnavailable when it is not installed). */
export async function importMlKnn(): Promise<KnnConstructor> {
  const module = await importPeer<{ default: KnnConstructor | { default: KnnConstructor } }>('ml-knn');
  // CommonJS build: the class may sit one `default` deeper.
  const exported = module.default;
  return (typeof exported === 'function' ? exported : exported.default) as KnnConstructor;
}

export async function createMlKnnImplementation(): Promise<Implementation> {
  const KNN = await importMlKnn();
  return {
    name: 'ml-knn',
    label: 'ml-knn',
    precision: 'f64',
    threads: 1,
    note: 'ml-knn: k-d tree over number[][]; timed on a prefix of the queries where slow (see "queries timed")',
    unsupported: (spec) => {
      if (spec.k === 'all' || spec.weights !== 'uniform') return 'ml-knn has only uniform top-k';
      // The cosine rows compare knnet with the approaches of the embeddings use case (TF.js's
      // knn-classifier, onnxruntime, the naive loop), not with a k-d tree.
      return spec.metric === 'cosine' ? 'not run on the cosine workload' : undefined;
    },
    // About 60 queries/s on W2 and 6 on W3 here: a prefix keeps a quick run short.
    queryLimit: (spec: WorkloadSpec) => Math.min(spec.q, spec.n * spec.d > 1e6 ? 5 : spec.n * spec.d > 1e5 ? 20 : spec.q),
    async prepare(data: WorkloadData, queryCount: number): Promise<PreparedRun> {
      const { spec } = data;
      const classifier = new KNN(toRows(data.train, spec.n, spec.d), Array.from(data.labels), { k: spec.k as number });
      const rows = toRows(data.queries, queryCount, spec.d);
      let last: number[] | undefined;
      const predict = () => {
        last = classifier.predict(rows);
      };
      return {
        queryCount,
        predict,
        async predictions() {
          if (!last) predict();
          return last!;
        },
        dispose() {},
      };
    },
  };
}
