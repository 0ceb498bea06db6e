/**
 * The naive pure-JS baseline: what one writes without thinking about speed. For each query,
 * a loop over every training point computes Σ(x_j − X_ij)² by direct differences, keeps the
 * k smallest in a sorted array (insertion, ties to the lower index), and takes a majority
 * vote (ties to the lower class). Soft mode: all n distances, a stable softmax, class sums.
 * It reads the same flat Float64Arrays the other implementations get; on the cosine workload,
 * those rows L2-normalised beforehand (outside the timed call), where the squared distance
 * ranks as the cosine distance does.
 */
import { asUnitVectors, CLASS_COUNT, type WorkloadData } from '../workloads.js';
import type { Implementation, PreparedRun } from './types.js';

export interface NeighbourResult {
  indices: Int32Array; // q × k
  distances: Float64Array; // q × k squared distances, ascending
}

/** The k nearest training points of each query by direct differences (squared distances). */
export function naiveKNeighbours(
  train: Float64Array, n: number, d: number, queries: Float64Array, q: number, k: number,
): NeighbourResult {
  const indices = new Int32Array(q * k).fill(-1);
  const distances = new Float64Array(q * k).fill(Infinity);
  for (let query = 0; query < q; query++) {
    const base = query * k;
    const queryOffset = query * d;
    for (let i = 0; i < n; i++) {
      let distance = 0;
      const rowOffset = i * d;
      for (let j = 0; j < d; j++) {
        const difference = queries[queryOffset + j] - train[rowOffset + j];
        distance += difference * difference;
      }
      // Partial top-k: insert into the sorted buffer only if it beats the current k-th.
      // Strict < keeps the earlier (lower) index on ties.
      if (distance < distances[base + k - 1]) {
        let slot = k - 1;
        while (slot > 0 && distance < distances[base + slot - 1]) {
          distances[base + slot] = distances[base + slot - 1];
          indices[base + slot] = indices[base + slot - 1];
          slot--;
        }
        distances[base + slot] = distance;
        indices[base + slot] = i;
      }
    }
  }
  return { indices, distances };
}

/** Majority vote of the neighbours' labels; ties go to the lower class. */
export function majorityVote(indices: Int32Array, labels: Int32Array, q: number, k: number, classCount: number): Int32Array {
  const predictions = new Int32Array(q);
  const votes = new Int32Array(classCount);
  for (let query = 0; query < q; query++) {
    votes.fill(0);
    for (let slot = 0; slot < k; slot++) votes[labels[indices[query * k + slot]]]++;
    let best = 0;
    for (let c = 1; c < classCount; c++) if (votes[c] > votes[best]) best = c;
    predictions[query] = best;
  }
  return predictions;
}

/** k = 'all' with softmax weights exp(−λ·dist²), shifted by the minimum distance for stability. */
export function naiveSoftmaxPredict(
  train: Float64Array, labels: Int32Array, n: number, d: number,
  queries: Float64Array, q: number, lambda: number, classCount: number,
): Int32Array {
  const predictions = new Int32Array(q);
  const distances = new Float64Array(n);
  const scores = new Float64Array(classCount);
  for (let query = 0; query < q; query++) {
    let minimum = Infinity;
    for (let i = 0; i < n; i++) {
      let distance = 0;
      for (let j = 0; j < d; j++) {
        const difference = queries[query * d + j] - train[i * d + j];
        distance += difference * difference;
      }
      distances[i] = distance;
      if (distance < minimum) minimum = distance;
    }
    scores.fill(0);
    for (let i = 0; i < n; i++) scores[labels[i]] += Math.exp(-lambda * (distances[i] - minimum));
    let best = 0;
    for (let c = 1; c < classCount; c++) if (scores[c] > scores[best]) best = c;
    predictions[query] = best;
  }
  return predictions;
}

export const naiveImplementation: Implementation = {
  name: 'naive',
  label: 'naive JS loop',
  precision: 'f64',
  threads: 1,
  unsupported: (spec) => (spec.weights === 'distance' ? "the naive loop has no 'distance' weights" : undefined),
  async prepare(data: WorkloadData, queryCount: number): Promise<PreparedRun> {
    const { spec, train, labels, queries } = asUnitVectors(data);
    let lastPredictions: Int32Array = new Int32Array(0);
    let lastNeighbours: Int32Array | undefined;
    const runHard = () => {
      const k = spec.k as number;
      const result = naiveKNeighbours(train, spec.n, spec.d, queries, queryCount, k);
      lastNeighbours = result.indices;
      lastPredictions = majorityVote(result.indices, labels, queryCount, k, CLASS_COUNT);
    };
    const runSoft = () => {
      lastPredictions = naiveSoftmaxPredict(train, labels, spec.n, spec.d, queries, queryCount, spec.lambda, CLASS_COUNT);
    };
    const predict = spec.k === 'all' ? runSoft : runHard;
    return {
      queryCount,
      predict,
      async predictions() {
        if (lastPredictions.length !== queryCount) predict();
        return lastPredictions;
      },
      neighbours: spec.k === 'all' ? undefined : async () => {
        if (!lastNeighbours) runHard();
        return lastNeighbours!;
      },
      dispose() {},
    };
  },
};
