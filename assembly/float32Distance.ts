// Layer 1 in float32, for choosing candidates only: a float32 copy of W1 = −2·(X − μ) feeds an
// f32x4 GEMM that does twice the multiply-adds per instruction of the float64 one. Its values
// are never reported: the candidates are rechecked by direct float64 differences, and
// candidateErrorBound (below) says how far a float32 value can be from the true distance, so
// that the caller can prove no rejected point beats the rechecked k-th.
//
// Scaling. The copy holds s·(X − μ) with s = 2^−e a power of two chosen so that the largest
// centred value lies in [1/2, 1): float32 then neither overflows (values up to 1e153 are
// accepted, float32 stops at 3.4e38) nor flushes small data to zero, and scaling by a power of
// two is exact. Queries are scaled by the same s; distances come out multiplied by s².
// |e| ≤ 511, so s² = 2^−2e is itself a float64 the caller can rescale by exactly.
//
// Layout: the same panels of PANEL_POINTS points as the float64 W1, in float32 (32 bytes per
// dimension), and queries in groups of GROUP_QUERIES, interleaved per dimension (16 bytes).

import { multiplyAddF32x4 } from './multiplyAdd';
import { PANEL_POINTS, panelCount } from './distance';

export const GROUP_QUERIES: i32 = 4;
const PANEL_BYTES_PER_DIMENSION: i32 = PANEL_POINTS * 4;
const GROUP_BYTES_PER_DIMENSION: i32 = GROUP_QUERIES * 4;
const FLOAT64_PANEL_BYTES_PER_DIMENSION: i32 = PANEL_POINTS * 8;
const LARGEST_SCALE_EXPONENT: i32 = 511;
// A query whose scaled squared norm exceeds this is not searched in float32: its coordinates
// are below 2^100 and the products and partial sums of the dot product below 2^127 for any
// d < 2^50 (the data are below 1), so nothing overflows float32 (see candidateErrorBound).
const LARGEST_QUERY_NORM: f64 = 1.6069380442589903e60; // 2^200

export function groupCount(q: i32): i32 {
  return (q + GROUP_QUERIES - 1) / GROUP_QUERIES;
}

export function groupBytes(q: i32, d: i32): usize {
  return <usize>groupCount(q) * <usize>d * <usize>GROUP_BYTES_PER_DIMENSION;
}

/**
 * The scale s = 2^−e of the float32 copy, from W1's float64 panels (−2·(X − μ), so the largest
 * centred magnitude is half the largest entry): s·max|X − μ| lies in [1/2, 1) unless e had to
 * be clamped to ±511 (data beyond 2^±511 in magnitude), and s = 1 when every point is the mean.
 */
export function float32Scale(packed: usize, n: i32, d: i32): f64 {
  const end = packed + (<usize>panelCount(n) * <usize>d * <usize>PANEL_POINTS << 3);
  let largest2 = f64x2.splat(0);
  for (let at = packed; at < end; at += 16) largest2 = f64x2.pmax(largest2, f64x2.abs(v128.load(at)));
  const largest = 0.5 * Math.max(f64x2.extract_lane(largest2, 0), f64x2.extract_lane(largest2, 1));
  if (largest == 0) return 1.0;
  // largest < 2^(E + 1), E its binary exponent (subnormals read as −1023: clamped anyway).
  const exponent = <i32>((reinterpret<u64>(largest) >> 52) & 0x7ff) - 1023 + 1;
  const e = max(-LARGEST_SCALE_EXPONENT, min(LARGEST_SCALE_EXPONENT, exponent));
  return reinterpret<f64>(<u64>(1023 - e) << 52);
}

/** f32(s·w) of two float64 weights, in the low half of a v128. */
@inline function demoteScaled(weights: v128, scale: v128): v128 {
  return f32x4.demote_f64x2_zero(f64x2.mul(weights, scale));
}

/** (−w/2)² in float64 of the two float32 weights in the low half: the centred values' squares, exact. */
@inline function squaredCentred(demoted: v128): v128 {
  const centred = f64x2.mul(f64x2.promote_low_f32x4(demoted), f64x2.splat(-0.5));
  return f64x2.mul(centred, centred);
}

/**
 * Packs the float32 copy: f32(s·W1) in W1's panel layout, and c_i = ‖s·(X_i − μ)‖² of the
 * float32 values (each square exact in float64, summed in float64 in dimension order; padding
 * points are 0), for points firstPoint… as packWeights does: lane by lane in a partly held
 * panel (each lane rounds and sums as the vector lanes do, so the bits are the same; the lanes
 * past n keep the padding written with the panel's first lane), whole panels two lanes per
 * f64x2. Returns the largest c_i it wrote.
 */
export function packFloat32Weights(packed: usize, n: i32, d: i32, scale: f64, panels32: usize, norms: usize, firstPoint: i32): f64 {
  let firstPanel = firstPoint / PANEL_POINTS;
  let largest: f64 = 0;
  if (firstPoint % PANEL_POINTS != 0) {
    const endLane = min(PANEL_POINTS, n - firstPanel * PANEL_POINTS);
    for (let lane = firstPoint % PANEL_POINTS; lane < endLane; lane++) {
      let norm: f64 = 0;
      let source = packed + (<usize>firstPanel * <usize>d * <usize>FLOAT64_PANEL_BYTES_PER_DIMENSION) + (<usize>lane << 3);
      let target = panels32 + (<usize>firstPanel * <usize>d * <usize>PANEL_BYTES_PER_DIMENSION) + (<usize>lane << 2);
      for (let j = 0; j < d; j++) {
        const value = <f32>(load<f64>(source) * scale);
        store<f32>(target, value);
        const centred = <f64>value * -0.5;
        norm += centred * centred;
        source += FLOAT64_PANEL_BYTES_PER_DIMENSION;
        target += PANEL_BYTES_PER_DIMENSION;
      }
      store<f64>(norms + (<usize>(firstPanel * PANEL_POINTS + lane) << 3), norm);
      largest = Math.max(largest, norm);
    }
    firstPanel++;
  }
  return Math.max(largest, packFloat32Panels(packed, n, d, scale, panels32, norms, firstPanel));
}

/** packFloat32Weights for whole panels firstPanel…, two lanes per f64x2. */
function packFloat32Panels(packed: usize, n: i32, d: i32, scale: f64, panels32: usize, norms: usize, firstPanel: i32): f64 {
  const panels = panelCount(n);
  const scales = f64x2.splat(scale);
  let largest2 = f64x2.splat(0);
  let source = packed + (<usize>firstPanel * <usize>d * <usize>FLOAT64_PANEL_BYTES_PER_DIMENSION);
  let target = panels32 + (<usize>firstPanel * <usize>d * <usize>PANEL_BYTES_PER_DIMENSION);
  let norm = norms + (<usize>firstPanel << 6);
  for (let p = firstPanel; p < panels; p++) {
    let norm01 = f64x2.splat(0), norm23 = norm01, norm45 = norm01, norm67 = norm01;
    for (let j = 0; j < d; j++) {
      const w01 = demoteScaled(v128.load(source), scales);
      const w23 = demoteScaled(v128.load(source, 16), scales);
      const w45 = demoteScaled(v128.load(source, 32), scales);
      const w67 = demoteScaled(v128.load(source, 48), scales);
      v128.store(target, v128.shuffle<i64>(w01, w23, 0, 2));
      v128.store(target, v128.shuffle<i64>(w45, w67, 0, 2), 16);
      norm01 = f64x2.add(norm01, squaredCentred(w01));
      norm23 = f64x2.add(norm23, squaredCentred(w23));
      norm45 = f64x2.add(norm45, squaredCentred(w45));
      norm67 = f64x2.add(norm67, squaredCentred(w67));
      source += FLOAT64_PANEL_BYTES_PER_DIMENSION;
      target += PANEL_BYTES_PER_DIMENSION;
    }
    v128.store(norm, norm01);
    v128.store(norm, norm23, 16);
    v128.store(norm, norm45, 32);
    v128.store(norm, norm67, 48);
    largest2 = f64x2.pmax(largest2, f64x2.pmax(f64x2.pmax(norm01, norm23), f64x2.pmax(norm45, norm67)));
    norm += 64;
  }
  return Math.max(f64x2.extract_lane(largest2, 0), f64x2.extract_lane(largest2, 1));
}

/**
 * Centres q queries (x − μ in float64, as the float64 path does), scales them by s, rounds them
 * to float32 and lays them out in groups; writes each query's squared norm of its float32
 * values (float64 sum). A query too large for float32 (norm above 2^200, or infinite) gets
 * zeros in the group, so the GEMM stays finite, and +∞ as its norm: the caller must not trust
 * its candidates. The last group is filled with copies of the last query.
 */
export function prepareFloat32Queries(queries: usize, q: i32, d: i32, mean: usize, scale: f64, groups: usize, norms: usize): void {
  const slots = groupCount(q) * GROUP_QUERIES;
  for (let r = 0; r < slots; r++) {
    const row = queries + (<usize>min(r, q - 1) * <usize>d << 3);
    const slot = groups + <usize>(r / GROUP_QUERIES) * <usize>d * <usize>GROUP_BYTES_PER_DIMENSION + (<usize>(r % GROUP_QUERIES) << 2);
    let norm: f64 = 0;
    for (let j = 0; j < d; j++) {
      const value = <f32>((load<f64>(row + (<usize>j << 3)) - load<f64>(mean + (<usize>j << 3))) * scale);
      norm += <f64>value * <f64>value;
      store<f32>(slot + <usize>j * <usize>GROUP_BYTES_PER_DIMENSION, value);
    }
    if (!(norm <= LARGEST_QUERY_NORM)) {
      for (let j = 0; j < d; j++) store<f32>(slot + <usize>j * <usize>GROUP_BYTES_PER_DIMENSION, 0);
      norm = Infinity;
    }
    store<f64>(norms + (<usize>r << 3), norm);
  }
}

/** Whether prepareFloat32Queries found the query too large for float32. */
export function outOfFloat32Range(queryNorm: f64): bool {
  return queryNorm == Infinity;
}

/** Four float32 dot products widened to float64, plus the points' and the query's norms, stored at out + offset. */
@inline function storeWidened(accumulator: v128, pointNormsLow: v128, pointNormsHigh: v128, queryNorm: v128, out: usize, offset: usize): void {
  const low = f64x2.promote_low_f32x4(accumulator);
  const high = f64x2.promote_low_f32x4(v128.shuffle<f32>(accumulator, accumulator, 2, 3, 2, 3));
  v128.store(out + offset, f64x2.add(f64x2.add(low, pointNormsLow), queryNorm));
  v128.store(out + offset + 16, f64x2.add(f64x2.add(high, pointNormsHigh), queryNorm));
}

/**
 * Scaled expansion values ‖p‖² − 2·c_i·p + ‖c_i‖² from one group of four float32 queries to
 * panels [firstPanel, firstPanel + panels): 8·panels float64 values to each of the four tiles
 * (tile r at tiles + r·tileStride).
 *
 * Blocking: 4 queries × 8 points in 8 f32x4 accumulators; per dimension 2 weight loads and
 * 4 splat loads feed 8 multiply-adds (11 live vector registers, under V8's 15). Measured with
 * the in-cache probe (bench/probe, plain SIMD, Node 20): 4 × 8 and 2 × 16 both ≈ 34 GFLOP/s,
 * 6 × 8 and 2 × 24 ≈ 27–29; 4 × 8 reads a block of weights once per four queries, half the
 * cache traffic of 2 × 16. The dot product
 * is summed in float32, one lane per point in dimension order; the epilogue widens it to
 * float64 and adds the float64 norms, so the norms add no float32 rounding. Values are not
 * clamped at 0: the selection only compares them.
 */
export function float32DistanceGemm(
  group: usize, queryNorms: usize, panels32: usize, pointNorms: usize, d: i32,
  firstPanel: i32, panels: i32, tiles: usize, tileStride: usize,
): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  const zero = f32x4.splat(0);
  const norm0 = v128.load64_splat(queryNorms);
  const norm1 = v128.load64_splat(queryNorms, 8);
  const norm2 = v128.load64_splat(queryNorms, 16);
  const norm3 = v128.load64_splat(queryNorms, 24);
  let weights = panels32 + <usize>firstPanel * panelBytes;
  let norms = pointNorms + (<usize>firstPanel << 6);
  let out: usize = tiles;
  for (let p = 0; p < panels; p++) {
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    let c0 = zero, c1 = zero, e0 = zero, e1 = zero;
    let x = group;
    let w = weights;
    const end = weights + panelBytes;
    while (w < end) {
      const low = v128.load(w);
      const high = v128.load(w, 16);
      let splat = v128.load32_splat(x);
      a0 = multiplyAddF32x4(splat, low, a0);
      a1 = multiplyAddF32x4(splat, high, a1);
      splat = v128.load32_splat(x, 4);
      b0 = multiplyAddF32x4(splat, low, b0);
      b1 = multiplyAddF32x4(splat, high, b1);
      splat = v128.load32_splat(x, 8);
      c0 = multiplyAddF32x4(splat, low, c0);
      c1 = multiplyAddF32x4(splat, high, c1);
      splat = v128.load32_splat(x, 12);
      e0 = multiplyAddF32x4(splat, low, e0);
      e1 = multiplyAddF32x4(splat, high, e1);
      x += GROUP_BYTES_PER_DIMENSION;
      w += PANEL_BYTES_PER_DIMENSION;
    }
    const n01 = v128.load(norms);
    const n23 = v128.load(norms, 16);
    const n45 = v128.load(norms, 32);
    const n67 = v128.load(norms, 48);
    storeWidened(a0, n01, n23, norm0, out, 0);
    storeWidened(a1, n45, n67, norm0, out, 32);
    storeWidened(b0, n01, n23, norm1, out + tileStride, 0);
    storeWidened(b1, n45, n67, norm1, out + tileStride, 32);
    storeWidened(c0, n01, n23, norm2, out + 2 * tileStride, 0);
    storeWidened(c1, n45, n67, norm2, out + 2 * tileStride, 32);
    storeWidened(e0, n01, n23, norm3, out + 3 * tileStride, 0);
    storeWidened(e1, n45, n67, norm3, out + 3 * tileStride, 32);
    weights = end;
    norms += 64;
    out += 64;
  }
}

/**
 * float32DistanceGemm's values for its group's first query alone, 8·panels values to `tile`: a
 * group that holds one query (a one-query call, a chunk's last when q ≡ 1 mod 4) would have the
 * group kernel compute them four times over (a one-query call on W2 took as long as four). Each
 * lane adds its multiply-adds in dimension order, as the group kernel's first query does, and
 * the epilogue is the same: the values are the same bits, so candidateErrorBound holds for them.
 * Two panels a trip keep four chains of multiply-adds in flight.
 */
export function float32DistanceGemmSingle(
  group: usize, queryNorm: f64, panels32: usize, pointNorms: usize, d: i32, firstPanel: i32, panels: i32, tile: usize,
): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  const zero = f32x4.splat(0);
  const norm = f64x2.splat(queryNorm);
  let weights = panels32 + <usize>firstPanel * panelBytes;
  let norms = pointNorms + (<usize>firstPanel << 6);
  let out: usize = tile;
  let p = 0;
  for (; p + 1 < panels; p += 2) {
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    let x = group;
    let w = weights;
    const end = weights + panelBytes;
    while (w < end) {
      const splat = v128.load32_splat(x);
      const next = w + panelBytes;
      a0 = multiplyAddF32x4(splat, v128.load(w), a0);
      a1 = multiplyAddF32x4(splat, v128.load(w, 16), a1);
      b0 = multiplyAddF32x4(splat, v128.load(next), b0);
      b1 = multiplyAddF32x4(splat, v128.load(next, 16), b1);
      x += GROUP_BYTES_PER_DIMENSION;
      w += PANEL_BYTES_PER_DIMENSION;
    }
    storeWidened(a0, v128.load(norms), v128.load(norms, 16), norm, out, 0);
    storeWidened(a1, v128.load(norms, 32), v128.load(norms, 48), norm, out, 32);
    storeWidened(b0, v128.load(norms, 64), v128.load(norms, 80), norm, out, 64);
    storeWidened(b1, v128.load(norms, 96), v128.load(norms, 112), norm, out, 96);
    weights += 2 * panelBytes;
    norms += 128;
    out += 128;
  }
  if (p < panels) {
    let a0 = zero, a1 = zero;
    let x = group;
    for (let w = weights, end = weights + panelBytes; w < end; w += PANEL_BYTES_PER_DIMENSION) {
      const splat = v128.load32_splat(x);
      a0 = multiplyAddF32x4(splat, v128.load(w), a0);
      a1 = multiplyAddF32x4(splat, v128.load(w, 16), a1);
      x += GROUP_BYTES_PER_DIMENSION;
    }
    storeWidened(a0, v128.load(norms), v128.load(norms, 16), norm, out, 0);
    storeWidened(a1, v128.load(norms, 32), v128.load(norms, 48), norm, out, 32);
  }
}

const FLOAT32_ROUNDOFF: f64 = 5.960464477539063e-8; // u = 2^−24
const FLOAT64_ROUNDOFF: f64 = 1.1102230246251565e-16; // v = 2^−53
const FLOAT32_UNDERFLOW: f64 = 1.401298464324817e-45; // τ = 2^−149, the smallest float32 subnormal

/**
 * A bound B with |z − D| ≤ B for every training point, in scaled units: z is the value
 * float32DistanceGemm gives (from a query with float32 norm ‖p‖² = `queryNorm` and points whose
 * float32 norms are at most `largestPointNorm`), D the exact squared distance between the scaled
 * query and point, α = s·(x − μ) and β = s·(X_i − μ) in real arithmetic (μ cancels in α − β).
 *
 * Why it holds (u = 2^−24, v = 2^−53, τ = 2^−149, γ_m = m·u / (1 − m·u)):
 * 1. Data rounding. p_j = f32(s·fl64(x_j − μ_j)): one float64 rounding, an exact power-of-two
 *    scaling (up to a float64 subnormal's τ-sized error), one float32 rounding, so
 *    |p_j − α_j| ≤ ε·|α_j| + τ with ε = u + 2v; likewise |c_ij − β_ij| for the copy c_i of the
 *    point (the weights hold −2·c_i exactly). Hence Δ = ‖p − α‖ + ‖c_i − β‖ ≤ ε·S + 2√d·τ with
 *    S = ‖α‖ + ‖β‖, and since ‖α‖ ≤ ‖p‖ + ε‖α‖ + √d·τ, S ≤ (R + 2√d·τ) / (1 − ε), where
 *    R = ‖p‖ + ‖c_i‖ (read from the float64 norms, inflated by (1 + (d + 4)v) for their rounding).
 * 2. Moving the data: E = ‖p − c_i‖² differs from D by |‖p − c_i‖ − ‖α − β‖|·(‖p − c_i‖ +
 *    ‖α − β‖) ≤ Δ·(R + S) (triangle inequality twice).
 * 3. The float32 dot product, d terms summed in order, each step either a multiply then an add
 *    (plain SIMD: two roundings) or one fused multiply-add (relaxed SIMD: one rounding): every
 *    term passes through at most d roundings either way, so the error is at most
 *    γ_d·Σ|2·c_ij·p_j| ≤ γ_d·2‖c_i‖‖p‖ ≤ γ_d·R²/2, plus at most τ/2 per step where a product
 *    or sum falls below float32's normal range (2d·τ covers both kinds of step).
 * 4. The float64 epilogue: the two norms carry ≤ γ_d(v) relative error, the two float64 adds
 *    ≤ 2v·(|dot| + norms) ≤ 3v·R² (widening is exact): (d + 3)·2v·R² covers them.
 * Total: B = γ_d·R²/2 + Δ·(R + S) + 2(d + 3)·v·R² + 2d·τ, inflated by 1e−4 relative for the
 * rounding of this very computation. No float32 overflow: the data are below 1 and the query
 * below 2^100 (prepareFloat32Queries), so every product and partial sum stays below 2^127.
 * When d·u ≥ 1/2 the bound is +∞ (no float32 certificate is worth having there).
 * Measured against exact distances (test/float32Candidates.test.ts, both roundings emulated,
 * d = 17–300): the largest |z − D| reaches 0.10·B (points on the query at d = 17), 0.002–0.06·B
 * on uniform data, one-sided roundings, a far cluster and subnormal products: worst-case
 * rounding counts d roundings per term where random ones partly cancel.
 */
export function candidateErrorBound(queryNorm: f64, largestPointNorm: f64, d: i32): f64 {
  const terms = <f64>d;
  if (terms * FLOAT32_ROUNDOFF >= 0.5 || queryNorm == Infinity) return Infinity;
  const epsilon = FLOAT32_ROUNDOFF + 2 * FLOAT64_ROUNDOFF;
  const rootTerms = Math.sqrt(terms);
  const r = (Math.sqrt(queryNorm) + Math.sqrt(largestPointNorm)) * (1 + (terms + 4) * FLOAT64_ROUNDOFF);
  const s = (r + 2 * rootTerms * FLOAT32_UNDERFLOW) / (1 - epsilon);
  const delta = epsilon * s + 2 * rootTerms * FLOAT32_UNDERFLOW;
  const gamma = terms * FLOAT32_ROUNDOFF / (1 - terms * FLOAT32_ROUNDOFF);
  const bound = gamma * r * r * 0.5 + delta * (r + s) + 2 * (terms + 3) * FLOAT64_ROUNDOFF * r * r + 2 * terms * FLOAT32_UNDERFLOW;
  return bound * (1 + 1e-4);
}
