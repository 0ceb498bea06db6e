// Prints the ceiling and memory-stream probes:  node dist/bench/probe/run-probes.js [--shapes]
import { measureKernelShapes, measureSimdCeiling } from './ceiling.js';
import { measureMemoryStream } from './stream.js';

async function main(): Promise<void> {
  if (process.argv.includes('--shapes')) {
    console.log('micro-GEMM shapes (in-cache, best of 3 × 0.3 s):');
    for (const m of await measureKernelShapes()) console.log(`  ${m.label.padEnd(32)} ${m.gflops.toFixed(2).padStart(6)} GFLOP/s`);
  }
  const ceiling = await measureSimdCeiling();
  console.log(`wasm SIMD ceiling: f64x2 ${ceiling.f64x2Gflops.toFixed(2)} GFLOP/s, f32x4 ${ceiling.f32x4Gflops.toFixed(2)} GFLOP/s  [${ceiling.kernel}]`);
  const bytes = 100 * 2 ** 20;
  const stream = await measureMemoryStream(bytes);
  console.log(`memory stream (${bytes / 2 ** 20} MiB once): ${stream.gigabytesPerSecond.toFixed(2)} GB/s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
