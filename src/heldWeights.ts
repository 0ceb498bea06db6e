// The weights a network holds, through its life: none while it is empty, replaced by add and
// remove, released by dispose. Async calls on the pool read the weights as they were when the
// call was queued: weights replaced meanwhile are kept (retired) until the last such call ends,
// and the calls of one network run one after another.
import { KnnError } from './errors.js';
import type { Holding, Kernels, Region } from './wasm.js';
import { weightsRegions, withBruteForceLayout, withoutBruteForceLayout, type Weights } from './weights.js';
import type { ResolvedOptions } from './options.js';
import { TreeIndex, type IndexHolder, type TreeSearch } from './treeIndex.js';

export class HeldWeights implements IndexHolder {
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
  /** The partition of the pruned search, kept beside the weights (its regions held with theirs). */
  readonly #tree: TreeIndex;
  readonly #options: ResolvedOptions;

  /** `owner` is the network: once it is garbage-collected without dispose(), the kernels reclaim the regions. */
  constructor(kernels: Kernels, owner: object, weights: Weights | undefined, options: ResolvedOptions) {
    this.#kernels = kernels;
    this.#weights = weights;
    this.#options = options;
    this.#holding = kernels.hold(owner, this.#lifetime, weights ? weightsRegions(weights) : []);
    this.#tree = new TreeIndex(kernels, options, this);
    this.#tree.replaced(weights);
  }

  /** What runs the k-nearest selection now: 'tree' where the partition is kept (treeIndex.ts). */
  get searchAlgorithm(): 'brute' | 'tree' {
    void this.current;
    return this.#tree.algorithm;
  }

  /** The pruned search over `w`, where it runs now (undefined: brute force). */
  treeSearch(w: Weights): TreeSearch | undefined {
    return this.#tree.searchOf(w);
  }

  attach(regions: Region[]): void {
    this.#holding.regions.push(...regions);
  }

  detach(regions: Region[]): void {
    const held = this.#holding.regions;
    for (const region of regions) {
      const at = held.indexOf(region);
      if (at >= 0) held.splice(at, 1);
    }
    if (this.#asyncCallsRunning > 0) this.#retired.push(...regions);
    else for (const region of regions) this.#kernels.release(region);
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
    this.#tree.replaced(weights);
  }

  /**
   * Takes `weights` that hold the same points in larger regions (growWeights): the old weights'
   * regions are let go (released, or retired while async calls read them), and the partition's
   * are kept while it stands (TreeIndex.moved).
   */
  moved(weights: Weights): void {
    const old = this.#weights;
    if (old) this.detach(weightsRegions(old));
    this.attach(weightsRegions(weights));
    this.#weights = weights;
    this.#tree.moved(weights);
  }

  /**
   * The partition answers the k-nearest searches (`serving`), or brute force does again. While
   * the partition serves, what only brute force's search reads (W1's float32 copy, X's
   * direct-search panels, which the partition holds in its own order) is let go: a network
   * with its partition then holds about what a brute-force one does. It is packed again when
   * brute force takes over (withBruteForceLayout).
   */
  partitionServes(serving: boolean): void {
    const w = this.#weights;
    if (!w) return;
    if (serving) {
      const { weights, regions } = withoutBruteForceLayout(w);
      if (regions.length === 0) return;
      this.detach(regions);
      this.#weights = weights;
      return;
    }
    const restored = withBruteForceLayout(this.#kernels, w, this.#options.float32Candidates);
    if (!restored) return;
    this.attach(restored.regions);
    this.#weights = restored.weights;
  }

  /** Takes `weights` that describe the held regions with more rows in use (points appended in place). */
  grow(weights: Weights): void {
    this.#weights = weights;
    this.#tree.grown(weights);
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
