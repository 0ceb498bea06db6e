/**
 * What the Node driver (run.ts) and the benchmark page (page.ts) say to each other, and where
 * the page finds the peers' files under the served bench/node_modules.
 */
import type { ExactnessResult } from '../report.js';
import type { RoundRobinMeasurement, RoundRobinOptions } from '../roundRobin.js';

/** The URL path under which the server exposes bench/node_modules. */
export const PEERS_URL_PATH = '/node_modules/';

/** Files of the peer packages the page loads, relative to bench/node_modules. */
export const PEER_FILES = {
  /** onnxruntime-web with only its wasm backend, as an ES module. */
  onnxRuntime: 'onnxruntime-web/dist/ort.wasm.min.mjs',
  /** The folder of its wasm binary and the module that instantiates it. */
  onnxRuntimeWasmFolder: 'onnxruntime-web/dist/',
  onnxRuntimeWasm: 'onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
  /** TF.js core and its wasm backend as classic scripts (UMD: they set the global `tf`). */
  tensorFlowCore: '@tensorflow/tfjs-core/dist/tf-core.min.js',
  tensorFlowWasmBackend: '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
  tensorFlowWasmFolder: '@tensorflow/tfjs-backend-wasm/dist/',
  tensorFlowWasm: '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
} as const;

/** The browser bench's implementations, by command-line name. */
export const BROWSER_IMPLEMENTATIONS = ['knnet', 'onnx-web-f64', 'onnx-web-f32', 'tfjs', 'naive'] as const;
export type BrowserImplementationName = (typeof BROWSER_IMPLEMENTATIONS)[number];

export const FULL_ROUNDS: RoundRobinOptions = { minRounds: 7, maxRounds: 25, maxSeconds: 20, sampleSeconds: 0.05 };
export const QUICK_ROUNDS: RoundRobinOptions = { minRounds: 3, maxRounds: 5, maxSeconds: 2, sampleSeconds: 0.02 };

export interface BrowserRequest {
  /** Workload names (bench/workloads.ts) to time, in order. */
  workloads: string[];
  exactness: boolean;
  implementations: BrowserImplementationName[];
  rounds: RoundRobinOptions;
}

export type BrowserMeasurement = RoundRobinMeasurement;

export interface PageReport {
  userAgent: string;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  /** Which knnet build ran (plain or relaxed SIMD), as knnet reports it. */
  knnetBuild: string;
  measurements: BrowserMeasurement[];
  exactness: ExactnessResult[];
  notes: string[];
}
