// The three ways a filtered search runs (src/filteredSearch.ts): the whole network searched a
// little deeper with the left-out points dropped (rows it cannot settle searched again), the
// allowed points gathered, or brute force over them. Each is chosen by a cost rule; each must
// give exactly brute force over the allowed points, with the network's indices and ids.
import { describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnOptions } from '../src/index.js';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { filteredRadiusWay, filteredWay, searchAgain, singleQueryFilterWay, type FilteredWay } from '../src/filteredSearch.js';
import { SeededRandom } from '../src/random.js';
import { randomData } from './helpers.js';
import { blobs, duplicated, grid, queriesFor, uniform, withFarPoint } from './treeHelpers.js';

type Rows = { data: Float64Array; rows: number; cols: number };

/** Rows as layer 1 takes them: unit rows for cosine (scaled by the largest value first, as the network does). */
function prepared(X: Rows, metric: string): Float64Array {
  if (metric !== 'cosine') return X.data;
  const data = new Float64Array(X.data.length);
  for (let r = 0; r < X.rows; r++) {
    const row = X.data.subarray(r * X.cols, (r + 1) * X.cols);
    const largest = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const norm = Math.sqrt(row.reduce((sum, v) => sum + (v / largest) ** 2, 0));
    row.forEach((v, j) => (data[r * X.cols + j] = v / largest / norm));
  }
  return data;
}

/**
 * Brute force over the allowed points: q × k indices and distances, z1 as every path reports it
 * (direct differences in dimension order), ties toward the lower index, padded −1/Infinity.
 */
function bruteForce(X: Rows, allowed: Uint8Array, queries: Rows, k: number, metric: string): { indices: number[]; distances: number[] } {
  const points = prepared(X, metric);
  const rows = prepared(queries, metric);
  const d = X.cols;
  const indices: number[] = [];
  const distances: number[] = [];
  for (let r = 0; r < queries.rows; r++) {
    const ranked: { i: number; value: number }[] = [];
    for (let i = 0; i < X.rows; i++) {
      if (!allowed[i]) continue;
      let value = 0;
      for (let j = 0; j < d; j++) {
        const difference = rows[r * d + j] - points[i * d + j];
        value += metric === 'manhattan' ? Math.abs(difference) : difference * difference;
      }
      ranked.push({ i, value });
    }
    ranked.sort((a, b) => a.value - b.value || a.i - b.i);
    for (let j = 0; j < k; j++) {
      indices.push(j < ranked.length ? ranked[j].i : -1);
      const value = j < ranked.length ? ranked[j].value : Infinity;
      distances.push(metric === 'euclidean' ? Math.sqrt(value) : metric === 'cosine' ? value / 2 : value);
    }
  }
  return { indices, distances };
}

/** Brute force's Euclidean radius answer over the allowed points: nearest first, ties toward the lower index. */
function bruteRadius(X: Rows, allowed: Uint8Array, queries: Rows, radius: number): { offsets: number[]; indices: number[]; distances: number[] } {
  const ranked = bruteForce(X, allowed, queries, X.rows, 'euclidean');
  const offsets = [0];
  const indices: number[] = [];
  const distances: number[] = [];
  for (let e = 0; e < ranked.indices.length; e++) {
    if (ranked.indices[e] >= 0 && ranked.distances[e] <= radius) {
      indices.push(ranked.indices[e]);
      distances.push(ranked.distances[e]);
    }
    if ((e + 1) % X.rows === 0) offsets.push(indices.length);
  }
  return { offsets, indices, distances };
}

/** The storages a filtered search reads its points from: float32 storage widens them on the way. */
const STORAGES = ['float64', 'float32'] as const;

describe('the ways of a filtered search', () => {
  it('the cost rule takes brute force for one query over few points, gathering for a batch over few, the whole network when most are allowed', () => {
    expect(filteredWay(10_000, 64, 500, 5, 1).way).toBe('direct');
    expect(filteredWay(10_000, 64, 500, 5, 1000).way).toBe('gather');
    expect(filteredWay(10_000, 64, 9_990, 5, 1000).way).toBe('whole');
    expect(filteredWay(10_000, 64, 5_000, 5, 1).way).toBe('whole');
    // One point left out: k + 1 deep settles every row.
    expect(filteredWay(10_000, 64, 9_999, 5, 1000)).toEqual({ way: 'whole', width: 6 });
    // Never deeper than the network.
    expect(filteredWay(8, 4, 7, 7, 3).width).toBeLessThanOrEqual(8);
  });

  it('one query runs direct differences in wasm over few allowed points, on brute force and on a partition, and not over most', () => {
    expect(singleQueryFilterWay(10_000, 64, 500)).toBe('direct');
    // Brute force's own search, the filter in its folds, from about a fifth allowed.
    expect(singleQueryFilterWay(10_000, 64, 3_000)).toBe('restricted');
    expect(singleQueryFilterWay(10_000, 64, 9_990)).toBe('restricted');
    const clusters = { share: 0.26, plan: { kind: 'clusters', clusters: 16 } } as const;
    expect(singleQueryFilterWay(10_000, 64, 100, clusters)).toBe('direct');
    expect(singleQueryFilterWay(10_000, 64, 5_000, clusters)).toBe('restricted');
    // A cosine network's float32 storage divides each value on the way: fewer allowed points pay.
    expect(singleQueryFilterWay(100_000, 384, 15_000)).toBe('direct');
    expect(singleQueryFilterWay(100_000, 384, 25_000)).toBe('restricted');
    expect(singleQueryFilterWay(100_000, 384, 5_000, undefined, true)).toBe('direct');
    expect(singleQueryFilterWay(100_000, 384, 15_000, undefined, true)).toBe('restricted');
  });

  it('every way equals brute force over the allowed points: ties and duplicates, k past the allowed count, none and all allowed, ids, sync and async', async () => {
    const random = new SeededRandom(18);
    const taken = new Set<FilteredWay>();
    const takenOnFloat32 = new Set<FilteredWay>();
    const shapes: [number, number, KnnOptions][] = [[400, 3, {}], [2000, 4, { algorithm: 'tree' }], [1500, 12, { metric: 'manhattan' }], [3000, 24, {}], [3000, 24, { algorithm: 'tree' }], [1200, 20, { metric: 'cosine' }], [1000, 40, { float32Candidates: false }], [400, 3, { storage: 'float32' }], [3000, 24, { storage: 'float32' }], [1500, 12, { metric: 'manhattan', storage: 'float32' }]];
    for (const [n, d, options] of shapes) {
      const grid = d <= 12 ? 3 : 0;
      const { X, y } = randomData(n + d, n, d, { grid, offset: options.metric === 'cosine' ? 0.3 : 0 });
      // Duplicates: the last tenth of the points repeat the first tenth.
      X.data.copyWithin(Math.floor(n * 0.9) * d, 0, Math.ceil(n * 0.1) * d);
      // Float32 storage rounds X once: brute force then reads the rounded values.
      if (options.storage === 'float32') X.data.set(Float32Array.from(X.data));
      const ids = Array.from({ length: n }, (_, i) => 1000 + 3 * i);
      const net = await KnnNetwork.fit(X, y, { ...options, k: 3, ids });
      const batch = randomData(n + d + 1, 60, d, { grid, offset: options.metric === 'cosine' ? 0.3 : 0 }).X;
      const single = { data: batch.data.slice(0, d), rows: 1, cols: d };
      for (const share of [0, 0.002, 0.05, 0.5, 0.97, 0.999, 1]) {
        const allowed = Uint8Array.from({ length: n }, () => (random.uniform() < share ? 1 : 0));
        const count = allowed.reduce((sum, byte) => sum + byte, 0);
        for (const queries of [batch, single]) {
          for (const k of [1, 3, 8]) {
            const { way } = filteredWay(n, d, count, Math.min(k, count), queries.rows);
            taken.add(way);
            if (options.storage === 'float32') takenOnFloat32.add(way);
            const expected = bruteForce(X, allowed, queries, k, options.metric ?? 'euclidean');
            const found = net.kneighbors(queries, k, { filter: allowed });
            const context = `n ${n}, d ${d}, ${options.metric ?? 'euclidean'}, share ${share}, q ${queries.rows}, k ${k}`;
            expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }, context).toEqual(expected);
            expect(Array.from(found.ids!), context).toEqual(expected.indices.map((i) => (i < 0 ? -1 : ids[i])));
            expect(await net.kneighborsAsync(queries, k, { filter: allowed }), context).toEqual(found);
          }
        }
      }
      net.dispose();
    }
    expect([...taken].sort()).toEqual(['direct', 'gather', 'whole']);
    expect([...takenOnFloat32].sort()).toEqual(['direct', 'gather', 'whole']);
  }, 60_000);

  it.each(STORAGES)('rows the whole search cannot settle (their nearest points all left out) are searched again, by brute force for a few, gathered for many, on %s storage', async (storage) => {
    const { X, y } = randomData(7, 3000, 16, {});
    // Float32 storage rounds X once: brute force then reads the rounded values.
    if (storage === 'float32') X.data.set(Float32Array.from(X.data));
    const net = await KnnNetwork.fit(X, y, { k: 3, storage });
    // On a pool (every call of one query or more goes there), the rows searched again read the
    // weights while the call still holds them: split by queries, and by training rows.
    const pooled = await KnnNetwork.fit(X, y, { k: 3, storage, threads: 2 });
    expect([net.storage, pooled.storage]).toEqual([storage, storage]);
    const threshold = setPoolThreshold(0);
    const queries = randomData(8, 40, 16, {}).X;
    const nearest = net.kneighbors(queries, 30);
    for (const starved of [3, 20]) {
      // The first `starved` queries lose their 30 nearest points: the rest of the filter allows all.
      const allowed = new Uint8Array(3000).fill(1);
      for (let r = 0; r < starved; r++) for (let j = 0; j < 30; j++) allowed[nearest.indices[r * 30 + j]] = 0;
      const count = allowed.reduce((sum, byte) => sum + byte, 0);
      const { way, width } = filteredWay(3000, 16, count, 5, 40);
      expect(way).toBe('whole');
      expect(width).toBeLessThan(30);
      // Searched again by brute force for 3 rows, gathered for 20 (the cost rule on that many rows).
      expect(searchAgain(16, count, starved).way).toBe(starved === 3 ? 'direct' : 'gather');
      const found = net.kneighbors(queries, 5, { filter: allowed });
      expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }).toEqual(bruteForce(X, allowed, queries, 5, 'euclidean'));
      expect(await net.kneighborsAsync(queries, 5, { filter: allowed })).toEqual(found);
      expect(await pooled.kneighborsAsync(queries, 5, { filter: allowed })).toEqual(found);
      expect(await pooled.kneighborsAsync(queries.data.subarray(0, 16), 5, { filter: allowed })).toEqual(net.kneighbors(queries.data.subarray(0, 16), 5, { filter: allowed }));
    }
    setPoolThreshold(threshold);
    net.dispose();
    pooled.dispose();
  });

  it('on a partition (boxes; clusters past 16 features) the pruned search runs restricted to the allowed points, exactly: ties, duplicates across leaves, a far point, few or none allowed, classes, a pool', async () => {
    const random = new SeededRandom(23);
    const boxTraps: [string, Rows][] = [
      ['grid ties', grid(5, 3000, 3, 4)], ['duplicates', duplicated(6, 500, 6, 4)], ['far point', withFarPoint(uniform(7, 2500, 2))], ['blobs', blobs(8, 3000, 4, 6)],
    ];
    // The cluster search: its float32 candidates (proven, or searched directly), and direct distances alone.
    const clusterCases: [string, Rows, KnnOptions][] = [
      ['blobs, 24 features', blobs(10, 3000, 24, 8), {}], ['duplicates, 20 features', duplicated(11, 400, 6, 20), {}],
      ['grid ties, 20 features, direct distances', grid(12, 2400, 20, 3), { float32Candidates: false }], ['blobs, cosine', blobs(13, 2000, 20, 6), { metric: 'cosine' }],
    ];
    const cases: [string, Rows, KnnOptions][] = [
      ...boxTraps.flatMap(([trap, X]) => (['euclidean', 'manhattan'] as const).map((metric): [string, Rows, KnnOptions] => [trap, X, { metric }])),
      ...clusterCases,
    ];
    const threshold = setPoolThreshold(0);
    for (const [trap, X, options] of cases) {
      const metric = options.metric ?? 'euclidean';
      const n = X.rows;
      const y = Array.from({ length: n }, (_, i) => (i * 7) % 5);
      const net = await KnnNetwork.fit(X, y, { ...options, k: 3, algorithm: 'tree' });
      const pooled = await KnnNetwork.fit(X, y, { ...options, k: 3, algorithm: 'tree', threads: 2 });
      expect(net.searchAlgorithm).toBe('tree');
      const queries = queriesFor(X, uniform(9, 30, X.cols, 1.2, -0.1));
      const single = { data: queries.data.slice(0, X.cols), rows: 1, cols: X.cols };
      const some = (count: number) => {
        const allowed = new Uint8Array(n);
        for (let placed = 0; placed < count; placed++) allowed[Math.floor(random.uniform() * n)] = 1;
        return allowed;
      };
      // A filter that leaves out whole regions (the first half of the points by their first feature).
      const median = Float64Array.from({ length: n }, (_, i) => X.data[i * X.cols]).sort()[n >> 1];
      const regional = Uint8Array.from({ length: n }, (_, i) => (X.data[i * X.cols] > median ? 1 : 0));
      const filters = [new Uint8Array(n), new Uint8Array(n).fill(1), some(1), some(2), some(7), regional, ...[0.05, 0.5, 0.95].map((share) => Uint8Array.from({ length: n }, () => (random.uniform() < share ? 1 : 0)))];
      for (const allowed of filters) {
        for (const [rows, k] of [[queries, 1], [queries, 5], [single, 9], [queries, 40]] as const) {
          const context = `${trap}, ${metric}, ${allowed.reduce((sum, byte) => sum + byte, 0)} allowed, q ${rows.rows}, k ${k}`;
          const found = net.kneighbors(rows, k, { filter: allowed });
          expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }, context).toEqual(bruteForce(X, allowed, rows, k, metric));
          expect(await pooled.kneighborsAsync(rows, k, { filter: allowed }), context).toEqual(found);
        }
      }
      const classes = Uint8Array.from(y, (label) => (label === 1 || label === 3 ? 1 : 0));
      expect(net.kneighbors(queries, 4, { classes: [1, 3] })).toEqual(net.kneighbors(queries, 4, { filter: classes }));
      expect(net.kneighbors(queries, 4, { classes: [3], filter: classes })).toEqual(net.kneighbors(queries, 4, { classes: [3] }));
      const notBits = new Uint8Array(n).fill(1);
      notBits[n - 1] = 2;
      expect(() => net.kneighbors(queries, 4, { filter: notBits })).toThrow(`options.filter[${n - 1}] is 2`);
      expect(() => net.kneighbors(queries, 4, { filter: new Uint8Array(n - 1) })).toThrow('bytes but the network has');
      net.dispose();
      pooled.dispose();
    }
    setPoolThreshold(threshold);
  }, 60_000);

  it("k 'all' lists every allowed point, then pads", async () => {
    const { X, y } = randomData(11, 300, 5, { grid: 3 });
    const net = await KnnNetwork.fit(X, y, { k: 3 });
    const random = new SeededRandom(4);
    const queries = randomData(12, 7, 5, { grid: 3 }).X;
    for (const share of [0.1, 0.6, 0.99]) {
      const allowed = Uint8Array.from({ length: 300 }, () => (random.uniform() < share ? 1 : 0));
      const found = net.kneighbors(queries, 'all', { filter: allowed });
      expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }).toEqual(bruteForce(X, allowed, queries, 300, 'euclidean'));
      expect(net.kneighbors(queries.data.subarray(0, 5), 'all', { filter: allowed })).toEqual(net.kneighbors({ data: queries.data.subarray(0, 5), rows: 1, cols: 5 }, 'all', { filter: allowed }));
    }
    net.dispose();
  });

  it.each(STORAGES)('radius searches on every way equal the unfiltered answer less the points left out, and brute force over the allowed points, on %s storage', async (storage) => {
    // Whole numbers: float32 storage holds them exactly.
    const { X, y } = randomData(9, 2000, 8, { grid: 4 });
    const net = await KnnNetwork.fit(X, y, { k: 3, storage });
    expect(net.storage).toBe(storage);
    const batch = randomData(10, 50, 8, { grid: 4 }).X;
    const random = new SeededRandom(3);
    const taken = new Set<FilteredWay>();
    for (const share of [0, 0.01, 0.3, 0.99, 1]) {
      const allowed = Uint8Array.from({ length: 2000 }, () => (random.uniform() < share ? 1 : 0));
      const count = allowed.reduce((sum, byte) => sum + byte, 0);
      for (const queries of [batch, { data: batch.data.slice(0, 8), rows: 1, cols: 8 }]) {
        if (count > 0) taken.add(filteredRadiusWay(2000, 8, count, queries.rows));
        const whole = net.radiusNeighbors(queries, 2.5);
        const filtered = net.radiusNeighbors(queries, 2.5, { filter: allowed });
        const offsets = [0];
        const indices: number[] = [];
        const distances: number[] = [];
        for (let r = 0; r < queries.rows; r++) {
          for (let e = whole.offsets[r]; e < whole.offsets[r + 1]; e++) {
            if (!allowed[whole.indices[e]]) continue;
            indices.push(whole.indices[e]);
            distances.push(whole.distances[e]);
          }
          offsets.push(indices.length);
        }
        const answer = { offsets: Array.from(filtered.offsets), indices: Array.from(filtered.indices), distances: Array.from(filtered.distances) };
        expect(answer, `share ${share}, q ${queries.rows}`).toEqual({ offsets, indices, distances });
        expect(answer, `share ${share}, q ${queries.rows}`).toEqual(bruteRadius(X, allowed, queries, 2.5));
        expect(await net.radiusNeighborsAsync(queries, 2.5, { filter: allowed })).toEqual(filtered);
      }
    }
    expect([...taken].sort()).toEqual(['direct', 'gather', 'whole']);
    net.dispose();
  });
});
