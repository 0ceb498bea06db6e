// Label encoding: the classes, sorted as scikit-learn orders them, and each training point's
// class code (its index in `classes`); or, for regression, the targets as float64.
import { KnnError, describeValue } from './errors.js';

export type Label = number | string;

export interface EncodedLabels {
  readonly classes: readonly Label[];
  readonly codes: Int32Array;
}

function checkLength(y: unknown, rows: number, argument: string): ArrayLike<unknown> {
  const isList = Array.isArray(y) || (ArrayBuffer.isView(y) && !(y instanceof DataView));
  if (!isList) throw new KnnError('BAD_INPUT', `${argument} must be an array of labels; got ${describeValue(y)}.`);
  const list = y as ArrayLike<unknown>;
  if (list.length !== rows) {
    throw new KnnError('SHAPE_MISMATCH', `${argument} has ${list.length} labels but X has ${rows} rows; pass one label per row.`);
  }
  return list;
}

/** Numbers ascending, strings in code-unit order: the order of numpy.unique. */
function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function encodeLabels(y: unknown, rows: number, argument = 'y'): EncodedLabels {
  const list = checkLength(y, rows, argument);
  let kind: 'number' | 'string' | undefined;
  for (let i = 0; i < list.length; i++) {
    const label = list[i];
    const type = typeof label;
    if (type === 'number' ? !Number.isFinite(label) : type !== 'string') {
      throw new KnnError('BAD_LABEL', `${argument}[${i}] is ${describeValue(label)}; a class label must be a finite number or a string.`);
    }
    // A fraction among numeric labels means a continuous target, which classes cannot model
    // (scikit-learn refuses it too); whole numbers stay classes.
    if (type === 'number' && !Number.isInteger(label)) {
      throw new KnnError(
        'BAD_LABEL',
        `${argument}[${i}] is ${label}, not a whole number: numeric class labels must be whole numbers. For a continuous target, fit with { task: 'regression' }.`,
      );
    }
    if (kind === undefined) kind = type as 'number' | 'string';
    if (type !== kind) {
      throw new KnnError('BAD_LABEL', `${argument}[${i}] is a ${type} but earlier labels are ${kind}s; use one type for every label.`);
    }
  }
  const classes = [...new Set(Array.from(list as ArrayLike<Label>))].sort(compareLabels);
  const codeOf = new Map<Label, number>(classes.map((label, code) => [label, code]));
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) codes[i] = codeOf.get(list[i] as Label)!;
  return { classes, codes };
}

/**
 * Regression targets as float64. `summedRows` is how many targets the network will sum (the
 * union's size when points are added): weighted sums of that many must stay finite.
 */
export function encodeTargets(y: unknown, rows: number, argument = 'y', summedRows = rows): Float64Array {
  const list = checkLength(y, rows, argument);
  const targets = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const value = list[i];
    if (typeof value !== 'number') {
      throw new KnnError('BAD_LABEL', `${argument}[${i}] is ${describeValue(value)}; regression targets must be numbers.`);
    }
    if (!Number.isFinite(value)) {
      throw new KnnError('NON_FINITE', `${argument}[${i}] is ${value}; regression targets must be finite.`);
    }
    if (Math.abs(value) > Number.MAX_VALUE / (2 * summedRows)) {
      throw new KnnError('NON_FINITE', `${argument}[${i}] is ${value}; weighted sums of ${summedRows} targets that large overflow float64: rescale the targets.`);
    }
    targets[i] = value;
  }
  return targets;
}

/**
 * Labels to append to a network whose classes are `classes`: checked alone (so messages name
 * the caller's own indices), then for the same label type as the network's.
 */
export function checkAddedLabels(y: unknown, rows: number, classes: readonly Label[]): void {
  const added = encodeLabels(y, rows);
  const held = typeof classes[0];
  const given = typeof added.classes[0];
  if (given !== held) {
    const first = Array.from(y as ArrayLike<Label>).findIndex((label) => typeof label !== held);
    throw new KnnError('BAD_LABEL', `y[${first}] is a ${given} but the network's classes are ${held}s; use one type for every label.`);
  }
}
