// A cosine network's one-query candidate values (storedUnitGemmSingle: the raw float32 values'
// dot product, scaled by each point's reciprocal norm) against D = ‖x̂ − X̂_i‖², the unit rows'
// squared distance computed exactly (BigInt), on data built to strain the bound
// (storedUnitSingleErrorBound): rows whose scales reach 2^±60 exactly, float32 subnormals beside
// ones, near-duplicates of the query (D near 0, where the cross term cancels), centres far from
// the data or huge, sums built to round one way at d = 4 096–8 192, queries spanning 40 binades,
// on both builds (the fused multiply-add too, where the engine has relaxed SIMD). Each part of
// the proof is checked against its own term: |V − F| (steps 4–5, the kernel's), |F − E| (step 3)
// and |E − D| (steps 1–2), with E = ‖p̂ − c_i‖² and F = ‖p̂‖² + ‖c_i‖² − 2p̂·γ_i exact. A bound
// too low by a hair shows here. The entries (test/unitCandidates.asm.ts) are compiled for this
// test alone.
import asc from 'assemblyscript/asc';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import { normaliseRow } from '../src/metrics.js';
import { SeededRandom } from '../src/random.js';
import { bits } from './helpers.js';

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
  unitSingleBoundPart(part: number, queryNorm: number, scale: number, largestPointNorm: number, centreProducts: number, d: number): number;
  unitScalesBounded(unitFactors: number, firstPanel: number, panels: number): number;
  float32DistanceGemm(group: number, queryNorms: number, panels32: number, pointNorms: number, d: number, firstPanel: number, panels: number, tiles: number, tileStride: number): void;
  float32DistanceGemmSingle(group: number, queryNorm: number, panels32: number, pointNorms: number, d: number, firstPanel: number, panels: number, tile: number): void;
}

// Node 20 compiles relaxed SIMD only behind this flag (later engines ignore it: it is on).
setFlagsFromString('--experimental-wasm-relaxed-simd');
const builds: Partial<Record<'plain' | 'relaxed', UnitEntries>> = {};

async function compile(relaxed: boolean): Promise<UnitEntries | undefined> {
  let binary: Uint8Array<ArrayBuffer> | undefined;
  const features = relaxed ? ['--enable', 'simd', '--enable', 'relaxed-simd'] : ['--enable', 'simd'];
  const { error, stderr } = await asc.main(
    ['test/unitCandidates.asm.ts', '--baseDir', resolve(dirname(fileURLToPath(import.meta.url)), '..'), ...features, '-O3', '--runtime', 'stub', '--noAssert', '--outFile', 'unitCandidates.wasm'],
    {
      writeFile: (name, contents) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = new Uint8Array(contents);
      },
    },
  );
  if (error) throw new Error(`${error.message}\n${stderr.toString()}`);
  if (relaxed && !WebAssembly.validate(binary!)) return undefined;
  return (await WebAssembly.instantiate(await WebAssembly.compile(binary!))).exports as unknown as UnitEntries;
}

beforeAll(async () => {
  builds.plain = await compile(false);
  builds.relaxed = await compile(true);
}, 120_000);

const align = (at: number) => Math.ceil(at / 16) * 16;

const bitsView = new DataView(new ArrayBuffer(8));
/** x·2^1100 as an exact BigInt (every value here is below 2^900). */
function exact(x: number): bigint {
  if (x === 0) return 0n;
  bitsView.setFloat64(0, x);
  const high = bitsView.getUint32(0);
  const exponent = (high >>> 20) & 0x7ff;
  let significand = (BigInt(high & 0xfffff) << 32n) | BigInt(bitsView.getUint32(4));
  if (exponent !== 0) significand |= 1n << 52n;
  const value = significand << BigInt((exponent === 0 ? -1074 : exponent - 1075) + 1100);
  return x < 0 ? -value : value;
}

/** A BigInt in units of 2^−scale, as a float64 (relative error ≤ 2^−60). */
function toNumber(value: bigint, scale: number): number {
  let magnitude = value < 0n ? -value : value;
  const shift = Math.max(0, magnitude.toString(2).length - 64);
  magnitude >>= BigInt(shift);
  return (value < 0n ? -1 : 1) * Number(magnitude) * 2 ** (shift - scale);
}

function unitOf(raw: ArrayLike<number>, from: number, d: number): Float64Array {
  const unit = new Float64Array(d);
  if (!normaliseRow(raw, from, unit, 0, d)) throw new Error('a zero row');
  return unit;
}

/** The largest |V − D| / B over the points, and each proof part's largest error over its own term. */
interface Ratios { whole: number; parts: [number, number, number]; bounded: boolean }

/**
 * Packs float32 `rows` (n × d, none zero) with the centre `mean` (any centre: the bound holds for
 * each) as float32 storage does, runs storedUnitGemmSingle for one unit `query` and measures
 * every point's errors exactly.
 */
function measure(wasm: UnitEntries, rows: Float32Array, n: number, d: number, mean: Float64Array, query: Float64Array): Ratios {
  const panelCount = Math.ceil(n / 8);
  const at = { rows: wasm.freeMemory(), sums: 0, panels: 0, factors: 0, pointNorms: 0, candidateNorms: 0, mean: 0, largest: 0, query: 0, centre32: 0, groups: 0, norms: 0, scales: 0, tile: 0, end: 0 };
  at.sums = align(at.rows + n * d * 4);
  at.panels = align(at.sums + d * 8);
  at.factors = align(at.panels + panelCount * d * 32);
  at.pointNorms = at.factors + panelCount * 128;
  at.candidateNorms = at.pointNorms + panelCount * 64;
  at.mean = at.candidateNorms + panelCount * 64;
  at.largest = align(at.mean + d * 8);
  at.query = at.largest + 16;
  at.centre32 = align(at.query + d * 8);
  at.groups = align(at.centre32 + d * 4);
  at.norms = align(at.groups + d * 16);
  at.scales = at.norms + 32;
  at.tile = at.scales + 32;
  at.end = at.tile + panelCount * 64;
  if (at.end > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((at.end - wasm.memory.buffer.byteLength) / 65536));
  const buffer = wasm.memory.buffer;
  new Uint8Array(buffer, at.rows, at.end - at.rows).fill(0);
  new Float32Array(buffer, at.rows, n * d).set(rows);
  new Float64Array(buffer, at.mean, d).set(mean);
  new Float64Array(buffer, at.query, d).set(query);
  expect(wasm.packFloat32Rows(at.rows, n, d, at.sums, at.panels, 0)).toBe(-1);
  wasm.packUnitFactors(at.panels, n, d, 0, at.factors);
  wasm.packFloat32Norms(at.panels, n, d, at.mean, at.pointNorms, at.candidateNorms, 0, at.largest, at.factors);
  wasm.prepareStoredQueries(1, at.query, 1, d, at.mean, at.centre32, at.groups, at.norms, at.scales);
  const [queryNorm] = new Float64Array(buffer, at.norms, 1);
  const [scale] = new Float64Array(buffer, at.scales, 1);
  const largest = new Float64Array(buffer, at.largest, 2)[1];
  wasm.storedUnitGemmSingle(at.groups, queryNorm, scale, wasm.queryCentreProduct(at.groups, at.centre32, d, 0), at.panels, at.factors, at.candidateNorms, d, 0, panelCount, at.tile);
  const products = wasm.queryCentreProduct(at.groups, at.centre32, d, 1);
  const bound = wasm.storedUnitSingleErrorBound(queryNorm, scale, largest, products, d);
  const parts = [0, 1, 2].map((part) => wasm.unitSingleBoundPart(part, queryNorm, scale, largest, products, d) * (1 + 1e-4));
  expect(Number.isFinite(bound)).toBe(true);
  const values = new Float64Array(buffer, at.tile, n);
  const groups = new Float32Array(buffer, at.groups, d * 4);
  const centre32 = new Float32Array(buffer, at.centre32, d);
  const factors = new Float64Array(buffer, at.factors, panelCount * 16);
  const panels = new Float32Array(buffer, at.panels, panelCount * d * 8);
  // In units of 2^−2200 (squares) and 2^−3300 (F): p̂ = p·h exactly (h a power of two).
  const h = Math.abs(scale) / 2;
  const queryExact = Array.from(query, exact);
  const pHat = Array.from({ length: d }, (_, j) => exact(groups[j * 4] * h));
  const centre = Array.from(centre32, (value) => exact(value) << 1100n);
  const pNorm = pHat.reduce((sum, value) => sum + value * value, 0n);
  const ratios: Ratios = { whole: 0, parts: [0, 0, 0], bounded: wasm.unitScalesBounded(at.factors, 0, panelCount) === 1 };
  for (let i = 0; i < n; i++) {
    const panel = Math.floor(i / 8);
    const lane = i % 8;
    // r and c as unitReciprocal and unitCandidate make them (float64 steps, then float32).
    const r = 1 / factors[panel * 16 + lane] / factors[panel * 16 + 8 + lane];
    const unit = unitOf(rows, i * d, d);
    let candidateNorm = 0n, cross = 0n, moved = 0n, distance = 0n;
    for (let j = 0; j < d; j++) {
      const value = panels[panel * d * 8 + j * 8 + lane];
      const candidate = exact(Math.fround(value * r - centre32[j]));
      candidateNorm += candidate * candidate;
      cross += pHat[j] * (exact(r) * exact(value) - centre[j]);
      moved += (pHat[j] - candidate) ** 2n;
      distance += (queryExact[j] - exact(unit[j])) ** 2n;
    }
    const V = exact(values[i]) << 2200n;
    const F = ((pNorm + candidateNorm) << 1100n) - 2n * cross;
    const E = moved << 1100n;
    const D = distance << 1100n;
    ratios.whole = Math.max(ratios.whole, Math.abs(toNumber(V - D, 3300)) / bound);
    [V - F, F - E, E - D].reverse().forEach((error, part) => (ratios.parts[part] = Math.max(ratios.parts[part], Math.abs(toNumber(error, 3300)) / parts[part])));
  }
  return ratios;
}

type Case = { name: string; rows: Float32Array; n: number; d: number; mean: Float64Array; query: Float64Array };

function meanOfUnits(rows: Float32Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) unitOf(rows, i * d, d).forEach((value, j) => (mean[j] += value / n));
  return mean;
}

/** The data built to strain the bound (each case's name says how). */
function strainingCases(): Case[] {
  const random = new SeededRandom(99);
  const signed = () => random.uniform() * 2 - 1;
  const cases: Case[] = [];
  // Scales of exactly 2^±60 and 1, float32 subnormals among the values, three centres.
  for (const d of [1, 2, 3, 5, 9, 64, 385]) {
    const n = 24;
    const rows = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const m = [2 ** 60, 2 ** -60, 1][i % 3];
      for (let j = 0; j < d; j++) rows[i * d + j] = [m * signed(), (random.uniform() - 0.5) * 2e-45 * (1 + (j % 5)), m * 2 ** -30 * random.uniform(), -m * random.uniform()][(i + j) % 4];
      rows[i * d] = i % 2 ? m : -m;
    }
    const query = unitOf(rows, 2 * d, d);
    for (const [centre, mean] of [['none', new Float64Array(d)], ['the mean', meanOfUnits(rows, n, d)], ['−query', query.map((value) => -value)]] as const) {
      cases.push({ name: `scales 2^±60 and subnormals, d = ${d}, centre ${centre}`, rows, n, d, mean, query });
    }
  }
  // Rows of float32 subnormals beside m = 2^−60: their raw products underflow.
  for (const d of [4, 33, 512]) {
    const n = 16;
    const rows = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) rows[i * d + j] = j % 2 ? signed() * 2 ** -100 : (random.uniform() < 0.5 ? -1 : 1) * 2 ** -149 * Math.floor(1 + random.uniform() * 7);
      rows[i * d] = 2 ** -60;
    }
    const spread = Float64Array.from({ length: d }, () => signed() * 2 ** -Math.floor(random.uniform() * 60));
    cases.push({ name: `subnormal rows, d = ${d}`, rows, n, d, mean: meanOfUnits(rows, n, d), query: unitOf(spread, 0, d) });
    cases.push({ name: `subnormal rows, the query a row, d = ${d}`, rows, n, d, mean: meanOfUnits(rows, n, d), query: unitOf(rows, d, d) });
  }
  // Long sums of a decreasing profile, each value nudged just below a rounding midpoint of its running half-sum.
  for (const d of [4096, 4097, 8192]) {
    const n = 8;
    const rows = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const sums = [0, 0];
      for (let j = 0; j < d; j++) {
        const sum = sums[j % 2];
        let value = Math.fround(1 - j / d);
        if (sum > 0) {
          const ulp = 2 ** (Math.floor(Math.log2(sum + value)) - 23);
          const nudged = Math.fround(Math.floor((sum + value) / ulp) * ulp + ulp / 2 - sum - ulp * 2 ** -10);
          if (nudged > 0) value = nudged;
        }
        rows[i * d + j] = (i % 2 ? 1 : 1 + i / 16) * value;
        sums[j % 2] = Math.fround(sum + rows[i * d + j]);
      }
    }
    const query = unitOf(new Float64Array(d).fill(1), 0, d);
    cases.push({ name: `sums rounding one way, d = ${d}`, rows, n, d, mean: new Float64Array(d), query });
    cases.push({ name: `sums rounding one way, d = ${d}, centre the mean`, rows, n, d, mean: meanOfUnits(rows, n, d), query });
  }
  // Queries spanning 40 binades, a row itself, one orthogonal to a row; centres far, huge, tiny, at the query.
  for (const d of [2, 7, 31, 128, 1537]) {
    const n = 40;
    const rows = Float32Array.from({ length: n * d }, signed);
    const spanning = Float64Array.from({ length: d }, (_, j) => (j % 2 ? -1 : 1) * 2 ** -((j * 7) % 40) * (1 + random.uniform()));
    rows.set(spanning, 5 * d);
    const row = unitOf(rows, 0, d);
    const other = Float64Array.from({ length: d }, signed);
    const along = other.reduce((sum, value, j) => sum + value * row[j], 0);
    const orthogonal = d > 1 ? unitOf(other.map((value, j) => value - along * row[j]), 0, d) : row;
    const span = unitOf(spanning, 0, d);
    const centres: [string, Float64Array][] = [
      ['the mean', meanOfUnits(rows, n, d)], ['−query', span.map((value) => -value)], ['1e3', other.map((value) => value * 1e3)],
      ['1e−30', other.map((value) => value * 1e-30)], ['the query', span.slice()],
    ];
    for (const [centre, mean] of centres) {
      for (const [kind, query] of [['spanning', span], ['a row', row], ['orthogonal', orthogonal]] as const) cases.push({ name: `${kind} query, d = ${d}, centre ${centre}`, rows, n, d, mean, query });
    }
  }
  // Plain data: uniform rows, near-duplicates of the query, integer grids, over many d.
  for (const d of [1, 3, 16, 33, 384]) {
    const query = unitOf(Float64Array.from({ length: d }, signed), 0, d);
    const n = d >= 384 ? 40 : 97;
    const near = Float32Array.from({ length: n * d }, (_, at) => query[at % d] * (1 + 1e-7 * signed()) + 1e-8 * signed() * (Math.floor(at / d) % 5));
    near.set(Float32Array.from(query));
    const grid = Float32Array.from({ length: n * d }, () => Math.round(signed() * 2) || 1);
    for (const [kind, rows] of [['uniform', Float32Array.from({ length: n * d }, signed)], ['near the query', near], ['grid', grid]] as const) {
      cases.push({ name: `${kind}, d = ${d}, centre the mean`, rows, n, d, mean: meanOfUnits(rows, n, d), query });
    }
  }
  return cases;
}

describe.each(['plain', 'relaxed'] as const)("a cosine network's one-query candidate values (storedUnitGemmSingle), %s build", (build) => {
  it('lie within storedUnitSingleErrorBound of the exact unit distance, each part of the proof within its own term, on data built to strain it', (context) => {
    const wasm = builds[build];
    if (!wasm) context.skip(`this engine has no relaxed SIMD`);
    const worst = { whole: 0, parts: [0, 0, 0] };
    for (const strain of strainingCases()) {
      const ratios = measure(wasm!, strain.rows, strain.n, strain.d, strain.mean, strain.query);
      expect(ratios.bounded, `${strain.name}: every scale within 2^±60`).toBe(true);
      expect(ratios.whole, `${strain.name}: |V − D| / B`).toBeLessThanOrEqual(1);
      ratios.parts.forEach((ratio, part) => expect(ratio, `${strain.name}: part ${part} of the proof`).toBeLessThanOrEqual(1));
      worst.whole = Math.max(worst.whole, ratios.whole);
      ratios.parts.forEach((ratio, part) => (worst.parts[part] = Math.max(worst.parts[part], ratio)));
    }
    console.info(`unitCandidates (${build}): the largest |V − D| was ${(100 * worst.whole).toFixed(1)} % of the bound; by part (steps 1–2, 3, 4–5): ${worst.parts.map((ratio) => `${(100 * ratio).toFixed(1)} %`).join(', ')}`);
  }, 120_000);

  it('come within half a percent of the bound where it is tightest (d = 1, the centre just past the data: steps 1–2 dominate)', (context) => {
    const wasm = builds[build];
    if (!wasm) context.skip(`this engine has no relaxed SIMD`);
    const rows = Float32Array.of(0.5882063508033752, -0.15108133852481842, -0.9094146490097046, -0.21900822222232819, 0.585056483745575, 0.4993622899055481, 0.31556373834609985, 0.6168791055679321);
    const ratios = measure(wasm!, rows, 8, 1, Float64Array.of(1.002061680864896), Float64Array.of(1));
    expect(ratios.whole).toBeGreaterThan(0.99);
    expect(ratios.whole).toBeLessThanOrEqual(1);
  });

  it("are refused where a point's scale leaves 2^±60 (unitScalesBounded): those blocks are centred and multiplied as before", (context) => {
    const wasm = builds[build];
    if (!wasm) context.skip(`this engine has no relaxed SIMD`);
    const random = new SeededRandom(7);
    const d = 5;
    const query = unitOf(Float64Array.from({ length: d }, () => random.uniform() + 0.1), 0, d);
    for (const scale of [2 ** 61, 2 ** -61, 1e30, 1e-30]) {
      const rows = Float32Array.from({ length: 9 * d }, () => random.uniform() + 0.1);
      for (let j = 0; j < d; j++) rows[8 * d + j] *= scale;
      expect(measure(wasm!, rows, 9, d, new Float64Array(d), query).bounded).toBe(false);
    }
  });
});

// A float64 network's float32 copy: a group that holds one query runs float32DistanceGemmSingle
// in place of the group kernel, under the same bound (candidateErrorBound), which holds because
// the values are the group kernel's first query's, bit for bit. Checked here on both builds
// (where the engine fuses the multiply-add, both kernels must fuse alike), over odd and even
// panel counts, a first panel past 0, d from 1 up, and float32 subnormals among the weights.
describe.each(['plain', 'relaxed'] as const)("a float64 network's one-query float32 candidate values (float32DistanceGemmSingle), %s build", (build) => {
  it("are the group kernel's values for its first query, bit for bit", (context) => {
    const wasm = builds[build];
    if (!wasm) context.skip(`this engine has no relaxed SIMD`);
    const random = new SeededRandom(29);
    for (const d of [1, 2, 3, 7, 17, 64, 101]) {
      for (const panels of [1, 2, 3, 6, 9]) {
        const firstPanel = panels % 3;
        const allPanels = firstPanel + panels;
        const at = { panels32: wasm!.freeMemory(), pointNorms: 0, group: 0, queryNorms: 0, tiles: 0, single: 0, end: 0 };
        at.pointNorms = align(at.panels32 + allPanels * d * 32);
        at.group = at.pointNorms + allPanels * 64;
        at.queryNorms = align(at.group + d * 16);
        at.tiles = at.queryNorms + 32;
        at.single = at.tiles + 4 * panels * 64;
        at.end = at.single + panels * 64;
        if (at.end > wasm!.memory.buffer.byteLength) wasm!.memory.grow(Math.ceil((at.end - wasm!.memory.buffer.byteLength) / 65536));
        const buffer = wasm!.memory.buffer;
        // Weights −2·c in [−2, 2), one in seven a float32 subnormal; queries in [−1, 1).
        const weights = new Float32Array(buffer, at.panels32, allPanels * d * 8);
        for (let i = 0; i < weights.length; i++) weights[i] = i % 7 === 3 ? (random.uniform() - 0.5) * 2 ** -130 : 4 * random.uniform() - 2;
        const pointNorms = new Float64Array(buffer, at.pointNorms, allPanels * 8);
        for (let i = 0; i < pointNorms.length; i++) pointNorms[i] = random.uniform();
        const group = new Float32Array(buffer, at.group, d * 4);
        for (let i = 0; i < group.length; i++) group[i] = 2 * random.uniform() - 1;
        const queryNorms = new Float64Array(buffer, at.queryNorms, 4);
        for (let i = 0; i < 4; i++) queryNorms[i] = random.uniform() * d;
        wasm!.float32DistanceGemm(at.group, at.queryNorms, at.panels32, at.pointNorms, d, firstPanel, panels, at.tiles, panels * 64);
        wasm!.float32DistanceGemmSingle(at.group, queryNorms[0], at.panels32, at.pointNorms, d, firstPanel, panels, at.single);
        const fromGroup = new Float64Array(buffer, at.tiles, panels * 8);
        const fromSingle = new Float64Array(buffer, at.single, panels * 8);
        expect(bits(fromSingle), `d = ${d}, ${panels} panels from panel ${firstPanel}`).toEqual(bits(fromGroup));
      }
    }
  });
});
