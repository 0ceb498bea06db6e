/**
 * knnet on the search workloads: `kneighbors` (or `kneighborsAsync` on a pool) over the
 * queries, on networks fitted with `algorithm` 'auto', 'tree' or 'brute' through the pending-
 * options adapter, so a row asked for an algorithm this knnet lacks runs the default and says so.
 */
import type { KnnNetwork } from '../../src/index.js';
import { fitWithPending, type Algorithm } from '../peers/knnetOptions.js';
import { bestOf } from './timing.js';
import type { SearchImplementation, SearchIndex } from './types.js';
import { queryMatrix, type SearchData } from './workloads.js';

/** knnet asked for `algorithm`, on `threads` threads (above one: kneighborsAsync on a pool). */
export function knnetSearchImplementation(algorithm: Algorithm, threads = 1): SearchImplementation {
  const suffix = threads === 1 ? '' : `-${threads}t`;
  return {
    name: `knnet-${algorithm}${suffix}`,
    label: `knnet '${algorithm}'${threads === 1 ? '' : `, ${threads} threads`}`,
    threads,
    async build(data: SearchData, buildRepeats: number): Promise<SearchIndex> {
      const { spec } = data;
      const matrix = { data: data.train, rows: spec.n, cols: spec.d };
      const base = threads === 1 ? { k: spec.k } : { k: spec.k, threads };
      const { value: fitted, seconds } = await bestOf(
        buildRepeats, () => fitWithPending(matrix, data.labels, base, { algorithm }), ({ network }) => network.dispose(),
      );
      const network: KnnNetwork = fitted.network;
      const kneighbors = (count: number) =>
        threads === 1 ? network.kneighbors(queryMatrix(data, count), spec.k) : network.kneighborsAsync(queryMatrix(data, count), spec.k);
      return {
        buildSeconds: seconds,
        ran: fitted.ran,
        search: threads === 1 ? (count) => void kneighbors(count) : async (count) => void (await kneighbors(count)),
        neighbours: async (count) => (await kneighbors(count)).indices,
        dispose: () => network.dispose(),
      };
    },
  };
}
