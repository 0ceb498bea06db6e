// The labelled 2-D data sets the page plots: Iris petal length × width, and two interleaved
// moons. (The million points without labels come from millionPoints.ts.)
import irisCsv from '../../data/iris.csv?raw';
import { SeededRandom } from '../../src/random.js';

/** Points the page can plot. */
export interface PointCloud {
  name: string;
  xLabel: string;
  yLabel: string;
  /** n × 2, row-major. */
  points: Float64Array;
  /** Plot window [xMin, xMax, yMin, yMax], a margin around the data. */
  bounds: [number, number, number, number];
}

/** Points with a class label each. */
export interface Dataset extends PointCloud {
  labels: string[];
}

export function irisPetals(): Dataset {
  const [header, ...lines] = irisCsv.trim().split(/\r?\n/);
  const names = header!.split(',');
  const length = names.indexOf('petal_length');
  const width = names.indexOf('petal_width');
  const species = names.indexOf('species');
  const rows = lines.map((line) => line.split(','));
  const points = new Float64Array(rows.length * 2);
  rows.forEach((row, i) => {
    points[2 * i] = Number(row[length]);
    points[2 * i + 1] = Number(row[width]);
  });
  return {
    name: 'Iris petals',
    xLabel: 'petal length (cm)',
    yLabel: 'petal width (cm)',
    points,
    labels: rows.map((row) => row[species]!),
    bounds: boundsWithMargin(points, 0.08),
  };
}

/** Two half circles with Gaussian noise (as scikit-learn's make_moons), from a fixed seed. */
export function twoMoons(n = 200, noise = 0.18, seed = 7): Dataset {
  const random = new SeededRandom(seed);
  const points = new Float64Array(n * 2);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const upper = i % 2 === 0;
    const t = Math.PI * random.uniform();
    const x = upper ? Math.cos(t) : 1 - Math.cos(t);
    const y = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    points[2 * i] = x + noise * random.normal();
    points[2 * i + 1] = y + noise * random.normal();
    labels.push(upper ? 'upper moon' : 'lower moon');
  }
  return { name: 'Two moons', xLabel: 'x₁', yLabel: 'x₂', points, labels, bounds: boundsWithMargin(points, 0.1) };
}

function boundsWithMargin(points: Float64Array, fraction: number): [number, number, number, number] {
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (let i = 0; i < points.length; i += 2) {
    xMin = Math.min(xMin, points[i]!);
    xMax = Math.max(xMax, points[i]!);
    yMin = Math.min(yMin, points[i + 1]!);
    yMax = Math.max(yMax, points[i + 1]!);
  }
  const dx = (xMax - xMin) * fraction;
  const dy = (yMax - yMin) * fraction;
  return [xMin - dx, xMax + dx, yMin - dy, yMax + dy];
}
