// Loads the probe wasm (bench/probe/*.asm.ts, embedded as base64 by scripts/build-probe.mjs).
import { probeWasmBase64 } from './generated/probeWasm.js';

/** (a, b, out, rows, cols, depth, reps): out = A·Bᵀ, repeated reps times. Pointers are byte offsets. */
export type GemmKernel = (a: number, b: number, out: number, rows: number, cols: number, depth: number, reps: number) => void;

export interface ProbeInstance {
  memory: WebAssembly.Memory;
  /** 16-byte aligned bump allocation; may grow (and so detach views of) the memory. */
  allocate(bytes: number): number;
  /** Sum of the bytes/8 f64 values at ptr; bytes a multiple of 64. */
  streamSumF64(ptr: number, bytes: number): number;
  /** Sum of the bytes/4 f32 values at ptr; bytes a multiple of 64. */
  streamSumF32(ptr: number, bytes: number): number;
  kernel(exportName: string): GemmKernel;
}

let compiled: Promise<WebAssembly.Module> | undefined;

function probeModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(Buffer.from(probeWasmBase64, 'base64'));
  return compiled;
}

/** A fresh instance with its own memory: drop it to release the memory. */
export async function instantiateProbe(): Promise<ProbeInstance> {
  const instance = await WebAssembly.instantiate(await probeModule(), {
    env: {
      abort() {
        throw new Error('probe wasm aborted');
      },
    },
  });
  const exports = instance.exports as Record<string, unknown>;
  return {
    memory: exports.memory as WebAssembly.Memory,
    allocate: exports.allocate as (bytes: number) => number,
    streamSumF64: exports.streamSumF64 as (ptr: number, bytes: number) => number,
    streamSumF32: exports.streamSumF32 as (ptr: number, bytes: number) => number,
    kernel(exportName: string): GemmKernel {
      const fn = exports[exportName];
      if (typeof fn !== 'function') throw new Error(`probe wasm has no export ${exportName}`);
      return fn as GemmKernel;
    },
  };
}
