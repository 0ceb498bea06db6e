// From class scores to answers: labels by argmax, and the accuracy or R² of `score`.
import type { Label } from './labels.js';
import { KnnError, describeValue } from './errors.js';

/** The label of each row's highest score; the first (lowest sorted class) wins a tie. */
export function argmaxLabels(scores: Float64Array, rows: number, classes: readonly Label[]): Label[] {
  const c = classes.length;
  const labels = new Array<Label>(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (scores[r * c + j] > scores[r * c + best]) best = j;
    labels[r] = classes[best];
  }
  return labels;
}

/** Checks the `y` of `score`: one label (or target) per row; returns them, each read once. */
export function checkTruth(y: unknown, rows: number, regression: boolean): Label[] {
  const isList = Array.isArray(y) || (ArrayBuffer.isView(y) && !(y instanceof DataView));
  if (!isList) throw new KnnError('BAD_INPUT', `y must be an array of ${regression ? 'targets' : 'labels'}; got ${describeValue(y)}.`);
  const list = y as ArrayLike<unknown>;
  const length = list.length;
  if (length !== rows) {
    throw new KnnError('SHAPE_MISMATCH', `y has ${length} entries but X has ${rows} rows; pass one per row.`);
  }
  const truth = new Array<Label>(length);
  // The codes of fit's checks (labels.ts): a bad label, or a target that is not a number, is
  // BAD_LABEL; a target that is NaN or ±∞ is NON_FINITE.
  for (let i = 0; i < length; i++) {
    const value = list[i];
    const expected = regression ? 'a finite number' : 'a finite number or a string';
    if (typeof value === 'number' ? !Number.isFinite(value) : regression || typeof value !== 'string') {
      const code = regression && typeof value === 'number' ? 'NON_FINITE' : 'BAD_LABEL';
      throw new KnnError(code, `y[${i}] is ${describeValue(value)}; expected ${expected}.`);
    }
    truth[i] = value as Label;
  }
  return truth;
}

export function accuracy(predicted: readonly Label[], truth: ArrayLike<Label>): number {
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === truth[i]) correct++;
  return correct / predicted.length;
}

/**
 * Coefficient of determination; like scikit-learn, 1 for a perfect fit of constant targets, else 0 there.
 * If the total sum of squares overflows (targets near the float64 limit), both sums are taken
 * again on values divided by the largest magnitude (R² is scale-free): never ∞/∞ = NaN.
 */
export function rSquared(predicted: Float64Array, truth: ArrayLike<number>, scale = 1): number {
  let mean = 0;
  for (let i = 0; i < truth.length; i++) mean += truth[i] / scale;
  mean /= truth.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    residual += (truth[i] / scale - predicted[i] / scale) ** 2;
    total += (truth[i] / scale - mean) ** 2;
  }
  if (!Number.isFinite(total) && scale === 1) {
    let largest = 0;
    for (let i = 0; i < truth.length; i++) largest = Math.max(largest, Math.abs(truth[i]), Math.abs(predicted[i]));
    return rSquared(predicted, truth, largest);
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}
