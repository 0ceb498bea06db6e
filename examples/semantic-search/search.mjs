// Semantic search with knnet in Node: embeddings read from a file, an exact cosine search
// network without labels that reports the vectors' own ids, a query by vector, a query within
// one category, and the network saved to a file and loaded back. See README.md.
//
//   node examples/semantic-search/search.mjs [VECTORS.f32] [--like ID | --query QUERY.f32]
//        [--category NAME] [--k 10] [--save PATH] [--json]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KnnError, KnnNetwork } from 'knnet';
import { DEFAULT_VECTORS_PATH } from './generate.mjs';
import { readFloat32File, readVectorFile } from './vectorFile.mjs';

/** Calls `run` `times` times; the median time of one call in ms, and the last result. */
function timed(run, times = 1) {
  const elapsed = [];
  let result;
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    result = run();
    elapsed.push(performance.now() - start);
  }
  elapsed.sort((a, b) => a - b);
  return { ms: elapsed[Math.floor(times / 2)], result };
}

async function timedAsync(run) {
  const start = performance.now();
  const result = await run();
  return { ms: performance.now() - start, result };
}

/**
 * Whether this knnet keeps the cosine metric's vectors at 4 bytes a value (`storage: 'float32'`
 * with `metric: 'cosine'`): an older one refuses the option as unknown, or (before float32
 * storage kept the raw rows and normalised them as it read them) refused it for cosine rows.
 */
async function hasFloat32Storage() {
  try {
    (await KnnNetwork.fit({ data: Float32Array.of(1), rows: 1, cols: 1 }, null, { storage: 'float32', metric: 'cosine' })).dispose();
    return true;
  } catch (error) {
    if (error instanceof KnnError && error.code === 'BAD_OPTION' && /options\.storage/.test(error.message)) return false;
    throw error;
  }
}

/**
 * Whether kneighbors(X, k, { filter }) restricts the search to the points a filter marks. A
 * version without filters ignores the argument, so ask: two points, the nearest one filtered out.
 */
async function hasFilteredSearch() {
  const net = await KnnNetwork.fit([[0], [1]], null);
  try {
    return net.kneighbors([0], 1, { filter: Uint8Array.of(0, 1) }).indices[0] === 1;
  } finally {
    net.dispose();
  }
}

/** The rows of `vectors` (n × d) at `positions`, as a new n' × d Float32Array. */
function rowsAt(vectors, d, positions) {
  const rows = new Float32Array(positions.length * d);
  positions.forEach((position, r) => rows.set(vectors.subarray(position * d, (position + 1) * d), r * d));
  return rows;
}

/**
 * Runs the example on the vectors file `vectorsPath` and returns what it found: the k nearest
 * to the query (positions, ids, distances), the k nearest within `category`, the same query on
 * the network loaded back from its saved bytes, and the timings. `log` hears each output line.
 */
export async function semanticSearch({ vectorsPath = DEFAULT_VECTORS_PATH, like, queryPath, category, k = 10, savePath, log = console.log }) {
  const read = timed(() => readVectorFile(vectorsPath));
  const { vectors, n, d, ids, categories } = read.result;
  const shown = relative(process.cwd(), vectorsPath) || vectorsPath;
  log(`knnet semantic search: ${n.toLocaleString('en')} vectors × ${d} dimensions from ${shown}`);
  log(`read      ${(vectors.byteLength / 2 ** 20).toFixed(1)} MiB of float32 in ${read.ms.toFixed(0)} ms`);

  // The network: cosine distance (1 − cos), no labels, the file's ids reported beside positions.
  const float32Storage = await hasFloat32Storage();
  const options = { metric: 'cosine', k, ids, ...(float32Storage ? { storage: 'float32' } : {}) };
  const fit = await timedAsync(() => KnnNetwork.fit({ data: vectors, rows: n, cols: d }, null, options));
  const net = fit.result;
  log(
    float32Storage
      ? `storage   float32: the vectors are kept at 4 bytes a value (options.storage 'float32')`
      : `storage   float64: this knnet has no float32 storage for the cosine metric, so the float32 values are widened (exactly) to 8 bytes a value`,
  );
  log(`fit       ${n.toLocaleString('en')} vectors, metric 'cosine', with their ids, in ${fit.ms.toFixed(0)} ms`);

  // The query: a vector from a file (an embedding of the user's text, say), or an item's own vector.
  let query;
  let likeId;
  if (queryPath !== undefined) {
    query = readFloat32File(queryPath, d);
    if (query.length !== d) throw new Error(`${queryPath} holds ${query.length / d} vectors; a query file holds one vector of ${d} float32 values.`);
    log(`query     the vector in ${queryPath}`);
  } else {
    likeId = like ?? ids[0];
    const position = ids.indexOf(likeId);
    if (position < 0) throw new Error(`--like ${likeId}: no vector has that id (the ids are in ${vectorsPath.replace(/\.f32$/, '.json')}).`);
    query = vectors.subarray(position * d, (position + 1) * d);
    log(`query     the vector of id ${likeId} (category ${categories[position]})`);
  }
  const searched = timed(() => net.kneighbors(query), 21);
  const nearest = searched.result;
  log(`nearest ${k}, in ${formatMs(searched.ms)} a query (median of 21):`);
  printNeighbours(log, nearest.indices, nearest.ids, nearest.distances, categories);

  // Within one category: a filter where knnet has one, else a network of that category's vectors.
  const itemCategory = likeId === undefined ? undefined : categories[ids.indexOf(likeId)];
  const chosen = category ?? [...new Set(categories)].sort().find((name) => name !== itemCategory);
  const members = [];
  categories.forEach((name, position) => name === chosen && members.push(position));
  if (members.length === 0) throw new Error(`--category ${chosen}: no vector has that category.`);
  const filtered = await nearestInCategory({ net, vectors, d, ids, categories, members, query, k, options, log, chosen });

  // Save, load, and ask again: the loaded network answers bit for bit as the one saved.
  const path = savePath ?? vectorsPath.replace(/\.f32$/, '') + '.knnet';
  const saved = timed(() => {
    const bytes = net.toBytes();
    writeFileSync(path, bytes);
    return bytes.length;
  });
  log(`saved     ${relative(process.cwd(), path) || path}: ${(saved.result / 2 ** 20).toFixed(1)} MiB in ${saved.ms.toFixed(0)} ms (toBytes)`);
  const loaded = await timedAsync(() => KnnNetwork.fromBytes(readFileSync(path)));
  const again = loaded.result.kneighbors(query);
  const same = sameNumbers(again.indices, nearest.indices) && sameNumbers(again.ids, nearest.ids) && sameNumbers(again.distances, nearest.distances);
  log(`loaded    in ${loaded.ms.toFixed(0)} ms (fromBytes); the same ${k} ids and distances as before saving: ${same ? 'yes' : 'NO'}`);
  loaded.result.dispose();
  net.dispose();

  return {
    n,
    d,
    k,
    storage: float32Storage ? 'float32' : 'float64',
    query: { like: likeId ?? null, file: queryPath ?? null },
    nearest: plain(nearest),
    filtered: { category: chosen, ...filtered },
    reloaded: { ...plain(again), same },
    timings: { readMs: read.ms, fitMs: fit.ms, queryMs: searched.ms, saveMs: saved.ms, loadMs: loaded.ms, savedBytes: saved.result },
  };
}

async function nearestInCategory({ net, vectors, d, ids, categories, members, query, k, options, log, chosen }) {
  const width = Math.min(k, members.length);
  if (await hasFilteredSearch()) {
    const filter = new Uint8Array(ids.length);
    for (const position of members) filter[position] = 1;
    const searched = timed(() => net.kneighbors(query, width, { filter }), 21);
    log(`nearest ${width} in category ${chosen} (${members.length.toLocaleString('en')} vectors), kneighbors(x, ${width}, { filter }) in ${formatMs(searched.ms)} a query:`);
    printNeighbours(log, searched.result.indices, searched.result.ids, searched.result.distances, categories);
    return { method: 'filter', ...plain(searched.result) };
  }
  // No filter in this knnet: a network of the category's vectors alone, with their ids, answers
  // the same question exactly (a vector's distance to the query does not depend on the others).
  log(`nearest ${width} in category ${chosen}: filtered queries need kneighbors(X, k, { filter }), which this knnet does not have;`);
  const subsetOptions = { ...options, ids: members.map((position) => ids[position]), k: width };
  const fit = await timedAsync(() => KnnNetwork.fit({ data: rowsAt(vectors, d, members), rows: members.length, cols: d }, null, subsetOptions));
  const searched = timed(() => fit.result.kneighbors(query), 21);
  fit.result.dispose();
  const indices = Int32Array.from(searched.result.indices, (position) => members[position]);
  log(`          the workaround, a network of the ${members.length.toLocaleString('en')} vectors in ${chosen} (fit ${fit.ms.toFixed(0)} ms), in ${formatMs(searched.ms)} a query:`);
  printNeighbours(log, indices, searched.result.ids, searched.result.distances, categories);
  return { method: 'per-category network', indices: Array.from(indices), ids: Array.from(searched.result.ids), distances: Array.from(searched.result.distances) };
}

function printNeighbours(log, indices, ids, distances, categories) {
  log('  rank  id        category      1 − cos');
  for (let j = 0; j < indices.length; j++) {
    log(`  ${String(j + 1).padStart(4)}  ${String(ids[j]).padEnd(8)}  ${categories[indices[j]].padEnd(12)}  ${distances[j].toFixed(6)}`);
  }
}

function formatMs(ms) {
  return ms < 1 ? `${(1000 * ms).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

function sameNumbers(a, b) {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}

/** A neighbour list as plain arrays (JSON keeps every double exactly). */
function plain({ indices, ids, distances }) {
  return { indices: Array.from(indices), ids: Array.from(ids), distances: Array.from(distances) };
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      like: { type: 'string' },
      query: { type: 'string' },
      category: { type: 'string' },
      k: { type: 'string', default: '10' },
      save: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const k = Number(values.k);
  if (!Number.isInteger(k) || k < 1) throw new Error(`--k must be a whole number ≥ 1; got ${values.k}.`);
  if (values.like !== undefined && values.query !== undefined) throw new Error('pass --like ID or --query FILE, not both.');
  const vectorsPath = positionals[0] ?? DEFAULT_VECTORS_PATH;
  if (!existsSync(vectorsPath)) {
    throw new Error(`${vectorsPath} does not exist: write a seeded one with node examples/semantic-search/generate.mjs, or pass a file of that layout (see README.md).`);
  }
  const report = await semanticSearch({
    vectorsPath,
    like: values.like === undefined ? undefined : Number(values.like),
    queryPath: values.query,
    category: values.category,
    k,
    savePath: values.save,
    log: values.json ? () => {} : console.log,
  });
  if (values.json) console.log(JSON.stringify(report));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(`semantic-search: ${error.message}`);
    process.exitCode = 1;
  });
}
