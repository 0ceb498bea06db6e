/**
 * The wasm ceiling and memory-stream probes (bench/probe/, written separately). They are loaded
 * with a computed specifier so the bench still builds and runs without them.
 */
export interface Ceiling {
  f64x2Gflops: number;
  f32x4Gflops: number;
}

async function importOptional(relativePath: string): Promise<Record<string, unknown> | undefined> {
  const specifier = new URL(relativePath, import.meta.url).href;
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/** The in-cache wasm SIMD micro-GEMM peak, or a reason why it is not available. */
export async function measureCeiling(): Promise<Ceiling | string> {
  const module = await importOptional('./probe/ceiling.js');
  const measure = module?.measureSimdCeiling;
  if (typeof measure !== 'function') return 'bench/probe/ceiling.ts not found: no ceiling column';
  try {
    const { f64x2Gflops, f32x4Gflops } = (await measure()) as Ceiling;
    return { f64x2Gflops, f32x4Gflops };
  } catch (error) {
    return `ceiling probe failed: ${(error as Error).message}`;
  }
}

/** GB/s to stream `bytes` once from memory in wasm, or a reason why it is not available. */
export async function measureStream(bytes: number): Promise<number | string> {
  const module = await importOptional('./probe/stream.js');
  const measure = module?.measureMemoryStream;
  if (typeof measure !== 'function') return 'bench/probe/stream.ts not found: no streaming bound';
  try {
    return ((await measure(bytes)) as { gigabytesPerSecond: number }).gigabytesPerSecond;
  } catch (error) {
    return `stream probe failed: ${(error as Error).message}`;
  }
}
