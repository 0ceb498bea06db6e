// How a filtered search runs, chosen per call by a cost rule (no timing), every way exact:
//
// - 'whole': search the whole network for a few more neighbours than asked and drop the points
//   left out. With m points left out, the k nearest allowed are among the k + m nearest, in the
//   same order (ties included), so a row whose search reached k allowed points — or went k + m
//   deep — is settled; the rest (a filter that starves some queries, such as a class filter near
//   the class it leaves out) are searched again by one of the two ways below. For radius:
//   search unfiltered and drop.
// - 'gather': the allowed points packed into weights of their own, searched, positions mapped
//   back (filters.ts). Packing costs far more per value than searching, so it pays on a batch
//   over few allowed points.
// - 'direct': brute force over the allowed points with direct differences in dimension order
//   (layerOneValue, the distance every path reports), for little work: few queries against a
//   small share of the points. It runs in wasm over the points where they lie, on either
//   storage (listedDirectNeighbours, eight points at once), the dot metric in JS. A single query has a
//   one-query plan (filters.ts) that runs it, or the network's own search restricted to the
//   allowed points (the partition's, or brute force's with the filter in its folds), without
//   the general path's costs, as singleQueryFilterWay finds cheapest.
import type { FoundNeighbours } from './jobs.js';
import type { Matrix } from './matrix.js';
import { layerOneValue, withinRadius, type Metric } from './metrics.js';
import type { PartitionPlan } from './partition.js';
import type { RadiusNeighbours } from './results.js';

// Costs in units of the network's search visiting one value for one query of a batch (float32
// GEMM; measured on W2, 10 000 × 64, a loaded 2-core machine, bench/filters.ts): 0.12 ns (0.05
// ns when the machine is quiet, when the JS costs below weigh about twice as much). A single
// query's search, which shares no block of weights with other queries, took 1.8 units a value
// (W2 by brute force, one query per call 64 µs against 35 µs a query of a batch, one run);
// gathering and packing one value 16 ns; JS direct differences 2.7 ns a value; each neighbour
// kept per query past k added about 1/100 of the search's time (k = 21, 37, 105, 505: 1.05×,
// 1.22×, 2.3×, 7.7× the time of k = 5; below k = 13 lost in the noise).
const SINGLE_QUERY_VALUE_COST = 1.8;
const GATHER_VALUE_COST = 130;
const DIRECT_VALUE_COST = 22;
const EXTRA_WIDTH_COST = 1 / 100;
/** The whole search goes at most this many past k (but for k + every point left out): deeper, it costs several times the search. */
const WIDEST_EXTRA = 256;
const LARGEST_ESTIMATED_K = 64;
export type FilteredWay = 'whole' | 'gather' | 'direct';

/**
 * The chance that fewer than k of `width` points are allowed, when each is with chance
 * `share` (a filter unrelated to where the points lie): P(Binomial(width, share) < k).
 */
function shortChance(width: number, share: number, k: number): number {
  // Each term's logarithm, so that (1 − share)^width underflowing (wide searches, large k)
  // does not zero the terms that matter.
  let logTerm = width * Math.log1p(-share);
  const logOdds = Math.log(share / (1 - share));
  let sum = 0;
  for (let j = 0; j < k && j <= width; j++) {
    sum += Math.exp(logTerm);
    logTerm += Math.log((width - j) / (j + 1)) + logOdds;
  }
  return Math.min(1, sum);
}

/**
 * The cheapest exact way to find, for `rows` queries, the `k` nearest of `allowedCount` allowed
 * points among n of d features (k ≤ allowedCount), and for the whole search how deep it goes:
 * the width whose cost, with the expected rows searched again (each the cheaper of gather and
 * direct over them), is least. `wholeShare` scales the whole network's search (a pruned one). A filter that starves some queries costs more than expected,
 * never an answer that is not exact.
 */
export function filteredWay(n: number, d: number, allowedCount: number, k: number, rows: number, wholeShare = 1, directInWasm = false): { way: FilteredWay; width: number } {
  const left = n - allowedCount;
  const search = rows === 1 ? SINGLE_QUERY_VALUE_COST : 1;
  let best = { width: k, cost: Infinity };
  // Widths up to WIDEST_EXTRA past k, then k + left, which no row can fall short at; for a large
  // k (whose chance of falling short costs O(k) a width) that one alone.
  const extras = k > LARGEST_ESTIMATED_K ? 0 : Math.min(left, WIDEST_EXTRA) + 1;
  for (let extra = 0; extra <= extras; extra++) {
    if (extra === extras && left < extras) break;
    const width = extra === extras ? k + left : k + extra;
    if (width > n) break;
    const searched = wholeShare * search * rows * n * d * (1 + (width - k) * EXTRA_WIDTH_COST);
    if (searched >= best.cost) break;
    const again = width === k + left ? 0 : rows * shortChance(width, allowedCount / n, k);
    const cost = searched + (again > 0 ? searchAgain(d, allowedCount, again, 1, directInWasm).cost : 0);
    if (cost < best.cost) best = { width, cost };
  }
  const costs: [FilteredWay, number][] = [['whole', best.cost], ['gather', gatherCost(d, allowedCount, rows)], ['direct', directCost(d, allowedCount, rows, directInWasm)]];
  const [way] = costs.reduce((cheapest, next) => (next[1] < cheapest[1] ? next : cheapest));
  return { way, width: best.width };
}

/** Gathering the allowed points, then searching them: by brute force, or (`share` < 1) by a pruned search taking that share of its time. */
const gatherCost = (d: number, allowedCount: number, rows: number, share = 1) => GATHER_VALUE_COST * allowedCount * d + share * (rows === 1 ? SINGLE_QUERY_VALUE_COST : 1) * rows * allowedCount * d;
/** Direct differences over the allowed points: in JS, or (`inWasm`: a metric of differences) in wasm, as allowedDirectNeighbours measures. */
const directCost = (d: number, allowedCount: number, rows: number, inWasm: boolean) =>
  rows * allowedCount * (inWasm ? ALLOWED_DIRECT_POINT_COST + ALLOWED_DIRECT_VALUE_COST * d : DIRECT_VALUE_COST * d);

/**
 * How `rows` queries the whole search left unsettled are searched again over the allowed points
 * (the cheaper way), and its cost; `share` scales the search of the gathered points (a pruned one).
 */
export function searchAgain(d: number, allowedCount: number, rows: number, share = 1, directInWasm = false): { way: 'gather' | 'direct'; cost: number } {
  const gather = gatherCost(d, allowedCount, rows, share);
  const direct = directCost(d, allowedCount, rows, directInWasm);
  return gather < direct ? { way: 'gather', cost: gather } : { way: 'direct', cost: direct };
}

/** The cheapest exact way to list, for `rows` queries, the allowed points within a radius (as filteredWay; no width). */
export function filteredRadiusWay(n: number, d: number, allowedCount: number, rows: number, wholeShare = 1, directInWasm = false): FilteredWay {
  return filteredWay(n, d, allowedCount, 0, rows, wholeShare, directInWasm).way;
}

/**
 * How much more the partition's search costs restricted to a share s of the points (it visits
 * more of the partition to find k of them), as 1 + c/s: measured on W2 (10 000 × 64, clusters)
 * a batch of 1 000 took 1.34× the unfiltered time with 5 % allowed and 1.12× with 99.9 %, single
 * queries 1.3–1.5×; on 200 000 × 4 (boxes) a batch 3.4× with 5 % and 1.1–1.5× from 50 %.
 */
const FILTERED_PRUNED_COST = { clusters: 0.017, boxes: 0.12 } as const;

/**
 * Fewest allowed points per cluster for which a batch searches the network's clusters cut down
 * to them ('clusters') rather than brute force over them: each query's fixed cost in the cluster
 * search (its bounds to every cluster, their order, its recheck) outweighs the pruning of a few
 * dozen points a cluster. W2 (16 clusters), a batch of 1 000: 33 a cluster (5 % allowed) took
 * 1.4× brute force's time over them, 312 (50 %) 0.7× the restricted search's.
 */
const CUT_CLUSTERS_MIN_POINTS = 128;

/** The partition's search restricted to `allowedCount` of the n points, for `rows` queries (see prunedFilterWay). */
function restrictedCost(n: number, d: number, allowedCount: number, rows: number, share: number, kind: PartitionPlan['kind']): number {
  return share * rows * n * d * (1 + (FILTERED_PRUNED_COST[kind] * n) / allowedCount);
}

/**
 * One query's direct differences over the allowed points in wasm (allowedDirectNeighbours, eight
 * points at a time where they lie), in the units above: a value, a point besides (its row's
 * address, its offer), and a filter byte scanned. Measured on this kernel alone: 0.35 ns a value
 * at d = 64 (W2), 0.85 at d = 4 (200 000 points, 1–5 % allowed), 0.04 ns a byte of a filter
 * that allows almost none. The value's cost is set against the rule's other ways, one query per
 * call on W2 in one run (each way forced in turn, round-robin): the pruned search restricted to
 * 5 % allowed took as long (the rule's crossover 6 %), and on brute force its own search with
 * the filter in its folds took as long at 20 % allowed (the rule's crossover 20 %).
 */
const ALLOWED_DIRECT_VALUE_COST = 9;
const ALLOWED_DIRECT_POINT_COST = 20;
const FILTER_BYTE_COST = 0.3;

/**
 * The direct differences' cost on a cosine network's float32 storage, against the value cost
 * above: each value is divided by its point's m and s on the way. Measured on 100 000 × 384
 * (one query per call, one run): 2.3× the Euclidean network's time at 50 % allowed; with it the
 * rule's crossover falls at 18 % allowed, the measured one at 20–25 %.
 */
const UNIT_ROWS_DIRECT_COST = 2;

/**
 * How one query for the k nearest of `allowedCount` allowed points runs: the network's own
 * search restricted to them ('restricted': its partition's, `share` and `plan` as
 * prunedFilterWay takes them, or brute force's, which passes over the points left out in its
 * folds); by direct differences over them in wasm ('direct', no copy: the way for few of them;
 * `unitRows` on a cosine network's float32 storage); or as a batch's filter runs ('general', on
 * a partition whose restricted search costs more than a search of the allowed points alone).
 */
export function singleQueryFilterWay(
  n: number, d: number, allowedCount: number, partition?: { share: number; plan: Pick<PartitionPlan, 'kind' | 'clusters'> }, unitRows = false,
): 'restricted' | 'direct' | 'general' {
  const direct = directCost(d, allowedCount, 1, true) * (unitRows ? UNIT_ROWS_DIRECT_COST : 1) + FILTER_BYTE_COST * n;
  // Brute force: its whole search with the filter in its folds, which costs about what the
  // search without it does, or these differences.
  if (!partition) return direct < SINGLE_QUERY_VALUE_COST * n * d ? 'direct' : 'restricted';
  const { share, plan } = partition;
  if (direct < restrictedCost(n, d, allowedCount, 1, share, plan.kind)) return 'direct';
  return prunedFilterWay(n, d, allowedCount, 1, share, plan) === 'pruned' ? 'restricted' : 'general';
}

/**
 * On a network whose partition searches (its predicted time `share` of brute force's) and takes
 * a filter, the cheapest way: its restricted search ('pruned'), or a search over the allowed
 * points alone where that costs less (a batch over few of them): gathered ('gather', on a box
 * network onto a k-d tree of their own where one pays), the network's clusters cut down to them
 * ('clusters'), or in JS ('direct').
 */
export function prunedFilterWay(n: number, d: number, allowedCount: number, rows: number, share: number, plan: Pick<PartitionPlan, 'kind' | 'clusters'>): 'pruned' | 'gather' | 'clusters' | 'direct' {
  // Per query the pruned search costs about the same alone as in a batch (W2: a single query
  // 0.16× brute force's time, a batch 0.31×, where brute force's single query costs 2.5 units a
  // value), so a single query's is not scaled as brute force's is.
  const restricted = 1 + (FILTERED_PRUNED_COST[plan.kind] * n) / allowedCount;
  const pruned = restrictedCost(n, d, allowedCount, rows, share, plan.kind);
  if (plan.kind === 'clusters' && rows > 1 && allowedCount >= CUT_CLUSTERS_MIN_POINTS * plan.clusters) {
    // The clusters' bounds prune as the restricted search's do, over a share of the points.
    const cut = gatherCost(d, allowedCount, rows, share * restricted);
    if (cut < pruned) return 'clusters';
  }
  // A k-d tree built for the gathered points is taken to prune as the network's does.
  // The partition searches float64 storage alone, whose direct differences run in wasm.
  const again = searchAgain(d, allowedCount, rows, plan.kind === 'boxes' ? share : 1, true);
  return again.cost < pruned ? again.way : 'pruned';
}

/**
 * The k nearest allowed points of each row, from a search of the whole network `width` deep
 * (nearest first): rows × k, or undefined for a row whose search held fewer than k allowed
 * points and did not go `width` = k + (points left out) deep. `unsettled` lists those rows.
 */
export function keepAllowed(found: FoundNeighbours, rows: number, width: number, k: number, allowed: Uint8Array): { kept: FoundNeighbours; unsettled: number[] } {
  const indices = new Int32Array(rows * k);
  const squared = new Float64Array(rows * k);
  const unsettled: number[] = [];
  for (let r = 0; r < rows; r++) {
    let kept = 0;
    for (let j = r * width; j < (r + 1) * width && kept < k; j++) {
      const index = found.indices[j];
      if (!allowed[index]) continue;
      indices[r * k + kept] = index;
      squared[r * k + kept] = found.squared[j];
      kept++;
    }
    if (kept < k) unsettled.push(r);
  }
  return { kept: { indices, squared }, unsettled };
}

/** The chosen rows of `queries`, as a matrix of their own. */
export function rowsOf(queries: Matrix, chosen: readonly number[]): Matrix {
  const data = new Float64Array(chosen.length * queries.cols);
  chosen.forEach((r, at) => data.set(queries.data.subarray(r * queries.cols, (r + 1) * queries.cols), at * queries.cols));
  return { data, rows: chosen.length, cols: queries.cols };
}

/** Writes `part` (one row of k per entry of `chosen`) into rows `chosen` of `into` (rows of k). */
export function placeRows(into: FoundNeighbours, part: FoundNeighbours, chosen: readonly number[], k: number): void {
  chosen.forEach((r, at) => {
    into.indices.set(part.indices.subarray(at * k, (at + 1) * k), r * k);
    into.squared.set(part.squared.subarray(at * k, (at + 1) * k), r * k);
  });
}

/**
 * The allowed points' values as brute force reads them: the j-th allowed point is row `rows[j]`
 * of `points` (rows of d values, float32 widened by the distance) and has position
 * `positions[j]` among the network's points, ascending.
 */
export interface AllowedRows {
  readonly points: Float64Array | Float32Array;
  readonly rows: ArrayLike<number>;
  readonly positions: Int32Array;
}

/**
 * Brute force over the allowed points: each query's k nearest (k ≤ the allowed count), with the
 * network's positions, ties toward the lower index, z1 computed directly in dimension order as
 * every search path reports it.
 */
export function directNeighbours({ points, rows, positions }: AllowedRows, d: number, queries: Matrix, k: number, metric: Metric): FoundNeighbours {
  const indices = new Int32Array(queries.rows * k);
  const squared = new Float64Array(queries.rows * k);
  for (let r = 0; r < queries.rows; r++) {
    const base = r * k;
    let size = 0;
    for (let j = 0; j < positions.length; j++) {
      const value = layerOneValue(metric, points, rows[j], queries.data, r, d);
      if (size === k && !(value < squared[base + k - 1])) continue;
      // After every kept value ≤ this one: equal values stay in index order.
      let slot = size < k ? size++ : k - 1;
      while (slot > 0 && squared[base + slot - 1] > value) {
        squared[base + slot] = squared[base + slot - 1];
        indices[base + slot] = indices[base + slot - 1];
        slot--;
      }
      squared[base + slot] = value;
      indices[base + slot] = positions[j];
    }
  }
  return { indices, squared };
}

/** Brute force over the allowed points: each query's points within `radius`, nearest first, ties by index (see directNeighbours). */
export function directRadius({ points, rows, positions }: AllowedRows, d: number, queries: Matrix, radius: number, metric: Metric): RadiusNeighbours {
  const offsets = new Int32Array(queries.rows + 1);
  const indices: number[] = [];
  const distances: number[] = [];
  for (let r = 0; r < queries.rows; r++) {
    const within: { index: number; value: number }[] = [];
    for (let j = 0; j < positions.length; j++) {
      const value = layerOneValue(metric, points, rows[j], queries.data, r, d);
      if (withinRadius(metric, value, radius)) within.push({ index: positions[j], value });
    }
    within.sort((a, b) => a.value - b.value || a.index - b.index);
    for (const { index, value } of within) {
      indices.push(index);
      distances.push(value);
    }
    offsets[r + 1] = indices.length;
  }
  return { offsets, indices: Int32Array.from(indices), distances: Float64Array.from(distances) };
}

/** A radius answer without the points `allowed` leaves out. */
export function dropLeftOut(found: RadiusNeighbours, allowed: Uint8Array): RadiusNeighbours {
  const rows = found.offsets.length - 1;
  const offsets = new Int32Array(rows + 1);
  let kept = 0;
  for (let r = 0; r < rows; r++) {
    for (let e = found.offsets[r]; e < found.offsets[r + 1]; e++) if (allowed[found.indices[e]]) kept++;
    offsets[r + 1] = kept;
  }
  const indices = new Int32Array(kept);
  const distances = new Float64Array(kept);
  for (let e = 0, at = 0; e < found.indices.length; e++) {
    if (!allowed[found.indices[e]]) continue;
    indices[at] = found.indices[e];
    distances[at++] = found.distances[e];
  }
  return { ...found, offsets, indices, distances };
}
