// The pruned search inside KnnNetwork (options.algorithm, net.searchAlgorithm): networks with
// 'tree', 'brute' and 'auto' answer every selecting call bit for bit the same, on data built to
// break trees, after add/remove sequences, after toBytes/fromBytes, on a pool of two threads and
// on both kernel builds.
import { describe, expect, it, vi } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions, type Metric } from '../src/index.js';
import { TREE_LARGEST_K } from '../src/planner.js';
import { Kernels, loadKernels } from '../src/wasm.js';
import { buildWeights, weightsRegions, withBruteForceLayout, withoutBruteForceLayout, type Weights } from '../src/weights.js';
import { KERNEL_BUILDS, onKernelBuild } from './helpers.js';
import { blobs, duplicated, expectBits, expectSame, expectSameAnswers, flat, grid, labelsFor, queriesFor, uniform, withFarPoint, type Flat } from './treeHelpers.js';

const METRICS: Metric[] = ['euclidean', 'manhattan', 'cosine'];

interface Trap {
  name: string;
  X: Flat;
  queries: Flat;
}

const TRAPS: Trap[] = [
  { name: 'uniform, 2 features', X: uniform(1, 3000, 2), queries: uniform(2, 40, 2) },
  { name: 'a 4-feature grid: thousands of exact ties', X: grid(3, 3000, 4, 4), queries: grid(4, 30, 4, 5) },
  { name: 'duplicates across leaf boundaries', X: duplicated(5, 300, 9, 3), queries: uniform(6, 30, 3) },
  { name: 'all points equal', X: flat(900, 3, () => 1.5), queries: uniform(7, 10, 3, 3) },
  { name: 'one point far away', X: withFarPoint(uniform(8, 2000, 3)), queries: queriesFor(uniform(9, 5, 3), flat(1, 3, () => 1e6)) },
  { name: 'an offset of 1e8', X: uniform(10, 2000, 2, 1, 1e8), queries: uniform(11, 30, 2, 1, 1e8) },
  { name: 'd = 1 on a grid', X: grid(12, 2500, 1, 50), queries: grid(13, 30, 1, 60) },
  { name: 'fewer points than one leaf', X: uniform(14, 21, 2), queries: uniform(15, 12, 2) },
  { name: '24 features in 6 blobs (clusters)', X: blobs(16, 1500, 24, 6), queries: blobs(17, 30, 24, 6) },
];

const MODELS: KnnOptions[] = [
  { k: 5 },
  { k: 3, weights: 'distance' },
  { k: 7, weights: 'softmax', lambda: 3 },
  { k: 4, task: 'regression' },
];

describe.each(KERNEL_BUILDS)('tree, brute and auto answer alike (%s build)', (build) => {
  onKernelBuild(build);

  it.each(TRAPS)('$name', async ({ X, queries }) => {
    for (const metric of METRICS) {
      if (metric === 'cosine' && X.data.every((value) => value === X.data[0])) continue;
      for (const [m, model] of MODELS.entries()) {
        const k = Math.min(X.rows, model.k as number);
        const y = model.task === 'regression' ? Array.from(labelsFor(X.rows, 1000, m), (v) => v / 7) : labelsFor(X.rows, 3, m);
        const options = { ...model, k, metric };
        const brute = await KnnNetwork.fit(X, y, { ...options, algorithm: 'brute' });
        const tree = await KnnNetwork.fit(X, y, { ...options, algorithm: 'tree' });
        const auto = await KnnNetwork.fit(X, y, options);
        try {
          expect(brute.searchAlgorithm).toBe('brute');
          expect(tree.searchAlgorithm).toBe('tree');
          expect(auto.options.algorithm).toBe('auto');
          expectSameAnswers(tree, brute, queries, true);
          expectSameAnswers(auto, brute, queries, true);
        } finally {
          for (const net of [brute, tree, auto]) net.dispose();
        }
      }
    }
  }, 60_000);

  it('networks without labels, and a created network that grows', async () => {
    const X = grid(20, 1200, 3, 6);
    const queries = grid(21, 25, 3, 7);
    const tree = await KnnNetwork.fit(X, null, { k: 6, algorithm: 'tree' });
    const brute = await KnnNetwork.fit(X, null, { k: 6, algorithm: 'brute' });
    expectSameAnswers(tree, brute, queries, false);
    const created = await KnnNetwork.create({ task: 'search', k: 8, algorithm: 'tree' });
    expect(created.searchAlgorithm).toBe('brute');
    created.add({ data: X.data.subarray(0, 5 * 3), rows: 5, cols: 3 });
    expect(created.searchAlgorithm).toBe('tree');
    const fewer = await KnnNetwork.create({ task: 'search', k: 8, algorithm: 'brute' });
    fewer.add({ data: X.data.subarray(0, 5 * 3), rows: 5, cols: 3 });
    // k is a cap: 5 points, rows padded with -1 at Infinity.
    const a = created.kneighbors(queries);
    const b = fewer.kneighbors(queries);
    expectSame(a.indices, b.indices);
    expectBits(a.distances, b.distances);
    for (const net of [tree, brute, created, fewer]) net.dispose();
  }, 60_000);
});

describe('options.algorithm', () => {
  it('is validated, kept as asked, saved by toBytes and chosen again on load', async () => {
    await expect(KnnNetwork.fit([[0], [1]], [0, 1], { algorithm: 'kd_tree' as never })).rejects.toThrow(/options\.algorithm must be one of 'auto', 'brute', 'tree'/);
    await expect(KnnNetwork.fit([[0], [1]], [0, 1], { algorithm: 'kd_tree' as never })).rejects.toBeInstanceOf(KnnError);
    const X = uniform(30, 20_000, 2);
    const y = labelsFor(X.rows, 4, 31);
    const auto = await KnnNetwork.fit(X, y, { k: 5 });
    expect(auto.options.algorithm).toBe('auto');
    expect(auto.searchAlgorithm).toBe('tree');
    const loaded = await KnnNetwork.fromBytes(auto.toBytes());
    expect(loaded.options.algorithm).toBe('auto');
    expect(loaded.searchAlgorithm).toBe('tree');
    expect(loaded.toBytes()).toEqual(auto.toBytes());
    const brute = await KnnNetwork.fit(X, y, { k: 5, algorithm: 'brute' });
    const queries = uniform(32, 50, 2);
    expectSameAnswers(loaded, brute, queries, true);
    // toBytes, weights and forward read the caller's order.
    expect(auto.toBytes().length).toBe(brute.toBytes().length);
    expectBits(auto.weights.W1, brute.weights.W1);
    const few = { data: queries.data.subarray(0, 4), rows: 2, cols: 2 };
    expectBits(auto.forward(few).z2, brute.forward(few).z2);
    // Softmax over every point stays dense; high-dimensional uniform data do not prune.
    const dense = await KnnNetwork.fit(uniform(33, 500, 2), labelsFor(500, 2, 1), { k: 'all', weights: 'softmax', algorithm: 'tree' });
    expect(dense.searchAlgorithm).toBe('brute');
    const wide = await KnnNetwork.fit(uniform(34, 5000, 64), labelsFor(5000, 2, 2), { k: 5 });
    expect(wide.searchAlgorithm).toBe('brute');
    for (const net of [auto, loaded, brute, dense, wide]) net.dispose();
  }, 60_000);

  it("'auto' switches a created network from brute force to the tree as it grows at low d", async () => {
    const X = uniform(40, 24_000, 2);
    const net = await KnnNetwork.create({ task: 'search', k: 5 });
    expect(net.searchAlgorithm).toBe('brute');
    const seen: string[] = [];
    for (let start = 0; start < X.rows; start = Math.min(X.rows, 2 * start + 100)) {
      const end = Math.min(X.rows, 2 * start + 100);
      net.add({ data: X.data.subarray(start * 2, end * 2), rows: end - start, cols: 2 });
      seen.push(net.searchAlgorithm);
    }
    expect(seen[0]).toBe('brute');
    expect(seen[seen.length - 1]).toBe('tree');
    const fresh = await KnnNetwork.fit(X, null, { k: 5, algorithm: 'brute' });
    expectSameAnswers(net, fresh, uniform(41, 40, 2), false);
    net.dispose();
    fresh.dispose();
  }, 60_000);
});

describe("what a network holds while its partition serves", () => {
  it("about a brute-force network's bytes (what only brute force reads is let go), and every answer the same, k past what the partition serves included", async () => {
    const kernels = await loadKernels();
    const X = uniform(50, 60_000, 4);
    const y = labelsFor(X.rows, 3, 51);
    const before = kernels.allocatedBytes();
    const brute = await KnnNetwork.fit(X, y, { k: 5, algorithm: 'brute' });
    const bruteBytes = kernels.allocatedBytes() - before;
    const tree = await KnnNetwork.fit(X, y, { k: 5 });
    const treeBytes = kernels.allocatedBytes() - before - bruteBytes;
    expect(tree.searchAlgorithm).toBe('tree');
    // X's direct-search panels (8·d bytes a point) went; the partition holds X's panels in its own order, and that order.
    expect(treeBytes / bruteBytes).toBeLessThanOrEqual(1.1);
    const queries = uniform(52, 30, 4);
    expectSameAnswers(tree, brute, queries, true);
    for (const k of [TREE_LARGEST_K + 1, 300]) {
      const [a, b] = [tree.kneighbors(queries, k), brute.kneighbors(queries, k)];
      expectSame(a.indices, b.indices);
      expectBits(a.distances, b.distances);
    }
    const filter = Uint8Array.from({ length: X.rows }, (_, i) => (i % 7 === 0 ? 1 : 0));
    expect(tree.kneighbors(queries, 100, { filter })).toEqual(brute.kneighbors(queries, 100, { filter }));
    tree.dispose();
    brute.dispose();
  });

  it('is packed again, bit for bit, when brute force takes over (withBruteForceLayout after withoutBruteForceLayout)', async () => {
    const kernels = await loadKernels();
    for (const [n, d, what] of [[300, 4, 'direct-search panels'], [3000, 24, "W1's float32 copy"]] as const) {
      const X = uniform(53 + d, n, d);
      const held = buildWeights(kernels, X, undefined, true, true, 'float64');
      const bytesOf = (w: Weights) => {
        const regions = w.float32 ? [w.float32.panels, w.float32.norms] : [w.pointPanels!];
        return regions.map((region) => new Uint8Array(kernels.exports.memory.buffer, region.pointer, region.bytes).slice());
      };
      const original = bytesOf(held);
      const { weights: stripped, regions } = withoutBruteForceLayout(held);
      expect(regions.length, what).toBeGreaterThan(0);
      expect([stripped.float32, stripped.pointPanels, stripped.direct]).toEqual([undefined, undefined, false]);
      const restored = withBruteForceLayout(kernels, stripped, true)!;
      expect(restored.weights.direct, what).toBe(held.direct);
      expect(bytesOf(restored.weights), what).toEqual(original);
      expect([restored.weights.float32?.scale, restored.weights.float32?.largestNorm]).toEqual([held.float32?.scale, held.float32?.largestNorm]);
      for (const region of [...weightsRegions(held), ...restored.regions]) kernels.release(region);
    }
  });

  it('comes back when brute force takes over a network that held the partition (a rebuild of it refused for room): X\'s panels packed again, answers as brute force', async () => {
    const kernels = await loadKernels();
    const X = uniform(60, 20_000, 3);
    const y = labelsFor(X.rows, 3, 61);
    const net = await KnnNetwork.create({ k: 5 });
    net.add({ data: X.data.subarray(0, 12_000 * 3), rows: 12_000, cols: 3 }, y.slice(0, 12_000));
    expect(net.searchAlgorithm).toBe('tree');
    // Past the partition's room, the add rebuilds it; refused, brute force answers, with its own layout packed again.
    const allocate = Kernels.prototype.allocate;
    const packs = vi.spyOn(kernels.exports, 'packPoints');
    vi.spyOn(Kernels.prototype, 'allocate').mockImplementation(function (this: Kernels, bytes: number, what?: string) {
      if (what?.startsWith('partitioning') || what?.startsWith('packing')) throw new KnnError('TOO_LARGE', 'no room for the partition (test)');
      return allocate.call(this, bytes, what);
    });
    try {
      net.add({ data: X.data.subarray(12_000 * 3), rows: 8_000, cols: 3 }, y.slice(12_000));
      // X's direct-search panels packed again from the first point (an append packs from its own).
      expect(packs.mock.calls.some((call) => call[4] === 0)).toBe(true);
    } finally {
      vi.restoreAllMocks();
    }
    expect(net.searchAlgorithm).toBe('brute');
    const brute = await KnnNetwork.fit(X, y, { k: 5, algorithm: 'brute' });
    expectSameAnswers(net, brute, uniform(62, 30, 3), true);
    net.dispose();
    brute.dispose();
  });
});
