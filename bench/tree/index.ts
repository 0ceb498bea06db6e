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
 * rotating): a network with algorithm 'auto' (the default: the pruned search where its cost
 * model predicts it pays; the row says what it chose), through the public kneighbors on all the
 * queries; one with algorithm 'brute' (kneighbors on the first queries only: its time per query
 * does not depend on the query); and cKDTree.query(workers=1) through
 * /usr/bin/python3 on the same data written to files (skipped with a note when scipy is
 * missing; on U64, 100 queries). Each sample is timed by the CPU time of its process (Node's
 * process.cpuUsage, Python's time.process_time): on a machine shared with other work, the
 * clock counts their time too. cKDTree with every core is timed by the clock. Medians over the
 * rounds. The 'auto' answers are checked against brute force's bit for bit on the queries both
 * answered, and cKDTree's distances against them.
 *
 * Then the fit: KnnNetwork.fit with algorithm 'brute' against 'auto', alternated, medians; and
 * the bytes each network holds.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { KnnNetwork } from '../../src/index.js';
import type { Matrix } from '../../src/matrix.js';
import { SeededRandom } from '../../src/random.js';
import { loadKernels, type Kernels } from '../../src/wasm.js';
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

async function measureWorkload(workload: TreeWorkload, rounds: number, directory: string | undefined): Promise<Row> {
  const { n, d, q } = workload;
  const X = { data: workload.train, rows: n, cols: d };
  const brute = await KnnNetwork.fit(X, workload.labels, { k: K, algorithm: 'brute' });
  // The public API: 'auto' (the default) picks the pruned search or brute force.
  const net = await KnnNetwork.fit(X, workload.labels, { k: K });
  const bruteRows = Math.min(q, workload.bruteQueries);
  const bruteQueries: Matrix = { data: workload.queries.subarray(0, bruteRows * d), rows: bruteRows, cols: d };
  const queries = { data: workload.queries, rows: q, cols: d };
  const peer = directory ? new ScipyPeer(directory, workload) : undefined;
  await peer?.ready();
  const search = () => net.kneighbors(queries, K);
  const auto = net.searchAlgorithm === 'tree';
  const work = `net.searchAlgorithm '${net.searchAlgorithm}'`;
  // Exactness first (also the warm-up).
  const found = search();
  const expected = brute.kneighbors(bruteQueries, K);
  let mismatches = 0;
  for (let i = 0; i < bruteRows * K; i++) {
    if (found.indices[i] !== expected.indices[i] || !Object.is(found.distances[i], expected.distances[i])) mismatches++;
  }
  let exact = mismatches === 0 ? `bit for bit on ${bruteRows} queries` : `${mismatches} of ${bruteRows * K} entries DIFFER`;
  const peerRows = Math.min(q, workload.peerQueries ?? q);
  if (peer) {
    const rows = Math.min(peerRows, 100);
    const theirs = await peer.check(rows);
    const worst = theirs.reduce((largest, value, i) => Math.max(largest, Math.abs(value - found.distances[i]) / Math.max(1e-300, value)), 0);
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
  net.dispose();
  const micros = (name: string) => (samples[name].length ? median(samples[name]) * 1e6 : undefined);
  return {
    name: workload.name, description: workload.description, treeMicros: micros('tree')!, bruteMicros: micros('brute')!,
    scipyMicros: micros('scipy'), scipyAllMicros: micros('scipyAll'), auto, exact, work,
  };
}

/** A fit with algorithm 'brute' against one with 'auto' (the default), alternated; and the bytes each holds. */
async function measureFit(kernels: Kernels, workload: TreeWorkload, rounds: number): Promise<string> {
  const { n, d } = workload;
  const X = { data: workload.train, rows: n, cols: d };
  const fits: Record<string, number[]> = { brute: [], auto: [] };
  const bytes: Record<string, number> = { brute: 0, auto: 0 };
  let chosen = '';
  for (let round = 0; round < rounds; round++) {
    for (const algorithm of round % 2 ? (['auto', 'brute'] as const) : (['brute', 'auto'] as const)) {
      const before = kernels.allocatedBytes() - kernels.scratchBytesHeld();
      const start = cpuSeconds();
      const network = await KnnNetwork.fit(X, workload.labels, { k: K, algorithm });
      fits[algorithm].push((cpuSeconds() - start) * 1e3);
      bytes[algorithm] = kernels.allocatedBytes() - kernels.scratchBytesHeld() - before;
      if (algorithm === 'auto') chosen = network.searchAlgorithm;
      network.dispose();
    }
  }
  const brute = median(fits.brute);
  const auto = median(fits.auto);
  return `${workload.name}: fit 'brute' ${brute.toFixed(0)} ms, 'auto' ${auto.toFixed(0)} ms (${(auto / brute).toFixed(2)}×, chose '${chosen}'); memory ${(bytes.brute / 2 ** 20).toFixed(0)} MiB vs ${(bytes.auto / 2 ** 20).toFixed(0)} MiB (${(bytes.auto / bytes.brute).toFixed(2)}×)`;
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
  console.log(`k = ${K}, one thread, ${rounds} rounds round-robin, medians of CPU time (cKDTree on every core: the clock's); µs per query`);
  console.log(`load average at the start: ${loadavg().map((value) => value.toFixed(2)).join(', ')} on ${cpus().length} cores\n`);
  console.log('| workload | data | auto | brute | cKDTree (1) | cKDTree (all) | auto ÷ brute speed | auto ÷ cKDTree speed | auto picks | what ran | exactness |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |');
  const fitLines: string[] = [];
  try {
    for (const name of only) {
      const workload = WORKLOAD_MAKERS[name]();
      const row = await measureWorkload(workload, rounds, directory);
      const scipy = row.scipyMicros === undefined ? '—' : row.scipyMicros.toFixed(1);
      const scipyAll = row.scipyAllMicros === undefined ? '—' : row.scipyAllMicros.toFixed(1);
      const versusScipy = row.scipyMicros === undefined ? '—' : `${(row.scipyMicros / row.treeMicros).toFixed(2)}×`;
      console.log(
        `| ${row.name} | ${row.description} | ${row.treeMicros.toFixed(1)} | ${row.bruteMicros.toFixed(1)} | ${scipy} | ${scipyAll} | ` +
          `${(row.bruteMicros / row.treeMicros).toFixed(2)}× | ${versusScipy} | ${row.auto ? 'tree' : 'brute'} | ${row.work} | ${row.exact} |`,
      );
      console.log(`  (load average after ${row.name}: ${loadavg().map((value) => value.toFixed(2)).join(', ')})`);
      if (!process.argv.includes('--no-fit')) fitLines.push(await measureFit(kernels, workload, Math.max(3, rounds)));
    }
  } finally {
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
  if (fitLines.length) console.log(`\nFit (CPU time, median of ${Math.max(3, rounds)}, alternated):\n${fitLines.map((line) => `- ${line}`).join('\n')}`);
}

await main();
