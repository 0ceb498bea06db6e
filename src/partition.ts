// The partition behind the pruned search (assembly/partition.ts, assembly/clusterPartition.ts)
// and its leaf-order search (assembly/leafSearch.ts, assembly/clusterSearch.ts), for a network
// to wire in. A partitioned network keeps every layout in leaf order: position p holds the
// caller's point order[p].
//
//   planPartition(n, d, metric)                  which partition, with what leaves or clusters
//   buildPartition(kernels, X, n, d, mean, plan) permutes X's rows (row-major, in wasm) into leaf
//                                                order in place; allocates and fills the order
//                                                and the bounds. μ must be the mean of the
//                                                caller's order (computeMean before this), so
//                                                each point's W1 and b1 are brute force's bits.
//   orderOf(kernels, partition)                  order[p], a view
//   restoreCallerOrder(kernels, partition, X)    X's rows back in the caller's order (brute chosen)
//   permuteValues(values, order)                 labels (or any per-point values) into leaf order
//   packSearchLayers(kernels, partition, …)      the layouts the search reads, packed from X in
//                                                leaf order with the existing kernels (packPoints,
//                                                packWeights, packFloat32Weights)
//   appendToPartition, appendSearchLayers        points appended (add): tail leaves and grown
//                                                boxes; partitionDegraded says when to rebuild
//   searchCapacity, searchChunkQueries           candidates kept per query; queries per call
//   searchScratchBytes(…), searchCall(…)         one chunk of queries: its scratch and the kernel
//                                                call (outputs positions and squared distances —
//                                                Manhattan: distances — k per query, ascending,
//                                                ties toward the lower caller index)
//   indicesCall(…)                               positions → the caller's indices, in place
//   searchPartition(…)                           a whole search in chunks on this thread (tests,
//                                                the bench, and the model of a runner's job)
//   partitionRegions(partition)                  the regions a network holds for it
//
// Beside it: partitionRadius.ts (every point within a limit: counted, then allocated once) and
// partitionCost.ts ('auto': whether the pruned search pays, from a deterministic sample).
//
// Which partition: a k-d tree of boxes over X's direct panels wherever the search runs on
// direct differences (d ≤ 16, and Manhattan at any d); clusters with ball and slab bounds over
// the float32 GEMM (or direct differences without the float32 copy) for the GEMM search.
import type { Matrix } from './matrix.js';
import type { Metric } from './metrics.js';
import type { Kernels, Region } from './wasm.js';
import type { KernelCall } from './workerPool.js';

/** The kernels' partition entries (assembly/index.ts exports them). */
export interface PartitionExports {
  partitionLeaves(n: number, leafPoints: number): number;
  partitionNodes(leaves: number): number;
  boxPartitionScratchBytes(d: number): number;
  buildBoxPartition(points: number, n: number, d: number, leafPoints: number, order: number, boxes: number, lowestIndices: number, scratch: number): void;
  growBoxPartition(points: number, oldN: number, n: number, d: number, leafPoints: number, treeLeaves: number, boxes: number, tailBoxes: number): void;
  boxSearchScratchBytes(q: number, k: number, leafPoints: number): number;
  searchBoxPartition(
    pointPanels: number, n: number, d: number, leafPoints: number, treeLeaves: number,
    order: number, boxes: number, lowestIndices: number, tailBoxes: number,
    queries: number, q: number, k: number, scratch: number, outPositions: number, outDistances: number, manhattan: number, allowed: number,
  ): void;
  clusterDataBytes(clusters: number, d: number): number;
  clusterPartitionScratchBytes(n: number, d: number, clusters: number): number;
  buildClusterPartition(points: number, n: number, d: number, mean: number, clusters: number, order: number, data: number, scratch: number): void;
  clusterSearchScratchBytes(q: number, d: number, clusters: number, k: number, capacity: number): number;
  searchClusterPartition(
    points: number, n: number, d: number, mean: number, order: number, clusterData: number, clusters: number,
    float32Panels: number, float32Norms: number, float32Scale: number, largestFloat32Norm: number,
    queries: number, q: number, k: number, capacity: number, scratch: number, outPositions: number, outSquared: number, allowed: number,
  ): void;
  positionsToIndices(order: number, positions: number, count: number): void;
  permuteRows(points: number, n: number, d: number, order: number, held: number, moved: number): void;
  boxSearchWork(scratch: number): number;
  radiusBoxScratchBytes(leafPoints: number): number;
  countBoxRadius(
    pointPanels: number, n: number, d: number, leafPoints: number, treeLeaves: number, boxes: number, tailBoxes: number,
    queries: number, q: number, limit: number, scratch: number, outCounts: number, manhattan: number,
  ): void;
  radiusBoxPartition(
    pointPanels: number, n: number, d: number, leafPoints: number, treeLeaves: number, order: number, boxes: number, tailBoxes: number,
    query: number, limit: number, scratch: number, outPositions: number, outValues: number, room: number, manhattan: number,
  ): number;
  radiusClusterScratchBytes(d: number, clusters: number): number;
  countClusterRadius(
    points: number, n: number, d: number, mean: number, clusterData: number, clusters: number, queries: number, q: number, limit: number, scratch: number, outCounts: number,
  ): void;
  radiusClusterPartition(
    points: number, n: number, d: number, mean: number, order: number, clusterData: number, clusters: number,
    query: number, limit: number, scratch: number, outPositions: number, outValues: number, room: number,
  ): number;
  clusterSearchWork(scratch: number, q: number, d: number, clusters: number, k: number, capacity: number): number;
  packPoints(points: number, n: number, d: number, packed: number, firstPoint: number): void;
  packWeights(points: number, n: number, d: number, mean: number, packed: number, norms: number, firstPoint: number): number;
  float32Scale(packed: number, n: number, d: number): number;
  packFloat32Weights(packed: number, n: number, d: number, scale: number, panels32: number, norms: number, firstPoint: number): number;
  scratchBytes(q: number, d: number, stateBytes: number): number;
}

/** The partition entries of `kernels`. */
export function partitionEntries(kernels: Kernels): PartitionExports {
  return kernels.exports as unknown as PartitionExports;
}
const entries = partitionEntries;
/** A byte count returned by the kernels, read unsigned (JavaScript reads an i32 result as signed). */
export const unsigned = (value: number): number => value >>> 0;
export const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

export const PANEL_POINTS = 8;
/** Up to this many features the search runs on direct differences (assembly/index.ts, DIRECT_PANEL_DIMENSIONS). */
const DIRECT_FEATURES = 16;

export type PartitionKind = 'boxes' | 'clusters';

/** Which partition a network of n points × d features gets, and its grain. */
export interface PartitionPlan {
  readonly kind: PartitionKind;
  /** Points per leaf of the box tree (a multiple of 8); 0 for clusters. */
  readonly leafPoints: number;
  /** Clusters of the cluster partition; 0 for boxes. */
  readonly clusters: number;
}

/**
 * Points per leaf of the box tree for d features: a leaf's scan costs its points × d, a visit of
 * the tree a few boxes × d, so leaves grow with d. Measured on 1M points (k = 5, time against
 * the next size up): uniform in 2 dimensions, 16 → 1.17× 32's time, 64 → 1.00×; in 4, 16 → 1.16×,
 * 64 → 0.91×, 128 → 0.95×; 50 blobs in 8, 128 → 0.98× 64's, 256 → 0.97×; in 16, 256 → 0.85× 128's,
 * 512 → 1.36× 256's.
 */
export function boxLeafPoints(d: number): number {
  return d <= 2 ? 32 : d <= 4 ? 64 : d <= 8 ? 128 : 256;
}

/**
 * Clusters of the cluster partition for n points: 16, fewer for a few thousand points (at
 * least 64 points each). Measured on the benchmark's 10 blobs (k = 5, float32 candidates, one
 * thread): on 100 000 × 128, K = 8, 16, 24, 32 searched at 2.7×, 5.7×, 4.6×, 3.7× brute
 * force's speed; on 10 000 × 64, K = 12, 16, 24 at 3.2×, 3.7×, 2.9×. Fewer clusters than the
 * data has blobs bound nothing between the blobs sharing one; more split each blob, whose parts
 * the bounds cannot tell apart, and spread a group of queries over more clusters.
 */
export function clusterCount(n: number): number {
  return Math.max(1, Math.min(16, Math.floor(n / 64)));
}

/** The partition for n points × d features ranked by `metric`; undefined when there are no points. */
export function planPartition(n: number, d: number, metric: Metric): PartitionPlan | undefined {
  if (n === 0) return undefined;
  if (metric === 'manhattan' || d <= DIRECT_FEATURES) return { kind: 'boxes', leafPoints: boxLeafPoints(d), clusters: 0 };
  return { kind: 'clusters', leafPoints: 0, clusters: clusterCount(n) };
}

/** A built partition: its plan, the order, and the bounds of its kind, in wasm memory. */
export interface Partition {
  readonly plan: PartitionPlan;
  /** Points it holds: those it was built on, then those appended (appendToPartition). */
  readonly n: number;
  /** Points it was built on: the tree's or the clusters'; the rest are its tail. */
  readonly builtN: number;
  /** Points its regions have room for. */
  readonly capacity: number;
  readonly d: number;
  /** order[p], i32 per position (room for `capacity`): the caller's index of position p. */
  readonly order: Region;
  /** Boxes: the leaves in the tree (the rest of n, appended later, in tail leaves). */
  readonly treeLeaves: number;
  /** Boxes: every node's box (d lows, d highs); clusters: the cluster data (clusterDataBytes). */
  readonly bounds: Region;
  /** Boxes: every node's lowest caller index (i32); undefined for clusters. */
  readonly lowestIndices: Region | undefined;
  /** Boxes: the boxes of the tail leaves after the tree's (room for those `capacity` makes); undefined for clusters. */
  readonly tailBoxes: Region | undefined;
}

/** The regions a partition holds. */
export function partitionRegions(partition: Partition): Region[] {
  const regions = [partition.order, partition.bounds];
  if (partition.lowestIndices) regions.push(partition.lowestIndices);
  if (partition.tailBoxes) regions.push(partition.tailBoxes);
  return regions;
}

/** Tail leaves (boxes) a box partition over `builtN` points needs to hold `capacity`. */
function tailLeaves(exported: PartitionExports, plan: PartitionPlan, builtN: number, capacity: number): number {
  const treeEnd = exported.partitionLeaves(builtN, plan.leafPoints) * plan.leafPoints;
  return Math.max(1, Math.ceil(Math.max(0, capacity - treeEnd) / plan.leafPoints));
}

/** Bytes a partition of `plan` holds for n points × d features, besides the scratch its build borrows. */
export function partitionBytes(kernels: Kernels, plan: PartitionPlan, n: number, d: number, capacity = n): number {
  const exported = entries(kernels);
  if (plan.kind === 'clusters') return capacity * 4 + unsigned(exported.clusterDataBytes(plan.clusters, d));
  const nodes = exported.partitionNodes(exported.partitionLeaves(n, plan.leafPoints));
  return capacity * 4 + nodes * (d * 8 + 4) + tailLeaves(exported, plan, n, capacity) * d * 8;
}

/**
 * Builds the partition of n points × d features whose rows (row-major f64, the caller's order)
 * are at `points` in wasm memory, permuting them into leaf order in place. `mean` points at μ
 * (the clusters are centred on it). Its regions have room for `capacity` points (appended later
 * by appendToPartition). Allocates the partition's regions and a scratch region for the build
 * (released before returning); nothing stays allocated if it throws.
 */
export function buildPartition(kernels: Kernels, points: number, n: number, d: number, mean: number, plan: PartitionPlan, capacity = n): Partition {
  const exported = entries(kernels);
  const what = `partitioning ${n} points × ${d} features`;
  const regions: Region[] = [];
  const allocate = (bytes: number): Region => {
    const region = kernels.allocate(Math.max(16, bytes), what);
    regions.push(region);
    return region;
  };
  try {
    if (plan.kind === 'boxes') {
      const treeLeaves = exported.partitionLeaves(n, plan.leafPoints);
      const nodes = exported.partitionNodes(treeLeaves);
      const scratchBytes = unsigned(exported.boxPartitionScratchBytes(d));
      const tail = tailLeaves(exported, plan, n, capacity);
      kernels.checkRoom(partitionBytes(kernels, plan, n, d, capacity) + scratchBytes, what);
      const order = allocate(capacity * 4);
      const bounds = allocate(nodes * d * 8);
      const lowestIndices = allocate(nodes * 4);
      const tailBoxes = allocate(tail * d * 8);
      const scratch = allocate(scratchBytes);
      exported.buildBoxPartition(points, n, d, plan.leafPoints, order.pointer, bounds.pointer, lowestIndices.pointer, scratch.pointer);
      kernels.release(regions.pop()!);
      return { plan, n, builtN: n, capacity, d, order, treeLeaves, bounds, lowestIndices, tailBoxes };
    }
    const dataBytes = unsigned(exported.clusterDataBytes(plan.clusters, d));
    const scratchBytes = unsigned(exported.clusterPartitionScratchBytes(n, d, plan.clusters));
    kernels.checkRoom(capacity * 4 + dataBytes + scratchBytes, what);
    const order = allocate(capacity * 4);
    const bounds = allocate(dataBytes);
    const scratch = allocate(scratchBytes);
    exported.buildClusterPartition(points, n, d, mean, plan.clusters, order.pointer, bounds.pointer, scratch.pointer);
    kernels.release(regions.pop()!);
    return { plan, n, builtN: n, capacity, d, order, treeLeaves: 0, bounds, lowestIndices: undefined, tailBoxes: undefined };
  } catch (error) {
    for (const region of regions) kernels.release(region);
    throw error;
  }
}

/**
 * The partition grown by the points at positions partition.n … n − 1 (their rows appended to X
 * in leaf order at `points`; n ≤ capacity): each keeps its own index (order[p] = p), and fills
 * the tree's last leaf, then tail leaves, whose boxes grow with it (clusters: the tail after the
 * clusters, which every search measures). The search and the radius search then answer as over
 * a partition of all n, bit for bit; they scan the tail more, so rebuild when tailShare grows.
 */
export function appendToPartition(kernels: Kernels, partition: Partition, points: number, n: number): Partition {
  if (n > partition.capacity) throw new Error(`appending to ${n} points a partition with room for ${partition.capacity}`);
  const order = kernels.i32(partition.order.pointer, n);
  for (let p = partition.n; p < n; p++) order[p] = p;
  const { plan, d } = partition;
  if (plan.kind === 'boxes') {
    entries(kernels).growBoxPartition(points, partition.n, n, d, plan.leafPoints, partition.treeLeaves, partition.bounds.pointer, partition.tailBoxes!.pointer);
  }
  return { ...partition, n };
}

/** The share of the points outside the built partition (appended since): searched with little or no pruning. */
export function tailShare(partition: Partition): number {
  return partition.n === 0 ? 0 : (partition.n - partition.builtN) / partition.n;
}

/**
 * Whether appended points have degraded the partition enough to rebuild it: every query bounds
 * each tail leaf (boxes) or measures every tail point (clusters). A proposal, not yet measured:
 * rebuild once the tail holds more than 1/16 of the points, or (boxes) 64 leaves.
 */
export function partitionDegraded(partition: Partition): boolean {
  const tail = partition.n - partition.builtN;
  if (partition.plan.kind === 'boxes' && tail > 64 * partition.plan.leafPoints) return true;
  return tail * 16 > partition.n;
}

/** order[p] for every position p, as a view of wasm memory (valid until the memory grows). */
export function orderOf(kernels: Kernels, partition: Partition): Int32Array {
  return kernels.i32(partition.order.pointer, partition.n);
}

/**
 * Puts the n rows of X at `points` (d features, in the partition's leaf order) back in the
 * caller's order, in place: for a network that measured the partition and chose brute force
 * ('auto'), or that needs the caller's order (toBytes). The partition's regions stay the caller's to release.
 */
export function restoreCallerOrder(kernels: Kernels, partition: Partition, points: number): void {
  const { n, d } = partition;
  const order = orderOf(kernels, partition);
  const inverse = new Int32Array(n);
  for (let p = 0; p < n; p++) inverse[order[p]] = p;
  const what = `restoring ${n} points to their order`;
  kernels.checkRoom(n * 4 + d * 8 + n / 8 + 64, what);
  const regions = [kernels.allocate(Math.max(16, n * 4), what)];
  try {
    regions.push(kernels.allocate(Math.max(16, d * 8), what), kernels.allocate(Math.max(16, Math.ceil(n / 8)), what));
    kernels.i32(regions[0].pointer, n).set(inverse);
    entries(kernels).permuteRows(points, n, d, regions[0].pointer, regions[1].pointer, regions[2].pointer);
  } finally {
    for (const region of regions) kernels.release(region);
  }
}

/** `values` (one per point, the caller's order) in leaf order: result[p] = values[order[p]]. */
export function permuteValues<T extends Int32Array | Float64Array>(values: T, order: Int32Array): T {
  const permuted = new (values.constructor as new (length: number) => T)(order.length);
  for (let p = 0; p < order.length; p++) permuted[p] = values[order[p]];
  return permuted;
}

/** The float32 copy of W1 (assembly/float32Distance.ts) the cluster search takes its candidates from. */
export interface Float32Layer {
  readonly panels: number;
  readonly norms: number;
  readonly scale: number;
  readonly largestNorm: number;
}

/** Pointers to what the search reads besides the partition, all in leaf order. */
export interface SearchLayers {
  /** X row-major (the cluster search rechecks its candidates from it). */
  readonly points: number;
  /** X in packPoints' panels (the box search); 0 for clusters. */
  readonly pointPanels: number;
  /** μ (the cluster bounds are centred on it). */
  readonly mean: number;
  /** The float32 copy, for the cluster search's candidates; without it the cluster search runs on direct differences. */
  readonly float32: Float32Layer | undefined;
}

/** Layers packed by packSearchLayers, with the regions that hold them. */
export interface PackedLayers {
  readonly layers: SearchLayers;
  readonly regions: Region[];
  /** W1's panels and b1 (clusters; 0 for boxes), which appended points are packed into. */
  readonly packed: number;
  readonly norms: number;
}

/**
 * Packs, from X in leaf order at `points` and μ at `mean`, what a search over `partition`
 * reads: X's direct panels for boxes; W1, b1 and, with `float32`, W1's float32 copy for
 * clusters (W1 and b1 are brute force's bits per point: packWeights centres each row on the
 * same μ). Regions have room for the partition's capacity. For tests and the bench; a network
 * packs its own weights the same way.
 */
export function packSearchLayers(kernels: Kernels, partition: Partition, points: number, mean: number, float32: boolean): PackedLayers {
  const exported = entries(kernels);
  const { n, d, capacity } = partition;
  const padded = Math.ceil(capacity / PANEL_POINTS) * PANEL_POINTS;
  const what = `packing ${n} points × ${d} features`;
  const regions: Region[] = [];
  const allocate = (bytes: number): number => {
    const region = kernels.allocate(Math.max(16, bytes), what);
    regions.push(region);
    return region.pointer;
  };
  try {
    if (partition.plan.kind === 'boxes') {
      const panels = allocate(padded * d * 8);
      exported.packPoints(points, n, d, panels, 0);
      return { layers: { points, pointPanels: panels, mean, float32: undefined }, regions, packed: 0, norms: 0 };
    }
    const packed = allocate(padded * d * 8);
    const norms = allocate(padded * 8);
    exported.packWeights(points, n, d, mean, packed, norms, 0);
    let layer: Float32Layer | undefined;
    if (float32) {
      const panels32 = allocate(padded * d * 4);
      const norms32 = allocate(padded * 8);
      const scale = exported.float32Scale(packed, n, d);
      const largestNorm = exported.packFloat32Weights(packed, n, d, scale, panels32, norms32, 0);
      layer = { panels: panels32, norms: norms32, scale, largestNorm };
    }
    return { layers: { points, pointPanels: 0, mean, float32: layer }, regions, packed, norms };
  } catch (error) {
    for (const region of regions) kernels.release(region);
    throw error;
  }
}

/** Appended points whose scaled squared norm reaches 2^200 need a new float32 scale (as the network's add rules). */
const LARGEST_SCALED_NORM = 2 ** 200;

/**
 * The layers with the points at positions oldN … n − 1 (rows already appended to X) packed in
 * place, as the network's add packs appended points: against the held μ, the float32 copy at
 * its held scale. Undefined when a point is beyond what that scale holds (its float32 values
 * could overflow): then the partition and layers are rebuilt.
 */
export function appendSearchLayers(kernels: Kernels, packed: PackedLayers, oldN: number, n: number, d: number): PackedLayers | undefined {
  const exported = entries(kernels);
  const { layers } = packed;
  if (layers.pointPanels !== 0) {
    exported.packPoints(layers.points, n, d, layers.pointPanels, oldN);
    return packed;
  }
  const largestNorm = exported.packWeights(layers.points, n, d, layers.mean, packed.packed, packed.norms, oldN);
  const float32 = layers.float32;
  if (!float32) return packed;
  // Undefined leaves the new points in padding lanes of the last panel: the caller drops these layers.
  if (!(float32.scale * float32.scale * largestNorm < LARGEST_SCALED_NORM)) return undefined;
  const largest = exported.packFloat32Weights(packed.packed, n, d, float32.scale, float32.panels, float32.norms, oldN);
  return { ...packed, layers: { ...layers, float32: { ...float32, largestNorm: Math.max(float32.largestNorm, largest) } } };
}

/**
 * Candidates the cluster search keeps per query with the float32 copy (k plus a margin, as the
 * brute-force GEMM search keeps): enough for its proof unless many points tie at the k-th
 * distance. The box search keeps k.
 */
export function searchCapacity(partition: Partition, layers: SearchLayers, k: number): number {
  if (partition.plan.kind === 'boxes' || !layers.float32) return k;
  const margin = Math.min(8, Math.max(1, Math.floor(partition.n / 128)));
  return Math.min(partition.n, k + margin);
}

/** Scratch bytes of one chunk of q queries (searchCall's `scratch`). */
export function searchScratchBytes(kernels: Kernels, partition: Partition, q: number, k: number, capacity: number): number {
  const exported = entries(kernels);
  if (partition.plan.kind === 'boxes') return unsigned(exported.boxSearchScratchBytes(q, k, partition.plan.leafPoints));
  return unsigned(exported.clusterSearchScratchBytes(q, partition.d, partition.plan.clusters, k, capacity));
}

/**
 * The kernel call that searches `count` queries (rows at `queries`, which the cluster search
 * reorders) for their k nearest of the partition's n points: positions to `outPositions` (i32)
 * and squared distances (Manhattan: distances) to `outSquared`, k per query, in row order.
 * `allowed` (boxes only; 0: every point) points at a byte per caller index, 1 = allowed: the k
 * nearest allowed points, k at most their count.
 */
export function searchCall(
  partition: Partition, layers: SearchLayers, n: number, queries: number, count: number, k: number, capacity: number,
  scratch: number, outPositions: number, outSquared: number, manhattan: boolean, allowed = 0,
): KernelCall {
  const { d, plan } = partition;
  if (plan.kind === 'boxes') {
    return ['searchBoxPartition', [
      layers.pointPanels, n, d, plan.leafPoints, partition.treeLeaves, partition.order.pointer, partition.bounds.pointer, partition.lowestIndices!.pointer,
      partition.tailBoxes!.pointer, queries, count, k, scratch, outPositions, outSquared, manhattan ? 1 : 0, allowed,
    ]];
  }
  const float32 = layers.float32;
  return ['searchClusterPartition', [
    layers.points, n, d, layers.mean, partition.order.pointer, partition.bounds.pointer, plan.clusters,
    float32?.panels ?? 0, float32?.norms ?? 0, float32?.scale ?? 1, float32?.largestNorm ?? 0,
    queries, count, k, capacity, scratch, outPositions, outSquared, allowed,
  ]];
}

/** The kernel call that replaces `count` positions at `positions` by the caller's indices. */
export function indicesCall(partition: Partition, positions: number, count: number): KernelCall {
  return ['positionsToIndices', [partition.order.pointer, positions, count]];
}

/**
 * Queries per call of the search, at most. The box search keeps little per query (its output
 * and a sort key: 16 384 queries of 16 features take 3 MiB) and gains from many (it sorts them
 * by subtree: 10 000 queries on 1M points took 0.71–0.90× the time of unsorted ones, 5 000 in
 * 2 dimensions 1.04×); the cluster search keeps K bounds and a heap per query.
 */
export function searchChunkQueries(partition: Partition): number {
  return partition.plan.kind === 'boxes' ? 16_384 : 256;
}

/**
 * The k nearest of every query row, searched over the partition on this thread in chunks of
 * searchChunkQueries: the caller's indices and squared distances (Manhattan: distances), q × k.
 */
export function searchPartition(
  kernels: Kernels, partition: Partition, layers: SearchLayers, queries: Matrix, k: number, manhattan = false,
): { indices: Int32Array; squared: Float64Array } {
  const exported = entries(kernels);
  const { d } = partition;
  // Equal chunks: each as large as the next allows (the box search sorts a large one by subtree).
  const chunk = Math.max(1, Math.ceil(queries.rows / Math.ceil(queries.rows / searchChunkQueries(partition))));
  const capacity = searchCapacity(partition, layers, k);
  const rowsBytes = align16(chunk * d * 8);
  const positionsBytes = align16(chunk * k * 4);
  const squaredBytes = align16(chunk * k * 8);
  const total = rowsBytes + positionsBytes + squaredBytes + searchScratchBytes(kernels, partition, chunk, k, capacity);
  kernels.checkRoom(total - kernels.scratchBytesHeld(), `a chunk of ${chunk} queries`);
  const base = kernels.scratch(total);
  const [rows, positions, squared, scratch] = [base, base + rowsBytes, base + rowsBytes + positionsBytes, base + rowsBytes + positionsBytes + squaredBytes];
  const indices = new Int32Array(queries.rows * k);
  const distances = new Float64Array(queries.rows * k);
  for (let start = 0; start < queries.rows; start += chunk) {
    const count = Math.min(chunk, queries.rows - start);
    kernels.f64(rows, count * d).set(queries.data.subarray(start * d, (start + count) * d));
    for (const [name, args] of [
      searchCall(partition, layers, partition.n, rows, count, k, capacity, scratch, positions, squared, manhattan),
      indicesCall(partition, positions, count * k),
    ]) {
      (exported as unknown as Record<string, (...values: readonly number[]) => unknown>)[name](...args);
    }
    indices.set(kernels.i32(positions, count * k), start * k);
    distances.set(kernels.f64(squared, count * k), start * k);
  }
  return { indices, squared: distances };
}

