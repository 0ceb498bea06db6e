/**
 * The benchmark workloads: deterministic, seeded Gaussian blobs with 10 classes.
 *
 * Each class has a centre drawn from N(0, CENTRE_SPREAD²) per coordinate; every point is its
 * class centre plus N(0, 1) noise. Queries come from the same blobs through a separate random
 * stream, so a workload with fewer queries (W4) sees a prefix of a larger one's queries (W3)
 * over the very same training set.
 */
import { SeededRandom } from '../src/random.js';

export const CLASS_COUNT = 10;
const CENTRE_SPREAD = 1.5;

export type Weights = 'uniform' | 'distance' | 'softmax';
export type BenchMetric = 'euclidean' | 'cosine';

export interface WorkloadSpec {
  /** Short name used on the command line (`--only W2`) and in the tables. */
  name: string;
  description: string;
  n: number;
  d: number;
  q: number;
  k: number | 'all';
  weights: Weights;
  /** Softmax inverse temperature; only read when weights is 'softmax'. */
  lambda: number;
  /** Added to every coordinate of training points and queries (exactness stress). */
  offset: number;
  seed: number;
  /** The distance to rank by; Euclidean when absent. */
  metric?: BenchMetric;
}

/** Training points, labels and queries: row-major Float64Arrays with their shapes beside. */
export interface WorkloadData {
  spec: WorkloadSpec;
  train: Float64Array; // n × d
  labels: Int32Array; // n, in 0 … CLASS_COUNT − 1
  queries: Float64Array; // q × d
}

const hard = { weights: 'uniform' as const, lambda: 1, offset: 0 };

export const WORKLOADS: readonly WorkloadSpec[] = [
  { name: 'iris', description: 'iris-size: call overhead dominates', n: 105, d: 4, q: 45, k: 5, ...hard, seed: 1 },
  { name: 'W2', description: 'compute-bound batch', n: 10_000, d: 64, q: 1_000, k: 5, ...hard, seed: 2 },
  { name: 'W3', description: 'weights larger than the caches', n: 100_000, d: 128, q: 100, k: 5, ...hard, seed: 3 },
  { name: 'W4', description: 'one query: memory-bound latency', n: 100_000, d: 128, q: 1, k: 5, ...hard, seed: 3 },
  {
    name: 'soft',
    description: "W2 with k 'all', softmax, λ 0.05 (the article's network)",
    n: 10_000, d: 64, q: 1_000, k: 'all', weights: 'softmax', lambda: 0.05, offset: 0, seed: 2,
  },
];

/**
 * The embeddings workload: W2's data (same generator and seed) ranked by cosine distance. It is
 * not in WORKLOADS, so the browser bench, which runs WORKLOADS, does not pick it up.
 */
export const COSINE_WORKLOAD: WorkloadSpec = {
  ...WORKLOADS.find((workload) => workload.name === 'W2')!,
  name: 'cosine',
  description: "W2's data, metric 'cosine' (embeddings)",
  metric: 'cosine',
};

/**
 * Live learning: `adds` single-point adds to a d-wide network first fitted on `seedPoints`
 * points, against one fit of the same `adds` points. The points are Gaussian blobs as above
 * (seedPoints + adds of them, seed `seed`); the seed set is the first rows, the added ones follow.
 */
export const ADD_WORKLOAD = { name: 'add', d: 512, seedPoints: 10, adds: 10_000, k: 5, seed: 5 } as const;

/** The exactness workloads: W2, and W2 with every coordinate shifted by +1000. */
export function exactnessWorkloads(queryCount: number): WorkloadSpec[] {
  const w2 = WORKLOADS.find((workload) => workload.name === 'W2')!;
  return [
    { ...w2, name: 'W2', q: queryCount },
    { ...w2, name: 'W2+1000', description: 'W2 with +1000 on every coordinate', q: queryCount, offset: 1000 },
  ];
}

interface Blobs {
  centres: Float64Array; // CLASS_COUNT × d
  train: Float64Array;
  labels: Int32Array;
}

function makeBlobs(n: number, d: number, seed: number, offset: number): Blobs {
  const random = new SeededRandom(seed);
  const centres = new Float64Array(CLASS_COUNT * d);
  for (let i = 0; i < centres.length; i++) centres[i] = CENTRE_SPREAD * random.normal();
  const train = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = random.integer(CLASS_COUNT);
    labels[i] = label;
    for (let j = 0; j < d; j++) train[i * d + j] = centres[label * d + j] + random.normal() + offset;
  }
  return { centres, train, labels };
}

function makeQueries(centres: Float64Array, q: number, d: number, seed: number, offset: number): Float64Array {
  // A different stream from the training points': queries are fresh points, not copies.
  const random = new SeededRandom((seed ^ 0x9e3779b9) >>> 0);
  const queries = new Float64Array(q * d);
  for (let i = 0; i < q; i++) {
    const label = random.integer(CLASS_COUNT);
    for (let j = 0; j < d; j++) queries[i * d + j] = centres[label * d + j] + random.normal() + offset;
  }
  return queries;
}

// W3 and W4 share 100 MB of training data; generate it once per process.
const blobCache = new Map<string, Blobs>();

export function loadWorkload(spec: WorkloadSpec): WorkloadData {
  const key = `${spec.n}x${spec.d}@${spec.seed}+${spec.offset}`;
  let blobs = blobCache.get(key);
  if (!blobs) {
    blobs = makeBlobs(spec.n, spec.d, spec.seed, spec.offset);
    blobCache.set(key, blobs);
  }
  const queries = makeQueries(blobs.centres, spec.q, spec.d, spec.seed, spec.offset);
  return { spec, train: blobs.train, labels: blobs.labels, queries };
}

/** Drop cached training sets (call between workloads of different sizes to cap memory). */
export function forgetWorkloads(): void {
  blobCache.clear();
}

/** Rows divided by their Euclidean norm √Σx² (summed in dimension order), as a new array. */
export function unitRows(data: Float64Array, rows: number, cols: number): Float64Array {
  const unit = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += data[i * cols + j] ** 2;
    const norm = Math.sqrt(sum);
    for (let j = 0; j < cols; j++) unit[i * cols + j] = data[i * cols + j] / norm;
  }
  return unit;
}

/**
 * The workload as a peer without a cosine metric takes it: training points and queries
 * L2-normalised (unitRows), after which the squared Euclidean distance is 2·(1 − cos) and ranks
 * as the cosine distance does. A Euclidean workload is returned as it is.
 */
export function asUnitVectors(data: WorkloadData): WorkloadData {
  if (data.spec.metric !== 'cosine') return data;
  const { spec } = data;
  return { ...data, train: unitRows(data.train, spec.n, spec.d), queries: unitRows(data.queries, spec.q, spec.d) };
}

/** Rows as number[][] (for peers that take nested arrays). */
export function toRows(data: Float64Array, rows: number, cols: number): number[][] {
  const result: number[][] = new Array(rows);
  for (let i = 0; i < rows; i++) result[i] = Array.from(data.subarray(i * cols, (i + 1) * cols));
  return result;
}

/** The first `count` rows of a row-major matrix, as a view. */
export function firstRows(data: Float64Array, count: number, cols: number): Float64Array {
  return data.subarray(0, count * cols);
}
