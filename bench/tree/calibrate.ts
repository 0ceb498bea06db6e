/**
 * Calibrates the planner's cost model (choosesTree in src/partition.ts): on a grid of shapes,
 * times the pruned search and brute force alternately in one process (CPU time, medians), and prints
 * them beside the work a deterministic sample of training points takes as queries (sampleWork),
 * the model's predicted ratio, and what 'auto' picks:
 *
 *   npm run build && node dist/bench/tree/calibrate.js [--rounds 3]
 *
 * The model's constants are set so that 'auto' picks the tree only where it measured faster by
 * a margin; the printed table is the evidence.
 */
import { KnnNetwork } from '../../src/index.js';
import { toMatrix } from '../../src/matrix.js';
import { buildPartition, packSearchLayers, partitionRegions, planPartition, searchPartition } from '../../src/partition.js';
import { choosesTree, predictedRatio, sampleWork } from '../../src/partitionCost.js';
import { SeededRandom } from '../../src/random.js';
import { loadKernels, type Kernels } from '../../src/wasm.js';

const K = 5;

interface Shape {
  name: string;
  n: number;
  d: number;
  blobs: number;
  q: number;
}

function data(shape: Shape, seed: number, rows: number): Float64Array {
  const random = new SeededRandom(seed);
  const { d, blobs } = shape;
  if (blobs === 0) return Float64Array.from({ length: rows * d }, () => random.uniform());
  const centreRandom = new SeededRandom(7);
  const centres = Float64Array.from({ length: blobs * d }, () => -10 + 20 * centreRandom.uniform());
  const values = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const blob = random.integer(blobs);
    for (let j = 0; j < d; j++) values[i * d + j] = centres[blob * d + j] + random.normal();
  }
  return values;
}

const SHAPES: Shape[] = [];
for (const n of [300, 3_000, 30_000, 300_000]) {
  for (const d of [2, 4, 8, 16]) SHAPES.push({ name: `${n} × ${d} uniform`, n, d, blobs: 0, q: 1000 });
  for (const d of [8, 16]) SHAPES.push({ name: `${n} × ${d}, 50 blobs`, n, d, blobs: 50, q: 1000 });
}
for (const n of [3_000, 30_000, 100_000]) {
  for (const d of [24, 64, 128]) {
    SHAPES.push({ name: `${n} × ${d} uniform`, n, d, blobs: 0, q: 200 });
    SHAPES.push({ name: `${n} × ${d}, 10 blobs`, n, d, blobs: 10, q: 200 });
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];
/** CPU milliseconds of this process: less disturbed than the clock by other processes on a shared machine. */
const cpuMilliseconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e3;
};

async function measure(kernels: Kernels, shape: Shape, rounds: number): Promise<string> {
  const { n, d, q } = shape;
  const train = data(shape, 1, n);
  const queries = { data: data(shape, 2, q), rows: q, cols: d };
  const network = await KnnNetwork.fit({ data: train, rows: n, cols: d }, new Int32Array(n), { k: K });
  const points = kernels.allocate(n * d * 8);
  const mean = kernels.allocate(d * 8);
  kernels.f64(points.pointer, n * d).set(train);
  (kernels.exports.computeMean as (...args: number[]) => void)(points.pointer, n, d, mean.pointer);
  const partition = buildPartition(kernels, points.pointer, n, d, mean.pointer, planPartition(n, d, 'euclidean')!);
  const packed = packSearchLayers(kernels, partition, points.pointer, mean.pointer, true);
  const tree: number[] = [];
  const brute: number[] = [];
  const runTree = () => searchPartition(kernels, partition, packed.layers, toMatrix(queries, 'X', d), K);
  runTree();
  network.kneighbors(queries, K);
  for (let round = 0; round < rounds; round++) {
    for (const which of round % 2 ? ['tree', 'brute'] : ['brute', 'tree']) {
      const start = cpuMilliseconds();
      if (which === 'tree') runTree();
      else network.kneighbors(queries, K);
      (which === 'tree' ? tree : brute).push(((cpuMilliseconds() - start) * 1e3) / q);
    }
  }
  const work = sampleWork(kernels, partition, packed.layers, K);
  const predicted = predictedRatio(partition, work);
  const auto = choosesTree(kernels, partition, packed.layers, K);
  const measured = median(tree) / median(brute);
  for (const region of [points, mean, ...packed.regions, ...partitionRegions(partition)]) kernels.release(region);
  network.dispose();
  const verdict = auto && measured >= 1 ? ' WRONG: picks the slower tree' : '';
  return `| ${shape.name} | ${partition.plan.kind} | ${median(tree).toFixed(1)} | ${median(brute).toFixed(1)} | ${measured.toFixed(3)} | ` +
    `${work.boxes.toFixed(0)} / ${work.directPoints.toFixed(0)} / ${work.gemmPoints.toFixed(0)} | ${predicted.toFixed(3)} | ${auto ? 'tree' : 'brute'}${verdict} |`;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--rounds');
  const rounds = at >= 0 ? Number(process.argv[at + 1]) : 3;
  const kernels = await loadKernels();
  console.log(`k = ${K}, one thread, ${rounds} rounds alternated, medians of CPU time; µs per query\n`);
  console.log('| shape | partition | pruned | brute | measured pruned ÷ brute time | sample: boxes / direct points / GEMM points per query | predicted | auto |');
  console.log('| --- | --- | ---: | ---: | ---: | --- | ---: | --- |');
  for (const shape of SHAPES) console.log(await measure(kernels, shape, rounds));
}

await main();
