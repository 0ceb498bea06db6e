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
// Below this, exp(x) < 3.4e-308 (about 2^-1021): next to the nearest point's weight of 1 it is
// nothing, and 2^k stays a normal number above it.
const SMALLEST_ARGUMENT: f64 = -708.0;
const LARGEST_ARGUMENT: f64 = 709.0;

// 1.5·2^52: adding it to a value below 2^51 in magnitude rounds that value to the nearest
// integer and leaves the integer in the low mantissa bits, where an integer add can take it.
const ROUNDING_SHIFT: f64 = 6755399441055744.0;

// The constants of exp2Lanes, read from memory: a v128 constant written in the code costs V8
// several instructions to materialise on every use (it holds no SIMD constant pool), where a
// splatting load is one.
const EXP_CONSTANTS: usize = memory.data<f64>([
  LARGEST_ARGUMENT, LOG2_E, ROUNDING_SHIFT, LN2_HIGH, LN2_LOW, SMALLEST_ARGUMENT, 1.0,
  1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0, 1.0 / 40320.0, 1.0 / 362880.0,
  1.0 / 3628800.0, 1.0 / 39916800.0, 1.0 / 479001600.0, 1.0 / 6227020800.0,
]);

const EXPONENT_BIAS: usize = memory.data<i64>([1023]);

@inline function constant(slot: i32): v128 {
  return v128.load64_splat(EXP_CONSTANTS + (<usize>slot << 3));
}

// Positions in EXP_CONSTANTS.
const SLOT_LARGEST_ARGUMENT = 0, SLOT_LOG2_E = 1, SLOT_ROUNDING_SHIFT = 2, SLOT_LN2_HIGH = 3, SLOT_LN2_LOW = 4;
const SLOT_SMALLEST_ARGUMENT = 5, SLOT_ONE = 6, SLOT_INVERSE_FACTORIAL_2 = 7;

/** 1/i! for i = 2 … 13. */
@inline function inverseFactorial(i: i32): v128 {
  return constant(SLOT_INVERSE_FACTORIAL_2 + i - 2);
}

/**
 * exp(x) for two lanes: x = k·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r^13
 * (truncation error < 5e-18 relative), then scaled by 2^k built in the exponent bits.
 * Relative error about 1 ulp; exactly 0 below −708.
 *
 * Evaluated for latency, which bounds the online softmax: the series' tail c2 + c3·r + … +
 * c13·r^11 by Estrin's scheme (pairs combined with r², r⁴, r⁸: 4 dependent steps instead of
 * 11), then the two leading Horner steps 1 + r·(1 + r·tail), which keep the rounding of the
 * large terms where Horner has it. k comes from the rounding-shift trick rather than a
 * float-to-int conversion.
 */
function exp2Lanes(x: v128): v128 {
  const clamped = f64x2.pmin(constant(SLOT_LARGEST_ARGUMENT), x);
  const shifted = f64x2.add(f64x2.mul(clamped, constant(SLOT_LOG2_E)), constant(SLOT_ROUNDING_SHIFT));
  const k = f64x2.sub(shifted, constant(SLOT_ROUNDING_SHIFT));
  const r = f64x2.sub(f64x2.sub(clamped, f64x2.mul(k, constant(SLOT_LN2_HIGH))), f64x2.mul(k, constant(SLOT_LN2_LOW)));
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const r8 = f64x2.mul(r4, r4);
  const c23 = f64x2.add(inverseFactorial(2), f64x2.mul(r, inverseFactorial(3)));
  const c45 = f64x2.add(inverseFactorial(4), f64x2.mul(r, inverseFactorial(5)));
  const c67 = f64x2.add(inverseFactorial(6), f64x2.mul(r, inverseFactorial(7)));
  const c89 = f64x2.add(inverseFactorial(8), f64x2.mul(r, inverseFactorial(9)));
  const c1011 = f64x2.add(inverseFactorial(10), f64x2.mul(r, inverseFactorial(11)));
  const c1213 = f64x2.add(inverseFactorial(12), f64x2.mul(r, inverseFactorial(13)));
  const c25 = f64x2.add(c23, f64x2.mul(r2, c45));
  const c69 = f64x2.add(c67, f64x2.mul(r2, c89));
  const c1013 = f64x2.add(c1011, f64x2.mul(r2, c1213));
  const tail = f64x2.add(f64x2.add(c25, f64x2.mul(r4, c69)), f64x2.mul(r8, c1013));
  const series = f64x2.add(constant(SLOT_ONE), f64x2.mul(r, f64x2.add(constant(SLOT_ONE), f64x2.mul(r, tail))));
  // shifted's bits are those of ROUNDING_SHIFT plus k. ROUNDING_SHIFT's low 12 bits are zero,
  // so after adding the bias, the shift by 52 leaves only k + 1023, in the exponent field.
  const scale = i64x2.shl(i64x2.add(shifted, v128.load64_splat(EXPONENT_BIAS)), 52);
  const result = f64x2.mul(series, scale);
  return v128.andnot(result, f64x2.lt(x, constant(SLOT_SMALLEST_ARGUMENT)));
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

/**
 * One query's online softmax over some of the training points: the smallest distance m seen,
 * the sum of the weights exp(−λ·(z − m)), then `classes` scores, each the sum of its class's
 * weights (for regression one score, Σw·y).
 */
@unmanaged export class SoftmaxState {
  minimum: f64;
  weightSum: f64;

  /** Where the scores start: right after the weight sum. */
  @inline scores(): usize {
    return changetype<usize>(this) + 16;
  }
}

/** The bytes of one SoftmaxState with `classes` scores, rounded up to 16. */
export function softmaxStateBytes(classes: i32): usize {
  return ((<usize>classes << 3) + 16 + 15) & ~<usize>15;
}

export function onlineSoftmaxReset(state: SoftmaxState, classes: i32): void {
  state.minimum = Infinity;
  state.weightSum = 0.0;
  const scores = state.scores();
  for (let c = 0; c < classes; c++) store<f64>(scores + (<usize>c << 3), 0.0);
}

/**
 * Folds `count` distances (training points firstIndex…) into one query's online softmax.
 * Classification adds each weight to its point's class score (labels: i32 class codes);
 * regression adds weight × target (targets: f64).
 */
export function onlineSoftmaxFold(
  tile: usize, count: i32, firstIndex: i32, state: SoftmaxState, classes: i32,
  labels: usize, targets: usize, regression: bool, lambda: f64,
): void {
  const previous = state.minimum;
  const minimum = Math.min(previous, tileMinimum(tile, count));
  const scores = state.scores();
  if (minimum < previous && previous != Infinity) {
    const factor = stableExp(-lambda * (previous - minimum));
    state.weightSum = state.weightSum * factor;
    for (let c = 0; c < classes; c++) {
      const at = scores + (<usize>c << 3);
      store<f64>(at, load<f64>(at) * factor);
    }
  }
  state.minimum = minimum;
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
  state.weightSum = state.weightSum + sum;
}

/**
 * Folds the online state `other` (of other training points) into `state`: both rescaled to the
 * smaller of their two minima, as a tile with a smaller minimum rescales the state it joins.
 * The state with that minimum keeps its sums as they are (its factor is exactly 1).
 */
export function onlineSoftmaxMerge(state: SoftmaxState, other: SoftmaxState, classes: i32, lambda: f64): void {
  const minimum = state.minimum;
  const otherMinimum = other.minimum;
  const low = Math.min(minimum, otherMinimum);
  const factor = minimum == low ? 1.0 : stableExp(-lambda * (minimum - low));
  const otherFactor = otherMinimum == low ? 1.0 : stableExp(-lambda * (otherMinimum - low));
  state.minimum = low;
  state.weightSum = state.weightSum * factor + other.weightSum * otherFactor;
  const scores = state.scores();
  const otherScores = other.scores();
  for (let c = 0; c < classes; c++) {
    const at = scores + (<usize>c << 3);
    store<f64>(at, load<f64>(at) * factor + load<f64>(otherScores + (<usize>c << 3)) * otherFactor);
  }
}

/** Class probabilities (or the regression estimate) from a finished online state. */
export function onlineSoftmaxFinish(state: SoftmaxState, classes: i32, output: usize): void {
  const sum = state.weightSum;
  const scores = state.scores();
  for (let c = 0; c < classes; c++) {
    store<f64>(output + (<usize>c << 3), load<f64>(scores + (<usize>c << 3)) / sum);
  }
}

/**
 * The online-softmax reducer of one call over all points. The training points fall in fixed
 * blocks of `blockPoints` (whole tiles), each folded into a SoftmaxState of its own: query r's
 * state of block b lies at `states + r·queryStride + b·stateBytes`. finishBlockStates then
 * merges a query's blocks in a fixed tree, so the rounding never depends on which thread
 * folded which block.
 */
@unmanaged export class SoftmaxReducer {
  lambda: f64;
  states: usize;
  stateBytes: usize;
  queryStride: usize;
  labels: usize;
  targets: usize;
  blockPoints: i32;
  classes: i32;
  regression: bool;

  /**
   * Sets the reducer up and resets the states of blocks firstBlock … endBlock − 1 of q queries;
   * other blocks' states are untouched, so several calls may fill one `states` region side by side.
   */
  begin(
    states: usize, queryStride: usize, blockPoints: i32, labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
    q: i32, firstBlock: i32, endBlock: i32,
  ): void {
    this.lambda = lambda;
    this.states = states;
    this.stateBytes = softmaxStateBytes(classes);
    this.queryStride = queryStride;
    this.labels = labels;
    this.targets = targets;
    this.blockPoints = blockPoints;
    this.classes = classes;
    this.regression = regression;
    for (let r = 0; r < q; r++) {
      for (let b = firstBlock; b < endBlock; b++) onlineSoftmaxReset(this.state(r, b), classes);
    }
  }

  @inline state(query: i32, block: i32): SoftmaxState {
    return changetype<SoftmaxState>(this.states + <usize>query * this.queryStride + <usize>block * this.stateBytes);
  }

  @inline fold(query: i32, tile: usize, count: i32, firstIndex: i32): void {
    // A tile lies inside one block (blocks are whole tiles): it folds into that block's state.
    const state = this.state(query, firstIndex / this.blockPoints);
    onlineSoftmaxFold(tile, count, firstIndex, state, this.classes, this.labels, this.targets, this.regression, this.lambda);
  }
}

/**
 * Merges one query's `blocks` states (`stateBytes` apart from `first`, every block folded) in a
 * fixed pairwise tree, into the first, and writes the class probabilities (or the regression
 * estimate) to `output`. It reads nothing but the states, so it needs no reducer: the thread
 * that merges what workers folded calls it as the one that folded everything does.
 */
export function finishBlockStates(first: usize, blocks: i32, stateBytes: usize, classes: i32, lambda: f64, output: usize): void {
  for (let stride = 1; stride < blocks; stride <<= 1) {
    for (let b = 0; b + stride < blocks; b += stride << 1) {
      const state = changetype<SoftmaxState>(first + <usize>b * stateBytes);
      onlineSoftmaxMerge(state, changetype<SoftmaxState>(first + <usize>(b + stride) * stateBytes), classes, lambda);
    }
  }
  onlineSoftmaxFinish(changetype<SoftmaxState>(first), classes, output);
}
