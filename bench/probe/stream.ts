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
