// What fit and create take in their options object, told apart: the model's options (resolved,
// kept in `net.options` and saved by toBytes), the machine's threads, the points' ids (data),
// and, for fit alone, a long call's signal and onProgress.
import { splitCallOptions, type CallOptions } from './callOptions.js';
import { resolveOptions, type KnnOptions, type ResolvedOptions, type Task } from './options.js';
import { resolveThreads } from './threads.js';

/**
 * Splits fit's or create's options into the model's (resolved, with `defaultTask`), the
 * machine's threads and the ids; `longCall` (fit's name in messages) also splits off signal
 * and onProgress, which create, not given it, refuses as options it does not know.
 */
export function readNetworkOptions(options: unknown, defaultTask: Task, longCall?: string): { resolved: ResolvedOptions; threads: number; ids: unknown; call?: CallOptions } {
  const { call, rest } = longCall ? splitCallOptions(options, longCall) : { call: undefined, rest: options };
  const isObject = typeof rest === 'object' && rest !== null && !Array.isArray(rest);
  const { threads: threadsOption, ids, ...modelOptions } = (isObject ? rest : {}) as KnnOptions & { ids?: unknown };
  return { resolved: resolveOptions(isObject ? modelOptions : rest, defaultTask), threads: resolveThreads(threadsOption), ids, call };
}

/**
 * What `fit` takes: the network's options, and a long call's `signal` and `onProgress` as the
 * async methods take them (see CallOptions). fit reads and checks X and y, then packs the
 * weights, with a turn of the event loop between its steps where a signal is given: an abort
 * lands between steps (not inside one; reading X at 1M × 32 takes about a second), and the
 * promise rejects with the signal's reason, every byte fit allocated freed. onProgress hears
 * 0.7 once X and y are read and checked, 0.75 before packing, 1 at the end (the shares of the
 * time measured at 1M × 32). Both belong to the call: they are not in the network's `options`,
 * and toBytes does not save them. (`create` takes neither; `add` is synchronous.)
 */
export interface FitOptions extends KnnOptions, CallOptions {}
