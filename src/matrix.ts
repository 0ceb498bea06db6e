// Input normalisation and validation for matrices: every shape and value check of a matrix
// argument lives here, so every bad matrix is rejected in the same voice.
import { KnnError, describeValue } from './errors.js';
import { searchesDirectly, trainingBytesPerRow } from './planner.js';

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

/**
 * What the query methods accept: a matrix, or one query as a single vector of d numbers
 * (`number[]`, `Float32Array`, …), answered as a one-row matrix.
 */
export type QueryInput = MatrixInput | ArrayLike<number>;

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

/** How a matrix argument was given: as rows, as { data, rows, cols }, or as one vector. */
export type MatrixForm = 'rows' | 'flat' | 'vector';

/** The position of entry `flat` of a rows × cols matrix, as the user would index it. */
function position(argument: string, flat: number, cols: number, form: MatrixForm): string {
  const row = Math.floor(flat / cols);
  const col = flat % cols;
  if (form === 'vector') return `${argument}[${col}]`;
  return form === 'rows' ? `${argument}[${row}][${col}]` : `${argument}.data[${flat}] (row ${row}, column ${col})`;
}

/** Checks every value is finite and small enough to square; names the first that is not. */
export function checkValues(argument: string, data: Float64Array | Float32Array, cols: number, form: MatrixForm): void {
  const limit = magnitudeLimit(cols);
  for (let flat = 0; flat < data.length; flat++) {
    const value = data[flat];
    if (Math.abs(value) <= limit) continue;
    const where = position(argument, flat, cols, form);
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

/** A typed array's own length (see typedArrayLength). */
export function viewLength(view: ArrayBufferView): number {
  return typedArrayLength.call(view) as number;
}

/** The error for a matrix entry that is not a number, named `where`. */
export function notANumber(where: string, value: unknown): KnnError {
  return new KnnError('BAD_INPUT', `${where} must be a number; got ${describeValue(value)}.`);
}

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
    if (typeof value !== 'number') throw notANumber(where(i), value);
    target[offset + i] = value;
  }
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

/** Whether a query argument is one vector (its first entry a number, or a typed array) rather than rows. */
function isVector(input: unknown): input is ArrayLike<unknown> {
  if (!isArrayLike(input)) return false;
  return ArrayBuffer.isView(input) || (input.length > 0 && typeof input[0] === 'number');
}

/** One query given as a vector of `cols` numbers: a 1 × cols matrix of its own. */
function fromVector(argument: string, vector: ArrayLike<unknown>, cols: number): Matrix {
  const size = ArrayBuffer.isView(vector) ? (typedArrayLength.call(vector) as number) : vector.length;
  if (size !== cols) {
    throw new KnnError(
      'SHAPE_MISMATCH',
      `${argument} is a single vector of ${size} values but the network has ${cols} features; pass one query of ${cols} values, or several as rows: [[x0, x1, …], [x0, x1, …]].`,
    );
  }
  const data = vector instanceof Float32Array ? new Float32Array(cols) : new Float64Array(cols);
  copyNumbers(vector, data, 0, cols, (c) => `${argument}[${c}]`);
  checkValues(argument, data, cols, 'vector');
  return { data, rows: 1, cols };
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
  checkValues(argument, data, cols, 'rows');
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
  copyNumbers(data, copy, 0, length, (flat) => position(argument, flat, cols, 'flat'));
  checkValues(argument, copy, cols, 'flat');
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
  const queries = expectedCols !== undefined && heldRows === undefined;
  if (queries && isVector(input)) {
    matrix = fromVector(argument, input, expectedCols);
  } else if (isArrayLike(input)) {
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
