// Which build of the kernels runs: plain SIMD, or relaxed SIMD (fused multiply-adds in the
// candidate GEMM). Both are inlined; the first network picks the relaxed one when the engine
// validates relaxed SIMD, unless setKernelBuild asked otherwise.
import { KnnError, describeValue } from './errors.js';
import { threadsSupported } from './threads.js';

/**
 * A build of the wasm kernels: 'plain' (WebAssembly SIMD, which every supported engine has) or
 * 'relaxed' (relaxed SIMD, with fused multiply-adds: Node 22 and later, Chromium 114 and later).
 */
export type KernelBuild = 'plain' | 'relaxed';
/** 'auto' (the default): relaxed where the engine supports it, plain elsewhere. */
export type KernelBuildChoice = 'auto' | KernelBuild;

/** What kernelInfo() reports: the build in use, the choice behind it, and what the engine supports. */
export interface KernelInfo {
  /** The build that networks fitted (or loaded) from now on run on. */
  readonly build: KernelBuild;
  /** What setKernelBuild last asked for ('auto' unless it was called). */
  readonly choice: KernelBuildChoice;
  /** What this JavaScript engine validates. */
  readonly engine: {
    /** WebAssembly relaxed SIMD (Node 22 and later, Chromium 114 and later; not Node 20). */
    readonly relaxedSimd: boolean;
    /**
     * Shared wasm memory and workers, which the `threads` option needs: Node, and browser pages
     * that are cross-origin isolated (served with COOP and COEP headers).
     */
    readonly threads: boolean;
  };
}

// A module of one function (v128, v128, v128) → v128 whose body is f64x2.relaxed_madd: it
// validates exactly where relaxed SIMD does.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) → v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code section: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // local.get 0, 1, 2
  0xfd, 0x87, 0x02, // f64x2.relaxed_madd (0xfd prefix, opcode 0x107)
  0x0b, // end
]);

const CHOICES: readonly KernelBuildChoice[] = ['auto', 'plain', 'relaxed'];
let choice: KernelBuildChoice = 'auto';
let relaxedSimd: boolean | undefined;

function engineValidatesRelaxedSimd(): boolean {
  relaxedSimd ??= WebAssembly.validate(RELAXED_SIMD_PROBE);
  return relaxedSimd;
}

/**
 * Chooses the build for networks fitted (or loaded with fromBytes) from now on: 'plain' forces
 * plain SIMD everywhere, 'relaxed' requires relaxed SIMD (a KnnError where the engine lacks it),
 * 'auto' (the default) takes relaxed SIMD where it validates. Networks keep the build they
 * were made with. Both builds give the same bits from predict, predictProba, kneighbors and
 * score; forward's z1 and the softmax over all points (k: 'all') are the same in both too.
 */
export function setKernelBuild(build: KernelBuildChoice): void {
  if (!CHOICES.includes(build)) {
    throw new KnnError('BAD_OPTION', `setKernelBuild(build): build must be one of ${CHOICES.map((c) => `'${c}'`).join(', ')}; got ${describeValue(build)}.`);
  }
  if (build === 'relaxed' && !engineValidatesRelaxedSimd()) {
    throw new KnnError('BAD_OPTION', "setKernelBuild('relaxed'): this JavaScript engine does not support WebAssembly relaxed SIMD; use 'auto' or 'plain'.");
  }
  choice = build;
}

/** The build the next network gets. */
export function selectedBuild(): KernelBuild {
  if (choice !== 'auto') return choice;
  return engineValidatesRelaxedSimd() ? 'relaxed' : 'plain';
}

/** Which build networks fitted from now on run on, why, and what the engine supports. */
export function kernelInfo(): KernelInfo {
  return { build: selectedBuild(), choice, engine: { relaxedSimd: engineValidatesRelaxedSimd(), threads: threadsSupported() } };
}
