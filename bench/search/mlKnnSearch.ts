/**
 * ml-knn on the search workloads: its classifier builds a k-d tree over number[][] rows and
 * answers `predict` (labels only: it exposes no neighbour indices, so its answers are not
 * compared with knnet's). Its predict is what is timed: the tree search and a k-vote per query.
 * It takes seconds a query at a million points and about 40 s to build there, so it is built
 * once, whatever the other rows' build repeats.
 */
import type { KnnConstructor } from '../peers/mlKnn.js';
import { toRows } from '../workloads.js';
import type { SearchImplementation, SearchIndex } from './types.js';
import type { SearchData } from './workloads.js';

export function mlKnnSearchImplementation(KNN: KnnConstructor): SearchImplementation {
  return {
    name: 'ml-knn',
    label: 'ml-knn (JS)',
    threads: 1,
    note: 'ml-knn: timed through predict (its k-d tree search plus a k-vote), as it exposes no neighbour indices; not compared for agreement; built once',
    async build(data: SearchData): Promise<SearchIndex> {
      const { spec } = data;
      const points = toRows(data.train, spec.n, spec.d);
      const labels = Array.from(data.labels);
      const queries = toRows(data.queries, spec.q, spec.d);
      const start = performance.now();
      const built = new KNN(points, labels, { k: spec.k });
      const buildSeconds = (performance.now() - start) / 1e3;
      const prefixes = new Map<number, number[][]>();
      return {
        buildSeconds,
        ran: '',
        search(count) {
          let prefix = prefixes.get(count);
          if (!prefix) prefixes.set(count, (prefix = queries.slice(0, count)));
          built.predict(prefix);
        },
        dispose() {},
      };
    },
  };
}
