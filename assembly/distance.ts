// Layer 1: the fused distance GEMM, and the direct-difference kernel that replaces it in the
// k-nearest search when d is small (packPoints, directDistancePanels).
//
// z1[i] = ‖x̃‖² − 2·X̃_i·x̃ + ‖X̃_i‖², with x̃ = x − μ and X̃ = X − μ (centring removes the
// cancellation a common offset would cause). The weights W1 = −2·X̃ are packed at fit time in
// panels of PANEL_POINTS points, interleaved per dimension: for panel p and dimension j the
// PANEL_POINTS values −2·X̃[p·8 + lane][j] are contiguous, so the micro-kernel streams the panel
// once, front to back, with aligned v128 loads. Multiplying by −2 is exact (a power of two).

import { multiplyAddF64x2 } from './multiplyAdd';

export const PANEL_POINTS: i32 = 8;
const PANEL_BYTES_PER_DIMENSION: i32 = PANEL_POINTS * 8;
// Queries are stored in pairs, interleaved per dimension: [a_j, b_j], so one pair streams
// front to back; the kernel splats each coordinate as it loads it.
const PAIR_BYTES_PER_DIMENSION: i32 = 16;

export function panelCount(n: i32): i32 {
  return (n + PANEL_POINTS - 1) / PANEL_POINTS;
}

export function pairCount(q: i32): i32 {
  return (q + 1) >> 1;
}

/** μ_j = (Σ_i X_ij) / n, summed in row order. */
export function computeMean(points: usize, n: i32, d: i32, mean: usize): void {
  for (let j = 0; j < d; j++) store<f64>(mean + (<usize>j << 3), 0.0);
  for (let i = 0; i < n; i++) {
    const row = points + (<usize>i * <usize>d << 3);
    for (let j = 0; j < d; j++) {
      const at = mean + (<usize>j << 3);
      store<f64>(at, load<f64>(at) + load<f64>(row + (<usize>j << 3)));
    }
  }
  for (let j = 0; j < d; j++) {
    const at = mean + (<usize>j << 3);
    store<f64>(at, load<f64>(at) / <f64>n);
  }
}

/**
 * Packs W1 = −2·(X − μ) into panels and writes b1_i = ‖X_i − μ‖² (summed in dimension order),
 * for points firstPoint… (0 at fit; the first new point when points are appended). The last
 * panel is padded with zero points whose distances the reducers never read. A panel is padded
 * when its first lane is packed; points appended to a partly held panel (firstPoint not its
 * first lane) take the padding's lanes, and the lanes past n keep the padding they hold (an
 * append of one point at d = 512 packs 512 values, not up to 8 × 512). Returns the largest
 * ‖X_i − μ‖² it wrote, which bounds the rounding error of the expansion.
 */
export function packWeights(points: usize, n: i32, d: i32, mean: usize, packed: usize, norms: usize, firstPoint: i32): f64 {
  const panels = panelCount(n);
  const firstPanel = firstPoint / PANEL_POINTS;
  let largestNorm: f64 = 0;
  for (let p = firstPanel; p < panels; p++) {
    const panel = packed + (<usize>p * <usize>d * <usize>PANEL_BYTES_PER_DIMENSION);
    const firstLane = p == firstPanel ? firstPoint % PANEL_POINTS : 0;
    const endLane = firstLane != 0 ? min(PANEL_POINTS, n - p * PANEL_POINTS) : PANEL_POINTS;
    for (let lane = firstLane; lane < endLane; lane++) {
      const i = p * PANEL_POINTS + lane;
      let norm: f64 = 0;
      const row = points + (<usize>i * <usize>d << 3);
      if (i < n) {
        for (let j = 0; j < d; j++) {
          const centred = load<f64>(row + (<usize>j << 3)) - load<f64>(mean + (<usize>j << 3));
          norm += centred * centred;
          store<f64>(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION + (<usize>lane << 3), -2.0 * centred);
        }
      } else {
        // A padding point: centred 0 in every dimension, so −2·0 = −0 in W1 and a norm of 0.
        for (let j = 0; j < d; j++) store<f64>(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION + (<usize>lane << 3), -0.0);
      }
      store<f64>(norms + (<usize>i << 3), norm);
      if (norm > largestNorm) largestNorm = norm;
    }
  }
  return largestNorm;
}

/**
 * Centres q queries on `mean` (none when it is 0) and lays them out in duplicated pairs for the
 * micro-kernels; writes ‖x − μ‖² per query. An odd last query is paired with a copy of itself.
 */
export function prepareQueries(queries: usize, q: i32, d: i32, mean: usize, pairs: usize, norms: usize): void {
  const slots = pairCount(q) * 2;
  for (let r = 0; r < slots; r++) {
    const source = r < q ? r : q - 1;
    const row = queries + (<usize>source * <usize>d << 3);
    const pair = pairs + <usize>(r >> 1) * <usize>d * <usize>PAIR_BYTES_PER_DIMENSION + (<usize>(r & 1) << 3);
    let norm: f64 = 0;
    for (let j = 0; j < d; j++) {
      // mean = 0 (no centre) lays out the raw rows, for the direct kernels: x − 0 is x exactly.
      const centred = load<f64>(row + (<usize>j << 3)) - (mean != 0 ? load<f64>(mean + (<usize>j << 3)) : 0.0);
      norm += centred * centred;
      store<f64>(pair + <usize>j * <usize>PAIR_BYTES_PER_DIMENSION, centred);
    }
    store<f64>(norms + (<usize>r << 3), norm);
  }
}

/**
 * Squared distances from one query pair to panels [firstPanel, firstPanel + panels), for a
 * search that only *selects* candidates: each multiply-add is one fused, singly rounded
 * instruction in the relaxed-SIMD build (multiplyAddF64x2), mul then add in the plain one. The
 * values may therefore differ in their last bits between builds (and, relaxed SIMD allowing
 * either rounding, between engines); every caller rechecks what it keeps with direct
 * differences and certifies the selection with expansionErrorBound, which covers both.
 */
export function candidateGemm(
  pair: usize, normA: f64, normB: f64,
  packed: usize, pointNorms: usize, d: i32,
  firstPanel: i32, panels: i32,
  tileA: usize, tileB: usize,
): void {
  gemmPanels(true, pair, normA, normB, packed, pointNorms, d, firstPanel, panels, tileA, tileB);
}

/**
 * The same squared distances as candidateGemm, with every product rounded before it is added,
 * in both builds: the values users read as layer 1 (`forward`'s z1) and the online softmax over
 * all points, which must not depend on the build.
 */
export function distanceGemm(
  pair: usize, normA: f64, normB: f64,
  packed: usize, pointNorms: usize, d: i32,
  firstPanel: i32, panels: i32,
  tileA: usize, tileB: usize,
): void {
  gemmPanels(false, pair, normA, normB, packed, pointNorms, d, firstPanel, panels, tileA, tileB);
}

/** acc + a·b: fused where the build has it and `fused` (a compile-time constant) asks for it. */
@inline function accumulate(fused: bool, accumulator: v128, a: v128, b: v128): v128 {
  return fused ? multiplyAddF64x2(a, b, accumulator) : f64x2.add(accumulator, f64x2.mul(a, b));
}

/**
 * The distance GEMM for candidateGemm (`fused`) and distanceGemm; inlined into each, so the
 * choice is made at compile time. Writes 8·panels values to each of tileA and tileB.
 *
 * Blocking: 2 queries × 8 points in 8 f64x2 accumulators; per dimension 2 splat loads and
 * 4 weight loads feed 16 multiply-adds. (Measured on V8: wider blockings such as 4×8 or 3×8
 * need more than its 15 allocatable xmm registers and spill, dropping to ~60 % speed.) The epilogue fuses both norm vectors and clamps at 0
 * (rounding can push a tiny distance negative); it is never contracted, in either build.
 */
@inline function gemmPanels(
  fused: bool,
  pair: usize, normA: f64, normB: f64,
  packed: usize, pointNorms: usize, d: i32,
  firstPanel: i32, panels: i32,
  tileA: usize, tileB: usize,
): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  const zero = f64x2.splat(0);
  const queryNormA = f64x2.splat(normA);
  const queryNormB = f64x2.splat(normB);
  let weights = packed + <usize>firstPanel * panelBytes;
  let norms = pointNorms + (<usize>firstPanel << 6);
  let outA = tileA;
  let outB = tileB;
  for (let p = 0; p < panels; p++) {
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    let b0 = zero, b1 = zero, b2 = zero, b3 = zero;
    let x = pair;
    let w = weights;
    const end = weights + panelBytes;
    while (w < end) {
      // One weight vector live at a time: 8 accumulators + 2 query splats + 1 weight vector
      // + 1 product (none when fused) = 12 of V8's 15 allocatable xmm registers: no spills.
      const xa = v128.load64_splat(x);
      const xb = v128.load64_splat(x, 8);
      let y = v128.load(w);
      a0 = accumulate(fused, a0, xa, y);
      b0 = accumulate(fused, b0, xb, y);
      y = v128.load(w, 16);
      a1 = accumulate(fused, a1, xa, y);
      b1 = accumulate(fused, b1, xb, y);
      y = v128.load(w, 32);
      a2 = accumulate(fused, a2, xa, y);
      b2 = accumulate(fused, b2, xb, y);
      y = v128.load(w, 48);
      a3 = accumulate(fused, a3, xa, y);
      b3 = accumulate(fused, b3, xb, y);
      x += PAIR_BYTES_PER_DIMENSION;
      w += PANEL_BYTES_PER_DIMENSION;
    }
    const n0 = v128.load(norms);
    const n1 = v128.load(norms, 16);
    const n2 = v128.load(norms, 32);
    const n3 = v128.load(norms, 48);
    v128.store(outA, f64x2.pmax(zero, f64x2.add(f64x2.add(a0, n0), queryNormA)));
    v128.store(outA, f64x2.pmax(zero, f64x2.add(f64x2.add(a1, n1), queryNormA)), 16);
    v128.store(outA, f64x2.pmax(zero, f64x2.add(f64x2.add(a2, n2), queryNormA)), 32);
    v128.store(outA, f64x2.pmax(zero, f64x2.add(f64x2.add(a3, n3), queryNormA)), 48);
    v128.store(outB, f64x2.pmax(zero, f64x2.add(f64x2.add(b0, n0), queryNormB)));
    v128.store(outB, f64x2.pmax(zero, f64x2.add(f64x2.add(b1, n1), queryNormB)), 16);
    v128.store(outB, f64x2.pmax(zero, f64x2.add(f64x2.add(b2, n2), queryNormB)), 32);
    v128.store(outB, f64x2.pmax(zero, f64x2.add(f64x2.add(b3, n3), queryNormB)), 48);
    weights = end;
    norms += 64;
    outA += 64;
    outB += 64;
  }
}

/**
 * Packs X itself, uncentred, in the same panels as W1 (padding points are 0): the layout of the
 * direct distance kernel, which serves small d (see directDistancePanels).
 */
export function packPoints(points: usize, n: i32, d: i32, packed: usize, firstPoint: i32): void {
  const panels = panelCount(n);
  for (let p = firstPoint / PANEL_POINTS; p < panels; p++) {
    const panel = packed + (<usize>p * <usize>d * <usize>PANEL_BYTES_PER_DIMENSION);
    for (let lane = p == firstPoint / PANEL_POINTS ? firstPoint % PANEL_POINTS : 0; lane < PANEL_POINTS; lane++) {
      const i = p * PANEL_POINTS + lane;
      const row = points + (<usize>i * <usize>d << 3);
      for (let j = 0; j < d; j++) {
        const value = i < n ? load<f64>(row + (<usize>j << 3)) : 0.0;
        store<f64>(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION + (<usize>lane << 3), value);
      }
    }
  }
}

// The direct kernels' terms, as differencePanels takes them: each a constant in its caller.
const SQUARED_TERMS: i32 = 0;
const MANHATTAN_TERMS: i32 = 1;
const PRODUCT_TERMS: i32 = 2;

/** One term of a direct value, added on: (x − y)² (squared Euclidean), |x − y| (Manhattan) or x·y (dot). */
@inline function addTerm(terms: i32, sum: v128, x: v128, y: v128): v128 {
  if (terms == PRODUCT_TERMS) return f64x2.add(sum, f64x2.mul(x, y));
  const difference = f64x2.sub(x, y);
  return terms == MANHATTAN_TERMS ? f64x2.add(sum, f64x2.abs(difference)) : f64x2.add(sum, f64x2.mul(difference, difference));
}

/**
 * A lane sum as its kernel reports it: the dot metric's z1 is −Σ x·y, negated once at the end.
 * (Negating the query instead gives the same bits but for the sign of a zero sum: +0 + (−0)
 * is +0, so Σ(−x)·y can be +0 where −Σ x·y is −0; negating the sum keeps −z1, the reported
 * inner product, exactly Σ x·y.)
 */
@inline function finish(terms: i32, sum: v128): v128 {
  return terms == PRODUCT_TERMS ? f64x2.neg(sum) : sum;
}

/**
 * Direct values from one pair of raw queries to panels [firstPanel, firstPanel + panels) of
 * packPoints' layout, 8·panels values to each tile: Σ_j (x_j − X_ij)² (directDistancePanels),
 * Σ_j |x_j − X_ij| (manhattanDistancePanels) or −Σ_j x_j·X_ij (dotProductPanels); `terms` is a
 * constant in each, so each compiles to its own loop.
 *
 * Same 2 × 8 blocking as distanceGemm, with a subtraction per product (13 of V8's 15 xmm
 * registers). Each lane sums its own point in dimension order from 0, so every value is
 * bit-for-bit the scalar directSquaredDistance (or directManhattanDistance, directDotProduct):
 * no expansion error, no recheck. For small d this costs about what the GEMM and its epilogue
 * do, and the recheck and proof disappear; for Manhattan, whose layer 1 is not linear, and for
 * dot, whose exact value is this sum, it is the only kernel. Products are never fused with the
 * sum (no relaxed multiply-add), so both kernel builds give the same bits.
 */
@inline function differencePanels(
  terms: i32, pair: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tileA: usize, tileB: usize,
): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  const zero = f64x2.splat(0);
  let points = packed + <usize>firstPanel * panelBytes;
  let outA = tileA;
  let outB = tileB;
  for (let p = 0; p < panels; p++) {
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    let b0 = zero, b1 = zero, b2 = zero, b3 = zero;
    let x = pair;
    let w = points;
    const end = points + panelBytes;
    while (w < end) {
      const xa = v128.load64_splat(x);
      const xb = v128.load64_splat(x, 8);
      let y = v128.load(w);
      a0 = addTerm(terms, a0, xa, y);
      b0 = addTerm(terms, b0, xb, y);
      y = v128.load(w, 16);
      a1 = addTerm(terms, a1, xa, y);
      b1 = addTerm(terms, b1, xb, y);
      y = v128.load(w, 32);
      a2 = addTerm(terms, a2, xa, y);
      b2 = addTerm(terms, b2, xb, y);
      y = v128.load(w, 48);
      a3 = addTerm(terms, a3, xa, y);
      b3 = addTerm(terms, b3, xb, y);
      x += PAIR_BYTES_PER_DIMENSION;
      w += PANEL_BYTES_PER_DIMENSION;
    }
    v128.store(outA, finish(terms, a0));
    v128.store(outA, finish(terms, a1), 16);
    v128.store(outA, finish(terms, a2), 32);
    v128.store(outA, finish(terms, a3), 48);
    v128.store(outB, finish(terms, b0));
    v128.store(outB, finish(terms, b1), 16);
    v128.store(outB, finish(terms, b2), 32);
    v128.store(outB, finish(terms, b3), 48);
    points = end;
    outA += 64;
    outB += 64;
  }
}

/**
 * Direct values from one raw query (d values) to panels [firstPanel, firstPanel + panels) of
 * packPoints' layout, 8·panels values to `tile`. Each lane sums its point's terms in dimension
 * order from 0, as differencePanels does for a pair of queries: the same bits, for half the
 * work where a query has no partner (one query, an odd chunk's last, a leaf of the tree).
 */
@inline function queryPanels(terms: i32, query: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tile: usize): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  const zero = f64x2.splat(0);
  let points = packed + <usize>firstPanel * panelBytes;
  let out = tile;
  for (let p = 0; p < panels; p++) {
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    let x = query;
    let w = points;
    const end = points + panelBytes;
    while (w < end) {
      const xa = v128.load64_splat(x);
      a0 = addTerm(terms, a0, xa, v128.load(w));
      a1 = addTerm(terms, a1, xa, v128.load(w, 16));
      a2 = addTerm(terms, a2, xa, v128.load(w, 32));
      a3 = addTerm(terms, a3, xa, v128.load(w, 48));
      x += 8;
      w += PANEL_BYTES_PER_DIMENSION;
    }
    v128.store(out, finish(terms, a0));
    v128.store(out, finish(terms, a1), 16);
    v128.store(out, finish(terms, a2), 32);
    v128.store(out, finish(terms, a3), 48);
    points = end;
    out += 64;
  }
}

/** queryPanels' squared Euclidean (or, `manhattan`, Manhattan) distances: the k-d tree's leaves. */
@inline export function queryDistancePanels(manhattan: bool, query: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tile: usize): void {
  if (manhattan) queryPanels(MANHATTAN_TERMS, query, packed, d, firstPanel, panels, tile);
  else queryPanels(SQUARED_TERMS, query, packed, d, firstPanel, panels, tile);
}

// The stream's query without a partner takes one of these three, chosen once per tile. They
// are functions of their own, not inlined there: inlined side by side, the optimizer folded the
// three loops into one that tested the kind of term on every value (a single 1 000 × 16 query
// took 1.6× the time).

/** queryPanels' squared Euclidean distances, for a query without a partner. */
export function querySquaredDistancePanels(query: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tile: usize): void {
  queryPanels(SQUARED_TERMS, query, packed, d, firstPanel, panels, tile);
}

/** queryPanels' Manhattan distances, for a query without a partner. */
export function queryManhattanDistancePanels(query: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tile: usize): void {
  queryPanels(MANHATTAN_TERMS, query, packed, d, firstPanel, panels, tile);
}

/** queryPanels' dot-metric values −Σ_j x_j·X_ij, for a query without a partner. */
export function queryDotProductPanels(query: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tile: usize): void {
  queryPanels(PRODUCT_TERMS, query, packed, d, firstPanel, panels, tile);
}

export function directDistancePanels(pair: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tileA: usize, tileB: usize): void {
  differencePanels(SQUARED_TERMS, pair, packed, d, firstPanel, panels, tileA, tileB);
}

export function manhattanDistancePanels(pair: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tileA: usize, tileB: usize): void {
  differencePanels(MANHATTAN_TERMS, pair, packed, d, firstPanel, panels, tileA, tileB);
}

export function dotProductPanels(pair: usize, packed: usize, d: i32, firstPanel: i32, panels: i32, tileA: usize, tileB: usize): void {
  differencePanels(PRODUCT_TERMS, pair, packed, d, firstPanel, panels, tileA, tileB);
}

/** Σ_j (x_j − X_ij)², in dimension order: the exact distance every reported value must equal. */
export function directSquaredDistance(query: usize, point: usize, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) {
    const difference = load<f64>(query + (<usize>j << 3)) - load<f64>(point + (<usize>j << 3));
    sum += difference * difference;
  }
  return sum;
}

/** Σ_j |x_j − X_ij|, in dimension order: the exact Manhattan distance. */
export function directManhattanDistance(query: usize, point: usize, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) sum += Math.abs(load<f64>(query + (<usize>j << 3)) - load<f64>(point + (<usize>j << 3)));
  return sum;
}

/** −Σ_j x_j·X_ij, the sum in dimension order, then negated: the dot metric's z1 (see finish). */
export function directDotProduct(query: usize, point: usize, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) sum += load<f64>(query + (<usize>j << 3)) * load<f64>(point + (<usize>j << 3));
  return -sum;
}
