// Filtered searches: exactly the k nearest (or those within a radius) among the points a filter
// allows, as brute force over that subset finds them, with the network's indices; rows padded
// with −1 at Infinity where fewer than k are allowed.
import { describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnError, type KnnOptions } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels } from '../src/wasm.js';
import { bits, randomData } from './helpers.js';

type Rows = { data: Float64Array; rows: number; cols: number };

/** The rows `allowed` marks, and their positions. */
function subset(X: Rows, allowed: Uint8Array): { rows: Rows; positions: number[] } {
  const positions = Array.from(allowed.keys()).filter((i) => allowed[i]);
  const data = new Float64Array(positions.length * X.cols);
  positions.forEach((i, r) => data.set(X.data.subarray(i * X.cols, (i + 1) * X.cols), r * X.cols));
  return { rows: { data, rows: positions.length, cols: X.cols }, positions };
}

/** Brute force on the allowed points (the reference), mapped to the network's indices and padded to k. */
async function expectedNeighbours(X: Rows, allowed: Uint8Array, queries: Rows, k: number, options: KnnOptions): Promise<{ indices: number[]; distances: number[] }> {
  const { rows, positions } = subset(X, allowed);
  const indices = new Array<number>(queries.rows * k).fill(-1);
  const distances = new Array<number>(queries.rows * k).fill(Infinity);
  if (positions.length === 0) return { indices, distances };
  const reference = await ReferenceNetwork.fit(rows, null, { ...options, k: 1 });
  const found = Math.min(k, positions.length);
  const result = reference.kneighbors(queries, found);
  for (let r = 0; r < queries.rows; r++) {
    for (let j = 0; j < found; j++) {
      indices[r * k + j] = positions[result.indices[r * found + j]];
      distances[r * k + j] = result.distances[r * found + j];
    }
  }
  return { indices, distances };
}

describe('filtered kneighbors and radiusNeighbors', () => {
  it('equal brute force over the allowed points on every search path, with scattered, few, none and all allowed', async () => {
    const random = new SeededRandom(5);
    const shapes: [number, number, KnnOptions][] = [[300, 3, {}], [500, 16, { metric: 'manhattan' }], [4000, 33, {}], [600, 20, { metric: 'cosine' }], [800, 40, { float32Candidates: false }]];
    for (const [n, d, options] of shapes) {
      const { X, y } = randomData(n + d, n, d, { grid: d === 3 ? 4 : 0, offset: options.metric === 'cosine' ? 0.2 : 0 });
      const net = await KnnNetwork.fit(X, y, { ...options, k: 5 });
      const queries = randomData(n + d + 1, 12, d, { grid: d === 3 ? 4 : 0, offset: options.metric === 'cosine' ? 0.2 : 0 }).X;
      for (const share of [0, 0.003, 0.05, 0.5, 0.95, 1]) {
        const allowed = Uint8Array.from({ length: n }, () => (random.uniform() < share ? 1 : 0));
        for (const k of [1, 5, 9]) {
          const expected = await expectedNeighbours(X, allowed, queries, k, options);
          const found = net.kneighbors(queries, k, { filter: allowed });
          expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }, `n ${n}, d ${d}, share ${share}, k ${k}`).toEqual(expected);
          expect(await net.kneighborsAsync(queries, k, { filter: allowed })).toEqual(found);
          // One query per call (a plan of its own where the partition serves): the batch's rows.
          for (let r = 0; r < 3; r++) {
            const one = net.kneighbors(queries.data.subarray(r * d, (r + 1) * d), k, { filter: allowed });
            expect({ indices: Array.from(one.indices), distances: Array.from(one.distances) }, `row ${r}`).toEqual({ indices: expected.indices.slice(r * k, (r + 1) * k), distances: expected.distances.slice(r * k, (r + 1) * k) });
          }
        }
        // The radius search: the unfiltered answer, less the points left out.
        const radius = d === 3 ? 1.5 : Math.sqrt(d) * 0.5;
        const whole = net.radiusNeighbors(queries, radius);
        const filtered = net.radiusNeighbors(queries, radius, { filter: allowed });
        const kept = { offsets: [0], indices: [] as number[], distances: [] as number[] };
        for (let r = 0; r < queries.rows; r++) {
          for (let e = whole.offsets[r]; e < whole.offsets[r + 1]; e++) {
            if (!allowed[whole.indices[e]]) continue;
            kept.indices.push(whole.indices[e]);
            kept.distances.push(whole.distances[e]);
          }
          kept.offsets.push(kept.indices.length);
        }
        expect({ offsets: Array.from(filtered.offsets), indices: Array.from(filtered.indices), distances: bits(filtered.distances) }).toEqual({ ...kept, distances: bits(Float64Array.from(kept.distances)) });
        expect(await net.radiusNeighborsAsync(queries, radius, { filter: allowed })).toEqual(filtered);
      }
      net.dispose();
    }
  });

  it('find the nearest allowed points where a query\'s nearest are all left out (the fold\'s first tile holds few allowed near points)', async () => {
    // The fold fills an empty heap with the distances at or below a limit from the whole tile;
    // with the tile's nearest points left out it must fall back to the allowed ones beyond it.
    const n = 4000, d = 33, blobs = 40;
    const centres = randomData(71, blobs, d, { scale: 10 }).X.data;
    const noise = randomData(72, n, d, { scale: 0.1 });
    const X = { data: noise.X.data.map((value, i) => centres[(Math.floor(i / d) % blobs) * d + (i % d)] + value), rows: n, cols: d };
    const y = noise.y;
    for (const algorithm of ['tree', 'brute'] as const) {
      const net = await KnnNetwork.fit(X, y, { k: 5, algorithm });
      for (const row of [0, 17, 1234, 3999]) {
        const query = { data: X.data.slice(row * d, (row + 1) * d), rows: 1, cols: d };
        const allowed = new Uint8Array(n).fill(1);
        for (const index of net.kneighbors(query, 60).indices) allowed[index] = 0;
        for (const k of [1, 5]) {
          const expected = await expectedNeighbours(X, allowed, query, k, {});
          const found = net.kneighbors(query, k, { filter: allowed });
          expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }, `${algorithm}, row ${row}, k ${k}`).toEqual(expected);
        }
      }
      // A bad filter is reported (one query per call takes its own plan on the partition), and the network answers after it.
      const query = X.data.subarray(0, d);
      const bad = new Uint8Array(n).fill(1);
      bad[7] = 2;
      expect(() => net.kneighbors(query, 5, { filter: bad })).toThrow(/filter\[7\] is 2/);
      expect(() => net.kneighbors(query, 5, { filter: new Uint8Array(n - 1) })).toThrow(/filter/);
      // After an add the plan is laid out again for n + 1 points.
      await net.add([Array.from(query, (value) => value + 1e-3)], [0]);
      const allowed = new Uint8Array(n + 1).fill(1);
      allowed[0] = 0;
      const grown = { data: Float64Array.from([...X.data, ...Array.from(query, (value) => value + 1e-3)]), rows: n + 1, cols: d };
      const expected = await expectedNeighbours(grown, allowed, { data: Float64Array.from(query), rows: 1, cols: d }, 5, {});
      const found = net.kneighbors(query, 5, { filter: allowed });
      expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }).toEqual(expected);
      expect(found.indices[0]).toBe(n);
      net.dispose();
    }
  });

  it('a single query on brute force searches the allowed points alone (the filter in its folds, its nearest left out, grid ties, few or most left out): the allowed points\' exact answer, on both storages and three metrics', async () => {
    const random = new SeededRandom(91);
    // Past 16 features on few points brute force takes direct differences row by row; in two
    // clusters at ±1e7 (rows alternating) neither candidate GEMM settles the queries; on a 0/1
    // grid at d = 17 ties at the k-th candidate send some to the float64 second pass, which lists
    // every point under a limit: each passes over the points left out.
    for (const [n, d, grid, offset] of [[300, 1, 4, 0], [700, 5, 3, 0], [1500, 33, 0, 0], [40, 3, 0, 0], [20, 20, 3, 0], [600, 20, 0, 1e7], [1000, 17, 2, 0]] as const) {
      for (const metric of ['euclidean', 'manhattan', 'cosine'] as const) {
        if (metric === 'cosine' && (d === 1 || offset)) continue;
        const value = (at: number) => (grid ? Math.floor(random.uniform() * grid) : random.uniform() * 2 - 1) + (metric === 'cosine' ? 0.5 : 0) + (Math.floor(at / d) % 2 ? offset : -offset);
        const X = { data: Float64Array.from({ length: n * d }, (_, at) => value(at)), rows: n, cols: d };
        const y = Array.from({ length: n }, (_, i) => i % 3);
        for (const storage of ['float64', 'float32'] as const) {
          const data = storage === 'float32' ? Float64Array.from(Float32Array.from(X.data)) : X.data;
          const net = await KnnNetwork.fit({ ...X, data }, y, { k: 5, metric, algorithm: 'brute', storage });
          for (let row = 0; row < 6; row++) {
            const query = Float64Array.from({ length: d }, (_, j) => value((row % 2) * d + j));
            const nearest = net.kneighbors(query, 12).indices;
            for (const leftOut of [1, 3, 9, Math.floor(n / 2), Math.floor(0.7 * n), n - 5]) {
              const allowed = new Uint8Array(n).fill(1);
              // Its nearest (ties with the next ones on a grid), then others spread through X.
              for (let j = 0; j < Math.min(leftOut, 12); j += 2) allowed[nearest[j]] = 0;
              for (let j = 0, left = n - allowed.reduce((a, b) => a + b, 0); left < leftOut; j++) {
                const index = (row * 37 + j * 11) % n;
                if (allowed[index]) {
                  allowed[index] = 0;
                  left++;
                }
              }
              for (const k of [1, 5]) {
                const expected = await expectedNeighbours({ ...X, data }, allowed, { data: query, rows: 1, cols: d }, k, { metric });
                const found = net.kneighbors(query, k, { filter: allowed });
                const where = `n ${n}, d ${d}, ${metric}, ${storage}, query ${row}, ${leftOut} left out, k ${k}`;
                expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }, where).toEqual(expected);
                // A batch of two (the general path) gives each row the same bits.
                const batch = net.kneighbors({ data: Float64Array.from([...query, ...query]), rows: 2, cols: d }, k, { filter: allowed });
                expect(Array.from(batch.indices.subarray(k)), where).toEqual(Array.from(found.indices));
                expect(bits(batch.distances.subarray(k)), where).toEqual(bits(found.distances));
              }
            }
          }
          net.dispose();
        }
      }
    }
  });

  it('a batch over few allowed points of a partitioned network gathers them onto a partition of their own, with the same answers', async () => {
    const n = 40000, d = 3;
    const { X, y } = randomData(73, n, d);
    const queries = randomData(74, 400, d).X;
    const random = new SeededRandom(75);
    for (const metric of ['euclidean', 'manhattan'] as const) {
      const net = await KnnNetwork.fit(X, y, { k: 5, metric });
      expect(net.searchAlgorithm).toBe('tree');
      for (const share of [0.02, 0.05]) {
        const allowed = Uint8Array.from({ length: n }, () => (random.uniform() < share ? 1 : 0));
        for (const k of [1, 7]) {
          const expected = await expectedNeighbours(X, allowed, queries, k, { metric });
          const found = net.kneighbors(queries, k, { filter: allowed });
          expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }, `${metric}, share ${share}, k ${k}`).toEqual(expected);
          expect(await net.kneighborsAsync(queries, k, { filter: allowed })).toEqual(found);
        }
      }
      net.dispose();
    }
  });

  it('single queries over few allowed points (direct differences where they lie) equal a batch bit for bit, on a partition, on brute force and on float32 storage: d = 1, odd d, ties, three metrics', async () => {
    const random = new SeededRandom(81);
    const shapes: [n: number, d: number, options: KnnOptions, grid: number][] = [
      [700, 1, {}, 40], [900, 5, { metric: 'manhattan' }, 3], [1200, 7, {}, 0], [1500, 20, {}, 3], [1000, 24, { metric: 'cosine' }, 0], [3000, 33, {}, 0],
    ];
    for (const [n, d, options, grid] of shapes) {
      const { X, y } = randomData(82 + d, n, d, { grid, offset: options.metric === 'cosine' ? 0.3 : 0 });
      const tree = await KnnNetwork.fit(X, y, { ...options, k: 5, algorithm: 'tree' });
      const brute = await KnnNetwork.fit(X, y, { ...options, k: 5, algorithm: 'brute' });
      // Float32 storage answers as float64 storage does on the values it keeps, widened.
      const stored = await KnnNetwork.fit(X, y, { ...options, k: 5, storage: 'float32' });
      const widened = await KnnNetwork.fit({ ...X, data: Float64Array.from(Float32Array.from(X.data)) }, y, { ...options, k: 5, algorithm: 'brute' });
      const queries = randomData(83 + d, 6, d, { grid, offset: options.metric === 'cosine' ? 0.3 : 0 }).X;
      for (const k of [1, 6, 13]) {
        // Exactly k allowed (a count that is no multiple of the eight points a step takes), then shares.
        const exactly = new Uint8Array(n);
        for (let placed = 0; placed < k;) {
          const i = Math.floor(random.uniform() * n);
          if (!exactly[i]) (exactly[i] = 1), placed++;
        }
        // Exactly k allowed, the first the first byte of the filter's last (short) sixteen, which
        // the kernel reads byte by byte, and the rest the last points.
        const lastBlock = new Uint8Array(n);
        lastBlock[n - (n % 16 || 16)] = 1;
        for (let i = n - 1, placed = 1; placed < k; i--) if (!lastBlock[i]) (lastBlock[i] = 1), placed++;
        const filters = [exactly, lastBlock, ...[0.01, 0.03, 0.1, 0.3].map((share) => Uint8Array.from({ length: n }, () => (random.uniform() < share ? 1 : 0)))];
        for (const allowed of filters) {
          const expected = brute.kneighbors(queries, k, { filter: allowed });
          const expectedStored = widened.kneighbors(queries, k, { filter: allowed });
          for (let r = 0; r < queries.rows; r++) {
            for (const [name, net] of [['tree', tree], ['brute', brute], ['float32 storage', stored]] as const) {
              const one = net.kneighbors(queries.data.subarray(r * d, (r + 1) * d), k, { filter: allowed });
              const batch = net === stored ? expectedStored : expected;
              const label = `${name}: n ${n}, d ${d}, ${options.metric ?? 'euclidean'}, k ${k}, ${allowed.reduce((sum, b) => sum + b, 0)} allowed, row ${r}`;
              expect({ indices: Array.from(one.indices), distances: bits(one.distances) }, label).toEqual({
                indices: Array.from(batch.indices.slice(r * k, (r + 1) * k)), distances: bits(batch.distances.slice(r * k, (r + 1) * k)),
              });
            }
          }
        }
      }
      for (const net of [tree, brute, stored, widened]) net.dispose();
    }
  });

  it('a batch over half the points of a cluster network searches its clusters cut down to them, with the same answers', async () => {
    const n = 6000, d = 40, blobs = 12;
    const centres = randomData(76, blobs, d, { scale: 4 }).X.data;
    const noise = randomData(77, n + 800, d);
    const shifted = noise.X.data.map((value, i) => centres[(Math.floor(i / d) % blobs) * d + (i % d)] + value);
    const X = { data: shifted.slice(0, n * d), rows: n, cols: d };
    const queries = { data: shifted.slice(n * d), rows: 800, cols: d };
    const net = await KnnNetwork.fit(X, noise.y.slice(0, n), { k: 5, algorithm: 'tree' });
    const random = new SeededRandom(78);
    for (const share of [0.5, 0.8]) {
      const allowed = Uint8Array.from({ length: n }, () => (random.uniform() < share ? 1 : 0));
      for (const k of [1, 6]) {
        const expected = await expectedNeighbours(X, allowed, queries, k, {});
        const found = net.kneighbors(queries, k, { filter: allowed });
        expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }, `share ${share}, k ${k}`).toEqual(expected);
        expect(await net.kneighborsAsync(queries, k, { filter: allowed })).toEqual(found);
      }
    }
    // Points appended after the clusters were built (the tail every query scans) are cut down too.
    await net.add({ data: queries.data.slice(0, 40 * d), rows: 40, cols: d }, noise.y.slice(0, 40));
    const grown = { data: Float64Array.from([...X.data, ...queries.data.slice(0, 40 * d)]), rows: n + 40, cols: d };
    const allowed = Uint8Array.from({ length: n + 40 }, () => (random.uniform() < 0.5 ? 1 : 0));
    const expected = await expectedNeighbours(grown, allowed, queries, 3, {});
    const found = net.kneighbors(queries, 3, { filter: allowed });
    expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }).toEqual(expected);
    net.dispose();
  });

  it('on integer grids (exact ties across leaves and clusters, queries on points and on box faces) the partition, brute force and the reference agree, at 1 and 2 threads', async () => {
    const random = new SeededRandom(79);
    for (const [n, d] of [[3000, 3], [2500, 1], [3000, 20]] as const) {
      const X = { data: Float64Array.from({ length: n * d }, () => Math.floor(random.uniform() * 4)), rows: n, cols: d };
      // Queries on training points, and halfway between grid values: on the faces of boxes.
      const queries = { data: X.data.slice(0, 90 * d).map((value, i) => (i % 3 === 0 ? value + 0.5 : value)), rows: 90, cols: d };
      const tree = await KnnNetwork.fit(X, null, { k: 5, algorithm: 'tree', threads: 2 });
      const brute = await KnnNetwork.fit(X, null, { k: 5, algorithm: 'brute' });
      for (const share of [0.05, 0.5, 0.95]) {
        const allowed = Uint8Array.from({ length: n }, () => (random.uniform() < share ? 1 : 0));
        for (const k of [1, 5, 9]) {
          const expected = await expectedNeighbours(X, allowed, queries, k, {});
          for (const net of [tree, brute]) {
            const found = net.kneighbors(queries, k, { filter: allowed });
            expect({ indices: Array.from(found.indices), distances: Array.from(found.distances) }, `${net.searchAlgorithm} ${n} × ${d}, share ${share}, k ${k}`).toEqual(expected);
            expect(await net.kneighborsAsync(queries, k, { filter: allowed })).toEqual(found);
            const one = net.kneighbors(queries.data.subarray(0, d), k, { filter: allowed });
            expect(Array.from(one.indices)).toEqual(expected.indices.slice(0, k));
          }
        }
      }
      tree.dispose();
      brute.dispose();
    }
  });

  it('classes keeps the points of those classes; with a filter, the points both allow; ties still go to the lower index', async () => {
    const X = [[0], [1], [1], [1], [2], [5]];
    const net = await KnnNetwork.fit(X, ['a', 'b', 'a', 'b', 'c', 'a'], { k: 2, ids: [10, 11, 12, 13, 14, 15] });
    expect(Array.from(net.kneighbors([[1]], 3, { classes: ['a'] }).indices)).toEqual([2, 0, 5]);
    expect(Array.from(net.kneighbors([[1]], 3, { classes: ['b'] }).indices)).toEqual([1, 3, -1]);
    expect(Array.from(net.kneighbors([[1]], 3, { classes: ['b'] }).ids!)).toEqual([11, 13, -1]);
    expect(Array.from(net.kneighbors([[1]], 2, { classes: ['a', 'b'], filter: Uint8Array.from([1, 0, 1, 1, 1, 1]) }).indices)).toEqual([2, 3]);
    expect(Array.from(net.radiusNeighbors([[1]], 1, { classes: ['c'] }).indices)).toEqual([4]);
    net.dispose();
  });

  it('the kernels count a filter\'s allowed bytes exactly past the 255 vectors summed as bytes, and flag any other byte', async () => {
    const kernels = await loadKernels();
    const countAllowed = kernels.entry('countAllowed') as (bytes: number, n: number) => number;
    const random = new SeededRandom(91);
    for (const n of [0, 15, 16, 4080, 4081, 4096, 70_001]) {
      const region = kernels.allocate(Math.max(16, n), 'a test filter');
      try {
        const bytes = new Uint8Array(kernels.exports.memory.buffer, region.pointer, n);
        for (const share of [0, 0.3, 1]) {
          for (let i = 0; i < n; i++) bytes[i] = random.uniform() < share ? 1 : 0;
          expect(countAllowed(region.pointer, n), `n ${n}, share ${share}`).toBe(bytes.reduce((sum, b) => sum + b, 0));
        }
        if (n > 0) {
          new Uint8Array(kernels.exports.memory.buffer, region.pointer, n)[n - 1] = 2;
          expect(countAllowed(region.pointer, n), `n ${n}, a 2 last`).toBe(-1);
        }
      } finally {
        kernels.release(region);
      }
    }
  });

  it('refuses a filter of the wrong length or values, unknown classes, and classes on a network without them; the network stays usable', async () => {
    const net = await KnnNetwork.fit([[0], [1], [2]], ['a', 'b', 'a']);
    const codeOf = (call: () => unknown): string | undefined => {
      try {
        call();
      } catch (error) {
        return (error as KnnError).code;
      }
      return undefined;
    };
    expect(codeOf(() => net.kneighbors([[0]], 1, { filter: new Uint8Array(2) }))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => net.kneighbors([[0]], 1, { filter: Uint8Array.from([1, 2, 0]) }))).toBe('BAD_INPUT');
    expect(codeOf(() => net.kneighbors([[0]], 1, { filter: [1, 1, 1] as never }))).toBe('BAD_INPUT');
    expect(codeOf(() => net.kneighbors([[0]], 1, { classes: ['z'] }))).toBe('BAD_LABEL');
    expect(codeOf(() => net.kneighbors([[0]], 1, { filer: new Uint8Array(3) } as never))).toBe('BAD_OPTION');
    expect(codeOf(() => net.kneighbors([[0]], 1, { signal: new AbortController().signal } as never))).toBe('BAD_OPTION');
    const search = await KnnNetwork.fit([[0], [1]]);
    expect(codeOf(() => search.kneighbors([[0]], 1, { classes: ['a'] }))).toBe('BAD_OPTION');
    expect(Array.from(net.kneighbors([[0]], 1).indices)).toEqual([0]);
    net.dispose();
    search.dispose();
  });
});
