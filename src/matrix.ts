// Input normalisation and validation for matrices: every shape and value check of a matrix
// argument lives here, so every bad matrix is rejected in the same voice.
import { KnnError, describeValue } from './errors.js';

/**
 * A row-major matrix of values, owned by knnet. Float32 input stays float32 here (half the
 * bytes); it is widened to float64, exactly, where it is copied into wasm memory.
 */
export interface Matrix {
  /** The rows × cols values, row-major: entry (r, c) at `data[r * cols + c]`. */
  readonly data: Float64Array | Float32Array;
  /** Number of rows. */
  readonly rows: number;
  /** Number of columns. */
  readonly cols: number;
}

/**
 * What the public API accepts as a matrix of rows × cols finite numbers: an array of rows
 * (`number[][]`, or rows that are typed arrays), or `{ data, rows, cols }` with the values flat
 * and row-major (entry (r, c) at `data[r * cols + c]`).
 */
export type MatrixInput =
  | ArrayLike<ArrayLike<number>>
  | {
      /** The rows × cols values, row-major: entry (r, c) at `data[r * cols + c]`. */
      data: ArrayLike<number>;
      /** Number of rows. */
      rows: number;
      /** Number of columns. */
      cols: number;
    };

const MATRIX_FORMS = 'a number[][] or { data, rows, cols }';

/** wasm32 addresses 4 GiB; no matrix the network holds or streams can be larger. */
const ADDRESSABLE_BYTES = 4 * 1024 ** 3;

/**
 * Largest magnitude accepted for d features: squared distances between such points, and the
 * norms the distance expansion adds, stay far below Number.MAX_VALUE (16·d·limit² = MAX_VALUE).
 */
export function magnitudeLimit(cols: number): number {
  return Math.sqrt(Number.MAX_VALUE / (16 * cols));
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

/** The position of entry `flat` of a rows × cols matrix, as the user would index it. */
function position(argument: string, flat: number, cols: number, nested: boolean): string {
  const row = Math.floor(flat / cols);
  const col = flat % cols;
  return nested ? `${argument}[${row}][${col}]` : `${argument}.data[${flat}] (row ${row}, column ${col})`;
}

/** Checks every value is finite and small enough to square; names the first that is not. */
function checkValues(argument: string, data: Float64Array | Float32Array, cols: number, nested: boolean): void {
  const limit = magnitudeLimit(cols);
  for (let flat = 0; flat < data.length; flat++) {
    const value = data[flat];
    if (Math.abs(value) <= limit) continue;
    const where = position(argument, flat, cols, nested);
    if (!Number.isFinite(value)) {
      throw new KnnError('NON_FINITE', `${where} is ${value}; every value must be finite: remove or impute missing values first.`);
    }
    throw new KnnError(
      'NON_FINITE',
      `${where} is ${value}; with ${cols} features values must stay within ±${limit.toExponential(3)} so squared distances do not overflow float64: rescale the data.`,
    );
  }
}

/** A typed array's own length, which an own `length` property defined on it cannot disguise. */
const typedArrayLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), 'length')!.get!;

/**
 * Reads `count` values of `source` into `target` from `offset`, each exactly once (a Proxy or a
 * getter could answer differently the second time), rejecting any that is not a number;
 * `where(i)` names value i for the message. A typed array of numbers holding exactly `count`
 * values is copied by one `set`.
 */
function copyNumbers(source: ArrayLike<unknown>, target: Float64Array | Float32Array, offset: number, count: number, where: (i: number) => string): void {
  const numericView = ArrayBuffer.isView(source) && !(source instanceof BigInt64Array || source instanceof BigUint64Array);
  if (numericView && typedArrayLength.call(source) === count) {
    target.set(source as unknown as ArrayLike<number>, offset);
    return;
  }
  for (let i = 0; i < count; i++) {
    const value = source[i];
    if (typeof value !== 'number') throw new KnnError('BAD_INPUT', `${where(i)} must be a number; got ${describeValue(value)}.`);
    target[offset + i] = value;
  }
}

/**
 * Up to this many features a network also keeps X in the direct-difference kernel's panels:
 * the same number as the kernels' directPanelDimensions() (a test checks that they agree).
 */
export const DIRECT_SEARCH_FEATURES = 16;

/**
 * From this many training points and features the float32 candidate search beats direct
 * differences even for d ≤ DIRECT_SEARCH_FEATURES. Measured (k = 5, 100–1 000 queries, median
 * of 9 alternating runs on a loaded machine): at d = 8–16 the float32 path takes 0.66–0.76× the
 * direct search's time for n = 3 000–100 000, but 1.2–1.3× at n = 1 000, where the recheck of
 * k + margin candidates per query weighs more; at d = 4–6 the two are even (0.94–1.06, 1.48 at
 * n = 3 000, d = 4), and at d = 1–2 direct differences win by 1.4–3×.
 */
export const FLOAT32_SEARCH_MIN_POINTS = 3000;
export const FLOAT32_SEARCH_MIN_FEATURES = 8;

/** Whether a network of `rows` points and `cols` features searches on direct differences (else a GEMM). */
export function searchesDirectly(rows: number, cols: number, float32Candidates: boolean): boolean {
  if (cols > DIRECT_SEARCH_FEATURES) return false;
  return !(float32Candidates && rows >= FLOAT32_SEARCH_MIN_POINTS && cols >= FLOAT32_SEARCH_MIN_FEATURES);
}

/**
 * Bytes a network of `rows` points holds per training row of `cols` features: X as given and
 * the packed W1 (float64), then X again in panels for the direct search or else, with
 * `float32Candidates`, W1's float32 copy and its norms; then a norm and a label.
 */
export function trainingBytesPerRow(rows: number, cols: number, float32Candidates: boolean): number {
  const extra = searchesDirectly(rows, cols, float32Candidates) ? cols * 8 : float32Candidates ? cols * 4 + 8 : 0;
  return cols * 8 * 2 + extra + 16;
}

/**
 * Rejects a matrix too large for wasm32 before a single value is read or copied. Training data
 * needs trainingBytesPerRow for its own rows and those of the `heldRows` rows it joins (add);
 * queries pass through in chunks, but a batch over 4 GiB must be split first. src/wasm.ts
 * checks the exact room left (other networks, scratch) before allocating.
 */
function checkSize(argument: string, rows: number, cols: number, heldRows: number | undefined, float32Candidates: boolean): void {
  const training = heldRows !== undefined;
  const total = rows + (heldRows ?? 0);
  const bytes = total * (training ? trainingBytesPerRow(total, cols, float32Candidates) : cols * 8);
  if (bytes <= ADDRESSABLE_BYTES) return;
  const gib = (bytes / 1024 ** 3).toFixed(1);
  const joined = heldRows ? ` joining ${heldRows} rows already held` : '';
  const float32Hint = training && float32Candidates && !searchesDirectly(total, cols, true) ? ', or pass float32Candidates: false' : '';
  throw new KnnError(
    'TOO_LARGE',
    training
      ? `${argument} has ${rows} rows × ${cols} columns${joined}, which needs ${gib} GiB of wasm memory (X, its packed copies, norms and labels) but wasm32 addresses 4 GiB; use fewer points or features${float32Hint}.`
      : `${argument} has ${rows} rows × ${cols} columns (${gib} GiB as float64), more than wasm32's 4 GiB; pass the queries in smaller batches.`,
  );
}

function fromRows(argument: string, rowsInput: ArrayLike<unknown>, heldRows: number | undefined, float32Candidates: boolean): Matrix {
  const rows = rowsInput.length;
  if (rows === 0) throw new KnnError('EMPTY', `${argument} has no rows; pass at least one row.`);
  const first = rowsInput[0];
  if (!isArrayLike(first)) {
    throw new KnnError('BAD_INPUT', `${argument}[0] must be an array of numbers (${argument} must be ${MATRIX_FORMS}); got ${describeValue(first)}.`);
  }
  const cols = first.length;
  if (cols === 0) throw new KnnError('EMPTY', `${argument} has rows of length 0; each row needs at least one feature.`);
  checkSize(argument, rows, cols, heldRows, float32Candidates);
  // Each row is read once (row 0 above); float32 rows are kept as float32 if every row is one.
  const rowList = new Array<unknown>(rows);
  rowList[0] = first;
  for (let r = 1; r < rows; r++) rowList[r] = rowsInput[r];
  const data = rowList.every((row) => row instanceof Float32Array) ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = rowList[r];
    if (!isArrayLike(row)) {
      throw new KnnError('BAD_INPUT', `${argument}[${r}] must be an array of numbers; got ${describeValue(row)}.`);
    }
    const length = r === 0 ? cols : row.length;
    if (length !== cols) {
      throw new KnnError('SHAPE_MISMATCH', `${argument}[${r}] has ${length} values but ${argument}[0] has ${cols}; every row needs the same length.`);
    }
    copyNumbers(row, data, r * cols, cols, (c) => `${argument}[${r}][${c}]`);
  }
  checkValues(argument, data, cols, true);
  return { data, rows, cols };
}

function fromFlat(argument: string, input: { data: unknown; rows: unknown; cols: unknown }, heldRows: number | undefined, float32Candidates: boolean): Matrix {
  const { data, rows, cols } = input;
  if (!isCount(rows)) throw new KnnError('BAD_INPUT', `${argument}.rows must be a whole number ≥ 0; got ${describeValue(rows)}.`);
  if (!isCount(cols)) throw new KnnError('BAD_INPUT', `${argument}.cols must be a whole number ≥ 0; got ${describeValue(cols)}.`);
  if (!isArrayLike(data)) {
    throw new KnnError('BAD_INPUT', `${argument}.data must be an array or typed array of numbers; got ${describeValue(data)}.`);
  }
  if (rows === 0) throw new KnnError('EMPTY', `${argument} has 0 rows; pass at least one row.`);
  if (cols === 0) throw new KnnError('EMPTY', `${argument} has 0 columns; each row needs at least one feature.`);
  const length = data.length;
  if (length !== rows * cols) {
    throw new KnnError(
      'SHAPE_MISMATCH',
      `${argument}.data has ${length} values but rows × cols = ${rows} × ${cols} = ${rows * cols}; make them agree.`,
    );
  }
  checkSize(argument, rows, cols, heldRows, float32Candidates);
  const copy = data instanceof Float32Array ? new Float32Array(length) : new Float64Array(length);
  copyNumbers(data, copy, 0, length, (flat) => position(argument, flat, cols, false));
  checkValues(argument, copy, cols, false);
  return { data: copy, rows, cols };
}

/**
 * Validates a matrix argument and returns it row-major in a Float64Array of its own: every value
 * is read exactly once, into that copy, and validated there, so nothing the caller does later
 * (after an `await`, through a getter, from another thread) can reach the network.
 * `expectedCols`, when given, is the number of features the network was fitted on. The matrix is
 * training data when `expectedCols` is absent (fit: `heldRows` is 0) or `heldRows` is given (add:
 * the rows the network already holds); otherwise it is a batch of queries. Training data is
 * sized with the network's float32 copy when `float32Candidates`.
 */
export function toMatrix(input: unknown, argument: string, expectedCols?: number, heldRows?: number, float32Candidates = false): Matrix {
  const held = expectedCols === undefined ? 0 : heldRows;
  let matrix: Matrix;
  if (isArrayLike(input)) {
    matrix = fromRows(argument, input, held, float32Candidates);
  } else if (typeof input === 'object' && input !== null && 'data' in input && 'rows' in input && 'cols' in input) {
    matrix = fromFlat(argument, input as { data: unknown; rows: unknown; cols: unknown }, held, float32Candidates);
  } else {
    throw new KnnError('BAD_INPUT', `${argument} must be ${MATRIX_FORMS}; got ${describeValue(input)}.`);
  }
  if (expectedCols !== undefined && matrix.cols !== expectedCols) {
    throw new KnnError(
      'SHAPE_MISMATCH',
      `${argument} has ${matrix.cols} columns but the network was fitted on ${expectedCols} features; pass rows of length ${expectedCols}.`,
    );
  }
  return matrix;
}
