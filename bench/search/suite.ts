/**
 * One search workload, measured: knnet's rows ('auto', 'tree', 'brute', 'auto' on two threads),
 * the JS trees (static-kdtree, ml-knn) and the Python trees (cKDTree, scikit-learn) on the same
 * points. Each row gives its build (fit) time, queries/s and µs per query; every row that gives
 * neighbour indices is checked against knnet's on the first queries, ties allowed, and a
 * disagreement is printed loudly and kept in the notes.
 */
import { loadavg } from 'node:os';
import { compareNeighbours, type Agreement } from './agreement.js';
import { runPythonPeers, type PythonRun } from './pythonPeers.js';
import { timeSearch, type SearchTimingOptions } from './timing.js';
import type { SearchImplementation } from './types.js';
import type { SearchData, SearchSpec } from './workloads.js';

export interface SearchMeasurement {
  workload: string;
  implementation: string;
  label: string;
  threads: number;
  n: number;
  d: number;
  /** Queries each timed call answered (a prefix of the workload's when all would exceed the budget). */
  queries: number;
  /** Best seconds per call. */
  seconds: number;
  queriesPerSecond: number;
  microsecondsPerQuery: number;
  buildSeconds: number;
  /** What ran, where it is not simply the row's name (an option left out, the algorithm picked). */
  ran: string;
  samples: number;
  callsPerSample: number;
  /** Against the reference answers (knnet's), on the first queries. */
  agreement?: Agreement;
  /** knnet rows: indices equal to the reference row's, position for position. */
  identicalIndices?: boolean;
  /** This row's queries/s over scipy cKDTree (workers=1)'s. */
  ratioToCKDTree?: number;
  /** knnet 'auto' (1 thread)'s queries/s over this row's. */
  knnetAutoOverThis?: number;
}

export interface SearchWorkloadResult {
  spec: SearchSpec;
  measurements: SearchMeasurement[];
  /** The row whose answers the others are checked against. */
  reference?: string;
  checkedQueries: number;
  /** Peak resident memory of this process so far, and of the Python run on this workload. */
  peakMegabytes: { node: number; python?: number };
  /**
   * The machine's 1-minute load average when the workload started and ended: above the core
   * count, other processes shared the cores with the rows.
   */
  loadAverage: { start: number; end: number };
  pythonVersions?: Record<string, string>;
}

export interface SearchRunOptions {
  timing: SearchTimingOptions;
  buildRepeats: number;
  /** Queries whose answers are compared. */
  checkQueries: number;
}

/** The Python interpreter and the peers it runs, when there is one. */
export interface PythonPlan {
  python: string;
  peers: readonly string[];
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The row whose answers are the reference: knnet 'brute', else the first knnet row, else the first with answers. */
function referenceRow(rows: readonly { name: string }[]): string | undefined {
  return rows.find((r) => r.name === 'knnet-brute')?.name ?? rows.find((r) => r.name.startsWith('knnet'))?.name ?? rows[0]?.name;
}

function logRow(m: SearchMeasurement): void {
  const prefix = m.queries < 10_000 ? ` (${m.queries} queries timed)` : '';
  console.log(`  ${m.label.padEnd(30)} ${m.queriesPerSecond.toFixed(0).padStart(10)} queries/s  ${m.microsecondsPerQuery.toFixed(2).padStart(9)} µs/query` +
    `  build ${m.buildSeconds.toFixed(3)} s${prefix}${m.ran ? `  [${m.ran}]` : ''}`);
}

export async function measureSearchWorkload(
  data: SearchData, implementations: readonly SearchImplementation[], python: PythonPlan | undefined, options: SearchRunOptions, notes: string[],
): Promise<SearchWorkloadResult> {
  const { spec } = data;
  const loadAtStart = loadavg()[0];
  const checkQueries = Math.min(options.checkQueries, spec.q);
  const measurements: SearchMeasurement[] = [];
  const answers: { name: string; indices: ArrayLike<number> }[] = [];
  const base = { workload: spec.name, n: spec.n, d: spec.d };

  for (const implementation of implementations) {
    const reason = implementation.unsupported?.(spec);
    if (reason) {
      console.log(`  ${implementation.label}: skipped (${reason})`);
      continue;
    }
    try {
      const index = await implementation.build(data, options.buildRepeats);
      try {
        if (index.neighbours) answers.push({ name: implementation.name, indices: await index.neighbours(checkQueries) });
        const timing = await timeSearch(index.search, spec.q, options.timing);
        const measurement: SearchMeasurement = {
          ...base, implementation: implementation.name, label: implementation.label, threads: implementation.threads,
          queries: timing.queries, seconds: timing.seconds, queriesPerSecond: timing.queries / timing.seconds,
          microsecondsPerQuery: (timing.seconds / timing.queries) * 1e6, buildSeconds: index.buildSeconds, ran: index.ran,
          samples: timing.samples, callsPerSample: timing.callsPerSample,
        };
        measurements.push(measurement);
        logRow(measurement);
      } finally {
        await index.dispose();
      }
    } catch (error) {
      notes.push(`${spec.name} ${implementation.name} failed: ${errorMessage(error)}`);
      console.log(`  ${implementation.label}: FAILED ${errorMessage(error)}`);
    }
  }

  let pythonRun: PythonRun | undefined;
  if (python && python.peers.length > 0) {
    try {
      pythonRun = await runPythonPeers(python.python, {
        train: data.train, queries: data.queries, n: spec.n, d: spec.d, q: spec.q, k: spec.k, peers: python.peers,
        timing: options.timing, buildRepeats: options.buildRepeats, checkQueries,
      });
      for (const peer of pythonRun.peers) {
        measurements.push({
          ...base, implementation: peer.name, label: peer.label, threads: peer.threads, queries: peer.queries, seconds: peer.seconds,
          queriesPerSecond: peer.queries / peer.seconds, microsecondsPerQuery: (peer.seconds / peer.queries) * 1e6,
          buildSeconds: peer.buildSeconds, ran: '', samples: peer.samples, callsPerSample: peer.callsPerSample,
        });
        answers.push({ name: peer.name, indices: peer.neighbours });
      }
    } catch (error) {
      notes.push(`${spec.name} Python peers failed: ${errorMessage(error)}`);
      console.log(`  Python peers: FAILED ${errorMessage(error)}`);
    }
  }

  const reference = referenceRow(answers);
  const truth = answers.find((a) => a.name === reference);
  const points = { train: data.train, queries: data.queries, n: spec.n, d: spec.d };
  for (const answer of answers) {
    const row = measurements.find((m) => m.implementation === answer.name);
    if (!row || !truth || answer === truth) continue;
    row.agreement = compareNeighbours(points, spec.k, truth.indices, answer.indices, checkQueries);
    if (answer.name.startsWith('knnet')) {
      row.identicalIndices = Array.from(answer.indices).every((index, position) => index === truth.indices[position]);
    }
    if (row.agreement.agreeing < row.agreement.checked) {
      const message = `${spec.name}: ${row.label} DISAGREES with ${reference} on ${row.agreement.checked - row.agreement.agreeing} of the first ` +
        `${row.agreement.checked} queries — ${row.agreement.firstDisagreement}`;
      console.log(`\n  !!! ${message}\n`);
      notes.push(message);
    }
  }

  const speed = (name: string) => measurements.find((m) => m.implementation === name)?.queriesPerSecond;
  const cKDTree = speed('ckdtree-1');
  const knnetAuto = speed('knnet-auto');
  for (const m of measurements) {
    if (cKDTree !== undefined) m.ratioToCKDTree = m.queriesPerSecond / cKDTree;
    if (knnetAuto !== undefined) m.knnetAutoOverThis = knnetAuto / m.queriesPerSecond;
  }
  return {
    spec,
    measurements,
    reference,
    checkedQueries: checkQueries,
    peakMegabytes: {
      node: process.resourceUsage().maxRSS / 1024,
      python: pythonRun ? pythonRun.maxRssKilobytes / 1024 : undefined,
    },
    pythonVersions: pythonRun ? { python: pythonRun.python, ...pythonRun.versions } : undefined,
    loadAverage: { start: loadAtStart, end: loadavg()[0] },
  };
}
