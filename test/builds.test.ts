// The two builds of the kernels: plain SIMD everywhere, relaxed SIMD (fused multiply-adds in the
// candidate GEMM) where the engine validates it. The loader's choice, the switch that overrides
// it, and the promise that the build never shows in an answer: every output bit-for-bit the
// same on both, on random shapes and on the precision traps.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork, kernelInfo, setKernelBuild, type KernelBuild, type KnnOptions, type Label } from '../src/index.js';
import { plainWasmBase64, relaxedWasmBase64 } from '../src/generated/wasmBinary.js';
import { magnitudeLimit } from '../src/matrix.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels } from '../src/wasm.js';
import { randomData } from './helpers.js';

const relaxedSimd = kernelInfo().engine.relaxedSimd;
const nodeMajor = Number(process.versions.node.split('.')[0]);

afterEach(() => setKernelBuild('auto'));

/** Does the wasm binary contain f64x2.relaxed_madd (0xfd, then 0x107 as LEB128)? */
function hasRelaxedMadd(base64: string): boolean {
  const bytes = Buffer.from(base64, 'base64');
  for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0xfd && bytes[i + 1] === 0x87 && bytes[i + 2] === 0x02) return true;
  return false;
}

describe('choosing the build', () => {
  it('reports relaxed SIMD where the engine has it (Node 22 and later), and picks that build by default', () => {
    const info = kernelInfo();
    expect(info.engine.relaxedSimd).toBe(nodeMajor >= 22);
    expect(info).toEqual({ build: info.engine.relaxedSimd ? 'relaxed' : 'plain', choice: 'auto', engine: { relaxedSimd: info.engine.relaxedSimd, threads: true } });
  });

  it("setKernelBuild('plain') forces the plain build, 'auto' gives the choice back", () => {
    setKernelBuild('plain');
    expect(kernelInfo()).toMatchObject({ build: 'plain', choice: 'plain' });
    setKernelBuild('auto');
    expect(kernelInfo().build).toBe(relaxedSimd ? 'relaxed' : 'plain');
  });

  it('rejects an unknown build, and relaxed where the engine lacks it, leaving the choice unchanged', () => {
    setKernelBuild('plain');
    expect(() => setKernelBuild('fast' as KernelBuild)).toThrow(/setKernelBuild\(build\): build must be one of 'auto', 'plain', 'relaxed'; got "fast"/);
    if (relaxedSimd) {
      setKernelBuild('relaxed');
      expect(kernelInfo().build).toBe('relaxed');
    } else {
      expect(() => setKernelBuild('relaxed')).toThrow(KnnError);
      expect(() => setKernelBuild('relaxed')).toThrow(/does not support WebAssembly relaxed SIMD; use 'auto' or 'plain'/);
      expect(kernelInfo()).toMatchObject({ build: 'plain', choice: 'plain' });
    }
  });

  it('only the relaxed build fuses multiply-adds', () => {
    expect(hasRelaxedMadd(relaxedWasmBase64)).toBe(true);
    expect(hasRelaxedMadd(plainWasmBase64)).toBe(false);
  });

  it.skipIf(!relaxedSimd)('a network keeps the build it was fitted on; the next one takes the new choice', async () => {
    const { X, y } = randomData(7, 300, 20);
    setKernelBuild('relaxed');
    const relaxed = await loadKernels('relaxed');
    const plain = await loadKernels('plain');
    // Bytes held by networks: the allocator's total less the shared scratch, which only grows.
    const held = (kernels: typeof plain) => kernels.allocatedBytes() - kernels.scratchBytesHeld();
    const before = { relaxed: held(relaxed), plain: held(plain) };
    const first = await KnnNetwork.fit(X, y, { k: 3 });
    expect(held(relaxed)).toBeGreaterThan(before.relaxed);
    setKernelBuild('plain');
    const second = await KnnNetwork.fit(X, y, { k: 3 });
    const plainHeld = held(plain);
    expect(plainHeld).toBeGreaterThan(before.plain);
    first.add(X, y); // rebuilt in its own instance: the plain one is untouched
    expect(held(plain)).toBe(plainHeld);
    const doubled = await KnnNetwork.fit({ data: Float64Array.from([...X.data, ...X.data]), rows: 600, cols: 20 }, [...y, ...y], { k: 3 });
    expect(Array.from(first.kneighbors(X).indices)).toEqual(Array.from(doubled.kneighbors(X).indices));
    doubled.dispose();
    first.dispose();
    second.dispose();
    expect(held(relaxed)).toBe(before.relaxed);
    expect(held(plain)).toBe(before.plain);
  });
});

type Matrix = { data: Float64Array; rows: number; cols: number };

/** The float64 bits of `values`, so that −0 and +0 (or two NaNs) are told apart and compared exactly. */
const bits = (values: ArrayLike<number>): bigint[] => Array.from(new BigUint64Array(Float64Array.from(values).buffer));

async function fitOn(build: KernelBuild, X: Matrix, y: Label[] | number[], options: KnnOptions): Promise<KnnNetwork> {
  setKernelBuild(build);
  try {
    return await KnnNetwork.fit(X, y, options);
  } finally {
    setKernelBuild('auto');
  }
}

/** Fits X on both builds and checks predict, predictProba, kneighbors, score and forward's z1 bit for bit. */
async function expectSameOnBothBuilds(X: Matrix, y: Label[] | number[], queries: Matrix, truth: Label[] | number[], options: KnnOptions, k: number): Promise<void> {
  const plain = await fitOn('plain', X, y, options);
  const relaxed = await fitOn('relaxed', X, y, options);
  try {
    const a = plain.kneighbors(queries, k);
    const b = relaxed.kneighbors(queries, k);
    expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
    expect(bits(b.distances)).toEqual(bits(a.distances));
    const predictedPlain = plain.predict(queries);
    const predictedRelaxed = relaxed.predict(queries);
    if (predictedPlain instanceof Float64Array) expect(bits(predictedRelaxed as Float64Array)).toEqual(bits(predictedPlain));
    else expect(predictedRelaxed).toEqual(predictedPlain);
    if (options.task !== 'regression') expect(bits(relaxed.predictProba(queries))).toEqual(bits(plain.predictProba(queries)));
    expect(bits([relaxed.score(queries, truth)])).toEqual(bits([plain.score(queries, truth)]));
    if (queries.rows * X.rows <= 20_000) expect(bits(relaxed.forward(queries).z1)).toEqual(bits(plain.forward(queries).z1));
  } finally {
    plain.dispose();
    relaxed.dispose();
  }
}

const WEIGHTINGS = ['uniform', 'distance', 'softmax'] as const;

describe.skipIf(!relaxedSimd)('the relaxed build answers bit for bit as the plain one', () => {
  it('on random shapes, every weighting, k or all, classification and regression', async () => {
    const shape = fc.record({
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      n: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 13, max: 400 }), fc.integer({ min: 401, max: 1500 })),
      // Past 16 features the search runs on the candidate GEMM, where the builds differ.
      d: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 40 }), fc.constantFrom(17, 33, 64)),
      q: fc.integer({ min: 1, max: 9 }),
      grid: fc.constantFrom(0, 0, 2, 3),
      kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      weights: fc.constantFrom(...WEIGHTINGS),
      lambda: fc.constantFrom(0, 1e-3, 1, 30, 1e12),
      all: fc.boolean(),
      regression: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const train = randomData(s.seed, s.n, s.d, { grid: s.grid });
        const test = randomData(s.seed + 1, s.q, s.d, { grid: s.grid });
        const k = Math.max(1, Math.ceil(s.kFraction * Math.min(s.n, 40)));
        const y = s.regression ? train.y.map((label, i) => Number(label) * 1.5 + i * 0.01) : train.y;
        const truth = s.regression ? test.y.map(Number) : test.y;
        const options: KnnOptions = { k: s.all ? 'all' : k, weights: s.weights, lambda: s.lambda, task: s.regression ? 'regression' : 'classification' };
        await expectSameOnBothBuilds(train.X, y, test.X, truth, options, k);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  function noisy(seed: number, n: number, d: number, centre: (i: number) => number, scale = 1): Matrix {
    const random = new SeededRandom(seed);
    const data = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = centre(i) + scale * random.uniform();
    return { data, rows: n, cols: d };
  }

  const D = 24; // past the direct search's 16 features: the candidate GEMM, recheck and proof
  const LIMIT = magnitudeLimit(D);
  const TRAPS: { name: string; train: Matrix; queries: Matrix }[] = [
    { name: 'a common offset of 1e8', train: noisy(1, 2000, D, () => 1e8), queries: noisy(2, 60, D, () => 1e8) },
    { name: 'clusters at ±1e7', train: noisy(3, 1500, D, (i) => (i % 2 ? 1e7 : -1e7)), queries: noisy(4, 60, D, (i) => (i % 2 ? 1e7 : -1e7)) },
    { name: 'ties on a grid', train: gridData(6, 1200, D), queries: gridData(7, 40, D) },
    { name: 'subnormals', train: noisy(8, 800, D, () => 0, 1e-320), queries: noisy(9, 40, D, () => 0, 1e-320) },
    { name: 'values up to the accepted limit', train: noisy(10, 800, D, () => -LIMIT, 2 * LIMIT), queries: noisy(11, 40, D, () => -LIMIT, 2 * LIMIT) },
    { name: 'distances that differ in the last bits', train: lastBits(500, D), queries: { data: lastBits(500, D).data.slice(0, 30 * D), rows: 30, cols: D } },
  ];

  function gridData(seed: number, n: number, d: number): Matrix {
    const random = new SeededRandom(seed);
    return { data: Float64Array.from({ length: n * d }, () => Math.floor(random.uniform() * 3)), rows: n, cols: d };
  }

  function lastBits(n: number, d: number): Matrix {
    const data = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = 1 + ((i * 7 + j * 13) % 17) * Number.EPSILON;
    return { data, rows: n, cols: d };
  }

  it.each(TRAPS)('on the precision trap "$name", every weighting, k from 1 to 20', async ({ train, queries }) => {
    const y = Array.from({ length: train.rows }, (_, i) => i % 3);
    const truth = Array.from({ length: queries.rows }, (_, i) => i % 3);
    const targets = Array.from({ length: train.rows }, (_, i) => (i % 7) * 0.25);
    for (const k of [1, 5, 20]) {
      for (const weights of WEIGHTINGS) await expectSameOnBothBuilds(train, y, queries, truth, { k, weights }, k);
      await expectSameOnBothBuilds(train, targets, queries, truth.map((t) => t * 0.5), { k, task: 'regression', weights: 'distance' }, k);
    }
  }, 120_000);
});
