// The stream of layer 1 that every entry shares: the scratch a chunk of queries lays out, the
// kernels that turn tiles of training points into tiles of distances, and the rounding bound
// of the expansion. A reducer (top-k, online softmax, a range's list, or a plain copy for
// `forward`) receives each tile.
//
// A reducer is an object in memory, not a set of globals: its descriptor (TopKReducer,
// SoftmaxReducer, RangeReducer, CopyReducer) lies in the call's scratch and says where the
// per-query states are and how to fold a tile into them. The streams are generic in the
// reducer, so each folds through a direct call, and instances of the kernels on one shared
// memory (a worker pool), each with scratch of its own, never share a reducer's state.

import {
  candidateGemm, directDistancePanels, distanceGemm, dotProductPanels, manhattanDistancePanels, panelCount, pairCount, prepareQueries, PANEL_POINTS,
  queryDotProductPanels, queryManhattanDistancePanels, querySquaredDistancePanels,
} from './distance';
import { MINIMA_BYTES, RangeReducer, TopKReducer } from './topk';
import { SoftmaxReducer } from './softmax';
import { float32DistanceGemm, float32DistanceGemmSingle, groupBytes, groupCount, GROUP_QUERIES, prepareFloat32Queries } from './float32Distance';
import {
  centreUnitPanels, expandFloat32Panels, prepareStoredQueries, queryCentreProduct, storedFloat32Gemm, storedFloat32GemmCentring, storedFloat32GemmSingle,
  storedUnitGemmSingle, unitScalesBounded,
} from './storedDistance';

// A block of training points is sized to stay in L2 (≈256 KiB of packed weights) while every
// query pair of the chunk streams over it, so the weights come from memory once per chunk.
const BLOCK_BYTES: i32 = 256 * 1024;
const MAX_BLOCK_PANELS: i32 = 128;
export const UNIT_ROUNDOFF: f64 = 1.1102230246251565e-16; // 2^-53
export const SMALLEST_SUBNORMAL: f64 = 5e-324;

export function blockPanels(d: i32): i32 {
  const panels = BLOCK_BYTES / (d * PANEL_POINTS * 8);
  return panels < 1 ? 1 : panels > MAX_BLOCK_PANELS ? MAX_BLOCK_PANELS : panels;
}

/** Like blockPanels for the float32 copy: its panels take half the bytes, so twice as many fit. */
export function float32BlockPanels(d: i32): i32 {
  const panels = BLOCK_BYTES / (d * PANEL_POINTS * 4);
  return panels < 1 ? 1 : panels > MAX_BLOCK_PANELS ? MAX_BLOCK_PANELS : panels;
}

@inline export function align16(bytes: usize): usize {
  return (bytes + 15) & ~<usize>15;
}

// Scratch layout for one chunk of q queries, in this order: the search's storage descriptor
// (STORAGE_BYTES, at a place that does not depend on q: a search's second pass lays out fewer
// queries on the same scratch), then the front: query pairs (interleaved per dimension), query
// norms, two tile rows, a block of float64 panels (float32 storage expands each block there);
// then the reducer's descriptor (REDUCER_BYTES), the top-k folds' minima (MINIMA_BYTES), then
// the reducer's per-query state (`stateBytes` each: a top-k heap, or an online-softmax state).
// Everything a call writes lives here, in the caller's region, and the static data holds
// constants only: instances on one shared memory then never write to the same bytes.
export const STORAGE_BYTES: usize = 64;
function pairsBytes(q: i32, d: i32): usize { return align16(<usize>pairCount(q) * <usize>d * 16); }
function normsBytes(q: i32): usize { return align16(<usize>(pairCount(q) * 2) << 3); }
function tileBytes(d: i32): usize { return <usize>(blockPanels(d) * PANEL_POINTS) << 3; }
/** One block of float64 panels: float32 storage's stream expands each block into it once per chunk. */
function expandedBlockBytes(d: i32): usize { return <usize>blockPanels(d) * <usize>d * <usize>(PANEL_POINTS * 8); }
// The float32 candidate search lays the same front out as query groups (float32), their norms,
// their epilogue factors and μ32 (float32 storage), one tile per query of a group, then a
// centred block (float32 storage); the reducer states start after the larger of the two fronts.
function groupNormsBytes(q: i32): usize { return align16(<usize>(groupCount(q) * GROUP_QUERIES) << 3); }
function float32TileBytes(d: i32): usize { return <usize>(float32BlockPanels(d) * PANEL_POINTS) << 3; }
function float32FrontBytes(q: i32, d: i32): usize {
  return align16(groupBytes(q, d)) + 2 * groupNormsBytes(q) + align16(<usize>d << 2) + <usize>GROUP_QUERIES * float32TileBytes(d) + centredBlockBytes(d);
}
/** One block of float32 panels, centred: float32 storage's search centres each block once per chunk. */
function centredBlockBytes(d: i32): usize { return <usize>float32BlockPanels(d) * <usize>d * <usize>(PANEL_POINTS * 4); }

/** Where a chunk's front (query pairs or groups, their norms, tiles) starts in its scratch. */
@inline function frontOf(scratch: usize): usize {
  return scratch + STORAGE_BYTES;
}

/** The squared norms of the chunk's q queries as the float64 stream prepared them (one f64 per query). */
export function pairNorms(scratch: usize, q: i32, d: i32): usize {
  return frontOf(scratch) + pairsBytes(q, d);
}

/** The squared norms of the chunk's q queries as the float32 stream prepared them (one f64 per query). */
export function groupNorms(scratch: usize, q: i32, d: i32): usize {
  return frontOf(scratch) + align16(groupBytes(q, d));
}

/** The epilogue factors of the chunk's q queries as the float32-storage stream prepared them (one f64 per query). */
export function groupScales(scratch: usize, q: i32, d: i32): usize {
  return groupNorms(scratch, q, d) + groupNormsBytes(q);
}

// Room for the largest reducer descriptor; the compiler checks that each one fits.
const REDUCER_BYTES: usize = 64;
if (max(max(offsetof<TopKReducer>(), offsetof<SoftmaxReducer>()), max(offsetof<RangeReducer>(), offsetof<CopyReducer>())) > REDUCER_BYTES) {
  ERROR('a reducer descriptor is larger than REDUCER_BYTES');
}

/** Where the reducer's descriptor lies in a chunk's scratch: after the larger front. */
function reducerOffset(q: i32, d: i32): usize {
  const float64Front = pairsBytes(q, d) + normsBytes(q) + 2 * tileBytes(d) + expandedBlockBytes(d);
  const float32Front = float32FrontBytes(q, d);
  return STORAGE_BYTES + (float64Front > float32Front ? float64Front : float32Front);
}

/** The call's reducer descriptor of type R, in the scratch of a chunk of q queries. */
@inline export function reducerIn<R>(scratch: usize, q: i32, d: i32): R {
  return changetype<R>(scratch + reducerOffset(q, d));
}

/** Where the top-k folds' minima lie in a chunk's scratch. */
export function minimaOffset(q: i32, d: i32): usize {
  return reducerOffset(q, d) + REDUCER_BYTES;
}

/** Where the reducer states start in a chunk's scratch. */
export function statesOffset(q: i32, d: i32): usize {
  return minimaOffset(q, d) + MINIMA_BYTES;
}

export function scratchBytes(q: i32, d: i32, stateBytes: usize): usize {
  return statesOffset(q, d) + <usize>q * stateBytes;
}

// Which layer-1 kernel streamDistances runs. The k-nearest search selects on the expansion
// (CANDIDATE_GEMM, multiply-adds fused in the relaxed-SIMD build) and rechecks directly; what
// users read from the expansion itself (forward's z1, the softmax over all points) takes
// DISTANCE_GEMM, whose bits are the same in both builds. Each has a twin on float32 storage
// (the code plus STORED), which reads X's float32 panels and gives the same bits. The direct
// kernels (codes from DIRECT_DIFFERENCES up) are exact as they come: Σ(x − y)², Σ|x − y| for
// Manhattan and −Σ x·y for the dot metric.
export const CANDIDATE_GEMM: i32 = 0;
export const DISTANCE_GEMM: i32 = 1;
export const DIRECT_DIFFERENCES: i32 = 2;
export const MANHATTAN_DIFFERENCES: i32 = 3;
export const DOT_PRODUCTS: i32 = 4;
export const STORED: i32 = 8;

/**
 * Streams the training points of panels firstPanel … endPanel − 1 (all n by default) past the
 * chunk's q queries, tile by tile, into `reducer.fold(query, tile, count, firstIndex)`: with a
 * GEMM `kernel`, the expansion on W1 (`panels` from packWeights, `pointNorms`, centred on
 * `mean`); with DIRECT_DIFFERENCES (or MANHATTAN_DIFFERENCES, DOT_PRODUCTS), direct values on
 * X (`panels` from packPoints; `pointNorms` and `mean` unused). With a STORED kernel, `panels`
 * are float32 storage's: each
 * block is expanded once into the scratch, as W1 or as X's float64 panels (expandFloat32Panels,
 * the same bits; a cosine network's `unitFactors` widen it to its unit rows), and the same
 * kernel runs on it. Tiles start every blockPanels(d) panels from
 * panel 0, whatever the range (and whatever the storage: a softmax folds the same tiles in the
 * same order on both). R is a reducer class: each one gets a copy of this loop of its own, its
 * fold called directly.
 */
export function streamDistances<R>(
  reducer: R, panels: usize, pointNorms: usize, n: i32, d: i32, mean: usize, queries: usize, q: i32, scratch: usize, kernel: i32,
  firstPanel: i32 = 0, endPanel: i32 = panelCount(n), unitFactors: usize = 0,
): void {
  const pairs = frontOf(scratch);
  const queryNorms = pairs + pairsBytes(q, d);
  const tileA = queryNorms + normsBytes(q);
  const tileB = tileA + tileBytes(d);
  const block = tileB + tileBytes(d);
  const stored = kernel >= STORED;
  const layer = kernel & (STORED - 1);
  // Raw queries are the centred ones with μ = 0: x − 0 is x exactly.
  const direct = layer >= DIRECT_DIFFERENCES;
  prepareQueries(queries, q, d, direct ? 0 : mean, pairs, queryNorms);
  const step = blockPanels(d);
  const pairTotal = pairCount(q);
  for (let first = firstPanel; first < endPanel; first += step) {
    const count = min(step, endPanel - first);
    const firstIndex = first * PANEL_POINTS;
    const valid = min(count * PANEL_POINTS, n - firstIndex);
    // The block's panels: float64 storage's own, or float32 storage's expanded into the scratch.
    if (stored) expandFloat32Panels(panels, direct ? 0 : mean, d, first, count, block, unitFactors);
    const weights = stored ? block : panels;
    const weightsFirst = stored ? 0 : first;
    const norms = stored ? pointNorms + (<usize>first << 6) : pointNorms;
    for (let pair = 0; pair < pairTotal; pair++) {
      const queryPair = pairs + <usize>pair * <usize>d * 16;
      const alone = 2 * pair + 1 == q;
      // A query without a partner (q odd) takes the one-query kernel on its raw values (what
      // the pair holds for it): the same bits for half the pair kernel's work.
      if (alone && direct) {
        const query = queries + <usize>(q - 1) * <usize>d * 8;
        if (layer == MANHATTAN_DIFFERENCES) queryManhattanDistancePanels(query, weights, d, weightsFirst, count, tileA);
        else if (layer == DOT_PRODUCTS) queryDotProductPanels(query, weights, d, weightsFirst, count, tileA);
        else querySquaredDistancePanels(query, weights, d, weightsFirst, count, tileA);
      } else if (layer == DIRECT_DIFFERENCES) {
        directDistancePanels(queryPair, weights, d, weightsFirst, count, tileA, tileB);
      } else if (layer == MANHATTAN_DIFFERENCES) {
        manhattanDistancePanels(queryPair, weights, d, weightsFirst, count, tileA, tileB);
      } else if (layer == DOT_PRODUCTS) {
        dotProductPanels(queryPair, weights, d, weightsFirst, count, tileA, tileB);
      } else {
        const normA = load<f64>(queryNorms + (<usize>(2 * pair) << 3));
        const normB = load<f64>(queryNorms + (<usize>(2 * pair + 1) << 3));
        if (layer == CANDIDATE_GEMM) candidateGemm(queryPair, normA, normB, weights, norms, d, weightsFirst, count, tileA, tileB);
        else distanceGemm(queryPair, normA, normB, weights, norms, d, weightsFirst, count, tileA, tileB);
      }
      reducer.fold(2 * pair, tileA, valid, firstIndex);
      if (!alone) reducer.fold(2 * pair + 1, tileB, valid, firstIndex);
    }
  }
}

/**
 * Σ|p_j·m_j| for the one query streamFloat32Distances laid out in `scratch` (q = 1) and its
 * centre μ32: what storedUnitSingleErrorBound needs of the query besides its norm and scale.
 */
export function singleQueryCentreProducts(scratch: usize, d: i32): f64 {
  return queryCentreProduct(frontOf(scratch), groupScales(scratch, 1, d) + groupNormsBytes(1), d, true);
}

/**
 * Streams all n points of a float32 GEMM past the chunk's q queries, one group of GROUP_QUERIES
 * at a time, into `reducer.fold` (the float32 expansion values, widened): from the float32 copy
 * of W1 (`panels32`, its `pointNorms`, queries centred on `mean` and scaled by `scale`), or with
 * `stored` from float32 storage's panels (its candidate norms as `pointNorms`, queries centred
 * on f32(`mean`) and scaled each on its own; `scale` unused), each block centred into the
 * scratch once per chunk by its first group of queries, which the others then read (a single
 * query centres as it loads, and keeps nothing).
 * `centred` false (stored only) runs the uncentred variant instead, on the raw values (the
 * same GEMM without the centring step), which bench/f32store measures against the centred one.
 * A cosine network's `unitFactors` (stored only) make each block's candidate values from its
 * unit values in a pass of its own (centreUnitPanels), which every group then multiplies; a
 * single query multiplies the raw values instead and scales each sum (storedUnitGemmSingle),
 * on every block whose scales its bound covers (unitScalesBounded).
 * Generic in the reducer class R, as streamDistances.
 */
export function streamFloat32Distances<R>(
  reducer: R, panels32: usize, pointNorms: usize, n: i32, d: i32, mean: usize, scale: f64, queries: usize, q: i32, scratch: usize,
  stored: bool, centred: bool = true, unitFactors: usize = 0,
): void {
  const groups = frontOf(scratch);
  const queryNorms = groupNorms(scratch, q, d);
  const queryScales = groupScales(scratch, q, d);
  const centre32 = queryScales + groupNormsBytes(q);
  const tiles = centre32 + align16(<usize>d << 2);
  const tileStride = float32TileBytes(d);
  const centredBlock = tiles + <usize>GROUP_QUERIES * tileStride;
  if (stored) prepareStoredQueries(centred, queries, q, d, mean, centre32, groups, queryNorms, queryScales);
  else prepareFloat32Queries(queries, q, d, mean, scale, groups, queryNorms);
  const panelTotal = panelCount(n);
  const step = float32BlockPanels(d);
  const groupTotal = groupCount(q);
  // One query reads each block once: it centres as it loads (storedFloat32GemmSingle), or, on
  // a cosine network, multiplies the raw values and scales each sum (storedUnitGemmSingle).
  const unit = unitFactors != 0;
  const single = stored && q == 1;
  const centreProduct = single && unit ? queryCentreProduct(groups, centre32, d, false) : 0;
  for (let first = 0; first < panelTotal; first += step) {
    const count = min(step, panelTotal - first);
    const firstIndex = first * PANEL_POINTS;
    const valid = min(count * PANEL_POINTS, n - firstIndex);
    if (single && !unit) {
      storedFloat32GemmSingle(groups, load<f64>(queryNorms), load<f64>(queryScales), panels32, pointNorms, centre32, d, first, count, tiles);
      reducer.fold(0, tiles, valid, firstIndex);
      continue;
    }
    if (single && unitScalesBounded(unitFactors, first, count)) {
      storedUnitGemmSingle(groups, load<f64>(queryNorms), load<f64>(queryScales), centreProduct, panels32, unitFactors, pointNorms, d, first, count, tiles);
      reducer.fold(0, tiles, valid, firstIndex);
      continue;
    }
    if (unit) centreUnitPanels(panels32, unitFactors, centre32, d, first, count, centredBlock);
    for (let g = 0; g < groupTotal; g++) {
      const group = groups + <usize>g * <usize>d * <usize>(GROUP_QUERIES * 4);
      const normsOfGroup = queryNorms + (<usize>(g * GROUP_QUERIES) << 3);
      const scalesOfGroup = queryScales + (<usize>(g * GROUP_QUERIES) << 3);
      if (!stored && q - g * GROUP_QUERIES == 1) {
        float32DistanceGemmSingle(group, load<f64>(normsOfGroup), panels32, pointNorms, d, first, count, tiles);
      } else if (!stored) {
        float32DistanceGemm(group, normsOfGroup, panels32, pointNorms, d, first, count, tiles, tileStride);
      } else if (!centred) {
        storedFloat32Gemm(group, normsOfGroup, scalesOfGroup, panels32, pointNorms, d, first, count, tiles, tileStride);
      } else if (g == 0 && !unit) {
        // The first group centres the block into the scratch as it goes; the others read it there.
        storedFloat32GemmCentring(group, normsOfGroup, scalesOfGroup, panels32, pointNorms, centre32, centredBlock, d, first, count, tiles, tileStride);
      } else {
        storedFloat32Gemm(group, normsOfGroup, scalesOfGroup, centredBlock, pointNorms + (<usize>first << 6), d, 0, count, tiles, tileStride);
      }
      for (let lane = 0; lane < GROUP_QUERIES; lane++) {
        const query = g * GROUP_QUERIES + lane;
        if (query < q) reducer.fold(query, tiles + <usize>lane * tileStride, valid, firstIndex);
      }
    }
  }
}

/**
 * Rounding bound of the expansion for one query: |z1 − Σ(x_j − X_ij)²| ≤ bound for every
 * training point. Centring, the two norms and the d-term dot product each lose at most a few
 * units of roundoff of (‖x̃‖ + max‖X̃_i‖)²; the factor 2d + 16 covers them with room to spare,
 * and the last term covers underflow in the products.
 *
 * The same bound holds for candidateGemm in both builds. It is derived in the standard model,
 * where each operation's result is (exact)(1 + δ) + η with |δ| ≤ u and |η| ≤ half the smallest
 * subnormal, and each dot-product step s + a·b is charged two roundings: the product's and the
 * sum's. A fused multiply-add (relaxed SIMD) rounds that step once: it is the same step with
 * the product's δ = 0 and one η in place of two. Every error term of the fused sum is thus
 * one of the unfused sum's or smaller, whichever rounding the engine picks for each lane and
 * each step, so a bound that holds for all δ, η of the unfused sum holds for the fused one.
 * The norms, the epilogue and the direct recheck are never fused.
 */
export function expansionErrorBound(queryNorm: f64, largestPointNorm: f64, d: i32): f64 {
  const scale = Math.sqrt(queryNorm) + Math.sqrt(largestPointNorm);
  return <f64>(2 * d + 16) * UNIT_ROUNDOFF * scale * scale + <f64>(2 * d + 16) * SMALLEST_SUBNORMAL;
}


/** The copy reducer of `forward`: each tile goes to its place in the q × `rowLength` `output`. */
@unmanaged export class CopyReducer {
  output: usize;
  rowLength: i32;

  begin(output: usize, rowLength: i32): void {
    this.output = output;
    this.rowLength = rowLength;
  }

  @inline fold(query: i32, tile: usize, count: i32, firstIndex: i32): void {
    memory.copy(this.output + ((<usize>query * <usize>this.rowLength + <usize>firstIndex) << 3), tile, <usize>count << 3);
  }
}
