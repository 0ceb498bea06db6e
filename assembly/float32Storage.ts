// Float32 storage: a network that keeps its float32 training data once, as float32, and
// answers bit for bit as the float64 storage of the same (widened) values does.
//
// Layout, per network of n points × d features (n rounded up to whole panels of 8):
//   panels          X itself in float32, PANEL_POINTS points per panel, interleaved per
//                   dimension (panel p, dimension j: the 8 values X[8p + lane][j], 32 bytes);
//                   padding points are 0. 4 bytes per value: the only copy of X.
//   pointNorms      b1_i = ‖X_i − μ‖² in float64, as packWeights computes it (8 bytes a point).
//   candidateNorms  ‖c_i‖² with c_ij = f32(X_ij − μ32_j), the float32 centred values the
//                   candidate GEMM multiplies (8 bytes a point; see storedDistance.ts).
//   mean            μ, the float64 mean of the widened values summed in row order (d values);
//                   μ32_j = f32(μ_j) is derived from it wherever it is needed.
// So 4·d + 16 bytes a point, plus the labels, against 20·d + 16 for float64 storage with its
// float32 copy (X, W1, X's panels or the copy, b1 and the copy's norms).
//
// Every float64 answer reads values widened from float32, and widening is exact, so each
// kernel gives the bits of its float64-storage twin on the widened data: the streams expand
// each block of panels once per chunk of queries, in the scratch, into X's float64 panels (the
// direct differences: d ≤ 16, Manhattan) or into W1's (each value centred in float64 as
// packWeights centres it: forward's z1, the softmax over all points, the radius search and the
// k-nearest search's float64 fallback), and run float64 storage's kernels on the block; the
// recheck of each candidate reads its values strided through its panel. The k-nearest search
// chooses its candidates with a float32 GEMM on the stored values centred on μ32, block by
// block, and proves its choice or hands the query to the float64 search (storedDistance.ts
// gives the bound, the variants measured and what each costs).
//
// Packing at fit streams the caller's rows through a small staging region: packFloat32Rows
// transposes each chunk into panels and adds it to the column sums in the same pass (a
// non-finite value shows as a non-finite sum, so validation costs nothing more); the mean is
// the sums over n; packFloat32Norms then writes both norms per point in one pass over the panels.
//
// The cosine metric. Float64 storage holds each row normalised (src/metrics.ts normaliseRow):
// x̂_j = (x_j / m) / s, m = max_j |x_j|, s = √Σ_j (x_j / m)² summed in dimension order. Float32
// storage keeps the raw rows and, per point, its m and s in float64 (`unitFactors`, from
// packUnitFactors: 16 bytes a point), and everywhere it widens a value it widens x̂ instead:
// (f64(x_j) / m) / s, the same two correctly rounded divisions of the same float64 values, so
// the bits float64 storage holds. The mean, b1, the expansion's blocks and the recheck are then
// float64 storage's on its own unit rows; the float32 candidates are the unit rows, centred and
// rounded to float32 (unitCandidate). Layout: per panel, the 8 points' m, then their s.

import { panelCount, PANEL_POINTS } from './distance';

const PANEL_BYTES_PER_DIMENSION: i32 = PANEL_POINTS * 4;

@inline function panelAddress(panels: usize, d: i32, point: i32): usize {
  return panels + <usize>(point / PANEL_POINTS) * <usize>d * <usize>PANEL_BYTES_PER_DIMENSION + (<usize>(point % PANEL_POINTS) << 2);
}

/** The address of X[point][0] in float32 panels of d dimensions: X[point][j] lies 32·j bytes on. */
export function storedPointAddress(panels: usize, d: i32, point: i32): usize {
  return panelAddress(panels, d, point);
}

/**
 * Packs `count` rows of float32 training data (row-major at `rows`, d values each) into
 * `panels` as points firstPoint … firstPoint + count − 1, and adds each row, widened to float64,
 * to the d column `sums` in row order: after every chunk of a fit, sums / n is the mean
 * computeMean gives on the widened values, bit for bit (sums must start at 0). The panel of the
 * last point is completed with zero points; earlier lanes of the first panel are kept, so rows
 * can be appended to a partly filled panel.
 *
 * Returns −1, or the position row·d + column, within these rows, of the first value that is NaN
 * or ±∞. No sum of finite float32 values overflows float64 (n·2^128 ≪ 2^1024), so a non-finite
 * value shows as a non-finite sum, and only then are the rows scanned for it. After a failure
 * the panels' lanes from firstPoint on and the sums hold no meaning (no point of the network
 * lies there: padding values are never read as points).
 */
export function packFloat32Rows(rows: usize, count: i32, d: i32, sums: usize, panels: usize, firstPoint: i32): i32 {
  const end = firstPoint + count;
  let point = firstPoint;
  // Rows that complete a partly filled panel, then whole panels, then the rows of the last panel.
  const headEnd = min(end, (firstPoint + PANEL_POINTS - 1) / PANEL_POINTS * PANEL_POINTS);
  for (; point < headEnd; point++) packRow(rows + (<usize>(point - firstPoint) * <usize>d << 2), d, sums, panels, point);
  for (; point + PANEL_POINTS <= end; point += PANEL_POINTS) {
    packPanel(rows + (<usize>(point - firstPoint) * <usize>d << 2), d, sums, panels + <usize>(point / PANEL_POINTS) * <usize>d * <usize>PANEL_BYTES_PER_DIMENSION);
  }
  for (; point < end; point++) packRow(rows + (<usize>(point - firstPoint) * <usize>d << 2), d, sums, panels, point);
  if (end % PANEL_POINTS != 0) {
    for (let lane = end % PANEL_POINTS; lane < PANEL_POINTS; lane++) {
      const at = panelAddress(panels, d, end - end % PANEL_POINTS + lane);
      for (let j = 0; j < d; j++) store<f32>(at + (<usize>j * <usize>PANEL_BYTES_PER_DIMENSION), 0);
    }
  }
  let finite = true;
  for (let j = 0; j < d; j++) finite = finite && isFinite(load<f64>(sums + (<usize>j << 3)));
  if (finite) return -1;
  const values = <i32>(<i64>count * <i64>d);
  for (let at = 0; at < values; at++) if (!isFinite(load<f32>(rows + (<usize>at << 2)))) return at;
  return -1;
}

/** One row into its lane of a panel, added to the sums: the rows around whole panels. */
function packRow(row: usize, d: i32, sums: usize, panels: usize, point: i32): void {
  const at = panelAddress(panels, d, point);
  for (let j = 0; j < d; j++) {
    const value = load<f32>(row + (<usize>j << 2));
    store<f32>(at + (<usize>j * <usize>PANEL_BYTES_PER_DIMENSION), value);
    const sum = sums + (<usize>j << 3);
    store<f64>(sum, load<f64>(sum) + <f64>value);
  }
}

/** 4 × 4 float32 transpose: the four columns of rows a, b, c, e (as [a_t, b_t, c_t, e_t]) to `out`, 32 bytes apart. */
@inline function storeTransposed(a: v128, b: v128, c: v128, e: v128, out: usize): void {
  const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const ce01 = v128.shuffle<f32>(c, e, 0, 4, 1, 5);
  const ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const ce23 = v128.shuffle<f32>(c, e, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<i64>(ab01, ce01, 0, 2));
  v128.store(out, v128.shuffle<i64>(ab01, ce01, 1, 3), PANEL_BYTES_PER_DIMENSION);
  v128.store(out, v128.shuffle<i64>(ab23, ce23, 0, 2), 2 * PANEL_BYTES_PER_DIMENSION);
  v128.store(out, v128.shuffle<i64>(ab23, ce23, 1, 3), 3 * PANEL_BYTES_PER_DIMENSION);
}

/** sums[j], sums[j + 1] (f64x2 at `at`) plus the low two lanes of each row, widened, in row order. */
@inline function addLow(at: usize, r0: v128, r1: v128, r2: v128, r3: v128, r4: v128, r5: v128, r6: v128, r7: v128): void {
  let s = v128.load(at);
  s = f64x2.add(s, f64x2.promote_low_f32x4(r0));
  s = f64x2.add(s, f64x2.promote_low_f32x4(r1));
  s = f64x2.add(s, f64x2.promote_low_f32x4(r2));
  s = f64x2.add(s, f64x2.promote_low_f32x4(r3));
  s = f64x2.add(s, f64x2.promote_low_f32x4(r4));
  s = f64x2.add(s, f64x2.promote_low_f32x4(r5));
  s = f64x2.add(s, f64x2.promote_low_f32x4(r6));
  s = f64x2.add(s, f64x2.promote_low_f32x4(r7));
  v128.store(at, s);
}

@inline function high(row: v128): v128 {
  return v128.shuffle<f32>(row, row, 2, 3, 2, 3);
}

/**
 * Eight rows (a whole panel) into `panel`, added to the sums: four dimensions at a time, each
 * 8 × 4 block loaded once, transposed into the panel and widened into the sums (two
 * dimensions per f64x2, the eight rows added in order); the last d mod 4 dimensions one by one.
 */
function packPanel(rows: usize, d: i32, sums: usize, panel: usize): void {
  const rowBytes = <usize>d << 2;
  let j = 0;
  for (; j + 4 <= d; j += 4) {
    const at = rows + (<usize>j << 2);
    const r0 = v128.load(at);
    const r1 = v128.load(at + rowBytes);
    const r2 = v128.load(at + 2 * rowBytes);
    const r3 = v128.load(at + 3 * rowBytes);
    const r4 = v128.load(at + 4 * rowBytes);
    const r5 = v128.load(at + 5 * rowBytes);
    const r6 = v128.load(at + 6 * rowBytes);
    const r7 = v128.load(at + 7 * rowBytes);
    const out = panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION;
    storeTransposed(r0, r1, r2, r3, out);
    storeTransposed(r4, r5, r6, r7, out + 16);
    const sum = sums + (<usize>j << 3);
    addLow(sum, r0, r1, r2, r3, r4, r5, r6, r7);
    addLow(sum + 16, high(r0), high(r1), high(r2), high(r3), high(r4), high(r5), high(r6), high(r7));
  }
  for (; j < d; j++) {
    const sum = sums + (<usize>j << 3);
    let s = load<f64>(sum);
    for (let lane = 0; lane < PANEL_POINTS; lane++) {
      const value = load<f32>(rows + <usize>lane * rowBytes + (<usize>j << 2));
      store<f32>(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION + (<usize>lane << 2), value);
      s += <f64>value;
    }
    store<f64>(sum, s);
  }
}

/**
 * Adds points firstPoint … endPoint − 1 of the panels, widened (to their unit rows, with
 * `unitFactors`), to the d column `sums`, in row order: the mean of held points as computeMean
 * gives it on float64 storage's rows.
 */
export function sumFloat32Points(panels: usize, d: i32, firstPoint: i32, endPoint: i32, sums: usize, unitFactors: usize): void {
  for (let point = firstPoint; point < endPoint; point++) {
    const at = panelAddress(panels, d, point);
    const unit = unitFactors != 0;
    const scale = unit ? load<f64>(unitScaleAddress(unitFactors, point)) : 1;
    const norm = unit ? load<f64>(unitScaleAddress(unitFactors, point), UNIT_NORMS_OFFSET) : 1;
    for (let j = 0; j < d; j++) {
      const sum = sums + (<usize>j << 3);
      const widened = <f64>load<f32>(at + (<usize>j * <usize>PANEL_BYTES_PER_DIMENSION));
      store<f64>(sum, load<f64>(sum) + (unit ? widened / scale / norm : widened));
    }
  }
}

/** Bytes of a panel's unit factors: its 8 points' m, then their s (see the header). */
export const UNIT_FACTOR_PANEL_BYTES: i32 = PANEL_POINTS * 16;
/** Where a panel's s values start among its unit factors. */
export const UNIT_NORMS_OFFSET: usize = PANEL_POINTS * 8;

/** The address of a point's m among the unit factors; its s lies UNIT_NORMS_OFFSET bytes on. */
@inline export function unitScaleAddress(unitFactors: usize, point: i32): usize {
  return unitFactors + <usize>(point / PANEL_POINTS) * <usize>UNIT_FACTOR_PANEL_BYTES + (<usize>(point % PANEL_POINTS) << 3);
}

/** (w / m) / s for two widened values and their points' factors: normaliseRow's rounding, lane by lane. */
@inline export function unitOf(widened: v128, scale: v128, norm: v128): v128 {
  return f64x2.div(f64x2.div(widened, scale), norm);
}

/** r = (1 / m) / s for two points: what their candidate values multiply a raw value by (unitCandidate). */
@inline export function unitReciprocal(scale: v128, norm: v128): v128 {
  return f64x2.div(f64x2.div(f64x2.splat(1), scale), norm);
}

/**
 * A cosine network's float32 candidate values for two widened raw values w: f32(w·r − c) in the
 * two low lanes, the product and the subtraction in float64 (r = unitReciprocal, c = μ32_j
 * widened). w·r is within a few float64 ulps of the unit value (w / m) / s, and a multiplication
 * costs a fraction of the two divisions; storedDistance.ts bounds the difference. The candidate
 * norms and the search's centred blocks both make them here, so the GEMM multiplies the values
 * whose norms it adds.
 */
@inline export function unitCandidate(widened: v128, reciprocal: v128, centre: v128): v128 {
  return f32x4.demote_f64x2_zero(f64x2.sub(f64x2.mul(widened, reciprocal), centre));
}

/**
 * Writes the unit factors of points firstPoint … n − 1 (their whole panels; lanes before
 * firstPoint get the bits they hold; padding points m = s = 1, which keeps their zeros zero):
 * m = max_j |X_ij| and s = √Σ_j (X_ij / m)², summed in dimension order, as normaliseRow
 * computes them on the widened row (every step correctly rounded, lane by lane). No point may
 * be a zero row (the caller refuses them: m would be 0).
 */
export function packUnitFactors(panels: usize, n: i32, d: i32, firstPoint: i32, unitFactors: usize): void {
  const panelTotal = panelCount(n);
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  for (let p = firstPoint / PANEL_POINTS; p < panelTotal; p++) {
    const panel = panels + <usize>p * panelBytes;
    let m01 = f64x2.splat(0), m23 = m01, m45 = m01, m67 = m01;
    for (let j = 0; j < d; j++) {
      const low = v128.load(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION);
      const high = v128.load(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION, 16);
      m01 = f64x2.max(m01, f64x2.abs(widenLow(low)));
      m23 = f64x2.max(m23, f64x2.abs(widenHigh(low)));
      m45 = f64x2.max(m45, f64x2.abs(widenLow(high)));
      m67 = f64x2.max(m67, f64x2.abs(widenHigh(high)));
    }
    let s01 = f64x2.splat(0), s23 = s01, s45 = s01, s67 = s01;
    for (let j = 0; j < d; j++) {
      const low = v128.load(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION);
      const high = v128.load(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION, 16);
      s01 = addSquare(s01, f64x2.div(widenLow(low), m01));
      s23 = addSquare(s23, f64x2.div(widenHigh(low), m23));
      s45 = addSquare(s45, f64x2.div(widenLow(high), m45));
      s67 = addSquare(s67, f64x2.div(widenHigh(high), m67));
    }
    const factors = unitFactors + <usize>p * <usize>UNIT_FACTOR_PANEL_BYTES;
    v128.store(factors, m01);
    v128.store(factors, m23, 16);
    v128.store(factors, m45, 32);
    v128.store(factors, m67, 48);
    v128.store(factors + UNIT_NORMS_OFFSET, f64x2.sqrt(s01));
    v128.store(factors + UNIT_NORMS_OFFSET, f64x2.sqrt(s23), 16);
    v128.store(factors + UNIT_NORMS_OFFSET, f64x2.sqrt(s45), 32);
    v128.store(factors + UNIT_NORMS_OFFSET, f64x2.sqrt(s67), 48);
    for (let lane = n - p * PANEL_POINTS; lane < PANEL_POINTS; lane++) {
      store<f64>(factors + (<usize>lane << 3), 1);
      store<f64>(factors + UNIT_NORMS_OFFSET + (<usize>lane << 3), 1);
    }
  }
}

/**
 * Copies the points of `panels` (n of them) that `removed` (a byte a point, 1 = removed) leaves,
 * in their order, to points 0, 1, … of `kept` (other panels), and completes the last panel with
 * zero points as packFloat32Rows does: what a remove rebuilds on, without the rows leaving wasm
 * memory. A whole panel kept where it lands on a panel of its own is copied at once. Returns
 * how many points were kept.
 */
export function keepStoredPoints(panels: usize, n: i32, d: i32, removed: usize, kept: usize): i32 {
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  let target = 0;
  let point = 0;
  while (point < n) {
    if (point % PANEL_POINTS == 0 && target % PANEL_POINTS == 0 && point + PANEL_POINTS <= n && load<u64>(removed + <usize>point) == 0) {
      memory.copy(kept + <usize>(target / PANEL_POINTS) * panelBytes, panels + <usize>(point / PANEL_POINTS) * panelBytes, panelBytes);
      point += PANEL_POINTS;
      target += PANEL_POINTS;
      continue;
    }
    if (load<u8>(removed + <usize>point) == 0) {
      const from = panelAddress(panels, d, point);
      const to = panelAddress(kept, d, target);
      for (let j = 0; j < d; j++) store<f32>(to + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION, load<f32>(from + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION));
      target++;
    }
    point++;
  }
  for (let lane = target % PANEL_POINTS; lane != 0 && lane < PANEL_POINTS; lane++) {
    const at = panelAddress(kept, d, target - target % PANEL_POINTS + lane);
    for (let j = 0; j < d; j++) store<f32>(at + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION, 0);
  }
  return target;
}

/** Copies points firstPoint … firstPoint + count − 1 out of the panels, as row-major float32 `rows`. */
export function unpackFloat32Rows(panels: usize, d: i32, firstPoint: i32, count: i32, rows: usize): void {
  for (let r = 0; r < count; r++) {
    const at = panelAddress(panels, d, firstPoint + r);
    const row = rows + (<usize>r * <usize>d << 2);
    for (let j = 0; j < d; j++) store<f32>(row + (<usize>j << 2), load<f32>(at + (<usize>j * <usize>PANEL_BYTES_PER_DIMENSION)));
  }
}

/** The two low lanes of a float32 vector, widened. */
@inline function widenLow(values: v128): v128 {
  return f64x2.promote_low_f32x4(values);
}

/** The two high lanes of a float32 vector, widened. */
@inline function widenHigh(values: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(values, values, 2, 3, 2, 3));
}

/** norm + (w − centre)², rounded as packWeights rounds it (a product, then a sum: never fused). */
@inline function addSquareAbout(norm: v128, widened: v128, centre: v128): v128 {
  const centred = f64x2.sub(widened, centre);
  return f64x2.add(norm, f64x2.mul(centred, centred));
}

/** norm + w² (w already a float32 value widened: its square is exact). */
@inline function addSquare(norm: v128, widened: v128): v128 {
  return f64x2.add(norm, f64x2.mul(widened, widened));
}

/**
 * Writes both norms of points firstPoint … n − 1 (their whole panels; padding points get 0):
 * b1_i = Σ_j (X_ij − μ_j)² in float64, summed in dimension order, the bits packWeights writes
 * for the widened values (with `unitFactors`, the unit rows: b1 of float64 storage's cosine
 * network), to `pointNorms`; and Σ_j c_ij², c_ij = f32(X_ij − μ32_j) (the float32 subtraction
 * the candidate GEMM makes; each square exact in float64, summed in dimension order) to
 * `candidateNorms` (a cosine network's c_ij = f32(X_ij·r_i − μ32_j), near its unit values:
 * unitCandidate). Lanes before firstPoint in its panel are written again with the bits they hold.
 * Stores the largest b1 and the largest candidate norm written at `largest` (two f64).
 */
export function packFloat32Norms(
  panels: usize, n: i32, d: i32, mean: usize, pointNorms: usize, candidateNorms: usize, firstPoint: i32, largest: usize, unitFactors: usize,
): void {
  const panelTotal = panelCount(n);
  const panelBytes = <usize>d * <usize>PANEL_BYTES_PER_DIMENSION;
  const unit = unitFactors != 0;
  let largestNorm = f64x2.splat(0);
  let largestCandidate = f64x2.splat(0);
  for (let p = firstPoint / PANEL_POINTS; p < panelTotal; p++) {
    const panel = panels + <usize>p * panelBytes;
    let b01 = f64x2.splat(0), b23 = b01, b45 = b01, b67 = b01;
    let c01 = b01, c23 = b01, c45 = b01, c67 = b01;
    const factors = unitFactors + <usize>p * <usize>UNIT_FACTOR_PANEL_BYTES;
    const r01 = unit ? unitReciprocal(v128.load(factors), v128.load(factors + UNIT_NORMS_OFFSET)) : b01;
    const r23 = unit ? unitReciprocal(v128.load(factors, 16), v128.load(factors + UNIT_NORMS_OFFSET, 16)) : b01;
    const r45 = unit ? unitReciprocal(v128.load(factors, 32), v128.load(factors + UNIT_NORMS_OFFSET, 32)) : b01;
    const r67 = unit ? unitReciprocal(v128.load(factors, 48), v128.load(factors + UNIT_NORMS_OFFSET, 48)) : b01;
    for (let j = 0; j < d; j++) {
      const centre = v128.load64_splat(mean + (<usize>j << 3));
      const centre32 = f32x4.splat(<f32>f64x2.extract_lane(centre, 0));
      const low = v128.load(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION);
      const high = v128.load(panel + <usize>j * <usize>PANEL_BYTES_PER_DIMENSION, 16);
      if (unit) {
        const u01 = unitOf(widenLow(low), v128.load(factors), v128.load(factors + UNIT_NORMS_OFFSET));
        const u23 = unitOf(widenHigh(low), v128.load(factors, 16), v128.load(factors + UNIT_NORMS_OFFSET, 16));
        const u45 = unitOf(widenLow(high), v128.load(factors, 32), v128.load(factors + UNIT_NORMS_OFFSET, 32));
        const u67 = unitOf(widenHigh(high), v128.load(factors, 48), v128.load(factors + UNIT_NORMS_OFFSET, 48));
        b01 = addSquareAbout(b01, u01, centre);
        b23 = addSquareAbout(b23, u23, centre);
        b45 = addSquareAbout(b45, u45, centre);
        b67 = addSquareAbout(b67, u67, centre);
        const unitCentre = f64x2.splat(<f64><f32>f64x2.extract_lane(centre, 0));
        c01 = addSquare(c01, widenLow(unitCandidate(widenLow(low), r01, unitCentre)));
        c23 = addSquare(c23, widenLow(unitCandidate(widenHigh(low), r23, unitCentre)));
        c45 = addSquare(c45, widenLow(unitCandidate(widenLow(high), r45, unitCentre)));
        c67 = addSquare(c67, widenLow(unitCandidate(widenHigh(high), r67, unitCentre)));
        continue;
      }
      b01 = addSquareAbout(b01, widenLow(low), centre);
      b23 = addSquareAbout(b23, widenHigh(low), centre);
      b45 = addSquareAbout(b45, widenLow(high), centre);
      b67 = addSquareAbout(b67, widenHigh(high), centre);
      const centredLow = f32x4.sub(low, centre32);
      const centredHigh = f32x4.sub(high, centre32);
      c01 = addSquare(c01, widenLow(centredLow));
      c23 = addSquare(c23, widenHigh(centredLow));
      c45 = addSquare(c45, widenLow(centredHigh));
      c67 = addSquare(c67, widenHigh(centredHigh));
    }
    const norms = pointNorms + (<usize>p << 6);
    const candidates = candidateNorms + (<usize>p << 6);
    v128.store(norms, b01);
    v128.store(norms, b23, 16);
    v128.store(norms, b45, 32);
    v128.store(norms, b67, 48);
    v128.store(candidates, c01);
    v128.store(candidates, c23, 16);
    v128.store(candidates, c45, 32);
    v128.store(candidates, c67, 48);
    // Padding points are not points: their norms are 0, as packWeights writes them, and not
    // among the largest (b1 of a padding point would be ‖μ‖²).
    for (let lane = n - p * PANEL_POINTS; lane < PANEL_POINTS; lane++) {
      store<f64>(norms + (<usize>lane << 3), 0);
      store<f64>(candidates + (<usize>lane << 3), 0);
    }
    largestNorm = f64x2.pmax(largestNorm, f64x2.pmax(f64x2.pmax(v128.load(norms), v128.load(norms, 16)), f64x2.pmax(v128.load(norms, 32), v128.load(norms, 48))));
    largestCandidate = f64x2.pmax(
      largestCandidate, f64x2.pmax(f64x2.pmax(v128.load(candidates), v128.load(candidates, 16)), f64x2.pmax(v128.load(candidates, 32), v128.load(candidates, 48))),
    );
  }
  store<f64>(largest, Math.max(f64x2.extract_lane(largestNorm, 0), f64x2.extract_lane(largestNorm, 1)));
  store<f64>(largest, Math.max(f64x2.extract_lane(largestCandidate, 0), f64x2.extract_lane(largestCandidate, 1)), 8);
}
