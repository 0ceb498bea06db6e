// The `threads` option: how many threads a network's async methods may use, and what this
// JavaScript environment offers for them (shared memory and workers).
import { KnnError, describeValue } from './errors.js';

/**
 * A whole number of threads ≥ 1, or 'auto': as many as the machine has cores.
 * @inline
 */
export type ThreadsOption = number | 'auto';

/** The headers that make a page cross-origin isolated, which browsers require for shared memory. */
export const ISOLATION_HEADERS = "'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp'";

interface NodeProcess {
  getBuiltinModule?(name: string): unknown;
}

/** Node's process, where there is one (read from globalThis, so bundlers for browsers see no import). */
export function nodeProcess(): NodeProcess | undefined {
  const candidate = (globalThis as { process?: NodeProcess & { versions?: { node?: string } } }).process;
  return candidate?.versions?.node ? candidate : undefined;
}

/**
 * Whether a worker pool can run here: a SharedArrayBuffer (browsers hand it out only to
 * cross-origin isolated pages), and workers (worker_threads in Node, Web Workers in browsers).
 */
export function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  const node = nodeProcess();
  if (node) return typeof node.getBuiltinModule === 'function';
  return typeof Worker === 'function';
}

/** Cores this process may use: os.availableParallelism() in Node, navigator.hardwareConcurrency in browsers. */
function availableCores(): number {
  const node = nodeProcess();
  const os = node?.getBuiltinModule?.('node:os') as { availableParallelism?(): number; cpus(): unknown[] } | undefined;
  if (os) return os.availableParallelism?.() ?? os.cpus().length;
  const navigator = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return navigator?.hardwareConcurrency ?? 1;
}

/**
 * The thread count `value` asks for. 'auto' is the number of cores where threads are supported
 * and 1 where they are not; an explicit count above 1 where they are not is a KnnError.
 */
export function resolveThreads(value: unknown, argument = 'options.threads'): number {
  if (value === undefined) return 1;
  if (value === 'auto') return threadsSupported() ? Math.max(1, availableCores()) : 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new KnnError('BAD_OPTION', `${argument} must be a whole number ≥ 1 or 'auto'; got ${describeValue(value)}.`);
  }
  if (value > 1 && !threadsSupported()) {
    throw new KnnError(
      'BAD_OPTION',
      typeof SharedArrayBuffer === 'undefined' || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false
        ? `${argument} is ${value}, but this page has no SharedArrayBuffer, which threads need: serve it cross-origin isolated, with the headers ${ISOLATION_HEADERS}; or use threads: 'auto' (one thread here) or 1.`
        : `${argument} is ${value}, but this JavaScript environment has no workers; use threads: 'auto' or 1.`,
    );
  }
  return value;
}

/** Options of fromBytes: only the machine's settings, since the model's come with the bytes. @inline */
export interface LoadOptions {
  /** As `threads` in fit's options (default 1); toBytes does not save it. */
  threads?: ThreadsOption;
}

/** The threads fromBytes' `options` ask for; a KnnError for anything but { threads }. */
export function resolveLoadThreads(options: unknown): number {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new KnnError('BAD_OPTION', `fromBytes(bytes, options): options must be an object such as { threads: 'auto' }; got ${describeValue(options)}.`);
  }
  for (const name of Object.keys(options ?? {})) {
    if (name !== 'threads') throw new KnnError('BAD_OPTION', `options.${name} is not an option of fromBytes; its only option is threads (the others are saved in the bytes).`);
  }
  return resolveThreads((options as LoadOptions | undefined)?.threads);
}
