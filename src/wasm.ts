// Loading the kernels and owning their linear memory: one instance per realm, build (plain or
// relaxed SIMD, see kernelBuild.ts) and memory kind, shared by every network made on it. The
// networks of a worker pool live in the shared-memory twin of their build (sharedModule.ts):
// its memory is a shared WebAssembly.Memory that the pool's workers instantiate the same
// module on. Regions
// are allocated and released through the kernels' allocator, on this thread only; typed-array
// views are made on demand from the current buffer, because growing the memory detaches the
// old one (or, when shared, leaves it at its old length).
import { instantiateSync } from '@assemblyscript/loader';
import { KnnError } from './errors.js';
import { plainWasmBase64, relaxedWasmBase64 } from './generated/wasmBinary.js';
import { selectedBuild, type KernelBuild } from './kernelBuild.js';
import { withSharedMemoryImport } from './sharedModule.js';

export interface KernelExports extends Record<string, unknown> {
  readonly memory: WebAssembly.Memory;
  /** A 16-byte aligned region, or 0 when there is no room. */
  allocate(bytes: number): number;
  release(pointer: number): void;
  capacityBytes(): number;
  allocatedBytes(): number;
  allocatedRegions(): number;
  computeMean(points: number, n: number, d: number, mean: number): void;
  packWeights(points: number, n: number, d: number, mean: number, packed: number, norms: number, firstPoint: number): number;
  packPoints(points: number, n: number, d: number, packed: number, firstPoint: number): void;
  float32Scale(packed: number, n: number, d: number): number;
  packFloat32Weights(packed: number, n: number, d: number, scale: number, panels32: number, norms: number, firstPoint: number): number;
  candidateErrorBound(queryNorm: number, largestPointNorm: number, d: number): number;
  directPanelDimensions(): number;
  float32UnprovenQueries(): number;
  clusterSearchFallbackQueries(): number;
  topKStateBytes(capacity: number): number;
  softmaxBlockCount(n: number, d: number, classes: number): number;
  softmaxQueryStateBytes(n: number, d: number, classes: number): number;
  scratchBytes(q: number, d: number, stateBytes: number): number;
  searchNeighbours(
    points: number, pointPanels: number, packed: number, pointNorms: number, mean: number, n: number, d: number, largestPointNorm: number,
    float32Panels: number, float32Norms: number, float32Scale: number, largestFloat32Norm: number,
    queries: number, q: number, k: number, capacity: number, scratch: number, outIndices: number, outSquared: number, metric: number, allowed: number,
  ): void;
  softmaxScores(
    packed: number, pointNorms: number, mean: number, n: number, d: number,
    labels: number, targets: number, classes: number, regression: number, lambda: number,
    queries: number, q: number, scratch: number, output: number, metric: number,
  ): void;
  softmaxBlockStates(
    packed: number, pointNorms: number, mean: number, n: number, d: number,
    labels: number, targets: number, classes: number, regression: number, lambda: number,
    queries: number, q: number, scratch: number, firstBlock: number, endBlock: number, states: number, metric: number,
  ): void;
  softmaxMergeBlocks(states: number, n: number, d: number, q: number, classes: number, lambda: number, output: number): void;
  layerOneDistances(
    packed: number, pointNorms: number, mean: number, n: number, d: number, queries: number, q: number, scratch: number, output: number, metric: number,
  ): void;
  projectOneHot(
    neighbourIndices: number, neighbourSquared: number, q: number, k: number,
    labels: number, targets: number, classes: number, regression: number, mode: number, lambda: number, output: number,
  ): void;
  argmaxRows(scores: number, q: number, classes: number, output: number): void;
  radiusNeighbours(
    points: number, pointPanels: number, packed: number, pointNorms: number, mean: number, n: number, d: number, largestPointNorm: number,
    query: number, limit: number, radius: number, metric: number, listing: number, scratch: number, outIndices: number, outSquared: number,
  ): number;
  radiusNeighbourRows(
    points: number, pointPanels: number, packed: number, pointNorms: number, mean: number, n: number, d: number, largestPointNorm: number,
    queries: number, q: number, limit: number, radius: number, metric: number, listing: number, scratch: number, counts: number, outIndices: number, outSquared: number,
  ): void;
  stableExp(x: number): number;
  // Float32 storage (assembly/float32Storage.ts): X's float32 panels, b1, the candidate norms, μ,
  // and a cosine network's unit factors (0 for other metrics).
  packFloat32Rows(rows: number, count: number, d: number, sums: number, panels: number, firstPoint: number): number;
  sumFloat32Points(panels: number, d: number, firstPoint: number, endPoint: number, sums: number, unitFactors: number): void;
  unpackFloat32Rows(panels: number, d: number, firstPoint: number, count: number, rows: number): void;
  packUnitFactors(panels: number, n: number, d: number, firstPoint: number, unitFactors: number): void;
  keepStoredPoints(panels: number, n: number, d: number, removed: number, kept: number): number;
  packFloat32Norms(
    panels: number, n: number, d: number, mean: number, pointNorms: number, candidateNorms: number, firstPoint: number, largest: number, unitFactors: number,
  ): void;
  storedFloat32Searchable(largestCandidateNorm: number, d: number): number;
  storedCandidateErrorBound(queryNorm: number, scale: number, largestPointNorm: number, d: number): number;
  searchStoredNeighbours(
    panels: number, pointNorms: number, candidateNorms: number, mean: number, n: number, d: number, largestPointNorm: number, largestCandidateNorm: number,
    queries: number, q: number, k: number, capacity: number, scratch: number, outIndices: number, outSquared: number, direct: number, metric: number,
    unitFactors: number, allowed: number,
  ): void;
  storedSoftmaxScores(
    panels: number, pointNorms: number, mean: number, n: number, d: number,
    labels: number, targets: number, classes: number, regression: number, lambda: number,
    queries: number, q: number, scratch: number, output: number, metric: number, unitFactors: number,
  ): void;
  storedSoftmaxBlockStates(
    panels: number, pointNorms: number, mean: number, n: number, d: number,
    labels: number, targets: number, classes: number, regression: number, lambda: number,
    queries: number, q: number, scratch: number, firstBlock: number, endBlock: number, states: number, metric: number, unitFactors: number,
  ): void;
  storedLayerOneDistances(
    panels: number, pointNorms: number, mean: number, n: number, d: number, queries: number, q: number, scratch: number, output: number, metric: number,
    unitFactors: number,
  ): void;
  storedRadiusNeighbours(
    panels: number, pointNorms: number, mean: number, n: number, d: number, largestPointNorm: number,
    query: number, limit: number, radius: number, metric: number, listing: number, scratch: number, outIndices: number, outSquared: number, direct: number,
    unitFactors: number,
  ): number;
  storedRadiusNeighbourRows(
    panels: number, pointNorms: number, mean: number, n: number, d: number, largestPointNorm: number,
    queries: number, q: number, limit: number, radius: number, metric: number, listing: number, scratch: number, counts: number, outIndices: number, outSquared: number,
    direct: number, unitFactors: number,
  ): void;
}

/**
 * The exports whose wasm result is a usize (an address or a byte count). JavaScript reads a
 * wasm i32 result as signed, so past 2 GiB these come back negative unless read unsigned.
 * (Arguments need no care: an address above 2^31 passed as a number keeps its 32 bits.)
 */
const UNSIGNED_RESULTS = ['allocate', 'capacityBytes', 'allocatedBytes', 'topKStateBytes', 'softmaxQueryStateBytes', 'scratchBytes'] as const;

function withUnsignedResults(exports: KernelExports): KernelExports {
  const unsigned: Record<string, unknown> = { ...exports };
  for (const name of UNSIGNED_RESULTS) {
    const signed = exports[name] as (...args: number[]) => number;
    unsigned[name] = (...args: number[]): number => signed(...args) >>> 0;
  }
  return unsigned as KernelExports;
}

/** A block of linear memory owned by one network (or by the shared scratch). */
export interface Region {
  readonly pointer: number;
  readonly bytes: number;
}

/** The regions one network owns, and a weak reference to reclaim them by once the network is collected. */
export interface Holding {
  readonly regions: Region[];
  /** Cleared once the network's lifetime token (which only the network references) is collected. */
  readonly lifetime: WeakRef<object>;
}

/** A byte count for messages: MiB, or KiB and bytes when that would round to 0. */
function byteCount(bytes: number): string {
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(0)} KiB` : `${bytes} bytes`;
}

/** What a worker needs to run the kernels on the same memory: the compiled module and that memory. */
export interface SharedKernels {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
}

/** Views over the whole of the kernels' memory, as one buffer holds it. */
export interface HeapViews {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
}

/** An export as the kernels' module exports it: the loader's wrapper takes its arguments as a rest array, which a hot call can spare. */
type WrappedExport = ((...args: number[]) => unknown) & { original?: (...args: number[]) => unknown };

export class Kernels {
  readonly exports: KernelExports;
  #heap: (HeapViews & { readonly buffer: ArrayBufferLike }) | undefined;
  /** Set on the shared-memory build: what the pool's workers instantiate. */
  readonly shared: SharedKernels | undefined;
  #scratch: Region = { pointer: 0, bytes: 0 };
  readonly #holdings = new Set<Holding>();
  // A network dropped without dispose() gives its memory back when it is collected. The
  // collector does not see wasm memory, though, and the registry's callbacks run only in a
  // later task: #reclaimCollected also releases, synchronously, what collected networks held.
  readonly #finalizer = new FinalizationRegistry<Holding>((holding) => this.releaseHolding(holding));

  constructor(exports: KernelExports, shared?: SharedKernels) {
    this.exports = withUnsignedResults(exports);
    this.shared = shared;
  }

  /** Views over the whole memory, made again only after it grew (growing detaches or outgrows the old buffer). */
  get heap(): HeapViews {
    // Growing a memory that is not shared detaches its old buffer, whose views then read length
    // 0: views that do not are current, without asking the memory for its buffer (an API call,
    // 5 % of an Iris query's time). A shared memory's old buffer stays, at its old length.
    const held = this.#heap;
    if (held !== undefined && this.shared === undefined && held.f64.length !== 0) return held;
    const buffer = this.exports.memory.buffer;
    if (this.#heap?.buffer !== buffer) this.#heap = { buffer, f64: new Float64Array(buffer), i32: new Int32Array(buffer) };
    return this.#heap;
  }

  /** The kernel entry `name` itself, without the loader's wrapper: for calls whose every argument is given. */
  entry(name: keyof KernelExports & string): (...args: number[]) => unknown {
    const exported = this.exports[name] as WrappedExport;
    return exported.original ?? exported;
  }

  f64(pointer: number, length: number): Float64Array {
    return new Float64Array(this.exports.memory.buffer, pointer, length);
  }

  i32(pointer: number, length: number): Int32Array {
    return new Int32Array(this.exports.memory.buffer, pointer, length);
  }

  f32(pointer: number, length: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, pointer, length);
  }

  /** Bytes currently allocated through the kernels' allocator (networks and scratch). */
  allocatedBytes(): number {
    return this.exports.allocatedBytes();
  }

  /** Bytes that can still be allocated, at best (headers and free gaps between regions aside). */
  #room(): number {
    return this.exports.capacityBytes() - this.allocatedBytes();
  }

  /**
   * Throws TOO_LARGE, before anything is allocated, when `bytes` more cannot be addressed even
   * after reclaiming what collected networks held. `advice`, given the bytes free, says what
   * would fit (training data: the most points, and a setting that holds more).
   */
  checkRoom(bytes: number, what: string, advice?: (room: number) => string): void {
    if (bytes > this.#room() && !(this.#reclaimCollected() && bytes <= this.#room())) throw this.#tooLarge(bytes, what, '', advice);
  }

  /**
   * A region of `bytes`. When the allocator has no room (wasm32's 4 GiB are used up, or the
   * engine refuses to grow memory: a browser tab, a small host), the regions of collected
   * networks are reclaimed and the allocation retried before TOO_LARGE is thrown.
   */
  allocate(bytes: number, what = 'this call'): Region {
    // Sizes past 32 bits would wrap on the way in: they are refused here.
    const attempt = (): number => (bytes <= this.exports.capacityBytes() ? this.exports.allocate(bytes) : 0);
    let pointer = attempt();
    if (pointer === 0 && this.#reclaimCollected()) pointer = attempt();
    if (pointer === 0) throw this.#tooLarge(bytes, what, 'a region of ');
    return { pointer, bytes };
  }

  release(region: Region): void {
    this.exports.release(region.pointer);
  }

  /** TOO_LARGE for `bytes` (`piece` says whether they are needed as one region), naming what undisposed networks hold, and `advice` on the room free. */
  #tooLarge(bytes: number, what: string, piece = '', advice?: (room: number) => string): KnnError {
    let held = 0;
    for (const holding of this.#holdings) for (const region of holding.regions) held += region.bytes;
    const room = Math.max(0, this.#room());
    const shortage =
      bytes > room
        ? `only ${byteCount(room)} of wasm32's 4 GiB are free`
        : `${byteCount(room)} of wasm32's 4 GiB are free but not in one piece, or the JavaScript engine refused to grow the memory`;
    return new KnnError(
      'TOO_LARGE',
      `${what} needs ${piece}${byteCount(bytes)} of wasm memory; ${shortage}. Networks not yet disposed hold ${byteCount(held)}: call dispose() ` +
        'on every network you no longer use (the garbage collector does not see wasm memory), or use fewer points, features or queries per call.' +
        (advice ? ` In the room free now, ${advice(room)}.` : ''),
    );
  }

  /**
   * Makes `owner` the holder of `regions`: they are released by releaseHolding (dispose), or
   * once `owner` has been garbage-collected. `lifetime` is an object only `owner` references:
   * a WeakRef to `owner` itself would keep it alive until the current job ends, so a loop that
   * fits networks without yielding to the event loop would retain every one of them.
   */
  hold(owner: object, lifetime: object, regions: Region[]): Holding {
    const holding = { regions, lifetime: new WeakRef(lifetime) };
    this.#holdings.add(holding);
    this.#finalizer.register(owner, holding, holding);
    return holding;
  }

  /** Releases every region of `holding` but keeps it, for regions its owner takes next. */
  releaseHeld(holding: Holding): void {
    for (const region of holding.regions) this.release(region);
    holding.regions.length = 0;
  }

  /** Releases every region of `holding` and forgets it. Idempotent. */
  releaseHolding(holding: Holding): void {
    this.releaseHeld(holding);
    this.#holdings.delete(holding);
    this.#finalizer.unregister(holding);
  }

  /**
   * Releases the regions of networks the garbage collector has already collected, whose
   * finalizer has not run yet. True if anything was released.
   */
  #reclaimCollected(): boolean {
    let released = false;
    for (const holding of this.#holdings) {
      if (holding.lifetime.deref() !== undefined) continue;
      released ||= holding.regions.length > 0;
      this.releaseHolding(holding);
    }
    return released;
  }

  /** Size of the shared scratch region now held. */
  scratchBytesHeld(): number {
    return this.#scratch.bytes;
  }

  /**
   * The shared scratch region, at least `bytes` long. It only grows, to the largest chunk any
   * call has needed, and is reused by every later call.
   */
  scratch(bytes: number): number {
    if (this.#scratch.bytes < bytes) {
      const held = this.#scratch;
      this.#scratch = { pointer: 0, bytes: 0 };
      if (held.bytes > 0) this.release(held);
      this.#scratch = this.allocate(bytes, `a chunk of queries' scratch`);
    }
    return this.#scratch.pointer;
  }
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const BINARIES: Record<KernelBuild, string> = { plain: plainWasmBase64, relaxed: relaxedWasmBase64 };
// The shared twins import their memory, all of wasm32's 4 GiB at most: a shared memory must
// declare its maximum up front.
const SHARED_MAXIMUM_PAGES = 65536;
const loading = new Map<string, Promise<Kernels>>();

/** A build's module, compiled: plain, or its twin importing a shared memory of `initialPages`. */
interface CompiledKernels {
  readonly module: WebAssembly.Module;
  readonly initialPages: number | undefined;
}

/** Compiled modules by the key of `loading`: more instances of one (a network's shards) are made without compiling again. */
const compiled = new Map<string, CompiledKernels>();

async function compileKernels(build: KernelBuild, shared: boolean): Promise<CompiledKernels> {
  if (!shared) return { module: await WebAssembly.compile(decodeBase64(BINARIES[build])), initialPages: undefined };
  const { bytes, initialPages } = withSharedMemoryImport(decodeBase64(BINARIES[build]), SHARED_MAXIMUM_PAGES);
  return { module: await WebAssembly.compile(bytes), initialPages };
}

/** The build key (of `loading`) of every instance: shards are made of their network's build. */
const instanceKeys = new WeakMap<Kernels, string>();

/** An instance of compiled kernels (`key` of `loading`) on a new memory of its own (a shared one for the twin). */
function instantiateCompiled({ module, initialPages }: CompiledKernels, key: string): Kernels {
  let kernels: Kernels;
  if (initialPages === undefined) {
    kernels = new Kernels(instantiateSync<KernelExports>(module, {}).exports as unknown as KernelExports);
  } else {
    const memory = new WebAssembly.Memory({ initial: initialPages, maximum: SHARED_MAXIMUM_PAGES, shared: true });
    const { exports } = instantiateSync<KernelExports>(module, { env: { memory } });
    kernels = new Kernels(exports as unknown as KernelExports, { module, memory });
  }
  instanceKeys.set(kernels, key);
  return kernels;
}

/**
 * Kernels of the build and memory kind of `like` (a realm's kernels) on a memory of their own:
 * a shard of a network too large for one wasm memory (shards.ts) holds its points in one, freed
 * once nothing references the instance. Made at once, from the module `like` was compiled from.
 */
export function privateKernels(like: Kernels): Kernels {
  const key = instanceKeys.get(like)!;
  const idle = idleKernels.get(key) ?? [];
  while (idle.length > 0) {
    const reused = idle.pop()!.deref();
    if (reused && reused.allocatedBytes() === reused.scratchBytesHeld()) return reused;
  }
  return instantiateCompiled(compiled.get(key)!, key);
}

/**
 * Private kernels whose shard was disposed, by build key, held weakly: wasm memory never
 * shrinks, and is freed only when the collector frees its instance, which may be long after a
 * network of gigabytes is disposed. A shard made meanwhile takes one, its memory already grown,
 * so a loop that fits and disposes sharded networks reuses their memories instead of piling up
 * new ones; one left unused is still collected.
 */
const idleKernels = new Map<string, WeakRef<Kernels>[]>();

/** Gives back the private kernels of a disposed shard (every region released), to be reused or collected. */
export function releasePrivateKernels(kernels: Kernels): void {
  const key = instanceKeys.get(kernels)!;
  const idle = idleKernels.get(key) ?? [];
  idle.push(new WeakRef(kernels));
  idleKernels.set(key, idle);
}

/** Kernels already instantiated, by the key of `loading`: what a call may use without awaiting. */
const loaded = new Map<string, Kernels>();

/** The realm's kernels of `build` (by default the selected one), if instantiated already; see loadKernels. */
export function loadedKernels(build: KernelBuild = selectedBuild(), shared = false): Kernels | undefined {
  return loaded.get(`${build}${shared ? ' shared' : ''}`);
}

/**
 * The realm's kernels of `build` (by default the selected one), instantiated on first use;
 * with `shared`, the build's twin on a shared memory, which only this thread allocates in.
 */
export function loadKernels(build: KernelBuild = selectedBuild(), shared = false): Promise<Kernels> {
  const key = `${build}${shared ? ' shared' : ''}`;
  let kernels = loading.get(key);
  if (!kernels) {
    kernels = compileKernels(build, shared).then((module) => {
      compiled.set(key, module);
      return instantiateCompiled(module, key);
    });
    loading.set(key, kernels);
    void kernels.then((ready) => loaded.set(key, ready), () => {});
  }
  return kernels;
}
