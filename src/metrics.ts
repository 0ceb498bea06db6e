// The metrics a network can rank by, and what layer 1 computes for each (z1), from which the
// distance users see follows.
//
// - 'euclidean': the squared distance z1 = ‖x − X_i‖² on the vectors as given; distance √z1.
// - 'cosine': the same on L2-normalised vectors (normaliseRows); for unit vectors
//   ‖x̂ − X̂_i‖² = 2(1 − cos), so distance = z1 / 2 = 1 − cos, computed without the cancellation
//   of 1 − x̂·X̂_i.
// - 'manhattan': z1 = Σ_j |x_j − X_ij|, summed in dimension order, is the distance. Layer 1 is
//   then not a linear layer: no expansion, no W1; it runs on direct differences only.
// - 'dot': z1 = −Σ_j x_j·X_ij, the inner product summed in dimension order (each product
//   rounded, then added: never fused), then negated, so that smaller is nearer and every
//   selection, merge and tie-break is the other metrics'. Its reported value is the inner
//   product −z1 (exact: negation is), so neighbours come in descending inner product. It runs
//   on the direct kernel alone: the expansion ‖x − X_i‖² does not give it, and its exact value
//   is that sum.
import { KnnError } from './errors.js';
import type { Matrix } from './matrix.js';
import type { StorageKind } from './planner.js';

/**
 * How layer 1 measures distance: 'euclidean' (√Σ(x_j − X_ij)², the default), 'cosine'
 * (1 − cos between the two vectors), 'manhattan' (Σ|x_j − X_ij|) or 'dot', the inner product
 * x·X_i as faiss's IndexFlatIP ranks: the largest inner product is the nearest, and the
 * `distances` reported are the inner products themselves, so they come in descending order.
 */
export type Metric = 'euclidean' | 'cosine' | 'manhattan' | 'dot';
export const METRICS: readonly Metric[] = ['euclidean', 'cosine', 'manhattan', 'dot'];
/** The metrics' codes as the kernels take them (assembly/metrics.ts) and toBytes saves them. */
export const METRIC_CODES: Readonly<Record<Metric, number>> = { euclidean: 0, cosine: 1, manhattan: 2, dot: 3 };

/**
 * The distance users see for layer 1's value z1: for 'dot' the inner product x·X_i = −z1, which
 * is larger for nearer points (the rows of kneighbors descend).
 */
export function distanceOf(metric: Metric, z1: number): number {
  if (metric === 'euclidean') return Math.sqrt(z1);
  if (metric === 'dot') return -z1;
  return metric === 'cosine' ? z1 / 2 : z1;
}

/**
 * Whether layer 1 is the expansion of ‖x − X_i‖² (a GEMM on W1, centred on μ): Euclidean and
 * cosine. Manhattan and dot run on direct values of X alone.
 */
export function hasExpansion(metric: Metric): boolean {
  return metric === 'euclidean' || metric === 'cosine';
}

/** Whether a partition can bound the metric (boxes, clusters): every metric but 'dot', whose inner product has no bound implemented. */
export function hasPartitionBound(metric: Metric): boolean {
  return metric !== 'dot';
}

/**
 * Whether a point at layer-1 value z1 is within `radius`: its reported distance is ≤ radius,
 * or for 'dot' its inner product −z1 is ≥ radius (assembly/radiusSearch.ts decides the same).
 */
export function withinRadius(metric: Metric, z1: number, radius: number): boolean {
  return metric === 'dot' ? -z1 >= radius : distanceOf(metric, z1) <= radius;
}

/**
 * A bound on z1 that every point within `radius` meets (the caller then keeps the points
 * withinRadius): exact for Manhattan (z1 is the distance) and dot (−radius: z1 ≤ −r exactly
 * when −z1 ≥ r); for
 * Euclidean with room for the rounding of r·r and of the square root (√z1 rounds to ≤ r only if
 * z1 ≤ r²(1 + u)², and fl(r·r) ≥ r²(1 − u)). For cosine, fl(z1 / 2) ≤ r holds for z1 up to one
 * smallest subnormal above 2r: halving a subnormal rounds (the smallest one halves to 0), so
 * 2r alone would leave out a point reported at distance r. Below 2^−1021, where that happens,
 * 2r + MIN_VALUE is exact; above it, halving is exact and the sum rounds back to 2r.
 */
export function layerOneRadiusBound(metric: Metric, radius: number): number {
  if (metric === 'euclidean') return radius * radius * (1 + 8 * 2 ** -53);
  if (metric === 'dot') return -radius;
  return metric === 'cosine' ? 2 * radius + Number.MIN_VALUE : radius;
}

/** z1 between query row `queryRow` and training row `row` computed directly, in dimension order. */
export function layerOneValue(metric: Metric, points: Float64Array | Float32Array, row: number, query: Float64Array | Float32Array, queryRow: number, d: number): number {
  // The metric tested once, outside the loop: filtered searches call this per allowed point.
  const at = row * d;
  const from = queryRow * d;
  let sum = 0;
  if (metric === 'manhattan') {
    for (let j = 0; j < d; j++) sum += Math.abs(query[from + j] - points[at + j]);
    return sum;
  }
  if (metric === 'dot') {
    // The sum first, then its negation: −Σ x·y, as the kernels give it (a zero sum is −0).
    for (let j = 0; j < d; j++) sum += query[from + j] * points[at + j];
    return -sum;
  }
  for (let j = 0; j < d; j++) {
    const difference = query[from + j] - points[at + j];
    sum += difference * difference;
  }
  return sum;
}

/**
 * One row divided by its L2 norm, for the cosine metric: x̂_j = (x_j / m) / √Σ_j (x_j / m)², with
 * m = max_j |x_j| and the sum taken in dimension order, from `source` at `from` to `target` at
 * `to` (they may be the same place). Scaling by m first keeps tiny vectors from underflowing to
 * a zero norm and huge ones from overflowing. False for a zero vector, which has no direction.
 */
export function normaliseRow(source: ArrayLike<number>, from: number, target: Float64Array, to: number, cols: number): boolean {
  let largest = 0;
  for (let j = 0; j < cols; j++) largest = Math.max(largest, Math.abs(source[from + j]));
  if (largest === 0) return false;
  let sum = 0;
  for (let j = 0; j < cols; j++) {
    const scaled = source[from + j] / largest;
    sum += scaled * scaled;
  }
  const norm = Math.sqrt(sum);
  for (let j = 0; j < cols; j++) target[to + j] = source[from + j] / largest / norm;
  return true;
}

/** Rows divided by their L2 norm (normaliseRow), for the cosine metric; a zero vector is a KnnError naming its row. */
export function normaliseRows(matrix: Matrix, argument: string): Matrix {
  const { data, rows, cols } = matrix;
  const unit = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    if (!normaliseRow(data, r * cols, unit, r * cols, cols)) throw zeroRow(argument, r);
  }
  return { data: unit, rows, cols };
}

function zeroRow(argument: string, row: number): KnnError {
  return new KnnError('BAD_INPUT', `${argument} row ${row} is a zero vector, which has no direction for the cosine metric; remove it, or use metric: 'euclidean'.`);
}

/** Rows as layer 1 takes them: L2-normalised for the cosine metric, else as given. */
export function prepareRows(matrix: Matrix, metric: Metric, argument: string): Matrix {
  return metric === 'cosine' ? normaliseRows(matrix, argument) : matrix;
}

/**
 * Training rows as a network keeps them in `storage`: prepareRows', but float32 storage keeps a
 * cosine network's rows as given (rounded to float32), and its kernels normalise each value as
 * they widen it (assembly/float32Storage.ts); a row that is, or rounds to, a zero vector is
 * refused as normaliseRows refuses it.
 */
export function prepareTrainingRows(matrix: Matrix, metric: Metric, storage: StorageKind, argument: string): Matrix {
  if (metric !== 'cosine' || storage !== 'float32') return prepareRows(matrix, metric, argument);
  const { data, rows, cols } = matrix;
  for (let r = 0; r < rows; r++) {
    let zero = true;
    for (let at = r * cols; zero && at < (r + 1) * cols; at++) zero = Math.fround(data[at]) === 0;
    if (zero) throw zeroRow(argument, r);
  }
  return matrix;
}

/**
 * Rows that normaliseRows could have made: a saved cosine network holds unit vectors. Their
 * squared norm is 1 within the rounding of the normalisation and of this sum.
 */
export function firstNonUnitRow(data: Float64Array, rows: number, cols: number): number {
  const tolerance = (4 * cols + 8) * 2 ** -53;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += data[r * cols + j] ** 2;
    if (!(Math.abs(sum - 1) <= tolerance)) return r;
  }
  return -1;
}
