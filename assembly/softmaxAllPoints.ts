// The softmax over all points (k = 'all'): every training point's distance folded into
// online-softmax states, block by block, the blocks merged in a fixed tree.

import { panelCount, PANEL_POINTS } from './distance';
import { finishBlockStates, softmaxStateBytes, SoftmaxReducer } from './softmax';
import { blockPanels, reducerIn, statesOffset, STORED, streamDistances } from './stream';
import { exactLayer } from './metrics';

// The softmax over all points folds fixed blocks of whole tiles into states of their own, then
// merges the blocks' states in a fixed tree. The blocks depend on n, d and the number of classes
// alone, so a pool that gives each worker a range of blocks rounds exactly as one thread that
// folds them all. A query's states take at most SOFTMAX_STATES_BYTES (or one block's): forward's
// z2 projects on n "classes", where 32 states of n values each would cost far more than its
// output, and states take chunk room from queries (at 64 KiB, a 1 000-class network's chunks
// shrank from 240 queries to 56 and its sync calls slowed by 6–11 %; 16 KiB still gives it 2 blocks).
const MAX_SOFTMAX_BLOCKS: i32 = 32;
const SOFTMAX_STATES_BYTES: usize = 16 * 1024;

function softmaxTilesPerBlock(n: i32, d: i32, classes: i32): i32 {
  const step = blockPanels(d);
  const tiles = (panelCount(n) + step - 1) / step;
  const fitting = <i32>(SOFTMAX_STATES_BYTES / softmaxStateBytes(classes));
  const blocks = fitting < 1 ? 1 : fitting > MAX_SOFTMAX_BLOCKS ? MAX_SOFTMAX_BLOCKS : fitting;
  return (tiles + blocks - 1) / blocks;
}

/** How many blocks of training points the softmax over all points folds separately (1 … 32). */
export function softmaxBlockCount(n: i32, d: i32, classes: i32): i32 {
  const panelsPerBlock = softmaxTilesPerBlock(n, d, classes) * blockPanels(d);
  return (panelCount(n) + panelsPerBlock - 1) / panelsPerBlock;
}

/** The bytes of one query's states (one per block) for the softmax over all points. */
export function softmaxQueryStateBytes(n: i32, d: i32, classes: i32): usize {
  return <usize>softmaxBlockCount(n, d, classes) * softmaxStateBytes(classes);
}

/**
 * Folds blocks firstBlock … endBlock − 1 of the training points into their online-softmax
 * states, for q queries: query r's state of block b at
 * `states + r·softmaxQueryStateBytes + b·softmaxStateBytes`. Other blocks' states are untouched,
 * so workers may fill one `states` region side by side.
 */
export function softmaxBlockStates(
  packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
  queries: usize, q: i32, scratch: usize, firstBlock: i32, endBlock: i32, states: usize, metric: i32,
): void {
  const kernel = exactLayer(metric);
  foldBlocks(packed, pointNorms, mean, n, d, labels, targets, classes, regression, lambda, queries, q, scratch, firstBlock, endBlock, states, kernel);
}

/**
 * softmaxBlockStates on float32 storage (`panels`, b1 in `pointNorms`; a cosine network's
 * `unitFactors`, else 0): the same tiles in the same order, with the same bits, so the same states.
 */
export function storedSoftmaxBlockStates(
  panels: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
  queries: usize, q: i32, scratch: usize, firstBlock: i32, endBlock: i32, states: usize, metric: i32, unitFactors: usize,
): void {
  const kernel = STORED + exactLayer(metric);
  foldBlocks(panels, pointNorms, mean, n, d, labels, targets, classes, regression, lambda, queries, q, scratch, firstBlock, endBlock, states, kernel, unitFactors);
}

function foldBlocks(
  panels: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
  queries: usize, q: i32, scratch: usize, firstBlock: i32, endBlock: i32, states: usize, kernel: i32, unitFactors: usize = 0,
): void {
  const panelsPerBlock = softmaxTilesPerBlock(n, d, classes) * blockPanels(d);
  const reducer = reducerIn<SoftmaxReducer>(scratch, q, d);
  reducer.begin(
    states, softmaxQueryStateBytes(n, d, classes), panelsPerBlock * PANEL_POINTS, labels, targets, classes, regression, lambda,
    q, firstBlock, endBlock,
  );
  const endPanel = min(endBlock * panelsPerBlock, panelCount(n));
  streamDistances(reducer, panels, pointNorms, n, d, mean, queries, q, scratch, kernel, firstBlock * panelsPerBlock, endPanel, unitFactors);
}

/**
 * Merges each query's block states (as softmaxBlockStates left them, every block folded) in a
 * fixed pairwise tree, in place, and writes the class probabilities (or regression estimates):
 * q × classes values to `output`.
 */
export function softmaxMergeBlocks(states: usize, n: i32, d: i32, q: i32, classes: i32, lambda: f64, output: usize): void {
  const blocks = softmaxBlockCount(n, d, classes);
  const stateBytes = softmaxStateBytes(classes);
  const queryStride = softmaxQueryStateBytes(n, d, classes);
  for (let r = 0; r < q; r++) {
    finishBlockStates(states + <usize>r * queryStride, blocks, stateBytes, classes, lambda, output + (<usize>r * <usize>classes << 3));
  }
}

/**
 * softmax(−λ·z1) over all n points, projected on the classes (or targets): every block folded
 * online, then merged. The states live in `scratch`, sized by scratchBytes(q, d,
 * softmaxQueryStateBytes(n, d, classes)).
 */
export function softmaxScores(
  packed: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
  queries: usize, q: i32, scratch: usize, output: usize, metric: i32,
): void {
  const states = scratch + statesOffset(q, d);
  softmaxBlockStates(packed, pointNorms, mean, n, d, labels, targets, classes, regression, lambda, queries, q, scratch, 0, softmaxBlockCount(n, d, classes), states, metric);
  softmaxMergeBlocks(states, n, d, q, classes, lambda, output);
}

/** softmaxScores on float32 storage (`panels`, b1 in `pointNorms`, a cosine network's `unitFactors`): the same bits. */
export function storedSoftmaxScores(
  panels: usize, pointNorms: usize, mean: usize, n: i32, d: i32,
  labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
  queries: usize, q: i32, scratch: usize, output: usize, metric: i32, unitFactors: usize,
): void {
  const states = scratch + statesOffset(q, d);
  storedSoftmaxBlockStates(
    panels, pointNorms, mean, n, d, labels, targets, classes, regression, lambda, queries, q, scratch, 0, softmaxBlockCount(n, d, classes), states, metric, unitFactors,
  );
  softmaxMergeBlocks(states, n, d, q, classes, lambda, output);
}
