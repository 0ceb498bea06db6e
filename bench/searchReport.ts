/**
 * Formatting the search workloads, the round-robin comparisons, the small calls and the
 * embeddings workload: console tables and markdown, each table headed by the CPU it ran on.
 */
import type { EmbeddingsResult } from './embeddings/suite.js';
import { describeProcessor, type Processor } from './machine.js';
import { markdownTable, number, percent, textTable } from './tables.js';
import type { PairComparison } from './search/comparisons.js';
import type { SearchMeasurement, SearchWorkloadResult } from './search/suite.js';
import type { SearchTimingOptions } from './search/timing.js';
import type { SmallCallResult } from './smallCalls.js';

export interface SearchSuiteReport {
  processor: Processor;
  timing: SearchTimingOptions;
  buildRepeats: number;
  search: SearchWorkloadResult[];
  comparisons: PairComparison[];
  smallCalls: SmallCallResult[];
  embeddings?: EmbeddingsResult;
  /** Why E did not run, when it did not. */
  embeddingsSkipped?: string;
}

type Table = (header: string[], rows: string[][], firstNumeric: number) => string;
const textFormat: Table = (header, rows, firstNumeric) => textTable(header, rows, firstNumeric);

const times = (value: number | undefined) => (value === undefined ? '–' : `${number(value)}×`);
const withRan = (label: string, ran: string | undefined) => (ran ? `${label} [${ran}]` : label);

function agreementCell(m: SearchMeasurement, reference: string | undefined): string {
  if (m.implementation === reference) return 'reference';
  if (!m.agreement) return '–';
  const { agreeing, checked } = m.agreement;
  const verdict = agreeing === checked ? (m.identicalIndices ? ' (identical)' : '') : ' DISAGREES';
  return `${agreeing}/${checked}${verdict}`;
}

const SEARCH_HEADER = [
  'workload', 'implementation', 'n × d', 'threads', 'queries timed', 'queries/s', 'µs/query', 'build (s)', '÷ cKDTree w=1', 'knnet auto ÷ this', 'agrees with knnet',
];

function searchRows(results: readonly SearchWorkloadResult[]): string[][] {
  return results.flatMap((result) => result.measurements.map((m) => [
    m.workload, withRan(m.label, m.ran), `${m.n.toLocaleString('en-US')} × ${m.d}`, String(m.threads), String(m.queries),
    number(m.queriesPerSecond), number(m.microsecondsPerQuery), number(m.buildSeconds, 3), times(m.ratioToCKDTree), times(m.knnetAutoOverThis),
    agreementCell(m, result.reference),
  ]));
}

function searchTitle(report: SearchSuiteReport): string {
  const { timing } = report;
  return `search workloads (exact k nearest, k = 5; ${describeProcessor(report.processor)}): best of ${timing.samples} samples after a warm-up, ` +
    `each sample repeating the call for at least ${timing.minSampleSeconds * 1e3} ms; a row whose call over all queries would pass ` +
    `${timing.budgetSeconds} s answers a prefix (queries timed); build = best of ${report.buildRepeats} (knnet: fit). ` +
    `Agreement: the first queries' neighbours against knnet's reference row, ties allowed (identical: the same indices).`;
}

/** Per workload: the load average over it (above the core count, other processes shared the cores) and the peak memory. */
function workloadLines(results: readonly SearchWorkloadResult[]): string[] {
  return results.map((r) => `${r.spec.name}: load average (1 min) ${number(r.loadAverage.start, 1)} at the start, ${number(r.loadAverage.end, 1)} at the end; ` +
    `peak resident memory ${number(r.peakMegabytes.node, 0)} MB in Node so far` +
    (r.peakMegabytes.python === undefined ? '' : `, ${number(r.peakMegabytes.python, 0)} MB in the Python run`));
}

const COMPARISON_HEADER = ['comparison', 'side A', 'A ms', 'side B', 'B ms', 'A speed ÷ B speed', 'queries per call', 'samples'];
const comparisonRow = (c: PairComparison) => [
  c.ran ? `${c.name} *` : c.name, c.numerator, number(c.numeratorSeconds * 1e3, 3), c.denominator, number(c.denominatorSeconds * 1e3, 3),
  times(c.speedRatio), c.queries === 0 ? '(fit)' : String(c.queries), String(c.samples),
];
const comparisonTitle = (report: SearchSuiteReport) =>
  `round-robin comparisons (${describeProcessor(report.processor)}): both sides sampled in turn in one process, median per call; ` +
  'a fit comparison alternates single fits.';

const SMALL_HEADER = ['network', 'k', 'knnet µs per call', 'naive µs per call', 'naive ÷ knnet', 'target'];
const smallRow = (s: SmallCallResult) => [
  s.workload, String(s.k), number(s.knnetSeconds * 1e6, 2), number(s.naiveSeconds * 1e6, 2), times(s.ratio), `≥ ${s.target}×`,
];
const smallTitle = (report: SearchSuiteReport) =>
  `one query per call (${describeProcessor(report.processor)}): knnet predict on a one-row matrix against the naive JS loop, ` +
  'both warmed up and timed round-robin, each call the next query.';

const EMBEDDINGS_HEADER = ['implementation', 'threads', 'exact', 'build (s)', 'batch queries/s', 'one query (ms)', 'knnet ÷ this (batch)', 'recall@k'];

function embeddingsSection(report: SearchSuiteReport, table: Table): string[] {
  const e = report.embeddings;
  if (!e) return report.embeddingsSkipped ? [`E skipped: ${report.embeddingsSkipped}`] : [];
  const { spec, knnet } = e;
  const title = `E (${spec.n.toLocaleString('en-US')} × ${spec.d} float32 unit vectors, cosine, k = ${spec.k}, ${spec.q} queries; ` +
    `${describeProcessor(report.processor)}):`;
  const lines = [title];
  if (knnet) {
    const allocated =
      knnet.shards > 1 ? `in ${knnet.shards} shards (wasm memories the allocator counter does not see)`
      : knnet.bytesPerValueAllocated === undefined ? 'allocator counter unavailable' : `${number(knnet.bytesPerValueAllocated)} bytes per value (allocator)`;
    lines.push(
      `knnet${knnet.ran ? ` [${knnet.ran}]` : ''}: ${allocated}, ${number(knnet.bytesPerValueResident)} bytes per value of resident-memory growth over its first fit; ` +
        `fit ${number(knnet.fitSeconds, 2)} s (median of ${knnet.fitRepeats} after a first fit of ${number(knnet.firstFitSeconds, 2)} s) = ` +
        `${number(knnet.fitMegabytesPerSecond, 0)} MB/s of float32 input; ` +
        `batch ${number(knnet.batchQueriesPerSecond)} queries/s; one query ${number(knnet.singleQuerySeconds * 1e3, 2)} ms against ` +
        `${number(knnet.streamSeconds * 1e3, 2)} ms for one pass over the ${number((spec.n * spec.d * 4) / 1e9, 2)} GB of float32 values in wasm ` +
        `(round-robin): ${number(knnet.singleOverStream)}×.`,
    );
  } else {
    lines.push(`knnet: not measured${e.knnetFailure ? ` (${e.knnetFailure})` : ''}.`);
  }
  const rows = e.rows.map((row) => [
    row.label, String(row.threads), row.exact ? 'yes' : 'no', number(row.buildSeconds, 2), number(row.batchQueriesPerSecond),
    row.singleQuerySeconds === undefined ? '–' : number(row.singleQuerySeconds * 1e3, 3),
    times(knnet ? knnet.batchQueriesPerSecond / row.batchQueriesPerSecond : undefined), percent(row.recall),
  ]);
  const sections = [lines.join('\n')];
  if (rows.length > 0) {
    sections.push(`${e.reference ? `recall@${spec.k} against ${e.reference}'s answers` : 'no reference answers'}:\n${table(EMBEDDINGS_HEADER, rows, 1)}`);
  }
  const load = e.loadAverage ? `load average (1 min) ${number(e.loadAverage.start, 1)} at the start, ${number(e.loadAverage.end, 1)} at the end; ` : '';
  sections.push(`E: ${load}peak resident memory ${number(e.peakMegabytes.node, 0)} MB in Node` +
    (e.peakMegabytes.python === undefined ? '' : `, ${number(e.peakMegabytes.python, 0)} MB in the Python run`));
  return sections;
}

function sections(report: SearchSuiteReport, table: Table): string[] {
  const result: string[] = [];
  if (report.search.length > 0) {
    result.push(`${searchTitle(report)}\n${table(SEARCH_HEADER, searchRows(report.search), 3)}`);
    result.push(workloadLines(report.search).join('\n'));
  }
  if (report.comparisons.length > 0) {
    const ran = report.comparisons.filter((c) => c.ran).map((c) => `* ${c.name}: ${c.ran}`);
    result.push(`${comparisonTitle(report)}\n${table(COMPARISON_HEADER, report.comparisons.map(comparisonRow), 2)}${ran.length > 0 ? `\n${ran.join('\n')}` : ''}`);
  }
  if (report.smallCalls.length > 0) result.push(`${smallTitle(report)}\n${table(SMALL_HEADER, report.smallCalls.map(smallRow), 1)}`);
  result.push(...embeddingsSection(report, table));
  return result;
}

export function formatSearchText(report: SearchSuiteReport): string {
  return sections(report, textFormat).join('\n\n');
}

/** Markdown: each table set apart from the lines around it by blank lines, those lines kept as line breaks. */
export function formatSearchMarkdown(report: SearchSuiteReport): string {
  return sections(report, markdownTable).map((section) => {
    const blocks: string[][] = [];
    for (const line of section.split('\n')) {
      const last = blocks[blocks.length - 1];
      if (last && last[0].startsWith('|') === line.startsWith('|')) last.push(line);
      else blocks.push([line]);
    }
    return blocks.map((block) => block.join(block[0].startsWith('|') ? '\n' : '  \n')).join('\n\n');
  }).join('\n\n');
}
