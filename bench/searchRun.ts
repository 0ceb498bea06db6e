/**
 * The search part of a bench run: the search workloads (L2, L4, L8, L16, U64) with knnet's
 * rows and the JS and Python trees, the round-robin comparisons the targets read, the one-query
 * calls, and the embeddings workload E. The data of each workload are generated once, measured
 * by every implementation in turn, and dropped before the next workload's.
 */
import { totalmem } from 'node:os';
import { importFaissNode, faissNodeImplementation } from './embeddings/faissNode.js';
import { hnswlibImplementations, importHnswlib } from './embeddings/hnswlib.js';
import { estimateEmbeddingsNeeds, measureEmbeddings, type EmbeddingsResult } from './embeddings/suite.js';
import type { EmbeddingsImplementation } from './embeddings/types.js';
import { EMBEDDINGS_WORKLOAD } from './embeddings/workload.js';
import { processor } from './machine.js';
import { importMlKnn } from './peers/mlKnn.js';
import { importPeer } from './peers/resolve.js';
import { PeerUnavailable } from './peers/types.js';
import {
  compareClassificationAlgorithms, compareFits, compareSearchAlgorithms, compareSearchThreads, FULL_PAIR_ROUNDS, QUICK_PAIR_ROUNDS, type PairComparison,
} from './search/comparisons.js';
import { knnetSearchImplementation } from './search/knnetSearch.js';
import { mlKnnSearchImplementation } from './search/mlKnnSearch.js';
import { FAISS_INSTALL_HINT, FAISS_MODULES, FAISS_PEERS, findPython, PYTHON_INSTALL_HINT, TREE_MODULES, TREE_PEERS } from './search/pythonPeers.js';
import { staticKdtreeImplementation, type CreateKdTree } from './search/staticKdtree.js';
import { measureSearchWorkload, type PythonPlan, type SearchWorkloadResult } from './search/suite.js';
import { FULL_SEARCH_TIMING, QUICK_SEARCH_TIMING } from './search/timing.js';
import type { SearchImplementation } from './search/types.js';
import { loadSearchWorkload, SEARCH_WORKLOADS } from './search/workloads.js';
import type { SearchSuiteReport } from './searchReport.js';
import { FULL_SMALL_CALL_ROUNDS, measureSmallCalls, QUICK_SMALL_CALL_ROUNDS, type SmallCallResult } from './smallCalls.js';
import { loadWorkload, WORKLOADS } from './workloads.js';

export interface SearchRunArguments {
  quick: boolean;
  /** Workload names, lower case (`--only`); all but E when absent. */
  only?: Set<string>;
  /** Implementation names, lower case (`--impl`); all when absent. */
  implementations?: Set<string>;
  /** Points of E instead of its million (`--e-points`): its targets are then not checked. */
  embeddingsPoints?: number;
}

/** The knnet rows on the search workloads, by command-line name. */
export const KNNET_SEARCH_ROWS = ['knnet-auto', 'knnet-tree', 'knnet-brute', 'knnet-auto-2t'] as const;
/**
 * The JS trees; they scan everything in 64 dimensions and would take minutes there, so they skip
 * U64. ml-knn takes about 90 s to build and 5 s a query at a million points: a quick run leaves it out.
 */
export const JS_TREES = ['static-kdtree', 'ml-knn'] as const;
/** E's implementations, by command-line name. */
export const EMBEDDINGS_IMPLEMENTATIONS = ['knnet', 'faiss-node', 'hnswlib', ...FAISS_PEERS] as const;
/** `--only` names of this part besides the workloads: the one-query calls. */
export const SMALL_CALLS = 'small';

const selected = (set: Set<string> | undefined, name: string) => !set || set.has(name.toLowerCase());
/** A knnet row runs when named, or when `--impl` names knnet. */
const knnetSelected = (set: Set<string> | undefined, name: string) => selected(set, name) || (set?.has('knnet') ?? false);

async function loadJsTrees(args: SearchRunArguments, notes: string[]): Promise<SearchImplementation[]> {
  const result: SearchImplementation[] = [];
  const skipU64 = (implementation: SearchImplementation): SearchImplementation => ({
    ...implementation,
    unsupported: (spec) => (spec.d >= 64 ? 'a k-d tree in JS scans every point in 64 dimensions; left out of the guard' : undefined),
  });
  const loaders: [string, () => Promise<SearchImplementation>][] = [
    ['static-kdtree', async () => {
      const module = await importPeer<{ default: CreateKdTree }>('static-kdtree');
      return staticKdtreeImplementation(module.default);
    }],
    ['ml-knn', async () => mlKnnSearchImplementation(await importMlKnn())],
  ];
  for (const [name, load] of loaders) {
    if (!selected(args.implementations, name)) continue;
    if (name === 'ml-knn' && args.quick && !args.implementations?.has(name)) {
      notes.push('search: ml-knn left out of a quick run (about 90 s to build and 5 s a query at a million points; name it with --impl to run it)');
      continue;
    }
    try {
      const implementation = skipU64(await load());
      result.push(implementation);
      if (implementation.note) notes.push(implementation.note);
    } catch (error) {
      const reason = error instanceof PeerUnavailable ? error.message : `failed to load: ${(error as Error).message}`;
      notes.push(`search: ${name} skipped: ${reason}`);
      console.log(`skipping ${name}: ${reason}`);
    }
  }
  return result;
}

/** The Python trees, with the interpreter that has scipy and scikit-learn; a note saying how to get them otherwise. */
function planPythonTrees(args: SearchRunArguments, notes: string[]): PythonPlan | undefined {
  const peers = TREE_PEERS.filter((name) => selected(args.implementations, name));
  if (peers.length === 0) return undefined;
  const { python, tried } = findPython(TREE_MODULES);
  if (!python) {
    const message = `the Python peers (scipy cKDTree, scikit-learn KDTree and BallTree) are skipped: no python imports ${TREE_MODULES.join(', ')} ` +
      `(tried ${tried.join('; ')}); ${PYTHON_INSTALL_HINT}`;
    notes.push(message);
    console.log(message);
    return undefined;
  }
  console.log(`Python peers: ${python}${tried.length > 0 ? ` (passed over: ${tried.join('; ')})` : ''}`);
  return { python, peers };
}

async function embeddingsPeers(args: SearchRunArguments, notes: string[]): Promise<EmbeddingsImplementation[]> {
  const peers: EmbeddingsImplementation[] = [];
  // Both are optional dependencies of bench/package.json: npm skips one whose native build fails.
  const unavailable = (name: string, error: unknown) => {
    const reason = error instanceof PeerUnavailable
      ? `${name} is not installed (an optional peer: \`npm run bench:peers\` installs it where its native build succeeds; see bench/README.md)`
      : `failed to load: ${(error as Error).message}`;
    notes.push(`E: ${name} skipped: ${reason}`);
    console.log(`  skipping ${name}: ${reason}`);
  };
  if (selected(args.implementations, 'faiss-node')) {
    try {
      const faiss = await importFaissNode();
      peers.push(faissNodeImplementation(faiss, 'ip'), faissNodeImplementation(faiss, 'l2'));
    } catch (error) {
      unavailable('faiss-node', error);
    }
  }
  // Its graph takes about a millisecond a vector to build here (17 minutes or more at a million).
  if (args.quick && !args.implementations?.has('hnswlib')) {
    notes.push('E: hnswlib-node left out of a quick run (its graph takes about 1 ms a vector to build here; name it with --impl to run it)');
  } else if (selected(args.implementations, 'hnswlib')) {
    try {
      peers.push(...hnswlibImplementations(await importHnswlib()));
    } catch (error) {
      unavailable('hnswlib-node', error);
    }
  }
  return peers;
}

async function runEmbeddings(args: SearchRunArguments, notes: string[]): Promise<{ result?: EmbeddingsResult; skipped?: string }> {
  const spec = args.embeddingsPoints ? { ...EMBEDDINGS_WORKLOAD, n: args.embeddingsPoints } : EMBEDDINGS_WORKLOAD;
  const asked = args.only?.has('e') ?? false;
  if (!asked) {
    if (args.only) return {};
    console.log(`\nE: estimating what ${spec.n} × ${spec.d} float32 vectors need …`);
    const needs = await estimateEmbeddingsNeeds(spec);
    if (needs.reasonToSkip) {
      const skipped = `${needs.reasonToSkip}. It runs with --only E (add --e-points N for fewer vectors).`;
      console.log(`E skipped by default: ${skipped}`);
      return { skipped };
    }
  }
  console.log(`\nE: ${spec.n} × ${spec.d} float32 unit vectors, cosine, k = ${spec.k}, ${spec.q} queries (this machine: ${(totalmem() / 1e9).toFixed(0)} GB)`);
  const faissPeers = FAISS_PEERS.filter((name) => selected(args.implementations, name));
  let python: { python: string; peers: readonly string[] } | undefined;
  if (faissPeers.length > 0) {
    const found = findPython(FAISS_MODULES);
    if (found.python) python = { python: found.python, peers: faissPeers };
    else notes.push(`E: faiss through Python skipped: no python imports ${FAISS_MODULES.join(', ')} (tried ${found.tried.join('; ')}); ${FAISS_INSTALL_HINT}`);
  }
  const result = await measureEmbeddings(spec, {
    fitRepeats: args.quick ? 1 : 3,
    timing: args.quick ? QUICK_SEARCH_TIMING : FULL_SEARCH_TIMING,
    rounds: args.quick ? QUICK_PAIR_ROUNDS : FULL_PAIR_ROUNDS,
    knnet: knnetSelected(args.implementations, 'knnet'),
    peers: await embeddingsPeers(args, notes),
    python,
  }, notes);
  return { result };
}

/** Runs the selected search workloads, comparisons, one-query calls and E; undefined when none is selected. */
export async function runSearchSuite(args: SearchRunArguments, notes: string[]): Promise<SearchSuiteReport | undefined> {
  const timing = args.quick ? QUICK_SEARCH_TIMING : FULL_SEARCH_TIMING;
  const rounds = args.quick ? QUICK_PAIR_ROUNDS : FULL_PAIR_ROUNDS;
  const buildRepeats = args.quick ? 1 : 3;
  const specs = SEARCH_WORKLOADS.filter((spec) => selected(args.only, spec.name));
  const comparisons: PairComparison[] = [];
  const search: SearchWorkloadResult[] = [];

  if (specs.length > 0) {
    const implementations = [
      ...KNNET_SEARCH_ROWS.filter((name) => knnetSelected(args.implementations, name)).map((name) => {
        const algorithm = name.split('-')[1] as 'auto' | 'tree' | 'brute';
        return knnetSearchImplementation(algorithm, name.endsWith('-2t') ? 2 : 1);
      }),
      ...(await loadJsTrees(args, notes)),
    ];
    const python = planPythonTrees(args, notes);
    for (const spec of specs) {
      console.log(`\n${spec.name}: n=${spec.n}, d=${spec.d}, q=${spec.q}, k=${spec.k} — ${spec.description}`);
      const start = performance.now();
      const data = loadSearchWorkload(spec);
      console.log(`  (data generated in ${((performance.now() - start) / 1e3).toFixed(1)} s)`);
      const result = await measureSearchWorkload(data, implementations, python, { timing, buildRepeats, checkQueries: 100 }, notes);
      search.push(result);
      if (result.pythonVersions && search.filter((r) => r.pythonVersions).length === 1) {
        notes.push(`Python peers: ${Object.entries(result.pythonVersions).map(([name, version]) => `${name} ${version}`).join(', ')}`);
      }
      if (knnetSelected(args.implementations, 'knnet-auto')) {
        if (spec.name === 'L4') {
          comparisons.push(await compareSearchThreads(data, rounds));
          comparisons.push(await compareFits(data, args.quick ? 3 : 5));
        }
        if (spec.name === 'U64') comparisons.push(await compareSearchAlgorithms(data, rounds));
      }
    }
  }

  for (const name of ['W2', 'W3']) {
    if (!selected(args.only, name) || !knnetSelected(args.implementations, 'knnet-brute')) continue;
    console.log(`\n${name}: knnet's default algorithm against 'brute', round-robin`);
    comparisons.push(await compareClassificationAlgorithms(loadWorkload(WORKLOADS.find((w) => w.name === name)!), rounds));
  }

  let smallCalls: SmallCallResult[] = [];
  if (selected(args.only, SMALL_CALLS) && knnetSelected(args.implementations, 'knnet') && selected(args.implementations, 'naive')) {
    console.log('\none query per call, round-robin');
    smallCalls = await measureSmallCalls(args.quick ? QUICK_SMALL_CALL_ROUNDS : FULL_SMALL_CALL_ROUNDS);
  }

  const embeddings = await runEmbeddings(args, notes);
  if (search.length === 0 && comparisons.length === 0 && smallCalls.length === 0 && !embeddings.result && !embeddings.skipped) return undefined;
  return {
    processor: processor(), timing, buildRepeats, search, comparisons, smallCalls,
    embeddings: embeddings.result, embeddingsSkipped: embeddings.skipped,
  };
}
