// 'distance' votes are 1/dist, taken as dist_nearest/dist: the same votes once normalised, each
// in (0, 1], so a subnormal distance or a large regression target never makes NaN or Infinity.
import { describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';

describe("'distance' weights at the edges of float64", () => {
  it('subnormal distances give finite probabilities that sum to 1, on every metric, as the reference does', async () => {
    const cases = [
      { X: [[1e-310], [3e-310], [1]], metric: 'manhattan' as const },
      { X: [[1, 1e-160], [1, -3e-160], [0, 1]], metric: 'cosine' as const },
      { X: [[1e-310], [3e-310], [1]], metric: 'euclidean' as const },
    ];
    for (const { X, metric } of cases) {
      const query = [metric === 'cosine' ? [1, 0] : [0]];
      const options = { metric, k: 2, weights: 'distance' as const };
      const net = await KnnNetwork.fit(X, ['a', 'b', 'b'], options);
      const proba = net.predictProba(query);
      for (const p of proba) expect(Number.isFinite(p)).toBe(true);
      expect(proba[0] + proba[1]).toBeCloseTo(1, 12);
      expect(Array.from(proba)).toEqual(Array.from((await ReferenceNetwork.fit(X, ['a', 'b', 'b'], options)).predictProba(query)));
      net.dispose();
    }
  });

  it('large regression targets within the accepted bound give finite weighted means', async () => {
    for (const metric of ['euclidean', 'cosine', 'manhattan'] as const) {
      const X = metric === 'cosine' ? [[1, 1e-9], [1, 2e-9], [0, 1]] : [[1e-9], [2e-9], [1]];
      const options = { metric, k: 2, weights: 'distance' as const, task: 'regression' as const };
      const net = await KnnNetwork.fit(X, [1e300, 1e300, 0], options);
      const query = metric === 'cosine' ? [[1, 0]] : [[0]];
      expect(Array.from(net.predict(query) as Float64Array)).toEqual([1e300]);
      expect(Array.from(net.predict(query) as Float64Array)).toEqual(Array.from((await ReferenceNetwork.fit(X, [1e300, 1e300, 0], options)).predict(query) as Float64Array));
      net.dispose();
    }
  });
});
