/**
 * The knn network as an ONNX graph, encoded by hand (no onnx Python package here).
 *
 *   layer 1  z1 = ‖x‖² + x·W1 + b1   with W1 = −2·Xᵀ (d × n), b1_i = ‖X_i‖²   (MatMul, Add)
 *   layer 2  hard: TopK(z1, k, smallest)           soft: Softmax(−λ·z1)
 *   layer 3  hard: Σ over the k of Gather(Y, idx)  soft: z2·Y                 (Y one-hot, n × C)
 *            prediction = ArgMax(z3)  (first maximum: ties go to the lower class)
 * Unlike knnet, the graph does not centre the data: it is the textbook expansion, so float32
 * shows the cancellation that centring avoids.
 *
 * Field numbers below are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, …).
 */
import { MessageWriter } from './protobuf.js';

export type OnnxElementType = 'float32' | 'float64';

// TensorProto.DataType
const DATA_TYPE = { float32: 1, int64: 7, float64: 11 } as const;
// AttributeProto.AttributeType
const ATTRIBUTE_INT = 2;

const IR_VERSION = 8; // pairs with opset 17
const OPSET_VERSION = 17;

interface Tensor {
  name: string;
  dims: number[];
  type: keyof typeof DATA_TYPE;
  data: Float32Array | Float64Array | BigInt64Array;
}

function tensorProto(tensor: Tensor): MessageWriter {
  const message = new MessageWriter();
  for (const dim of tensor.dims) message.integer(1, dim); // dims
  message.integer(2, DATA_TYPE[tensor.type]); // data_type
  message.string(8, tensor.name); // name
  // raw_data: little-endian bytes (typed arrays are little-endian on every platform Node runs on)
  message.bytes(9, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  return message;
}

/** A tensor's declared type; a string dimension is symbolic (dim_param), a number fixed (dim_value). */
function valueInfoProto(name: string, type: keyof typeof DATA_TYPE, shape: (number | string)[]): MessageWriter {
  const shapeMessage = new MessageWriter();
  for (const dim of shape) {
    const dimension = new MessageWriter();
    if (typeof dim === 'number') dimension.integer(1, dim);
    else dimension.string(2, dim);
    shapeMessage.message(1, dimension); // TensorShapeProto.dim
  }
  const tensorType = new MessageWriter().integer(1, DATA_TYPE[type]).message(2, shapeMessage); // elem_type, shape
  const typeMessage = new MessageWriter().message(1, tensorType); // TypeProto.tensor_type
  return new MessageWriter().string(1, name).message(2, typeMessage); // ValueInfoProto name, type
}

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number>; // integer attributes are all this graph uses
}

function nodeProto(node: Node, index: number): MessageWriter {
  const message = new MessageWriter();
  for (const input of node.inputs) message.string(1, input);
  for (const output of node.outputs) message.string(2, output);
  message.string(3, `${node.op.toLowerCase()}_${index}`); // name
  message.string(4, node.op); // op_type
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    message.message(5, new MessageWriter().string(1, name).integer(3, value).integer(20, ATTRIBUTE_INT));
  }
  return message;
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
  const graphMessage = new MessageWriter();
  graph.nodes.forEach((node, index) => graphMessage.message(1, nodeProto(node, index)));
  graphMessage.string(2, graph.name);
  for (const tensor of graph.initializers) graphMessage.message(5, tensorProto(tensor));
  for (const input of graph.inputs) graphMessage.message(11, valueInfoProto(input.name, input.type, input.shape));
  for (const output of graph.outputs) graphMessage.message(12, valueInfoProto(output.name, output.type, output.shape));

  const opset = new MessageWriter().string(1, '').integer(2, OPSET_VERSION);
  return new MessageWriter()
    .integer(1, IR_VERSION) // ir_version
    .string(2, 'knnet-bench') // producer_name
    .message(8, opset) // opset_import
    .message(7, graphMessage) // graph
    .finish();
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
