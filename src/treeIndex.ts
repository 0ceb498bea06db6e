// The pruned search wired into a network: a partition of its training points (partition.ts)
// kept beside its weights, built, appended to and rebuilt as they change, and what a job reads
// to search it. The weights themselves stay in the caller's order, so everything that reads
// them (forward, the softmax over every point, filters, toBytes, remove, the `weights` getter)
// sees the caller's order; the partition holds its own layouts in leaf order and an order map,
// and its searches write the caller's indices (ties toward the lower caller index).
//
// Which search runs (the planner's rule, planSearch): none is needed for the softmax over
// every point (dense) or an empty network; 'brute' never builds a partition; 'tree' always
// does; 'auto' builds one from PLAN_MIN_POINTS points and keeps it where partitionCost.ts's
// model predicts it pays, unless n and d, or a partition of a sample of the points, already
// rule it out (treeRuledOut: the same choice, without the whole build). The choice is made
// again when the partition is rebuilt (a remove, a rebuild of the weights, a partition
// degraded by adds) and, while brute force runs, once the network has doubled or halved since
// the last choice: a network that starts small or empty can switch to the tree as it grows.
import { KnnError } from './errors.js';
import { hasPartitionBound } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import { planSearch, TREE_LARGEST_K } from './planner.js';
import {
  appendSearchLayers, appendToPartition, buildPartition, indicesCall, partitionEntries, packSearchLayers, partitionDegraded, partitionRegions, planPartition,
  searchCall, searchCapacity, searchChunkQueries, searchScratchBytes, type PackedLayers, type Partition, type SearchLayers,
} from './partition.js';
import { predictedShare, TREE_SHARE, treeRuledOut } from './partitionCost.js';
import type { Kernels, Region } from './wasm.js';
import type { Weights } from './weights.js';
import type { KernelCall } from './workerPool.js';

/** What runs the k-nearest selection now: brute force, or the pruned search over a partition. */
export type SearchAlgorithm = 'brute' | 'tree';

/** What a job reads to search the partition. */
export interface TreeSearch {
  readonly kernels: Kernels;
  readonly partition: Partition;
  readonly layers: SearchLayers;
  /** The boxes rank by Manhattan distance (a box's bound is then the sum of its gaps). */
  readonly manhattan: boolean;
  /** Whether the pruned search serves a search for k neighbours (brute force serves the rest: the same bits). */
  serves(k: number): boolean;
  /** A filter's bytes in wasm memory (one per caller index, 1 = allowed), where the search is filtered; else 0. */
  readonly allowed: number;
  /** Its predicted time ÷ brute force's (predictedShare, when it was chosen): what a filtered call weighs its ways by. */
  readonly share: number;
}

/** `tree`'s search restricted to the points whose bytes at `allowed` are 1 (k at most their count). */
export function withFilter(tree: TreeSearch, allowed: number): TreeSearch {
  return { ...tree, allowed };
}

/**
 * The chunk plan and kernel calls of a pruned k-nearest search: positions found, then mapped to
 * the caller's indices in place, with squared distances (Manhattan: distances), k per query.
 */
export function treeNeighbourPlan(tree: TreeSearch, k: number): {
  plan: { stateBytes: number; kernelScratchBytes: (chunk: number) => number; largestChunk: number };
  calls: (count: number, queries: number, scratch: number, outIndices: number, outSquared: number) => KernelCall[];
} {
  const { kernels, partition, layers, manhattan } = tree;
  const capacity = searchCapacity(partition, layers, k);
  return {
    plan: {
      stateBytes: Math.ceil(searchScratchBytes(kernels, partition, 64, k, capacity) / 64),
      kernelScratchBytes: (chunk) => searchScratchBytes(kernels, partition, chunk, k, capacity),
      largestChunk: searchChunkQueries(partition),
    },
    calls: (count, queries, scratch, outIndices, outSquared) => [
      searchCall(partition, layers, partition.n, queries, count, k, capacity, scratch, outIndices, outSquared, manhattan, tree.allowed),
      indicesCall(partition, outIndices, count * k),
    ],
  };
}

/** A partition built for a network's weights: its search, and the regions it holds. */
interface BuiltIndex {
  readonly search: TreeSearch;
  readonly packed: PackedLayers;
  /** X in leaf order, row-major (clusters: their search rechecks candidates from it); undefined for boxes. */
  readonly rows: Region | undefined;
  readonly regions: Region[];
}

/** Where a network's partition lives: its weights' holder (heldWeights.ts), which frees or retires the regions. */
export interface IndexHolder {
  /** Holds `regions` with the weights: released with them (a replace, dispose, or collection). */
  attach(regions: Region[]): void;
  /** Lets `regions` go while the weights stay: released now, or once the async calls reading them end. */
  detach(regions: Region[]): void;
  /** Whether async calls read the weights (and so the partition): nothing may be written in place. */
  readonly inUse: boolean;
  /** Whether the partition answers the k-nearest searches now (what brute force alone reads may go meanwhile). */
  partitionServes(serving: boolean): void;
}

export class TreeIndex {
  readonly #kernels: Kernels;
  readonly #options: ResolvedOptions;
  readonly #holder: IndexHolder;
  #built: BuiltIndex | undefined;
  #algorithm: SearchAlgorithm = 'brute';
  /** Points the network held when the choice was last made (0: never made). */
  #decidedN = 0;

  constructor(kernels: Kernels, options: ResolvedOptions, holder: IndexHolder) {
    this.#kernels = kernels;
    this.#options = options;
    this.#holder = holder;
  }

  /** What runs the k-nearest selection now. */
  get algorithm(): SearchAlgorithm {
    return this.#algorithm;
  }

  /** The pruned search over `w`, when it runs now and its partition holds w's points; else undefined (brute force). */
  searchOf(w: Weights): TreeSearch | undefined {
    const built = this.#built;
    return this.#algorithm === 'tree' && built && built.search.partition.n === w.n && built.search.partition.d === w.d ? built.search : undefined;
  }

  /**
   * The weights were replaced (fit, load, remove, a rebuild of add; undefined: none): their
   * holder released or retired the old partition's regions with the old weights. Each change
   * ends by telling the holder whether the partition serves (IndexHolder.partitionServes).
   */
  replaced(w: Weights | undefined): void {
    this.#replacedBy(w);
    this.#holder.partitionServes(this.#algorithm === 'tree');
  }

  #replacedBy(w: Weights | undefined): void {
    const wasTree = this.#algorithm === 'tree';
    this.#built = undefined;
    this.#algorithm = 'brute';
    if (!w) {
      this.#decidedN = 0;
      return;
    }
    const asked = planSearch(this.#options, w.n, w.storage);
    // Brute force chosen, and the network within a factor of two of the size it was chosen at: it stands.
    if (asked === 'auto' && !wasTree && this.#decidedN !== 0 && w.n < 2 * this.#decidedN && 2 * w.n > this.#decidedN) return;
    this.#choose(w, asked);
  }

  /**
   * The weights moved to larger regions with their points unchanged (add made room: growWeights).
   * A partition with room for the appends to come stands (it holds its own copies of what it
   * searches), and so does the choice; otherwise the move counts as a replacement (replaced).
   */
  moved(w: Weights): void {
    this.#movedTo(w);
    this.#holder.partitionServes(this.#algorithm === 'tree');
  }

  #movedTo(w: Weights): void {
    const built = this.#built;
    if (!built) {
      this.#replacedBy(w);
      return;
    }
    if (!this.#holder.inUse && w.n < built.search.partition.capacity) return;
    this.#drop();
    this.#choose(w, planSearch(this.#options, w.n, w.storage));
  }

  /**
   * Points were appended to the weights in place (add): the partition grows with them, or is
   * rebuilt. One built here gets room for twice the points (as the weights get when they grow),
   * so that the appends after it do not find it full when the weights move to larger regions.
   */
  grown(w: Weights): void {
    this.#grownTo(w);
    this.#holder.partitionServes(this.#algorithm === 'tree');
  }

  #grownTo(w: Weights): void {
    const built = this.#built;
    const asked = planSearch(this.#options, w.n, w.storage);
    const room = Math.max(w.capacity, 2 * w.n);
    if (!built) {
      if (asked === 'tree' || (asked === 'auto' && (this.#decidedN === 0 || w.n >= 2 * this.#decidedN))) this.#choose(w, asked, room);
      return;
    }
    if (!this.#holder.inUse && w.n <= built.search.partition.capacity && this.#append(built, w)) {
      if (!partitionDegraded(this.#built!.search.partition)) return;
    }
    this.#drop();
    this.#choose(w, asked, room);
  }

  /**
   * Builds the partition for `w`, with room for `room` rows (at least w's capacity; just that
   * when more memory cannot be had), and keeps it where `asked` ('auto': the cost model) says.
   */
  #choose(w: Weights, asked: 'brute' | 'tree' | 'auto', room = w.capacity): void {
    this.#decidedN = w.n;
    this.#algorithm = 'brute';
    const { k: asks, metric, float32Candidates } = this.#options;
    // No partition bounds an inner product: 'auto' runs brute force for dot ('tree' is refused at fit).
    if (asked === 'brute' || !hasPartitionBound(metric)) return;
    const k = typeof asks === 'number' ? Math.min(asks, w.n) : w.n;
    const costOptions = { float32Candidates, manhattan: metric === 'manhattan' };
    let built: BuiltIndex;
    try {
      // Float64 storage only (planSearch): X is w.points.
      if (asked === 'auto' && treeRuledOut(this.#kernels, w.points!.pointer, w.n, w.d, w.mean.pointer, metric, k, costOptions)) return;
      built = this.#buildWithin(w, room);
    } catch (error) {
      // Memory for the partition could not be had: brute force answers the same.
      if (error instanceof KnnError && error.code === 'TOO_LARGE') return;
      throw error;
    }
    const share = predictedShare(this.#kernels, built.search.partition, built.search.layers, k, costOptions);
    if (asked === 'auto' && !(share < TREE_SHARE)) {
      for (const region of built.regions) this.#kernels.release(region);
      return;
    }
    this.#holder.attach(built.regions);
    this.#built = { ...built, search: { ...built.search, share } };
    this.#algorithm = 'tree';
  }

  /** #build with room for `room` rows, or for w's capacity when that much cannot be had. */
  #buildWithin(w: Weights, room: number): BuiltIndex {
    if (room <= w.capacity) return this.#build(w, w.capacity);
    try {
      return this.#build(w, room);
    } catch (error) {
      if (!(error instanceof KnnError && error.code === 'TOO_LARGE')) throw error;
      return this.#build(w, w.capacity);
    }
  }

  /** The partition of w's points in regions of its own, with room for `capacity` rows (at least w's n). */
  #build(w: Weights, capacity: number): BuiltIndex {
    const kernels = this.#kernels;
    const { n, d } = w;
    const plan = planPartition(n, d, this.#options.metric)!;
    const what = `partitioning ${n} points × ${d} features`;
    const regions: Region[] = [];
    const allocate = (bytes: number): Region => {
      kernels.checkRoom(Math.max(16, bytes), what);
      const region = kernels.allocate(Math.max(16, bytes), what);
      regions.push(region);
      return region;
    };
    try {
      const rows = allocate(capacity * d * 8);
      const mean = allocate(d * 8);
      // Float64 storage only (planSearch): X is w.points.
      kernels.f64(rows.pointer, n * d).set(kernels.f64(w.points!.pointer, n * d));
      kernels.f64(mean.pointer, d).set(kernels.f64(w.mean.pointer, d));
      const partition = buildPartition(kernels, rows.pointer, n, d, mean.pointer, plan, capacity);
      regions.push(...partitionRegions(partition));
      const float32 = plan.kind === 'clusters' && this.#options.float32Candidates;
      const packed = packSearchLayers(kernels, partition, rows.pointer, mean.pointer, float32);
      regions.push(...packed.regions);
      const boxes = plan.kind === 'boxes';
      if (boxes) {
        // The box search reads X's panels alone; appended rows are packed from the weights' X.
        kernels.release(rows);
        regions.splice(regions.indexOf(rows), 1);
      }
      const layers = boxes ? { ...packed.layers, points: 0 } : packed.layers;
      const search = this.#searchFor(partition, layers);
      return { search, packed: { ...packed, layers }, rows: boxes ? undefined : rows, regions };
    } catch (error) {
      for (const region of regions) kernels.release(region);
      throw error;
    }
  }

  #searchFor(partition: Partition, layers: SearchLayers, share = 1): TreeSearch {
    return {
      kernels: this.#kernels, partition, layers, manhattan: this.#options.metric === 'manhattan', serves: (k) => k <= TREE_LARGEST_K && k <= partition.n,
      allowed: 0, share,
    };
  }

  /** Appends w's points past the partition's to it in place; false when the layers must be rebuilt. */
  #append(built: BuiltIndex, w: Weights): boolean {
    const kernels = this.#kernels;
    const { partition } = built.search;
    const oldN = partition.n;
    const { n, d } = w;
    if (d !== partition.d || n <= oldN) return n === oldN;
    let layers = built.packed;
    if (built.rows) {
      // Appended points keep their own index (order[p] = p): their rows go to the same positions.
      kernels.f64(built.rows.pointer + oldN * d * 8, (n - oldN) * d).set(kernels.f64(w.points!.pointer + oldN * d * 8, (n - oldN) * d));
      const grown = appendToPartition(kernels, partition, built.rows.pointer, n);
      const appended = appendSearchLayers(kernels, built.packed, oldN, n, d);
      if (!appended) return false;
      layers = appended;
      this.#built = { ...built, packed: layers, search: this.#searchFor(grown, layers.layers, built.search.share) };
      return true;
    }
    const grown = appendToPartition(kernels, partition, w.points!.pointer, n);
    partitionEntries(kernels).packPoints(w.points!.pointer, n, d, layers.layers.pointPanels, oldN);
    this.#built = { ...built, search: this.#searchFor(grown, layers.layers, built.search.share) };
    return true;
  }

  /** Lets the partition go (released, or retired while async calls read it). */
  #drop(): void {
    if (this.#built) this.#holder.detach(this.#built.regions);
    this.#built = undefined;
    this.#algorithm = 'brute';
  }
}
