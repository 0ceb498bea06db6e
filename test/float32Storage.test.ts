// Float32 storage (assembly/float32Storage.ts) against float64 storage of the same values,
// widened, kernel by kernel: the mean and b1 it packs, the k nearest (indices and squared
// distances) on every search path, the radius search, forward's z1 and the softmax over all
// points must be bit for bit today's, on random shapes (d = 1 … 384, n = 1 … 1000) with
// duplicates and ties, 1e8 offsets, values near float32's largest and in its subnormal range,
// and on each kernel build. Queries stay float64.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/random.js';
import { loadKernels, type Kernels } from '../src/wasm.js';
import { bits, KERNEL_BUILDS } from './helpers.js';
import {
  float32Network, float64Network, kneighbors, layerOne, pointsWithin, releaseNetwork, softmaxScores, type Float32Network, type Float64Network,
} from './storageKernels.js';

type Kind = 'uniform' | 'grid' | 'offset 1e8' | 'clusters at ±1e7' | 'near float32 max' | 'subnormal' | 'unit rows';
const KINDS: Kind[] = ['uniform', 'grid', 'offset 1e8', 'clusters at ±1e7', 'near float32 max', 'subnormal', 'unit rows'];

/** A value of `kind` for row i, as float64 (the caller rounds training values to float32). */
function value(kind: Kind, random: SeededRandom, i: number): number {
  switch (kind) {
    case 'uniform': return random.uniform() * 2 - 1;
    case 'grid': return random.integer(3);
    case 'offset 1e8': return 1e8 + random.uniform() * 512;
    case 'clusters at ±1e7': return (i % 2 ? 1e7 : -1e7) + random.uniform() * 4;
    case 'near float32 max': return (random.uniform() * 2 - 1) * 3e38;
    case 'subnormal': return (random.uniform() * 2 - 1) * (random.uniform() < 0.5 ? 1e-40 : 1e-37);
    case 'unit rows': return random.normal();
  }
}

function rows(kind: Kind, seed: number, count: number, d: number): Float64Array {
  const random = new SeededRandom(seed);
  const data = new Float64Array(count * d);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = value(kind, random, i);
    if (kind === 'unit rows') {
      let sum = 0;
      for (let j = 0; j < d; j++) sum += data[i * d + j] ** 2;
      for (let j = 0; j < d; j++) data[i * d + j] /= Math.sqrt(sum);
    }
  }
  return data;
}

interface Problem {
  kernels: Kernels;
  n: number;
  d: number;
  float64: Float64Network;
  float32: Float32Network;
  queries: Float64Array;
  q: number;
}

/**
 * Training data of `kind` rounded to float32, both networks on it, and queries: fresh float64
 * rows of the same kind (not rounded), then copies of training rows (distance 0, duplicates).
 */
function problem(kernels: Kernels, kind: Kind, n: number, d: number, seed: number, chunkRows = 24, firstChunk = 13): Problem {
  const training = Float32Array.from(rows(kind, seed, n, d));
  const float64 = float64Network(kernels, Float64Array.from(training), n, d);
  const float32 = float32Network(kernels, training, n, d, chunkRows, firstChunk);
  const fresh = rows(kind, seed + 1, 9, d);
  const copies = Float64Array.from(training.subarray(0, Math.min(n, 4) * d));
  const queries = new Float64Array(fresh.length + copies.length);
  queries.set(fresh);
  queries.set(copies, fresh.length);
  return { kernels, n, d, float64, float32, queries, q: queries.length / d };
}

function release({ kernels, float64, float32 }: Problem): void {
  releaseNetwork(kernels, float64);
  releaseNetwork(kernels, float32);
}

function expectSameNeighbours(ours: { indices: Int32Array; squared: Float64Array }, theirs: { indices: Int32Array; squared: Float64Array }): void {
  expect(Array.from(ours.indices)).toEqual(Array.from(theirs.indices));
  expect(bits(ours.squared)).toEqual(bits(theirs.squared));
}

const SHAPES = [1, 3, 16, 17, 64, 384].flatMap((d) => [1, 7, 8, 9, 1000].map((n) => ({ d, n })));

describe.each(KERNEL_BUILDS)('float32 storage on the %s build', (build) => {
  describe.each(KINDS)('%s data', (kind) => {
    it.each(SHAPES)('d = $d, n = $n: mean, b1, k nearest, radius, z1 and softmax are float64 storage\'s, bit for bit', async ({ d, n }) => {
      const kernels = await loadKernels(build);
      const p = problem(kernels, kind, n, d, 1000 * d + n);
      try {
        expect(bits(kernels.f64(p.float32.mean.pointer, d))).toEqual(bits(kernels.f64(p.float64.mean.pointer, d)));
        expect(bits(kernels.f64(p.float32.norms.pointer, n))).toEqual(bits(kernels.f64(p.float64.norms.pointer, n)));
        expect(p.float32.largestNorm).toBe(p.float64.largestNorm);
        for (const k of new Set([1, Math.min(5, n), n])) {
          const truth = kneighbors(kernels, p.float64, p.queries, p.q, k, 'direct');
          expectSameNeighbours(kneighbors(kernels, p.float64, p.queries, p.q, k, 'float64'), truth);
          expectSameNeighbours(kneighbors(kernels, p.float32, p.queries, p.q, k, 'direct'), truth);
          expectSameNeighbours(kneighbors(kernels, p.float32, p.queries, p.q, k, 'float32'), truth);
          // One query alone takes the single-query float32 kernel.
          for (const r of [0, p.q - 1]) {
            const alone = kneighbors(kernels, p.float32, p.queries.subarray(r * d, (r + 1) * d), 1, k, 'float32');
            expectSameNeighbours(alone, { indices: truth.indices.subarray(r * k, (r + 1) * k), squared: truth.squared.subarray(r * k, (r + 1) * k) });
          }
        }
        const manhattan = kneighbors(kernels, p.float64, p.queries, p.q, Math.min(3, n), 'direct', true);
        expectSameNeighbours(kneighbors(kernels, p.float32, p.queries, p.q, Math.min(3, n), 'direct', true), manhattan);
        const query = p.queries.subarray(0, d);
        const limit = kneighbors(kernels, p.float64, query, 1, Math.min(4, n), 'direct').squared[Math.min(4, n) - 1];
        const within = pointsWithin(kernels, p.float64, query, limit, true);
        expectSameNeighbours(pointsWithin(kernels, p.float64, query, limit, false), within);
        expectSameNeighbours(pointsWithin(kernels, p.float32, query, limit, true), within);
        expectSameNeighbours(pointsWithin(kernels, p.float32, query, limit, false), within);
        const manhattanLimit = manhattan.squared[Math.min(3, n) - 1];
        expectSameNeighbours(pointsWithin(kernels, p.float32, query, manhattanLimit, true, true), pointsWithin(kernels, p.float64, query, manhattanLimit, true, true));
        for (const manhattanMetric of [false, true]) {
          expect(bits(layerOne(kernels, p.float32, p.queries, p.q, manhattanMetric))).toEqual(bits(layerOne(kernels, p.float64, p.queries, p.q, manhattanMetric)));
        }
        const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 3);
        for (const lambda of [1e-3, 1, 1e12]) {
          const theirs = softmaxScores(kernels, p.float64, labels, 3, lambda, p.queries, p.q);
          expect(bits(softmaxScores(kernels, p.float32, labels, 3, lambda, p.queries, p.q))).toEqual(bits(theirs));
        }
        expect(bits(softmaxScores(kernels, p.float32, labels, 3, 1, p.queries, p.q, true))).toEqual(bits(softmaxScores(kernels, p.float64, labels, 3, 1, p.queries, p.q, true)));
      } finally {
        release(p);
      }
    });
  });

  it('a slice of the training points (a worker\'s share) answers as float64 storage\'s slice, on every path', async () => {
    const kernels = await loadKernels(build);
    for (const d of [5, 40]) {
      const p = problem(kernels, 'grid', 1000, d, 10 + d);
      try {
        for (const firstPanel of [1, 60]) {
          const truth = kneighbors(kernels, p.float64, p.queries, p.q, 5, 'direct', false, firstPanel);
          expectSameNeighbours(kneighbors(kernels, p.float64, p.queries, p.q, 5, 'float32', false, firstPanel), truth);
          expectSameNeighbours(kneighbors(kernels, p.float32, p.queries, p.q, 5, 'direct', false, firstPanel), truth);
          expectSameNeighbours(kneighbors(kernels, p.float32, p.queries, p.q, 5, 'float32', false, firstPanel), truth);
        }
      } finally {
        release(p);
      }
    }
  });

  it('far clusters at ±1e7: the float32 bound cannot prove the candidates, and the float64 fallback answers exactly', async () => {
    const kernels = await loadKernels(build);
    const p = problem(kernels, 'clusters at ±1e7', 3000, 40, 7);
    try {
      const before = kernels.exports.float32UnprovenQueries();
      const ours = kneighbors(kernels, p.float32, p.queries, p.q, 5, 'float32');
      expect(kernels.exports.float32UnprovenQueries() - before).toBe(p.q);
      expectSameNeighbours(ours, kneighbors(kernels, p.float64, p.queries, p.q, 5, 'direct'));
    } finally {
      release(p);
    }
  });

  it('a 1e8 offset in float32 is proven by the centred float32 search, no fallback', async () => {
    const kernels = await loadKernels(build);
    const p = problem(kernels, 'offset 1e8', 3000, 40, 8);
    try {
      const before = kernels.exports.float32UnprovenQueries();
      const ours = kneighbors(kernels, p.float32, p.queries.subarray(0, 9 * 40), 9, 5, 'float32');
      expect(kernels.exports.float32UnprovenQueries() - before).toBe(0);
      expectSameNeighbours(ours, kneighbors(kernels, p.float64, p.queries.subarray(0, 9 * 40), 9, 5, 'direct'));
    } finally {
      release(p);
    }
  });

  it('values near float32\'s largest are too large for the float32 GEMM: every query searches in float64, exactly', async () => {
    const kernels = await loadKernels(build);
    const p = problem(kernels, 'near float32 max', 500, 40, 9);
    try {
      expect(kernels.exports.storedFloat32Searchable(p.float32.largestCandidateNorm, 40)).toBe(0);
      const before = kernels.exports.float32UnprovenQueries();
      const ours = kneighbors(kernels, p.float32, p.queries, p.q, 5, 'float32');
      expect(kernels.exports.float32UnprovenQueries()).toBe(before);
      expectSameNeighbours(ours, kneighbors(kernels, p.float64, p.queries, p.q, 5, 'direct'));
    } finally {
      release(p);
    }
  });
});

describe('packing float32 storage', () => {
  it('names the first NaN or ±Infinity of a chunk by its position in the chunk', async () => {
    const kernels = await loadKernels();
    const d = 5;
    for (const [at, bad] of [[0, NaN], [17, Infinity], [39, -Infinity], [23, NaN]] as const) {
      const data = Float32Array.from(rows('uniform', 3, 8, d));
      data[at] = bad;
      if (at === 23) data[31] = Infinity;
      const staging = kernels.allocate(data.length * 4);
      const panels = kernels.allocate(8 * d * 4);
      const sums = kernels.allocate(d * 8);
      kernels.f32(staging.pointer, data.length).set(data);
      kernels.f64(sums.pointer, d).fill(0);
      expect(kernels.exports.packFloat32Rows(staging.pointer, 8, d, sums.pointer, panels.pointer, 0)).toBe(at);
      for (const region of [staging, panels, sums]) kernels.release(region);
    }
  });

  it('rows appended after a partly filled panel get the b1 packWeights gives them on the held mean, and unpack as given', async () => {
    const kernels = await loadKernels();
    const [n, extra, d] = [13, 30, 19];
    const all = Float32Array.from(rows('uniform', 4, n + extra, d));
    const float64 = float64Network(kernels, Float64Array.from(all.subarray(0, n * d)), n, d);
    const float32 = float32Network(kernels, all.subarray(0, n * d), n, d);
    // Both storages grow in place to n + extra rows, centred on the held mean.
    const points = kernels.allocate((n + extra) * d * 8);
    const packed = kernels.allocate(48 * d * 8);
    const norms = kernels.allocate(48 * 8);
    const panels = kernels.allocate(48 * d * 4);
    const pointNorms = kernels.allocate(48 * 8);
    const candidateNorms = kernels.allocate(48 * 8);
    const staging = kernels.allocate(extra * d * 4);
    const sums = kernels.allocate(d * 8);
    const largest = kernels.allocate(16);
    const unpacked = kernels.allocate((n + extra) * d * 4);
    try {
      kernels.f64(points.pointer, (n + extra) * d).set(Float64Array.from(all));
      kernels.exports.packWeights(points.pointer, n + extra, d, float64.mean.pointer, packed.pointer, norms.pointer, 0);
      new Uint8Array(kernels.exports.memory.buffer).copyWithin(panels.pointer, float32.panels.pointer, float32.panels.pointer + 16 * d * 4);
      kernels.exports.packFloat32Norms(panels.pointer, n, d, float32.mean.pointer, pointNorms.pointer, candidateNorms.pointer, 0, largest.pointer, 0);
      kernels.f32(staging.pointer, extra * d).set(all.subarray(n * d));
      kernels.f64(sums.pointer, d).fill(0);
      expect(kernels.exports.packFloat32Rows(staging.pointer, extra, d, sums.pointer, panels.pointer, n)).toBe(-1);
      kernels.exports.packFloat32Norms(panels.pointer, n + extra, d, float32.mean.pointer, pointNorms.pointer, candidateNorms.pointer, n, largest.pointer, 0);
      expect(bits(kernels.f64(pointNorms.pointer, n + extra))).toEqual(bits(kernels.f64(norms.pointer, n + extra)));
      kernels.exports.unpackFloat32Rows(panels.pointer, d, 0, n + extra, unpacked.pointer);
      expect(Array.from(kernels.f32(unpacked.pointer, (n + extra) * d))).toEqual(Array.from(all));
      // The column sums of the held points, then the new ones, are computeMean's sums in row order.
      kernels.f64(sums.pointer, d).fill(0);
      kernels.exports.sumFloat32Points(panels.pointer, d, 0, n + extra, sums.pointer, 0);
      const mean = kernels.allocate(d * 8);
      kernels.exports.computeMean(points.pointer, n + extra, d, mean.pointer);
      expect(bits(kernels.f64(sums.pointer, d).map((sum) => sum / (n + extra)))).toEqual(bits(kernels.f64(mean.pointer, d)));
      kernels.release(mean);
    } finally {
      for (const region of [points, packed, norms, panels, pointNorms, candidateNorms, staging, sums, largest, unpacked]) kernels.release(region);
      releaseNetwork(kernels, float64);
      releaseNetwork(kernels, float32);
    }
  });
});
