// What the CLI predicts with: the network, and what turns a row of a test file into one of its
// queries (which columns, in which order; the values for empty fields; the standardization).
import type { KnnNetwork } from '../network.js';
import type { ImputeMethod } from './arguments.js';
import type { Standardization } from './featureScaling.js';

export interface Imputation {
  readonly method: ImputeMethod;
  /** One value per feature, in feature order. */
  readonly values: Float64Array;
}

export interface FeaturePreparation {
  /** The feature columns, in the network's order (a test file may order them differently). */
  readonly featureNames: readonly string[];
  /** The label column: the output's header, and scored when the test file has it. */
  readonly targetName: string;
  readonly imputation?: Imputation;
  readonly standardization?: Standardization;
}

export interface CliModel {
  readonly net: KnnNetwork;
  readonly preparation: FeaturePreparation;
}
