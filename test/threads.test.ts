// The worker pool: async methods spread a call over a network's threads and answer bit for bit
// as the sync methods (and as the reference) on random shapes and every mode, on each kernel
// build; concurrent calls; a worker that dies; dispose during a call; the `threads` option and
// environments without shared memory. The longest property run, calls split by queries on
// random problems, is in threadsProperties.long.test.ts (the long suite).
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KnnError, KnnNetwork, kernelInfo, type KnnOptions } from '../src/index.js';
import { ChunkRunner, setPoolThreshold } from '../src/chunkRunner.js';
import { ReferenceNetwork } from '../src/reference.js';
import { poolOfNetwork, type WorkerPool } from '../src/workerPool.js';
import { loadKernels } from '../src/wasm.js';
import { plainWasmBase64, relaxedWasmBase64 } from '../src/generated/wasmBinary.js';
import { withSharedMemoryImport } from '../src/sharedModule.js';

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(Buffer.from(text, 'base64'));
}
import { KERNEL_BUILDS, maxAbsoluteDifference, onKernelBuild, randomData } from './helpers.js';

/** Every call of two or more queries goes to the pool, however small, until restoreThreshold(). */
function poolEveryCall(): void {
  defaultThreshold = setPoolThreshold(0);
}
function restoreThreshold(): void {
  setPoolThreshold(defaultThreshold);
}
let defaultThreshold = 0;

/** The network's pool once `workers` of its workers have started (a call has begun on it). */
async function startedPool(net: KnnNetwork, workers: number): Promise<WorkerPool> {
  for (;;) {
    const pool = poolOfNetwork.get(net);
    if (pool && pool.startedWorkers().length >= workers) return pool;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Every value of `a` and `b` the same float64 (or the same entries). */
function expectSameBits(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  expect(Array.from(a)).toEqual(Array.from(b));
}

describe.each(KERNEL_BUILDS)('async methods on a pool answer as the sync ones and the reference (%s build)', (build) => {
  onKernelBuild(build);
  beforeAll(poolEveryCall);
  afterAll(restoreThreshold);

  it('a large call split over every worker (float32 candidates, GEMM search) matches the sync call', async () => {
    const train = randomData(7, 3000, 40, { classes: 4 });
    const test = randomData(8, 700, 40);
    for (const threads of [2, 4]) {
      const net = await KnnNetwork.fit(train.X, train.y, { k: 7, weights: 'distance', threads });
      try {
        const neighbours = await net.kneighborsAsync(test.X);
        const sync = net.kneighbors(test.X);
        expectSameBits(neighbours.indices, sync.indices);
        expectSameBits(neighbours.distances, sync.distances);
        expectSameBits(await net.predictProbaAsync(test.X), net.predictProba(test.X));
        expect(poolOfNetwork.get(net)?.startedWorkers().length).toBe(threads);
      } finally {
        net.dispose();
      }
    }
  }, 60_000);
});

const fewQueriesShape = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  n: fc.integer({ min: 1020, max: 3000 }),
  d: fc.constantFrom(1, 3, 16, 17, 40),
  q: fc.integer({ min: 1, max: 5 }),
  grid: fc.constantFrom(0, 2, 3),
  classes: fc.integer({ min: 1, max: 4 }),
  k: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 13, max: 600 }), fc.constant(Infinity)),
  weights: fc.constantFrom('uniform' as const, 'distance' as const, 'softmax' as const),
  lambda: fc.constantFrom(0, 1, 1e12),
  regression: fc.boolean(),
  metric: fc.constantFrom('euclidean' as const, 'cosine' as const),
  threads: fc.constantFrom(2, 3),
  float32Candidates: fc.boolean(),
});

describe.each(KERNEL_BUILDS)('few queries, split by training rows over the workers (%s build)', (build) => {
  onKernelBuild(build);
  beforeAll(poolEveryCall);
  afterAll(restoreThreshold);

  it('bit for bit the sync answer and the reference, ties across slices included', async () => {
    await fc.assert(
      fc.asyncProperty(fewQueriesShape, async (s) => {
        // Grid data: many points tie, within a slice and across slices.
        const offset = s.metric === 'cosine' && s.grid ? 1 : 0;
        const train = randomData(s.seed, s.n, s.d, { classes: s.classes, grid: s.grid, offset });
        const test = randomData(s.seed + 1, s.q, s.d, { classes: s.classes, grid: s.grid, offset });
        const k = Math.min(s.k, s.n);
        // Brute force: the split by training rows is brute force's (the pruned search is split by
        // queries, and 'auto' may choose it at small d: treeNetwork.test.ts runs it on a pool).
        const options: KnnOptions = {
          k, weights: s.weights, lambda: s.lambda, metric: s.metric, float32Candidates: s.float32Candidates,
          task: s.regression ? 'regression' : 'classification', algorithm: 'brute',
        };
        const y = s.regression ? train.y.map((label, i) => Number(label) * 1.5 + i * 0.01) : train.y;
        const net = await KnnNetwork.fit(train.X, y, { ...options, threads: s.threads });
        const reference = await ReferenceNetwork.fit(train.X, y, options);
        try {
          const neighbours = await net.kneighborsAsync(test.X);
          if (s.q === 1 && k <= 600) {
            // One query goes to the pool only when split by training rows, over every slice.
            expect(poolOfNetwork.get(net)?.startedWorkers().length).toBe(Math.min(s.threads, Math.floor(Math.ceil(s.n / 8) / 64)));
          }
          const sync = net.kneighbors(test.X);
          expectSameBits(neighbours.indices, sync.indices);
          expectSameBits(neighbours.distances, sync.distances);
          const theirs = reference.kneighbors(test.X);
          expectSameBits(neighbours.indices, theirs.indices);
          expectSameBits(neighbours.distances, theirs.distances);
          expectSameBits(await net.predictAsync(test.X), net.predict(test.X));
          if (!s.regression) expectSameBits(await net.predictProbaAsync(test.X), net.predictProba(test.X));
          const truth = s.regression ? Float64Array.from(test.y, Number) : test.y;
          expect(await net.scoreAsync(test.X, truth)).toBe(net.score(test.X, truth));
          if (s.weights !== 'softmax') expectSameBits(await net.predictAsync(test.X), reference.predict(test.X));
        } finally {
          net.dispose();
        }
      }),
      { numRuns: 60 },
    );
  }, 180_000);
});

const softmaxOnAllShape = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  // A block is whole tiles of 160 (d = 200) to 1 024 (d ≤ 4) points: from one block to 32.
  n: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 41, max: 1_100 }), fc.integer({ min: 1_100, max: 3_000 })),
  d: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 9 }), fc.constantFrom(33, 64, 200)),
  q: fc.integer({ min: 1, max: 7 }),
  grid: fc.constantFrom(0, 0, 2),
  classes: fc.integer({ min: 1, max: 4 }),
  lambda: fc.constantFrom(0, 0.05, 1, 30, 1e12),
  regression: fc.boolean(),
  metric: fc.constantFrom('euclidean' as const, 'cosine' as const, 'manhattan' as const),
});

describe.each(KERNEL_BUILDS)('the softmax over all points, split by training rows (%s build)', (build) => {
  onKernelBuild(build);
  beforeAll(poolEveryCall);
  afterAll(restoreThreshold);

  it('merges the blocks in the same tree for 1, 2 and 3 threads: bit for bit the sync answer', async () => {
    await fc.assert(
      fc.asyncProperty(softmaxOnAllShape, async (s) => {
        const offset = s.metric === 'cosine' ? 1 : 0;
        const train = randomData(s.seed, s.n, s.d, { classes: s.classes, grid: s.grid, offset });
        const test = randomData(s.seed + 1, s.q, s.d, { classes: s.classes, grid: s.grid, offset });
        const options: KnnOptions = {
          k: 'all', weights: 'softmax', lambda: s.lambda, metric: s.metric, task: s.regression ? 'regression' : 'classification',
        };
        const y = s.regression ? train.y.map((label, i) => Number(label) * 1.5 + i * 0.01) : train.y;
        const one = await KnnNetwork.fit(train.X, y, options);
        const nets = [await KnnNetwork.fit(train.X, y, { ...options, threads: 2 }), await KnnNetwork.fit(train.X, y, { ...options, threads: 3 })];
        const reference = await ReferenceNetwork.fit(train.X, y, options);
        try {
          const expected = one.predict(test.X);
          const tolerance = 1e-9 * Math.max(1, s.lambda);
          if (s.regression) expect(maxAbsoluteDifference(expected as Float64Array, reference.predict(test.X) as Float64Array)).toBeLessThan(tolerance * 10);
          else expect(maxAbsoluteDifference(one.predictProba(test.X), reference.predictProba(test.X))).toBeLessThan(tolerance);
          for (const net of nets) {
            expectSameBits(await net.predictAsync(test.X), expected);
            if (!s.regression) expectSameBits(await net.predictProbaAsync(test.X), one.predictProba(test.X));
            const truth = s.regression ? Float64Array.from(test.y, Number) : test.y;
            expect(await net.scoreAsync(test.X, truth)).toBe(one.score(test.X, truth));
          }
          if (s.q === 1) {
            // One query goes to the pool only split by training rows: a worker per slice of
            // blocks, which are whole tiles (of 1 024 points for d ≤ 4, 160 for d = 200).
            const tilePoints = Math.min(128, Math.max(1, Math.floor((256 * 1024) / (s.d * 64)))) * 8;
            const blocks = Math.ceil(s.n / tilePoints);
            expect(poolOfNetwork.get(nets[1])?.startedWorkers().length ?? 0).toBe(blocks < 2 ? 0 : Math.min(nets[1].threads, blocks));
          }
        } finally {
          for (const net of [one, ...nets]) net.dispose();
        }
      }),
      { numRuns: 40 },
    );
  }, 180_000);
});

describe('calls on the pool at the same time', () => {
  beforeAll(poolEveryCall);
  afterAll(restoreThreshold);

  it('many concurrent calls on one network, and on two networks, all answer as the sync calls', async () => {
    const first = randomData(11, 800, 24, { classes: 3 });
    const second = randomData(12, 500, 5, { classes: 4 });
    const queries = [randomData(13, 90, 24).X, randomData(14, 33, 24).X, randomData(15, 2, 24).X];
    const queries5 = [randomData(16, 120, 5).X, randomData(17, 7, 5).X];
    const a = await KnnNetwork.fit(first.X, first.y, { k: 5, threads: 2 });
    const b = await KnnNetwork.fit(second.X, second.y, { k: 'all', weights: 'softmax', threads: 3 });
    try {
      const calls: Promise<unknown>[] = [];
      const expected: unknown[] = [];
      for (let round = 0; round < 3; round++) {
        for (const X of queries) {
          calls.push(a.predictAsync(X), a.kneighborsAsync(X, 3).then((r) => [Array.from(r.indices), Array.from(r.distances)]));
          expected.push(a.predict(X), (({ indices, distances }) => [Array.from(indices), Array.from(distances)])(a.kneighbors(X, 3)));
        }
        for (const X of queries5) {
          calls.push(b.predictProbaAsync(X).then((p) => Array.from(p)));
          expected.push(Array.from(b.predictProba(X)));
        }
      }
      expect(await Promise.all(calls)).toEqual(expected);
    } finally {
      a.dispose();
      b.dispose();
    }
  }, 60_000);

  it('workers started before the shared memory grows work in the grown memory', async () => {
    const train = randomData(23, 1000, 16);
    const test = randomData(24, 200, 16);
    const net = await KnnNetwork.fit(train.X, train.y, { k: 3, threads: 2 });
    const big = randomData(25, 40_000, 64);
    try {
      await net.kneighborsAsync(test.X);
      const pool = poolOfNetwork.get(net)!;
      const before = pool.memory.buffer.byteLength;
      // 40 000 × 64 float64s, several copies: the memory must grow by tens of MiB.
      const other = await KnnNetwork.fit(big.X, big.y, { threads: 2 });
      expect(pool.memory.buffer.byteLength).toBeGreaterThan(before);
      // Weights and call regions now lie past the old end, as do the call's fences.
      const more = randomData(26, 100_000, 16);
      net.add(more.X, more.y);
      const neighbours = await net.kneighborsAsync(test.X);
      const sync = net.kneighbors(test.X);
      expectSameBits(neighbours.indices, sync.indices);
      expectSameBits(neighbours.distances, sync.distances);
      other.dispose();
    } finally {
      net.dispose();
    }
  }, 60_000);

  it('weights past the caches are split by training rows even for many queries, bit for bit the sync answer', async () => {
    const runParts = vi.spyOn(ChunkRunner.prototype, 'runParts');
    // 40 000 × 64: 10 MB of float32 panels for the search, 20 MB of float64 W1 for the softmax.
    const train = randomData(39, 40_000, 64, { classes: 4 });
    const test = randomData(40, 60, 64);
    try {
      for (const options of [{ k: 5 }, { k: 'all', weights: 'softmax', lambda: 0.02 }] as const) {
        const net = await KnnNetwork.fit(train.X, train.y, { ...options, threads: 2 });
        try {
          runParts.mockClear();
          expectSameBits(await net.predictProbaAsync(test.X), net.predictProba(test.X));
          expect(runParts.mock.calls.map((call) => call[2])).toEqual(['2 slices of the training rows']);
        } finally {
          net.dispose();
        }
      }
    } finally {
      runParts.mockRestore();
    }
  }, 60_000);

  it('the caller overwriting its queries right after an async call does not reach the call (split by queries or by training rows)', async () => {
    const train = randomData(37, 3000, 12, { classes: 3 });
    const net = await KnnNetwork.fit(train.X, train.y, { k: 3, threads: 2 });
    try {
      for (const rows of [40, 2]) {
        const data = Float64Array.from(randomData(38, rows, 12).X.data);
        const queries = { data, rows, cols: 12 };
        const expected = net.kneighbors(queries);
        const pending = net.kneighborsAsync(queries);
        data.fill(1e6);
        const got = await pending;
        expectSameBits(got.indices, expected.indices);
        expectSameBits(got.distances, expected.distances);
      }
    } finally {
      net.dispose();
    }
  }, 60_000);

  it('a point added during an async call leaves that call on the weights it started with', async () => {
    const train = randomData(21, 2000, 20);
    const test = randomData(22, 400, 20);
    const net = await KnnNetwork.fit(train.X, train.y, { k: 3, threads: 2 });
    try {
      const before = net.kneighbors(test.X);
      const pending = net.kneighborsAsync(test.X);
      net.add(test.X, test.y);
      const during = await pending;
      expectSameBits(during.indices, before.indices);
      expectSameBits(during.distances, before.distances);
      expectSameBits((await net.kneighborsAsync(test.X)).indices, net.kneighbors(test.X).indices);
    } finally {
      net.dispose();
    }
  }, 60_000);

  it('points removed during a call split by training rows leave it on the weights it started with, projection included', async () => {
    const train = randomData(27, 3000, 20, { classes: 5 });
    const query = randomData(28, 1, 20).X;
    const net = await KnnNetwork.fit(train.X, train.y, { k: 9, weights: 'distance', threads: 2 });
    try {
      const before = { neighbours: net.kneighbors(query), labels: net.predict(query), proba: net.predictProba(query) };
      const calls = Promise.all([net.kneighborsAsync(query), net.predictAsync(query), net.predictProbaAsync(query)]);
      net.remove(Array.from({ length: 1500 }, (_, i) => i));
      const [neighbours, labels, proba] = await calls;
      expectSameBits(neighbours.indices, before.neighbours.indices);
      expectSameBits(neighbours.distances, before.neighbours.distances);
      expect(labels).toEqual(before.labels);
      expectSameBits(proba, before.proba);
      expect(poolOfNetwork.get(net)?.startedWorkers().length).toBe(2);
      expectSameBits((await net.kneighborsAsync(query)).indices, net.kneighbors(query).indices);
    } finally {
      net.dispose();
    }
  }, 60_000);
});

describe('the softmax over every point, with the weights changed during the call', () => {
  beforeAll(poolEveryCall);
  afterAll(restoreThreshold);

  // 64 queries are split by queries; 3 by training rows (two blocks of 1 024 points here).
  it.each([
    ['euclidean', 64], ['manhattan', 64], ['euclidean', 3], ['manhattan', 3],
  ] as const)('an add or remove during an async %s softmax call of %i queries leaves it on the weights it started with', async (metric, queries) => {
    const train = randomData(31, 2000, 20, { classes: 4 });
    const test = randomData(32, queries, 20);
    const net = await KnnNetwork.fit(train.X, train.y, { k: 'all', weights: 'softmax', lambda: 3, metric, threads: 2 });
    try {
      for (const change of [() => net.add(test.X, test.y), () => net.remove(Array.from({ length: 1000 }, (_, i) => i))]) {
        const before = net.predictProba(test.X);
        const pending = net.predictProbaAsync(test.X);
        change();
        expectSameBits(await pending, before);
        expectSameBits(await net.predictProbaAsync(test.X), net.predictProba(test.X));
      }
    } finally {
      net.dispose();
    }
  }, 60_000);
});

describe('failures on the pool', () => {
  beforeAll(poolEveryCall);
  afterAll(restoreThreshold);
  const train = randomData(31, 4000, 48);
  const test = randomData(32, 1500, 48);

  it('a worker terminated from outside during a call rejects it with a KnnError; the network stays usable', async () => {
    const net = await KnnNetwork.fit(train.X, train.y, { k: 4, threads: 2 });
    try {
      const expected = net.predict(test.X);
      const pending = net.predictAsync(test.X);
      const pool = await startedPool(net, 2);
      pool.startedWorkers()[0].stopThreadFromOutside();
      const error = await pending.then(() => undefined, (reason: unknown) => reason);
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('WORKER_FAILED');
      expect((error as KnnError).message).toMatch(/worker stopped/);
      expect(await net.predictAsync(test.X)).toEqual(expected);
      expect(net.predict(test.X)).toEqual(expected);
    } finally {
      net.dispose();
    }
  }, 60_000);

  it('a worker terminated during a softmax call split by training rows rejects it; every region of the call is released', async () => {
    const kernels = await loadKernels(undefined, true);
    const wide = randomData(35, 200_000, 64, { classes: 3 });
    const net = await KnnNetwork.fit(wide.X, wide.y, { k: 'all', weights: 'softmax', lambda: 0.5, threads: 2 });
    try {
      const few = randomData(36, 3, 64).X;
      const expected = net.predictProba(few);
      const regions = kernels.exports.allocatedRegions();
      const pending = net.predictProbaAsync(few);
      const pool = await startedPool(net, 2);
      pool.startedWorkers()[1].stopThreadFromOutside();
      const error = await pending.then(() => undefined, (reason: unknown) => reason);
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('WORKER_FAILED');
      expect(kernels.exports.allocatedRegions(), 'regions held after the failed call').toBe(regions);
      expectSameBits(await net.predictProbaAsync(few), expected);
    } finally {
      net.dispose();
    }
  }, 60_000);

  it('a kernel that traps in a worker rejects the call with a KnnError, and the worker serves the next call', async () => {
    const net = await KnnNetwork.fit(train.X, train.y, { k: 4, threads: 2 });
    try {
      const small = randomData(33, 40, 48).X;
      const expected = net.predict(small);
      await net.predictAsync(small);
      const pool = poolOfNetwork.get(net)!;
      // A read far past the end of the memory traps (and writes nothing).
      const outside = pool.memory.buffer.byteLength + 65536;
      const error = await pool.worker(0).run([['computeMean', [outside, 4, 4, outside]]], 0, pool.memory).then(() => undefined, (reason: unknown) => reason);
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('WORKER_FAILED');
      expect(await net.predictAsync(small)).toEqual(expected);
    } finally {
      net.dispose();
    }
  }, 60_000);

  it('dispose during a call rejects it with DISPOSED, and later calls throw DISPOSED', async () => {
    const net = await KnnNetwork.fit(train.X, train.y, { k: 4, threads: 2 });
    const calls = Promise.allSettled([net.predictAsync(test.X), net.kneighborsAsync(test.X)]);
    await startedPool(net, 2);
    net.dispose();
    for (const outcome of await calls) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('DISPOSED');
    }
    await expect(net.predictAsync(test.X)).rejects.toMatchObject({ code: 'DISPOSED' });
  }, 60_000);
});

describe('the shared-memory twin of each build', () => {
  it.each(KERNEL_BUILDS)('%s: imports env.memory as a shared memory of 4 GiB at most, and keeps every export', (build) => {
    const plain = decodeBase64(build === 'plain' ? plainWasmBase64 : relaxedWasmBase64);
    const { bytes, initialPages } = withSharedMemoryImport(plain, 65536);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const shared = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(shared)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(shared)).toEqual(WebAssembly.Module.exports(new WebAssembly.Module(plain)));
    expect(initialPages).toBe(1);
    // A memory that is not shared does not satisfy the import.
    expect(() => new WebAssembly.Instance(shared, { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 65536 }) } })).toThrow();
    const memory = new WebAssembly.Memory({ initial: initialPages, maximum: 65536, shared: true });
    const instance = new WebAssembly.Instance(shared, { env: { memory } });
    expect((instance.exports.memory as WebAssembly.Memory).buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});

describe('the threads option', () => {
  afterEach(() => vi.unstubAllGlobals());
  const train = randomData(41, 60, 3);

  it('is 1 by default: no pool, and the async methods answer on the calling thread', async () => {
    const net = await KnnNetwork.fit(train.X, train.y, { k: 3 });
    expect(net.threads).toBe(1);
    expect(await net.predictAsync(train.X)).toEqual(net.predict(train.X));
    expect(poolOfNetwork.get(net)).toBeUndefined();
    net.dispose();
  });

  it('a small call of a network with threads runs on the calling thread: no pool is started', async () => {
    const net = await KnnNetwork.fit(train.X, train.y, { k: 3, threads: 2 });
    expect(await net.predictAsync(train.X)).toEqual(net.predict(train.X));
    expect(poolOfNetwork.get(net)).toBeUndefined();
    net.dispose();
  });

  it("'auto' is every core here; a bad value is a BAD_OPTION naming the option", async () => {
    const { availableParallelism } = await import('node:os');
    const net = await KnnNetwork.fit(train.X, train.y, { threads: 'auto' });
    expect(net.threads).toBe(availableParallelism());
    net.dispose();
    for (const threads of [0, 1.5, -2, '4', 'all', null]) {
      await expect(KnnNetwork.fit(train.X, train.y, { threads: threads as never })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/options\.threads must be a whole number ≥ 1 or 'auto'/) });
    }
  });

  it('is not saved by toBytes: fromBytes takes it again, and refuses other options', async () => {
    const net = await KnnNetwork.fit(train.X, train.y, { k: 3, threads: 2 });
    const bytes = net.toBytes();
    expect(Object.keys(net.options)).not.toContain('threads');
    const plain = await KnnNetwork.fromBytes(bytes);
    expect(plain.threads).toBe(1);
    const pooled = await KnnNetwork.fromBytes(bytes, { threads: 3 });
    expect(pooled.threads).toBe(3);
    poolEveryCall();
    try {
      expect(await pooled.predictAsync(train.X)).toEqual(net.predict(train.X));
    } finally {
      restoreThreshold();
    }
    await expect(KnnNetwork.fromBytes(bytes, { k: 3 } as never)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(KnnNetwork.fromBytes(bytes, { threads: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    for (const network of [net, plain, pooled]) network.dispose();
  });

  it('kernelInfo reports thread support', () => {
    expect(kernelInfo().engine.threads).toBe(true);
  });

  it('a page without cross-origin isolation: auto runs on one thread, an explicit count names the headers', async () => {
    vi.stubGlobal('crossOriginIsolated', false);
    expect(kernelInfo().engine.threads).toBe(false);
    const net = await KnnNetwork.fit(train.X, train.y, { threads: 'auto' });
    expect(net.threads).toBe(1);
    net.dispose();
    const error = await KnnNetwork.fit(train.X, train.y, { threads: 4 }).then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(KnnError);
    expect((error as KnnError).code).toBe('BAD_OPTION');
    expect((error as KnnError).message).toMatch(/Cross-Origin-Opener-Policy: same-origin/);
    expect((error as KnnError).message).toMatch(/Cross-Origin-Embedder-Policy: require-corp/);
    vi.stubGlobal('SharedArrayBuffer', undefined);
    await expect(KnnNetwork.fit(train.X, train.y, { threads: 2 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});

describe('ready(): the pool started before the first call', () => {
  it('starts every worker of a pooled network and resolves once each has loaded the kernels; at once with one thread', async () => {
    const train = randomData(21, 500, 8);
    const net = await KnnNetwork.fit(train.X, train.y, { threads: 3 });
    expect(poolOfNetwork.get(net)).toBeUndefined();
    await net.ready();
    expect(poolOfNetwork.get(net)?.startedWorkers().length).toBe(3);
    await net.ready(); // again: nothing more to start
    const single = await KnnNetwork.fit(train.X, train.y);
    await single.ready();
    expect(poolOfNetwork.get(single)).toBeUndefined();
    single.dispose();
    await expect(single.ready()).rejects.toMatchObject({ code: 'DISPOSED' });
    net.dispose();
  });

  it('radiusNeighborsAsync counts before it allocates on the pool too: a result over 2^28 neighbours is TOO_LARGE, and the network stays usable', { timeout: 120_000 }, async () => {
    const n = 2 ** 20;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = i;
    const net = await KnnNetwork.fit({ data, rows: n, cols: 1 }, new Int32Array(n), { threads: 2 });
    const queries = { data: new Float64Array(300), rows: 300, cols: 1 };
    await expect(net.radiusNeighborsAsync(queries, 1e300)).rejects.toMatchObject({ code: 'TOO_LARGE' });
    const both = await net.radiusNeighborsAsync({ data: new Float64Array([0, n]), rows: 2, cols: 1 }, 1e300);
    expect(Array.from(both.offsets)).toEqual([0, n, 2 * n]);
    net.dispose();
  });
});

describe('call options of the async methods: signal and onProgress', () => {
  it('onProgress hears a rising share ending at 1; an aborted call rejects with the signal’s reason and the network answers as before', async () => {
    const train = randomData(31, 4000, 24, { classes: 3 });
    const test = randomData(32, 2000, 24);
    const net = await KnnNetwork.fit(train.X, train.y, { k: 5, threads: 2 });
    const shares: number[] = [];
    const predicted = await net.predictAsync(test.X, { onProgress: (done) => shares.push(done) });
    expect(predicted).toEqual(net.predict(test.X));
    expect(shares.length).toBeGreaterThan(1);
    expect(shares.at(-1)).toBe(1);
    expect(shares.every((share, i) => i === 0 || share > shares[i - 1])).toBe(true);
    const radiusShares: number[] = [];
    await net.radiusNeighborsAsync(test.X, 1, { onProgress: (done) => radiusShares.push(done) });
    expect(radiusShares.at(-1)).toBe(1);
    // Aborted before it starts, and while its parts run.
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(net.kneighborsAsync(test.X, 3, { signal: controller.signal })).rejects.toThrow('stop');
    const during = new AbortController();
    const pending = net.predictProbaAsync(test.X, { signal: during.signal, onProgress: () => during.abort() });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(await net.predictAsync(test.X)).toEqual(predicted);
    await expect(net.scoreAsync(test.X, test.y, { signal: 'stop' } as never)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(net.predictAsync(test.X, { onProgres: () => {} } as never)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    net.dispose();
  });
});
