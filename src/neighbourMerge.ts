// Merging neighbour lists found over separate runs of the training points (the slices of a call
// split by training rows, the shards of a network past one wasm memory). Each part lists its
// points nearest first by (z1, index); with every part's indices counted from where its run
// starts, the merge keeps that order over the union, so it is what one search over all the
// points finds, bit for bit: every z1 is computed from the query and the point alone.
import type { FoundNeighbours } from './jobs.js';
import type { RadiusNeighbours } from './results.js';

/** Whether entry (value a, index i) comes before (value b, index j): by z1, ties toward the lower index. */
const before = (a: number, i: number, b: number, j: number): boolean => a < b || (a === b && i < j);

/**
 * The `width` nearest of each query over `parts` (part p's indices counted from `firsts[p]`,
 * its rows of any width, entries of index −1 ending a row that found fewer), nearest first;
 * a row with fewer than `width` in all ends with index −1 at Infinity.
 */
export function mergeNeighbourLists(parts: readonly FoundNeighbours[], firsts: readonly number[], rows: number, width: number): FoundNeighbours {
  const indices = new Int32Array(rows * width).fill(-1);
  const squared = new Float64Array(rows * width).fill(Infinity);
  const widths = parts.map((part) => part.indices.length / rows);
  const heads = new Int32Array(parts.length);
  for (let r = 0; r < rows; r++) {
    heads.fill(0);
    for (let j = 0; j < width; j++) {
      let best = -1;
      let bestValue = Infinity;
      let bestIndex = -1;
      for (let p = 0; p < parts.length; p++) {
        if (heads[p] === widths[p]) continue;
        const at = r * widths[p] + heads[p];
        const local = parts[p].indices[at];
        if (local < 0) continue;
        const value = parts[p].squared[at];
        if (best < 0 || before(value, local + firsts[p], bestValue, bestIndex)) [best, bestValue, bestIndex] = [p, value, local + firsts[p]];
      }
      if (best < 0) break;
      heads[best]++;
      indices[r * width + j] = bestIndex;
      squared[r * width + j] = bestValue;
    }
  }
  return { indices, squared };
}

/** Radius answers over `parts` (z1 values for distances; part p's indices counted from `firsts[p]`) as one, each row nearest first. */
export function mergeRadiusLists(parts: readonly RadiusNeighbours[], firsts: readonly number[]): RadiusNeighbours {
  const rows = parts[0].offsets.length - 1;
  const offsets = new Int32Array(rows + 1);
  for (let r = 0; r < rows; r++) offsets[r + 1] = offsets[r] + parts.reduce((sum, part) => sum + part.offsets[r + 1] - part.offsets[r], 0);
  const indices = new Int32Array(offsets[rows]);
  const distances = new Float64Array(offsets[rows]);
  const heads = new Int32Array(parts.length);
  for (let r = 0; r < rows; r++) {
    parts.forEach((part, p) => (heads[p] = part.offsets[r]));
    for (let at = offsets[r]; at < offsets[r + 1]; at++) {
      let best = -1;
      for (let p = 0; p < parts.length; p++) {
        if (heads[p] === parts[p].offsets[r + 1]) continue;
        if (best < 0 || before(parts[p].distances[heads[p]], parts[p].indices[heads[p]] + firsts[p], distances[at], indices[at])) {
          best = p;
          distances[at] = parts[p].distances[heads[p]];
          indices[at] = parts[p].indices[heads[p]] + firsts[p];
        }
      }
      heads[best]++;
    }
  }
  return { offsets, indices, distances };
}
