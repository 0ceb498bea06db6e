/**
 * Small calls: one query per call, as a web request makes them, on a 105 × 4 network
 * (iris-size) and on a 1 000 × 16 network, k = 5. knnet's `predict` on a one-row matrix against
 * the naive JS loop on the same query (its k nearest by direct differences and a majority vote),
 * both warmed up and timed round-robin; each call takes the next query, cycling.
 */
import { KnnNetwork } from '../src/index.js';
import { majorityVote, naiveKNeighbours } from './peers/naive.js';
import { timeRoundRobin, type RoundRobinOptions } from './roundRobin.js';
import { CLASS_COUNT, loadWorkload, WORKLOADS, type WorkloadSpec } from './workloads.js';

export interface SmallCallWorkload {
  name: string;
  spec: WorkloadSpec;
  /** knnet must take at most 1/target of the naive loop's time per call. */
  target: number;
}

export const SMALL_CALL_WORKLOADS: readonly SmallCallWorkload[] = [
  { name: '105 × 4', spec: WORKLOADS.find((w) => w.name === 'iris')!, target: 3 },
  {
    name: '1 000 × 16',
    spec: { name: 'small16', description: 'one query per call', n: 1_000, d: 16, q: 100, k: 5, weights: 'uniform', lambda: 1, offset: 0, seed: 6 },
    target: 6,
  },
];

export const FULL_SMALL_CALL_ROUNDS: RoundRobinOptions = { minRounds: 9, maxRounds: 15, maxSeconds: 10, sampleSeconds: 0.05 };
export const QUICK_SMALL_CALL_ROUNDS: RoundRobinOptions = { minRounds: 5, maxRounds: 9, maxSeconds: 3, sampleSeconds: 0.05 };

export interface SmallCallResult {
  workload: string;
  n: number;
  d: number;
  k: number;
  /** Median seconds per call. */
  knnetSeconds: number;
  naiveSeconds: number;
  /** naive time ÷ knnet time. */
  ratio: number;
  target: number;
  samples: number;
}

export async function measureSmallCalls(rounds: RoundRobinOptions): Promise<SmallCallResult[]> {
  const results: SmallCallResult[] = [];
  for (const { name, spec, target } of SMALL_CALL_WORKLOADS) {
    const { train, labels, queries } = loadWorkload(spec);
    const k = spec.k as number;
    const network = await KnnNetwork.fit({ data: train, rows: spec.n, cols: spec.d }, labels, { k });
    const rows = Array.from({ length: spec.q }, (_, i) => queries.subarray(i * spec.d, (i + 1) * spec.d));
    const inputs = rows.map((row) => ({ data: row, rows: 1, cols: spec.d }));
    let knnetNext = 0;
    let naiveNext = 0;
    try {
      const [knnet, naive] = await timeRoundRobin([
        { name: 'knnet', call: () => void network.predict(inputs[knnetNext++ % spec.q]) },
        {
          name: 'naive',
          call: () => void majorityVote(naiveKNeighbours(train, spec.n, spec.d, rows[naiveNext++ % spec.q], 1, k).indices, labels, 1, k, CLASS_COUNT),
        },
      ], rounds);
      const result: SmallCallResult = {
        workload: name, n: spec.n, d: spec.d, k, knnetSeconds: knnet.seconds, naiveSeconds: naive.seconds,
        ratio: naive.seconds / knnet.seconds, target, samples: knnet.samples,
      };
      console.log(`  ${name}: knnet ${(knnet.seconds * 1e6).toFixed(2)} µs, naive ${(naive.seconds * 1e6).toFixed(2)} µs per call: ${result.ratio.toFixed(2)}×`);
      results.push(result);
    } finally {
      network.dispose();
    }
  }
  return results;
}
