// Ceiling probe: the machine's wasm SIMD peak for the distance layer's shape of work, measured
// as a register-blocked micro-GEMM whose operands sit in L1 (ceiling.asm.ts).
import { describeShape, kernelShapes, type KernelShape, type Lanes } from './kernels.js';
import { packBlocks } from './layout.js';
import { now, secondsSince, seededValues } from './timing.js';
import { instantiateProbe, type ProbeInstance } from './wasm.js';

export interface CeilingOptions {
  /** Seconds per timed run of the final measurement (default 0.3). */
  seconds?: number;
  /** Timed runs; the best counts (default 3). */
  runs?: number;
}

export interface ShapeMeasurement {
  shape: KernelShape;
  label: string;
  gflops: number;
}

/** Product sizes: a multiple of every block; A + B + out ≈ 20 KB, inside a 32 KB L1d. */
const rows = 12;
const depth = 64;
const colsFor: Record<Lanes, number> = { f64x2: 24, f32x4: 48 };

/** One product A·Bᵀ loaded into probe memory in the layout `shape` expects. */
export interface LoadedProduct {
  flopsPerRep: number;
  run(reps: number): void;
  /** The last run's out (rows × cols, row-major), as f64. */
  result(): Float64Array;
}

export function loadProduct(
  probe: ProbeInstance,
  shape: KernelShape,
  a: Float64Array,
  b: Float64Array,
  productRows: number,
  productCols: number,
  productDepth: number,
): LoadedProduct {
  const Floats = shape.lanes === 'f64x2' ? Float64Array : Float32Array;
  const packedA = shape.layout === 'packed' ? packBlocks(new Floats(a), productRows, productDepth, shape.rowBlock) : new Floats(a);
  const packedB = shape.layout === 'packed' ? packBlocks(new Floats(b), productCols, productDepth, shape.pointBlock) : new Floats(b);
  const aPtr = probe.allocate(packedA.byteLength);
  const bPtr = probe.allocate(packedB.byteLength);
  const outPtr = probe.allocate(productRows * productCols * Floats.BYTES_PER_ELEMENT);
  new Floats(probe.memory.buffer, aPtr, packedA.length).set(packedA);
  new Floats(probe.memory.buffer, bPtr, packedB.length).set(packedB);
  const kernel = probe.kernel(shape.exportName);
  return {
    flopsPerRep: 2 * productRows * productCols * productDepth,
    run(reps: number) {
      kernel(aPtr, bPtr, outPtr, productRows, productCols, productDepth, reps);
    },
    result() {
      return Float64Array.from(new Floats(probe.memory.buffer, outPtr, productRows * productCols));
    },
  };
}

/** GFLOP/s of `shape`: best of `runs` runs of at least `seconds` each, after a warm-up. */
async function timeShape(shape: KernelShape, seconds: number, runs: number): Promise<number> {
  const probe = await instantiateProbe();
  const cols = colsFor[shape.lanes];
  const product = loadProduct(probe, shape, seededValues(rows * depth, 1), seededValues(cols * depth, 2), rows, cols, depth);

  // Warm up (tier-up to optimised code) and size one call to ~10 ms.
  let reps = 16;
  for (;;) {
    const start = now();
    product.run(reps);
    if (secondsSince(start) >= 0.01) break;
    reps *= 2;
  }

  let best = 0;
  for (let run = 0; run < runs; run++) {
    let calls = 0;
    const start = now();
    let elapsed = 0;
    do {
      product.run(reps);
      calls++;
      elapsed = secondsSince(start);
    } while (elapsed < seconds);
    best = Math.max(best, (product.flopsPerRep * reps * calls) / elapsed / 1e9);
  }
  return best;
}

/** Every shape in kernels.ts, each timed the same way. */
export async function measureKernelShapes(options: CeilingOptions = {}): Promise<ShapeMeasurement[]> {
  const seconds = options.seconds ?? 0.3;
  const runs = options.runs ?? 3;
  const measurements: ShapeMeasurement[] = [];
  for (const shape of kernelShapes) {
    measurements.push({ shape, label: describeShape(shape), gflops: await timeShape(shape, seconds, runs) });
  }
  return measurements;
}

function fastest(measurements: readonly ShapeMeasurement[], lanes: Lanes): ShapeMeasurement {
  const candidates = measurements.filter((m) => m.shape.lanes === lanes);
  return candidates.reduce((best, m) => (m.gflops > best.gflops ? m : best));
}

/**
 * The wasm SIMD ceiling for f64x2 and f32x4 micro-GEMMs on in-cache data: every shape is screened
 * briefly, then the fastest of each lane type is timed for `seconds` (≥ 0.3 s) `runs` times.
 */
export async function measureSimdCeiling(
  options: CeilingOptions = {},
): Promise<{ f64x2Gflops: number; f32x4Gflops: number; kernel: string }> {
  const seconds = Math.max(options.seconds ?? 0.3, 0.3);
  const runs = options.runs ?? 3;
  const screened = await measureKernelShapes({ seconds: 0.08, runs: 2 });
  const f64 = fastest(screened, 'f64x2');
  const f32 = fastest(screened, 'f32x4');
  return {
    f64x2Gflops: await timeShape(f64.shape, seconds, runs),
    f32x4Gflops: await timeShape(f32.shape, seconds, runs),
    kernel: `${f64.label}; ${f32.label}`,
  };
}
