// --impute mean|median: empty feature fields filled with a statistic of the training file's
// column, computed over its non-empty fields; test rows are filled with the same values.
import type { ImputeMethod } from './arguments.js';
import { FileError } from './fileError.js';
import { shellWord } from './shellWord.js';

/** The statistic of each column of row-major `data` (`names.length` columns of the file `path`), NaN (empty) fields left out. */
export function imputationValues(data: Float64Array, rows: number, method: ImputeMethod, names: readonly string[], path: string): Float64Array {
  const cols = names.length;
  const values = new Float64Array(cols);
  const column = new Float64Array(rows);
  for (let f = 0; f < cols; f++) {
    let count = 0;
    for (let r = 0; r < rows; r++) {
      const value = data[r * cols + f]!;
      if (!Number.isNaN(value)) column[count++] = value;
    }
    if (count === 0) {
      throw new FileError(`${path}: column "${names[f]}" is empty in every row, so --impute has nothing to fill it from; leave it out with --drop ${shellWord(names[f]!)}`);
    }
    values[f] = method === 'mean' ? mean(column, count) : median(column.subarray(0, count));
  }
  return values;
}

function mean(values: Float64Array, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += values[i]!;
  return sum / count;
}

/** The middle value, or the mean of the two middle ones (as numpy and scikit-learn take it). Sorts `values`. */
function median(values: Float64Array): number {
  values.sort();
  const middle = values.length >> 1;
  return values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}

/** Replaces every NaN in row-major `data` by its column's value. */
export function fillEmpty(data: Float64Array, cols: number, values: Float64Array): void {
  for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i]!)) data[i] = values[i % cols]!;
}
