/**
 * The search workloads in the benchmark page, on fewer points than in Node (a tab holds less,
 * and a brute-force row stays short): knnet's rows and static-kdtree, each built on the same
 * points, timed round-robin on a prefix of the queries its budget affords, and checked against
 * knnet 'brute''s answers on the first queries. The Python peers do not run here.
 */
import { compareNeighbours } from '../search/agreement.js';
import { knnetSearchImplementation } from '../search/knnetSearch.js';
import { staticKdtreeImplementation, type CreateKdTree } from '../search/staticKdtree.js';
import { queriesToTime, type SearchTimingOptions } from '../search/timing.js';
import type { SearchImplementation, SearchIndex } from '../search/types.js';
import { loadSearchWorkload, SEARCH_WORKLOADS, withPoints } from '../search/workloads.js';
import { timeRoundRobin } from '../roundRobin.js';
import { STATIC_KDTREE_BUNDLE, type BrowserRequest, type BrowserSearchImplementationName, type BrowserSearchMeasurement } from './protocol.js';

/** A call lasts about this long at most: a brute-force row answers a prefix of the queries. */
const CALL_BUDGET: SearchTimingOptions = { budgetSeconds: 0.5, samples: 1, minSampleSeconds: 0, probeQueries: 100, minimumQueries: 200 };
const CHECKED_QUERIES = 100;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function loadStaticKdtree(): Promise<SearchImplementation> {
  const url = new URL(`./${STATIC_KDTREE_BUNDLE}`, location.href).href;
  const module = (await import(/* served beside the page, not bundled into it */ url)) as { default: CreateKdTree };
  return staticKdtreeImplementation(module.default);
}

const FACTORIES: Record<BrowserSearchImplementationName, () => Promise<SearchImplementation>> = {
  'knnet-auto': async () => knnetSearchImplementation('auto'),
  'knnet-tree': async () => knnetSearchImplementation('tree'),
  'knnet-brute': async () => knnetSearchImplementation('brute'),
  'static-kdtree': loadStaticKdtree,
};

export async function runSearchInPage(request: BrowserRequest, notes: string[]): Promise<BrowserSearchMeasurement[]> {
  const implementations: SearchImplementation[] = [];
  for (const name of request.searchImplementations) {
    try {
      implementations.push(await FACTORIES[name]());
    } catch (error) {
      notes.push(`${name} skipped: ${errorMessage(error)}`);
    }
  }
  const measurements: BrowserSearchMeasurement[] = [];
  for (const name of request.searchWorkloads) {
    const full = SEARCH_WORKLOADS.find((spec) => spec.name === name);
    if (!full) throw new Error(`unknown search workload ${name}`);
    const spec = withPoints(full, request.searchPoints);
    console.log(`${spec.name}: n=${spec.n}, d=${spec.d}, q=${spec.q}, k=${spec.k} — ${spec.description} (${full.n} points in Node)`);
    const data = loadSearchWorkload(spec);
    const built: { implementation: SearchImplementation; index: SearchIndex; queries: number; answers?: Int32Array }[] = [];
    try {
      for (const implementation of implementations) {
        let index: SearchIndex | undefined;
        try {
          index = await implementation.build(data, 1);
          const answers = await index.neighbours?.(CHECKED_QUERIES);
          built.push({ implementation, index, answers, queries: await queriesToTime(index.search, spec.q, CALL_BUDGET) });
        } catch (error) {
          await index?.dispose();
          notes.push(`${spec.name} ${implementation.name} failed: ${errorMessage(error)}`);
        }
      }
      const results = await timeRoundRobin(
        built.map(({ implementation, index, queries }) => ({ name: implementation.name, call: () => index.search(queries) })), request.rounds,
      );
      const truth = built.find((entry) => entry.implementation.name === 'knnet-brute')?.answers;
      const points = { train: data.train, queries: data.queries, n: spec.n, d: spec.d };
      results.forEach((result, position) => {
        const { implementation, index, queries, answers } = built[position];
        const measurement: BrowserSearchMeasurement = {
          workload: spec.name, implementation: implementation.name, label: implementation.label, precision: 'f64', threads: implementation.threads,
          n: spec.n, d: spec.d, queries, seconds: result.seconds, relativeSpread: result.relativeSpread, samples: result.samples,
          callsPerSample: result.callsPerSample, queriesPerSecond: queries / result.seconds, gflops: (2 * queries * spec.n * spec.d) / result.seconds / 1e9,
          microsecondsPerQuery: (result.seconds / queries) * 1e6, buildSeconds: index.buildSeconds, ran: index.ran,
          agreement: truth && answers && implementation.name !== 'knnet-brute' ? compareNeighbours(points, spec.k, truth, answers, CHECKED_QUERIES) : undefined,
        };
        if (measurement.agreement && measurement.agreement.agreeing < measurement.agreement.checked) {
          notes.push(`${spec.name}: ${implementation.label} DISAGREES with knnet 'brute' — ${measurement.agreement.firstDisagreement}`);
        }
        console.log(`  ${implementation.label.padEnd(26)} ${measurement.queriesPerSecond.toFixed(0).padStart(10)} queries/s (${queries} queries a call)` +
          `${index.ran ? `  [${index.ran}]` : ''}`);
        measurements.push(measurement);
      });
    } finally {
      for (const { index } of built) await index.dispose();
    }
  }
  return measurements;
}
