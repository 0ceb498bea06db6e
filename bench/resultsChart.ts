/**
 * One run's results as the chart's bars: queries/s of every row of the main table, the search
 * workloads and the embeddings workload (batch), grouped by workload, coloured by family.
 */
import { renderChart, type ChartBar, type ChartFamily } from './chart.js';
import { describeProcessor } from './machine.js';
import { NOT_YET_SUPPORTED } from './peers/knnetOptions.js';
import type { RunReport } from './report.js';
import { COSINE_WORKLOAD, WORKLOADS } from './workloads.js';

/** The family an implementation's bar is drawn in, from its command-line name. */
export function familyOf(implementation: string): ChartFamily {
  if (implementation === 'knnet-brute') return 'knnet-brute';
  if (implementation === 'knnet' || implementation.startsWith('knnet-')) return 'knnet';
  if (implementation === 'naive' || implementation === 'reference') return 'baseline';
  if (implementation === 'ml-knn' || implementation === 'static-kdtree') return 'js';
  if (/^(ckdtree|sklearn|faiss-flat)/.test(implementation)) return 'python';
  return 'native';
}

const shape = (n: number, d: number) => `${n.toLocaleString('en-US')} × ${d}`;

export function chartOfRun(report: RunReport): string {
  const bars: ChartBar[] = [];
  const notes: Record<string, string> = {};
  for (const m of report.measurements) {
    const spec = [...WORKLOADS, COSINE_WORKLOAD].find((w) => w.name === m.workload);
    if (spec) notes[m.workload] = `${shape(spec.n, spec.d)}, ${spec.description}, k = ${spec.k}`;
    bars.push({ group: m.workload, label: m.label.replace(` ${NOT_YET_SUPPORTED}`, ''), value: m.queriesPerSecond, family: familyOf(m.implementation), flagged: m.label.includes(NOT_YET_SUPPORTED) });
  }
  for (const result of report.search?.search ?? []) {
    notes[result.spec.name] = `${shape(result.spec.n, result.spec.d)}, ${result.spec.description}, k = ${result.spec.k}`;
    for (const m of result.measurements) {
      bars.push({ group: m.workload, label: m.label, value: m.queriesPerSecond, family: familyOf(m.implementation), flagged: m.ran.includes(NOT_YET_SUPPORTED) });
    }
  }
  const embeddings = report.search?.embeddings;
  if (embeddings) {
    const { spec } = embeddings;
    notes.E = `${shape(spec.n, spec.d)} float32, cosine, k = ${spec.k}, batch of ${spec.q}`;
    if (embeddings.knnet) {
      bars.push({ group: 'E', label: 'knnet', value: embeddings.knnet.batchQueriesPerSecond, family: 'knnet', flagged: embeddings.knnet.ran.includes(NOT_YET_SUPPORTED) });
    }
    for (const row of embeddings.rows) bars.push({ group: 'E', label: row.label, value: row.batchQueriesPerSecond, family: familyOf(row.implementation) });
  }
  return renderChart({
    title: 'knnet benchmark: queries per second (log scale)',
    subtitle: `${describeProcessor({ model: report.machine.cpu, avx512: report.machine.avx512 })}, ${report.machine.cores} cores · Node ${report.machine.node} · ` +
      `${report.date.slice(0, 10)}${report.quick ? ' · --quick' : ''}`,
    groupNotes: notes,
    bars,
    flagNote: `asked for an option this knnet does not have yet (algorithm or storage): the row ran knnet's default`,
  });
}
