// A cosine network's one-query candidate values (storedUnitGemmSingle: the raw float32 values'
// dot product, scaled by each point's reciprocal norm) against D = ‖x̂ − X̂_i‖², the unit rows'
// squared distance, on data built to strain the bound (storedUnitSingleErrorBound): rows whose
// scales span 2^±60, float32 subnormals beside ones, near-duplicates of the query (D near 0,
// where the cross term cancels), a centre far from the data, d from 1 to 1 536. A bound too low
// shows as a point with |V − D| > B; the test also reports how close the data come to it. The
// entries (test/unitCandidates.asm.ts) are compiled for this test alone.
import asc from 'assemblyscript/asc';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { normaliseRow } from '../src/metrics.js';
import { SeededRandom } from '../src/random.js';

interface UnitEntries {
  memory: WebAssembly.Memory;
  freeMemory(): number;
  packFloat32Rows(rows: number, count: number, d: number, sums: number, panels: number, firstPoint: number): number;
  packUnitFactors(panels: number, n: number, d: number, firstPoint: number, unitFactors: number): void;
  packFloat32Norms(panels: number, n: number, d: number, mean: number, pointNorms: number, candidateNorms: number, firstPoint: number, largest: number, unitFactors: number): void;
  prepareStoredQueries(centred: number, queries: number, q: number, d: number, mean: number, centre32: number, groups: number, norms: number, scales: number): void;
  queryCentreProduct(group: number, centre32: number, d: number, absolute: number): number;
  storedUnitGemmSingle(group: number, queryNorm: number, queryScale: number, centreProduct: number, panels32: number, unitFactors: number, candidateNorms: number, d: number, firstPanel: number, panels: number, tile: number): void;
  storedUnitSingleErrorBound(queryNorm: number, scale: number, largestPointNorm: number, centreProducts: number, d: number): number;
  unitScalesBounded(unitFactors: number, firstPanel: number, panels: number): number;
}

let wasm: UnitEntries;

beforeAll(async () => {
  let binary: Uint8Array<ArrayBuffer> | undefined;
  const { error, stderr } = await asc.main(
    ['test/unitCandidates.asm.ts', '--baseDir', resolve(dirname(fileURLToPath(import.meta.url)), '..'), '--enable', 'simd', '-O3', '--runtime', 'stub', '--noAssert', '--outFile', 'unitCandidates.wasm'],
    {
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = new Uint8Array(contents);
      },
    },
  );
  if (error) throw new Error(`${error.message}\n${stderr.toString()}`);
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(binary!));
  wasm = instance.exports as unknown as UnitEntries;
}, 60_000);

const align = (at: number) => Math.ceil(at / 16) * 16;

/**
 * For float32 `rows` (n × d, none zero), the centre `mean` (d values: any centre, the bound
 * holds for each) and one unit query: each point's candidate value V, D = ‖x̂ − X̂_i‖² (X̂_i
 * normaliseRow's unit row, summed in float64: within (d + 2)·2^−53 of exact), and the bound B.
 */
function candidateErrors(rows: Float32Array, n: number, d: number, mean: Float64Array, query: Float64Array) {
  const panelCount = Math.ceil(n / 8);
  const base = wasm.freeMemory();
  const layout = { rows: base, sums: 0, panels: 0, factors: 0, pointNorms: 0, candidateNorms: 0, mean: 0, largest: 0, query: 0, centre32: 0, groups: 0, norms: 0, scales: 0, tile: 0, end: 0 };
  layout.sums = align(layout.rows + n * d * 4);
  layout.panels = align(layout.sums + d * 8);
  layout.factors = align(layout.panels + panelCount * d * 32);
  layout.pointNorms = layout.factors + panelCount * 128;
  layout.candidateNorms = layout.pointNorms + panelCount * 64;
  layout.mean = layout.candidateNorms + panelCount * 64;
  layout.largest = align(layout.mean + d * 8);
  layout.query = layout.largest + 16;
  layout.centre32 = align(layout.query + d * 8);
  layout.groups = align(layout.centre32 + d * 4);
  layout.norms = align(layout.groups + d * 16);
  layout.scales = layout.norms + 32;
  layout.tile = layout.scales + 32;
  layout.end = layout.tile + panelCount * 64;
  if (layout.end > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((layout.end - wasm.memory.buffer.byteLength) / 65536));
  const buffer = wasm.memory.buffer;
  new Uint8Array(buffer, base, layout.end - base).fill(0);
  new Float32Array(buffer, layout.rows, n * d).set(rows);
  new Float64Array(buffer, layout.mean, d).set(mean);
  new Float64Array(buffer, layout.query, d).set(query);
  expect(wasm.packFloat32Rows(layout.rows, n, d, layout.sums, layout.panels, 0)).toBe(-1);
  wasm.packUnitFactors(layout.panels, n, d, 0, layout.factors);
  wasm.packFloat32Norms(layout.panels, n, d, layout.mean, layout.pointNorms, layout.candidateNorms, 0, layout.largest, layout.factors);
  wasm.prepareStoredQueries(1, layout.query, 1, d, layout.mean, layout.centre32, layout.groups, layout.norms, layout.scales);
  const [queryNorm] = new Float64Array(buffer, layout.norms, 1);
  const [scale] = new Float64Array(buffer, layout.scales, 1);
  const largestCandidateNorm = new Float64Array(buffer, layout.largest, 2)[1];
  const product = wasm.queryCentreProduct(layout.groups, layout.centre32, d, 0);
  wasm.storedUnitGemmSingle(layout.groups, queryNorm, scale, product, layout.panels, layout.factors, layout.candidateNorms, d, 0, panelCount, layout.tile);
  const bound = wasm.storedUnitSingleErrorBound(queryNorm, scale, largestCandidateNorm, wasm.queryCentreProduct(layout.groups, layout.centre32, d, 1), d);
  const values = new Float64Array(buffer, layout.tile, n).slice();
  const unit = new Float64Array(d);
  const exact = Array.from({ length: n }, (_, i) => {
    normaliseRow(rows, i * d, unit, 0, d);
    let sum = 0;
    for (let j = 0; j < d; j++) sum += (query[j] - unit[j]) ** 2;
    return sum;
  });
  return { values, exact, bound, bounded: wasm.unitScalesBounded(layout.factors, 0, panelCount) === 1 };
}

type Shape = 'gaussian' | 'scales' | 'subnormals' | 'nearQuery' | 'grid';

/** n × d float32 rows of `shape` around the direction `towards` (a unit row): none is zero. */
function rowsOf(random: SeededRandom, shape: Shape, n: number, d: number, towards: Float64Array): Float32Array {
  const rows = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    // Row scales (each row's largest |value|) from 2^−60 to 2^60: the bounded range.
    const scale = shape === 'scales' ? 2 ** (Math.floor(random.uniform() * 120) - 60) * (1 + random.uniform() * 0.5) : 1;
    for (let j = 0; j < d; j++) {
      const noise = random.uniform() * 2 - 1;
      let value: number;
      if (shape === 'nearQuery') value = towards[j] * (1 + 1e-7 * noise) + 1e-8 * noise * (i % 5);
      else if (shape === 'grid') value = Math.round(noise * 2);
      else if (shape === 'subnormals') value = j % 3 === 0 ? towards[j] : j % 3 === 1 ? 1e-40 * noise : 1e-38 * noise;
      else value = noise;
      rows[i * d + j] = value * scale;
    }
    const row = rows.subarray(i * d, (i + 1) * d);
    if (row.every((value) => value === 0)) row[0] = scale;
    if (shape === 'scales') {
      const largest = row.reduce((most, value) => Math.max(most, Math.abs(value)), 0);
      row.set(row.map((value) => (value / largest) * scale));
    }
  }
  return rows;
}

function unitRandom(random: SeededRandom, d: number): Float64Array {
  const raw = Float64Array.from({ length: d }, () => random.uniform() * 2 - 1);
  raw[0] = raw[0] || 1;
  const unit = new Float64Array(d);
  normaliseRow(raw, 0, unit, 0, d);
  return unit;
}

describe("a cosine network's one-query candidate values (storedUnitGemmSingle)", () => {
  it('lie within storedUnitSingleErrorBound of the unit rows\' squared distance, on data built to strain it', () => {
    const random = new SeededRandom(2026);
    let closest = 0;
    for (const d of [1, 2, 3, 7, 16, 33, 128, 384, 1536]) {
      for (const shape of ['gaussian', 'scales', 'subnormals', 'nearQuery', 'grid'] as Shape[]) {
        for (const centre of ['mean', 'far', 'none']) {
          const n = d >= 384 ? 40 : 97;
          const query = unitRandom(random, d);
          const rows = rowsOf(random, shape, n, d, query);
          if (shape === 'nearQuery') rows.set(Float32Array.from(query), 0); // the query's own float32 row
          // The centre: the unit rows' mean (as a fit makes it), a unit vector far from them, or none.
          const mean = new Float64Array(d);
          const unit = new Float64Array(d);
          if (centre === 'far') mean.set(query.map((value) => -value));
          if (centre === 'mean') {
            for (let i = 0; i < n; i++) {
              normaliseRow(rows, i * d, unit, 0, d);
              for (let j = 0; j < d; j++) mean[j] += unit[j] / n;
            }
          }
          const { values, exact, bound, bounded } = candidateErrors(rows, n, d, mean, query);
          expect(bounded, `${shape}, d = ${d}: every scale within 2^±60`).toBe(true);
          expect(Number.isFinite(bound)).toBe(true);
          for (let i = 0; i < n; i++) {
            const error = Math.abs(values[i] - exact[i]);
            const allowance = bound + (d + 2) * 2 ** -52 * exact[i];
            expect(error, `${shape}, d = ${d}, centre ${centre}, point ${i}: |V − D| against B = ${bound}`).toBeLessThanOrEqual(allowance);
            closest = Math.max(closest, error / bound);
          }
        }
      }
    }
    // How close the worst case came to the bound: a bound far looser than this proves few queries.
    console.info(`unitCandidates: the largest |V − D| was ${(100 * closest).toFixed(2)} % of the bound`);
    expect(closest).toBeGreaterThan(0);
  });

  it('are refused where a point\'s scale leaves 2^±60 (unitScalesBounded): those blocks are centred and multiplied as before', () => {
    const random = new SeededRandom(7);
    const d = 5;
    const query = unitRandom(random, d);
    for (const scale of [2 ** 61, 2 ** -61, 1e30, 1e-30]) {
      const rows = rowsOf(random, 'gaussian', 9, d, query);
      for (let j = 0; j < d; j++) rows[8 * d + j] *= scale;
      expect(candidateErrors(rows, 9, d, new Float64Array(d), query).bounded).toBe(false);
    }
  });
});
