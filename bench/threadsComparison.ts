/**
 * The threads comparison: knnet on 1 thread (sync predict) and on 2 (predictAsync), and
 * onnxruntime-node float64 on 1 and 2 intra-op threads, timed round-robin on each workload.
 *
 * The threads targets are ratios between these calls. On a shared machine whose speed drifts
 * within seconds, benchmark.js timing one implementation to the end before the next puts each
 * side of a ratio in a different stretch of load; round-robin samples put both sides in the
 * same stretches.
 */
import type { Implementation } from './peers/types.js';
import { describeRounds, measureRoundRobin, type RoundRobinMeasurement, type RoundRobinOptions } from './roundRobin.js';
import type { WorkloadSpec } from './workloads.js';

/** The workloads the comparison runs (iris-size for the async call's overhead on a small call). */
export const THREADS_WORKLOADS = ['iris', 'W2', 'W3', 'W4', 'soft'] as const;

/** Its implementations, by command-line name: the 1-thread row and the 2-thread row of each. */
export const THREADS_IMPLEMENTATIONS = ['knnet', 'knnet-2t', 'onnx-f64', 'onnx2t-f64'] as const;

/**
 * Rounds of one sample each: a sample repeats the call until it lasts about 50 ms, after a
 * 100 ms pause in which onnxruntime's spinning pool goes idle. 9 rounds, then more while the
 * workload's rounds have lasted under 20 s, 15 at most (--quick: 5, under 3 s, 9).
 */
export const FULL_THREADS_ROUNDS: RoundRobinOptions = { minRounds: 9, maxRounds: 15, maxSeconds: 20, sampleSeconds: 0.05, settleSeconds: 0.1 };
export const QUICK_THREADS_ROUNDS: RoundRobinOptions = { minRounds: 5, maxRounds: 9, maxSeconds: 3, sampleSeconds: 0.05, settleSeconds: 0.1 };

/** Throughput ratios (queries/s over queries/s) on one workload; undefined where a side did not run. */
export interface ThreadsRatios {
  workload: string;
  /** knnet with 2 threads over knnet with 1: the pool's scaling (for q = 1, 1-thread latency over 2-thread latency). */
  knnetTwoOverOne?: number;
  /** knnet with 2 threads over onnxruntime-node f64 with 2. */
  knnetOverOnnxTwo?: number;
  /** knnet with 1 thread over onnxruntime-node f64 with 1. */
  knnetOverOnnxOne?: number;
  /** onnxruntime-node f64 with 2 threads over it with 1. */
  onnxTwoOverOne?: number;
}

export interface ThreadsComparison {
  rounds: RoundRobinOptions;
  measurements: RoundRobinMeasurement[];
  ratios: ThreadsRatios[];
}

export function threadsRatios(measurements: readonly RoundRobinMeasurement[]): ThreadsRatios[] {
  const workloads = [...new Set(measurements.map((m) => m.workload))];
  return workloads.map((workload) => {
    const speed = (implementation: string) =>
      measurements.find((m) => m.workload === workload && m.implementation === implementation)?.queriesPerSecond;
    const over = (numerator: string, denominator: string) => {
      const top = speed(numerator);
      const bottom = speed(denominator);
      return top !== undefined && bottom !== undefined ? top / bottom : undefined;
    };
    return {
      workload,
      knnetTwoOverOne: over('knnet-2t', 'knnet'),
      knnetOverOnnxTwo: over('knnet-2t', 'onnx2t-f64'),
      knnetOverOnnxOne: over('knnet', 'onnx-f64'),
      onnxTwoOverOne: over('onnx2t-f64', 'onnx-f64'),
    };
  });
}

/**
 * Runs the comparison on `workloads` with those of `implementations` it compares; undefined
 * when fewer than two of them are there (a filtered run), as one alone has nothing to compare.
 */
export async function compareThreads(
  workloads: readonly WorkloadSpec[], implementations: readonly Implementation[], rounds: RoundRobinOptions, notes: string[],
): Promise<ThreadsComparison | undefined> {
  const contestants = implementations.filter((i) => (THREADS_IMPLEMENTATIONS as readonly string[]).includes(i.name));
  const specs = workloads.filter((w) => (THREADS_WORKLOADS as readonly string[]).includes(w.name));
  if (contestants.length < 2 || specs.length === 0) return undefined;
  const measurements: RoundRobinMeasurement[] = [];
  for (const spec of specs) {
    console.log(`\nthreads, round-robin: ${spec.name} (${describeRounds(rounds)} of one ~${rounds.sampleSeconds * 1e3} ms sample each)`);
    measurements.push(...(await measureRoundRobin(spec, contestants, rounds, notes)));
  }
  return { rounds, measurements, ratios: threadsRatios(measurements) };
}
