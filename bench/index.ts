/**
 * knnet's benchmark suite: `npm run bench` (after `npm run bench:peers` for the peers).
 *
 *   node dist/bench/index.js [--quick] [--only W2,soft,fit,exactness,cosine,add,L2,L4,small,E] [--impl knnet,naive] [--build plain]
 *
 * Times every implementation on every workload with benchmark.js, in one process, so ratios
 * compare figures measured in the same run; then knnet and onnxruntime-node f64 on 1 and 2
 * threads round-robin (threadsComparison.ts), for the threads targets; then the search
 * workloads, the one-query calls and, where it fits, the embeddings workload (searchRun.ts).
 * Prints the tables and writes bench/results.json, bench/results.md and the chart
 * bench/results.svg (bench/results.local.* for a filtered run, which must not replace the full
 * table the README embeds).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { kernelInfo, setKernelBuild, type KernelBuildChoice } from '../src/index.js';
import { measureAddThroughput } from './addThroughput.js';
import { cosineExactnessWorkload, EXACTNESS_QUERIES, measureExactness } from './exactness.js';
import { processor } from './machine.js';
import {
  fitterFor, knnetAutoThreads, knnetBruteImplementation, knnetReferenceImplementation, knnetThreadsImplementation, knnetWasmImplementation,
} from './peers/knnet.js';
import { createMlKnnImplementation } from './peers/mlKnn.js';
import { naiveImplementation } from './peers/naive.js';
import { createOnnxImplementation } from './peers/onnxruntimeNode.js';
import { benchFolder } from './peers/resolve.js';
import { createTensorFlowImplementation } from './peers/tensorflowNode.js';
import { PeerUnavailable, prepareIfSupported, type Implementation } from './peers/types.js';
import { measureCeiling, measureStream, type Ceiling } from './probes.js';
import { formatMarkdown, formatText, type ExactnessResult, type RunReport } from './report.js';
import { chartOfRun } from './resultsChart.js';
import { EMBEDDINGS_IMPLEMENTATIONS, JS_TREES, KNNET_SEARCH_ROWS, runSearchSuite, SMALL_CALLS } from './searchRun.js';
import { checkSearchTargets } from './searchTargets.js';
import { TREE_PEERS } from './search/pythonPeers.js';
import { SEARCH_WORKLOADS } from './search/workloads.js';
import { checkTargets, cosineComparison, ratioToOnnx, type AddMeasurement, type FitMeasurement, type Measurement } from './targets.js';
import { compareThreads, FULL_THREADS_ROUNDS, QUICK_THREADS_ROUNDS, THREADS_IMPLEMENTATIONS, THREADS_WORKLOADS } from './threadsComparison.js';
import { FULL_TIMING, QUICK_TIMING, time, type TimingOptions } from './timing.js';
import { ADD_WORKLOAD, COSINE_WORKLOAD, loadWorkload, WORKLOADS, type WorkloadSpec } from './workloads.js';

interface Arguments {
  quick: boolean;
  only?: Set<string>;
  implementations?: Set<string>;
  build: KernelBuildChoice;
  /** Seconds after which the add run stops and extrapolates. */
  addCapSeconds?: number;
  /** Points of the embeddings workload E instead of its million. */
  embeddingsPoints?: number;
}

const FULL_ADD_CAP_SECONDS = 30;
const QUICK_ADD_CAP_SECONDS = 5;

const USAGE = `usage: node dist/bench/index.js [--quick] [--only NAMES] [--impl NAMES]
  --quick        fewer samples and a shorter time per benchmark, fewer round-robin rounds
  --only NAMES   comma-separated: ${[...WORKLOADS, COSINE_WORKLOAD].map((w) => w.name).join(', ')}, fit, exactness, add,
                 ${SEARCH_WORKLOADS.map((w) => w.name).join(', ')} (search), ${SMALL_CALLS} (one query per call), E (embeddings)
                 (the threads comparison, round-robin, runs on those of ${THREADS_WORKLOADS.join(', ')} selected,
                 with those of ${THREADS_IMPLEMENTATIONS.join(', ')} selected, when at least two are;
                 E runs without --only only where its estimated memory fits)
  --impl NAMES   comma-separated: knnet, knnet-2t (2 threads, predictAsync), knnet-brute (W2, W3), reference, naive, ml-knn, tfjs,
                 onnx-f64, onnx-f32, onnx2t-f64 (2 intra-op threads);
                 search: ${[...KNNET_SEARCH_ROWS, ...JS_TREES, ...TREE_PEERS].join(', ')} (knnet selects every knnet row);
                 E: ${EMBEDDINGS_IMPLEMENTATIONS.join(', ')}
  --e-points N   run E on its first N vectors instead of a million (its targets are then not checked)
  --build NAME   knnet's kernels: auto (default: relaxed SIMD where the engine has it), plain, relaxed
  --add-cap S    stop the ${ADD_WORKLOAD.adds} single adds after S seconds and extrapolate the rest
                 (default ${FULL_ADD_CAP_SECONDS}, ${QUICK_ADD_CAP_SECONDS} with --quick)`;

function parseArguments(argv: string[]): Arguments {
  const result: Arguments = { quick: false, build: 'auto' };
  const list = (value: string | undefined) => new Set((value ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    const [flag, inline] = argument.split('=', 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--quick') result.quick = true;
    else if (flag === '--only') result.only = list(value());
    else if (flag === '--impl') result.implementations = list(value());
    else if (flag === '--build') result.build = value() as KernelBuildChoice;
    else if (flag === '--e-points') {
      result.embeddingsPoints = Number(value());
      if (!(Number.isInteger(result.embeddingsPoints) && result.embeddingsPoints > 0)) {
        console.error(`--e-points takes a positive whole number\n${USAGE}`);
        process.exit(2);
      }
    }
    else if (flag === '--add-cap') {
      result.addCapSeconds = Number(value());
      if (!(result.addCapSeconds > 0)) {
        console.error(`--add-cap takes a positive number of seconds\n${USAGE}`);
        process.exit(2);
      }
    }
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown argument ${argument}\n${USAGE}`);
      process.exit(2);
    }
  }
  return result;
}

const selected = (set: Set<string> | undefined, name: string) => !set || set.has(name.toLowerCase());

/** Loads every requested implementation; a missing peer becomes a note, not a failure. */
async function loadImplementations(args: Arguments, notes: string[]): Promise<Implementation[]> {
  const factories: [string, () => Promise<Implementation>][] = [
    ['knnet', async () => knnetWasmImplementation],
    ['knnet-2t', async () => knnetThreadsImplementation(2)],
    ['knnet-brute', knnetBruteImplementation],
    ['reference', async () => knnetReferenceImplementation],
    ['naive', async () => naiveImplementation],
    ['ml-knn', createMlKnnImplementation],
    ['tfjs', createTensorFlowImplementation],
    ['onnx-f64', () => createOnnxImplementation('float64')],
    ['onnx-f32', () => createOnnxImplementation('float32')],
    ['onnx2t-f64', () => createOnnxImplementation('float64', 2)],
  ];
  const implementations: Implementation[] = [];
  for (const [name, create] of factories) {
    if (!selected(args.implementations, name)) continue;
    try {
      const implementation = await create();
      implementations.push(implementation);
      if (implementation.note) notes.push(implementation.note);
    } catch (error) {
      const reason = error instanceof PeerUnavailable ? error.message : `failed to load: ${(error as Error).message}`;
      notes.push(`${name} skipped: ${reason}`);
      console.log(`skipping ${name}: ${reason}`);
    }
  }
  return implementations;
}

async function measureWorkload(
  spec: WorkloadSpec, implementations: Implementation[], timing: TimingOptions, ceiling: Ceiling | undefined,
  streamSeconds: number | undefined, notes: string[],
): Promise<Measurement[]> {
  const data = loadWorkload(spec);
  const measurements: Measurement[] = [];
  for (const implementation of implementations) {
    try {
      const run = await prepareIfSupported(implementation, spec, data);
      if (!run) continue;
      const queryCount = run.queryCount;
      try {
        const result = await time(`${spec.name} ${implementation.name}`, run.predict, timing);
        const flops = 2 * queryCount * spec.n * spec.d;
        const gflops = flops / result.seconds / 1e9;
        const ceilingGflops = implementation.precision === 'f64' ? ceiling?.f64x2Gflops : ceiling?.f32x4Gflops;
        const measurement: Measurement = {
          workload: spec.name,
          implementation: implementation.name,
          label: implementation.label,
          precision: implementation.precision,
          threads: implementation.threads,
          queries: queryCount,
          ...result,
          queriesPerSecond: queryCount / result.seconds,
          gflops,
          fractionOfCeiling: ceilingGflops ? gflops / ceilingGflops : undefined,
          ratioToStreamingWeights: streamSeconds && queryCount === 1 ? result.seconds / streamSeconds : undefined,
        };
        measurements.push(measurement);
        console.log(`  ${implementation.label.padEnd(22)} ${measurement.queriesPerSecond.toFixed(1).padStart(10)} queries/s` +
          `  ${gflops.toFixed(2).padStart(6)} GFLOP/s  (${result.samples} samples, ±${result.relativeMarginOfError.toFixed(0)} %)`);
      } finally {
        await run.dispose();
      }
    } catch (error) {
      notes.push(`${spec.name} ${implementation.name} failed: ${(error as Error).message}`);
      console.log(`  ${implementation.label}: FAILED ${(error as Error).stack}`);
    }
  }
  // Ratios are per query, so a peer timed on a prefix of the queries compares fairly.
  const naive = measurements.find((m) => m.implementation === 'naive');
  const reference = measurements.find((m) => m.implementation === 'reference');
  for (const m of measurements) {
    if (naive) m.ratioToNaive = m.queriesPerSecond / naive.queriesPerSecond;
    if (reference) m.ratioToReference = m.queriesPerSecond / reference.queriesPerSecond;
  }
  return measurements;
}

/** Packing speed: bytes of X over the median time of KnnNetwork.fit on the W3 training set. */
async function measureFit(quick: boolean): Promise<FitMeasurement> {
  const spec = WORKLOADS.find((workload) => workload.name === 'W3')!;
  const data = loadWorkload(spec);
  const fit = fitterFor('wasm');
  (await fit(data)).dispose(); // warm-up: instantiates the wasm module, grows its memory
  const times: number[] = [];
  for (let repeat = 0; repeat < (quick ? 3 : 7); repeat++) {
    const start = performance.now();
    const network = await fit(data);
    times.push((performance.now() - start) / 1e3);
    network.dispose();
  }
  times.sort((a, b) => a - b);
  const seconds = times[Math.floor(times.length / 2)];
  const bytes = data.train.byteLength;
  return { workload: spec.name, bytes, seconds, megabytesPerSecond: bytes / seconds / 1e6 };
}

/**
 * Single adds against one fit (ADD_WORKLOAD). An add that rebuilds the network costs O(n·d),
 * so 10 000 of them take minutes: the run stops at a cap and extrapolates, saying so.
 */
async function measureAdd(args: Arguments): Promise<AddMeasurement> {
  const capSeconds = args.addCapSeconds ?? (args.quick ? QUICK_ADD_CAP_SECONDS : FULL_ADD_CAP_SECONDS);
  return measureAddThroughput({ ...ADD_WORKLOAD, capSeconds, fitRepeats: args.quick ? 3 : 5 });
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  setKernelBuild(args.build);
  const kernels = kernelInfo();
  const timing = args.quick ? QUICK_TIMING : FULL_TIMING;
  const notes: string[] = [];
  const workloads = [...WORKLOADS, COSINE_WORKLOAD].filter((workload) => selected(args.only, workload.name));
  const implementations = await loadImplementations(args, notes);

  let ceiling: Ceiling | undefined;
  if (workloads.length > 0) {
    console.log('measuring the wasm SIMD ceiling …');
    const measured = await measureCeiling();
    if (typeof measured === 'string') notes.push(measured);
    else ceiling = measured;
  }
  let streamGigabytesPerSecond: number | undefined;
  const w4 = workloads.find((workload) => workload.q === 1);
  if (w4) {
    console.log('measuring the memory stream …');
    const measured = await measureStream(w4.n * w4.d * 8);
    if (typeof measured === 'string') notes.push(measured);
    else streamGigabytesPerSecond = measured;
  }

  const measurements: Measurement[] = [];
  for (const spec of workloads) {
    console.log(`\n${spec.name}: n=${spec.n}, d=${spec.d}, q=${spec.q}, k=${spec.k}, ${spec.weights} — ${spec.description}`);
    const streamSeconds = streamGigabytesPerSecond && spec.q === 1 ? (spec.n * spec.d * 8) / (streamGigabytesPerSecond * 1e9) : undefined;
    measurements.push(...(await measureWorkload(spec, implementations, timing, ceiling, streamSeconds, notes)));
  }

  let exactness: ExactnessResult[] = [];
  if (selected(args.only, 'exactness')) {
    console.log(`\nexactness: first ${EXACTNESS_QUERIES} queries of W2 and W2+1000, against the knnet reference`);
    exactness = await measureExactness(implementations, notes);
  }
  if (workloads.includes(COSINE_WORKLOAD)) {
    notes.push('cosine: knnet normalises the queries inside predict and TF.js inside its graph (timed); the naive loop and ' +
      'onnxruntime get training rows and queries L2-normalised beforehand (not timed: O(q·d) against the O(q·n·d) search)');
    console.log(`\ncosine exactness: first ${EXACTNESS_QUERIES} queries, against the knnet reference with metric cosine`);
    exactness.push(...(await measureExactness(implementations, notes, [cosineExactnessWorkload()])));
  }
  let fit: FitMeasurement | undefined;
  if (selected(args.only, 'fit') && selected(args.implementations, 'knnet')) {
    console.log('\nfit: packing the W3 training set');
    fit = await measureFit(args.quick);
  }

  let add: AddMeasurement | undefined;
  if (selected(args.only, 'add') && selected(args.implementations, 'knnet')) {
    console.log(`\nadd: ${ADD_WORKLOAD.adds} single adds at d = ${ADD_WORKLOAD.d} against one fit of the same points`);
    add = await measureAdd(args);
    console.log(`  fit: ${(add.fitSeconds * 1e3).toFixed(1)} ms; ${add.measuredAdds} adds: ${add.measuredSeconds.toFixed(2)} s` +
      ` (${add.measuredRatioToFit.toFixed(1)}× one fit)${add.extrapolatedSeconds === undefined ? '' : `; all ${add.adds} extrapolated: ${add.extrapolatedSeconds.toFixed(0)} s`}`);
  }

  const threads = await compareThreads(workloads, implementations, args.quick ? QUICK_THREADS_ROUNDS : FULL_THREADS_ROUNDS, notes);
  const search = await runSearchSuite(
    { quick: args.quick, only: args.only, implementations: args.implementations, embeddingsPoints: args.embeddingsPoints }, notes,
  );

  const ratiosToOnnxF64: Record<string, number> = {};
  for (const workload of ['W2', 'W3']) {
    const ratio = ratioToOnnx(measurements, workload);
    if (ratio !== undefined) ratiosToOnnxF64[workload] = ratio;
  }
  const filtered = args.only !== undefined || args.implementations !== undefined;
  const cpu = processor();
  const report: RunReport = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpu.model, avx512: cpu.avx512, cores: cpus().length, node: process.versions.node, v8: process.versions.v8,
      platform: `${process.platform}-${process.arch}`, availableParallelism: availableParallelism(), threadsAuto: await knnetAutoThreads(),
    },
    kernels: { build: kernels.build, relaxedSimd: kernels.engine.relaxedSimd },
    quick: args.quick,
    filtered,
    ceiling,
    streamGigabytesPerSecond,
    measurements,
    exactness,
    fit,
    cosine: workloads.includes(COSINE_WORKLOAD) ? cosineComparison(measurements, exactness) : undefined,
    add,
    threads,
    search,
    targets: [
      ...checkTargets(measurements, fit, add, threads?.ratios),
      ...(search ? checkSearchTargets(search) : []),
    ],
    ratiosToOnnxF64,
    notes,
  };
  console.log(`\n${formatText(report)}`);

  const stem = filtered ? 'results.local' : 'results';
  const folder = benchFolder();
  writeFileSync(join(folder, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(folder, `${stem}.md`), formatMarkdown(report));
  writeFileSync(join(folder, `${stem}.svg`), chartOfRun(report));
  console.log(`\nwrote ${join(folder, `${stem}.json`)}, ${stem}.md and ${stem}.svg`);
}

main().then(
  // Peers (TF.js, onnxruntime) may keep handles open; the run is over.
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
