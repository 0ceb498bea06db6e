// Loading the kernels and owning their linear memory: one instance per realm, shared by every
// network. Regions are allocated and released through the kernels' allocator; typed-array views
// are made on demand from the current buffer, because growing the memory detaches the old one.
import { instantiate } from '@assemblyscript/loader';
import { KnnError } from './errors.js';
import { wasmBinaryBase64 } from './generated/wasmBinary.js';

export interface KernelExports extends Record<string, unknown> {
  readonly memory: WebAssembly.Memory;
  allocate(bytes: number): number;
  release(pointer: number, bytes: number): void;
  allocatedBytes(): number;
  allocatedRegions(): number;
  computeMean(points: number, n: number, d: number, mean: number): void;
  packWeights(points: number, n: number, d: number, mean: number, packed: number, norms: number): number;
  packPoints(points: number, n: number, d: number, packed: number): void;
  float32Scale(packed: number, n: number, d: number): number;
  packFloat32Weights(packed: number, n: number, d: number, scale: number, panels32: number, norms: number): number;
  candidateErrorBound(queryNorm: number, largestPointNorm: number, d: number): number;
  directPanelDimensions(): number;
  float32UnprovenQueries(): number;
  topKStateBytes(capacity: number): number;
  softmaxStateBytes(classes: number): number;
  scratchBytes(q: number, d: number, stateBytes: number): number;
  searchNeighbours(
    points: number, pointPanels: number, packed: number, pointNorms: number, mean: number, n: number, d: number, largestPointNorm: number,
    float32Panels: number, float32Norms: number, float32Scale: number, largestFloat32Norm: number,
    queries: number, q: number, k: number, capacity: number, scratch: number, outIndices: number, outSquared: number,
  ): void;
  softmaxScores(
    packed: number, pointNorms: number, mean: number, n: number, d: number,
    labels: number, targets: number, classes: number, regression: number, lambda: number,
    queries: number, q: number, scratch: number, output: number,
  ): void;
  layerOneDistances(packed: number, pointNorms: number, mean: number, n: number, d: number, queries: number, q: number, scratch: number, output: number): void;
  projectOneHot(
    neighbourIndices: number, neighbourSquared: number, q: number, k: number,
    labels: number, targets: number, classes: number, regression: number, mode: number, lambda: number, output: number,
  ): void;
  argmaxRows(scores: number, q: number, classes: number, output: number): void;
  stableExp(x: number): number;
}

/** A block of linear memory owned by one network (or by the shared scratch). */
export interface Region {
  readonly pointer: number;
  readonly bytes: number;
}

// wasm32 addresses 4 GiB; keep some room for scratch and the allocator's own bookkeeping.
const ADDRESSABLE_BYTES = 4 * 1024 ** 3;
const RESERVED_BYTES = 64 * 1024 ** 2;

export class Kernels {
  readonly exports: KernelExports;
  #scratch: Region = { pointer: 0, bytes: 0 };

  constructor(exports: KernelExports) {
    this.exports = exports;
  }

  f64(pointer: number, length: number): Float64Array {
    return new Float64Array(this.exports.memory.buffer, pointer, length);
  }

  i32(pointer: number, length: number): Int32Array {
    return new Int32Array(this.exports.memory.buffer, pointer, length);
  }

  /** Bytes currently allocated through the kernels' allocator (networks and scratch). */
  allocatedBytes(): number {
    return this.exports.allocatedBytes();
  }

  /** Throws TOO_LARGE, before anything is allocated, when `bytes` more cannot be addressed. */
  checkRoom(bytes: number, what: string): void {
    const available = ADDRESSABLE_BYTES - RESERVED_BYTES - this.allocatedBytes();
    if (bytes > available) {
      throw new KnnError(
        'TOO_LARGE',
        `${what} needs ${(bytes / 1024 ** 2).toFixed(0)} MiB of wasm memory but only ${(Math.max(0, available) / 1024 ** 2).toFixed(0)} MiB of wasm32's 4 GiB are free; use fewer points or features, or dispose other networks.`,
      );
    }
  }

  /**
   * A region of `bytes`. An engine may refuse to grow memory below 4 GiB (a browser tab, a small
   * host); the allocator then traps before changing any state, and that becomes TOO_LARGE.
   */
  allocate(bytes: number): Region {
    try {
      return { pointer: this.exports.allocate(bytes), bytes };
    } catch (error) {
      if (!(error instanceof WebAssembly.RuntimeError)) throw error;
      throw new KnnError('TOO_LARGE', `the JavaScript engine refused to grow wasm memory by ${(bytes / 1024 ** 2).toFixed(1)} MiB; use fewer points, features or queries per call.`);
    }
  }

  release(region: Region): void {
    this.exports.release(region.pointer, region.bytes);
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
      if (this.#scratch.bytes > 0) this.release(this.#scratch);
      this.#scratch = this.allocate(bytes);
    }
    return this.#scratch.pointer;
  }
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let loading: Promise<Kernels> | undefined;

/** The realm's kernels, instantiated on first use. */
export function loadKernels(): Promise<Kernels> {
  loading ??= instantiate<KernelExports>(decodeBase64(wasmBinaryBase64), {}).then(
    ({ exports }) => new Kernels(exports as unknown as KernelExports),
  );
  return loading;
}
