// The kernels' entry points. The wrapper (src/wasm.ts) calls one entry per chunk of queries;
// each streams the training points past the chunk through a layer-1 kernel (assembly/stream.ts)
// into one reducer: the k-nearest search (neighbourSearch.ts), the softmax over all points
// (softmaxAllPoints.ts), `forward`'s copy of layer 1 (layerOne.ts) or the radius search
// (radiusSearch.ts).

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
export { packFloat32Norms, packFloat32Rows, sumFloat32Points, unpackFloat32Rows } from './float32Storage';
export { storedCandidateErrorBound, storedFloat32Searchable } from './storedDistance';
