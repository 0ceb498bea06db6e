// The pruned search inside KnnNetwork through add and remove, toBytes/fromBytes and a pool of two
// threads: after every step a 'tree' network answers as a fresh 'brute' fit on the same points,
// bit for bit, sync and async, and saves the bytes a fresh fit saves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnnNetwork, type Metric } from '../src/index.js';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { KERNEL_BUILDS, onKernelBuild } from './helpers.js';
import { blobs, duplicated, expectBits, expectSame, expectSameAnswers, grid, labelsFor, uniform, type Flat } from './treeHelpers.js';

describe.each(KERNEL_BUILDS)('after add and remove, and on a pool (%s build)', (build) => {
  onKernelBuild(build);
  let threshold = 0;
  beforeAll(() => {
    threshold = setPoolThreshold(0);
  });
  afterAll(() => {
    setPoolThreshold(threshold);
  });

  it.each([
    { name: 'boxes', X: grid(50, 2000, 3, 8), queries: grid(51, 40, 3, 9), metric: 'euclidean' as Metric },
    { name: 'boxes, manhattan', X: duplicated(52, 300, 6, 2), queries: uniform(53, 40, 2), metric: 'manhattan' as Metric },
    { name: 'boxes, cosine', X: uniform(57, 1800, 4, 1, 0.5), queries: uniform(58, 30, 4, 1, 0.5), metric: 'cosine' as Metric },
    { name: 'clusters', X: blobs(54, 1500, 20, 5), queries: blobs(55, 30, 20, 5), metric: 'euclidean' as Metric },
  ])('$name: every add and remove equals a fresh fit', async ({ X, queries, metric }) => {
    const d = X.cols;
    const y = labelsFor(X.rows, 3, 56);
    const rows = (from: number, to: number): Flat => ({ data: X.data.slice(from * d, to * d), rows: to - from, cols: d });
    const net = await KnnNetwork.fit(rows(0, 1000), y.slice(0, 1000), { k: 6, metric, algorithm: 'tree', threads: 2 });
    const held: number[] = Array.from({ length: 1000 }, (_, i) => i);
    const heldRows = (): Flat => ({ data: Float64Array.from(held.flatMap((i) => Array.from(X.data.subarray(i * d, (i + 1) * d)))), rows: held.length, cols: d });
    const check = async (): Promise<void> => {
      const fresh = await KnnNetwork.fit(heldRows(), held.map((i) => y[i]), { k: 6, metric, algorithm: 'brute' });
      try {
        expect(net.searchAlgorithm).toBe('tree');
        expectSameAnswers(net, fresh, queries, true);
        const a = await net.kneighborsAsync(queries);
        const b = fresh.kneighbors(queries);
        expectSame(a.indices, b.indices);
        expectBits(a.distances, b.distances);
        expectBits(await net.predictProbaAsync(queries), fresh.predictProba(queries));
        expect(await net.predictAsync(queries)).toEqual(fresh.predict(queries));
        expect(await net.scoreAsync(queries, fresh.predict(queries))).toBe(1);
        const radius = b.distances[3];
        const ra = await net.radiusNeighborsAsync(queries, radius);
        const rb = fresh.radiusNeighbors(queries, radius);
        expectSame(ra.offsets, rb.offsets);
        expectSame(ra.indices, rb.indices);
        expectBits(ra.distances, rb.distances);
        const freshTree = await KnnNetwork.fit(heldRows(), held.map((i) => y[i]), { k: 6, metric, algorithm: 'tree' });
        expectSame(net.toBytes(), freshTree.toBytes());
        freshTree.dispose();
        const loaded = await KnnNetwork.fromBytes(net.toBytes());
        expect(loaded.searchAlgorithm).toBe('tree');
        expectSameAnswers(loaded, fresh, queries, true);
        loaded.dispose();
      } finally {
        fresh.dispose();
      }
    };
    await check();
    for (const [from, to] of [[1000, 1007], [1007, 1300], [1300, 1301], [1301, X.rows]]) {
      net.add(rows(from, to), y.slice(from, to));
      for (let i = from; i < to; i++) held.push(i);
      await check();
    }
    const removed = [0, 5, 999, 1000, 1299, held.length - 1];
    net.remove(removed);
    const gone = new Set(removed.map((p) => held[p]));
    for (let i = held.length - 1; i >= 0; i--) if (gone.has(held[i])) held.splice(i, 1);
    await check();
    net.dispose();
  }, 60_000);

  it('an add while an async call reads the partition leaves that call its answer', async () => {
    const X = uniform(60, 3000, 2);
    const y = labelsFor(X.rows, 3, 61);
    const net = await KnnNetwork.fit({ data: X.data.slice(0, 4000), rows: 2000, cols: 2 }, y.slice(0, 2000), { k: 5, algorithm: 'tree', threads: 2 });
    const brute = await KnnNetwork.fit({ data: X.data.slice(0, 4000), rows: 2000, cols: 2 }, y.slice(0, 2000), { k: 5, algorithm: 'brute' });
    const queries = uniform(62, 200, 2);
    const pending = net.kneighborsAsync(queries);
    net.add({ data: X.data.slice(4000), rows: 1000, cols: 2 }, y.slice(2000));
    const before = await pending;
    const expected = brute.kneighbors(queries);
    expectSame(before.indices, expected.indices);
    expectBits(before.distances, expected.distances);
    brute.add({ data: X.data.slice(4000), rows: 1000, cols: 2 }, y.slice(2000));
    expectSameAnswers(net, brute, queries, true);
    net.dispose();
    brute.dispose();
  }, 60_000);
});
