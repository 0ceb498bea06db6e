/**
 * How the search rows are timed, the same way in Node, in the page and (search_peers.py) in
 * Python: warmed up, then the best of a few samples, each sample repeating the call until it
 * lasts long enough to time well.
 *
 * A row whose call over every query would take longer than a budget answers a prefix of the
 * queries instead, so that a brute-force row at a million points (about a millisecond a query)
 * stays a few seconds: a multiple of 100 when the budget affords at least `minimumQueries`, else
 * as many as it affords (one at least: a peer that takes seconds a query is still measured).
 * The tables say how many queries each row timed, and every ratio is per query.
 */

export interface SearchTimingOptions {
  /** Seconds one call may take at most; a slower row times a prefix of the queries. */
  budgetSeconds: number;
  /** Timed samples; the best counts. */
  samples: number;
  /** A sample repeats the call until it lasts this long. */
  minSampleSeconds: number;
  /** Queries of the probe calls at most, which warm up and estimate the time per query. */
  probeQueries: number;
  /** Prefixes at least this long are rounded to a multiple of 100. */
  minimumQueries: number;
}

export const FULL_SEARCH_TIMING: SearchTimingOptions = { budgetSeconds: 2, samples: 3, minSampleSeconds: 0.2, probeQueries: 100, minimumQueries: 500 };
export const QUICK_SEARCH_TIMING: SearchTimingOptions = { budgetSeconds: 0.5, samples: 3, minSampleSeconds: 0.1, probeQueries: 100, minimumQueries: 200 };

/** The queries a call answers: all `total` when they fit the budget, else the prefix the budget affords. */
export function queriesForBudget(secondsPerQuery: number, total: number, options: SearchTimingOptions): number {
  if (!(secondsPerQuery > 0) || secondsPerQuery * total <= options.budgetSeconds) return total;
  const affordable = Math.floor(options.budgetSeconds / secondsPerQuery);
  return affordable >= options.minimumQueries ? Math.floor(affordable / 100) * 100 : Math.max(1, affordable);
}

/** A probe call lasting this long estimates the time per query well enough. */
const PROBE_SECONDS = 0.05;

export interface SearchTiming {
  /** Queries each call answered. */
  queries: number;
  /** Best sample's seconds per call. */
  seconds: number;
  samples: number;
  callsPerSample: number;
}

/** Seconds of one call of `search` over `count` queries (awaited when it returns a promise). */
async function timeCall(search: (count: number) => void | Promise<void>, count: number): Promise<number> {
  const start = performance.now();
  await search(count);
  return (performance.now() - start) / 1e3;
}

/**
 * How many of `total` queries a call of `search(count)` should answer: a call on one query to
 * warm up, then probe calls on 1, 4, 16, … queries until one lasts PROBE_SECONDS (or reaches
 * probeQueries), and that size once more: the faster of the two, per query, sets the prefix the
 * budget affords (one probe that another process slowed would otherwise cut the prefix short).
 */
export async function queriesToTime(search: (count: number) => void | Promise<void>, total: number, options: SearchTimingOptions): Promise<number> {
  const largestProbe = Math.min(options.probeQueries, total);
  await timeCall(search, 1);
  let probe = 1;
  let probeSeconds = await timeCall(search, probe);
  while (probeSeconds < PROBE_SECONDS && probe < largestProbe) {
    probe = Math.min(largestProbe, probe * 4);
    probeSeconds = await timeCall(search, probe);
  }
  probeSeconds = Math.min(probeSeconds, await timeCall(search, probe));
  return queriesForBudget(probeSeconds / probe, total, options);
}

/**
 * Times `search(count)`, which answers the first `count` of `total` queries: the count from
 * queriesToTime, one warm-up call at that count, then `samples` samples; the best counts.
 */
export async function timeSearch(search: (count: number) => void | Promise<void>, total: number, options: SearchTimingOptions): Promise<SearchTiming> {
  const queries = await queriesToTime(search, total, options);
  const once = await timeCall(search, queries);
  const callsPerSample = Math.max(1, Math.ceil(options.minSampleSeconds / Math.max(once, 1e-6)));
  let best = Infinity;
  for (let sample = 0; sample < options.samples; sample++) {
    const start = performance.now();
    for (let call = 0; call < callsPerSample; call++) await search(queries);
    best = Math.min(best, (performance.now() - start) / 1e3 / callsPerSample);
  }
  return { queries, seconds: best, samples: options.samples, callsPerSample };
}

/** The best of `repeats` runs of an asynchronous step (a fit, a build), with the result of the last. */
export async function bestOf<T>(repeats: number, run: () => Promise<T>, discard: (value: T) => void | Promise<void>): Promise<{ value: T; seconds: number }> {
  let best = Infinity;
  let value: T | undefined;
  for (let repeat = 0; repeat < repeats; repeat++) {
    if (value !== undefined) await discard(value);
    const start = performance.now();
    value = await run();
    best = Math.min(best, (performance.now() - start) / 1e3);
  }
  return { value: value!, seconds: best };
}
