/**
 * The embeddings workload E: a million float32 vectors of 384 dimensions (the size of a small
 * sentence-embedding model's output), unit-normalised, searched by cosine with k = 10, 100
 * queries; queries from the same distribution through a separate stream.
 *
 * Real embeddings vary along far fewer directions than they have coordinates; isotropic noise
 * in 384 dimensions does not (every point is then about as far from every other, and the k
 * nearest mean little — an approximate index finds a quarter of them). So, seeded: `clusters`
 * centres with N(0, 1) coordinates, each with its own `latentDimensions` directions (N(0, 1/L)
 * coordinates); a vector is a centre (drawn uniformly), plus its directions weighted by L
 * standard normals, plus N(0, NOISE²) per coordinate, divided by its norm.
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
  /** Directions each cluster varies along (the data's intrinsic dimension, about). */
  latentDimensions: number;
  seed: number;
}

export const EMBEDDINGS_WORKLOAD: EmbeddingsSpec = { name: 'E', n: 1_000_000, d: 384, q: 100, k: 10, clusters: 100, latentDimensions: 16, seed: 31 };

/** Isotropic noise per coordinate, small beside the latent spread (variance 1 per coordinate). */
const NOISE = 0.25;

/** Each cluster's centre (d values) and directions (latentDimensions × d values). */
interface Clusters {
  centres: Float64Array;
  directions: Float64Array;
}

export interface EmbeddingsData {
  spec: EmbeddingsSpec;
  train: Float32Array; // n × d, unit rows
  /** The cluster of each vector mod 10: knnet's fit takes labels today; the search never reads them. */
  labels: Int32Array;
  queries: Float32Array; // q × d, unit rows
}

function fillUnitRows(random: SeededRandom, clusters: Clusters, spec: EmbeddingsSpec, rows: number, out: Float32Array, labels?: Int32Array): void {
  const { d, latentDimensions } = spec;
  const row = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    const cluster = random.integer(spec.clusters);
    if (labels) labels[i] = cluster % 10;
    for (let j = 0; j < d; j++) row[j] = clusters.centres[cluster * d + j] + NOISE * random.normal();
    for (let l = 0; l < latentDimensions; l++) {
      const weight = random.normal();
      const direction = (cluster * latentDimensions + l) * d;
      for (let j = 0; j < d; j++) row[j] += weight * clusters.directions[direction + j];
    }
    let sum = 0;
    for (let j = 0; j < d; j++) sum += row[j] * row[j];
    const norm = Math.sqrt(sum);
    for (let j = 0; j < d; j++) out[i * d + j] = row[j] / norm;
  }
}

export function generateEmbeddings(spec: EmbeddingsSpec): EmbeddingsData {
  const random = new SeededRandom(spec.seed);
  const centres = new Float64Array(spec.clusters * spec.d);
  for (let i = 0; i < centres.length; i++) centres[i] = random.normal();
  const directions = new Float64Array(spec.clusters * spec.latentDimensions * spec.d);
  const scale = 1 / Math.sqrt(spec.latentDimensions);
  for (let i = 0; i < directions.length; i++) directions[i] = scale * random.normal();
  const clusters = { centres, directions };
  const train = new Float32Array(spec.n * spec.d);
  const labels = new Int32Array(spec.n);
  fillUnitRows(random, clusters, spec, spec.n, train, labels);
  const queries = new Float32Array(spec.q * spec.d);
  fillUnitRows(new SeededRandom((spec.seed ^ 0x9e3779b9) >>> 0), clusters, spec, spec.q, queries);
  return { spec, train, labels, queries };
}
