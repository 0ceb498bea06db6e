/** Formatting one run's results: a console table, a markdown table (for the README), JSON. */
import type { FitMeasurement, Measurement, TargetResult } from './targets.js';

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
  machine: { cpu: string; cores: number; node: string; v8?: string; platform: string };
  /** knnet's kernel build in this run, and whether the engine validates relaxed SIMD. */
  kernels?: { build: 'plain' | 'relaxed'; relaxedSimd: boolean };
  quick: boolean;
  filtered: boolean;
  ceiling?: { f64x2Gflops: number; f32x4Gflops: number };
  streamGigabytesPerSecond?: number;
  measurements: Measurement[];
  exactness: ExactnessResult[];
  fit?: FitMeasurement;
  targets: TargetResult[];
  ratiosToOnnxF64: Record<string, number>;
  notes: string[];
}

export function number(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(digits);
}

export const percent = (fraction: number | undefined) => (fraction === undefined ? '–' : `${(100 * fraction).toFixed(0)} %`);

const MEASUREMENT_HEADER = ['workload', 'implementation', 'prec.', 'queries timed', 'queries/s', 'GFLOP/s', '× naive', '× reference', '% wasm ceiling', '±'];

function measurementRow(m: Measurement): string[] {
  return [
    m.workload, m.label, m.precision, String(m.queries), number(m.queriesPerSecond), number(m.gflops),
    number(m.ratioToNaive), number(m.ratioToReference), percent(m.fractionOfCeiling), `${m.relativeMarginOfError.toFixed(0)} %`,
  ];
}

/** A markdown table; columns from `firstNumeric` on are right-aligned. */
export function markdownTable(header: string[], rows: string[][], firstNumeric = header.length): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = header.map((_, column) => (column >= firstNumeric ? '---:' : '---'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

const EXACTNESS_HEADER = ['implementation', 'workload', 'true neighbours kept', 'compared by'];
const exactnessRow = (e: ExactnessResult) => [e.label, e.workload, percent(e.fraction), e.basis];
const TARGET_HEADER = ['target', 'measured', 'result'];
const targetRow = (t: TargetResult) => [t.target, t.measured, t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : 'MISS'];

function context(report: RunReport): string[] {
  const lines = [
    `${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}` +
      `${report.machine.v8 ? ` (V8 ${report.machine.v8})` : ''}, ${report.date}` +
      `${report.quick ? ' (--quick)' : ''}${report.filtered ? ' (filtered run)' : ''}`,
    ...(report.kernels ? [`knnet kernels: ${report.kernels.build} SIMD build (the engine ${report.kernels.relaxedSimd ? 'has' : 'lacks'} relaxed SIMD).`] : []),
    'queries/s on one thread; GFLOP/s = 2·q·n·d / time; ratios are queries/s over the same run\'s naive loop and knnet reference.',
  ];
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
  const sections = [
    context(report).join('\n'),
    textTable(MEASUREMENT_HEADER, report.measurements.map(measurementRow)),
  ];
  if (report.exactness.length > 0) sections.push(textTable(EXACTNESS_HEADER, report.exactness.map(exactnessRow)));
  sections.push(extraLines(report).join('\n'));
  sections.push(textTable(TARGET_HEADER, report.targets.map(targetRow)));
  if (report.notes.length > 0) sections.push(report.notes.map((note) => `note: ${note}`).join('\n'));
  return sections.filter((section) => section.length > 0).join('\n\n');
}

export function formatMarkdown(report: RunReport): string {
  const sections = [
    context(report).join('  \n'), // two trailing spaces: a markdown line break
    markdownTable(MEASUREMENT_HEADER, report.measurements.map(measurementRow), 3),
  ];
  if (report.exactness.length > 0) {
    sections.push('Exactness (against the knnet reference, first queries of W2):');
    sections.push(markdownTable(EXACTNESS_HEADER, report.exactness.map(exactnessRow), 2));
  }
  const extra = extraLines(report);
  if (extra.length > 0) sections.push(extra.map((line) => `- ${line}`).join('\n'));
  sections.push(markdownTable(TARGET_HEADER, report.targets.map(targetRow)));
  if (report.notes.length > 0) sections.push(report.notes.map((note) => `- ${note}`).join('\n'));
  return `${sections.join('\n\n')}\n`;
}
