// Property tests: the wasm network and the pure-JS reference give the same answers on random
// shapes, options and data — including d = 1, d not a multiple of the SIMD width, n = 1,
// k = n, and data snapped to a coarse grid so that duplicates and distance ties abound. Each
// kernel build the engine runs (plain SIMD, relaxed SIMD) is checked.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KnnOptions } from '../src/index.js';
import { fitBoth, KERNEL_BUILDS, maxAbsoluteDifference, onKernelBuild, problemFields, randomData } from './helpers.js';

const shape = fc.record({
  ...problemFields(400),
  q: fc.integer({ min: 1, max: 9 }),
  lambda: fc.constantFrom(0, 1e-3, 0.5, 1, 30, 1e6, 1e12),
  metric: fc.constantFrom('euclidean' as const, 'cosine' as const, 'manhattan' as const),
});

describe.each(KERNEL_BUILDS)('the wasm network agrees with the reference (%s build)', (build) => {
  onKernelBuild(build);

  it('on neighbours (indices and distances bit-for-bit) and on every output', async () => {
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        // Grid data moves off 0 for cosine, where a zero vector has no direction (a KnnError).
        const offset = s.metric === 'cosine' && s.grid ? 1 : 0;
        const train = randomData(s.seed, s.n, s.d, { classes: s.classes, grid: s.grid, offset });
        const test = randomData(s.seed + 1, s.q, s.d, { grid: s.grid, offset });
        const k = Math.max(1, Math.ceil(s.kFraction * s.n));
        const options: KnnOptions = {
          k: s.all ? 'all' : k,
          weights: s.weights,
          lambda: s.lambda,
          task: s.regression ? 'regression' : 'classification',
          metric: s.metric,
        };
        const y = s.regression ? train.y.map((label, i) => Number(label) * 1.5 + i * 0.01) : train.y;
        const { wasm, reference } = await fitBoth(train.X, y, options);
        try {
          const ours = wasm.kneighbors(test.X, k);
          const theirs = reference.kneighbors(test.X, k);
          expect(Array.from(ours.indices)).toEqual(Array.from(theirs.indices));
          expect(Array.from(ours.distances)).toEqual(Array.from(theirs.distances));
          const predicted = wasm.predict(test.X);
          const expected = reference.predict(test.X);
          const softOnAll = s.all && s.weights === 'softmax';
          if (s.weights === 'softmax') {
            // exp differs from Math.exp by an ulp or so; the online softmax over all points
            // also sees layer 1 through the expansion (error ≪ 1e-12 on this data).
            const tolerance = softOnAll ? 1e-9 * Math.max(1, s.lambda) : 1e-12;
            if (s.regression) expect(maxAbsoluteDifference(predicted as Float64Array, expected as Float64Array)).toBeLessThan(tolerance * 10);
            else expect(maxAbsoluteDifference(wasm.predictProba(test.X), reference.predictProba(test.X))).toBeLessThan(tolerance);
          } else if (s.regression) {
            expect(Array.from(predicted as Float64Array)).toEqual(Array.from(expected as Float64Array));
          } else {
            expect(predicted).toEqual(expected);
            expect(Array.from(wasm.predictProba(test.X))).toEqual(Array.from(reference.predictProba(test.X)));
          }
        } finally {
          wasm.dispose();
        }
      }),
      { numRuns: 1500 },
    );
  }, 120_000);

  it('on larger problems where the expansion selects candidates (n ≫ k) and queries come in chunks', async () => {
    for (const [seed, n, d, q, k, grid] of [
      [1, 3000, 64, 300, 5, 0],
      [2, 2000, 3, 700, 1, 0],
      [3, 1500, 5, 257, 10, 4],
      [4, 4096, 17, 64, 31, 0],
      [5, 1000, 2, 100, 7, 3],
    ]) {
      const train = randomData(seed, n, d, { classes: 10, grid });
      const test = randomData(seed + 100, q, d, { grid });
      const { wasm, reference } = await fitBoth(train.X, train.y, { k });
      const ours = wasm.kneighbors(test.X);
      const theirs = reference.kneighbors(test.X);
      expect(Array.from(ours.indices)).toEqual(Array.from(theirs.indices));
      expect(Array.from(ours.distances)).toEqual(Array.from(theirs.distances));
      expect(Array.from(wasm.predictProba(test.X))).toEqual(Array.from(reference.predictProba(test.X)));
      wasm.dispose();
    }
  }, 120_000);
});
