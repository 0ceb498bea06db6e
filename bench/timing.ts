/**
 * Timing with benchmark.js: one Benchmark per (workload, implementation). Async calls
 * (onnxruntime, TF.js) run as deferred benchmarks, so the time includes awaiting the result.
 */
import Benchmark from 'benchmark';

export interface TimingOptions {
  /** Samples benchmark.js must collect at least. */
  minSamples: number;
  /** Seconds after which benchmark.js stops sampling (once it has minSamples). */
  maxTime: number;
}

export const FULL_TIMING: TimingOptions = { minSamples: 5, maxTime: 5 };
export const QUICK_TIMING: TimingOptions = { minSamples: 3, maxTime: 1 };

export interface Timing {
  /** Mean seconds per call. */
  seconds: number;
  /** Relative margin of error of the mean, in percent. */
  relativeMarginOfError: number;
  samples: number;
}

export function time(name: string, call: () => void | Promise<void>, options: TimingOptions): Promise<Timing> {
  return new Promise((resolve, reject) => {
    let asynchronous = false;
    // Probe once (also a warm-up): a call that returns a promise is benchmarked deferred.
    const first = call();
    const start = (): void => {
      const benchmarkOptions: Benchmark.Options = {
        minSamples: options.minSamples,
        maxTime: options.maxTime,
        onComplete(this: Benchmark) {
          if (this.error) reject(this.error);
          else resolve({ seconds: this.stats.mean, relativeMarginOfError: this.stats.rme, samples: this.stats.sample.length });
        },
        onError(event: Benchmark.Event) {
          reject((event.target as unknown as Benchmark).error);
        },
      };
      const benchmark = asynchronous
        ? new Benchmark(name, {
          ...benchmarkOptions,
          defer: true,
          fn: (deferred: Benchmark.Deferred) => {
            (call() as Promise<void>).then(() => deferred.resolve(), reject);
          },
        })
        : new Benchmark(name, call as () => void, benchmarkOptions);
      benchmark.run({ async: false });
    };
    if (first instanceof Promise) {
      asynchronous = true;
      first.then(start, reject);
    } else {
      start();
    }
  });
}
