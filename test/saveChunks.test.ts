// Saving and loading in chunks (saveChunks, KnnNetwork.fromChunks): the chunks are toBytes()'s
// bytes, and a stream of them cut anywhere loads the same network, checked as fromBytes checks.
import { describe, expect, it } from 'vitest';
import { KnnError, KnnNetwork } from '../src/index.js';
import { SeededRandom } from '../src/random.js';

const concatenated = (chunks: Iterable<Uint8Array>): Uint8Array => {
  const parts = [...chunks];
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((at, part) => (bytes.set(part, at), at + part.length), 0);
  return bytes;
};

/** `bytes` cut into pieces of random sizes (some empty), as an async stream. */
async function* cut(bytes: Uint8Array, random: SeededRandom): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; ) {
    const size = random.integer(3) === 0 ? 0 : 1 + random.integer(97);
    yield bytes.slice(at, at + size);
    at += size;
  }
}

async function loadError(chunks: AsyncIterable<unknown>): Promise<KnnError> {
  const error = await KnnNetwork.fromChunks(chunks as AsyncIterable<Uint8Array>).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(KnnError);
  expect((error as KnnError).code).toBe('BAD_BYTES');
  return error as KnnError;
}

describe('saveChunks and fromChunks', () => {
  it("write toBytes()'s bytes and load them, cut anywhere, for every task and storage", async () => {
    const random = new SeededRandom(11);
    for (const [task, float32] of [['classification', false], ['regression', true], ['search', true], ['search', false]] as const) {
      const n = 50 + random.integer(50);
      const data = float32 ? new Float32Array(n * 5) : new Float64Array(n * 5);
      data.forEach((_, i) => (data[i] = random.normal()));
      const y = task === 'search' ? null : Array.from({ length: n }, (_, i) => (task === 'regression' ? i / 7 : i % 3));
      const net = await KnnNetwork.fit({ data, rows: n, cols: 5 }, y, { task, k: 3, ids: Array.from({ length: n }, (_, i) => 10 * i) } as never);
      const bytes = net.toBytes();
      expect(concatenated(net.saveChunks())).toEqual(bytes);
      const loaded = await KnnNetwork.fromChunks(cut(bytes, random));
      expect(loaded.toBytes()).toEqual(bytes);
      expect(loaded.storage).toBe(net.storage);
      const queries = { data: data.slice(0, 15), rows: 3, cols: 5 };
      expect(loaded.kneighbors(queries)).toEqual(net.kneighbors(queries));
      net.dispose();
      loaded.dispose();
    }
  });

  it('loads from a sync iterable, and an empty network from create', async () => {
    const empty = await KnnNetwork.create({ k: 2 });
    const loaded = await KnnNetwork.fromChunks([...empty.saveChunks()]);
    expect(loaded.nSamples).toBe(0);
    expect(loaded.toBytes()).toEqual(empty.toBytes());
  });

  it('refuses a stream that is truncated, too long, altered, or not of bytes, with BAD_BYTES', async () => {
    const net = await KnnNetwork.fit([[0, 0], [1, 1], [2, 2]], ['a', 'b', 'a']);
    const bytes = net.toBytes();
    const random = new SeededRandom(2);
    expect((await loadError(cut(bytes.subarray(0, bytes.length - 1), random))).message).toMatch(/length does not match|truncated/);
    expect((await loadError(cut(bytes.subarray(0, 8), random))).message).toMatch(/truncated/);
    expect((await loadError(cut(Uint8Array.of(...bytes, 0), random))).message).toMatch(/length does not match/);
    const altered = bytes.slice();
    altered[altered.length - 10] ^= 1;
    expect((await loadError(cut(altered, random))).message).toMatch(/checksum/);
    expect((await loadError((async function* () { yield 'KNNT'; })())).message).toMatch(/not a Uint8Array/);
    net.dispose();
  });
});
