// One query per call, as a web request asks it (one Iris flower at a time). At that size the
// general path's fixed costs (copying and checking the input into a matrix of its own, job lists,
// the chunk loop, views) are many times the kernels' work: 420 multiply-adds take about 0.2 µs.
// A plan lays one query's call out once in the kernels' scratch and binds each kernel entry to
// its arguments; each call then writes the query straight into wasm memory (read once, and
// checked there as toMatrix checks its copy), runs the bound entries and reads the result.
import type { ChunkJob, ChunkLayout, ChunkRunner } from './chunkRunner.js';
import type { JobContext } from './jobs.js';
import { checkValues, magnitudeLimit, notANumber, viewLength, type MatrixForm } from './matrix.js';
import { normaliseRows, normaliseRow, type Metric } from './metrics.js';
import type { Kernels } from './wasm.js';
import type { Weights } from './weights.js';
import type { KernelCall } from './workerPool.js';

/**
 * X as one query of d values: itself (d numbers, or a typed array of d), or its only row
 * (`[[x0, x1, …]]`), with how to name its values; undefined for anything else, which the
 * general path reads. Reads X's length and X[0] once each; `first` is X[0] for a vector.
 */
function singleRow(X: unknown, d: number): { row: ArrayLike<unknown>; form: MatrixForm; first?: unknown } | undefined {
  if (ArrayBuffer.isView(X)) return !(X instanceof DataView) && viewLength(X) === d ? { row: X as unknown as ArrayLike<unknown>, form: 'vector' } : undefined;
  if (!Array.isArray(X)) return flatRow(X, d);
  const length = X.length;
  if (length === 0 || (length !== d && length !== 1)) return undefined;
  const first: unknown = X[0];
  if (length === d && typeof first === 'number') return { row: X, form: 'vector', first };
  if (length === 1 && Array.isArray(first) && first.length === d) return { row: first, form: 'rows' };
  return undefined;
}

/** `{ data, rows: 1, cols: d }` whose data are d values (an array, or a typed array): its data; undefined otherwise. */
function flatRow(X: unknown, d: number): { row: ArrayLike<unknown>; form: MatrixForm } | undefined {
  if (typeof X !== 'object' || X === null) return undefined;
  const { data, rows, cols } = X as { data?: unknown; rows?: unknown; cols?: unknown };
  if (rows !== 1 || cols !== d) return undefined;
  if (ArrayBuffer.isView(data)) return !(data instanceof DataView) && viewLength(data) === d ? { row: data as unknown as ArrayLike<unknown>, form: 'flat' } : undefined;
  return Array.isArray(data) && data.length === d ? { row: data, form: 'flat' } : undefined;
}

/** A job laid out for one query at a fixed place in the kernels' scratch, its entries bound to their arguments. */
export class SingleQueryPlan {
  readonly weights: Weights;
  readonly #kernels: Kernels;
  readonly #job: ChunkJob;
  readonly #alternative: ((layout: ChunkLayout) => KernelCall[]) | undefined;
  readonly #metric: Metric;
  readonly #limit: number;
  readonly #total: number;
  readonly #offsets: { readonly outputs: readonly number[]; readonly kernelScratch: number };
  #layout: ChunkLayout | undefined;
  #calls: (() => unknown)[] = [];
  #alternativeCalls: (() => unknown)[] = [];

  constructor(kernels: Kernels, runner: ChunkRunner, weights: Weights, metric: Metric, job: ChunkJob, alternative?: (layout: ChunkLayout) => KernelCall[]) {
    this.weights = weights;
    this.#kernels = kernels;
    this.#job = job;
    this.#alternative = alternative;
    this.#metric = metric;
    this.#limit = magnitudeLimit(weights.d);
    const shape = runner.shape(1, weights.d, job.plan);
    this.#total = shape.total;
    this.#offsets = shape;
  }

  /**
   * Runs the job on X when X is one query of d values (see singleRow): writes it into wasm
   * memory, reading each value once, checks it there (a KnnError names a bad value as toMatrix
   * would), runs the kernels (the job's, or with `alternative` the plan's alternative calls) and
   * collects the outputs (the job's collect). False, having read no value, for any other X: the
   * general path reads it.
   */
  run(X: unknown, alternative = false): boolean {
    const d = this.weights.d;
    const single = singleRow(X, d);
    if (!single) return false;
    const layout = this.layout();
    const heap = this.#kernels.heap.f64;
    const at = layout.queries >>> 3;
    const { row, form } = single;
    for (let j = 0; j < d; j++) {
      const value = j === 0 && form === 'vector' && 'first' in single ? single.first : row[j];
      if (typeof value !== 'number') throw notANumber(form === 'vector' ? `X[${j}]` : form === 'flat' ? `X.data[${j}]` : `X[0][${j}]`, value);
      heap[at + j] = value;
    }
    for (let j = 0; j < d; j++) {
      if (Math.abs(heap[at + j]) <= this.#limit) continue;
      checkValues('X', heap.slice(at, at + d), d, form);
    }
    if (this.#metric === 'cosine' && !normaliseRow(heap, at, heap, at, d)) normaliseRows({ data: heap.slice(at, at + d), rows: 1, cols: d }, 'X');
    this.#job.prepare?.(0, 1, layout);
    for (const call of alternative ? this.#alternativeCalls : this.#calls) call();
    this.#job.collect(0, 1, layout);
    return true;
  }

  /** The call's layout in the kernels' scratch, laid out and bound again where the scratch moved. */
  layout(): ChunkLayout {
    const base = this.#kernels.scratch(this.#total);
    if (this.#layout?.queries !== base) this.#bind(base);
    return this.#layout!;
  }

  /** Lays the call out at `base` and binds each kernel entry to its arguments there. */
  #bind(base: number): void {
    const layout = { queries: base, outputs: this.#offsets.outputs.map((offset) => base + offset), kernelScratch: base + this.#offsets.kernelScratch };
    this.#layout = layout;
    const bound = (calls: KernelCall[]) => calls.map(([name, args]) => writtenOut(this.#kernels.entry(name), taggedArguments(args)));
    this.#calls = bound(this.#job.calls(1, layout));
    this.#alternativeCalls = this.#alternative ? bound(this.#alternative(layout)) : [];
  }
}

/**
 * A kernel call's arguments as a list of tagged values, each integer a small integer. A list
 * literal holding one fractional value (a norm, λ) stores every value as a double, and each value
 * bound from it is then a boxed number that every call of the entry converts back to an integer:
 * 5 % of an Iris query's time. `value | 0` is taken only where it is the same number (not for
 * a fraction, −0, or beyond 32 bits).
 */
function taggedArguments(args: readonly number[]): number[] {
  // Made to hold any value before the first number goes in: it never becomes a list of doubles.
  const tagged: unknown[] = [undefined];
  tagged.pop();
  for (const value of args) {
    const integer = value | 0;
    tagged.push(Object.is(integer, value) ? integer : value);
  }
  return tagged as number[];
}

type Entry = (...args: number[]) => unknown;

/**
 * `entry` called on `args`, written out as a call of that many arguments: optimised code then
 * calls the wasm entry directly, where a bound function or a spread goes through a generic call
 * (an Iris query took 1.1× the time).
 */
function writtenOut(entry: Entry, args: number[]): () => unknown {
  return CALLS_BY_LENGTH[args.length](entry, args);
}

/** A call written out for each count of arguments up to the most an entry takes (test/singleQuery checks every export against it). */
export const CALLS_BY_LENGTH: readonly ((entry: Entry, args: number[]) => () => unknown)[] = [
  (entry) => () => entry(),
  (entry, [a]) => () => entry(a),
  (entry, [a, b]) => () => entry(a, b),
  (entry, [a, b, c]) => () => entry(a, b, c),
  (entry, [a, b, c, d]) => () => entry(a, b, c, d),
  (entry, [a, b, c, d, e]) => () => entry(a, b, c, d, e),
  (entry, [a, b, c, d, e, f]) => () => entry(a, b, c, d, e, f),
  (entry, [a, b, c, d, e, f, g]) => () => entry(a, b, c, d, e, f, g),
  (entry, [a, b, c, d, e, f, g, h]) => () => entry(a, b, c, d, e, f, g, h),
  (entry, [a, b, c, d, e, f, g, h, i]) => () => entry(a, b, c, d, e, f, g, h, i),
  (entry, [a, b, c, d, e, f, g, h, i, j]) => () => entry(a, b, c, d, e, f, g, h, i, j),
  (entry, [a, b, c, d, e, f, g, h, i, j, k]) => () => entry(a, b, c, d, e, f, g, h, i, j, k),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m, n]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m, n),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t),
  (entry, [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u]) => () => entry(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u),
];

/** The one-query calls that have a plan of their own; kneighbors one per number of neighbours asked, filtered or not. */
export type SingleQueryCall = 'predict' | 'predictProba' | `kneighbors ${number}` | `filtered kneighbors ${number}`;

/**
 * What a plan is made of: its job for one query and a copy of what it collected; for a plan
 * that serves only some calls, `ready`, which takes the call's argument (before X is read), may
 * write it into the plan's layout, and says whether the plan serves it (false: the general path
 * does) and how: 'alternative' runs the `alternative` calls in the job's layout in place of the
 * job's own, writing the outputs its collect reads.
 */
export interface SingleQueryParts<R, A> {
  job: ChunkJob;
  result: () => R;
  ready?: (argument: A, layout: ChunkLayout) => boolean | 'alternative';
  alternative?: (layout: ChunkLayout) => KernelCall[];
}

/** Plans kept at most: a caller asking for many different k keeps only the latest few. */
const MAX_PLANS = 8;

/** A network's one-query plans, by call, each laid out again once the weights it was made for are replaced. */
type PlanEntry = { plan: SingleQueryPlan; parts: SingleQueryParts<unknown, never> };

export class SingleQueryPlans {
  readonly #kernels: Kernels;
  readonly #runner: ChunkRunner;
  readonly #metric: Metric;
  readonly #context: () => JobContext;
  readonly #plans = new Map<SingleQueryCall, PlanEntry>();
  /** The call served last and its plan, found without a lookup in the map: a loop of one kind of call asks for the same plan each time. */
  #last: { call: SingleQueryCall; entry: PlanEntry } | undefined;

  /** `context` gives what a plan's parts are built from, when one is (re)built. */
  constructor(kernels: Kernels, runner: ChunkRunner, metric: Metric, context: () => JobContext) {
    this.#kernels = kernels;
    this.#runner = runner;
    this.#metric = metric;
    this.#context = context;
  }

  /**
   * `call` on X by its plan on `weights` when X is one query and the plan serves `argument`
   * (`build` makes the plan's parts), else undefined: the general path serves it.
   */
  run<R, A = undefined>(call: SingleQueryCall, X: unknown, weights: Weights, build: (context: JobContext) => SingleQueryParts<R, A>, argument?: A): R | undefined {
    const last = this.#last;
    let entry = last !== undefined && last.call === call ? last.entry : this.#plans.get(call);
    if (entry?.plan.weights !== weights) {
      if (!entry && this.#plans.size >= MAX_PLANS) this.#plans.clear();
      const parts = build(this.#context()) as SingleQueryParts<unknown, never>;
      entry = { plan: new SingleQueryPlan(this.#kernels, this.#runner, weights, this.#metric, parts.job, parts.alternative), parts };
      this.#plans.set(call, entry);
    }
    if (entry !== last?.entry) this.#last = { call, entry };
    // Before X is read: a call the plan does not serve reads X on the general path alone.
    const { ready } = entry.parts as SingleQueryParts<unknown, A>;
    const way = ready ? ready(argument as A, entry.plan.layout()) : true;
    if (way === false) return undefined;
    return entry.plan.run(X, way === 'alternative') ? (entry.parts.result() as R) : undefined;
  }
}
