/** onnxruntime-node (native CPU runtime, MLAS) loaded from bench/node_modules, on one thread or more. */
import type { OnnxElementType } from '../onnx/model.js';
import { onnxImplementation, SINGLE_THREAD_OPTIONS, type OnnxRuntime } from './onnxruntime.js';
import { importPeer } from './resolve.js';
import type { Implementation } from './types.js';

export async function loadOnnxRuntime(): Promise<OnnxRuntime> {
  const module = await importPeer<Partial<OnnxRuntime> & { default?: OnnxRuntime }>('onnxruntime-node');
  return module.InferenceSession ? (module as OnnxRuntime) : module.default!;
}

/** onnxruntime-node with `threads` intra-op threads: onnx-f64 for one, onnx2t-f64 for two. */
export async function createOnnxImplementation(elementType: OnnxElementType, threads = 1): Promise<Implementation> {
  return onnxImplementation(await loadOnnxRuntime(), elementType, {
    name: threads === 1 ? 'onnx' : `onnx${threads}t`,
    label: threads === 1 ? 'onnxruntime-node' : `onnxruntime-node ${threads}t`,
    note: threads === 1 ? 'native code (MLAS), one thread' : `native code (MLAS), ${threads} intra-op threads`,
    threads,
    sessionOptions: { ...SINGLE_THREAD_OPTIONS, intraOpNumThreads: threads },
  });
}
