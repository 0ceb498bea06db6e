/**
 * The Python peers (scipy's cKDTree, scikit-learn's KDTree and BallTree; faiss's flat indexes
 * on the embeddings workload), run by bench/python/search_peers.py in a subprocess on data
 * files this module writes: raw little-endian float64 (float32 for the embeddings), one file for
 * the training points and one for the queries, deleted afterwards.
 *
 * The interpreter is the first of $KNNET_BENCH_PYTHON, `python3` and `/usr/bin/python3` that
 * imports the modules a peer needs (a pyenv `python3` first on PATH may lack them where the
 * system one has them).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFolder } from '../peers/resolve.js';
import type { SearchTimingOptions } from './timing.js';

/** The Python peers on the Euclidean workloads, by command-line name. */
export const TREE_PEERS = ['ckdtree-1', 'ckdtree-all', 'sklearn-kdtree', 'sklearn-balltree'] as const;
/** The Python peers on the embeddings workload. */
export const FAISS_PEERS = ['faiss-flat-ip', 'faiss-flat-l2'] as const;

export const TREE_MODULES = ['numpy', 'scipy', 'sklearn'];
export const FAISS_MODULES = ['numpy', 'faiss'];

export const PYTHON_INSTALL_HINT = 'install them with `apt-get install -y python3-scipy python3-sklearn` (Debian; then /usr/bin/python3 has them), ' +
  'or point $KNNET_BENCH_PYTHON at a python that imports scipy and sklearn';
export const FAISS_INSTALL_HINT = 'install it with `apt-get install -y python3-faiss` (Debian), or point $KNNET_BENCH_PYTHON at a python that imports faiss';

const found = new Map<string, { python?: string; tried: string[] }>();

/** The first candidate interpreter that imports every module, and what each candidate said. */
export function findPython(modules: readonly string[]): { python?: string; tried: string[] } {
  const key = modules.join(',');
  const cached = found.get(key);
  if (cached) return cached;
  const candidates = [...new Set([process.env.KNNET_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c))];
  const tried: string[] = [];
  let python: string | undefined;
  for (const candidate of candidates) {
    const result = spawnSync(candidate, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 60_000 });
    if (result.status === 0) {
      python = candidate;
      break;
    }
    const reason = result.error ? result.error.message : (result.stderr.trim().split('\n').pop() ?? `exit ${result.status}`);
    tried.push(`${candidate}: ${reason}`);
  }
  const answer = { python, tried };
  found.set(key, answer);
  return answer;
}

/** Writes a typed array's bytes to `path` in chunks (one write call takes at most 2 GB). */
export function writeArray(path: string, values: Float64Array | Float32Array): void {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const file = openSync(path, 'w');
  try {
    const chunk = 1 << 28;
    for (let offset = 0; offset < bytes.length; offset += chunk) writeSync(file, bytes.subarray(offset, Math.min(offset + chunk, bytes.length)));
  } finally {
    closeSync(file);
  }
}

export interface PythonPeerResult {
  name: string;
  label: string;
  threads: number;
  buildSeconds: number;
  /** Queries each timed call answered. */
  queries: number;
  /** Best seconds per call. */
  seconds: number;
  callsPerSample: number;
  samples: number;
  /** The k nearest of the first checked queries, row-major. */
  neighbours: number[];
}

export interface PythonRun {
  python: string;
  versions: Record<string, string>;
  peers: PythonPeerResult[];
  maxRssKilobytes: number;
}

export interface PythonRequest {
  train: Float64Array | Float32Array;
  queries: Float64Array | Float32Array;
  n: number;
  d: number;
  q: number;
  k: number;
  peers: readonly string[];
  timing: SearchTimingOptions;
  buildRepeats: number;
  checkQueries: number;
}

/**
 * Runs search_peers.py with `python` on the request's data. Its progress lines go to this
 * process's stderr; it runs its BLAS and OpenMP on one thread (faiss's 1-thread rows), while
 * cKDTree with workers=-1 starts threads of its own.
 */
export async function runPythonPeers(python: string, request: PythonRequest): Promise<PythonRun> {
  const folder = mkdtempSync(join(tmpdir(), 'knnet-bench-python-'));
  try {
    const trainPath = join(folder, 'train.bin');
    const queriesPath = join(folder, 'queries.bin');
    writeArray(trainPath, request.train);
    writeArray(queriesPath, request.queries);
    const script = join(benchFolder(), 'python', 'search_peers.py');
    const input = JSON.stringify({
      train: trainPath, queries: queriesPath, dtype: request.train instanceof Float32Array ? 'float32' : 'float64',
      n: request.n, d: request.d, q: request.q, k: request.k, peers: request.peers, timing: request.timing,
      buildRepeats: request.buildRepeats, checkQueries: request.checkQueries,
    });
    const child = spawn(python, [script], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`${python} ${script} exited with code ${code}`);
    const output = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<PythonRun, 'python'>;
    return { python, ...output };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
