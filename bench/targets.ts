/**
 * The performance targets of issue 3, checked against one run's measurements. They are
 * printed as PASS / MISS next to the figures; nothing here fails a test.
 */
export interface Measurement {
  workload: string;
  implementation: string;
  label: string;
  precision: 'f64' | 'f32';
  /** Queries actually timed (a prefix for slow peers). */
  queries: number;
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

export interface TargetResult {
  target: string;
  measured: string;
  /** undefined: not measured in this run (filtered out, peer missing, probe missing). */
  pass: boolean | undefined;
}

const format = (value: number, digits = 2) => value.toFixed(digits);

export function checkTargets(measurements: readonly Measurement[], fit: FitMeasurement | undefined): TargetResult[] {
  const find = (workload: string, implementation: string) =>
    measurements.find((m) => m.workload === workload && m.implementation === implementation);
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
    atLeast(`${workload}: ≥ 80 % of the f64x2 ceiling`,
      knnet?.fractionOfCeiling === undefined ? undefined : 100 * knnet.fractionOfCeiling, 80, ' %');
  }
  const soft = find('soft', 'knnet');
  const w2 = find('W2', 'knnet');
  atLeast('soft: ≥ 0.5× W2 hard throughput', soft && w2 ? soft.queriesPerSecond / w2.queriesPerSecond : undefined, 0.5, '×');

  const w4 = find('W4', 'knnet')?.ratioToStreamingWeights;
  results.push({
    target: 'W4: within 1.5× of streaming the weights once',
    measured: w4 === undefined ? 'not measured' : `${format(w4)}× the streaming time`,
    pass: w4 === undefined ? undefined : w4 <= 1.5,
  });
  atLeast('iris-size: ≥ 3× the naive loop per query', find('iris', 'knnet')?.ratioToNaive, 3, '×');
  atLeast('fit: packing the weights ≥ 200 MB/s', fit?.megabytesPerSecond, 200, ' MB/s');
  return results;
}

/** knnet's throughput relative to onnxruntime-node f64 (informational: how far from native). */
export function ratioToOnnx(measurements: readonly Measurement[], workload: string): number | undefined {
  const knnet = measurements.find((m) => m.workload === workload && m.implementation === 'knnet');
  const onnx = measurements.find((m) => m.workload === workload && m.implementation === 'onnx-f64');
  return knnet && onnx ? knnet.queriesPerSecond / onnx.queriesPerSecond : undefined;
}
