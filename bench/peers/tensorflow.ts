/**
 * TensorFlow.js with its WebAssembly backend (XNNPACK, SIMD, one thread), computing the same
 * network: z1 = ‖x‖² − 2·x·Xᵀ + ‖X‖², then topk + gathered one-hot votes (hard) or
 * softmax(−λ·z1)·Y (soft), argMax. On the cosine workload it takes the approach of TF.js's
 * knn-classifier instead (prepareCosine). Its wasm backend is float32 only. The caller loads
 * TF.js and makes 'wasm' its backend (tensorflowNode.ts, browser/page.ts).
 */
import { CLASS_COUNT, type WorkloadData } from '../workloads.js';
import type { Implementation, PreparedRun } from './types.js';

// The slice of @tensorflow/tfjs-core used here (its types live in bench/node_modules).
interface Tensor {
  data(): Promise<Float32Array | Int32Array>;
  dispose(): void;
}
export interface TensorFlow {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tidy<T>(fn: () => T): T;
  tensor2d(values: Float32Array | Int32Array, shape: [number, number], dtype?: string): Tensor;
  tensor1d(values: Float32Array | Int32Array, dtype?: string): Tensor;
  matMul(a: Tensor, b: Tensor, transposeA?: boolean, transposeB?: boolean): Tensor;
  add(a: Tensor, b: Tensor): Tensor;
  mul(a: Tensor, b: Tensor | number): Tensor;
  div(a: Tensor, b: Tensor): Tensor;
  norm(a: Tensor, ord?: string, axis?: number, keepDims?: boolean): Tensor;
  neg(a: Tensor): Tensor;
  sum(a: Tensor, axis?: number, keepDims?: boolean): Tensor;
  square(a: Tensor): Tensor;
  topk(a: Tensor, k: number, sorted?: boolean): { values: Tensor; indices: Tensor };
  gather(a: Tensor, indices: Tensor, axis?: number): Tensor;
  softmax(a: Tensor, axis?: number): Tensor;
  argMax(a: Tensor, axis?: number): Tensor;
  dispose(tensors: Tensor | Tensor[]): void;
}

function oneHotLabels(labels: Int32Array, n: number): Float32Array {
  const oneHot = new Float32Array(n * CLASS_COUNT);
  for (let i = 0; i < n; i++) oneHot[i * CLASS_COUNT + labels[i]] = 1;
  return oneHot;
}

/**
 * The cosine path, as TF.js's knn-classifier computes it: the training rows divided by their
 * norms once (the classifier caches that matrix), the queries divided by theirs inside the timed
 * call, similarities = queries · trainingᵀ, the k largest by topk, one-hot votes, argMax (ties
 * to the lower class). knn-classifier's own predictClass takes one example per call; this
 * batches all queries into one matMul, which only makes TF.js faster.
 */
function prepareCosine(tf: TensorFlow, data: WorkloadData, queryCount: number): PreparedRun {
  const { spec, train, labels, queries } = data;
  const { n, d } = spec;
  const k = spec.k as number;
  const classesOneHot = tf.tensor2d(oneHotLabels(labels, n), [n, CLASS_COUNT]);
  const unitTrain = tf.tidy(() => {
    const points = tf.tensor2d(Float32Array.from(train), [n, d]);
    return tf.div(points, tf.norm(points, 'euclidean', 1, true));
  });
  const queryValues = Float32Array.from(queries.subarray(0, queryCount * d));

  let lastPredictions: Int32Array | undefined;
  let lastNeighbours: Int32Array | undefined;
  const predict = async () => {
    const [prediction, neighbours] = tf.tidy(() => {
      const input = tf.tensor2d(queryValues, [queryCount, d]);
      const unitQueries = tf.div(input, tf.norm(input, 'euclidean', 1, true));
      const similarities = tf.matMul(unitQueries, unitTrain, false, true);
      const { indices } = tf.topk(similarities, k, true);
      const votes = tf.sum(tf.gather(classesOneHot, indices, 0), 1);
      return [tf.argMax(votes, 1), indices];
    });
    lastPredictions = (await prediction.data()) as Int32Array;
    lastNeighbours = (await neighbours.data()) as Int32Array;
    tf.dispose([prediction, neighbours]);
  };
  return {
    queryCount,
    predict,
    async predictions() {
      if (!lastPredictions) await predict();
      return lastPredictions!;
    },
    async neighbours() {
      if (!lastNeighbours) await predict();
      return lastNeighbours!;
    },
    dispose: () => tf.dispose([unitTrain, classesOneHot]),
  };
}

export function tensorFlowImplementation(tf: TensorFlow, where: string): Implementation {
  return {
    name: 'tfjs',
    label: 'TF.js wasm (f32)',
    precision: 'f32',
    threads: 1,
    note: `TF.js wasm: float32 only (its wasm backend has no float64), one thread ${where}`,
    unsupported: (spec) => {
      if (spec.weights === 'distance') return "no 'distance' graph built";
      return spec.metric === 'cosine' && spec.k === 'all' ? "knn-classifier's cosine approach is top-k only" : undefined;
    },
    async prepare(data: WorkloadData, queryCount: number): Promise<PreparedRun> {
      if (data.spec.metric === 'cosine') return prepareCosine(tf, data, queryCount);
      const { spec, train, labels, queries } = data;
      const { n, d } = spec;
      const oneHot = oneHotLabels(labels, n);
      const minusTwoTrain = new Float32Array(n * d);
      const trainNorms = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let norm = 0;
        for (let j = 0; j < d; j++) {
          minusTwoTrain[i * d + j] = -2 * train[i * d + j];
          norm += train[i * d + j] ** 2;
        }
        trainNorms[i] = norm;
      }
      // The network's weights live in the backend for the whole run, as knnet's do.
      const weights1 = tf.tensor2d(minusTwoTrain, [n, d]);
      const bias1 = tf.tensor1d(trainNorms);
      const classesOneHot = tf.tensor2d(oneHot, [n, CLASS_COUNT]);
      const queryValues = Float32Array.from(queries.subarray(0, queryCount * d));
      const k = spec.k;

      let lastPredictions: Int32Array | undefined;
      let lastNeighbours: Int32Array | undefined;
      const predict = async () => {
        const [prediction, neighbours] = tf.tidy(() => {
          const input = tf.tensor2d(queryValues, [queryCount, d]);
          const queryNorms = tf.sum(tf.square(input), 1, true);
          const z1 = tf.add(tf.add(tf.matMul(input, weights1, false, true), bias1), queryNorms);
          if (k === 'all') {
            const z2 = tf.softmax(tf.mul(z1, -spec.lambda), 1);
            return [tf.argMax(tf.matMul(z2, classesOneHot), 1)];
          }
          const { indices } = tf.topk(tf.neg(z1), k, true); // topk takes the largest: negate
          const votes = tf.sum(tf.gather(classesOneHot, indices, 0), 1);
          return [tf.argMax(votes, 1), indices];
        });
        lastPredictions = (await prediction.data()) as Int32Array;
        lastNeighbours = neighbours ? ((await neighbours.data()) as Int32Array) : undefined;
        tf.dispose(neighbours ? [prediction, neighbours] : [prediction]);
      };
      return {
        queryCount,
        predict,
        async predictions() {
          if (!lastPredictions) await predict();
          return lastPredictions!;
        },
        neighbours: k === 'all' ? undefined : async () => {
          if (!lastNeighbours) await predict();
          return lastNeighbours!;
        },
        dispose: () => tf.dispose([weights1, bias1, classesOneHot]),
      };
    },
  };
}
