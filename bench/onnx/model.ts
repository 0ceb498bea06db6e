/**
 * The knn network as an ONNX graph, encoded with onnx-proto (the ONNX schema as protobufjs code).
 *
 *   layer 1  z1 = ‖x‖² + x·W1 + b1   with W1 = −2·Xᵀ (d × n), b1_i = ‖X_i‖²   (MatMul, Add)
 *   layer 2  hard: TopK(z1, k, smallest)           soft: Softmax(−λ·z1)
 *   layer 3  hard: Σ over the k of Gather(Y, idx)  soft: z2·Y                 (Y one-hot, n × C)
 *            prediction = ArgMax(z3)  (first maximum: ties go to the lower class)
 * Unlike knnet, the graph does not centre the data: it is the textbook expansion, so float32
 * shows the cancellation that centring avoids.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type OnnxElementType = 'float32' | 'float64';

const DATA_TYPE = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  float64: onnx.TensorProto.DataType.DOUBLE,
} as const;

const IR_VERSION = 8; // pairs with opset 17
const OPSET_VERSION = 17;

interface Tensor {
  name: string;
  dims: number[];
  type: keyof typeof DATA_TYPE;
  data: Float32Array | Float64Array | BigInt64Array;
}

function tensorProto(tensor: Tensor): onnxProto.onnx.ITensorProto {
  return {
    dims: tensor.dims,
    dataType: DATA_TYPE[tensor.type],
    name: tensor.name,
    // raw_data: little-endian bytes (typed arrays are little-endian on every platform we run on)
    rawData: new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
  };
}

/** A tensor's declared type; a string dimension is symbolic (dim_param), a number fixed (dim_value). */
function valueInfoProto(name: string, type: keyof typeof DATA_TYPE, shape: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  const dim = shape.map((size) => (typeof size === 'number' ? { dimValue: size } : { dimParam: size }));
  return { name, type: { tensorType: { elemType: DATA_TYPE[type], shape: { dim } } } };
}

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number>; // integer attributes are all this graph uses
}

function nodeProto(node: Node, index: number): onnxProto.onnx.INodeProto {
  return {
    input: node.inputs,
    output: node.outputs,
    name: `${node.op.toLowerCase()}_${index}`,
    opType: node.op,
    attribute: Object.entries(node.attributes ?? {}).map(([name, value]) =>
      ({ name, i: value, type: onnx.AttributeProto.AttributeType.INT })),
  };
}

export interface GraphDescription {
  name: string;
  inputs: { name: string; type: keyof typeof DATA_TYPE; shape: (number | string)[] }[];
  outputs: { name: string; type: keyof typeof DATA_TYPE; shape: (number | string)[] }[];
  initializers: Tensor[];
  nodes: Node[];
}

/** Encodes a ModelProto holding one graph, default domain, opset 17. */
export function encodeModel(graph: GraphDescription): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: IR_VERSION,
    producerName: 'knnet-bench',
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    graph: {
      node: graph.nodes.map(nodeProto),
      name: graph.name,
      initializer: graph.initializers.map(tensorProto),
      input: graph.inputs.map((input) => valueInfoProto(input.name, input.type, input.shape)),
      output: graph.outputs.map((output) => valueInfoProto(output.name, output.type, output.shape)),
    },
  }).finish();
}

export interface KnnGraphOptions {
  train: Float64Array; // n × d
  labels: Int32Array; // n, class indices
  n: number;
  d: number;
  classCount: number;
  /** A number for the top-k network, 'all' for the softmax over every training point. */
  k: number | 'all';
  lambda: number;
  elementType: OnnxElementType;
}

/**
 * The three-layer knn network over fixed training data. Input `queries` (q × d); outputs
 * `prediction` (q, int64 class index) and, for top-k, `neighbours` (q × k, int64 indices).
 */
export function buildKnnModel(options: KnnGraphOptions): Uint8Array {
  const { train, labels, n, d, classCount, k, lambda, elementType } = options;
  const FloatArray = elementType === 'float64' ? Float64Array : Float32Array;

  const weights1 = new FloatArray(d * n); // −2·Xᵀ, so MatMul(queries, weights1) is q × n
  const bias1 = new FloatArray(n);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const value = train[i * d + j];
      weights1[j * n + i] = -2 * value;
      norm += value * value;
    }
    bias1[i] = norm;
  }
  const oneHot = new FloatArray(n * classCount);
  for (let i = 0; i < n; i++) oneHot[i * classCount + labels[i]] = 1;

  const int64 = (name: string, values: number[]): Tensor =>
    ({ name, dims: [values.length], type: 'int64', data: BigInt64Array.from(values.map(BigInt)) });
  const initializers: Tensor[] = [
    { name: 'weights1', dims: [d, n], type: elementType, data: weights1 },
    { name: 'bias1', dims: [1, n], type: elementType, data: bias1 },
    { name: 'classes_one_hot', dims: [n, classCount], type: elementType, data: oneHot },
    int64('axis_features', [1]),
  ];
  const nodes: Node[] = [
    { op: 'Mul', inputs: ['queries', 'queries'], outputs: ['queries_squared'] },
    { op: 'ReduceSum', inputs: ['queries_squared', 'axis_features'], outputs: ['query_norms'], attributes: { keepdims: 1 } },
    { op: 'MatMul', inputs: ['queries', 'weights1'], outputs: ['cross_terms'] },
    { op: 'Add', inputs: ['cross_terms', 'bias1'], outputs: ['partial_distances'] },
    { op: 'Add', inputs: ['partial_distances', 'query_norms'], outputs: ['z1'] },
  ];
  const outputs: GraphDescription['outputs'] = [{ name: 'prediction', type: 'int64', shape: ['q'] }];

  if (k === 'all') {
    initializers.push({ name: 'minus_lambda', dims: [1], type: elementType, data: FloatArray.from([-lambda]) });
    nodes.push(
      { op: 'Mul', inputs: ['z1', 'minus_lambda'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['z2'], attributes: { axis: 1 } },
      { op: 'MatMul', inputs: ['z2', 'classes_one_hot'], outputs: ['z3'] },
    );
  } else {
    initializers.push(int64('k', [k]), int64('axis_neighbours', [1]));
    nodes.push(
      { op: 'TopK', inputs: ['z1', 'k'], outputs: ['nearest_distances', 'neighbours'], attributes: { axis: 1, largest: 0, sorted: 1 } },
      { op: 'Gather', inputs: ['classes_one_hot', 'neighbours'], outputs: ['neighbour_votes'], attributes: { axis: 0 } },
      { op: 'ReduceSum', inputs: ['neighbour_votes', 'axis_neighbours'], outputs: ['z3'], attributes: { keepdims: 0 } },
    );
    outputs.push({ name: 'neighbours', type: 'int64', shape: ['q', k] });
  }
  nodes.push({ op: 'ArgMax', inputs: ['z3'], outputs: ['prediction'], attributes: { axis: 1, keepdims: 0 } });

  return encodeModel({
    name: k === 'all' ? 'knn_softmax' : 'knn_top_k',
    inputs: [{ name: 'queries', type: elementType, shape: ['q', d] }],
    outputs,
    initializers,
    nodes,
  });
}
