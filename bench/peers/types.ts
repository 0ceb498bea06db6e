/** What the benchmark needs from each implementation it compares. */
import type { WorkloadData, WorkloadSpec } from '../workloads.js';

/** One implementation, fitted to one workload and ready to be timed. */
export interface PreparedRun {
  /** How many of the workload's queries `predict` answers (a prefix, for slow peers). */
  queryCount: number;
  /** Predicts labels for those queries once: the timed operation. */
  predict(): void | Promise<void>;
  /** The labels `predict` gives, as class indices. */
  predictions(): Promise<ArrayLike<number>>;
  /** The k nearest training indices per query (q × k, row-major), when the implementation exposes them. */
  neighbours?(): Promise<Int32Array>;
  dispose(): void | Promise<void>;
}

export interface Implementation {
  /** Command-line name (`--impl naive`). */
  name: string;
  /** Column label in the tables. */
  label: string;
  precision: 'f64' | 'f32';
  /** Threads one call runs on (1 for every single-threaded implementation). */
  threads: number;
  /** Said once under the table (e.g. "float32 only"). */
  note?: string;
  /** Why this implementation cannot run this workload, or undefined when it can. */
  unsupported(spec: WorkloadSpec): string | undefined;
  /** Fewer queries than the workload's, for peers too slow to answer them all in a quick run. */
  queryLimit?(spec: WorkloadSpec): number;
  prepare(data: WorkloadData, queryCount: number): Promise<PreparedRun>;
}

/**
 * `implementation` prepared on `data` for as many of `spec`'s queries as it takes, or undefined
 * (said on the console) when it cannot run `spec`. A failure to prepare is thrown.
 */
export async function prepareIfSupported(implementation: Implementation, spec: WorkloadSpec, data: WorkloadData): Promise<PreparedRun | undefined> {
  const reason = implementation.unsupported(spec);
  if (reason) {
    console.log(`  ${implementation.label}: skipped (${reason})`);
    return undefined;
  }
  return implementation.prepare(data, Math.min(spec.q, implementation.queryLimit?.(spec) ?? spec.q));
}

/** Which implementation ran which workload, how precisely, on how many queries: the start of every measurement. */
export interface MeasuredRun {
  workload: string;
  implementation: string;
  label: string;
  precision: 'f64' | 'f32';
  /** Threads one call runs on. */
  threads: number;
  /** Queries actually timed (a prefix for slow peers). */
  queries: number;
}

/** Thrown by an adapter whose package is not installed: the bench prints the reason and skips it. */
export class PeerUnavailable extends Error {
  override name = 'PeerUnavailable';
}
