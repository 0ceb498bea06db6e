/**
 * The embeddings workload E, measured: knnet's network (bytes per value, fit time and MB/s of
 * float32 input, single-query latency against one memory pass over the float32 bytes, batch
 * queries/s), then the peers on the same vectors — faiss's flat indexes (faiss-node where it
 * installs, faiss through Python), hnswlib-node (approximate: recall@k) — each checked against
 * knnet's exact answers.
 *
 * The whole set is 1.5 GB of float32 and knnet holds its own copy, so E runs only when asked
 * (`--only E`) or when an estimate says it fits (estimateEmbeddingsNeeds).
 */
import { loadavg, totalmem } from 'node:os';
import type { KnnNetwork } from '../../src/index.js';
import { fitWithPending } from '../peers/knnetOptions.js';
import { createFloat32StreamPass } from '../probe/stream.js';
import { quantile, timeRoundRobin, type RoundRobinOptions } from '../roundRobin.js';
import { recallAtK } from '../search/agreement.js';
import { runPythonPeers } from '../search/pythonPeers.js';
import { timeSearch, type SearchTimingOptions } from '../search/timing.js';
import { allocatedNetworkBytes, measureFitBytes, type NetworkBytes } from './networkMemory.js';
import type { EmbeddingsImplementation } from './types.js';
import { generateEmbeddings, type EmbeddingsData, type EmbeddingsSpec } from './workload.js';

/** One wasm memory addresses 4 GiB. */
const WASM_MEMORY_BYTES = 4 * 2 ** 30;
/** E runs by default only when its estimated peak stays under this share of the machine's memory. */
const DEFAULT_MEMORY_SHARE = 0.6;
const PROBE_POINTS = 20_000;

/** knnet's fit options on E: cosine, k = 10, and storage 'auto' (float32 input kept as float32 where knnet has it). */
const fitOptions = (spec: EmbeddingsSpec) => ({ k: spec.k, metric: 'cosine' });

export interface EmbeddingsNeeds {
  /** knnet's bytes per input value on a probe network of PROBE_POINTS vectors (allocator), when measurable. */
  bytesPerValue?: number;
  networkBytes?: number;
  /** Input vectors, knnet's network and the stream probe's buffer, all held at once. */
  peakBytes?: number;
  /** Why E should not run by default, or undefined when it may. */
  reasonToSkip?: string;
}

const gigabytes = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/** What E would take, from a probe fit of PROBE_POINTS vectors of the same generator. */
export async function estimateEmbeddingsNeeds(spec: EmbeddingsSpec): Promise<EmbeddingsNeeds> {
  const probe = generateEmbeddings({ ...spec, n: PROBE_POINTS, q: 1 });
  const { value, bytes } = await measureFitBytes(() =>
    fitWithPending({ data: probe.train, rows: PROBE_POINTS, cols: spec.d }, probe.labels, fitOptions(spec), { storage: 'auto' }));
  value.network.dispose();
  if (bytes.allocated === undefined) return { reasonToSkip: "knnet's allocator counter is not available here, so the memory E needs cannot be estimated" };
  const bytesPerValue = bytes.allocated / (PROBE_POINTS * spec.d);
  const inputBytes = spec.n * spec.d * 4;
  const networkBytes = bytesPerValue * spec.n * spec.d;
  const peakBytes = inputBytes + networkBytes + inputBytes;
  const needs = `it needs about ${gigabytes(peakBytes)} at once (${gigabytes(inputBytes)} of float32 vectors, knnet's network at ` +
    `${bytesPerValue.toFixed(1)} bytes per value: ${gigabytes(networkBytes)}, and a ${gigabytes(inputBytes)} stream probe)`;
  // Past one wasm memory knnet holds the network in shards, each a memory of its own, and each
  // may keep the partition 'auto' builds beside it (about as many bytes again, which the probe's
  // network, in one memory, need not show): measured only when asked.
  let reasonToSkip: string | undefined;
  if (networkBytes > WASM_MEMORY_BYTES) {
    reasonToSkip = `${needs}; knnet holds a network past one wasm memory (4 GiB) in shards, and with the partition each shard may keep beside it the process can need about twice that`;
  } else if (peakBytes > DEFAULT_MEMORY_SHARE * totalmem()) {
    reasonToSkip = `${needs}, over ${DEFAULT_MEMORY_SHARE * 100} % of this machine's ${gigabytes(totalmem())}`;
  }
  return { bytesPerValue, networkBytes, peakBytes, reasonToSkip };
}

export interface KnnetEmbeddingsFigures {
  /** What ran where it is not what was asked (storage left out). */
  ran: string;
  /** How many wasm memories hold the network (more than 1: shards). */
  shards: number;
  /** The first fit in the process, which also grows the wasm memory. */
  firstFitSeconds: number;
  /** Median of the `fitRepeats` fits after the first. */
  fitSeconds: number;
  fitRepeats: number;
  /** Float32 input bytes over the fit time. */
  fitMegabytesPerSecond: number;
  bytes: NetworkBytes;
  bytesPerValueAllocated?: number;
  bytesPerValueResident: number;
  batchQueriesPerSecond: number;
  /** Median seconds of one kneighbors call with one query, and of one pass over n·d·4 bytes, round-robin. */
  singleQuerySeconds: number;
  streamSeconds: number;
  singleOverStream: number;
}

export interface EmbeddingsRow {
  implementation: string;
  label: string;
  threads: number;
  exact: boolean;
  buildSeconds: number;
  batchQueriesPerSecond: number;
  /** Median seconds of one single-query call, where measured. */
  singleQuerySeconds?: number;
  /** Share of the reference's k nearest it returns on the queries. */
  recall?: number;
}

export interface EmbeddingsResult {
  spec: EmbeddingsSpec;
  knnet?: KnnetEmbeddingsFigures;
  /** Why knnet has no figures (its fit failed, e.g. TOO_LARGE). */
  knnetFailure?: string;
  rows: EmbeddingsRow[];
  /** Whose answers the recall is against ('knnet', or a faiss flat index when knnet could not run). */
  reference?: string;
  peakMegabytes: { node: number; python?: number };
  /** The 1-minute load average when E started and ended. */
  loadAverage?: { start: number; end: number };
}

export interface EmbeddingsOptions {
  /** Fits timed after the first. */
  fitRepeats: number;
  timing: SearchTimingOptions;
  rounds: RoundRobinOptions;
  /** Whether knnet runs (`--impl`). */
  knnet: boolean;
  /** Peers built in this process. */
  peers: readonly EmbeddingsImplementation[];
  /** faiss through Python, when an interpreter has it. */
  python?: { python: string; peers: readonly string[] };
}

/** E's batch is its 100 queries, never a prefix: the budget is lifted (to a finite number, for JSON). */
const wholeBatch = (timing: SearchTimingOptions): SearchTimingOptions => ({ ...timing, budgetSeconds: 1e9 });

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function measureKnnet(data: EmbeddingsData, options: EmbeddingsOptions): Promise<{ figures: KnnetEmbeddingsFigures; answers: Int32Array }> {
  const { spec } = data;
  const matrix = { data: data.train, rows: spec.n, cols: spec.d };
  const fit = () => fitWithPending(matrix, data.labels, fitOptions(spec), { storage: 'auto' });
  // The first fit in the process: the allocator and resident-memory growth are this network's.
  // It also grows the wasm memory, so the fits timed are the ones after it.
  let start = performance.now();
  const first = await measureFitBytes(fit);
  const firstFitSeconds = (performance.now() - start) / 1e3;
  let fitted = first.value;
  const fitTimes: number[] = [];
  for (let repeat = 0; repeat < options.fitRepeats; repeat++) {
    fitted.network.dispose();
    start = performance.now();
    fitted = await fit();
    fitTimes.push((performance.now() - start) / 1e3);
  }
  const network: KnnNetwork = fitted.network;
  try {
    const fitSeconds = quantile([...fitTimes].sort((a, b) => a - b), 0.5);
    const values = spec.n * spec.d;
    const query = (count: number) => ({ data: data.queries.subarray(0, count * spec.d), rows: count, cols: spec.d });
    const batch = await timeSearch((count) => void network.kneighbors(query(count), spec.k), spec.q, wholeBatch(options.timing));
    const answers = network.kneighbors(query(spec.q), spec.k).indices;

    const singles = Array.from({ length: spec.q }, (_, i) => ({ data: data.queries.subarray(i * spec.d, (i + 1) * spec.d), rows: 1, cols: spec.d }));
    let next = 0;
    const stream = await createFloat32StreamPass(values * 4);
    const [single, pass] = await timeRoundRobin([
      { name: 'knnet single query', call: () => void network.kneighbors(singles[next++ % spec.q], spec.k) },
      { name: 'one pass over the float32 bytes', call: () => stream.pass() },
    ], options.rounds);
    // The allocator counter sees the realm's memory only, not a sharded network's own memories.
    const allocated = network.shards > 1 ? undefined : first.bytes.allocated;
    return {
      answers,
      figures: {
        ran: fitted.ran,
        shards: network.shards,
        firstFitSeconds,
        fitSeconds,
        fitRepeats: options.fitRepeats,
        fitMegabytesPerSecond: (values * 4) / fitSeconds / 1e6,
        bytes: first.bytes,
        bytesPerValueAllocated: allocated === undefined ? undefined : allocated / values,
        bytesPerValueResident: first.bytes.resident / values,
        batchQueriesPerSecond: batch.queries / batch.seconds,
        singleQuerySeconds: single.seconds,
        streamSeconds: pass.seconds,
        singleOverStream: single.seconds / pass.seconds,
      },
    };
  } finally {
    network.dispose();
  }
}

export async function measureEmbeddings(spec: EmbeddingsSpec, options: EmbeddingsOptions, notes: string[]): Promise<EmbeddingsResult> {
  const loadAtStart = loadavg()[0];
  console.log(`  generating ${spec.n} × ${spec.d} float32 unit vectors …`);
  const data = generateEmbeddings(spec);
  const result: EmbeddingsResult = { spec, rows: [], peakMegabytes: { node: 0 } };
  const answers = new Map<string, ArrayLike<number>>();

  if (options.knnet) {
    try {
      const { figures, answers: knnetAnswers } = await measureKnnet(data, options);
      result.knnet = figures;
      answers.set('knnet', knnetAnswers);
      console.log(`  knnet: fit ${figures.fitSeconds.toFixed(2)} s (${figures.fitMegabytesPerSecond.toFixed(0)} MB/s of float32), ` +
        `${figures.bytesPerValueAllocated?.toFixed(2) ?? '?'} bytes per value, batch ${figures.batchQueriesPerSecond.toFixed(1)} queries/s, ` +
        `one query ${(figures.singleQuerySeconds * 1e3).toFixed(1)} ms = ${figures.singleOverStream.toFixed(2)}× one pass over the float32 bytes` +
        `${figures.shards > 1 ? `, in ${figures.shards} shards` : ''}${figures.ran ? `  [${figures.ran}]` : ''}`);
    } catch (error) {
      result.knnetFailure = errorMessage(error);
      notes.push(`E: knnet could not run: ${result.knnetFailure}`);
      console.log(`  knnet: FAILED ${result.knnetFailure}`);
    }
    console.log(`  (allocator now holds ${(((await allocatedNetworkBytes()) ?? 0) / 1e6).toFixed(0)} MB for networks)`);
  }

  for (const implementation of options.peers) {
    try {
      console.log(`  ${implementation.label}: building …`);
      const index = await implementation.build(data);
      try {
        const batch = await timeSearch(() => index.searchBatch(), spec.q, { ...wholeBatch(options.timing), probeQueries: spec.q });
        let next = 0;
        const [single] = await timeRoundRobin([{ name: implementation.name, call: () => index.searchOne(next++ % spec.q) }], options.rounds);
        answers.set(implementation.name, await index.neighbours());
        result.rows.push({
          implementation: implementation.name, label: implementation.label, threads: implementation.threads, exact: implementation.exact,
          buildSeconds: index.buildSeconds, batchQueriesPerSecond: spec.q / batch.seconds, singleQuerySeconds: single.seconds,
        });
        if (implementation.note && !notes.includes(implementation.note)) notes.push(implementation.note);
      } finally {
        index.dispose();
      }
    } catch (error) {
      notes.push(`E: ${implementation.name} failed: ${errorMessage(error)}`);
      console.log(`  ${implementation.label}: FAILED ${errorMessage(error)}`);
    }
  }

  if (options.python && options.python.peers.length > 0) {
    try {
      const run = await runPythonPeers(options.python.python, {
        train: data.train, queries: data.queries, n: spec.n, d: spec.d, q: spec.q, k: spec.k, peers: options.python.peers,
        timing: wholeBatch(options.timing), buildRepeats: 1, checkQueries: spec.q,
      });
      for (const peer of run.peers) {
        result.rows.push({
          implementation: peer.name, label: peer.label, threads: peer.threads, exact: true, buildSeconds: peer.buildSeconds,
          batchQueriesPerSecond: peer.queries / peer.seconds,
        });
        answers.set(peer.name, peer.neighbours);
      }
      result.peakMegabytes.python = run.maxRssKilobytes / 1024;
      notes.push(`E: faiss through Python (${run.python}, faiss ${run.versions.faiss ?? '?'}): batch search only, build = index.add of the float32 rows`);
    } catch (error) {
      notes.push(`E: faiss through Python failed: ${errorMessage(error)}`);
    }
  }

  // The reference: knnet's exact answers, or where knnet did not run, faiss's flat (exact but for float32 rounding).
  result.reference = ['knnet', 'faiss-node-ip', 'faiss-flat-ip'].find((name) => answers.has(name));
  const truth = result.reference === undefined ? undefined : answers.get(result.reference);
  if (truth) for (const row of result.rows) row.recall = recallAtK(spec.k, truth, answers.get(row.implementation)!, spec.q);
  result.peakMegabytes.node = process.resourceUsage().maxRSS / 1024;
  result.loadAverage = { start: loadAtStart, end: loadavg()[0] };
  return result;
}
