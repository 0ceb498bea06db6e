// Filtered searches: the k nearest (or those within a radius) among the points a filter allows,
// exactly as brute force over that subset finds them, with the caller's indices. The allowed
// points are gathered once per call into weights of their own, in their order (so ties still go
// to the lower index), searched, and their positions mapped back: the search then streams the
// allowed points only.
import { KnnError, describeValue } from './errors.js';
import { classCode } from './labels.js';
import type { ResolvedOptions, SearchFilter } from './options.js';
import type { Kernels } from './wasm.js';
import { readPoints, weightsRegions, type Weights } from './weights.js';
import { buildNetworkWeights } from './trainingUpdates.js';

/**
 * The points `options` allow (1 = allowed) among `w`'s, or undefined when it filters nothing
 * (no filter given). `labels` reads the points' class codes.
 */
export function allowedPoints(options: SearchFilter | undefined, w: Weights, task: ResolvedOptions['task'], labels: () => Int32Array, call: string): Uint8Array | undefined {
  if (options === undefined || (options.filter === undefined && options.classes === undefined)) return undefined;
  let allowed: Uint8Array | undefined;
  if (options.filter !== undefined) {
    const { filter } = options;
    if (!(filter instanceof Uint8Array)) throw new KnnError('BAD_INPUT', `${call}: options.filter must be a Uint8Array of ${w.n} bytes (1 = allowed); got ${describeValue(filter)}.`);
    if (filter.length !== w.n) throw new KnnError('SHAPE_MISMATCH', `${call}: options.filter has ${filter.length} bytes but the network has ${w.n} points; pass one byte per point.`);
    allowed = filter.slice();
    const bad = allowed.findIndex((byte) => byte > 1);
    if (bad >= 0) throw new KnnError('BAD_INPUT', `${call}: options.filter[${bad}] is ${allowed[bad]}; each byte must be 1 (allowed) or 0 (left out).`);
  }
  if (options.classes !== undefined) {
    if (task !== 'classification') throw new KnnError('BAD_OPTION', `${call}: options.classes filters a classifier's points by class; this network has task '${task}'.`);
    const list: unknown = options.classes;
    if (!Array.isArray(list)) throw new KnnError('BAD_INPUT', `${call}: options.classes must be an array of the network's class labels; got ${describeValue(list)}.`);
    const wanted = new Uint8Array(w.classes.length);
    for (const label of list) wanted[classCode(w.classes, label, `${call}: options.classes`)] = 1;
    const codes = labels();
    allowed ??= new Uint8Array(w.n).fill(1);
    for (let i = 0; i < w.n; i++) allowed[i] &= wanted[codes[i]];
  }
  return allowed;
}

/** The allowed points as weights of their own (no labels), and the position of each among the network's. */
export interface GatheredPoints {
  readonly weights: Weights | undefined;
  readonly positions: Int32Array;
  release(): void;
}

/** Gathers the points `allowed` marks into weights of their own, packed as the network packs its own. */
export function gatherAllowed(kernels: Kernels, w: Weights, allowed: Uint8Array, options: ResolvedOptions): GatheredPoints {
  const positions = new Int32Array(allowed.reduce((sum, byte) => sum + byte, 0));
  if (positions.length === 0) return { weights: undefined, positions, release: () => {} };
  for (let i = 0, m = 0; i < w.n; i++) if (allowed[i]) positions[m++] = i;
  const rows = readPoints(kernels, w, positions);
  const weights = buildNetworkWeights(kernels, { data: rows, rows: positions.length, cols: w.d }, undefined, options);
  return { weights, positions, release: () => weightsRegions(weights).forEach((region) => kernels.release(region)) };
}

/** Maps positions among the gathered points back to the network's (−1 stays −1), in place. */
export function toNetworkPositions(indices: Int32Array, positions: Int32Array): Int32Array {
  for (let i = 0; i < indices.length; i++) if (indices[i] >= 0) indices[i] = positions[indices[i]];
  return indices;
}

