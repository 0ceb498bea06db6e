/**
 * The processor a run measured on, printed with every table: ratios between implementations
 * move with the CPU (a native peer may use AVX-512 where wasm SIMD stops at 128 bits), so a
 * figure means little without it.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface Processor {
  model: string;
  /** Whether the CPU has AVX-512 (the avx512f flag in /proc/cpuinfo); undefined where that cannot be read. */
  avx512?: boolean;
}

/** AVX-512 from the flags of /proc/cpuinfo (Linux only). */
export function avx512FromCpuinfo(cpuinfo: string): boolean | undefined {
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo);
  return flags ? flags[1].split(/\s+/).includes('avx512f') : undefined;
}

export function processor(): Processor {
  let avx512: boolean | undefined;
  try {
    avx512 = avx512FromCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    avx512 = undefined;
  }
  return { model: cpus()[0]?.model ?? 'unknown CPU', avx512 };
}

/** "CPU: AMD EPYC (AVX-512: yes)". */
export function describeProcessor(cpu: Processor): string {
  const avx = cpu.avx512 === undefined ? 'AVX-512: unknown' : `AVX-512: ${cpu.avx512 ? 'yes' : 'no'}`;
  return `CPU: ${cpu.model} (${avx})`;
}
