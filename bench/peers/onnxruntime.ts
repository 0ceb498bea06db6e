/**
 * onnxruntime running the knn network as an ONNX graph built by onnx/model.ts, in float64 or
 * float32, on the host's intra-op threads (one or more). The same adapter serves
 * onnxruntime-node (native CPU runtime) and onnxruntime-web (its wasm backend), whose APIs are
 * the same (onnxruntime-common); the caller loads the runtime (onnxruntimeNode.ts, browser/page.ts). On the cosine workload it
 * runs the same graph on L2-normalised training points and queries (normalised in float64
 * before the session is built, outside the timed call).
 */
import { buildKnnModel, type OnnxElementType } from '../onnx/model.js';
import { asUnitVectors, CLASS_COUNT, type WorkloadData } from '../workloads.js';
import type { Implementation, PreparedRun } from './types.js';

// The slice of onnxruntime's API used here (its types live in bench/node_modules, which the
// main build must not depend on).
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

/** Which onnxruntime runs the graph: names the rows and picks the session options. */
export interface OnnxHost {
  /** Prefix of the command-line name: `onnx` gives onnx-f64, onnx-f32. */
  name: string;
  /** Prefix of the row label, the package name: `onnxruntime-node`. */
  label: string;
  /** Said under the table, after the precision. */
  note: string;
  /** Intra-op threads its sessions run on (sessionOptions says the same to onnxruntime). */
  threads: number;
  sessionOptions: Record<string, unknown>;
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

export function onnxImplementation(runtime: OnnxRuntime, elementType: OnnxElementType, host: OnnxHost): Implementation {
  const short = elementType === 'float64' ? 'f64' : 'f32';
  return {
    name: `${host.name}-${short}`,
    label: `${host.label} ${short}`,
    precision: short,
    threads: host.threads,
    note: elementType === 'float32'
      ? `${host.label} f32: ${host.note}, float32 expansion without centring (loses neighbours under an offset)`
      : `${host.label} f64: ${host.note}`,
    unsupported: (spec) => (spec.weights === 'distance' ? "no 'distance' graph built" : undefined),
    async prepare(data: WorkloadData, queryCount: number): Promise<PreparedRun> {
      const { spec, train, labels, queries } = asUnitVectors(data);
      const model = buildKnnModel({
        train, labels, n: spec.n, d: spec.d, classCount: CLASS_COUNT, k: spec.k, lambda: spec.lambda, elementType,
      });
      const session = await runtime.InferenceSession.create(model, host.sessionOptions);
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
