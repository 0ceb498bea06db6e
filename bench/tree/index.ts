/**
 * The pruned search against brute force and scipy's cKDTree, one thread, k = 5, µs per query:
 *
 *   npm run build && node dist/bench/tree/index.js [--only L2,L4,W2] [--rounds 5] [--no-python]
 *
 * Workloads (seeded): L2 and L4, 1M points uniform in the unit square and cube; L8 and L16,
 * 1M points from 50 Gaussian blobs (scikit-learn's make_blobs convention: centres uniform in
 * [−10, 10]^d, unit noise); each with 10 000 queries from the same distribution. W2 and W3
 * from bench/workloads.ts (10 separated blobs). U64: 100 000 × 64 uniform, 1 000 queries
 * (nothing to prune: the guard for 'auto').
 *
 * Per workload, three contestants are timed round-robin (one sample each in turn, the first
 * rotating): the pruned search (src/partition.ts's searchPartition, after the same query
 * validation kneighbors does), brute force (KnnNetwork.kneighbors, on the first queries only:
 * its time per query does not depend on the query), and cKDTree.query(workers=1) through
 * /usr/bin/python3 on the same data written to files (skipped with a note when scipy is
 * missing; on U64, 100 queries). Each sample is timed by the CPU time of its process (Node's
 * process.cpuUsage, Python's time.process_time): on a machine shared with other work, the
 * clock counts their time too. cKDTree with every core is timed by the clock. Medians over the
 * rounds. The pruned answers are checked against brute force's bit for bit on the queries both
 * answered, and cKDTree's distances against them.
 *
 * Then the fit: a brute-force KnnNetwork.fit against the work a partitioned fit adds (the
 * partition's build, labels into leaf order), alternated, medians; and the bytes each holds.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KnnNetwork } from '../../src/index.js';
import { toMatrix, type Matrix } from '../../src/matrix.js';
import {
  buildPartition, packSearchLayers, partitionBytes, partitionRegions, permuteValues, orderOf, planPartition, searchPartition,
  type Partition, type PackedLayers,
} from '../../src/partition.js';
import { choosesTree, sampleWork } from '../../src/partitionCost.js';
import { SeededRandom } from '../../src/random.js';
import { loadKernels, type Kernels, type Region } from '../../src/wasm.js';
import { loadWorkload, WORKLOADS } from '../workloads.js';

const K = 5;
const PYTHON = '/usr/bin/python3';
const here = dirname(fileURLToPath(import.meta.url));
const PEER_SCRIPT = join(here, '..', '..', '..', 'bench', 'tree', 'ckdtree.py');

interface TreeWorkload {
  name: string;
  description: string;
  train: Float64Array;
  queries: Float64Array;
  labels: Int32Array;
  n: number;
  d: number;
  q: number;
  /** Queries brute force answers per sample. */
  bruteQueries: number;
  /** Queries cKDTree answers per sample (all unless said). */
  peerQueries?: number;
}

function uniformWorkload(name: string, n: number, d: number, q: number, seed: number, bruteQueries: number): TreeWorkload {
  const random = new SeededRandom(seed);
  const train = Float64Array.from({ length: n * d }, () => random.uniform());
  const queries = Float64Array.from({ length: q * d }, () => random.uniform());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { name, description: `${n.toLocaleString('en')} × ${d} uniform`, train, queries, labels, n, d, q, bruteQueries };
}

function blobWorkload(name: string, n: number, d: number, q: number, seed: number, bruteQueries: number): TreeWorkload {
  const BLOBS = 50;
  const random = new SeededRandom(seed);
  const centres = Float64Array.from({ length: BLOBS * d }, () => -10 + 20 * random.uniform());
  const labels = new Int32Array(n);
  const train = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const blob = random.integer(BLOBS);
    labels[i] = blob;
    for (let j = 0; j < d; j++) train[i * d + j] = centres[blob * d + j] + random.normal();
  }
  const queries = new Float64Array(q * d);
  for (let r = 0; r < q; r++) {
    const blob = random.integer(BLOBS);
    for (let j = 0; j < d; j++) queries[r * d + j] = centres[blob * d + j] + random.normal();
  }
  return { name, description: `${n.toLocaleString('en')} × ${d}, ${BLOBS} Gaussian blobs`, train, queries, labels, n, d, q, bruteQueries };
}

function benchWorkload(name: 'W2' | 'W3'): TreeWorkload {
  const spec = WORKLOADS.find((workload) => workload.name === name)!;
  const data = loadWorkload(spec);
  return {
    name, description: `${spec.n.toLocaleString('en')} × ${spec.d}, 10 blobs (bench/workloads.ts)`,
    train: data.train, queries: data.queries, labels: data.labels, n: spec.n, d: spec.d, q: spec.q, bruteQueries: spec.q,
  };
}

const WORKLOAD_MAKERS: Record<string, () => TreeWorkload> = {
  L2: () => uniformWorkload('L2', 1_000_000, 2, 10_000, 21, 200),
  L4: () => uniformWorkload('L4', 1_000_000, 4, 10_000, 22, 200),
  L8: () => blobWorkload('L8', 1_000_000, 8, 10_000, 23, 200),
  L16: () => blobWorkload('L16', 1_000_000, 16, 10_000, 24, 200),
  W2: () => benchWorkload('W2'),
  W3: () => benchWorkload('W3'),
  // cKDTree takes about 0.1 s per query here (64 features leave nothing to prune): 100 of them.
  U64: () => ({ ...uniformWorkload('U64', 100_000, 64, 1_000, 25, 1_000), peerQueries: 100 }),
};

/** The pruned search's state for one workload: X in leaf order, the partition, the packed layers. */
interface TreeIndex {
  partition: Partition;
  packed: PackedLayers;
  regions: Region[];
}

/** What a partitioned fit adds to a brute-force one: the partition of X (copied in, centred as fit does) and labels in leaf order. */
function buildTree(kernels: Kernels, workload: TreeWorkload): { index: TreeIndex; partitionSeconds: number } {
  const { n, d } = workload;
  const points = kernels.allocate(n * d * 8);
  const mean = kernels.allocate(d * 8);
  kernels.f64(points.pointer, n * d).set(workload.train);
  (kernels.exports.computeMean as (...args: number[]) => void)(points.pointer, n, d, mean.pointer);
  const plan = planPartition(n, d, 'euclidean')!;
  const start = cpuSeconds();
  const partition = buildPartition(kernels, points.pointer, n, d, mean.pointer, plan);
  permuteValues(workload.labels, orderOf(kernels, partition).slice());
  const partitionSeconds = cpuSeconds() - start;
  const packed = packSearchLayers(kernels, partition, points.pointer, mean.pointer, true);
  return { index: { partition, packed, regions: [points, mean, ...packed.regions, ...partitionRegions(partition)] }, partitionSeconds };
}

/** A long-lived cKDTree process over the workload's data files. */
class ScipyPeer {
  readonly #process: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #pending: ((line: string) => void)[] = [];
  buildSeconds = 0;

  constructor(directory: string, workload: TreeWorkload) {
    const train = join(directory, `${workload.name}-train.f64`);
    const queries = join(directory, `${workload.name}-queries.f64`);
    const rows = Math.min(workload.q, workload.peerQueries ?? workload.q);
    const asked = workload.queries.subarray(0, rows * workload.d);
    writeFileSync(train, new Uint8Array(workload.train.buffer, workload.train.byteOffset, workload.train.byteLength));
    writeFileSync(queries, new Uint8Array(asked.buffer, asked.byteOffset, asked.byteLength));
    this.#process = spawn(PYTHON, [PEER_SCRIPT, train, queries, String(workload.n), String(workload.d), String(rows), String(K)]);
    this.#process.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    this.#lines = createInterface({ input: this.#process.stdout });
    this.#lines.on('line', (line) => this.#pending.shift()?.(line));
  }

  async #next(): Promise<Record<string, unknown>> {
    return JSON.parse(await new Promise<string>((resolve) => this.#pending.push(resolve))) as Record<string, unknown>;
  }

  async ready(): Promise<void> {
    this.buildSeconds = (await this.#next()).buildSeconds as number;
  }

  /** Seconds for all its queries: CPU time with one worker, the clock's with more. */
  async query(workers: number): Promise<number> {
    this.#process.stdin.write(`query ${workers}\n`);
    const answer = await this.#next();
    return (workers === 1 ? answer.cpuSeconds : answer.seconds) as number;
  }

  async check(rows: number): Promise<number[]> {
    this.#process.stdin.write(`check ${rows}\n`);
    return (await this.#next()).distances as number[];
  }

  close(): void {
    this.#process.stdin.write('exit\n');
    this.#lines.close();
  }
}

function scipyAvailable(): boolean {
  const probe = spawnSync(PYTHON, ['-c', 'import scipy.spatial'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** CPU seconds of this process. */
const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

interface Row {
  name: string;
  description: string;
  treeMicros: number;
  bruteMicros: number;
  scipyMicros: number | undefined;
  scipyAllMicros: number | undefined;
  auto: boolean;
  exact: string;
  work: string;
}

async function measureWorkload(kernels: Kernels, workload: TreeWorkload, rounds: number, directory: string | undefined): Promise<Row> {
  const { n, d, q } = workload;
  const X = { data: workload.train, rows: n, cols: d };
  const brute = await KnnNetwork.fit(X, workload.labels, { k: K });
  const { index } = buildTree(kernels, workload);
  const bruteRows = Math.min(q, workload.bruteQueries);
  const bruteQueries: Matrix = { data: workload.queries.subarray(0, bruteRows * d), rows: bruteRows, cols: d };
  const queries = { data: workload.queries, rows: q, cols: d };
  const peer = directory ? new ScipyPeer(directory, workload) : undefined;
  await peer?.ready();
  const search = () => searchPartition(kernels, index.partition, index.packed.layers, toMatrix(queries, 'X', d), K);
  const auto = choosesTree(kernels, index.partition, index.packed.layers, K);
  const sampled = sampleWork(kernels, index.partition, index.packed.layers, K);
  const work = `${sampled.boxes.toFixed(0)} boxes, ${sampled.directPoints.toFixed(0)} direct, ${sampled.gemmPoints.toFixed(0)} GEMM points`;
  // Exactness first (also the warm-up).
  const found = search();
  const expected = brute.kneighbors(bruteQueries, K);
  let mismatches = 0;
  for (let i = 0; i < bruteRows * K; i++) {
    if (found.indices[i] !== expected.indices[i] || Math.sqrt(found.squared[i]) !== expected.distances[i]) mismatches++;
  }
  let exact = mismatches === 0 ? `bit for bit on ${bruteRows} queries` : `${mismatches} of ${bruteRows * K} entries DIFFER`;
  const peerRows = Math.min(q, workload.peerQueries ?? q);
  if (peer) {
    const rows = Math.min(peerRows, 100);
    const theirs = await peer.check(rows);
    const worst = theirs.reduce((largest, value, i) => Math.max(largest, Math.abs(value - Math.sqrt(found.squared[i])) / Math.max(1e-300, value)), 0);
    exact += `; cKDTree's distances within ${worst.toExponential(1)} relative`;
  }
  const samples: Record<string, number[]> = { tree: [], brute: [], scipy: [], scipyAll: [] };
  const contestants: [string, () => Promise<number>][] = [
    ['tree', async () => { const start = cpuSeconds(); search(); return (cpuSeconds() - start) / q; }],
    ['brute', async () => { const start = cpuSeconds(); brute.kneighbors(bruteQueries, K); return (cpuSeconds() - start) / bruteRows; }],
  ];
  if (peer) {
    contestants.push(['scipy', async () => (await peer.query(1)) / peerRows]);
    contestants.push(['scipyAll', async () => (await peer.query(-1)) / peerRows]);
  }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contestants.length; i++) {
      const [name, sample] = contestants[(i + round) % contestants.length];
      samples[name].push(await sample());
    }
  }
  peer?.close();
  brute.dispose();
  for (const region of index.regions) kernels.release(region);
  const micros = (name: string) => (samples[name].length ? median(samples[name]) * 1e6 : undefined);
  return {
    name: workload.name, description: workload.description, treeMicros: micros('tree')!, bruteMicros: micros('brute')!,
    scipyMicros: micros('scipy'), scipyAllMicros: micros('scipyAll'), auto, exact, work,
  };
}

/** Brute-force fit against the work a partitioned fit adds, alternated; and the bytes each holds. */
async function measureFit(kernels: Kernels, workload: TreeWorkload, rounds: number): Promise<string> {
  const { n, d } = workload;
  const X = { data: workload.train, rows: n, cols: d };
  const fits: number[] = [];
  const partitions: number[] = [];
  let bruteBytes = 0;
  for (let round = 0; round < rounds; round++) {
    const before = kernels.allocatedBytes() - kernels.scratchBytesHeld();
    const start = cpuSeconds();
    const network = await KnnNetwork.fit(X, workload.labels, { k: K });
    fits.push((cpuSeconds() - start) * 1e3);
    bruteBytes = kernels.allocatedBytes() - kernels.scratchBytesHeld() - before;
    network.dispose();
    const { index, partitionSeconds } = buildTree(kernels, workload);
    partitions.push(partitionSeconds * 1e3);
    for (const region of index.regions) kernels.release(region);
  }
  const fit = median(fits);
  const added = median(partitions);
  const plan = planPartition(n, d, 'euclidean')!;
  const padded = Math.ceil(n / 8) * 8;
  // A partitioned network: W1 and b1 (forward, the softmax over all points), labels, μ, the
  // partition; for boxes X's direct panels (with or without X row-major beside them), for
  // clusters X row-major (the recheck) and the float32 copy.
  const shared = padded * d * 8 + padded * 8 + n * 4 + d * 8 + partitionBytes(kernels, plan, n, d);
  const layouts = plan.kind === 'boxes'
    ? [['X in panels only', shared + padded * d * 8], ['X in panels and row-major', shared + padded * d * 8 + n * d * 8]]
    : [['X row-major, float32 copy', shared + n * d * 8 + padded * d * 4 + padded * 8]];
  const memory = layouts.map(([name, bytes]) => `${name}: ${(Number(bytes) / bruteBytes).toFixed(2)}×`).join(', ');
  return `${workload.name}: brute fit ${fit.toFixed(0)} ms; the partition adds ${added.toFixed(0)} ms (fit with it ${((fit + added) / fit).toFixed(2)}× the brute fit); memory vs the brute network's ${(bruteBytes / 2 ** 20).toFixed(0)} MiB — ${memory}`;
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
  const only = option('--only')?.split(',') ?? Object.keys(WORKLOAD_MAKERS);
  const rounds = Number(option('--rounds') ?? 5);
  const python = !process.argv.includes('--no-python') && scipyAvailable();
  const kernels = await loadKernels();
  const directory = python ? join(tmpdir(), `knnet-tree-bench-${process.pid}`) : undefined;
  if (directory) mkdirSync(directory, { recursive: true });
  if (!python) console.log(`cKDTree skipped: ${PYTHON} with scipy was not found (or --no-python).`);
  console.log(`k = ${K}, one thread, ${rounds} rounds round-robin, medians of CPU time (cKDTree on every core: the clock's); µs per query\n`);
  console.log('| workload | data | pruned | brute | cKDTree (1) | cKDTree (all) | pruned ÷ brute speed | pruned ÷ cKDTree speed | auto picks | work per sampled query | exactness |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |');
  const fitLines: string[] = [];
  try {
    for (const name of only) {
      const workload = WORKLOAD_MAKERS[name]();
      const row = await measureWorkload(kernels, workload, rounds, directory);
      const scipy = row.scipyMicros === undefined ? '—' : row.scipyMicros.toFixed(1);
      const scipyAll = row.scipyAllMicros === undefined ? '—' : row.scipyAllMicros.toFixed(1);
      const versusScipy = row.scipyMicros === undefined ? '—' : `${(row.scipyMicros / row.treeMicros).toFixed(2)}×`;
      console.log(
        `| ${row.name} | ${row.description} | ${row.treeMicros.toFixed(1)} | ${row.bruteMicros.toFixed(1)} | ${scipy} | ${scipyAll} | ` +
          `${(row.bruteMicros / row.treeMicros).toFixed(2)}× | ${versusScipy} | ${row.auto ? 'tree' : 'brute'} | ${row.work} | ${row.exact} |`,
      );
      if (!process.argv.includes('--no-fit')) fitLines.push(await measureFit(kernels, workload, Math.max(3, rounds)));
    }
  } finally {
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
  if (fitLines.length) console.log(`\nFit (CPU time, median of ${Math.max(3, rounds)}, alternated):\n${fitLines.map((line) => `- ${line}`).join('\n')}`);
}

await main();
