/**
 * The browser run's report: throughput per implementation, knnet's ratios to each peer on each
 * workload, knnet's two-thread ratios, exactness, and the Chromium targets; as a console table
 * and as markdown.
 */
import { describeProcessor } from '../machine.js';
import type { ExactnessResult } from '../report.js';
import { markdownTable, number, percent, textTable } from '../tables.js';
import type { TargetResult } from '../targets.js';
import type { BrowserMeasurement, BrowserSearchMeasurement, PageReport } from './protocol.js';

export interface BrowserRunReport {
  date: string;
  machine: {
    cpu: string;
    /** Whether the CPU has AVX-512 (undefined where /proc/cpuinfo cannot be read). */
    avx512?: boolean;
    cores: number;
    node: string;
    /**
     * The 1-minute load average when the run started and when it ended: above the core count,
     * other processes shared the cores, which bounds what two threads can gain.
     */
    loadAverage?: { start: number; end: number };
  };
  /** "HeadlessChrome/…". */
  browser: string;
  knnetBuild: string;
  crossOriginIsolated: boolean;
  quick: boolean;
  filtered: boolean;
  measurements: BrowserMeasurement[];
  /** The search workloads (fewer points than in Node). */
  searchMeasurements: BrowserSearchMeasurement[];
  ratios: WorkloadRatios[];
  threadRatios: ThreadRatios[];
  exactness: ExactnessResult[];
  targets: TargetResult[];
  notes: string[];
}

/** knnet's queries/s over each peer's on one workload (undefined: the peer did not run). */
export interface WorkloadRatios {
  workload: string;
  toOnnxWebF32?: number;
  toOnnxWebF64?: number;
  toTensorFlow?: number;
  toNaive?: number;
}

/**
 * knnet on two threads (predictAsync on its worker pool) against itself on one and against
 * onnxruntime-web on two, on one workload (undefined: a row did not run).
 */
export interface ThreadRatios {
  workload: string;
  /** knnet 2t's queries/s over knnet's (one thread, sync predict). */
  knnetTwoOverOne?: number;
  /** knnet 2t's seconds per call over knnet's: the latency ratio (the inverse of the above). */
  knnetLatencyTwoOverOne?: number;
  toOnnxWeb2tF64?: number;
  toOnnxWeb2tF32?: number;
  /** onnxruntime-web f64's own two-thread speed-up, for comparison with knnet's. */
  onnxWebF64TwoOverOne?: number;
}

export function threadRatiosOf(measurements: readonly BrowserMeasurement[]): ThreadRatios[] {
  const workloads = [...new Set(measurements.map((m) => m.workload))];
  const rows = workloads.map((workload) => {
    const row = (implementation: string) => measurements.find((m) => m.workload === workload && m.implementation === implementation);
    const speedRatio = (numerator: string, denominator: string) => {
      const [top, bottom] = [row(numerator), row(denominator)];
      return top && bottom ? top.queriesPerSecond / bottom.queriesPerSecond : undefined;
    };
    const one = row('knnet');
    const two = row('knnet-2t');
    return {
      workload,
      knnetTwoOverOne: speedRatio('knnet-2t', 'knnet'),
      knnetLatencyTwoOverOne: one && two ? two.seconds / one.seconds : undefined,
      toOnnxWeb2tF64: speedRatio('knnet-2t', 'onnx-web-2t-f64'),
      toOnnxWeb2tF32: speedRatio('knnet-2t', 'onnx-web-2t-f32'),
      onnxWebF64TwoOverOne: speedRatio('onnx-web-2t-f64', 'onnx-web-f64'),
    };
  });
  return rows.filter((r) => r.knnetTwoOverOne !== undefined || r.toOnnxWeb2tF64 !== undefined || r.toOnnxWeb2tF32 !== undefined);
}

export function ratiosOf(measurements: readonly BrowserMeasurement[]): WorkloadRatios[] {
  const workloads = [...new Set(measurements.map((m) => m.workload))];
  return workloads.map((workload) => {
    const speed = (implementation: string) =>
      measurements.find((m) => m.workload === workload && m.implementation === implementation)?.queriesPerSecond;
    const knnet = speed('knnet');
    const over = (peer: string) => {
      const peerSpeed = speed(peer);
      return knnet !== undefined && peerSpeed !== undefined ? knnet / peerSpeed : undefined;
    };
    return { workload, toOnnxWebF32: over('onnx-web-f32'), toOnnxWebF64: over('onnx-web-f64'), toTensorFlow: over('tfjs'), toNaive: over('naive') };
  });
}

/** The Chromium targets: W2 and W3 ≥ 1.3× onnxruntime-web f32 and ≥ 2.5× its f64, exact answers. */
export function checkBrowserTargets(ratios: readonly WorkloadRatios[], exactness: readonly ExactnessResult[]): TargetResult[] {
  const results: TargetResult[] = [];
  const atLeast = (target: string, value: number | undefined, bound: number) =>
    results.push({ target, measured: value === undefined ? 'not measured' : `${value.toFixed(2)}×`, pass: value === undefined ? undefined : value >= bound });
  for (const workload of ['W2', 'W3']) {
    const ratio = ratios.find((r) => r.workload === workload);
    atLeast(`${workload}: ≥ 1.3× onnxruntime-web f32`, ratio?.toOnnxWebF32, 1.3);
    atLeast(`${workload}: ≥ 2.5× onnxruntime-web f64`, ratio?.toOnnxWebF64, 2.5);
  }
  for (const workload of ['W2', 'W2+1000']) {
    const fraction = exactness.find((e) => e.implementation === 'knnet' && e.workload === workload)?.fraction;
    results.push({
      target: `${workload}: knnet returns 100 % of the true neighbours`,
      measured: fraction === undefined ? 'not measured' : percent(fraction),
      pass: fraction === undefined ? undefined : fraction === 1,
    });
  }
  return results;
}

/**
 * The two-thread targets: W2, W3 and soft ≥ 1.8× knnet's one-thread throughput and ≥ 1.2×
 * onnxruntime-web f64 on two threads; W4's latency ≤ 0.65× one thread's; iris-size's
 * predictAsync no slower than 2× the sync call; and the pool keeping every true neighbour.
 */
export function checkThreadTargets(ratios: readonly ThreadRatios[], exactness: readonly ExactnessResult[]): TargetResult[] {
  const results: TargetResult[] = [];
  const check = (target: string, value: number | undefined, passes: (value: number) => boolean) =>
    results.push({ target, measured: value === undefined ? 'not measured' : `${value.toFixed(2)}×`, pass: value === undefined ? undefined : passes(value) });
  const of = (workload: string) => ratios.find((r) => r.workload === workload);
  for (const workload of ['W2', 'W3', 'soft']) {
    check(`${workload}: knnet 2 threads ≥ 1.8× knnet 1 thread`, of(workload)?.knnetTwoOverOne, (value) => value >= 1.8);
    check(`${workload}: knnet 2 threads ≥ 1.2× onnxruntime-web f64 2 threads`, of(workload)?.toOnnxWeb2tF64, (value) => value >= 1.2);
  }
  check('W4: knnet 2 threads latency ≤ 0.65× 1 thread', of('W4')?.knnetLatencyTwoOverOne, (value) => value <= 0.65);
  check('iris: knnet predictAsync (2 threads) time ≤ 2× the sync call', of('iris')?.knnetLatencyTwoOverOne, (value) => value <= 2);
  for (const workload of ['W2', 'W2+1000']) {
    const fraction = exactness.find((e) => e.implementation === 'knnet-2t' && e.workload === workload)?.fraction;
    results.push({
      target: `${workload}: knnet 2 threads returns 100 % of the true neighbours`,
      measured: fraction === undefined ? 'not measured' : percent(fraction),
      pass: fraction === undefined ? undefined : fraction === 1,
    });
  }
  return results;
}

export function browserReport(
  page: PageReport, browser: string, options: { quick: boolean; filtered: boolean; machine: BrowserRunReport['machine'] },
): BrowserRunReport {
  const ratios = ratiosOf(page.measurements);
  const threadRatios = threadRatiosOf(page.measurements);
  return {
    date: new Date().toISOString(),
    machine: options.machine,
    browser,
    knnetBuild: page.knnetBuild,
    crossOriginIsolated: page.crossOriginIsolated,
    quick: options.quick,
    filtered: options.filtered,
    measurements: page.measurements,
    searchMeasurements: page.searchMeasurements ?? [],
    ratios,
    threadRatios,
    exactness: page.exactness,
    targets: [...checkBrowserTargets(ratios, page.exactness), ...checkThreadTargets(threadRatios, page.exactness)],
    notes: page.notes,
  };
}

const MEASUREMENT_HEADER = ['workload', 'implementation', 'prec.', 'queries timed', 'queries/s', 'GFLOP/s', 'samples', 'spread'];
const measurementRow = (m: BrowserMeasurement) => [
  m.workload, m.label, m.precision, String(m.queries), number(m.queriesPerSecond), number(m.gflops), String(m.samples), percent(m.relativeSpread),
];

const RATIO_HEADER = ['workload', 'knnet / onnx-web f32', 'knnet / onnx-web f64', 'knnet / TF.js wasm', 'knnet / naive'];
const times = (ratio: number | undefined) => (ratio === undefined ? '–' : `${number(ratio)}×`);
const ratioRow = (r: WorkloadRatios) => [r.workload, times(r.toOnnxWebF32), times(r.toOnnxWebF64), times(r.toTensorFlow), times(r.toNaive)];

const THREAD_RATIO_HEADER = [
  'workload', 'knnet 2t / 1t (queries/s)', 'knnet 2t / 1t (latency)', 'knnet 2t / onnx-web 2t f64', 'knnet 2t / onnx-web 2t f32', 'onnx-web f64 2t / 1t',
];
const threadRatioRow = (r: ThreadRatios) => [
  r.workload, times(r.knnetTwoOverOne), times(r.knnetLatencyTwoOverOne), times(r.toOnnxWeb2tF64), times(r.toOnnxWeb2tF32), times(r.onnxWebF64TwoOverOne),
];

const EXACTNESS_HEADER = ['implementation', 'workload', 'true neighbours kept', 'compared by'];
const exactnessRow = (e: ExactnessResult) => [e.label, e.workload, percent(e.fraction), e.basis];
const TARGET_HEADER = ['target', 'measured', 'result'];
const targetRow = (t: TargetResult) => [t.target, t.measured, t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : 'MISS'];

const SEARCH_HEADER = ['workload', 'implementation', 'n × d', 'queries per call', 'queries/s', 'µs/query', 'build (s)', 'knnet auto ÷ this', "agrees with knnet 'brute'", 'spread'];

function searchRows(measurements: readonly BrowserSearchMeasurement[]): string[][] {
  return measurements.map((m) => {
    const auto = measurements.find((other) => other.workload === m.workload && other.implementation === 'knnet-auto');
    const agreement = m.agreement ? `${m.agreement.agreeing}/${m.agreement.checked}${m.agreement.agreeing < m.agreement.checked ? ' DISAGREES' : ''}` : '–';
    return [
      m.workload, m.ran ? `${m.label} [${m.ran}]` : m.label, `${m.n.toLocaleString('en-US')} × ${m.d}`, String(m.queries), number(m.queriesPerSecond),
      number(m.microsecondsPerQuery), number(m.buildSeconds, 3), times(auto ? auto.queriesPerSecond / m.queriesPerSecond : undefined),
      m.implementation === 'knnet-brute' ? 'reference' : agreement, percent(m.relativeSpread),
    ];
  });
}

const searchTitle = (report: BrowserRunReport) =>
  `search workloads in the page (exact k nearest, k = 5; ${describeProcessor({ model: report.machine.cpu, avx512: report.machine.avx512 })}), ` +
  'on fewer points than the Node bench\'s million; the Python peers do not run here. Round-robin as above; a row whose call over all ' +
  'queries would pass 0.5 s answers a prefix (queries per call); build = one fit or construction.';

function context(report: BrowserRunReport): string[] {
  const load = report.machine.loadAverage;
  return [
    `${describeProcessor({ model: report.machine.cpu, avx512: report.machine.avx512 })}, ${report.machine.cores} cores, ${report.browser} (headless), driven from Node ${report.machine.node}, ` +
      `${report.date}${report.quick ? ' (--quick)' : ''}${report.filtered ? ' (filtered run)' : ''}` +
      (load ? `; load average (1 min) ${load.start.toFixed(1)} at the start, ${load.end.toFixed(1)} at the end` : ''),
    `knnet build: ${report.knnetBuild}. All implementations run in one page ` +
      `(cross-origin isolated: ${report.crossOriginIsolated ? 'yes' : 'no, so no wasm threads'}): the 2t rows on two threads ` +
      '(knnet: predictAsync on a pool of 2 workers; onnxruntime-web: numThreads = 2), every other row on one, in the page\'s thread.',
    'Timed round-robin (one sample of each implementation in turn, rotating the order each round); ' +
      'queries/s from the median sample; spread = interquartile range / median; GFLOP/s = 2·q·n·d / time.',
  ];
}

function sections(report: BrowserRunReport, table: (header: string[], rows: string[][], firstNumeric: number) => string): string[] {
  const result: string[] = [];
  if (report.measurements.length > 0) result.push(table(MEASUREMENT_HEADER, report.measurements.map(measurementRow), 3));
  if (report.searchMeasurements.length > 0) result.push(`${searchTitle(report)}\n\n${table(SEARCH_HEADER, searchRows(report.searchMeasurements), 3)}`);
  if (report.ratios.length > 0) result.push(table(RATIO_HEADER, report.ratios.map(ratioRow), 1));
  if (report.threadRatios.length > 0) result.push(table(THREAD_RATIO_HEADER, report.threadRatios.map(threadRatioRow), 1));
  if (report.exactness.length > 0) result.push(table(EXACTNESS_HEADER, report.exactness.map(exactnessRow), 2));
  result.push(table(TARGET_HEADER, report.targets.map(targetRow), 3));
  return result;
}

export function formatBrowserText(report: BrowserRunReport): string {
  const parts = [context(report).join('\n'), ...sections(report, (header, rows) => textTable(header, rows))];
  if (report.notes.length > 0) parts.push(report.notes.map((note) => `note: ${note}`).join('\n'));
  return parts.join('\n\n');
}

export function formatBrowserMarkdown(report: BrowserRunReport): string {
  const parts = [context(report).join('  \n'), ...sections(report, markdownTable)];
  if (report.notes.length > 0) parts.push(report.notes.map((note) => `- ${note}`).join('\n'));
  return `${parts.join('\n\n')}\n`;
}
