/**
 * knnet's browser benchmark: `npm run bench:browser` (after `npm run bench:peers`).
 *
 *   node dist/bench/browser/index.js [--quick] [--only iris,W2,W3,W4,soft,exactness,L2,L4,L8,L16] [--impl knnet,naive,knnet-tree]
 *
 * Runs the Node bench's workloads in headless Chromium, every implementation in one page, timed
 * round-robin, and the search workloads L2 … L16 on BROWSER_SEARCH_POINTS points each; prints
 * the tables and writes bench/results.browser.json and
 * bench/results.browser.md (results.browser.local.* for a filtered run, which must not replace
 * the table the README embeds).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { processor } from '../machine.js';
import { benchFolder, resolvePeer } from '../peers/resolve.js';
import { BROWSER_SEARCH_POINTS, LOW_DIMENSION_WORKLOADS } from '../search/workloads.js';
import { WORKLOADS } from '../workloads.js';
import { CHROMIUM_PATH, hasChromium, missingPeers, runPage } from './chromium.js';
import {
  BROWSER_IMPLEMENTATIONS, BROWSER_SEARCH_IMPLEMENTATIONS, FULL_ROUNDS, QUICK_ROUNDS, type BrowserImplementationName, type BrowserSearchImplementationName,
} from './protocol.js';
import { browserReport, formatBrowserMarkdown, formatBrowserText } from './report.js';

const USAGE = `usage: node dist/bench/browser/index.js [--quick] [--only NAMES] [--impl NAMES]
  --quick        fewer, shorter rounds (the whole run in a few minutes on 2 cores)
  --only NAMES   comma-separated: ${WORKLOADS.map((w) => w.name).join(', ')}, exactness,
                 ${LOW_DIMENSION_WORKLOADS.map((w) => w.name).join(', ')} (search, on ${BROWSER_SEARCH_POINTS.toLocaleString('en-US')} points each)
  --impl NAMES   comma-separated: ${BROWSER_IMPLEMENTATIONS.join(', ')};
                 search: ${BROWSER_SEARCH_IMPLEMENTATIONS.join(', ')}`;

interface Arguments {
  quick: boolean;
  only?: Set<string>;
  implementations?: Set<string>;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseArguments(argv: string[]): Arguments {
  const result: Arguments = { quick: false };
  const list = (value: string | undefined) => new Set((value ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--quick') result.quick = true;
    else if (flag === '--only') result.only = list(value());
    else if (flag === '--impl') result.implementations = list(value());
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${argv[i]}`);
  }
  const knownWorkloads = new Set([...WORKLOADS, ...LOW_DIMENSION_WORKLOADS].map((w) => w.name.toLowerCase()).concat('exactness'));
  for (const name of result.only ?? []) if (!knownWorkloads.has(name)) fail(`unknown workload ${name}`);
  for (const name of result.implementations ?? []) {
    if (![...BROWSER_IMPLEMENTATIONS, ...BROWSER_SEARCH_IMPLEMENTATIONS].includes(name as never)) fail(`unknown implementation ${name}`);
  }
  return result;
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  if (!hasChromium) {
    console.error(`browser bench skipped: ${CHROMIUM_PATH} is missing (apt-get install -y chromium)`);
    process.exit(1);
  }
  const selected = (set: Set<string> | undefined, name: string) => !set || set.has(name.toLowerCase());
  const missing = missingPeers();
  const notes: string[] = [];
  const implementations: BrowserImplementationName[] = [];
  for (const name of BROWSER_IMPLEMENTATIONS) {
    if (!selected(args.implementations, name)) continue;
    const reason = missing.get(name);
    if (reason) {
      console.log(`skipping ${name}: ${reason}`);
      notes.push(`${name} skipped: ${reason}`);
    } else implementations.push(name);
  }

  const searchImplementations: BrowserSearchImplementationName[] = [];
  for (const name of BROWSER_SEARCH_IMPLEMENTATIONS) {
    if (!selected(args.implementations, name)) continue;
    if (name === 'static-kdtree' && !resolvePeer('static-kdtree')) {
      const reason = 'static-kdtree is not installed (run `npm run bench:peers`)';
      console.log(`skipping ${name}: ${reason}`);
      notes.push(`${name} skipped: ${reason}`);
    } else searchImplementations.push(name);
  }

  const loadAtStart = loadavg()[0];
  const { report: page, browser } = await runPage({
    workloads: WORKLOADS.filter((w) => selected(args.only, w.name)).map((w) => w.name),
    exactness: selected(args.only, 'exactness'),
    implementations,
    rounds: args.quick ? QUICK_ROUNDS : FULL_ROUNDS,
    searchWorkloads: LOW_DIMENSION_WORKLOADS.filter((w) => selected(args.only, w.name)).map((w) => w.name),
    searchImplementations,
    searchPoints: BROWSER_SEARCH_POINTS,
  });
  page.notes.unshift(...notes);
  const filtered = args.only !== undefined || args.implementations !== undefined;
  const cpu = processor();
  const report = browserReport(page, browser, {
    quick: args.quick,
    filtered,
    machine: {
      cpu: cpu.model,
      avx512: cpu.avx512,
      cores: cpus().length,
      node: process.versions.node,
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
    },
  });
  console.log(`\n${formatBrowserText(report)}`);

  const stem = filtered ? 'results.browser.local' : 'results.browser';
  const folder = benchFolder();
  writeFileSync(join(folder, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(folder, `${stem}.md`), formatBrowserMarkdown(report));
  console.log(`\nwrote ${join(folder, `${stem}.json`)} and ${stem}.md`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
