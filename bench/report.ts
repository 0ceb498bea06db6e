/** Formatting one run's results: a console table, a markdown table (for the README), JSON. */
import { describeProcessor } from './machine.js';
import { describeRounds, type RoundRobinMeasurement } from './roundRobin.js';
import { formatSearchMarkdown, formatSearchText, type SearchSuiteReport } from './searchReport.js';
import { markdownTable, number, percent, textTable } from './tables.js';
import { ADD_TARGET_RATIO, type AddMeasurement, type CosineRow, type FitMeasurement, type Measurement, type TargetResult } from './targets.js';
import type { ThreadsComparison, ThreadsRatios } from './threadsComparison.js';

export interface ExactnessResult {
  implementation: string;
  label: string;
  workload: string;
  /** Mean fraction of the true k nearest neighbours returned, or of predictions equal to the reference's. */
  fraction: number;
  basis: 'neighbours' | 'predictions';
}

export interface RunReport {
  date: string;
  machine: {
    cpu: string; cores: number; node: string; v8?: string; platform: string;
    /** Whether the CPU has AVX-512 (undefined where /proc/cpuinfo cannot be read). */
    avx512?: boolean;
    /** os.availableParallelism(): the cores this process may use. */
    availableParallelism?: number;
    /** What knnet resolved `threads: 'auto'` to in this run. */
    threadsAuto?: number;
  };
  /** knnet's kernel build in this run, and whether the engine validates relaxed SIMD. */
  kernels?: { build: 'plain' | 'relaxed'; relaxedSimd: boolean };
  quick: boolean;
  filtered: boolean;
  ceiling?: { f64x2Gflops: number; f32x4Gflops: number };
  streamGigabytesPerSecond?: number;
  measurements: Measurement[];
  exactness: ExactnessResult[];
  fit?: FitMeasurement;
  /** The cosine workload: knnet's ratio to each implementation and each one's exactness. */
  cosine?: CosineRow[];
  /** Single-point adds against one fit of the same points. */
  add?: AddMeasurement;
  /** knnet and onnxruntime-node f64 on 1 and 2 threads, timed round-robin. */
  threads?: ThreadsComparison;
  /** The search workloads, their round-robin comparisons, the one-query calls and the embeddings workload. */
  search?: SearchSuiteReport;
  targets: TargetResult[];
  ratiosToOnnxF64: Record<string, number>;
  notes: string[];
}

const MEASUREMENT_HEADER = ['workload', 'implementation', 'prec.', 'threads', 'queries timed', 'queries/s', 'GFLOP/s', '× naive', '× reference', '% wasm ceiling', '±'];

/** A row's thread count, marked where it is what `threads: 'auto'` gave (only rows with a pool). */
function threadsCell(threads: number, threadsAuto: number | undefined): string {
  return threads > 1 && threads === threadsAuto ? `${threads} (auto)` : String(threads);
}

function measurementRow(m: Measurement, threadsAuto: number | undefined): string[] {
  return [
    m.workload, m.label, m.precision, threadsCell(m.threads, threadsAuto), String(m.queries), number(m.queriesPerSecond), number(m.gflops),
    number(m.ratioToNaive), number(m.ratioToReference), percent(m.fractionOfCeiling), `${m.relativeMarginOfError.toFixed(0)} %`,
  ];
}

const EXACTNESS_HEADER = ['implementation', 'workload', 'true neighbours kept', 'compared by'];
const exactnessRow = (e: ExactnessResult) => [e.label, e.workload, percent(e.fraction), e.basis];
const TARGET_HEADER = ['target', 'measured', 'result'];
const targetRow = (t: TargetResult) => [t.target, t.measured, t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : 'MISS'];

const COSINE_HEADER = ['implementation', 'prec.', 'queries/s', 'knnet ÷ this', 'true cosine neighbours kept'];
const cosineRow = (row: CosineRow) => [
  row.label, row.precision, number(row.queriesPerSecond), row.knnetRatio === undefined ? '–' : `${number(row.knnetRatio)}×`,
  row.implementation === 'reference' ? 'the truth' : percent(row.neighboursKept),
];
const COSINE_TITLE = "cosine (W2's data, metric 'cosine', k = 5): knnet's queries/s over each implementation's, same run; " +
  'exactness on the first queries against the knnet reference with metric cosine.';

const ADD_HEADER = ['operation', 'calls', 'basis', 'seconds', '× one fit'];
const count = (value: number) => value.toLocaleString('en-US');

function addRows(add: AddMeasurement): string[][] {
  const seconds = (value: number) => number(value, 3);
  const rows = [['one fit of the added points', `1 (${count(add.adds)} points)`, `measured, median of ${add.fitRepeats}`, seconds(add.fitSeconds), '1.00']];
  if (add.measuredAdds === add.adds) {
    rows.push(['single-point adds', count(add.adds), `measured, median of ${add.fitRepeats} runs after a warm-up`, seconds(add.measuredSeconds), number(add.measuredRatioToFit)]);
    return rows;
  }
  rows.push([
    'single-point adds', `first ${count(add.measuredAdds)} of ${count(add.adds)}`, `measured; stopped at the ${add.capSeconds} s cap`,
    seconds(add.measuredSeconds), number(add.measuredRatioToFit),
  ]);
  if (add.extrapolatedSeconds !== undefined) {
    rows.push([
      'single-point adds', `all ${count(add.adds)}`, `EXTRAPOLATED from the first ${count(add.measuredAdds)} (per-add time linear in the size)`,
      seconds(add.extrapolatedSeconds), number(add.extrapolatedSeconds / add.fitSeconds),
    ]);
  }
  return rows;
}
const addTitle = (add: AddMeasurement) =>
  `add (d = ${add.d}, Euclidean, k = ${add.k}): a network fitted on ${add.seedPoints} points, then ${count(add.adds)} single-point add calls, ` +
  `against one fit of the same ${count(add.adds)} points; target ≤ ${ADD_TARGET_RATIO}× one fit.`;

const THREADS_HEADER = ['workload', 'implementation', 'threads', 'queries timed', 'queries/s', 'ms per call', 'samples × calls', 'spread'];
function threadsRow(m: RoundRobinMeasurement, threadsAuto: number | undefined): string[] {
  return [
    m.workload, m.label, threadsCell(m.threads, threadsAuto), String(m.queries), number(m.queriesPerSecond), number(m.seconds * 1e3, 3),
    `${m.samples} × ${m.callsPerSample}`, percent(m.relativeSpread),
  ];
}
const THREADS_RATIO_HEADER = ['workload', 'knnet 2t ÷ knnet 1t', 'knnet 2t ÷ onnx f64 2t', 'knnet 1t ÷ onnx f64 1t', 'onnx f64 2t ÷ 1t'];
const ratio = (value: number | undefined) => (value === undefined ? '–' : `${number(value)}×`);
const threadsRatioRow = (r: ThreadsRatios) => [
  r.workload, ratio(r.knnetTwoOverOne), ratio(r.knnetOverOnnxTwo), ratio(r.knnetOverOnnxOne), ratio(r.onnxTwoOverOne),
];
const threadsTitle = (threads: ThreadsComparison, cpu: string) =>
  `threads, round-robin (${cpu}): knnet 1t = sync predict on a 1-thread network, knnet 2t = predictAsync on a 2-thread network; ` +
  `onnxruntime-node f64 with 1 and 2 intra-op threads. One sample of each in turn (the first one rotating), ` +
  `a sample repeating the call for about ${number(threads.rounds.sampleSeconds * 1e3, 0)} ms` +
  `${threads.rounds.settleSeconds ? ` after a ${number(threads.rounds.settleSeconds * 1e3, 0)} ms pause` : ''}, ` +
  `${describeRounds(threads.rounds)}: median per call, spread = interquartile range ÷ median.`;
const THREADS_RATIO_TITLE = 'threads ratios (queries/s over queries/s, from the round-robin medians; on W4 and iris-size, 1t time ÷ 2t time):';

const cpuOf = (report: RunReport) => describeProcessor({ model: report.machine.cpu, avx512: report.machine.avx512 });

/** The line above the targets: they were measured on this CPU, in this run. */
const targetsTitle = (report: RunReport) => `targets (${cpuOf(report)}; ratios compare figures of this run only):`;

function context(report: RunReport): string[] {
  const lines = [
    `${cpuOf(report)}, ${report.machine.cores} cores, Node ${report.machine.node}` +
      `${report.machine.v8 ? ` (V8 ${report.machine.v8})` : ''}, ${report.date}` +
      `${report.quick ? ' (--quick)' : ''}${report.filtered ? ' (filtered run)' : ''}`,
    ...(report.kernels ? [`knnet kernels: ${report.kernels.build} SIMD build (the engine ${report.kernels.relaxedSimd ? 'has' : 'lacks'} relaxed SIMD).`] : []),
    "queries/s on the row's threads; GFLOP/s = 2·q·n·d / time; ratios are queries/s over the same run's naive loop and knnet reference.",
  ];
  if (report.machine.threadsAuto !== undefined) {
    lines.push(`threads: 'auto' resolves to ${report.machine.threadsAuto} here` +
      `${report.machine.availableParallelism === undefined ? '' : ` (os.availableParallelism() = ${report.machine.availableParallelism})`}.`);
  }
  if (report.ceiling) {
    lines.push(`wasm SIMD ceiling (in-cache micro-GEMM): f64x2 ${number(report.ceiling.f64x2Gflops)} GFLOP/s, ` +
      `f32x4 ${number(report.ceiling.f32x4Gflops)} GFLOP/s; "% wasm ceiling" uses the one matching each row's precision.`);
  }
  if (report.streamGigabytesPerSecond !== undefined) {
    lines.push(`memory stream (wasm, one pass over the W4 weights): ${number(report.streamGigabytesPerSecond)} GB/s.`);
  }
  return lines;
}

function extraLines(report: RunReport): string[] {
  const lines: string[] = [];
  for (const m of report.measurements) {
    if (m.ratioToStreamingWeights !== undefined) {
      lines.push(`W4 ${m.label}: ${(m.seconds * 1e3).toFixed(2)} ms = ${number(m.ratioToStreamingWeights)}× the time to stream the weights once.`);
    }
  }
  for (const [workload, ratio] of Object.entries(report.ratiosToOnnxF64)) {
    lines.push(`${workload}: knnet runs at ${number(ratio)}× onnxruntime-node f64's throughput.`);
  }
  if (report.fit) {
    lines.push(`fit (${report.fit.workload}, ${(report.fit.bytes / 1e6).toFixed(0)} MB of X): ` +
      `${(report.fit.seconds * 1e3).toFixed(1)} ms = ${number(report.fit.megabytesPerSecond)} MB/s.`);
  }
  return lines;
}

export function formatText(report: RunReport): string {
  const sections = [context(report).join('\n')];
  if (report.measurements.length > 0) sections.push(textTable(MEASUREMENT_HEADER, report.measurements.map((m) => measurementRow(m, report.machine.threadsAuto))));
  if (report.exactness.length > 0) sections.push(textTable(EXACTNESS_HEADER, report.exactness.map(exactnessRow)));
  if (report.cosine && report.cosine.length > 0) sections.push(`${COSINE_TITLE}\n${textTable(COSINE_HEADER, report.cosine.map(cosineRow), 2)}`);
  if (report.add) sections.push(`${addTitle(report.add)}\n${textTable(ADD_HEADER, addRows(report.add))}`);
  if (report.threads) {
    const rows = report.threads.measurements.map((m) => threadsRow(m, report.machine.threadsAuto));
    sections.push(`${threadsTitle(report.threads, cpuOf(report))}\n${textTable(THREADS_HEADER, rows, 2)}`);
    sections.push(`${THREADS_RATIO_TITLE}\n${textTable(THREADS_RATIO_HEADER, report.threads.ratios.map(threadsRatioRow), 1)}`);
  }
  if (report.search) sections.push(formatSearchText(report.search));
  sections.push(extraLines(report).join('\n'));
  sections.push(`${targetsTitle(report)}\n${textTable(TARGET_HEADER, report.targets.map(targetRow))}`);
  if (report.notes.length > 0) sections.push(report.notes.map((note) => `note: ${note}`).join('\n'));
  return sections.filter((section) => section.length > 0).join('\n\n');
}

export function formatMarkdown(report: RunReport): string {
  const sections = [context(report).join('  \n')]; // two trailing spaces: a markdown line break
  if (report.measurements.length > 0) sections.push(markdownTable(MEASUREMENT_HEADER, report.measurements.map((m) => measurementRow(m, report.machine.threadsAuto)), 3));
  if (report.exactness.length > 0) {
    sections.push('Exactness (against the knnet reference, first queries of W2):');
    sections.push(markdownTable(EXACTNESS_HEADER, report.exactness.map(exactnessRow), 2));
  }
  if (report.cosine && report.cosine.length > 0) {
    sections.push(COSINE_TITLE);
    sections.push(markdownTable(COSINE_HEADER, report.cosine.map(cosineRow), 2));
  }
  if (report.add) {
    sections.push(addTitle(report.add));
    sections.push(markdownTable(ADD_HEADER, addRows(report.add), 3));
  }
  if (report.threads) {
    sections.push(threadsTitle(report.threads, cpuOf(report)));
    sections.push(markdownTable(THREADS_HEADER, report.threads.measurements.map((m) => threadsRow(m, report.machine.threadsAuto)), 2));
    sections.push(THREADS_RATIO_TITLE);
    sections.push(markdownTable(THREADS_RATIO_HEADER, report.threads.ratios.map(threadsRatioRow), 1));
  }
  if (report.search) sections.push(formatSearchMarkdown(report.search));
  const extra = extraLines(report);
  if (extra.length > 0) sections.push(extra.map((line) => `- ${line}`).join('\n'));
  sections.push(targetsTitle(report));
  sections.push(markdownTable(TARGET_HEADER, report.targets.map(targetRow)));
  if (report.notes.length > 0) sections.push(report.notes.map((note) => `- ${note}`).join('\n'));
  return `${sections.join('\n\n')}\n`;
}
