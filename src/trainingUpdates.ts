// What add() and remove() change: the labels they append (checked against the network's), and
// the training set after them when the weights are rebuilt rather than appended to in place.
import { KnnError, describeValue } from './errors.js';
import { checkHeldTargets, encodeLabels, encodeTargets, extendClasses, readAddedLabels, targetLimit } from './labels.js';
import type { Matrix } from './matrix.js';
import type { Task } from './options.js';
import type { Kernels } from './wasm.js';
import { readTrainingData, type AppendedLabels, type HeldLabels, type Weights } from './weights.js';

/** Checks that `y` is given exactly when the network has labels (`task` not 'search'). */
export function checkLabelsGiven(task: Task, y: unknown, call: string): void {
  const given = y !== undefined && y !== null;
  if (task === 'search' && given) {
    throw new KnnError('BAD_INPUT', `${call}: y is ${describeValue(y)}, but this network has no labels (task 'search'), so it takes none; call add(X).`);
  }
  if (task !== 'search' && !given) {
    throw new KnnError('BAD_INPUT', `${call}: y is ${describeValue(y)}, but this network has task '${task}' and needs one ${task === 'regression' ? 'target' : 'label'} per row of X; call add(X, y).`);
  }
}

/** The labels of a first training set (fit, or the first add of an empty network): class codes, targets, or none. */
export function encodeTrainingLabels(task: Task, y: unknown, rows: number): HeldLabels {
  if (task === 'search') return undefined;
  return task === 'regression' ? encodeTargets(y, rows) : encodeLabels(y, rows);
}

/**
 * The labels add() appends to `w` for `rows` new points: targets (the held ones rechecked
 * against the grown n), class codes in the union of the classes, or none.
 */
export function appendedLabels(kernels: Kernels, w: Weights, task: Task, y: unknown, rows: number): AppendedLabels {
  if (task === 'search') return undefined;
  const total = w.n + rows;
  if (task === 'regression') {
    const targets = encodeTargets(y, rows, 'y', total);
    if (w.largestTarget > targetLimit(total)) checkHeldTargets(kernels.f64(w.labels!.pointer, w.n), w.n, total);
    return { targets };
  }
  return extendClasses(w.classes, readAddedLabels(y, rows, w.classes));
}

/** The held training set followed by `extra` and its labels: what a rebuild after add() packs. */
export function unionOf(kernels: Kernels, held: Weights, extra: Matrix, appended: AppendedLabels): { matrix: Matrix; labels: HeldLabels } {
  const rows = held.n + extra.rows;
  const points = new Float64Array(rows * held.d);
  points.set(kernels.f64(held.points.pointer, held.n * held.d));
  points.set(extra.data, held.n * held.d);
  const matrix = { data: points, rows, cols: held.d };
  if (appended === undefined) return { matrix, labels: undefined };
  if ('targets' in appended) {
    const targets = new Float64Array(rows);
    targets.set(kernels.f64(held.labels!.pointer, held.n));
    targets.set(appended.targets, held.n);
    return { matrix, labels: targets };
  }
  const codes = new Int32Array(rows);
  codes.set(kernels.i32(held.labels!.pointer, held.n));
  const { recode } = appended;
  if (recode) for (let i = 0; i < held.n; i++) codes[i] = recode[codes[i]];
  codes.set(appended.codes, held.n);
  return { matrix, labels: { classes: appended.classes, codes } };
}

/** The training set without the points `removed` marks, in their order: what remove() rebuilds on. */
export function remainderOf(kernels: Kernels, w: Weights, removed: Uint8Array, rows: number): { matrix: Matrix; labels: HeldLabels } {
  const old = readTrainingData(kernels, w);
  const points = new Float64Array(rows * w.d);
  const kept: number[] = [];
  for (let i = 0; i < w.n; i++) {
    if (removed[i]) continue;
    points.set(old.points.subarray(i * w.d, (i + 1) * w.d), kept.length * w.d);
    kept.push(i);
  }
  const matrix = { data: points, rows, cols: w.d };
  if (old.targets) return { matrix, labels: Float64Array.from(kept, (i) => old.targets![i]) };
  if (old.codes) return { matrix, labels: encodeLabels(kept.map((i) => w.classes[old.codes![i]]), rows) };
  return { matrix, labels: undefined };
}
