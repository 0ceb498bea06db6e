// The file `knnet fit --save` writes and `knnet predict --model` reads: the network's own bytes
// (toBytes) behind a header that carries what the network does not know, the columns and the
// preparation of each row.
//
// Layout (little-endian): "KNNMODEL" | u16 format version | u16 reserved (0) | u32 header length
// | header JSON (UTF-8) | the network's bytes (KnnNetwork.toBytes) | u32 CRC-32 of everything
// before it. The header: { "features": [names], "target": name, "standardize": null or
// { "mean": [d numbers], "scale": [d numbers] }, "impute": null or { "method": "mean" | "median",
// "values": [d numbers] } }. Numbers are written as JavaScript prints them (the shortest text
// that reads back to the same float64), -0 included, so a loaded model prepares rows bit for bit
// as the fitted one did.
import { readFile } from 'node:fs/promises';
import { KnnError } from '../errors.js';
import { KnnNetwork } from '../network.js';
import { crc32 } from '../serialize.js';
import type { ThreadsOption } from '../threads.js';
import { FileError, describeFileError } from './fileError.js';
import type { CliModel, FeaturePreparation } from './model.js';

const MAGIC = 'KNNMODEL';
/** The library's own format, which a user may hand over by mistake. */
const NETWORK_MAGIC = 'KNNT';
const VERSION = 1;
const PREAMBLE_BYTES = 16;

const numbersJson = (values: Float64Array) => `[${Array.from(values, (value) => (Object.is(value, -0) ? '-0' : String(value))).join(',')}]`;

function headerJson(preparation: FeaturePreparation): string {
  const { standardization, imputation } = preparation;
  const standardize = standardization ? `{"mean":${numbersJson(standardization.mean)},"scale":${numbersJson(standardization.scale)}}` : 'null';
  const impute = imputation ? `{"method":${JSON.stringify(imputation.method)},"values":${numbersJson(imputation.values)}}` : 'null';
  return `{"features":${JSON.stringify(preparation.featureNames)},"target":${JSON.stringify(preparation.targetName)},"standardize":${standardize},"impute":${impute}}`;
}

export function encodeModel(model: CliModel): Uint8Array {
  const header = new TextEncoder().encode(headerJson(model.preparation));
  const network = model.net.toBytes();
  const bytes = new Uint8Array(PREAMBLE_BYTES + header.length + network.length + 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  view.setUint16(8, VERSION, true);
  view.setUint32(12, header.length, true);
  bytes.set(header, PREAMBLE_BYTES);
  bytes.set(network, PREAMBLE_BYTES + header.length);
  const checksumAt = bytes.length - 4;
  view.setUint32(checksumAt, crc32(bytes.subarray(0, checksumAt)), true);
  return bytes;
}

const ascii = (bytes: Uint8Array, length: number) => String.fromCharCode(...bytes.subarray(0, length));

/** Reads the model saved in `path`; its network predicts on `threads`. */
export async function loadModel(path: string, threads: ThreadsOption): Promise<CliModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new FileError(`cannot read ${path}: ${describeFileError(error)}`);
  }
  const corrupt = (reason: string) => new FileError(`${path} is corrupt: ${reason}; fit and save the model again`);
  if (ascii(bytes, MAGIC.length) !== MAGIC) {
    if (ascii(bytes, NETWORK_MAGIC.length) === NETWORK_MAGIC) {
      throw new FileError(`${path} holds a bare network (KnnNetwork.toBytes), without the columns the CLI needs; save a model with knnet fit --save`);
    }
    throw new FileError(`${path} is not a knnet model (it does not start with "${MAGIC}"); save one with knnet fit --train FILE --save ${path}`);
  }
  if (bytes.length < PREAMBLE_BYTES + 4) throw corrupt('it is truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  if (version !== VERSION) throw new FileError(`${path} is a knnet model of format ${version}; this knnet reads format ${VERSION}: use the knnet that saved it, or fit again`);
  const checksumAt = bytes.length - 4;
  if (view.getUint32(checksumAt, true) !== crc32(bytes.subarray(0, checksumAt))) throw corrupt('its checksum does not match (truncated or altered)');
  const headerLength = view.getUint32(12, true);
  if (view.getUint16(10, true) !== 0 || headerLength > checksumAt - PREAMBLE_BYTES) throw corrupt('its preamble is invalid');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength)));
  } catch {
    throw corrupt('its header is not JSON');
  }
  const preparation = readHeader(header, corrupt);
  let net: KnnNetwork;
  try {
    net = await KnnNetwork.fromBytes(bytes.subarray(PREAMBLE_BYTES + headerLength, checksumAt), { threads });
  } catch (error) {
    if (error instanceof KnnError) throw corrupt(`its network does not load (${error.message})`);
    throw error;
  }
  const features = net.nFeatures;
  if (features !== preparation.featureNames.length) {
    net.dispose();
    throw corrupt(`its network has ${features} features but its header names ${preparation.featureNames.length}`);
  }
  return { net, preparation };
}

type Corrupt = (reason: string) => FileError;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numbers(value: unknown, length: number, what: string, corrupt: Corrupt, positive = false): Float64Array {
  const valid = Array.isArray(value) && value.length === length && value.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!valid) throw corrupt(`its ${what} are not ${length} finite${positive ? ' positive' : ''} numbers`);
  return Float64Array.from(value as number[]);
}

function readHeader(header: unknown, corrupt: Corrupt): FeaturePreparation {
  if (!isObject(header)) throw corrupt('its header is not an object');
  const keys = ['features', 'target', 'standardize', 'impute'];
  for (const key of Object.keys(header)) if (!keys.includes(key)) throw corrupt(`its header has an unknown key "${key}"`);
  const { features, target, standardize, impute } = header;
  const names = Array.isArray(features) && features.every((name) => typeof name === 'string' && name !== '') ? (features as string[]) : undefined;
  if (names === undefined || names.length === 0 || new Set(names).size !== names.length) throw corrupt('its feature names are not a list of distinct names');
  if (typeof target !== 'string' || target === '' || names.includes(target)) throw corrupt('its target column is not a name apart from the features');
  const d = names.length;
  let standardization: FeaturePreparation['standardization'];
  if (standardize !== null) {
    if (!isObject(standardize) || Object.keys(standardize).length !== 2) throw corrupt('its standardization is not { mean, scale }');
    standardization = { mean: numbers(standardize.mean, d, 'means', corrupt), scale: numbers(standardize.scale, d, 'scales', corrupt, true) };
  }
  let imputation: FeaturePreparation['imputation'];
  if (impute !== null) {
    if (!isObject(impute) || Object.keys(impute).length !== 2 || (impute.method !== 'mean' && impute.method !== 'median')) {
      throw corrupt('its imputation is not { method: mean | median, values }');
    }
    imputation = { method: impute.method, values: numbers(impute.values, d, 'imputation values', corrupt) };
  }
  return { featureNames: names, targetName: target, ...(imputation && { imputation }), ...(standardization && { standardization }) };
}
