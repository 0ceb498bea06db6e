// A network past one wasm memory, at full size: 4 000 000 × 384 float32 values (6.1 GB, wasm32
// addresses 4 GiB) held in shards, each in a memory of its own, answering as brute force on the
// widened values; saved to a file in chunks and loaded from it as a stream. It holds about 19 GB
// at its peak (the data, the network, and the points read back), so it runs alone in the long suite.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { bits, bruteForceNeighbours } from './helpers.js';

const [n, d, k] = [4_000_000, 384, 10];

const seconds = (since: number): string => ((performance.now() - since) / 1000).toFixed(1);

describe('a network past one wasm memory', () => {
  it('4 000 000 × 384 float32 values (6.1 GB) fit in shards, answer as brute force, and save and load in chunks through a file', async () => {
    let data: Float32Array | undefined = new Float32Array(n * d);
    let state = 11;
    for (let i = 0; i < data.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) | 0;
      data[i] = (state >>> 8) / 16777216;
    }
    // Two rows equal across what becomes a shard boundary: the tie goes to the lower index.
    data.copyWithin(2_000_001 * d, 17 * d, 18 * d);
    let started = performance.now();
    let net: KnnNetwork | undefined = await KnnNetwork.fit({ data, rows: n, cols: d }, null);
    const fitSeconds = seconds(started);
    expect(net.storage).toBe('float32');
    expect(net.nSamples).toBe(n);
    expect(net.shards).toBe(4);

    // Queries near rows in the first, middle and last shard, and one on the duplicated row.
    const rows = [17, 1_999_999, 2_000_003, n - 1];
    const queries = new Float64Array(rows.length * d);
    rows.forEach((row, r) => {
      for (let j = 0; j < d; j++) queries[r * d + j] = data![row * d + j] + (row === 17 ? 0 : j % 2 ? 1e-3 : -1e-3);
    });
    const batch = { data: queries, rows: rows.length, cols: d };
    const expected = bruteForceNeighbours(data, n, d, queries, k);
    const ours = net.kneighbors(batch, k);
    expect(Array.from(ours.indices)).toEqual(expected.indices);
    expect(bits(ours.distances)).toEqual(bits(expected.distances));
    expect(Array.from(ours.indices.subarray(0, 2))).toEqual([17, 2_000_001]);
    const asynchronous = await net.kneighborsAsync(batch, k);
    expect(Array.from(asynchronous.indices)).toEqual(expected.indices);
    data = undefined;

    started = performance.now();
    for (let i = 0; i < 5; i++) net.kneighbors(queries.subarray(0, d), k);
    const oneQueryMs = (performance.now() - started) / 5;

    const folder = await mkdtemp(join(tmpdir(), 'knnet-shards-'));
    try {
      const file = join(folder, 'network.knnet');
      started = performance.now();
      await pipeline(Readable.from(net.saveChunks()), createWriteStream(file));
      const saveSeconds = seconds(started);
      const bytes = (await stat(file)).size;
      expect(bytes / (n * d)).toBeLessThan(4.01);
      net.dispose();
      net = undefined;
      started = performance.now();
      const loaded = await KnnNetwork.fromChunks(createReadStream(file));
      const loadSeconds = seconds(started);
      const again = loaded.kneighbors(batch, k);
      expect(Array.from(again.indices)).toEqual(expected.indices);
      expect(bits(again.distances)).toEqual(bits(expected.distances));
      loaded.dispose();
      console.log(
        `4M × 384 float32 in 4 shards: fit ${fitSeconds} s (${((n * d * 4) / 1e6 / Number(fitSeconds)).toFixed(0)} MB/s), ` +
          `one query ${oneQueryMs.toFixed(0)} ms, saved ${bytes} bytes (${(bytes / (n * d)).toFixed(3)} a value) in ${saveSeconds} s, loaded in ${loadSeconds} s`,
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 900_000);
});
