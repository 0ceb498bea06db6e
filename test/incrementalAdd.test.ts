// add() in amortised O(m·d): points are appended in place to weights with room to grow and
// packed against the held centre; everything is re-packed (and re-centred) only when the room
// doubles. Whatever the sequence of adds, the network answers bit for bit as one fitted on the
// union, on every search path and both kernel builds.
import { describe, expect, it, vi } from 'vitest';
import { KnnNetwork, type KnnOptions, type Label } from '../src/index.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels } from '../src/wasm.js';
import { encodeLabels } from '../src/labels.js';
import { bits, expectSoftmaxWithinBound, KERNEL_BUILDS, onKernelBuild, randomData } from './helpers.js';

type Rows = { data: Float64Array; rows: number; cols: number };

const slice = (X: Rows, from: number, to: number): Rows => ({ data: X.data.slice(from * X.cols, to * X.cols), rows: to - from, cols: X.cols });

/** Everything a network answers that must not depend on how it was built, as exact bits (the softmax over every point: see expectSoftmaxWithinBound). */
function answers(net: KnnNetwork, queries: Rows, radius: number): unknown {
  const regression = net.options.task === 'regression';
  const softmaxOverAll = net.options.k === 'all' && net.options.weights === 'softmax';
  const k = Math.min(net.nSamples, 6);
  const neighbours = net.kneighbors(queries, k);
  const within = net.radiusNeighbors(queries, radius);
  return {
    n: net.nSamples,
    classes: [...net.classes],
    predict: softmaxOverAll ? [] : regression ? bits(net.predict(queries) as Float64Array) : net.predict(queries),
    proba: regression || softmaxOverAll ? [] : bits(net.predictProba(queries)),
    indices: Array.from(neighbours.indices),
    distances: bits(neighbours.distances),
    radius: [Array.from(within.offsets), Array.from(within.indices), bits(within.distances)],
    bytes: Array.from(net.toBytes()),
  };
}

/** Fits on the first `seed` rows, adds the rest in batches of the given sizes (cycled), and compares with a fit on all of it. */
async function expectAddsEqualFit(X: Rows, y: Label[], options: KnnOptions, seed: number, batches: number[], queries: Rows, radius: number): Promise<void> {
  const net = await KnnNetwork.fit(slice(X, 0, seed), y.slice(0, seed), options);
  for (let at = seed, b = 0; at < X.rows; b++) {
    const end = Math.min(X.rows, at + batches[b % batches.length]);
    net.add(slice(X, at, end), y.slice(at, end));
    at = end;
  }
  const whole = await KnnNetwork.fit(X, y, options);
  expect(answers(net, queries, radius)).toEqual(answers(whole, queries, radius));
  if (options.k === 'all' && options.weights === 'softmax') expectSoftmaxWithinBound(net, whole, queries);
  const loaded = await KnnNetwork.fromBytes(net.toBytes());
  expect(answers(loaded, queries, radius)).toEqual(answers(whole, queries, radius));
  for (const network of [net, whole, loaded]) network.dispose();
}

describe.each(KERNEL_BUILDS)('add on the %s build', (build) => {
  onKernelBuild(build);

  it('single adds and batches equal a fit on the union: every mode, both metrics, every search path', async () => {
    const cases: [number, number, KnnOptions, number][] = [
      [300, 3, { k: 5, weights: 'distance' }, 0],
      [400, 24, { k: 3 }, 0],
      [400, 24, { k: 4, float32Candidates: false, weights: 'softmax', lambda: 3 }, 0],
      [300, 40, { k: 5, metric: 'cosine' }, 0],
      [250, 20, { k: 3, task: 'regression', weights: 'distance' }, 0],
      [200, 12, { k: 'all', weights: 'softmax', lambda: 2 }, 0],
      [300, 5, { k: 2 }, 3],
      [300, 18, { k: 7 }, 4],
    ];
    for (const [n, d, options, grid] of cases) {
      const { X, y } = randomData(n * d + grid, n, d, { classes: 4, grid, offset: options.metric === 'cosine' ? 0.5 : 0 });
      const labels: Label[] = options.task === 'regression' ? y.map((label, i) => Number(label) + i / n) : y;
      const queries = randomData(n + 1, 17, d, { grid }).X;
      const radius = Math.sqrt(d) * 0.6;
      const k = typeof options.k === 'number' ? options.k : 1;
      await expectAddsEqualFit(X, labels, options, Math.max(5, k), [1], queries, radius);
      await expectAddsEqualFit(X, labels, options, 40, [1, 7, 30], queries, radius);
    }
  }, 120_000);

  it('new classes that sort before the held ones renumber the held codes', async () => {
    const { X } = randomData(3, 60, 20);
    const y = Array.from({ length: 60 }, (_, i) => ['m', 'n', 'z', 'a', 'b'][Math.min(4, Math.floor(i / 12))]);
    await expectAddsEqualFit(X, y, { k: 3, weights: 'distance' }, 24, [1, 5], randomData(4, 9, 20).X, 3);
  });

  it('a network that grows past 3 000 points changes search path (direct differences to float32 candidates) and still answers as a fit', async () => {
    const { X, y } = randomData(5, 3200, 10, { classes: 3 });
    await expectAddsEqualFit(X, y, { k: 4 }, 2900, [60], randomData(6, 25, 10).X, 1);
  });

  it('points much larger than the float32 copy was scaled for stay exact, and points beyond its range make it be scaled anew', async () => {
    const kernels = await loadKernels();
    for (const [small, large, scaledAnew] of [[1, 1e6, false], [1e-60, 1e60, true]] as const) {
      const { X, y } = randomData(7, 400, 20, { classes: 2, scale: small });
      for (let i = 300; i < 400; i++) for (let j = 0; j < 20; j++) X.data[i * 20 + j] *= large / small;
      const rescales = vi.spyOn(kernels.exports, 'float32Scale');
      // Brute force: a partition would scale a float32 copy of its own at each build.
      await expectAddsEqualFit(X, y, { k: 3, algorithm: 'brute' }, 100, [1, 50], randomData(8, 12, 20, { scale: large }).X, 2 * large);
      // Three fits scale their copy once each; the adds scale it again only for the large points.
      expect(rescales.mock.calls.length > 3, `${small} then ${large}`).toBe(scaledAnew);
      rescales.mockRestore();
    }
  });

  it('an add refused for want of memory while the float32 copy is scaled anew leaves the network unchanged, and later adds to its last panel equal a fit', async () => {
    const kernels = await loadKernels();
    const { X, y } = randomData(11, 120, 20, { classes: 3 });
    const huge = randomData(12, 3, 20, { scale: 1e60 }).X;
    const options: KnnOptions = { k: 3, algorithm: 'brute' };
    // 101 points: room for 200, and the last panel holds 5 of its 8 lanes.
    const net = await KnnNetwork.fit(slice(X, 0, 100), y.slice(0, 100), options);
    net.add(slice(X, 100, 101), y.slice(100, 101));
    const before = net.toBytes();
    // The three large points are packed into lanes 5–7 in place, then need a new scale and so a
    // re-pack, for which (pretend) wasm32 has no room left.
    const room = vi.spyOn(kernels.exports, 'capacityBytes').mockImplementation(() => kernels.allocatedBytes() + 4096);
    const packs = vi.spyOn(kernels.exports, 'packWeights');
    expect(() => net.add(huge, [0, 1, 2])).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    room.mockRestore();
    expect(net.toBytes()).toEqual(before);
    // Those lanes hold padding again (−0 in W1, 0 in b1), as appends to a partly held panel expect.
    const [, , , , packed, norms] = packs.mock.calls[0];
    packs.mockRestore();
    const memory = new Float64Array(kernels.exports.memory.buffer);
    const padding: number[] = [];
    for (let lane = 5; lane < 8; lane++) {
      padding.push(memory[norms / 8 + 96 + lane]);
      for (let j = 0; j < 20; j++) padding.push(memory[(packed + 12 * 20 * 64 + j * 64 + lane * 8) / 8]);
    }
    expect(padding.every((value, i) => Object.is(value, i % 21 === 0 ? 0 : -0))).toBe(true);
    // Single adds into the lanes the refused points took, then past them.
    for (let i = 101; i < 120; i++) net.add(slice(X, i, i + 1), y.slice(i, i + 1));
    const whole = await KnnNetwork.fit(X, y, options);
    const queries = randomData(13, 15, 20).X;
    expect(answers(net, queries, 2)).toEqual(answers(whole, queries, 2));
    net.dispose();
    whole.dispose();
  });
});

describe('add is amortised O(m·d)', () => {
  it.each([{ k: 3 }, { k: 'all', weights: 'softmax', lambda: 0.5 }] as KnnOptions[])('1 000 single adds to a 10-point network (%o) re-pack the weights only as often as the room doubles', async (options) => {
    const kernels = await loadKernels();
    const { X, y } = randomData(9, 1010, 32, { classes: 5 });
    const net = await KnnNetwork.fit(slice(X, 0, 10), y.slice(0, 10), options);
    const repacks = vi.spyOn(kernels.exports, 'computeMean');
    const random = new SeededRandom(1);
    for (let i = 10; i < 1010; i++) {
      net.add(slice(X, i, i + 1), [y[i]]);
      if (random.uniform() < 0.01) expect(Array.from(net.kneighbors(slice(X, i, i + 1), 1).indices)).toEqual([i]);
    }
    // 10 → 20 → 40 → … → 1 280: seven doublings for 1 000 adds.
    expect(repacks.mock.calls.length).toBeLessThanOrEqual(7);
    repacks.mockRestore();
    const whole = await KnnNetwork.fit(X, y, options);
    const queries = randomData(10, 30, 32).X;
    expect(answers(net, queries, 4)).toEqual(answers(whole, queries, 4));
    if (options.k === 'all') expectSoftmaxWithinBound(net, whole, queries);
    net.dispose();
    whole.dispose();
  });
});

describe('add after remove', () => {
  it.each(['float64', 'float32'] as const)('appends in place into the room the weights had (%s storage): no move, no rebuild', async (storage) => {
    const kernels = await loadKernels();
    const { X, y } = randomData(16, 400, 24, { classes: 3 });
    // An add past the fit's 300 gives the weights room for 600; the remove keeps it.
    const net = await KnnNetwork.fit(slice(X, 0, 300), y.slice(0, 300), { k: 3, algorithm: 'brute', storage });
    net.add(slice(X, 300, 301), y.slice(300, 301));
    net.remove([0, 17, 250]);
    // A move to larger regions, or a rebuild, would allocate.
    const before = kernels.allocatedBytes();
    for (let i = 301; i < 400; i++) net.add(slice(X, i, i + 1), y.slice(i, i + 1));
    expect(kernels.allocatedBytes(), 'no region allocated for 99 single adds').toBe(before);
    const keep = Array.from({ length: 400 }, (_, i) => i).filter((i) => i !== 0 && i !== 17 && i !== 250);
    const rows = { data: Float64Array.from(keep.flatMap((i) => Array.from(X.data.subarray(i * 24, (i + 1) * 24)))), rows: keep.length, cols: 24 };
    const whole = await KnnNetwork.fit(rows, keep.map((i) => y[i]), { k: 3, algorithm: 'brute', storage });
    const queries = randomData(17, 20, 24).X;
    expect(answers(net, queries, 4)).toEqual(answers(whole, queries, 4));
    net.dispose();
    whole.dispose();
  });
});

describe('add keeps the partition of the pruned search while it can', () => {
  it('a move of the weights to larger regions keeps a partition that has room, which single adds then fill; the network answers as a fit', async () => {
    const kernels = await loadKernels();
    const { X, y } = randomData(14, 260, 3, { classes: 3 });
    const net = await KnnNetwork.fit(slice(X, 0, 100), y.slice(0, 100), { k: 3, algorithm: 'tree' });
    const builds = vi.spyOn(kernels.exports as unknown as { buildBoxPartition: (points: number, n: number) => void }, 'buildBoxPartition');
    for (let i = 100; i < 260; i++) net.add(slice(X, i, i + 1), y.slice(i, i + 1));
    const sizes = builds.mock.calls.map((call) => call[1]);
    builds.mockRestore();
    // The weights move from room for 200 to room for 400 as the 201st point comes; the partition
    // rebuilt as its tail grew (at 198) was given room for twice its points, and stands.
    expect(sizes).not.toContain(200);
    expect(sizes.length).toBeGreaterThan(0);
    expect(net.searchAlgorithm).toBe('tree');
    const whole = await KnnNetwork.fit(X, y, { k: 3, algorithm: 'tree' });
    const queries = randomData(15, 20, 3).X;
    expect(answers(net, queries, 0.3)).toEqual(answers(whole, queries, 0.3));
    net.dispose();
    whole.dispose();
  });
});

describe('one label, as a single add brings', () => {
  it('is encoded as the general path encodes it (−0 as class 0), and rejected in the same words', () => {
    for (const label of [3, -0, 0, -7, 'b', '', 2 ** 40]) {
      const general = encodeLabels([label, label], 2);
      expect(encodeLabels([label], 1)).toEqual({ classes: general.classes, codes: Int32Array.of(0) });
      expect(Object.is(encodeLabels([label], 1).classes[0], general.classes[0])).toBe(true);
    }
    for (const bad of [NaN, Infinity, 1.5, null, true]) {
      expect(() => encodeLabels([bad], 1)).toThrow(expect.objectContaining({ code: 'BAD_LABEL' }));
    }
  });
});

