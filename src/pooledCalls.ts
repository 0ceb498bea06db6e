// The async methods' scheduling: whether a call goes to the worker pool, and how it is split
// there (by queries, or by training rows with a merge here). Async calls on one network run one
// after another, each reading the weights as they were when it was queued (heldWeights.ts).
import type { CallOptions } from './callOptions.js';
import type { ChunkJob, ChunkRunner } from './chunkRunner.js';
import type { HeldWeights } from './heldWeights.js';
import type { Given, JobContext } from './jobs.js';
import type { Matrix } from './matrix.js';
import { splitsByTrainingRows } from './planner.js';
import { neighbourSlices, softmaxSlices } from './trainingRowSlices.js';

/** A call split by training rows: what it fills, and how to run it (see PooledCalls.splitByTrainingRows). */
export interface TrainingRowSplit {
  readonly given: Given;
  run(finish: () => void): Promise<void>;
}

export class PooledCalls {
  readonly #runner: ChunkRunner;
  readonly #held: HeldWeights;
  readonly #threads: number;

  constructor(runner: ChunkRunner, held: HeldWeights, threads: number) {
    this.#runner = runner;
    this.#held = held;
    this.#threads = threads;
  }

  /** Whether an async call of `rows` queries on `context`'s weights goes to the pool (else it runs on this thread). */
  usesPool(context: JobContext, rows: number, fewestRows = 2): boolean {
    const { n, d } = context.weights;
    return this.#runner.usesPool(rows, n, d, fewestRows);
  }

  /**
   * Runs `job` over `queries` for an async method: on the pool when the call is large enough,
   * else here. Async calls on one network are queued, one at a time; those on other networks
   * (each with a pool of its own) run side by side. `call` may abort the call (see CallOptions).
   * `finish`, when given, runs once the job is done, while the call still holds the weights.
   */
  async run(context: JobContext, queries: Matrix, job: ChunkJob, call?: CallOptions, finish?: () => void): Promise<void> {
    if (!this.usesPool(context, queries.rows)) {
      call?.signal?.throwIfAborted();
      this.#runner.run(queries, job);
      finish?.();
      call?.onProgress?.(1);
      return;
    }
    // `queries` is the network's own copy of the caller's rows (toMatrix): what the caller does
    // to its array while the call waits on the queue cannot reach it.
    await this.#held.queued(async () => {
      await this.#runner.runOnPool(queries, job, call);
      finish?.();
    });
  }

  /**
   * Runs the job `make` builds for `queries`, with the neighbour search's `k` (undefined for
   * the softmax over all points): split by training rows, whose merged result the job then
   * finishes here (`make` receives it), or by queries. Returns the job's result.
   */
  async runSplit<R>(context: JobContext, queries: Matrix, k: number | undefined, make: (given?: Given) => { job: ChunkJob; result: () => R }, call?: CallOptions): Promise<R> {
    const split = this.splitByTrainingRows(context, queries, k, call);
    const { job, result } = make(split?.given);
    if (split) await split.run(() => this.#runner.run(queries, job));
    else await this.run(context, queries, job, call);
    return result();
  }

  /**
   * Runs `passes` (`count` of them) as one queued call on the pool: each job it runs goes over
   * all of `queries`, split by queries, and every pass reads the weights as they were when the
   * call was queued. `call` may abort it; its progress counts the passes.
   */
  async runPasses<R>(queries: Matrix, passes: (run: (job: ChunkJob) => Promise<void>) => Promise<R>, count: number, call?: CallOptions): Promise<R> {
    let result: R | undefined;
    let pass = 0;
    await this.#held.queued(async () => {
      result = await passes((job) => {
        const first = pass++;
        const onProgress = call?.onProgress && ((done: number) => call.onProgress!((first + done) / count));
        return this.#runner.runOnPool(queries, job, call && { signal: call.signal, onProgress });
      });
    });
    return result!;
  }

  /**
   * A call split by training rows, each worker taking a slice of them and this thread merging
   * the slices' results: undefined when the call is better split by queries (enough queries for
   * every worker, on weights that stay in the caches) or small. `k` is the neighbour search's,
   * or undefined for the softmax over all points.
   *
   * `run(finish)` must be called at once (it queues the call, which holds the weights as they
   * are now); it fills `given`, then calls `finish` while the call still holds them. `call` may
   * abort the call (see CallOptions).
   */
  splitByTrainingRows(context: JobContext, queries: Matrix, k: number | undefined, call?: CallOptions): TrainingRowSplit | undefined {
    if (!this.usesPool(context, queries.rows, 1)) return undefined;
    // The pruned search is split by queries: each worker walks the whole partition.
    if (k !== undefined && context.tree?.serves(k)) return undefined;
    const w = context.weights;
    const streamedBytes = w.n * w.d * (w.stored || (k !== undefined && w.float32 && !w.direct) ? 4 : 8);
    const plan = k === undefined ? softmaxSlices(context, queries.rows, this.#threads) : neighbourSlices(context, queries.rows, k, this.#threads);
    if (!plan || !splitsByTrainingRows(queries.rows, this.#threads, streamedBytes, plan.jobs.length)) return undefined;
    // Every slice takes all the queries in one chunk; where they do not fit one (a very large k,
    // or very many classes), the split by queries serves.
    const shapes = plan.jobs.map((job) => this.#runner.shape(queries.rows, queries.cols, job.plan));
    if (shapes.some((shape) => shape.chunk < queries.rows)) return undefined;
    // One part a slice, over all the queries: each worker takes one.
    const parts = plan.jobs.map((job, slice) => ({ job, shape: shapes[slice], start: 0, count: queries.rows }));
    const run = (finish: () => void) =>
      this.#held.queued(async () => {
        await this.#runner.runParts(queries, parts, `${parts.length} slices of the training rows`, plan, call);
        finish();
      });
    return { given: plan.given, run };
  }
}
