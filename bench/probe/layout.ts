// Packing for the probe micro-GEMM: the layout a register-blocked kernel streams.

type Floats = Float64Array | Float32Array;

/**
 * Packs a row-major rows × depth matrix into blocks of `block` rows; inside a block, for each
 * dimension k, the block's `block` values m[i + r][k] are adjacent. Used for the query block (R)
 * and for the point panels (C) alike. rows must be a multiple of block.
 */
export function packBlocks<T extends Floats>(m: T, rows: number, depth: number, block: number): T {
  const packedMatrix = new (m.constructor as new (length: number) => T)(rows * depth);
  let o = 0;
  for (let i0 = 0; i0 < rows; i0 += block) {
    for (let k = 0; k < depth; k++) {
      for (let r = 0; r < block; r++) packedMatrix[o++] = m[(i0 + r) * depth + k];
    }
  }
  return packedMatrix;
}

/** Row-major out (rows × cols) = A · Bᵀ for row-major A (rows × depth), B (cols × depth). */
export function naiveProduct(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number, depth: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let k = 0; k < depth; k++) s += a[i * depth + k] * b[j * depth + k];
      out[i * cols + j] = s;
    }
  }
  return out;
}
