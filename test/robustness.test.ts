// Property tests (fast-check) over shapes and values: tiny and huge magnitudes (up to the
// accepted limit of src/matrix.ts and just past it), subnormals, duplicates, constant columns,
// a large common offset, d = 1. Every generated case either matches the reference network
// (neighbours bit-for-bit, the same votes) or raises the same KnnError: never a wrong answer,
// never a crash.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions } from '../src/index.js';
import { magnitudeLimit } from '../src/matrix.js';
import { ReferenceNetwork } from '../src/reference.js';
import { argmaxLabels } from '../src/scoring.js';
import { bits, KERNEL_BUILDS, onKernelBuild } from './helpers.js';

type Family = 'unit' | 'grid' | 'tiny' | 'subnormal' | 'huge' | 'offset' | 'clusters' | 'mixed';
const FAMILIES: readonly Family[] = ['unit', 'grid', 'tiny', 'subnormal', 'huge', 'offset', 'clusters', 'mixed'];

/**
 * Values of one family for d features. 'huge' spans ±factor × magnitudeLimit(d), the limit
 * itself included; a factor above 1 puts some values past it, which must be rejected.
 */
function values(family: Family, d: number, factor: number): fc.Arbitrary<number> {
  const unit = fc.double({ min: -1, max: 1, noNaN: true });
  const limit = magnitudeLimit(d) * factor;
  const byFamily: Record<Exclude<Family, 'mixed'>, fc.Arbitrary<number>> = {
    unit,
    grid: fc.integer({ min: -2, max: 2 }),
    tiny: unit.map((v) => v * 1e-300),
    subnormal: fc.integer({ min: -20, max: 20 }).map((i) => i * Number.MIN_VALUE),
    huge: fc.oneof(unit.map((v) => v * limit), fc.constantFrom(limit, -limit, limit * (1 - 2 ** -52), 0)),
    offset: fc.integer({ min: -1000, max: 1000 }).map((i) => 1e8 + i * 1e-3),
    // Two clusters far apart with unit spacing inside: centring cannot remove the offset, and
    // the expansion's rounding (≈ u·centre²) dwarfs the distances that decide the neighbours.
    clusters: fc.tuple(fc.constantFrom(-1, 1), fc.constantFrom(1e7, 1e15), fc.integer({ min: -3, max: 3 })).map(([side, centre, i]) => side * centre + i),
  };
  return family === 'mixed' ? fc.oneof(...Object.values(byFamily)) : byFamily[family];
}

interface Case {
  X: number[][];
  y: (number | string)[];
  Q: number[][];
  options: KnnOptions;
  k: number;
}

/** A training set of n × d values of one family, with constant columns, duplicate rows, and queries on training points. */
const cases: fc.Arbitrary<Case> = fc
  .record({
    // d past 16 takes the fused-GEMM search; up to 16, the direct one.
    d: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 8, max: 16 }), fc.integer({ min: 17, max: 20 })),
    n: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 40, max: 160 })),
    q: fc.integer({ min: 1, max: 6 }),
    family: fc.constantFrom(...FAMILIES),
    factor: fc.constantFrom(0.25, 0.9, 1, 1, 1.01),
    regression: fc.boolean(),
    // Past 16 features, candidates come from the float32 copy unless it is turned off.
    float32Candidates: fc.boolean(),
  })
  .chain(({ d, n, q, family, factor, regression, float32Candidates }) =>
    fc.record({
      X: fc.array(fc.array(values(family, d, factor), { minLength: d, maxLength: d }), { minLength: n, maxLength: n }),
      Q: fc.array(fc.array(values(family, d, factor), { minLength: d, maxLength: d }), { minLength: q, maxLength: q }),
      constantColumns: fc.array(fc.boolean(), { minLength: d, maxLength: d }),
      duplicates: fc.array(fc.nat({ max: n - 1 }), { maxLength: Math.min(n, 20) }),
      onTraining: fc.array(fc.nat({ max: n - 1 }), { maxLength: q }),
      y: regression
        ? fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e-300, max: 1e-300, noNaN: true })), { minLength: n, maxLength: n })
        : fc.array(fc.constantFrom<number | string>(0, 1, 2, 3), { minLength: n, maxLength: n }),
      k: fc.oneof(fc.integer({ min: 1, max: Math.min(n, 3) }), fc.integer({ min: 1, max: n }), fc.constant<'all'>('all')),
      weights: fc.constantFrom('uniform', 'distance', 'softmax') as fc.Arbitrary<'uniform' | 'distance' | 'softmax'>,
      lambda: fc.constantFrom(0, 1, 0.37, 1e12, 1e300),
      queryK: fc.integer({ min: 1, max: n }),
    }).map(({ X, Q, constantColumns, duplicates, onTraining, y, k, weights, lambda, queryK }) => {
      constantColumns.forEach((constant, j) => {
        if (constant) for (const row of X) row[j] = X[0][j];
      });
      duplicates.forEach((source, i) => (X[(source + i + 1) % n] = [...X[source]]));
      onTraining.forEach((source, i) => (Q[i] = [...X[source]]));
      const options: KnnOptions = { k, weights, lambda, float32Candidates, ...(regression ? { task: 'regression' as const } : {}) };
      return { X, y, Q, options, k: Math.min(queryK, 3 + (queryK % 5)) };
    }),
  );

/** The outcome of a call: its value, or the KnnError code it raised. Anything else thrown is a crash and fails the property. */
function outcome<T>(call: () => T): { value: T } | { code: string } {
  try {
    return { value: call() };
  } catch (error) {
    if (!(error instanceof KnnError)) throw error;
    return { code: error.code };
  }
}

/** Probabilities of the softmax votes: computed with exp in wasm and Math.exp in the reference, so equal to rounding. */
function expectClose(ours: Float64Array, theirs: Float64Array, relative: number, what: string): void {
  expect(ours.length, what).toBe(theirs.length);
  for (let i = 0; i < ours.length; i++) {
    const tolerance = relative * Math.max(1, Math.abs(theirs[i]));
    expect(Math.abs(ours[i] - theirs[i]), `${what}[${i}]: ${ours[i]} vs ${theirs[i]}`).toBeLessThanOrEqual(tolerance);
  }
}

async function checkCase({ X, y, Q, options, k }: Case): Promise<void> {
  const fitted = outcome(() => ReferenceNetwork.fitSync(X, y, options));
  let wasm: KnnNetwork | undefined;
  let wasmFit: { value: KnnNetwork } | { code: string };
  try {
    wasm = await KnnNetwork.fit(X, y, options);
    wasmFit = { value: wasm };
  } catch (error) {
    if (!(error instanceof KnnError)) throw error;
    wasmFit = { code: error.code };
  }
  if ('code' in fitted) {
    expect(wasmFit, 'both reject the training data with the same code').toEqual(fitted);
    return;
  }
  expect('code' in wasmFit ? wasmFit.code : 'fitted', 'the reference accepted the training data').toBe('fitted');
  const reference = fitted.value;
  try {
    const net = wasm!;
    const ours = outcome(() => net.kneighbors(Q, k));
    const theirs = outcome(() => reference.kneighbors(Q, k));
    if ('code' in theirs || 'code' in ours) {
      expect(ours).toEqual(theirs);
      return;
    }
    expect(Array.from(ours.value.indices), 'kneighbors indices').toEqual(Array.from(theirs.value.indices));
    expect(bits(ours.value.distances), 'kneighbors distances, bit for bit').toEqual(bits(theirs.value.distances));

    const regression = options.task === 'regression';
    const ourScores = regression ? (net.predict(Q) as Float64Array) : net.predictProba(Q);
    const theirScores = regression ? (reference.predict(Q) as Float64Array) : reference.predictProba(Q);
    for (const score of ourScores) expect(Number.isFinite(score), 'scores are finite').toBe(true);
    if (!regression) {
      const c = net.classes.length;
      for (let r = 0; r < Q.length; r++) {
        const sum = ourScores.subarray(r * c, (r + 1) * c).reduce((a, b) => a + b, 0);
        expect(Math.abs(sum - 1), 'probabilities sum to 1').toBeLessThan(1e-12);
      }
      // predict takes its argmax in wasm: it must be the argmax of these very scores.
      expect(net.predict(Q), 'predict is the argmax of predictProba').toEqual(argmaxLabels(ourScores, Q.length, net.classes));
    }
    if (options.weights !== 'softmax') {
      // Uniform and 1/distance votes: the same neighbours, added in the same order.
      expect(bits(ourScores), 'votes, bit for bit').toEqual(bits(theirScores));
      if (!regression) expect(net.predict(Q)).toEqual(reference.predict(Q));
    } else if (options.k !== 'all') {
      expectClose(ourScores, theirScores, 1e-12, 'softmax votes over the k nearest');
    } else {
      // k = 'all': layer 1 is the fused expansion, exact to (2d + 16)·u·(‖x̃‖ + max‖X̃‖)²; only
      // where λ times that bound is negligible must the softmax agree with direct distances.
      const d = X[0].length;
      const mean = X[0].map((_, j) => X.reduce((s, row) => s + row[j], 0) / X.length);
      const norm = (row: number[]): number => Math.sqrt(row.reduce((s, v, j) => s + (v - mean[j]) ** 2, 0));
      const radius = Math.max(...X.map(norm)) + Math.max(...Q.map(norm));
      const bound = (2 * d + 16) * 2 ** -53 * radius * radius;
      if ((options.lambda ?? 1) * bound < 1e-9) expectClose(ourScores, theirScores, 1e-6, 'softmax over every point');
    }
    checkLayers(net, Q);
    await checkAddAndBytes(net, X, y, Q, options, k);
  } finally {
    wasm?.dispose();
  }
}

/** forward: z1 ≥ 0 and finite, each z2 row a distribution, z3 the scores predictProba gives. */
function checkLayers(net: KnnNetwork, Q: number[][]): void {
  const { z1, z2, z3 } = net.forward(Q);
  const n = net.nSamples;
  for (const z of z1) expect(z >= 0 && z < Infinity, `z1 value ${z}`).toBe(true);
  for (let r = 0; r < Q.length; r++) {
    const row = z2.subarray(r * n, (r + 1) * n);
    for (const w of row) expect(w >= 0 && w <= 1, `z2 value ${w}`).toBe(true);
    expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1), 'z2 row sums to 1').toBeLessThan(1e-9);
  }
  const scores = net.options.task === 'regression' ? (net.predict(Q) as Float64Array) : net.predictProba(Q);
  expect(bits(z3), 'z3 is what predict gives').toEqual(bits(scores));
}

/** A network grown by add() answers as the one fitted on the union; toBytes → fromBytes answers bit for bit. */
async function checkAddAndBytes(net: KnnNetwork, X: number[][], y: (number | string)[], Q: number[][], options: KnnOptions, k: number): Promise<void> {
  const half = Math.ceil(X.length / 2);
  const start = { ...options, k: options.k === 'all' ? 'all' : Math.min(options.k ?? 1, half) } as KnnOptions;
  const grown = await KnnNetwork.fit(X.slice(0, half), y.slice(0, half), start);
  const copy = await KnnNetwork.fromBytes(net.toBytes());
  try {
    if (half < X.length) grown.add(X.slice(half), y.slice(half));
    for (const other of [grown, copy]) {
      const ours = other.kneighbors(Q, k);
      const theirs = net.kneighbors(Q, k);
      expect(Array.from(ours.indices)).toEqual(Array.from(theirs.indices));
      expect(bits(ours.distances)).toEqual(bits(theirs.distances));
    }
    const scores = (n: KnnNetwork): Float64Array => (n.options.task === 'regression' ? (n.predict(Q) as Float64Array) : n.predictProba(Q));
    expect(bits(scores(copy)), 'fromBytes answers bit for bit').toEqual(bits(scores(net)));
  } finally {
    grown.dispose();
    copy.dispose();
  }
}

describe.each(KERNEL_BUILDS)('robustness (%s build): every generated case matches the reference or raises the same KnnError', (build) => {
  onKernelBuild(build);

  it('over shapes, magnitudes, subnormals, duplicates, constant columns and d = 1', async () => {
    await fc.assert(fc.asyncProperty(cases, checkCase), { seed: 20240611, numRuns: 1500 });
  }, 60_000);

  it('score gives a finite R² for regression targets near the accepted limit (never ∞/∞ = NaN)', async () => {
    const X = [[0], [1]];
    const targets = [4e307, -4e307]; // accepted: |y| ≤ MAX_VALUE / (2n)
    for (const Network of [KnnNetwork, ReferenceNetwork]) {
      const exact = await Network.fit(X, targets, { k: 1, task: 'regression' });
      const mean = await Network.fit(X, targets, { k: 2, task: 'regression' });
      expect(exact.score(X, targets)).toBe(1);
      expect(mean.score(X, targets)).toBe(0); // predicts the mean, 0, for both points
      exact.dispose();
      mean.dispose();
    }
  });
});
