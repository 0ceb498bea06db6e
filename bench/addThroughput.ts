/**
 * Live learning: single-point `add` calls to a network, timed against one `fit` of the same
 * points (the sizes of ADD_WORKLOAD: 10 000 adds at d = 512 after a 10-point seed fit).
 *
 * The adds run in order and stop at a time cap: an `add` that rebuilds the network on the union
 * costs O(n·d) per call, and 10 000 of them would take minutes. When the cap stops them, the
 * time of the adds run is still a measurement (and a lower bound on the whole), and the rest is
 * extrapolated — reported as such, never as a measurement. When the first run completes, it is
 * the warm-up, as the first fit is for the fits: the whole run is timed `fitRepeats` times more,
 * each from a new seed network, and the median counts, as for the fit.
 */
import { KnnNetwork } from '../src/index.js';
import type { AddMeasurement } from './targets.js';
import { ADD_WORKLOAD, loadWorkload, type WorkloadSpec } from './workloads.js';

export interface AddRunOptions {
  d: number;
  seedPoints: number;
  adds: number;
  k: number;
  seed: number;
  /** Seconds of adds after which the run stops early. */
  capSeconds: number;
  /** Timed fits (after one warm-up); the median counts. */
  fitRepeats: number;
}

/** Adds between two clock readings: a clock read per add would weigh on a cheap add. */
const ADDS_PER_READING = 10;

/**
 * Total seconds of `total` adds, from the first `batches` timed: the time per add is fitted as
 * a + b·size by least squares over the batches (each batch's mean time per add against the
 * mean size of the network it added to), and the fitted line is summed over the adds not run.
 * For a rebuilding add b is the O(n·d) slope; for an amortised add b is about 0 and this is a
 * plain average.
 */
export function extrapolateAddSeconds(
  batches: readonly { size: number; adds: number; seconds: number }[], seedPoints: number, total: number,
): number {
  const measuredAdds = batches.reduce((sum, batch) => sum + batch.adds, 0);
  const measuredSeconds = batches.reduce((sum, batch) => sum + batch.seconds, 0);
  if (measuredAdds >= total || batches.length === 0) return measuredSeconds;
  // A batch of m adds starting at size s adds to networks of s … s + m − 1 points.
  const points = batches.map((batch) => ({ x: batch.size + (batch.adds - 1) / 2, y: batch.seconds / batch.adds }));
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / points.length;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / points.length;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.x - meanX) * (p.y - meanY);
    variance += (p.x - meanX) ** 2;
  }
  const slope = variance > 0 ? covariance / variance : 0;
  const intercept = meanY - slope * meanX;
  // Σ over sizes s = seedPoints + measuredAdds … seedPoints + total − 1 of (intercept + slope·s).
  const remaining = total - measuredAdds;
  const firstSize = seedPoints + measuredAdds;
  const sizeSum = remaining * firstSize + (remaining * (remaining - 1)) / 2;
  return measuredSeconds + Math.max(0, remaining * intercept + slope * sizeSum);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function measureAddThroughput(options: AddRunOptions): Promise<AddMeasurement> {
  const { d, seedPoints, adds, k, seed, capSeconds, fitRepeats } = options;
  const spec: WorkloadSpec = {
    name: ADD_WORKLOAD.name, description: 'single adds', n: seedPoints + adds, d, q: 0, k,
    weights: 'uniform', lambda: 1, offset: 0, seed,
  };
  const { train, labels } = loadWorkload(spec);
  const added = { data: train.subarray(seedPoints * d), rows: adds, cols: d };
  const addedLabels = labels.subarray(seedPoints);

  // One fit of the points the adds bring, as the yardstick; the first fit is a warm-up.
  (await KnnNetwork.fit(added, addedLabels, { k })).dispose();
  const fitTimes: number[] = [];
  for (let repeat = 0; repeat < fitRepeats; repeat++) {
    const start = performance.now();
    const network = await KnnNetwork.fit(added, addedLabels, { k });
    fitTimes.push((performance.now() - start) / 1e3);
    network.dispose();
  }
  const fitSeconds = median(fitTimes);

  /** One run of the adds from a new seed network, stopped at the cap. */
  const runAdds = async () => {
    const network = await KnnNetwork.fit({ data: train.subarray(0, seedPoints * d), rows: seedPoints, cols: d }, labels.subarray(0, seedPoints), { k });
    const batches: { size: number; adds: number; seconds: number }[] = [];
    let measuredAdds = 0;
    let measuredSeconds = 0;
    try {
      while (measuredAdds < adds && measuredSeconds < capSeconds) {
        const count = Math.min(ADDS_PER_READING, adds - measuredAdds);
        const start = performance.now();
        for (let i = 0; i < count; i++) {
          const row = seedPoints + measuredAdds + i;
          network.add({ data: train.subarray(row * d, (row + 1) * d), rows: 1, cols: d }, labels.subarray(row, row + 1));
        }
        const seconds = (performance.now() - start) / 1e3;
        batches.push({ size: seedPoints + measuredAdds, adds: count, seconds });
        measuredAdds += count;
        measuredSeconds += seconds;
      }
    } finally {
      network.dispose();
    }
    return { batches, measuredAdds, measuredSeconds };
  };
  const first = await runAdds();
  const { measuredAdds } = first;
  let { measuredSeconds } = first;
  if (measuredAdds === adds) {
    const completeRuns: number[] = [];
    for (let repeat = 0; repeat < fitRepeats; repeat++) completeRuns.push((await runAdds()).measuredSeconds);
    measuredSeconds = median(completeRuns);
  }
  const { batches } = first;
  return {
    d, k, seedPoints, adds, fitSeconds, fitRepeats, measuredAdds, measuredSeconds, capSeconds,
    measuredRatioToFit: measuredSeconds / fitSeconds,
    extrapolatedSeconds: measuredAdds < adds ? extrapolateAddSeconds(batches, seedPoints, adds) : undefined,
  };
}
