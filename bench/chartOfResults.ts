/**
 * Draws the chart of a results file already written, without running anything:
 *
 *   node dist/bench/chartOfResults.js [bench/results.json]
 *
 * writes the SVG beside it (results.json → results.svg), as the run itself does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchFolder } from './peers/resolve.js';
import type { RunReport } from './report.js';
import { chartOfRun } from './resultsChart.js';

const source = process.argv[2] ?? join(benchFolder(), 'results.json');
if (!source.endsWith('.json')) {
  console.error(`usage: node dist/bench/chartOfResults.js [results.json]; got ${source}`);
  process.exit(2);
}
const report = JSON.parse(readFileSync(source, 'utf8')) as RunReport;
const target = source.replace(/\.json$/, '.svg');
writeFileSync(target, chartOfRun(report));
console.log(`wrote ${target}`);
