/**
 * Filtered searches against the unfiltered one, on one network: kneighbors(X, k, { filter })
 * with a filter that allows 5 %, 50 %, 95 % and 99.9 % of the points (scattered, seeded), on a
 * batch of queries and on single queries, each figure a ratio of two medians measured in this
 * run, round-robin, both warmed up.
 *
 *   node dist/bench/filters.js                 # W2: 10 000 × 64, 1 000 queries, k = 5
 *   node dist/bench/filters.js --n 60000 --d 784
 *   node dist/bench/filters.js --algorithm brute   # (default 'auto', which picks the pruned search on W2)
 *   node dist/bench/filters.js --n 100000 --d 384 --q 100 --storage float32 --metric cosine   # embeddings
 */
import { KnnNetwork } from '../src/index.js';
import { SeededRandom } from '../src/random.js';
import { describeProcessor, processor } from './machine.js';
import { timeRoundRobin, type Contestant, type RoundRobinOptions } from './roundRobin.js';
import { loadWorkload, WORKLOADS } from './workloads.js';

const SHARES = [0.05, 0.5, 0.95, 0.999];
const ROUNDS: RoundRobinOptions = { minRounds: 7, maxRounds: 15, maxSeconds: 20, sampleSeconds: 0.2 };

function numberArgument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const w2 = WORKLOADS.find((workload) => workload.name === 'W2')!;
const spec = { ...w2, n: numberArgument('n', w2.n), d: numberArgument('d', w2.d), q: numberArgument('q', w2.q) };
const k = spec.k as number;
const { train, labels, queries } = loadWorkload(spec);
function textArgument<T extends string>(name: string, fallback: T): T {
  const at = process.argv.indexOf(`--${name}`);
  return (at >= 0 ? process.argv[at + 1] : fallback) as T;
}

const algorithm = textArgument<'auto' | 'brute' | 'tree'>('algorithm', 'auto');
const storage = textArgument<'auto' | 'float64' | 'float32'>('storage', 'auto');
const metric = textArgument<'euclidean' | 'manhattan' | 'cosine'>('metric', 'euclidean');
const network = await KnnNetwork.fit({ data: train, rows: spec.n, cols: spec.d }, labels, { k, algorithm, storage, metric });
const batch = { data: queries, rows: spec.q, cols: spec.d };
const singles = Array.from({ length: spec.q }, (_, r) => queries.subarray(r * spec.d, (r + 1) * spec.d));
const random = new SeededRandom(18);
const filters = SHARES.map((share) => Uint8Array.from({ length: spec.n }, () => (random.uniform() < share ? 1 : 0)));

console.log(`Filtered kneighbors against unfiltered: n = ${spec.n}, d = ${spec.d}, k = ${k}, W2's blobs (seed ${spec.seed}); filters scattered at random; algorithm '${algorithm}' (searching by '${network.searchAlgorithm}'), storage '${storage}', metric '${metric}'.`);
console.log(`${describeProcessor(processor())}, Node ${process.versions.node}.`);
console.log('Ratios are filtered ÷ unfiltered medians of the same round-robin run (below 1: the filter is faster).\n');
for (const [form, rows] of [['batch', spec.q], ['single', 1]] as const) {
  let next = 0;
  const query = () => singles[next++ % spec.q];
  const call = (filter?: Uint8Array) => (form === 'batch' ? () => void network.kneighbors(batch, k, filter && { filter }) : () => void network.kneighbors(query(), k, filter && { filter }));
  const contestants: Contestant[] = [{ name: 'unfiltered', call: call() }, ...filters.map((filter, i) => ({ name: `${SHARES[i] * 100} %`, call: call(filter) }))];
  const results = await timeRoundRobin(contestants, ROUNDS);
  const base = results[0].seconds;
  console.log(`${form === 'batch' ? `Batch of ${rows} queries` : 'Single queries (one per call)'}: unfiltered ${(base * 1e3).toFixed(3)} ms per call (spread ${(results[0].relativeSpread * 100).toFixed(0)} %)`);
  for (const result of results.slice(1)) {
    console.log(`  ${result.name.padStart(7)} allowed  ${(result.seconds * 1e3).toFixed(3).padStart(9)} ms  ratio ${(result.seconds / base).toFixed(2)}  (spread ${(result.relativeSpread * 100).toFixed(0)} %, ${result.samples} samples)`);
  }
}
network.dispose();
