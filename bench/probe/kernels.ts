// The micro-GEMM shapes the ceiling probe measures (see ceiling.asm.ts for their blocking).

export type Lanes = 'f64x2' | 'f32x4';

export interface KernelShape {
  /** Export name in the probe wasm. */
  exportName: string;
  lanes: Lanes;
  /** Query rows per block (R). */
  rowBlock: number;
  /** Training points per panel (C). */
  pointBlock: number;
  /** 'packed': A in R-row blocks and B in C-point panels, interleaved per dimension; 'rowMajor': both plain. */
  layout: 'packed' | 'rowMajor';
  /** Vector accumulators held in registers. */
  accumulators: number;
}

function packed(lanes: Lanes, rowBlock: number, pointBlock: number): KernelShape {
  const width = lanes === 'f64x2' ? 2 : 4;
  const prefix = lanes === 'f64x2' ? 'gemmF64x2' : 'gemmF32x4';
  return {
    exportName: `${prefix}_${rowBlock}x${pointBlock}`,
    lanes,
    rowBlock,
    pointBlock,
    layout: 'packed',
    accumulators: (rowBlock * pointBlock) / width,
  };
}

export const kernelShapes: readonly KernelShape[] = [
  packed('f64x2', 2, 8),
  packed('f64x2', 4, 4),
  packed('f64x2', 3, 8),
  packed('f64x2', 4, 8),
  packed('f64x2', 6, 4),
  packed('f64x2', 2, 12),
  { exportName: 'dotF64x2_4x2', lanes: 'f64x2', rowBlock: 4, pointBlock: 2, layout: 'rowMajor', accumulators: 8 },
  packed('f32x4', 2, 16),
  packed('f32x4', 4, 8),
  packed('f32x4', 3, 16),
  packed('f32x4', 4, 16),
  packed('f32x4', 6, 8),
  packed('f32x4', 2, 24),
];

/** "f64x2 2×8 packed (8 acc)" */
export function describeShape(shape: KernelShape): string {
  return `${shape.lanes} ${shape.rowBlock}×${shape.pointBlock} ${shape.layout} (${shape.accumulators} acc)`;
}
