/**
 * The search workloads: exact k-nearest-neighbour search over many points in few dimensions,
 * where a tree prunes (L2, L4, L8, L16), and a guard where nothing prunes (U64). Seeded, so
 * every run and every machine sees the same points.
 *
 * - uniform: every coordinate uniform in [0, 1).
 * - blobs: `clusters` centres uniform in [−10, 10)^d, each point a centre (drawn uniformly)
 *   plus N(0, 1) noise per coordinate: scikit-learn's make_blobs with its default box and spread.
 *
 * Queries come from the same distribution through a separate random stream. The networks need
 * labels today, so every point carries one (uniform: drawn in 0 … 9; blobs: its blob mod 10);
 * the search rows never read them.
 */
import { SeededRandom } from '../../src/random.js';

export interface SearchSpec {
  /** Short name used on the command line (`--only L4`) and in the tables. */
  name: string;
  description: string;
  n: number;
  d: number;
  q: number;
  k: number;
  distribution: 'uniform' | 'blobs';
  /** Number of blobs (distribution 'blobs' only). */
  clusters?: number;
  seed: number;
}

/** Training points, their labels and the queries: row-major Float64Arrays with their shapes in `spec`. */
export interface SearchData {
  spec: SearchSpec;
  train: Float64Array; // n × d
  labels: Int32Array; // n
  queries: Float64Array; // q × d
}

const MILLION = 1_000_000;
const QUERIES = 10_000;
const LABEL_COUNT = 10;
const BLOB_BOX = 10;

export const SEARCH_WORKLOADS: readonly SearchSpec[] = [
  { name: 'L2', description: 'uniform in the unit square', n: MILLION, d: 2, q: QUERIES, k: 5, distribution: 'uniform', seed: 21 },
  { name: 'L4', description: 'uniform in the unit 4-cube', n: MILLION, d: 4, q: QUERIES, k: 5, distribution: 'uniform', seed: 22 },
  { name: 'L8', description: '50 Gaussian blobs', n: MILLION, d: 8, q: QUERIES, k: 5, distribution: 'blobs', clusters: 50, seed: 23 },
  { name: 'L16', description: '50 Gaussian blobs', n: MILLION, d: 16, q: QUERIES, k: 5, distribution: 'blobs', clusters: 50, seed: 24 },
  { name: 'U64', description: 'uniform in 64 dimensions: nothing to prune (a guard)', n: 100_000, d: 64, q: QUERIES, k: 5, distribution: 'uniform', seed: 25 },
];

/** The low-dimensional workloads (every one but the U64 guard). */
export const LOW_DIMENSION_WORKLOADS = SEARCH_WORKLOADS.filter((spec) => spec.name.startsWith('L'));

/** Points the Chromium page uses instead of a million: one tab holds less, and a brute-force row stays short. */
export const BROWSER_SEARCH_POINTS = 200_000;

/** The same workload on fewer points (the same generator and seed: the first `n` points of the full set). */
export function withPoints(spec: SearchSpec, n: number): SearchSpec {
  return { ...spec, n: Math.min(n, spec.n) };
}

/** Fills `rows` points of the distribution into `out` (row-major), and their labels. */
function drawPoints(spec: SearchSpec, random: SeededRandom, centres: Float64Array | undefined, rows: number, out: Float64Array, labels?: Int32Array): void {
  const { d } = spec;
  for (let i = 0; i < rows; i++) {
    if (centres) {
      const blob = random.integer(spec.clusters!);
      if (labels) labels[i] = blob % LABEL_COUNT;
      for (let j = 0; j < d; j++) out[i * d + j] = centres[blob * d + j] + random.normal();
    } else {
      if (labels) labels[i] = random.integer(LABEL_COUNT);
      for (let j = 0; j < d; j++) out[i * d + j] = random.uniform();
    }
  }
}

export function loadSearchWorkload(spec: SearchSpec): SearchData {
  const random = new SeededRandom(spec.seed);
  let centres: Float64Array | undefined;
  if (spec.distribution === 'blobs') {
    centres = new Float64Array(spec.clusters! * spec.d);
    for (let i = 0; i < centres.length; i++) centres[i] = BLOB_BOX * (2 * random.uniform() - 1);
  }
  const train = new Float64Array(spec.n * spec.d);
  const labels = new Int32Array(spec.n);
  drawPoints(spec, random, centres, spec.n, train, labels);
  // A different stream from the training points': queries are fresh points, not copies.
  const queries = new Float64Array(spec.q * spec.d);
  drawPoints(spec, new SeededRandom((spec.seed ^ 0x9e3779b9) >>> 0), centres, spec.q, queries);
  return { spec, train, labels, queries };
}

/** The first `count` queries as the matrix knnet takes. */
export function queryMatrix(data: SearchData, count: number): { data: Float64Array; rows: number; cols: number } {
  return { data: data.queries.subarray(0, count * data.spec.d), rows: count, cols: data.spec.d };
}
