// Precision traps: data where the distance expansion ‖x‖² − 2x·X + ‖X‖² loses the digits that
// decide the neighbours. The network must still report exactly what brute force with direct
// differences reports, ties toward the lower index: on one thread, and on a pool of two, where
// every async call goes to the workers (split by queries, or by training rows for a few).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPoolThreshold } from '../src/chunkRunner.js';
import { KnnNetwork, type KnnOptions } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels } from '../src/wasm.js';
import { KERNEL_BUILDS, onKernelBuild } from './helpers.js';

type Matrix = { data: Float64Array; rows: number; cols: number };

/** The threads the traps' networks run on (set by the enclosing describe block). */
let threads = 1;

function fitOnThreads(train: Matrix, y: number[], options: KnnOptions): Promise<KnnNetwork> {
  return KnnNetwork.fit(train, y, { ...options, threads });
}

/** The network's neighbours of `queries` are the reference's, bit for bit, sync and (on a pool) async. */
async function expectSameNeighbours(wasm: KnnNetwork, reference: ReferenceNetwork, queries: Matrix, k: number): Promise<void> {
  const theirs = reference.kneighbors(queries, k);
  const answers = [wasm.kneighbors(queries, k)];
  if (wasm.threads > 1) answers.push(await wasm.kneighborsAsync(queries, k));
  for (const ours of answers) {
    expect(Array.from(ours.indices)).toEqual(Array.from(theirs.indices));
    expect(Array.from(ours.distances)).toEqual(Array.from(theirs.distances));
  }
}

/** Fits a network for each k and checks its neighbours of `queries` against the reference's. */
async function expectSameForEachK(train: Matrix, y: number[], queries: Matrix, ks: number[], float32Candidates: boolean): Promise<void> {
  for (const k of ks) {
    const wasm = await fitOnThreads(train, y, { k, float32Candidates });
    await expectSameNeighbours(wasm, await ReferenceNetwork.fit(train, y, { k }), queries, k);
    wasm.dispose();
  }
}

function noisyData(seed: number, n: number, d: number, centre: (i: number) => number): Matrix {
  const random = new SeededRandom(seed);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = centre(i) + random.uniform();
  return { data, rows: n, cols: d };
}

// Each trap runs on every search path: direct differences (d ≤ directPanelDimensions, forced
// by turning the float32 copy off: with it, networks of 3 000 points or more take the float32
// GEMM), and past that (the same data widened) the float32 GEMM's candidates with their float64
// proof (falling back to the float64 search), and the float64 GEMM alone with its recheck, proof
// and second pass. test/float32Candidates.test.ts runs them on the float32 GEMM for small d.
const kernels = await loadKernels();
const gemmExtra = kernels.exports.directPanelDimensions();
const PATHS = [
  { path: 'direct differences', extra: 0, float32Candidates: false },
  { path: 'float32 candidates, float64 proof', extra: gemmExtra, float32Candidates: true },
  { path: 'fused float64 GEMM, recheck and proof', extra: gemmExtra, float32Candidates: false },
];

// …and on each kernel build the engine runs: the relaxed build's candidate GEMMs fuse their
// multiply-adds, which must not change a single reported bit.
describe.each(KERNEL_BUILDS.flatMap((build) => [1, 2].map((count) => ({ build, count }))))('on the $build build, $count thread(s)', ({ build, count }) => {
  onKernelBuild(build);
  let defaultThreshold = 0;
  beforeAll(() => {
    threads = count;
    defaultThreshold = setPoolThreshold(0);
  });
  afterAll(() => {
    threads = 1;
    setPoolThreshold(defaultThreshold);
  });

  describe.each(PATHS)('exact neighbours where the expansion loses digits ($path)', ({ extra, float32Candidates }) => {
    it('a huge common offset: every feature ≈ 1e8 + noise', async () => {
      const train = noisyData(1, 2000, 6 + extra, () => 1e8);
      const queries = noisyData(2, 200, 6 + extra, () => 1e8);
      await expectSameForEachK(train, Array.from({ length: 2000 }, (_, i) => i % 3), queries, [1, 5, 20], float32Candidates);
    });

    it('two far clusters at ±1e7, where centring alone does not save the expansion', async () => {
      const train = noisyData(3, 1500, 4 + extra, (i) => (i % 2 ? 1e7 : -1e7));
      const queries = noisyData(4, 150, 4 + extra, (i) => (i % 2 ? 1e7 : -1e7));
      await expectSameForEachK(train, Array.from({ length: 1500 }, (_, i) => i % 2), queries, [1, 3, 8], float32Candidates);
    });

    it('points so close that their distances differ in the last bits', async () => {
      const d = 3 + extra;
      const n = 500;
      const data = new Float64Array(n * d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = 1 + (((i * 7 + j * 13) % 17) * Number.EPSILON);
      const train = { data, rows: n, cols: d };
      const y = Array.from({ length: n }, (_, i) => i % 4);
      const wasm = await fitOnThreads(train, y, { k: 5, float32Candidates });
      await expectSameNeighbours(wasm, await ReferenceNetwork.fit(train, y, { k: 5 }), { data: data.slice(0, 60 * d), rows: 60, cols: d }, 5);
      wasm.dispose();
    });

    it('many exact duplicates at the boundary: ties go to the lower training index', async () => {
      const d = 5 + extra;
      const n = 300;
      const data = new Float64Array(n * d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = i % 3;
      const y = Array.from({ length: n }, (_, i) => i % 2);
      const train = { data, rows: n, cols: d };
      const wasm = await fitOnThreads(train, y, { k: 7, float32Candidates });
      const queries = { data: new Float64Array([0, 1, 0.5].flatMap((value) => Array<number>(d).fill(value))), rows: 3, cols: d };
      await expectSameNeighbours(wasm, await ReferenceNetwork.fit(train, y, { k: 7 }), queries, 7);
      const { indices } = wasm.kneighbors(queries, 7);
      expect(Array.from(indices.slice(0, 7))).toEqual([0, 3, 6, 9, 12, 15, 18]);
      wasm.dispose();
    });

    it('an odd d over several tiles with a ragged last panel: the heap path, k below and above 8', async () => {
      const d = 5 + extra;
      const n = 2001;
      const train = noisyData(11, n, d, (i) => (i % 7) * 0.25);
      const queries = noisyData(12, 40, d, () => 0.5);
      await expectSameForEachK(train, Array.from({ length: n }, (_, i) => i % 3), queries, [3, 12], float32Candidates);
    });

    it('50 copies of a point among 3000 (more ties than candidates) still give the lowest indices', async () => {
      const d = 6 + extra;
      const train = noisyData(9, 3000, d, () => 0);
      for (let copy = 0; copy < 50; copy++) {
        const at = 40 + copy * 53; // spread through the data, so the search meets them in many tiles
        for (let j = 0; j < d; j++) train.data[at * d + j] = 0.5;
      }
      const y = Array.from({ length: 3000 }, (_, i) => i % 5);
      const queries = { data: new Float64Array(2 * d).fill(0.5), rows: 2, cols: d };
      queries.data[d] = 0.5001;
      for (const k of [1, 5, 30]) {
        const wasm = await fitOnThreads(train, y, { k, float32Candidates });
        await expectSameNeighbours(wasm, await ReferenceNetwork.fit(train, y, { k }), queries, k);
        expect(Array.from(wasm.kneighbors(queries, k).indices.slice(0, k))).toEqual(Array.from({ length: k }, (_, i) => 40 + i * 53));
        wasm.dispose();
      }
    });
  });
});
