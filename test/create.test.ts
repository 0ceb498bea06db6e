// The habits of TensorFlow.js knn-classifier users and of search users: an empty network from
// `create` to add to (k a cap), `clear`, `predictClass`, one query as a single vector, and
// networks without labels (`fit(X)`); each checked against the calls it wraps and the reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnError, type Label } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { maxAbsoluteDifference, randomData } from './helpers.js';

const rowsOf = (data: Float64Array, rows: number, cols: number): number[][] =>
  Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)));

function expectCode(call: () => unknown, code: KnnError['code'], ...words: string[]): void {
  try {
    call();
  } catch (error) {
    expect((error as KnnError).code).toBe(code);
    for (const word of words) expect((error as Error).message).toContain(word);
    return;
  }
  throw new Error(`expected KnnError ${code}`);
}

describe('KnnNetwork.create: an empty network to add to', () => {
  it('starts empty: no points, features or classes; a query is EMPTY; it saves and loads empty', async () => {
    const net = await KnnNetwork.create({ k: 3 });
    expect([net.nSamples, net.nFeatures, net.classes]).toEqual([0, 0, []]);
    expectCode(() => net.predict([[1, 2]]), 'EMPTY', 'predict(X)', 'no training points', 'add(X, y)');
    expectCode(() => net.kneighbors([[1, 2]]), 'EMPTY');
    expectCode(() => net.radiusNeighbors([[1, 2]], 1), 'EMPTY');
    await expect(net.predictAsync([[1, 2]])).rejects.toMatchObject({ code: 'EMPTY' });
    expect(net.classCounts()).toEqual(new Map());
    const loaded = await KnnNetwork.fromBytes(net.toBytes());
    expect([loaded.nSamples, loaded.nFeatures, loaded.classes, loaded.options]).toEqual([0, 0, [], net.options]);
    expect(loaded.toBytes()).toEqual(net.toBytes());
    loaded.add([[0, 0]], ['a']);
    expect(loaded.predict([[5, 5]])).toEqual(['a']);
    net.dispose();
    loaded.dispose();
  });

  it('k is a cap: with fewer points every one votes, and neighbour rows end with −1 at Infinity', async () => {
    const net = await KnnNetwork.create<string>({ k: 5, weights: 'distance' });
    const reference = ReferenceNetwork.create({ k: 5, weights: 'distance' });
    const X = [[0, 0], [1, 0], [0, 3]];
    const y = ['a', 'b', 'b'];
    net.add(X, y);
    reference.add(X, y);
    const queries = [[0.1, 0.2], [2, 2]];
    expect(net.predictProba(queries)).toEqual(reference.predictProba(queries));
    expect(net.predict(queries)).toEqual(reference.predict(queries));
    const neighbours = net.kneighbors(queries);
    expect(Array.from(neighbours.indices)).toEqual([0, 1, 2, -1, -1, 1, 2, 0, -1, -1]);
    expect(Array.from(neighbours.distances.subarray(3, 5))).toEqual([Infinity, Infinity]);
    expect(neighbours).toEqual(reference.kneighbors(queries));
    expect(await net.kneighborsAsync(queries)).toEqual(neighbours);
    // Once it holds k points or more, it answers as a network fitted on them.
    const more = randomData(5, 20, 2).X;
    const labels = Array.from({ length: 20 }, (_, i) => (i % 3 ? 'a' : 'b'));
    net.add(more, labels);
    const fitted = await KnnNetwork.fit([...X, ...rowsOf(more.data, 20, 2)], [...y, ...labels], { k: 5, weights: 'distance' });
    expect(net.predictProba(queries)).toEqual(fitted.predictProba(queries));
    expect(net.kneighbors(queries, 7)).toEqual(fitted.kneighbors(queries, 7));
    net.dispose();
    fitted.dispose();
  });

  it('a fitted network keeps scikit-learn’s rule: k > n is an error at fit and in kneighbors, and remove keeps k points', async () => {
    await expect(KnnNetwork.fit([[0], [1]], ['a', 'b'], { k: 3 })).rejects.toMatchObject({ code: 'K_OUT_OF_RANGE' });
    const net = await KnnNetwork.fit([[0], [1], [2]], ['a', 'b', 'b'], { k: 2 });
    expectCode(() => net.kneighbors([[0]], 4), 'K_OUT_OF_RANGE');
    expectCode(() => net.remove([0, 1]), 'K_OUT_OF_RANGE');
    expectCode(() => net.removeClass('b'), 'K_OUT_OF_RANGE');
    net.dispose();
  });

  it('removeClass may empty a created network, and clear() empties any network; the next add starts afresh', async () => {
    const net = await KnnNetwork.create({ k: 2 });
    net.add([[0, 0], [1, 1]], ['cat', 'dog']);
    net.removeClass('cat');
    expect([net.nSamples, net.classes]).toEqual([1, ['dog']]);
    net.removeClass('dog');
    expect([net.nSamples, net.nFeatures, net.classes]).toEqual([0, 0, []]);
    expectCode(() => net.predict([[0, 0]]), 'EMPTY');
    // A new start: another width and another label type.
    net.add([[1, 2, 3]], [7]);
    expect(net.predict([1, 2, 3])).toEqual([7]);
    const fitted = await KnnNetwork.fit([[0], [1], [2]], ['a', 'b', 'b'], { k: 3 });
    fitted.clear();
    expect(fitted.nSamples).toBe(0);
    fitted.add([[0]], ['z']); // k is now a cap: one point is enough
    expect(fitted.predict([[4]])).toEqual(['z']);
    const reloaded = await KnnNetwork.fromBytes(fitted.toBytes());
    expect(reloaded.kneighbors([[0]]).indices).toEqual(new Int32Array([0, -1, -1]));
    for (const network of [net, fitted, reloaded]) network.dispose();
  });

  it('single adds from empty answer bit for bit as the reference, on random shapes and every weighting', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 100_000 }),
          n: fc.integer({ min: 1, max: 40 }),
          d: fc.constantFrom(1, 3, 17),
          k: fc.integer({ min: 1, max: 8 }),
          weights: fc.constantFrom('uniform' as const, 'distance' as const, 'softmax' as const),
          task: fc.constantFrom('classification' as const, 'regression' as const),
        }),
        async ({ seed, n, d, k, weights, task }) => {
          const { X, y } = randomData(seed, n, d, { grid: 3 });
          const labels: Label[] = task === 'regression' ? y.map((label) => Number(label) * 1.5) : y;
          const net = await KnnNetwork.create({ k, weights, task });
          const reference = ReferenceNetwork.create({ k, weights, task });
          const queries = randomData(seed + 1, 4, d, { grid: 3 }).X;
          for (let i = 0; i < n; i++) {
            const row = [Array.from(X.data.subarray(i * d, (i + 1) * d))];
            net.add(row, [labels[i]] as never);
            reference.add(row, [labels[i]] as never);
          }
          // Bit for bit a fresh fit of the same points, in every weighting.
          const fitted = await KnnNetwork.fit(X, labels as never, { k: Math.min(k, n), weights, task });
          expect(net.predict(queries)).toEqual(fitted.predict(queries));
          // (Fewer points than the cap k: the created network's rows are padded, the fit's are not.)
          if (n >= k) expect(net.kneighbors(queries)).toEqual(fitted.kneighbors(queries));
          if (task === 'classification') expect(net.predictProba(queries)).toEqual(fitted.predictProba(queries));
          fitted.dispose();
          // And the reference's: the selection and the uniform and 1/distance votes bit for bit;
          // the softmax's exponentials are summed in another order there (docs/exactness.md),
          // so its probabilities and estimates agree to 1e-12.
          expect(net.kneighbors(queries)).toEqual(reference.kneighbors(queries));
          if (weights !== 'softmax') {
            expect(net.predict(queries)).toEqual(reference.predict(queries));
            if (task === 'classification') expect(net.predictProba(queries)).toEqual(reference.predictProba(queries));
          } else if (task === 'classification') {
            expect(maxAbsoluteDifference(net.predictProba(queries), reference.predictProba(queries))).toBeLessThan(1e-12);
          } else {
            expect(maxAbsoluteDifference(net.predict(queries) as Float64Array, reference.predict(queries) as Float64Array)).toBeLessThan(1e-12 * 40);
          }
          net.dispose();
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('predictClass and single vectors, as knn-classifier users write them', () => {
  it('predictClass gives the label, its index and the confidences by label, as predictProba does', async () => {
    const { X, y } = randomData(8, 60, 4, { classes: 3 });
    const named = y.map((label) => ['red', 'green', 'blue'][label as number]);
    const net = await KnnNetwork.fit(X, named, { k: 5 });
    const query = Array.from(randomData(9, 1, 4).X.data);
    const probabilities = net.predictProba([query]);
    const result = net.predictClass(query);
    expect(result.label).toBe(net.predict(query)[0]);
    expect(result.classIndex).toBe(net.classes.indexOf(result.label));
    expect(result.confidences).toEqual(Object.fromEntries(net.classes.map((label, c) => [label, probabilities[c]])));
    // k overrides the network's k for the call, as a network fitted with that k answers.
    const k9 = await KnnNetwork.fit(X, named, { k: 9 });
    expect(net.predictClass(query, 9).confidences).toEqual(Object.fromEntries(k9.classes.map((label, c) => [label, k9.predictProba([query])[c]])));
    expect(net.predictClass(query, 500)).toEqual(net.predictClass(query, 60));
    const reference = await ReferenceNetwork.fit(X, named, { k: 5 });
    expect(result).toEqual(reference.predictClass(query));
    expectCode(() => net.predictClass([query, query]), 'SHAPE_MISMATCH', 'one query');
    net.dispose();
    k9.dispose();
  });

  it('a single vector (number[] or Float32Array of length d) is one query; any other length is SHAPE_MISMATCH showing the 2-D form', async () => {
    const { X, y } = randomData(10, 50, 3);
    const net = await KnnNetwork.fit(X, y, { k: 3 });
    const vector = [0.25, -0.5, 0.125];
    expect(net.predict(vector)).toEqual(net.predict([vector]));
    expect(net.predict(Float32Array.from(vector))).toEqual(net.predict([vector]));
    expect(net.kneighbors(vector)).toEqual(net.kneighbors([vector]));
    expect(net.predictProba(new Float64Array(vector))).toEqual(net.predictProba([vector]));
    expect(net.radiusNeighbors(vector, 1)).toEqual(net.radiusNeighbors([vector], 1));
    expect(await net.predictAsync(vector)).toEqual(net.predict([vector]));
    expectCode(() => net.predict([1, 2]), 'SHAPE_MISMATCH', 'single vector of 2 values', '3 features', '[[x0, x1, …]');
    net.dispose();
  });
});

describe('networks without labels (task search)', () => {
  it('fit(X) and fit(X, null, options) search as a labelled network does; the label calls are NO_LABELS', async () => {
    const { X, y } = randomData(11, 300, 20);
    const search = await KnnNetwork.fit(X);
    const searchK = await KnnNetwork.fit(X, null, { k: 4, metric: 'cosine' });
    const labelled = await KnnNetwork.fit(X, y, { k: 4, metric: 'cosine' });
    expect(search.options.task).toBe('search');
    const queries = randomData(12, 7, 20).X;
    expect(searchK.kneighbors(queries)).toEqual(labelled.kneighbors(queries));
    expect(searchK.radiusNeighbors(queries, 0.5)).toEqual(labelled.radiusNeighbors(queries, 0.5));
    expect(await searchK.kneighborsAsync(queries)).toEqual(labelled.kneighbors(queries));
    expect(search.classes).toEqual([]);
    // @ts-expect-error: a network without labels has no predict
    expectCode(() => search.predict(queries), 'NO_LABELS', 'predict(X)', "task 'search'", 'kneighbors');
    // @ts-expect-error: nor predictProba
    expectCode(() => search.predictProba(queries), 'NO_LABELS');
    // @ts-expect-error: nor score
    expectCode(() => search.score(queries, []), 'NO_LABELS');
    expectCode(() => search.classCounts(), 'NO_LABELS');
    await expect(search.predictAsync(queries as never)).rejects.toMatchObject({ code: 'NO_LABELS' });
    expect(search.weights.W3.length).toBe(0);
    for (const network of [search, searchK, labelled]) network.dispose();
  });

  it('add(X), remove, toBytes and fromBytes keep it a search network, bit for bit a fresh fit', async () => {
    const { X } = randomData(13, 100, 5);
    const more = randomData(14, 30, 5).X;
    const net = await KnnNetwork.fit(X, null, { k: 3 });
    net.add(more);
    expectCode(() => net.add(more, [1] as never), 'BAD_INPUT', "task 'search'", 'add(X)');
    net.remove([0, 5, 129]);
    const kept = [...rowsOf(X.data, 100, 5), ...rowsOf(more.data, 30, 5)].filter((_, i) => i !== 0 && i !== 5 && i !== 129);
    const fresh = await KnnNetwork.fit(kept, null, { k: 3 });
    const queries = randomData(15, 9, 5).X;
    expect(net.kneighbors(queries)).toEqual(fresh.kneighbors(queries));
    expect(net.toBytes()).toEqual(fresh.toBytes());
    const loaded = await KnnNetwork.fromBytes(net.toBytes());
    expect(loaded.options.task).toBe('search');
    expect(loaded.kneighbors(queries)).toEqual(fresh.kneighbors(queries));
    const reference = await ReferenceNetwork.fromBytes(net.toBytes());
    expect(reference.kneighbors(queries)).toEqual(fresh.kneighbors(queries));
    const created = await KnnNetwork.create({ task: 'search', k: 3 });
    created.add(kept);
    expect(created.kneighbors(queries)).toEqual(fresh.kneighbors(queries));
    for (const network of [net, fresh, loaded, created]) network.dispose();
  });
});
