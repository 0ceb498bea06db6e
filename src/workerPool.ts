// A pool of workers that run kernel entries on one shared wasm memory. The pool's thread owns
// the memory (it allocates every region and writes the queries); a worker gets a list of entry
// calls with pointers into it and answers when they are done. Workers start on first use; an
// idle worker is unref'd, so it never keeps a Node process alive. A worker that dies (an
// uncaught error, or terminated from outside) rejects its pending call with a KnnError and is
// replaced on the next call.
import { KnnError } from './errors.js';
import { nodeProcess } from './threads.js';
import { WORKER_SOURCE } from './workerSource.js';
import type { KernelExports, SharedKernels } from './wasm.js';

/** One kernel entry and its (numeric) arguments. */
export type KernelCall = readonly [name: keyof KernelExports & string, args: readonly number[]];

/** What the pool needs of a worker, in Node (worker_threads) or a browser (Web Worker). */
interface ThreadHandle {
  post(message: unknown): void;
  /** While busy, the worker keeps a Node process alive; idle, it does not. */
  setBusy(busy: boolean): void;
  /** Stops the worker; true when a `died` event will follow once its thread has stopped. */
  terminate(): boolean;
}

interface WorkerEvents {
  message(data: unknown): void;
  /** The worker is gone (or broken): every later message is lost. */
  died(reason: string): void;
}

interface NodeWorker {
  on(event: string, listener: (value: unknown) => void): void;
  postMessage(message: unknown): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

function startThread(events: WorkerEvents): ThreadHandle {
  const workerThreads = nodeProcess()?.getBuiltinModule?.('node:worker_threads') as
    | { Worker: new (source: string, options: { eval: boolean }) => NodeWorker }
    | undefined;
  if (workerThreads) {
    const worker = new workerThreads.Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (data) => events.message(data));
    worker.on('error', (error) => events.died(`it threw ${String((error as Error)?.message ?? error)}`));
    worker.on('exit', (code) => events.died(`it exited (code ${String(code)})`));
    return {
      post: (message) => worker.postMessage(message),
      setBusy: (busy) => (busy ? worker.ref() : worker.unref()),
      terminate: () => {
        void worker.terminate();
        return true;
      },
    };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  let worker: Worker;
  try {
    worker = new Worker(url);
  } catch (error) {
    throw new KnnError(
      'WORKER_FAILED',
      `the page refused to start a Web Worker from a blob: URL (${String((error as Error)?.message ?? error)}); a Content-Security-Policy must allow worker-src blob:, or use threads: 1.`,
    );
  } finally {
    URL.revokeObjectURL(url);
  }
  worker.onmessage = (event) => events.message(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    worker.terminate();
    events.died(`it threw ${event.message}`);
  };
  const terminate = (): boolean => {
    worker.terminate();
    return false;
  };
  return { post: (message) => worker.postMessage(message), setBusy: () => {}, terminate };
}

interface Reply {
  readonly ready?: boolean;
  readonly id?: number;
  readonly error?: string;
}

/** One worker: started on demand, one call at a time. */
export class PoolWorker {
  readonly #thread: ThreadHandle;
  readonly #started: Promise<void>;
  #pending: { id: number; resolve(): void; reject(error: KnnError): void } | undefined;
  #onReady: { resolve(): void; reject(error: KnnError): void } | undefined;
  #nextId = 1;
  /** What pending calls are rejected with when the pool ended the worker. */
  #endedBy: KnnError | undefined;
  /** Set once the worker is gone; the pool then replaces it. */
  dead = false;
  /**
   * Stopped without a confirmation that its thread has (a Web Worker's terminate() does not
   * stop a running wasm loop at once): the scratch it was given may still be written to.
   */
  mayStillRun = false;

  constructor(shared: SharedKernels) {
    this.#thread = startThread({ message: (data) => this.#receive(data as Reply), died: (reason) => this.#die(reason) });
    this.#started = new Promise((resolve, reject) => (this.#onReady = { resolve, reject }));
    this.#started.catch(() => {}); // a start that fails is reported by the call that awaits it
    this.#thread.setBusy(true);
    this.#thread.post({ module: shared.module, memory: shared.memory });
  }

  #receive(reply: Reply): void {
    if (reply.ready !== undefined) {
      const waiting = this.#onReady;
      this.#onReady = undefined;
      if (!this.#pending) this.#thread.setBusy(false);
      if (reply.ready) waiting?.resolve();
      else {
        const error = new KnnError('WORKER_FAILED', `a worker could not instantiate the kernels: ${reply.error}.`);
        waiting?.reject(error);
        this.terminate(error);
      }
      return;
    }
    const pending = this.#pending;
    if (!pending || pending.id !== reply.id) return;
    this.#pending = undefined;
    this.#thread.setBusy(false);
    if (reply.error === undefined) pending.resolve();
    else pending.reject(new KnnError('WORKER_FAILED', `a worker's kernel call failed (${reply.error}); the network is unchanged and the call can be repeated.`));
  }

  #die(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    const error = this.#endedBy ?? new KnnError('WORKER_FAILED', `a worker stopped while computing (${reason}); the network is unchanged and the call can be repeated.`);
    this.#onReady?.reject(error);
    this.#onReady = undefined;
    this.#pending?.reject(error);
    this.#pending = undefined;
  }

  /** Settles once the worker has instantiated the kernels (rejected if it could not). */
  get started(): Promise<void> {
    return this.#started;
  }

  /** Runs `calls` in the worker; `fence` is a 4-byte word of the call's own scratch. */
  async run(calls: readonly KernelCall[], fence: number, memory: WebAssembly.Memory): Promise<void> {
    await this.#started;
    if (this.dead) throw new KnnError('WORKER_FAILED', 'a worker of the pool has stopped; the call can be repeated.');
    const id = this.#nextId++;
    const done = new Promise<void>((resolve, reject) => (this.#pending = { id, resolve, reject }));
    Atomics.store(new Int32Array(memory.buffer, fence, 1), 0, 0);
    this.#thread.setBusy(true);
    this.#thread.post({ id, fence, calls });
    await done;
    Atomics.load(new Int32Array(memory.buffer, fence, 1), 0);
  }

  /** For tests: stops the worker's thread as code outside the pool would (its pending call fails). */
  stopThreadFromOutside(): void {
    if (this.#thread.terminate()) return;
    this.mayStillRun = this.#pending !== undefined;
    this.#die('it was terminated');
  }

  /**
   * Ends the worker; a pending call is rejected with `error`, once the worker's thread has
   * stopped where that can be known (Node), so that its scratch is not released under it.
   */
  terminate(error: KnnError): void {
    if (this.dead) return;
    this.#endedBy = error;
    if (this.#thread.terminate()) return;
    this.mayStillRun = this.#pending !== undefined;
    this.#die(error.message);
  }
}

/** For tests: the worker pool of a network, once its first pooled call has started it. */
export const poolOfNetwork = new WeakMap<object, WorkerPool>();

function disposedError(): KnnError {
  return new KnnError('DISPOSED', 'this network was disposed during the call; fit a new one (or load it with KnnNetwork.fromBytes) to keep predicting.');
}

/** A fixed number of workers over one shared memory. */
export class WorkerPool {
  readonly size: number;
  readonly #shared: SharedKernels;
  readonly #workers: (PoolWorker | undefined)[];
  #disposed = false;

  constructor(shared: SharedKernels, size: number) {
    this.#shared = shared;
    this.size = size;
    this.#workers = new Array(size).fill(undefined);
  }

  /** Worker `slot`, started (or restarted after it died) on demand. */
  worker(slot: number): PoolWorker {
    if (this.#disposed) throw disposedError();
    let worker = this.#workers[slot];
    if (!worker || worker.dead) this.#workers[slot] = worker = new PoolWorker(this.#shared);
    return worker;
  }

  /** Starts every worker and settles once each has instantiated the kernels. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, (_, slot) => this.worker(slot).started));
  }

  get memory(): WebAssembly.Memory {
    return this.#shared.memory;
  }

  /** For tests: the workers started so far. */
  startedWorkers(): PoolWorker[] {
    return this.#workers.filter((worker): worker is PoolWorker => worker !== undefined && !worker.dead);
  }

  /** Ends every worker; pending calls are rejected. */
  dispose(): void {
    this.#disposed = true;
    for (const worker of this.#workers) worker?.terminate(disposedError());
  }
}
