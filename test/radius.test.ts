// radiusNeighbors: every training point within the radius, nearest first, ties by index, in
// compressed rows; bit-for-bit the reference's brute force on both search paths (d ≤ 16 direct
// differences, d > 16 the expansion with a direct recheck), boundary points included.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { SeededRandom } from '../src/random.js';
import { setRadiusCountingBuffer } from '../src/radius.js';
import { randomData } from './helpers.js';

type Radius = { offsets: Int32Array; indices: Int32Array; distances: Float64Array };
const plain = (result: Radius) => ({ offsets: Array.from(result.offsets), indices: Array.from(result.indices), distances: Array.from(result.distances) });

async function expectSameAsReference(X: { data: Float64Array; rows: number; cols: number }, queries: { data: Float64Array; rows: number; cols: number }, radii: number[]): Promise<void> {
  const y = Array.from({ length: X.rows }, (_, i) => i % 3);
  const net = await KnnNetwork.fit(X, y);
  const reference = await ReferenceNetwork.fit(X, y);
  for (const radius of radii) {
    const expected = plain(reference.radiusNeighbors(queries, radius));
    expect(plain(net.radiusNeighbors(queries, radius)), `n ${X.rows}, d ${X.cols}, radius ${radius}`).toEqual(expected);
  }
  net.dispose();
}

/** Radii that land exactly on some query's distances to training points: the inclusive boundary. */
function boundaryRadii(reference: ReferenceNetwork, queries: { data: Float64Array; rows: number; cols: number }): number[] {
  const { distances } = reference.kneighbors(queries, Math.min(reference.nSamples, 5));
  return [distances[0], distances[Math.min(distances.length - 1, 3)], distances[distances.length - 1]];
}

describe('radiusNeighbors', () => {
  it('matches brute force on random shapes, grids with ties and duplicates, both search paths', async () => {
    const random = new SeededRandom(3);
    for (const d of [1, 3, 16, 17, 33]) {
      for (const n of [1, 7, 200, 1500]) {
        for (const grid of [0, 4]) {
          const { X } = randomData(d * 1000 + n + grid, n, d, { grid });
          const queries = randomData(n + 5, 11, d, { grid }).X;
          const reference = await ReferenceNetwork.fit(X, Array.from({ length: n }, () => 0));
          const radii = [0, random.uniform() * Math.sqrt(d), ...boundaryRadii(reference, queries)];
          await expectSameAsReference(X, queries, radii);
        }
      }
    }
  });

  it('stays exact under a large common offset and for clusters far from the mean', async () => {
    const offset = randomData(11, 300, 20, { offset: 1e8, scale: 1e-3 }).X;
    await expectSameAsReference(offset, randomData(12, 9, 20, { offset: 1e8, scale: 1e-3 }).X, [1e-4, 1e-3, 2e-3]);
    const clusters = randomData(13, 300, 20).X;
    for (let i = 0; i < clusters.data.length; i++) clusters.data[i] += Math.floor(i / 20) % 2 ? 1e7 : -1e7;
    const near = randomData(14, 6, 20).X;
    for (let i = 0; i < near.data.length; i++) near.data[i] += 1e7;
    await expectSameAsReference(clusters, near, [0.5, 2, 3]);
  });

  it('radius 0 finds exactly the duplicates of a query; offsets are compressed rows', async () => {
    const net = await KnnNetwork.fit([[1, 1], [0, 0], [1, 1], [2, 2]], ['a', 'b', 'c', 'd']);
    const result = net.radiusNeighbors([[1, 1], [5, 5], [0, 0]], 0);
    expect(plain(result)).toEqual({ offsets: [0, 2, 2, 3], indices: [0, 2, 1], distances: [0, 0, 0] });
    const wide = net.radiusNeighbors([[1, 1]], Math.SQRT2);
    expect(plain(wide)).toEqual({ offsets: [0, 4], indices: [0, 2, 1, 3], distances: [0, 0, Math.SQRT2, Math.SQRT2] });
    net.dispose();
  });
});

describe('radiusNeighbors on the cosine metric', () => {
  it('keeps a point whose reported distance z1 / 2 is within the radius though z1 is a subnormal above 2r', async () => {
    // ‖x̂ − X̂‖² = (2.3e-162)² rounds to the smallest subnormal, whose half rounds to 0: the point is
    // reported at distance 0 by kneighbors, so a radius of 0 must list it.
    const X = [[1, 2.3e-162], [0, 1], [1, 0]];
    const y = [0, 1, 2];
    const net = await KnnNetwork.fit(X, y, { metric: 'cosine' });
    const reference = await ReferenceNetwork.fit(X, y, { metric: 'cosine' });
    const query = [[1, 0]];
    expect(Array.from(net.kneighbors(query, 2).distances)).toEqual([0, 0]);
    expect(plain(net.radiusNeighbors(query, 0))).toEqual(plain(reference.radiusNeighbors(query, 0)));
    // Ordered as kneighbors orders them, by z1: point 2 is at z1 = 0, point 0 one subnormal further.
    expect(plain(net.radiusNeighbors(query, 0))).toEqual({ offsets: [0, 2], indices: [2, 0], distances: [0, 0] });
    net.dispose();
  });
});

/** The process's peak resident memory in bytes (Linux), or undefined elsewhere. */
function peakResidentBytes(): number | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

describe('radiusNeighbors counts its results before it allocates them', () => {
  it('a radius that takes every one of 2^20 points for 300 queries (more than 2^28 in all) is TOO_LARGE, holding no more than a bounded buffer', { timeout: 120_000 }, async () => {
    const n = 2 ** 20;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = i;
    const net = await KnnNetwork.fit({ data, rows: n, cols: 1 }, new Int32Array(n));
    const queries = { data: new Float64Array(300), rows: 300, cols: 1 };
    const peakBefore = peakResidentBytes();
    expect(() => net.radiusNeighbors(queries, 1e300)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    const peakAfter = peakResidentBytes();
    // Before counting came first, the partial results grew to 2^28 entries (3 GiB) before the throw.
    if (peakBefore !== undefined && peakAfter !== undefined) expect(peakAfter - peakBefore).toBeLessThan(512 * 1024 ** 2);
    // Still usable, and a call that fits is answered whole: two queries, every point each.
    const both = net.radiusNeighbors({ data: new Float64Array([0, n]), rows: 2, cols: 1 }, 1e300);
    expect(Array.from(both.offsets)).toEqual([0, n, 2 * n]);
    expect(both.indices[n]).toBe(n - 1);
    net.dispose();
  });

  it('answers past the counting buffer are filled by a second search, equal to the reference', async () => {
    const previous = setRadiusCountingBuffer(100);
    try {
      for (const d of [2, 20]) {
        const { X } = randomData(91 + d, 300, d, { grid: 5 });
        // 40 queries × up to 300 neighbours each: the buffer fills after the first few.
        await expectSameAsReference(X, randomData(92 + d, 40, d, { grid: 5 }).X, [0, 1, 3, 100]);
      }
    } finally {
      setRadiusCountingBuffer(previous);
    }
  });
});
