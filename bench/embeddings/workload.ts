/**
 * The embeddings workload E: a million float32 vectors of 384 dimensions (the size of a small
 * sentence-embedding model's output), unit-normalised, searched by cosine with k = 10, 100
 * queries. Seeded: `clusters` centres with N(0, 1) coordinates, each vector a centre (drawn
 * uniformly) plus N(0, 1) noise per coordinate, then divided by its norm; queries from the same
 * distribution through a separate stream.
 *
 * The vectors are written straight into one Float32Array, row by row, so no float64 copy of the
 * 1.5 GB set ever exists.
 */
import { SeededRandom } from '../../src/random.js';

export interface EmbeddingsSpec {
  name: string;
  n: number;
  d: number;
  q: number;
  k: number;
  clusters: number;
  seed: number;
}

export const EMBEDDINGS_WORKLOAD: EmbeddingsSpec = { name: 'E', n: 1_000_000, d: 384, q: 100, k: 10, clusters: 100, seed: 31 };

export interface EmbeddingsData {
  spec: EmbeddingsSpec;
  train: Float32Array; // n × d, unit rows
  /** The cluster of each vector mod 10: knnet's fit takes labels today; the search never reads them. */
  labels: Int32Array;
  queries: Float32Array; // q × d, unit rows
}

function fillUnitRows(random: SeededRandom, centres: Float64Array, spec: EmbeddingsSpec, rows: number, out: Float32Array, labels?: Int32Array): void {
  const { d } = spec;
  const row = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    const cluster = random.integer(spec.clusters);
    if (labels) labels[i] = cluster % 10;
    let sum = 0;
    for (let j = 0; j < d; j++) {
      row[j] = centres[cluster * d + j] + random.normal();
      sum += row[j] * row[j];
    }
    const norm = Math.sqrt(sum);
    for (let j = 0; j < d; j++) out[i * d + j] = row[j] / norm;
  }
}

export function generateEmbeddings(spec: EmbeddingsSpec): EmbeddingsData {
  const random = new SeededRandom(spec.seed);
  const centres = new Float64Array(spec.clusters * spec.d);
  for (let i = 0; i < centres.length; i++) centres[i] = random.normal();
  const train = new Float32Array(spec.n * spec.d);
  const labels = new Int32Array(spec.n);
  fillUnitRows(random, centres, spec, spec.n, train, labels);
  const queries = new Float32Array(spec.q * spec.d);
  fillUnitRows(new SeededRandom((spec.seed ^ 0x9e3779b9) >>> 0), centres, spec, spec.q, queries);
  return { spec, train, labels, queries };
}
