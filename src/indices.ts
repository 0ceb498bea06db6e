// Validation of the training-point indices that remove() takes, in the voice of matrix.ts.
import { KnnError, describeValue } from './errors.js';

/**
 * Which of n training points `indices` names, as a mask (1 = named), each index read once.
 * Every index must be a whole number in [0, n), named once.
 */
export function readIndices(indices: unknown, n: number, argument = 'indices'): Uint8Array {
  const isList = Array.isArray(indices) || (ArrayBuffer.isView(indices) && !(indices instanceof DataView));
  if (!isList) throw new KnnError('BAD_INPUT', `${argument} must be an array of training-point indices; got ${describeValue(indices)}.`);
  const list = indices as ArrayLike<unknown>;
  const length = list.length;
  const named = new Uint8Array(n);
  for (let i = 0; i < length; i++) {
    const index = list[i];
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= n) {
      throw new KnnError('BAD_INPUT', `${argument}[${i}] is ${describeValue(index)}; an index must be a whole number from 0 to ${n - 1} (the network has ${n} points).`);
    }
    if (named[index]) throw new KnnError('BAD_INPUT', `${argument}[${i}] is ${index}, which ${argument} already names; name each point once.`);
    named[index] = 1;
  }
  return named;
}

/** A removal must leave at least one point, and at least k. */
export function checkRemaining(rows: number, k: number | 'all', call: string): void {
  if (rows === 0) throw new KnnError('EMPTY', `${call} would leave no training points; a network needs at least one (dispose() it instead).`);
  if (k !== 'all' && k > rows) {
    throw new KnnError('K_OUT_OF_RANGE', `${call} would leave ${rows} training points but options.k is ${k}; remove fewer points, or fit again with a smaller k.`);
  }
}
