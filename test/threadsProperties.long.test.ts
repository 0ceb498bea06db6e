// The worker pool on random problems in every mode: async calls split by queries over 2 and 3
// threads answer bit for bit as the sync calls and the reference, on each kernel build. Part of
// the long suite for its time; threads.test.ts keeps the pool's other property runs (few queries
// split by training rows, the softmax over all points) and its other tests in the core suite.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnOptions } from '../src/index.js';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { ReferenceNetwork } from '../src/reference.js';
import { poolOfNetwork } from '../src/workerPool.js';
import { KERNEL_BUILDS, maxAbsoluteDifference, onKernelBuild, problemFields, randomData } from './helpers.js';

// Every call of two or more queries goes to the pool, however small.
let defaultThreshold = 0;
beforeAll(() => {
  defaultThreshold = setPoolThreshold(0);
});
afterAll(() => {
  setPoolThreshold(defaultThreshold);
});

/** Every value of `a` and `b` the same float64 (or the same entries). */
function expectSameBits(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  expect(Array.from(a)).toEqual(Array.from(b));
}

const shape = fc.record({
  ...problemFields(700),
  q: fc.integer({ min: 2, max: 70 }),
  lambda: fc.constantFrom(0, 0.5, 1, 30, 1e12),
  metric: fc.constantFrom('euclidean' as const, 'cosine' as const),
  threads: fc.constantFrom(2, 3),
  float32Candidates: fc.boolean(),
});

describe.each(KERNEL_BUILDS)('async methods on a pool answer as the sync ones and the reference (%s build)', (build) => {
  onKernelBuild(build);

  it('bit for bit, in every mode, for 2 and 3 threads', async () => {
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const offset = s.metric === 'cosine' && s.grid ? 1 : 0;
        const train = randomData(s.seed, s.n, s.d, { classes: s.classes, grid: s.grid, offset });
        const test = randomData(s.seed + 1, s.q, s.d, { classes: s.classes, grid: s.grid, offset });
        const k = Math.max(1, Math.ceil(s.kFraction * s.n));
        const options: KnnOptions = {
          k: s.all ? 'all' : k,
          weights: s.weights,
          lambda: s.lambda,
          task: s.regression ? 'regression' : 'classification',
          metric: s.metric,
          float32Candidates: s.float32Candidates,
        };
        const y = s.regression ? train.y.map((label, i) => Number(label) * 1.5 + i * 0.01) : train.y;
        const net = await KnnNetwork.fit(train.X, y, { ...options, threads: s.threads });
        const reference = await ReferenceNetwork.fit(train.X, y, options);
        try {
          const neighbours = await net.kneighborsAsync(test.X, k);
          const syncNeighbours = net.kneighbors(test.X, k);
          expectSameBits(neighbours.indices, syncNeighbours.indices);
          expectSameBits(neighbours.distances, syncNeighbours.distances);
          // A radius on some query's k-th distance: ties on the boundary included.
          const radius = syncNeighbours.distances[k - 1];
          const within = await net.radiusNeighborsAsync(test.X, radius);
          const syncWithin = net.radiusNeighbors(test.X, radius);
          for (const part of ['offsets', 'indices', 'distances'] as const) expectSameBits(within[part], syncWithin[part]);
          const theirs = reference.kneighbors(test.X, k);
          expectSameBits(neighbours.indices, theirs.indices);
          expectSameBits(neighbours.distances, theirs.distances);
          const predicted = await net.predictAsync(test.X);
          expectSameBits(predicted, net.predict(test.X));
          const truth = s.regression ? Float64Array.from(test.y, Number) : test.y;
          expect(await net.scoreAsync(test.X, truth)).toBe(net.score(test.X, truth));
          if (!s.regression) expectSameBits(await net.predictProbaAsync(test.X), net.predictProba(test.X));
          const expected = reference.predict(test.X);
          if (s.weights === 'softmax') {
            const tolerance = s.all ? 1e-9 * Math.max(1, s.lambda) : 1e-12;
            if (s.regression) expect(maxAbsoluteDifference(predicted as Float64Array, expected as Float64Array)).toBeLessThan(tolerance * 10);
            else expect(maxAbsoluteDifference(await net.predictProbaAsync(test.X), reference.predictProba(test.X))).toBeLessThan(tolerance);
          } else {
            expectSameBits(predicted, expected);
          }
          // The pool answered (not the calling thread).
          expect(poolOfNetwork.get(net)?.startedWorkers().length).toBeGreaterThan(0);
        } finally {
          net.dispose();
        }
      }),
      { numRuns: 100 },
    );
  }, 120_000);
});
