/**
 * onnxruntime-node (native CPU runtime) running the knn network as an ONNX graph built by
 * onnx/model.ts, in float64 or float32, on one thread (intra- and inter-op).
 */
import { buildKnnModel, type OnnxElementType } from '../onnx/model.js';
import { CLASS_COUNT, type WorkloadData } from '../workloads.js';
import { importPeer } from './resolve.js';
import type { Implementation, PreparedRun } from './types.js';

// The slice of onnxruntime-node's API used here (its types live in bench/node_modules,
// which the main build must not depend on).
interface OrtTensor {
  data: ArrayLike<number | bigint>;
  dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface OnnxRuntime {
  Tensor: new (type: string, data: Float32Array | Float64Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> };
}

export async function loadOnnxRuntime(): Promise<OnnxRuntime> {
  const module = await importPeer<Partial<OnnxRuntime> & { default?: OnnxRuntime }>('onnxruntime-node');
  return module.InferenceSession ? (module as OnnxRuntime) : module.default!;
}

export const SINGLE_THREAD_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

function toIndices(values: ArrayLike<number | bigint>): Int32Array {
  const result = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) result[i] = Number(values[i]);
  return result;
}

export async function createOnnxImplementation(elementType: OnnxElementType): Promise<Implementation> {
  const runtime = await loadOnnxRuntime();
  const short = elementType === 'float64' ? 'f64' : 'f32';
  return {
    name: `onnx-${short}`,
    label: `onnxruntime-node ${short}`,
    precision: short,
    note: elementType === 'float32'
      ? 'onnxruntime-node f32: native code, float32 expansion without centring (loses neighbours under an offset)'
      : 'onnxruntime-node f64: native code (MLAS), one thread',
    unsupported: (spec) => (spec.weights === 'distance' ? "no 'distance' graph built" : undefined),
    async prepare(data: WorkloadData, queryCount: number): Promise<PreparedRun> {
      const { spec, train, labels, queries } = data;
      const model = buildKnnModel({
        train, labels, n: spec.n, d: spec.d, classCount: CLASS_COUNT, k: spec.k, lambda: spec.lambda, elementType,
      });
      const session = await runtime.InferenceSession.create(model, SINGLE_THREAD_OPTIONS);
      const queryData = queries.subarray(0, queryCount * spec.d);
      // Converting the queries to the session's type is done once, outside the timed call.
      const input = new runtime.Tensor(
        elementType, elementType === 'float64' ? queryData : Float32Array.from(queryData), [queryCount, spec.d],
      );
      let last: Record<string, OrtTensor> | undefined;
      const predict = async () => {
        last = await session.run({ queries: input });
      };
      return {
        queryCount,
        predict,
        async predictions() {
          if (!last) await predict();
          return toIndices(last!.prediction.data);
        },
        neighbours: spec.k === 'all' ? undefined : async () => {
          if (!last) await predict();
          return toIndices(last!.neighbours.data);
        },
        dispose: () => session.release(),
      };
    },
  };
}
