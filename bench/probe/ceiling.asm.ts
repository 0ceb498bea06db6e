// Ceiling probe: register-blocked wasm SIMD micro-GEMMs on data that sits in L1.
//
// out (rows × cols, row-major) = A · Bᵀ, with both operands packed the way a GEMM packs them:
//   A: blocks of R query rows; inside a block, for each dimension k, the R values a[i+r][k].
//   B: panels of C points;    inside a panel, for each dimension k, the C values b[j+c][k].
// So each step of the k loop splats R query values, streams C/lanes vectors of points and does
// R·C/lanes multiply-adds (mul + add: plain wasm SIMD has no fused multiply-add).
// rows must be a multiple of R, cols of C. One call repeats the whole product `reps` times over
// the same buffers; it performs 2·rows·cols·depth·reps flops.
// Shapes are named rows × points. Register counts are for V8 on x64, which allocates 15 xmm
// registers (xmm15 is its scratch) and hoists every load of a loop body: a shape needs
// accumulators + R splats + C/lanes point vectors + 1 product temporary.
// Leave the k loop rolled: V8 unrolls it itself, and a source-unrolled body makes it hoist twice
// the loads and spill (measured: 2×8 drops from 22 to 14 GFLOP/s).

// @ts-ignore: decorator
@inline function madd64(c: v128, x: v128, y: v128): v128 {
  return f64x2.add(c, f64x2.mul(x, y));
}

// @ts-ignore: decorator
@inline function madd32(c: v128, x: v128, y: v128): v128 {
  return f32x4.add(c, f32x4.mul(x, y));
}

/**
 * `bytes` of fresh pages at the end of the probe's own memory (64 KiB aligned), which grows to
 * hold them: the only allocation the probes make. The stub runtime's heap.alloc aborts past a
 * block of 1 GiB, and E's stream pass reads 1.5 GB.
 */
export function allocate(bytes: usize): usize {
  const before = memory.grow(<i32>((bytes + 0xffff) >> 16));
  if (before < 0) unreachable();
  return <usize>before << 16;
}

/**
 * The plain kernel for comparison: 4 rows × 2 points, both row-major (no packing), dot products
 * over k in f64x2 lanes: 8 accumulators + 4 row vectors + 2 point vectors + 1 product = 15 xmm,
 * then a horizontal add per output. depth must be even.
 */
export function dotF64x2_4x2(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const rowBytes = <usize>depth << 3;
  const outStride = <usize>cols << 3;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 4) {
      const a0 = a + <usize>i * rowBytes;
      for (let j = 0; j < cols; j += 2) {
        const b0 = b + <usize>j * rowBytes;
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
        let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
        let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
        let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
        for (let k: usize = 0; k < rowBytes; k += 16) {
          const x0 = v128.load(a0 + k), x1 = v128.load(a0 + rowBytes + k);
          const x2 = v128.load(a0 + 2 * rowBytes + k), x3 = v128.load(a0 + 3 * rowBytes + k);
          let y = v128.load(b0 + k);
          c00 = madd64(c00, x0, y); c10 = madd64(c10, x1, y); c20 = madd64(c20, x2, y); c30 = madd64(c30, x3, y);
          y = v128.load(b0 + rowBytes + k);
          c01 = madd64(c01, x0, y); c11 = madd64(c11, x1, y); c21 = madd64(c21, x2, y); c31 = madd64(c31, x3, y);
        }
        let o = out + <usize>i * outStride + (<usize>j << 3);
        store<f64>(o, hsum(c00)); store<f64>(o, hsum(c01), 8); o += outStride;
        store<f64>(o, hsum(c10)); store<f64>(o, hsum(c11), 8); o += outStride;
        store<f64>(o, hsum(c20)); store<f64>(o, hsum(c21), 8); o += outStride;
        store<f64>(o, hsum(c30)); store<f64>(o, hsum(c31), 8);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** 2 rows × 8 points: 8 f64x2 accumulators + 2 splats + 4 point vectors + 1 product = all 15 xmm. */
export function gemmF64x2_2x8(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 3;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 2) {
      const aBlock = a + (<usize>(i * depth) << 3);
      for (let j = 0; j < cols; j += 8) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 3);
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c02 = f64x2.splat(0), c03 = f64x2.splat(0);
        let c10 = f64x2.splat(0), c11 = f64x2.splat(0), c12 = f64x2.splat(0), c13 = f64x2.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load64_splat(pa), x1 = v128.load64_splat(pa, 8);
          let y = v128.load(pb);
          c00 = madd64(c00, x0, y); c10 = madd64(c10, x1, y);
          y = v128.load(pb, 16);
          c01 = madd64(c01, x0, y); c11 = madd64(c11, x1, y);
          y = v128.load(pb, 32);
          c02 = madd64(c02, x0, y); c12 = madd64(c12, x1, y);
          y = v128.load(pb, 48);
          c03 = madd64(c03, x0, y); c13 = madd64(c13, x1, y);
          pa += 16;
          pb += 64;
        }
        let o = out + <usize>i * outStride + (<usize>j << 3);
        v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); v128.store(o, c12, 32); v128.store(o, c13, 48);
      }
    }
  }
}

/** 4 rows × 4 points: 8 f64x2 accumulators + 4 splats + 2 point vectors + 1 product = all 15 xmm. */
export function gemmF64x2_4x4(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 3;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 4) {
      const aBlock = a + (<usize>(i * depth) << 3);
      for (let j = 0; j < cols; j += 4) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 3);
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
        let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
        let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
        let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load64_splat(pa), x1 = v128.load64_splat(pa, 8), x2 = v128.load64_splat(pa, 16), x3 = v128.load64_splat(pa, 24);
          let y = v128.load(pb);
          c00 = madd64(c00, x0, y); c10 = madd64(c10, x1, y); c20 = madd64(c20, x2, y); c30 = madd64(c30, x3, y);
          y = v128.load(pb, 16);
          c01 = madd64(c01, x0, y); c11 = madd64(c11, x1, y); c21 = madd64(c21, x2, y); c31 = madd64(c31, x3, y);
          pa += 32;
          pb += 32;
        }
        let o = out + <usize>i * outStride + (<usize>j << 3);
        v128.store(o, c00); v128.store(o, c01, 16); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); o += outStride;
        v128.store(o, c20); v128.store(o, c21, 16); o += outStride;
        v128.store(o, c30); v128.store(o, c31, 16);
      }
    }
  }
}

/** 3 rows × 8 points: 12 f64x2 accumulators + 3 splats + 4 point vectors + 1 product = 20 xmm > 15: spills. */
export function gemmF64x2_3x8(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 3;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 3) {
      const aBlock = a + (<usize>(i * depth) << 3);
      for (let j = 0; j < cols; j += 8) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 3);
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c02 = f64x2.splat(0), c03 = f64x2.splat(0);
        let c10 = f64x2.splat(0), c11 = f64x2.splat(0), c12 = f64x2.splat(0), c13 = f64x2.splat(0);
        let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c22 = f64x2.splat(0), c23 = f64x2.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load64_splat(pa), x1 = v128.load64_splat(pa, 8), x2 = v128.load64_splat(pa, 16);
          let y = v128.load(pb);
          c00 = madd64(c00, x0, y); c10 = madd64(c10, x1, y); c20 = madd64(c20, x2, y);
          y = v128.load(pb, 16);
          c01 = madd64(c01, x0, y); c11 = madd64(c11, x1, y); c21 = madd64(c21, x2, y);
          y = v128.load(pb, 32);
          c02 = madd64(c02, x0, y); c12 = madd64(c12, x1, y); c22 = madd64(c22, x2, y);
          y = v128.load(pb, 48);
          c03 = madd64(c03, x0, y); c13 = madd64(c13, x1, y); c23 = madd64(c23, x2, y);
          pa += 24;
          pb += 64;
        }
        let o = out + <usize>i * outStride + (<usize>j << 3);
        v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); v128.store(o, c12, 32); v128.store(o, c13, 48); o += outStride;
        v128.store(o, c20); v128.store(o, c21, 16); v128.store(o, c22, 32); v128.store(o, c23, 48);
      }
    }
  }
}

/** 4 rows × 8 points: 16 f64x2 accumulators + 4 splats + 4 point vectors + 1 product = 25 xmm > 15: spills. */
export function gemmF64x2_4x8(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 3;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 4) {
      const aBlock = a + (<usize>(i * depth) << 3);
      for (let j = 0; j < cols; j += 8) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 3);
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c02 = f64x2.splat(0), c03 = f64x2.splat(0);
        let c10 = f64x2.splat(0), c11 = f64x2.splat(0), c12 = f64x2.splat(0), c13 = f64x2.splat(0);
        let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c22 = f64x2.splat(0), c23 = f64x2.splat(0);
        let c30 = f64x2.splat(0), c31 = f64x2.splat(0), c32 = f64x2.splat(0), c33 = f64x2.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load64_splat(pa), x1 = v128.load64_splat(pa, 8), x2 = v128.load64_splat(pa, 16), x3 = v128.load64_splat(pa, 24);
          let y = v128.load(pb);
          c00 = madd64(c00, x0, y); c10 = madd64(c10, x1, y); c20 = madd64(c20, x2, y); c30 = madd64(c30, x3, y);
          y = v128.load(pb, 16);
          c01 = madd64(c01, x0, y); c11 = madd64(c11, x1, y); c21 = madd64(c21, x2, y); c31 = madd64(c31, x3, y);
          y = v128.load(pb, 32);
          c02 = madd64(c02, x0, y); c12 = madd64(c12, x1, y); c22 = madd64(c22, x2, y); c32 = madd64(c32, x3, y);
          y = v128.load(pb, 48);
          c03 = madd64(c03, x0, y); c13 = madd64(c13, x1, y); c23 = madd64(c23, x2, y); c33 = madd64(c33, x3, y);
          pa += 32;
          pb += 64;
        }
        let o = out + <usize>i * outStride + (<usize>j << 3);
        v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); v128.store(o, c12, 32); v128.store(o, c13, 48); o += outStride;
        v128.store(o, c20); v128.store(o, c21, 16); v128.store(o, c22, 32); v128.store(o, c23, 48); o += outStride;
        v128.store(o, c30); v128.store(o, c31, 16); v128.store(o, c32, 32); v128.store(o, c33, 48);
      }
    }
  }
}

/** 6 rows × 4 points: 12 f64x2 accumulators + 6 splats + 2 point vectors + 1 product = 21 xmm > 15: spills. */
export function gemmF64x2_6x4(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 3;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 6) {
      const aBlock = a + (<usize>(i * depth) << 3);
      for (let j = 0; j < cols; j += 4) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 3);
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0);
        let c10 = f64x2.splat(0), c11 = f64x2.splat(0);
        let c20 = f64x2.splat(0), c21 = f64x2.splat(0);
        let c30 = f64x2.splat(0), c31 = f64x2.splat(0);
        let c40 = f64x2.splat(0), c41 = f64x2.splat(0);
        let c50 = f64x2.splat(0), c51 = f64x2.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load64_splat(pa), x1 = v128.load64_splat(pa, 8), x2 = v128.load64_splat(pa, 16), x3 = v128.load64_splat(pa, 24), x4 = v128.load64_splat(pa, 32), x5 = v128.load64_splat(pa, 40);
          let y = v128.load(pb);
          c00 = madd64(c00, x0, y); c10 = madd64(c10, x1, y); c20 = madd64(c20, x2, y); c30 = madd64(c30, x3, y); c40 = madd64(c40, x4, y); c50 = madd64(c50, x5, y);
          y = v128.load(pb, 16);
          c01 = madd64(c01, x0, y); c11 = madd64(c11, x1, y); c21 = madd64(c21, x2, y); c31 = madd64(c31, x3, y); c41 = madd64(c41, x4, y); c51 = madd64(c51, x5, y);
          pa += 48;
          pb += 32;
        }
        let o = out + <usize>i * outStride + (<usize>j << 3);
        v128.store(o, c00); v128.store(o, c01, 16); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); o += outStride;
        v128.store(o, c20); v128.store(o, c21, 16); o += outStride;
        v128.store(o, c30); v128.store(o, c31, 16); o += outStride;
        v128.store(o, c40); v128.store(o, c41, 16); o += outStride;
        v128.store(o, c50); v128.store(o, c51, 16);
      }
    }
  }
}

/** 2 rows × 12 points: 12 f64x2 accumulators + 2 splats + 6 point vectors + 1 product = 21 xmm > 15: spills. */
export function gemmF64x2_2x12(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 3;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 2) {
      const aBlock = a + (<usize>(i * depth) << 3);
      for (let j = 0; j < cols; j += 12) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 3);
        let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c02 = f64x2.splat(0), c03 = f64x2.splat(0), c04 = f64x2.splat(0), c05 = f64x2.splat(0);
        let c10 = f64x2.splat(0), c11 = f64x2.splat(0), c12 = f64x2.splat(0), c13 = f64x2.splat(0), c14 = f64x2.splat(0), c15 = f64x2.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load64_splat(pa), x1 = v128.load64_splat(pa, 8);
          let y = v128.load(pb);
          c00 = madd64(c00, x0, y); c10 = madd64(c10, x1, y);
          y = v128.load(pb, 16);
          c01 = madd64(c01, x0, y); c11 = madd64(c11, x1, y);
          y = v128.load(pb, 32);
          c02 = madd64(c02, x0, y); c12 = madd64(c12, x1, y);
          y = v128.load(pb, 48);
          c03 = madd64(c03, x0, y); c13 = madd64(c13, x1, y);
          y = v128.load(pb, 64);
          c04 = madd64(c04, x0, y); c14 = madd64(c14, x1, y);
          y = v128.load(pb, 80);
          c05 = madd64(c05, x0, y); c15 = madd64(c15, x1, y);
          pa += 16;
          pb += 96;
        }
        let o = out + <usize>i * outStride + (<usize>j << 3);
        v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48); v128.store(o, c04, 64); v128.store(o, c05, 80); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); v128.store(o, c12, 32); v128.store(o, c13, 48); v128.store(o, c14, 64); v128.store(o, c15, 80);
      }
    }
  }
}

/** 2 rows × 16 points: 8 f32x4 accumulators + 2 splats + 4 point vectors + 1 product = all 15 xmm. */
export function gemmF32x4_2x16(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 2;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 2) {
      const aBlock = a + (<usize>(i * depth) << 2);
      for (let j = 0; j < cols; j += 16) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4);
          let y = v128.load(pb);
          c00 = madd32(c00, x0, y); c10 = madd32(c10, x1, y);
          y = v128.load(pb, 16);
          c01 = madd32(c01, x0, y); c11 = madd32(c11, x1, y);
          y = v128.load(pb, 32);
          c02 = madd32(c02, x0, y); c12 = madd32(c12, x1, y);
          y = v128.load(pb, 48);
          c03 = madd32(c03, x0, y); c13 = madd32(c13, x1, y);
          pa += 8;
          pb += 64;
        }
        let o = out + <usize>i * outStride + (<usize>j << 2);
        v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); v128.store(o, c12, 32); v128.store(o, c13, 48);
      }
    }
  }
}

/** 4 rows × 8 points: 8 f32x4 accumulators + 4 splats + 2 point vectors + 1 product = all 15 xmm. */
export function gemmF32x4_4x8(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 2;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 4) {
      const aBlock = a + (<usize>(i * depth) << 2);
      for (let j = 0; j < cols; j += 8) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4), x2 = v128.load32_splat(pa, 8), x3 = v128.load32_splat(pa, 12);
          let y = v128.load(pb);
          c00 = madd32(c00, x0, y); c10 = madd32(c10, x1, y); c20 = madd32(c20, x2, y); c30 = madd32(c30, x3, y);
          y = v128.load(pb, 16);
          c01 = madd32(c01, x0, y); c11 = madd32(c11, x1, y); c21 = madd32(c21, x2, y); c31 = madd32(c31, x3, y);
          pa += 16;
          pb += 32;
        }
        let o = out + <usize>i * outStride + (<usize>j << 2);
        v128.store(o, c00); v128.store(o, c01, 16); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); o += outStride;
        v128.store(o, c20); v128.store(o, c21, 16); o += outStride;
        v128.store(o, c30); v128.store(o, c31, 16);
      }
    }
  }
}

/** 3 rows × 16 points: 12 f32x4 accumulators + 3 splats + 4 point vectors + 1 product = 20 xmm > 15: spills. */
export function gemmF32x4_3x16(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 2;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 3) {
      const aBlock = a + (<usize>(i * depth) << 2);
      for (let j = 0; j < cols; j += 16) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0), c23 = f32x4.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4), x2 = v128.load32_splat(pa, 8);
          let y = v128.load(pb);
          c00 = madd32(c00, x0, y); c10 = madd32(c10, x1, y); c20 = madd32(c20, x2, y);
          y = v128.load(pb, 16);
          c01 = madd32(c01, x0, y); c11 = madd32(c11, x1, y); c21 = madd32(c21, x2, y);
          y = v128.load(pb, 32);
          c02 = madd32(c02, x0, y); c12 = madd32(c12, x1, y); c22 = madd32(c22, x2, y);
          y = v128.load(pb, 48);
          c03 = madd32(c03, x0, y); c13 = madd32(c13, x1, y); c23 = madd32(c23, x2, y);
          pa += 12;
          pb += 64;
        }
        let o = out + <usize>i * outStride + (<usize>j << 2);
        v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); v128.store(o, c12, 32); v128.store(o, c13, 48); o += outStride;
        v128.store(o, c20); v128.store(o, c21, 16); v128.store(o, c22, 32); v128.store(o, c23, 48);
      }
    }
  }
}

/** 4 rows × 16 points: 16 f32x4 accumulators + 4 splats + 4 point vectors + 1 product = 25 xmm > 15: spills. */
export function gemmF32x4_4x16(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 2;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 4) {
      const aBlock = a + (<usize>(i * depth) << 2);
      for (let j = 0; j < cols; j += 16) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0), c23 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0), c32 = f32x4.splat(0), c33 = f32x4.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4), x2 = v128.load32_splat(pa, 8), x3 = v128.load32_splat(pa, 12);
          let y = v128.load(pb);
          c00 = madd32(c00, x0, y); c10 = madd32(c10, x1, y); c20 = madd32(c20, x2, y); c30 = madd32(c30, x3, y);
          y = v128.load(pb, 16);
          c01 = madd32(c01, x0, y); c11 = madd32(c11, x1, y); c21 = madd32(c21, x2, y); c31 = madd32(c31, x3, y);
          y = v128.load(pb, 32);
          c02 = madd32(c02, x0, y); c12 = madd32(c12, x1, y); c22 = madd32(c22, x2, y); c32 = madd32(c32, x3, y);
          y = v128.load(pb, 48);
          c03 = madd32(c03, x0, y); c13 = madd32(c13, x1, y); c23 = madd32(c23, x2, y); c33 = madd32(c33, x3, y);
          pa += 16;
          pb += 64;
        }
        let o = out + <usize>i * outStride + (<usize>j << 2);
        v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); v128.store(o, c12, 32); v128.store(o, c13, 48); o += outStride;
        v128.store(o, c20); v128.store(o, c21, 16); v128.store(o, c22, 32); v128.store(o, c23, 48); o += outStride;
        v128.store(o, c30); v128.store(o, c31, 16); v128.store(o, c32, 32); v128.store(o, c33, 48);
      }
    }
  }
}

/** 6 rows × 8 points: 12 f32x4 accumulators + 6 splats + 2 point vectors + 1 product = 21 xmm > 15: spills. */
export function gemmF32x4_6x8(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 2;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 6) {
      const aBlock = a + (<usize>(i * depth) << 2);
      for (let j = 0; j < cols; j += 8) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
        let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
        let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4), x2 = v128.load32_splat(pa, 8), x3 = v128.load32_splat(pa, 12), x4 = v128.load32_splat(pa, 16), x5 = v128.load32_splat(pa, 20);
          let y = v128.load(pb);
          c00 = madd32(c00, x0, y); c10 = madd32(c10, x1, y); c20 = madd32(c20, x2, y); c30 = madd32(c30, x3, y); c40 = madd32(c40, x4, y); c50 = madd32(c50, x5, y);
          y = v128.load(pb, 16);
          c01 = madd32(c01, x0, y); c11 = madd32(c11, x1, y); c21 = madd32(c21, x2, y); c31 = madd32(c31, x3, y); c41 = madd32(c41, x4, y); c51 = madd32(c51, x5, y);
          pa += 24;
          pb += 32;
        }
        let o = out + <usize>i * outStride + (<usize>j << 2);
        v128.store(o, c00); v128.store(o, c01, 16); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); o += outStride;
        v128.store(o, c20); v128.store(o, c21, 16); o += outStride;
        v128.store(o, c30); v128.store(o, c31, 16); o += outStride;
        v128.store(o, c40); v128.store(o, c41, 16); o += outStride;
        v128.store(o, c50); v128.store(o, c51, 16);
      }
    }
  }
}

/** 2 rows × 24 points: 12 f32x4 accumulators + 2 splats + 6 point vectors + 1 product = 21 xmm > 15: spills. */
export function gemmF32x4_2x24(a: usize, b: usize, out: usize, rows: i32, cols: i32, depth: i32, reps: i32): void {
  const outStride = <usize>cols << 2;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < rows; i += 2) {
      const aBlock = a + (<usize>(i * depth) << 2);
      for (let j = 0; j < cols; j += 24) {
        let pa = aBlock;
        let pb = b + (<usize>(j * depth) << 2);
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0), c04 = f32x4.splat(0), c05 = f32x4.splat(0);
        let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0), c14 = f32x4.splat(0), c15 = f32x4.splat(0);
        for (let k = 0; k < depth; k++) {
          const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa, 4);
          let y = v128.load(pb);
          c00 = madd32(c00, x0, y); c10 = madd32(c10, x1, y);
          y = v128.load(pb, 16);
          c01 = madd32(c01, x0, y); c11 = madd32(c11, x1, y);
          y = v128.load(pb, 32);
          c02 = madd32(c02, x0, y); c12 = madd32(c12, x1, y);
          y = v128.load(pb, 48);
          c03 = madd32(c03, x0, y); c13 = madd32(c13, x1, y);
          y = v128.load(pb, 64);
          c04 = madd32(c04, x0, y); c14 = madd32(c14, x1, y);
          y = v128.load(pb, 80);
          c05 = madd32(c05, x0, y); c15 = madd32(c15, x1, y);
          pa += 8;
          pb += 96;
        }
        let o = out + <usize>i * outStride + (<usize>j << 2);
        v128.store(o, c00); v128.store(o, c01, 16); v128.store(o, c02, 32); v128.store(o, c03, 48); v128.store(o, c04, 64); v128.store(o, c05, 80); o += outStride;
        v128.store(o, c10); v128.store(o, c11, 16); v128.store(o, c12, 32); v128.store(o, c13, 48); v128.store(o, c14, 64); v128.store(o, c15, 80);
      }
    }
  }
}
