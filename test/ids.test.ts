// Stable ids: the caller's ids travel with the points through adds and removals, the searches
// report them beside the positions, removeIds removes by them, and toBytes keeps them.
import { describe, expect, it } from 'vitest';
import { KnnNetwork, type KnnError } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { randomData } from './helpers.js';
import { setPoolThreshold } from '../src/chunkRunner.js';

function codeOf(call: () => unknown): string | undefined {
  try {
    call();
  } catch (error) {
    return (error as KnnError).code;
  }
  return undefined;
}

describe('stable ids', () => {
  it("an async search on the pool reports its points' ids as they were when it was called, whatever a remove or an add does before it ends", async () => {
    const previous = setPoolThreshold(0);
    try {
      const { X } = randomData(4, 2000, 8);
      const ids = Array.from({ length: 2000 }, (_, i) => 1000 + i);
      const net = await KnnNetwork.fit(X, null, { ids, threads: 2 });
      const queries = randomData(5, 40, 8).X;
      const before = net.kneighbors(queries, 3);
      const within = net.radiusNeighbors(queries, 1);
      const pending = [net.kneighborsAsync(queries, 3), net.radiusNeighborsAsync(queries, 1)] as const;
      net.remove([0, 1, 2, 3]);
      net.add(randomData(6, 2, 8).X, null, { ids: [1, 2] });
      const [neighbours, radius] = await Promise.all(pending);
      expect(neighbours).toEqual(before);
      expect(radius).toEqual(within);
      net.dispose();
    } finally {
      setPoolThreshold(previous);
    }
  });

  it('kneighbors and radiusNeighbors report the ids of the positions they list; removals do not renumber them', async () => {
    const { X } = randomData(1, 200, 6);
    const ids = Array.from({ length: 200 }, (_, i) => 1_000_000 + 7 * i);
    const net = await KnnNetwork.fit(X, null, { k: 4, ids });
    const reference = await ReferenceNetwork.fit(X, null, { k: 4, ids });
    const queries = randomData(2, 9, 6).X;
    const found = net.kneighbors(queries);
    expect(Array.from(found.ids!)).toEqual(Array.from(found.indices, (i) => ids[i]));
    expect(found).toEqual(reference.kneighbors(queries));
    expect(net.radiusNeighbors(queries, 1)).toEqual(reference.radiusNeighbors(queries, 1));
    expect(await net.kneighborsAsync(queries)).toEqual(found);
    // Remove the first neighbour of query 0 by its id: the others keep their ids.
    const gone = found.ids![0];
    net.removeIds([gone]);
    reference.removeIds([gone]);
    const after = net.kneighbors(queries);
    expect(Array.from(after.ids!)).not.toContain(gone);
    expect(Array.from(after.ids!.subarray(0, 3))).toEqual(Array.from(found.ids!.subarray(1, 4)));
    expect(after).toEqual(reference.kneighbors(queries));
    expect(net.ids!.length).toBe(199);
    // Added points bring ids of their own.
    const more = randomData(3, 5, 6).X;
    net.add(more, null, { ids: [1, 2, 3, 4, 5] });
    reference.add(more, null, { ids: [1, 2, 3, 4, 5] });
    expect(net.kneighbors(more).ids!.filter((_, j) => j % 4 === 0)).toEqual(new Float64Array([1, 2, 3, 4, 5]));
    expect(net.kneighbors(queries)).toEqual(reference.kneighbors(queries));
    // Saved and loaded with them.
    const loaded = await KnnNetwork.fromBytes(net.toBytes());
    expect(loaded.kneighbors(queries)).toEqual(net.kneighbors(queries));
    expect(loaded.ids).toEqual(net.ids);
    expect((await ReferenceNetwork.fromBytes(net.toBytes())).kneighbors(queries)).toEqual(net.kneighbors(queries));
    net.dispose();
    loaded.dispose();
  });

  it('refuses ids that are not whole numbers from 0 to 2^53 − 1, repeated, or missing where the network has them; nothing changes', async () => {
    const X = [[0], [1], [2]];
    await expect(KnnNetwork.fit(X, ['a', 'b', 'c'], { ids: [1, 2, 2] })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('unique') });
    await expect(KnnNetwork.fit(X, ['a', 'b', 'c'], { ids: [1, 2.5, 3] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(KnnNetwork.fit(X, ['a', 'b', 'c'], { ids: [1, 2] })).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
    await expect(KnnNetwork.fit(X, ['a', 'b', 'c'], { ids: [1, 2, 2 ** 53] })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(KnnNetwork.create({ ids: [1] } as never)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    const net = await KnnNetwork.fit(X, ['a', 'b', 'c'], { ids: [10, 20, 30] });
    expect(codeOf(() => net.add([[5]], ['d']))).toBe('BAD_INPUT');
    expect(codeOf(() => net.add([[5]], ['d'], { ids: [20] }))).toBe('BAD_INPUT');
    expect(codeOf(() => net.removeIds([40]))).toBe('BAD_INPUT');
    expect(codeOf(() => net.removeIds([10, 10]))).toBe('BAD_INPUT');
    expect([net.nSamples, Array.from(net.ids!)]).toEqual([3, [10, 20, 30]]);
    const plain = await KnnNetwork.fit(X, ['a', 'b', 'c']);
    expect(plain.ids).toBeUndefined();
    expect(plain.kneighbors([[0]]).ids).toBeUndefined();
    expect(codeOf(() => plain.add([[5]], ['d'], { ids: [1] }))).toBe('BAD_INPUT');
    expect(codeOf(() => plain.removeIds([0]))).toBe('BAD_INPUT');
    net.dispose();
    plain.dispose();
  });

  it('a created network takes ids from its first add; removeClass and clear carry them along', async () => {
    const net = await KnnNetwork.create({ k: 2 });
    net.add([[0, 0], [1, 1], [5, 5]], ['x', 'y', 'x'], { ids: [7, 8, 9] });
    expect(Array.from(net.kneighbors([[5, 5]]).ids!)).toEqual([9, 8]);
    net.removeClass('x');
    expect(Array.from(net.ids!)).toEqual([8]);
    expect(Array.from(net.kneighbors([[5, 5]]).ids!)).toEqual([8, -1]);
    net.clear();
    net.add([[0, 0]], ['z']);
    expect(net.ids).toBeUndefined();
    net.dispose();
  });
});
