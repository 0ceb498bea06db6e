/**
 * The targets of the search workloads, the small calls and the embeddings workload, checked
 * against one run's figures and printed PASS / MISS beside them (n/a where the run did not
 * measure them). Nothing here fails a test.
 */
import type { EmbeddingsResult } from './embeddings/suite.js';
import type { SmallCallResult } from './smallCalls.js';
import type { PairComparison } from './search/comparisons.js';
import type { SearchWorkloadResult } from './search/suite.js';
import type { TargetResult } from './targets.js';

/** knnet 'auto' (1 thread) over scipy cKDTree (workers=1), at least. */
export const CKDTREE_TARGETS: Record<string, number> = { L2: 2, L4: 2, L8: 2, L16: 5 };
/** knnet 'auto' on 2 threads over itself on 1, on L4. */
export const SEARCH_THREADS_TARGET = 1.7;
/** The default algorithm over 'brute', at least: W2 and W3 prune, U64 must not lose. */
export const ALGORITHM_TARGETS: Record<string, number> = { W2: 2, W3: 2, U64: 0.95 };
/** A fit that builds the partition (L4) over a fit with 'brute', at most, in time. */
export const FIT_PARTITION_TARGET = 1.5;
/** E: one query's time over one pass over the float32 bytes, at most. */
export const SINGLE_QUERY_STREAM_TARGET = 1.3;
/** E: fit throughput of float32 input, MB/s, at least. */
export const FLOAT32_FIT_TARGET = 400;
/** The size E's targets are set for. */
const EMBEDDINGS_POINTS = 1_000_000;

const format = (value: number) => value.toFixed(2);

export interface SearchTargetInputs {
  search: readonly SearchWorkloadResult[];
  comparisons: readonly PairComparison[];
  smallCalls: readonly SmallCallResult[];
  embeddings?: EmbeddingsResult;
}

export function checkSearchTargets({ search, comparisons, smallCalls, embeddings }: SearchTargetInputs): TargetResult[] {
  const results: TargetResult[] = [];
  const check = (target: string, value: number | undefined, passes: (value: number) => boolean, unit = '×', caveat = '') =>
    results.push({
      target,
      measured: value === undefined ? 'not measured' : `${format(value)}${unit}${caveat}`,
      pass: value === undefined ? undefined : passes(value),
    });
  const ranNote = (ran: string | undefined) => (ran ? ` [${ran}]` : '');

  for (const [workload, bound] of Object.entries(CKDTREE_TARGETS)) {
    const rows = search.find((result) => result.spec.name === workload)?.measurements;
    const knnet = rows?.find((m) => m.implementation === 'knnet-auto');
    check(`${workload}, 1 thread: knnet 'auto' ≥ ${bound}× scipy cKDTree (workers=1)`, knnet?.ratioToCKDTree, (v) => v >= bound, '×', ranNote(knnet?.ran));
  }
  const comparison = (name: string) => comparisons.find((c) => c.name === name);
  const threads = comparison('L4: 2 threads ÷ 1 thread');
  check(`L4: knnet 'auto' on 2 threads ≥ ${SEARCH_THREADS_TARGET}× its 1-thread throughput (round-robin)`, threads?.speedRatio,
    (v) => v >= SEARCH_THREADS_TARGET, '×', ranNote(threads?.ran));
  for (const [workload, bound] of Object.entries(ALGORITHM_TARGETS)) {
    const pair = comparison(`${workload}: default ÷ 'brute'`);
    check(`${workload}: knnet's default algorithm ≥ ${bound}× algorithm 'brute' (round-robin)`, pair?.speedRatio, (v) => v >= bound, '×', ranNote(pair?.ran));
  }
  const fits = comparison("L4: fit default ÷ fit 'brute'");
  check(`L4: fit with the partition ≤ ${FIT_PARTITION_TARGET}× the time of a fit with algorithm 'brute'`,
    fits ? fits.numeratorSeconds / fits.denominatorSeconds : undefined, (v) => v <= FIT_PARTITION_TARGET, '× the time', ranNote(fits?.ran));
  for (const call of smallCalls) {
    check(`one query per call, ${call.workload}: knnet predict ≥ ${call.target}× the naive loop (round-robin)`, call.ratio, (v) => v >= call.target);
  }
  results.push(...embeddingsTargets(embeddings));
  return results;
}

function embeddingsTargets(embeddings: EmbeddingsResult | undefined): TargetResult[] {
  const names = [
    'E: batch queries/s ≥ faiss flat (1 thread)',
    `E: single-query latency ≤ ${SINGLE_QUERY_STREAM_TARGET}× one pass over the stored float32 bytes (round-robin)`,
    `E: fit ≥ ${FLOAT32_FIT_TARGET} MB/s of float32 input`,
  ];
  if (!embeddings) return names.map((target) => ({ target, measured: 'not measured (E not run)', pass: undefined }));
  if (embeddings.spec.n !== EMBEDDINGS_POINTS) {
    return names.map((target) => ({ target, measured: `not measured (E ran at n = ${embeddings.spec.n}, the targets are for ${EMBEDDINGS_POINTS})`, pass: undefined }));
  }
  const knnet = embeddings.knnet;
  if (!knnet) {
    const reason = embeddings.knnetFailure ? 'knnet could not run E: see the E section' : 'knnet not selected';
    return names.map((target) => ({ target, measured: `not measured (${reason})`, pass: undefined }));
  }
  const ran = knnet.ran ? ` [${knnet.ran}]` : '';
  // faiss-node where it installed; else the same faiss IndexFlatIP through Python, said so.
  const faiss = embeddings.rows.find((row) => row.implementation === 'faiss-node-ip') ?? embeddings.rows.find((row) => row.implementation === 'faiss-flat-ip');
  const ratio = faiss ? knnet.batchQueriesPerSecond / faiss.batchQueriesPerSecond : undefined;
  return [
    {
      target: names[0],
      measured: ratio === undefined ? 'not measured (no faiss flat ran)' : `${format(ratio)}× ${faiss!.label}${ran}`,
      pass: ratio === undefined ? undefined : ratio >= 1,
    },
    { target: names[1], measured: `${format(knnet.singleOverStream)}× one pass${ran}`, pass: knnet.singleOverStream <= SINGLE_QUERY_STREAM_TARGET },
    { target: names[2], measured: `${knnet.fitMegabytesPerSecond.toFixed(0)} MB/s${ran}`, pass: knnet.fitMegabytesPerSecond >= FLOAT32_FIT_TARGET },
  ];
}
