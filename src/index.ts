/**
 * Exact k-nearest-neighbour prediction as a three-layer neural network, with WebAssembly SIMD
 * kernels: `import { KnnNetwork } from 'knnet'`.
 * @module knnet
 */
export { KnnNetwork, type AddOptions, type AddedLabels } from './network.js';
export { KnnError, type KnnErrorCode } from './errors.js';
export type { Algorithm, KnnOptions, ResolvedOptions, SearchFilter, StorageOption, Weighting, Task } from './options.js';
export type { StorageKind } from './planner.js';
export type { Label } from './labels.js';
export type { AbortSignalLike, CallOptions } from './callOptions.js';
export type { FitOptions } from './networkOptions.js';

export type { Metric } from './metrics.js';
export type { Matrix, MatrixInput, QueryInput } from './matrix.js';
export { kernelInfo, setKernelBuild, type KernelBuild, type KernelBuildChoice, type KernelInfo } from './kernelBuild.js';
export type { Prediction, Neighbours, RadiusNeighbours, LayerActivations, NetworkWeights, ClassPrediction, ClassifierInput, LabelledInput } from './results.js';
