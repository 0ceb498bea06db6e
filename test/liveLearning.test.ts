// Live learning: remove() and removeClass() leave exactly a fresh fit on the remaining points
// (later indices move down), classCounts() counts the points per class, and float32 input gives
// the same network as its float64 widening.
import { describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnOptions, type Label } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { toMatrix } from '../src/matrix.js';
import { SeededRandom } from '../src/random.js';
import { randomData } from './helpers.js';

/** Everything a network answers, with exact bits for floats. */
function answers(net: KnnNetwork | ReferenceNetwork, queries: { data: Float64Array; rows: number; cols: number }): unknown {
  const regression = net.options.task === 'regression';
  const k = Math.min(net.nSamples, 4);
  const { indices, distances } = net.kneighbors(queries, k);
  return {
    n: net.nSamples,
    classes: [...net.classes],
    predict: regression ? Array.from(net.predict(queries) as Float64Array) : net.predict(queries),
    proba: regression ? [] : Array.from(net.predictProba(queries)),
    indices: Array.from(indices),
    distances: Array.from(distances),
    bytes: Array.from(net.toBytes()),
  };
}

function rowsOf(data: Float64Array, d: number, keep: (i: number) => boolean): { data: Float64Array; rows: number; cols: number } {
  const kept: number[] = [];
  for (let i = 0; i < data.length / d; i++) if (keep(i)) kept.push(i);
  const out = new Float64Array(kept.length * d);
  kept.forEach((i, r) => out.set(data.subarray(i * d, (i + 1) * d), r * d));
  return { data: out, rows: kept.length, cols: d };
}

const SHAPES: [number, number, KnnOptions][] = [
  [60, 3, { k: 3, weights: 'distance' }],
  [300, 24, { k: 5 }],
  [200, 17, { k: 'all', weights: 'softmax', lambda: 2 }],
  [150, 8, { k: 4, task: 'regression' }],
];

describe('remove and removeClass', () => {
  it('remove(indices) equals a fresh fit on the remaining points, on every path, and the reference agrees', async () => {
    const random = new SeededRandom(7);
    for (const [n, d, options] of SHAPES) {
      const { X, y } = randomData(n + d, n, d, { classes: 4, grid: 5 });
      const labels: Label[] = options.task === 'regression' ? y.map((label, i) => Number(label) * 0.5 + i / n) : y;
      const queries = randomData(99, 13, d, { grid: 5 }).X;
      const removed = Array.from({ length: Math.floor(n / 4) }, () => Math.floor(random.uniform() * n)).filter((v, i, all) => all.indexOf(v) === i);
      const net = await KnnNetwork.fit(X, labels, options);
      const reference = await ReferenceNetwork.fit(X, labels, options);
      net.remove(removed);
      reference.remove(removed);
      const rest = rowsOf(X.data, d, (i) => !removed.includes(i));
      const restLabels = labels.filter((_, i) => !removed.includes(i));
      const fresh = await KnnNetwork.fit(rest, restLabels, options);
      expect(answers(net, queries)).toEqual(answers(fresh, queries));
      // The reference is bit-identical to the wasm network except for the softmax over all
      // points (summation order); there it must equal a fresh reference fit.
      const freshReference = await ReferenceNetwork.fit(rest, restLabels, options);
      expect(answers(reference, queries)).toEqual(answers(options.k === 'all' ? freshReference : fresh, queries));
      const loaded = await KnnNetwork.fromBytes(net.toBytes());
      expect(answers(loaded, queries)).toEqual(answers(fresh, queries));
      for (const network of [net, fresh, loaded]) network.dispose();
    }
  });

  it('later indices move down to fill the gaps', async () => {
    const net = await KnnNetwork.fit([[0], [10], [20], [30]], ['a', 'b', 'c', 'd']);
    net.remove([1]);
    expect(Array.from(net.kneighbors([[30]], 1).indices)).toEqual([2]);
    expect(net.predict([[30], [0], [11]])).toEqual(['d', 'a', 'c']);
    net.dispose();
  });

  it('removeClass drops the class and its points, like TensorFlow.js clearClass; classCounts follows every change', async () => {
    const net = await KnnNetwork.fit([[0], [1], [2], [3], [4]], ['x', 'y', 'x', 'z', 'y'], { k: 1 });
    expect(net.classCounts()).toEqual(new Map([['x', 2], ['y', 2], ['z', 1]]));
    net.removeClass('y');
    expect(net.classes).toEqual(['x', 'z']);
    expect(net.nSamples).toBe(3);
    expect(net.classCounts()).toEqual(new Map([['x', 2], ['z', 1]]));
    expect(net.predict([[1.2]])).toEqual(['x']);
    net.add([[9]], ['w']);
    expect(net.classCounts()).toEqual(new Map([['w', 1], ['x', 2], ['z', 1]]));
    net.remove([0]);
    expect(net.classCounts()).toEqual(new Map([['w', 1], ['x', 1], ['z', 1]]));
    const numeric = await KnnNetwork.fit([[0], [1], [2]], [3, 1, 3]);
    expect(numeric.classCounts()).toEqual(new Map([[1, 1], [3, 2]]));
    net.dispose();
    numeric.dispose();
  });
});

describe('float32 input', () => {
  it('{ data: Float32Array } and Float32Array rows give the network of their float64 widening, bit for bit', async () => {
    for (const [n, d, options] of SHAPES) {
      const { X, y } = randomData(n * d, n, d, { classes: 3 });
      const labels: Label[] = options.task === 'regression' ? y.map((label) => Number(label)) : y;
      const narrow = Float32Array.from(X.data);
      const widened = { data: Float64Array.from(narrow), rows: n, cols: d };
      const queries32 = Float32Array.from(randomData(5, 9, d).X.data);
      const queries = { data: Float64Array.from(queries32), rows: 9, cols: d };
      const expected = await KnnNetwork.fit(widened, labels, options);
      const flat = await KnnNetwork.fit({ data: narrow, rows: n, cols: d }, labels, options);
      const rows = await KnnNetwork.fit(Array.from({ length: n }, (_, i) => narrow.subarray(i * d, (i + 1) * d)), labels, options);
      for (const net of [flat, rows]) {
        // Float32 storage saves its float32 values (format 4), float64 storage its float64 ones:
        // every answer is the same, and what each saves loads back to the network it saved.
        const { bytes, ...answered } = answers(net, queries) as { bytes: number[] };
        const { bytes: _, ...expectedAnswers } = answers(expected, queries) as { bytes: number[] };
        expect(answered).toEqual(expectedAnswers);
        const loaded = await KnnNetwork.fromBytes(Uint8Array.from(bytes));
        expect(answers(loaded, queries)).toEqual(answers(net, queries));
        loaded.dispose();
        const k = Math.min(n, 3);
        expect(net.kneighbors({ data: queries32, rows: 9, cols: d }, k)).toEqual(expected.kneighbors(queries, k));
        net.dispose();
      }
      expected.dispose();
    }
  });

  it('float32 input is held as float32 until it is widened into wasm memory', () => {
    expect(toMatrix({ data: new Float32Array(6), rows: 2, cols: 3 }, 'X').data).toBeInstanceOf(Float32Array);
    expect(toMatrix([new Float32Array(3), new Float32Array(3)], 'X').data).toBeInstanceOf(Float32Array);
    expect(toMatrix([new Float32Array(3), [1, 2, 3]], 'X').data).toBeInstanceOf(Float64Array);
  });
});
