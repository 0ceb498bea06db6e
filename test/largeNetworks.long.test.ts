// Networks of millions of points: past 2 GiB of wasm memory every address and byte count stays
// unsigned, regions over 1 GiB are served, and the regions of networks dropped without
// dispose() are reclaimed before memory runs out; forward refuses a 1 GiB input whose answer it
// could not return. Each test really uses gigabytes of memory (wasm32 addresses 4 GiB), so this
// file runs in its own worker, one test at a time, in the long suite.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KnnError, KnnNetwork } from '../src/index.js';
import { loadKernels } from '../src/wasm.js';
import { bits, bruteForceNeighbours } from './helpers.js';

const kernels = await loadKernels();
const GiB = 1024 ** 3;
const TIMEOUT = 300_000;

/** Values in [0, 1) from a linear congruential generator: cheap for hundreds of millions. */
function fill(values: Float64Array, seed: number): Float64Array {
  let state = seed | 0;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
    values[i] = (state >>> 8) / 16777216;
  }
  return values;
}

/** Exact bit patterns of a float64 array. */

/** Queries near training rows (and one far from all), so some neighbours are close. */
function queriesNear(data: Float64Array | Float32Array, d: number, rows: number[]): Float64Array {
  const queries = new Float64Array((rows.length + 1) * d);
  rows.forEach((row, r) => {
    for (let j = 0; j < d; j++) queries[r * d + j] = data[row * d + j] + (j % 2 ? 1e-3 : -1e-3);
  });
  queries.fill(0.5, rows.length * d);
  return queries;
}

/** Checks kneighbors against brute force for queries near `queryRows`; returns the neighbours' indices. */
function expectExactNeighbours(net: KnnNetwork, data: Float64Array | Float32Array, n: number, d: number, queryRows: number[], k: number): number[] {
  const queries = queriesNear(data, d, queryRows);
  const ours = net.kneighbors({ data: queries, rows: queries.length / d, cols: d }, k);
  const expected = bruteForceNeighbours(data, n, d, queries, k);
  expect(Array.from(ours.indices)).toEqual(expected.indices);
  expect(bits(ours.distances)).toEqual(bits(expected.distances));
  return expected.indices;
}

/** Bytes and regions held by networks: the shared scratch region, kept and reused by design, aside. */
const counters = (): { bytes: number; regions: number } => ({
  bytes: kernels.allocatedBytes() - kernels.scratchBytesHeld(),
  regions: kernels.exports.allocatedRegions() - (kernels.scratchBytesHeld() > 0 ? 1 : 0),
});
/** Class labels 0, 1, …, classes − 1, 0, 1, … */
function cyclic(n: number, classes: number): Int32Array {
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % classes;
  return labels;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('networks past 2 GiB of wasm memory', () => {
  it('float32 storage: 1 000 000 × 768 float32 values (3.07 GB) fit in one wasm memory at most 1.15× their bytes, and answer as brute force on them widened', async () => {
    const [n, d] = [1_000_000, 768];
    const data = new Float32Array(n * d);
    let state = 7;
    for (let i = 0; i < data.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) | 0;
      data[i] = (state >>> 8) / 16777216;
    }
    const before = counters();
    const net = await KnnNetwork.fit({ data, rows: n, cols: d }, null);
    expect(net.storage).toBe('float32');
    // X's float32 panels, b1 and the candidates' norms, μ: 4·d + 16 bytes a point.
    expect(counters().bytes - before.bytes).toBe(n * (4 * d + 16) + d * 8);
    // The file's first test: the memory has grown for this network alone (it never shrinks).
    expect(kernels.exports.memory.buffer.byteLength).toBeLessThanOrEqual(1.15 * n * d * 4);
    expectExactNeighbours(net, data, n, d, [3, 999_999], 5);
    net.dispose();
    expect(counters()).toEqual(before);
  }, TIMEOUT);

  it('n = 10 000 000 × d = 10 fits, predicts and finds exact neighbours; allocatedBytes stays exact and positive', async () => {
    const [n, d] = [10_000_000, 10];
    const data = fill(new Float64Array(n * d), 1);
    const targets = fill(new Float64Array(n), 7);
    const before = counters();
    // Brute force's layout, whose bytes are counted below (the partition beside it: treeNetwork tests).
    const net = await KnnNetwork.fit({ data, rows: n, cols: d }, targets, { k: 1, task: 'regression', algorithm: 'brute' });
    // X, W1, W1's float32 copy (searched instead of X's panels from 8 features and 3 000
    // points) and its norms, b1, μ, one target per point.
    const held = 2 * n * d * 8 + n * d * 4 + n * 8 + n * 8 + d * 8 + n * 8;
    expect(counters().bytes - before.bytes).toBe(held);
    expect(kernels.allocatedBytes()).toBeGreaterThan(2 * GiB);
    expect(kernels.exports.memory.buffer.byteLength).toBeGreaterThan(2 * GiB);

    const queryRows = [0, 9_999_999];
    const predicted = net.predict({ data: queriesNear(data, d, queryRows), rows: 3, cols: d });
    expect(Array.from(predicted.slice(0, 2))).toEqual(queryRows.map((row) => targets[row]));
    expectExactNeighbours(net, data, n, d, queryRows, 4);
    net.dispose();
    expect(counters()).toEqual(before);
  }, TIMEOUT);

  it('a region over 1 GiB: n = 8 000 000 × d = 17 (X alone is 1.09 GB) fits and answers exactly', async () => {
    const [n, d] = [8_000_000, 17];
    const data = fill(new Float64Array(n * d), 2);
    const targets = fill(new Float64Array(n), 3);
    const before = counters();
    const net = await KnnNetwork.fit({ data, rows: n, cols: d }, targets, { k: 3, task: 'regression' });
    expect(n * d * 8).toBeGreaterThan(GiB);
    // X, W1, W1's float32 copy and its norms, b1, μ, targets.
    expect(counters().bytes - before.bytes).toBe(2 * n * d * 8 + n * d * 4 + n * 8 + n * 8 + d * 8 + n * 8);

    const queryRows = [1, 7_654_321];
    const indices = expectExactNeighbours(net, data, n, d, queryRows, 3);
    const predicted = net.predict({ data: queriesNear(data, d, queryRows), rows: 3, cols: d }) as Float64Array;
    for (let r = 0; r < 3; r++) {
      const mean = (targets[indices[3 * r]] + targets[indices[3 * r + 1]] + targets[indices[3 * r + 2]]) / 3;
      expect(predicted[r]).toBeCloseTo(mean, 12);
    }
    net.dispose();
    expect(counters()).toEqual(before);
  }, TIMEOUT);

  it('twelve networks of 1 000 000 × 10 live at once and each answers exactly; a fit that no longer fits is TOO_LARGE, names undisposed networks and leaks nothing', async () => {
    const [n, d] = [1_000_000, 10];
    const base = counters();
    const networks: { net: KnnNetwork; data: Float64Array }[] = [];
    for (let i = 0; i < 12; i++) {
      const data = fill(new Float64Array(n * d), 100 + i);
      // Without the float32 copy: X, W1 and X's panels, the layout the sizes below are worked out for.
      networks.push({ net: await KnnNetwork.fit({ data, rows: n, cols: d }, cyclic(n, 4), { k: 3, float32Candidates: false, algorithm: 'brute' }), data });
    }
    expect(kernels.allocatedBytes()).toBeGreaterThan(2.5 * GiB);
    for (const [i, { net, data }] of networks.entries()) {
      expectExactNeighbours(net, data, n, d, [i, n - 1 - i], 3);
    }

    // 8 000 000 × 17 needs 2.27 GB more: refused, with the room check's reason.
    const big = { data: fill(new Float64Array(8_000_000 * 17), 4), rows: 8_000_000, cols: 17 };
    const before = counters();
    const bigTargets = new Float64Array(big.rows);
    const error = await KnnNetwork.fit(big, bigTargets, { task: 'regression', float32Candidates: false, algorithm: 'brute' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnnError);
    expect((error as KnnError).code).toBe('TOO_LARGE');
    expect((error as KnnError).message).toMatch(/needs \d+ MiB of wasm memory; only \d+ MiB of wasm32's 4 GiB are free\. Networks not yet disposed hold 2884 MiB: call dispose\(\)/);
    expect(counters()).toEqual(before);

    // With every other network disposed the room check passes, but the free space is in holes
    // of 252 MB: the second 1.09 GB region cannot be placed, and the first is given back.
    for (const { net } of networks.filter((_, i) => i % 2 === 1)) net.dispose();
    const fragmented = counters();
    let placed = 0;
    const allocate = kernels.exports.allocate;
    vi.spyOn(kernels.exports, 'allocate').mockImplementation((bytes: number) => {
      const pointer = allocate(bytes);
      if (pointer !== 0) placed++;
      return pointer;
    });
    const refused = await KnnNetwork.fit(big, bigTargets, { task: 'regression', float32Candidates: false, algorithm: 'brute' }).catch((e: unknown) => e);
    expect((refused as KnnError).code).toBe('TOO_LARGE');
    expect((refused as KnnError).message).toMatch(/needs a region of 1038 MiB of wasm memory; \d+ MiB of wasm32's 4 GiB are free but not in one piece/);
    expect(placed, 'regions placed before the refusal').toBeGreaterThan(0);
    expect(counters()).toEqual(fragmented);

    for (const [i, { net, data }] of networks.entries()) if (i % 2 === 0) expectExactNeighbours(net, data, n, d, [i], 3);
    for (const { net } of networks) net.dispose();
    expect(counters()).toEqual(base);
  }, TIMEOUT);

  it('the regions of networks dropped without dispose() and already collected are reclaimed, synchronously, before TOO_LARGE', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const base = counters();
    const data = fill(new Float64Array(8_000_000 * 17), 6);
    // A 2.24 GB network, used, then held only through `holder` across the end of this task:
    // objects created during a task stay alive until it ends, whatever references them.
    const holder: { net?: KnnNetwork } = {};
    await (async () => {
      const points = fill(new Float64Array(10_000_000 * 10), 5);
      holder.net = await KnnNetwork.fit({ data: points, rows: 10_000_000, cols: 10 }, new Float64Array(10_000_000), { task: 'regression', algorithm: 'brute' });
      holder.net.predict([[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]]);
    })();
    const dropped = counters().bytes - base.bytes;
    expect(dropped).toBeGreaterThan(2.2e9);
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Drop it and collect it. Its finalizer could run only in a later task: the fit below, in
    // this task, gets its memory only by reclaiming it synchronously.
    holder.net = undefined;
    gc();
    expect(counters().bytes - base.bytes, 'the finalizer has not run yet').toBe(dropped);
    const net = await KnnNetwork.fit({ data, rows: 8_000_000, cols: 17 }, new Float64Array(8_000_000), { k: 2, task: 'regression', algorithm: 'brute' });
    // 2.8 GB: it fits only once the dropped network's 2.24 GB are reclaimed.
    expect(counters().bytes - base.bytes).toBe(2 * 8_000_000 * 17 * 8 + 8_000_000 * 17 * 4 + 8_000_000 * 24 + 17 * 8);
    expectExactNeighbours(net, data, 8_000_000, 17, [3], 2);
    net.dispose();
    expect(counters()).toEqual(base);
  }, TIMEOUT);
});

describe('limits the allocator cannot see', () => {
  it('forward refuses a q × n it could not return with TOO_LARGE, and the network stays usable', async () => {
    const network = await KnnNetwork.fit([[0], [1], [2], [3]], [0, 1, 0, 1]);
    const before = Array.from(network.predictProba([[0.4]]));
    const rows = 2 ** 27; // × 4 points = 2^29 activations per layer
    expect(() => network.forward({ data: new Float64Array(rows), rows, cols: 1 })).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(Array.from(network.predictProba([[0.4]]))).toEqual(before);
  }, 30_000); // a 1 GiB input is copied and checked before its size is refused: seconds on a loaded machine
});
