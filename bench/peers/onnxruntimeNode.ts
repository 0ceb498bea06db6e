/** onnxruntime-node (native CPU runtime, MLAS) loaded from bench/node_modules, on one thread. */
import type { OnnxElementType } from '../onnx/model.js';
import { onnxImplementation, SINGLE_THREAD_OPTIONS, type OnnxRuntime } from './onnxruntime.js';
import { importPeer } from './resolve.js';
import type { Implementation } from './types.js';

export async function loadOnnxRuntime(): Promise<OnnxRuntime> {
  const module = await importPeer<Partial<OnnxRuntime> & { default?: OnnxRuntime }>('onnxruntime-node');
  return module.InferenceSession ? (module as OnnxRuntime) : module.default!;
}

export async function createOnnxImplementation(elementType: OnnxElementType): Promise<Implementation> {
  return onnxImplementation(await loadOnnxRuntime(), elementType, {
    name: 'onnx',
    label: 'onnxruntime-node',
    note: 'native code (MLAS), one thread',
    sessionOptions: SINGLE_THREAD_OPTIONS,
  });
}
