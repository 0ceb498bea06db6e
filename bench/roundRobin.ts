/**
 * Round-robin timing: the implementations of one workload are timed one sample each in turn,
 * round after round, so a change in the machine's load during the run (other processes, a
 * garbage collection, the clock) falls on each of them about equally. The browser bench times
 * everything this way; the Node bench its threads comparison (its main table times one
 * implementation to the end with benchmark.js before it starts the next).
 */
import { prepareIfSupported, type Implementation, type MeasuredRun, type PreparedRun } from './peers/types.js';
import { loadWorkload, type WorkloadSpec } from './workloads.js';

export interface Contestant {
  name: string;
  /** One timed operation; a returned promise is awaited, and counts in the time. */
  call(): void | Promise<void>;
}

export interface RoundRobinOptions {
  /** Rounds taken at least, whatever the time. */
  minRounds: number;
  /** Rounds taken at most. */
  maxRounds: number;
  /** After minRounds, no round starts once this many seconds have passed. */
  maxSeconds: number;
  /**
   * A sample repeats the call until it lasts about this long, so that a call of a few
   * microseconds (iris-size) is timed well above the timer's resolution (0.1 ms in a page
   * that is not cross-origin isolated).
   */
  sampleSeconds: number;
  /**
   * A pause before each sample (none when absent): threads a contestant leaves busy after its
   * calls would otherwise take cores from the next one's sample. (onnxruntime's intra-op pool
   * spins for about 40 ms of CPU time in the 100 ms after a run.)
   */
  settleSeconds?: number;
}

/** "9 to 15 rounds", or "5 rounds" when the count is fixed. */
export function describeRounds({ minRounds, maxRounds }: RoundRobinOptions): string {
  return minRounds === maxRounds ? `${minRounds} rounds` : `${minRounds} to ${maxRounds} rounds`;
}

export interface RoundRobinResult {
  name: string;
  /** Median over the samples of the seconds per call. */
  seconds: number;
  /** Interquartile range of the samples over their median: how much the samples spread. */
  relativeSpread: number;
  samples: number;
  callsPerSample: number;
}

/** Times `call` repeated `calls` times; a synchronous call is not awaited (no microtask per call). */
async function timeCalls(contestant: Contestant, calls: number, asynchronous: boolean): Promise<number> {
  const start = performance.now();
  if (asynchronous) for (let i = 0; i < calls; i++) await contestant.call();
  else for (let i = 0; i < calls; i++) contestant.call();
  return (performance.now() - start) / 1e3;
}

/** The value at fraction `at` of sorted values, interpolated linearly. */
export function quantile(sorted: readonly number[], at: number): number {
  const position = (sorted.length - 1) * at;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/**
 * Calls a contestant once, which tells whether its calls return promises, and warms it up,
 * untimed, for three sample lengths in all (a slow one only by that first call): the engine
 * compiles wasm and hot JS lazily and in tiers, memory grows on first use, and a call of
 * microseconds is far slower the first few hundred times. Then calls it for two more sample
 * lengths (at least once) and returns how many calls fill one sample at that rate. Counting
 * over many calls, rather than timing one, keeps a pause of a few milliseconds (another
 * process taking the core) from setting the count.
 */
async function warmUp(contestant: Contestant, sampleSeconds: number): Promise<{ asynchronous: boolean; callsPerSample: number }> {
  const warmUpEnd = performance.now() + 3e3 * sampleSeconds;
  const first = contestant.call();
  const asynchronous = first instanceof Promise;
  await first;
  while (performance.now() < warmUpEnd) await timeCalls(contestant, 1, asynchronous);
  const start = performance.now();
  let calls = 0;
  do {
    await timeCalls(contestant, 1, asynchronous);
    calls++;
  } while (performance.now() - start < 2e3 * sampleSeconds);
  return { asynchronous, callsPerSample: Math.max(1, Math.round((calls * sampleSeconds * 1e3) / (performance.now() - start))) };
}

/**
 * Times every contestant round-robin. Round r starts with contestant r mod m, so none always
 * runs right after the same other one. Each contestant is warmed up first.
 */
export async function timeRoundRobin(contestants: readonly Contestant[], options: RoundRobinOptions): Promise<RoundRobinResult[]> {
  const plans = [];
  for (const contestant of contestants) {
    plans.push({ contestant, ...(await warmUp(contestant, options.sampleSeconds)), samples: [] as number[] });
  }
  const start = performance.now();
  for (let round = 0; round < options.maxRounds; round++) {
    if (round >= options.minRounds && (performance.now() - start) / 1e3 >= options.maxSeconds) break;
    for (let turn = 0; turn < plans.length; turn++) {
      const plan = plans[(round + turn) % plans.length];
      if (options.settleSeconds) await new Promise((resolve) => setTimeout(resolve, options.settleSeconds! * 1e3));
      const seconds = await timeCalls(plan.contestant, plan.callsPerSample, plan.asynchronous);
      plan.samples.push(seconds / plan.callsPerSample);
      // The warm-up's count can fall short (calls still slow while the engine tiers up, pauses
      // from other processes): lengthen a sample that ended well before its length.
      if (seconds < options.sampleSeconds / 2) {
        plan.callsPerSample = Math.ceil(plan.callsPerSample * Math.min(10, options.sampleSeconds / Math.max(seconds, 1e-4)));
      }
    }
  }
  return plans.map(({ contestant, callsPerSample, samples }) => {
    const sorted = [...samples].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    return {
      name: contestant.name,
      seconds: median,
      relativeSpread: (quantile(sorted, 0.75) - quantile(sorted, 0.25)) / median,
      samples: samples.length,
      callsPerSample,
    };
  });
}

/** One implementation's round-robin figures on one workload. */
export interface RoundRobinMeasurement extends MeasuredRun {
  /** Median seconds per call (one call answers `queries` queries). */
  seconds: number;
  relativeSpread: number;
  samples: number;
  callsPerSample: number;
  queriesPerSecond: number;
  gflops: number;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Prepares every implementation on `spec`'s data, times them together round-robin, and disposes
 * of them. An implementation that cannot run the workload is left out (said on the console); one
 * that fails to prepare, or a failed timing, becomes a note.
 */
export async function measureRoundRobin(
  spec: WorkloadSpec, implementations: readonly Implementation[], options: RoundRobinOptions, notes: string[],
): Promise<RoundRobinMeasurement[]> {
  const data = loadWorkload(spec);
  const prepared: { implementation: Implementation; run: PreparedRun }[] = [];
  try {
    for (const implementation of implementations) {
      try {
        const run = await prepareIfSupported(implementation, spec, data);
        if (run) prepared.push({ implementation, run });
      } catch (error) {
        notes.push(`${spec.name} ${implementation.name} failed to prepare: ${errorMessage(error)}`);
      }
    }
    const results = await timeRoundRobin(
      prepared.map(({ implementation, run }) => ({ name: implementation.name, call: run.predict })), options,
    );
    return results.map((result, index) => {
      const { implementation, run } = prepared[index];
      const measurement: RoundRobinMeasurement = {
        workload: spec.name,
        implementation: implementation.name,
        label: implementation.label,
        precision: implementation.precision,
        threads: implementation.threads,
        queries: run.queryCount,
        seconds: result.seconds,
        relativeSpread: result.relativeSpread,
        samples: result.samples,
        callsPerSample: result.callsPerSample,
        queriesPerSecond: run.queryCount / result.seconds,
        gflops: (2 * run.queryCount * spec.n * spec.d) / result.seconds / 1e9,
      };
      console.log(`  ${implementation.label.padEnd(26)} ${measurement.queriesPerSecond.toFixed(1).padStart(10)} queries/s` +
        `  ${measurement.gflops.toFixed(2).padStart(6)} GFLOP/s  (${result.samples} samples of ${result.callsPerSample} calls, spread ${(100 * result.relativeSpread).toFixed(0)} %)`);
      return measurement;
    });
  } catch (error) {
    notes.push(`${spec.name} failed: ${errorMessage(error)}`);
    return [];
  } finally {
    for (const { run } of prepared) await run.dispose();
  }
}
