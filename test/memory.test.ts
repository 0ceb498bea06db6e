// Memory and lifecycle, measured with the allocator's own counters (assembly/memory.ts:
// allocatedBytes, allocatedRegions) rather than RSS alone. Networks and inputs of gigabytes are
// tested in largeNetworks.long.test.ts (the long suite).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions } from '../src/index.js';
import { DIRECT_SEARCH_FEATURES } from '../src/planner.js';
import { SeededRandom } from '../src/random.js';
import { ReferenceNetwork } from '../src/reference.js';
import { loadKernels } from '../src/wasm.js';
import { bits, maxAbsoluteDifference, randomData } from './helpers.js';

const kernels = await loadKernels();
const allocated = (): number => kernels.allocatedBytes();
const regions = (): number => kernels.exports.allocatedRegions();
const memoryBytes = (): number => kernels.exports.memory.buffer.byteLength;
/** Bytes held by networks, not counting the shared scratch region (kept and reused by design). */
const heldByNetworks = (): number => allocated() - kernels.scratchBytesHeld();
const MiB = 1024 ** 2;

/** Exact bit patterns of a float64 array. */

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
    // One query per call writes its query and reads its answer through views held between
    // calls: each call here grows memory first, so each must make them again.
    for (let row = 0; row < 5; row++) {
      const query = queries.data.subarray(row * 3, row * 3 + 3);
      const memoryBeforeCall = memoryBytes();
      expect(first.predict(query)).toEqual(reference.predict(query));
      expect(memoryBytes(), 'memory grew inside the one-query call').toBeGreaterThan(memoryBeforeCall);
      expect(first.kneighbors(query, 4)).toEqual(reference.kneighbors(query, 4));
    }
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

  it('a fit past one array’s values, or an add past wasm32’s 4 GiB, says TOO_LARGE before allocating anything', async () => {
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
    // fit keeps a network past one wasm memory in shards, up to one array's 2^32 values (shards.test.ts);
    // add and a first add stay within one memory's 4 GiB.
    const attempts: [() => Promise<unknown>, RegExp][] = [
      [() => KnnNetwork.fit({ data: unreadable(2 ** 33), rows: 2 ** 32, cols: 2 }, []), /X has \d+ rows × \d+ columns.*one array/],
      [() => KnnNetwork.fit({ data: unreadable(2 ** 33), rows: 2 ** 28, cols: 32 }, [], { task: 'regression' }), /X has \d+ rows × \d+ columns.*one array/],
      [() => KnnNetwork.fit(new Proxy([[1, 2, 3, 4]], { get: (t, key) => (key === 'length' ? 2 ** 31 : Reflect.get(t, key)) }), []), /X has \d+ rows × \d+ columns.*one array/],
      [async () => net.add({ data: huge, rows: 2 ** 28, cols: 2 }, []), /X has \d+ rows × \d+ columns.*4 GiB/],
      // 3.2 GiB as two copies, but d ≤ 16 also keeps X in the direct kernel's panels: 4.8 GiB.
      [async () => (await KnnNetwork.create({ float32Candidates: false })).add({ data: unreadable(12 * 2 ** 24), rows: 2 ** 24, cols: 12 }, []), /X has \d+ rows × \d+ columns.*4 GiB/],
    ];
    for (const [attempt, message] of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('TOO_LARGE');
      expect((error as KnnError).message).toMatch(message);
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

describe('the region allocator', () => {
  const { allocate, release } = kernels.exports;
  /** Whether [a, a + aBytes) and [b, b + bBytes) overlap. */
  const overlap = (a: number, aBytes: number, b: number, bBytes: number): boolean => a < b + bBytes && b < a + aBytes;

  it('merges freed neighbours and reuses them without growing memory; regions are 16-byte aligned', () => {
    // Each larger than all memory so far, so no free block holds them: they go at the end, the
    // second right after the first.
    const firstBytes = memoryBytes();
    const secondBytes = firstBytes + 8;
    const first = allocate(firstBytes);
    const second = allocate(secondBytes);
    expect([first % 16, second % 16]).toEqual([0, 0]);
    expect(second).toBeGreaterThanOrEqual(first + firstBytes + 16);
    const memory = memoryBytes();
    const before = { allocated: allocated(), regions: regions() };
    release(first);
    release(second);
    expect({ allocated: allocated(), regions: regions() }).toEqual({ allocated: before.allocated - firstBytes - secondBytes, regions: before.regions - 2 });
    // The two freed neighbours are one block now: from the first region to the second's end.
    const merged = allocate(second + secondBytes - first);
    expect(memoryBytes(), 'no growth').toBe(memory);
    expect(merged).toBe(first);
    release(merged);
  });

  it('steps over pages grown by anything else', () => {
    const first = allocate(64);
    const foreignStart = memoryBytes();
    kernels.exports.memory.grow(2);
    const foreign = new Uint8Array(kernels.exports.memory.buffer, foreignStart, 2 * 65536).fill(7);
    // Regions larger than any free block: the allocator must grow memory past the foreign pages.
    const sizes = [150 * MiB, 16, 3 * MiB];
    const later = sizes.map((bytes) => allocate(bytes));
    expect(foreign.length, 'memory grew since').toBe(0);
    for (const [i, pointer] of later.entries()) {
      expect(overlap(pointer, sizes[i], foreignStart, 2 * 65536)).toBe(false);
      new Uint8Array(kernels.exports.memory.buffer, pointer, sizes[i]).fill(1);
    }
    expect(new Uint8Array(kernels.exports.memory.buffer, foreignStart, 2 * 65536).every((byte) => byte === 7)).toBe(true);
    for (const pointer of [first, ...later]) release(pointer);
  });

  it('random allocations and releases (and foreign growth) never overlap, keep every byte, and count exactly', () => {
    const random = new SeededRandom(41);
    const live = new Map<number, { bytes: number; tag: number }>();
    const before = { allocated: allocated(), regions: regions() };
    const view = (pointer: number, bytes: number): Uint8Array => new Uint8Array(kernels.exports.memory.buffer, pointer, bytes);
    const intact = (pointer: number, { bytes, tag }: { bytes: number; tag: number }): boolean => view(pointer, bytes).every((byte) => byte === tag);
    let expectedBytes = before.allocated;
    for (let step = 0; step < 3000; step++) {
      const roll = random.uniform();
      if (roll < 0.005) kernels.exports.memory.grow(1);
      if (live.size > 0 && roll < 0.45) {
        const pointers = [...live.keys()];
        const pointer = pointers[Math.floor(random.uniform() * pointers.length)];
        const region = live.get(pointer)!;
        expect(intact(pointer, region), `region at ${pointer} intact before its release`).toBe(true);
        release(pointer);
        live.delete(pointer);
        expectedBytes -= region.bytes;
      } else {
        // Mostly small, sometimes up to 2 MiB, sometimes exactly a multiple of 16.
        const bytes = roll > 0.95 ? Math.floor(random.uniform() * 2 * MiB) : roll > 0.9 ? 16 * Math.floor(random.uniform() * 64) : Math.floor(random.uniform() * 3000);
        const pointer = allocate(bytes);
        expect(pointer % 16).toBe(0);
        const tag = 1 + (step % 250);
        view(pointer, bytes).fill(tag);
        live.set(pointer, { bytes, tag });
        expectedBytes += bytes;
      }
      expect(allocated()).toBe(expectedBytes);
      expect(regions()).toBe(before.regions + live.size);
    }
    for (const [pointer, region] of live) expect(intact(pointer, region)).toBe(true);
    for (const pointer of live.keys()) release(pointer);
    expect({ allocated: allocated(), regions: regions() }).toEqual(before);
  });

  it('refuses what wasm32 cannot address with 0, and traps on a release of anything it did not allocate', () => {
    const before = { allocated: allocated(), regions: regions(), memory: memoryBytes() };
    expect(allocate(kernels.exports.capacityBytes() + 1)).toBe(0);
    expect(kernels.exports.capacityBytes()).toBeGreaterThan(4 * 1024 ** 3 - 2 * 65536 - 16 - 1024 ** 2);
    const pointer = allocate(32);
    expect(() => release(pointer + 16)).toThrow(WebAssembly.RuntimeError);
    release(pointer);
    expect(() => release(pointer)).toThrow(WebAssembly.RuntimeError);
    expect({ allocated: allocated(), regions: regions() }).toEqual({ allocated: before.allocated, regions: before.regions });
  });
});

describe('a fit that fails part-way leaves nothing behind', () => {
  it('when an allocation is refused after others succeeded: TOO_LARGE, counters unchanged, other networks usable', async () => {
    const other = await KnnNetwork.fit([[0, 0], [1, 1]], ['a', 'b']);
    const { X, y } = randomData(31, 500, 5);
    const before = { allocated: allocated(), regions: regions() };
    const allocate = kernels.exports.allocate;
    let calls = 0;
    vi.spyOn(kernels.exports, 'allocate').mockImplementation((bytes: number) => (++calls === 3 ? 0 : allocate(bytes)));
    const error = await KnnNetwork.fit(X, y, { k: 3 }).catch((e: unknown) => e);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(error).toBeInstanceOf(KnnError);
    expect((error as KnnError).code).toBe('TOO_LARGE');
    expect((error as KnnError).message).toMatch(
      /^fitting 500 points × 5 features needs a region of \d+ (bytes|KiB) of wasm memory; \d+ MiB of wasm32's 4 GiB are free but not in one piece, or the JavaScript engine refused to grow the memory\. Networks not yet disposed hold \d+ bytes: call dispose\(\) on every network you no longer use/,
    );
    expect({ allocated: allocated(), regions: regions() }).toEqual(before);
    vi.restoreAllMocks();
    expect(other.predict([[0.9, 0.8]])).toEqual(['b']);
    other.dispose();
  });

  it('when a step after the allocations throws: the error passes through, counters unchanged', async () => {
    const { X, y } = randomData(32, 300, 20);
    const before = { allocated: allocated(), regions: regions() };
    vi.spyOn(kernels.exports, 'packWeights').mockImplementation(() => {
      throw new RangeError('simulated failure after allocating');
    });
    await expect(KnnNetwork.fit(X, y)).rejects.toThrow('simulated failure after allocating');
    expect({ allocated: allocated(), regions: regions() }).toEqual(before);
  });

  it('the TOO_LARGE message says how much undisposed networks hold', async () => {
    // Brute force: the figure below is its weights' (with 'auto' the partition adds 1.4 MiB).
    const held = await KnnNetwork.fit(randomData(33, 40_000, 4).X, randomData(33, 40_000, 4).y, { algorithm: 'brute' });
    // Pretend wasm32 ends just past what is allocated now.
    vi.spyOn(kernels.exports, 'capacityBytes').mockImplementation(() => allocated() + 4096);
    const error = await KnnNetwork.fit(randomData(34, 1000, 4).X, randomData(34, 1000, 4).y).catch((e: unknown) => e);
    expect((error as KnnError).code).toBe('TOO_LARGE');
    expect((error as KnnError).message).toMatch(
      /^fitting 1000 points × 4 features needs \d+ KiB of wasm memory; only 4 KiB of wasm32's 4 GiB are free\. Networks not yet disposed hold [45] MiB: call dispose\(\) on every network you no longer use \(the garbage collector does not see wasm memory\)/,
    );
    vi.restoreAllMocks();
    held.dispose();
  });
});

describe('limits the allocator cannot see', () => {
  it("kneighbors(X, 'all') refuses q × n outputs a typed array cannot hold, before allocating, at forward's limit", async () => {
    const n = 100_000;
    const network = await KnnNetwork.fit({ data: Float64Array.from({ length: n }, (_, i) => i), rows: n, cols: 1 }, new Float64Array(n), {
      task: 'regression',
    });
    // The answer first: a call may grow the shared scratch, which the comparison below must include.
    const answer = Array.from(network.kneighbors([[7.2]], 2).indices);
    const before = { allocated: allocated(), regions: regions(), memory: memoryBytes(), answer };
    const q = 30_000; // q × n = 3e9 outputs: 36 GB of indices and distances
    const queries = { data: new Float64Array(q), rows: q, cols: 1 };
    const started = performance.now();
    let error: unknown;
    try {
      network.kneighbors(queries, 'all');
    } catch (caught) {
      error = caught;
    }
    expect(performance.now() - started, 'refused up front').toBeLessThan(5000);
    expect(error).toBeInstanceOf(KnnError);
    expect((error as KnnError).code).toBe('TOO_LARGE');
    expect((error as KnnError).message).toBe(
      "kneighbors(X, 'all') returns q × k = 30000 × 100000 values, more than the 268435456 a typed array holds here; pass fewer rows of X at a time, or ask for fewer neighbours.",
    );
    expect(() => network.forward(queries)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    // The same limit as forward's: the fewest rows over 2^28 outputs are refused by both.
    const overLimit = Math.floor(2 ** 28 / n) + 1;
    const justOver = { data: new Float64Array(overLimit), rows: overLimit, cols: 1 };
    expect(() => network.kneighbors(justOver, 'all')).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(() => network.forward(justOver)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect({ allocated: allocated(), regions: regions(), memory: memoryBytes(), answer: Array.from(network.kneighbors([[7.2]], 2).indices) }).toEqual(before);
    network.dispose();
  });
});
