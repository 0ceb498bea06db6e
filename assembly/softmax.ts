// Layer 2, soft mode: exp(−λ·z1) normalised, computed stably.
//
// Every weight is taken relative to the smallest distance m seen so far: exp(−λ·(z − m)) ≤ 1,
// so nothing overflows, the nearest point weighs exactly 1 (the sum is never 0), and λ = 1e12
// leaves only the points at distance m, sharing the weight. For k = 'all' the softmax is
// computed online over the tiles (the flash-attention trick): when a tile brings a smaller m,
// the running sum and class scores are rescaled by exp(−λ·(m_old − m_new)) and the tile is
// folded in, so the q×n weight matrix is never built.

const LOG2_E: f64 = 1.4426950408889634;
// ln 2 split so that k·LN2_HIGH is exact for |k| < 2^11 (Cody–Waite range reduction).
const LN2_HIGH: f64 = 6.93147180369123816490e-01;
const LN2_LOW: f64 = 1.90821492927058770002e-10;
// Below this, exp(x) < 2^-1022: next to the nearest point's weight of 1 it is nothing.
const SMALLEST_ARGUMENT: f64 = -708.0;
const LARGEST_ARGUMENT: f64 = 709.0;

/**
 * exp(x) for two lanes: x = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^13
 * (truncation error < 5e-18 relative), then scaled by 2^k built in the exponent bits.
 * Relative error about 1 ulp; exactly 0 below −708.
 */
function exp2Lanes(x: v128): v128 {
  const clamped = f64x2.pmin(f64x2.splat(LARGEST_ARGUMENT), x);
  const k = f64x2.nearest(f64x2.mul(clamped, f64x2.splat(LOG2_E)));
  const r = f64x2.sub(f64x2.sub(clamped, f64x2.mul(k, f64x2.splat(LN2_HIGH))), f64x2.mul(k, f64x2.splat(LN2_LOW)));
  let p = f64x2.splat(1.0 / 6227020800.0);
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 479001600.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 39916800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 3628800.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 362880.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 40320.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 5040.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 720.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 120.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 24.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0 / 6.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(0.5));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  p = f64x2.add(f64x2.mul(p, r), f64x2.splat(1.0));
  const exponent = i64x2.shl(i64x2.add(i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k)), i64x2.splat(1023)), 52);
  const result = f64x2.mul(p, exponent);
  return v128.andnot(result, f64x2.lt(x, f64x2.splat(SMALLEST_ARGUMENT)));
}

export function stableExp(x: f64): f64 {
  return f64x2.extract_lane(exp2Lanes(f64x2.splat(x)), 0);
}

/** Smallest of `count` distances (count ≥ 1). */
function tileMinimum(tile: usize, count: i32): f64 {
  let pairMinimum = f64x2.splat(Infinity);
  let i = 0;
  for (; i + 1 < count; i += 2) pairMinimum = f64x2.pmin(pairMinimum, v128.load(tile + (<usize>i << 3)));
  let minimum = Math.min(f64x2.extract_lane(pairMinimum, 0), f64x2.extract_lane(pairMinimum, 1));
  if (i < count) minimum = Math.min(minimum, load<f64>(tile + (<usize>i << 3)));
  return minimum;
}

// Online state of one query: [m, Σw, score_0 … score_{c−1}] (for regression c = 1, score Σw·y).
export function onlineStateWidth(classes: i32): i32 {
  return classes + 2;
}

export function onlineSoftmaxReset(state: usize, classes: i32): void {
  store<f64>(state, Infinity);
  for (let c = 0; c <= classes; c++) store<f64>(state + (<usize>(c + 1) << 3), 0.0);
}

/**
 * Folds `count` distances (training points firstIndex…) into one query's online softmax.
 * Classification adds each weight to its point's class score (labels: i32 class codes);
 * regression adds weight × target (targets: f64).
 */
export function onlineSoftmaxFold(
  tile: usize, count: i32, firstIndex: i32, state: usize, classes: i32,
  labels: usize, targets: usize, regression: bool, lambda: f64,
): void {
  const previous = load<f64>(state);
  const minimum = Math.min(previous, tileMinimum(tile, count));
  const scores = state + 16;
  if (minimum < previous && previous != Infinity) {
    const factor = stableExp(-lambda * (previous - minimum));
    store<f64>(state + 8, load<f64>(state + 8) * factor);
    for (let c = 0; c < classes; c++) {
      const at = scores + (<usize>c << 3);
      store<f64>(at, load<f64>(at) * factor);
    }
  }
  store<f64>(state, minimum);
  const negativeLambda = f64x2.splat(-lambda);
  const shift = f64x2.splat(minimum);
  let weightSum = f64x2.splat(0);
  let weightedTargets = f64x2.splat(0);
  let i = 0;
  for (; i + 1 < count; i += 2) {
    const weights = exp2Lanes(f64x2.mul(negativeLambda, f64x2.sub(v128.load(tile + (<usize>i << 3)), shift)));
    weightSum = f64x2.add(weightSum, weights);
    const point = firstIndex + i;
    if (regression) {
      weightedTargets = f64x2.add(weightedTargets, f64x2.mul(weights, v128.load(targets + (<usize>point << 3))));
    } else {
      const first = scores + (<usize>load<i32>(labels + (<usize>point << 2)) << 3);
      store<f64>(first, load<f64>(first) + f64x2.extract_lane(weights, 0));
      const second = scores + (<usize>load<i32>(labels + (<usize>(point + 1) << 2)) << 3);
      store<f64>(second, load<f64>(second) + f64x2.extract_lane(weights, 1));
    }
  }
  let sum = f64x2.extract_lane(weightSum, 0) + f64x2.extract_lane(weightSum, 1);
  if (i < count) {
    const point = firstIndex + i;
    const weight = stableExp(-lambda * (load<f64>(tile + (<usize>i << 3)) - minimum));
    sum += weight;
    if (regression) {
      store<f64>(scores, load<f64>(scores) + weight * load<f64>(targets + (<usize>point << 3)));
    } else {
      const at = scores + (<usize>load<i32>(labels + (<usize>point << 2)) << 3);
      store<f64>(at, load<f64>(at) + weight);
    }
  }
  if (regression) {
    store<f64>(scores, load<f64>(scores) + f64x2.extract_lane(weightedTargets, 0) + f64x2.extract_lane(weightedTargets, 1));
  }
  store<f64>(state + 8, load<f64>(state + 8) + sum);
}

/** Class probabilities (or the regression estimate) from a finished online state. */
export function onlineSoftmaxFinish(state: usize, classes: i32, output: usize): void {
  const sum = load<f64>(state + 8);
  for (let c = 0; c < classes; c++) {
    store<f64>(output + (<usize>c << 3), load<f64>(state + (<usize>(c + 2) << 3)) / sum);
  }
}
