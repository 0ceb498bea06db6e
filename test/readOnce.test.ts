// A network reads each input exactly once, synchronously, and owns its copy from then on: input
// changed while fit is pending, a Proxy or getter that answers differently on a second read, or a
// length that changes between reads can never reach the network's weights or a query.
import { describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';

/** An array whose every index read is counted, and whose reads after the first `honest` give NaN. */
function countingArray<T>(values: T[], honest = Infinity): { proxy: T[]; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  let total = 0;
  const proxy = new Proxy(values, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        if (++total > honest) return Number.NaN;
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { proxy, reads };
}

const everyReadOnce = (reads: Map<string, number>, count: number) => {
  expect(reads.size).toBe(count);
  for (const [, times] of reads) expect(times).toBe(1);
};

describe('inputs are read once and owned', () => {
  it('a Float64Array changed while fit is pending does not reach the network', async () => {
    const data = new Float64Array([0, 0, 1, 1, 5, 5]);
    const pending = KnnNetwork.fit({ data, rows: 3, cols: 2 }, ['a', 'b', 'c'], { k: 3, weights: 'distance' });
    data[0] = Number.NaN;
    data[5] = 1e300;
    const net = await pending;
    const { indices, distances } = net.kneighbors([[0, 0]], 3);
    expect(Array.from(indices)).toEqual([0, 1, 2]);
    expect(Array.from(distances)).toEqual([0, Math.SQRT2, Math.hypot(5, 5)]);
    expect(Array.from(net.weights.mean)).toEqual([2, 2]);
    net.dispose();
  });

  it('labels and targets changed while fit is pending do not reach the network', async () => {
    const labels = ['a', 'b', 'c'];
    const pending = KnnNetwork.fit([[0], [1], [2]], labels);
    labels[0] = 'z';
    const net = await pending;
    expect(net.classes).toEqual(['a', 'b', 'c']);
    expect(net.predict([[0]])).toEqual(['a']);
    const targets = new Float64Array([1, 2, 3]);
    const pendingRegressor = KnnNetwork.fit([[0], [1], [2]], targets, { task: 'regression' });
    targets[0] = Number.NaN;
    const regressor = await pendingRegressor;
    expect(Array.from(regressor.predict([[0]]) as Float64Array)).toEqual([1]);
    net.dispose();
    regressor.dispose();
  });

  it('bytes changed while fromBytes is pending do not reach the network', async () => {
    const original = await KnnNetwork.fit([[0, 0], [1, 1], [5, 5]], ['a', 'b', 'c']);
    const bytes = original.toBytes();
    const pending = KnnNetwork.fromBytes(bytes);
    bytes.fill(0);
    const copy = await pending;
    expect(copy.predict([[4, 4], [0.2, 0]])).toEqual(['c', 'a']);
    original.dispose();
    copy.dispose();
  });

  it('a Proxy for { data } is read once per value, so values it changes on a second read never count', async () => {
    const { proxy, reads } = countingArray([0, 0, 1, 1], 4);
    const net = await KnnNetwork.fit({ data: proxy, rows: 2, cols: 2 }, ['a', 'b']);
    everyReadOnce(reads, 4);
    expect(Array.from(net.weights.mean)).toEqual([0.5, 0.5]);
    expect(Array.from(net.kneighbors([[1, 1]], 2).indices)).toEqual([1, 0]);
    net.dispose();
  });

  it('Proxy rows, Proxy values and Proxy labels are each read once, in fit, add and the queries', async () => {
    const rows = countingArray([[0, 0], [1, 1], [4, 4]], 3);
    const labels = countingArray(['a', 'b', 'a'], 3);
    const net = await KnnNetwork.fit(rows.proxy, labels.proxy, { k: 1 });
    everyReadOnce(rows.reads, 3);
    everyReadOnce(labels.reads, 3);
    const added = countingArray([[9, 9]], 1);
    const addedLabels = countingArray(['c'], 1);
    net.add(added.proxy, addedLabels.proxy);
    everyReadOnce(added.reads, 1);
    everyReadOnce(addedLabels.reads, 1);
    expect(net.classes).toEqual(['a', 'b', 'c']);
    const query = countingArray([0.9, 1.2], 2);
    expect(net.predict([query.proxy])).toEqual(['b']);
    everyReadOnce(query.reads, 2);
    const truth = countingArray(['c'], 1);
    expect(net.score([[8, 8]], truth.proxy)).toBe(1);
    everyReadOnce(truth.reads, 1);
    net.dispose();
  });

  it('a filtered query on a partitioned network reads each value once, whether its one-query plan serves it or not', async () => {
    const n = 3000;
    const X = { data: Float64Array.from({ length: 2 * n }, (_, i) => (i * 0.618) % 1), rows: n, cols: 2 };
    const net = await KnnNetwork.fit(X, null, { k: 5, algorithm: 'tree' });
    const many = new Uint8Array(n).fill(1);
    many[0] = 0;
    const few = new Uint8Array(n);
    few[3] = few[9] = 1;
    for (const filter of [many, few]) {
      const vector = countingArray([0.25, 0.5], 2);
      const rows = countingArray([0.25, 0.5], 2);
      const answer = net.kneighbors(vector.proxy, 5, { filter });
      expect(net.kneighbors([rows.proxy], 5, { filter })).toEqual(answer);
      // The plan (most allowed) and the general path (2 allowed: fewer than k) read each value once.
      everyReadOnce(vector.reads, 2);
      everyReadOnce(rows.reads, 2);
      expect(Array.from(answer.indices).filter((index) => index >= 0).every((index) => filter[index] === 1)).toBe(true);
    }
    net.dispose();
  });

  it('a length that changes between reads gives one consistent matrix or a KnnError, never a RangeError', async () => {
    let lengthReads = 0;
    const shrinking = new Proxy([0, 0, 1, 1], {
      get: (target, key, receiver) => (key === 'length' ? (++lengthReads > 1 ? 2 : 4) : Reflect.get(target, key, receiver)),
    });
    const net = await KnnNetwork.fit({ data: shrinking, rows: 2, cols: 2 }, ['a', 'b']);
    expect(lengthReads).toBe(1);
    expect(Array.from(net.weights.mean)).toEqual([0.5, 0.5]);
    // A typed array whose own `length` property lies is read by its real length.
    const lying = new Float64Array([0, 0, 1, 1, 2, 2]);
    Object.defineProperty(lying, 'length', { value: 4 });
    const error = await KnnNetwork.fit({ data: lying, rows: 2, cols: 2 }, ['a', 'b']).then(() => undefined, (e: unknown) => e);
    expect(error).toBeUndefined();
    const growingRow = new Proxy([1, 1], { get: (target, key, receiver) => (key === 'length' ? 3 : Reflect.get(target, key, receiver)) });
    const rejected = await KnnNetwork.fit([[0, 0, 0], growingRow], ['a', 'b']).then(() => undefined, (e: unknown) => e);
    expect(rejected).toBeInstanceOf(KnnError);
    expect((rejected as KnnError).code).toBe('BAD_INPUT');
    expect((rejected as KnnError).message).toContain('X[1][2]');
    net.dispose();
  });

  it('the reference reads each input once too', async () => {
    const { proxy, reads } = countingArray([0, 0, 1, 1], 4);
    const reference = await ReferenceNetwork.fit({ data: proxy, rows: 2, cols: 2 }, ['a', 'b']);
    everyReadOnce(reads, 4);
    expect(reference.predict([[0.9, 0.9]])).toEqual(['b']);
  });
});

describe('regression targets stay summable after add', () => {
  const M = Number.MAX_VALUE;

  it('add refuses points that would make the held targets overflow, and the network is unchanged', async () => {
    for (const Network of [KnnNetwork, ReferenceNetwork]) {
      const net = await Network.fit([[0]], [M / 2], { k: 'all', task: 'regression' });
      const before = Array.from(net.predict([[0]]) as Float64Array);
      let error: unknown;
      try {
        net.add([[1]], [M / 4]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('NON_FINITE');
      expect((error as KnnError).message).toMatch(/add\(X, y\).*target 0.*rescale/);
      expect(net.nSamples).toBe(1);
      expect(Array.from(net.predict([[0]]) as Float64Array)).toEqual(before);
      const copy = await Network.fromBytes(net.toBytes());
      expect(Array.from(copy.predict([[0]]) as Float64Array)).toEqual(before);
    }
  });

  it('targets within the bound of the grown size are still accepted, and every estimate stays finite', async () => {
    const net = await KnnNetwork.fit([[0]], [M / 8], { k: 'all', task: 'regression' });
    net.add([[1]], [M / 8]);
    net.add([[2]], [M / 8]);
    net.add([[3]], [-M / 8]);
    const estimates = net.predict([[0], [1.5], [3]]) as Float64Array;
    for (const value of estimates) expect(Number.isFinite(value)).toBe(true);
    expect(() => net.add([[4]], [0])).toThrow(KnnError);
    const copy = await KnnNetwork.fromBytes(net.toBytes());
    expect(Array.from(copy.predict([[0], [1.5], [3]]) as Float64Array)).toEqual(Array.from(estimates));
    net.dispose();
    copy.dispose();
  });
});
