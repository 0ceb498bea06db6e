// The weights a network holds, through its life: none while it is empty, replaced by add and
// remove, released by dispose. Async calls on the pool read the weights as they were when the
// call was queued: weights replaced meanwhile are kept (retired) until the last such call ends,
// and the calls of one network run one after another.
import { KnnError } from './errors.js';
import type { Holding, Kernels, Region } from './wasm.js';
import { weightsRegions, type Weights } from './weights.js';

export class HeldWeights {
  readonly #kernels: Kernels;
  readonly #holding: Holding;
  /** Referenced by this object alone (so by its network alone): the kernels watch it to reclaim the regions of a collected network. */
  readonly #lifetime = {};
  #weights: Weights | undefined;
  #disposed = false;
  /** The async call in progress or queued last. */
  #lastAsyncCall: Promise<unknown> = Promise.resolve();
  /** Async calls on the pool, running or queued. */
  #asyncCallsRunning = 0;
  /** Weights replaced while an async call read them: released once it is done. */
  #retired: Region[] = [];

  /** `owner` is the network: once it is garbage-collected without dispose(), the kernels reclaim the regions. */
  constructor(kernels: Kernels, owner: object, weights: Weights | undefined) {
    this.#kernels = kernels;
    this.#weights = weights;
    this.#holding = kernels.hold(owner, this.#lifetime, weights ? weightsRegions(weights) : []);
  }

  /** The weights, or undefined while the network holds no points; DISPOSED once disposed. */
  get current(): Weights | undefined {
    if (this.#disposed) {
      throw new KnnError('DISPOSED', 'this network was disposed; fit a new one (or load it with KnnNetwork.fromBytes) to keep predicting.');
    }
    return this.#weights;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Whether async calls are running or queued (they read the weights: nothing may be written in place). */
  get inUse(): boolean {
    return this.#asyncCallsRunning > 0;
  }

  /**
   * Makes `weights` (undefined: none) the network's. The regions held before are released, or,
   * while async calls still read them, retired until the last one ends.
   */
  replace(weights: Weights | undefined): void {
    if (this.#asyncCallsRunning > 0) this.#retired.push(...this.#holding.regions.splice(0));
    else this.#kernels.releaseHeld(this.#holding);
    this.#weights = weights;
    if (weights) this.#holding.regions.push(...weightsRegions(weights));
  }

  /** Takes `weights` that describe the held regions with more rows in use (points appended in place). */
  grow(weights: Weights): void {
    this.#weights = weights;
  }

  /**
   * Runs `work` once the network's earlier async calls are done. Its jobs point at the weights
   * as they are now: until it has run, weights that add or remove replace are kept, and
   * dispose fails it.
   */
  async queued(work: () => Promise<void>): Promise<void> {
    this.#asyncCallsRunning++;
    const call = this.#lastAsyncCall.then(async () => {
      void this.current;
      await work();
    });
    this.#lastAsyncCall = call.catch(() => {});
    try {
      await call;
    } finally {
      if (--this.#asyncCallsRunning === 0) this.#releaseRetired();
    }
  }

  #releaseRetired(): void {
    for (const region of this.#retired) this.#kernels.release(region);
    this.#retired = [];
  }

  /** Releases every region; later reads of `current` throw DISPOSED. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#kernels.releaseHolding(this.#holding);
    this.#releaseRetired();
    this.#weights = undefined;
    this.#disposed = true;
  }
}
