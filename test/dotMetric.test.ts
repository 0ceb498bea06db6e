// The dot metric: z1 = −Σ_j x_j·X_ij, the inner product summed in dimension order (each product
// rounded, then added; never fused) and negated, on the direct kernel for every d. Exact as it
// goes: neighbours, reported inner products, z1 and votes are the reference's bit for bit, on
// both kernel builds, both storages, a pool of two threads, and in shards; the options it cannot
// serve are refused by name.
import { afterEach, describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions, type Metric } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { crc32 } from '../src/serialize.js';
import { setShardBytes } from '../src/shards.js';
import { trainingBytesPerRow } from '../src/planner.js';
import { SeededRandom } from '../src/random.js';
import { bits, KERNEL_BUILDS, maxAbsoluteDifference, onKernelBuild } from './helpers.js';

type Flat = { data: Float64Array | Float32Array; rows: number; cols: number };

const plain = (values: ArrayLike<number>) => Array.from(values);
/** Exact bits of any numbers (−0 and +0 differ). */
const exact = (values: ArrayLike<number>) => bits(Float64Array.from(values));

/**
 * n × d values with what an inner product trips on: whole numbers in −`grid` … `grid` (many
 * exact ties; `grid` 0: uniform in ±1), every fifth row a copy of the one before, a zero row,
 * and magnitudes times `scale`.
 */
function dotData(seed: number, n: number, d: number, grid: number, scale = 1, float32 = false): Flat {
  const random = new SeededRandom(seed);
  const data = float32 ? new Float32Array(n * d) : new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = scale * (grid > 0 ? Math.floor(random.uniform() * (2 * grid + 1)) - grid : random.uniform() * 2 - 1);
  for (let r = 1; r < n; r += 5) data.copyWithin(r * d, (r - 1) * d, r * d);
  if (n > 2) data.fill(0, 2 * d, 3 * d);
  return { data, rows: n, cols: d };
}

/** Classes for n points: three, in a fixed pattern. */
const labelsFor = (n: number) => Array.from({ length: n }, (_, i) => (i * 7) % 3);

/** Fits the same network twice: in one memory, and sharded with about `shardRows` points a shard (as test/shards.test.ts). */
async function whole_and_sharded(X: Flat, y: number[] | null, options: KnnOptions, shardRows: number) {
  const whole = await KnnNetwork.fit(X, y, options);
  const storage = X.data instanceof Float32Array ? 'float32' : 'float64';
  const restore = setShardBytes(trainingBytesPerRow(X.rows, X.cols, true, storage) * Math.min(X.rows, shardRows) - 1, trainingBytesPerRow(shardRows, X.cols, true, storage) * shardRows);
  try {
    return { whole, sharded: await KnnNetwork.fit(X, y, options) };
  } finally {
    restore();
  }
}

let restorePool: number | undefined;
afterEach(() => {
  if (restorePool !== undefined) setPoolThreshold(restorePool);
  restorePool = undefined;
});

describe.each(KERNEL_BUILDS)("metric: 'dot' on the %s build", (build) => {
  onKernelBuild(build);

  it('agrees with the reference bit for bit on neighbours, inner products, z1, votes and radius, on awkward shapes with ties, zeros and large magnitudes', async () => {
    const shapes: [n: number, d: number, grid: number, scale: number][] = [
      [1, 1, 0, 1], [2, 1, 2, 1], [9, 1, 3, 1], [40, 3, 3, 1], [37, 7, 0, 1], [120, 5, 2, 1e150], [200, 17, 3, 1], [150, 33, 0, 1e-160], [64, 100, 4, 1], [90, 385, 0, 1],
    ];
    for (const [n, d, grid, scale] of shapes) {
      const X = dotData(n * 31 + d, n, d, grid, scale);
      const y = labelsFor(n);
      const queries = dotData(n + d, 7, d, grid, scale);
      queries.data.set(X.data.subarray(0, d), 5 * d); // a training row itself
      queries.data.fill(0, 6 * d); // the zero vector: every inner product 0
      for (const options of [{ k: Math.min(n, 5) }, { k: n }, { k: Math.min(n, 4), weights: 'softmax', lambda: 0.7 }] as KnnOptions[]) {
        const all = { ...options, metric: 'dot' } as KnnOptions;
        const label = `${n} × ${d} grid ${grid} scale ${scale} ${JSON.stringify(options)}`;
        const net = await KnnNetwork.fit(X, y, all);
        const reference = await ReferenceNetwork.fit(X, y, all);
        expect(net.searchAlgorithm, label).toBe('brute');
        for (const k of [1, Math.min(n, 7), n]) {
          const found = net.kneighbors(queries, k);
          const expected = reference.kneighbors(queries, k);
          expect(plain(found.indices), label).toEqual(plain(expected.indices));
          expect(exact(found.distances), label).toEqual(exact(expected.distances));
          // Reported inner products descend along each row.
          for (let r = 0; r < queries.rows; r++) for (let j = 1; j < k; j++) expect(found.distances[r * k + j]).toBeLessThanOrEqual(found.distances[r * k + j - 1]);
        }
        if (options.weights === 'softmax') {
          expect(maxAbsoluteDifference(net.predictProba(queries), reference.predictProba(queries)), label).toBeLessThan(1e-12);
        } else {
          expect(exact(net.predictProba(queries)), label).toEqual(exact(reference.predictProba(queries)));
          expect(net.predict(queries), label).toEqual(reference.predict(queries));
        }
        expect(exact(net.forward(queries).z1), label).toEqual(exact(reference.forward(queries).z1));
        const middle = reference.kneighbors(queries, Math.ceil(n / 2)).distances[Math.ceil(n / 2) - 1];
        for (const radius of [middle, -middle, 0, -1e300]) {
          const within = net.radiusNeighbors(queries, radius);
          const expected = reference.radiusNeighbors(queries, radius);
          expect(plain(within.offsets), `${label} radius ${radius}`).toEqual(plain(expected.offsets));
          expect(plain(within.indices), `${label} radius ${radius}`).toEqual(plain(expected.indices));
          expect(exact(within.distances), `${label} radius ${radius}`).toEqual(exact(expected.distances));
        }
        net.dispose();
      }
    }
  });

  it('reports x·X_i itself, largest first, on the rows as given (not normalised; zero vectors welcome); its weights are X with no centre', async () => {
    const net = await KnnNetwork.fit([[0, 0], [3, -4], [1, 1], [2, 2], [-1, 0]], ['a', 'b', 'c', 'c', 'a'], { metric: 'dot', k: 3 });
    const { indices, distances } = net.kneighbors([[1, 0]], 5);
    expect(plain(indices)).toEqual([1, 3, 2, 0, 4]);
    expect(exact(distances)).toEqual(exact([3, 2, 1, 0, -1]));
    expect(exact(net.forward([[1, 0]]).z1)).toEqual(exact([-0, -3, -1, -2, 1]));
    expect(net.predict([[1, 0]])).toEqual(['c']);
    const within = net.radiusNeighbors([[1, 1], [0, 0]], 0);
    expect(plain(within.offsets)).toEqual([0, 3, 8]);
    expect(plain(within.indices)).toEqual([3, 2, 0, 0, 1, 2, 3, 4]);
    expect(exact(within.distances)).toEqual(exact([4, 2, 0, 0, 0, 0, 0, 0]));
    expect(plain(net.radiusNeighbors([[1, 1]], -1).indices)).toEqual([3, 2, 0, 1, 4]);
    const { W1, b1, mean } = net.weights;
    expect(plain(W1)).toEqual([0, 0, 3, -4, 1, 1, 2, 2, -1, 0]);
    expect(plain(b1)).toEqual([0, 0, 0, 0, 0]);
    expect(plain(mean)).toEqual([0, 0]);
    net.dispose();
  });

  it('float32 storage answers as float64 storage on the same values widened, and as the reference', async () => {
    for (const [n, d, grid] of [[1, 1, 0], [50, 3, 2], [300, 24, 0], [77, 130, 3]]) {
      const X32 = dotData(n * 13 + d, n, d, grid, 1, true);
      const X64 = { data: Float64Array.from(X32.data), rows: n, cols: d };
      const queries = dotData(d + 5, 6, d, grid);
      const y = labelsFor(n);
      for (const options of [{ k: Math.min(n, 6) }, { k: 'all', weights: 'softmax', lambda: 0.4 }, { k: Math.min(n, 3), task: 'regression' }] as KnnOptions[]) {
        const all = { ...options, metric: 'dot' } as KnnOptions;
        const targets = options.task === 'regression' ? y.map((c, i) => c + i / n) : y;
        const stored = await KnnNetwork.fit(X32, targets, all);
        const widened = await KnnNetwork.fit(X64, targets, all);
        const reference = await ReferenceNetwork.fit(X64, targets, all);
        expect(stored.storage).toBe('float32');
        expect(widened.storage).toBe('float64');
        const k = Math.min(n, 5);
        for (const [a, b] of [[stored.kneighbors(queries, k), widened.kneighbors(queries, k)], [stored.kneighbors(queries, k), reference.kneighbors(queries, k)]]) {
          expect(plain(a.indices)).toEqual(plain(b.indices));
          expect(exact(a.distances)).toEqual(exact(b.distances));
        }
        expect(exact(stored.forward(queries).z1)).toEqual(exact(widened.forward(queries).z1));
        expect(exact(stored.predict(queries) as ArrayLike<number>)).toEqual(exact(widened.predict(queries) as ArrayLike<number>));
        if (options.task !== 'regression') expect(exact(stored.predictProba(queries))).toEqual(exact(widened.predictProba(queries)));
        const radius = widened.kneighbors(queries, Math.ceil(n / 3)).distances[Math.ceil(n / 3) - 1];
        expect(stored.radiusNeighbors(queries, radius)).toEqual(widened.radiusNeighbors(queries, radius));
        for (const net of [stored, widened]) net.dispose();
      }
    }
  });

  it('a pool of two threads answers as the calling thread, bit for bit, the softmax over every point (attention) included', async () => {
    restorePool = setPoolThreshold(0);
    const X = dotData(5, 700, 40, 0);
    const y = labelsFor(700);
    const queries = dotData(6, 33, 40, 0);
    for (const options of [{ k: 9 }, { k: 'all', weights: 'softmax', lambda: 2 }, { k: 6, weights: 'softmax', lambda: 0.5 }] as KnnOptions[]) {
      const all = { ...options, metric: 'dot' } as KnnOptions;
      const pooled = await KnnNetwork.fit(X, y, { ...all, threads: 2 });
      const single = await KnnNetwork.fit(X, y, all);
      const found = await pooled.kneighborsAsync(queries, 9);
      const expected = single.kneighbors(queries, 9);
      expect(plain(found.indices)).toEqual(plain(expected.indices));
      expect(exact(found.distances)).toEqual(exact(expected.distances));
      expect(exact(await pooled.predictProbaAsync(queries))).toEqual(exact(single.predictProba(queries)));
      expect(maxAbsoluteDifference(single.predictProba(queries), (await ReferenceNetwork.fit(X, y, all)).predictProba(queries))).toBeLessThan(1e-12);
      const radius = expected.distances[4];
      expect(await pooled.radiusNeighborsAsync(queries, radius)).toEqual(single.radiusNeighbors(queries, radius));
      pooled.dispose();
      single.dispose();
    }
  });

  it('in shards forced small it answers as one network, bit for bit: searches, filters, radius, votes', async () => {
    for (const [rows, cols, float32, task, k, shardRows] of [[90, 3, false, 'classification', 4, 20], [130, 18, true, 'search', 7, 33], [61, 5, false, 'regression', 3, 7]] as const) {
      const X = dotData(rows + cols, rows, cols, 3, 1, float32);
      const y = task === 'search' ? null : task === 'regression' ? labelsFor(rows).map((c, i) => c + i / rows) : labelsFor(rows);
      const { whole, sharded } = await whole_and_sharded(X, y, { k, task, metric: 'dot' }, shardRows);
      expect(sharded.shards).toBe(Math.ceil(rows / shardRows));
      const queries = dotData(cols, 11, cols, 3);
      const allowed = Uint8Array.from({ length: rows }, (_, i) => (i % 3 === 1 ? 1 : 0));
      for (const filter of [undefined, { filter: allowed }]) {
        for (const width of [k, rows]) {
          const a = whole.kneighbors(queries, width, filter);
          for (const b of [sharded.kneighbors(queries, width, filter), await sharded.kneighborsAsync(queries, width, filter)]) {
            expect(plain(b.indices)).toEqual(plain(a.indices));
            expect(exact(b.distances)).toEqual(exact(a.distances));
          }
        }
        const radius = whole.kneighbors(queries, k).distances[k - 1];
        const a = whole.radiusNeighbors(queries, radius, filter);
        for (const b of [sharded.radiusNeighbors(queries, radius, filter), await sharded.radiusNeighborsAsync(queries, radius, filter)]) {
          expect(plain(b.offsets)).toEqual(plain(a.offsets));
          expect(plain(b.indices)).toEqual(plain(a.indices));
          expect(exact(b.distances)).toEqual(exact(a.distances));
        }
      }
      if (task !== 'search') expect(exact(sharded.predict(queries) as ArrayLike<number>)).toEqual(exact(whole.predict(queries) as ArrayLike<number>));
      if (task === 'classification') expect(exact(await sharded.predictProbaAsync(queries))).toEqual(exact(whole.predictProba(queries)));
      whole.dispose();
      sharded.dispose();
    }
  });

  it('filters and classes choose among the allowed points exactly, ids travel, and add and remove keep it a fit', async () => {
    const X = dotData(71, 120, 9, 2);
    const y = labelsFor(120);
    const ids = Array.from({ length: 120 }, (_, i) => 1000 + 3 * i);
    const net = await KnnNetwork.fit(X, y, { k: 4, metric: 'dot', ids });
    const queries = dotData(72, 8, 9, 2);
    const allowed = Uint8Array.from({ length: 120 }, (_, i) => (i % 4 === 0 || y[i] === 2 ? 1 : 0));
    const positions = Array.from(allowed.keys()).filter((i) => allowed[i]);
    const subset = { data: Float64Array.from(positions.flatMap((i) => plain(X.data.subarray(i * 9, (i + 1) * 9)))), rows: positions.length, cols: 9 };
    const onSubset = await ReferenceNetwork.fit(subset, null, { metric: 'dot' });
    const filtered = net.kneighbors(queries, 6, { filter: allowed });
    const expected = onSubset.kneighbors(queries, 6);
    expect(plain(filtered.indices)).toEqual(plain(expected.indices).map((j) => positions[j]));
    expect(exact(filtered.distances)).toEqual(exact(expected.distances));
    expect(plain(filtered.ids!)).toEqual(plain(filtered.indices).map((i) => ids[i]));
    const radius = expected.distances[3];
    const within = net.radiusNeighbors(queries, radius, { filter: allowed });
    const expectedWithin = onSubset.radiusNeighbors(queries, radius);
    expect(plain(within.indices)).toEqual(plain(expectedWithin.indices).map((j) => positions[j]));
    expect(exact(within.distances)).toEqual(exact(expectedWithin.distances));
    const ofClass = net.kneighbors(queries, 3, { classes: [1] });
    for (const i of plain(ofClass.indices)) expect(y[i]).toBe(1);
    const reference = await ReferenceNetwork.fit(X, y, { k: 4, metric: 'dot', ids });
    const grown = await KnnNetwork.fit({ data: X.data.subarray(0, 50 * 9), rows: 50, cols: 9 }, y.slice(0, 50), { k: 4, metric: 'dot', ids: ids.slice(0, 50) });
    grown.add({ data: X.data.subarray(50 * 9), rows: 70, cols: 9 }, y.slice(50), { ids: ids.slice(50) });
    for (const network of [grown, reference]) network.remove([3, 17, 64]);
    const a = grown.kneighbors(queries, 5);
    const b = reference.kneighbors(queries, 5);
    expect(plain(a.indices)).toEqual(plain(b.indices));
    expect(plain(a.ids!)).toEqual(plain(b.ids!));
    expect(exact(a.distances)).toEqual(exact(b.distances));
    net.dispose();
    grown.dispose();
  });

  it('saves and loads (toBytes, saveChunks) to a network that answers the same bits', async () => {
    for (const float32 of [false, true]) {
      const X = dotData(81, 60, 6, 0, 1, float32);
      const net = await KnnNetwork.fit(X, labelsFor(60), { k: 5, metric: 'dot', weights: 'softmax', lambda: 3 });
      const queries = dotData(82, 5, 6, 0);
      for (const loaded of [await KnnNetwork.fromBytes(net.toBytes()), await KnnNetwork.fromChunks(net.saveChunks())]) {
        expect(loaded.options.metric).toBe('dot');
        expect(loaded.storage).toBe(float32 ? 'float32' : 'float64');
        expect(exact(loaded.kneighbors(queries).distances)).toEqual(exact(net.kneighbors(queries).distances));
        expect(exact(loaded.predictProba(queries))).toEqual(exact(net.predictProba(queries)));
        loaded.dispose();
      }
      const reference = await ReferenceNetwork.fromBytes(net.toBytes());
      expect(plain(reference.kneighbors(queries, 3).indices)).toEqual(plain(net.kneighbors(queries, 3).indices));
      net.dispose();
    }
  });
});

describe("metric: 'dot' refuses what it cannot serve", () => {
  const expectKnnError = async (call: () => unknown, code: string, words: (string | RegExp)[]) => {
    const error = await Promise.resolve().then(call).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(KnnError);
    expect((error as KnnError).code).toBe(code);
    for (const word of words) expect((error as KnnError).message).toMatch(word);
  };

  it("weights 'distance' and algorithm 'tree' are BAD_OPTION at fit and BAD_BYTES at load, naming the option and the fix; 'auto' runs brute force; a network stays usable", async () => {
    const X = dotData(91, 2000, 3, 0);
    const net = await KnnNetwork.fit(X, labelsFor(2000), { metric: 'dot', k: 3 });
    const before = net.kneighbors([[0.5, -0.25, 1]], 3);
    await expectKnnError(() => KnnNetwork.fit(X, labelsFor(2000), { metric: 'dot', weights: 'distance' }), 'BAD_OPTION', ["options.weights 'distance'", "'uniform'", "'softmax'"]);
    await expectKnnError(() => KnnNetwork.fit(X, null, { metric: 'dot', algorithm: 'tree' }), 'BAD_OPTION', ["options.algorithm 'tree'", 'no partition bound', "'brute'"]);
    await expectKnnError(() => ReferenceNetwork.fit(X, null, { metric: 'dot', algorithm: 'tree' }), 'BAD_OPTION', ["options.algorithm 'tree'"]);
    // The same options on a metric with a bound are served: it is the pairing that is refused.
    for (const metric of ['euclidean', 'manhattan'] as Metric[]) (await KnnNetwork.fit(X, labelsFor(2000), { metric, weights: 'distance', algorithm: 'tree' })).dispose();
    // 'auto' on data where Euclidean takes the tree runs brute force for dot.
    const euclidean = await KnnNetwork.fit(X, null, { algorithm: 'auto' });
    expect(euclidean.searchAlgorithm).toBe('tree');
    euclidean.dispose();
    expect(net.searchAlgorithm).toBe('brute');
    const saved = net.toBytes();
    const edited = (from: string, to: string): Uint8Array => {
      const bytes = saved.slice();
      const view = new DataView(bytes.buffer);
      const length = view.getUint32(8, true);
      const header = new TextDecoder().decode(bytes.subarray(12, 12 + length));
      expect(header).toContain(from);
      bytes.set(new TextEncoder().encode(header.replace(from, to).padEnd(length, ' ').slice(0, length)), 12);
      view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
      return bytes;
    };
    await expectKnnError(() => KnnNetwork.fromBytes(edited('"weights":"uniform"', '"weights":"distance"')), 'BAD_BYTES', ["options.weights 'distance'"]);
    await expectKnnError(() => KnnNetwork.fromBytes(edited('"algorithm":"auto"', '"algorithm":"tree"')), 'BAD_BYTES', ["options.algorithm 'tree'"]);
    await expectKnnError(() => net.radiusNeighbors([[1, 2, 3]], Number.NaN), 'BAD_INPUT', ['radius']);
    await expectKnnError(() => net.radiusNeighbors([[1, 2, 3]], -Infinity), 'NON_FINITE', ['radius']);
    const after = net.kneighbors([[0.5, -0.25, 1]], 3);
    expect(plain(after.indices)).toEqual(plain(before.indices));
    expect(exact(after.distances)).toEqual(exact(before.distances));
    net.dispose();
  });
});
