// The options of one long call (fit, and the async methods): an AbortSignal that stops it, and a
// callback told how far it has got. Neither changes the answer; an aborted call changes nothing.
import { KnnError, describeValue } from './errors.js';

/**
 * What a call reads of an AbortSignal: any AbortSignal (`new AbortController().signal`) is one.
 * Declared here, so the package's types need no DOM or Node library.
 */
export interface AbortSignalLike {
  /** True once the call should stop. */
  readonly aborted: boolean;
  /** Why it was aborted: what the rejected promise carries. */
  readonly reason: unknown;
  /** Throws `reason` when aborted. */
  throwIfAborted(): void;
}

/** What a long call takes besides its arguments. */
export interface CallOptions {
  /**
   * Stops the call: it rejects with `signal.reason` (an AbortError unless the caller gave a
   * reason), having changed nothing, as soon as the part of its work under way is done.
   */
  signal?: AbortSignalLike;
  /** Told, after each part of the work, the share of it done: from above 0 to 1. */
  onProgress?: (done: number) => void;
}

const CALL_OPTION_NAMES = ['signal', 'onProgress'];

/**
 * Checks a call's options (`call` names the method in messages), which may hold `others`
 * besides signal and onProgress (read by their own checks); undefined stays undefined. A sync
 * call passes `others` alone: signal and onProgress are then refused too.
 */
export function checkCallOptions(options: unknown, call: string, others: readonly string[] = []): CallOptions | undefined {
  if (options === undefined) return undefined;
  const names = call.includes('Async') || others.length === 0 ? [...others, ...CALL_OPTION_NAMES] : others;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new KnnError('BAD_OPTION', `${call}: options must be an object such as { ${names.join(', ')} }; got ${describeValue(options)}.`);
  }
  for (const name of Object.keys(options)) {
    if (!names.includes(name)) throw new KnnError('BAD_OPTION', `${call}: options.${name} is not an option of this call; its options are ${names.join(', ')}.`);
  }
  const { signal, onProgress } = options as Record<string, unknown>;
  if (signal !== undefined && !(typeof signal === 'object' && signal !== null && 'aborted' in signal && typeof (signal as AbortSignalLike).throwIfAborted === 'function')) {
    throw new KnnError('BAD_OPTION', `${call}: options.signal must be an AbortSignal (new AbortController().signal); got ${describeValue(signal)}.`);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new KnnError('BAD_OPTION', `${call}: options.onProgress must be a function of the share done (0 to 1); got ${describeValue(onProgress)}.`);
  }
  return { signal: signal as AbortSignalLike | undefined, onProgress: onProgress as CallOptions['onProgress'] };
}

/** add's options: only `ids`. */
export function readAddOptions(options: unknown): { ids?: unknown } {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new KnnError('BAD_OPTION', `add(X, y, options): options must be an object such as { ids }; got ${describeValue(options)}.`);
  }
  for (const name of Object.keys(options)) {
    if (name !== 'ids') throw new KnnError('BAD_OPTION', `add(X, y, options): options.${name} is not an option of add; its only option is ids.`);
  }
  return options as { ids?: unknown };
}

/**
 * fit's options split into the long call's (signal, onProgress: checked here) and the rest, the
 * model's and the machine's, read by their own checks. Neither is an option of the model: they
 * are not kept in `options` and not saved by toBytes. Anything but an object passes through for
 * those checks to refuse.
 */
export function splitCallOptions(options: unknown, call: string): { call: CallOptions | undefined; rest: unknown } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return { call: undefined, rest: options };
  const { signal, onProgress, ...rest } = options as Record<string, unknown>;
  return { call: signal === undefined && onProgress === undefined ? undefined : checkCallOptions({ signal, onProgress }, call), rest };
}

/**
 * The steps of a long call that runs here (fit): after each, `reached(done)` lets an abort land
 * and tells onProgress the share done. With a signal it first yields to the event loop (a
 * timer's turn, so that an abort from a timer or an event can land between steps): about a
 * millisecond a step, paid only by calls that can be aborted.
 */
export class CallSteps {
  readonly #call: CallOptions | undefined;

  constructor(call: CallOptions | undefined) {
    this.#call = call;
    call?.signal?.throwIfAborted();
  }

  /** Whether the call is followed (a signal or onProgress given): its steps then report and yield. */
  get followed(): boolean {
    return this.#call?.signal !== undefined || this.#call?.onProgress !== undefined;
  }

  /**
   * Rejects with the signal's reason once aborted, having called `undo` (which frees what the
   * steps so far made: an aborted call changes nothing), else tells onProgress `done` (above 0,
   * up to 1, rising).
   */
  async reached(done: number, undo?: () => void): Promise<void> {
    const signal = this.#call?.signal;
    if (signal) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (signal.aborted) undo?.();
      signal.throwIfAborted();
    }
    this.#call?.onProgress?.(done);
  }
}
