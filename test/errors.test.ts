// Every bad input of issue 4 in one table: the call, the KnnError code it must raise, and the
// words its message must contain (the argument's name, and what was wrong). After each rejected
// call the network answers exactly as before (bit-for-bit) and no wasm memory was allocated.
import { describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork, type KnnErrorCode } from '../src/index.js';
import { loadKernels } from '../src/wasm.js';
import { bits } from './helpers.js';

type Net = KnnNetwork;
type Subject = 'classifier' | 'regressor' | 'none';

interface Case {
  /** The public entry point, and what is wrong with the call. */
  readonly name: string;
  /** Which fresh network the call is made on ('none' for fit and fromBytes). */
  readonly on: Subject;
  readonly call: (net: Net) => unknown;
  readonly code: KnnErrorCode;
  /** Words the message must contain, first of all the argument's name. */
  readonly words: readonly string[];
  /** A known bug outside the files this test owns: the row runs as it.fails and says why. */
  readonly knownBug?: string;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: a classifier (string labels, k = 2, 1/distance votes) and a regressor (k = 3) on
// 12 points in 3 dimensions, and queries to compare their answers before and after.
const TRAIN = Array.from({ length: 12 }, (_, i) => [Math.sin(i), Math.cos(3 * i), (i % 4) - 1.5]);
const LABELS = TRAIN.map((_, i) => ['ant', 'bee', 'cat'][i % 3]);
const TARGETS = TRAIN.map((_, i) => i * 0.75 - 2);
const QUERIES = [[0, 0, 0], [0.5, -0.5, 1], [1, 1, -1], TRAIN[4]];
const GOOD_ROW = [[0.1, 0.2, 0.3]];

async function subject(on: Subject): Promise<Net | undefined> {
  if (on === 'classifier') return KnnNetwork.fit(TRAIN, LABELS, { k: 2, weights: 'distance' });
  if (on === 'regressor') return KnnNetwork.fit(TRAIN, TARGETS, { k: 3, task: 'regression' });
  return undefined;
}

function answers(net: Net): unknown {
  const regression = net.options.task === 'regression';
  const neighbours = net.kneighbors(QUERIES, net.nSamples);
  return {
    nSamples: net.nSamples,
    nFeatures: net.nFeatures,
    classes: [...net.classes],
    predict: regression ? bits(net.predict(QUERIES) as Float64Array) : net.predict(QUERIES),
    proba: regression ? [] : bits(net.predictProba(QUERIES)),
    indices: Array.from(neighbours.indices),
    distances: bits(neighbours.distances),
    forward: bits(net.forward(QUERIES).z3),
    bytes: Array.from(net.toBytes()),
  };
}

// ---------------------------------------------------------------------------------------------
// Saved bytes: a well-formed container (signature, version, header, body, CRC-32) around any
// header and body, to prove fromBytes checks more than the checksum.
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function container(header: unknown, body: ArrayLike<number> = [], version = 1): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const headerBytes = new TextEncoder().encode(text);
  const bytes = new Uint8Array(12 + headerBytes.length + body.length + 4);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode('KNNT'));
  view.setUint16(4, version, true);
  view.setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, 12);
  bytes.set(body, 12 + headerBytes.length);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

const OPTIONS = { k: 1, weights: 'uniform', lambda: 1, task: 'classification' };
/** n points in 2 dimensions as f64, then n class codes (i32) or targets (f64). */
function body(points: number[], labels: number[], targets = false): Uint8Array {
  const bytes = new Uint8Array(points.length * 8 + labels.length * (targets ? 8 : 4));
  const view = new DataView(bytes.buffer);
  points.forEach((value, i) => view.setFloat64(i * 8, value, true));
  labels.forEach((value, i) =>
    targets ? view.setFloat64(points.length * 8 + i * 8, value, true) : view.setInt32(points.length * 8 + i * 4, value, true),
  );
  return bytes;
}
const saved = (header: Record<string, unknown>, bodyBytes: Uint8Array, version = 1): Uint8Array =>
  container({ options: OPTIONS, n: 2, d: 2, classes: ['a', 'b'], ...header }, bodyBytes, version);
const TWO_POINTS = [0, 0, 1, 1];

async function goodBytes(): Promise<Uint8Array> {
  return (await KnnNetwork.fit(TRAIN, LABELS, { k: 2 })).toBytes();
}
const GOOD_BYTES = await goodBytes();
const flipped = (position: number): Uint8Array => {
  const bytes = GOOD_BYTES.slice();
  bytes[position] ^= 0x10;
  return bytes;
};

/** Data that claims `length` values and throws if one is read: sizes must be refused before any value is scanned. */
function hugeData(length: number): number[] {
  return new Proxy([] as number[], {
    get: (target, key) => {
      if (key === 'length') return length;
      if (typeof key === 'string' && /^\d+$/.test(key)) throw new Error(`value ${key} of a ${length}-value matrix was read before its size was checked`);
      return Reflect.get(target, key);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The table. Builders make the same bad matrix or label list for every entry point that takes one.
const fit = (X: unknown, y: unknown, options?: unknown) => () => KnnNetwork.fit(X as never, y as never, options as never);
const fitOptions = (options: unknown) => fit(TRAIN, LABELS, options);

/** Bad query matrices: each entry point that takes queries gets every one of them. */
const BAD_QUERIES: { what: string; X: unknown; code: KnnErrorCode; words: string[] }[] = [
  { what: 'no rows', X: [], code: 'EMPTY', words: ['X', 'no rows'] },
  { what: 'rows of length 0', X: [[]], code: 'EMPTY', words: ['X', 'length 0'] },
  { what: 'a flat matrix with 0 rows', X: { data: [], rows: 0, cols: 3 }, code: 'EMPTY', words: ['X', '0 rows'] },
  { what: 'a flat matrix with 0 columns', X: { data: [], rows: 2, cols: 0 }, code: 'EMPTY', words: ['X', '0 columns'] },
  { what: 'ragged rows', X: [[1, 2, 3], [1, 2]], code: 'SHAPE_MISMATCH', words: ['X[1]', '2 values', '3'] },
  { what: 'flat data of length ≠ rows × cols', X: { data: [1, 2, 3, 4, 5], rows: 2, cols: 3 }, code: 'SHAPE_MISMATCH', words: ['X.data', '5 values', '2 × 3'] },
  { what: 'negative rows', X: { data: [], rows: -1, cols: 3 }, code: 'BAD_INPUT', words: ['X.rows', 'whole number', '-1'] },
  { what: 'fractional cols', X: { data: [1, 2, 3], rows: 2, cols: 1.5 }, code: 'BAD_INPUT', words: ['X.cols', 'whole number', '1.5'] },
  { what: 'rows given as a string', X: { data: [1, 2, 3], rows: '1', cols: 3 }, code: 'BAD_INPUT', words: ['X.rows', '"1"'] },
  { what: 'data that is not an array', X: { data: 'abc', rows: 1, cols: 3 }, code: 'BAD_INPUT', words: ['X.data', '"abc"'] },
  { what: 'the wrong width', X: [[1, 2]], code: 'SHAPE_MISMATCH', words: ['X', '2 columns', '3 features'] },
  { what: 'the wrong width (flat)', X: { data: new Float64Array(8), rows: 2, cols: 4 }, code: 'SHAPE_MISMATCH', words: ['X', '4 columns', '3 features'] },
  { what: 'NaN', X: [[0, 0, 0], [0, NaN, 0]], code: 'NON_FINITE', words: ['X[1][1]', 'NaN'] },
  { what: 'Infinity', X: [[Infinity, 0, 0]], code: 'NON_FINITE', words: ['X[0][0]', 'Infinity'] },
  { what: '−Infinity in flat data', X: { data: [0, 0, 0, 0, 0, -Infinity], rows: 2, cols: 3 }, code: 'NON_FINITE', words: ['X.data[5]', 'row 1, column 2', '-Infinity'] },
  { what: 'a value whose square overflows', X: [[0, 1e200, 0]], code: 'NON_FINITE', words: ['X[0][1]', '1e+200', 'overflow'] },
  { what: 'a string value', X: [[0, 0, 0], [0, 0, 'x']], code: 'BAD_INPUT', words: ['X[1][2]', 'number', '"x"'] },
  { what: 'a null value', X: [[0, null, 0]], code: 'BAD_INPUT', words: ['X[0][1]', 'null'] },
  { what: 'a BigInt value', X: [[0, 1n, 0]], code: 'BAD_INPUT', words: ['X[0][1]', 'the BigInt 1n'] },
  { what: 'a Symbol value', X: [[0, Symbol('s'), 0]], code: 'BAD_INPUT', words: ['X[0][1]', 'a symbol (Symbol(s))'] },
  { what: 'a BigInt64Array as flat data', X: { data: new BigInt64Array(3), rows: 1, cols: 3 }, code: 'BAD_INPUT', words: ['X.data[0]', 'the BigInt 0n'] },
  { what: 'an undefined value in flat data', X: { data: [0, 0, undefined], rows: 1, cols: 3 }, code: 'BAD_INPUT', words: ['X.data[2]', 'undefined'] },
  { what: 'a row that is not an array', X: [[0, 0, 0], 'abc'], code: 'BAD_INPUT', words: ['X[1]', '"abc"'] },
  { what: 'a number', X: 42, code: 'BAD_INPUT', words: ['X', 'number[][]', '42'] },
  { what: 'null', X: null, code: 'BAD_INPUT', words: ['X', 'null'] },
  { what: 'undefined', X: undefined, code: 'BAD_INPUT', words: ['X', 'undefined'] },
  { what: 'a plain object', X: { rows: 1 }, code: 'BAD_INPUT', words: ['X', 'object'] },
];

/** Training data must be rows: a single vector is one query only. */
const NOT_ROWS: typeof BAD_QUERIES = [
  { what: 'a flat list instead of rows', X: [1, 2, 3], code: 'BAD_INPUT', words: ['X[0]', 'number[][]'] },
  { what: 'a typed array', X: new Float64Array(3), code: 'BAD_INPUT', words: ['X[0]', 'number[][]'] },
];

/** A query may be one vector of d = 3 values: of any other length, the message shows the two forms. */
const BAD_VECTORS: typeof BAD_QUERIES = [
  { what: 'a single vector of the wrong length', X: [1, 2], code: 'SHAPE_MISMATCH', words: ['X', 'single vector of 2 values', '3 features', '[[x0, x1, …]'] },
  { what: 'a typed vector of the wrong length', X: new Float32Array(4), code: 'SHAPE_MISMATCH', words: ['X', 'single vector of 4 values', '3 features'] },
  { what: 'a vector holding NaN', X: [0, NaN, 0], code: 'NON_FINITE', words: ['X[1]', 'NaN'] },
  { what: 'a vector holding a string', X: [0, 0, 'x'], code: 'BAD_INPUT', words: ['X[2]', 'number', '"x"'] },
];

const QUERY_ENTRIES: { entry: string; on: Subject; call: (net: Net, X: unknown) => unknown }[] = [
  { entry: 'predict', on: 'classifier', call: (net, X) => net.predict(X as never) },
  { entry: 'predict (regression)', on: 'regressor', call: (net, X) => net.predict(X as never) },
  { entry: 'predictProba', on: 'classifier', call: (net, X) => net.predictProba(X as never) },
  { entry: 'kneighbors', on: 'classifier', call: (net, X) => net.kneighbors(X as never, 2) },
  { entry: 'forward', on: 'classifier', call: (net, X) => net.forward(X as never) },
  { entry: 'radiusNeighbors', on: 'classifier', call: (net, X) => net.radiusNeighbors(X as never, 1) },
  { entry: 'score', on: 'classifier', call: (net, X) => net.score(X as never, ['ant']) },
  { entry: 'add', on: 'classifier', call: (net, X) => net.add(X as never, ['ant', 'bee']) },
  { entry: 'add (regression)', on: 'regressor', call: (net, X) => net.add(X as never, [1, 2]) },
];

// Queries checked against the fitted width; in `score` and `add` X is checked before y, so a
// y of the wrong length never masks a bad X.
const queryCases: Case[] = QUERY_ENTRIES.flatMap(({ entry, on, call }) =>
  [...BAD_QUERIES, ...(entry.startsWith('add') ? NOT_ROWS : BAD_VECTORS)].map(({ what, X, code, words }) => ({ name: `${entry}: X is ${what}`, on, call: (net: Net) => call(net, X), code, words })),
);

// fit takes the same bad matrices (no width to match: a narrower X is fine there).
const fitMatrixCases: Case[] = [...BAD_QUERIES, ...NOT_ROWS].filter(({ what }) => !what.startsWith('the wrong width')).map(({ what, X, code, words }) => ({
  name: `fit: X is ${what}`,
  on: 'none',
  call: fit(X, ['ant', 'bee']),
  code,
  words,
}));

const cases: Case[] = [
  ...fitMatrixCases,
  ...queryCases,

  // fit: labels and targets
  { name: 'fit: y has fewer labels than X has rows', on: 'none', call: fit(TRAIN, LABELS.slice(1)), code: 'SHAPE_MISMATCH', words: ['y', '11 labels', '12 rows'] },
  { name: 'fit: y is missing for task classification', on: 'none', call: fit(TRAIN, undefined, { task: 'classification' }), code: 'BAD_INPUT', words: ['y', 'undefined', "'classification'", 'label per row'] },
  { name: 'fit: y is missing for task regression', on: 'none', call: fit(TRAIN, null, { task: 'regression' }), code: 'BAD_INPUT', words: ['y', 'null', "'regression'", 'target per row'] },
  { name: "fit: labels with task 'search'", on: 'none', call: fit(TRAIN, LABELS, { task: 'search' }), code: 'BAD_INPUT', words: ["'search'", 'no labels', 'fit(X)'] },
  { name: 'fit: y is a string', on: 'none', call: fit([[0], [1]], 'ab'), code: 'BAD_INPUT', words: ['y', 'array', '"ab"'] },
  { name: 'fit: a label is undefined', on: 'none', call: fit([[0], [1]], ['a', undefined]), code: 'BAD_LABEL', words: ['y[1]', 'undefined'] },
  { name: 'fit: a label is null', on: 'none', call: fit([[0], [1]], [null, 'a']), code: 'BAD_LABEL', words: ['y[0]', 'null'] },
  { name: 'fit: a label is an object', on: 'none', call: fit([[0], [1]], ['a', { name: 'b' }]), code: 'BAD_LABEL', words: ['y[1]', 'object'] },
  { name: 'fit: a label is NaN', on: 'none', call: fit([[0], [1]], [1, NaN]), code: 'BAD_LABEL', words: ['y[1]', 'NaN'] },
  { name: 'fit: a label is Infinity', on: 'none', call: fit([[0], [1]], [Infinity, 1]), code: 'BAD_LABEL', words: ['y[0]', 'Infinity'] },
  { name: 'fit: labels mix numbers and strings', on: 'none', call: fit([[0], [1]], [1, '1']), code: 'BAD_LABEL', words: ['y[1]', 'string', 'number'] },
  { name: 'fit: a regression target is a string', on: 'none', call: fit([[0], [1]], [1, 'two'], { task: 'regression' }), code: 'BAD_LABEL', words: ['y[1]', '"two"', 'number'] },
  { name: 'fit: a regression target is null', on: 'none', call: fit([[0], [1]], [null, 1], { task: 'regression' }), code: 'BAD_LABEL', words: ['y[0]', 'null'] },
  { name: 'fit: a regression target is NaN', on: 'none', call: fit([[0], [1]], [1, NaN], { task: 'regression' }), code: 'NON_FINITE', words: ['y[1]', 'NaN'] },
  { name: 'fit: a regression target is −Infinity', on: 'none', call: fit([[0], [1]], [-Infinity, 1], { task: 'regression' }), code: 'NON_FINITE', words: ['y[0]', '-Infinity'] },
  { name: 'fit: regression targets whose sum overflows', on: 'none', call: fit([[0], [1]], [1e308, 1], { task: 'regression' }), code: 'NON_FINITE', words: ['y[0]', '1e+308', 'overflow'] },

  // fit: options
  { name: 'fit: an unknown metric', on: 'none', call: fitOptions({ metric: 'hamming' }), code: 'BAD_OPTION', words: ['options.metric', "'euclidean', 'cosine', 'manhattan', 'dot'", '"hamming"'] },
  { name: 'fit: a zero vector with the cosine metric', on: 'none', call: fit([[0, 0, 0], [1, 1, 1]], ['a', 'b'], { metric: 'cosine' }), code: 'BAD_INPUT', words: ['X row 0', 'zero vector', "'euclidean'"] },
  { name: 'fit: options.k is 0', on: 'none', call: fitOptions({ k: 0 }), code: 'K_OUT_OF_RANGE', words: ['options.k', 'whole number', '0'] },
  { name: 'fit: options.k is negative', on: 'none', call: fitOptions({ k: -3 }), code: 'K_OUT_OF_RANGE', words: ['options.k', '-3'] },
  { name: 'fit: options.k is fractional', on: 'none', call: fitOptions({ k: 2.5 }), code: 'K_OUT_OF_RANGE', words: ['options.k', '2.5'] },
  { name: 'fit: options.k is NaN', on: 'none', call: fitOptions({ k: NaN }), code: 'K_OUT_OF_RANGE', words: ['options.k', 'NaN'] },
  { name: 'fit: options.k is Infinity', on: 'none', call: fitOptions({ k: Infinity }), code: 'K_OUT_OF_RANGE', words: ['options.k', 'Infinity'] },
  { name: 'fit: options.k is a numeric string', on: 'none', call: fitOptions({ k: '3' }), code: 'K_OUT_OF_RANGE', words: ['options.k', '"3"'] },
  { name: "fit: options.k is 'ALL'", on: 'none', call: fitOptions({ k: 'ALL' }), code: 'K_OUT_OF_RANGE', words: ['options.k', "'all'", '"ALL"'] },
  { name: 'fit: options.k exceeds n', on: 'none', call: fitOptions({ k: 13 }), code: 'K_OUT_OF_RANGE', words: ['options.k', '13', '12 training points'] },
  { name: 'fit: an unknown option name', on: 'none', call: fitOptions({ k: 1, neighbours: 3 }), code: 'BAD_OPTION', words: ['options.neighbours', 'not an option', 'k, weights, lambda, task'] },
  { name: 'fit: an option name in the wrong case', on: 'none', call: fitOptions({ K: 3 }), code: 'BAD_OPTION', words: ['options.K', 'not an option'] },
  { name: 'fit: an unknown weighting', on: 'none', call: fitOptions({ weights: 'gaussian' }), code: 'BAD_OPTION', words: ['options.weights', "'uniform'", '"gaussian"'] },
  { name: 'fit: an unknown task', on: 'none', call: fitOptions({ task: 'clustering' }), code: 'BAD_OPTION', words: ['options.task', "'regression'", '"clustering"'] },
  { name: 'fit: options.lambda is negative', on: 'none', call: fitOptions({ lambda: -1 }), code: 'BAD_OPTION', words: ['options.lambda', '≥ 0', '-1'] },
  { name: 'fit: options.lambda is a string', on: 'none', call: fitOptions({ lambda: '1' }), code: 'BAD_OPTION', words: ['options.lambda', '"1"'] },
  { name: 'fit: options.lambda is NaN', on: 'none', call: fitOptions({ weights: 'softmax', lambda: NaN }), code: 'NON_FINITE', words: ['options.lambda', 'finite', 'NaN'] },
  { name: 'fit: options.lambda is Infinity', on: 'none', call: fitOptions({ weights: 'softmax', lambda: Infinity }), code: 'NON_FINITE', words: ['options.lambda', 'Infinity'] },
  { name: 'fit: options.lambda is −Infinity', on: 'none', call: fitOptions({ lambda: -Infinity }), code: 'NON_FINITE', words: ['options.lambda', '-Infinity'] },
  { name: 'fit: options is a number', on: 'none', call: fitOptions(5), code: 'BAD_OPTION', words: ['options', 'object', '5'] },
  { name: 'fit: options is null', on: 'none', call: fitOptions(null), code: 'BAD_OPTION', words: ['options', 'null'] },
  { name: 'fit: options is an array', on: 'none', call: fitOptions([3]), code: 'BAD_OPTION', words: ['options', 'array'] },

  // Sizes beyond what a network holds, refused before a value is read (the data below would take
  // minutes to scan): fit shards past one wasm memory, up to one array's 2^32 values; add and
  // queries stay within wasm32's 4 GiB.
  { name: 'fit: flat X of 2^30 × 5 values (more than one array holds)', on: 'none', call: fit({ data: hugeData(5 * 2 ** 30), rows: 2 ** 30, cols: 5 }, []), code: 'TOO_LARGE', words: ['X', '1073741824 rows', 'one array'] },
  { name: 'predict: flat X of 2^28 × 3 values (6 GiB)', on: 'classifier', call: (net) => net.predict({ data: hugeData(3 * 2 ** 28), rows: 2 ** 28, cols: 3 }), code: 'TOO_LARGE', words: ['X', '268435456 rows', 'batches'] },
  {
    name: 'add: flat X of 2^27 × 3 values (3 GiB as given, 6 GiB as weights)',
    on: 'classifier',
    call: (net) => net.add({ data: hugeData(3 * 2 ** 27), rows: 2 ** 27, cols: 3 }, []),
    code: 'TOO_LARGE',
    words: ['X', '134217728 rows', '4 GiB'],
  },
  { name: 'fit: X of 10^9 rows', on: 'none', call: fit(new Proxy([[1, 2, 3]], { get: (t, key) => (key === 'length' ? 1e9 : Reflect.get(t, key)) }), []), code: 'TOO_LARGE', words: ['X', '1000000000 rows', 'flat'] },

  // remove, removeClass, classCounts
  { name: 'remove: indices that are not an array', on: 'classifier', call: (net) => net.remove(3 as never), code: 'BAD_INPUT', words: ['indices', 'array', '3'] },
  { name: 'remove: an index past the end', on: 'classifier', call: (net) => net.remove([0, 12]), code: 'BAD_INPUT', words: ['indices[1]', '12', '0 to 11'] },
  { name: 'remove: a negative index', on: 'classifier', call: (net) => net.remove([-1]), code: 'BAD_INPUT', words: ['indices[0]', '-1'] },
  { name: 'remove: a fractional index', on: 'classifier', call: (net) => net.remove([1.5]), code: 'BAD_INPUT', words: ['indices[0]', '1.5'] },
  { name: 'remove: an index as a string', on: 'classifier', call: (net) => net.remove(['1'] as never), code: 'BAD_INPUT', words: ['indices[0]', '"1"'] },
  { name: 'remove: an index named twice', on: 'classifier', call: (net) => net.remove([4, 2, 4]), code: 'BAD_INPUT', words: ['indices[2]', '4', 'once'] },
  { name: 'remove: every point', on: 'classifier', call: (net) => net.remove(TRAIN.map((_, i) => i)), code: 'EMPTY', words: ['remove(indices)', 'no training points'] },
  { name: 'remove: fewer points left than k', on: 'classifier', call: (net) => net.remove(TRAIN.map((_, i) => i).slice(1)), code: 'K_OUT_OF_RANGE', words: ['remove(indices)', '1 training points', 'options.k is 2'] },
  { name: 'removeClass: a class the network does not have', on: 'classifier', call: (net) => net.removeClass('dog'), code: 'BAD_LABEL', words: ['removeClass(label)', '"dog"', '"ant", "bee", "cat"'] },
  { name: 'removeClass: a label of the wrong type', on: 'classifier', call: (net) => net.removeClass(1), code: 'BAD_LABEL', words: ['removeClass(label)', '1'] },
  { name: 'removeClass: on a regressor', on: 'regressor', call: (net) => net.removeClass(1), code: 'BAD_OPTION', words: ['removeClass(label)', 'regression'] },
  { name: 'classCounts: on a regressor', on: 'regressor', call: (net) => net.classCounts(), code: 'BAD_OPTION', words: ['classCounts()', 'regression'] },
  // radiusNeighbors: radius
  { name: 'radiusNeighbors: a negative radius', on: 'classifier', call: (net) => net.radiusNeighbors(QUERIES, -1), code: 'BAD_INPUT', words: ['radius', '≥ 0', '-1'] },
  { name: 'radiusNeighbors: a NaN radius', on: 'classifier', call: (net) => net.radiusNeighbors(QUERIES, NaN), code: 'BAD_INPUT', words: ['radius', 'NaN'] },
  { name: 'radiusNeighbors: an infinite radius', on: 'classifier', call: (net) => net.radiusNeighbors(QUERIES, Infinity), code: 'NON_FINITE', words: ['radius', 'Infinity', "kneighbors(X, 'all')"] },
  { name: 'radiusNeighbors: a radius given as a string', on: 'classifier', call: (net) => net.radiusNeighbors(QUERIES, '1' as never), code: 'BAD_INPUT', words: ['radius', '"1"'] },
  // kneighbors: k
  { name: 'kneighbors: k is 0', on: 'classifier', call: (net) => net.kneighbors(QUERIES, 0), code: 'K_OUT_OF_RANGE', words: ['k', 'whole number', '0'] },
  { name: 'kneighbors: k is negative', on: 'classifier', call: (net) => net.kneighbors(QUERIES, -1), code: 'K_OUT_OF_RANGE', words: ['k', '-1'] },
  { name: 'kneighbors: k is fractional', on: 'classifier', call: (net) => net.kneighbors(QUERIES, 1.5), code: 'K_OUT_OF_RANGE', words: ['k', '1.5'] },
  { name: 'kneighbors: k is NaN', on: 'classifier', call: (net) => net.kneighbors(QUERIES, NaN), code: 'K_OUT_OF_RANGE', words: ['k', 'NaN'] },
  { name: 'kneighbors: k is a string', on: 'classifier', call: (net) => net.kneighbors(QUERIES, 'some' as never), code: 'K_OUT_OF_RANGE', words: ['k', '"some"'] },
  { name: 'kneighbors: k is null (only undefined means the network\'s k)', on: 'classifier', call: (net) => net.kneighbors(QUERIES, null as never), code: 'K_OUT_OF_RANGE', words: ['k', 'null'] },
  { name: 'kneighbors: k exceeds n', on: 'classifier', call: (net) => net.kneighbors(QUERIES, 13), code: 'K_OUT_OF_RANGE', words: ['k', '13', '12 training points'] },
  { name: 'kneighbors: k exceeds n (regression)', on: 'regressor', call: (net) => net.kneighbors(QUERIES, 100), code: 'K_OUT_OF_RANGE', words: ['k', '100', '12 training points'] },

  // predictProba on a regressor
  { name: 'predictProba: on a regression network', on: 'regressor', call: (net) => net.predictProba(QUERIES), code: 'BAD_OPTION', words: ['predictProba', 'regression'] },

  // score: y
  { name: 'score: y is shorter than X', on: 'classifier', call: (net) => net.score(QUERIES, ['ant']), code: 'SHAPE_MISMATCH', words: ['y', '1 entries', '4 rows'] },
  { name: 'score: y is not an array', on: 'classifier', call: (net) => net.score(QUERIES, 7 as never), code: 'BAD_INPUT', words: ['y', '7'] },
  { name: 'score: a label is null', on: 'classifier', call: (net) => net.score(GOOD_ROW, [null as never]), code: 'BAD_LABEL', words: ['y[0]', 'null'] },
  { name: 'score: a label is an object', on: 'classifier', call: (net) => net.score(GOOD_ROW, [{} as never]), code: 'BAD_LABEL', words: ['y[0]', 'object'] },
  { name: 'score: a label is NaN', on: 'classifier', call: (net) => net.score(GOOD_ROW, [NaN]), code: 'BAD_LABEL', words: ['y[0]', 'NaN'] },
  { name: 'score: a regression target is a string', on: 'regressor', call: (net) => net.score(GOOD_ROW, ['1']), code: 'BAD_LABEL', words: ['y[0]', '"1"', 'number'] },
  { name: 'score: a regression target is NaN', on: 'regressor', call: (net) => net.score(GOOD_ROW, [NaN]), code: 'NON_FINITE', words: ['y[0]', 'NaN'] },
  { name: 'score: a regression target is Infinity', on: 'regressor', call: (net) => net.score(GOOD_ROW, [Infinity]), code: 'NON_FINITE', words: ['y[0]', 'Infinity'] },

  // add: labels and targets (the network must be untouched: no half-added points)
  { name: 'add: y has more labels than X has rows', on: 'classifier', call: (net) => net.add(GOOD_ROW, ['ant', 'bee']), code: 'SHAPE_MISMATCH', words: ['y', '2 labels', '1 rows'] },
  { name: 'add: y is missing', on: 'classifier', call: (net) => net.add(GOOD_ROW, undefined as never), code: 'BAD_INPUT', words: ['y', 'undefined'] },
  { name: 'add: a label is undefined', on: 'classifier', call: (net) => net.add([[0, 0, 0], [1, 1, 1]], ['ant', undefined as never]), code: 'BAD_LABEL', words: ['y[1]', 'undefined'] },
  { name: 'add: a label is null', on: 'classifier', call: (net) => net.add(GOOD_ROW, [null as never]), code: 'BAD_LABEL', words: ['y[0]', 'null'] },
  { name: 'add: a label is an object', on: 'classifier', call: (net) => net.add(GOOD_ROW, [{} as never]), code: 'BAD_LABEL', words: ['y[0]', 'object'] },
  {
    name: "add: a number label on a network whose classes are strings (named as the caller's y[0])",
    on: 'classifier',
    call: (net) => net.add(GOOD_ROW, [5]),
    code: 'BAD_LABEL',
    words: ['y[0]', 'number', 'string'],
  },
  { name: 'add: a regression target is a string', on: 'regressor', call: (net) => net.add(GOOD_ROW, ['1']), code: 'BAD_LABEL', words: ['y[0]', '"1"'] },
  { name: 'add: a regression target is NaN', on: 'regressor', call: (net) => net.add([[0, 0, 0], [1, 1, 1]], [0, NaN]), code: 'NON_FINITE', words: ['y[1]', 'NaN'] },
  { name: 'add: a regression target is Infinity', on: 'regressor', call: (net) => net.add(GOOD_ROW, [Infinity]), code: 'NON_FINITE', words: ['y[0]', 'Infinity'] },
  {
    name: 'add: a regression target that overflows the sums of the grown network (as fit on the union would say)',
    on: 'regressor',
    call: (net) => net.add(GOOD_ROW, [1e307]),
    code: 'NON_FINITE',
    words: ['y[0]', 'overflow'],
  },

  // fromBytes: not bytes, damaged bytes, and well-formed containers with impossible contents
  { name: 'fromBytes: an ArrayBuffer', on: 'none', call: () => KnnNetwork.fromBytes(GOOD_BYTES.buffer as never), code: 'BAD_BYTES', words: ['bytes', 'Uint8Array'] },
  { name: 'fromBytes: a number[]', on: 'none', call: () => KnnNetwork.fromBytes(Array.from(GOOD_BYTES) as never), code: 'BAD_BYTES', words: ['bytes', 'Uint8Array'] },
  { name: 'fromBytes: null', on: 'none', call: () => KnnNetwork.fromBytes(null as never), code: 'BAD_BYTES', words: ['bytes', 'Uint8Array'] },
  { name: 'fromBytes: no bytes', on: 'none', call: () => KnnNetwork.fromBytes(new Uint8Array(0)), code: 'BAD_BYTES', words: ['bytes', 'too short'] },
  { name: 'fromBytes: truncated by one byte', on: 'none', call: () => KnnNetwork.fromBytes(GOOD_BYTES.subarray(0, GOOD_BYTES.length - 1)), code: 'BAD_BYTES', words: ['bytes', 'checksum'] },
  { name: 'fromBytes: truncated to half', on: 'none', call: () => KnnNetwork.fromBytes(GOOD_BYTES.slice(0, GOOD_BYTES.length >> 1)), code: 'BAD_BYTES', words: ['bytes', 'checksum'] },
  { name: 'fromBytes: one bit of a training value flipped', on: 'none', call: () => KnnNetwork.fromBytes(flipped(GOOD_BYTES.length - 80)), code: 'BAD_BYTES', words: ['bytes', 'checksum'] },
  { name: 'fromBytes: one bit of the header flipped', on: 'none', call: () => KnnNetwork.fromBytes(flipped(20)), code: 'BAD_BYTES', words: ['bytes', 'checksum'] },
  { name: 'fromBytes: one extra byte', on: 'none', call: () => KnnNetwork.fromBytes(Uint8Array.of(...GOOD_BYTES, 0)), code: 'BAD_BYTES', words: ['bytes', 'checksum'] },
  { name: 'fromBytes: a PNG file', on: 'none', call: () => KnnNetwork.fromBytes(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(64))), code: 'BAD_BYTES', words: ['bytes', 'KNNT'] },
  { name: 'fromBytes: UTF-8 text', on: 'none', call: () => KnnNetwork.fromBytes(new TextEncoder().encode('{"options":{},"n":1,"d":1,"classes":[1]}')), code: 'BAD_BYTES', words: ['bytes', 'KNNT'] },
  { name: 'fromBytes: a future format version', on: 'none', call: () => KnnNetwork.fromBytes(container({ options: OPTIONS, n: 2, d: 2, classes: ['a', 'b'] }, body(TWO_POINTS, [0, 1]), 5)), code: 'BAD_BYTES', words: ['bytes', 'version 5'] },
  { name: 'fromBytes: a header that is not JSON', on: 'none', call: () => KnnNetwork.fromBytes(container('{n: 2', body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'JSON'] },
  { name: 'fromBytes: a header that is JSON null', on: 'none', call: () => KnnNetwork.fromBytes(container('null')), code: 'BAD_BYTES', words: ['bytes', 'header'] },
  { name: 'fromBytes: a header length past the end', on: 'none', call: () => { const bytes = container('{}'); new DataView(bytes.buffer).setUint32(8, 1e6, true); new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true); return KnnNetwork.fromBytes(bytes); }, code: 'BAD_BYTES', words: ['bytes', 'header length'] },
  { name: 'fromBytes: n = 0 (an empty network)', on: 'none', call: () => KnnNetwork.fromBytes(saved({ n: 0 }, new Uint8Array(0))), code: 'BAD_BYTES', words: ['bytes', 'n ≥ 1'] },
  { name: 'fromBytes: n = d = −1', on: 'none', call: () => KnnNetwork.fromBytes(saved({ n: -1, d: -1 }, new Uint8Array(4))), code: 'BAD_BYTES', words: ['bytes', 'n ≥ 1'] },
  { name: 'fromBytes: a fractional n', on: 'none', call: () => KnnNetwork.fromBytes(saved({ n: 1.5 }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'n ≥ 1'] },
  { name: 'fromBytes: a length that disagrees with the header', on: 'none', call: () => KnnNetwork.fromBytes(saved({ n: 3 }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'length'] },
  { name: 'fromBytes: a NaN training value', on: 'none', call: () => KnnNetwork.fromBytes(saved({}, body([0, NaN, 1, 1], [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'X[0][1]', 'NaN'] },
  { name: 'fromBytes: a training value whose square overflows', on: 'none', call: () => KnnNetwork.fromBytes(saved({}, body([0, 0, 1e300, 1], [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'X[1][0]'] },
  { name: 'fromBytes: a class code out of range', on: 'none', call: () => KnnNetwork.fromBytes(saved({}, body(TWO_POINTS, [0, 2]))), code: 'BAD_BYTES', words: ['bytes', 'class code 2'] },
  { name: 'fromBytes: invalid options', on: 'none', call: () => KnnNetwork.fromBytes(saved({ options: { ...OPTIONS, weights: 'gaussian' } }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'options.weights'] },
  { name: 'fromBytes: k larger than the saved n', on: 'none', call: () => KnnNetwork.fromBytes(saved({ options: { ...OPTIONS, k: 5 } }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'options.k'] },
  { name: 'fromBytes: no options', on: 'none', call: () => KnnNetwork.fromBytes(saved({ options: 'fast' }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'options'] },
  { name: 'fromBytes: classes that are objects', on: 'none', call: () => KnnNetwork.fromBytes(saved({ classes: [{}, {}] }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'class 0'] },
  { name: 'fromBytes: classes of mixed types', on: 'none', call: () => KnnNetwork.fromBytes(saved({ classes: [1, 'b'] }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'class 1'] },
  { name: 'fromBytes: classes out of order', on: 'none', call: () => KnnNetwork.fromBytes(saved({ classes: ['b', 'a'] }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'sorted'] },
  { name: 'fromBytes: repeated classes', on: 'none', call: () => KnnNetwork.fromBytes(saved({ classes: [3, 3] }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'distinct'] },
  { name: 'fromBytes: a classifier without classes', on: 'none', call: () => KnnNetwork.fromBytes(saved({ classes: [] }, body(TWO_POINTS, [0, 0]))), code: 'BAD_BYTES', words: ['bytes', 'no classes'] },
  { name: 'fromBytes: a regressor with classes', on: 'none', call: () => KnnNetwork.fromBytes(saved({ options: { ...OPTIONS, task: 'regression' } }, body(TWO_POINTS, [1, 2], true))), code: 'BAD_BYTES', words: ['bytes', 'regression'] },
  { name: 'fromBytes: a header without options', on: 'none', call: () => KnnNetwork.fromBytes(container({ n: 2, d: 2, classes: ['a', 'b'] }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'no "options"'] },
  { name: 'fromBytes: options that leave one out', on: 'none', call: () => KnnNetwork.fromBytes(saved({ options: { k: 1, weights: 'uniform', task: 'classification' } }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', '"lambda"'] },
  { name: 'fromBytes: an unknown header key', on: 'none', call: () => KnnNetwork.fromBytes(saved({ comment: 'hi' }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'unknown key "comment"'] },
  { name: 'fromBytes: non-zero reserved bytes', on: 'none', call: () => { const bytes = GOOD_BYTES.slice(); bytes[6] = 1; new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true); return KnnNetwork.fromBytes(bytes); }, code: 'BAD_BYTES', words: ['bytes', 'reserved'] },
  { name: 'fromBytes: a class no point uses', on: 'none', call: () => KnnNetwork.fromBytes(saved({ n: 3, classes: ['a', 'b', 'c'] }, body([0, 0, 1, 1, 2, 2], [0, 2, 2]))), code: 'BAD_BYTES', words: ['bytes', 'class 1 ("b")', 'no training point'] },
  { name: 'fromBytes: a million classes for two points', on: 'none', call: () => KnnNetwork.fromBytes(saved({ classes: Array.from({ length: 1e6 }, (_, i) => i) }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', '1000000 classes for 2 points'] },
  { name: 'fromBytes: a header spaced otherwise than toBytes writes it', on: 'none', call: () => KnnNetwork.fromBytes(container(JSON.stringify({ options: OPTIONS, n: 2, d: 2, classes: ['a', 'b'] }, null, 1), body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'the form toBytes writes'] },
  { name: 'fromBytes: a version-2 header without metric', on: 'none', call: () => KnnNetwork.fromBytes(saved({}, body(TWO_POINTS, [0, 1]), 2)), code: 'BAD_BYTES', words: ['bytes', '"metric"'] },
  { name: 'fromBytes: a version-1 header with a metric', on: 'none', call: () => KnnNetwork.fromBytes(saved({ options: { ...OPTIONS, metric: 'cosine' } }, body(TWO_POINTS, [0, 1]))), code: 'BAD_BYTES', words: ['bytes', 'version 1', '"metric"'] },
  { name: 'fromBytes: a cosine network whose rows are not unit vectors', on: 'none', call: () => KnnNetwork.fromBytes(saved({ options: { ...OPTIONS, metric: 'cosine', float32Candidates: true } }, body([1, 0, 1, 1], [0, 1]), 2)), code: 'BAD_BYTES', words: ['bytes', 'row 1', 'unit vector'] },
  { name: 'fromBytes: a NaN regression target', on: 'none', call: () => KnnNetwork.fromBytes(saved({ options: { ...OPTIONS, task: 'regression' }, classes: [] }, body(TWO_POINTS, [1, NaN], true))), code: 'BAD_BYTES', words: ['bytes', 'targets', 'NaN'] },
];

// Use after dispose(): every entry point, DISPOSED, whatever else is wrong with the call.
const AFTER_DISPOSE: [string, (net: Net) => unknown][] = [
  ['predict', (net) => net.predict(QUERIES)],
  ['predict with a bad X', (net) => net.predict('nonsense' as never)],
  ['predictProba', (net) => net.predictProba(QUERIES)],
  ['kneighbors', (net) => net.kneighbors(QUERIES, 1)],
  ['kneighbors with a bad k', (net) => net.kneighbors(QUERIES, 0)],
  ['forward', (net) => net.forward(QUERIES)],
  ['score', (net) => net.score(QUERIES, LABELS.slice(0, 4))],
  ['add', (net) => net.add(GOOD_ROW, ['ant'])],
  ['remove', (net) => net.remove([0])],
  ['radiusNeighbors', (net) => net.radiusNeighbors(QUERIES, 1)],
  ['removeClass', (net) => net.removeClass('ant')],
  ['classCounts', (net) => net.classCounts()],
  ['toBytes', (net) => net.toBytes()],
  ['weights', (net) => net.weights],
  ['classes', (net) => net.classes],
  ['nSamples', (net) => net.nSamples],
  ['nFeatures', (net) => net.nFeatures],
];

async function rejection(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectKnnError(error: unknown, code: KnnErrorCode, words: readonly string[]): void {
  expect(error, 'the call was accepted').toBeInstanceOf(KnnError);
  const { code: actual, message } = error as KnnError;
  expect({ code: actual, message }).toMatchObject({ code });
  for (const word of words) expect(message).toContain(word);
}

describe('every bad input is rejected with a KnnError that names the argument, and changes nothing', () => {
  it('the table covers every public entry point', () => {
    const names = cases.map((c) => c.name);
    for (const entry of ['fit', 'predict', 'predictProba', 'kneighbors', 'forward', 'score', 'add', 'fromBytes']) {
      expect(names.some((name) => name.startsWith(`${entry}:`)), entry).toBe(true);
    }
  });

  for (const { name, on, call, code, words, knownBug } of cases) {
    const test = knownBug ? it.fails : it;
    test(knownBug ? `${name} — KNOWN BUG: ${knownBug}` : name, async () => {
      const kernels = await loadKernels();
      const net = await subject(on);
      const before = net && answers(net);
      const allocated = kernels.allocatedBytes();
      const regions = kernels.exports.allocatedRegions();
      const error = await rejection(() => call(net as Net));
      expectKnnError(error, code, words);
      expect(kernels.allocatedBytes(), 'wasm bytes allocated by the rejected call').toBe(allocated);
      expect(kernels.exports.allocatedRegions()).toBe(regions);
      if (net) expect(answers(net), 'the network answers as before').toEqual(before);
      net?.dispose();
    });
  }

  for (const [entry, call] of AFTER_DISPOSE) {
    it(`${entry} after dispose() throws DISPOSED`, async () => {
      const net = await KnnNetwork.fit(TRAIN, LABELS, { k: 2 });
      net.dispose();
      net.dispose(); // idempotent
      expectKnnError(await rejection(() => call(net)), 'DISPOSED', ['disposed']);
    });
  }

  it('a rejected add leaves the network answering exactly as before, and a later good add still works', async () => {
    const net = await KnnNetwork.fit(TRAIN, LABELS, { k: 3, weights: 'distance' });
    const before = answers(net);
    const bad: [unknown, unknown][] = [
      [[[0, 0, 0], [1, NaN, 1]], ['ant', 'bee']],
      [[[0, 0, 0], [1, 1, 1]], ['ant', null]],
      [[[0, 0, 0], [1, 1, 1]], ['ant']],
      [[[0, 0, 0, 0]], ['ant']],
      [[[0, 0, 0]], [7]],
    ];
    for (const [X, y] of bad) {
      expect(() => net.add(X as never, y as never)).toThrow(KnnError);
      expect(answers(net)).toEqual(before);
    }
    net.add([[0, 0, 0]], ['dog']);
    expect(net.nSamples).toBe(13);
    expect(net.classes).toEqual(['ant', 'bee', 'cat', 'dog']);
    expect(net.predict([[0, 0, 0]])).toEqual(['dog']);
    net.dispose();
  });

  it('fromBytes reads format version 1, written before the metric option, as a Euclidean network', async () => {
    const header = JSON.stringify({ options: OPTIONS, n: 2, d: 2, classes: ['a', 'b'] });
    const padded = header.padEnd(Math.ceil(header.length / 8) * 8, ' ');
    const net = await KnnNetwork.fromBytes(container(padded, body([0, 0, 3, 4], [0, 1])));
    expect(net.options.metric).toBe('euclidean');
    expect(Array.from(net.kneighbors([[0, 0]], 2).distances)).toEqual([0, 5]);
    net.dispose();
  });

  it('fromBytes still reads what toBytes wrote, for classifiers and regressors', async () => {
    for (const options of [{ k: 2 }, { k: 'all' as const, weights: 'softmax' as const, lambda: 3 }]) {
      const net = await KnnNetwork.fit(TRAIN, LABELS, options);
      const copy = await KnnNetwork.fromBytes(net.toBytes());
      expect(answers(copy)).toEqual(answers(net));
      net.dispose();
      copy.dispose();
    }
    const regressor = await KnnNetwork.fit(TRAIN, TARGETS, { k: 3, task: 'regression' });
    const copy = await KnnNetwork.fromBytes(regressor.toBytes());
    expect(answers(copy)).toEqual(answers(regressor));
    regressor.dispose();
    copy.dispose();
  });
});
