// 'auto' for the pruned search: whether it pays for a network, decided from n, d and the work a
// deterministic sample of training points takes as queries, through a cost model calibrated by
// measurement (bench/tree/calibrate.ts); nothing is timed, so every machine decides the same.
import { searchesDirectly } from './planner.js';
import type { Kernels } from './wasm.js';
import {
  align16, buildPartition, packSearchLayers, PANEL_POINTS, partitionEntries, partitionRegions, planPartition, searchCall, searchCapacity,
  searchScratchBytes, unsigned, type Partition, type SearchLayers,
} from './partition.js';
import type { Metric } from './metrics.js';

/** What a search of some queries did, per query: the work the planner's cost model weighs. */
export interface SearchWork {
  /** Boxes bounded (the box tree's traversal). */
  readonly boxes: number;
  /** Points measured by direct differences (the box search; the cluster search without the float32 copy, or for an unproven query). */
  readonly directPoints: number;
  /**
   * Points the cluster search streamed through the float32 GEMM, per query: each group of four
   * queries streams its points once, for all four, as brute force streams all n per group.
   */
  readonly gemmPoints: number;
}

/** How many training points the planner's sample takes as queries. */
const SAMPLE_QUERIES = 64;

/**
 * The work of searching, for their k nearest, SAMPLE_QUERIES training points spread evenly over
 * the positions (all of them below that many): deterministic, so every machine measures the
 * same. One chunk, on this thread.
 */
export function sampleWork(kernels: Kernels, partition: Partition, layers: SearchLayers, k: number, manhattan = false): SearchWork {
  const exported = partitionEntries(kernels);
  const { n, d } = partition;
  const q = Math.min(n, SAMPLE_QUERIES);
  const sample = new Float64Array(q * d);
  for (let r = 0; r < q; r++) {
    const position = Math.floor(((r + 0.5) * n) / q);
    for (let j = 0; j < d; j++) sample[r * d + j] = pointValue(kernels, partition, layers, position, j);
  }
  const capacity = searchCapacity(partition, layers, k);
  const rowsBytes = align16(q * d * 8);
  const positionsBytes = align16(q * k * 4);
  const squaredBytes = align16(q * k * 8);
  const total = rowsBytes + positionsBytes + squaredBytes + searchScratchBytes(kernels, partition, q, k, capacity);
  kernels.checkRoom(total - kernels.scratchBytesHeld(), `the planner's sample of ${q} queries`);
  const base = kernels.scratch(total);
  const [rows, positions, squared, scratch] = [base, base + rowsBytes, base + rowsBytes + positionsBytes, base + rowsBytes + positionsBytes + squaredBytes];
  kernels.f64(rows, q * d).set(sample);
  const [name, args] = searchCall(partition, layers, n, rows, q, k, capacity, scratch, positions, squared, manhattan);
  (exported as unknown as Record<string, (...values: readonly number[]) => unknown>)[name](...args);
  if (partition.plan.kind === 'boxes') {
    const [boxes, points] = kernels.f64(unsigned(exported.boxSearchWork(scratch)), 2);
    return { boxes: boxes / q, directPoints: points / q, gemmPoints: 0 };
  }
  const [streamed, measured] = kernels.f64(unsigned(exported.clusterSearchWork(scratch, q, d, partition.plan.clusters, k, capacity)), 2);
  return { boxes: 0, directPoints: measured / q, gemmPoints: (streamed / Math.ceil(q / 4)) };
}

/** Coordinate j of the point at `position`: from X row-major when the layers have it, else from its panel. */
function pointValue(kernels: Kernels, partition: Partition, layers: SearchLayers, position: number, j: number): number {
  const { d } = partition;
  if (layers.points !== 0) return kernels.f64(layers.points + (position * d + j) * 8, 1)[0];
  const panel = Math.floor(position / PANEL_POINTS);
  return kernels.f64(layers.pointPanels + ((panel * d + j) * PANEL_POINTS + (position % PANEL_POINTS)) * 8, 1)[0];
}

// The cost model, in units of brute force's direct differences (one point × one feature × one
// query of its pair kernel), fitted to bench/tree/calibrate.ts: 42 shapes from 300 to 300 000
// points, 2 to 128 features, uniform and clustered, the two searches' CPU times alternated in
// one process. Measured per point-feature: brute force's direct pair kernel 0.19–0.25 ns, its
// float32 GEMM 0.06–0.13 ns (≈ 0.45 of it); the box search's leaf scans 0.4–0.6 ns while the
// data stay in the caches, 0.6–1.4 ns from memory (its leaves are scattered reads, one query at
// a time), about 0.7 µs per query besides; the cluster search 1.2–1.35× the GEMM's time per point
// it streams (its ranges and order-aware folds), plus about 2 000·d units per query for its bounds
// and proofs; its direct measurements (row-major, scalar) about 10× the GEMM's.
const COST = {
  /** A point-feature of the box search's leaf scans (and a box-feature bounded), data within CACHED_BYTES. */
  boxCached: 2,
  /** The same, data larger: scattered reads from memory. */
  boxFromMemory: 6.5,
  /** The box search's cost per query besides. */
  boxQuery: 3000,
  /** Brute force's cost per query besides its differences. */
  bruteQuery: 2000,
  /** Brute force's float32 GEMM per point-feature. */
  bruteGemm: 0.45,
  /** Brute force's float64 GEMM per point-feature (without the float32 copy). */
  bruteGemm64: 0.9,
  /** The cluster search per point-feature streamed, relative to brute force's GEMM. */
  clusterStream: 1.3,
  /** The cluster search per query besides, per feature, relative to brute force's GEMM per point-feature. */
  clusterQuery: 2000,
  /** The cluster search per point-feature measured directly, relative to brute force's float32 GEMM. */
  clusterDirect: 10,
};
/** Data up to this many bytes stay in the caches of the machines measured (box search's cheaper regime). */
const CACHED_BYTES = 4 * 1024 * 1024;
/**
 * 'auto' picks the pruned search when its predicted time is below this share of brute force's:
 * the predictions above were within 0.6–1.5× of the measured ratio wherever the pruned search
 * won, so below 0.6 it never measured slower.
 */
export const TREE_SHARE = 0.6;

/** The model's options: the float32 copy (default on), and the Manhattan metric. */
export interface CostOptions {
  readonly float32Candidates?: boolean;
  readonly manhattan?: boolean;
}

/** Predicted time of the pruned search over a partition of n points × d features ÷ brute force's, per query, from the sample's work. */
export function predictedRatio(shape: Pick<Partition, 'n' | 'd' | 'plan'>, work: SearchWork, options: CostOptions = {}): number {
  const { n, d, plan } = shape;
  const float32Candidates = options.float32Candidates ?? true;
  if (plan.kind === 'boxes') {
    // Brute force runs on direct differences here unless the float32 GEMM serves it (not for Manhattan).
    const bruteUnit = !options.manhattan && !searchesDirectly(n, d, float32Candidates) ? COST.bruteGemm : 1;
    const brute = COST.bruteQuery + n * d * bruteUnit;
    const unit = n * d * 8 <= CACHED_BYTES ? COST.boxCached : COST.boxFromMemory;
    return (COST.boxQuery + (work.directPoints + work.boxes) * d * unit) / brute;
  }
  // In units of brute force's float32 GEMM per point-feature.
  const bruteUnit = float32Candidates ? 1 : COST.bruteGemm64 / COST.bruteGemm;
  const tree = work.gemmPoints * d * COST.clusterStream + work.directPoints * d * COST.clusterDirect + COST.clusterQuery * d;
  return tree / (n * d * bruteUnit);
}

/**
 * 'auto': whether the pruned search over `partition` pays for a network whose queries want
 * their k nearest. Decided from n, d and the work a deterministic sample of training points
 * takes as queries (sampleWork), against brute force's n points per query, through a cost
 * model calibrated by measurement (bench/tree/calibrate.ts); nothing is timed, so every
 * machine makes the same choice.
 */
export function choosesTree(kernels: Kernels, partition: Partition, layers: SearchLayers, k: number, options: CostOptions = {}): boolean {
  return predictedShare(kernels, partition, layers, k, options) < TREE_SHARE;
}

/** The pruned search's predicted time over `partition` ÷ brute force's, for k neighbours (predictedRatio on sampleWork's work). */
export function predictedShare(kernels: Kernels, partition: Partition, layers: SearchLayers, k: number, options: CostOptions = {}): number {
  return predictedRatio(partition, sampleWork(kernels, partition, layers, Math.min(k, partition.n), options.manhattan), options);
}

/** Points in the screen's partition (screenedOut): clusterCount's 16 clusters of 64. */
const SCREEN_POINTS = 1024;

/**
 * The screen rules the tree out where its sample predicts it no faster than brute force. Its
 * prediction, against the whole partition's (24–512 features, uniform or in 10 or 50 Gaussian
 * blobs, 4 096–100 000 points, W2, W3, U64; with the float32 copy and without), came within 0.1
 * but on one shape (0.51 against 0.23); 1.3–5.2 on uniform data, which prune nothing, and at
 * most 0.75 on blobs. So far above TREE_SHARE that no network chose otherwise than before the
 * screen: 114 shapes (300–30 000 points × 2–512 features, uniform or in blobs; the float32 copy,
 * none, cosine), W2, W3, U64, and L2–L16 at 200 000 points.
 */
const SCREEN_SHARE = 1;

/**
 * 'auto', before a partition of all n points is built to decide (its build costs a few fits'
 * time at high d): whether brute force is already the answer. Where the model's ratio with no
 * work at all (its per-query costs alone) reaches TREE_SHARE, choosesTree could only refuse —
 * the same choice. For clusters of more than twice SCREEN_POINTS points, a partition of an
 * evenly spaced sample of them is searched as choosesTree searches, its work per query scaled
 * to n (the share of the points streamed, as pruning leaves it); where that predicts the tree
 * no faster than brute force (SCREEN_SHARE), brute force. Deterministic, as choosesTree: nothing
 * is timed. `points` holds X row-major in the caller's order, `mean` μ (the sample's clusters are centred on it).
 */
export function treeRuledOut(
  kernels: Kernels, points: number, n: number, d: number, mean: number, metric: Metric, k: number, options: CostOptions = {},
): boolean {
  const plan = planPartition(n, d, metric)!;
  const noWork: SearchWork = { boxes: 0, directPoints: 0, gemmPoints: 0 };
  if (predictedRatio({ n, d, plan }, noWork, options) >= TREE_SHARE) return true;
  return plan.kind === 'clusters' && n > 2 * SCREEN_POINTS && screenedOut(kernels, points, n, d, mean, metric, k, options);
}

/** The screen of treeRuledOut: a cluster partition of SCREEN_POINTS of the n points (every (n / SCREEN_POINTS)th), searched by sampleWork. */
function screenedOut(kernels: Kernels, points: number, n: number, d: number, mean: number, metric: Metric, k: number, options: CostOptions): boolean {
  const m = SCREEN_POINTS;
  const what = `the planner's screen of ${m} points × ${d} features`;
  kernels.checkRoom(m * d * 8, what);
  const rows = kernels.allocate(m * d * 8, what);
  const regions = [rows];
  try {
    const sample = kernels.f64(rows.pointer, m * d);
    for (let r = 0; r < m; r++) {
      const row = Math.floor(((r + 0.5) * n) / m);
      sample.set(kernels.f64(points + row * d * 8, d), r * d);
    }
    const partition = buildPartition(kernels, rows.pointer, m, d, mean, planPartition(m, d, metric)!);
    regions.push(...partitionRegions(partition));
    const packed = packSearchLayers(kernels, partition, rows.pointer, mean, options.float32Candidates ?? true);
    regions.push(...packed.regions);
    const work = sampleWork(kernels, partition, packed.layers, Math.min(k, m), options.manhattan);
    const scaled = { boxes: 0, directPoints: (work.directPoints * n) / m, gemmPoints: (work.gemmPoints * n) / m };
    return predictedRatio({ n, d, plan: planPartition(n, d, metric)! }, scaled, options) >= SCREEN_SHARE;
  } finally {
    for (const region of regions) kernels.release(region);
  }
}
