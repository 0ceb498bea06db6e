// Layer 1 itself, for `forward`: every distance copied to the output.

import { CopyReducer, DISTANCE_GEMM, MANHATTAN_DIFFERENCES, reducerIn, streamDistances } from './stream';

/** Layer 1 itself, q × n, for `forward`. */
export function layerOneDistances(
  packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  queries: usize, q: i32, scratch: usize, output: usize, manhattan: bool,
): void {
  const reducer = reducerIn<CopyReducer>(scratch, q, d);
  reducer.begin(output, n);
  streamDistances(reducer, packed, pointNorms, n, d, mean, queries, q, scratch, manhattan ? MANHATTAN_DIFFERENCES : DISTANCE_GEMM);
}
