// An attack on the softmax over all points (k: 'all', weights: 'softmax') folded over fixed
// blocks of training points and merged in a fixed tree: the async methods, split by training
// rows (few queries) or by queries (many), must answer bit for bit as the sync ones for every
// thread count; at block boundaries, with the states' cap on many classes, extreme λ and
// magnitudes, after add / remove / removeClass / fromBytes, and in forward(). The pool paths
// must hold no region after a call, a failed call or a dispose during one.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions, type Label } from '../src/index.js';
import { magnitudeLimit } from '../src/matrix.js';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { ReferenceNetwork } from '../src/reference.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels } from '../src/wasm.js';
import { poolOfNetwork, PoolWorker } from '../src/workerPool.js';
import { bits, expectSoftmaxWithinBound, maxAbsoluteDifference, randomData, type Dataset } from './helpers.js';

let defaultThreshold = 0;
beforeAll(() => {
  defaultThreshold = setPoolThreshold(0);
});
afterAll(() => {
  setPoolThreshold(defaultThreshold);
});

type Matrix = Dataset['X'];

/** Training points per tile of the layer-1 stream for d features (blocks are whole tiles). */
const tilePoints = (d: number): number => Math.min(128, Math.max(1, Math.floor((256 * 1024) / (d * 64)))) * 8;

const firstRows = (X: Matrix, q: number): Matrix => ({ data: X.data.slice(0, q * X.cols), rows: q, cols: X.cols });

function concatRows(a: Matrix, b: Matrix): Matrix {
  const data = new Float64Array((a.rows + b.rows) * a.cols);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { data, rows: a.rows + b.rows, cols: a.cols };
}

function pickRows(X: Matrix, rows: readonly number[]): Matrix {
  const data = new Float64Array(rows.length * X.cols);
  rows.forEach((row, i) => data.set(X.data.subarray(row * X.cols, (row + 1) * X.cols), i * X.cols));
  return { data, rows: rows.length, cols: X.cols };
}

/** Every row of `values` (rows × width) finite, ≥ 0, summing to 1 within rounding. */
function expectDistributions(values: Float64Array, width: number, what: string): void {
  for (let r = 0; r < values.length / width; r++) {
    let sum = 0;
    for (let c = 0; c < width; c++) {
      const value = values[r * width + c];
      if (!(Number.isFinite(value) && value >= 0)) expect.fail(`${what}: row ${r}, column ${c} is ${value}`);
      sum += value;
    }
    expect(Math.abs(sum - 1), `${what}: row ${r} sums to ${sum}`).toBeLessThan(1e-12);
  }
}

/** `net` (any thread count) answers X as `expected` does on the sync path, bit for bit, sync and async. */
async function expectSameAnswers(net: KnnNetwork, expected: KnnNetwork, X: Matrix, what: string): Promise<void> {
  if (expected.options.task === 'regression') {
    const want = bits(expected.predict(X) as Float64Array);
    expect(bits(net.predict(X) as Float64Array), what).toEqual(want);
    expect(bits((await net.predictAsync(X)) as Float64Array), `${what} (async)`).toEqual(want);
    return;
  }
  expect(net.classes, what).toEqual(expected.classes);
  const want = bits(expected.predictProba(X));
  expect(bits(net.predictProba(X)), what).toEqual(want);
  expect(bits(await net.predictProbaAsync(X)), `${what} (async)`).toEqual(want);
  expect(await net.predictAsync(X), `${what} (async labels)`).toEqual(expected.predict(X));
}

describe('the softmax over all points at block boundaries: async is the sync answer for 2 to 5 threads', () => {
  // For each d: n around one tile, two and three tiles, and around 32 tiles (where blocks start
  // to hold two tiles each); q from 1 (split by training rows) to 20 (by queries for 2 threads).
  const cases: [d: number, n: number, lambda: number, metric: 'euclidean' | 'cosine' | 'manhattan'][] = [];
  for (const [d, lambda, metric] of [[1, 1, 'euclidean'], [3, 1e12, 'manhattan'], [17, 0.5, 'cosine'], [64, 30, 'euclidean'], [200, 1, 'manhattan'], [1000, 1e-300, 'euclidean']] as const) {
    const tile = tilePoints(d);
    for (const n of [tile + 1, 3 * tile - 1, 32 * tile, 32 * tile + 1]) {
      if (n * d <= 1.2e6 || n === tile + 1) cases.push([d, n, lambda, metric]);
    }
  }
  const queryCounts = [1, 2, 3, 5, 9, 16, 20];

  it.each(cases)('d = %i, n = %i, λ = %d, %s', async (d, n, lambda, metric) => {
    const offset = metric === 'cosine' ? 0.1 : 0;
    const train = randomData(n * 31 + d, n, d, { classes: 7, grid: d === 3 ? 2 : 0, offset });
    const test = randomData(n + d, 20, d, { grid: d === 3 ? 2 : 0, offset });
    const options: KnnOptions = { k: 'all', weights: 'softmax', lambda, metric };
    const one = await KnnNetwork.fit(train.X, train.y, options);
    const expected = one.predictProba(test.X);
    const labels = one.predict(test.X);
    expectDistributions(expected, one.classes.length, 'predictProba');
    const nets = await Promise.all([2, 3, 4, 5].map((threads) => KnnNetwork.fit(train.X, train.y, { ...options, threads })));
    try {
      for (const net of nets) {
        for (const q of queryCounts) {
          const X = firstRows(test.X, q);
          expect(bits(await net.predictProbaAsync(X)), `${net.threads} threads, q = ${q}`).toEqual(bits(expected.slice(0, q * one.classes.length)));
        }
        expect(await net.predictAsync(test.X)).toEqual(labels);
        expect(await net.scoreAsync(firstRows(test.X, 3), train.y.slice(0, 3))).toBe(one.score(firstRows(test.X, 3), train.y.slice(0, 3)));
      }
    } finally {
      for (const net of [one, ...nets]) net.dispose();
    }
  }, 30_000);
});

describe('one or two training points', () => {
  it.each([[1, false], [2, true], [1, true], [2, false]])('n = %i, regression %s: async is the sync answer for 2 to 5 threads and q = 1, 2, 9, 20', async (n, regression) => {
    const train = randomData(61 + n, n, 3, { classes: 2 });
    const y = regression ? train.y.map((label, i) => Number(label) - 0.5 * i) : train.y;
    const test = randomData(62, 20, 3);
    const options: KnnOptions = { k: 'all', weights: 'softmax', lambda: 1e300, task: regression ? 'regression' : 'classification' };
    const one = await KnnNetwork.fit(train.X, y, options);
    const nets = await Promise.all([2, 3, 4, 5].map((threads) => KnnNetwork.fit(train.X, y, { ...options, threads })));
    try {
      for (const net of nets) for (const q of [1, 2, 9, 20]) await expectSameAnswers(net, one, firstRows(test.X, q), `${net.threads} threads, q = ${q}`);
    } finally {
      for (const net of [one, ...nets]) net.dispose();
    }
  }, 30_000);
});

describe('the softmax over all points on extreme data', () => {
  const extremeShape = fc.record({
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    d: fc.constantFrom(1, 3, 200, 1000),
    tiles: fc.integer({ min: 1, max: 34 }),
    extra: fc.integer({ min: -1, max: 1 }),
    q: fc.integer({ min: 1, max: 20 }),
    classes: fc.integer({ min: 1, max: 40 }),
    lambda: fc.constantFrom(0, 1e-300, 5e-324, 1, 1e12, 1e300),
    // 0: the largest magnitude the network accepts for d features (halved, for the offset).
    scale: fc.constantFrom(1, 1e150, 1e-300, 1e-150, 0),
    grid: fc.constantFrom(0, 2),
    regression: fc.boolean(),
    metric: fc.constantFrom('euclidean' as const, 'cosine' as const, 'manhattan' as const),
    threads: fc.constantFrom(2, 3, 4, 5),
    float32Candidates: fc.boolean(),
  });

  it('async is bit for bit the sync answer, never NaN, rows normalised; near the reference on plain data', async () => {
    await fc.assert(
      fc.asyncProperty(extremeShape, async (s) => {
        const n = Math.max(1, Math.min(s.tiles * tilePoints(s.d) + s.extra, Math.floor(6e5 / s.d)));
        const scale = s.scale === 0 ? magnitudeLimit(s.d) / 2 : s.scale;
        const offset = s.metric === 'cosine' && s.grid ? scale : 0;
        const train = randomData(s.seed, n, s.d, { classes: s.classes, grid: s.grid, scale, offset });
        const test = randomData(s.seed + 1, s.q, s.d, { grid: s.grid, scale, offset });
        const y = s.regression ? train.y.map((label, i) => Number(label) * 1.5 + i * 0.01) : train.y;
        const options: KnnOptions = {
          k: 'all', weights: 'softmax', lambda: s.lambda, metric: s.metric, float32Candidates: s.float32Candidates,
          task: s.regression ? 'regression' : 'classification',
        };
        const one = await KnnNetwork.fit(train.X, y, options);
        const net = await KnnNetwork.fit(train.X, y, { ...options, threads: s.threads });
        try {
          await expectSameAnswers(net, one, test.X, `n = ${n}`);
          const truth = s.regression ? Float64Array.from(test.y, Number) : test.y;
          expect(await net.scoreAsync(test.X, truth as ArrayLike<Label>)).toBe(one.score(test.X, truth as ArrayLike<Label>));
          if (s.regression) {
            for (const value of one.predict(test.X) as Float64Array) expect(Number.isFinite(value)).toBe(true);
          } else {
            expectDistributions(one.predictProba(test.X), one.classes.length, 'predictProba');
          }
          if (s.scale === 1) {
            const reference = await ReferenceNetwork.fit(train.X, y, options);
            const tolerance = 1e-9 * Math.max(1, s.lambda);
            if (s.regression) expect(maxAbsoluteDifference(one.predict(test.X) as Float64Array, reference.predict(test.X) as Float64Array)).toBeLessThan(tolerance * 10);
            else expect(maxAbsoluteDifference(one.predictProba(test.X), reference.predictProba(test.X))).toBeLessThan(tolerance);
          }
        } finally {
          one.dispose();
          net.dispose();
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});

describe('many classes: the states of a query capped at 16 KiB (fewer blocks)', () => {
  it.each([
    [300, 200, 2000], // 5 blocks
    [1000, 200, 2000], // 2 blocks
    [3000, 200, 3100], // 1 block: split by queries only
    [800, 1000, 1025], // 2 blocks
  ])('%i classes, d = %i, n = %i: async is the sync answer for q = 1 … 20; forward agrees', async (classes, d, n) => {
    const train = randomData(classes, n, d);
    const y = train.y.map((_, i) => i % classes);
    const test = randomData(classes + 1, 20, d);
    const options: KnnOptions = { k: 'all', weights: 'softmax', lambda: 0.3 };
    const one = await KnnNetwork.fit(train.X, y, options);
    const nets = await Promise.all([2, 5].map((threads) => KnnNetwork.fit(train.X, y, { ...options, threads })));
    try {
      const expected = one.predictProba(test.X);
      expectDistributions(expected, classes, 'predictProba');
      for (const net of nets) {
        for (const q of [1, 2, 7, 20]) {
          expect(bits(await net.predictProbaAsync(firstRows(test.X, q))), `${net.threads} threads, q = ${q}`).toEqual(bits(expected.slice(0, q * classes)));
        }
      }
      const few = firstRows(test.X, 3);
      const { z2, z3 } = one.forward(few);
      expect(bits(z3)).toEqual(bits(expected.slice(0, 3 * classes)));
      expectDistributions(z2, n, 'z2');
    } finally {
      for (const net of [one, ...nets]) net.dispose();
    }
  }, 30_000);
});

describe('forward on the softmax over all points', () => {
  it.each([0, 5e-324, 1e-300, 1, 1e12, 1e300])('λ = %d: z2 rows are distributions, z3 is predictProba bit for bit (sync and async)', async (lambda) => {
    for (const [n, d] of [[1, 3], [33, 1000], [1025, 1], [5000, 3]]) {
      const train = randomData(n, n, d, { classes: 4, grid: 2 });
      const test = randomData(n + 1, 4, d, { grid: 2 });
      const net = await KnnNetwork.fit(train.X, train.y, { k: 'all', weights: 'softmax', lambda, threads: 2 });
      try {
        const { z2, z3 } = net.forward(test.X);
        expect(bits(z3)).toEqual(bits(net.predictProba(test.X)));
        expect(bits(z3)).toEqual(bits(await net.predictProbaAsync(test.X)));
        expectDistributions(z2, n, `z2 (n = ${n}, d = ${d})`);
        expectDistributions(z3, net.classes.length, `z3 (n = ${n}, d = ${d})`);
      } finally {
        net.dispose();
      }
    }
  }, 30_000);
});

describe('a changed network answers as a fresh fit on its data, sync and async', () => {
  it.each([
    ['euclidean', 17, false], ['cosine', 17, false], ['manhattan', 17, true],
    ['euclidean', 200, true], ['manhattan', 200, false],
  ] as const)('%s, d = %i, float32Candidates %s: add (new classes, during a call), remove, removeClass, fromBytes', async (metric, d, float32Candidates) => {
    const n = d === 200 ? 500 : 2100;
    const offset = metric === 'cosine' ? 0.1 : 0;
    const train = randomData(3 + d, n, d, { classes: 5, offset });
    const more = randomData(4 + d, 300, d, { classes: 7, offset });
    const test = randomData(5 + d, 5, d, { offset });
    const options: KnnOptions = { k: 'all', weights: 'softmax', lambda: 2, metric, float32Candidates };
    const net = await KnnNetwork.fit(train.X, train.y, { ...options, threads: 3 });
    let X = train.X;
    let y: Label[] = train.y;
    // After adds the network keeps its centre (amortised adds): its softmax equals a fresh fit's
    // within the expansion's bound, and its async answers its sync ones bit for bit. Manhattan has
    // no centre, and a remove re-centres: those equal a fresh fit bit for bit.
    const expectFresh = async (what: string, centreHeld = false): Promise<void> => {
      const fresh = await KnnNetwork.fit(X, y, options);
      try {
        if (centreHeld && metric !== 'manhattan') {
          expect(net.classes, what).toEqual(fresh.classes);
          expect(bits(await net.predictProbaAsync(test.X)), `${what} (async)`).toEqual(bits(net.predictProba(test.X)));
          expectSoftmaxWithinBound(net, fresh, test.X);
          return;
        }
        await expectSameAnswers(net, fresh, test.X, what);
        const ours = net.forward(test.X);
        const theirs = fresh.forward(test.X);
        expect(bits(ours.z2), `${what}: z2`).toEqual(bits(theirs.z2));
        expect(bits(ours.z3), `${what}: z3`).toEqual(bits(theirs.z3));
      } finally {
        fresh.dispose();
      }
    };
    try {
      net.add(more.X, more.y);
      [X, y] = [concatRows(X, more.X), [...y, ...more.y]];
      await expectFresh('after add', true);
      // An add while a call split by training rows is in flight.
      const before = net.predictProba(test.X);
      const pending = net.predictProbaAsync(test.X);
      const during = randomData(9, 40, d, { classes: 3, offset });
      net.add(during.X, during.y);
      expect(bits(await pending)).toEqual(bits(before));
      [X, y] = [concatRows(X, during.X), [...y, ...during.y]];
      await expectFresh('after an add during a call', true);
      for (let round = 0; round < 3; round++) {
        const small = randomData(20 + round, 3, d, { classes: 2, offset });
        net.add(small.X, small.y);
        [X, y] = [concatRows(X, small.X), [...y, ...small.y]];
      }
      await expectFresh('after small adds', true);
      const dropped = new Set(Array.from({ length: Math.floor(X.rows / 4) }, (_, i) => i * 3));
      net.remove([...dropped]);
      const kept = Array.from({ length: X.rows }, (_, i) => i).filter((i) => !dropped.has(i));
      [X, y] = [pickRows(X, kept), kept.map((i) => y[i])];
      await expectFresh('after remove');
      net.removeClass(2);
      const others = y.flatMap((label, i) => (label === 2 ? [] : [i]));
      [X, y] = [pickRows(X, others), others.map((i) => y[i])];
      await expectFresh('after removeClass');
      const loaded = await KnnNetwork.fromBytes(net.toBytes(), { threads: 4 });
      try {
        await expectSameAnswers(loaded, net, test.X, 'fromBytes');
      } finally {
        loaded.dispose();
      }
    } finally {
      net.dispose();
    }
  }, 30_000);
});

describe('regions of the pool paths', () => {
  it('repeated calls of 1 to 20 queries on 2, 3 and 5 threads hold no region and no byte more', async () => {
    const kernels = await loadKernels(undefined, true);
    const train = randomData(1, 5000, 3, { classes: 4 });
    const test = randomData(2, 20, 3);
    const nets = await Promise.all([2, 3, 5].map((threads) => KnnNetwork.fit(train.X, train.y, { k: 'all', weights: 'softmax', lambda: 1, threads })));
    try {
      const expected = nets[0].predictProba(test.X);
      for (const net of nets) await net.predictProbaAsync(test.X);
      const regions = kernels.exports.allocatedRegions();
      const bytes = kernels.exports.allocatedBytes();
      for (let round = 0; round < 5; round++) {
        const answers = await Promise.all(nets.flatMap((net) => [1, 3, 7, 20].map(async (q) => ({ q, got: await net.predictProbaAsync(firstRows(test.X, q)) }))));
        for (const { q, got } of answers) expect(bits(got)).toEqual(bits(expected.slice(0, q * 4)));
      }
      expect(kernels.exports.allocatedRegions()).toBe(regions);
      expect(kernels.exports.allocatedBytes()).toBe(bytes);
    } finally {
      for (const net of nets) net.dispose();
    }
  }, 30_000);

  it('dispose during a call split by training rows rejects it with DISPOSED and leaves no region of the network or the call', async () => {
    const kernels = await loadKernels(undefined, true);
    // Another network on the shared kernels, with its scratch made, so that only this one's regions come and go.
    const other = await KnnNetwork.fit(randomData(5, 10, 3).X, randomData(5, 10, 3).y, { threads: 2 });
    other.predict(randomData(6, 3, 3).X);
    const before = kernels.exports.allocatedRegions();
    const wide = randomData(35, 100_000, 64, { classes: 3 });
    const net = await KnnNetwork.fit(wide.X, wide.y, { k: 'all', weights: 'softmax', lambda: 0.5, threads: 3 });
    try {
      const pending = net.predictProbaAsync(randomData(36, 3, 64).X);
      while ((poolOfNetwork.get(net)?.startedWorkers().length ?? 0) < 3) await new Promise((resolve) => setTimeout(resolve, 1));
      net.dispose();
      const error = await pending.then(() => undefined, (reason: unknown) => reason);
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('DISPOSED');
      expect(kernels.exports.allocatedRegions()).toBe(before);
    } finally {
      net.dispose();
      other.dispose();
    }
  }, 30_000);
});

describe('a slice of a call split by training rows that fails', () => {
  const train = randomData(91, 6000, 5, { classes: 3 });
  const X = randomData(92, 4, 5).X;

  /** Makes the `which`-th worker call from now on reject at once, as a kernel that threw would; `mayStillRun` as a Web Worker stopped mid-call. */
  function failCall(which: number, mayStillRun: boolean): () => void {
    const run = PoolWorker.prototype.run;
    let calls = 0;
    const spy = vi.spyOn(PoolWorker.prototype, 'run').mockImplementation(function (this: PoolWorker, ...args) {
      if (++calls !== which) return run.apply(this, args);
      this.mayStillRun = mayStillRun;
      return Promise.reject(new KnnError('WORKER_FAILED', 'a simulated kernel failure'));
    });
    return () => spy.mockRestore();
  }

  it.each([1, 2, 3])('call %i of 3 fails: the call rejects, every region is released, the next call is the sync answer', async (which) => {
    const kernels = await loadKernels(undefined, true);
    const net = await KnnNetwork.fit(train.X, train.y, { k: 'all', weights: 'softmax', lambda: 2, threads: 3 });
    try {
      const expected = net.predictProba(X);
      await net.predictProbaAsync(X);
      const regions = kernels.exports.allocatedRegions();
      const restore = failCall(which, false);
      const error = await net.predictProbaAsync(X).then(() => undefined, (reason: unknown) => reason).finally(restore);
      expect(error).toBeInstanceOf(KnnError);
      expect((error as KnnError).code).toBe('WORKER_FAILED');
      expect(kernels.exports.allocatedRegions()).toBe(regions);
      expect(bits(await net.predictProbaAsync(X))).toEqual(bits(expected));
    } finally {
      net.dispose();
    }
  }, 30_000);

  it('a worker that may still run keeps its own region and the states every slice writes, and nothing else', async () => {
    const kernels = await loadKernels(undefined, true);
    const net = await KnnNetwork.fit(train.X, train.y, { k: 'all', weights: 'softmax', lambda: 2, threads: 3 });
    try {
      const expected = net.predictProba(X);
      await net.predictProbaAsync(X);
      const regions = kernels.exports.allocatedRegions();
      const restore = failCall(2, true);
      await net.predictProbaAsync(X).then(() => undefined, () => undefined).finally(restore);
      expect(kernels.exports.allocatedRegions()).toBe(regions + 2);
      poolOfNetwork.get(net)!.startedWorkers()[1].mayStillRun = false;
      expect(bits(await net.predictProbaAsync(X))).toEqual(bits(expected));
    } finally {
      net.dispose();
    }
  }, 30_000);
});

describe('rows answer alike in a batch (chunks of odd sizes), one by one and on the pool', () => {
  it.each([[1000, 33, 5000, 0.7], [2500, 1, 9000, 1e12]])('%i classes, d = %i, n = %i, λ = %d', async (classes, d, n, lambda) => {
    const train = randomData(classes, n, d);
    const y = train.y.map((_, i) => i % classes);
    const X = randomData(3, 301, d).X;
    const one = await KnnNetwork.fit(train.X, y, { k: 'all', weights: 'softmax', lambda });
    const three = await KnnNetwork.fit(train.X, y, { k: 'all', weights: 'softmax', lambda, threads: 3 });
    try {
      const batch = one.predictProba(X);
      const rows = new Float64Array(batch.length);
      for (let r = 0; r < X.rows; r++) rows.set(one.predictProba(pickRows(X, [r])), r * classes);
      expect(bits(rows)).toEqual(bits(batch));
      expect(bits(await three.predictProbaAsync(X))).toEqual(bits(batch));
      expect(bits(three.predictProba(X))).toEqual(bits(batch));
    } finally {
      one.dispose();
      three.dispose();
    }
  }, 30_000);
});

describe('many async calls at once on four networks, with adds and removes between them', () => {
  it('each answers as the sync call made when it was issued, bit for bit', async () => {
    const random = new SeededRandom(5);
    const nets: KnnNetwork[] = [];
    try {
      for (const [metric, threads, regression] of [['euclidean', 2, false], ['manhattan', 3, false], ['cosine', 5, true], ['euclidean', 4, true]] as const) {
        const train = randomData(threads, 3000, 7, { classes: 5, offset: 0.2 });
        const y = regression ? train.y.map((label, i) => Number(label) + i * 1e-3) : train.y;
        nets.push(await KnnNetwork.fit(train.X, y, {
          k: 'all', weights: 'softmax', lambda: 4, metric, threads, task: regression ? 'regression' : 'classification', float32Candidates: threads === 3,
        }));
      }
      const checks: Promise<void>[] = [];
      for (let step = 0; step < 120; step++) {
        const net = nets[Math.floor(random.uniform() * nets.length)];
        const regression = net.options.task === 'regression';
        const action = random.uniform();
        if (action < 0.15) {
          const added = randomData(step + 100, 1 + Math.floor(random.uniform() * 20), 7, { classes: 6, offset: 0.2 });
          net.add(added.X, regression ? added.y.map(Number) : added.y);
        } else if (action < 0.25 && net.nSamples > 1500) {
          net.remove(Array.from({ length: 50 }, (_, i) => i * 7));
        } else {
          const X = randomData(step, 1 + Math.floor(random.uniform() * 45), 7, { offset: 0.2 }).X;
          if (regression) {
            const want = bits(net.predict(X) as Float64Array);
            checks.push(net.predictAsync(X).then((got) => expect(bits(got as Float64Array), `step ${step}`).toEqual(want)));
          } else {
            const want = bits(net.predictProba(X));
            const labels = net.predict(X);
            checks.push(net.predictProbaAsync(X).then((got) => expect(bits(got), `step ${step}`).toEqual(want)));
            checks.push(net.predictAsync(X).then((got) => expect(got, `step ${step}`).toEqual(labels)));
          }
        }
        if (random.uniform() < 0.2) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      await Promise.all(checks);
    } finally {
      for (const net of nets) net.dispose();
    }
  }, 30_000);
});

describe('regression targets at the limit the network accepts', () => {
  it.each([0, 1, 1e300])('λ = %d: finite estimates, async bit for bit the sync ones', async (lambda) => {
    const n = 3000;
    const train = randomData(71, n, 2, { grid: 3 });
    const limit = Number.MAX_VALUE / (2 * n);
    const y = Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -limit : limit));
    const test = randomData(72, 5, 2, { grid: 3 });
    const options: KnnOptions = { k: 'all', weights: 'softmax', lambda, task: 'regression' };
    const one = await KnnNetwork.fit(train.X, y, options);
    const net = await KnnNetwork.fit(train.X, y, { ...options, threads: 3 });
    try {
      const expected = one.predict(test.X) as Float64Array;
      for (const value of expected) expect(Number.isFinite(value) && Math.abs(value) <= limit).toBe(true);
      for (const q of [1, 2, 5]) expect(bits((await net.predictAsync(firstRows(test.X, q))) as Float64Array)).toEqual(bits(expected.slice(0, q)));
    } finally {
      one.dispose();
      net.dispose();
    }
  }, 30_000);
});

describe('how a call of few queries is spread', () => {
  // Fewer than 8 queries per thread are split by training rows only where that uses as many
  // workers as the split by queries would: here the network has 2 blocks, and 39 queries make 5 parts.
  it('39 queries on 5 threads over 2 blocks (1 000 classes) use as many workers as a split by queries (5), not 2', async () => {
    const classes = 1000;
    const train = randomData(81, 4200, 16);
    const y = train.y.map((_, i) => i % classes);
    const net = await KnnNetwork.fit(train.X, y, { k: 'all', weights: 'softmax', lambda: 1, threads: 5 });
    try {
      await net.predictProbaAsync(randomData(82, 39, 16).X);
      expect(poolOfNetwork.get(net)?.startedWorkers().length).toBe(5);
    } finally {
      net.dispose();
    }
  }, 30_000);
});
