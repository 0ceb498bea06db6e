// The saved form of a network: the training data and the options, not the packed weights (they
// are rebuilt bit-for-bit by fitting again), behind a versioned header and a CRC-32.
//
// Layout (little-endian): "KNNT" | u16 version | u16 reserved | u32 header length | header JSON
// (UTF-8, padded with spaces to a multiple of 8) | X: n·d f64 (for the cosine metric, its
// L2-normalised rows), or n·d f32 when the header's "storage" is "float32" (for the cosine
// metric, its rows as given: loading normalises them again, bit for bit) | y: n i32 class
// codes, n f64 targets, or nothing (task 'search') | ids: n f64, when the header's "ids" is true
// | u32 CRC-32 of everything before it.
//
// Versions: 1 saved k, weights, lambda and task; 2 every option; 3 adds "capped" (a network from
// create, whose k is a cap: it may hold fewer than k points, or none: n = d = 0), task 'search'
// and "ids" (the points' stable ids); 4 adds the option "storage" and the header's "storage",
// what X is stored as ("float32": 4 bytes a value; a cosine network's raw rows since float32
// storage holds them, which readers before it refuse as corrupt). Every version is read: before
// 4, X is float64.
import { KnnError, describeValue } from './errors.js';
import { encodeTargets, type Label } from './labels.js';
import { magnitudeLimit } from './matrix.js';
import { firstNonUnitRow } from './metrics.js';
import { readIds } from './pointIds.js';
import { neighbourCount, resolveOptions, type ResolvedOptions } from './options.js';

const MAGIC = 'KNNT';
const VERSION = 4;
/**
 * The options each format version saves, in order: version 1 predates `metric` (its networks are
 * Euclidean). Later versions save every option.
 */
const VERSION_1_OPTIONS = ['k', 'weights', 'lambda', 'task'];
/**
 * Options added to a version after its first files were written: such a file may leave them
 * out (they take their defaults), and toBytes writes them. `algorithm` is what the caller asked
 * for; the partition it may lead to is derived from the points and built again on load.
 */
const LATER_OPTIONS = ['algorithm'];
const PREAMBLE_BYTES = 12;

export interface SavedNetwork {
  readonly options: ResolvedOptions;
  readonly n: number;
  readonly d: number;
  readonly classes: readonly Label[];
  /** k is a cap (a network from create): it may hold fewer than k points, or none. */
  readonly capped: boolean;
  /** X as stored: float32 storage's values, or float64 storage's. */
  readonly points: Float64Array | Float32Array;
  readonly codes?: Int32Array;
  readonly targets?: Float64Array;
  /** The points' stable ids, where the network has them. */
  readonly ids?: Float64Array;
}

/**
 * CRC-32 tables for eight bytes a step ("slicing by 8"): table t holds the register's change
 * for a byte followed by t zero bytes, so eight bytes fold in with eight lookups and no
 * dependency between them (several times the byte-at-a-time loop: a save of gigabytes is
 * checksummed as it streams).
 */
let crcTables: Uint32Array | undefined;

function makeCrcTables(): Uint32Array {
  const tables = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let t = 1; t < 8; t++) tables[t * 256 + i] = (tables[(t - 1) * 256 + i] >>> 8) ^ tables[tables[(t - 1) * 256 + i] & 0xff];
  }
  return tables;
}

export function crc32(bytes: Uint8Array): number {
  return (crc32Update(0xffffffff, bytes) ^ 0xffffffff) >>> 0;
}

/** The CRC-32 register after `bytes`, from `crc` (0xffffffff at the start; the checksum is the final register's complement). */
function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = (crcTables ??= makeCrcTables());
  const whole = bytes.length - (bytes.length % 8);
  let i = 0;
  for (; i < whole; i += 8) {
    crc ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    crc =
      t[1792 + (crc & 0xff)] ^ t[1536 + ((crc >>> 8) & 0xff)] ^ t[1280 + ((crc >>> 16) & 0xff)] ^ t[1024 + (crc >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}

/** The header's keys in each version, in the order toBytes writes them. */
const HEADER_KEYS = ['options', 'n', 'd', 'classes', 'capped', 'ids', 'storage'];
const VERSION_3_HEADER_KEYS = ['options', 'n', 'd', 'classes', 'capped', 'ids'];
const VERSION_2_HEADER_KEYS = ['options', 'n', 'd', 'classes'];

function headerKeys(version: number): string[] {
  return version >= 4 ? HEADER_KEYS : version === 3 ? VERSION_3_HEADER_KEYS : VERSION_2_HEADER_KEYS;
}

type StoredValues = Float64Array | Float32Array;

/** X in a save: one array, or runs of rows (a sharded network's shards), each read only when the save reaches it. */
type SavedPoints = StoredValues | { readonly storage: 'float32' | 'float64'; readonly runs: readonly (() => StoredValues)[] };

/** What a save writes: a network's data, its points maybe in runs. */
export interface NetworkToSave extends Omit<SavedNetwork, 'points'> {
  readonly points: SavedPoints;
}

/** What the points are stored as, from their array's type. */
const storageOf = (points: SavedPoints): 'float32' | 'float64' =>
  'runs' in points ? points.storage : points instanceof Float32Array ? 'float32' : 'float64';

/** The header as toBytes writes it: JSON in UTF-8, padded with spaces to a multiple of 8 bytes. */
function encodeHeader(saved: Pick<NetworkToSave, 'options' | 'n' | 'd' | 'classes' | 'capped' | 'ids' | 'points'>, version = VERSION, optionNames = Object.keys(saved.options)): Uint8Array {
  const options = Object.fromEntries(optionNames.map((name) => [name, saved.options[name as keyof ResolvedOptions]]));
  const fields = { options, n: saved.n, d: saved.d, classes: saved.classes, capped: saved.capped, ids: saved.ids !== undefined, storage: storageOf(saved.points) };
  const keys = headerKeys(version);
  const header = JSON.stringify(Object.fromEntries(keys.map((key) => [key, fields[key as keyof typeof fields]])));
  const length = new TextEncoder().encode(header).length;
  return new TextEncoder().encode(header.padEnd(header.length + Math.ceil(length / 8) * 8 - length, ' '));
}

/** The most values a saved form holds: as many as fit takes (one typed array's 2^32). */
const MAX_SAVED_VALUES = 2 ** 32;

/** Bytes a save writes at a time (besides the header and the checksum). */
const CHUNK_BYTES = 1 << 24;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `values` as little-endian bytes, `from` … `to` of them: a view of their own bytes where the
 * machine is little-endian (the arrays a save reads are its own copies, never written again).
 */
function littleEndianBytes(values: StoredValues | Int32Array, from: number, to: number): Uint8Array {
  const size = values.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset + from * size, (to - from) * size);
  const bytes = new Uint8Array((to - from) * size);
  const view = new DataView(bytes.buffer);
  for (let i = from; i < to; i++) {
    const at = (i - from) * size;
    if (values instanceof Float64Array) view.setFloat64(at, values[i], true);
    else if (values instanceof Float32Array) view.setFloat32(at, values[i], true);
    else view.setInt32(at, values[i], true);
  }
  return bytes;
}

/** `values` in chunks of little-endian bytes of at most CHUNK_BYTES. */
function* chunksOf(values: StoredValues | Int32Array): Generator<Uint8Array> {
  const step = CHUNK_BYTES / values.BYTES_PER_ELEMENT;
  for (let at = 0; at < values.length; at += step) yield littleEndianBytes(values, at, Math.min(values.length, at + step));
}

/**
 * The saved form in chunks (see the layout above): their concatenation is the one saved form,
 * which no single array need hold. Each run of points is read when the save reaches it.
 */
export function* encodeNetworkChunks(saved: NetworkToSave): Generator<Uint8Array> {
  let crc = 0xffffffff;
  const checked = (bytes: Uint8Array): Uint8Array => ((crc = crc32Update(crc, bytes)), bytes);
  const headerBytes = encodeHeader(saved);
  const preamble = new Uint8Array(PREAMBLE_BYTES + headerBytes.length);
  const view = new DataView(preamble.buffer);
  for (let i = 0; i < 4; i++) preamble[i] = MAGIC.charCodeAt(i);
  view.setUint16(4, VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  preamble.set(headerBytes, PREAMBLE_BYTES);
  yield checked(preamble);
  const runs = 'runs' in saved.points ? saved.points.runs : [() => saved.points as StoredValues];
  for (const run of runs) for (const chunk of chunksOf(run())) yield checked(chunk);
  const labels = saved.targets ?? saved.codes;
  if (labels) for (const chunk of chunksOf(labels)) yield checked(chunk);
  if (saved.ids) for (const chunk of chunksOf(saved.ids)) yield checked(chunk);
  const checksum = new Uint8Array(4);
  new DataView(checksum.buffer).setUint32(0, (crc ^ 0xffffffff) >>> 0, true);
  yield checksum;
}

/** The saved form as one array: TOO_LARGE where the engine has no array that long (saveChunks then writes it). */
export function encodeNetwork(saved: NetworkToSave): Uint8Array {
  const valueBytes = storageOf(saved.points) === 'float32' ? 4 : 8;
  const labelBytes = saved.targets ? 8 : saved.codes ? 4 : 0;
  const total = PREAMBLE_BYTES + encodeHeader(saved).length + saved.n * (saved.d * valueBytes + labelBytes + (saved.ids ? 8 : 0)) + 4;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(total);
  } catch {
    throw new KnnError('TOO_LARGE', `toBytes(): this network saves to ${total} bytes, more than one array holds here; write it with saveChunks() (a stream of chunks), and load it with KnnNetwork.fromChunks.`);
  }
  let offset = 0;
  for (const chunk of encodeNetworkChunks(saved)) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

function corrupt(why: string): KnnError {
  return new KnnError('BAD_BYTES', `bytes is not a knnet network: ${why}. Pass exactly what toBytes() returned.`);
}

/**
 * Parses and checks saved bytes; the caller fits the network from what it returns. The bytes are
 * copied first and read only from that copy, so a caller changing them meanwhile (another thread
 * on a shared buffer) cannot make the checked bytes differ from the ones used.
 */
export function decodeNetwork(input: unknown): SavedNetwork {
  if (!(input instanceof Uint8Array)) throw corrupt('expected a Uint8Array');
  const bytes = input.slice();
  if (bytes.length < PREAMBLE_BYTES + 4) throw corrupt(`${bytes.length} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkSignature(view);
  const checksumAt = bytes.length - 4;
  if (view.getUint32(checksumAt, true) !== crc32(bytes.subarray(0, checksumAt))) throw corrupt('the checksum does not match (truncated or altered)');
  if (view.getUint32(8, true) > checksumAt - PREAMBLE_BYTES) throw corrupt('its header length runs past its end');
  const reader = new SavedNetworkReader(false, bytes.length);
  reader.push(bytes);
  return reader.finish();
}

/** Checks the signature and the format version of the preamble in `view`. */
function checkSignature(view: DataView): number {
  if (String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3)) !== MAGIC) throw corrupt('the "KNNT" signature is missing');
  const version = view.getUint16(4, true);
  if (!(version >= 1 && version <= VERSION)) throw corrupt(`format version ${version} is not supported (this knnet reads versions 1 to ${VERSION})`);
  return version;
}

/** A saved form's header, checked: the network's shape and options, and how its body is laid out. */
interface SavedHeader {
  readonly version: number;
  readonly headerBytes: Uint8Array;
  readonly options: ResolvedOptions;
  /** The option names this version saves, and those the file gives (a file may predate a later option). */
  readonly optionNames: string[];
  readonly givenOptionNames: string[];
  readonly n: number;
  readonly d: number;
  readonly classes: Label[];
  readonly capped: boolean;
  readonly withIds: boolean;
  readonly storage: 'float32' | 'float64';
  /** Bytes of W3 a point: a class code, a target, or none. */
  readonly labelBytes: number;
}

/** Parses and checks the header of a file of format `version`. */
function readHeader(version: number, headerBytes: Uint8Array): SavedHeader {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch {
    throw corrupt('the header is not valid JSON');
  }
  // A matching checksum proves the bytes are intact, not that a knnet wrote them: check the
  // header and every value as fit would, so no saved form can build a network fit would refuse,
  // and accept only what toBytes writes.
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt('the header is not an object');
  const keys = headerKeys(version);
  for (const key of keys) if (!Object.hasOwn(header, key)) throw corrupt(`its header has no "${key}"`);
  for (const key of Object.keys(header)) if (!keys.includes(key)) throw corrupt(`its header has an unknown key "${key}"`);
  const storage = version >= 4 ? (header as Record<string, unknown>).storage : 'float64';
  if (storage !== 'float32' && storage !== 'float64') throw corrupt('its header\'s "storage" is not "float32" or "float64"');
  const { options: savedOptions, n, d, classes } = header as Record<string, unknown>;
  const capped = version >= 3 ? (header as Record<string, unknown>).capped : false;
  if (typeof capped !== 'boolean') throw corrupt('its header\'s "capped" is not true or false');
  const withIds = version >= 3 ? (header as Record<string, unknown>).ids : false;
  if (typeof withIds !== 'boolean') throw corrupt('its header\'s "ids" is not true or false');
  // Only a network from create may be empty (n = d = 0).
  const empty = capped && n === 0 && d === 0;
  if (!empty && (!Number.isInteger(n) || (n as number) < 1 || !Number.isInteger(d) || (d as number) < 1)) {
    throw corrupt('its header does not give whole numbers n ≥ 1 and d ≥ 1');
  }
  let options: ResolvedOptions;
  try {
    options = resolveOptions(savedOptions);
    if (options.k !== 'all' && !capped) neighbourCount(options.k, n as number, 'options.k');
  } catch (error) {
    throw corrupt(`its options are invalid (${(error as Error).message})`);
  }
  if (version < 3 && options.task === 'search') throw corrupt(`format version ${version} has no task 'search'`);
  // Version 4 added the option "storage"; earlier versions save every option but it.
  const optionNames = version === 1 ? VERSION_1_OPTIONS : Object.keys(options).filter((name) => version >= 4 || name !== 'storage');
  if (storage === 'float32' && options.storage === 'float64') throw corrupt('it stores float32 points for a network that asked for float64 storage');
  for (const name of optionNames) {
    if (!Object.hasOwn(savedOptions as object, name) && !LATER_OPTIONS.includes(name)) throw corrupt(`its options do not give "${name}"`);
  }
  for (const name of Object.keys(savedOptions as object)) {
    if (!optionNames.includes(name)) throw corrupt(`format version ${version} does not save the option "${name}"`);
  }
  checkClasses(classes, options.task, empty);
  if ((classes as Label[]).length > (n as number)) throw corrupt(`it has ${(classes as Label[]).length} classes for ${n} points, more than fit ever makes`);
  const labelBytes = options.task === 'regression' ? 8 : options.task === 'search' ? 0 : 4;
  const givenOptionNames = optionNames.filter((name) => Object.hasOwn(savedOptions as object, name));
  return { version, headerBytes, options, optionNames, givenOptionNames, n: n as number, d: d as number, classes: classes as Label[], capped, withIds, storage, labelBytes };
}

/**
 * Reads a saved form pushed to it in chunks of any size (fromChunks: a file's stream), holding
 * the points once, in their stored type, and the rest of the body in one small buffer: never
 * the whole saved form. `finish` checks what is left (the checksum, every value) and returns
 * the network's data.
 */
export class SavedNetworkReader {
  /** Whether the checksum is checked at the end (not when decodeNetwork checked it first). */
  readonly #checksum: boolean;
  #crc = 0xffffffff;
  /** Bytes before the header is whole. */
  #preamble: Uint8Array = new Uint8Array(0);
  #header: SavedHeader | undefined;
  #points: StoredValues | undefined;
  /** The points' bytes (filled first, through views of a chunk's size: past 4 GiB no one view holds them), then the labels', ids' and the checksum's. */
  #pointBytes = 0;
  #rest = new Uint8Array(0);
  #filled = 0;

  /** `checksum`: whether to check it at the end; `length`, where known, the saved form's (checked against the header's before anything is allocated). */
  constructor(checksum = true, length?: number) {
    this.#checksum = checksum;
    this.#length = length;
  }

  readonly #length: number | undefined;

  push(chunk: unknown): void {
    if (!(chunk instanceof Uint8Array)) throw corrupt(`a chunk is ${describeValue(chunk)}, not a Uint8Array`);
    if (this.#header) {
      this.#body(chunk);
      return;
    }
    const preamble = new Uint8Array(this.#preamble.length + chunk.length);
    preamble.set(this.#preamble);
    preamble.set(chunk, this.#preamble.length);
    this.#preamble = preamble;
    if (preamble.length < PREAMBLE_BYTES) return;
    const view = new DataView(preamble.buffer);
    const version = checkSignature(view);
    if (view.getUint16(6, true) !== 0) throw corrupt('its reserved bytes 6–7 are not zero');
    const headerEnd = PREAMBLE_BYTES + view.getUint32(8, true);
    if (preamble.length < headerEnd) return;
    const header = readHeader(version, preamble.subarray(PREAMBLE_BYTES, headerEnd));
    const { n, d } = header;
    // A header's n and d are not trusted with memory: the points are allocated only for a form as
    // long as they say (where its length is known) and no longer than fit takes.
    const bodyBytes = n * (d * (header.storage === 'float32' ? 4 : 8) + header.labelBytes + (header.withIds ? 8 : 0)) + 4;
    if (this.#length !== undefined && headerEnd + bodyBytes !== this.#length) throw corrupt('its length does not match its header');
    if (n * d > MAX_SAVED_VALUES) throw corrupt(`its header gives ${n} × ${d} values, more than fit ever holds (${MAX_SAVED_VALUES})`);
    this.#header = header;
    this.#points = header.storage === 'float32' ? new Float32Array(n * d) : new Float64Array(n * d);
    this.#pointBytes = this.#points.byteLength;
    this.#rest = new Uint8Array(n * (header.labelBytes + (header.withIds ? 8 : 0)) + 4);
    this.#preamble = new Uint8Array(0);
    if (this.#checksum) this.#crc = crc32Update(this.#crc, preamble.subarray(0, headerEnd));
    this.#body(preamble.subarray(headerEnd));
  }

  /** Copies `chunk` into the points' bytes, then the rest's. */
  #body(chunk: Uint8Array): void {
    const points = this.#pointBytes;
    if (this.#filled + chunk.length > points + this.#rest.length) throw corrupt('its length does not match its header');
    let used = 0;
    if (this.#filled < points) {
      used = Math.min(chunk.length, points - this.#filled);
      new Uint8Array(this.#points!.buffer, this.#filled, used).set(chunk.subarray(0, used));
      if (this.#checksum) this.#crc = crc32Update(this.#crc, chunk.subarray(0, used));
      this.#filled += used;
    }
    if (used === chunk.length) return;
    this.#rest.set(chunk.subarray(used), this.#filled - points);
    this.#filled += chunk.length - used;
  }

  finish(): SavedNetwork {
    const header = this.#header;
    if (!header || this.#filled < this.#pointBytes + this.#rest.length) throw corrupt('its length does not match its header: it ends early (truncated)');
    const rest = new DataView(this.#rest.buffer);
    const checksumAt = this.#rest.length - 4;
    if (this.#checksum && rest.getUint32(checksumAt, true) !== (crc32Update(this.#crc, this.#rest.subarray(0, checksumAt)) ^ 0xffffffff) >>> 0) {
      throw corrupt('the checksum does not match (truncated or altered)');
    }
    const points = fromLittleEndian(this.#points!);
    const body = readBody(points, rest, header);
    const saved = header.withIds ? { ...body, ids: readSavedIds(rest, header.n * header.labelBytes, header.n) } : body;
    // A file written before a later option existed is canonical without it.
    const canonical = encodeHeader(saved, header.version, header.givenOptionNames);
    if (canonical.length !== header.headerBytes.length || canonical.some((byte, i) => byte !== header.headerBytes[i])) {
      throw corrupt('its header is not in the form toBytes writes (spacing, key order or number format differ)');
    }
    return saved;
  }
}

/** `values` read as little-endian, in place: unchanged on a little-endian machine. */
function fromLittleEndian(values: StoredValues): StoredValues {
  if (LITTLE_ENDIAN) return values;
  const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
  for (let i = 0; i < values.length; i++) values[i] = values instanceof Float32Array ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
  return values;
}

/** The ids after the labels: what readIds accepts, or BAD_BYTES. */
function readSavedIds(view: DataView, start: number, n: number): Float64Array {
  const ids = Array.from({ length: n }, (_, i) => view.getFloat64(start + i * 8, true));
  try {
    return readIds(ids, n, undefined);
  } catch (error) {
    throw corrupt(`its ids are invalid (${(error as Error).message})`);
  }
}

/**
 * Classes as encodeLabels makes them: finite numbers or strings of one type, strictly ascending;
 * none for regression, search, or an empty network.
 */
function checkClasses(classes: unknown, task: ResolvedOptions['task'], empty: boolean): void {
  if (!Array.isArray(classes)) throw corrupt('its header has no list of classes');
  if (task !== 'classification' || empty) {
    if (classes.length !== 0) throw corrupt(empty ? 'an empty network has classes' : `a network with task '${task}' has classes`);
    return;
  }
  if (classes.length === 0) throw corrupt('a classification network has no classes');
  const kind = typeof classes[0];
  for (let i = 0; i < classes.length; i++) {
    const label: unknown = classes[i];
    if (typeof label !== kind || (kind !== 'string' && !(kind === 'number' && Number.isFinite(label)))) {
      throw corrupt(`class ${i} is not a finite number or a string of the same type as class 0`);
    }
    if (i > 0 && !((classes[i - 1] as number | string) < (label as number | string))) throw corrupt('its classes are not sorted and distinct');
  }
}

function firstZeroRow(points: Float32Array, n: number, d: number): number {
  for (let r = 0; r < n; r++) if (points.subarray(r * d, (r + 1) * d).every((value) => value === 0)) return r;
  return -1;
}

/** The body's values checked as fit checks them: X (`points`, decoded), then in `rest` the labels. */
function readBody(points: StoredValues, rest: DataView, header: SavedHeader): SavedNetwork {
  const { options, n, d, classes, capped } = header;
  const limit = magnitudeLimit(d);
  for (let i = 0; i < points.length; i++) {
    if (!(Math.abs(points[i]) <= limit)) throw corrupt(`X[${Math.floor(i / d)}][${i % d}] is ${points[i]}, not a finite value within ±${limit.toExponential(3)}`);
  }
  // A cosine network's float64 rows are its unit rows; its float32 rows are raw, and none is zero.
  if (options.metric === 'cosine' && points instanceof Float64Array) {
    const notUnit = firstNonUnitRow(points, n, d);
    if (notUnit >= 0) throw corrupt(`row ${notUnit} of a cosine network is not a unit vector`);
  }
  if (options.metric === 'cosine' && points instanceof Float32Array) {
    const zero = firstZeroRow(points, n, d);
    if (zero >= 0) throw corrupt(`row ${zero} of a cosine network is a zero vector, which fit refuses`);
  }
  if (options.task === 'search') return { options, n, d, classes, capped, points };
  if (options.task === 'regression') {
    const targets = Float64Array.from({ length: n }, (_, i) => rest.getFloat64(i * 8, true));
    try {
      encodeTargets(targets, n);
    } catch (error) {
      throw corrupt(`its targets are invalid (${(error as Error).message})`);
    }
    return { options, n, d, classes, capped, points, targets };
  }
  const codes = new Int32Array(n);
  const used = new Uint8Array(classes.length);
  for (let i = 0; i < n; i++) {
    codes[i] = rest.getInt32(i * 4, true);
    if (codes[i] < 0 || codes[i] >= classes.length) throw corrupt(`class code ${codes[i]} is out of range`);
    used[codes[i]] = 1;
  }
  const unused = used.indexOf(0);
  if (unused >= 0) throw corrupt(`class ${unused} (${JSON.stringify(classes[unused])}) has no training point, which fit never makes`);
  return { options, n, d, classes, capped, points, codes };
}
