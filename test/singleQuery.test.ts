// One query per call takes a path of its own (src/singleQuery.ts): the same answers, bit for bit,
// and the same errors as the general path, whatever form the query comes in.
import { describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnError, type KnnOptions } from '../src/index.js';
import { CALLS_BY_LENGTH } from '../src/singleQuery.js';
import { loadKernels } from '../src/wasm.js';
import { bits, randomData } from './helpers.js';

const kernels = await loadKernels();
/** Queries the float32 candidates could not prove, so far: over every point, and over a partition's clusters. */
const unproven = (): number => kernels.exports.float32UnprovenQueries() + kernels.exports.clusterSearchFallbackQueries();

/** The error a call throws (its code and message), or undefined. */
function thrown(call: () => unknown): { code: string; message: string } | undefined {
  try {
    call();
  } catch (error) {
    return { code: (error as KnnError).code, message: (error as Error).message };
  }
  return undefined;
}

describe('the one-query path', () => {
  const shapes: { d: number; n: number; options: KnnOptions; grid?: number }[] = [
    { d: 4, n: 105, options: { k: 5 } },
    { d: 1, n: 9, options: { k: 9, weights: 'distance' } },
    { d: 16, n: 1000, options: { k: 3, weights: 'softmax', lambda: 0.5 } },
    { d: 33, n: 4000, options: { k: 7, metric: 'cosine' } },
    { d: 20, n: 300, options: { k: 'all', weights: 'softmax' } },
    { d: 6, n: 50, options: { k: 2, metric: 'manhattan', task: 'regression' } },
    // Past d = 16 the float32 copy chooses candidates, a query alone by its one-query kernel:
    // over every point, and over the clusters the partition scans. Off the grid, where float32
    // proves most queries (on it, ties send them to float64).
    { d: 24, n: 2000, options: { k: 4, algorithm: 'brute' }, grid: 0 },
    { d: 40, n: 3000, options: { k: 5, algorithm: 'tree' }, grid: 0 },
  ];

  it('answers one vector, one row, or a Float32Array bit for bit as the same query among others', async () => {
    for (const { d, n, options, grid = 5 } of shapes) {
      const { X, y } = randomData(d * 7 + n, n, d, { grid });
      const net = await KnnNetwork.fit(X, options.task === 'regression' ? y.map(Number) : y, options);
      const queries = randomData(d + n, 6, d, { grid }).X;
      const unprovenBefore = unproven();
      const batch = net.predict(queries);
      const batchNeighbours = options.k === 'all' ? undefined : net.kneighbors(queries);
      for (let r = 0; r < queries.rows; r++) {
        const vector = Array.from(queries.data.subarray(r * d, (r + 1) * d));
        const flatForms = [{ data: vector, rows: 1, cols: d }, { data: Float64Array.from(vector), rows: 1, cols: d }];
        for (const form of [vector, [vector], Float64Array.from(vector), ...flatForms]) {
          const predicted = net.predict(form as number[]);
          if (predicted instanceof Float64Array) expect(bits(predicted)).toEqual(bits((batch as Float64Array).subarray(r, r + 1)));
          else expect(predicted).toEqual([(batch as unknown[])[r]]);
          if (batchNeighbours) {
            const k = batchNeighbours.indices.length / queries.rows;
            const found = net.kneighbors(form as number[]);
            expect(found.indices).toEqual(batchNeighbours.indices.subarray(r * k, (r + 1) * k));
            expect(bits(found.distances)).toEqual(bits(batchNeighbours.distances.subarray(r * k, (r + 1) * k)));
          }
          if (options.task !== 'regression') expect(bits(net.predictProba(form as number[]))).toEqual(bits(net.predictProba(queries).subarray(r * net.classes.length, (r + 1) * net.classes.length)));
        }
      }
      // Off the grid every query is proven in float32, alone as in a group: a one-query kernel
      // whose values strayed from the group kernel's would send them to float64 (still exact).
      if (grid === 0) expect(unproven() - unprovenBefore, `d = ${d}: queries sent to float64`).toBe(0);
      net.dispose();
    }
  });

  it('throws what the general path throws for a bad query, naming the value, and the network stays usable', async () => {
    const net = await KnnNetwork.fit(randomData(3, 40, 3).X, randomData(3, 40, 3).y, { metric: 'cosine' });
    const cases: [unknown, KnnError['code'], string[]][] = [
      [[0, NaN, 1], 'NON_FINITE', ['X[1]', 'NaN']],
      [[[0, Infinity, 1]], 'NON_FINITE', ['X[0][1]', 'Infinity']],
      [[0, 1e200, 1], 'NON_FINITE', ['X[1]', '1e+200', 'overflow']],
      [[[1, null, 2]], 'BAD_INPUT', ['X[0][1]', 'null']],
      [[0, 'a', 2], 'BAD_INPUT', ['X[1]', '"a"']],
      [new BigInt64Array(3), 'BAD_INPUT', ['X[0]', 'the BigInt 0n']],
      [[0, 0, 0], 'BAD_INPUT', ['zero vector', 'cosine']],
    ];
    for (const [X, code, words] of cases) {
      const error = thrown(() => net.predict(X as number[]));
      expect(error?.code, `query ${String(X)}`).toBe(code);
      for (const word of words) expect(error!.message).toContain(word);
      // The same query as one row of a flat matrix (its own path too) is refused alike, named X.data[j].
      if ((Array.isArray(X) && !Array.isArray(X[0])) || ArrayBuffer.isView(X)) {
        const flat = thrown(() => net.predict({ data: X as number[], rows: 1, cols: 3 }));
        expect(flat?.code).toBe(code);
        for (const word of words) expect(flat!.message).toContain(word.replace(/^X\[(\d)\]$/, 'X.data[$1]'));
      }
    }
    expect(net.predict([1, 2, 3])).toEqual(net.predict([[1, 2, 3]]));
    net.dispose();
  });

  it('has a call written out for every kernel entry, whatever its count of arguments', () => {
    for (const [name, entry] of Object.entries(kernels.exports)) {
      if (typeof entry !== 'function') continue;
      const { length } = (entry as { original?: () => unknown }).original ?? (entry as () => unknown);
      expect(length, name).toBeLessThan(CALLS_BY_LENGTH.length);
    }
  });

  it('reads each value of the query once', async () => {
    const net = await KnnNetwork.fit([[0, 0], [1, 1]], ['a', 'b']);
    const reads = [0, 0];
    const row = new Proxy([0.9, 0.8], {
      get: (target, key) => {
        if (key === '0' || key === '1') reads[Number(key)]++;
        return Reflect.get(target, key);
      },
    });
    expect(net.predict(row)).toEqual(['b']);
    expect(reads).toEqual([1, 1]);
    net.dispose();
  });

  it('follows the weights through add, remove and clear', async () => {
    const net = await KnnNetwork.create({ k: 1 });
    net.add([[0, 0]], ['a']);
    expect(net.predict([1, 1])).toEqual(['a']);
    net.add([[1, 1]], ['b']);
    expect(net.predict([1, 1])).toEqual(['b']);
    net.remove([1]);
    expect(net.predict([1, 1])).toEqual(['a']);
    net.clear();
    expect(thrown(() => net.predict([1, 1]))?.code).toBe('EMPTY');
    net.add([[5, 5, 5]], ['c']);
    expect(net.predict([1, 1, 1])).toEqual(['c']);
    net.dispose();
  });
});
