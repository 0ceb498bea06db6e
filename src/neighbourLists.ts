// The neighbour lists kneighbors returns: q rows of k (index, distance) pairs, padded where
// fewer than k points exist, with distances in the network's metric.
import { KnnError } from './errors.js';
import type { FoundNeighbours } from './jobs.js';
import { distanceOf, type Metric } from './metrics.js';
import type { Neighbours, RadiusNeighbours } from './results.js';

// forward materialises q × n values per layer, kneighbors q × k; beyond 2^28 float64s (2 GiB)
// a typed array cannot be had on every engine.
const MAX_OUTPUT_VALUES = 2 ** 28;

/** Throws TOO_LARGE when a call would return rows × columns values, more than a typed array holds. */
export function checkOutputSize(rows: number, columns: number, what: string, fix: string): void {
  if (rows * columns <= MAX_OUTPUT_VALUES) return;
  throw new KnnError('TOO_LARGE', `${what} = ${rows} × ${columns} values, more than the ${MAX_OUTPUT_VALUES} a typed array holds here; ${fix}.`);
}

/**
 * The q × `width` neighbour lists of a search that found `found` per query, padded: entries
 * past a row's `found` are index −1 at distance Infinity (faiss's convention).
 */
export function padNeighbours(neighbours: FoundNeighbours, rows: number, found: number, width: number): FoundNeighbours {
  if (found === width) return neighbours;
  const indices = new Int32Array(rows * width).fill(-1);
  const squared = new Float64Array(rows * width).fill(Infinity);
  for (let r = 0; r < rows; r++) {
    indices.set(neighbours.indices.subarray(r * found, (r + 1) * found), r * width);
    squared.set(neighbours.squared.subarray(r * found, (r + 1) * found), r * width);
  }
  return { indices, squared };
}

/** Neighbours as kneighbors reports them: their z1 values replaced, in place, by distances in `metric`. */
export function reportedNeighbours({ indices, squared }: FoundNeighbours, metric: Metric): Neighbours {
  for (let i = 0; i < squared.length; i++) squared[i] = distanceOf(metric, squared[i]);
  return { indices, distances: squared };
}

/** A radius answer as radiusNeighbors reports it: the z1 values its searches list replaced, in place, by distances in `metric`. */
export function reportedRadius(found: RadiusNeighbours, metric: Metric): RadiusNeighbours {
  const { distances } = found;
  for (let i = 0; i < distances.length; i++) distances[i] = distanceOf(metric, distances[i]);
  return found;
}
