// A million 2-D points from a fixed seed: a few hundred Gaussian-like clusters strung along three
// spiral arms, a scattering of clusters between them, and uniform noise. The page and the tests
// generate it with this one function, so a query in Chromium and the same query in Node search
// the same points, bit for bit.
//
// Only additions, multiplications, divisions and square roots are used (all correctly rounded in
// every JavaScript engine); Math.sin, Math.cos and Math.log may differ in the last bit between
// engines, so the spiral's angles come from a table built by repeated exact-formula rotation and
// the clusters' normals are Irwin–Hall sums of uniforms, not Box–Muller.
import { SeededRandom } from '../../src/random.js';
import type { PointCloud } from './datasets.js';

export const MILLION_POINTS_SEED = 20240611;
const CLUSTERS = 320;
const NOISE_SHARE = 0.06;
const ARMS = 3;
/** Share of the clusters placed on the spiral arms; the rest fall anywhere in the disc. */
const ARM_SHARE = 0.8;

/** cos and sin of half a degree, written out (a table built from them needs no Math.cos). */
const HALF_DEGREE = { cos: 0.9999619230641713, sin: 0.008726535498373935 };
const TURN_STEPS = 720;

/** Unit vectors at 0°, 0.5°, … 359.5°, by repeated rotation: the same bits in every engine. */
function directionTable(): Float64Array {
  const table = new Float64Array(2 * TURN_STEPS);
  let x = 1;
  let y = 0;
  for (let step = 0; step < TURN_STEPS; step++) {
    table[2 * step] = x;
    table[2 * step + 1] = y;
    [x, y] = [x * HALF_DEGREE.cos - y * HALF_DEGREE.sin, x * HALF_DEGREE.sin + y * HALF_DEGREE.cos];
  }
  return table;
}

/**
 * A standard-normal-like draw: the sum of four uniforms has variance 4/12, so centring it and
 * scaling by √3 gives mean 0 and variance 1 (bounded at ±2√3, which a density plot cannot tell).
 */
function bellCurve(random: SeededRandom): number {
  return (random.uniform() + random.uniform() + random.uniform() + random.uniform() - 2) * Math.sqrt(3);
}

interface Cluster {
  x: number;
  y: number;
  /** Unit vector of the long axis. */
  ux: number;
  uy: number;
  /** Standard deviations along and across the long axis. */
  along: number;
  across: number;
}

function makeClusters(random: SeededRandom): { clusters: Cluster[]; cumulativeWeight: Float64Array } {
  const directions = directionTable();
  const clusters: Cluster[] = [];
  const cumulativeWeight = new Float64Array(CLUSTERS);
  let total = 0;
  for (let c = 0; c < CLUSTERS; c++) {
    let x: number;
    let y: number;
    let axisStep: number;
    if (random.uniform() < ARM_SHARE) {
      // Along an arm: the radius grows with t while the angle winds once round; the cluster is
      // drawn out along the arm (a quarter turn and a little from the radius).
      const t = random.uniform();
      const step = Math.floor(random.integer(ARMS) * (TURN_STEPS / ARMS) + t * TURN_STEPS) % TURN_STEPS;
      const radius = 0.1 + 0.9 * t + 0.02 * bellCurve(random);
      x = radius * directions[2 * step]!;
      y = radius * directions[2 * step + 1]!;
      axisStep = (step + TURN_STEPS / 4 + 40 + random.integer(40)) % TURN_STEPS;
    } else {
      do {
        x = 2 * random.uniform() - 1;
        y = 2 * random.uniform() - 1;
      } while (x * x + y * y > 1);
      axisStep = random.integer(TURN_STEPS);
    }
    const along = 0.006 + 0.05 * random.uniform() ** 2;
    const across = along / (1.5 + 3 * random.uniform());
    clusters.push({ x, y, ux: directions[2 * axisStep]!, uy: directions[2 * axisStep + 1]!, along, across });
    // A few heavy clusters and many light ones.
    total += 0.05 + random.uniform() ** 3;
    cumulativeWeight[c] = total;
  }
  for (let c = 0; c < CLUSTERS; c++) cumulativeWeight[c]! /= total;
  return { clusters, cumulativeWeight };
}

/** The first cluster whose cumulative weight exceeds u (binary search). */
function pickCluster(cumulativeWeight: Float64Array, u: number): number {
  let low = 0;
  let high = cumulativeWeight.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (cumulativeWeight[middle]! > u) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** n points (a million by default) from `seed`: the same points on every run and in every engine. */
export function millionPoints(n = 1_000_000, seed = MILLION_POINTS_SEED): PointCloud {
  const random = new SeededRandom(seed);
  const { clusters, cumulativeWeight } = makeClusters(random);
  const points = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    if (random.uniform() < NOISE_SHARE) {
      points[2 * i] = 2.3 * random.uniform() - 1.15;
      points[2 * i + 1] = 2.3 * random.uniform() - 1.15;
      continue;
    }
    const cluster = clusters[pickCluster(cumulativeWeight, random.uniform())]!;
    const a = cluster.along * bellCurve(random);
    const b = cluster.across * bellCurve(random);
    points[2 * i] = cluster.x + a * cluster.ux - b * cluster.uy;
    points[2 * i + 1] = cluster.y + a * cluster.uy + b * cluster.ux;
  }
  const name = n === 1_000_000 ? 'A million points' : `${n.toLocaleString('en')} points`;
  // 2.5 × 2.34 data units on the page's 500 × 468-pixel plot: 200 pixels a unit on both axes.
  return { name, xLabel: 'x₁', yLabel: 'x₂', points, bounds: [-1.25, 1.25, -1.17, 1.17] };
}

/** FNV-1a over the points' float64 bytes: equal checksums mean the same data, here and in a browser. */
export function pointsChecksum(points: Float64Array): string {
  const bytes = new Uint8Array(points.buffer, points.byteOffset, points.byteLength);
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}
