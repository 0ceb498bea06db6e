// The public API of DESIGN.md §3, end to end.
import { describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { expectSoftmaxWithinBound, fitBoth, maxAbsoluteDifference, randomData } from './helpers.js';

describe('KnnNetwork API', () => {
  it('accepts number[][] and { data, rows, cols } alike, and string or number labels', async () => {
    const rows = [[0, 0], [0, 1], [5, 5], [5, 6]];
    const flat = { data: [0, 0, 0, 1, 5, 5, 5, 6], rows: 4, cols: 2 };
    const a = await KnnNetwork.fit(rows, ['cat', 'cat', 'dog', 'dog']);
    const b = await KnnNetwork.fit(flat, [10, 10, 2, 2]);
    expect(a.predict([[4, 4], [1, 0]])).toEqual(['dog', 'cat']);
    expect(b.predict({ data: new Float64Array([4, 4, 1, 0]), rows: 2, cols: 2 })).toEqual([2, 10]);
    expect(b.classes).toEqual([2, 10]);
    expect(a.nSamples).toBe(4);
    expect(a.nFeatures).toBe(2);
    expect(a.options).toEqual({ k: 1, weights: 'uniform', lambda: 1, task: 'classification', metric: 'euclidean', float32Candidates: true, algorithm: 'auto' });
  });

  it('never modifies the caller’s arrays', async () => {
    const { X, y } = randomData(1, 50, 3);
    const copy = X.data.slice();
    const network = await KnnNetwork.fit(X, y, { k: 3 });
    network.predict(X);
    network.add(X, y);
    expect(Array.from(X.data)).toEqual(Array.from(copy));
  });

  it('forward returns the three layers, consistent with kneighbors and predictProba', async () => {
    for (const options of [{ k: 3 }, { k: 4, weights: 'distance' as const }, { k: 'all' as const, weights: 'softmax' as const, lambda: 2 }]) {
      const { X, y } = randomData(2, 40, 3, { classes: 3 });
      const queries = randomData(3, 6, 3).X;
      const { wasm, reference } = await fitBoth(X, y, options);
      const ours = wasm.forward(queries);
      const theirs = reference.forward(queries);
      expect(ours.z1).toHaveLength(6 * 40);
      expect(maxAbsoluteDifference(ours.z1, theirs.z1)).toBeLessThan(1e-12);
      expect(maxAbsoluteDifference(ours.z2, theirs.z2)).toBeLessThan(1e-12);
      expect(maxAbsoluteDifference(ours.z3, theirs.z3)).toBeLessThan(1e-12);
      expect(Array.from(ours.z3)).toEqual(Array.from(wasm.predictProba(queries)));
      for (let r = 0; r < 6; r++) {
        const row = ours.z2.subarray(r * 40, (r + 1) * 40);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }
    }
  });

  it('weights are W1 = −2(X − μ), b1 = ‖X − μ‖², the one-hot W3 and μ, as the reference computes them', async () => {
    const { X, y } = randomData(4, 19, 5, { classes: 3 });
    const { wasm, reference } = await fitBoth(X, y, { k: 2 });
    const ours = wasm.weights;
    const theirs = reference.weights;
    for (const name of ['W1', 'b1', 'W3', 'mean'] as const) expect(Array.from(ours[name])).toEqual(Array.from(theirs[name]));
    expect(ours.W1).toHaveLength(19 * 5);
    expect(ours.W3).toHaveLength(19 * wasm.classes.length);
  });

  it('regression predicts the weighted mean of the targets and scores R²', async () => {
    const X = [[0], [1], [2], [3], [4]];
    const y = [0, 10, 20, 30, 40];
    const network = await KnnNetwork.fit(X, y, { k: 2, task: 'regression' });
    expect(Array.from(network.predict([[0.4], [3.9]]) as Float64Array)).toEqual([5, 35]);
    expect(network.score(X, y)).toBeCloseTo(1 - (25 * 5) / 1000, 12);
    // @ts-expect-error a regressor has no classes: predictProba does not type-check on it
    expect(() => network.predictProba(X)).toThrow(KnnError);
  });

  it("'distance' weights: a query on a training point votes only with the points it coincides with", async () => {
    const network = await KnnNetwork.fit([[0], [0], [1], [1.5]], ['a', 'b', 'c', 'c'], { k: 4, weights: 'distance' });
    expect(Array.from(network.predictProba([[0]]))).toEqual([0.5, 0.5, 0]);
  });

  it('score is the accuracy; add appends points and answers as a network fitted on the union', async () => {
    const first = randomData(5, 60, 4, { classes: 3 });
    const second = randomData(6, 25, 4, { classes: 4 });
    const queries = randomData(7, 30, 4).X;
    for (const options of [{ k: 5 }, { k: 'all' as const, weights: 'softmax' as const, lambda: 3 }]) {
      const grown = await KnnNetwork.fit(first.X, first.y, options);
      grown.add(second.X, second.y);
      const union = { data: new Float64Array([...first.X.data, ...second.X.data]), rows: 85, cols: 4 };
      const whole = await KnnNetwork.fit(union, [...first.y, ...second.y], options);
      expect(grown.nSamples).toBe(85);
      expect(grown.classes).toEqual([0, 1, 2, 3]);
      // The softmax over every point reads z1 about the centre an add keeps: within the expansion's bound of a fresh fit.
      if (options.k === 'all') expectSoftmaxWithinBound(grown, whole, queries);
      else expect(Array.from(grown.predictProba(queries))).toEqual(Array.from(whole.predictProba(queries)));
      expect(grown.score(first.X, first.y)).toBe(whole.score(first.X, first.y));
    }
  });

  it('toBytes/fromBytes round-trips bit-for-bit, for both implementations', async () => {
    const { X, y } = randomData(8, 70, 6, { classes: 4 });
    const queries = randomData(9, 20, 6).X;
    for (const options of [{ k: 3, weights: 'distance' as const }, { k: 'all' as const, weights: 'softmax' as const, lambda: 0.7 }, { k: 4, task: 'regression' as const }]) {
      const network = await KnnNetwork.fit(X, y, options);
      const loaded = await KnnNetwork.fromBytes(network.toBytes());
      const referenceLoaded = await ReferenceNetwork.fromBytes(network.toBytes());
      expect(loaded.options).toEqual(network.options);
      expect(Array.from(loaded.forward(queries).z3)).toEqual(Array.from(network.forward(queries).z3));
      expect(loaded.predict(queries)).toEqual(network.predict(queries));
      expect(referenceLoaded.nSamples).toBe(70);
    }
  });

  it('dispose frees the network; later calls throw DISPOSED; dispose twice is harmless', async () => {
    const network = await KnnNetwork.fit([[0], [1]], [0, 1]);
    network.dispose();
    network.dispose();
    expect(() => network.predict([[0]])).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    expect(() => network.classes).toThrow(KnnError);
  });
});
