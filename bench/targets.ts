/**
 * The performance targets, checked against one run's measurements, and the informational
 * ratios beside them. They are printed as PASS / MISS next to the figures; nothing here fails
 * a test.
 */
import type { MeasuredRun } from './peers/types.js';
import type { ExactnessResult } from './report.js';
import type { ThreadsRatios } from './threadsComparison.js';
import { ADD_WORKLOAD } from './workloads.js';

export interface Measurement extends MeasuredRun {
  seconds: number;
  relativeMarginOfError: number;
  samples: number;
  queriesPerSecond: number;
  gflops: number;
  /** queries/s relative to the naive loop's queries/s on the same workload. */
  ratioToNaive?: number;
  ratioToReference?: number;
  /** GFLOP/s as a fraction of the wasm ceiling of the same precision. */
  fractionOfCeiling?: number;
  /** W4 only: time / time to stream the weights (n·d·8 bytes) once. */
  ratioToStreamingWeights?: number;
}

export interface FitMeasurement {
  workload: string;
  bytes: number;
  seconds: number;
  megabytesPerSecond: number;
}

/**
 * Single-point `add` calls against one `fit` of the same points. The adds stop at a time cap;
 * when they stop early, `extrapolatedSeconds` estimates all of them, and is never a measurement.
 */
export interface AddMeasurement {
  d: number;
  k: number;
  /** Points of the network's first fit, before any add. */
  seedPoints: number;
  /** Single-point adds the target speaks of, and points of the compared fit. */
  adds: number;
  /** Median seconds of one fit of those `adds` points. */
  fitSeconds: number;
  fitRepeats: number;
  /** Adds actually run and their total seconds (all `adds`, or fewer when the cap stopped them). */
  measuredAdds: number;
  measuredSeconds: number;
  capSeconds: number;
  /** measuredSeconds / fitSeconds: the target's ratio when all adds ran, else a lower bound on it. */
  measuredRatioToFit: number;
  /** Only when the cap stopped the adds: their per-add time fitted linearly in the network's size, summed over all `adds`. */
  extrapolatedSeconds?: number;
}

/** The target: `adds` single adds take at most this many times one fit of the same points. */
export const ADD_TARGET_RATIO = 3;

/** One row of the cosine comparison: an implementation's speed, knnet's ratio to it, its exactness. */
export interface CosineRow {
  implementation: string;
  label: string;
  precision: 'f64' | 'f32';
  queriesPerSecond: number;
  /** knnet's queries/s over this implementation's, same run. */
  knnetRatio?: number;
  /** Share of the true cosine neighbours (reference, first queries) it returns. */
  neighboursKept?: number;
}

export interface TargetResult {
  target: string;
  measured: string;
  /** undefined: not measured in this run (filtered out, peer missing, probe missing). */
  pass: boolean | undefined;
}

const format = (value: number, digits = 2) => value.toFixed(digits);

export function checkTargets(
  measurements: readonly Measurement[], fit: FitMeasurement | undefined, add?: AddMeasurement, threads?: readonly ThreadsRatios[],
): TargetResult[] {
  const find = (workload: string, implementation: string) =>
    measurements.find((m) => m.workload === workload && m.implementation === implementation);
  const dense = (workload: string) => find(workload, 'knnet-brute') ?? find(workload, 'knnet');
  const results: TargetResult[] = [];
  const atLeast = (target: string, value: number | undefined, bound: number, unit: string) =>
    results.push({
      target,
      measured: value === undefined ? 'not measured' : `${format(value)}${unit}`,
      pass: value === undefined ? undefined : value >= bound,
    });

  for (const workload of ['W2', 'W3']) {
    const knnet = find(workload, 'knnet');
    const tensorflow = find(workload, 'tfjs');
    atLeast(`${workload}: ≥ 12× the naive loop`, knnet?.ratioToNaive, 12, '×');
    atLeast(`${workload}: ≥ 6× TF.js-wasm`,
      knnet && tensorflow ? knnet.queriesPerSecond / tensorflow.queriesPerSecond : undefined, 6, '×');
    // The kernel's own targets read the brute-force row where the default ran the pruned search,
    // whose GFLOP/s (counted as brute force's work) would say nothing of the GEMM.
    const brute = dense(workload);
    atLeast(`${workload}: ≥ 80 % of the f64x2 ceiling (brute force)`,
      brute?.fractionOfCeiling === undefined ? undefined : 100 * brute.fractionOfCeiling, 80, ' %');
  }
  // The softmax over every point is always dense: it is set against W2's dense hard search.
  const soft = find('soft', 'knnet');
  const w2 = dense('W2');
  atLeast('soft: ≥ 0.5× W2 hard throughput (brute force)', soft && w2 ? soft.queriesPerSecond / w2.queriesPerSecond : undefined, 0.5, '×');

  const w4 = find('W4', 'knnet')?.ratioToStreamingWeights;
  results.push({
    target: 'W4: within 1.5× of streaming the weights once',
    measured: w4 === undefined ? 'not measured' : `${format(w4)}× the streaming time`,
    pass: w4 === undefined ? undefined : w4 <= 1.5,
  });
  atLeast('iris-size: ≥ 3× the naive loop per query', find('iris', 'knnet')?.ratioToNaive, 3, '×');
  atLeast('fit: packing the weights ≥ 200 MB/s', fit?.megabytesPerSecond, 200, ' MB/s');
  results.push(addTarget(add));
  results.push(...threadsTargets(threads ?? []));
  return results;
}

/** 2-thread throughput over 1-thread throughput, for W2, W3 and soft. */
export const THREADS_SCALING_TARGET = 1.8;
/** knnet with 2 threads over onnxruntime-node f64 with 2, for W2, W3 and soft. */
export const THREADS_ONNX_TARGET = 1.2;
/** W4 (one query): 2-thread latency over 1-thread latency, at most. */
export const THREADS_LATENCY_TARGET = 0.65;
/** iris-size: predictAsync's time over the sync predict's, at most. */
export const ASYNC_OVERHEAD_TARGET = 2;

/**
 * The threads targets, from the round-robin comparison (each ratio's two sides sampled in turn
 * in the same run). A latency ratio is the inverse of the throughput ratio: both sides answer
 * the same queries.
 */
export function threadsTargets(ratios: readonly ThreadsRatios[]): TargetResult[] {
  const of = (workload: string) => ratios.find((r) => r.workload === workload);
  const inverse = (value: number | undefined) => (value === undefined ? undefined : 1 / value);
  const results: TargetResult[] = [];
  const check = (target: string, value: number | undefined, passes: (value: number) => boolean, unit: string) =>
    results.push({
      target,
      measured: value === undefined ? 'not measured' : `${format(value)}${unit}`,
      pass: value === undefined ? undefined : passes(value),
    });
  for (const workload of ['W2', 'W3', 'soft']) {
    check(`${workload}, 2 threads: ≥ ${THREADS_SCALING_TARGET}× knnet's 1-thread throughput (round-robin)`,
      of(workload)?.knnetTwoOverOne, (value) => value >= THREADS_SCALING_TARGET, '×');
    check(`${workload}, 2 threads: ≥ ${THREADS_ONNX_TARGET}× onnxruntime-node f64 with 2 threads (round-robin)`,
      of(workload)?.knnetOverOnnxTwo, (value) => value >= THREADS_ONNX_TARGET, '×');
  }
  check(`W4, 2 threads: latency ≤ ${THREADS_LATENCY_TARGET}× the 1-thread latency (round-robin)`,
    inverse(of('W4')?.knnetTwoOverOne), (value) => value <= THREADS_LATENCY_TARGET, '× the 1-thread latency');
  check(`iris-size: predictAsync (2 threads) ≤ ${ASYNC_OVERHEAD_TARGET}× the sync predict's time (round-robin)`,
    inverse(of('iris')?.knnetTwoOverOne), (value) => value <= ASYNC_OVERHEAD_TARGET, '× the sync time');
  return results;
}

function addTarget(add: AddMeasurement | undefined): TargetResult {
  const { adds, d } = add ?? ADD_WORKLOAD;
  const target = `add: ${adds.toLocaleString('en-US')} single adds (d = ${d}) ≤ ${ADD_TARGET_RATIO}× one fit of the same points`;
  if (!add) return { target, measured: 'not measured', pass: undefined };
  const measured = add.measuredRatioToFit;
  if (add.measuredAdds === add.adds) {
    return { target, measured: `${format(measured)}× one fit`, pass: measured <= ADD_TARGET_RATIO };
  }
  // Stopped early: the adds run so far already bound the whole from below.
  const count = (value: number) => value.toLocaleString('en-US');
  const extrapolated = add.extrapolatedSeconds === undefined ? '' : `; all ${count(add.adds)} extrapolated ≈ ${count(Math.round(add.extrapolatedSeconds / add.fitSeconds))}×`;
  return {
    target,
    measured: `first ${count(add.measuredAdds)} adds alone took ${format(measured)}× (measured)${extrapolated}`,
    pass: measured > ADD_TARGET_RATIO ? false : undefined,
  };
}

/** The cosine workload's rows: knnet's throughput ratio to each implementation, and its exactness. */
export function cosineComparison(measurements: readonly Measurement[], exactness: readonly ExactnessResult[]): CosineRow[] {
  const rows = measurements.filter((m) => m.workload === 'cosine');
  const knnet = rows.find((m) => m.implementation === 'knnet');
  return rows.map((m) => ({
    implementation: m.implementation,
    label: m.label,
    precision: m.precision,
    queriesPerSecond: m.queriesPerSecond,
    knnetRatio: knnet ? knnet.queriesPerSecond / m.queriesPerSecond : undefined,
    neighboursKept: exactness.find((e) => e.workload === 'cosine' && e.implementation === m.implementation)?.fraction,
  }));
}

/** knnet's throughput relative to onnxruntime-node f64 (informational: how far from native). */
export function ratioToOnnx(measurements: readonly Measurement[], workload: string): number | undefined {
  const knnet = measurements.find((m) => m.workload === workload && m.implementation === 'knnet');
  const onnx = measurements.find((m) => m.workload === workload && m.implementation === 'onnx-f64');
  return knnet && onnx ? knnet.queriesPerSecond / onnx.queriesPerSecond : undefined;
}
