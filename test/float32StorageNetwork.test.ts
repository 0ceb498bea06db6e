// Float32 storage through the public API: a network fitted on float32 data keeps it once, as
// float32, and answers bit for bit as a float64-stored network fitted on the same values widened
// (Float64Array.from(f32)): kneighbors, radiusNeighbors, predict, predictProba, regression and
// score, Euclidean and Manhattan, on both kernel builds, on awkward shapes, after add and remove,
// after toBytes and fromBytes, and on a pool of two threads. Also what it costs (bytes per value
// saved, wasm memory per point) and its errors.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions, type Label, type Metric } from '../src/index.js';
import { largestTrainingRows } from '../src/planner.js';
import { crc32 } from '../src/serialize.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels } from '../src/wasm.js';
import { bits, exactAnswers, KERNEL_BUILDS, onKernelBuild, storageTwins, type FlatRows } from './helpers.js';


/** n × d float32 values: uniform in ±1 (or a grid of `grid` steps, for ties) plus `offset`, with row `n − 1` a copy of row 0 when n > 2. */
function float32Data(seed: number, n: number, d: number, grid: number, offset: number): Float32Array {
  const random = new SeededRandom(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = offset + (grid > 0 ? Math.floor(random.uniform() * grid) : random.uniform() * 2 - 1);
  if (n > 2) data.copyWithin((n - 1) * d, 0, d);
  return data;
}

/** Queries near the data: fresh float64 rows, then copies of training rows (distance 0). */
function queriesFor(seed: number, training: Float32Array, n: number, d: number, grid: number, offset: number): FlatRows {
  const random = new SeededRandom(seed + 7);
  const q = 6;
  const data = new Float64Array(q * d);
  for (let i = 0; i < 4 * d; i++) data[i] = offset + (grid > 0 ? Math.floor(random.uniform() * grid) : random.uniform() * 2.2 - 1.1);
  for (let r = 4; r < q; r++) data.set(training.subarray(((r * 7) % n) * d, ((r * 7) % n + 1) * d), r * d);
  return { data, rows: q, cols: d };
}

describe.each(KERNEL_BUILDS)('float32 storage answers as float64 storage of the widened values (%s build)', (build) => {
  onKernelBuild(build);

  it('on random problems: d = 1 … 33, n = 1 … 200, k up to n and all, ties, 1e8 offsets, every weighting, regression, Euclidean and Manhattan', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          n: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 13, max: 200 })),
          d: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 9 }), fc.constantFrom(16, 17, 33)),
          grid: fc.constantFrom(0, 0, 3),
          offset: fc.constantFrom(0, 0, 1e8),
          kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
          weights: fc.constantFrom('uniform' as const, 'distance' as const, 'softmax' as const),
          all: fc.boolean(),
          task: fc.constantFrom('classification' as const, 'regression' as const, 'search' as const),
          metric: fc.constantFrom<Metric>('euclidean', 'euclidean', 'manhattan'),
        }),
        async ({ seed, n, d, grid, offset, kFraction, weights, all, task, metric }) => {
          const data = float32Data(seed, n, d, grid, offset);
          const k = Math.max(1, Math.round(kFraction * n));
          const random = new SeededRandom(seed + 1);
          const y = task === 'search' ? null : Array.from({ length: n }, () => (task === 'regression' ? random.uniform() * 10 : Math.floor(random.uniform() * 3)));
          const options: KnnOptions = { k: all && weights === 'softmax' && task !== 'search' ? 'all' : k, weights, task, metric, lambda: offset ? 1e-6 : 1 };
          const { float32, float64 } = await storageTwins(data, n, d, y, options);
          const queries = queriesFor(seed, data, n, d, grid, offset);
          const radius = metric === 'manhattan' ? d * (grid || 1) : Math.sqrt(d) * (grid || 1);
          expect(exactAnswers(float32, queries, k, radius)).toEqual(exactAnswers(float64, queries, k, radius));
          if (task === 'classification') expect(float32.score(queries, float64.predict(queries) as Label[])).toBe(1);
          if (task !== 'search') expect(bits(float32.weights.W1)).toEqual(bits(float64.weights.W1));
          float32.dispose();
          float64.dispose();
        },
      ),
      { numRuns: 100 },
    );
  });

  it('after adds (float32 rows, in place and past the room), a removal, toBytes and fromBytes', async () => {
    const n = 300;
    const d = 21;
    const data = float32Data(11, n + 500, d, 0, 1e8);
    const y = Array.from({ length: n + 500 }, (_, i) => i % 4);
    const { float32, float64 } = await storageTwins(data.subarray(0, n * d), n, d, y.slice(0, n), { k: 7, weights: 'distance' });
    const queries = queriesFor(3, data, n, d, 0, 1e8);
    for (const [first, end] of [[n, n + 5], [n + 5, n + 40], [n + 40, n + 500]]) {
      const rows = data.subarray(first * d, end * d);
      float32.add({ data: rows, rows: end - first, cols: d }, y.slice(first, end));
      float64.add({ data: Float64Array.from(rows), rows: end - first, cols: d }, y.slice(first, end));
      expect(float32.storage).toBe('float32');
      expect(exactAnswers(float32, queries, 9, 40)).toEqual(exactAnswers(float64, queries, 9, 40));
    }
    float32.remove([0, 17, 299, 450]);
    float64.remove([0, 17, 299, 450]);
    expect(exactAnswers(float32, queries, 9, 40)).toEqual(exactAnswers(float64, queries, 9, 40));
    const loaded = await KnnNetwork.fromBytes(float32.toBytes());
    expect(loaded.storage).toBe('float32');
    expect(loaded.options).toEqual(float32.options);
    expect(exactAnswers(loaded, queries, 9, 40)).toEqual(exactAnswers(float64, queries, 9, 40));
    for (const net of [float32, float64, loaded]) net.dispose();
  });
});

describe('remove, within wasm memory', () => {
  it.each([['float32', 'euclidean'], ['float32', 'cosine'], ['float64', 'euclidean'], ['float64', 'manhattan']] as const)(
    'every pattern of removal gives a fresh fit on the points left, bit for bit (%s storage, %s): its bytes, forward and every answer',
    async (storage, metric) => {
      const n = 61;
      const d = 5;
      const data = float32Data(13, n, d, 0, 3);
      const y = Array.from({ length: n }, (_, i) => i % 3);
      const queries = queriesFor(5, data, n, d, 0, 3);
      // A whole panel; every panel shifted by one; the last points (the last panel's padding); all but one; scattered;
      // points in the high lanes of a panel whose neighbours are copied whole.
      const patterns = [[8, 9, 10, 11, 12, 13, 14, 15], [0], [58, 59, 60], Array.from({ length: n - 1 }, (_, i) => i + 1), [3, 20, 21, 40, 57], [12, 13], [7]];
      for (const removed of patterns) {
        const net = await KnnNetwork.fit({ data, rows: n, cols: d }, y, { k: 1, storage, metric });
        net.remove(removed);
        const kept = Array.from({ length: n }, (_, i) => i).filter((i) => !removed.includes(i));
        const rows = Float32Array.from(kept.flatMap((i) => Array.from(data.subarray(i * d, (i + 1) * d))));
        const fresh = await KnnNetwork.fit({ data: rows, rows: kept.length, cols: d }, kept.map((i) => y[i]), { k: 1, storage, metric });
        expect(net.storage).toBe(storage);
        expect(net.toBytes()).toEqual(fresh.toBytes());
        expect(exactAnswers(net, queries, 1, 2)).toEqual(exactAnswers(fresh, queries, 1, 2));
        net.dispose();
        fresh.dispose();
      }
    },
  );
});

describe('float32 storage through the rest of the API', () => {
  it("storage: 'float32' rounds float64 input once: answers are the float64 storage's on the rounded values, and adds of float64 rows round too", async () => {
    const n = 120;
    const d = 9;
    const random = new SeededRandom(5);
    const data = Float64Array.from({ length: (n + 30) * d }, () => random.uniform() * 3 + 1 / 3);
    const rounded = Float64Array.from(Float32Array.from(data));
    const y = Array.from({ length: n + 30 }, (_, i) => i % 2);
    const asked = await KnnNetwork.fit({ data: data.subarray(0, n * d), rows: n, cols: d }, y.slice(0, n), { k: 3, storage: 'float32' });
    const widened = await KnnNetwork.fit({ data: rounded.subarray(0, n * d), rows: n, cols: d }, y.slice(0, n), { k: 3 });
    expect(asked.storage).toBe('float32');
    expect(asked.options.storage).toBe('float32');
    const queries = { data: data.subarray(0, 12 * d).map((value) => value + 0.01), rows: 12, cols: d };
    expect(exactAnswers(asked, queries, 3, 1)).toEqual(exactAnswers(widened, queries, 3, 1));
    asked.add({ data: data.subarray(n * d), rows: 30, cols: d }, y.slice(n));
    widened.add({ data: rounded.subarray(n * d), rows: 30, cols: d }, y.slice(n));
    expect(exactAnswers(asked, queries, 3, 1)).toEqual(exactAnswers(widened, queries, 3, 1));
    asked.dispose();
    widened.dispose();
  });

  it("'auto' stores Float32Array data and Float32Array rows as float32 (the cosine metric too), float64 input as float64; 'float64' widens float32 input", async () => {
    const rows = [Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(0, 1)];
    const cases: [Parameters<typeof KnnNetwork.fit>[0], KnnOptions, string][] = [
      [{ data: Float32Array.of(1, 2, 3, 4), rows: 2, cols: 2 }, {}, 'float32'],
      [rows, {}, 'float32'],
      [[rows[0], [3, 4]], {}, 'float64'],
      [[[1, 2], [3, 4]], {}, 'float64'],
      [rows, { metric: 'cosine' }, 'float32'],
      [rows, { storage: 'float64' }, 'float64'],
      [[[1, 2], [3, 4]], { storage: 'float32', metric: 'manhattan' }, 'float32'],
    ];
    for (const [X, options, storage] of cases) {
      const net = await KnnNetwork.fit(X, null, options);
      expect(net.storage, JSON.stringify(options)).toBe(storage);
      expect(net.options.storage).toBe(options.storage ?? 'auto');
      net.dispose();
    }
    const created = await KnnNetwork.create({ task: 'search' });
    expect(created.storage).toBeUndefined();
    created.add(rows);
    expect(created.storage).toBe('float32');
    created.clear();
    created.add([[1, 2]]);
    expect(created.storage).toBe('float64');
    created.dispose();
  });

  it("float32 storage searches by brute force whatever options.algorithm asks (a partition keeps float64 layouts of X), with the tree's answers", async () => {
    const n = 3000;
    const d = 3;
    const data = float32Data(8, n, d, 0, 0);
    const stored = await KnnNetwork.fit({ data, rows: n, cols: d }, null, { k: 4, algorithm: 'tree' });
    const widened = await KnnNetwork.fit({ data: Float64Array.from(data), rows: n, cols: d }, null, { k: 4, algorithm: 'tree' });
    expect(stored.storage).toBe('float32');
    expect(stored.searchAlgorithm).toBe('brute');
    expect(widened.searchAlgorithm).toBe('tree');
    const queries = queriesFor(8, data, n, d, 0, 0);
    expect(exactAnswers(stored, queries, 4, 0.1)).toEqual(exactAnswers(widened, queries, 4, 0.1));
    stored.dispose();
    widened.dispose();
  });

  it('ids, filters and a created network work on float32 storage as on float64', async () => {
    const n = 200;
    const d = 19;
    const data = float32Data(9, n, d, 4, 0);
    const ids = Array.from({ length: n }, (_, i) => 1000 + 3 * i);
    const y = Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3]);
    const { float32, float64 } = await storageTwins(data, n, d, y, { k: 4, ids });
    const queries = queriesFor(9, data, n, d, 4, 0);
    const filter = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 2 ? 1 : 0));
    for (const options of [{ filter }, { classes: ['b'] }, { filter, classes: ['a', 'c'] }]) {
      expect(float32.kneighbors(queries, 6, options)).toEqual(float64.kneighbors(queries, 6, options));
      expect(float32.radiusNeighbors(queries, 3, options)).toEqual(float64.radiusNeighbors(queries, 3, options));
    }
    float32.removeIds([1003, 1300]);
    float64.removeIds([1003, 1300]);
    expect(float32.kneighbors(queries, 5)).toEqual(float64.kneighbors(queries, 5));
    const created = await KnnNetwork.create<string>({ k: 500 });
    created.add({ data, rows: n, cols: d }, y);
    expect(created.storage).toBe('float32');
    const createdTwin = await KnnNetwork.create<string>({ k: 500 });
    createdTwin.add({ data: Float64Array.from(data), rows: n, cols: d }, y);
    expect(exactAnswers(created, queries, 250, 3)).toEqual(exactAnswers(createdTwin, queries, 250, 3));
    for (const net of [float32, float64, created, createdTwin]) net.dispose();
  });

  it('on a pool of two threads, the async methods answer as float64 storage does on this thread (split by queries and by training rows)', async () => {
    const n = 2400;
    const d = 40;
    const data = float32Data(21, n, d, 0, 0);
    const y = Array.from({ length: n }, (_, i) => i % 5);
    const pooled = await KnnNetwork.fit({ data, rows: n, cols: d }, y, { k: 6, threads: 2 });
    const softmax = await KnnNetwork.fit({ data, rows: n, cols: d }, y, { k: 'all', weights: 'softmax', lambda: 3, threads: 2 });
    const { float64 } = await storageTwins(data, n, d, y, { k: 6 });
    const softmax64 = await KnnNetwork.fit({ data: Float64Array.from(data), rows: n, cols: d }, y, { k: 'all', weights: 'softmax', lambda: 3 });
    expect(pooled.storage).toBe('float32');
    for (const rows of [3, 64]) {
      const queries = queriesFor(rows, data, n, d, 0, 0);
      const many = { data: new Float64Array(rows * d).map((_, i) => queries.data[i % queries.data.length] + (i % 7) * 0.01), rows, cols: d };
      expect(await pooled.kneighborsAsync(many)).toEqual(float64.kneighbors(many));
      expect(bits(await pooled.predictProbaAsync(many))).toEqual(bits(float64.predictProba(many)));
      expect(await pooled.radiusNeighborsAsync(many, 2.5)).toEqual(float64.radiusNeighbors(many, 2.5));
      expect(bits(await softmax.predictProbaAsync(many))).toEqual(bits(softmax64.predictProba(many)));
    }
    for (const net of [pooled, softmax, float64, softmax64]) net.dispose();
  }, 60_000);
});

describe('what float32 storage costs', () => {
  // Cosine too: it saves the raw float32 rows, and recomputes each row's factors on load.
  it.each(['euclidean', 'cosine'] as const)('toBytes saves a float32-stored %s network at about 4 bytes per value (float64 storage: 8)', async (metric) => {
    const n = 2000;
    const d = 64;
    const data = float32Data(2, n, d, 0, 0);
    const { float32, float64 } = await storageTwins(data, n, d, null, { metric });
    const perValue = (net: KnnNetwork) => net.toBytes().length / (n * d);
    expect(perValue(float32)).toBeGreaterThanOrEqual(4);
    expect(perValue(float32)).toBeLessThan(4.01);
    expect(perValue(float64)).toBeGreaterThanOrEqual(8);
    float32.dispose();
    float64.dispose();
  });

  it('a float32-stored network holds about 4·d + 16 bytes of wasm memory per point (float64 storage about 20·d + 16)', async () => {
    const kernels = await loadKernels();
    const n = 20_000;
    const d = 96;
    const data = float32Data(4, n, d, 0, 0);
    const before = kernels.allocatedBytes() - kernels.scratchBytesHeld();
    const net = await KnnNetwork.fit({ data, rows: n, cols: d }, null);
    const held = kernels.allocatedBytes() - kernels.scratchBytesHeld() - before;
    expect(held).toBeGreaterThanOrEqual(n * (4 * d + 16));
    expect(held).toBeLessThan(n * (4 * d + 16) * 1.01 + 64 * 1024);
    net.dispose();
    const wide = await KnnNetwork.fit({ data: Float64Array.from(data), rows: n, cols: d }, null);
    expect(kernels.allocatedBytes() - kernels.scratchBytesHeld() - before).toBeGreaterThan(n * 20 * d);
    wide.dispose();
  });
});

describe('float32 storage errors', () => {
  const expectKnnError = async (call: () => Promise<unknown>, code: string, words: (string | RegExp)[]) => {
    const error = await call().then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(KnnError);
    expect((error as KnnError).code).toBe(code);
    for (const word of words) expect((error as KnnError).message).toMatch(word);
  };

  it('saved bytes whose storage toBytes never writes are BAD_BYTES: an unknown storage, float32 points under options.storage float64', async () => {
    const net = await KnnNetwork.fit({ data: Float32Array.of(1, 2, 3, 4), rows: 2, cols: 2 }, null);
    const saved = net.toBytes();
    net.dispose();
    /** The saved bytes with `edit` applied to the header text (same length, checksum redone). */
    const edited = (edit: (header: string) => string): Uint8Array => {
      const bytes = saved.slice();
      const view = new DataView(bytes.buffer);
      const length = view.getUint32(8, true);
      const header = edit(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
      bytes.set(new TextEncoder().encode(header.padEnd(length, ' ').slice(0, length)), 12);
      view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
      return bytes;
    };
    expect(new TextDecoder().decode(saved.subarray(12, 12 + new DataView(saved.buffer).getUint32(8, true)))).toContain('"storage":"float32"');
    await expectKnnError(() => KnnNetwork.fromBytes(edited((h) => h.replace('"storage":"float32"', '"storage":"float16"'))), 'BAD_BYTES', ['"storage"']);
    await expectKnnError(() => KnnNetwork.fromBytes(edited((h) => h.replace('"storage":"auto"', '"storage":"float64"'))), 'BAD_BYTES', ['float32 points', 'float64 storage']);
  });

  it('float32 data packed in place (kernels loaded, no copy) is validated there, and changing it afterwards changes nothing', async () => {
    await KnnNetwork.create(); // the kernels are loaded: fit reads X synchronously
    const data = Float32Array.of(0, 0, 0, 1, 1, 1, 5, 5, 5);
    data[5] = Number.NaN;
    await expectKnnError(() => KnnNetwork.fit({ data, rows: 3, cols: 3 }, null), 'NON_FINITE', ['X.data[5] (row 1, column 2)', 'NaN']);
    data[5] = 1;
    const pending = KnnNetwork.fit({ data, rows: 3, cols: 3 }, null);
    data.fill(100);
    const net = await pending;
    expect(Array.from(net.kneighbors([1, 1, 1], 3).indices)).toEqual([1, 0, 2]);
    net.add({ data, rows: 3, cols: 3 });
    data.fill(-100);
    expect(Array.from(net.kneighbors([100, 100, 100], 1).indices)).toEqual([3]);
    net.dispose();
  });

  it('an unknown storage is BAD_OPTION naming the choices', async () => {
    for (const storage of ['float16', 'Float32', 32, null]) {
      await expectKnnError(() => KnnNetwork.fit([[1], [2]], null, { storage } as unknown as KnnOptions), 'BAD_OPTION', ['options.storage', "'auto', 'float64', 'float32'"]);
    }
  });

  it("a float64 value beyond float32's range is NON_FINITE under storage 'float32', naming it; the network it was added to is unchanged", async () => {
    await expectKnnError(() => KnnNetwork.fit([[1, 2], [3, 1e39]], null, { storage: 'float32' }), 'NON_FINITE', ['X[1][1]', '1e+39', "storage: 'float64'"]);
    const net = await KnnNetwork.fit({ data: Float32Array.of(1, 2, 3, 4), rows: 2, cols: 2 }, null);
    expect(() => net.add([[5, 6], [-4e38, 0]])).toThrow(/X\[1\]\[0\]/);
    expect(net.nSamples).toBe(2);
    expect(net.kneighbors([3, 4], 2)).toEqual({ indices: Int32Array.of(1, 0), distances: Float64Array.of(0, Math.sqrt(8)) });
    net.dispose();
  });

  it('TOO_LARGE states the most points that fit for this d and storage, and that float32 storage holds more', async () => {
    // fit keeps a network past one memory in shards (shards.test.ts); an add joins one memory.
    const d = 384;
    const row64 = new Float64Array(d);
    const row32 = new Float32Array(d);
    const most64 = largestTrainingRows(4 * 1024 ** 3, d, true, 'float64');
    const most32 = largestTrainingRows(4 * 1024 ** 3, d, true, 'float32');
    expect(most32).toBe(Math.floor((4 * 1024 ** 3) / (4 * d + 24)));
    const firstAdd = async (rows: ArrayLike<Float64Array | Float32Array>, options: KnnOptions = {}) => (await KnnNetwork.create({ task: 'search', ...options })).add(rows);
    await expectKnnError(() => firstAdd(new Array<Float64Array>(800_000).fill(row64)), 'TOO_LARGE', [
      `at most ${most64} points of 384 features fit (float64 storage)`, `storage: 'float32' keeps X as float32`, `up to ${most32} points`,
    ]);
    await expectKnnError(() => firstAdd(new Array<Float32Array>(800_000).fill(row32), { storage: 'float64' }), 'TOO_LARGE', [
      `storage: 'auto' keeps this float32 input as float32`,
    ]);
    await expectKnnError(() => firstAdd(new Array<Float32Array>(3_000_000).fill(row32)), 'TOO_LARGE', [`at most ${most32} points of 384 features fit (float32 storage)`]);
  });

  it('TOO_LARGE for want of room in this memory (other networks) states the most points that fit in the room free', async () => {
    const kernels = await loadKernels();
    const spy = vi.spyOn(kernels.exports, 'capacityBytes').mockImplementation(() => kernels.allocatedBytes() + 1024 * 1024);
    try {
      const data = float32Data(1, 10_000, 64, 0, 0);
      await expectKnnError(() => KnnNetwork.fit({ data: Float64Array.from(data), rows: 10_000, cols: 64 }, null), 'TOO_LARGE', [
        /In the room free now, at most \d+ points of 64 features fit \(float64 storage\); storage: 'float32' keeps X as float32, rounding it once, 4 bytes a value: up to \d+ points/,
      ]);
      await expectKnnError(() => KnnNetwork.fit({ data, rows: 10_000, cols: 64 }, null), 'TOO_LARGE', [/In the room free now, at most \d+ points of 64 features fit \(float32 storage\)/]);
    } finally {
      spy.mockRestore();
    }
  });
});
