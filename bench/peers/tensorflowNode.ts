/** TensorFlow.js with its wasm backend, loaded from bench/node_modules into Node. */
import { importPeer } from './resolve.js';
import { tensorFlowImplementation, type TensorFlow } from './tensorflow.js';
import type { Implementation } from './types.js';

let backendReady: Promise<TensorFlow> | undefined;

async function loadTensorFlow(): Promise<TensorFlow> {
  const module = await importPeer<Partial<TensorFlow> & { default?: TensorFlow }>('@tensorflow/tfjs-core');
  const tf = module.setBackend ? (module as TensorFlow) : module.default!;
  await importPeer('@tensorflow/tfjs-backend-wasm'); // registers the 'wasm' backend
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not initialise its wasm backend');
  await tf.ready();
  return tf;
}

export async function createTensorFlowImplementation(): Promise<Implementation> {
  backendReady ??= loadTensorFlow();
  return tensorFlowImplementation(await backendReady, 'in Node');
}
