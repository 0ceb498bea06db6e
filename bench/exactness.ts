/**
 * Exactness: the fraction of the true k nearest neighbours (by the knnet reference, direct
 * differences in float64) that each implementation returns on W2 and on W2 shifted by +1000,
 * and on the cosine workload (the reference ranking by 1 − cos of L2-normalised rows).
 * Shared by the Node bench and the browser page.
 */
import { knnetReferenceImplementation } from './peers/knnet.js';
import type { Implementation } from './peers/types.js';
import type { ExactnessResult } from './report.js';
import { COSINE_WORKLOAD, exactnessWorkloads, loadWorkload, type WorkloadSpec } from './workloads.js';

export const EXACTNESS_QUERIES = 100;

/** The cosine workload's first queries: the truth is the reference network with metric 'cosine'. */
export const cosineExactnessWorkload = (): WorkloadSpec => ({ ...COSINE_WORKLOAD, q: EXACTNESS_QUERIES });

/**
 * Fraction of the true k nearest neighbours (by the reference, in the workload's metric) each
 * implementation returns, on W2 and W2+1000 unless other workloads are given.
 */
export async function measureExactness(
  implementations: Implementation[], notes: string[], specs: WorkloadSpec[] = exactnessWorkloads(EXACTNESS_QUERIES),
): Promise<ExactnessResult[]> {
  const results: ExactnessResult[] = [];
  for (const spec of specs) {
    const data = loadWorkload(spec);
    const k = spec.k as number;
    const truth = await knnetReferenceImplementation.prepare(data, spec.q);
    const trueNeighbours = await truth.neighbours!();
    const truePredictions = await truth.predictions();
    await truth.dispose();
    for (const implementation of implementations) {
      if (implementation.name === 'reference' || implementation.unsupported(spec)) continue;
      try {
        const run = await implementation.prepare(data, spec.q);
        let fraction = 0;
        let basis: ExactnessResult['basis'];
        if (run.neighbours) {
          basis = 'neighbours';
          const found = await run.neighbours();
          for (let query = 0; query < spec.q; query++) {
            const expected = new Set(trueNeighbours.subarray(query * k, (query + 1) * k));
            for (let slot = 0; slot < k; slot++) if (expected.has(found[query * k + slot])) fraction++;
          }
          fraction /= spec.q * k;
        } else {
          basis = 'predictions';
          const predicted = await run.predictions();
          for (let query = 0; query < spec.q; query++) if (predicted[query] === truePredictions[query]) fraction++;
          fraction /= spec.q;
        }
        await run.dispose();
        results.push({ implementation: implementation.name, label: implementation.label, workload: spec.name, fraction, basis });
        console.log(`  ${implementation.label.padEnd(22)} ${spec.name.padEnd(8)} ${(100 * fraction).toFixed(1)} % (${basis})`);
      } catch (error) {
        notes.push(`exactness ${spec.name} ${implementation.name} failed: ${(error as Error).message}`);
      }
    }
  }
  return results;
}

