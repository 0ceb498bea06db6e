// The kernels' entry points. The wrapper (src/wasm.ts) calls one entry per chunk of queries;
// each streams the training points past the chunk through a layer-1 kernel (assembly/stream.ts)
// into one reducer: the k-nearest search (neighbourSearch.ts), the softmax over all points
// (softmaxAllPoints.ts), `forward`'s copy of layer 1 (layerOne.ts) or the radius search
// (radiusSearch.ts). The pruned search's partition (partition.ts: boxes, clusterPartition.ts:
// clusters), its k-nearest searches (leafSearch.ts, clusterSearch.ts) and its radius search
// (partitionRadius.ts) have modules of their own.

export { allocate, release, capacityBytes, allocatedBytes, allocatedRegions } from './memory';
export { computeMean, packPoints, packWeights } from './distance';
export { candidateErrorBound, float32Scale, packFloat32Weights } from './float32Distance';
export { argmaxRows, projectOneHot } from './project';
export { stableExp } from './softmax';
export { topKStateBytes } from './topk';
export { scratchBytes } from './stream';
export { directPanelDimensions, float32UnprovenQueries, searchNeighbours, searchStoredNeighbours } from './neighbourSearch';
export {
  softmaxBlockCount, softmaxBlockStates, softmaxMergeBlocks, softmaxQueryStateBytes, softmaxScores, storedSoftmaxBlockStates, storedSoftmaxScores,
} from './softmaxAllPoints';
export { layerOneDistances, storedLayerOneDistances } from './layerOne';
export { radiusNeighbourRows, radiusNeighbours, storedRadiusNeighbourRows, storedRadiusNeighbours } from './radiusSearch';
export { keepStoredPoints, packFloat32Norms, packFloat32Rows, packUnitFactors, sumFloat32Points, unpackFloat32Rows } from './float32Storage';
export { storedCandidateErrorBound, storedFloat32Searchable } from './storedDistance';
export { boxPartitionScratchBytes, buildBoxPartition, growBoxPartition, partitionLeaves, partitionNodes } from './partition';
export { boxSearchScratchBytes, boxSearchWork, positionsToIndices, searchBoxPartition } from './leafSearch';
export { allowedDirectNeighbours, countAllowed, listedDirectNeighbours } from './filter';
export { buildClusterPartition, clusterDataBytes, clusterPartitionScratchBytes, permuteRows } from './clusterPartition';
export { clusterSearchFallbackQueries, clusterSearchScratchBytes, clusterSearchWork, searchClusterPartition } from './clusterSearch';
export { countBoxRadius, countClusterRadius, radiusBoxPartition, radiusBoxScratchBytes, radiusClusterPartition, radiusClusterScratchBytes } from './partitionRadius';
