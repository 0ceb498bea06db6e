/** What the search workloads need from each implementation they time in this process. */
import type { SearchData, SearchSpec } from './workloads.js';

/** One implementation built on one workload's training points, ready to answer its queries. */
export interface SearchIndex {
  /** Best seconds of the builds (knnet: fit; a tree: its construction). */
  buildSeconds: number;
  /** What ran, where it is not simply what the row's name says (an option left out, the algorithm picked). */
  ran: string;
  /** Answers the first `count` queries, k nearest each: the timed operation. */
  search(count: number): void | Promise<void>;
  /** The k nearest training indices of the first `count` queries (count × k, row-major), when the implementation gives them. */
  neighbours?(count: number): Promise<Int32Array>;
  dispose(): void | Promise<void>;
}

export interface SearchImplementation {
  /** Command-line name (`--impl knnet-tree`). */
  name: string;
  /** Row label in the tables. */
  label: string;
  /** Threads one call runs on. */
  threads: number;
  /** Said once under the table. */
  note?: string;
  /** Why it cannot run this workload, or undefined when it can. */
  unsupported?(spec: SearchSpec): string | undefined;
  build(data: SearchData, buildRepeats: number): Promise<SearchIndex>;
}
