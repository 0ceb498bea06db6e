/**
 * faiss-node: Node bindings of faiss, whose flat indexes are exhaustive exact search (float32
 * arithmetic, BLAS for batches). `IndexFlatIP` ranks unit vectors by cosine; `IndexFlatL2` by
 * Euclidean distance, the same order on unit vectors. Its `add` and `search` take number[], so
 * the build converts the Float32Array in chunks (counted in the build time: a user pays it).
 * One thread: OpenMP and OpenBLAS read their thread counts when the addon loads, so they are set
 * in the environment before the import.
 */
import { importPeer } from '../peers/resolve.js';
import type { EmbeddingsImplementation, EmbeddingsIndex } from './types.js';
import type { EmbeddingsData } from './workload.js';

interface FlatIndex {
  add(values: number[]): void;
  search(queries: number[], k: number): { distances: number[]; labels: number[] };
}
interface FaissModule {
  IndexFlatIP: new (d: number) => FlatIndex;
  IndexFlatL2: new (d: number) => FlatIndex;
}

/** faiss-node from bench/node_modules, on one thread (PeerUnavailable when it is not installed). */
export async function importFaissNode(): Promise<FaissModule> {
  process.env.OMP_NUM_THREADS = '1';
  process.env.OPENBLAS_NUM_THREADS = '1';
  const module = await importPeer<FaissModule & { default?: FaissModule }>('faiss-node');
  return module.IndexFlatIP ? module : module.default!;
}

const ADD_ROWS = 10_000;

export function faissNodeImplementation(faiss: FaissModule, kind: 'ip' | 'l2'): EmbeddingsImplementation {
  return {
    name: `faiss-node-${kind}`,
    label: `faiss-node IndexFlat${kind === 'ip' ? 'IP' : 'L2'} (1 thread)`,
    threads: 1,
    exact: true,
    note: 'faiss-node: number[] in and out; the build converts the Float32Array in chunks of 10 000 rows',
    async build({ spec, train, queries }: EmbeddingsData): Promise<EmbeddingsIndex> {
      const index = kind === 'ip' ? new faiss.IndexFlatIP(spec.d) : new faiss.IndexFlatL2(spec.d);
      const start = performance.now();
      for (let row = 0; row < spec.n; row += ADD_ROWS) {
        index.add(Array.from(train.subarray(row * spec.d, Math.min(row + ADD_ROWS, spec.n) * spec.d)));
      }
      const buildSeconds = (performance.now() - start) / 1e3;
      const batch = Array.from(queries);
      const rows = Array.from({ length: spec.q }, (_, i) => Array.from(queries.subarray(i * spec.d, (i + 1) * spec.d)));
      return {
        buildSeconds,
        searchBatch: () => void index.search(batch, spec.k),
        searchOne: (i) => void index.search(rows[i], spec.k),
        neighbours: async () => Int32Array.from(index.search(batch, spec.k).labels),
        dispose() {},
      };
    },
  };
}
