/**
 * Float32 storage, measured against today's float64 storage in one process, on the kernels alone
 * (the wrapper is not wired to it yet):
 *
 *   npx tsx bench/f32store/index.ts [--quick] [--only bytes,kernels,search,expansion,large] [--build plain|relaxed]
 *
 * Compiles bench/f32store/kernels.asm.ts (every shipped kernel from the same sources with the
 * shipped build's options, plus the benchmark's own entries), then measures: bytes per value;
 * each layer-1 kernel's speed in cache; the k-nearest search (queries/s and the share of queries
 * the float32 bound proves) with W1's float32 copy against float32 storage, centred and
 * uncentred, on W2, W3, W2 + 1000, a 1e8 offset, far clusters and 250 000 × 384 unit vectors;
 * the float64 expansion formed on the fly against the packed W1 (softmax over all points,
 * forward's z1); packing at 1M × 384 (MB/s of float32 input per step); and on 1M × 384 unit
 * vectors the batch search and one query's latency against one pass over the stored bytes.
 * Calls of the contestants of one table are interleaved round by round; figures are medians of
 * this process's processor time per call (the machine is shared), one-query latency also in
 * wall-clock time.
 * Prints Markdown and writes it to bench/f32store/results.md.
 */
import asc from 'assemblyscript/asc';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../../src/random.js';
import { exactnessWorkloads, loadWorkload, WORKLOADS, type WorkloadSpec } from '../workloads.js';

// ---------------------------------------------------------------------------------------------
// The module

interface Exports {
  memory: WebAssembly.Memory;
  allocate(bytes: number): number;
  release(pointer: number): void;
  computeMean(points: number, n: number, d: number, mean: number): void;
  packWeights(points: number, n: number, d: number, mean: number, packed: number, norms: number, firstPoint: number): number;
  float32Scale(packed: number, n: number, d: number): number;
  packFloat32Weights(packed: number, n: number, d: number, scale: number, panels32: number, norms: number, firstPoint: number): number;
  packFloat32Rows(rows: number, count: number, d: number, sums: number, panels: number, firstPoint: number): number;
  packFloat32Norms(panels: number, n: number, d: number, mean: number, pointNorms: number, candidateNorms: number, firstPoint: number, largest: number): void;
  scratchBytes(q: number, d: number, stateBytes: number): number;
  topKStateBytes(capacity: number): number;
  softmaxQueryStateBytes(n: number, d: number, classes: number): number;
  float32UnprovenQueries(): number;
  searchNeighbours(...args: number[]): void;
  searchStoredNeighbours(...args: number[]): void;
  searchUncentredNeighbours(...args: number[]): void;
  softmaxScores(...args: number[]): void;
  storedSoftmaxScores(...args: number[]): void;
  layerOneDistances(...args: number[]): void;
  storedLayerOneDistances(...args: number[]): void;
  streamSum(pointer: number, bytes: number): number;
  sweep(...args: number[]): void;
}

const SWEEP = { packedDistance: 0, storedDistance: 1, float32Copy: 2, storedFloat32: 3, storedUncentred: 4 } as const;

function repositoryRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'assembly', 'index.ts'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('bench/f32store: cannot find the repository (assembly/index.ts)');
    folder = parent;
  }
  return folder;
}

/** Compiles the benchmark's module as asconfig.json's plain or relaxed target compiles the shipped one. */
async function compile(build: 'plain' | 'relaxed'): Promise<Exports> {
  let binary: Uint8Array<ArrayBuffer> | undefined;
  const features = build === 'relaxed' ? ['--enable', 'simd', '--enable', 'relaxed-simd'] : ['--enable', 'simd'];
  const { error, stderr } = await asc.main(
    ['bench/f32store/kernels.asm.ts', '--baseDir', repositoryRoot(), ...features, '-O3', '--converge', '--noAssert', '--runtime', 'minimal', '--initialMemory', '1', '--outFile', 'f32store.wasm'],
    { writeFile: (name, contents) => { if (name.endsWith('.wasm') && typeof contents !== 'string') binary = new Uint8Array(contents); } },
  );
  if (error) throw new Error(`${error.message}\n${stderr.toString()}`);
  const { instance } = await WebAssembly.instantiate(binary!, { env: { abort: () => { throw new Error('abort'); } } });
  return instance.exports as unknown as Exports;
}

let wasm: Exports;
const f64 = (at: number, length: number) => new Float64Array(wasm.memory.buffer, at, length);
const f32 = (at: number, length: number) => new Float32Array(wasm.memory.buffer, at, length);
const i32 = (at: number, length: number) => new Int32Array(wasm.memory.buffer, at, length);

function allocate(bytes: number): number {
  const pointer = wasm.allocate(Math.max(16, bytes)) >>> 0;
  if (pointer === 0) throw new Error(`no room for ${bytes} bytes`);
  return pointer;
}

const padded = (n: number) => Math.ceil(n / 8) * 8;

// ---------------------------------------------------------------------------------------------
// The two storages

interface Float64Storage {
  n: number; d: number; points: number; packed: number; norms: number; mean: number; largestNorm: number;
  float32Panels: number; float32Norms: number; float32Scale: number; largestFloat32Norm: number;
}

interface Float32Storage {
  n: number; d: number; panels: number; norms: number; candidateNorms: number; mean: number; largestNorm: number; largestCandidateNorm: number;
  /** ‖X_i‖² for the uncentred variant, and its largest. */
  uncentredNorms: number; largestUncentredNorm: number;
}

/** Today's float64 storage with W1's float32 copy (d > 16: no panels of X). */
function float64Storage(data: Float32Array, n: number, d: number): Float64Storage {
  const points = allocate(n * d * 8);
  const packed = allocate(padded(n) * d * 8);
  const norms = allocate(padded(n) * 8);
  const mean = allocate(d * 8);
  const float32Panels = allocate(padded(n) * d * 4);
  const float32Norms = allocate(padded(n) * 8);
  const view = f64(points, n * d);
  for (let i = 0; i < n * d; i++) view[i] = data[i];
  wasm.computeMean(points, n, d, mean);
  const largestNorm = wasm.packWeights(points, n, d, mean, packed, norms, 0);
  const float32Scale = wasm.float32Scale(packed, n, d);
  const largestFloat32Norm = wasm.packFloat32Weights(packed, n, d, float32Scale, float32Panels, float32Norms, 0);
  return { n, d, points, packed, norms, mean, largestNorm, float32Panels, float32Norms, float32Scale, largestFloat32Norm };
}

/** Processor seconds per step of packing. */
interface PackTimes { copy: number; pack: number; mean: number; norms: number }

/** Packs float32 storage through a staging region of `stagingRows` rows, timing each step. */
function packInto(storage: Float32Storage, data: Float32Array, stagingRows: number, times: PackTimes, withUncentred: boolean): void {
  const { n, d } = storage;
  const staging = allocate(stagingRows * d * 4);
  const sums = allocate(d * 8);
  const largest = allocate(16);
  f64(sums, d).fill(0);
  for (let first = 0; first < n; first += stagingRows) {
    const count = Math.min(stagingRows, n - first);
    let start = processorSeconds();
    f32(staging, count * d).set(data.subarray(first * d, (first + count) * d));
    times.copy += processorSeconds() - start;
    start = processorSeconds();
    const bad = wasm.packFloat32Rows(staging, count, d, sums, storage.panels, first);
    times.pack += processorSeconds() - start;
    if (bad >= 0) throw new Error(`value ${first * d + bad} is not finite`);
  }
  let start = processorSeconds();
  const mean = f64(storage.mean, d);
  const sum = f64(sums, d);
  for (let j = 0; j < d; j++) mean[j] = sum[j] / n;
  times.mean += processorSeconds() - start;
  start = processorSeconds();
  wasm.packFloat32Norms(storage.panels, n, d, storage.mean, storage.norms, storage.candidateNorms, 0, largest);
  times.norms += processorSeconds() - start;
  [storage.largestNorm, storage.largestCandidateNorm] = f64(largest, 2);
  if (withUncentred) {
    // Norms about a zero centre: ‖X_i‖², the uncentred variant's candidate norms (b1 rewritten to the same place, then restored).
    const zero = allocate(d * 8);
    const scratchNorms = allocate(padded(n) * 8);
    f64(zero, d).fill(0);
    wasm.packFloat32Norms(storage.panels, n, d, zero, scratchNorms, storage.uncentredNorms, 0, largest);
    storage.largestUncentredNorm = f64(largest, 2)[1];
    wasm.release(zero);
    wasm.release(scratchNorms);
  }
  for (const region of [staging, sums, largest]) wasm.release(region);
}

function float32Storage(n: number, d: number, withUncentred: boolean): Float32Storage {
  return {
    n, d, panels: allocate(padded(n) * d * 4), norms: allocate(padded(n) * 8), candidateNorms: allocate(padded(n) * 8), mean: allocate(d * 8),
    largestNorm: 0, largestCandidateNorm: 0, uncentredNorms: withUncentred ? allocate(padded(n) * 8) : 0, largestUncentredNorm: 0,
  };
}

function releaseStorage(storage: object): void {
  for (const [key, value] of Object.entries(storage)) {
    if (['points', 'packed', 'norms', 'mean', 'float32Panels', 'float32Norms', 'panels', 'candidateNorms', 'uncentredNorms'].includes(key) && value) wasm.release(value as number);
  }
}

// ---------------------------------------------------------------------------------------------
// Searches, in chunks of 256 queries as the wrapper runs them

const CHUNK = 256;
type Path = 'float32 copy' | 'float32 storage' | 'uncentred';

interface Searcher {
  run(): void;
  release(): void;
  indices: Int32Array;
  squared: Float64Array;
}

function searcher(path: Path, storage: Float64Storage | Float32Storage, queries: Float64Array, q: number, k: number): Searcher {
  const { n, d } = storage;
  const capacity = Math.min(n, k + Math.min(8, Math.max(1, Math.floor(n / 128))));
  const chunk = Math.min(q, CHUNK);
  const rows = allocate(chunk * d * 8);
  const scratch = allocate(wasm.scratchBytes(chunk, d, wasm.topKStateBytes(capacity)));
  const outIndices = allocate(chunk * k * 4);
  const outSquared = allocate(chunk * k * 8);
  const indices = new Int32Array(q * k);
  const squared = new Float64Array(q * k);
  return {
    indices,
    squared,
    release() {
      for (const region of [rows, scratch, outIndices, outSquared]) wasm.release(region);
    },
    run() {
      for (let start = 0; start < q; start += chunk) {
        const count = Math.min(chunk, q - start);
        f64(rows, count * d).set(queries.subarray(start * d, (start + count) * d));
        if (path === 'float32 copy') {
          const s = storage as Float64Storage;
          wasm.searchNeighbours(
            s.points, 0, s.packed, s.norms, s.mean, n, d, s.largestNorm, s.float32Panels, s.float32Norms, s.float32Scale, s.largestFloat32Norm,
            rows, count, k, capacity, scratch, outIndices, outSquared, 0,
          );
        } else {
          const s = storage as Float32Storage;
          const search = path === 'float32 storage' ? wasm.searchStoredNeighbours : wasm.searchUncentredNeighbours;
          const [candidateNorms, largest] = path === 'float32 storage' ? [s.candidateNorms, s.largestCandidateNorm] : [s.uncentredNorms, s.largestUncentredNorm];
          const tail = path === 'float32 storage' ? [0, 0] : [];
          search(s.panels, s.norms, candidateNorms, s.mean, n, d, s.largestNorm, largest, rows, count, k, capacity, scratch, outIndices, outSquared, ...tail);
        }
        indices.set(i32(outIndices, count * k), start * k);
        squared.set(f64(outSquared, count * k), start * k);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Timing: contestants interleaved round by round, the median of each

interface Contestant { name: string; call: () => void }

/** Processor time of this process, in seconds (user and system). */
function processorSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Median seconds per call of each contestant, calls interleaved round by round, after one
 * warm-up call each: this process's processor time per call (user and system, so page faults
 * count), or with `processor` false the wall-clock time. On a machine other processes share,
 * the processor time a call took is about what it takes alone; the wall-clock time also holds
 * the waits for a core.
 */
function timeRoundRobin(contestants: Contestant[], rounds: number, maxSeconds: number, processor = true): Map<string, number> {
  const samples = new Map<string, number[]>(contestants.map((c) => [c.name, []]));
  for (const c of contestants) c.call(); // warm-up
  const start = performance.now();
  const clock = processor ? processorSeconds : () => performance.now() / 1e3;
  for (let round = 0; round < rounds; round++) {
    for (const c of contestants) {
      const t = clock();
      c.call();
      samples.get(c.name)!.push(clock() - t);
    }
    if (round >= 2 && (performance.now() - start) / 1e3 > maxSeconds) break;
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const fixed = (value: number, digits = 2) => value.toFixed(digits);
const lines: string[] = [];
function print(line = ''): void {
  console.log(line);
  lines.push(line);
}

function table(header: string[], rows: string[][]): void {
  print(`| ${header.join(' | ')} |`);
  print(`| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) print(`| ${row.join(' | ')} |`);
  print();
}

// ---------------------------------------------------------------------------------------------
// Data

/** Float32 rows (rounded once) and float64 queries. */
interface Data { name: string; n: number; d: number; q: number; k: number; train: Float32Array; queries: Float64Array }

function fromWorkload(spec: WorkloadSpec, name = spec.name): Data {
  const { train, queries } = loadWorkload(spec);
  return { name, n: spec.n, d: spec.d, q: spec.q, k: spec.k as number, train: Float32Array.from(train), queries };
}

function noisy(name: string, n: number, d: number, q: number, centre: (i: number) => number, spread: number, seed: number): Data {
  const random = new SeededRandom(seed);
  const train = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) train[i * d + j] = centre(i) + random.uniform() * spread;
  const queries = new Float64Array(q * d);
  for (let i = 0; i < q; i++) for (let j = 0; j < d; j++) queries[i * d + j] = centre(i) + random.uniform() * spread;
  return { name, n, d, q, k: 5, train, queries };
}

/** Gaussian blobs (100 centres, spread 1.5, unit noise) normalised to unit length: an embeddings-like set. */
function unitBlobs(name: string, n: number, d: number, q: number, seed: number): Data {
  const random = new SeededRandom(seed);
  const centres = Float64Array.from({ length: 100 * d }, () => 1.5 * random.normal());
  const row = new Float64Array(d);
  const draw = (target: Float32Array | Float64Array, count: number): void => {
    for (let i = 0; i < count; i++) {
      const centre = random.integer(100) * d;
      let sum = 0;
      for (let j = 0; j < d; j++) {
        row[j] = centres[centre + j] + random.normal();
        sum += row[j] * row[j];
      }
      const norm = Math.sqrt(sum);
      for (let j = 0; j < d; j++) target[i * d + j] = row[j] / norm;
    }
  };
  const train = new Float32Array(n * d);
  draw(train, n);
  const queries = new Float64Array(q * d);
  draw(queries, q);
  return { name, n, d, q, k: 10, train, queries };
}

// ---------------------------------------------------------------------------------------------
// The measurements

function bytesPerValue(): void {
  print('## Bytes per value');
  print();
  print('Training data held per value of X (labels, 4 bytes a point, included): float64 storage as today (X, W1, b1, and W1\'s float32 copy with its norms, or X\'s panels for d ≤ 16), float32 storage (X\'s float32 panels, b1, the candidate norms).');
  print();
  const rows = [16, 64, 128, 384, 768].map((d) => {
    const today = (d * 8 * 2 + (d <= 16 ? d * 8 : d * 4 + 8) + 8 + 4) / d;
    const stored = (d * 4 + 16 + 4) / d;
    return [`${d}`, fixed(today), fixed(stored), fixed(stored / 4, 3)];
  });
  table(['d', 'float64 storage', 'float32 storage', 'float32 storage ÷ raw float32'], rows);
}

function kernelSweeps(quick: boolean): void {
  print('## Layer-1 kernels in cache');
  print();
  print('Each kernel swept over one block of panels (256 KiB of float64 W1, or the same points in float32) by 64 query units (pairs for the float64 GEMMs, groups of 4 for the float32 ones), d = 64 and 384; float32 storage expands (float64) or centres (float32) the block once per sweep, as the streams do once per chunk. GFLOP/s per processor second, a multiply-add counted as 2.');
  print();
  const rows: string[][] = [];
  for (const d of [64, 384]) {
    const panels = Math.max(1, Math.floor((256 * 1024) / (d * 64)));
    const n = panels * 8;
    const random = new SeededRandom(d);
    const data = Float32Array.from({ length: n * d }, () => random.normal());
    const f64Storage = float64Storage(data, n, d);
    const f32Storage = float32Storage(n, d, true);
    packInto(f32Storage, data, 64, { copy: 0, pack: 0, mean: 0, norms: 0 }, true);
    const units = 64;
    const queries = allocate(units * d * 16);
    f32(queries, units * d * 4).set(Float32Array.from({ length: units * d * 4 }, () => random.uniform() * 0.5));
    const norms = allocate(units * 4 * 8);
    const scales = allocate(units * 4 * 8);
    f64(norms, units * 4).fill(1);
    f64(scales, units * 4).fill(-2);
    const centre32 = allocate(d * 4);
    f32(centre32, d).fill(0.01);
    const tiles = allocate(4 * n * 8);
    const centred = allocate(n * d * 8);
    const float64Queries = allocate(units * d * 16);
    f64(float64Queries, units * d * 2).set(Float64Array.from({ length: units * d * 2 }, () => random.uniform()));
    const rounds = quick ? 20 : 60;
    const sweeps: Record<string, () => void> = {
      'float64 W1 packed': () => wasm.sweep(SWEEP.packedDistance, float64Queries, units, 0, 0, f64Storage.packed, f64Storage.norms, 0, d, panels, tiles, n * 8, centred, rounds),
      'float64 W1 expanded per block': () => wasm.sweep(SWEEP.storedDistance, float64Queries, units, 0, 0, f32Storage.panels, f32Storage.norms, f32Storage.mean, d, panels, tiles, n * 8, centred, rounds),
      "float32 copy of W1": () => wasm.sweep(SWEEP.float32Copy, queries, units, norms, 0, f64Storage.float32Panels, f64Storage.float32Norms, 0, d, panels, tiles, n * 8, centred, rounds),
      'float32 storage, centred': () => wasm.sweep(SWEEP.storedFloat32, queries, units, norms, scales, f32Storage.panels, f32Storage.candidateNorms, centre32, d, panels, tiles, n * 8, centred, rounds),
      'float32 storage, uncentred': () => wasm.sweep(SWEEP.storedUncentred, queries, units, norms, scales, f32Storage.panels, f32Storage.uncentredNorms, centre32, d, panels, tiles, n * 8, centred, rounds),
    };
    const seconds = timeRoundRobin(Object.entries(sweeps).map(([name, call]) => ({ name, call })), quick ? 5 : 11, quick ? 3 : 8);
    const flops = (name: string) => (name.startsWith('float64') ? 2 : 4) * units * n * d * 2 * rounds;
    const gflops = (name: string) => flops(name) / seconds.get(name)! / 1e9;
    for (const name of Object.keys(sweeps)) {
      const baseline = name.startsWith('float64') ? 'float64 W1 packed' : 'float32 copy of W1';
      rows.push([`${name}, d = ${d}`, fixed(gflops(name), 1), fixed(seconds.get(name)! / seconds.get(baseline)!)]);
    }
    for (const region of [queries, norms, scales, centre32, tiles, centred, float64Queries]) wasm.release(region);
    releaseStorage(f64Storage);
    releaseStorage(f32Storage);
  }
  table(['kernel', 'GFLOP/s', 'time ÷ its baseline (packed W1, or the float32 copy)'], rows);
}

interface SearchRow { cells: string[] }

/** One data set: today's float32 copy, float32 storage centred and uncentred: queries/s, proven share, same answers. */
function searchComparison(data: Data, quick: boolean, withToday = true): SearchRow {
  const { n, d, q, k } = data;
  const today = withToday ? float64Storage(data.train, n, d) : undefined;
  const stored = float32Storage(n, d, true);
  packInto(stored, data.train, 256, { copy: 0, pack: 0, mean: 0, norms: 0 }, true);
  const searchers: [Path, Searcher][] = [];
  if (today) searchers.push(['float32 copy', searcher('float32 copy', today, data.queries, q, k)]);
  searchers.push(['float32 storage', searcher('float32 storage', stored, data.queries, q, k)]);
  searchers.push(['uncentred', searcher('uncentred', stored, data.queries, q, k)]);
  // Proven shares from one run each; the answers must agree bit for bit.
  const proven = new Map<Path, number>();
  for (const [path, s] of searchers) {
    const before = wasm.float32UnprovenQueries();
    s.run();
    proven.set(path, 1 - (wasm.float32UnprovenQueries() - before) / q);
  }
  const [, first] = searchers[0];
  for (const [path, s] of searchers) {
    const same = s.indices.every((v, i) => v === first.indices[i]) && s.squared.every((v, i) => Object.is(v, first.squared[i]));
    if (!same) throw new Error(`${data.name}: ${path} answers differ`);
  }
  const seconds = timeRoundRobin(searchers.map(([name, s]) => ({ name, call: () => s.run() })), quick ? 5 : 9, quick ? 6 : 20);
  const rate = (path: Path) => (seconds.has(path) ? fixed(q / seconds.get(path)!, 0) : '—');
  const share = (path: Path) => (proven.has(path) ? `${fixed(100 * proven.get(path)!, 0)} %` : '—');
  const ratio = today ? fixed(seconds.get('float32 copy')! / seconds.get('float32 storage')!) : '—';
  for (const [, s] of searchers) s.release();
  if (today) releaseStorage(today);
  releaseStorage(stored);
  return {
    cells: [
      `${data.name} (${n} × ${d}, ${q} queries, k = ${k})`, rate('float32 copy'), share('float32 copy'), rate('float32 storage'), share('float32 storage'),
      rate('uncentred'), share('uncentred'), ratio,
    ],
  };
}

function searches(quick: boolean): void {
  print('## k-nearest search: float32 candidates');
  print();
  print("Queries per processor second and the share of queries the float32 bound proves (the rest go to the float64 search), for today's float32 copy of W1 (float64 storage), float32 storage with its values centred on μ32 block by block (the shipped search), and float32 storage uncentred (the rejected variant). Training data rounded to float32 once, so all three answer the same, bit for bit (checked). Speed-up = float32 storage's queries/s ÷ the copy's.");
  print();
  const w2 = WORKLOADS.find((w) => w.name === 'W2')!;
  const w3 = WORKLOADS.find((w) => w.name === 'W3')!;
  const offset = exactnessWorkloads(w2.q).find((w) => w.name === 'W2+1000')!;
  const sets: (() => Data)[] = [
    () => fromWorkload(w2),
    () => fromWorkload(w3),
    () => fromWorkload(offset),
    () => noisy('1e8 offset, spread 512', 20_000, 22, 200, () => 1e8, 512, 1),
    () => noisy('clusters at ±1e7, spread 4', 20_000, 22, 200, (i) => (i % 2 ? 1e7 : -1e7), 4, 3),
    () => unitBlobs('unit vectors', 250_000, 384, 100, 5),
  ];
  const rows = sets.map((make) => searchComparison(make(), quick).cells);
  table(['data', 'copy q/s', 'copy proven', 'storage q/s', 'storage proven', 'uncentred q/s', 'uncentred proven', 'speed-up'], rows);
}

function expansion(quick: boolean): void {
  print('## The float64 expansion from float32 storage');
  print();
  print("W2's data (10 000 × 64) in float32: the softmax over all points (k = 'all', λ = 0.05, 10 classes, 1 000 queries in chunks of 128) and forward's z1 (100 queries), from float64 storage's packed W1 and from float32 storage (each block of panels expanded into W1 in the scratch once per chunk). Same bits (checked). Processor time per call.");
  print();
  const data = fromWorkload(WORKLOADS.find((w) => w.name === 'W2')!);
  const { n, d } = data;
  const today = float64Storage(data.train, n, d);
  const stored = float32Storage(n, d, false);
  packInto(stored, data.train, 256, { copy: 0, pack: 0, mean: 0, norms: 0 }, false);
  const classes = 10;
  const labels = allocate(n * 4);
  i32(labels, n).set(Int32Array.from({ length: n }, (_, i) => i % classes));
  const chunk = 128;
  const rows = allocate(chunk * d * 8);
  const scratch = allocate(wasm.scratchBytes(chunk, d, wasm.softmaxQueryStateBytes(n, d, classes)));
  const output = allocate(chunk * n * 8);
  const q = data.q;
  const softmax = (fromStorage: boolean) => () => {
    for (let start = 0; start < q; start += chunk) {
      const count = Math.min(chunk, q - start);
      f64(rows, count * d).set(data.queries.subarray(start * d, (start + count) * d));
      if (fromStorage) wasm.storedSoftmaxScores(stored.panels, stored.norms, stored.mean, n, d, labels, 0, classes, 0, 0.05, rows, count, scratch, output, 0);
      else wasm.softmaxScores(today.packed, today.norms, today.mean, n, d, labels, 0, classes, 0, 0.05, rows, count, scratch, output, 0);
    }
  };
  const forward = (fromStorage: boolean) => () => {
    f64(rows, 100 * d).set(data.queries.subarray(0, 100 * d));
    if (fromStorage) wasm.storedLayerOneDistances(stored.panels, stored.norms, stored.mean, n, d, rows, 100, scratch, output, 0);
    else wasm.layerOneDistances(today.packed, today.norms, today.mean, n, d, rows, 100, scratch, output, 0);
  };
  const check = (a: () => void, b: () => void, length: number) => {
    a();
    const first = f64(output, length).slice();
    b();
    if (!f64(output, length).every((v, i) => Object.is(v, first[i]))) throw new Error('the expansion on the fly differs');
  };
  check(softmax(false), softmax(true), (q % chunk || chunk) * classes);
  check(forward(false), forward(true), 100 * n);
  const seconds = timeRoundRobin(
    [
      { name: 'softmax, packed', call: softmax(false) }, { name: 'softmax, on the fly', call: softmax(true) },
      { name: 'forward z1, packed', call: forward(false) }, { name: 'forward z1, on the fly', call: forward(true) },
    ],
    quick ? 5 : 11, quick ? 5 : 15,
  );
  table(['call', 'float64 storage, packed W1 (ms)', 'float32 storage (ms)', 'float32 ÷ float64 storage'], [
    ["softmax over all points (1 000 queries)", fixed(seconds.get('softmax, packed')! * 1e3, 1), fixed(seconds.get('softmax, on the fly')! * 1e3, 1), fixed(seconds.get('softmax, on the fly')! / seconds.get('softmax, packed')!)],
    ["forward's z1 (100 queries)", fixed(seconds.get('forward z1, packed')! * 1e3, 1), fixed(seconds.get('forward z1, on the fly')! * 1e3, 1), fixed(seconds.get('forward z1, on the fly')! / seconds.get('forward z1, packed')!)],
  ]);
  for (const region of [labels, rows, scratch, output]) wasm.release(region);
  releaseStorage(today);
  releaseStorage(stored);
}

function packingFloat64(n: number, d: number, data: Float32Array): number {
  const start = processorSeconds();
  const storage = float64Storage(data, n, d);
  const seconds = processorSeconds() - start;
  releaseStorage(storage);
  return seconds;
}

function large(quick: boolean): void {
  const n = 1_000_000;
  const d = 384;
  print(`## 1M × 384 float32 unit vectors`);
  print();
  const generated = performance.now();
  const data = unitBlobs('1M × 384 unit vectors', n, d, 100, 7);
  print(`(data generated in ${fixed((performance.now() - generated) / 1e3, 1)} s)`);
  print();
  const megabytes = (n * d * 4) / 1e6;
  const packRows: string[][] = [];
  const stored = float32Storage(n, d, false);
  for (const [label, stagingBytes] of [['first fit (fresh memory, 256 KiB staging)', 256 * 1024], ['again, 64 KiB staging', 64 * 1024], ['again, 256 KiB staging', 256 * 1024], ['again, 1 MiB staging', 1024 * 1024]] as const) {
    const stagingRows = Math.max(8, Math.floor(stagingBytes / (d * 4) / 8) * 8);
    const times: PackTimes = { copy: 0, pack: 0, mean: 0, norms: 0 };
    const start = processorSeconds();
    packInto(stored, data.train, stagingRows, times, false);
    const total = processorSeconds() - start;
    const rate = (seconds: number) => fixed(megabytes / seconds, 0);
    packRows.push([label, rate(times.copy), rate(times.pack), rate(times.norms), fixed(megabytes / total, 0), fixed(total, 2)]);
    if (quick && packRows.length === 2) break;
  }
  print(`Packing ${fixed(megabytes, 0)} MB of float32 input on one thread, MB of input per processor second for each step (copy into the staging region; transpose into panels with the column sums, which validate; both norms) and for the whole. The first fit writes memory the process has just grown, so it also pays the system's first touch of every page:`);
  print();
  table(['run', 'copy', 'pack + sums', 'norms', 'total MB/s', 'seconds'], packRows);

  // Batch search and one query's latency, against one pass over the stored bytes.
  const batch = searcher('float32 storage', stored, data.queries, 100, 10);
  const before = wasm.float32UnprovenQueries();
  batch.run();
  const proven = 1 - (wasm.float32UnprovenQueries() - before) / 100;
  const single = searcher('float32 storage', stored, data.queries.subarray(0, d), 1, 10);
  const panelBytes = padded(n) * d * 4;
  const latency = [{ name: 'one query', call: () => single.run() }, { name: 'one pass', call: () => wasm.streamSum(stored.panels, panelBytes) }];
  const processor = timeRoundRobin([{ name: 'batch', call: () => batch.run() }, ...latency], quick ? 5 : 11, quick ? 20 : 60);
  const wall = timeRoundRobin(latency, quick ? 7 : 21, quick ? 10 : 30, false);
  const row = (what: string, times: Map<string, number>) => [
    what, fixed(times.get('one query')! * 1e3, 1), fixed(times.get('one pass')! * 1e3, 1), fixed(panelBytes / times.get('one pass')! / 1e9, 1),
    fixed(times.get('one query')! / times.get('one pass')!),
  ];
  table(['batch: 100 queries, k = 10', 'value'], [
    ['queries per processor second', fixed(100 / processor.get('batch')!, 1)],
    ['share proven by the float32 bound', `${fixed(100 * proven, 0)} %`],
  ]);
  print(`One query (k = 10) against one pass over the stored ${fixed(panelBytes / 1e9, 2)} GB (an f32x4 sum): wall-clock time, and this process's processor time (the machine is shared).`);
  print();
  table(['time', 'one query (ms)', 'one pass (ms)', 'pass GB/s', 'one query ÷ one pass (target ≤ 1.3)'], [row('wall clock', wall), row('processor', processor)]);
  batch.release();
  single.release();
  releaseStorage(stored);

  // Today's fit kernels on the float32 input at a quarter of the size (1M × 384 does not fit today).
  const quarter = n / 4;
  const f64Seconds = packingFloat64(quarter, d, data.train.subarray(0, quarter * d));
  const again = float32Storage(quarter, d, false);
  const start = processorSeconds();
  packInto(again, data.train.subarray(0, quarter * d), 168, { copy: 0, pack: 0, mean: 0, norms: 0 }, false);
  const f32Seconds = processorSeconds() - start;
  releaseStorage(again);
  print(`Today's fit kernels on the same float32 input, ${quarter} × ${d} (widened into X, computeMean, packWeights, the float32 copy): ${fixed(quarter * d * 4 / 1e6 / f64Seconds, 0)} MB of float32 input per processor second, against ${fixed(quarter * d * 4 / 1e6 / f32Seconds, 0)} for float32 storage's packing (the float64 regions partly on memory touched before).`);
  print();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const buildAt = argv.indexOf('--build');
  const build = buildAt >= 0 ? (argv[buildAt + 1] as 'plain' | 'relaxed') : 'plain';
  wasm = await compile(build);
  print(`# Float32 storage benchmark`);
  print();
  print(`Node ${process.version}, ${build} build, ${quick ? 'quick' : 'full'} run, ${new Date().toISOString().slice(0, 10)}.`);
  print();
  const onlyAt = argv.indexOf('--only');
  const only = new Set(onlyAt >= 0 ? argv[onlyAt + 1].split(',') : ['bytes', 'kernels', 'search', 'expansion', 'large']);
  if (only.has('bytes')) bytesPerValue();
  if (only.has('kernels')) kernelSweeps(quick);
  if (only.has('search')) searches(quick);
  if (only.has('expansion')) expansion(quick);
  if (only.has('large')) {
    // A fresh instance, so that the first fit below grows and touches memory as a first fit in a process does.
    wasm = await compile(build);
    large(quick);
  }
  if (onlyAt < 0) writeFileSync(resolve(repositoryRoot(), 'bench/f32store/results.md'), lines.join('\n'));
}

await main();
