// Layer 1 on float32 storage (float32Storage.ts): X's float32 panels read by the kernels of
// distance.ts, and by a float32 GEMM of their own for the k-nearest search's candidates.
//
// The float64 kernels, bit for bit. Widening a float32 is exact, so a block of panels widened
// (expandFloat32Panels) holds what packPoints packs, and widened, centred in float64 and
// doubled (x − μ_j, then × −2, exact) what packWeights packs: the streams (stream.ts) expand
// each block once per chunk of queries into the scratch and run directDistancePanels,
// distanceGemm or candidateGemm on it unchanged. Every tile then has the bits of float64
// storage's, in both builds. The expansion reads 4 bytes a value and writes 8 to a block that
// stays in cache; every query pair of the chunk reuses it. (Widening and centring inside the
// GEMM's loop instead needs 14 of V8's 15 allocatable vector registers, and cost about twice the
// packed GEMM's time in bench/f32store.)
// The recheck reads one point strided through its panel (32 bytes between dimensions):
// storedSquaredDistance, directSquaredDistance's bits.
//
// The float32 candidate GEMM multiplies the stored values centred on μ32 = f32(μ) (one float32
// subtraction per value, once per block and chunk, by the chunk's first group of queries:
// storedFloat32GemmCentring; exact by Sterbenz's lemma wherever a value lies within a factor 2
// of its centre, and otherwise within half an ulp of X − μ32) by a query centred on the same μ32 and scaled by a
// power of two to float32's sweet spot. Its rounding bound is storedCandidateErrorBound; the
// search proves each query's candidates with it, or hands the query to the float64 search.
// Centring is what proves data with a common offset: uncentred (the raw values, and ‖X_i‖² as
// norms), the bound proved no query of W2 + 1000 nor of a 1e8 offset in bench/f32store, where
// the centred search proves all; it costs about what W1's float32 copy costs.

import { PANEL_POINTS } from './distance';
import { multiplyAddF32x4 } from './multiplyAdd';
import { GROUP_QUERIES, groupCount } from './float32Distance';
import { UNIT_FACTOR_PANEL_BYTES, UNIT_NORMS_OFFSET, unitCandidate, unitOf, unitReciprocal } from './float32Storage';

const PANEL_BYTES_PER_DIMENSION: i32 = PANEL_POINTS * 4;
const GROUP_BYTES_PER_DIMENSION: i32 = GROUP_QUERIES * 4;

/** The two low lanes of a float32 vector, widened. */
@inline function widenLow(values: v128): v128 {
  return f64x2.promote_low_f32x4(values);
}

/** The two high lanes of a float32 vector, widened. */
@inline function widenHigh(values: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(values, values, 2, 3, 2, 3));
}

/** −2·(w − c) for two widened values: packWeights' `centred`, then its exact −2. */
@inline function weightOf(widened: v128, centre: v128, minusTwo: v128): v128 {
  return f64x2.mul(f64x2.sub(widened, centre), minusTwo);
}

/**
 * Panels [firstPanel, firstPanel + panels) of float32 storage, widened into float64 panels at
 * `block` (from its start): with a `mean`, W1 = −2·(X − μ), each value centred in float64 as
 * packWeights centres it, so the bits packWeights packs (padding points aside, which no reducer
 * reads); with `mean` 0, X itself, the bits packPoints packs. The float64 kernels of
 * distance.ts then run on the block unchanged. With `unitFactors` (the cosine metric), each
 * value widens to its unit row's (float32Storage.ts), so the bits float64 storage packs for
 * its unit rows.
 */
export function expandFloat32Panels(panels32: usize, mean: usize, d: i32, firstPanel: i32, panels: i32, block: usize, unitFactors: usize = 0): void {
  if (unitFactors != 0) {
    expandUnitPanels(panels32, unitFactors, mean, d, firstPanel, panels, block);
    return;
  }
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  let source = panels32 + <usize>firstPanel * panelBytes;
  const end = source + <usize>panels * panelBytes;
  let target = block;
  const minusTwo = f64x2.splat(-2);
  while (source < end) {
    let centre = mean;
    const panelEnd = source + panelBytes;
    while (source < panelEnd) {
      const low = v128.load(source);
      const high = v128.load(source, 16);
      if (mean != 0) {
        const c = v128.load64_splat(centre);
        v128.store(target, weightOf(widenLow(low), c, minusTwo));
        v128.store(target, weightOf(widenHigh(low), c, minusTwo), 16);
        v128.store(target, weightOf(widenLow(high), c, minusTwo), 32);
        v128.store(target, weightOf(widenHigh(high), c, minusTwo), 48);
        centre += 8;
      } else {
        v128.store(target, widenLow(low));
        v128.store(target, widenHigh(low), 16);
        v128.store(target, widenLow(high), 32);
        v128.store(target, widenHigh(high), 48);
      }
      source += PANEL_BYTES_PER_DIMENSION;
      target += PANEL_BYTES_PER_DIMENSION * 2;
    }
  }
}

/**
 * expandFloat32Panels of a cosine network: each value widened to its unit row's, (w / m) / s,
 * its panel's 8 factor pairs held in registers for the panel (two divisions a value: about the
 * cost of the GEMM's multiply-adds per value for one query pair, shared by the chunk's others).
 */
function expandUnitPanels(panels32: usize, unitFactors: usize, mean: usize, d: i32, firstPanel: i32, panels: i32, block: usize): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  let source = panels32 + <usize>firstPanel * panelBytes;
  let factors = unitFactors + <usize>firstPanel * <usize>UNIT_FACTOR_PANEL_BYTES;
  let target = block;
  const minusTwo = f64x2.splat(-2);
  for (let p = 0; p < panels; p++) {
    const m01 = v128.load(factors), m23 = v128.load(factors, 16), m45 = v128.load(factors, 32), m67 = v128.load(factors, 48);
    const s01 = v128.load(factors + UNIT_NORMS_OFFSET), s23 = v128.load(factors + UNIT_NORMS_OFFSET, 16);
    const s45 = v128.load(factors + UNIT_NORMS_OFFSET, 32), s67 = v128.load(factors + UNIT_NORMS_OFFSET, 48);
    let centre = mean;
    const panelEnd = source + panelBytes;
    while (source < panelEnd) {
      const low = v128.load(source);
      const high = v128.load(source, 16);
      const u01 = unitOf(widenLow(low), m01, s01);
      const u23 = unitOf(widenHigh(low), m23, s23);
      const u45 = unitOf(widenLow(high), m45, s45);
      const u67 = unitOf(widenHigh(high), m67, s67);
      if (mean != 0) {
        const c = v128.load64_splat(centre);
        v128.store(target, weightOf(u01, c, minusTwo));
        v128.store(target, weightOf(u23, c, minusTwo), 16);
        v128.store(target, weightOf(u45, c, minusTwo), 32);
        v128.store(target, weightOf(u67, c, minusTwo), 48);
        centre += 8;
      } else {
        v128.store(target, u01);
        v128.store(target, u23, 16);
        v128.store(target, u45, 32);
        v128.store(target, u67, 48);
      }
      source += PANEL_BYTES_PER_DIMENSION;
      target += PANEL_BYTES_PER_DIMENSION * 2;
    }
    factors += UNIT_FACTOR_PANEL_BYTES;
  }
}

/** Σ_j (x_j − X_ij)² in dimension order, X_i read widened from its panel at `point` (storedPointAddress). */
export function storedSquaredDistance(query: usize, point: usize, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) {
    const difference = load<f64>(query + (<usize>j << 3)) - <f64>load<f32>(point + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION);
    sum += difference * difference;
  }
  return sum;
}

/** Σ_j |x_j − X_ij| in dimension order, X_i read widened from its panel at `point`. */
export function storedManhattanDistance(query: usize, point: usize, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) sum += Math.abs(load<f64>(query + (<usize>j << 3)) - <f64>load<f32>(point + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION));
  return sum;
}

/** −Σ_j x_j·X_ij (the sum in dimension order, then negated), X_i read widened from its panel at `point`. */
export function storedDotProduct(query: usize, point: usize, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) sum += load<f64>(query + (<usize>j << 3)) * <f64>load<f32>(point + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION);
  return -sum;
}

/**
 * storedSquaredDistance of a cosine network's point, whose unit factors are `scale` (m) and
 * `norm` (s): X̂_ij = (X_ij / m) / s widened as expandFloat32Panels widens it, so the bits of
 * directSquaredDistance on float64 storage's unit row.
 */
export function storedUnitSquaredDistance(query: usize, point: usize, scale: f64, norm: f64, d: i32): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) {
    const difference = load<f64>(query + (<usize>j << 3)) - <f64>load<f32>(point + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION) / scale / norm;
    sum += difference * difference;
  }
  return sum;
}

/**
 * Two cosine points' storedUnitSquaredDistance at once, their m at `firstFactors` and
 * `secondFactors` (unitScaleAddress) and their s UNIT_NORMS_OFFSET bytes on: the bits of two calls.
 */
export function storedUnitSquaredDistancePair(query: usize, first: usize, second: usize, firstFactors: usize, secondFactors: usize, d: i32): v128 {
  const scales = f64x2.replace_lane(f64x2.splat(load<f64>(firstFactors)), 1, load<f64>(secondFactors));
  const norms = f64x2.replace_lane(f64x2.splat(load<f64>(firstFactors + UNIT_NORMS_OFFSET)), 1, load<f64>(secondFactors + UNIT_NORMS_OFFSET));
  let sum = f64x2.splat(0);
  for (let j = 0; j < d; j++) {
    const offset = <usize>j * <usize>PANEL_BYTES_PER_DIMENSION;
    const point = unitOf(f64x2.replace_lane(f64x2.splat(<f64>load<f32>(first + offset)), 1, <f64>load<f32>(second + offset)), scales, norms);
    const difference = f64x2.sub(f64x2.splat(load<f64>(query + (<usize>j << 3))), point);
    sum = f64x2.add(sum, f64x2.mul(difference, difference));
  }
  return sum;
}

/**
 * Two candidates' direct squared distances at once, each lane summing its own point in
 * dimension order: the bits of two storedSquaredDistance calls.
 */
export function storedSquaredDistancePair(query: usize, first: usize, second: usize, d: i32): v128 {
  let sum = f64x2.splat(0);
  for (let j = 0; j < d; j++) {
    const offset = <usize>j * <usize>PANEL_BYTES_PER_DIMENSION;
    const point = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(first + offset)), 1, <f64>load<f32>(second + offset));
    const difference = f64x2.sub(f64x2.splat(load<f64>(query + (<usize>j << 3))), point);
    sum = f64x2.add(sum, f64x2.mul(difference, difference));
  }
  return sum;
}

// The float32 candidate search. A query is centred on μ32 in float64 (a_j = x_j − μ32_j) and
// scaled by σ = 2^−e, e chosen so that σ·max|a_j| lies in [1/2, 1) (e clamped to ±SCALE_LIMIT):
// its float32 values p_j = f32(σ·a_j) then neither overflow nor, unless the query is within
// 2^−600 of μ32, lose digits to float32's subnormal range. The GEMM sums c_ij·p_j in float32 and
// its epilogue multiplies the sum by −2^(e + 1) (exact: it undoes σ and applies the −2), then adds
// the float64 norms ‖c_i‖² and ‖p̂‖² (p̂ = p/σ): a value near ‖x − X_i‖², in the data's units.
const SCALE_LIMIT: i32 = 600;
// No float32 overflow: the float32 path runs only when d·max‖c_i‖² < 2^250 (storedFloat32Searchable),
// so every product |c_ij·p_j| ≤ |c_ij| and every partial sum ≤ Σ|c_ij|·(1 + γ_d) ≤ √d·‖c_i‖·(1 + γ_d) < 2^126.
const LARGEST_SEARCHABLE_NORM_TIMES_D: f64 = 1.8092513943330656e75; // 2^250

/** 2^e as a float64, for |e| ≤ 1023. */
@inline function powerOfTwo(e: i32): f64 {
  return reinterpret<f64>(<u64>(1023 + e) << 52);
}

/**
 * Whether a float32-storage network's values are small enough for the float32 candidate search
 * (no product or partial sum of its GEMM can overflow float32; see SCALE_LIMIT), given its
 * largest candidate norm. A network whose values are not searches in float64 alone.
 */
export function storedFloat32Searchable(largestCandidateNorm: f64, d: i32): bool {
  return <f64>d * largestCandidateNorm < LARGEST_SEARCHABLE_NORM_TIMES_D;
}

/**
 * Lays q queries out for storedFloat32Gemm: μ32 = f32(μ) to `centre32` (d float32; zeros when
 * `centred` is false, for the uncentred variant), each query's f32(σ·(x − μ32)) in groups of
 * GROUP_QUERIES interleaved per dimension (the last group filled with copies of the last query),
 * its ‖p̂‖² to `norms` and its epilogue factor −2^(e + 1) to `scales` (one f64 per slot).
 */
export function prepareStoredQueries(
  centred: bool, queries: usize, q: i32, d: i32, mean: usize, centre32: usize, groups: usize, norms: usize, scales: usize,
): void {
  for (let j = 0; j < d; j++) store<f32>(centre32 + (<usize>j << 2), centred ? <f32>load<f64>(mean + (<usize>j << 3)) : 0);
  const slots = groupCount(q) * GROUP_QUERIES;
  for (let r = 0; r < slots; r++) {
    const row = queries + (<usize>min(r, q - 1) * <usize>d << 3);
    const slot = groups + <usize>(r / GROUP_QUERIES) * <usize>d * <usize>GROUP_BYTES_PER_DIMENSION + (<usize>(r % GROUP_QUERIES) << 2);
    let largest: f64 = 0;
    for (let j = 0; j < d; j++) {
      largest = Math.max(largest, Math.abs(load<f64>(row + (<usize>j << 3)) - <f64>load<f32>(centre32 + (<usize>j << 2))));
    }
    // largest < 2^(E + 1), E its binary exponent (subnormals read as −1022: clamped anyway).
    const e = largest == 0 ? 0 : max(-SCALE_LIMIT, min(SCALE_LIMIT, <i32>((reinterpret<u64>(largest) >> 52) & 0x7ff) - 1023 + 1));
    const scale = powerOfTwo(-e);
    const unscale = powerOfTwo(e);
    let norm: f64 = 0;
    for (let j = 0; j < d; j++) {
      const value = <f32>((load<f64>(row + (<usize>j << 3)) - <f64>load<f32>(centre32 + (<usize>j << 2))) * scale);
      store<f32>(slot + <usize>j * <usize>GROUP_BYTES_PER_DIMENSION, value);
      const unscaled = <f64>value * unscale;
      norm += unscaled * unscaled;
    }
    store<f64>(norms + (<usize>r << 3), norm);
    store<f64>(scales + (<usize>r << 3), -2.0 * unscale);
  }
}

/** Four float32 dot products widened, times the query's factor, plus the points' and the query's norms, stored at out + offset. */
@inline function storeScaled(accumulator: v128, factor: v128, pointNormsLow: v128, pointNormsHigh: v128, queryNorm: v128, out: usize, offset: usize): void {
  v128.store(out + offset, f64x2.add(f64x2.add(f64x2.mul(widenLow(accumulator), factor), pointNormsLow), queryNorm));
  v128.store(out + offset + 16, f64x2.add(f64x2.add(f64x2.mul(widenHigh(accumulator), factor), pointNormsHigh), queryNorm));
}

/**
 * Expansion values from one group of four prepared queries to panels [firstPanel, firstPanel +
 * panels) of float32 values: 8·panels float64 values to each of the four tiles (tile r at
 * tiles + r·tileStride), with `candidateNorms` the norms of those values. With `centring`, the
 * values are float32 storage's own, centred on μ32 (`centre32`) as they are loaded, and the
 * centred values are also written to `centred` (from its start, in the same layout), so the
 * chunk's other groups read them there (storedFloat32Gemm) and X is read from memory once, by a
 * loop whose arithmetic hides the wait. (Centring each block in a pass of its own first left
 * that pass waiting on memory: 0.79–0.97 times the float32 copy's queries/s on 250 000 × 384
 * unit vectors, 100 queries; centring in the first group, 0.94–0.95.)
 *
 * Blocking as float32DistanceGemm's, 4 queries × 8 points in 8 f32x4 accumulators: per
 * dimension 2 panel loads and 4 query splats feed 8 multiply-adds (11 live vector registers;
 * centring adds the centre's splat, two subtractions and two stores). The epilogue widens each
 * sum, multiplies it by the query's factor and adds the float64 norms: nothing there rounds in
 * float32.
 */
@inline function float32GemmPanels(
  centring: bool, group: usize, queryNorms: usize, queryScales: usize, panels32: usize, candidateNorms: usize, centre32: usize, centred: usize, d: i32,
  firstPanel: i32, panels: i32, tiles: usize, tileStride: usize,
): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  const zero = f32x4.splat(0);
  const norm0 = v128.load64_splat(queryNorms);
  const norm1 = v128.load64_splat(queryNorms, 8);
  const norm2 = v128.load64_splat(queryNorms, 16);
  const norm3 = v128.load64_splat(queryNorms, 24);
  let points = panels32 + <usize>firstPanel * panelBytes;
  let norms = candidateNorms + (<usize>firstPanel << 6);
  let out: usize = tiles;
  let target = centred;
  for (let p = 0; p < panels; p++) {
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    let c0 = zero, c1 = zero, e0 = zero, e1 = zero;
    let x = group;
    let centre = centre32;
    let w = points;
    const end = points + panelBytes;
    while (w < end) {
      let low = v128.load(w);
      let high = v128.load(w, 16);
      if (centring) {
        const c = v128.load32_splat(centre);
        low = f32x4.sub(low, c);
        high = f32x4.sub(high, c);
        v128.store(target, low);
        v128.store(target, high, 16);
        centre += 4;
        target += PANEL_BYTES_PER_DIMENSION;
      }
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
    let factor = v128.load64_splat(queryScales);
    storeScaled(a0, factor, n01, n23, norm0, out, 0);
    storeScaled(a1, factor, n45, n67, norm0, out, 32);
    factor = v128.load64_splat(queryScales, 8);
    storeScaled(b0, factor, n01, n23, norm1, out + tileStride, 0);
    storeScaled(b1, factor, n45, n67, norm1, out + tileStride, 32);
    factor = v128.load64_splat(queryScales, 16);
    storeScaled(c0, factor, n01, n23, norm2, out + 2 * tileStride, 0);
    storeScaled(c1, factor, n45, n67, norm2, out + 2 * tileStride, 32);
    factor = v128.load64_splat(queryScales, 24);
    storeScaled(e0, factor, n01, n23, norm3, out + 3 * tileStride, 0);
    storeScaled(e1, factor, n45, n67, norm3, out + 3 * tileStride, 32);
    points = end;
    norms += 64;
    out += 64;
  }
}

/**
 * A cosine network's panels [firstPanel, firstPanel + panels), as the float32 candidate values
 * c_ij = f32(X_ij·r_i − μ32_j) near their unit values (unitCandidate: the values
 * packFloat32Norms took the candidate norms of), to `centred` from its start in the same layout:
 * the block every group of the chunk then multiplies (storedFloat32Gemm). Widening, the float64
 * product and the demotion do not fit the GEMM's loop beside its accumulators.
 */
export function centreUnitPanels(panels32: usize, unitFactors: usize, centre32: usize, d: i32, firstPanel: i32, panels: i32, centred: usize): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  let source = panels32 + <usize>firstPanel * panelBytes;
  let factors = unitFactors + <usize>firstPanel * <usize>UNIT_FACTOR_PANEL_BYTES;
  let target = centred;
  for (let p = 0; p < panels; p++) {
    const m01 = v128.load(factors), m23 = v128.load(factors, 16), m45 = v128.load(factors, 32), m67 = v128.load(factors, 48);
    const s01 = v128.load(factors + UNIT_NORMS_OFFSET), s23 = v128.load(factors + UNIT_NORMS_OFFSET, 16);
    const s45 = v128.load(factors + UNIT_NORMS_OFFSET, 32), s67 = v128.load(factors + UNIT_NORMS_OFFSET, 48);
    const r01 = unitReciprocal(m01, s01), r23 = unitReciprocal(m23, s23), r45 = unitReciprocal(m45, s45), r67 = unitReciprocal(m67, s67);
    let centre = centre32;
    const panelEnd = source + panelBytes;
    while (source < panelEnd) {
      const low = v128.load(source);
      const high = v128.load(source, 16);
      const c = f64x2.splat(<f64>load<f32>(centre));
      const c01 = unitCandidate(widenLow(low), r01, c);
      const c23 = unitCandidate(widenHigh(low), r23, c);
      const c45 = unitCandidate(widenLow(high), r45, c);
      const c67 = unitCandidate(widenHigh(high), r67, c);
      v128.store(target, v128.shuffle<f32>(c01, c23, 0, 1, 4, 5));
      v128.store(target, v128.shuffle<f32>(c45, c67, 0, 1, 4, 5), 16);
      centre += 4;
      source += PANEL_BYTES_PER_DIMENSION;
      target += PANEL_BYTES_PER_DIMENSION;
    }
    factors += UNIT_FACTOR_PANEL_BYTES;
  }
}

/** float32GemmPanels on float32 values as they are: a block centred by storedFloat32GemmCentring (or, uncentred, the stored values). */
export function storedFloat32Gemm(
  group: usize, queryNorms: usize, queryScales: usize, panels32: usize, candidateNorms: usize, d: i32,
  firstPanel: i32, panels: i32, tiles: usize, tileStride: usize,
): void {
  float32GemmPanels(false, group, queryNorms, queryScales, panels32, candidateNorms, 0, 0, d, firstPanel, panels, tiles, tileStride);
}

/** float32GemmPanels on float32 storage's panels, centring them on μ32 (`centre32`) into `centred` as it goes. */
export function storedFloat32GemmCentring(
  group: usize, queryNorms: usize, queryScales: usize, panels32: usize, candidateNorms: usize, centre32: usize, centred: usize, d: i32,
  firstPanel: i32, panels: i32, tiles: usize, tileStride: usize,
): void {
  float32GemmPanels(true, group, queryNorms, queryScales, panels32, candidateNorms, centre32, centred, d, firstPanel, panels, tiles, tileStride);
}

/** Eight points' float32 sums widened, times the query's factor, plus the points' and the query's norms, to `out`. */
@inline function storeEight(low: v128, high: v128, factor: v128, norms: usize, queryNorm: v128, out: usize): void {
  storeScaled(low, factor, v128.load(norms), v128.load(norms, 16), queryNorm, out, 0);
  storeScaled(high, factor, v128.load(norms, 32), v128.load(norms, 48), queryNorm, out, 32);
}

/**
 * storedFloat32Gemm for a chunk of one query (lane 0 of `group`), on the stored values
 * themselves, each centred on μ32 (`centre32`; zeros for the uncentred variant) as it is
 * loaded: the same float32 values, so the same bound. One query does too little arithmetic per
 * byte to pay for a centred copy of each block, and with one query's registers the centring
 * fits in the loop. Each panel is read front to back alone, two dimensions per step into two
 * pairs of f32x4 sums (even and odd dimensions, added at the end: the bound holds for any
 * order of the sum), so the loop streams one run of memory and no add waits on the one
 * before. (Four panels side by side, four streams 32·d bytes apart, took 1.7–1.8 times the
 * processor time of one pass over the bytes at 1M × 384; one panel at a time, 1.0–1.3 times.)
 * Writes 8·panels values to `tile`.
 */
export function storedFloat32GemmSingle(
  group: usize, queryNorm: f64, queryScale: f64, panels32: usize, candidateNorms: usize, centre32: usize, d: i32,
  firstPanel: i32, panels: i32, tile: usize,
): void {
  singleQueryPanels(false, group, queryNorm, queryScale, 0, panels32, 0, candidateNorms, centre32, d, firstPanel, panels, tile);
}

/**
 * A cosine network's candidate values for one query (lane 0 of `group`, centred on μ32 = m),
 * straight from the stored raw values, in one pass over them: −2·p̂·c_i with c_i = r_i·X_i − m
 * is −2h·(r_i·(p·X_i) − p·m), so the float32 dot product runs on X_i as stored and the float64
 * epilogue scales it by the point's r_i and takes off p·m (`centreProduct`: queryCentreProduct),
 * where centreUnitPanels made each block's candidate values in a pass of its own first (which
 * took four times one pass over the bytes at 1M × 384). Its rounding bound is
 * storedUnitSingleErrorBound; it holds for panels whose points' m all lie in
 * [2^−60, 2^60] (unitScalesBounded), which keeps the raw products within float32's range and
 * r_i ≤ 2^61. Writes 8·panels values to `tile`.
 */
export function storedUnitGemmSingle(
  group: usize, queryNorm: f64, queryScale: f64, centreProduct: f64, panels32: usize, unitFactors: usize, candidateNorms: usize, d: i32,
  firstPanel: i32, panels: i32, tile: usize,
): void {
  singleQueryPanels(true, group, queryNorm, queryScale, centreProduct, panels32, unitFactors, candidateNorms, 0, d, firstPanel, panels, tile);
}

/** Whether every point of panels [firstPanel, firstPanel + panels) has its m within [2^−60, 2^60]: what storedUnitGemmSingle's bound asks. */
export function unitScalesBounded(unitFactors: usize, firstPanel: i32, panels: i32): bool {
  let factors = unitFactors + <usize>firstPanel * <usize>UNIT_FACTOR_PANEL_BYTES;
  const end = factors + <usize>panels * <usize>UNIT_FACTOR_PANEL_BYTES;
  for (; factors < end; factors += UNIT_FACTOR_PANEL_BYTES) {
    for (let lane = 0; lane < PANEL_POINTS; lane++) {
      const scale = load<f64>(factors + (<usize>lane << 3));
      if (!(scale >= UNIT_SCALE_LOWEST && scale <= UNIT_SCALE_HIGHEST)) return false;
    }
  }
  return true;
}

const UNIT_SCALE_LOWEST: f64 = 8.673617379884035e-19; // 2^−60
const UNIT_SCALE_HIGHEST: f64 = 1.152921504606847e18; // 2^60

/**
 * p·m for one query (lane 0 of `group`) and the centre μ32 (`centre32`), or with `absolute`
 * Σ|p_j·m_j|: summed in float64 in dimension order, each product of two float32 values exact.
 */
export function queryCentreProduct(group: usize, centre32: usize, d: i32, absolute: bool): f64 {
  let sum: f64 = 0;
  for (let j = 0; j < d; j++) {
    const product = <f64>load<f32>(group + <usize>j * <usize>GROUP_BYTES_PER_DIMENSION) * <f64>load<f32>(centre32 + (<usize>j << 2));
    sum += absolute ? Math.abs(product) : product;
  }
  return sum;
}

/** storedFloat32GemmSingle's loop, and (`unit`) storedUnitGemmSingle's on the raw values with its epilogue. */
@inline function singleQueryPanels(
  unit: bool, group: usize, queryNorm: f64, queryScale: f64, centreProduct: f64, panels32: usize, unitFactors: usize, candidateNorms: usize,
  centre32: usize, d: i32, firstPanel: i32, panels: i32, tile: usize,
): void {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  const zero = f32x4.splat(0);
  const norm = f64x2.splat(queryNorm);
  const factor = f64x2.splat(queryScale);
  const product = f64x2.splat(centreProduct);
  let points = panels32 + <usize>firstPanel * panelBytes;
  let norms = candidateNorms + (<usize>firstPanel << 6);
  let factors = unitFactors + <usize>firstPanel * <usize>UNIT_FACTOR_PANEL_BYTES;
  let out = tile;
  // The even dimensions' steps end here; an odd d leaves its last dimension for after.
  const pairedBytes = <usize>(d & ~1) * <usize>PANEL_BYTES_PER_DIMENSION;
  for (let p = 0; p < panels; p++) {
    let a0 = zero, a1 = zero, b0 = zero, b1 = zero;
    let x = group;
    let centre = centre32;
    let w = points;
    const end = points + pairedBytes;
    while (w < end) {
      let splat = v128.load32_splat(x);
      let c = unit ? zero : v128.load32_splat(centre);
      a0 = multiplyAddF32x4(splat, unit ? v128.load(w) : f32x4.sub(v128.load(w), c), a0);
      a1 = multiplyAddF32x4(splat, unit ? v128.load(w, 16) : f32x4.sub(v128.load(w, 16), c), a1);
      splat = v128.load32_splat(x, GROUP_BYTES_PER_DIMENSION);
      c = unit ? zero : v128.load32_splat(centre, 4);
      b0 = multiplyAddF32x4(splat, unit ? v128.load(w, 32) : f32x4.sub(v128.load(w, 32), c), b0);
      b1 = multiplyAddF32x4(splat, unit ? v128.load(w, 48) : f32x4.sub(v128.load(w, 48), c), b1);
      x += 2 * GROUP_BYTES_PER_DIMENSION;
      centre += 8;
      w += 2 * PANEL_BYTES_PER_DIMENSION;
    }
    if (d & 1) {
      const splat = v128.load32_splat(x);
      const c = unit ? zero : v128.load32_splat(centre);
      a0 = multiplyAddF32x4(splat, unit ? v128.load(w) : f32x4.sub(v128.load(w), c), a0);
      a1 = multiplyAddF32x4(splat, unit ? v128.load(w, 16) : f32x4.sub(v128.load(w, 16), c), a1);
    }
    if (unit) {
      storeUnitEight(f32x4.add(a0, b0), f32x4.add(a1, b1), factors, product, factor, norms, norm, out);
      factors += UNIT_FACTOR_PANEL_BYTES;
    } else {
      storeEight(f32x4.add(a0, b0), f32x4.add(a1, b1), factor, norms, norm, out);
    }
    points += panelBytes;
    norms += 64;
    out += 64;
  }
}

/** Eight points' raw float32 dot products, as storedUnitGemmSingle's values ((r_i·dot − p·m)·factor + norm_i + ‖p̂‖²), to `out`. */
@inline function storeUnitEight(low: v128, high: v128, factors: usize, product: v128, factor: v128, norms: usize, queryNorm: v128, out: usize): void {
  storeUnitPair(widenLow(low), factors, 0, product, factor, norms, queryNorm, out);
  storeUnitPair(widenHigh(low), factors, 16, product, factor, norms, queryNorm, out);
  storeUnitPair(widenLow(high), factors, 32, product, factor, norms, queryNorm, out);
  storeUnitPair(widenHigh(high), factors, 48, product, factor, norms, queryNorm, out);
}

@inline function storeUnitPair(dot: v128, factors: usize, offset: usize, product: v128, factor: v128, norms: usize, queryNorm: v128, out: usize): void {
  const reciprocal = unitReciprocal(v128.load(factors + offset), v128.load(factors + UNIT_NORMS_OFFSET + offset));
  const cross = f64x2.mul(f64x2.sub(f64x2.mul(dot, reciprocal), product), factor);
  v128.store(out + offset, f64x2.add(f64x2.add(cross, v128.load(norms + offset)), queryNorm));
}

const FLOAT32_ROUNDOFF: f64 = 5.960464477539063e-8; // u = 2^−24
const FLOAT64_ROUNDOFF: f64 = 1.1102230246251565e-16; // v = 2^−53
const FLOAT32_UNDERFLOW: f64 = 1.401298464324817e-45; // τ = 2^−149, the smallest float32 subnormal
const FLOAT64_UNDERFLOW: f64 = 5e-324; // τ64 = 2^−1074

/**
 * A bound B with |z − D| ≤ B for every training point, in the data's units: z the value
 * storedFloat32Gemm gives for a query with ‖p̂‖² = `queryNorm` and epilogue factor `scale`
 * (−2^(e + 1); h = 2^e below) and points whose candidate norms are at most `largestPointNorm`,
 * D = ‖x − X_i‖² exactly. With m = μ32 (or 0 uncentred), α = x − m and β_i = X_i − m in real
 * arithmetic, D = ‖α − β_i‖² whatever m is.
 *
 * Why it holds (u = 2^−24, v = 2^−53, τ = 2^−149, τ64 = 2^−1074, γ_m = m·u / (1 − m·u)):
 * 1. Data rounding. The query: a_j = fl64(x_j − m_j) is within v·|α_j| of α_j; σ·a_j is exact
 *    but for float64 underflow, and p_j = f32(σ·a_j) within u·|σa_j| + τ/2 of it: so
 *    |p̂_j − α_j| ≤ ε·|α_j| + τ·h with ε = u + 2v. The data: c_ij = f32(X_ij − m_j) is within
 *    u·|β_ij| of β_ij (a float32 subtraction whose result is subnormal is exact). Hence
 *    Δ = ‖p̂ − α‖ + ‖c_i − β_i‖ ≤ ε·S + t with t = √d·τh' + ς, and S = ‖α‖ + ‖β_i‖ ≤
 *    (R + t) / (1 − ε) (S ≤ R + Δ); here h' = h, ς = 0. A cosine network (`unitRows`): X_i is
 *    the float64 unit row X̂_ij = fl(fl(x/m)/s) = a(1 + δ1)(1 + δ2), a = x/(m·s) exactly (no step
 *    underflows: a nonzero |x| ≥ 2^−149, m ≤ 2^128, s ≤ √d; x = 0 gives 0 everywhere), and
 *    c_ij = f32(fl64(y − m_j)) (unitCandidate) with y = fl(x·r), r = fl(fl(1/m)/s):
 *    y = a(1 + δ3)(1 + δ4)(1 + δ5), so |y − X̂_ij| ≤ 6v·|X̂_ij|.
 *    With β_ij = X̂_ij − m_j, the subtraction gives (β_ij + y − X̂_ij)(1 + δ6), |δ6| ≤ v (exact
 *    where it is subnormal), and float32's rounding (·)(1 + δ7) + η, |δ7| ≤ u, |η| ≤ τ/2 (float32's
 *    subnormal range is not exact here): |c_ij − β_ij| ≤ (u + v + uv)|β_ij| + 6v(1 + u)(1 + v)|X̂_ij|
 *    + τ/2 ≤ ε·|β_ij| + 7v·|X̂_ij| + τ/2. ‖X̂_i‖ ≤ 1 + (d + 6)v ≤ 8/7 (a unit row, normalised in
 *    float64), so ‖c_i − β_i‖ ≤ ε‖β_i‖ + 8v + √d·τ/2: the same Δ and S hold with h' = h + 1/2 and
 *    ς = 8v;
 *    R = ‖p̂‖ + ‖c_i‖ (from the float64 norms, ‖p̂‖² taken as queryNorm + d·τ64 for squares
 *    that underflow, both inflated by (1 + (d + 4)v) for their rounding). Steps 2–4 read c_i
 *    only through its values and its norm ‖c_i‖², computed from the same values, so they hold
 *    for either data as written.
 * 2. Moving the data: E = ‖p̂ − c_i‖² differs from D by at most Δ·(R + S).
 * 3. The float32 dot product Σ c_ij·p_j, each step a multiply then an add (plain SIMD: two
 *    roundings) or one fused multiply-add (relaxed SIMD: one rounding), in dimension order or
 *    (storedFloat32GemmSingle) as two interleaved sums added at the end: every term passes
 *    through at most d roundings in any of these, so its error is at most γ_d·Σ|c_ij·p_j| plus
 *    τ/2 per product or sum (at most 2d of them) that falls below float32's normal range; times
 *    2h in the epilogue (exact), ≤ γ_d·2‖c_i‖‖p̂‖ + 2d·τh ≤ γ_d·R²/2 + 2d·τh.
 * 4. The float64 epilogue: the norms carry ≤ γ_d(v) relative error (and ‖p̂‖² up to d·τ64 from
 *    underflowing squares), the two adds ≤ 2v·(|dot| + norms) ≤ 3v·R²: (d + 3)·2v·R² + 2d·τ64.
 * Total: B = γ_d·R²/2 + Δ·(R + S) + 2(d + 3)·v·R² + 2d·τh + 2d·τ64, inflated by 1e−4
 * relative for the rounding of this very computation. No float32 overflow on a network that
 * storedFloat32Searchable accepts (|p_j| ≤ 1). When d·u ≥ 1/2 the bound is +∞.
 */
export function storedCandidateErrorBound(queryNorm: f64, scale: f64, largestPointNorm: f64, d: i32): f64 {
  return candidateBound(queryNorm, scale, largestPointNorm, d, false);
}

/** storedCandidateErrorBound for a cosine network's candidates, f32(X̂ − μ32) (its `unitRows` case). */
export function storedUnitCandidateErrorBound(queryNorm: f64, scale: f64, largestPointNorm: f64, d: i32): f64 {
  return candidateBound(queryNorm, scale, largestPointNorm, d, true);
}

/**
 * A bound B with |V − D| ≤ B for every point of a block storedUnitGemmSingle ran on (every m
 * within [2^−60, 2^60]), V its value, D as in storedCandidateErrorBound (X_i the unit row X̂_i);
 * `queryNorm`, `scale` (−2h), `largestPointNorm` (of the candidate norms ‖c_i‖²) as there, and
 * `centreProducts` = Σ|p_j·m_j| as computed (queryCentreProduct, m = μ32).
 *
 * Why it holds (notation of storedCandidateErrorBound; p = p̂/h the query's float32 values,
 * r_i = fl(fl(1/m_i)/s_i) the point's reciprocal, γ_ij = r_i·X_ij − m_j in real arithmetic,
 * E = ‖p̂ − c_i‖², F = ‖p̂‖² + ‖c_i‖² − 2p̂·γ_i, P̂ ≥ ‖p̂‖ and Ĉ ≥ ‖c_i‖ the two halves of R):
 * 1–2. |E − D| ≤ Δ·(R + S), storedCandidateErrorBound's steps 1–2 (with the cosine network's t).
 * 3. Moving to γ_i: F − E = 2p̂·(c_i − γ_i). c_ij = f32(fl64(y − m_j)), y = fl(X_ij·r_i) =
 *    X_ij·r_i(1 + δ4), so c_ij = (γ_ij + X_ij·r_i·δ4)(1 + δ6)(1 + δ7) + η and
 *    |c_ij − γ_ij| ≤ ε|γ_ij| + 2v|X_ij·r_i| + τ/2. X_ij·r_i = a(1 + δ)(1 + δ') against
 *    X̂_ij = a(1 + δ1)(1 + δ2), so |X_ij·r_i| ≤ (1 + 5v)|X̂_ij|, and with ‖X̂_i‖ ≤ 1 + (d + 6)v
 *    (a unit row normalised in float64; ≤ 8/7 as d·u < 1/2), ‖r_i·X_i‖ ≤ ρ = 1 + (d + 12)v
 *    (5(d + 6)v² ≤ v). Hence ‖c_i − γ_i‖ ≤ ε‖γ_i‖ + t₃, t₃ = 3v + √d·τ/2 (2vρ ≤ 3v),
 *    ‖γ_i‖ ≤ G = (Ĉ + t₃)/(1 − ε), and |F − E| ≤ 2P̂·(εG + t₃).
 * 4. The cross term. −2p̂·γ_i = −2h·(r_i·Σp_j X_ij − Σp_j m_j) exactly. The float32 dot product
 *    A of p and the raw X_i (|p_j| ≤ 1, |X_ij| ≤ m_i ≤ 2^60: no overflow) is within
 *    γ_d·Σ|p_j X_ij| + d·τ of Σp_j X_ij (step 3 there); r_i·Σ|p_j X_ij| ≤ ρ‖p‖, and r_i ≤ 2^61
 *    (s_i ≥ 1: the largest |X_ij/m_i| is exactly 1). fl(r_i·A) adds v|r_i·A| (no float64
 *    underflow: both factors exceed 2^−160 or A is 0). P = fl(Σp_j m_j): each product exact in
 *    float64, the sums within γ_d(v)·M, M = Σ|p_j m_j| ≤ computed/(1 − γ_d(v)). The subtraction
 *    adds v·(|r_i·A|(1 + v) + |P|) and the product by −2h (a power of two) at most τ64/2. Times
 *    2h (h‖p‖ = ‖p̂‖): |K − (−2p̂·γ_i)| ≤ 2ρP̂·(γ_d + 3v)(1 + γ_d) + 2^63·h·d·τ + 2h·M·(γ_d(v) + 2v)
 *    + τ64, and |K| ≤ K̂ = 2ρP̂(1 + γ_d) + 2^63·h·d·τ + 2hM(1 + γ_d(v))(1 + 2v). The underflow
 *    terms come to 2h·r_i·d·τ·(1 + γ_d)(1 + 3v) ≤ 2^62·h·d·τ·2 (r_i ≤ 2^61, γ_d < 1): 2^63·h·d·τ.
 * 5. The float64 epilogue: the norms within γ_d(v)·(Ĉ² + P̂²) + d·τ64 (storedCandidateErrorBound's
 *    step 4), the two adds within 2v(1 + 2v)·(K̂ + (Ĉ² + P̂²)(1 + γ_d(v)) + d·τ64).
 * Total: the sum of steps 1–5, inflated by 1e−4 relative for factors (1 + O(v)) left out above
 * and the rounding of this very computation; +∞ when d·u ≥ 1/2.
 */
export function storedUnitSingleErrorBound(queryNorm: f64, scale: f64, largestPointNorm: f64, centreProducts: f64, d: i32): f64 {
  let sum: f64 = 0;
  for (let part = 0; part < UNIT_SINGLE_BOUND_PARTS; part++) sum += unitSingleBoundPart(part, queryNorm, scale, largestPointNorm, centreProducts, d);
  return sum * (1 + 1e-4);
}

/** storedUnitSingleErrorBound's parts: steps 1–2, step 3, steps 4–5 of its proof (each is checked on its own in test/unitCandidates.test.ts). */
const UNIT_SINGLE_BOUND_PARTS = 3;

/** Part `part` (0: steps 1–2, 1: step 3, 2: steps 4–5) of storedUnitSingleErrorBound, before its inflation; +∞ when d·u ≥ 1/2. */
export function unitSingleBoundPart(part: i32, queryNorm: f64, scale: f64, largestPointNorm: f64, centreProducts: f64, d: i32): f64 {
  const terms = <f64>d;
  if (terms * FLOAT32_ROUNDOFF >= 0.5) return Infinity;
  const v = FLOAT64_ROUNDOFF;
  const h = Math.abs(scale) * 0.5;
  const queryLength = Math.sqrt(queryNorm + terms * FLOAT64_UNDERFLOW) * (1 + (terms + 4) * v);
  const pointLength = Math.sqrt(largestPointNorm) * (1 + (terms + 4) * v);
  if (part == 0) return movedDataBound(queryLength + pointLength, d, h, true);
  const epsilon = FLOAT32_ROUNDOFF + 2 * v;
  const t3 = 3 * v + Math.sqrt(terms) * FLOAT32_UNDERFLOW * 0.5;
  const g = (pointLength + t3) / (1 - epsilon);
  if (part == 1) return 2 * queryLength * (epsilon * g + t3);
  const gamma = terms * FLOAT32_ROUNDOFF / (1 - terms * FLOAT32_ROUNDOFF);
  const gamma64 = terms * v / (1 - terms * v);
  const rho = 1 + (terms + 12) * v;
  const products = centreProducts / (1 - gamma64);
  const underflow = 9.223372036854776e18 * h * terms * FLOAT32_UNDERFLOW; // 2^63·h·d·τ
  const cross = 2 * rho * queryLength * (gamma + 3 * v) * (1 + gamma) + underflow + 2 * h * products * (gamma64 + 2 * v) + FLOAT64_UNDERFLOW;
  const crossSize = 2 * rho * queryLength * (1 + gamma) + underflow + 2 * h * products * (1 + gamma64) * (1 + 2 * v);
  const squares = pointLength * pointLength + queryLength * queryLength;
  return cross + gamma64 * squares + terms * FLOAT64_UNDERFLOW + 2 * v * (1 + 2 * v) * (crossSize + squares * (1 + gamma64) + terms * FLOAT64_UNDERFLOW);
}

/**
 * Δ·(R + S), steps 1–2 of storedCandidateErrorBound: how far moving the query and the data to
 * their float32 values moves D, for R = ‖p̂‖ + ‖c_i‖ bounded by `r`.
 */
@inline function movedDataBound(r: f64, d: i32, h: f64, unitRows: bool): f64 {
  const epsilon = FLOAT32_ROUNDOFF + 2 * FLOAT64_ROUNDOFF;
  const rootTerms = Math.sqrt(<f64>d);
  // t = √d·τh' + ς (step 1): a cosine network's candidate values can underflow in float32
  // (h' = h + 1/2) and start from x·r, within 6v·|X̂| of the unit value (ς = 8v).
  const t = unitRows ? rootTerms * FLOAT32_UNDERFLOW * (h + 0.5) + 8 * FLOAT64_ROUNDOFF : rootTerms * FLOAT32_UNDERFLOW * h;
  const s = (r + t) / (1 - epsilon);
  return (epsilon * s + t) * (r + s);
}

@inline function candidateBound(queryNorm: f64, scale: f64, largestPointNorm: f64, d: i32, unitRows: bool): f64 {
  const terms = <f64>d;
  if (terms * FLOAT32_ROUNDOFF >= 0.5) return Infinity;
  const h = Math.abs(scale) * 0.5;
  const r = (Math.sqrt(queryNorm + terms * FLOAT64_UNDERFLOW) + Math.sqrt(largestPointNorm)) * (1 + (terms + 4) * FLOAT64_ROUNDOFF);
  const gamma = terms * FLOAT32_ROUNDOFF / (1 - terms * FLOAT32_ROUNDOFF);
  const bound = gamma * r * r * 0.5 + movedDataBound(r, d, h, unitRows) + 2 * (terms + 3) * FLOAT64_ROUNDOFF * r * r
    + 2 * terms * FLOAT32_UNDERFLOW * h + 2 * terms * FLOAT64_UNDERFLOW;
  return bound * (1 + 1e-4);
}
