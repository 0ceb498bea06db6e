// The semantic-search example (examples/semantic-search) run as its README says, with node on
// the built package, on small generated files: every neighbour list it prints (by vector, within
// a category, after saving and loading) equals the reference network's exactly, ties included.
// The files are read and written here by code of the test's own, so the example's reader is
// checked against the layout, not against itself.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork, type KnnOptions, type Neighbours } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const example = join(root, 'examples/semantic-search');
const distBuilt = existsSync(join(root, 'dist/src/index.js'));
const run = promisify(execFile);

interface NeighbourList {
  indices: number[];
  ids: number[];
  distances: number[];
}

interface Report {
  n: number;
  d: number;
  k: number;
  storage: 'float32' | 'float64';
  nearest: NeighbourList;
  filtered: NeighbourList & { category: string; method: 'filter' | 'per-category network' };
  reloaded: NeighbourList & { same: boolean };
}

interface VectorFile {
  vectors: Float32Array;
  d: number;
  ids: number[];
  categories: string[];
}

async function readVectors(path: string): Promise<VectorFile> {
  const { dimensions: d, ids, categories } = JSON.parse(await readFile(path.replace(/\.f32$/, '.json'), 'utf8'));
  const bytes = await readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const vectors = Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
  return { vectors, d, ids, categories };
}

async function writeVectors(path: string, { vectors, d, ids, categories }: VectorFile): Promise<void> {
  const view = new DataView(new ArrayBuffer(4 * vectors.length));
  vectors.forEach((value, i) => view.setFloat32(4 * i, value, true));
  await writeFile(path, new Uint8Array(view.buffer));
  await writeFile(path.replace(/\.f32$/, '.json'), JSON.stringify({ dimensions: d, ids, categories }));
}

function node(script: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [join(example, script), ...args], { cwd: root, timeout: 60_000, maxBuffer: 16 * 2 ** 20 });
}

async function searchJson(args: string[]): Promise<Report> {
  return JSON.parse((await node('search.mjs', [...args, '--json'])).stdout) as Report;
}

function plain(found: { indices: Int32Array; ids?: Float64Array; distances: Float64Array }, positions?: number[]): NeighbourList {
  const indices = Array.from(found.indices, (index) => (positions ? positions[index]! : index));
  return { indices, ids: Array.from(found.ids!), distances: Array.from(found.distances) };
}

/** The k nearest to `query` among the vectors of `category` alone, from a reference network of those vectors. */
function referenceInCategory(file: VectorFile, category: string, query: Float32Array, k: number): NeighbourList {
  const members: number[] = [];
  file.categories.forEach((name, position) => name === category && members.push(position));
  const rows = new Float32Array(members.length * file.d);
  members.forEach((position, r) => rows.set(file.vectors.subarray(position * file.d, (position + 1) * file.d), r * file.d));
  const subset = ReferenceNetwork.fitSync({ data: rows, rows: members.length, cols: file.d }, null, { metric: 'cosine', ids: members.map((p) => file.ids[p]!) });
  return plain(subset.kneighbors(query, Math.min(k, members.length)), members);
}

/**
 * Whether this knnet has `storage: 'float32'` for the cosine metric (an older one refuses the
 * option as unknown, or refuses it for cosine rows).
 */
async function hasFloat32Storage(): Promise<boolean> {
  try {
    (await KnnNetwork.fit({ data: Float32Array.of(1), rows: 1, cols: 1 }, null, { storage: 'float32', metric: 'cosine' } as unknown as KnnOptions)).dispose();
    return true;
  } catch (error) {
    if (error instanceof KnnError && error.code === 'BAD_OPTION') return false;
    throw error;
  }
}

/** Whether kneighbors(X, k, { filter }) filters (a version without filters ignores the argument). */
async function hasFilteredSearch(): Promise<boolean> {
  const net = await KnnNetwork.fit([[0], [1]], null);
  const kneighbors = net.kneighbors.bind(net) as (X: number[], k: number, options: object) => Neighbours;
  const found = kneighbors([0], 1, { filter: Uint8Array.of(0, 1) });
  net.dispose();
  return found.indices[0] === 1;
}

describe.runIf(distBuilt)('the semantic-search example (node examples/semantic-search/search.mjs)', { timeout: 120_000 }, () => {
  let folder: string;
  let file: VectorFile;
  let reference: ReferenceNetwork<never, 'search'>;
  /** Rows appended as exact copies of earlier rows, under lower ids and a category of their own. */
  const copied = [10, 3, 500];
  const generated = 900;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'knnet-semantic-search-'));
    // d = 37: not a multiple of any SIMD width.
    const { stdout } = await node('generate.mjs', ['--count', String(generated), '--dimensions', '37', '--seed', '5', '--out', join(folder, 'small.f32')]);
    expect(stdout).toMatch(/^wrote 900 × 37 float32 unit vectors to .*small\.f32 \(ids and categories in .*small\.json\) in \d+ ms\n$/);
    const small = await readVectors(join(folder, 'small.f32'));
    const d = small.d;
    const vectors = new Float32Array((generated + copied.length) * d);
    vectors.set(small.vectors);
    copied.forEach((row, j) => vectors.set(small.vectors.subarray(row * d, (row + 1) * d), (generated + j) * d));
    file = { vectors, d, ids: [...small.ids, 1, 2, 3], categories: [...small.categories, 'rare', 'rare', 'rare'] };
    await writeVectors(join(folder, 'ties.f32'), file);
    reference = ReferenceNetwork.fitSync({ data: vectors, rows: generated + copied.length, cols: d }, null, { metric: 'cosine', ids: file.ids, k: 10 });
  }, 120_000);

  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  const rowOf = (position: number) => file.vectors.subarray(position * file.d, (position + 1) * file.d);

  it('the generator writes the layout: n × d little-endian float32 unit vectors, distinct ids, a category each', async () => {
    const small = await readVectors(join(folder, 'small.f32'));
    expect(small.vectors.length).toBe(generated * 37);
    expect(new Set(small.ids).size).toBe(generated);
    expect(small.ids.every((id) => Number.isInteger(id) && id >= 0)).toBe(true);
    expect(new Set(small.categories).size).toBeGreaterThan(5);
    for (let row = 0; row < generated; row++) {
      const length = Math.hypot(...small.vectors.subarray(row * 37, (row + 1) * 37));
      expect(Math.abs(length - 1)).toBeLessThan(1e-6);
    }
  });

  it('a query by vector: the nearest 10 with their ids, as the reference network finds them (a tie at distance 0 to the lower index)', async () => {
    const report = await searchJson([join(folder, 'ties.f32'), '--like', String(file.ids[10])]);
    expect(report).toMatchObject({ n: generated + 3, d: 37, k: 10 });
    expect(report.nearest).toEqual(plain(reference.kneighbors(rowOf(10))));
    // Row 10 and its copy, appended at row 900 under id 1, both at distance 0: the lower index first.
    expect(report.nearest.indices.slice(0, 2)).toEqual([10, generated]);
    expect(report.nearest.distances.slice(0, 2)).toEqual([0, 0]);
    expect(report.nearest.ids.slice(0, 2)).toEqual([file.ids[10], 1]);
  });

  it('a query within one category (a filter, or a network of that category where knnet has no filter) equals the reference on that category alone', async () => {
    const report = await searchJson([join(folder, 'ties.f32'), '--like', String(file.ids[3])]);
    const ownCategory = file.categories[3]!;
    // Unless told, the example searches the first category (by name) other than the item's own.
    const chosen = [...new Set(file.categories)].sort().find((name) => name !== ownCategory)!;
    expect(report.filtered.category).toBe(chosen);
    const { category: _, method, ...found } = report.filtered;
    expect(found).toEqual(referenceInCategory(file, chosen, rowOf(3), 10));
    expect(found.indices.every((position) => file.categories[position] === chosen)).toBe(true);
    expect(method).toBe((await hasFilteredSearch()) ? 'filter' : 'per-category network');
  });

  it('a category with fewer members than k gives all of them, nearest first', async () => {
    const report = await searchJson([join(folder, 'ties.f32'), '--like', String(file.ids[500]), '--category', 'rare']);
    expect(report.filtered).toMatchObject(referenceInCategory(file, 'rare', rowOf(500), 10));
    expect(report.filtered.indices).toHaveLength(3);
    expect(report.filtered.indices[0]).toBe(generated + 2); // row 500's copy, at distance 0
    expect(report.filtered.distances[0]).toBe(0);
  });

  it('a query vector from a file, k = 25: the reference network\'s answer; the saved and loaded network answers the same', async () => {
    const query = Float32Array.from({ length: 37 }, (_, j) => Math.sin(j + 1) / 3);
    await writeVectors(join(folder, 'query.f32'), { vectors: query, d: 37, ids: [0], categories: [''] });
    const save = join(folder, 'network.knnet');
    const report = await searchJson([join(folder, 'ties.f32'), '--query', join(folder, 'query.f32'), '--k', '25', '--save', save]);
    const expected = plain(reference.kneighbors(query, 25));
    expect(report.nearest).toEqual(expected);
    expect(report.reloaded).toEqual({ ...expected, same: true });
    // The saved file is the network: loaded here, it answers the same.
    const loaded = await KnnNetwork.fromBytes(new Uint8Array(await readFile(save)));
    expect(plain(loaded.kneighbors(query, 25))).toEqual(expected);
    expect(loaded.options).toMatchObject({ metric: 'cosine', task: 'search', k: 25 });
    loaded.dispose();
  });

  it('uses float32 storage where knnet has it, and says which it used', async () => {
    const report = await searchJson([join(folder, 'ties.f32')]);
    expect(report.storage).toBe((await hasFloat32Storage()) ? 'float32' : 'float64');
  });

  it('prints what it did: the read, the fit, the neighbours, the category, the save and the load, with times', async () => {
    const { stdout } = await node('search.mjs', [join(folder, 'ties.f32'), '--like', String(file.ids[10])]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^knnet semantic search: 903 vectors × 37 dimensions from .*ties\.f32$/);
    expect(lines[1]).toMatch(/^read +[\d.]+ MiB of float32 in \d+ ms$/);
    expect(lines[2]).toMatch(/^storage +(float32: the vectors are kept at 4 bytes a value|float64: this knnet has no float32 storage for the cosine metric)/);
    expect(lines[3]).toMatch(/^fit +903 vectors, metric 'cosine', with their ids, in \d+ ms$/);
    expect(lines[4]).toBe(`query     the vector of id ${file.ids[10]} (category ${file.categories[10]})`);
    expect(lines[5]).toMatch(/^nearest 10, in [\d.]+ (µs|ms) a query \(median of 21\):$/);
    const nearest = plain(reference.kneighbors(rowOf(10)));
    expect(lines.slice(7, 17).map((line) => Number(line.trim().split(/ +/)[1]))).toEqual(nearest.ids);
    const filtered = lines.slice(17).join('\n');
    expect(filtered).toMatch(
      /nearest 10 in category \S+ \(\d+ vectors\), kneighbors\(x, 10, \{ filter \}\)|filtered queries need kneighbors\(X, k, \{ filter \}\), which this knnet does not have;\n +the workaround, a network of the \d+ vectors in \S+ \(fit \d+ ms\)/,
    );
    expect(lines.at(-2)).toMatch(/^saved +.*ties\.knnet: [\d.]+ MiB in \d+ ms \(toBytes\)$/);
    expect(lines.at(-1)).toMatch(/^loaded +in \d+ ms \(fromBytes\); the same 10 ids and distances as before saving: yes$/);
  });

  it('a missing file is a one-line error that says how to make one', async () => {
    const failed = await node('search.mjs', [join(folder, 'missing.f32')]).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failed && failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^semantic-search: .*missing\.f32 does not exist: write a seeded one with node examples\/semantic-search\/generate\.mjs/);
  });
});

describe.skipIf(distBuilt)('the semantic-search example', () => {
  it('needs the built package', () => console.warn('semantic-search example tests skipped: run npm run build first (the example imports knnet from dist/)'));
});
