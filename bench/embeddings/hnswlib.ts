/**
 * hnswlib-node: an approximate graph index (HNSW), the one most JS vector stores wrap. Its
 * answers are not exact, so its rows report recall@k against knnet's exact answers rather than
 * agreement. The index is built point by point (`addPoint` takes number[]), in the 'cosine'
 * space, with M and efConstruction as below; a query's `ef` (candidates kept while searching)
 * sets the recall it buys, so two rows: ef = k (hnswlib's default is 10, k here) and ef = 100.
 */
import { importPeer } from '../peers/resolve.js';
import type { EmbeddingsImplementation, EmbeddingsIndex } from './types.js';
import type { EmbeddingsData } from './workload.js';

interface HierarchicalNSW {
  initIndex(maxElements: number, m?: number, efConstruction?: number, randomSeed?: number): void;
  addPoint(point: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
}
export interface HnswModule {
  HierarchicalNSW: new (space: 'cosine' | 'l2' | 'ip', dimensions: number) => HierarchicalNSW;
}

export const HNSW_M = 16;
export const HNSW_EF_CONSTRUCTION = 100;
const HNSW_SEED = 100;

/** hnswlib-node from bench/node_modules (PeerUnavailable when it is not installed). */
export async function importHnswlib(): Promise<HnswModule> {
  const module = await importPeer<HnswModule & { default?: HnswModule }>('hnswlib-node');
  return module.HierarchicalNSW ? module : module.default!;
}

/** The graph of `data`'s vectors, built point by point; progress every 30 s. */
function buildGraph(hnswlib: HnswModule, data: EmbeddingsData): { index: HierarchicalNSW; buildSeconds: number } {
  const { n, d } = data.spec;
  const index = new hnswlib.HierarchicalNSW('cosine', d);
  const start = performance.now();
  index.initIndex(n, HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_SEED);
  let reported = start;
  for (let i = 0; i < n; i++) {
    index.addPoint(Array.from(data.train.subarray(i * d, (i + 1) * d)), i);
    if (performance.now() - reported > 30_000) {
      reported = performance.now();
      console.log(`    hnswlib: ${i + 1} of ${n} points added (${((reported - start) / 1e3).toFixed(0)} s)`);
    }
  }
  return { index, buildSeconds: (performance.now() - start) / 1e3 };
}

/**
 * hnswlib's rows, one per `ef`. Building takes minutes at a million points, so the rows share
 * one graph, built by the first row to run on a data set; each row only sets its `ef`, and
 * reports the graph's build time.
 */
export function hnswlibImplementations(hnswlib: HnswModule, efs: readonly number[] = [10, 100]): EmbeddingsImplementation[] {
  let built: { data: EmbeddingsData; graph: ReturnType<typeof buildGraph> } | undefined;
  const graphOf = (data: EmbeddingsData) => {
    if (built?.data !== data) {
      built = undefined; // the previous graph can go before the next is built
      built = { data, graph: buildGraph(hnswlib, data) };
    }
    return built.graph;
  };
  return efs.map((ef) => ({
    name: `hnswlib-ef${ef}`,
    label: `hnswlib-node (HNSW, ef = ${ef})`,
    threads: 1,
    exact: false,
    note: `hnswlib-node: approximate; M = ${HNSW_M}, efConstruction = ${HNSW_EF_CONSTRUCTION}, one graph for its rows (each reports its build time), ` +
      'one searchKnn call per query (number[] in)',
    async build(data: EmbeddingsData): Promise<EmbeddingsIndex> {
      const { spec, queries } = data;
      const graph = graphOf(data);
      const rows = Array.from({ length: spec.q }, (_, i) => Array.from(queries.subarray(i * spec.d, (i + 1) * spec.d)));
      const searchOne = (i: number) => graph.index.searchKnn(rows[i], spec.k);
      return {
        buildSeconds: graph.buildSeconds,
        searchBatch() {
          graph.index.setEf(ef);
          for (let i = 0; i < spec.q; i++) searchOne(i);
        },
        searchOne(i) {
          graph.index.setEf(ef);
          searchOne(i);
        },
        async neighbours() {
          graph.index.setEf(ef);
          const out = new Int32Array(spec.q * spec.k).fill(-1);
          // The order within a row does not matter for recall.
          for (let i = 0; i < spec.q; i++) searchOne(i).neighbors.forEach((index, slot) => (out[i * spec.k + slot] = index));
          return out;
        },
        dispose() {},
      };
    },
  }));
}
