// Layer 2's stability: the softmax never overflows, never divides by zero, never returns NaN.
import { describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { loadKernels } from '../src/wasm.js';
import { randomData } from './helpers.js';

const LAMBDAS = [0, 1e-3, 1, 1e6, 1e12];

describe('stable temperature softmax', () => {
  it('the kernels’ exp is within 2 ulp of Math.exp, exactly 0 below −708, finite above 709', async () => {
    const { exports } = await loadKernels();
    for (let i = 0; i <= 20000; i++) {
      const x = -745 + (i / 20000) * (709 + 745);
      const expected = Math.exp(x);
      const actual = exports.stableExp(x);
      if (x < -708) expect(actual).toBe(0);
      else expect(Math.abs(actual - expected)).toBeLessThanOrEqual(2 * Number.EPSILON * expected);
    }
    expect(exports.stableExp(0)).toBe(1);
    expect(exports.stableExp(-0)).toBe(1);
    // Beyond 709 the argument is clamped: the largest exponent the scaling can build, finite.
    expect(exports.stableExp(1000)).toBe(exports.stableExp(709));
    expect(Number.isFinite(exports.stableExp(1e300))).toBe(true);
    for (const x of [-708.5, -1e300, -Infinity]) expect(exports.stableExp(x)).toBe(0);
  });

  for (const all of [true, false]) {
    it(`λ = 0, 1e-3, 1, 1e6, 1e12 all give finite probabilities summing to 1 (${all ? "k = 'all', online" : 'k = 7'})`, async () => {
      const { X, y } = randomData(7, 400, 5, { classes: 4, scale: 50 });
      const queries = randomData(8, 50, 5, { scale: 50 }).X;
      for (const lambda of LAMBDAS) {
        const network = await KnnNetwork.fit(X, y, { k: all ? 'all' : 7, weights: 'softmax', lambda });
        const probabilities = network.predictProba(queries);
        for (let r = 0; r < queries.rows; r++) {
          let sum = 0;
          for (let c = 0; c < 4; c++) {
            expect(Number.isFinite(probabilities[r * 4 + c])).toBe(true);
            sum += probabilities[r * 4 + c];
          }
          expect(sum).toBeCloseTo(1, 12);
        }
        network.dispose();
      }
    });
  }

  it('λ = 1e12 gives the exact 1-NN one-hot, and tied nearest points share the weight', async () => {
    const X = [[0, 0], [1, 0], [0, 1], [5, 5], [1, 0]];
    const y = ['a', 'b', 'c', 'd', 'e'];
    const network = await KnnNetwork.fit(X, y, { k: 'all', weights: 'softmax', lambda: 1e12 });
    const oneNearest = await KnnNetwork.fit(X, y, { k: 1 });
    const queries = [[0.1, 0.05], [4, 4.5], [0.9, 0.05]];
    expect(Array.from(network.predictProba(queries).slice(0, 10))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(network.predict(queries)).toEqual(oneNearest.predict(queries));
    // [1, 0] is at distance 0 from both point 1 ('b') and point 4 ('e'): they share.
    expect(Array.from(network.predictProba([[1, 0]]))).toEqual([0, 0.5, 0, 0, 0.5]);
  });

  it('λ = 0 is the uniform vote over every training point (the class frequencies)', async () => {
    const X = [[0], [1], [2], [3]];
    const network = await KnnNetwork.fit(X, ['x', 'x', 'x', 'y'], { k: 'all', weights: 'softmax', lambda: 0 });
    expect(Array.from(network.predictProba([[100]]))).toEqual([0.75, 0.25]);
  });

  it('stays finite when the distances are enormous and λ is huge', async () => {
    const network = await KnnNetwork.fit([[1e150], [-1e150], [0]], [0, 1, 2], { k: 'all', weights: 'softmax', lambda: 1e12 });
    const probabilities = network.predictProba([[9e149], [1]]);
    expect(Array.from(probabilities)).toEqual([1, 0, 0, 0, 0, 1]);
  });
});
