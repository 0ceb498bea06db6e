// Layer 1 itself, for `forward`: every distance copied to the output.

import { panelCount } from './distance';
import { CopyReducer, reducerIn, STORED, streamDistances } from './stream';
import { exactLayer } from './metrics';

/** Layer 1 itself, q × n, for `forward`, in `metric` (a metrics.ts code). */
export function layerOneDistances(
  packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  queries: usize, q: i32, scratch: usize, output: usize, metric: i32,
): void {
  copyLayerOne(packed, pointNorms, mean, n, d, queries, q, scratch, output, exactLayer(metric));
}

/** layerOneDistances on float32 storage (`panels`, b1 in `pointNorms`, a cosine network's `unitFactors`, else 0): the same bits. */
export function storedLayerOneDistances(
  panels: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  queries: usize, q: i32, scratch: usize, output: usize, metric: i32, unitFactors: usize,
): void {
  copyLayerOne(panels, pointNorms, mean, n, d, queries, q, scratch, output, STORED + exactLayer(metric), unitFactors);
}

function copyLayerOne(
  panels: usize, pointNorms: usize, mean: usize, n: i32, d: i32, queries: usize, q: i32, scratch: usize, output: usize, kernel: i32, unitFactors: usize = 0,
): void {
  const reducer = reducerIn<CopyReducer>(scratch, q, d);
  reducer.begin(output, n);
  streamDistances(reducer, panels, pointNorms, n, d, mean, queries, q, scratch, kernel, 0, panelCount(n), unitFactors);
}
