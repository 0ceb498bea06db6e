// The Iris demo (`npm start`, `knnet demo`): the 1-NN network of the original article and its
// k-NN and softmax variants on Fisher's Iris, with a 70/30 stratified split (fixed seed),
// features standardised on the training split; then predictions per second, wasm vs reference.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KnnNetwork } from '../network.js';
import { ReferenceNetwork } from '../reference.js';
import type { KnnOptions } from '../options.js';
import { SeededRandom } from '../random.js';

export interface LabelledData {
  readonly X: number[][];
  readonly y: string[];
}

/** data/iris.csv of this package, found from this module's location (src/ or dist/src/). */
export function irisPath(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'data', 'iris.csv'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('data/iris.csv is missing from the knnet package');
    folder = parent;
  }
  return join(folder, 'data', 'iris.csv');
}

export function loadIris(): LabelledData {
  const lines = readFileSync(irisPath(), 'utf8').trim().split(/\r?\n/).slice(1);
  const rows = lines.map((line) => line.split(','));
  return { X: rows.map((cells) => cells.slice(0, 4).map(Number)), y: rows.map((cells) => cells[4]) };
}

/** Per class, a seeded shuffle; the first `trainFraction` of each class trains, the rest tests. */
export function stratifiedSplit(data: LabelledData, trainFraction: number, seed: number): { train: LabelledData; test: LabelledData } {
  const random = new SeededRandom(seed);
  const train: LabelledData = { X: [], y: [] };
  const test: LabelledData = { X: [], y: [] };
  for (const label of [...new Set(data.y)].sort()) {
    const members = data.y.flatMap((y, i) => (y === label ? [i] : []));
    for (let i = members.length - 1; i > 0; i--) {
      const j = random.integer(i + 1);
      [members[i], members[j]] = [members[j], members[i]];
    }
    const cut = Math.round(members.length * trainFraction);
    members.forEach((row, position) => {
      const target = position < cut ? train : test;
      target.X.push(data.X[row]);
      target.y.push(label);
    });
  }
  return { train, test };
}

/** Scales every feature to mean 0, standard deviation 1 on `fitOn`; applies the same to each set. */
export function standardise(fitOn: number[][], ...sets: number[][][]): number[][][] {
  const d = fitOn[0].length;
  const mean = Array.from({ length: d }, (_, j) => fitOn.reduce((sum, row) => sum + row[j], 0) / fitOn.length);
  const deviation = Array.from({ length: d }, (_, j) =>
    Math.sqrt(fitOn.reduce((sum, row) => sum + (row[j] - mean[j]) ** 2, 0) / fitOn.length) || 1,
  );
  return sets.map((set) => set.map((row) => row.map((value, j) => (value - mean[j]) / deviation[j])));
}

export function irisSplit(): { train: LabelledData; test: LabelledData } {
  const { train, test } = stratifiedSplit(loadIris(), 0.7, 42);
  const [trainX, testX] = standardise(train.X, train.X, test.X);
  return { train: { X: trainX, y: train.y }, test: { X: testX, y: test.y } };
}

export const DEMO_NETWORKS: readonly { name: string; options: KnnOptions }[] = [
  { name: '1-NN (the article’s network)', options: { k: 1 } },
  { name: 'k = 5, uniform vote', options: { k: 5 } },
  { name: 'k = 5, 1/distance vote', options: { k: 5, weights: 'distance' } },
  ...[0.1, 1, 10, 1e12].map((lambda) => ({
    name: `softmax over all points, λ = ${lambda >= 1e6 ? lambda.toExponential() : lambda}`,
    options: { k: 'all' as const, weights: 'softmax' as const, lambda },
  })),
];

/** Predictions per second of `predict` on `queries`, timed over at least `seconds`. */
function predictionsPerSecond(network: { predict(X: number[][]): unknown }, queries: number[][], seconds: number): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    network.predict(queries);
    calls++;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds);
  return (calls * queries.length) / elapsed;
}

export async function runIrisDemo(log: (line: string) => void = console.log): Promise<void> {
  const { train, test } = irisSplit();
  log(`knnet — Iris: ${train.X.length} training points, ${test.X.length} test points, 4 features (standardised), 3 classes`);
  log('');
  for (const { name, options } of DEMO_NETWORKS) {
    const network = await KnnNetwork.fit(train.X, train.y, options);
    log(`  ${name.padEnd(40)} accuracy ${(network.score(test.X, test.y) * 100).toFixed(1)} %`);
    network.dispose();
  }
  log('');
  const options: KnnOptions = { k: 5 };
  const wasm = await KnnNetwork.fit(train.X, train.y, options);
  const reference = await ReferenceNetwork.fit(train.X, train.y, options);
  predictionsPerSecond(wasm, test.X, 0.1);
  predictionsPerSecond(reference, test.X, 0.1);
  const wasmRate = predictionsPerSecond(wasm, test.X, 0.5);
  const referenceRate = predictionsPerSecond(reference, test.X, 0.5);
  log(`  predictions per second (k = 5, batches of ${test.X.length}):`);
  log(`    wasm SIMD network   ${Math.round(wasmRate).toLocaleString('en-US').padStart(12)}`);
  log(`    pure-JS reference   ${Math.round(referenceRate).toLocaleString('en-US').padStart(12)}   (wasm is ${(wasmRate / referenceRate).toFixed(1)}× faster)`);
  wasm.dispose();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runIrisDemo();
