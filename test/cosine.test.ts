// The cosine metric: distance 1 − cos between L2-normalised float64 vectors, computed as
// ‖x̂ − X̂_i‖² / 2 on the same layer 1 as Euclidean (W1 = −2·X̂, b1 = ‖X̂‖²), exact in that sense.
import { describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { randomData } from './helpers.js';

const naiveCosineDistance = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < a.length; j++) {
    dot += a[j] * b[j];
    aa += a[j] * a[j];
    bb += b[j] * b[j];
  }
  return 1 - dot / Math.sqrt(aa * bb);
};

describe("metric: 'cosine'", () => {
  it('reports 1 − cos, ranks by it, and agrees with the reference bit for bit on both search paths', async () => {
    for (const d of [2, 16, 64]) {
      const { X, y } = randomData(d, 500, d, { classes: 4 });
      const queries = randomData(d + 1, 20, d).X;
      const options = { k: 7, weights: 'distance' as const, metric: 'cosine' as const };
      const net = await KnnNetwork.fit(X, y, options);
      const reference = await ReferenceNetwork.fit(X, y, options);
      const ours = net.kneighbors(queries);
      const theirs = reference.kneighbors(queries);
      expect(Array.from(ours.indices)).toEqual(Array.from(theirs.indices));
      expect(Array.from(ours.distances)).toEqual(Array.from(theirs.distances));
      expect(Array.from(net.predictProba(queries))).toEqual(Array.from(reference.predictProba(queries)));
      for (let r = 0; r < queries.rows; r++) {
        const query = queries.data.subarray(r * d, (r + 1) * d);
        for (let j = 0; j < 7; j++) {
          const i = ours.indices[r * 7 + j];
          expect(ours.distances[r * 7 + j]).toBeCloseTo(naiveCosineDistance(query, X.data.subarray(i * d, (i + 1) * d)), 12);
        }
      }
      for (const radius of [0.2, 0.6]) {
        expect(net.radiusNeighbors(queries, radius)).toEqual(reference.radiusNeighbors(queries, radius));
      }
      net.dispose();
    }
  });

  it('ignores the length of every vector: scaled rows give the same network, tiny and huge ones included', async () => {
    const X = [[3, 4], [-1, 0.5], [0, 2], [5, -5]];
    const scaled = X.map((row, i) => row.map((value) => value * [1e-200, 2 ** 40, 1e150, 3][i]));
    const base = await KnnNetwork.fit(X, ['a', 'b', 'c', 'd'], { metric: 'cosine', k: 2 });
    const net = await KnnNetwork.fit(scaled, ['a', 'b', 'c', 'd'], { metric: 'cosine', k: 2 });
    const queries = [[1, 1], [-2, 0.1], [1e-300, 3e-300]];
    expect(net.predict(queries)).toEqual(base.predict(queries));
    expect(Array.from(net.kneighbors(queries).indices)).toEqual(Array.from(base.kneighbors(queries).indices));
    for (const value of net.weights.W1) expect(Number.isFinite(value)).toBe(true);
    base.dispose();
    net.dispose();
  });

  it('holds the normalised vectors as its weights: W1 = −2·(X̂ − μ), b1 = ‖X̂ − μ‖², z1 = 2(1 − cos)', async () => {
    const net = await KnnNetwork.fit([[3, 4], [0, 2]], ['a', 'b'], { metric: 'cosine' });
    const mean = [(0.6 + 0) / 2, (0.8 + 1) / 2];
    const { W1, mean: mu } = net.weights;
    expect(Array.from(mu)).toEqual(mean);
    expect(W1[0]).toBeCloseTo(-2 * (0.6 - mean[0]), 15);
    const { z1 } = net.forward([[4, 3]]);
    expect(z1[0]).toBeCloseTo(2 * naiveCosineDistance([4, 3], [3, 4]), 12);
    net.dispose();
  });

  it('rejects a zero vector in training data, added points and queries, and changes nothing', async () => {
    const zero = await KnnNetwork.fit([[0, 0], [1, 1]], ['a', 'b'], { metric: 'cosine' }).then(() => undefined, (error: unknown) => error);
    expect(zero).toBeInstanceOf(KnnError);
    expect((zero as KnnError).code).toBe('BAD_INPUT');
    expect((zero as KnnError).message).toContain('X row 0 is a zero vector');
    const net = await KnnNetwork.fit([[1, 0], [0, 1]], ['a', 'b'], { metric: 'cosine' });
    const before = net.toBytes();
    expect(() => net.predict([[0, 0]])).toThrow(/X row 0 is a zero vector/);
    expect(() => net.add([[1, 1], [0, 0]], ['a', 'b'])).toThrow(/X row 1 is a zero vector/);
    expect(Array.from(net.toBytes())).toEqual(Array.from(before));
    net.dispose();
  });

  it('survives add, remove and save/load bit for bit, and equals a fresh fit on the same points', async () => {
    const { X, y } = randomData(5, 120, 24, { classes: 3 });
    const queries = randomData(6, 15, 24).X;
    const options = { k: 5, metric: 'cosine' as const, weights: 'softmax' as const, lambda: 4 };
    const head = { data: X.data.subarray(0, 100 * 24), rows: 100, cols: 24 };
    const tail = { data: X.data.subarray(100 * 24), rows: 20, cols: 24 };
    const grown = await KnnNetwork.fit(head, y.slice(0, 100), options);
    grown.add(tail, y.slice(100));
    const whole = await KnnNetwork.fit(X, y, options);
    expect(Array.from(grown.predictProba(queries))).toEqual(Array.from(whole.predictProba(queries)));
    const loaded = await KnnNetwork.fromBytes(grown.toBytes());
    expect(loaded.options.metric).toBe('cosine');
    expect(Array.from(loaded.predictProba(queries))).toEqual(Array.from(whole.predictProba(queries)));
    expect(Array.from(loaded.toBytes())).toEqual(Array.from(whole.toBytes()));
    for (const net of [grown, whole, loaded]) net.dispose();
  });
});
