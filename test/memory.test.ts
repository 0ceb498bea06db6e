// Memory and lifecycle (issue 4), measured with the allocator's own counters
// (assembly/memory.ts: allocatedBytes, allocatedRegions) rather than RSS alone.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions } from '../src/index.js';
import { DIRECT_SEARCH_FEATURES } from '../src/matrix.js';
import { ReferenceNetwork } from '../src/reference.js';
import { loadKernels } from '../src/wasm.js';
import { maxAbsoluteDifference, randomData } from './helpers.js';

const kernels = await loadKernels();
const allocated = (): number => kernels.allocatedBytes();
const regions = (): number => kernels.exports.allocatedRegions();
const memoryBytes = (): number => kernels.exports.memory.buffer.byteLength;
/** Bytes held by networks, not counting the shared scratch region (kept and reused by design). */
const heldByNetworks = (): number => allocated() - kernels.scratchBytesHeld();
const MiB = 1024 ** 2;

/** Exact bit patterns of a float64 array. */
const bits = (values: Float64Array): number[] => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length * 2));

function answers(net: KnnNetwork | ReferenceNetwork, queries: { data: Float64Array; rows: number; cols: number }, k: number) {
  const regression = net.options.task === 'regression';
  const { indices, distances } = net.kneighbors(queries, k);
  return {
    indices: Array.from(indices),
    distances: bits(distances),
    scores: regression ? bits(net.predict(queries) as Float64Array) : bits(net.predictProba(queries)),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('memory stays flat and every network stays correct', () => {
  it('fit → thousands of calls → dispose, 30 times over, returns to the same allocated bytes, and wasm memory stops growing', async () => {
    const configurations: { options: KnnOptions; regression: boolean }[] = [
      { options: { k: 3 }, regression: false },
      { options: { k: 5, weights: 'distance' }, regression: false },
      { options: { k: 'all', weights: 'softmax', lambda: 2 }, regression: false },
      { options: { k: 4, task: 'regression' }, regression: true },
    ];
    const startBytes = heldByNetworks();
    const startRegions = regions() - (kernels.scratchBytesHeld() > 0 ? 1 : 0);
    const firstAnswers = new Map<number, unknown>();
    const memoryAfterRound: number[] = [];
    for (let round = 0; round < 30; round++) {
      const which = round % configurations.length;
      const { options, regression } = configurations[which];
      const { X, y } = randomData(100 + which, 300, 6, { classes: 4 });
      const labels = regression ? y.map((label) => Number(label) * 1.5 - 2) : y;
      const net = await KnnNetwork.fit(X, labels, options);
      const small = randomData(200 + which, 3, 6).X;
      const batch = randomData(300 + which, 700, 6).X; // three chunks of queries
      for (let call = 0; call < 250; call++) {
        net.predict(small);
        net.kneighbors(small, 1 + (call % 7));
        if (regression) net.score(small, [1, 2, 3]);
        else net.predictProba(small);
        net.forward(small);
      }
      net.predict(batch);
      net.add(randomData(400 + which, 20, 6).X, labels.slice(0, 20)); // frees the old weights, allocates the union's
      const result = answers(net, batch, 5);
      if (!firstAnswers.has(which)) firstAnswers.set(which, result);
      else expect(result, `round ${round} answers as round ${which} did`).toEqual(firstAnswers.get(which));
      net.dispose();
      expect(heldByNetworks(), `bytes held after round ${round}`).toBe(startBytes);
      expect(regions() - (kernels.scratchBytesHeld() > 0 ? 1 : 0), `regions after round ${round}`).toBe(startRegions);
      memoryAfterRound.push(memoryBytes());
    }
    // Freed regions are reused: once every configuration has run twice, the memory never grows.
    expect(memoryAfterRound.slice(8)).toEqual(memoryAfterRound.slice(8).map(() => memoryAfterRound[7]));
    // The one region kept between calls is the shared scratch, and it is bounded.
    expect(kernels.scratchBytesHeld()).toBeLessThanOrEqual(8 * MiB);
  });

  it('a batch of 200 000 queries on 20 000 points does not need memory proportional to q × n', async () => {
    const { X, y } = randomData(7, 20_000, 4, { classes: 5 });
    const net = await KnnNetwork.fit(X, y, { k: 3 });
    const queries = randomData(8, 200_000, 4).X;
    // Record the allocator's peak while the call runs: every allocation goes through Kernels.allocate.
    const allocate = kernels.allocate.bind(kernels);
    let peak = allocated();
    vi.spyOn(kernels, 'allocate').mockImplementation((bytes: number) => {
      const region = allocate(bytes);
      peak = Math.max(peak, allocated());
      return region;
    });
    const before = { allocated: allocated(), memory: memoryBytes(), rss: process.memoryUsage().rss };
    const { indices, distances } = net.kneighbors(queries, 3);
    const after = { allocated: allocated(), memory: memoryBytes(), rss: process.memoryUsage().rss };
    vi.restoreAllMocks();

    // q × n × 8 bytes would be 32 GB; the call may use its chunk's scratch (a few MiB), nothing more.
    expect(peak - before.allocated, 'wasm bytes allocated during the call').toBeLessThanOrEqual(8 * MiB);
    expect(after.memory - before.memory, 'wasm memory growth').toBeLessThanOrEqual(8 * MiB);
    // Outputs are 200 000 × 3 × 12 bytes ≈ 7 MiB; allow the JS heap plenty of slack, far below q × n.
    expect(after.rss - before.rss, 'RSS growth').toBeLessThan(512 * MiB);
    expect(indices).toHaveLength(600_000);

    // The answers are exact, in every chunk: compare rows spread over the batch with the reference.
    const reference = await ReferenceNetwork.fit(X, y, { k: 3 });
    const rows = [0, 1, 255, 256, 257, 99_999, 150_001, 199_999];
    const sample = { data: new Float64Array(rows.flatMap((r) => Array.from(queries.data.subarray(r * 4, r * 4 + 4)))), rows: rows.length, cols: 4 };
    const expected = reference.kneighbors(sample, 3);
    expect(rows.flatMap((r) => Array.from(indices.subarray(r * 3, r * 3 + 3)))).toEqual(Array.from(expected.indices));
    expect(bits(Float64Array.from(rows.flatMap((r) => Array.from(distances.subarray(r * 3, r * 3 + 3)))))).toEqual(bits(expected.distances));
    net.dispose();
  }, 60_000);

  it('a network keeps answering correctly after wasm memory grows under it (another network fitted, or a call that grows scratch)', async () => {
    const small = randomData(11, 50, 3, { classes: 3 });
    const queries = randomData(12, 20, 3).X;
    const first = await KnnNetwork.fit(small.X, small.y, { k: 4, weights: 'distance' });
    const reference = await ReferenceNetwork.fit(small.X, small.y, { k: 4, weights: 'distance' });
    const before = answers(first, queries, 4);
    const weightsBefore = first.weights;
    const bytesBefore = first.toBytes();
    expect(before).toEqual(answers(reference, queries, 4));

    // Fit a network large enough that memory must grow: every view taken before is detached.
    const oldBuffer = kernels.exports.memory.buffer;
    const grown = memoryBytes();
    const big = randomData(13, 150_000, 8, { classes: 3 });
    const second = await KnnNetwork.fit(big.X, big.y, { k: 2 });
    expect(memoryBytes()).toBeGreaterThan(grown + 16 * MiB);
    expect(oldBuffer.byteLength, 'the old buffer was detached').toBe(0);

    expect(answers(first, queries, 4)).toEqual(before);
    const weightsAfter = first.weights;
    for (const name of ['W1', 'b1', 'W3', 'mean'] as const) expect(bits(weightsAfter[name])).toEqual(bits(weightsBefore[name]));
    expect(first.toBytes()).toEqual(bytesBefore);

    // Calls whose scratch allocation grows memory mid-call, then both networks again, interleaved.
    const bigQueries = randomData(14, 3, 8).X;
    const bigReference = await ReferenceNetwork.fit(big.X, big.y, { k: 2 });
    // Whether a scratch allocation grows memory depends on the allocator's slack (it doubles
    // memory when it grows), so make every scratch request grow it: each call then runs after
    // the buffer its earlier views saw was detached.
    const memoryBeforeForward = memoryBytes();
    const scratch = kernels.scratch.bind(kernels);
    const growingScratch = vi.spyOn(kernels, 'scratch').mockImplementation((bytes: number) => {
      const pointer = scratch(bytes);
      kernels.exports.memory.grow(1);
      return pointer;
    });
    const forward = second.forward(randomData(15, 40, 8).X);
    expect(forward.z1).toHaveLength(40 * 150_000);
    expect(growingScratch).toHaveBeenCalled();
    expect(memoryBytes(), 'memory grew inside forward').toBeGreaterThan(memoryBeforeForward);
    expect(answers(first, queries, 4)).toEqual(before);
    expect(answers(second, bigQueries, 2)).toEqual(answers(bigReference, bigQueries, 2));
    first.add(queries, small.y.slice(0, 20));
    reference.add(queries, small.y.slice(0, 20));
    expect(answers(first, queries, 4)).toEqual(answers(reference, queries, 4));
    first.dispose();
    second.dispose();
  }, 60_000);

  it('many networks alive at once, with interleaved calls, adds and disposals, each answer as the reference does', async () => {
    const specs: { n: number; d: number; options: KnnOptions; regression?: boolean; exact: boolean }[] = [
      { n: 40, d: 1, options: { k: 1 }, exact: true },
      { n: 75, d: 2, options: { k: 3 }, exact: true },
      { n: 120, d: 5, options: { k: 7, weights: 'distance' }, exact: true },
      { n: 33, d: 9, options: { k: 'all', weights: 'softmax', lambda: 0.5 }, exact: false },
      { n: 60, d: 3, options: { k: 4, weights: 'softmax', lambda: 4 }, exact: false },
      { n: 90, d: 4, options: { k: 5, task: 'regression' }, regression: true, exact: true },
      { n: 17, d: 16, options: { k: 'all' }, exact: true },
      { n: 300, d: 2, options: { k: 2, weights: 'distance', task: 'regression' }, regression: true, exact: true },
      { n: 8, d: 7, options: { k: 8 }, exact: true },
      { n: 150, d: 6, options: { k: 3 }, exact: true },
    ];
    const pairs = await Promise.all(
      specs.map(async (spec, i) => {
        const { X, y } = randomData(500 + i, spec.n, spec.d, { classes: 2 + (i % 4), grid: i % 3 === 0 ? 4 : 0 });
        const labels = spec.regression ? y.map((label) => Number(label) - 0.25 * i) : y;
        return { spec, i, labels, wasm: await KnnNetwork.fit(X, labels, spec.options), reference: await ReferenceNetwork.fit(X, labels, spec.options) };
      }),
    );
    const check = ({ spec, i, wasm, reference }: (typeof pairs)[number], round: number): void => {
      const queries = randomData(1000 * round + i, 5 + round, spec.d, { grid: i % 3 === 0 ? 4 : 0 }).X;
      const k = Math.min(3, wasm.nSamples);
      const ours = answers(wasm, queries, k);
      const theirs = answers(reference, queries, k);
      expect(ours.indices, `network ${i}, round ${round}`).toEqual(theirs.indices);
      expect(ours.distances, `network ${i}, round ${round}`).toEqual(theirs.distances);
      if (spec.exact) expect(ours.scores, `network ${i}, round ${round}`).toEqual(theirs.scores);
      else {
        const a = new Float64Array(new Uint32Array(ours.scores).buffer);
        const b = new Float64Array(new Uint32Array(theirs.scores).buffer);
        expect(maxAbsoluteDifference(a, b), `network ${i}, round ${round}`).toBeLessThan(1e-12);
      }
    };
    let alive = pairs;
    for (let round = 0; round < 6; round++) {
      for (const pair of alive) check(pair, round);
      // Grow some networks (new regions, old ones freed) and drop others between rounds.
      for (const pair of alive.filter((p) => p.i % 3 === round % 3)) {
        const extra = randomData(7000 + 10 * round + pair.i, 4, pair.spec.d);
        const labels = pair.labels.slice(0, 4);
        pair.wasm.add(extra.X, labels);
        pair.reference.add(extra.X, labels);
      }
      if (round === 2 || round === 4) {
        const [dropped, ...rest] = alive;
        dropped.wasm.dispose();
        expect(() => dropped.wasm.predict([[0]])).toThrow(KnnError);
        alive = rest;
      }
    }
    for (const pair of alive) pair.wasm.dispose();
  });

  it('a fit that would exceed wasm32’s 4 GiB says TOO_LARGE before allocating anything', async () => {
    // Data that claims `length` values and throws if one is read: the size must be refused first.
    const unreadable = (length: number): number[] =>
      new Proxy([] as number[], {
        get: (target, key) => {
          if (key === 'length') return length;
          if (typeof key === 'string' && /^\d+$/.test(key)) throw new Error('a value was read before the size was checked');
          return Reflect.get(target, key);
        },
      });
    const huge = unreadable(2 ** 29);
    const net = await KnnNetwork.fit([[0, 0], [1, 1]], [0, 1]);
    const before = { allocated: allocated(), regions: regions(), memory: memoryBytes() };
    const attempts: (() => Promise<unknown>)[] = [
      () => KnnNetwork.fit({ data: huge, rows: 2 ** 28, cols: 2 }, []),
      () => KnnNetwork.fit({ data: huge, rows: 2 ** 25, cols: 16 }, [], { k: 3 }),
      () => KnnNetwork.fit({ data: huge, rows: 2 ** 29, cols: 1 }, [], { task: 'regression' }),
      // 3.2 GiB as two copies, but d ≤ 16 also keeps X in the direct kernel's panels: 4.8 GiB
      // (with the float32 copy instead, the default at this n: 4.1 GiB).
      () => KnnNetwork.fit({ data: unreadable(12 * 2 ** 24), rows: 2 ** 24, cols: 12 }, [], { float32Candidates: false }),
      () => KnnNetwork.fit({ data: unreadable(12 * 2 ** 24), rows: 2 ** 24, cols: 12 }, []),
      () => KnnNetwork.fit(new Proxy([[1, 2, 3, 4]], { get: (t, key) => (key === 'length' ? 2 ** 27 : Reflect.get(t, key)) }), []),
    ];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('TOO_LARGE');
      expect((error as KnnError).message).toMatch(/X has \d+ rows × \d+ columns.*4 GiB/);
    }
    expect({ allocated: allocated(), regions: regions(), memory: memoryBytes() }).toEqual(before);
    expect(net.predict([[0.9, 0.9]])).toEqual([1]);
    net.dispose();
  });

  it('the size check knows up to how many features the kernels keep a third copy of X', () => {
    expect(kernels.exports.directPanelDimensions()).toBe(DIRECT_SEARCH_FEATURES);
  });

  it('a network dropped without dispose() is freed when it is garbage-collected (FinalizationRegistry)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const networkRegions = (): number => regions() - (kernels.scratchBytesHeld() > 0 ? 1 : 0);
    // First let anything left unreachable earlier in this worker be collected and finalised.
    for (let attempt = 0, last = -1; attempt < 20 && heldByNetworks() !== last; attempt++) {
      last = heldByNetworks();
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const startRegions = networkRegions();
    const startBytes = heldByNetworks();
    // Fit and use networks in a scope that keeps no reference to them.
    const orphanBytes = await (async () => {
      for (let i = 0; i < 5; i++) {
        const { X, y } = randomData(900 + i, 2000, 8);
        const net = await KnnNetwork.fit(X, y, { k: 3 });
        net.predict(randomData(950 + i, 10, 8).X);
      }
      return heldByNetworks() - startBytes;
    })();
    expect(orphanBytes).toBeGreaterThan(5 * 2000 * 8 * 8 * 2);
    expect(networkRegions()).toBeGreaterThan(startRegions);
    // Finalizers run in a task after a collection; on a loaded machine that can take a while.
    for (let attempt = 0; attempt < 100 && heldByNetworks() !== startBytes; attempt++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10 + attempt));
    }
    expect(heldByNetworks(), 'bytes still held by the dropped networks').toBe(startBytes);
    expect(networkRegions()).toBe(startRegions);
  });
});

describe('limits the allocator cannot see', () => {
  it('forward refuses a q × n it could not return with TOO_LARGE, and the network stays usable', async () => {
    const network = await KnnNetwork.fit([[0], [1], [2], [3]], [0, 1, 0, 1]);
    const before = Array.from(network.predictProba([[0.4]]));
    const rows = 2 ** 27; // × 4 points = 2^29 activations per layer
    expect(() => network.forward({ data: new Float64Array(rows), rows, cols: 1 })).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(Array.from(network.predictProba([[0.4]]))).toEqual(before);
  });
});
