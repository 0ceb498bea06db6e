// Layer 3: z3 = z2ᵀ·Y without building the one-hot Y. Each neighbour's layer-2 weight is added
// to its class's score (classification) or, times its target, to a weighted sum (regression),
// in neighbour order, then normalised by the total weight.

import { stableExp } from './softmax';

export const WEIGHTS_UNIFORM: i32 = 0;
export const WEIGHTS_DISTANCE: i32 = 1;
export const WEIGHTS_SOFTMAX: i32 = 2;

/**
 * Layer-2 weight of a neighbour at squared distance `squared`, given the nearest one's
 * `nearest` (neighbours come sorted, so the nearest is first).
 * 'distance': 1/dist; but when the nearest is at distance 0 only the points at distance 0 vote
 * (scikit-learn's rule), each with weight 1. 'softmax': exp(−λ·(z − z_min)), stable.
 */
@inline function neighbourWeight(mode: i32, squared: f64, nearest: f64, lambda: f64): f64 {
  if (mode == WEIGHTS_DISTANCE) {
    if (nearest == 0) return squared == 0 ? 1.0 : 0.0;
    return 1.0 / Math.sqrt(squared);
  }
  if (mode == WEIGHTS_SOFTMAX) return stableExp(-lambda * (squared - nearest));
  return 1.0;
}

/**
 * Scores for q queries from their k sorted neighbours: output is q × classes probabilities
 * (classification) or q × 1 estimates (regression).
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
    for (let c = 0; c < classes; c++) store<f64>(scores + (<usize>c << 3), 0.0);
    const nearest = load<f64>(squared);
    let total: f64 = 0;
    for (let j = 0; j < k; j++) {
      const weight = neighbourWeight(mode, load<f64>(squared + (<usize>j << 3)), nearest, lambda);
      const point = <usize>load<i32>(indices + (<usize>j << 2));
      total += weight;
      if (regression) {
        store<f64>(scores, load<f64>(scores) + weight * load<f64>(targets + (point << 3)));
      } else {
        const at = scores + (<usize>load<i32>(labels + (point << 2)) << 3);
        store<f64>(at, load<f64>(at) + weight);
      }
    }
    for (let c = 0; c < classes; c++) {
      const at = scores + (<usize>c << 3);
      store<f64>(at, load<f64>(at) / total);
    }
  }
}
