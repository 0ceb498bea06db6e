// Label encoding: the classes, sorted as scikit-learn orders them, and each training point's
// class code (its index in `classes`); or, for regression, the targets as float64.
import { KnnError, describeValue } from './errors.js';

/** A class label: a number or a string (one network's labels all have one type), or a regression target. */
export type Label = number | string;

export interface EncodedLabels {
  readonly classes: readonly Label[];
  readonly codes: Int32Array;
}

/**
 * The labels of `y`, checked to be one per row and read exactly once into an array of our own
 * (a Proxy or a getter could answer differently the second time).
 */
function readLabels(y: unknown, rows: number, argument: string): unknown[] {
  const isList = Array.isArray(y) || (ArrayBuffer.isView(y) && !(y instanceof DataView));
  if (!isList) throw new KnnError('BAD_INPUT', `${argument} must be an array of labels; got ${describeValue(y)}.`);
  const list = y as ArrayLike<unknown>;
  const length = list.length;
  if (length !== rows) {
    throw new KnnError('SHAPE_MISMATCH', `${argument} has ${length} labels but X has ${rows} rows; pass one label per row.`);
  }
  const values = new Array<unknown>(length);
  for (let i = 0; i < length; i++) values[i] = list[i];
  return values;
}

/** Numbers ascending, strings in code-unit order: the order of numpy.unique. */
function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function encodeLabels(y: unknown, rows: number, argument = 'y'): EncodedLabels {
  const list = readLabels(y, rows, argument);
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
  // One label (a single add) is its own class: no set, sort or map to build (−0 is class 0, as a Set keeps it).
  if (rows === 1) return { classes: [list[0] === 0 ? 0 : (list[0] as Label)], codes: new Int32Array(1) };
  const classes = [...new Set(list as Label[])].sort(compareLabels);
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
  const list = readLabels(y, rows, argument);
  const targets = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const value = list[i];
    if (typeof value !== 'number') {
      throw new KnnError('BAD_LABEL', `${argument}[${i}] is ${describeValue(value)}; regression targets must be numbers.`);
    }
    if (!Number.isFinite(value)) {
      throw new KnnError('NON_FINITE', `${argument}[${i}] is ${value}; regression targets must be finite.`);
    }
    if (Math.abs(value) > targetLimit(summedRows)) {
      throw new KnnError('NON_FINITE', `${argument}[${i}] is ${value}; weighted sums of ${summedRows} targets that large overflow float64: rescale the targets.`);
    }
    targets[i] = value;
  }
  return targets;
}

/**
 * Labels to append to a network whose classes are `classes`, read once: checked alone (so
 * messages name the caller's own indices), then for the same label type as the network's.
 */
export function readAddedLabels(y: unknown, rows: number, classes: readonly Label[]): Label[] {
  const added = encodeLabels(y, rows);
  const labels = Array.from(added.codes, (code) => added.classes[code]);
  const held = typeof classes[0];
  const given = typeof added.classes[0];
  if (given !== held) {
    const first = labels.findIndex((label) => typeof label !== held);
    throw new KnnError('BAD_LABEL', `y[${first}] is a ${given} but the network's classes are ${held}s; use one type for every label.`);
  }
  return labels;
}

/**
 * The largest target magnitude whose weighted sums over `summedRows` targets stay finite: the
 * weights of one query sum to 1, so a sum of values up to MAX_VALUE / (2·n) stays below MAX_VALUE / 2.
 */
export function targetLimit(summedRows: number): number {
  return Number.MAX_VALUE / (2 * summedRows);
}

/**
 * The bound on regression targets depends on how many are summed: after add() grows the network
 * to `rows` points, the `held` targets it already had must meet it too.
 */
export function checkHeldTargets(targets: Float64Array, held: number, rows: number): void {
  const limit = targetLimit(rows);
  for (let i = 0; i < held; i++) {
    if (Math.abs(targets[i]) <= limit) continue;
    throw new KnnError(
      'NON_FINITE',
      `add(X, y) would grow the network to ${rows} points, and weighted sums of ${rows} targets as large as its target ${i} (${targets[i]}) overflow float64 (the limit is ±${limit.toExponential(3)}); rescale the targets and fit again.`,
    );
  }
}

/** Class-level calls (classCounts, removeClass) have no meaning for a regressor. */
export function checkClassification(regression: boolean, call: string): void {
  if (regression) throw new KnnError('BAD_OPTION', `${call} is for classification; this network has task 'regression'.`);
}

/** The code of class `label` among `classes`; BAD_LABEL naming `call` when it is not one. */
export function classCode(classes: readonly Label[], label: unknown, call: string): number {
  const code = classes.indexOf(label as Label);
  if (code < 0) {
    throw new KnnError('BAD_LABEL', `${call}: ${describeValue(label)} is not one of the network's classes (${classes.map((c) => describeValue(c)).join(', ')}).`);
  }
  return code;
}

/** Training points per class, in the order of `classes`. */
export function countPerClass(classes: readonly Label[], codes: ArrayLike<number>): Map<Label, number> {
  const counts = new Array<number>(classes.length).fill(0);
  for (let i = 0; i < codes.length; i++) counts[codes[i]]++;
  return new Map(classes.map((label, code) => [label, counts[code]]));
}

/**
 * The classes once `added` labels (already checked to be of the classes' type) join them: the
 * sorted union, the added labels' codes in it, and `recode` mapping each held code to its new
 * one when a new class sorts before an old one (undefined when no held code moves).
 */
export function extendClasses(classes: readonly Label[], added: readonly Label[]): { classes: readonly Label[]; codes: Int32Array; recode: Int32Array | undefined } {
  // Most adds bring no new class (one example at a time, to known classes): no sort, no Map.
  const known = Int32Array.from(added, (label) => classes.indexOf(label));
  if (!known.includes(-1)) return { classes, codes: known, recode: undefined };
  const union = [...new Set([...classes, ...added])].sort(compareLabels);
  const codeOf = new Map<Label, number>(union.map((label, code) => [label, code]));
  const recode = Int32Array.from(classes, (label) => codeOf.get(label)!);
  return {
    classes: union,
    codes: Int32Array.from(added, (label) => codeOf.get(label)!),
    recode: recode.some((code, held) => code !== held) ? recode : undefined,
  };
}
