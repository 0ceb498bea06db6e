// The cosine metric on float32 storage: the raw float32 rows kept once (4 bytes a value) with each
// row's largest |value| and norm in float64, every value normalised as it is widened. Each answer
// must be, bit for bit, the float64-storage network's on the same float32 input (whose unit rows
// normaliseRow makes in float64): kneighbors, radiusNeighbors, predict, predictProba, regression,
// score, the softmax over every point and over k, forward, weights, on both kernel builds, on
// awkward shapes (d = 1, odd d, n = 1, k = n, duplicate rows, rows that are multiples of each
// other, magnitudes 1e±30), after add and remove, after saving and loading, on two threads,
// with filters and ids, and in shards. Also what it costs, and zero rows refused.
import fc from 'fast-check';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions, type Label } from '../src/index.js';
import { SeededRandom } from '../src/random.js';
import { crc32 } from '../src/serialize.js';
import { ReferenceNetwork } from '../src/reference.js';
import { setShardBytes } from '../src/shards.js';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { trainingBytesPerRow } from '../src/planner.js';
import { loadKernels } from '../src/wasm.js';
import { bits, exactAnswers, KERNEL_BUILDS, onKernelBuild, storageTwins, type FlatRows } from './helpers.js';


/** How a test's rows are made: uniform values, a coarse grid (ties), or rows scaled by wide factors (exact cosine ties and 1e±30 magnitudes). */
type Kind = 'uniform' | 'grid' | 'scaled';

/**
 * n × d float32 rows of `kind`, none zero: 'scaled' rows are a few base rows times factors from
 * 1e−30 to 1e30 (so many rows are multiples of each other: the same unit row up to rounding, or
 * exactly); row n − 1 repeats row 0 when n > 2.
 */
function cosineData(seed: number, n: number, d: number, kind: Kind): Float32Array {
  const random = new SeededRandom(seed);
  const data = new Float32Array(n * d);
  const factors = [1, 2, 0.5, 3, 1e30, 1e-30, 7e12, 1e-20, -1];
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      const at = r * d + j;
      if (kind === 'grid') data[at] = Math.floor(random.uniform() * 3) - 1;
      else if (kind === 'uniform') data[at] = random.uniform() * 2 - 1;
      else data[at] = ((r % 3) + 1) * (j % 2 ? 1 : -1) * (1 + j / d) * factors[Math.floor(random.uniform() * factors.length)];
    }
    if (data.subarray(r * d, (r + 1) * d).every((value) => value === 0)) data[r * d] = 1;
  }
  if (n > 2) data.copyWithin((n - 1) * d, 0, d);
  return data;
}

/** Queries: fresh rows, a training row, and a training row scaled (cosine distance 0 to it). */
function queriesFor(seed: number, training: Float32Array, n: number, d: number): FlatRows {
  const random = new SeededRandom(seed + 7);
  const q = 5;
  const data = new Float64Array(q * d);
  for (let i = 0; i < 3 * d; i++) data[i] = random.uniform() * 2 - 1;
  data[0] = 1; // no zero query
  for (let j = 0; j < d; j++) {
    data[3 * d + j] = training[((3 * 7) % n) * d + j];
    data[4 * d + j] = training[((4 * 7) % n) * d + j] * 1e10;
  }
  return { data, rows: q, cols: d };
}

/** The same cosine network on float32 storage (the float32 rows) and on float64 storage (the same values widened). */
const twins = (data: Float32Array, n: number, d: number, y: Label[] | null, options: KnnOptions) => storageTwins(data, n, d, y, { ...options, metric: 'cosine' });

/** Everything a network answers for `queries`, as exact bits (forward and weights included unless `layers` is false). */
const answers = (net: KnnNetwork, queries: FlatRows, k: number, radius: number, layers = true) => exactAnswers(net, queries, k, radius, layers);

function labelsFor(seed: number, n: number, task: 'classification' | 'regression' | 'search'): Label[] | null {
  const random = new SeededRandom(seed + 1);
  if (task === 'search') return null;
  return Array.from({ length: n }, () => (task === 'regression' ? random.uniform() * 10 : Math.floor(random.uniform() * 3)));
}

describe.each(KERNEL_BUILDS)('cosine on float32 storage answers as float64 storage of the same input (%s build)', (build) => {
  onKernelBuild(build);

  it('on random problems: d = 1 … 33, n = 1 … 200, k up to n and all, ties, multiples, 1e±30 magnitudes, every weighting and task', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          n: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 12 }), fc.integer({ min: 13, max: 200 })),
          d: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 9 }), fc.constantFrom(16, 17, 33)),
          kind: fc.constantFrom<Kind>('uniform', 'grid', 'scaled'),
          kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
          weights: fc.constantFrom('uniform' as const, 'distance' as const, 'softmax' as const),
          all: fc.boolean(),
          task: fc.constantFrom('classification' as const, 'regression' as const, 'search' as const),
        }),
        async ({ seed, n, d, kind, kFraction, weights, all, task }) => {
          const data = cosineData(seed, n, d, kind);
          const k = Math.max(1, Math.round(kFraction * n));
          const y = labelsFor(seed, n, task);
          const options: KnnOptions = { k: all && weights === 'softmax' && task !== 'search' ? 'all' : k, weights, task, lambda: 3 };
          const { float32, float64 } = await twins(data, n, d, y, options);
          const queries = queriesFor(seed, data, n, d);
          expect(answers(float32, queries, k, 0.3)).toEqual(answers(float64, queries, k, 0.3));
          if (task === 'classification') expect(float32.score(queries, float64.predict(queries) as Label[])).toBe(1);
          float32.dispose();
          float64.dispose();
        },
      ),
      { numRuns: 80 },
    );
  });

  it('on the float32 candidate search (3 000 × 40): every query it proves, and those it cannot (30 points tied at the 10th) through the float64 search', async () => {
    const n = 3000;
    const d = 40;
    const data = cosineData(31, n, d, 'uniform');
    // Rows 1 … 29 are row 0 times powers of two: the same unit row, bit for bit.
    for (let r = 1; r < 30; r++) for (let j = 0; j < d; j++) data[r * d + j] = data[j] * 2 ** (r % 7 - 3);
    const y = labelsFor(31, n, 'classification');
    const { float32, float64 } = await twins(data, n, d, y, { k: 10, weights: 'distance' });
    const random = new SeededRandom(4);
    const queries = { data: Float64Array.from({ length: 64 * d }, () => random.uniform() * 2 - 1), rows: 64, cols: d };
    for (const r of [5, 40]) queries.data.set(Float64Array.from(data.subarray(0, d), (value) => value * 3), r * d);
    expect(answers(float32, queries, 10, 0.7, false)).toEqual(answers(float64, queries, 10, 0.7, false));
    const one = { data: queries.data.subarray(0, d), rows: 1, cols: d };
    const tied = { data: queries.data.subarray(5 * d, 6 * d), rows: 1, cols: d };
    for (const query of [one, tied]) expect(answers(float32, query, 10, 0.7, false)).toEqual(answers(float64, query, 10, 0.7, false));
    // The float32 search runs on this network and proves every query but the tied ones.
    const kernels = await loadKernels();
    const unproven = (search: () => unknown) => {
      const before = kernels.exports.float32UnprovenQueries();
      search();
      return kernels.exports.float32UnprovenQueries() - before;
    };
    expect([unproven(() => float32.kneighbors(queries, 10)), unproven(() => float32.kneighbors(one, 10)), unproven(() => float32.kneighbors(tied, 10))]).toEqual([2, 0, 1]);
    float32.dispose();
    float64.dispose();
  });

  it('one query a call (the one-query kernel on the raw values; centred blocks where a row\'s scale leaves 2^±60): as float64 storage, and proven', async () => {
    const kernels = await loadKernels();
    for (const [kind, d, tiny] of [['uniform', 3], ['uniform', 40], ['grid', 17], ['scaled', 17], ['scaled', 40], ['uniform', 24, true]] as [Kind, number, boolean?][]) {
      const n = 2000;
      const data = cosineData(d, n, d, kind);
      // Rows of float32 subnormals (scale 1e−41, below 2^−60): their raw products would underflow; the queries below seek them.
      if (tiny) for (let r = 3; r < 64; r += 4) for (let j = 0; j < d; j++) data[r * d + j] *= 1e-41;
      const { float32, float64 } = await twins(data, n, d, null, { k: 10 });
      const random = new SeededRandom(d + 1);
      let unproven = 0;
      for (let r = 0; r < 16; r++) {
        const query = { data: Float64Array.from({ length: d }, () => random.uniform() * 2 - 1), rows: 1, cols: d };
        // Every fourth query is a training row scaled: its own row at distance 0, and its multiples tied with it.
        if (r % 4 === 3) query.data.set(Float64Array.from(data.subarray(r * d, (r + 1) * d), (value) => value * 5));
        const before = kernels.exports.float32UnprovenQueries();
        const found = float32.kneighbors(query, 10);
        unproven += kernels.exports.float32UnprovenQueries() - before;
        const expected = float64.kneighbors(query, 10);
        expect(Array.from(found.indices), `${kind}, d = ${d}, query ${r}`).toEqual(Array.from(expected.indices));
        expect(bits(found.distances)).toEqual(bits(expected.distances));
      }
      // Uniform rows leave no ties at the 10th: the one-query kernel's bound proves every query.
      if (kind === 'uniform') expect(unproven, `${kind}, d = ${d}`).toBe(0);
      float32.dispose();
      float64.dispose();
    }
  });

  it('after adds (in place and past the room), removals and a save and load: as float64 storage, and as a fresh fit on the same rows', async () => {
    const n = 150;
    const d = 21;
    const data = cosineData(11, n + 400, d, 'scaled');
    const y = Array.from({ length: n + 400 }, (_, i) => i % 4);
    const { float32, float64 } = await twins(data.subarray(0, n * d), n, d, y.slice(0, n), { k: 7, weights: 'distance' });
    const queries = queriesFor(3, data, n, d);
    for (const [first, end] of [[n, n + 5], [n + 5, n + 40], [n + 40, n + 400]]) {
      const rows = data.subarray(first * d, end * d);
      float32.add({ data: rows, rows: end - first, cols: d }, y.slice(first, end));
      float64.add({ data: Float64Array.from(rows), rows: end - first, cols: d }, y.slice(first, end));
      expect(float32.storage).toBe('float32');
      expect(answers(float32, queries, 9, 0.4)).toEqual(answers(float64, queries, 9, 0.4));
    }
    const removed = [0, 17, 149, 300];
    float32.remove(removed);
    float64.remove(removed);
    expect(answers(float32, queries, 9, 0.4)).toEqual(answers(float64, queries, 9, 0.4));
    const kept = Array.from({ length: n + 400 }, (_, i) => i).filter((i) => !removed.includes(i));
    const keptRows = new Float32Array(kept.length * d);
    kept.forEach((i, r) => keptRows.set(data.subarray(i * d, (i + 1) * d), r * d));
    const fresh = await KnnNetwork.fit({ data: keptRows, rows: kept.length, cols: d }, kept.map((i) => y[i]), { k: 7, weights: 'distance', metric: 'cosine' });
    expect(answers(float32, queries, 9, 0.4)).toEqual(answers(fresh, queries, 9, 0.4));
    const loaded = await KnnNetwork.fromBytes(float32.toBytes());
    expect(loaded.storage).toBe('float32');
    expect(answers(loaded, queries, 9, 0.4)).toEqual(answers(float64, queries, 9, 0.4));
    const chunked = await KnnNetwork.fromChunks(float32.saveChunks());
    expect(answers(chunked, queries, 9, 0.4)).toEqual(answers(float64, queries, 9, 0.4));
    for (const net of [float32, float64, fresh, loaded, chunked]) net.dispose();
  });
});

describe('cosine on float32 storage through the rest of the API', () => {
  it("'auto' keeps float32 cosine rows as float32; 'float32' rounds float64 rows once, answering as float64 storage of the rounded rows", async () => {
    const rows = [Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(0, 1)];
    const auto = await KnnNetwork.fit(rows, null, { metric: 'cosine' });
    expect(auto.storage).toBe('float32');
    auto.dispose();
    const n = 120;
    const d = 9;
    const random = new SeededRandom(5);
    const data = Float64Array.from({ length: (n + 30) * d }, () => random.uniform() * 3 - 1 / 3);
    const rounded = Float64Array.from(Float32Array.from(data));
    const y = Array.from({ length: n + 30 }, (_, i) => i % 2);
    const asked = await KnnNetwork.fit({ data: data.subarray(0, n * d), rows: n, cols: d }, y.slice(0, n), { k: 3, metric: 'cosine', storage: 'float32' });
    const widened = await KnnNetwork.fit({ data: rounded.subarray(0, n * d), rows: n, cols: d }, y.slice(0, n), { k: 3, metric: 'cosine' });
    expect(asked.storage).toBe('float32');
    expect(widened.storage).toBe('float64');
    const queries = { data: data.subarray(0, 12 * d).map((value) => value + 0.01), rows: 12, cols: d };
    expect(answers(asked, queries, 3, 0.2)).toEqual(answers(widened, queries, 3, 0.2));
    asked.add({ data: data.subarray(n * d), rows: 30, cols: d }, y.slice(n));
    widened.add({ data: rounded.subarray(n * d), rows: 30, cols: d }, y.slice(n));
    expect(answers(asked, queries, 3, 0.2)).toEqual(answers(widened, queries, 3, 0.2));
    asked.dispose();
    widened.dispose();
  });

  it("searches by brute force whatever options.algorithm asks, with the tree's answers on float64 storage", async () => {
    const n = 3000;
    const d = 3;
    const data = cosineData(8, n, d, 'uniform');
    const stored = await KnnNetwork.fit({ data, rows: n, cols: d }, null, { k: 4, algorithm: 'tree', metric: 'cosine' });
    const widened = await KnnNetwork.fit({ data: Float64Array.from(data), rows: n, cols: d }, null, { k: 4, algorithm: 'tree', metric: 'cosine' });
    expect(stored.storage).toBe('float32');
    expect(stored.searchAlgorithm).toBe('brute');
    expect(widened.searchAlgorithm).toBe('tree');
    const queries = queriesFor(8, data, n, d);
    expect(answers(stored, queries, 4, 0.01)).toEqual(answers(widened, queries, 4, 0.01));
    stored.dispose();
    widened.dispose();
  });

  it('ids, filters (direct, whole and gathered ways) and a created network work as on float64 storage', async () => {
    const n = 2000;
    const d = 19;
    const data = cosineData(9, n, d, 'grid');
    const ids = Array.from({ length: n }, (_, i) => 1000 + 3 * i);
    const y = Array.from({ length: n }, (_, i) => ['a', 'b', 'c'][i % 3]);
    const { float32, float64 } = await twins(data, n, d, y, { k: 4, ids });
    const queries = queriesFor(9, data, n, d);
    const sparse = Uint8Array.from({ length: n }, (_, i) => (i % 97 === 2 ? 1 : 0));
    const half = Uint8Array.from({ length: n }, (_, i) => (i % 2));
    const most = Uint8Array.from({ length: n }, (_, i) => (i % 11 === 0 ? 0 : 1));
    for (const options of [{ filter: sparse }, { filter: half }, { filter: most }, { classes: ['b'] }, { filter: half, classes: ['a', 'c'] }]) {
      expect(float32.kneighbors(queries, 6, options)).toEqual(float64.kneighbors(queries, 6, options));
      expect(float32.radiusNeighbors(queries, 0.3, options)).toEqual(float64.radiusNeighbors(queries, 0.3, options));
    }
    float32.removeIds([1003, 1300]);
    float64.removeIds([1003, 1300]);
    expect(float32.kneighbors(queries, 5)).toEqual(float64.kneighbors(queries, 5));
    const created = await KnnNetwork.create<string>({ k: 500, metric: 'cosine' });
    created.add({ data: data.subarray(0, 300 * d), rows: 300, cols: d }, y.slice(0, 300));
    expect(created.storage).toBe('float32');
    const createdTwin = await KnnNetwork.create<string>({ k: 500, metric: 'cosine' });
    createdTwin.add({ data: Float64Array.from(data.subarray(0, 300 * d)), rows: 300, cols: d }, y.slice(0, 300));
    expect(answers(created, queries, 250, 0.3)).toEqual(answers(createdTwin, queries, 250, 0.3));
    for (const net of [float32, float64, created, createdTwin]) net.dispose();
  });

  it('on a pool of two threads, the async methods answer as float64 storage does on this thread (split by queries and by training rows)', async () => {
    const n = 2400;
    const d = 40;
    const data = cosineData(21, n, d, 'uniform');
    const y = Array.from({ length: n }, (_, i) => i % 5);
    const pooled = await KnnNetwork.fit({ data, rows: n, cols: d }, y, { k: 6, threads: 2, metric: 'cosine' });
    const softmax = await KnnNetwork.fit({ data, rows: n, cols: d }, y, { k: 'all', weights: 'softmax', lambda: 3, threads: 2, metric: 'cosine' });
    const { float64 } = await twins(data, n, d, y, { k: 6 });
    const softmax64 = await KnnNetwork.fit({ data: Float64Array.from(data), rows: n, cols: d }, y, { k: 'all', weights: 'softmax', lambda: 3, metric: 'cosine' });
    expect(pooled.storage).toBe('float32');
    // Every call of two or more queries to the pool: 3 queries split by training rows, 64 by queries.
    const threshold = setPoolThreshold(0);
    onTestFinished(() => void setPoolThreshold(threshold));
    for (const rows of [3, 64]) {
      const queries = queriesFor(rows, data, n, d);
      const many = { data: new Float64Array(rows * d).map((_, i) => queries.data[i % queries.data.length] + (i % 7) * 0.01), rows, cols: d };
      expect(await pooled.kneighborsAsync(many)).toEqual(float64.kneighbors(many));
      expect(bits(await pooled.predictProbaAsync(many))).toEqual(bits(float64.predictProba(many)));
      expect(await pooled.radiusNeighborsAsync(many, 0.5)).toEqual(float64.radiusNeighbors(many, 0.5));
      expect(bits(await softmax.predictProbaAsync(many))).toEqual(bits(softmax64.predictProba(many)));
    }
    for (const net of [pooled, softmax, float64, softmax64]) net.dispose();
  }, 60_000);

  it('a zero row (or one that rounds to zero in float32) is BAD_INPUT at fit and at add, and the network is unchanged and usable', async () => {
    const error = (call: () => unknown) => {
      try {
        call();
      } catch (caught) {
        return caught;
      }
      return undefined;
    };
    const fitted = await KnnNetwork.fit({ data: Float32Array.of(1, 2, 0, 0, 3, 1), rows: 3, cols: 2 }, null, { metric: 'cosine' }).catch((caught: unknown) => caught);
    expect(fitted).toBeInstanceOf(KnnError);
    expect((fitted as KnnError).message).toMatch(/X row 1 is a zero vector/);
    const rounded = await KnnNetwork.fit([[1, 2], [1e-50, -1e-60]], null, { metric: 'cosine', storage: 'float32' }).catch((caught: unknown) => caught);
    expect((rounded as KnnError).message).toMatch(/X row 1 is a zero vector/);
    const net = await KnnNetwork.fit({ data: Float32Array.of(1, 2, 3, 1), rows: 2, cols: 2 }, null, { metric: 'cosine' });
    const twin = await KnnNetwork.fit({ data: Float64Array.of(1, 2, 3, 1), rows: 2, cols: 2 }, null, { metric: 'cosine' });
    const added = error(() => net.add({ data: Float32Array.of(2, 2, 0, 0), rows: 2, cols: 2 }));
    expect((added as KnnError).code).toBe('BAD_INPUT');
    expect((added as KnnError).message).toMatch(/X row 1 is a zero vector/);
    expect(net.nSamples).toBe(2);
    net.add({ data: Float32Array.of(2, 2), rows: 1, cols: 2 });
    twin.add({ data: Float64Array.of(2, 2), rows: 1, cols: 2 });
    const queries = { data: Float64Array.of(1, 1, -1, 3), rows: 2, cols: 2 };
    expect(answers(net, queries, 3, 0.5)).toEqual(answers(twin, queries, 3, 0.5));
    net.dispose();
    twin.dispose();
  });
});

describe('the reference network on cosine float32 storage', () => {
  it('holds the raw float32 rows as KnnNetwork does: the same neighbours and weights, and each loads the bytes the other saves', async () => {
    const n = 90;
    const d = 7;
    const data = cosineData(51, n, d, 'scaled');
    const y = labelsFor(51, n, 'classification');
    const net = await KnnNetwork.fit({ data, rows: n, cols: d }, y, { k: 4, metric: 'cosine' });
    const reference = ReferenceNetwork.fitSync({ data, rows: n, cols: d }, y, { k: 4, metric: 'cosine' });
    const queries = queriesFor(51, data, n, d);
    const neighbours = (model: KnnNetwork | ReferenceNetwork) => {
      const found = model.kneighbors(queries, 6);
      return { indices: Array.from(found.indices), distances: bits(found.distances), W1: bits(model.weights.W1), mean: bits(model.weights.mean) };
    };
    expect(neighbours(reference)).toEqual(neighbours(net));
    const fromReference = await KnnNetwork.fromBytes(reference.toBytes());
    expect(fromReference.storage).toBe('float32');
    expect(neighbours(fromReference)).toEqual(neighbours(net));
    expect(neighbours(await ReferenceNetwork.fromBytes(net.toBytes()))).toEqual(neighbours(net));
    net.dispose();
    fromReference.dispose();
  });
});

describe('cosine on float32 storage, saved', () => {
  it('saved raw rows of which one is zero are BAD_BYTES (toBytes never writes them): fit refuses such a row', async () => {
    const net = await KnnNetwork.fit({ data: Float32Array.of(1, 2, 0, 0), rows: 2, cols: 2 }, null);
    const saved = net.toBytes();
    net.dispose();
    const view = new DataView(saved.buffer);
    const length = view.getUint32(8, true);
    const header = new TextDecoder().decode(saved.subarray(12, 12 + length)).replace('"metric":"euclidean"', '"metric":"cosine"   ');
    saved.set(new TextEncoder().encode(header), 12);
    view.setUint32(saved.length - 4, crc32(saved.subarray(0, saved.length - 4)), true);
    const error = await KnnNetwork.fromBytes(saved).catch((caught: unknown) => caught);
    expect((error as KnnError).code).toBe('BAD_BYTES');
    expect((error as KnnError).message).toMatch(/row 1 of a cosine network is a zero vector/);
  });
});

describe('cosine on float32 storage in shards', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  it('answers as one float64-stored network, and after adds and a removal (shards of about 40 points)', async () => {
    const n = 230;
    const d = 13;
    const data = cosineData(41, n + 90, d, 'scaled');
    const y = Array.from({ length: n + 90 }, (_, i) => i % 3);
    const whole = await KnnNetwork.fit({ data: Float64Array.from(data.subarray(0, n * d)), rows: n, cols: d }, y.slice(0, n), { k: 5, metric: 'cosine' });
    const perRow = trainingBytesPerRow(40, d, true, 'float32', 'cosine');
    restore = setShardBytes(perRow * 40, perRow * 40);
    const sharded = await KnnNetwork.fit({ data: data.subarray(0, n * d), rows: n, cols: d }, y.slice(0, n), { k: 5, metric: 'cosine' });
    expect(sharded.storage).toBe('float32');
    const queries = queriesFor(41, data, n, d);
    const searches = (net: KnnNetwork) => answers(net, queries, 6, 0.3, false);
    expect(searches(sharded)).toEqual(searches(whole));
    sharded.add({ data: data.subarray(n * d), rows: 90, cols: d }, y.slice(n));
    whole.add({ data: Float64Array.from(data.subarray(n * d)), rows: 90, cols: d }, y.slice(n));
    expect(searches(sharded)).toEqual(searches(whole));
    sharded.remove([3, 100, 250]);
    whole.remove([3, 100, 250]);
    expect(searches(sharded)).toEqual(searches(whole));
    const loaded = await KnnNetwork.fromBytes(sharded.toBytes());
    expect(searches(loaded)).toEqual(searches(whole));
    for (const net of [sharded, whole, loaded]) net.dispose();
  });
});

describe('what cosine on float32 storage costs', () => {
  it('holds about 4·d + 32 bytes of wasm memory a point (float64 storage about 20·d + 16)', async () => {
    const kernels = await loadKernels();
    const n = 20_000;
    const d = 96;
    const data = cosineData(4, n, d, 'uniform');
    const before = kernels.allocatedBytes() - kernels.scratchBytesHeld();
    const net = await KnnNetwork.fit({ data, rows: n, cols: d }, null, { metric: 'cosine' });
    const held = kernels.allocatedBytes() - kernels.scratchBytesHeld() - before;
    expect(held).toBeGreaterThanOrEqual(n * (4 * d + 32));
    expect(held).toBeLessThan(n * (4 * d + 32) * 1.01 + 64 * 1024);
    net.dispose();
  });
});
