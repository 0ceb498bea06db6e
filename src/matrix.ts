// Input normalisation and validation for matrices: every shape and value check of a matrix
// argument lives here, so every bad matrix is rejected in the same voice.
import { KnnError, describeValue } from './errors.js';
import type { Metric } from './metrics.js';
import type { StorageOption } from './options.js';
import { storageFor, trainingBytesPerRow, trainingSizeAdvice, type StorageKind } from './planner.js';

/** What decides how training data will be stored, and so its size: the network's options (or, after its first points, its storage). */
export interface TrainingSizing {
  readonly float32Candidates: boolean;
  readonly storage: StorageOption | StorageKind;
  readonly metric: Metric;
  /** The data may be split into shards past one wasm memory (fit): then only one array's length bounds it. */
  readonly shardable?: boolean;
}

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

/** wasm32 addresses 4 GiB; no matrix one memory holds or streams can be larger. */
const ADDRESSABLE_BYTES = 4 * 1024 ** 3;
/** The most values fit holds, in shards past one memory (shards.ts): as many as one typed array here, and the network's copy of X is one. */
const SHARDED_VALUES = 2 ** 32;
/** The most rows read from a list of rows (each is held in a list of its own while read: 8 bytes a row of JavaScript heap). */
const LISTED_ROWS = 2 ** 26;

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
 * Reads `count` values of `source` (from index `start`: the ones before it the caller read)
 * into `target` from `offset`, each exactly once (a Proxy or a getter could answer differently
 * the second time), rejecting any that is not a number;
 * `where(i)` names value i for the message. A typed array of numbers holding exactly `count`
 * values is copied by one `set`.
 */
function copyNumbers(source: ArrayLike<unknown>, target: Float64Array | Float32Array, offset: number, count: number, where: (i: number) => string, start = 0): void {
  const numericView = ArrayBuffer.isView(source) && !(source instanceof BigInt64Array || source instanceof BigUint64Array);
  if (numericView && typedArrayLength.call(source) === count) {
    target.set(source as unknown as ArrayLike<number>, offset);
    return;
  }
  for (let i = start; i < count; i++) {
    const value = source[i];
    if (typeof value !== 'number') throw notANumber(where(i), value);
    target[offset + i] = value;
  }
}

/** Training data sized without the network's options (the reference network): float64, no float32 copy. */
const FLOAT64_SIZING: TrainingSizing = { float32Candidates: false, storage: 'float64', metric: 'euclidean' };

/**
 * Rejects a matrix too large for wasm32 before a single value is read or copied. Training data
 * (`heldRows` given) needs trainingBytesPerRow, in the storage `sizing` and the input's type
 * (`float32Input`) give, for its own rows and those of the `heldRows` rows it joins (add), unless
 * fit may shard it;
 * queries pass through in chunks, but a batch over 4 GiB must be split first. src/wasm.ts
 * checks the exact room left (other networks, scratch) before allocating.
 */
function checkSize(argument: string, rows: number, cols: number, heldRows: number | undefined, given: TrainingSizing | undefined, float32Input: boolean): void {
  const training = heldRows !== undefined;
  const sizing = given ?? FLOAT64_SIZING;
  const total = rows + (heldRows ?? 0);
  if (training && given?.shardable) {
    if (total * cols <= SHARDED_VALUES) return;
    throw new KnnError('TOO_LARGE', `${argument} has ${rows} rows × ${cols} columns, ${total * cols} values, more than the ${SHARDED_VALUES} one array holds here; fit fewer points.`);
  }
  const storage = training ? storageFor(sizing.storage, float32Input) : 'float64';
  const bytes = total * (training ? trainingBytesPerRow(total, cols, sizing.float32Candidates, storage, sizing.metric) : cols * 8);
  if (bytes <= ADDRESSABLE_BYTES) return;
  const gib = (bytes / 1024 ** 3).toFixed(1);
  const joined = heldRows ? ` joining ${heldRows} rows already held` : '';
  if (!training) {
    throw new KnnError('TOO_LARGE', `${argument} has ${rows} rows × ${cols} columns (${gib} GiB as float64), more than wasm32's 4 GiB; pass the queries in smaller batches.`);
  }
  const advice = trainingSizeAdvice(ADDRESSABLE_BYTES, cols, sizing.float32Candidates, storage, float32Input, sizing.metric);
  throw new KnnError(
    'TOO_LARGE',
    `${argument} has ${rows} rows × ${cols} columns${joined}, which needs ${gib} GiB of wasm memory as the network stores it (${storage}) but wasm32 addresses 4 GiB: ${advice}.`,
  );
}

/** Whether a query argument is one vector (its first entry a number, or a typed array) rather than rows. */
/**
 * `input` as one query given as a vector (a typed array, or an array whose first value is a
 * number), with that first value where it was read to tell (read once: it is the query's too);
 * undefined for anything else.
 */
function asVector(input: unknown): { vector: ArrayLike<unknown>; first?: number } | undefined {
  if (!isArrayLike(input)) return undefined;
  if (ArrayBuffer.isView(input)) return { vector: input };
  if (input.length === 0) return undefined;
  const first: unknown = input[0];
  return typeof first === 'number' ? { vector: input, first } : undefined;
}

/** One query given as a vector of `cols` numbers (its first value `first` where already read): a 1 × cols matrix of its own. */
function fromVector(argument: string, { vector, first }: { vector: ArrayLike<unknown>; first?: number }, cols: number): Matrix {
  const size = ArrayBuffer.isView(vector) ? (typedArrayLength.call(vector) as number) : vector.length;
  if (size !== cols) {
    throw new KnnError(
      'SHAPE_MISMATCH',
      `${argument} is a single vector of ${size} values but the network has ${cols} features; pass one query of ${cols} values, or several as rows: [[x0, x1, …], [x0, x1, …]].`,
    );
  }
  const data = vector instanceof Float32Array ? new Float32Array(cols) : new Float64Array(cols);
  if (first !== undefined) data[0] = first;
  copyNumbers(vector, data, 0, cols, (c) => `${argument}[${c}]`, first === undefined ? 0 : 1);
  checkValues(argument, data, cols, 'vector');
  return { data, rows: 1, cols };
}

function fromRows(argument: string, rowsInput: ArrayLike<unknown>, heldRows: number | undefined, sizing: TrainingSizing | undefined): Matrix {
  const rows = rowsInput.length;
  if (rows === 0) throw new KnnError('EMPTY', `${argument} has no rows; pass at least one row.`);
  const first = rowsInput[0];
  if (!isArrayLike(first)) {
    throw new KnnError('BAD_INPUT', `${argument}[0] must be an array of numbers (${argument} must be ${MATRIX_FORMS}); got ${describeValue(first)}.`);
  }
  const cols = first.length;
  if (cols === 0) throw new KnnError('EMPTY', `${argument} has rows of length 0; each row needs at least one feature.`);
  // The size first, before any other row is read, as row 0's type would store it.
  checkSize(argument, rows, cols, heldRows, sizing, first instanceof Float32Array);
  // Each row is held in a list while it is read (below): more than fit would ever take in shards are refused first.
  if (rows > LISTED_ROWS) {
    throw new KnnError('TOO_LARGE', `${argument} has ${rows} rows, more than the ${LISTED_ROWS} a list of rows is taken with; pass the data flat, as { data, rows, cols }, or fit fewer points.`);
  }
  // Each row is read once (row 0 above); float32 rows are kept as float32 if every row is one.
  const rowList = new Array<unknown>(rows);
  rowList[0] = first;
  for (let r = 1; r < rows; r++) rowList[r] = rowsInput[r];
  const float32Input = rowList.every((row) => row instanceof Float32Array);
  // Float32 rows mixed with others are stored as float64: larger.
  if (float32Input !== first instanceof Float32Array) checkSize(argument, rows, cols, heldRows, sizing, float32Input);
  const data = float32Input ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
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

/**
 * Whether `data` may be used in place rather than copied: a Float32Array or Float64Array of
 * exactly `length` values on memory no other thread can write (not a SharedArrayBuffer), so that,
 * read synchronously, what is validated is what is packed.
 */
function borrowable(data: unknown, length: number): data is Float32Array | Float64Array {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return false;
  const shared = typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
  return !shared && viewLength(data) === length;
}

function fromFlat(
  argument: string, input: { data: unknown; rows: unknown; cols: unknown }, heldRows: number | undefined, sizing: TrainingSizing | undefined, borrow: boolean,
): Matrix {
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
  checkSize(argument, rows, cols, heldRows, sizing, data instanceof Float32Array);
  if (borrow && borrowable(data, length)) {
    checkValues(argument, data, cols, 'flat');
    return { data, rows, cols };
  }
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
 * sized as `sizing` says the network will store it. With `borrow` (training data that the caller
 * packs into wasm memory before it returns or awaits anything), flat Float32Array or Float64Array
 * data not on shared memory is validated in place and returned as is, not copied: packing copies
 * it (a fit of 1M × 384 float32 values spares 1.5 GB of fresh memory, whose first touch costs
 * more than the copy itself).
 */
export function toMatrix(input: unknown, argument: string, expectedCols?: number, heldRows?: number, sizing?: TrainingSizing, borrow = false): Matrix {
  const held = expectedCols === undefined ? 0 : heldRows;
  let matrix: Matrix;
  const queries = expectedCols !== undefined && heldRows === undefined;
  const vector = queries ? asVector(input) : undefined;
  if (vector) {
    matrix = fromVector(argument, vector, expectedCols!);
  } else if (isArrayLike(input)) {
    matrix = fromRows(argument, input, held, sizing);
  } else if (typeof input === 'object' && input !== null && 'data' in input && 'rows' in input && 'cols' in input) {
    matrix = fromFlat(argument, input as { data: unknown; rows: unknown; cols: unknown }, held, sizing, borrow);
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
