/**
 * The browser benchmark page, bundled by chromium.ts with esbuild. It loads the peers from the
 * served bench/node_modules (never from a CDN), generates the workloads of bench/workloads.ts,
 * times every implementation round-robin in this one page, checks exactness, and hands the
 * driver its report through `window.runBrowserBench`. The page is cross-origin isolated, so the
 * two-thread implementations (knnet's worker pool, onnxruntime-web with two threads) can share
 * memory with their workers.
 */
import { kernelInfo } from '../../src/index.js';
import { measureExactness } from '../exactness.js';
import { knnetThreadsImplementation, knnetWasmImplementation } from '../peers/knnet.js';
import { naiveImplementation } from '../peers/naive.js';
import { onnxImplementation, SINGLE_THREAD_OPTIONS, type OnnxHost, type OnnxRuntime } from '../peers/onnxruntime.js';
import { tensorFlowImplementation, type TensorFlow } from '../peers/tensorflow.js';
import type { Implementation } from '../peers/types.js';
import { measureRoundRobin } from '../roundRobin.js';
import { WORKLOADS } from '../workloads.js';
import {
  PEER_FILES, PEERS_URL_PATH,
  type BrowserImplementationName, type BrowserMeasurement, type BrowserRequest, type PageReport,
} from './protocol.js';
import { runSearchInPage } from './searchPage.js';

/** The knnet build that runs (plain or relaxed SIMD), as kernelInfo reports it. */
function knnetBuild(): string {
  const info = kernelInfo();
  return `${info.build} SIMD (the engine ${info.engine.relaxedSimd ? 'has' : 'lacks'} relaxed SIMD)`;
}

const peerUrl = (file: string) => new URL(PEERS_URL_PATH + file, location.href).href;

interface OnnxRuntimeWeb extends OnnxRuntime {
  env: { wasm: { wasmPaths?: string; numThreads?: number; proxy?: boolean } };
}

/** The instance of onnxruntime-web for each thread count. */
const onnxRuntimes = new Map<number, Promise<OnnxRuntime>>();

/**
 * onnxruntime-web running on `threads` threads. One instance of the runtime has one thread
 * count: its first session reads env.wasm.numThreads and sizes the thread pool every later
 * session shares (the wasm backend ignores a session's intraOpNumThreads). So each thread count
 * imports the runtime under its own URL (a query string): the browser evaluates a separate copy
 * of the module, with its own env and its own wasm instance, and one-thread and two-thread
 * sessions run side by side in this page.
 */
async function loadOnnxRuntimeWeb(threads: number): Promise<OnnxRuntime> {
  const url = peerUrl(PEER_FILES.onnxRuntime) + (threads === 1 ? '' : `?threads=${threads}`);
  const ort = (await import(/* a URL on the local server, not bundled */ url)) as OnnxRuntimeWeb;
  ort.env.wasm.wasmPaths = peerUrl(PEER_FILES.onnxRuntimeWasmFolder);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false; // run in this page's thread, as knnet does
  return {
    Tensor: ort.Tensor,
    InferenceSession: {
      async create(model, options) {
        const session = await ort.InferenceSession.create(model, options);
        // Without shared memory the runtime falls back to one thread and says so only by
        // resetting numThreads: a two-thread row must not time one thread.
        if (ort.env.wasm.numThreads !== threads) {
          await session.release();
          throw new Error(`onnxruntime-web runs ${ort.env.wasm.numThreads} thread(s) where ${threads} were asked`);
        }
        return session;
      },
    },
  };
}

const onnxRuntimeWeb = (threads: number) => {
  let runtime = onnxRuntimes.get(threads);
  if (!runtime) onnxRuntimes.set(threads, (runtime = loadOnnxRuntimeWeb(threads)));
  return runtime;
};

const onnxWebHost = (threads: number): OnnxHost => ({
  name: threads === 1 ? 'onnx-web' : `onnx-web-${threads}t`,
  label: threads === 1 ? 'onnxruntime-web' : `onnxruntime-web ${threads}t`,
  note: threads === 1 ? 'wasm backend, one thread' : `wasm backend, ${threads} threads (env.wasm.numThreads, its own instance of the runtime)`,
  threads,
  sessionOptions: { ...SINGLE_THREAD_OPTIONS, intraOpNumThreads: threads, executionProviders: ['wasm'] },
});

interface TensorFlowWithWasm extends TensorFlow {
  wasm: { setWasmPaths(prefix: string): void; getThreadsCount(): number };
  env(): { set(flag: string, value: boolean): void };
}

let tensorFlowReady: Promise<TensorFlowWithWasm> | undefined;

function loadScript(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = url;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`cannot load ${url}`));
    document.head.append(script);
  });
}

async function loadTensorFlowWasm(): Promise<TensorFlowWithWasm> {
  // The UMD builds: core sets the global `tf`, the backend adds `tf.wasm` and registers 'wasm'.
  await loadScript(peerUrl(PEER_FILES.tensorFlowCore));
  await loadScript(peerUrl(PEER_FILES.tensorFlowWasmBackend));
  const tf = (globalThis as unknown as { tf: TensorFlowWithWasm }).tf;
  tf.wasm.setWasmPaths(peerUrl(PEER_FILES.tensorFlowWasmFolder));
  // In a cross-origin isolated page the backend would load its threaded build. Even pinned to
  // one thread (setThreadsCount(1)) that build took a core from the 2-thread rows: knnet 2t ÷
  // 1t on W2 read 1.11× in a quick run with TF.js in the page and 1.79× without. Its
  // single-threaded build keeps the row on one thread and leaves the other core alone.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not initialise its wasm backend');
  await tf.ready();
  return tf;
}

const FACTORIES: Record<BrowserImplementationName, () => Promise<Implementation>> = {
  knnet: async () => knnetWasmImplementation,
  'knnet-2t': async () => knnetThreadsImplementation(2),
  'onnx-web-f64': async () => onnxImplementation(await onnxRuntimeWeb(1), 'float64', onnxWebHost(1)),
  'onnx-web-f32': async () => onnxImplementation(await onnxRuntimeWeb(1), 'float32', onnxWebHost(1)),
  'onnx-web-2t-f64': async () => onnxImplementation(await onnxRuntimeWeb(2), 'float64', onnxWebHost(2)),
  'onnx-web-2t-f32': async () => onnxImplementation(await onnxRuntimeWeb(2), 'float32', onnxWebHost(2)),
  tfjs: async () => {
    const tf = await (tensorFlowReady ??= loadTensorFlowWasm());
    const threads = tf.wasm.getThreadsCount();
    return tensorFlowImplementation(tf, `in Chromium (the backend reports ${threads} thread${threads === 1 ? '' : 's'})`);
  },
  naive: async () => naiveImplementation,
};

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function runBrowserBench(request: BrowserRequest): Promise<PageReport> {
  if (!crossOriginIsolated) {
    throw new Error('the benchmark page is not cross-origin isolated: no SharedArrayBuffer, so no two-thread rows');
  }
  const notes: string[] = [];
  const implementations: Implementation[] = [];
  for (const name of request.implementations) {
    try {
      const implementation = await FACTORIES[name]();
      implementations.push(implementation);
      if (implementation.note) notes.push(implementation.note);
    } catch (error) {
      notes.push(`${name} skipped: ${errorMessage(error)}`);
      console.log(`skipping ${name}: ${errorMessage(error)}`);
    }
  }
  const measurements: BrowserMeasurement[] = [];
  for (const name of request.workloads) {
    const spec = WORKLOADS.find((workload) => workload.name === name);
    if (!spec) throw new Error(`unknown workload ${name}`);
    console.log(`${spec.name}: n=${spec.n}, d=${spec.d}, q=${spec.q}, k=${spec.k}, ${spec.weights} — ${spec.description}`);
    measurements.push(...(await measureRoundRobin(spec, implementations, request.rounds, notes)));
  }
  const searchMeasurements = await runSearchInPage(request, notes);
  let exactness: PageReport['exactness'] = [];
  if (request.exactness) {
    console.log('exactness: first queries of W2 and W2+1000, against the knnet reference');
    exactness = await measureExactness(implementations, notes);
  }
  return {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated,
    knnetBuild: knnetBuild(),
    measurements,
    searchMeasurements,
    exactness,
    notes,
  };
}

(window as unknown as { runBrowserBench: typeof runBrowserBench }).runBrowserBench = runBrowserBench;
document.querySelector('#build')!.textContent = `knnet build: ${knnetBuild()}`;
