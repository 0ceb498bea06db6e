// 'auto' (src/partitionCost.ts): treeRuledOut, which answers before a partition of every point is
// built, refuses the tree only where choosesTree over that partition refuses it too, and spares
// the build where the answer is brute force (high-dimensional uniform data, few points); a
// network chooses as the whole partition's model does, at fit and as single adds double it.
import { describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { buildPartition, packSearchLayers, partitionRegions, planPartition } from '../src/partition.js';
import { choosesTree, treeRuledOut } from '../src/partitionCost.js';
import { SeededRandom } from '../src/random.js';
import { loadKernels, type Kernels } from '../src/wasm.js';
import { flat, uniform, type Flat } from './treeHelpers.js';

const K = 5;

/** Gaussian blobs as the bench's high-dimensional workloads (W2, W3): centres uniform in [−10, 10]^d, unit noise. */
function blobs(seed: number, n: number, d: number, count: number): Flat {
  const random = new SeededRandom(seed);
  const centres = Float64Array.from({ length: count * d }, () => -10 + 20 * random.uniform());
  const blobOf = Int32Array.from({ length: n }, () => random.integer(count));
  return flat(n, d, (i, j) => centres[blobOf[i] * d + j] + random.normal());
}

/** treeRuledOut on X, then choosesTree over the partition of all its points (built from its own copy). */
function decisions(kernels: Kernels, X: Flat, float32Candidates: boolean): { ruledOut: boolean; chosen: boolean } {
  const { rows: n, cols: d } = X;
  const points = kernels.allocate(n * d * 8);
  const mean = kernels.allocate(d * 8);
  const regions = [points, mean];
  try {
    kernels.f64(points.pointer, n * d).set(X.data);
    kernels.exports.computeMean(points.pointer, n, d, mean.pointer);
    const options = { float32Candidates };
    const ruledOut = treeRuledOut(kernels, points.pointer, n, d, mean.pointer, 'euclidean', K, options);
    const partition = buildPartition(kernels, points.pointer, n, d, mean.pointer, planPartition(n, d, 'euclidean')!);
    regions.push(...partitionRegions(partition));
    const packed = packSearchLayers(kernels, partition, points.pointer, mean.pointer, float32Candidates);
    regions.push(...packed.regions);
    return { ruledOut, chosen: choosesTree(kernels, partition, packed.layers, K, options) };
  } finally {
    for (const region of regions) kernels.release(region);
  }
}

describe("'auto' rules the tree out before building a partition of every point", () => {
  it('only where the whole partition refuses it too; high-dimensional uniform data and few points are ruled out', async () => {
    const kernels = await loadKernels();
    for (const d of [24, 64, 128]) {
      for (const n of [1500, 3000, 9000]) {
        for (const float32Candidates of [true, false]) {
          const uniformData = decisions(kernels, uniform(d + n, n, d), float32Candidates);
          const blobData = decisions(kernels, blobs(d + n + 1, n, d, 10), float32Candidates);
          const shape = `${n} × ${d}, float32Candidates ${float32Candidates}`;
          expect(uniformData.chosen, `uniform, ${shape}`).toBe(false);
          expect(uniformData.ruledOut, `uniform, ${shape}: the build spared`).toBe(true);
          expect(blobData.ruledOut && blobData.chosen, `10 blobs, ${shape}: ruled out where the tree is chosen`).toBe(false);
          if (n === 9000 && float32Candidates) expect(blobData.chosen, `10 blobs, ${shape}`).toBe(true);
        }
      }
    }
  }, 60_000);

  it('a network chooses the tree on high-dimensional blobs and brute force on uniform data, at fit and as single adds double it', async () => {
    // The last choice of the grown network is made at 8 192 points, where 10 blobs prune enough.
    const d = 64;
    for (const [X, expected] of [[blobs(50, 9000, d, 10), 'tree'], [uniform(51, 9000, d), 'brute']] as const) {
      const fitted = await KnnNetwork.fit(X, null, { task: 'search', k: K });
      const grown = await KnnNetwork.create({ task: 'search', k: K });
      for (let row = 0; row < X.rows; row++) grown.add({ data: X.data.subarray(row * d, (row + 1) * d), rows: 1, cols: d });
      expect(fitted.searchAlgorithm).toBe(expected);
      expect(grown.searchAlgorithm).toBe(expected);
      fitted.dispose();
      grown.dispose();
    }
  }, 60_000);
});
