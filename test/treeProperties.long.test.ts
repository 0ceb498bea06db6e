// The pruned search inside KnnNetwork on random problems: for every shape the property tests draw
// (n from 1, d from 1 to 33, grids full of ties, every weighting, regression, every metric), a
// network with algorithm 'tree' and one with 'auto' answer as one with 'brute', bit for bit,
// also after an add and a remove. Fast cases of the same live in treeNetwork.test.ts.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { KnnNetwork, type Metric } from '../src/index.js';
import { KERNEL_BUILDS, onKernelBuild, problemFields, randomData } from './helpers.js';
import { expectSameAnswers } from './treeHelpers.js';

describe.each(KERNEL_BUILDS)('tree and auto equal brute force on random problems (%s build)', (build) => {
  onKernelBuild(build);

  it('kneighbors, radius, predict, predictProba, score; after add and remove', async () => {
    await fc.assert(
      fc.asyncProperty(fc.record({ ...problemFields(6000), metric: fc.constantFrom<Metric>('euclidean', 'manhattan', 'cosine') }), async (p) => {
        const { X, y } = randomData(p.seed, p.n, p.d, { classes: p.classes, grid: p.grid, offset: p.metric === 'cosine' ? 0.5 : 0 });
        const k: number | 'all' = p.all ? 'all' : Math.max(1, Math.min(p.n, Math.ceil(p.kFraction * Math.min(p.n, 40))));
        const labels = p.regression ? y.map((label) => Number(label) / 3) : y;
        const options = { k, weights: p.weights, metric: p.metric, task: p.regression ? ('regression' as const) : ('classification' as const) };
        const queries = randomData(p.seed + 1, 12, p.d, { grid: p.grid, offset: p.metric === 'cosine' ? 0.5 : 0 }).X;
        const brute = await KnnNetwork.fit(X, labels, { ...options, algorithm: 'brute' });
        const tree = await KnnNetwork.fit(X, labels, { ...options, algorithm: 'tree' });
        const auto = await KnnNetwork.fit(X, labels, options);
        try {
          expectSameAnswers(tree, brute, queries, true);
          expectSameAnswers(auto, brute, queries, true);
          const extra = randomData(p.seed + 2, Math.max(1, p.n >> 2), p.d, { classes: p.classes, grid: p.grid, offset: p.metric === 'cosine' ? 0.5 : 0 });
          const extraLabels = p.regression ? extra.y.map((label) => Number(label) / 3) : extra.y;
          for (const net of [brute, tree]) net.add(extra.X, extraLabels);
          expectSameAnswers(tree, brute, queries, true);
          if (brute.nSamples > (typeof k === 'number' ? k : 1) + 1) {
            for (const net of [brute, tree]) net.remove([0, net.nSamples - 1]);
            expectSameAnswers(tree, brute, queries, true);
          }
        } finally {
          for (const net of [brute, tree, auto]) net.dispose();
        }
      }),
      { numRuns: 400, seed: 17 },
    );
  }, 600_000);
});
