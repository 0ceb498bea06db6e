// The metrics as the kernels take them (src/metrics.ts METRIC_CODES), and the layer-1 kernel of
// each. Euclidean and cosine run on the expansion (a GEMM) or on direct differences; Manhattan
// and dot are not the expansion's ‖x − X_i‖², so they run on their direct kernel alone.

import { DIRECT_DIFFERENCES, DISTANCE_GEMM, DOT_PRODUCTS, MANHATTAN_DIFFERENCES } from './stream';

export const EUCLIDEAN: i32 = 0;
export const COSINE: i32 = 1;
export const MANHATTAN: i32 = 2;
export const DOT: i32 = 3;

/** Whether `metric` runs on its direct kernel alone (Manhattan, dot): no expansion, no GEMM. */
@inline export function directOnly(metric: i32): bool {
  return metric == MANHATTAN || metric == DOT;
}

/** The direct layer-1 kernel of `metric` (a stream.ts code): Σ|x − y|, −Σ x·y, or Σ(x − y)². */
@inline export function directLayer(metric: i32): i32 {
  return metric == MANHATTAN ? MANHATTAN_DIFFERENCES : metric == DOT ? DOT_PRODUCTS : DIRECT_DIFFERENCES;
}

/** The layer-1 kernel whose values users read (forward's z1, the softmax over all points): the same bits in both builds. */
@inline export function exactLayer(metric: i32): i32 {
  return directOnly(metric) ? directLayer(metric) : DISTANCE_GEMM;
}
