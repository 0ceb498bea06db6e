// Shared by the tests of the pruned search inside KnnNetwork (treeNetwork*.test.ts): data built
// to break trees, and a comparison of every selecting call, bit for bit.
import { expect } from 'vitest';
import type { KnnNetwork, Label } from '../src/index.js';
import { SeededRandom } from '../src/random.js';
import { bits } from './helpers.js';

export interface Flat {
  data: Float64Array;
  rows: number;
  cols: number;
}

export const flat = (n: number, d: number, value: (i: number, j: number) => number): Flat => {
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = value(i, j);
  return { data, rows: n, cols: d };
};
export const uniform = (seed: number, n: number, d: number, scale = 1, offset = 0): Flat => {
  const random = new SeededRandom(seed);
  return flat(n, d, () => offset + random.uniform() * scale);
};
export const grid = (seed: number, n: number, d: number, steps: number): Flat => {
  const random = new SeededRandom(seed);
  return flat(n, d, () => 1 + Math.floor(random.uniform() * steps));
};
export const blobs = (seed: number, n: number, d: number, count: number): Flat => {
  const random = new SeededRandom(seed);
  const centres = Array.from({ length: count }, () => Array.from({ length: d }, () => random.uniform() * 20));
  return flat(n, d, (i, j) => centres[i % count][j] + (random.uniform() - 0.5) * 0.5);
};
/** `distinct` points, each repeated `times`, shuffled: duplicates across every leaf boundary. */
export const duplicated = (seed: number, distinct: number, times: number, d: number): Flat => {
  const base = uniform(seed, distinct, d);
  const random = new SeededRandom(seed + 1);
  const rows = Array.from({ length: distinct * times }, (_, i) => i % distinct);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return flat(rows.length, d, (i, j) => base.data[rows[i] * d + j]);
};
export const withFarPoint = (X: Flat): Flat => {
  const data = X.data.slice();
  data.fill(1e6, 17 * X.cols, 18 * X.cols);
  return { ...X, data };
};
export const labelsFor = (n: number, classes: number, seed: number): number[] => {
  const random = new SeededRandom(seed);
  return Array.from({ length: n }, () => Math.floor(random.uniform() * classes));
};
/** Queries: some training rows (exact ties at distance 0) and points drawn like them. */
export const queriesFor = (X: Flat, extra: Flat): Flat => {
  const rows = Math.min(X.rows, 20);
  const data = new Float64Array((rows + extra.rows) * X.cols);
  for (let r = 0; r < rows; r++) data.set(X.data.subarray(Math.floor((r * X.rows) / rows) * X.cols, (Math.floor((r * X.rows) / rows) + 1) * X.cols), r * X.cols);
  data.set(extra.data, rows * X.cols);
  return { data, rows: rows + extra.rows, cols: X.cols };
};


/** The first position where two arrays differ (as bits, for floats: −0 and NaN count), or −1: a fast comparison of large results. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const float = a instanceof Float64Array && b instanceof Float64Array;
  const x = float ? new BigUint64Array(a.buffer, a.byteOffset, a.length) : a;
  const y = float ? new BigUint64Array(b.buffer, b.byteOffset, b.length) : b;
  for (let i = 0; i < a.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
export const expectBits = (actual: Float64Array, expected: Float64Array): void => {
  const at = firstDifference(actual, expected);
  if (at >= 0) expect(bits(actual.subarray(at, at + 4))).toEqual(bits(expected.subarray(at, at + 4)));
  expect(at).toBe(-1);
};
export const expectSame = (actual: ArrayLike<number>, expected: ArrayLike<number>): void => {
  const at = firstDifference(actual, expected);
  if (at >= 0) expect(Array.from(actual).slice(at, at + 4)).toEqual(Array.from(expected).slice(at, at + 4));
  expect(at).toBe(-1);
};

/** Every selecting call of `net` against `brute`'s, bit for bit. */
export function expectSameAnswers(net: KnnNetwork, brute: KnnNetwork, queries: Flat, labelled: boolean): void {
  const n = brute.nSamples;
  for (const k of [undefined, 1, Math.min(n, 9)]) {
    const a = net.kneighbors(queries, k);
    const b = brute.kneighbors(queries, k);
    expectSame(a.indices, b.indices);
    expectBits(a.distances, b.distances);
  }
  const single = { data: queries.data.slice(0, queries.cols), rows: 1, cols: queries.cols };
  expect(Array.from(net.kneighbors(single).indices)).toEqual(Array.from(brute.kneighbors(single).indices));
  // Radii at the k-th distances themselves (points exactly on the limit), and beyond every point.
  const nearest = brute.kneighbors(queries, Math.min(n, 5)).distances;
  const few = { data: queries.data.subarray(0, 3 * queries.cols), rows: Math.min(3, queries.rows), cols: queries.cols };
  for (const radius of [0, nearest[4 % nearest.length], nearest[nearest.length - 1], 1e300]) {
    const asked = radius === 1e300 ? few : queries;
    const a = net.radiusNeighbors(asked, radius);
    const b = brute.radiusNeighbors(asked, radius);
    expectSame(a.offsets, b.offsets);
    expectSame(a.indices, b.indices);
    expectBits(a.distances, b.distances);
  }
  if (!labelled) return;
  if (net.options.task === 'regression') {
    expectBits(net.predict(queries) as Float64Array, brute.predict(queries) as Float64Array);
    return;
  }
  expect(net.predict(queries)).toEqual(brute.predict(queries));
  expectBits(net.predictProba(queries), brute.predictProba(queries));
  const truth = brute.predict(queries) as Label[];
  expect(net.score(queries, truth)).toBe(brute.score(queries, truth));
}

