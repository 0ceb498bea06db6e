// The Manhattan metric: z1 = Σ_j |x_j − X_ij| summed in dimension order, on the direct-difference
// kernel for every d (layer 1 is not linear: no expansion, no W1). Exact as it goes: the
// neighbours, distances and z1 are the reference's brute force bit for bit.
import { describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnOptions } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { KERNEL_BUILDS, maxAbsoluteDifference, onKernelBuild, randomData } from './helpers.js';

const plain = (values: ArrayLike<number>) => Array.from(values);

describe.each(KERNEL_BUILDS)("metric: 'manhattan' on the %s build", (build) => {
  onKernelBuild(build);

  it('agrees with the reference bit for bit on neighbours, distances, z1 and every vote, for d on both sides of 16', async () => {
    for (const [n, d, grid] of [[1, 1, 0], [40, 3, 3], [500, 17, 0], [1200, 40, 4], [300, 100, 0]]) {
      const { X, y } = randomData(n * 7 + d, n, d, { classes: 3, grid });
      const queries = randomData(n + 3, 11, d, { grid }).X;
      for (const options of [{ k: Math.min(n, 5) }, { k: Math.min(n, 4), weights: 'distance' }, { k: Math.min(n, 6), weights: 'softmax', lambda: 0.7 }] as KnnOptions[]) {
        const all = { ...options, metric: 'manhattan' } as KnnOptions;
        const net = await KnnNetwork.fit(X, y, all);
        const reference = await ReferenceNetwork.fit(X, y, all);
        const k = Math.min(n, 7);
        expect(plain(net.kneighbors(queries, k).indices)).toEqual(plain(reference.kneighbors(queries, k).indices));
        expect(plain(net.kneighbors(queries, k).distances)).toEqual(plain(reference.kneighbors(queries, k).distances));
        if (options.weights === 'softmax') expect(maxAbsoluteDifference(net.predictProba(queries), reference.predictProba(queries))).toBeLessThan(1e-12);
        else expect(plain(net.predictProba(queries))).toEqual(plain(reference.predictProba(queries)));
        expect(plain(net.forward(queries).z1)).toEqual(plain(reference.forward(queries).z1));
        const radius = 0.8 * d;
        expect(net.radiusNeighbors(queries, radius)).toEqual(reference.radiusNeighbors(queries, radius));
        net.dispose();
      }
    }
  });

  it('reports Σ|x − X_i| itself, and its weights are X with no centre', async () => {
    const net = await KnnNetwork.fit([[0, 0], [3, -4], [1, 1]], ['a', 'b', 'c'], { metric: 'manhattan', k: 3 });
    const { indices, distances } = net.kneighbors([[1, 0]]);
    expect(plain(indices)).toEqual([0, 2, 1]);
    expect(plain(distances)).toEqual([1, 1, 6]);
    expect(plain(net.forward([[1, 0]]).z1)).toEqual([1, 6, 1]);
    const { W1, b1, mean } = net.weights;
    expect(plain(W1)).toEqual([0, 0, 3, -4, 1, 1]);
    expect(plain(b1)).toEqual([0, 0, 0]);
    expect(plain(mean)).toEqual([0, 0]);
    net.dispose();
  });

  it("the softmax over all points and regression run on it too, and a saved, added-to network answers as a fit", async () => {
    const { X, y } = randomData(11, 400, 24, { classes: 4 });
    const queries = randomData(12, 9, 24).X;
    const soft = { k: 'all', weights: 'softmax', lambda: 0.3, metric: 'manhattan' } as const;
    const net = await KnnNetwork.fit(X, y, soft);
    expect(maxAbsoluteDifference(net.predictProba(queries), (await ReferenceNetwork.fit(X, y, soft)).predictProba(queries))).toBeLessThan(1e-12);
    const targets = y.map((label, i) => Number(label) + i / 400);
    const regression = { k: 5, task: 'regression', weights: 'distance', metric: 'manhattan' } as const;
    const grown = await KnnNetwork.fit({ data: X.data.subarray(0, 100 * 24), rows: 100, cols: 24 }, targets.slice(0, 100), regression);
    for (let i = 100; i < 400; i += 30) grown.add({ data: X.data.subarray(i * 24, Math.min(400, i + 30) * 24), rows: Math.min(400, i + 30) - i, cols: 24 }, targets.slice(i, i + 30));
    const whole = await KnnNetwork.fit(X, targets, regression);
    expect(plain(grown.predict(queries) as Float64Array)).toEqual(plain(whole.predict(queries) as Float64Array));
    expect(plain(grown.predict(queries) as Float64Array)).toEqual(plain((await ReferenceNetwork.fit(X, targets, regression)).predict(queries) as Float64Array));
    const loaded = await KnnNetwork.fromBytes(grown.toBytes());
    expect(loaded.options.metric).toBe('manhattan');
    expect(plain(loaded.predict(queries) as Float64Array)).toEqual(plain(whole.predict(queries) as Float64Array));
    for (const network of [net, grown, whole, loaded]) network.dispose();
  });

  it('stays exact where the expansion would lose every digit: a 1e8 offset and clusters at ±1e7', async () => {
    const offset = randomData(13, 600, 30, { offset: 1e8 });
    const clusters = randomData(14, 600, 30);
    for (let i = 0; i < clusters.X.data.length; i++) clusters.X.data[i] += Math.floor(i / 30) % 2 ? 1e7 : -1e7;
    for (const { X, y } of [offset, clusters]) {
      const net = await KnnNetwork.fit(X, y, { k: 5, metric: 'manhattan' });
      const reference = await ReferenceNetwork.fit(X, y, { k: 5, metric: 'manhattan' });
      const queries = { data: X.data.slice(0, 20 * 30).map((value, i) => value + (i % 7) * 1e-3), rows: 20, cols: 30 };
      expect(net.kneighbors(queries)).toEqual(reference.kneighbors(queries));
      net.dispose();
    }
  });
});
