// The vector file layout the example reads and the generator writes: NAME.f32 holds n × d
// float32 values, little-endian, row-major, nothing else; NAME.json beside it holds
// { "dimensions": d, "ids": [n whole numbers], "categories": [n strings] }. Any embeddings
// exported in this layout (numpy: vectors.astype('<f4').tofile('NAME.f32')) can be searched.
import { readFileSync, writeFileSync } from 'node:fs';

/** The sidecar's path: NAME.json beside NAME.f32. */
export function sidecarPath(vectorsPath) {
  return vectorsPath.replace(/\.f32$/, '') + '.json';
}

const littleEndianHost = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Reads `count` × `dimensions` little-endian float32 values from a file into a Float32Array of
 * its own (the file's bytes may not start on a 4-byte boundary in the buffer Node reads them into).
 * @param {string} path
 */
export function readFloat32File(path, dimensions) {
  const bytes = readFileSync(path);
  if (bytes.length % (4 * dimensions) !== 0) {
    throw new Error(`${path}: ${bytes.length} bytes is not a whole number of rows of ${dimensions} float32 values (${4 * dimensions} bytes a row).`);
  }
  const values = new Float32Array(bytes.length / 4);
  if (littleEndianHost) {
    new Uint8Array(values.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(4 * i, true);
  }
  return values;
}

/**
 * Reads NAME.f32 and NAME.json: the vectors (n × d, row-major), their ids and categories.
 * @param {string} vectorsPath the .f32 file
 * @returns {{ vectors: Float32Array, n: number, d: number, ids: number[], categories: string[] }}
 */
export function readVectorFile(vectorsPath) {
  const sidecar = JSON.parse(readFileSync(sidecarPath(vectorsPath), 'utf8'));
  const { dimensions: d, ids, categories } = sidecar;
  if (!Number.isInteger(d) || d < 1) throw new Error(`${sidecarPath(vectorsPath)}: "dimensions" must be a whole number ≥ 1; got ${JSON.stringify(d)}.`);
  if (!Array.isArray(ids) || !Array.isArray(categories) || ids.length !== categories.length) {
    throw new Error(`${sidecarPath(vectorsPath)}: "ids" and "categories" must be arrays of the same length, one entry per vector.`);
  }
  const vectors = readFloat32File(vectorsPath, d);
  const n = vectors.length / d;
  if (n !== ids.length) throw new Error(`${vectorsPath} holds ${n} vectors of ${d} values but ${sidecarPath(vectorsPath)} lists ${ids.length} ids.`);
  return { vectors, n, d, ids, categories };
}

/**
 * Writes NAME.f32 and NAME.json.
 * @param {string} vectorsPath the .f32 file
 * @param {{ vectors: Float32Array, d: number, ids: number[], categories: string[] }} data
 */
export function writeVectorFile(vectorsPath, { vectors, d, ids, categories }) {
  const bytes = new Uint8Array(vectors.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < vectors.length; i++) view.setFloat32(4 * i, vectors[i], true);
  writeFileSync(vectorsPath, bytes);
  writeFileSync(sidecarPath(vectorsPath), JSON.stringify({ dimensions: d, ids, categories }));
}
