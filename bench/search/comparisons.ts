/**
 * The ratios the pruning targets are checked on, each measured with both sides interleaved in
 * one process (round-robin, medians), as the threads targets are: on a shared machine whose
 * speed drifts within seconds, rows timed one after the other put each side of a ratio in a
 * different stretch of load.
 *
 * - knnet 'auto' on 2 threads (kneighborsAsync) over 1 thread (kneighbors), on L4;
 * - knnet with the default algorithm over algorithm 'brute': predict on W2 and W3, kneighbors on U64;
 * - fit with the default algorithm (the partition) over fit with 'brute', on L4.
 */
import { KnnNetwork } from '../../src/index.js';
import { fitWithPending, type PendingOptions } from '../peers/knnetOptions.js';
import { quantile, timeRoundRobin, type RoundRobinOptions } from '../roundRobin.js';
import type { WorkloadData } from '../workloads.js';
import { queriesToTime, type SearchTimingOptions } from './timing.js';
import { queryMatrix, type SearchData } from './workloads.js';

export interface PairComparison {
  /** What is compared, as the targets name it (e.g. 'L4 2 threads ÷ 1 thread'). */
  name: string;
  workload: string;
  numerator: string;
  denominator: string;
  /** Median seconds per call of each side. */
  numeratorSeconds: number;
  denominatorSeconds: number;
  /** Throughput ratio (denominator's time over numerator's): above 1, the numerator is faster. */
  speedRatio: number;
  /** Queries per call (0 for fits). */
  queries: number;
  samples: number;
  /** What ran, for either side, where it is not what was asked. */
  ran: string;
}

/** Round-robin rounds for these comparisons: as the threads comparison's (a 100 ms pause lets a pool go idle). */
export const FULL_PAIR_ROUNDS: RoundRobinOptions = { minRounds: 9, maxRounds: 15, maxSeconds: 20, sampleSeconds: 0.05, settleSeconds: 0.1 };
export const QUICK_PAIR_ROUNDS: RoundRobinOptions = { minRounds: 5, maxRounds: 9, maxSeconds: 3, sampleSeconds: 0.05, settleSeconds: 0.1 };

/** A call of the slower side lasts about this long at most: a brute-force row answers a prefix of the queries. */
const CALL_BUDGET: SearchTimingOptions = { budgetSeconds: 0.25, samples: 1, minSampleSeconds: 0, probeQueries: 100, minimumQueries: 100 };

async function roundRobinPair(
  name: string, workload: string, sides: [string, () => unknown][], queries: number, rounds: RoundRobinOptions, ran: string,
): Promise<PairComparison> {
  const [top, bottom] = await timeRoundRobin(sides.map(([label, call]) => ({ name: label, call: call as () => void | Promise<void> })), rounds);
  const result: PairComparison = {
    name, workload, numerator: top.name, denominator: bottom.name, numeratorSeconds: top.seconds, denominatorSeconds: bottom.seconds,
    speedRatio: bottom.seconds / top.seconds, queries, samples: top.samples, ran,
  };
  console.log(`  ${name}: ${result.speedRatio.toFixed(2)}× (${top.name} ${(top.seconds * 1e3).toFixed(2)} ms, ${bottom.name} ${(bottom.seconds * 1e3).toFixed(2)} ms` +
    ` per call of ${queries} queries, median of ${top.samples})${ran ? `  [${ran}]` : ''}`);
  return result;
}

/** knnet 'auto' on two threads (kneighborsAsync) against one (kneighbors), on the same queries. */
export async function compareSearchThreads(data: SearchData, rounds: RoundRobinOptions): Promise<PairComparison> {
  const { spec } = data;
  const matrix = { data: data.train, rows: spec.n, cols: spec.d };
  const one = await fitWithPending(matrix, data.labels, { k: spec.k }, { algorithm: 'auto' });
  const two = await fitWithPending(matrix, data.labels, { k: spec.k, threads: 2 }, { algorithm: 'auto' });
  try {
    const queries = await queriesToTime((count) => void one.network.kneighbors(queryMatrix(data, count), spec.k), spec.q, CALL_BUDGET);
    const input = queryMatrix(data, queries);
    return await roundRobinPair(`${spec.name}: 2 threads ÷ 1 thread`, spec.name, [
      ['knnet auto, 2 threads (kneighborsAsync)', () => two.network.kneighborsAsync(input, spec.k)],
      ['knnet auto, 1 thread (kneighbors)', () => void one.network.kneighbors(input, spec.k)],
    ], queries, rounds, one.ran || two.ran); // both sides ask for the same algorithm
  } finally {
    one.network.dispose();
    two.network.dispose();
  }
}

/** knnet with the default algorithm against algorithm 'brute': kneighbors on a search workload. */
export async function compareSearchAlgorithms(data: SearchData, rounds: RoundRobinOptions): Promise<PairComparison> {
  const { spec } = data;
  const matrix = { data: data.train, rows: spec.n, cols: spec.d };
  const standard = await KnnNetwork.fit(matrix, data.labels, { k: spec.k });
  const brute = await fitWithPending(matrix, data.labels, { k: spec.k }, { algorithm: 'brute' });
  try {
    const queries = await queriesToTime((count) => void brute.network.kneighbors(queryMatrix(data, count), spec.k), spec.q, CALL_BUDGET);
    const input = queryMatrix(data, queries);
    return await roundRobinPair(`${spec.name}: default ÷ 'brute'`, spec.name, [
      ['knnet default algorithm', () => void standard.kneighbors(input, spec.k)],
      ["knnet algorithm 'brute'", () => void brute.network.kneighbors(input, spec.k)],
    ], queries, rounds, brute.ran && `'brute': ${brute.ran}`);
  } finally {
    standard.dispose();
    brute.network.dispose();
  }
}

/** knnet with the default algorithm against algorithm 'brute': predict over a classification workload's queries. */
export async function compareClassificationAlgorithms(data: WorkloadData, rounds: RoundRobinOptions): Promise<PairComparison> {
  const { spec } = data;
  const matrix = { data: data.train, rows: spec.n, cols: spec.d };
  const options = { k: spec.k, weights: spec.weights, lambda: spec.lambda };
  const standard = await KnnNetwork.fit(matrix, data.labels, options);
  const brute = await fitWithPending(matrix, data.labels, options, { algorithm: 'brute' });
  const input = { data: data.queries, rows: spec.q, cols: spec.d };
  try {
    return await roundRobinPair(`${spec.name}: default ÷ 'brute'`, spec.name, [
      ['knnet default algorithm', () => void standard.predict(input)],
      ["knnet algorithm 'brute'", () => void brute.network.predict(input)],
    ], spec.q, rounds, brute.ran && `'brute': ${brute.ran}`);
  } finally {
    standard.dispose();
    brute.network.dispose();
  }
}

/**
 * Fit with the default algorithm against fit with 'brute' on the same points: `repeats` fits
 * of each, alternating (the first side alternating too), after one warm-up fit of each;
 * median of each side.
 */
export async function compareFits(data: SearchData, repeats: number): Promise<PairComparison> {
  const { spec } = data;
  const matrix = { data: data.train, rows: spec.n, cols: spec.d };
  const sides: [string, PendingOptions][] = [['knnet fit, default algorithm', {}], ["knnet fit, algorithm 'brute'", { algorithm: 'brute' }]];
  const times: number[][] = [[], []];
  let ran = '';
  for (let repeat = -1; repeat < repeats; repeat++) {
    for (let turn = 0; turn < 2; turn++) {
      const side = (turn + Math.max(repeat, 0)) % 2;
      const start = performance.now();
      const fitted = await fitWithPending(matrix, data.labels, { k: spec.k }, sides[side][1]);
      const seconds = (performance.now() - start) / 1e3;
      fitted.network.dispose();
      if (side === 1 && fitted.ran) ran = `'brute': ${fitted.ran}`;
      if (repeat >= 0) times[side].push(seconds);
    }
  }
  const [top, bottom] = times.map((values) => quantile([...values].sort((a, b) => a - b), 0.5));
  const result: PairComparison = {
    name: `${spec.name}: fit default ÷ fit 'brute'`, workload: spec.name, numerator: sides[0][0], denominator: sides[1][0],
    numeratorSeconds: top, denominatorSeconds: bottom, speedRatio: bottom / top, queries: 0, samples: repeats, ran,
  };
  console.log(`  ${result.name}: ${(top / bottom).toFixed(2)}× the time (${(top * 1e3).toFixed(0)} ms against ${(bottom * 1e3).toFixed(0)} ms, median of ${repeats})` +
    `${ran ? `  [${ran}]` : ''}`);
  return result;
}
