// The metrics a network can rank by. Each one runs on the same layer 1 — a squared Euclidean
// distance, z1 = ‖x − X_i‖² — on vectors prepared for it, and maps z1 to the distance users see.
//
// - 'euclidean': the vectors as given; distance √z1.
// - 'cosine': every vector L2-normalised first (normaliseRows); for unit vectors
//   ‖x̂ − X̂_i‖² = 2(1 − cos), so distance = z1 / 2 = 1 − cos, computed without the cancellation
//   of 1 − x̂·X̂_i.
import { KnnError } from './errors.js';
import type { Matrix } from './matrix.js';

export type Metric = 'euclidean' | 'cosine';
export const METRICS: readonly Metric[] = ['euclidean', 'cosine'];

/** The distance users see for a squared distance z1 between the prepared vectors. */
export function distanceOf(metric: Metric, squared: number): number {
  return metric === 'cosine' ? squared / 2 : Math.sqrt(squared);
}

/**
 * A bound on z1 that every point within `radius` meets: exact for cosine (z1 / 2 ≤ r ⇔ z1 ≤ 2r),
 * and with room for the rounding of r·r and of the square root for Euclidean (√z1 rounds to ≤ r
 * only if z1 ≤ r²(1 + u)², and fl(r·r) ≥ r²(1 − u)).
 */
export function squaredRadiusBound(metric: Metric, radius: number): number {
  return metric === 'cosine' ? 2 * radius : radius * radius * (1 + 8 * 2 ** -53);
}

/**
 * Rows divided by their L2 norm, for the cosine metric: x̂_j = (x_j / m) / √Σ_j (x_j / m)², with
 * m = max_j |x_j| and the sum taken in dimension order. Scaling by m first keeps tiny vectors
 * from underflowing to a zero norm and huge ones from overflowing. A zero vector has no
 * direction: KnnError naming its row.
 */
export function normaliseRows(matrix: Matrix, argument: string): Matrix {
  const { data, rows, cols } = matrix;
  const unit = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let largest = 0;
    for (let j = 0; j < cols; j++) largest = Math.max(largest, Math.abs(data[start + j]));
    if (largest === 0) {
      throw new KnnError('BAD_INPUT', `${argument} row ${r} is a zero vector, which has no direction for the cosine metric; remove it, or use metric: 'euclidean'.`);
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const scaled = data[start + j] / largest;
      sum += scaled * scaled;
    }
    const norm = Math.sqrt(sum);
    for (let j = 0; j < cols; j++) unit[start + j] = data[start + j] / largest / norm;
  }
  return { data: unit, rows, cols };
}

/** Rows as layer 1 takes them: L2-normalised for the cosine metric, else as given. */
export function prepareRows(matrix: Matrix, metric: Metric, argument: string): Matrix {
  return metric === 'cosine' ? normaliseRows(matrix, argument) : matrix;
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
