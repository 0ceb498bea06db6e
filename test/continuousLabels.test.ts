// A classifier refuses a continuous target, as scikit-learn does; whole numbers stay classes.
import { describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';

const X = [[0], [1], [2], [3]];

describe('numeric class labels', () => {
  for (const [name, Network] of [['KnnNetwork', KnnNetwork], ['ReferenceNetwork', ReferenceNetwork]] as const) {
    it(`${name}: a fraction among them is a BAD_LABEL that says to fit with task 'regression'`, async () => {
      const error = await Network.fit(X, [1, 2, 2.5, 3]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('BAD_LABEL');
      expect((error as KnnError).message).toBe("y[2] is 2.5, not a whole number: numeric class labels must be whole numbers. For a continuous target, fit with { task: 'regression' }.");
      const regressor = await Network.fit(X, [1, 2, 2.5, 3], { task: 'regression' });
      expect(Array.from(regressor.predict([[2]]) as Float64Array)).toEqual([2.5]);
    });

    it(`${name}: whole numbers (also negative, large, or as a Float64Array) stay classes`, async () => {
      const net = await Network.fit(X, new Float64Array([-3, 1e15, 7, 7]));
      expect(net.classes).toEqual([-3, 7, 1e15]);
      expect(net.predict([[1.1]])).toEqual([1e15]);
    });

    it(`${name}: add() refuses a fraction too, leaving the network unchanged`, async () => {
      const net = await Network.fit(X, [1, 2, 2, 3]);
      expect(() => net.add([[4]], [0.5])).toThrow(/y\[0\] is 0\.5, not a whole number/);
      expect(net.nSamples).toBe(4);
    });
  }
});
