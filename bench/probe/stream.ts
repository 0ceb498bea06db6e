// Memory-stream probe: how fast wasm can read a buffer larger than the caches once (the bound
// for a single query against weights that do not fit in cache, W4).
import { now, secondsSince } from './timing.js';
import { instantiateProbe } from './wasm.js';

const maxBytes = 3 * 2 ** 30;

/**
 * GB/s (1e9 bytes/s) for one pass of an f64x2 sum over `bytes` bytes of wasm memory (rounded up
 * to 64): the best pass of at least 5 and at least 0.3 s of passes, after one warm-up pass.
 */
export async function measureMemoryStream(bytes: number): Promise<{ gigabytesPerSecond: number }> {
  if (!(bytes > 0 && bytes <= maxBytes)) throw new RangeError(`bytes must be in (0, ${maxBytes}], got ${bytes}`);
  const length = Math.ceil(bytes / 64) * 64;
  const probe = await instantiateProbe();
  const ptr = probe.allocate(length);
  // Write every page, so the passes read real memory rather than the shared zero page.
  new Float64Array(probe.memory.buffer, ptr, length / 8).fill(1);

  const expected = length / 8;
  if (probe.streamSumF64(ptr, length) !== expected) throw new Error('stream probe summed the wrong value');

  let bestSeconds = Infinity;
  let passes = 0;
  const start = now();
  while (passes < 5 || secondsSince(start) < 0.3) {
    const passStart = now();
    const sum = probe.streamSumF64(ptr, length);
    const seconds = secondsSince(passStart);
    if (sum !== expected) throw new Error('stream probe summed the wrong value');
    bestSeconds = Math.min(bestSeconds, seconds);
    passes++;
  }
  return { gigabytesPerSecond: length / bestSeconds / 1e9 };
}

/** One pass over a float32 buffer in wasm memory, to time beside another call (round-robin). */
export interface Float32StreamPass {
  /** Bytes one pass reads (`bytes` rounded up to 64). */
  bytes: number;
  /** Reads every byte once, summing f32x4 lanes; throws if the sum is not 0. */
  pass(): void;
}

/**
 * A buffer of `bytes` bytes of float32 ones in a fresh probe instance, and a pass over it. The
 * memory lives as long as the returned object: drop it to release the memory.
 */
export async function createFloat32StreamPass(bytes: number): Promise<Float32StreamPass> {
  if (!(bytes > 0 && bytes <= maxBytes)) throw new RangeError(`bytes must be in (0, ${maxBytes}], got ${bytes}`);
  const length = Math.ceil(bytes / 64) * 64;
  const probe = await instantiateProbe();
  const ptr = probe.allocate(length);
  // Zeros, written to every page, so the passes read real memory rather than the shared zero
  // page; a float32 sum of a billion ones would not be exact, a sum of zeros is.
  new Float32Array(probe.memory.buffer, ptr, length / 4).fill(0);
  return {
    bytes: length,
    pass() {
      if (probe.streamSumF32(ptr, length) !== 0) throw new Error('stream probe summed the wrong value');
    },
  };
}
