// Layer 3: z3 = z2ᵀ·Y without building the one-hot Y. Each neighbour's layer-2 weight is added
// to its class's score (classification) or, times its target, to a weighted sum (regression),
// in neighbour order, then normalised by the total weight. argmaxRows turns scores into the
// predicted class (the first of the highest, as the reference picks it).

import { stableExp } from './softmax';

// Weighting codes, as src/network.ts passes them: 0 'uniform', 1 'distance' (distance √z1), 2
// 'softmax', and 3 'distance' for a metric whose distance is a constant multiple of z1 (cosine:
// z1 = 2·distance; Manhattan: z1 is the distance), whose vote z1_nearest/z1 is exactly
// distance_nearest/distance, since scaling by 2 is exact.
export const WEIGHTS_DISTANCE: i32 = 1;
export const WEIGHTS_SOFTMAX: i32 = 2;
export const WEIGHTS_DISTANCE_PROPORTIONAL: i32 = 3;

/** Adds one neighbour's vote: its weight to its class's score, or weight × target. */
@inline function addVote(scores: usize, point: usize, weight: f64, labels: usize, targets: usize, regression: bool): void {
  if (regression) {
    store<f64>(scores, load<f64>(scores) + weight * load<f64>(targets + (point << 3)));
  } else {
    const at = scores + (<usize>load<i32>(labels + (point << 2)) << 3);
    store<f64>(at, load<f64>(at) + weight);
  }
}

/**
 * Scores for q queries from their k sorted neighbours: output is q × classes probabilities
 * (classification) or q × 1 estimates (regression). Layer-2 weights: 'uniform' 1; 'distance'
 * 1/dist, computed as dist_nearest/dist (the same votes once normalised, each in (0, 1], so
 * neither a tiny distance's 1/dist nor a weight times a large target can overflow), except that
 * when the nearest is at distance 0 only the points at distance 0 vote (scikit-learn's rule),
 * each with weight 1; 'softmax' exp(−λ·(z − z_min)), stable (neighbours
 * come sorted, so z_min is the first). One loop per mode: with the mode tested inside a single
 * loop, the optimiser computes the exp for every mode.
 */
export function projectOneHot(
  neighbourIndices: usize, neighbourSquared: usize, q: i32, k: i32,
  labels: usize, targets: usize, classes: i32, regression: bool,
  mode: i32, lambda: f64, output: usize,
): void {
  for (let r = 0; r < q; r++) {
    const indices = neighbourIndices + (<usize>r * <usize>k << 2);
    const squared = neighbourSquared + (<usize>r * <usize>k << 3);
    const scores = output + (<usize>r * <usize>classes << 3);
    clearScores(scores, classes);
    const nearest = load<f64>(squared);
    let total: f64 = 0;
    if (mode == WEIGHTS_SOFTMAX) {
      for (let j = 0; j < k; j++) {
        const weight = stableExp(-lambda * (load<f64>(squared + (<usize>j << 3)) - nearest));
        total += weight;
        addVote(scores, <usize>load<i32>(indices + (<usize>j << 2)), weight, labels, targets, regression);
      }
    } else if (mode == WEIGHTS_DISTANCE) {
      const nearestDistance = Math.sqrt(nearest);
      for (let j = 0; j < k; j++) {
        const distanceSquared = load<f64>(squared + (<usize>j << 3));
        const weight = nearest == 0 ? (distanceSquared == 0 ? 1.0 : 0.0) : nearestDistance / Math.sqrt(distanceSquared);
        total += weight;
        addVote(scores, <usize>load<i32>(indices + (<usize>j << 2)), weight, labels, targets, regression);
      }
    } else if (mode == WEIGHTS_DISTANCE_PROPORTIONAL) {
      for (let j = 0; j < k; j++) {
        const value = load<f64>(squared + (<usize>j << 3));
        const weight = nearest == 0 ? (value == 0 ? 1.0 : 0.0) : nearest / value;
        total += weight;
        addVote(scores, <usize>load<i32>(indices + (<usize>j << 2)), weight, labels, targets, regression);
      }
    } else {
      for (let j = 0; j < k; j++) {
        total += 1.0;
        addVote(scores, <usize>load<i32>(indices + (<usize>j << 2)), 1.0, labels, targets, regression);
      }
    }
    divideScores(scores, classes, total);
  }
}

function clearScores(scores: usize, classes: i32): void {
  let c = 0;
  for (; c + 1 < classes; c += 2) v128.store(scores + (<usize>c << 3), f64x2.splat(0));
  if (c < classes) store<f64>(scores + (<usize>c << 3), 0.0);
}

/** scores[c] / total for every class, two per f64x2 division (each lane rounds as the scalar one). */
function divideScores(scores: usize, classes: i32, total: f64): void {
  const divisor = f64x2.splat(total);
  let c = 0;
  for (; c + 1 < classes; c += 2) {
    const at = scores + (<usize>c << 3);
    v128.store(at, f64x2.div(v128.load(at), divisor));
  }
  if (c < classes) {
    const at = scores + (<usize>c << 3);
    store<f64>(at, load<f64>(at) / total);
  }
}

/**
 * The predicted class of each of q rows of scores: the first of the highest, as numpy's argmax
 * (and the reference) picks it.
 */
export function argmaxRows(scores: usize, q: i32, classes: i32, output: usize): void {
  for (let r = 0; r < q; r++) {
    const row = scores + (<usize>r * <usize>classes << 3);
    let best = 0;
    let highest = load<f64>(row);
    for (let c = 1; c < classes; c++) {
      const score = load<f64>(row + (<usize>c << 3));
      if (score > highest) {
        highest = score;
        best = c;
      }
    }
    store<i32>(output + (<usize>r << 2), best);
  }
}
