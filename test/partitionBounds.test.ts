// The cluster partition's bounds against every member's directly computed distance, on data
// built to make them tight: clusters whose members lie on a hyperplane across the line between
// the centres (so the slab bound is the exact distance for the member on that line), queries on
// that line, at offsets up to 1e8, and members at the ball's surface. A bound that rounds the
// wrong way by one ulp shows here. The entries (test/partition.asm.ts) are compiled for this
// test alone.
import asc from 'assemblyscript/asc';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/random.js';

interface BoundEntries {
  memory: WebAssembly.Memory;
  freeMemory(): number;
  computeMean(points: number, n: number, d: number, mean: number): void;
  clusterDataBytes(clusters: number, d: number): number;
  clusterPartitionScratchBytes(n: number, d: number, clusters: number): number;
  buildClusterPartition(points: number, n: number, d: number, mean: number, clusters: number, order: number, data: number, scratch: number): void;
  queryClusterBounds(query: number, mean: number, d: number, clusters: number, data: number, scratch: number, lower: number, upper: number): number;
}

let wasm: BoundEntries;

beforeAll(async () => {
  let binary: Uint8Array<ArrayBuffer> | undefined;
  const { error, stderr } = await asc.main(
    ['test/partition.asm.ts', '--baseDir', resolve(dirname(fileURLToPath(import.meta.url)), '..'), '--enable', 'simd', '-O3', '--runtime', 'stub', '--noAssert', '--outFile', 'partition.wasm'],
    {
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = new Uint8Array(contents);
      },
    },
  );
  if (error) throw new Error(`${error.message}\n${stderr.toString()}`);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(binary!));
  wasm = instance.exports as unknown as BoundEntries;
}, 60_000);

/** The direct squared distance as every reported one is computed: Σ_j (q_j − x_j)², in dimension order. */
function direct(query: Float64Array, points: Float64Array, row: number, d: number): number {
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const difference = query[j] - points[row * d + j];
    sum += difference * difference;
  }
  return sum;
}

/** Builds the cluster partition of `points` (n × d) in the test's memory; returns a function bounding one query. */
function partition(points: Float64Array, n: number, d: number, clusters: number) {
  const base = wasm.freeMemory();
  const dataBytes = wasm.clusterDataBytes(clusters, d);
  const scratchBytes = wasm.clusterPartitionScratchBytes(n, d, clusters);
  const layout = { points: base, mean: base + n * d * 8, order: 0, data: 0, scratch: 0, query: 0, lower: 0, upper: 0 };
  layout.order = Math.ceil((layout.mean + d * 8) / 16) * 16;
  layout.data = Math.ceil((layout.order + n * 4) / 16) * 16;
  layout.scratch = Math.ceil((layout.data + dataBytes) / 16) * 16;
  layout.query = Math.ceil((layout.scratch + Math.max(scratchBytes, 64 + (d + 3 * clusters + 2) * 8)) / 16) * 16;
  layout.lower = layout.query + d * 8;
  layout.upper = layout.lower + clusters * 8;
  const needed = layout.upper + clusters * 8;
  if (needed > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((needed - wasm.memory.buffer.byteLength) / 65536));
  new Float64Array(wasm.memory.buffer, layout.points, n * d).set(points);
  wasm.computeMean(layout.points, n, d, layout.mean);
  wasm.buildClusterPartition(layout.points, n, d, layout.mean, clusters, layout.order, layout.data, layout.scratch);
  const permuted = new Float64Array(wasm.memory.buffer, layout.points, n * d).slice();
  const starts = Array.from(new Int32Array(wasm.memory.buffer, layout.data, clusters + 1));
  return (query: Float64Array) => {
    new Float64Array(wasm.memory.buffer, layout.query, d).set(query);
    wasm.queryClusterBounds(layout.query, layout.mean, d, clusters, layout.data, layout.scratch, layout.lower, layout.upper);
    const lower = Array.from(new Float64Array(wasm.memory.buffer, layout.lower, clusters));
    const upper = Array.from(new Float64Array(wasm.memory.buffer, layout.upper, clusters));
    // Each cluster's nearest and farthest member, by the direct distance.
    const nearest = starts.slice(0, clusters).map((first, c) => {
      let smallest = Infinity;
      for (let p = first; p < starts[c + 1]; p++) smallest = Math.min(smallest, direct(query, permuted, p, d));
      return smallest;
    });
    const farthest = starts.slice(0, clusters).map((first, c) => {
      let largest = -Infinity;
      for (let p = first; p < starts[c + 1]; p++) largest = Math.max(largest, direct(query, permuted, p, d));
      return largest;
    });
    return { lower, upper, nearest, farthest };
  };
}

/**
 * Two clusters: around base and base + (gap, 0, …), each member at ±spread from its centre in
 * one other coordinate, so both means lie on the line through the centres and the members of the
 * far cluster on the hyperplane across it (its slab's low end, reached by its member on the line).
 * The coordinates are no round numbers, so every subtraction and sum rounds.
 */
function hyperplanes(d: number, base: Float64Array, gap: number, spread: number): { points: Float64Array; n: number } {
  const rows: number[][] = [];
  for (const side of [0, gap]) {
    for (let j = 1; j < d; j++) {
      for (const sign of [-1, 1]) {
        const row = Array.from(base);
        row[0] += side;
        row[j] += sign * spread;
        rows.push(row);
      }
    }
    const axis = Array.from(base);
    axis[0] += side;
    rows.push(axis);
  }
  return { points: Float64Array.from(rows.flat()), n: rows.length };
}

describe('cluster bounds against every member\'s direct distance', () => {
  for (const d of [17, 24, 64]) {
    for (const offset of [0, 1e8, -3.5e6]) {
      it(`a query on the line between the centres never sees a bound above a member's distance (d = ${d}, offset ${offset})`, () => {
        const random = new SeededRandom(d * 7 + 3);
        let tightest = 0;
        for (let layout = 0; layout < 4; layout++) {
          const base = Float64Array.from({ length: d }, () => offset + random.normal() * 3);
          const gap = 7 + random.uniform() * 6;
          const { points, n } = hyperplanes(d, base, gap, 0.5 + random.uniform() * 3);
          const bounds = partition(points, n, d, 2);
          for (let step = 0; step < 60; step++) {
            const query = Float64Array.from(base);
            query[0] += -gap * 2 + random.uniform() * gap * 1.9;
            const { lower, upper, nearest, farthest } = bounds(query);
            for (let c = 0; c < 2; c++) {
              expect(lower[c], `layout ${layout}, step ${step}, cluster ${c}`).toBeLessThanOrEqual(nearest[c]);
              expect(upper[c], `layout ${layout}, step ${step}, cluster ${c}`).toBeGreaterThanOrEqual(farthest[c]);
              if (nearest[c] > 0) tightest = Math.max(tightest, lower[c] / nearest[c]);
            }
          }
        }
        // The slab bound is the distance itself for the member on the line, less the margins:
        // the test is only as strong as the bounds are tight.
        expect(tightest).toBeGreaterThan(offset === 0 ? 0.999999 : 0.99);
      });
    }
  }

  it('random blobs and queries, near and far, never see a bound above a member\'s distance or an upper bound below one', () => {
    const random = new SeededRandom(71);
    for (const [n, d, clusters] of [[400, 17, 4], [900, 33, 9], [600, 64, 16]]) {
      const centres = Float64Array.from({ length: 6 * d }, () => 8 * random.normal());
      const points = Float64Array.from({ length: n * d }, (_, i) => centres[(Math.floor(i / d) % 6) * d + (i % d)] + random.normal());
      const bounds = partition(points, n, d, clusters);
      for (let r = 0; r < 40; r++) {
        const query = Float64Array.from({ length: d }, (_, j) => centres[(r % 6) * d + j] * (r % 3 === 0 ? 1 : 2.5) + random.normal());
        const { lower, upper, nearest, farthest } = bounds(query);
        for (let c = 0; c < clusters; c++) {
          if (!Number.isFinite(nearest[c])) continue;
          expect(lower[c]).toBeLessThanOrEqual(nearest[c]);
          expect(upper[c]).toBeGreaterThanOrEqual(farthest[c]);
        }
      }
    }
  });
});
