// Writes a seeded stand-in for a file of sentence embeddings, so the example runs offline:
// unit vectors (384 wide by default, as all-MiniLM-L6-v2's) grouped in categories and, inside
// each, topics. A vector is normalise(category direction + 0.8 · topic direction + noise), so
// two vectors of one topic have a cosine near 0.6, of one category near 0.4, and of two
// categories near 0: a structure a nearest-neighbour search can find.
//
//   node examples/semantic-search/generate.mjs [--count 20000] [--dimensions 384] [--seed 1] [--out PATH.f32]
import { mkdirSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeVectorFile } from './vectorFile.mjs';

export const DEFAULT_VECTORS_PATH = fileURLToPath(new URL('../../build/semantic-search/vectors.f32', import.meta.url));

const CATEGORIES = ['astronomy', 'cooking', 'football', 'gardening', 'history', 'jazz', 'law', 'medicine', 'painting', 'sailing', 'travel', 'weather'];
const TOPICS_PER_CATEGORY = 6;
const TOPIC_WEIGHT = 0.8;

/** A seeded uniform generator (mulberry32: one multiply-xorshift round per 32-bit draw). */
function uniforms(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by the Box–Muller transform, from seeded uniforms. */
function normals(seed) {
  const uniform = uniforms(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A random direction: d normals scaled to length 1 (uniform on the sphere). */
function direction(normal, d) {
  const v = new Float64Array(d);
  for (let j = 0; j < d; j++) v[j] = normal();
  return scaleToUnit(v);
}

function scaleToUnit(v) {
  let squares = 0;
  for (const value of v) squares += value * value;
  const scale = 1 / Math.sqrt(squares);
  for (let j = 0; j < v.length; j++) v[j] *= scale;
  return v;
}

/**
 * n unit vectors of d float32 values, distinct ids (six-digit numbers in shuffled order) and a
 * category each, from `seed`.
 */
export function generateVectors({ count = 20_000, dimensions = 384, seed = 1, categories = CATEGORIES } = {}) {
  const d = dimensions;
  const normal = normals(seed);
  const uniform = uniforms(seed ^ 0x9e3779b9);
  const centres = categories.map(() => direction(normal, d));
  const topics = categories.map(() => Array.from({ length: TOPICS_PER_CATEGORY }, () => direction(normal, d)));
  const vectors = new Float32Array(count * d);
  const itemCategories = [];
  const row = new Float64Array(d);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(uniform() * categories.length);
    const topic = topics[c][Math.floor(uniform() * TOPICS_PER_CATEGORY)];
    const noise = direction(normal, d);
    for (let j = 0; j < d; j++) row[j] = centres[c][j] + TOPIC_WEIGHT * topic[j] + noise[j];
    vectors.set(scaleToUnit(row), i * d);
    itemCategories.push(categories[c]);
  }
  // Ids as a database would hand them out: distinct, not in row order.
  const ids = Array.from({ length: count }, (_, i) => 100_000 + i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return { vectors, d, ids, categories: itemCategories };
}

function main() {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '20000' },
      dimensions: { type: 'string', default: '384' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: DEFAULT_VECTORS_PATH },
    },
  });
  const [count, dimensions, seed] = [values.count, values.dimensions, values.seed].map(Number);
  if (![count, dimensions, seed].every(Number.isInteger) || count < 1 || dimensions < 1) {
    throw new Error('--count and --dimensions must be whole numbers ≥ 1, --seed a whole number.');
  }
  if (!values.out.endsWith('.f32')) throw new Error(`--out names the vectors' file, NAME.f32 (NAME.json is written beside it); got ${values.out}.`);
  const start = performance.now();
  const data = generateVectors({ count, dimensions, seed });
  mkdirSync(dirname(values.out), { recursive: true });
  writeVectorFile(values.out, data);
  const where = relative(process.cwd(), values.out) || values.out;
  console.log(`wrote ${count.toLocaleString('en')} × ${dimensions} float32 unit vectors to ${where} (ids and categories in ${where.replace(/\.f32$/, '.json')}) in ${(performance.now() - start).toFixed(0)} ms`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
