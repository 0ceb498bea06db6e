/**
 * static-kdtree (mikolalysenko): the k-d tree on npm for points in a few dimensions. Built from
 * number[][] rows, as its README shows; `knn(point, k)` answers one query per call. The adapter
 * takes the loaded module, so Node (importPeer) and the Chromium page (a bundle served beside it)
 * share it.
 */
import { toRows } from '../workloads.js';
import type { SearchImplementation, SearchIndex } from './types.js';
import type { SearchData } from './workloads.js';

interface StaticKdTree {
  knn(point: ArrayLike<number>, k: number): number[];
  dispose(): void;
}
export type CreateKdTree = (points: number[][]) => StaticKdTree;

export function staticKdtreeImplementation(createKdTree: CreateKdTree): SearchImplementation {
  return {
    name: 'static-kdtree',
    label: 'static-kdtree (JS)',
    threads: 1,
    note: 'static-kdtree: built from number[][] rows; one knn(point, k) call per query',
    async build(data: SearchData, buildRepeats: number): Promise<SearchIndex> {
      const { spec } = data;
      const points = toRows(data.train, spec.n, spec.d);
      const queries = toRows(data.queries, spec.q, spec.d);
      let tree: StaticKdTree | undefined;
      let best = Infinity;
      for (let repeat = 0; repeat < buildRepeats; repeat++) {
        tree?.dispose();
        const start = performance.now();
        tree = createKdTree(points);
        best = Math.min(best, (performance.now() - start) / 1e3);
      }
      const built = tree!;
      const answer = (count: number, out?: Int32Array) => {
        for (let query = 0; query < count; query++) {
          const found = built.knn(queries[query], spec.k);
          if (out) for (let slot = 0; slot < spec.k; slot++) out[query * spec.k + slot] = found[slot] ?? -1;
        }
      };
      return {
        buildSeconds: best,
        ran: '',
        search: (count) => answer(count),
        async neighbours(count) {
          const out = new Int32Array(count * spec.k);
          answer(count, out);
          return out;
        },
        dispose: () => built.dispose(),
      };
    },
  };
}
