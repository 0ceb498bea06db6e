/**
 * Float32 storage through the public API (KnnNetwork), on n × d float32 unit vectors:
 *
 *   npx tsx bench/f32store/api.ts [--n 1000000] [--d 384] [--queries 20] [--no-float64-input]
 *
 * Measures, in one process: fit's throughput (MB of float32 input per second, wall clock and
 * this process's processor time) for Float32Array input (storage 'auto': float32), then for
 * the same values as a Float64Array with storage 'float32' (rounded, here exactly); the wasm
 * memory the network holds against the raw float32 bytes; toBytes' bytes per value; and one
 * query's latency (kneighbors(x, 10), the median of --queries) against one pass over the same
 * number of bytes (an f32x4 sum in a wasm module of its own, compiled here). The first fit of
 * the process also grows the wasm memory and touches its pages for the first time; the second
 * fit reuses them. Prints Markdown.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { KnnNetwork } from '../../src/index.js';
import { SeededRandom } from '../../src/random.js';
import { loadKernels } from '../../src/wasm.js';

const argument = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const n = argument('n', 1_000_000);
const d = argument('d', 384);
const queryCount = argument('queries', 20);
const withFloat64Input = !process.argv.includes('--no-float64-input');

/** Seconds of wall clock and of this process's processor time that `work` takes. */
async function timed<T>(work: () => Promise<T> | T): Promise<{ wall: number; processor: number; result: T }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await work();
  const wall = (performance.now() - start) / 1e3;
  const used = process.cpuUsage(cpu);
  return { wall, processor: (used.user + used.system) / 1e6, result };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fixed = (value: number, digits = 2): string => value.toFixed(digits);

function unitVectors(count: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  const data = new Float32Array(count * d);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let j = 0; j < d; j++) {
      const value = random.normal();
      data[i * d + j] = value;
      sum += value * value;
    }
    const norm = Math.sqrt(sum);
    for (let j = 0; j < d; j++) data[i * d + j] /= norm;
  }
  return data;
}

/** One pass over `bytes` bytes: an f32x4 sum, four accumulators, in a wasm module with a memory of its own. */
async function onePass(bytes: number): Promise<() => number> {
  // The probe's float32 stream (bench/probe/stream.asm.ts), compiled with a memory of its own.
  const probe = readFileSync(fileURLToPath(new URL('../probe/stream.asm.ts', import.meta.url)), 'utf8');
  const source = `export function grow(bytes: usize): void { memory.grow(<i32>((bytes + 65535) >> 16)); }\n${probe}`;
  const { binary, error } = await asc.compileString(source, { optimizeLevel: 3, shrinkLevel: 0, runtime: 'stub', enable: ['simd'], maximumMemory: 65536 } as never);
  if (error || !binary) throw new Error(`compiling the pass: ${String(error)}`);
  const { instance } = await WebAssembly.instantiate(binary as Uint8Array<ArrayBuffer>);
  const exports = instance.exports as { grow(bytes: number): void; streamSumF32(pointer: number, bytes: number): number; memory: WebAssembly.Memory };
  exports.grow(bytes + 65536);
  new Uint8Array(exports.memory.buffer).fill(1, 65536, 65536 + bytes);
  return () => exports.streamSumF32(65536, bytes);
}

async function main(): Promise<void> {
  const kernels = await loadKernels();
  console.log(`# Float32 storage through the API: ${n} × ${d} float32 unit vectors\n`);
  const generated = await timed(() => unitVectors(n, 1));
  const data = generated.result;
  const inputMB = (n * d * 4) / 1e6;
  console.log(`(data generated in ${fixed(generated.wall, 1)} s; ${fixed(inputMB, 0)} MB of float32; Node ${process.version})\n`);
  console.log('| fit | wall s | processor s | MB of float32 input / wall s | MB / processor s |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const fitRow = async (label: string, fit: () => Promise<KnnNetwork>): Promise<KnnNetwork> => {
    const { wall, processor, result } = await timed(fit);
    console.log(`| ${label} | ${fixed(wall)} | ${fixed(processor)} | ${fixed(inputMB / wall, 0)} | ${fixed(inputMB / processor, 0)} |`);
    return result;
  };
  let net = await fitRow("Float32Array, first fit of the process (storage 'auto')", () => KnnNetwork.fit({ data, rows: n, cols: d }, null));
  const memoryBytes = kernels.exports.memory.buffer.byteLength;
  const heldBytes = kernels.allocatedBytes() - kernels.scratchBytesHeld();
  net.dispose();
  net = await fitRow("Float32Array, again (storage 'auto')", () => KnnNetwork.fit({ data, rows: n, cols: d }, null));
  if (withFloat64Input) {
    const wide = Float64Array.from(data);
    net.dispose();
    const float64Net = await fitRow("Float64Array of the same values (storage 'float32')", () => KnnNetwork.fit({ data: wide, rows: n, cols: d }, null, { storage: 'float32' }));
    float64Net.dispose();
    // Float64 storage (X, W1, W1's float32 copy: about 20·d + 16 bytes a point), where it fits.
    if (n * (20 * d + 16) < 3.5 * 1024 ** 3) {
      const widened = await fitRow("Float64Array of the same values (storage 'auto': float64)", () => KnnNetwork.fit({ data: wide, rows: n, cols: d }, null));
      widened.dispose();
    }
    net = await fitRow("Float32Array, after it (storage 'auto')", () => KnnNetwork.fit({ data, rows: n, cols: d }, null));
  }
  console.log(`\nstorage: ${net.storage}; wasm memory ${fixed(memoryBytes / 1e6, 0)} MB = ${fixed(memoryBytes / (n * d * 4), 3)}× the raw float32 bytes ` +
    `(the network's regions ${fixed(heldBytes / 1e6, 0)} MB = ${fixed(heldBytes / n, 1)} bytes a point, 4·d + 16 = ${4 * d + 16}); ` +
    `toBytes: ${fixed(net.toBytes().length / (n * d), 3)} bytes a value\n`);

  const pass = await onePass(n * d * 4);
  const queries = unitVectors(queryCount, 2);
  const single: { wall: number; processor: number }[] = [];
  const passes: { wall: number; processor: number }[] = [];
  for (let r = 0; r < queryCount; r++) {
    single.push(await timed(() => net.kneighbors(queries.subarray(r * d, (r + 1) * d), 10)));
    passes.push(await timed(pass));
  }
  console.log(`One query (kneighbors(x, 10)), median of ${queryCount}, interleaved with one pass over ${fixed(inputMB, 0)} MB (an f32x4 sum):\n`);
  console.log('| time | one query (ms) | one pass (ms) | one query ÷ one pass (target ≤ 1.3) |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const kind of ['wall', 'processor'] as const) {
    const query = median(single.map((t) => t[kind]));
    const one = median(passes.map((t) => t[kind]));
    console.log(`| ${kind === 'wall' ? 'wall clock' : 'processor'} | ${fixed(query * 1e3, 1)} | ${fixed(one * 1e3, 1)} | ${fixed(query / one)} |`);
  }
  net.dispose();
}

await main();
