// The saved form of a network: the training data and the options, not the packed weights (they
// are rebuilt bit-for-bit by fitting again), behind a versioned header and a CRC-32.
//
// Layout (little-endian): "KNNT" | u16 version | u16 reserved | u32 header length | header JSON
// (UTF-8, padded with spaces to a multiple of 8) | X: n·d f64 (for the cosine metric, its
// L2-normalised rows) | y: n i32 class codes, n f64 targets, or nothing (task 'search') | ids:
// n f64, when the header's "ids" is true | u32 CRC-32 of everything before it.
//
// Versions: 1 saved k, weights, lambda and task; 2 every option; 3 adds "capped" (a network from
// create, whose k is a cap: it may hold fewer than k points, or none: n = d = 0), task 'search'
// and "ids" (the points' stable ids).
import { KnnError } from './errors.js';
import { encodeTargets, type Label } from './labels.js';
import { magnitudeLimit } from './matrix.js';
import { firstNonUnitRow } from './metrics.js';
import { readIds } from './pointIds.js';
import { neighbourCount, resolveOptions, type ResolvedOptions } from './options.js';

const MAGIC = 'KNNT';
const VERSION = 3;
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
  readonly points: Float64Array;
  readonly codes?: Int32Array;
  readonly targets?: Float64Array;
  /** The points' stable ids, where the network has them. */
  readonly ids?: Float64Array;
}

let crcTable: Uint32Array | undefined;

export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The header's keys in each version, in the order toBytes writes them. */
const HEADER_KEYS = ['options', 'n', 'd', 'classes', 'capped', 'ids'];
const VERSION_2_HEADER_KEYS = ['options', 'n', 'd', 'classes'];

/** The header as toBytes writes it: JSON in UTF-8, padded with spaces to a multiple of 8 bytes. */
function encodeHeader(saved: Pick<SavedNetwork, 'options' | 'n' | 'd' | 'classes' | 'capped' | 'ids'>, version = VERSION, optionNames = Object.keys(saved.options)): Uint8Array {
  const options = Object.fromEntries(optionNames.map((name) => [name, saved.options[name as keyof ResolvedOptions]]));
  const fields = { options, n: saved.n, d: saved.d, classes: saved.classes, capped: saved.capped, ids: saved.ids !== undefined };
  const keys = version >= 3 ? HEADER_KEYS : VERSION_2_HEADER_KEYS;
  const header = JSON.stringify(Object.fromEntries(keys.map((key) => [key, fields[key as keyof typeof fields]])));
  const length = new TextEncoder().encode(header).length;
  return new TextEncoder().encode(header.padEnd(header.length + Math.ceil(length / 8) * 8 - length, ' '));
}

export function encodeNetwork(saved: SavedNetwork): Uint8Array {
  const headerBytes = encodeHeader(saved);
  const labelBytes = saved.targets ? saved.n * 8 : saved.codes ? saved.n * 4 : 0;
  const idBytes = saved.ids ? saved.n * 8 : 0;
  const total = PREAMBLE_BYTES + headerBytes.length + saved.points.byteLength + labelBytes + idBytes + 4;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint16(4, VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, PREAMBLE_BYTES);
  let offset = PREAMBLE_BYTES + headerBytes.length;
  for (let i = 0; i < saved.points.length; i++, offset += 8) view.setFloat64(offset, saved.points[i], true);
  for (let i = 0; i < saved.n; i++) {
    if (saved.targets) {
      view.setFloat64(offset, saved.targets[i], true);
      offset += 8;
    } else if (saved.codes) {
      view.setInt32(offset, saved.codes[i], true);
      offset += 4;
    }
  }
  if (saved.ids) for (let i = 0; i < saved.n; i++, offset += 8) view.setFloat64(offset, saved.ids[i], true);
  view.setUint32(offset, crc32(bytes.subarray(0, offset)), true);
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
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== MAGIC) throw corrupt('the "KNNT" signature is missing');
  const version = view.getUint16(4, true);
  if (!(version >= 1 && version <= VERSION)) throw corrupt(`format version ${version} is not supported (this knnet reads versions 1 to ${VERSION})`);
  const checksumAt = bytes.length - 4;
  if (view.getUint32(checksumAt, true) !== crc32(bytes.subarray(0, checksumAt))) throw corrupt('the checksum does not match (truncated or altered)');
  if (view.getUint16(6, true) !== 0) throw corrupt('its reserved bytes 6–7 are not zero');
  const headerLength = view.getUint32(8, true);
  if (headerLength > checksumAt - PREAMBLE_BYTES) throw corrupt('its header length runs past its end');
  const headerBytes = bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength);
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
  const headerKeys = version >= 3 ? HEADER_KEYS : VERSION_2_HEADER_KEYS;
  for (const key of headerKeys) if (!Object.hasOwn(header, key)) throw corrupt(`its header has no "${key}"`);
  for (const key of Object.keys(header)) if (!headerKeys.includes(key)) throw corrupt(`its header has an unknown key "${key}"`);
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
  const optionNames = version === 1 ? VERSION_1_OPTIONS : Object.keys(options);
  for (const name of optionNames) {
    if (!Object.hasOwn(savedOptions as object, name) && !LATER_OPTIONS.includes(name)) throw corrupt(`its options do not give "${name}"`);
  }
  for (const name of Object.keys(savedOptions as object)) {
    if (!optionNames.includes(name)) throw corrupt(`format version ${version} does not save the option "${name}"`);
  }
  checkClasses(classes, options.task, empty);
  if ((classes as Label[]).length > (n as number)) throw corrupt(`it has ${(classes as Label[]).length} classes for ${n} points, more than fit ever makes`);
  const labelBytes = options.task === 'regression' ? 8 : options.task === 'search' ? 0 : 4;
  const expected = PREAMBLE_BYTES + headerLength + (n as number) * ((d as number) * 8 + labelBytes + (withIds ? 8 : 0)) + 4;
  if (expected !== bytes.length) throw corrupt('its length does not match its header');
  const body = readBody(view, PREAMBLE_BYTES + headerLength, options, n as number, d as number, classes as Label[], capped);
  const saved = withIds ? { ...body, ids: readSavedIds(view, expected - 4 - (n as number) * 8, n as number) } : body;
  // A file written before a later option existed is canonical without it.
  const canonical = encodeHeader(saved, version, optionNames.filter((name) => Object.hasOwn(savedOptions as object, name)));
  if (canonical.length !== headerBytes.length || canonical.some((byte, i) => byte !== headerBytes[i])) {
    throw corrupt('its header is not in the form toBytes writes (spacing, key order or number format differ)');
  }
  return saved;
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

function readBody(view: DataView, start: number, options: ResolvedOptions, n: number, d: number, classes: Label[], capped: boolean): SavedNetwork {
  let offset = start;
  const limit = magnitudeLimit(d);
  const points = new Float64Array(n * d);
  for (let i = 0; i < points.length; i++, offset += 8) {
    points[i] = view.getFloat64(offset, true);
    if (!(Math.abs(points[i]) <= limit)) throw corrupt(`X[${Math.floor(i / d)}][${i % d}] is ${points[i]}, not a finite value within ±${limit.toExponential(3)}`);
  }
  const notUnit = options.metric === 'cosine' ? firstNonUnitRow(points, n, d) : -1;
  if (notUnit >= 0) throw corrupt(`row ${notUnit} of a cosine network is not a unit vector`);
  if (options.task === 'search') return { options, n, d, classes, capped, points };
  if (options.task === 'regression') {
    const targets = new Float64Array(n);
    for (let i = 0; i < n; i++, offset += 8) targets[i] = view.getFloat64(offset, true);
    try {
      encodeTargets(targets, n);
    } catch (error) {
      throw corrupt(`its targets are invalid (${(error as Error).message})`);
    }
    return { options, n, d, classes, capped, points, targets };
  }
  const codes = new Int32Array(n);
  const used = new Uint8Array(classes.length);
  for (let i = 0; i < n; i++, offset += 4) {
    codes[i] = view.getInt32(offset, true);
    if (codes[i] < 0 || codes[i] >= classes.length) throw corrupt(`class code ${codes[i]} is out of range`);
    used[codes[i]] = 1;
  }
  const unused = used.indexOf(0);
  if (unused >= 0) throw corrupt(`class ${unused} (${JSON.stringify(classes[unused])}) has no training point, which fit never makes`);
  return { options, n, d, classes, capped, points, codes };
}
