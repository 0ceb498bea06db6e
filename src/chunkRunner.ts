// The runner of a network's calls: a call is a job (the kernel entries that compute a chunk of
// queries, and how to read their outputs), run over the queries in chunks whose scratch stays
// bounded whatever the number of queries: on the calling thread for the sync methods, or on a
// pool of workers over the shared memory for the async ones.
import type { Kernels, Region } from './wasm.js';
import type { Matrix } from './matrix.js';
import { SMALLEST_PART_QUERIES } from './planner.js';
import type { CallOptions } from './callOptions.js';
import { poolOfNetwork, WorkerPool, type KernelCall, type PoolWorker } from './workerPool.js';

// One chunk of queries may use about this much scratch (inputs, reducer state, outputs).
const CHUNK_BUDGET_BYTES = 4 * 1024 * 1024;
const MAX_CHUNK_QUERIES = 256;

export const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Below this much work (queries × training points × max(features, 4), about one multiply-add
 * each) an async call runs on the calling thread. A call on the pool costs a round trip
 * (measured: about 0.03 ms for one worker and two queries, 0.15 ms for iris-size, 45 queries
 * on two workers) plus starting its parts; at 5·10⁵ the pool took 2.8× the sync time, at
 * 2·10⁶ about 0.85× (on a shared, loaded 2-core machine).
 */
let poolThresholdWork = 1 << 21;

/** For tests: sets the size below which async calls run on the calling thread (0: every call of two or more queries goes to the pool); returns the previous size. */
export function setPoolThreshold(work: number): number {
  const previous = poolThresholdWork;
  poolThresholdWork = work;
  return previous;
}

/** What one chunk of queries needs besides its raw rows: reducer state and output bytes. */
export interface ChunkPlan {
  readonly stateBytes: number;
  readonly outputBytes: readonly number[];
  /** The kernels' scratch of a chunk of `chunk` queries, where it is not the stream's (scratchBytes): the pruned search's. */
  readonly kernelScratchBytes?: (chunk: number) => number;
  /** Queries per chunk, at most, where more than MAX_CHUNK_QUERIES pay (the pruned search sorts a large chunk by subtree). */
  readonly largestChunk?: number;
}

/** Where a chunk's pieces live in its scratch region. */
export interface ChunkLayout {
  readonly queries: number;
  readonly outputs: number[];
  readonly kernelScratch: number;
  /** Scratch shared by every part of a pooled call (MergeStep.sharedBytes). */
  readonly shared?: number;
}

/**
 * One call's work on a chunk of queries, whichever thread runs it: `calls` are the kernel
 * entries that compute the chunk (run here, or sent to a worker), `collect` copies its outputs
 * out of wasm memory, on the calling thread, once they are done.
 */
export interface ChunkJob {
  readonly plan: ChunkPlan;
  /** Writes what the calls read besides the queries (neighbours found elsewhere), before them. */
  prepare?(start: number, count: number, layout: ChunkLayout): void;
  calls(count: number, layout: ChunkLayout): KernelCall[];
  collect(start: number, count: number, layout: ChunkLayout): void;
}

/** Byte offsets of a chunk's pieces in its scratch region, and the region's size. */
export interface ChunkShape {
  readonly chunk: number;
  readonly outputs: readonly number[];
  readonly kernelScratch: number;
  readonly total: number;
}

/** One part of a call on the pool: `job` over `count` queries from `start`, in a chunk of `shape`. */
export interface PoolPart {
  readonly job: ChunkJob;
  readonly shape: ChunkShape;
  readonly start: number;
  readonly count: number;
}

/** What runs on the calling thread once every part of a pooled call is done. */
export interface MergeStep {
  /** Scratch every part may write (each layout's `shared`); none when 0. */
  readonly sharedBytes: number;
  merge(shared: number): void;
}

/** The layout of a chunk of `shape` in the region at `base`. */
function layoutAt(shape: ChunkShape, base: number, shared?: number): ChunkLayout {
  return { queries: base, outputs: shape.outputs.map((o) => base + o), kernelScratch: base + shape.kernelScratch, shared };
}

/**
 * Releases the scratch regions of a pooled call once its workers have answered or stopped,
 * except one whose worker was stopped mid-call without a confirmation that its thread has (a
 * Web Worker): that region stays allocated, a small leak rather than a write into memory
 * handed to someone else.
 */
function releaseAfterWorkers(kernels: Kernels, regions: Region[], workers: PoolWorker[]): void {
  regions.forEach((region, slot) => {
    if (!workers[slot]?.mayStillRun) kernels.release(region);
  });
}

/** Ends the pool of a network collected without dispose(). */
const poolFinalizer = new FinalizationRegistry<WorkerPool>((pool) => pool.dispose());

/** Runs one network's jobs: here, or on its pool of `threads` workers (started on first use). */
export class ChunkRunner {
  readonly threads: number;
  readonly #kernels: Kernels;
  /** The network: its collection ends the pool, and tests find the pool by it. */
  readonly #owner: object;
  #pool: WorkerPool | undefined;

  constructor(kernels: Kernels, threads: number, owner: object) {
    this.#kernels = kernels;
    this.threads = threads;
    this.#owner = owner;
  }

  /**
   * How a job of `plan` lays out a chunk of at most `limit` of `rows` d-wide queries (and at
   * most the chunk that CHUNK_BUDGET_BYTES allows): raw rows, the outputs, then the kernels' scratch.
   */
  shape(rows: number, d: number, plan: ChunkPlan, limit = rows): ChunkShape {
    const outputPerQuery = plan.outputBytes.reduce((a, b) => a + b, 0);
    // Raw rows, their centred copy in the kernels' pair layout, a norm, reducer state, outputs.
    const perQuery = d * 8 + d * 8 + 16 + plan.stateBytes + outputPerQuery;
    const largest = plan.largestChunk ?? MAX_CHUNK_QUERIES;
    const budget = plan.largestChunk ? 4 * CHUNK_BUDGET_BYTES : CHUNK_BUDGET_BYTES;
    const chunk = Math.max(1, Math.min(rows, limit, largest, Math.floor(budget / perQuery)));
    const outputs: number[] = [];
    let offset = align16(chunk * d * 8);
    for (const bytes of plan.outputBytes) {
      outputs.push(offset);
      offset += align16(chunk * bytes);
    }
    const total = offset + (plan.kernelScratchBytes ? plan.kernelScratchBytes(chunk) : this.#kernels.exports.scratchBytes(chunk, d, plan.stateBytes));
    return { chunk, outputs, kernelScratch: offset, total };
  }

  /**
   * Runs `job` over `queries` on this thread, in chunks sized to CHUNK_BUDGET_BYTES, in the
   * kernels' scratch region; views are made after the scratch is (re)allocated, never kept
   * across it.
   */
  run(queries: Matrix, job: ChunkJob): void {
    const kernels = this.#kernels;
    const d = queries.cols;
    const shape = this.shape(queries.rows, d, job.plan);
    kernels.checkRoom(shape.total - kernels.scratchBytesHeld(), `a chunk of ${shape.chunk} queries`);
    const layout = layoutAt(shape, kernels.scratch(shape.total));
    for (let start = 0; start < queries.rows; start += shape.chunk) {
      const count = Math.min(shape.chunk, queries.rows - start);
      kernels.f64(layout.queries, count * d).set(queries.data.subarray(start * d, (start + count) * d));
      job.prepare?.(start, count, layout);
      for (const [name, args] of job.calls(count, layout)) (kernels.exports[name] as (...values: readonly number[]) => unknown)(...args);
      job.collect(start, count, layout);
    }
  }

  /** Whether an async call of `rows` queries on n d-wide points goes to the pool (else it runs here). */
  usesPool(rows: number, n: number, d: number, fewestRows = 2): boolean {
    return this.threads > 1 && rows >= fewestRows && rows * n * Math.max(d, 4) >= poolThresholdWork;
  }

  /**
   * Runs `job` over `queries` on the pool, split by query rows: the rows are cut into parts of
   * one chunk each, taken by the workers in turn. Every query is computed whole by one worker
   * with the same kernels as on this thread, so the result is bit for bit the same whatever the
   * thread count.
   */
  async runOnPool(queries: Matrix, job: ChunkJob, call?: CallOptions): Promise<void> {
    const perWorker = Math.max(SMALLEST_PART_QUERIES, Math.ceil(queries.rows / this.threads));
    const shape = this.shape(queries.rows, queries.cols, job.plan, perWorker);
    const parts: PoolPart[] = [];
    for (let start = 0; start < queries.rows; start += shape.chunk) {
      parts.push({ job, shape, start, count: Math.min(shape.chunk, queries.rows - start) });
    }
    await this.runParts(queries, parts, `${Math.min(this.threads, parts.length)} chunks of ${shape.chunk} queries`, undefined, call);
  }

  /**
   * Runs `parts` on the pool: each worker takes the next part until none is left, in a scratch
   * region of its own (allocated here, in the shared memory, to fit any part), and each part's
   * outputs are collected here as it finishes. `merged.merge` then runs here, on a region of
   * `merged.sharedBytes` that every part may write. `call.signal` stops the parts not yet
   * started (the call then rejects with its reason); `call.onProgress` hears after each part.
   */
  async runParts(queries: Matrix, parts: PoolPart[], what: string, merged?: MergeStep, call?: CallOptions): Promise<void> {
    call?.signal?.throwIfAborted();
    const kernels = this.#kernels;
    const d = queries.cols;
    const pool = (this.#pool ??= this.#startPool());
    const workers = Math.min(pool.size, parts.length);
    // Each region ends with a word the worker's fence uses.
    const regionBytes = Math.max(...parts.map((part) => part.shape.total)) + 16;
    kernels.checkRoom(workers * regionBytes + (merged?.sharedBytes ?? 0), what);
    const regions: Region[] = [];
    const ran: Promise<void>[] = [];
    const assigned: PoolWorker[] = [];
    let shared: Region | undefined;
    let next = 0;
    let done = 0;
    let failed = false;
    let dispatched = false;
    try {
      if (merged && merged.sharedBytes > 0) shared = kernels.allocate(merged.sharedBytes, what);
      for (let slot = 0; slot < workers; slot++) regions.push(kernels.allocate(regionBytes, what));
      for (let slot = 0; slot < workers; slot++) {
        const worker = pool.worker(slot);
        assigned.push(worker);
        const fence = regions[slot].pointer + regionBytes - 16;
        ran.push((async () => {
          while (!failed && next < parts.length) {
            call?.signal?.throwIfAborted();
            const { job, shape, start, count } = parts[next++];
            const layout = layoutAt(shape, regions[slot].pointer, shared?.pointer);
            kernels.f64(layout.queries, count * d).set(queries.data.subarray(start * d, (start + count) * d));
            job.prepare?.(start, count, layout);
            await worker.run(job.calls(count, layout), fence, pool.memory);
            job.collect(start, count, layout);
            call?.onProgress?.(++done / parts.length);
          }
        })().catch((error: unknown) => {
          failed = true;
          throw error;
        }));
      }
      dispatched = true;
    } finally {
      // A region is released only once no worker can still write to it (releaseAfterWorkers).
      const settled = await Promise.allSettled(ran);
      const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      // The merge reads what every part wrote: only once all ran (a throw here, before they all
      // started, leaves the shared scratch unwritten, and propagates).
      if (!failure && dispatched) merged?.merge(shared?.pointer ?? 0);
      releaseAfterWorkers(kernels, regions, assigned);
      // Every part may write the shared region: it stays while any of their workers may still run.
      if (shared && !assigned.some((worker) => worker.mayStillRun)) kernels.release(shared);
      if (failure) throw failure.reason;
    }
  }

  /** Starts the pool's workers (a network with one thread has none) and settles once each is ready. */
  async ready(): Promise<void> {
    if (this.threads > 1) await (this.#pool ??= this.#startPool()).start();
  }

  #startPool(): WorkerPool {
    const shared = this.#kernels.shared;
    if (!shared) throw new Error('a network with threads runs on the shared-memory kernels');
    const pool = new WorkerPool(shared, this.threads);
    poolFinalizer.register(this.#owner, pool, this);
    poolOfNetwork.set(this.#owner, pool);
    return pool;
  }

  /** Ends the pool, if one was started: calls still on it are rejected. */
  dispose(): void {
    this.#pool?.dispose();
    this.#pool = undefined;
    poolFinalizer.unregister(this);
  }
}
