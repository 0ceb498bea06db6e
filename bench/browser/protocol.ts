/**
 * What the Node driver (run.ts) and the benchmark page (page.ts) say to each other, and where
 * the page finds the peers' files under the served bench/node_modules.
 */
import type { ExactnessResult } from '../report.js';
import type { RoundRobinMeasurement, RoundRobinOptions } from '../roundRobin.js';
import type { Agreement } from '../search/agreement.js';

/** The URL path under which the server exposes bench/node_modules. */
export const PEERS_URL_PATH = '/node_modules/';

/** Files of the peer packages the page loads, relative to bench/node_modules. */
export const PEER_FILES = {
  /** onnxruntime-web with only its wasm backend, as an ES module. */
  onnxRuntime: 'onnxruntime-web/dist/ort.wasm.min.mjs',
  /** The folder of its wasm binary and the module that instantiates it. */
  onnxRuntimeWasmFolder: 'onnxruntime-web/dist/',
  onnxRuntimeWasm: 'onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
  /** The module that instantiates that binary; with numThreads > 1 its pthread workers load it too. */
  onnxRuntimeWasmModule: 'onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
  /** TF.js core and its wasm backend as classic scripts (UMD: they set the global `tf`). */
  tensorFlowCore: '@tensorflow/tfjs-core/dist/tf-core.min.js',
  tensorFlowWasmBackend: '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js',
  tensorFlowWasmFolder: '@tensorflow/tfjs-backend-wasm/dist/',
  /** The binary a cross-origin isolated page loads (the backend picks it when it has SharedArrayBuffer). */
  tensorFlowWasm: '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
} as const;

/**
 * The browser bench's implementations, by command-line name. A `2t` implementation runs on two
 * threads (knnet's worker pool; onnxruntime-web with numThreads = 2), the others on one.
 */
export const BROWSER_IMPLEMENTATIONS = [
  'knnet', 'knnet-2t', 'onnx-web-f64', 'onnx-web-f32', 'onnx-web-2t-f64', 'onnx-web-2t-f32', 'tfjs', 'naive',
] as const;
export type BrowserImplementationName = (typeof BROWSER_IMPLEMENTATIONS)[number];

/**
 * Each sample waits 100 ms first: onnxruntime-web's 2-thread pool, like onnxruntime-node's,
 * spins on after a run and would take a core from the next sample. Without the pause, knnet on
 * 2 threads read 1.59× its 1-thread W2 throughput in a full run with the onnxruntime-web rows,
 * and 1.79× in a quick run of the knnet rows alone.
 */
export const FULL_ROUNDS: RoundRobinOptions = { minRounds: 7, maxRounds: 25, maxSeconds: 20, sampleSeconds: 0.05, settleSeconds: 0.1 };
export const QUICK_ROUNDS: RoundRobinOptions = { minRounds: 3, maxRounds: 5, maxSeconds: 2, sampleSeconds: 0.02, settleSeconds: 0.1 };

/**
 * The search workloads' implementations in the page: knnet's rows, and static-kdtree (bundled
 * from bench/node_modules beside the page, as STATIC_KDTREE_BUNDLE, when it is installed).
 */
export const BROWSER_SEARCH_IMPLEMENTATIONS = ['knnet-auto', 'knnet-tree', 'knnet-brute', 'static-kdtree'] as const;
export type BrowserSearchImplementationName = (typeof BROWSER_SEARCH_IMPLEMENTATIONS)[number];

/** The file, beside the page, that holds static-kdtree bundled as an ES module (default export: createKDTree). */
export const STATIC_KDTREE_BUNDLE = 'static-kdtree.js';

export interface BrowserRequest {
  /** Workload names (bench/workloads.ts) to time, in order. */
  workloads: string[];
  exactness: boolean;
  implementations: BrowserImplementationName[];
  rounds: RoundRobinOptions;
  /** Search workload names (bench/search/workloads.ts), run on `searchPoints` points each. */
  searchWorkloads: string[];
  searchImplementations: BrowserSearchImplementationName[];
  searchPoints: number;
}

/** One search row timed in the page: round-robin figures per call of `queries` queries. */
export interface BrowserSearchMeasurement extends RoundRobinMeasurement {
  n: number;
  d: number;
  microsecondsPerQuery: number;
  buildSeconds: number;
  /** What ran, where it is not the row's name (an option left out, the algorithm picked). */
  ran: string;
  /** Against knnet 'brute''s answers on the first queries, ties allowed. */
  agreement?: Agreement;
}

export type BrowserMeasurement = RoundRobinMeasurement;

export interface PageReport {
  userAgent: string;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  /** Which knnet build ran (plain or relaxed SIMD), as knnet reports it. */
  knnetBuild: string;
  measurements: BrowserMeasurement[];
  searchMeasurements: BrowserSearchMeasurement[];
  exactness: ExactnessResult[];
  notes: string[];
}
