// The pruned search (src/partition.ts over the kernels' partitions) against brute force: the
// network's own kneighbors (the exact search every other test checks against the reference),
// indices and distances bit for bit, on data built to break trees — integer grids with
// thousands of exact ties, duplicates spread across leaf boundaries, all points equal, one point
// far away, a 1e8 offset, d = 1, fewer points than one leaf, queries exactly on box faces — for
// each metric, each partition (boxes over direct differences, clusters over the float32 GEMM or
// direct differences), and each kernel build the engine runs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KnnNetwork, setKernelBuild, type KernelBuild } from '../src/index.js';
import { distanceOf, layerOneRadiusBound, prepareRows, type Metric } from '../src/metrics.js';
import type { Matrix } from '../src/matrix.js';
import {
  appendSearchLayers, appendToPartition, buildPartition, orderOf, packSearchLayers, partitionRegions, planPartition, restoreCallerOrder, searchPartition,
  type PartitionPlan,
} from '../src/partition.js';
import { radiusPartition } from '../src/partitionRadius.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels, type Kernels } from '../src/wasm.js';
import { KERNEL_BUILDS } from './helpers.js';

interface Found {
  indices: number[];
  distances: number[];
}

/** The k nearest by the pruned search over `plan` (the planner's when undefined), as kneighbors reports them. */
async function treeNeighbours(
  build: KernelBuild, X: Matrix, queries: Matrix, k: number, metric: Metric, options: { plan?: PartitionPlan; float32?: boolean } = {},
): Promise<Found> {
  return onPartition(build, X, metric, options, (kernels, partition, layers) => {
    const { indices, squared } = searchPartition(kernels, partition, layers, prepareRows(queries, metric, 'X'), k, metric === 'manhattan');
    return { indices: Array.from(indices), distances: Array.from(squared, (value) => distanceOf(metric, value)) };
  });
}

/** Every point within `radius` by the pruned search, as radiusNeighbors reports them (the list trimmed by the metric's distance). */
async function treeWithin(
  build: KernelBuild, X: Matrix, queries: Matrix, radius: number, metric: Metric, options: { plan?: PartitionPlan; float32?: boolean } = {},
): Promise<{ offsets: number[]; indices: number[]; distances: number[] }> {
  return onPartition(build, X, metric, options, (kernels, partition, layers) => {
    const found = radiusPartition(kernels, partition, layers, prepareRows(queries, metric, 'X'), layerOneRadiusBound(metric, radius), metric === 'manhattan');
    const offsets = [0];
    const indices: number[] = [];
    const distances: number[] = [];
    for (let r = 0; r + 1 < found.offsets.length; r++) {
      for (let e = found.offsets[r]; e < found.offsets[r + 1]; e++) {
        const distance = distanceOf(metric, found.values[e]);
        if (!(distance <= radius)) break;
        indices.push(found.indices[e]);
        distances.push(distance);
      }
      offsets.push(indices.length);
    }
    return { offsets, indices, distances };
  });
}

/**
 * The k nearest by the pruned search over a partition built on X's first `built` rows, the rest
 * appended in `batches` (tail leaves, grown boxes; the clusters' tail), as kneighbors reports them.
 */
async function appendedNeighbours(
  build: KernelBuild, X: Matrix, built: number, batches: number, queries: Matrix, k: number, metric: Metric, plan?: PartitionPlan,
): Promise<Found> {
  const kernels = await loadKernels(build);
  const rows = prepareRows(X, metric, 'X');
  const { rows: n, cols: d } = rows;
  const points = kernels.allocate(n * d * 8);
  const mean = kernels.allocate(d * 8);
  const regions = [points, mean];
  try {
    kernels.f64(points.pointer, built * d).set(rows.data.subarray(0, built * d));
    (kernels.exports.computeMean as (...args: number[]) => void)(points.pointer, built, d, mean.pointer);
    let partition = buildPartition(kernels, points.pointer, built, d, mean.pointer, plan ?? planPartition(built, d, metric)!, n);
    regions.push(...partitionRegions(partition));
    let packed = packSearchLayers(kernels, partition, points.pointer, mean.pointer, true);
    regions.push(...packed.regions);
    for (let batch = 0; batch < batches; batch++) {
      const from = partition.n;
      const to = batch === batches - 1 ? n : from + Math.ceil((n - built) / batches);
      // Appended rows keep their own indices: they are the caller's rows from..to − 1.
      kernels.f64(points.pointer + from * d * 8, (to - from) * d).set(rows.data.subarray(from * d, to * d));
      partition = appendToPartition(kernels, partition, points.pointer, to);
      const appended = appendSearchLayers(kernels, packed, from, to, d);
      if (appended) {
        packed = appended;
        continue;
      }
      // Beyond the float32 copy's scale: rebuilt on all the rows so far, in the caller's order.
      for (const region of regions.splice(2)) kernels.release(region);
      kernels.f64(points.pointer, to * d).set(rows.data.subarray(0, to * d));
      (kernels.exports.computeMean as (...args: number[]) => void)(points.pointer, to, d, mean.pointer);
      partition = buildPartition(kernels, points.pointer, to, d, mean.pointer, partition.plan, n);
      regions.push(...partitionRegions(partition));
      packed = packSearchLayers(kernels, partition, points.pointer, mean.pointer, true);
      regions.push(...packed.regions);
    }
    const { indices, squared } = searchPartition(kernels, partition, packed.layers, prepareRows(queries, metric, 'X'), k, metric === 'manhattan');
    return { indices: Array.from(indices), distances: Array.from(squared, (value) => distanceOf(metric, value)) };
  } finally {
    for (const region of regions) kernels.release(region);
  }
}

type PartitionUse<T> = (kernels: Kernels, partition: ReturnType<typeof buildPartition>, layers: ReturnType<typeof packSearchLayers>['layers']) => T;

/** Builds the partition of X (as a network would: rows prepared for the metric, μ of the caller's order) and runs `use` on it. */
async function onPartition<T>(build: KernelBuild, X: Matrix, metric: Metric, options: { plan?: PartitionPlan; float32?: boolean }, use: PartitionUse<T>): Promise<T> {
  const kernels = await loadKernels(build);
  const rows = prepareRows(X, metric, 'X');
  const { rows: n, cols: d } = rows;
  const plan = options.plan ?? planPartition(n, d, metric)!;
  const held = allocatedByNetworks(kernels);
  const points = kernels.allocate(n * d * 8);
  const mean = kernels.allocate(d * 8);
  try {
    kernels.f64(points.pointer, n * d).set(rows.data);
    (kernels.exports.computeMean as (...args: number[]) => void)(points.pointer, n, d, mean.pointer);
    const partition = buildPartition(kernels, points.pointer, n, d, mean.pointer, plan);
    const packed = packSearchLayers(kernels, partition, points.pointer, mean.pointer, options.float32 ?? true);
    try {
      return use(kernels, partition, packed.layers);
    } finally {
      for (const region of [...packed.regions, ...partitionRegions(partition)]) kernels.release(region);
    }
  } finally {
    kernels.release(points);
    kernels.release(mean);
    expect(allocatedByNetworks(kernels)).toBe(held);
  }
}

/** Bytes allocated besides the shared scratch (which only grows). */
function allocatedByNetworks(kernels: Kernels): number {
  return kernels.allocatedBytes() - kernels.scratchBytesHeld();
}

/** Brute force's k nearest: the network's kneighbors on the same build. */
async function bruteNeighbours(build: KernelBuild, X: Matrix, queries: Matrix, k: number, metric: Metric, float32 = true): Promise<Found> {
  setKernelBuild(build);
  try {
    const network = await KnnNetwork.fit(X, new Array<number>(X.rows).fill(0), { k, metric, float32Candidates: float32 });
    try {
      const { indices, distances } = network.kneighbors(queries, k);
      return { indices: Array.from(indices), distances: Array.from(distances) };
    } finally {
      network.dispose();
    }
  } finally {
    setKernelBuild('auto');
  }
}

/** Float64 bit patterns, so that the last ulp (and −0) count. */
const bits = (values: number[]): bigint[] => Array.from(new BigUint64Array(Float64Array.from(values).buffer));

async function expectBrute(
  build: KernelBuild, X: Matrix, queries: Matrix, k: number, metric: Metric, options: { plan?: PartitionPlan; float32?: boolean } = {},
): Promise<void> {
  const tree = await treeNeighbours(build, X, queries, k, metric, options);
  const brute = await bruteNeighbours(build, X, queries, k, metric, options.float32 ?? true);
  expect(tree.indices).toEqual(brute.indices);
  expect(bits(tree.distances)).toEqual(bits(brute.distances));
}

function matrix(n: number, d: number, value: (i: number, j: number) => number): Matrix {
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = value(i, j);
  return { data, rows: n, cols: d };
}

function uniform(seed: number, n: number, d: number, scale = 1, offset = 0): Matrix {
  const random = new SeededRandom(seed);
  return matrix(n, d, () => offset + scale * random.uniform());
}

function grid(seed: number, n: number, d: number, steps: number, offset = 0): Matrix {
  const random = new SeededRandom(seed);
  return matrix(n, d, () => offset + Math.floor(random.uniform() * steps));
}

const METRICS: readonly Metric[] = ['euclidean', 'cosine', 'manhattan'];

/** Rows of X with an index in `rows`, and `extra` more: queries that lie on the training points (so on faces of their boxes). */
function rowsOf(X: Matrix, rows: number[], extra?: Matrix): Matrix {
  const d = X.cols;
  const data = new Float64Array((rows.length + (extra?.rows ?? 0)) * d);
  rows.forEach((row, r) => data.set(X.data.subarray(row * d, (row + 1) * d), r * d));
  if (extra) data.set(extra.data, rows.length * d);
  return { data, rows: data.length / d, cols: d };
}

/** Boxes with leaves of `leafPoints`; clusters, `clusters` of them. */
const boxes = (leafPoints: number): PartitionPlan => ({ kind: 'boxes', leafPoints, clusters: 0 });
const clusters = (count: number): PartitionPlan => ({ kind: 'clusters', leafPoints: 0, clusters: count });

/** Gaussian blobs: `count` centres spread by `spread`, unit noise, shifted by `offset`. */
function blobs(seed: number, n: number, d: number, count: number, spread: number, offset = 0): Matrix {
  const random = new SeededRandom(seed);
  const centres = Float64Array.from({ length: count * d }, () => spread * random.normal());
  return matrix(n, d, (i, j) => offset + centres[(i % count) * d + j] + random.normal());
}

interface Trap {
  name: string;
  X: Matrix;
  queries: Matrix;
  ks: number[];
  metrics?: readonly Metric[];
  plans?: (PartitionPlan | undefined)[];
}

// Low dimensions: the box tree over direct differences (leaves of 8 and 32 as well as the planner's).
const BOX_TRAPS: Trap[] = [
  (() => {
    const X = grid(1, 5000, 2, 10);
    return { name: 'a 10 × 10 grid under 5 000 points: about 50 copies of every point', X, queries: rowsOf(X, [0, 1, 2, 77, 4999], grid(2, 60, 2, 12)), ks: [1, 5, 60] };
  })(),
  (() => {
    const X = grid(3, 4000, 3, 4);
    return { name: 'a 4 × 4 × 4 grid: thousands of exact ties at every distance', X, queries: grid(4, 50, 3, 6), ks: [1, 7, 200] };
  })(),
  (() => {
    const base = uniform(5, 37, 4);
    const X = matrix(3700, 4, (i, j) => base.data[(i % 37) * 4 + j]);
    return { name: 'duplicates spread across leaf boundaries (100 copies of 37 points, interleaved)', X, queries: rowsOf(X, [5, 36, 999], uniform(6, 40, 4)), ks: [1, 5, 150] };
  })(),
  {
    name: 'all points equal',
    X: matrix(1000, 3, (_, j) => j + 0.5),
    queries: matrix(6, 3, (i, j) => (i === 0 ? j + 0.5 : i * 0.3 + j)),
    ks: [1, 5, 1000],
  },
  (() => {
    const X = uniform(7, 2000, 2);
    X.data[1234 * 2] = 1e100;
    X.data[1234 * 2 + 1] = -1e100;
    return { name: 'one point far away', X, queries: rowsOf(X, [1234, 3], matrix(3, 2, (i) => (i === 0 ? 1e100 : i === 1 ? -1e99 : 0.5))), ks: [1, 5, 2000] };
  })(),
  {
    name: 'a common offset of 1e8',
    X: uniform(8, 3000, 2, 1, 1e8),
    queries: uniform(9, 60, 2, 1, 1e8),
    ks: [1, 5],
    metrics: ['euclidean', 'manhattan'],
  },
  (() => {
    const X = uniform(10, 1500, 1);
    return { name: 'd = 1', X, queries: rowsOf(X, [0, 10, 1499], uniform(11, 40, 1)), ks: [1, 5, 1500] };
  })(),
  {
    name: 'fewer points than one leaf',
    X: uniform(12, 5, 3),
    queries: uniform(13, 9, 3),
    ks: [1, 5],
  },
  (() => {
    // A grid of 8 × 8 values at a step of 1/8: boxes end exactly on grid values, and the queries
    // sit on those faces and between.
    const X = matrix(2048, 2, (i, j) => ((i * (j === 0 ? 7 : 13)) % 8) / 8 + ((i >> 6) % 2) * 4);
    return { name: 'queries exactly on box faces', X, queries: matrix(64, 2, (i, j) => (j === 0 ? (i % 8) / 8 : (i >> 3) / 8 + 0.0625 * (i % 2))), ks: [1, 5, 100] };
  })(),
  {
    name: 'subnormal coordinates',
    X: uniform(14, 1000, 2, 1e-310),
    queries: uniform(15, 30, 2, 1e-310),
    ks: [1, 5],
    metrics: ['euclidean', 'manhattan'],
  },
  {
    name: 'sixteen features, clustered',
    X: blobs(16, 3000, 16, 12, 3),
    queries: blobs(17, 40, 16, 12, 3),
    ks: [1, 5, 20],
  },
];

// High dimensions: the cluster partition (the float32 GEMM, or direct differences without it).
const CLUSTER_TRAPS: Trap[] = [
  { name: 'separated blobs', X: blobs(20, 3000, 24, 10, 3), queries: blobs(21, 60, 24, 10, 3), ks: [1, 5, 30] },
  { name: 'blobs at an offset of 1e8', X: blobs(22, 2000, 33, 6, 3, 1e8), queries: blobs(23, 40, 33, 6, 3, 1e8), ks: [1, 5], metrics: ['euclidean'] },
  { name: 'a 3-valued grid in 24 dimensions: ties at the k-th distance', X: grid(24, 2500, 24, 3), queries: grid(25, 40, 24, 3), ks: [1, 5, 40], metrics: ['euclidean', 'manhattan'] },
  { name: 'all points equal', X: matrix(600, 20, (_, j) => j * 0.25 + 1), queries: matrix(4, 20, (i, j) => (i === 0 ? j * 0.25 + 1 : i + j)), ks: [1, 5, 600] },
  (() => {
    const X = blobs(26, 1500, 17, 5, 4);
    for (let j = 0; j < 17; j++) X.data[700 * 17 + j] = 1e80;
    return { name: 'one point far away', X, queries: rowsOf(X, [700, 0], blobs(27, 20, 17, 5, 4)), ks: [1, 5, 1500], metrics: ['euclidean'] };
  })(),
  { name: 'fewer points than clusters', X: blobs(28, 9, 40, 3, 2), queries: blobs(29, 7, 40, 3, 2), ks: [1, 9] },
];

describe('the partition\'s order', () => {
  it('holds every caller index once, the rows of X at their positions, and puts them back', async () => {
    const kernels = await loadKernels('plain');
    for (const [X, plan] of [[grid(81, 3001, 3, 5), boxes(32)], [blobs(82, 2000, 20, 7, 3), clusters(5)]] as const) {
      const { rows: n, cols: d } = X;
      const points = kernels.allocate(n * d * 8);
      const mean = kernels.allocate(d * 8);
      try {
        kernels.f64(points.pointer, n * d).set(X.data);
        (kernels.exports.computeMean as (...args: number[]) => void)(points.pointer, n, d, mean.pointer);
        const partition = buildPartition(kernels, points.pointer, n, d, mean.pointer, plan);
        try {
          const order = Array.from(orderOf(kernels, partition));
          expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
          const permuted = kernels.f64(points.pointer, n * d);
          for (let p = 0; p < n; p++) expect(Array.from(permuted.subarray(p * d, (p + 1) * d))).toEqual(Array.from(X.data.subarray(order[p] * d, (order[p] + 1) * d)));
          restoreCallerOrder(kernels, partition, points.pointer);
          expect(Array.from(kernels.f64(points.pointer, n * d))).toEqual(Array.from(X.data));
        } finally {
          for (const region of partitionRegions(partition)) kernels.release(region);
        }
      } finally {
        kernels.release(points);
        kernels.release(mean);
      }
    }
  });
});

describe.each(KERNEL_BUILDS)('the pruned search answers as brute force, bit for bit (%s build)', (build) => {
  it.each(BOX_TRAPS)('boxes: $name', async ({ X, queries, ks, metrics }) => {
    for (const metric of metrics ?? METRICS) {
      const shifted = metric === 'cosine' ? { ...X, data: X.data.map((value) => value + 1) } : X;
      const shiftedQueries = metric === 'cosine' ? { ...queries, data: queries.data.map((value) => value + 1) } : queries;
      for (const k of ks) {
        if (k > X.rows) continue;
        for (const plan of [undefined, boxes(8), boxes(32)]) await expectBrute(build, shifted, shiftedQueries, k, metric, { plan });
      }
    }
  }, 120_000);

  it.each(CLUSTER_TRAPS)('clusters: $name', async ({ X, queries, ks, metrics }) => {
    for (const metric of metrics ?? METRICS) {
      for (const k of ks) {
        if (k > X.rows) continue;
        if (metric === 'manhattan') {
          await expectBrute(build, X, queries, k, metric);
          continue;
        }
        for (const count of [1, 3, 16]) {
          for (const float32 of [true, false]) await expectBrute(build, X, queries, k, metric, { plan: clusters(Math.min(count, X.rows)), float32 });
        }
      }
    }
  }, 120_000);

  it.each([...BOX_TRAPS, ...CLUSTER_TRAPS].filter((trap) => trap.X.rows >= 100))('radius: $name', async ({ X, queries, metrics }) => {
    for (const metric of metrics ?? METRICS) {
      const shifted = metric === 'cosine' ? { ...X, data: X.data.map((value) => value + 1) } : X;
      const shiftedQueries = metric === 'cosine' ? { ...queries, data: queries.data.map((value) => value + 1) } : queries;
      // Radii at which none but duplicates, a few, some and more points are within (from the 50 nearest distances), and every point.
      const nearest = await bruteNeighbours(build, shifted, shiftedQueries, Math.min(50, X.rows), metric);
      const sorted = [...nearest.distances].filter((value) => value > 0).sort((a, b) => a - b);
      const radii = [0, sorted[Math.floor(sorted.length / 10)] ?? 1, sorted[Math.floor(sorted.length / 2)] ?? 1, sorted[sorted.length - 1] ?? 1, 1e300];
      const plans = X.cols <= 16 || metric === 'manhattan' ? [undefined, boxes(8)] : [undefined, clusters(3)];
      for (const radius of radii) {
        setKernelBuild(build);
        const network = await KnnNetwork.fit(shifted, new Array<number>(X.rows).fill(0), { metric });
        setKernelBuild('auto');
        // Every point within: three queries are enough.
        const rows = radius === 1e300 ? { ...shiftedQueries, data: shiftedQueries.data.subarray(0, 3 * X.cols), rows: 3 } : shiftedQueries;
        try {
          const brute = network.radiusNeighbors(rows, radius);
          for (const plan of plans) {
            const tree = await treeWithin(build, shifted, rows, radius, metric, { plan });
            expect(tree.offsets, `radius ${radius}`).toEqual(Array.from(brute.offsets));
            expect(tree.indices).toEqual(Array.from(brute.indices));
            expect(bits(tree.distances)).toEqual(bits(Array.from(brute.distances)));
          }
        } finally {
          network.dispose();
        }
      }
    }
  }, 300_000);

  it.each([...BOX_TRAPS, ...CLUSTER_TRAPS].filter((trap) => trap.X.rows >= 100))('points appended to a built partition: $name', async ({ X, queries, ks, metrics }) => {
    for (const metric of metrics ?? METRICS) {
      const shifted = metric === 'cosine' ? { ...X, data: X.data.map((value) => value + 1) } : X;
      const shiftedQueries = metric === 'cosine' ? { ...queries, data: queries.data.map((value) => value + 1) } : queries;
      const k = Math.min(ks[1] ?? ks[0], X.rows);
      const brute = await bruteNeighbours(build, shifted, shiftedQueries, k, metric);
      const direct = metric === 'manhattan' || X.cols <= 16;
      // The tree's last leaf part full (built on a count that is no multiple of a leaf), then tail leaves.
      for (const [built, batches] of [[Math.floor(X.rows * 0.7) + 3, 1], [Math.floor(X.rows / 3) + 1, 3]]) {
        const plan = direct ? boxes(16) : clusters(4);
        const tree = await appendedNeighbours(build, shifted, built, batches, shiftedQueries, k, metric, plan);
        expect(tree.indices, `built on ${built}, ${batches} batches`).toEqual(brute.indices);
        expect(bits(tree.distances)).toEqual(bits(brute.distances));
      }
    }
  }, 300_000);

  it('on random shapes, grids, offsets, metrics, leaf sizes and cluster counts', async () => {
    const shape = fc.record({
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      n: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 41, max: 700 })),
      d: fc.constantFrom(1, 2, 3, 4, 5, 8, 16, 17, 24, 33),
      q: fc.integer({ min: 1, max: 12 }),
      grid: fc.constantFrom(0, 0, 2, 3, 7),
      offset: fc.constantFrom(0, 0, 1e8),
      kFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      metric: fc.constantFrom<Metric>(...METRICS),
      leafPoints: fc.constantFrom(8, 16, 32, 64, 128),
      clusters: fc.integer({ min: 1, max: 20 }),
      float32: fc.boolean(),
      onPoints: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(shape, async (s) => {
        const offset = s.metric === 'cosine' ? (s.grid ? 1 : 0) : s.offset;
        const make = (seed: number, n: number) => (s.grid ? grid(seed, n, s.d, s.grid, offset) : uniform(seed, n, s.d, 1, offset));
        const X = make(s.seed, s.n);
        const queries = s.onPoints ? rowsOf(X, Array.from({ length: Math.min(s.q, s.n) }, (_, r) => (r * 7919) % s.n), make(s.seed + 1, 2)) : make(s.seed + 1, s.q);
        const k = Math.max(1, Math.ceil(s.kFraction * Math.min(s.n, 50)));
        const direct = s.metric === 'manhattan' || s.d <= 16;
        const plan = direct ? boxes(s.leafPoints) : clusters(Math.min(s.clusters, s.n));
        await expectBrute(build, X, queries, k, s.metric, { plan, float32: s.float32 });
      }),
      { numRuns: 200 },
    );
  }, 300_000);
});
