// The benchmark's probe kernels compute what they claim to, so the GFLOP/s they report are honest.
import { describe, expect, it } from 'vitest';
import { loadProduct } from '../bench/probe/ceiling.js';
import { kernelShapes } from '../bench/probe/kernels.js';
import { naiveProduct, packBlocks } from '../bench/probe/layout.js';
import { seededValues } from '../bench/probe/timing.js';
import { instantiateProbe } from '../bench/probe/wasm.js';

describe('probe micro-GEMM kernels', () => {
  it('packBlocks interleaves each block of rows per dimension', () => {
    // 4 rows × 3 dims, value = 10·row + dim
    const m = Float64Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 3) + (i % 3));
    expect(Array.from(packBlocks(m, 4, 3, 2))).toEqual([0, 10, 1, 11, 2, 12, 20, 30, 21, 31, 22, 32]);
  });

  for (const shape of kernelShapes) {
    it(`${shape.exportName} (${shape.lanes} ${shape.rowBlock}×${shape.pointBlock}, ${shape.layout}) equals the naive A·Bᵀ`, async () => {
      const rows = 12;
      const cols = shape.lanes === 'f64x2' ? 24 : 48;
      const depth = 6;
      const round = shape.lanes === 'f64x2' ? (x: number) => x : Math.fround;
      const a = seededValues(rows * depth, 7).map(round);
      const b = seededValues(cols * depth, 8).map(round);
      const product = loadProduct(await instantiateProbe(), shape, a, b, rows, cols, depth);
      product.run(3);
      const got = product.result();
      const want = naiveProduct(a, b, rows, cols, depth);
      const tolerance = shape.lanes === 'f64x2' ? 1e-13 : 1e-5;
      expect(product.flopsPerRep).toBe(2 * rows * cols * depth);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(tolerance);
    });
  }
});

describe('memory-stream kernel', () => {
  it('streamSumF64 sums every f64 of the buffer once', async () => {
    const probe = await instantiateProbe();
    const count = 64 * 5;
    const ptr = probe.allocate(count * 8);
    const values = new Float64Array(probe.memory.buffer, ptr, count);
    for (let i = 0; i < count; i++) values[i] = i + 1;
    expect(probe.streamSumF64(ptr, count * 8)).toBe((count * (count + 1)) / 2);
    expect(probe.streamSumF64(ptr, 64)).toBe(36);
  });
});
