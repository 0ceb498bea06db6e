/** What the embeddings workload needs from each implementation it times in this process. */
import type { EmbeddingsData } from './workload.js';

export interface EmbeddingsIndex {
  /** Seconds to build the index from the Float32Array (conversions the peer's API needs included). */
  buildSeconds: number;
  /** All the queries in one call (or one call each, for a peer without batches): the batch row. */
  searchBatch(): void | Promise<void>;
  /** Query `i` alone: the single-query row. */
  searchOne(i: number): void | Promise<void>;
  /** The k nearest indices of every query (q × k, row-major). */
  neighbours(): Promise<Int32Array>;
  dispose(): void;
}

export interface EmbeddingsImplementation {
  name: string;
  label: string;
  threads: number;
  /** Whether its answers are exact (faiss flat) or approximate (hnswlib: reported by recall@k). */
  exact: boolean;
  note?: string;
  build(data: EmbeddingsData): Promise<EmbeddingsIndex>;
}
