// Entries for the bound tests (test/partitionBounds.test.ts), compiled by that test alone: the
// cluster partition's build and its query-to-cluster bounds (lower and upper), so that the
// bounds can be checked against every member's directly computed distance on data built to make
// them tight, which the shipped kernels keep internal.
import { ClusterLayout, layClusters } from '../assembly/clusterPartition';
import { boundClusters, clusterUpperBound } from '../assembly/clusterSearch';

export { computeMean } from '../assembly/distance';
export { buildClusterPartition, clusterDataBytes, clusterPartitionScratchBytes } from '../assembly/clusterPartition';

/** The first free byte of this module's memory, 16-byte aligned: the test's memory starts here. */
export function freeMemory(): usize {
  return (__heap_base + 15) & ~<usize>15;
}

/**
 * One query's lower bounds on every cluster (K f64 to `lower`) and upper bounds (K f64 to
 * `upper`); `scratch` holds a layout descriptor, then the centred query, its dot products, its
 * distances to the centres, and its norm (d + 3K + 2 f64). Returns its nearest cluster.
 */
export function queryClusterBounds(query: usize, mean: usize, d: i32, clusters: i32, data: usize, scratch: usize, lower: usize, upper: usize): i32 {
  const layout = changetype<ClusterLayout>(scratch);
  layClusters(layout, data, clusters, d);
  const centred = scratch + 64;
  const dots = centred + (<usize>d << 3);
  const distances = dots + (<usize>clusters << 3);
  const norm = distances + (<usize>clusters << 3);
  const home = boundClusters(query, mean, d, clusters, layout, centred, dots, distances, lower, norm);
  for (let c = 0; c < clusters; c++) {
    const value = clusterUpperBound(
      d, load<f64>(distances + (<usize>c << 3)), load<f64>(norm), load<f64>(layout.radii + (<usize>c << 3)), load<f64>(layout.memberNorms + (<usize>c << 3)),
    );
    store<f64>(upper + (<usize>c << 3), value);
  }
  return home;
}
