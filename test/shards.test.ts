// A network past one wasm memory keeps its points in shards (src/shards.ts), each on kernels and
// a memory of its own; its answers must be one network's, bit for bit. Here the bytes past which
// a network is sharded are made small (setShardBytes), so that small networks are sharded, and
// every call is compared with the same network held in one memory.
import { afterEach, describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions } from '../src/index.js';
import { setShardBytes } from '../src/shards.js';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { KERNEL_BUILDS, onKernelBuild } from './helpers.js';
import { trainingBytesPerRow } from '../src/planner.js';
import { SeededRandom } from '../src/random.js';

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** Fits the same network twice: held in one memory, and sharded with about `shardRows` points a shard. */
async function bothWays(X: { data: Float64Array | Float32Array; rows: number; cols: number }, y: ArrayLike<number> | null, options: KnnOptions, shardRows: number) {
  const whole = await KnnNetwork.fit(X, y, options);
  const storage = X.data instanceof Float32Array ? 'float32' : 'float64';
  const bytesPerRow = trainingBytesPerRow(shardRows, X.cols, true, storage);
  restore = setShardBytes(trainingBytesPerRow(X.rows, X.cols, true, storage) * Math.min(X.rows, shardRows) - 1, bytesPerRow * shardRows);
  const sharded = await KnnNetwork.fit(X, y, options);
  restore();
  restore = undefined;
  return { whole, sharded };
}

/** Random data with ties: values on a coarse grid, a few rows repeated. */
function gridData(random: SeededRandom, rows: number, cols: number, float32: boolean) {
  const data = float32 ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random.uniform() * 5) - 2 + (random.uniform() < 0.3 ? random.uniform() : 0);
  for (let r = 1; r < rows; r += 7) data.copyWithin(r * cols, (r - 1) * cols, r * cols);
  return { data, rows, cols };
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => expect(Array.from(a).map((v) => Object.is(v, -0) ? 0 : v)).toEqual(Array.from(b).map((v) => Object.is(v, -0) ? 0 : v));

for (const build of KERNEL_BUILDS) describe(`a network past one wasm memory, in shards (${build} SIMD)`, () => {
  onKernelBuild(build);
  it('answers every search and vote as one network does, bit for bit, on random shapes with ties', async () => {
    const random = new SeededRandom(17);
    const metrics = ['euclidean', 'manhattan', 'cosine'] as const;
    const weightings = ['uniform', 'distance', 'softmax'] as const;
    for (let trial = 0; trial < 24; trial++) {
      const rows = 1 + Math.floor(random.uniform() * 300);
      const cols = 1 + Math.floor(random.uniform() * 20);
      const metric = metrics[trial % 3];
      const float32 = metric !== 'cosine' && random.uniform() < 0.5;
      const X = gridData(random, rows, cols, float32);
      const task = (['classification', 'regression', 'search'] as const)[trial % 3 === 0 ? 2 : Math.floor(random.uniform() * 2)];
      const y = task === 'search' ? null : Array.from({ length: rows }, () => Math.floor(random.uniform() * 4));
      const k = 1 + Math.floor(random.uniform() * Math.min(rows, 9));
      const options: KnnOptions = { k, metric, task, weights: weightings[trial % 3], lambda: 0.5, algorithm: trial % 2 ? 'auto' : 'brute' };
      const shardRows = 1 + Math.floor(random.uniform() * Math.max(1, rows / 2));
      const { whole, sharded } = await bothWays(X, y, options, shardRows);
      const label = `trial ${trial}: ${rows} × ${cols} ${metric} ${task} k ${k}, shards of ${shardRows}`;
      try {
        expect(sharded.nSamples, label).toBe(rows);
        expect(sharded.shards, label).toBe(Math.ceil(rows / shardRows));
        expect(whole.shards).toBe(1);
        const queries = gridData(random, 13, cols, false);
        for (const width of [k, Math.min(rows, k + 3), rows]) {
          const a = whole.kneighbors(queries, width);
          const b = sharded.kneighbors(queries, width);
          same(b.indices, a.indices);
          same(b.distances, a.distances);
          const c = await sharded.kneighborsAsync(queries, width);
          same(c.indices, a.indices);
          same(c.distances, a.distances);
        }
        const allowed = Uint8Array.from({ length: rows }, () => (random.uniform() < 0.3 ? 1 : 0));
        const filteredWhole = whole.kneighbors(queries, k, { filter: allowed });
        const filteredSharded = sharded.kneighbors(queries, k, { filter: allowed });
        same(filteredSharded.indices, filteredWhole.indices);
        same(filteredSharded.distances, filteredWhole.distances);
        const radius = whole.kneighbors(queries, k).distances[k - 1];
        for (const filter of [undefined, { filter: allowed }]) {
          const a = whole.radiusNeighbors(queries, radius, filter);
          for (const b of [sharded.radiusNeighbors(queries, radius, filter), await sharded.radiusNeighborsAsync(queries, radius, filter)]) {
            same(b.offsets, a.offsets);
            same(b.indices, a.indices);
            same(b.distances, a.distances);
          }
        }
        if (task !== 'search') {
          const predicted = whole.predict(queries);
          expect(sharded.predict(queries), label).toEqual(predicted);
          expect(await sharded.predictAsync(queries), label).toEqual(predicted);
          expect(sharded.predict(queries.data.subarray(0, cols)), label).toEqual(whole.predict(queries.data.subarray(0, cols)));
          expect(sharded.score(queries, Array.from(predicted as ArrayLike<number>))).toBe(1);
        }
        if (task === 'classification') {
          same(sharded.predictProba(queries), whole.predictProba(queries));
          same(await sharded.predictProbaAsync(queries), whole.predictProba(queries));
          const one = queries.data.subarray(0, cols);
          expect(sharded.predictClass(one, 2)).toEqual(whole.predictClass(one, 2));
          expect(sharded.classCounts()).toEqual(whole.classCounts());
          const classes = [whole.classes[0]];
          same(sharded.kneighbors(queries, k, { classes }).indices, whole.kneighbors(queries, k, { classes }).indices);
        }
      } catch (error) {
        throw new Error(`${label}: ${(error as Error).message}`);
      } finally {
        whole.dispose();
        sharded.dispose();
      }
    }
  });

  it('is split into shards of equal size, says what it cannot do in shards, and is freed by dispose', async () => {
    const random = new SeededRandom(3);
    const X = gridData(random, 100, 4, true);
    const { whole, sharded } = await bothWays(X, Array.from({ length: 100 }, (_, i) => i % 3), { k: 3 }, 30);
    expect(sharded.storage).toBe('float32');
    expect(sharded.shards).toBe(4);
    expect(sharded.nFeatures).toBe(4);
    expect(sharded.classes).toEqual([0, 1, 2]);
    expect(() => sharded.forward([X.data.subarray(0, 4)])).toThrow(/one wasm memory.*4 shards/);
    expect(() => sharded.weights).toThrow(/one wasm memory/);
    expect(() => sharded.add([X.data.subarray(0, 3)], [1])).toThrow(KnnError);
    expect(() => sharded.add([X.data.subarray(0, 4)], ['a'] as never)).toThrow(/y\[0\]/);
    expect(() => sharded.remove(Array.from({ length: 98 }, (_, i) => i))).toThrow(/options.k is 3/);
    expect(sharded.nSamples).toBe(100);
    sharded.dispose();
    expect(() => sharded.kneighbors(X.data.subarray(0, 4))).toThrow(/dispose/);
    expect(() => sharded.shards).toThrow(/dispose/);
    whole.dispose();
  });

  it('add and remove keep it one network, bit for bit: rows filling the last shard and new shards, new classes, ids, emptied shards', async () => {
    const random = new SeededRandom(23);
    for (const [task, float32] of [['classification', true], ['regression', false], ['search', true]] as const) {
      const X = gridData(random, 60, 5, float32);
      const label = (i: number) => (task === 'regression' ? i / 3 : task === 'classification' ? i % 3 : 0);
      const y = task === 'search' ? null : Array.from({ length: 60 }, (_, i) => label(i));
      const ids = Array.from({ length: 60 }, (_, i) => 5 * i);
      const { whole, sharded } = await bothWays(X, y, { k: 3, task, ids } as KnnOptions, 16);
      const both = (change: (net: KnnNetwork) => void) => [whole, sharded].forEach(change);
      const rows = (count: number) => ({ data: gridData(random, count, 5, !float32).data, rows: count, cols: 5 });
      const labels = (count: number, from: number) => (task === 'search' ? null : Array.from({ length: count }, (_, i) => (task === 'classification' ? (from + i) % 5 : label(from + i))));
      let next = 1000;
      for (const count of [1, 3, 30, 1, 17]) {
        const added = rows(count);
        const addedIds = Array.from({ length: count }, (_, i) => next + i);
        both((net) => net.add(added, labels(count, next) as never, { ids: addedIds }));
        next += count;
      }
      expect(sharded.shards).toBe(8);
      both((net) => net.remove([0, 5, 59, 61, 62, 63]));
      both((net) => net.removeIds(Array.from({ length: 16 }, (_, i) => 5 * (20 + i))));
      if (task === 'classification') both((net) => (net as KnnNetwork<number, 'classification'>).removeClass(4));
      expect(sharded.toBytes()).toEqual(whole.toBytes());
      const queries = gridData(random, 11, 5, false);
      const a = whole.kneighbors(queries, 4);
      const b = sharded.kneighbors(queries, 4);
      same(b.indices, a.indices);
      same(b.distances, a.distances);
      same(b.ids!, a.ids!);
      if (task !== 'search') expect(sharded.predict(queries)).toEqual(whole.predict(queries));
      if (task === 'classification') same(sharded.predictProba(queries), whole.predictProba(queries));
      whole.dispose();
      sharded.dispose();
    }
  });

  it('on threads, each shard on a pool of its own at once: the async calls answer as one network on this thread', async () => {
    const previous = setPoolThreshold(0);
    try {
      const random = new SeededRandom(31);
      const X = gridData(random, 400, 12, true);
      const y = Array.from({ length: 400 }, (_, i) => i % 4);
      const { whole, sharded } = await bothWays(X, y, { k: 5, threads: 2, weights: 'distance' }, 150);
      const queries = gridData(random, 40, 12, false);
      const a = whole.kneighbors(queries, 7);
      const b = await sharded.kneighborsAsync(queries, 7);
      same(b.indices, a.indices);
      same(b.distances, a.distances);
      same(await sharded.predictProbaAsync(queries), whole.predictProba(queries));
      const radius = a.distances[6];
      same((await sharded.radiusNeighborsAsync(queries, radius)).indices, whole.radiusNeighbors(queries, radius).indices);
      const progress: number[] = [];
      await sharded.predictAsync(queries, { onProgress: (done) => progress.push(done) });
      expect(progress.at(-1)).toBe(1);
      const aborted = new AbortController();
      aborted.abort(new Error('stop'));
      await expect(sharded.kneighborsAsync(queries, 3, { signal: aborted.signal })).rejects.toThrow('stop');
      expect(sharded.predict(queries)).toEqual(whole.predict(queries));
      // Async calls answer for the points as they were when called: a remove and an add (new
      // classes recode the labels) before they end do not reach them.
      const expectedProba = whole.predictProba(queries);
      const pending = [sharded.kneighborsAsync(queries, 7), sharded.predictProbaAsync(queries), sharded.predictAsync(queries)] as const;
      sharded.remove(Array.from({ length: 120 }, (_, i) => 3 * i));
      sharded.add(gridData(random, 5, 12, true), [-1, -2, 7, 8, 9]);
      const [neighbours, proba, predicted] = await Promise.all(pending);
      same(neighbours.indices, a.indices);
      same(proba, expectedProba);
      expect(predicted).toEqual(whole.predict(queries));
      whole.dispose();
      sharded.dispose();
    } finally {
      setPoolThreshold(previous);
    }
  });

  it('refuses the softmax over every point, which runs in one memory', async () => {
    restore = setShardBytes(1000, 500);
    await expect(KnnNetwork.fit(gridData(new SeededRandom(1), 50, 3, false), new Array(50).fill(1), { k: 'all', weights: 'softmax' })).rejects.toThrow(/softmax over every point/);
  });

  it('saves and loads, sharded again, with ids, answering as before', async () => {
    const random = new SeededRandom(5);
    const X = gridData(random, 120, 6, false);
    const y = Array.from({ length: 120 }, (_, i) => (i * 7) % 5);
    const ids = Array.from({ length: 120 }, (_, i) => 1000 + i * 3);
    const { whole, sharded } = await bothWays(X, y, { k: 4, ids } as KnnOptions, 25);
    const bytes = sharded.toBytes();
    expect(bytes).toEqual(whole.toBytes());
    restore = setShardBytes(trainingBytesPerRow(120, 6, true, 'float64') * 120 - 1, trainingBytesPerRow(25, 6, true, 'float64') * 25);
    const loaded = await KnnNetwork.fromBytes(bytes);
    const queries = gridData(random, 9, 6, false);
    const a = whole.kneighbors(queries, 5);
    const b = loaded.kneighbors(queries, 5);
    same(b.indices, a.indices);
    same(b.ids!, a.ids!);
    expect(loaded.predict(queries)).toEqual(whole.predict(queries));
    // In chunks, a shard's points at a time: the same bytes, loaded into shards again.
    const streamed = await KnnNetwork.fromChunks(sharded.saveChunks());
    expect(streamed.shards).toBe(5);
    expect(streamed.toBytes()).toEqual(bytes);
    same(streamed.predictProba(queries), whole.predictProba(queries));
    // A change between the chunks would mix two networks in one form: the next chunk refuses.
    const chunks = streamed.saveChunks()[Symbol.iterator]();
    chunks.next();
    streamed.add([X.data.subarray(0, 6)], [1], { ids: [7] });
    expect(() => chunks.next()).toThrow(/changed \(add or remove\) while its chunks/);
    for (const network of [whole, sharded, loaded, streamed]) network.dispose();
  });
});
