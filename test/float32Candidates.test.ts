// The float32 candidate search (d > 16): a float32 GEMM chooses candidates, direct float64
// differences recheck them, and a bound on float32's rounding proves the selection. A query it
// cannot prove goes to the float64 search. Each test forces a path (the kernels count the
// queries handed to float64) and compares with the reference bit for bit.
import { describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork } from '../src/index.js';
import { magnitudeLimit } from '../src/matrix.js';
import { ReferenceNetwork } from '../src/reference.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels } from '../src/wasm.js';

type Matrix = { data: Float64Array; rows: number; cols: number };

const kernels = await loadKernels();
const unproven = (): number => kernels.exports.float32UnprovenQueries();

function uniform(seed: number, rows: number, cols: number, scale = 1, offset = 0): Matrix {
  const random = new SeededRandom(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = offset + (random.uniform() * 2 - 1) * scale;
  return { data, rows, cols };
}

const labels = (n: number): number[] => Array.from({ length: n }, (_, i) => i % 3);

/**
 * Fits with float32 candidates on and off and checks both against the reference, bit for bit,
 * for each k; returns how many queries (over all k) the float32 search handed to float64.
 */
async function compare(train: Matrix, queries: Matrix, ks: number[]): Promise<number> {
  const y = labels(train.rows);
  let handedOver = 0;
  for (const k of ks) {
    const reference = await ReferenceNetwork.fit(train, y, { k });
    const expected = reference.kneighbors(queries, k);
    for (const float32Candidates of [true, false]) {
      const network = await KnnNetwork.fit(train, y, { k, float32Candidates });
      const before = unproven();
      const ours = network.kneighbors(queries, k);
      const counted = unproven() - before;
      if (float32Candidates) handedOver += counted;
      else expect(counted, 'float32Candidates: false never runs the float32 search').toBe(0);
      expect(Array.from(ours.indices), `indices, k = ${k}, float32Candidates ${float32Candidates}`).toEqual(Array.from(expected.indices));
      expect(Array.from(ours.distances), `distances, k = ${k}, float32Candidates ${float32Candidates}`).toEqual(Array.from(expected.distances));
      expect(network.predict(queries)).toEqual(reference.predict(queries));
      // One query per call: a group of one query (float32DistanceGemmSingle), on the one-query plan.
      for (let r = 0; r < Math.min(queries.rows, 6); r++) {
        const single = network.kneighbors(queries.data.subarray(r * queries.cols, (r + 1) * queries.cols), k);
        expect(Array.from(single.indices), `query ${r} alone, k = ${k}`).toEqual(Array.from(expected.indices.subarray(r * k, (r + 1) * k)));
        expect(Array.from(single.distances), `query ${r} alone, k = ${k}`).toEqual(Array.from(expected.distances.subarray(r * k, (r + 1) * k)));
      }
      network.dispose();
    }
  }
  return handedOver;
}

describe('float32 candidates, float64 proof', () => {
  it('proves every query on ordinary data, over odd d, ragged panels, several chunks and groups of four', async () => {
    for (const [d, n, q] of [[17, 1201, 7], [20, 1500, 300], [33, 2003, 61], [64, 1000, 5]]) {
      const handedOver = await compare(uniform(d, n, d), uniform(d + 100, q, d), [1, 5, 13]);
      expect(handedOver, `d = ${d}: every query proven in float32`).toBe(0);
    }
  });

  it('hands to float64 the queries whose nearest points float32 cannot tell apart, and only those, in any mix', async () => {
    const d = 24;
    const random = new SeededRandom(7);
    const base = uniform(8, 1600, d);
    // 12 groups of 16 points within 1e-12 of a centre: their distances to a query on that
    // centre are ~1e-24, far below the float32 GEMM's rounding (~1e-5 here). The centres lie
    // in [2, 3]^d, away from the ordinary points, so no ordinary query meets a group (whose
    // 16 near-ties would defeat the proof too).
    const groups = 12;
    const train = new Float64Array((1600 + groups * 16) * d);
    train.set(base.data);
    const centres: number[][] = [];
    for (let g = 0; g < groups; g++) {
      const centre = Array.from({ length: d }, () => 2 + random.uniform());
      centres.push(centre);
      for (let copy = 0; copy < 16; copy++) {
        for (let j = 0; j < d; j++) train[(1600 + g * 16 + copy) * d + j] = centre[j] + (random.uniform() - 0.5) * 1e-12;
      }
    }
    // Queries alternate: an ordinary point, a point on a group's centre (q = 299: two chunks,
    // a ragged group of four at the end).
    const q = 299;
    const queries = new Float64Array(q * d);
    let tricky = 0;
    for (let r = 0; r < q; r++) {
      for (let j = 0; j < d; j++) queries[r * d + j] = r % 3 === 1 ? centres[r % groups][j] : random.uniform() * 2 - 1;
      if (r % 3 === 1) tricky++;
    }
    const handedOver = await compare({ data: train, rows: 1600 + groups * 16, cols: d }, { data: queries, rows: q, cols: d }, [1, 5]);
    expect(handedOver).toBe(2 * tricky);
  });

  it('hands to float64 every query of two clusters at ±1e7, where float32 cannot separate unit-spaced points', async () => {
    const d = 20;
    const train = uniform(11, 1500, d);
    const queries = uniform(12, 40, d);
    for (const m of [train, queries]) for (let i = 0; i < m.rows; i++) for (let j = 0; j < d; j++) m.data[i * d + j] += i % 2 ? 1e7 : -1e7;
    const handedOver = await compare(train, queries, [1, 3, 8]);
    expect(handedOver).toBe(3 * 40);
  });

  it('a dense cluster far from the mean: float32 proves the far points and hands over the cluster', async () => {
    const d = 18;
    const cluster = uniform(13, 1000, d, 1e-3, 1e4);
    const spread = uniform(14, 1000, d, 1e4);
    const train = { data: new Float64Array([...cluster.data, ...spread.data]), rows: 2000, cols: d };
    const queries = { data: new Float64Array([...uniform(15, 20, d, 1e-3, 1e4).data, ...uniform(16, 20, d, 1e4).data]), rows: 40, cols: d };
    const handedOver = await compare(train, queries, [5]);
    expect(handedOver, 'the cluster queries, not the spread ones').toBe(20);
  });

  it('values near the accepted limit (float32 overflows at 3.4e38): the scaled copy proves them', async () => {
    const d = 20;
    const limit = magnitudeLimit(d);
    const handedOver = await compare(uniform(17, 800, d, limit), uniform(18, 30, d, limit), [1, 5]);
    expect(handedOver).toBe(0);
  });

  it('a query beyond float32 range at the data scale goes to float64, with the others proven', async () => {
    const d = 20;
    const train = uniform(19, 800, d);
    const queries = uniform(20, 9, d);
    queries.data[4 * d + 3] = magnitudeLimit(d); // 1e152 against data below 1
    queries.data[7 * d] = -1e45;
    const handedOver = await compare(train, queries, [1, 4]);
    expect(handedOver).toBe(2 * 2);
  });

  it('subnormal, tiny (squares underflow) and mixed-scale data', async () => {
    const d = 19;
    const subnormal = (seed: number, rows: number): Matrix => {
      const m = uniform(seed, rows, d);
      for (let i = 0; i < m.data.length; i++) m.data[i] = Math.round(m.data[i] * 20) * Number.MIN_VALUE;
      return m;
    };
    await compare(subnormal(21, 600), subnormal(22, 20), [1, 5]);
    await compare(uniform(23, 600, d, 1e-160), uniform(24, 20, d, 1e-160), [1, 5]);
    const mixed = uniform(25, 600, d);
    for (let i = 0; i < 600; i++) mixed.data[i * d] *= 1e-300;
    await compare(mixed, uniform(26, 20, d), [3]);
  });

  it('ties on an integer grid, and a 1e8 offset', async () => {
    const d = 17;
    const grid = (seed: number, rows: number): Matrix => {
      const m = uniform(seed, rows, d);
      for (let i = 0; i < m.data.length; i++) m.data[i] = Math.round(m.data[i] * 2);
      return m;
    };
    await compare(grid(27, 1000), grid(28, 30), [1, 6, 20]);
    await compare(uniform(29, 1000, d, 1, 1e8), uniform(30, 30, d, 1, 1e8), [1, 5]);
  });
});

describe('float32 candidates for 8 ≤ d ≤ 16, from 3 000 points (instead of direct differences)', () => {
  for (const d of [8, 11, 16]) {
    it(`d = ${d}: ordinary data proven in float32, and the precision traps`, async () => {
      const n = 3000;
      expect(await compare(uniform(50 + d, n, d), uniform(60 + d, 37, d), [1, 5, 12]), 'every ordinary query proven').toBe(0);
      await compare(uniform(70 + d, n, d, 1, 1e8), uniform(80 + d, 20, d, 1, 1e8), [1, 5]);
      const clusters = uniform(90 + d, n, d);
      const clusterQueries = uniform(100 + d, 20, d);
      for (const m of [clusters, clusterQueries]) for (let i = 0; i < m.data.length; i++) m.data[i] += Math.floor(i / d) % 2 ? 1e7 : -1e7;
      expect(await compare(clusters, clusterQueries, [3]), 'the ±1e7 clusters go to float64').toBe(20);
      const grid = uniform(110 + d, n, d);
      for (let i = 0; i < grid.data.length; i++) grid.data[i] = Math.round(grid.data[i] * 2);
      await compare(grid, { data: grid.data.slice(0, 15 * d), rows: 15, cols: d }, [1, 7]);
      const subnormal = uniform(120 + d, n, d);
      for (let i = 0; i < subnormal.data.length; i++) subnormal.data[i] = Math.round(subnormal.data[i] * 20) * Number.MIN_VALUE;
      await compare(subnormal, { data: subnormal.data.slice(0, 10 * d), rows: 10, cols: d }, [4]);
      const limit = magnitudeLimit(d);
      await compare(uniform(130 + d, n, d, limit), uniform(140 + d, 10, d, limit), [2]);
    });
  }
});

describe('the float32Candidates option', () => {
  it('is validated, saved by toBytes and kept by add', async () => {
    const train = uniform(31, 600, 20);
    await expect(KnnNetwork.fit(train, labels(600), { float32Candidates: 'yes' as never })).rejects.toThrow(/options\.float32Candidates must be true or false/);
    const network = await KnnNetwork.fit(train, labels(600), { k: 3, float32Candidates: false });
    const copy = await KnnNetwork.fromBytes(network.toBytes());
    expect(copy.options.float32Candidates).toBe(false);
    const before = unproven();
    copy.add(uniform(32, 50, 20), labels(50));
    const queries = uniform(33, 20, 20);
    const grown = await ReferenceNetwork.fit({ data: new Float64Array([...train.data, ...uniform(32, 50, 20).data]), rows: 650, cols: 20 }, [...labels(600), ...labels(50)], { k: 3 });
    expect(Array.from(copy.kneighbors(queries).indices)).toEqual(Array.from(grown.kneighbors(queries).indices));
    expect(copy.options.float32Candidates).toBe(false);
    expect(unproven()).toBe(before);
    network.dispose();
    copy.dispose();
  });

  it('the size check of training data in one memory counts the float32 copy, and says how to do without it', async () => {
    // 240 000 × 1000: 3.8 GB of float64 copies fits wasm32's 4 GiB, 4.8 GB with the float32 copy does not.
    // (fit holds it in shards: a first add to a created network is held in one memory.)
    const X = { data: new Array<number>(240_000 * 1000), rows: 240_000, cols: 1000 };
    const firstAdd = async (options: { float32Candidates?: boolean }) => (await KnnNetwork.create(options)).add(X, []);
    const error = await firstAdd({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnnError);
    expect((error as KnnError).code).toBe('TOO_LARGE');
    expect((error as KnnError).message).toMatch(/float32Candidates: false/);
    const without = await firstAdd({ float32Candidates: false }).catch((e: unknown) => e);
    expect((without as KnnError).code, 'past the size check, the first missing value is named').toBe('BAD_INPUT');
  });
});

// The bound itself: the float32 GEMM's arithmetic emulated in JavaScript, both roundings (a
// multiply then an add, as the plain SIMD build; one fused multiply-add, as the relaxed one),
// against the exact squared distance in integer arithmetic. Math.fround of a float64 sum or
// product of two float32 values is the float32 operation itself (53 ≥ 2·24 + 2 bits).
describe('candidateErrorBound covers float32 rounding of the data and the arithmetic', () => {
  const bitsView = new DataView(new ArrayBuffer(8));

  /** x·2^1074 exactly (every float64 is a multiple of 2^−1074). */
  function exact(x: number): bigint {
    bitsView.setFloat64(0, x);
    const bits = bitsView.getBigUint64(0);
    const exponent = Number((bits >> 52n) & 0x7ffn);
    const fraction = bits & ((1n << 52n) - 1n);
    const value = exponent === 0 ? fraction : (fraction | (1n << 52n)) << BigInt(exponent - 1);
    return bits >> 63n ? -value : value;
  }

  const float32Bits = new Float32Array(1);
  const float32Int = new Int32Array(float32Bits.buffer);
  /** The float32 next to f (a float32) in the direction of `toward`. */
  function nextFloat32(f: number, toward: number): number {
    if (f === 0) return Math.sign(toward) * 2 ** -149;
    float32Bits[0] = f;
    float32Int[0] += (toward > f) === (f > 0) ? 1 : -1;
    return float32Bits[0];
  }

  /** fl32(a·b + c), rounded once: the product is exact in float64, the sum's error recovered by TwoSum. */
  function fused(a: number, b: number, c: number): number {
    const product = a * b;
    const sum = product + c;
    const virtual = sum - product;
    const error = product - (sum - virtual) + (c - virtual);
    const rounded = Math.fround(sum);
    if (error === 0 || rounded === sum) return rounded;
    const other = nextFloat32(rounded, sum);
    // Only a sum on a float32 midpoint can round the wrong way: the error decides.
    if (Math.abs(other - sum) !== Math.abs(sum - rounded)) return rounded;
    return (other > rounded) === (error > 0) ? other : rounded;
  }

  /** The largest |z − D| / B over the points, z as the GEMM computes it (one build's rounding). */
  function worstRatio(query: number[], points: number[][], mean: number[], fusedBuild: boolean): number {
    const d = query.length;
    const centre = (row: number[]) => row.map((value, j) => Math.fround(value - mean[j]));
    const p = centre(query);
    const norm = (v: number[]) => v.reduce((sum, value) => sum + value * value, 0);
    const copies = points.map(centre);
    const bound = kernels.exports.candidateErrorBound(norm(p), Math.max(...copies.map(norm)), d);
    let worst = 0;
    points.forEach((point, i) => {
      const weights = copies[i].map((value) => -2 * value);
      let dot = 0;
      for (let j = 0; j < d; j++) dot = fusedBuild ? fused(weights[j], p[j], dot) : Math.fround(dot + Math.fround(weights[j] * p[j]));
      const z = dot + norm(copies[i]) + norm(p);
      let distance = 0n;
      for (let j = 0; j < d; j++) distance += (exact(query[j]) - exact(point[j])) ** 2n;
      const error = exact(z) * 2n ** 1074n - distance;
      const allowed = exact(bound) * 2n ** 1074n;
      const magnitude = error < 0n ? -error : error;
      worst = Math.max(worst, Number((magnitude * 1_000_000n) / allowed) / 1_000_000);
    });
    return worst;
  }

  const random = new SeededRandom(41);
  const vector = (d: number, value: (j: number) => number): number[] => Array.from({ length: d }, (_, j) => value(j));
  // Each family: a query, points, and a mean (the centring is part of what is bounded).
  const families: Record<string, (d: number) => { query: number[]; points: number[][]; mean: number[] }> = {
    'uniform in [−1, 1]': (d) => ({
      query: vector(d, () => random.uniform() * 2 - 1),
      points: Array.from({ length: 20 }, () => vector(d, () => random.uniform() * 2 - 1)),
      mean: vector(d, () => (random.uniform() - 0.5) * 0.1),
    }),
    'every value just past a float32 midpoint (all roundings one way)': (d) => ({
      query: vector(d, () => 0.75 + 2 ** -26 + 2 ** -40),
      points: Array.from({ length: 10 }, (_, i) => vector(d, () => -0.75 - 2 ** -26 - i * 2 ** -45)),
      mean: vector(d, () => 0),
    }),
    'points on the query (distance 0 to 1e-20, all rounding)': (d) => {
      const query = vector(d, () => random.uniform() * 2 - 1);
      return { query, points: Array.from({ length: 10 }, (_, i) => query.map((value) => value + i * 1e-20)), mean: vector(d, () => 0.3) };
    },
    'a far cluster: offset 1e3 of unit noise, uncentred mean': (d) => ({
      query: vector(d, () => 1000 + random.uniform()),
      points: Array.from({ length: 10 }, () => vector(d, () => 1000 + random.uniform())),
      mean: vector(d, () => 0),
    }),
    'products below float32 normal range (values near 2^−70)': (d) => ({
      query: vector(d, (j) => (j % 2 ? 1 : 2 ** -70) * (1 + random.uniform())),
      points: Array.from({ length: 10 }, () => vector(d, (j) => (j % 3 ? 2 ** -70 : 0.5) * random.uniform())),
      mean: vector(d, () => 0),
    }),
  };

  for (const [family, make] of Object.entries(families)) {
    it(family, () => {
      for (const d of [17, 64, 300]) {
        const { query, points, mean } = make(d);
        for (const fusedBuild of [false, true]) {
          expect(worstRatio(query, points, mean, fusedBuild), `d = ${d}, ${fusedBuild ? 'fused' : 'unfused'}`).toBeLessThanOrEqual(1);
        }
      }
    });
  }
});
