// Every training point within a limit of each query, over a partition (assembly/partitionRadius.ts):
// the points brute force's radiusNeighbours keeps, in its order, counted before anything is
// allocated.
import type { Matrix } from './matrix.js';
import type { Kernels } from './wasm.js';
import { align16, partitionEntries, unsigned, type Partition, type SearchLayers } from './partition.js';

/** Every training point within a limit of each query: compressed rows of caller indices and values. */
export interface WithinLimit {
  /** Query r's points are entries offsets[r] … offsets[r + 1] − 1. */
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
  /** Squared distances (Manhattan: distances), ascending within a row, ties by caller index. */
  readonly values: Float64Array;
}

/**
 * The training points whose value (squared Euclidean, or Manhattan) is at most `limit`, for
 * every query row: the points brute force's radiusNeighbours keeps, in its order. Counted first
 * over the whole call (a node wholly inside the limit counts by its size, unmeasured), so the
 * results are allocated once, at their size; `largest` caps that size (a TOO_LARGE check is the
 * caller's: `tooMany(total)` is called with the count before anything is allocated).
 */
export function radiusPartition(
  kernels: Kernels, partition: Partition, layers: SearchLayers, queries: Matrix, limit: number, manhattan: boolean,
  tooMany: (total: number) => void = () => {},
): WithinLimit {
  const exported = partitionEntries(kernels);
  const { n, d, plan } = partition;
  const boxes = plan.kind === 'boxes';
  const q = queries.rows;
  const scratchBytes = align16(boxes ? unsigned(exported.radiusBoxScratchBytes(plan.leafPoints)) : unsigned(exported.radiusClusterScratchBytes(d, plan.clusters)));
  const chunk = Math.max(1, Math.min(q, 4096));
  const rowsBytes = align16(chunk * d * 8);
  const countsBytes = align16(chunk * 4);
  const total = rowsBytes + countsBytes + scratchBytes;
  kernels.checkRoom(total - kernels.scratchBytesHeld(), `radiusNeighbors on ${n} points`);
  let base = kernels.scratch(total);
  const offsets = new Int32Array(q + 1);
  for (let start = 0; start < q; start += chunk) {
    const count = Math.min(chunk, q - start);
    const [rows, counts, scratch] = [base, base + rowsBytes, base + rowsBytes + countsBytes];
    kernels.f64(rows, count * d).set(queries.data.subarray(start * d, (start + count) * d));
    if (boxes) {
      exported.countBoxRadius(layers.pointPanels, n, d, plan.leafPoints, partition.treeLeaves, partition.bounds.pointer, partition.tailBoxes!.pointer, rows, count, limit, scratch, counts, manhattan ? 1 : 0);
    } else {
      exported.countClusterRadius(layers.points, n, d, layers.mean, partition.bounds.pointer, plan.clusters, rows, count, limit, scratch, counts);
    }
    const found = kernels.i32(counts, count);
    for (let r = 0; r < count; r++) offsets[start + r + 1] = offsets[start + r] + found[r];
  }
  const found = offsets[q];
  tooMany(found);
  const indices = new Int32Array(found);
  const values = new Float64Array(found);
  let largestRow = 0;
  for (let r = 0; r < q; r++) largestRow = Math.max(largestRow, offsets[r + 1] - offsets[r]);
  const rowBytes = align16(d * 8);
  const outBytes = align16(largestRow * 4) + largestRow * 8;
  kernels.checkRoom(rowBytes + scratchBytes + outBytes - kernels.scratchBytesHeld(), `radiusNeighbors on ${n} points`);
  base = kernels.scratch(rowBytes + scratchBytes + outBytes);
  const [row, scratch, outPositions, outValues] = [base, base + rowBytes, base + rowBytes + scratchBytes, base + rowBytes + scratchBytes + align16(largestRow * 4)];
  for (let r = 0; r < q; r++) {
    const room = offsets[r + 1] - offsets[r];
    if (room === 0) continue;
    kernels.f64(row, d).set(queries.data.subarray(r * d, (r + 1) * d));
    const measured = boxes
      ? exported.radiusBoxPartition(layers.pointPanels, n, d, plan.leafPoints, partition.treeLeaves, partition.order.pointer, partition.bounds.pointer, partition.tailBoxes!.pointer, row, limit, scratch, outPositions, outValues, room, manhattan ? 1 : 0)
      : exported.radiusClusterPartition(layers.points, n, d, layers.mean, partition.order.pointer, partition.bounds.pointer, plan.clusters, row, limit, scratch, outPositions, outValues, room);
    if (measured !== room) throw new Error(`the radius search found ${measured} points where its count found ${room}`);
    exported.positionsToIndices(partition.order.pointer, outPositions, room);
    indices.set(kernels.i32(outPositions, room), offsets[r]);
    values.set(kernels.f64(outValues, room), offsets[r]);
  }
  return { offsets, indices, values };
}
