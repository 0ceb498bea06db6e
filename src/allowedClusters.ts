// A filtered batch on a cluster network, over few allowed points: the network's partition cut
// down to them for the call. Each cluster keeps its allowed members, contiguous and in the same
// leaf order, and every bound the cluster data holds (its ball's radius, its largest member
// norm, its slabs along the other clusters) bounds any subset of its members, so it bounds
// them; only the starts are counted again. The search then visits clusters as the network's
// own does, over dense panels of allowed points instead of the whole network's panels with the
// left-out lanes skipped, and needs no k-means of its own.
import { packSearchLayers, partitionEntries, type Partition } from './partition.js';
import type { TreeSearch } from './treeIndex.js';
import type { Kernels, Region } from './wasm.js';

/** A search over the allowed points' own partition, and what to free after the call. */
export interface AllowedClusterSearch {
  readonly tree: TreeSearch;
  release(): void;
}

/**
 * The `count` points `allowed` marks (a byte per caller index) of `tree`'s cluster partition as
 * a partition of their own (see above), with its layers packed as the network's are. Its order
 * holds the caller's indices, so its answers need no mapping back.
 */
export function allowedClusterSearch(kernels: Kernels, tree: TreeSearch, allowed: Uint8Array, count: number): AllowedClusterSearch {
  const { partition, layers } = tree;
  const { n, d } = partition;
  const { clusters } = partition.plan;
  const dataBytes = partitionEntries(kernels).clusterDataBytes(clusters, d);
  const what = `a filter's ${count} points × ${d} features`;
  const regions: Region[] = [];
  const allocate = (bytes: number): Region => {
    const region = kernels.allocate(Math.max(16, bytes), what);
    regions.push(region);
    return region;
  };
  const release = () => regions.forEach((region) => kernels.release(region));
  try {
    const rows = allocate(count * d * 8);
    const order = allocate(count * 4);
    const data = allocate(dataBytes);
    // Views after every allocation: one may have grown the memory.
    const memory = kernels.exports.memory.buffer;
    new Uint8Array(memory, data.pointer, dataBytes).set(new Uint8Array(memory, partition.bounds.pointer, dataBytes));
    const parentStarts = kernels.i32(partition.bounds.pointer, clusters + 1).slice();
    const starts = kernels.i32(data.pointer, clusters + 1);
    const parentOrder = kernels.i32(partition.order.pointer, n);
    const keptOrder = kernels.i32(order.pointer, count);
    const source = kernels.f64(layers.points, n * d);
    const target = kernels.f64(rows.pointer, count * d);
    let placed = 0;
    const keep = (from: number, end: number) => {
      for (let p = from; p < end; p++) {
        const index = parentOrder[p];
        if (!allowed[index]) continue;
        for (let j = 0; j < d; j++) target[placed * d + j] = source[p * d + j];
        keptOrder[placed++] = index;
      }
    };
    for (let c = 0; c < clusters; c++) {
      starts[c] = placed;
      keep(parentStarts[c], parentStarts[c + 1]);
    }
    starts[clusters] = placed;
    // The points appended after the clusters were built: the tail every query scans.
    keep(parentStarts[clusters], n);
    const kept: Partition = {
      plan: partition.plan, n: count, builtN: starts[clusters], capacity: count, d, order, treeLeaves: 0, bounds: data, lowestIndices: undefined, tailBoxes: undefined,
    };
    const packed = packSearchLayers(kernels, kept, rows.pointer, layers.mean, layers.float32 !== undefined);
    regions.push(...packed.regions);
    return { tree: { ...tree, partition: kept, layers: packed.layers, allowed: 0, serves: (k) => k <= count && tree.serves(k) }, release };
  } catch (error) {
    release();
    throw error;
  }
}
