// The benchmark's own correctness helpers (bench/): no timing is asserted here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasChromium, missingPeers, runPage } from '../bench/browser/chromium.js';
import { BROWSER_IMPLEMENTATIONS, BROWSER_SEARCH_IMPLEMENTATIONS } from '../bench/browser/protocol.js';
import { checkBrowserTargets, checkThreadTargets, ratiosOf, threadRatiosOf } from '../bench/browser/report.js';
import { describeRounds, measureRoundRobin, quantile, timeRoundRobin, type RoundRobinMeasurement } from '../bench/roundRobin.js';
import { buildKnnModel } from '../bench/onnx/model.js';
import onnxProto from 'onnx-proto';
import { majorityVote, naiveImplementation, naiveKNeighbours, naiveSoftmaxPredict } from '../bench/peers/naive.js';
import { SINGLE_THREAD_OPTIONS } from '../bench/peers/onnxruntime.js';
import { createOnnxImplementation, loadOnnxRuntime } from '../bench/peers/onnxruntimeNode.js';
import { benchFolder, resolvePeer } from '../bench/peers/resolve.js';
import { SeededRandom } from '../src/random.js';
import { asUnitVectors, CLASS_COUNT, COSINE_WORKLOAD, loadWorkload, unitRows, WORKLOADS, type WorkloadSpec } from '../bench/workloads.js';
import { extrapolateAddSeconds, measureAddThroughput } from '../bench/addThroughput.js';
import { measureExactness } from '../bench/exactness.js';
import { knnetThreadsImplementation, knnetWasmImplementation } from '../bench/peers/knnet.js';
import { createTensorFlowImplementation } from '../bench/peers/tensorflowNode.js';
import type { Implementation } from '../bench/peers/types.js';
import { formatMarkdown, formatText, type RunReport } from '../bench/report.js';
import { checkTargets, cosineComparison, threadsTargets, type AddMeasurement, type Measurement } from '../bench/targets.js';
import { compareThreads, threadsRatios } from '../bench/threadsComparison.js';
import { ReferenceNetwork } from '../src/reference.js';
import { KnnError, KnnNetwork } from '../src/index.js';
import { decadeLabel, renderChart } from '../bench/chart.js';
import { hnswlibImplementations, importHnswlib } from '../bench/embeddings/hnswlib.js';
import { measureEmbeddings, type EmbeddingsResult } from '../bench/embeddings/suite.js';
import { EMBEDDINGS_WORKLOAD, generateEmbeddings } from '../bench/embeddings/workload.js';
import { avx512FromCpuinfo, describeProcessor } from '../bench/machine.js';
import { knnetBruteImplementation } from '../bench/peers/knnet.js';
import {
  adaptOptions, describeRun, fitWithPending, NOT_YET_SUPPORTED, searchAlgorithmOf, supportsOption, type PendingOptions,
} from '../bench/peers/knnetOptions.js';
import { importMlKnn } from '../bench/peers/mlKnn.js';
import { importPeer } from '../bench/peers/resolve.js';
import { createFloat32StreamPass } from '../bench/probe/stream.js';
import { familyOf } from '../bench/resultsChart.js';
import { compareNeighbours, recallAtK } from '../bench/search/agreement.js';
import type { PairComparison } from '../bench/search/comparisons.js';
import { knnetSearchImplementation } from '../bench/search/knnetSearch.js';
import { mlKnnSearchImplementation } from '../bench/search/mlKnnSearch.js';
import { FAISS_MODULES, FAISS_PEERS, findPython, runPythonPeers, TREE_MODULES, TREE_PEERS } from '../bench/search/pythonPeers.js';
import { staticKdtreeImplementation, type CreateKdTree } from '../bench/search/staticKdtree.js';
import { measureSearchWorkload, type SearchMeasurement, type SearchWorkloadResult } from '../bench/search/suite.js';
import { FULL_SEARCH_TIMING, QUICK_SEARCH_TIMING, queriesForBudget, timeSearch } from '../bench/search/timing.js';
import type { SearchImplementation } from '../bench/search/types.js';
import { loadSearchWorkload, SEARCH_WORKLOADS, withPoints, type SearchSpec } from '../bench/search/workloads.js';
import { formatSearchMarkdown, formatSearchText, type SearchSuiteReport } from '../bench/searchReport.js';
import { checkSearchTargets } from '../bench/searchTargets.js';
import { measureSmallCalls } from '../bench/smallCalls.js';

const tiny: WorkloadSpec = {
  name: 'tiny', description: 'test', n: 60, d: 3, q: 12, k: 4, weights: 'uniform', lambda: 1, offset: 0, seed: 42,
};

describe('workload generation', () => {
  it('gives the same points, labels and queries every time for the same seed', () => {
    const first = loadWorkload(tiny);
    const second = loadWorkload({ ...tiny });
    expect(Array.from(second.train)).toEqual(Array.from(first.train));
    expect(Array.from(second.labels)).toEqual(Array.from(first.labels));
    expect(Array.from(second.queries)).toEqual(Array.from(first.queries));
  });

  it('gives different data for a different seed', () => {
    expect(Array.from(loadWorkload({ ...tiny, seed: 43 }).train)).not.toEqual(Array.from(loadWorkload(tiny).train));
  });

  it('draws a single query as the prefix of a larger query batch over the same training set (W4 in W3)', () => {
    const many = loadWorkload({ ...tiny, q: 10 });
    const one = loadWorkload({ ...tiny, q: 1 });
    expect(Array.from(one.queries)).toEqual(Array.from(many.queries.subarray(0, tiny.d)));
  });

  it('uses labels 0…9 and shifts every coordinate by the offset', () => {
    const plain = loadWorkload(tiny);
    const shifted = loadWorkload({ ...tiny, offset: 1000 });
    expect(Math.max(...plain.labels)).toBeLessThan(CLASS_COUNT);
    expect(shifted.train[7] - plain.train[7]).toBeCloseTo(1000, 9);
  });

  it('draws uniforms in [0, 1) and normals with mean near 0 and variance near 1', () => {
    const random = new SeededRandom(7);
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < 20_000; i++) {
      const value = random.normal();
      sum += value;
      squares += value * value;
    }
    expect(Math.abs(sum / 20_000)).toBeLessThan(0.03);
    expect(Math.abs(squares / 20_000 - 1)).toBeLessThan(0.05);
    for (let i = 0; i < 1000; i++) expect(random.uniform()).toBeLessThan(1);
  });

  it('defines the workloads of issue 3', () => {
    expect(WORKLOADS.map((w) => `${w.name}:${w.n}x${w.d}:${w.q}:${w.k}`)).toEqual([
      'iris:105x4:45:5', 'W2:10000x64:1000:5', 'W3:100000x128:100:5', 'W4:100000x128:1:5', 'soft:10000x64:1000:all',
    ]);
  });
});

describe('the naive loop', () => {
  const data = loadWorkload(tiny);

  it('finds the same neighbours and predictions as the knnet reference', async () => {
    const matrix = { data: data.train, rows: tiny.n, cols: tiny.d };
    const queries = { data: data.queries, rows: tiny.q, cols: tiny.d };
    const reference = await ReferenceNetwork.fit(matrix, data.labels, { k: 4 });
    const naive = naiveKNeighbours(data.train, tiny.n, tiny.d, data.queries, tiny.q, 4);
    const expected = reference.kneighbors(queries, 4);
    expect(Array.from(naive.indices)).toEqual(Array.from(expected.indices));
    // The reference reports Euclidean distances; the naive loop keeps squared ones.
    naive.distances.forEach((squared, i) => expect(Math.sqrt(squared)).toBeCloseTo(expected.distances[i], 10));
    expect(Array.from(majorityVote(naive.indices, data.labels, tiny.q, 4, CLASS_COUNT)))
      .toEqual(Array.from(reference.predict(queries), Number));
  });

  it('agrees with the reference softmax network over all points', async () => {
    const matrix = { data: data.train, rows: tiny.n, cols: tiny.d };
    const queries = { data: data.queries, rows: tiny.q, cols: tiny.d };
    const reference = await ReferenceNetwork.fit(matrix, data.labels, { k: 'all', weights: 'softmax', lambda: 0.5 });
    expect(Array.from(naiveSoftmaxPredict(data.train, data.labels, tiny.n, tiny.d, data.queries, tiny.q, 0.5, CLASS_COUNT)))
      .toEqual(Array.from(reference.predict(queries), Number));
  });

  it('breaks distance ties toward the lower training index', () => {
    const train = Float64Array.from([1, 0, -1, 0, 0, 1, 5, 5]); // three points at distance 1 from the origin
    const { indices } = naiveKNeighbours(train, 4, 2, Float64Array.from([0, 0]), 1, 2);
    expect(Array.from(indices)).toEqual([0, 1]);
  });
});

describe('the ONNX encoding of the network', () => {
  const { onnx } = onnxProto;
  const data = loadWorkload(tiny);
  const decode = (bytes: Uint8Array) => onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number });

  it('declares opset 17 and the three layers, with weights −2·Xᵀ and biases ‖X_i‖² as raw little-endian float64', () => {
    const model = decode(buildKnnModel({
      train: data.train, labels: data.labels, n: tiny.n, d: tiny.d, classCount: CLASS_COUNT, k: 4, lambda: 1, elementType: 'float64',
    }));
    expect(model.irVersion).toBe(8);
    expect(model.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(model.graph.node.map((node: { opType: string }) => node.opType))
      .toEqual(['Mul', 'ReduceSum', 'MatMul', 'Add', 'Add', 'TopK', 'Gather', 'ReduceSum', 'ArgMax']);
    const topK = model.graph.node[5];
    expect(topK.attribute.map((a: { name: string; i: number }) => [a.name, a.i])).toEqual([['axis', 1], ['largest', 0], ['sorted', 1]]);
    const initializer = (name: string) => model.graph.initializer.find((tensor: { name: string }) => tensor.name === name);
    const weights = initializer('weights1');
    expect(weights.dims).toEqual([tiny.d, tiny.n]);
    expect(weights.dataType).toBe(onnx.TensorProto.DataType.DOUBLE);
    const values = new Float64Array(Uint8Array.from(weights.rawData).buffer);
    expect(values[2 * tiny.n + 5]).toBe(-2 * data.train[5 * tiny.d + 2]);
    const bias = new Float64Array(Uint8Array.from(initializer('bias1').rawData).buffer);
    expect(bias[5]).toBeCloseTo(data.train[15] ** 2 + data.train[16] ** 2 + data.train[17] ** 2, 12);
    expect(model.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: 'q' }, { dimValue: tiny.d }]);
  });

  it('builds the softmax network for k all, in float32', () => {
    const model = decode(buildKnnModel({
      train: data.train, labels: data.labels, n: tiny.n, d: tiny.d, classCount: CLASS_COUNT, k: 'all', lambda: 0.5, elementType: 'float32',
    }));
    expect(model.graph.node.map((node: { opType: string }) => node.opType))
      .toEqual(['Mul', 'ReduceSum', 'MatMul', 'Add', 'Add', 'Mul', 'Softmax', 'MatMul', 'ArgMax']);
    const lambda = model.graph.initializer.find((tensor: { name: string }) => tensor.name === 'minus_lambda');
    expect(lambda.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(new Float32Array(Uint8Array.from(lambda.rawData).buffer)[0]).toBe(-0.5);
    expect(model.graph.output.map((output: { name: string }) => output.name)).toEqual(['prediction']);
  });
});

describe('the ONNX model of the network', () => {
  const runtimeInstalled = resolvePeer('onnxruntime-node') !== undefined;
  const data = loadWorkload(tiny);

  it('finds bench/package.json, where the peers are installed, from the source tree', () => {
    expect(existsSync(join(benchFolder(), 'package.json'))).toBe(true);
  });

  it.skipIf(!runtimeInstalled)('is accepted by onnxruntime and matches the naive loop, in float64 and float32', async () => {
    const runtime = await loadOnnxRuntime();
    const expected = naiveKNeighbours(data.train, tiny.n, tiny.d, data.queries, tiny.q, 4);
    for (const elementType of ['float64', 'float32'] as const) {
      const model = buildKnnModel({
        train: data.train, labels: data.labels, n: tiny.n, d: tiny.d, classCount: CLASS_COUNT, k: 4, lambda: 1, elementType,
      });
      const session = await runtime.InferenceSession.create(model, SINGLE_THREAD_OPTIONS);
      const values = elementType === 'float64' ? data.queries : Float32Array.from(data.queries);
      const outputs = await session.run({ queries: new runtime.Tensor(elementType, values, [tiny.q, tiny.d]) });
      expect(Array.from(outputs.neighbours.data, Number)).toEqual(Array.from(expected.indices));
      expect(Array.from(outputs.prediction.data, Number))
        .toEqual(Array.from(majorityVote(expected.indices, data.labels, tiny.q, 4, CLASS_COUNT)));
      await session.release();
    }
  });

  it.skipIf(!runtimeInstalled)('runs the softmax network (k all) like the naive loop', async () => {
    const runtime = await loadOnnxRuntime();
    const model = buildKnnModel({
      train: data.train, labels: data.labels, n: tiny.n, d: tiny.d, classCount: CLASS_COUNT, k: 'all', lambda: 0.5, elementType: 'float64',
    });
    const session = await runtime.InferenceSession.create(model, SINGLE_THREAD_OPTIONS);
    const outputs = await session.run({ queries: new runtime.Tensor('float64', data.queries, [tiny.q, tiny.d]) });
    expect(Array.from(outputs.prediction.data, Number))
      .toEqual(Array.from(naiveSoftmaxPredict(data.train, data.labels, tiny.n, tiny.d, data.queries, tiny.q, 0.5, CLASS_COUNT)));
    await session.release();
  });
});

describe('round-robin timing (the browser bench, the Node threads comparison)', () => {
  const busyWait = (milliseconds: number) => {
    const end = performance.now() + milliseconds;
    while (performance.now() < end);
  };

  it('takes one sample of each implementation in turn, starting each round one further along', async () => {
    const calls: string[] = [];
    // Each call lasts 3 ms, longer than a sample (1 ms): one call per sample.
    const contestant = (name: string, asynchronous: boolean) => ({
      name,
      call: () => {
        calls.push(name);
        busyWait(3);
        return asynchronous ? Promise.resolve() : undefined;
      },
    });
    const results = await timeRoundRobin([contestant('a', false), contestant('b', true), contestant('c', false)],
      { minRounds: 3, maxRounds: 3, maxSeconds: 0, sampleSeconds: 0.001 });
    expect(calls.slice(-9).join('')).toBe('abcbcacab');
    expect(calls.slice(0, -9).join('')).toMatch(/^a+b+c+$/); // warm-up, one contestant after the other
    for (const result of results) {
      expect(result.samples).toBe(3);
      expect(result.callsPerSample).toBe(1);
      expect(result.seconds).toBeGreaterThanOrEqual(0.003);
    }
  });

  it('repeats a short call until a sample lasts about the sample length', async () => {
    const [result] = await timeRoundRobin([{ name: 'short', call: () => busyWait(0.05) }],
      { minRounds: 2, maxRounds: 2, maxSeconds: 0, sampleSeconds: 0.005 });
    expect(result.callsPerSample).toBeGreaterThan(10);
    expect(result.seconds).toBeLessThan(0.001);
  });

  it('pauses before each sample when asked, and counts only the calls in the time', async () => {
    const starts: number[] = [];
    const contestant = (name: string) => ({ name, call: () => { starts.push(performance.now()); busyWait(3); } });
    const results = await timeRoundRobin([contestant('a'), contestant('b')],
      { minRounds: 2, maxRounds: 2, maxSeconds: 0, sampleSeconds: 0.001, settleSeconds: 0.03 });
    const timed = starts.slice(-4); // one call per sample: the four samples, after the warm-up
    for (let i = 1; i < timed.length; i++) expect(timed[i] - timed[i - 1]).toBeGreaterThanOrEqual(3 + 29);
    for (const result of results) expect(result.seconds).toBeLessThan(0.025);
    expect(describeRounds({ minRounds: 9, maxRounds: 15, maxSeconds: 20, sampleSeconds: 0.05 })).toBe('9 to 15 rounds');
    expect(describeRounds({ minRounds: 5, maxRounds: 5, maxSeconds: 0, sampleSeconds: 0.05 })).toBe('5 rounds');
  });

  it('takes quantiles by linear interpolation', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([7], 0.75)).toBe(7);
  });

  it('reports knnet over each peer and checks the Chromium targets', () => {
    const row = (implementation: string, queriesPerSecond: number) => ({
      workload: 'W2', implementation, label: implementation, precision: 'f64' as const, threads: 1, queries: 1, seconds: 1 / queriesPerSecond,
      relativeSpread: 0, samples: 1, callsPerSample: 1, queriesPerSecond, gflops: 0,
    });
    const ratios = ratiosOf([row('knnet', 300), row('onnx-web-f32', 200), row('onnx-web-f64', 100), row('naive', 30)]);
    expect(ratios).toEqual([{ workload: 'W2', toOnnxWebF32: 1.5, toOnnxWebF64: 3, toTensorFlow: undefined, toNaive: 10 }]);
    const targets = checkBrowserTargets(ratios, [{ implementation: 'knnet', label: 'knnet', workload: 'W2', fraction: 1, basis: 'neighbours' }]);
    expect(targets.map((t) => t.pass)).toEqual([true, true, undefined, undefined, true, undefined]);
  });

  it('reports knnet on two threads over one thread and over onnxruntime-web on two, and checks the thread targets', () => {
    const row = (workload: string, implementation: string, queriesPerSecond: number) => ({
      workload, implementation, label: implementation, precision: 'f64' as const, threads: implementation.includes('2t') ? 2 : 1, queries: 10,
      seconds: 10 / queriesPerSecond, relativeSpread: 0, samples: 1, callsPerSample: 1, queriesPerSecond, gflops: 0,
    });
    const ratios = threadRatiosOf([
      row('W2', 'knnet', 100), row('W2', 'knnet-2t', 190), row('W2', 'onnx-web-f64', 40), row('W2', 'onnx-web-2t-f64', 50),
      row('W2', 'onnx-web-2t-f32', 200),
      row('W4', 'knnet', 100), row('W4', 'knnet-2t', 125),
      row('W3', 'knnet', 100), row('W3', 'naive', 1), // no two-thread row: left out
    ]);
    expect(ratios).toEqual([
      { workload: 'W2', knnetTwoOverOne: 1.9, knnetLatencyTwoOverOne: expect.closeTo(100 / 190, 12), toOnnxWeb2tF64: 3.8, toOnnxWeb2tF32: 0.95, onnxWebF64TwoOverOne: 1.25 },
      { workload: 'W4', knnetTwoOverOne: 1.25, knnetLatencyTwoOverOne: expect.closeTo(0.8, 12), toOnnxWeb2tF64: undefined, toOnnxWeb2tF32: undefined, onnxWebF64TwoOverOne: undefined },
    ]);
    const targets = checkThreadTargets(ratios, [{ implementation: 'knnet-2t', label: 'knnet 2t', workload: 'W2', fraction: 1, basis: 'neighbours' }]);
    const verdict = (start: string) => targets.find((t) => t.target.startsWith(start))?.pass;
    expect(verdict('W2: knnet 2 threads ≥ 1.8× knnet 1 thread')).toBe(true);
    expect(verdict('W2: knnet 2 threads ≥ 1.2× onnxruntime-web f64')).toBe(true);
    expect(verdict('W3: knnet 2 threads ≥ 1.8×')).toBeUndefined();
    expect(verdict('W4: knnet 2 threads latency ≤ 0.65×')).toBe(false); // 0.8× the latency
    expect(verdict('W2: knnet 2 threads returns 100 %')).toBe(true);
    expect(verdict('W2+1000: knnet 2 threads returns 100 %')).toBeUndefined();
  });
});

const wasmEmbedded = existsSync(fileURLToPath(new URL('../src/generated/wasmBinary.ts', import.meta.url)));
const browserPeersInstalled = hasChromium && missingPeers().size === 0;

describe.runIf(wasmEmbedded && browserPeersInstalled)('the browser bench page in headless Chromium', () => {
  it('times every implementation on iris-size in one cross-origin isolated page, from local files only, and checks exactness', async () => {
    const { report, browser } = await runPage({
      workloads: ['iris'],
      exactness: true,
      implementations: [...BROWSER_IMPLEMENTATIONS],
      rounds: { minRounds: 2, maxRounds: 2, maxSeconds: 0, sampleSeconds: 0.005 },
      searchWorkloads: [],
      searchImplementations: [],
      searchPoints: 0,
    }, () => {});
    expect(browser).toMatch(/Chrome\/\d+/);
    expect(report.notes.filter((note) => /refused|page error|failed|skipped/.test(note))).toEqual([]);
    expect(report.measurements.map((m) => m.implementation)).toEqual([...BROWSER_IMPLEMENTATIONS]);
    for (const m of report.measurements) expect(m.queriesPerSecond).toBeGreaterThan(0);
    const kept = (implementation: string, workload: string) =>
      report.exactness.find((e) => e.implementation === implementation && e.workload === workload)?.fraction;
    expect(kept('knnet', 'W2')).toBe(1);
    expect(kept('knnet', 'W2+1000')).toBe(1);
    expect(kept('knnet-2t', 'W2')).toBe(1);
    expect(kept('knnet-2t', 'W2+1000')).toBe(1);
    expect(kept('onnx-web-2t-f64', 'W2')).toBe(1);
    expect(report.crossOriginIsolated).toBe(true);
    expect(kept('onnx-web-f64', 'W2')).toBe(1);
    expect(kept('naive', 'W2+1000')).toBe(1);
    expect(report.knnetBuild).not.toBe('');
    expect(report.searchMeasurements).toEqual([]);
  }, 240_000);

  it.runIf(resolvePeer('static-kdtree') !== undefined)(
    "runs a search workload on fewer points, with static-kdtree bundled beside the page, and checks every row against knnet 'brute'",
    async () => {
      const { report } = await runPage({
        workloads: [],
        exactness: false,
        implementations: [],
        rounds: { minRounds: 2, maxRounds: 2, maxSeconds: 0, sampleSeconds: 0.005 },
        searchWorkloads: ['L2'],
        searchImplementations: [...BROWSER_SEARCH_IMPLEMENTATIONS],
        searchPoints: 3_000,
      }, () => {});
      expect(report.notes.filter((note) => /refused|page error|failed|skipped|DISAGREES/.test(note))).toEqual([]);
      expect(report.searchMeasurements.map((m) => [m.workload, m.implementation, m.n, m.d])).toEqual(
        BROWSER_SEARCH_IMPLEMENTATIONS.map((name) => ['L2', name, 3_000, 2]),
      );
      for (const m of report.searchMeasurements) {
        expect(m.queriesPerSecond).toBeGreaterThan(0);
        if (m.implementation !== 'knnet-brute') expect(m.agreement).toEqual({ checked: 100, agreeing: 100 });
      }
    },
    240_000,
  );
});

describe('the cosine workload (embeddings)', () => {
  const cosineTiny: WorkloadSpec = { ...tiny, name: 'tiny-cosine', metric: 'cosine' };
  const data = loadWorkload(cosineTiny);
  const k = cosineTiny.k as number;
  const trueNeighbours = async () => {
    const reference = await ReferenceNetwork.fit({ data: data.train, rows: tiny.n, cols: tiny.d }, data.labels, { k, metric: 'cosine' });
    return Array.from(reference.kneighbors({ data: data.queries, rows: tiny.q, cols: tiny.d }, k).indices);
  };
  const neighboursOf = async (implementation: Implementation) => {
    const run = await implementation.prepare(data, tiny.q);
    await run.predict();
    const found = Array.from(await run.neighbours!());
    await run.dispose();
    return found;
  };

  it("is W2's data with metric cosine, kept out of WORKLOADS (which the browser bench runs)", () => {
    const w2 = WORKLOADS.find((w) => w.name === 'W2')!;
    expect({ ...COSINE_WORKLOAD, name: w2.name, description: w2.description, metric: undefined }).toEqual({ ...w2, metric: undefined });
    expect(COSINE_WORKLOAD.metric).toBe('cosine');
    expect(WORKLOADS.some((w) => w.metric === 'cosine')).toBe(false);
  });

  it('gives peers unit rows, and leaves a Euclidean workload as it is', () => {
    const unit = unitRows(Float64Array.from([3, 4, 0, -2]), 2, 2);
    expect(Array.from(unit)).toEqual([0.6, 0.8, 0, -1]);
    const euclidean = loadWorkload(tiny);
    expect(asUnitVectors(euclidean)).toBe(euclidean);
    const prepared = asUnitVectors(data);
    for (let i = 0; i < tiny.n; i++) {
      const row = prepared.train.subarray(i * tiny.d, (i + 1) * tiny.d);
      expect(row.reduce((sum, x) => sum + x * x, 0)).toBeCloseTo(1, 12);
    }
    expect(prepared.queries.length).toBe(data.queries.length);
  });

  it('runs the naive loop on unit vectors, which finds the true cosine neighbours', async () => {
    expect(await neighboursOf(naiveImplementation)).toEqual(await trueNeighbours());
  });

  it.skipIf(!wasmEmbedded)('fits knnet with the workload metric, on one thread and on two', async () => {
    const truth = await trueNeighbours();
    expect(await neighboursOf(knnetWasmImplementation)).toEqual(truth);
    expect(await neighboursOf(knnetThreadsImplementation(2))).toEqual(truth);
  });

  it.skipIf(resolvePeer('onnxruntime-node') === undefined)('feeds onnxruntime the W2 graph on unit vectors (float64 and float32)', async () => {
    const truth = await trueNeighbours();
    expect(await neighboursOf(await createOnnxImplementation('float64'))).toEqual(truth);
    expect(await neighboursOf(await createOnnxImplementation('float32'))).toEqual(truth);
  });

  it.skipIf(resolvePeer('@tensorflow/tfjs-backend-wasm') === undefined || resolvePeer('@tensorflow/tfjs-core') === undefined)(
    "runs TF.js knn-classifier's approach: normalised matMul, topk of similarities",
    async () => {
      const tensorFlow = await createTensorFlowImplementation();
      expect(tensorFlow.unsupported(cosineTiny)).toBeUndefined();
      expect(await neighboursOf(tensorFlow)).toEqual(await trueNeighbours());
    },
    60_000,
  );

  it('scores exactness against the reference with metric cosine, not Euclidean', async () => {
    // The naive loop on the raw rows ranks by Euclidean distance: it must lose cosine neighbours.
    const euclideanNaive: Implementation = {
      ...naiveImplementation, name: 'euclidean-naive', prepare: (workload, count) => naiveImplementation.prepare({ ...workload, spec: tiny }, count),
    };
    const notes: string[] = [];
    const results = await measureExactness([naiveImplementation, euclideanNaive], notes, [cosineTiny]);
    expect(notes).toEqual([]);
    expect(results.map((r) => [r.implementation, r.workload, r.basis])).toEqual([
      ['naive', 'tiny-cosine', 'neighbours'], ['euclidean-naive', 'tiny-cosine', 'neighbours'],
    ]);
    expect(results[0].fraction).toBe(1);
    expect(results[1].fraction).toBeLessThan(1);
  });

  it("reports knnet's ratio to each implementation and its exactness", () => {
    const row = (implementation: string, queriesPerSecond: number): Measurement => ({
      workload: 'cosine', implementation, label: implementation, precision: 'f64', threads: 1, queries: 1, seconds: 1 / queriesPerSecond,
      relativeMarginOfError: 0, samples: 1, queriesPerSecond, gflops: 0,
    });
    const rows = cosineComparison([row('knnet', 300), row('tfjs', 100), { ...row('knnet', 1), workload: 'W2' }], [
      { implementation: 'tfjs', label: 'tfjs', workload: 'cosine', fraction: 0.98, basis: 'neighbours' },
      { implementation: 'tfjs', label: 'tfjs', workload: 'W2', fraction: 0.5, basis: 'neighbours' },
    ]);
    expect(rows.map((r) => [r.implementation, r.knnetRatio, r.neighboursKept])).toEqual([['knnet', 1, undefined], ['tfjs', 3, 0.98]]);
  });
});

describe('add throughput', () => {
  it('extrapolates a per-add time linear in the size exactly, and a constant one as an average', () => {
    // Per-add time 1 + size seconds, a seed of 2 points, batches of 2 adds (to sizes 2, 3 and 4, 5).
    const linear = [{ size: 2, adds: 2, seconds: 3 + 4 }, { size: 4, adds: 2, seconds: 5 + 6 }];
    const allTen = Array.from({ length: 10 }, (_, i) => 1 + 2 + i).reduce((sum, x) => sum + x, 0);
    expect(extrapolateAddSeconds(linear, 2, 10)).toBeCloseTo(allTen, 12);
    expect(extrapolateAddSeconds([{ size: 2, adds: 5, seconds: 1 }], 2, 50)).toBeCloseTo(10, 12);
    expect(extrapolateAddSeconds(linear, 2, 4)).toBe(18);
  });

  it.skipIf(!wasmEmbedded)('times every add when the cap allows, and extrapolates nothing', async () => {
    const add = await measureAddThroughput({ d: 8, seedPoints: 3, adds: 40, k: 2, seed: 1, capSeconds: 600, fitRepeats: 1 });
    expect(add).toMatchObject({ d: 8, k: 2, seedPoints: 3, adds: 40, measuredAdds: 40, extrapolatedSeconds: undefined });
    expect(add.fitSeconds).toBeGreaterThan(0);
    expect(add.measuredRatioToFit).toBeCloseTo(add.measuredSeconds / add.fitSeconds, 12);
  });

  it.skipIf(!wasmEmbedded)('stops at the cap and extrapolates the rest, separately from the measured part', async () => {
    const add = await measureAddThroughput({ d: 8, seedPoints: 3, adds: 40, k: 2, seed: 1, capSeconds: 1e-9, fitRepeats: 1 });
    expect(add.measuredAdds).toBe(10);
    expect(add.extrapolatedSeconds).toBeGreaterThanOrEqual(add.measuredSeconds);
  });

  it('checks the add target: a complete run passes or misses; a capped run misses only on its measured part', () => {
    const add: AddMeasurement = {
      d: 512, k: 5, seedPoints: 10, adds: 10_000, fitSeconds: 1, fitRepeats: 3, measuredAdds: 10_000, measuredSeconds: 2,
      capSeconds: 30, measuredRatioToFit: 2,
    };
    const verdict = (measurement: AddMeasurement | undefined) => checkTargets([], undefined, measurement).find((t) => t.target.startsWith('add:'))!;
    expect(verdict(undefined).pass).toBeUndefined();
    expect(verdict(add).pass).toBe(true);
    expect(verdict({ ...add, measuredSeconds: 4, measuredRatioToFit: 4 }).pass).toBe(false);
    const capped = { ...add, measuredAdds: 500, measuredSeconds: 30, measuredRatioToFit: 30, extrapolatedSeconds: 9000 };
    expect(verdict(capped)).toMatchObject({ pass: false, measured: expect.stringMatching(/first 500 adds .*measured.*extrapolated ≈ 9,000×/) });
    expect(verdict({ ...capped, measuredSeconds: 2, measuredRatioToFit: 2 }).pass).toBeUndefined();
  });
});

describe('the threads comparison and the threads column', () => {
  const rows: [string, number, number][] = [ // implementation, threads, seconds per call
    ['knnet', 1, 0.010], ['knnet-2t', 2, 0.005], ['onnx-f64', 1, 0.020], ['onnx2t-f64', 2, 0.0125],
  ];
  const roundRobinRows = (workload: string, queries: number): RoundRobinMeasurement[] => rows.map(([implementation, threads, seconds]) => ({
    workload, implementation, label: implementation, precision: 'f64', threads, queries, seconds, relativeSpread: 0.1, samples: 5,
    callsPerSample: 5, queriesPerSecond: queries / seconds, gflops: 1,
  }));

  it('gives knnet 2t over 1t, over onnxruntime 2t and 1t, and onnxruntime 2t over 1t, per workload', () => {
    const [w2] = threadsRatios(roundRobinRows('W2', 1000));
    expect(w2.workload).toBe('W2');
    expect(w2.knnetTwoOverOne).toBeCloseTo(2, 12);
    expect(w2.knnetOverOnnxTwo).toBeCloseTo(2.5, 12);
    expect(w2.knnetOverOnnxOne).toBeCloseTo(2, 12);
    expect(w2.onnxTwoOverOne).toBeCloseTo(1.6, 12);
    const [alone] = threadsRatios(roundRobinRows('W3', 100).filter((m) => m.implementation.startsWith('knnet')));
    expect(alone).toMatchObject({ knnetOverOnnxTwo: undefined, knnetOverOnnxOne: undefined, onnxTwoOverOne: undefined });
  });

  it('checks the threads targets from the measured ratios: throughput for W2, W3, soft; latency for W4; async over sync for iris', () => {
    const verdicts = (ratios: ReturnType<typeof threadsRatios>) =>
      Object.fromEntries(threadsTargets(ratios).map((t) => [t.target.split(':')[0] + (t.target.includes('onnx') ? ' onnx' : ''), t.pass]));
    expect(verdicts([])).toEqual({
      'W2, 2 threads onnx': undefined, 'W2, 2 threads': undefined, 'W3, 2 threads onnx': undefined, 'W3, 2 threads': undefined,
      'soft, 2 threads onnx': undefined, 'soft, 2 threads': undefined, 'W4, 2 threads': undefined, 'iris-size': undefined,
    });
    const ratios = [
      { workload: 'W2', knnetTwoOverOne: 1.8, knnetOverOnnxTwo: 1.2 },
      { workload: 'W3', knnetTwoOverOne: 1.79, knnetOverOnnxTwo: 1.3 },
      { workload: 'soft', knnetTwoOverOne: 1.9, knnetOverOnnxTwo: 1.1 },
      { workload: 'W4', knnetTwoOverOne: 1 / 0.6 }, // 2-thread latency 0.6× the 1-thread one
      { workload: 'iris', knnetTwoOverOne: 1 / 2.5 }, // predictAsync 2.5× the sync time
    ];
    expect(verdicts(ratios)).toEqual({
      'W2, 2 threads': true, 'W2, 2 threads onnx': true, 'W3, 2 threads': false, 'W3, 2 threads onnx': true,
      'soft, 2 threads': true, 'soft, 2 threads onnx': false, 'W4, 2 threads': true, 'iris-size': false,
    });
    const w4 = threadsTargets(ratios).find((t) => t.target.startsWith('W4'))!;
    expect(w4.measured).toBe('0.60× the 1-thread latency');
    expect(checkTargets([], undefined, undefined, ratios).filter((t) => t.target.includes('round-robin'))).toEqual(threadsTargets(ratios));
  });

  it("shows each row's threads, marks the rows where that is what 'auto' gave, and prints the comparison", () => {
    const measurement = (implementation: string, threads: number): Measurement => ({
      workload: 'W2', implementation, label: implementation, precision: 'f64', threads, queries: 1000, seconds: 0.1,
      relativeMarginOfError: 1, samples: 5, queriesPerSecond: 10_000, gflops: 1,
    });
    const measurements = roundRobinRows('W2', 1000);
    const report: RunReport = {
      date: '2026-01-01T00:00:00.000Z',
      machine: { cpu: 'test CPU', cores: 2, node: '20', platform: 'linux-x64', availableParallelism: 2, threadsAuto: 2 },
      quick: true, filtered: true, measurements: [measurement('knnet', 1), measurement('knnet-2t', 2)], exactness: [],
      threads: { rounds: { minRounds: 5, maxRounds: 5, maxSeconds: 0, sampleSeconds: 0.05 }, measurements, ratios: threadsRatios(measurements) },
      targets: [], ratiosToOnnxF64: {}, notes: [],
    };
    const markdown = formatMarkdown(report);
    expect(markdown).toContain("threads: 'auto' resolves to 2 here (os.availableParallelism() = 2).");
    expect(markdown).toContain('| workload | implementation | prec. | threads | queries timed |');
    expect(markdown).toContain('| W2 | knnet | f64 | 1 | 1000 |');
    expect(markdown).toContain('| W2 | knnet-2t | f64 | 2 (auto) | 1000 |');
    expect(markdown).toContain('| W2 | knnet-2t | 2 (auto) | 1000 | 200,000 | 5.000 | 5 × 5 | 10 % |');
    expect(markdown).toContain('| W2 | 2.00× | 2.50× | 2.00× | 1.60× |');
    expect(formatText(report)).toMatch(/W2\s+knnet-2t\s+f64\s+2 \(auto\)\s+1000/);
  });

  it.skipIf(!wasmEmbedded)('times knnet on 1 and 2 threads side by side on a workload, and says each row\'s threads', async () => {
    const notes: string[] = [];
    const rounds = { minRounds: 2, maxRounds: 2, maxSeconds: 0, sampleSeconds: 0.002 };
    const measured = await measureRoundRobin(tiny, [knnetWasmImplementation, knnetThreadsImplementation(2)], rounds, notes);
    expect(notes).toEqual([]);
    expect(measured.map((m) => [m.implementation, m.threads, m.queries, m.samples])).toEqual([['knnet', 1, tiny.q, 2], ['knnet-2t', 2, tiny.q, 2]]);
    for (const m of measured) expect(m.queriesPerSecond).toBeGreaterThan(0);
    // The comparison runs only on its workloads, and only with two of its implementations or more.
    expect(await compareThreads([tiny], [knnetWasmImplementation, knnetThreadsImplementation(2)], rounds, notes)).toBeUndefined();
    const iris = WORKLOADS.filter((w) => w.name === 'iris');
    expect(await compareThreads(iris, [knnetWasmImplementation, naiveImplementation], rounds, notes)).toBeUndefined();
    const comparison = await compareThreads(iris, [knnetWasmImplementation, naiveImplementation, knnetThreadsImplementation(2)], rounds, notes);
    expect(comparison?.measurements.map((m) => m.implementation)).toEqual(['knnet', 'knnet-2t']);
    expect(comparison?.ratios.map((r) => r.workload)).toEqual(['iris']);
  }, 60_000);
});

describe('the search workloads (L2, L4, L8, L16, U64)', () => {
  const small: SearchSpec = { name: 'S', description: 'test', n: 400, d: 3, q: 30, k: 5, distribution: 'blobs', clusters: 4, seed: 9 };

  it('defines the workloads of the pruning issue: a million points in 2, 4, 8, 16 dimensions and a 64-dimensional guard', () => {
    expect(SEARCH_WORKLOADS.map((w) => `${w.name}:${w.n}x${w.d}:${w.q}:${w.k}:${w.distribution}${w.clusters ? `/${w.clusters}` : ''}`)).toEqual([
      'L2:1000000x2:10000:5:uniform', 'L4:1000000x4:10000:5:uniform', 'L8:1000000x8:10000:5:blobs/50', 'L16:1000000x16:10000:5:blobs/50',
      'U64:100000x64:10000:5:uniform',
    ]);
  });

  it('draws the same points every time, uniform ones in [0, 1), labels in 0 … 9', () => {
    const uniform: SearchSpec = { ...small, distribution: 'uniform', clusters: undefined };
    const first = loadSearchWorkload(uniform);
    expect(Array.from(loadSearchWorkload({ ...uniform }).train)).toEqual(Array.from(first.train));
    expect(first.train.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(first.queries.length).toBe(uniform.q * uniform.d);
    expect(Math.max(...loadSearchWorkload(small).labels)).toBeLessThan(10);
  });

  it('gives the first points and the same queries on fewer points (the browser page)', () => {
    const full = loadSearchWorkload(small);
    const fewer = loadSearchWorkload(withPoints(small, 100));
    expect(Array.from(fewer.train)).toEqual(Array.from(full.train.subarray(0, 100 * small.d)));
    expect(Array.from(fewer.queries)).toEqual(Array.from(full.queries));
  });

  it('times a prefix only when every query would pass the budget: a multiple of 100 above the floor, at least one query', () => {
    const options = { ...FULL_SEARCH_TIMING, budgetSeconds: 2, minimumQueries: 500 };
    expect(queriesForBudget(1e-5, 10_000, options)).toBe(10_000);
    expect(queriesForBudget(1e-3, 10_000, options)).toBe(2_000);
    expect(queriesForBudget(1.5e-3, 10_000, options)).toBe(1_300);
    expect(queriesForBudget(0.01, 10_000, options)).toBe(200);
    expect(queriesForBudget(5, 10_000, options)).toBe(1);
  });

  it('times a fast search on all its queries, with the count it chose', async () => {
    const counts: number[] = [];
    const timing = await timeSearch((count) => void counts.push(count), 1_000, { ...QUICK_SEARCH_TIMING, minSampleSeconds: 0 });
    expect(timing.queries).toBe(1_000);
    expect(counts.slice(0, 2)).toEqual([1, 1]); // the warm-up call, then the first probe
    expect(counts.slice(-timing.samples)).toEqual(Array(timing.samples).fill(1_000));
  });
});

describe('neighbour agreement between searches', () => {
  // Query 0 at the origin: points 0 and 1 tie at distance 1, point 2 is at 4, point 3 at 9.
  const points = { train: [1, 0, 0, 1, 2, 0, 3, 0], queries: [0, 0], n: 4, d: 2 };

  it('accepts another index at a tied distance, and rejects a farther point, a repeated index or one out of range', () => {
    expect(compareNeighbours(points, 2, [0, 1], [1, 0], 1)).toEqual({ checked: 1, agreeing: 1, firstDisagreement: undefined });
    const tieBroken = compareNeighbours({ ...points, train: [1, 0, 0, 1, -1, 0, 3, 0] }, 2, [0, 1], [0, 2], 1);
    expect(tieBroken.agreeing).toBe(1);
    const farther = compareNeighbours(points, 2, [0, 1], [0, 2], 1);
    expect(farther.agreeing).toBe(0);
    expect(farther.firstDisagreement).toMatch(/query 0: expected indices \[0, 1\] .* got \[0, 2\]/);
    expect(compareNeighbours(points, 2, [0, 1], [0, 0], 1).firstDisagreement).toMatch(/index 0 twice/);
    expect(compareNeighbours(points, 2, [0, 1], [0, 7], 1).firstDisagreement).toMatch(/index 7 is not a training point/);
  });

  it('gives recall@k as the share of the expected indices returned, whatever their order', () => {
    expect(recallAtK(2, [0, 1, 2, 3], [1, 0, 2, 9], 2)).toBe(0.75);
  });
});

describe("the pending options adapter (algorithm, storage)", () => {
  const acceptsDirectly = async (options: Record<string, unknown>) => {
    try {
      (await KnnNetwork.fit({ data: Float64Array.of(1, 2, 3, 4), rows: 4, cols: 1 }, [0, 1, 0, 1], options)).dispose();
      return true;
    } catch (error) {
      if (error instanceof KnnError && error.code === 'BAD_OPTION') return false;
      throw error;
    }
  };

  it.skipIf(!wasmEmbedded)('detects support by fitting a tiny network: BAD_OPTION means unsupported', async () => {
    expect(await supportsOption('metric' as keyof PendingOptions, 'cosine')).toBe(true);
    expect(await supportsOption('metric' as keyof PendingOptions, 'no such metric')).toBe(false);
    for (const [name, value] of [['algorithm', 'tree'], ['algorithm', 'brute'], ['storage', 'float32']] as const) {
      expect(await supportsOption(name, value)).toBe(await acceptsDirectly({ [name]: value }));
    }
  });

  it.skipIf(!wasmEmbedded)('passes a supported option, leaves out an unsupported one and says so in the row', async () => {
    const { options, unsupported } = await adaptOptions({ k: 3 }, { algorithm: 'tree' });
    const supported = await acceptsDirectly({ algorithm: 'tree' });
    expect(options).toEqual(supported ? { k: 3, algorithm: 'tree' } : { k: 3 });
    expect(unsupported).toEqual(supported ? [] : ["algorithm: 'tree'"]);
    const { network, ran } = await fitWithPending({ data: Float64Array.of(0, 1, 2, 3), rows: 4, cols: 1 }, [0, 1, 0, 1], { k: 1 }, { algorithm: 'tree' });
    network.dispose();
    expect(ran.includes(NOT_YET_SUPPORTED)).toBe(!supported);
    expect(describeRun(["algorithm: 'tree'"], undefined)).toBe(`algorithm: 'tree' ${NOT_YET_SUPPORTED}`);
    expect(describeRun([], 'tree')).toBe("runs 'tree'");
    expect(searchAlgorithmOf({ searchAlgorithm: 'brute' })).toBe('brute');
    expect(searchAlgorithmOf({})).toBeUndefined();
  });

  it.skipIf(!wasmEmbedded)("labels knnet's brute-force row on W2 and W3, and runs it there only", async () => {
    const brute = await knnetBruteImplementation();
    const supported = await acceptsDirectly({ algorithm: 'brute' });
    expect(brute.label.includes(NOT_YET_SUPPORTED)).toBe(!supported);
    expect(brute.unsupported(WORKLOADS.find((w) => w.name === 'W2')!)).toBeUndefined();
    expect(brute.unsupported(WORKLOADS.find((w) => w.name === 'W4')!)).toMatch(/W2 and W3/);
  });
});

describe('the search rows and peers', () => {
  const spec: SearchSpec = { name: 'S', description: 'test', n: 500, d: 3, q: 40, k: 5, distribution: 'blobs', clusters: 3, seed: 11 };
  const data = loadSearchWorkload(spec);
  const points = { train: data.train, queries: data.queries, n: spec.n, d: spec.d };
  const naive = naiveKNeighbours(data.train, spec.n, spec.d, data.queries, spec.q, spec.k).indices;
  const quickTiming = { ...QUICK_SEARCH_TIMING, minSampleSeconds: 0.001, samples: 1 };

  it.skipIf(!wasmEmbedded)("finds the naive loop's neighbours with every knnet row, on one thread and two", async () => {
    for (const implementation of [knnetSearchImplementation('auto'), knnetSearchImplementation('tree'), knnetSearchImplementation('brute'), knnetSearchImplementation('auto', 2)]) {
      const index = await implementation.build(data, 1);
      expect(Array.from(await index.neighbours!(spec.q)), implementation.name).toEqual(Array.from(naive));
      await index.search(spec.q);
      await index.dispose();
    }
  });

  it.skipIf(resolvePeer('static-kdtree') === undefined)("runs static-kdtree, whose neighbours agree with the naive loop's (ties allowed)", async () => {
    const module = await importPeer<{ default: CreateKdTree }>('static-kdtree');
    const index = await staticKdtreeImplementation(module.default).build(data, 1);
    expect(compareNeighbours(points, spec.k, naive, await index.neighbours!(spec.q), spec.q).agreeing).toBe(spec.q);
    index.dispose();
  });

  it.skipIf(resolvePeer('ml-knn') === undefined)('runs ml-knn through predict, and gives no neighbours to compare', async () => {
    const index = await mlKnnSearchImplementation(await importMlKnn()).build(data, 1);
    index.search(10);
    expect(index.neighbours).toBeUndefined();
  });

  const python = findPython(TREE_MODULES).python;

  it('looks for a python that imports what a peer needs, and says what each candidate lacked', () => {
    const missing = findPython(['no_such_module_for_knnet']);
    expect(missing.python).toBeUndefined();
    expect(missing.tried.length).toBeGreaterThan(0);
    for (const reason of missing.tried) expect(reason).toMatch(/no_such_module_for_knnet|ENOENT|not found/i);
  });

  it.skipIf(!python)("runs the Python trees on the bench's data files; their neighbours agree with the naive loop's", async () => {
    const run = await runPythonPeers(python!, {
      train: data.train, queries: data.queries, n: spec.n, d: spec.d, q: spec.q, k: spec.k, peers: TREE_PEERS,
      timing: quickTiming, buildRepeats: 1, checkQueries: spec.q,
    });
    expect(run.peers.map((peer) => peer.name)).toEqual([...TREE_PEERS]);
    for (const peer of run.peers) {
      expect(peer.queries).toBeGreaterThan(0);
      expect(compareNeighbours(points, spec.k, naive, peer.neighbours, spec.q).agreeing, peer.name).toBe(spec.q);
    }
    expect(run.versions.scipy).toBeDefined();
  }, 60_000);

  it.skipIf(!wasmEmbedded)('measures a workload: checks every row against the reference row and says loudly when one disagrees', async () => {
    const wrong: SearchImplementation = {
      name: 'wrong', label: 'always the first points', threads: 1,
      async build() {
        return {
          buildSeconds: 0, ran: '', search() {}, dispose() {},
          neighbours: async (count) => Int32Array.from({ length: count * spec.k }, (_, i) => i % spec.k),
        };
      },
    };
    const notes: string[] = [];
    const result = await measureSearchWorkload(data, [knnetSearchImplementation('brute'), knnetSearchImplementation('auto'), wrong], undefined,
      { timing: quickTiming, buildRepeats: 1, checkQueries: 20 }, notes);
    expect(result.reference).toBe('knnet-brute');
    expect(result.measurements.map((m) => m.implementation)).toEqual(['knnet-brute', 'knnet-auto', 'wrong']);
    const [, auto, bad] = result.measurements;
    expect(auto.agreement).toMatchObject({ checked: 20, agreeing: 20 });
    expect(auto.identicalIndices).toBe(true);
    expect(auto.knnetAutoOverThis).toBe(1);
    expect(bad.agreement!.agreeing).toBeLessThan(20);
    expect(notes.some((note) => /always the first points DISAGREES with knnet-brute/.test(note))).toBe(true);
  });
});

describe('the search, small-call and embeddings targets', () => {
  const row = (implementation: string, queriesPerSecond: number, extra: Partial<SearchMeasurement> = {}): SearchMeasurement => ({
    workload: 'L2', implementation, label: implementation, threads: 1, n: 1, d: 2, queries: 1, seconds: 1 / queriesPerSecond, queriesPerSecond,
    microsecondsPerQuery: 1e6 / queriesPerSecond, buildSeconds: 0, ran: '', samples: 1, callsPerSample: 1, ...extra,
  });
  const workload = (name: string, ratio: number): SearchWorkloadResult => ({
    spec: { ...SEARCH_WORKLOADS.find((w) => w.name === name)! }, checkedQueries: 1, peakMegabytes: { node: 1 }, loadAverage: { start: 1, end: 1 },
    measurements: [row('knnet-auto', ratio, { workload: name, ratioToCKDTree: ratio }), row('ckdtree-1', 1, { workload: name, ratioToCKDTree: 1 })],
  });
  const pair = (name: string, speedRatio: number, numeratorSeconds = 1, denominatorSeconds = 1): PairComparison => ({
    name, workload: name.split(':')[0], numerator: 'a', denominator: 'b', numeratorSeconds, denominatorSeconds, speedRatio, queries: 1, samples: 1, ran: '',
  });
  const verdict = (targets: ReturnType<typeof checkSearchTargets>, start: string) => targets.find((t) => t.target.startsWith(start))?.pass;

  it('checks each target on its ratio: cKDTree per workload, threads, algorithms, the fit, small calls', () => {
    const targets = checkSearchTargets({
      search: [workload('L2', 2.1), workload('L4', 1.9), workload('L16', 5)],
      comparisons: [
        pair('L4: 2 threads ÷ 1 thread', 1.7), pair("W2: default ÷ 'brute'", 2), pair("W3: default ÷ 'brute'", 1.5), pair("U64: default ÷ 'brute'", 0.94),
        pair("L4: fit default ÷ fit 'brute'", 1 / 1.5, 1.5, 1),
      ],
      smallCalls: [{ workload: '105 × 4', n: 105, d: 4, k: 5, knnetSeconds: 1, naiveSeconds: 3, ratio: 3, target: 3, samples: 1 }],
    });
    expect(verdict(targets, 'L2,')).toBe(true);
    expect(verdict(targets, 'L4,')).toBe(false);
    expect(verdict(targets, 'L8,')).toBeUndefined();
    expect(verdict(targets, 'L16,')).toBe(true);
    expect(verdict(targets, 'L4: knnet')).toBe(true);
    expect(verdict(targets, 'W2:')).toBe(true);
    expect(verdict(targets, 'W3:')).toBe(false);
    expect(verdict(targets, 'U64:')).toBe(false);
    expect(verdict(targets, 'L4: fit')).toBe(true);
    expect(verdict(targets, 'one query per call, 105 × 4')).toBe(true);
    expect(targets.filter((t) => t.target.startsWith('E:')).map((t) => [t.pass, t.measured])).toEqual(Array(3).fill([undefined, 'not measured (E not run)']));
  });

  it('checks E only at a million points, against faiss-node where it ran, else faiss through Python', () => {
    const knnet = {
      ran: '', shards: 1, firstFitSeconds: 5, fitSeconds: 3, fitRepeats: 1, fitMegabytesPerSecond: 512, bytes: { resident: 0 }, bytesPerValueResident: 4,
      batchQueriesPerSecond: 10, singleQuerySeconds: 0.13, streamSeconds: 0.1, singleOverStream: 1.3,
    };
    const faissRow = (implementation: string, batchQueriesPerSecond: number) => ({
      implementation, label: implementation, threads: 1, exact: true, buildSeconds: 1, batchQueriesPerSecond,
    });
    const embeddings: EmbeddingsResult = {
      spec: EMBEDDINGS_WORKLOAD, knnet, rows: [faissRow('faiss-flat-ip', 5), faissRow('faiss-node-ip', 20)], peakMegabytes: { node: 1 },
    };
    const targets = checkSearchTargets({ search: [], comparisons: [], smallCalls: [], embeddings });
    expect(targets.filter((t) => t.target.startsWith('E:')).map((t) => t.pass)).toEqual([false, true, true]);
    expect(targets.find((t) => t.target.startsWith('E: batch'))!.measured).toBe('0.50× faiss-node-ip');
    const python = checkSearchTargets({ search: [], comparisons: [], smallCalls: [], embeddings: { ...embeddings, rows: [faissRow('faiss-flat-ip', 5)] } });
    expect(python.find((t) => t.target.startsWith('E: batch'))).toMatchObject({ pass: true, measured: '2.00× faiss-flat-ip' });
    const smaller = checkSearchTargets({ search: [], comparisons: [], smallCalls: [], embeddings: { ...embeddings, spec: { ...EMBEDDINGS_WORKLOAD, n: 5 } } });
    expect(smaller.filter((t) => t.target.startsWith('E:')).every((t) => t.pass === undefined && /n = 5/.test(t.measured))).toBe(true);
  });
});

describe('the CPU line, the search tables and the chart', () => {
  it('reads AVX-512 from the flags of /proc/cpuinfo', () => {
    expect(avx512FromCpuinfo('model name\t: X\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n')).toBe(true);
    expect(avx512FromCpuinfo('flags\t\t: fpu sse2 avx2\n')).toBe(false);
    expect(avx512FromCpuinfo('no flags here')).toBeUndefined();
    expect(describeProcessor({ model: 'Test CPU', avx512: true })).toBe('CPU: Test CPU (AVX-512: yes)');
  });

  const measurement: SearchMeasurement = {
    workload: 'L2', implementation: 'knnet-tree', label: "knnet 'tree'", threads: 1, n: 1_000_000, d: 2, queries: 700, seconds: 1, queriesPerSecond: 700,
    microsecondsPerQuery: 1_428.6, buildSeconds: 0.3, ran: `algorithm: 'tree' ${NOT_YET_SUPPORTED}`, samples: 3, callsPerSample: 1,
    agreement: { checked: 100, agreeing: 100 }, identicalIndices: true,
  };
  const searchReport: SearchSuiteReport = {
    processor: { model: 'Test CPU', avx512: false }, timing: FULL_SEARCH_TIMING, buildRepeats: 3, comparisons: [], smallCalls: [],
    search: [{
      spec: SEARCH_WORKLOADS[0], measurements: [measurement], reference: 'knnet-brute', checkedQueries: 100, peakMegabytes: { node: 900 },
      loadAverage: { start: 3.2, end: 2.5 },
    }],
    embeddingsSkipped: 'it needs about 9 GB',
  };

  it('heads every table with the CPU, marks a row that ran the default, and sets markdown tables apart', () => {
    const text = formatSearchText(searchReport);
    expect(text).toContain('CPU: Test CPU (AVX-512: no)');
    expect(text).toContain(`knnet 'tree' [algorithm: 'tree' ${NOT_YET_SUPPORTED}]`);
    expect(text).toMatch(/100\/100 \(identical\)/);
    expect(text).toContain('E skipped: it needs about 9 GB');
    expect(text).toContain('L2: load average (1 min) 3.2 at the start, 2.5 at the end; peak resident memory 900 MB in Node so far');
    const markdown = formatSearchMarkdown(searchReport);
    expect(markdown).toMatch(/the same indices\)\.\n\n\| workload \| implementation/);
    expect(markdown).toContain('| L2 | knnet \'tree\' [algorithm');
  });

  it('draws bars on a log scale with the CPU in the title, escapes text, and explains a flagged bar', () => {
    const svg = renderChart({
      title: 'knnet & peers', subtitle: 'CPU: Test CPU (AVX-512: no) · 2026-01-01', groupNotes: { L2: '1,000,000 × 2' }, flagNote: 'ran the default',
      bars: [
        { group: 'L2', label: "knnet 'tree'", value: 700, family: 'knnet', flagged: true },
        { group: 'L2', label: 'scipy <cKDTree>', value: 75_000, family: 'python' },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('knnet &amp; peers');
    expect(svg).toContain('scipy &lt;cKDTree&gt;');
    expect(svg).toContain('knnet &#39;tree&#39; *');
    expect(svg).toContain('* ran the default');
    for (const decade of ['100', '1k', '10k', '100k']) expect(svg).toContain(`>${decade}</text>`);
    expect((svg.match(/<rect /g) ?? []).length).toBe(1 + 2 + 2); // background, legend swatches, bars
    expect(decadeLabel(1e6)).toBe('1M');
  });

  it('colours each implementation by its family', () => {
    expect(['knnet', 'knnet-auto-2t', 'knnet-brute', 'naive', 'static-kdtree', 'ckdtree-1', 'faiss-flat-ip', 'hnswlib-ef10', 'onnx-f64'].map(familyOf))
      .toEqual(['knnet', 'knnet', 'knnet-brute', 'baseline', 'js', 'python', 'python', 'native', 'native']);
  });
});

describe('small calls and the embeddings workload', () => {
  it.skipIf(!wasmEmbedded)('times one query per call at 105 × 4 and 1 000 × 16 against the naive loop, round-robin', async () => {
    const results = await measureSmallCalls({ minRounds: 2, maxRounds: 2, maxSeconds: 0, sampleSeconds: 0.002 });
    expect(results.map((r) => [r.workload, r.n, r.d, r.k, r.target])).toEqual([['105 × 4', 105, 4, 5, 3], ['1 000 × 16', 1_000, 16, 5, 6]]);
    for (const r of results) expect(r.ratio).toBeCloseTo(r.naiveSeconds / r.knnetSeconds, 12);
  }, 60_000);

  const tinyEmbeddings = { ...EMBEDDINGS_WORKLOAD, n: 300, d: 24, q: 7, k: 4 };

  it('generates seeded float32 unit vectors', () => {
    const data = generateEmbeddings(tinyEmbeddings);
    expect(data.train).toBeInstanceOf(Float32Array);
    expect(Array.from(generateEmbeddings(tinyEmbeddings).train)).toEqual(Array.from(data.train));
    for (let i = 0; i < tinyEmbeddings.n; i++) {
      const row = data.train.subarray(i * tinyEmbeddings.d, (i + 1) * tinyEmbeddings.d);
      expect(row.reduce((sum, x) => sum + x * x, 0)).toBeCloseTo(1, 5);
    }
  });

  it('streams a float32 buffer in wasm (the single-query bound)', async () => {
    const stream = await createFloat32StreamPass(1 << 20);
    expect(stream.bytes).toBe(1 << 20);
    stream.pass();
  });

  const faissPython = findPython(FAISS_MODULES).python;

  it.skipIf(!wasmEmbedded)("measures knnet on E-shaped data, and scores the peers' recall against knnet's answers", async () => {
    const notes: string[] = [];
    const rounds = { minRounds: 2, maxRounds: 2, maxSeconds: 0, sampleSeconds: 0.002 };
    const result = await measureEmbeddings(tinyEmbeddings, {
      fitRepeats: 1, timing: { ...QUICK_SEARCH_TIMING, minSampleSeconds: 0.001, samples: 1 }, rounds, knnet: true, peers: [],
      python: faissPython ? { python: faissPython, peers: FAISS_PEERS } : undefined,
    }, notes);
    expect(result.knnetFailure).toBeUndefined();
    expect(result.reference).toBe('knnet');
    expect(result.knnet!.fitMegabytesPerSecond).toBeGreaterThan(0);
    expect(result.knnet!.singleOverStream).toBeCloseTo(result.knnet!.singleQuerySeconds / result.knnet!.streamSeconds, 12);
    if (faissPython) {
      expect(result.rows.map((row) => [row.implementation, row.recall])).toEqual([['faiss-flat-ip', 1], ['faiss-flat-l2', 1]]);
    }
  }, 120_000);

  it.skipIf(resolvePeer('hnswlib-node') === undefined)('builds one hnswlib graph for its rows, each with its own ef', async () => {
    const data = generateEmbeddings(tinyEmbeddings);
    const [low, high] = hnswlibImplementations(await importHnswlib(), [4, 50]);
    const first = await low.build(data);
    const second = await high.build(data);
    expect(second.buildSeconds).toBe(first.buildSeconds);
    const truth = naiveKNeighbours(Float64Array.from(data.train), tinyEmbeddings.n, tinyEmbeddings.d, Float64Array.from(data.queries), tinyEmbeddings.q, tinyEmbeddings.k).indices;
    expect(recallAtK(tinyEmbeddings.k, truth, await second.neighbours(), tinyEmbeddings.q)).toBeGreaterThan(0.9);
  });
});
