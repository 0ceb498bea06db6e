// A sharded network's shards through removes that empty them, clear, and async calls still running on them: it stays one network (each case failed before its fix).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KnnNetwork, type KnnOptions } from '../src/index.js';
import { setShardBytes } from '../src/shards.js';
import { trainingBytesPerRow } from '../src/planner.js';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { KnnError } from '../src/errors.js';
import { Kernels } from '../src/wasm.js';

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** Fits X sharded with `shardRows` points a shard (float64 storage). */
async function shardedFit(X: { data: Float64Array; rows: number; cols: number }, y: ArrayLike<number> | null, options: KnnOptions, shardRows: number) {
  restore = setShardBytes(trainingBytesPerRow(X.rows, X.cols, true, 'float64') * shardRows - 1, trainingBytesPerRow(shardRows, X.cols, true, 'float64') * shardRows);
  try {
    return await KnnNetwork.fit(X, y, options);
  } finally {
    restore();
    restore = undefined;
  }
}

/** 60 points with ties on a pool of 2 threads (every call goes to it), fitted whole and in 3 shards of 20. */
async function pooledTwins(): Promise<{ whole: KnnNetwork; sharded: KnnNetwork }> {
  const n = 60;
  const X = { data: Float64Array.from({ length: 2 * n }, (_, i) => (i * 7) % 13), rows: n, cols: 2 };
  const y = Array.from({ length: n }, (_, i) => i % 3);
  return { whole: await KnnNetwork.fit(X, y, { k: 3, threads: 2 }), sharded: await shardedFit(X, y, { k: 3, threads: 2 }, 20) };
}

describe('shards through removes, clear and running calls', () => {
  it('a remove that empties a whole shard keeps the network (it threw DISPOSED and left it unusable)', async () => {
    const X = { data: Float64Array.from([0, 1, 2, 3, 4, 5]), rows: 6, cols: 1 };
    const y = [0, 0, 1, 1, 2, 2];
    const net = await shardedFit(X, y, { k: 1 }, 2);
    expect(net.shards).toBe(3);
    net.remove([2, 3]);
    expect(net.shards).toBe(2);
    expect(net.nSamples).toBe(4);
    expect(net.classes).toEqual([0, 2]);
    expect(net.predict([[2.2], [4.2]])).toEqual([0, 2]);
    expect(Array.from(net.kneighbors([[2.4]], 2).indices)).toEqual([1, 2]);
    net.dispose();
  });

  it('an async call on a sharded network answers for the points it was called on when a remove then empties a shard (it rejected with DISPOSED)', async () => {
    const previous = setPoolThreshold(0);
    try {
      const { whole, sharded } = await pooledTwins();
      expect(sharded.shards).toBe(3);
      const queries = [[1, 2], [3, 4], [5, 6]];
      const expected = whole.kneighbors(queries, 5);
      const expectedProba = whole.predictProba(queries);
      const pending = [sharded.kneighborsAsync(queries, 5), sharded.predictProbaAsync(queries)] as const;
      sharded.remove(Array.from({ length: 20 }, (_, i) => 20 + i)); // the whole second shard
      const [neighbours, proba] = await Promise.all(pending);
      expect(Array.from(neighbours.indices)).toEqual(Array.from(expected.indices));
      expect(Array.from(proba)).toEqual(Array.from(expectedProba));
      whole.dispose();
      sharded.dispose();
    } finally {
      setPoolThreshold(previous);
    }
  });

  it('an async call on a sharded network answers for the points it was called on when clear() runs before it ends (it rejected with DISPOSED)', async () => {
    const previous = setPoolThreshold(0);
    try {
      const { whole, sharded } = await pooledTwins();
      const queries = [[1, 2], [3, 4], [5, 6]];
      const expected = whole.kneighbors(queries, 5);
      const expectedLabels = whole.predict(queries);
      // One network answers them after clear(): the sharded one should too.
      const unsharded = [whole.kneighborsAsync(queries, 5), whole.predictAsync(queries)] as const;
      const pending = [sharded.kneighborsAsync(queries, 5), sharded.predictAsync(queries)] as const;
      whole.clear();
      sharded.clear();
      expect(sharded.nSamples).toBe(0);
      for (const [neighbours, labels] of [await Promise.all(unsharded), await Promise.all(pending)]) {
        expect(Array.from(neighbours.indices)).toEqual(Array.from(expected.indices));
        expect(labels).toEqual(expectedLabels);
      }
      whole.dispose();
      sharded.dispose();
    } finally {
      setPoolThreshold(previous);
    }
  });

  it('a remove that names no point does not change a sharded network: a save taking its chunks goes on (it threw BAD_INPUT)', async () => {
    const X = { data: Float64Array.from([0, 1, 2, 3, 4, 5]), rows: 6, cols: 1 };
    const y = [0, 0, 1, 1, 2, 2];
    const whole = await KnnNetwork.fit(X, y, { k: 1 });
    const sharded = await shardedFit(X, y, { k: 1 }, 2);
    const expected = whole.toBytes();
    for (const net of [whole, sharded]) {
      const chunks = net.saveChunks()[Symbol.iterator]();
      const taken = [chunks.next().value!];
      net.remove([]);
      for (let chunk = chunks.next(); !chunk.done; chunk = chunks.next()) taken.push(chunk.value);
      expect(Buffer.concat(taken)).toEqual(Buffer.from(expected));
    }
    whole.dispose();
    sharded.dispose();
  });

  it('a remove whose rebuild of one shard fails (TOO_LARGE) changes no shard and no label, and releases what it built (the shards before it had changed, their labels not)', async () => {
    const n = 60;
    const X = { data: Float64Array.from({ length: 2 * n }, (_, i) => (i * 7) % 13), rows: n, cols: 2 };
    const y = Array.from({ length: n }, (_, i) => i % 3);
    const sharded = await shardedFit(X, y, { k: 3 }, 20);
    const whole = await KnnNetwork.fit(X, y, { k: 3 });
    const queries = Array.from({ length: 12 }, (_, i) => [i % 13, (i * 5) % 13]);
    const removed = [1, 2, 25, 26, 27, 41, 59];
    // The third shard's memory refuses every region; the shards before it are rebuilt first.
    const allocate = Kernels.prototype.allocate;
    const seen = new Map<Kernels, number>();
    vi.spyOn(Kernels.prototype, 'allocate').mockImplementation(function (this: Kernels, bytes: number, what?: string) {
      if (!seen.has(this)) seen.set(this, this.allocatedBytes());
      if (seen.size === 3) throw new KnnError('TOO_LARGE', 'no room (test)');
      return allocate.call(this, bytes, what);
    });
    expect(() => sharded.remove(removed)).toThrow(/no room/);
    vi.restoreAllMocks();
    expect(seen.size).toBe(3);
    for (const [kernels, before] of seen) expect(kernels.allocatedBytes()).toBe(before);
    expect(sharded.nSamples).toBe(n);
    for (const net of [sharded, whole]) {
      expect(Array.from(net.kneighbors(queries, 5).indices)).toEqual(Array.from(whole.kneighbors(queries, 5).indices));
      expect(Array.from(net.predictProba(queries))).toEqual(Array.from(whole.predictProba(queries)));
    }
    // And it stays usable: the same remove, with room, gives one network's answers.
    sharded.remove(removed);
    whole.remove(removed);
    expect(Array.from(sharded.kneighbors(queries, 5).indices)).toEqual(Array.from(whole.kneighbors(queries, 5).indices));
    expect(Array.from(sharded.predictProba(queries))).toEqual(Array.from(whole.predictProba(queries)));
    whole.dispose();
    sharded.dispose();
  });

  it('single adds to a sharded classifier and regressor, new classes among them, answer as one network; a call in flight keeps the labels it started with', async () => {
    const n = 60;
    const X = { data: Float64Array.from({ length: 2 * n }, (_, i) => (i * 7) % 13), rows: n, cols: 2 };
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const targets = Array.from({ length: n }, (_, i) => (i * 0.37) % 5);
    const previous = setPoolThreshold(0);
    try {
      for (const [y, task] of [[labels, 'classification'], [targets, 'regression']] as const) {
        const whole = await KnnNetwork.fit(X, y, { k: 3, task, threads: 2 });
        const sharded = await shardedFit(X, y, { k: 3, task, threads: 2 }, 20);
        const queries = Array.from({ length: 9 }, (_, i) => [(i * 3) % 13, (i * 5) % 13]);
        let before: unknown;
        let pending: Promise<unknown> | undefined;
        for (let a = 0; a < 40; a++) {
          // A call started once the adds have given the labels room: the renumbering below must not reach the codes it holds.
          if (a === 10) [before, pending] = [whole.predict(queries), sharded.predictAsync(queries)];
          const row = [[(a * 11) % 13, (a * 3) % 13]];
          // Classes −1 and 3 first appear part-way: the held codes are renumbered then (−1 sorts first, shifting them all).
          const label = task === 'regression' ? [(a * 0.91) % 7] : [a === 17 ? -1 : a === 29 ? 3 : a % 5 === 0 ? 2 : a % 3];
          whole.add(row, label);
          sharded.add(row, label);
        }
        expect(await pending).toEqual(before);
        expect(sharded.nSamples).toBe(n + 40);
        expect(sharded.predict(queries)).toEqual(whole.predict(queries));
        if (task === 'classification') expect(Array.from(sharded.predictProba(queries))).toEqual(Array.from(whole.predictProba(queries)));
        sharded.remove([0, 61, 99]);
        whole.remove([0, 61, 99]);
        expect(sharded.predict(queries)).toEqual(whole.predict(queries));
        whole.dispose();
        sharded.dispose();
      }
    } finally {
      setPoolThreshold(previous);
    }
  });
});
