// Option validation: the defaults of DESIGN.md §2 and one message style for every bad option.
import { KnnError, describeValue } from './errors.js';

export type Weighting = 'uniform' | 'distance' | 'softmax';
export type Task = 'classification' | 'regression';

export interface KnnOptions {
  /** Neighbours that vote: a whole number from 1 to n, or 'all' (default 1). */
  k?: number | 'all';
  /** How the k nearest vote (default 'uniform'). */
  weights?: Weighting;
  /** Inverse temperature λ of the softmax layer, finite and ≥ 0 (default 1). */
  lambda?: number;
  /** Default 'classification'. */
  task?: Task;
  /**
   * Keep a float32 copy of the weights (4·n·d bytes more) to choose the k nearest candidates at
   * twice the SIMD width when d > 16; every answer is still proven exact in float64. Turn it
   * off to save that memory (default true).
   */
  float32Candidates?: boolean;
}

export interface ResolvedOptions {
  readonly k: number | 'all';
  readonly weights: Weighting;
  readonly lambda: number;
  readonly task: Task;
  readonly float32Candidates: boolean;
}

const WEIGHTINGS: readonly Weighting[] = ['uniform', 'distance', 'softmax'];
const TASKS: readonly Task[] = ['classification', 'regression'];
const OPTION_NAMES = ['k', 'weights', 'lambda', 'task', 'float32Candidates'];

function checkK(k: unknown, argument: string): number | 'all' {
  if (k === 'all') return k;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new KnnError('K_OUT_OF_RANGE', `${argument} must be a whole number ≥ 1 or 'all'; got ${describeValue(k)}.`);
  }
  return k;
}

function checkChoice<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) {
    throw new KnnError('BAD_OPTION', `options.${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}; got ${describeValue(value)}.`);
  }
  return value as T;
}

export function checkLambda(lambda: unknown, argument = 'options.lambda'): number {
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
    const code = typeof lambda === 'number' && !Number.isFinite(lambda) ? 'NON_FINITE' : 'BAD_OPTION';
    throw new KnnError(code, `${argument} must be a finite number ≥ 0 (the softmax's inverse temperature); got ${describeValue(lambda)}.`);
  }
  return lambda;
}

function checkSwitch(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new KnnError('BAD_OPTION', `options.${name} must be true or false; got ${describeValue(value)}.`);
  }
  return value;
}

/** Validates user options (unknown names included) and fills in the defaults. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new KnnError('BAD_OPTION', `options must be an object such as { k: 5 }; got ${describeValue(options)}.`);
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) {
      throw new KnnError('BAD_OPTION', `options.${name} is not an option; the options are ${OPTION_NAMES.join(', ')}.`);
    }
  }
  const given = options as Record<string, unknown>;
  return {
    k: given.k === undefined ? 1 : checkK(given.k, 'options.k'),
    weights: given.weights === undefined ? 'uniform' : checkChoice('weights', given.weights, WEIGHTINGS),
    lambda: given.lambda === undefined ? 1 : checkLambda(given.lambda),
    task: given.task === undefined ? 'classification' : checkChoice('task', given.task, TASKS),
    float32Candidates: given.float32Candidates === undefined ? true : checkSwitch('float32Candidates', given.float32Candidates),
  };
}

/** The number of neighbours k stands for on n training points; k > n is an error. */
export function neighbourCount(k: unknown, n: number, argument: string): number {
  const checked = checkK(k, argument);
  if (checked === 'all') return n;
  if (checked > n) {
    throw new KnnError('K_OUT_OF_RANGE', `${argument} is ${checked} but there are only ${n} training points; pass k ≤ ${n}.`);
  }
  return checked;
}
