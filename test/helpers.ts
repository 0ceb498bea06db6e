// Shared test data: seeded random matrices, random problem shapes, networks fitted both ways,
// and the kernel builds.
import fc from 'fast-check';
import { afterAll, beforeAll, expect } from 'vitest';
import { KnnNetwork, kernelInfo, setKernelBuild, type KernelBuild, type KnnOptions, type Label } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { SeededRandom } from '../src/random.js';
import { layerOneValue } from '../src/metrics.js';

export interface Dataset {
  X: { data: Float64Array; rows: number; cols: number };
  y: Label[];
}

/** n points in d dimensions; `grid` > 0 snaps values to a grid of that many steps (forces ties). */
export function randomData(seed: number, n: number, d: number, options: { classes?: number; grid?: number; offset?: number; scale?: number } = {}): Dataset {
  const random = new SeededRandom(seed);
  const { classes = 3, grid = 0, offset = 0, scale = 1 } = options;
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) {
    const value = grid > 0 ? Math.floor(random.uniform() * grid) : random.uniform() * 2 - 1;
    data[i] = offset + value * scale;
  }
  const y = Array.from({ length: n }, () => Math.floor(random.uniform() * classes));
  return { X: { data, rows: n, cols: d }, y };
}

export async function fitBoth(X: Dataset['X'], y: Label[], options: KnnOptions): Promise<{ wasm: KnnNetwork; reference: ReferenceNetwork }> {
  return { wasm: await KnnNetwork.fit(X, y, options), reference: await ReferenceNetwork.fit(X, y, options) };
}

export function maxAbsoluteDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]));
  return largest;
}

/** The kernel builds this engine runs: plain SIMD always, relaxed SIMD where it validates. */
export const KERNEL_BUILDS: readonly KernelBuild[] = kernelInfo().engine.relaxedSimd ? ['plain', 'relaxed'] : ['plain'];

/** Networks fitted in the enclosing describe block run on `build`; later blocks get 'auto' back. */
export function onKernelBuild(build: KernelBuild): void {
  beforeAll(() => setKernelBuild(build));
  afterAll(() => setKernelBuild('auto'));
}

/** A Float64Array's exact bit patterns (as 32-bit halves), so −0, NaN and the last ulp all count in a comparison. */
export const bits = (values: Float64Array): number[] => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length * 2));

/**
 * The fields of a random problem the property tests draw: n from 1 to `largestN` (1 and small n
 * often), d = 1, odd and across the SIMD width and the direct search's limit, grids that make
 * ties, 1–5 classes, k as a fraction of n or 'all', every weighting, regression.
 */
export function problemFields(largestN: number) {
  return {
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    n: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 13, max: 90 }), fc.integer({ min: 91, max: largestN })),
    d: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 9 }), fc.constantFrom(16, 17, 33)),
    grid: fc.constantFrom(0, 0, 2, 3),
    classes: fc.integer({ min: 1, max: 5 }),
    kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    weights: fc.constantFrom('uniform' as const, 'distance' as const, 'softmax' as const),
    all: fc.boolean(),
    regression: fc.boolean(),
  };
}

const UNIT_ROUNDOFF = 2 ** -53;

/** The expansion's rounding bound on each z1 of query r (the kernels' expansionErrorBound), from the network's centre and norms. */
function expansionBound(net: KnnNetwork, queries: Dataset['X'], r: number): number {
  const { mean, b1 } = net.weights;
  const d = queries.cols;
  let queryNorm = 0;
  for (let j = 0; j < d; j++) queryNorm += (queries.data[r * d + j] - mean[j]) ** 2;
  const scale = Math.sqrt(queryNorm * (1 + 1e-9)) + Math.sqrt(Math.max(...b1));
  return (2 * d + 16) * UNIT_ROUNDOFF * scale * scale + (2 * d + 16) * Number.MIN_VALUE;
}

/**
 * The softmax over every point reads z1, which an add computes about the held centre: each
 * class probability is within e^(2λδ) − 1 of a fresh fit's, δ the two networks' expansion
 * bounds added (every weight's ratio moves by at most e^(±2λδ)), plus the online sums' rounding.
 * A predicted label may differ only where two classes are that close.
 */
export function expectSoftmaxWithinBound(net: KnnNetwork, whole: KnnNetwork, queries: Dataset['X']): void {
  const lambda = net.options.lambda;
  const c = net.classes.length;
  const proba = net.predictProba(queries);
  const fresh = whole.predictProba(queries);
  const predicted = net.predict(queries) as Label[];
  const expected = whole.predict(queries) as Label[];
  const z2 = net.forward(queries).z2;
  const freshZ2 = whole.forward(queries).z2;
  const n = net.nSamples;
  for (let r = 0; r < queries.rows; r++) {
    const tolerance = Math.expm1(2 * lambda * (expansionBound(net, queries, r) + expansionBound(whole, queries, r))) + 64 * n * UNIT_ROUNDOFF;
    for (let j = 0; j < c; j++) expect(Math.abs(proba[r * c + j] - fresh[r * c + j]), `query ${r}, class ${j}`).toBeLessThanOrEqual(tolerance);
    for (let i = 0; i < n; i++) expect(Math.abs(z2[r * n + i] - freshZ2[r * n + i]), `query ${r}, point ${i}'s share`).toBeLessThanOrEqual(tolerance);
    if (predicted[r] === expected[r]) continue;
    const row = Array.from(fresh.subarray(r * c, (r + 1) * c)).sort((a, b) => b - a);
    expect(row[0] - row[1], `query ${r}: labels differ only on a tie within the bound`).toBeLessThanOrEqual(2 * tolerance);
  }
}

/** The k nearest of n rows of `data` to each query by brute force (Euclidean, on the widened values), ties toward the lower index. */
export function bruteForceNeighbours(data: Float64Array | Float32Array, n: number, d: number, queries: Float64Array, k: number): { indices: number[]; distances: Float64Array } {
  const indices: number[] = [];
  const distances: number[] = [];
  for (let r = 0; r < queries.length / d; r++) {
    const best: { index: number; squared: number }[] = [];
    for (let i = 0; i < n; i++) {
      const squared = layerOneValue('euclidean', data, i, queries, r, d);
      if (best.length === k && squared >= best[k - 1].squared) continue;
      let at = best.length === k ? k - 1 : best.length;
      while (at > 0 && best[at - 1].squared > squared) at--;
      best.splice(at, 0, { index: i, squared });
      if (best.length > k) best.pop();
    }
    for (const { index, squared } of best) {
      indices.push(index);
      distances.push(Math.sqrt(squared));
    }
  }
  return { indices, distances: Float64Array.from(distances) };
}

/** Rows of queries as a flat matrix. */
export type FlatRows = { data: Float64Array | Float32Array; rows: number; cols: number };

/**
 * The same network fitted on float32 storage (the float32 `data`) and on float64 storage (the
 * same values widened), for tests that the two answer bit for bit.
 */
export async function storageTwins(data: Float32Array, n: number, d: number, y: Label[] | null, options: KnnOptions): Promise<{ float32: KnnNetwork; float64: KnnNetwork }> {
  const float32 = await KnnNetwork.fit({ data, rows: n, cols: d }, y, options);
  const float64 = await KnnNetwork.fit({ data: Float64Array.from(data), rows: n, cols: d }, y, options);
  expect(float32.storage).toBe('float32');
  expect(float64.storage).toBe('float64');
  return { float32, float64 };
}

/** Everything a network answers for `queries`, as exact bits; with `layers`, forward's three layers and the weights too. */
export function exactAnswers(net: KnnNetwork, queries: FlatRows, k: number, radius: number, layers = false) {
  const found = net.kneighbors(queries, k);
  const within = net.radiusNeighbors(queries, radius);
  const labelled = net.options.task !== 'search';
  const regression = net.options.task === 'regression';
  const forward = layers && labelled ? net.forward(queries as never) : undefined;
  const weights = layers && labelled ? net.weights : undefined;
  return {
    indices: Array.from(found.indices),
    distances: bits(found.distances),
    radius: { offsets: Array.from(within.offsets), indices: Array.from(within.indices), distances: bits(within.distances) },
    predicted: !labelled ? [] : regression ? bits(net.predict(queries) as Float64Array) : net.predict(queries),
    proba: labelled && !regression ? bits(net.predictProba(queries)) : [],
    z1: forward ? bits(forward.z1) : [],
    z2: forward ? bits(forward.z2) : [],
    z3: forward ? bits(forward.z3) : [],
    W1: weights ? bits(weights.W1) : [],
    b1: weights ? bits(weights.b1) : [],
    mean: weights ? bits(weights.mean) : [],
  };
}
