// Entries for the reducer-level tests (test/reducers.test.ts), compiled by that test alone: each
// drives one method of a reducer of the kernels (assembly/topk.ts, assembly/softmax.ts) on
// memory the test lays out itself, so a fold, a selection or a merge can be checked on
// hand-made tiles without a network. Descriptors and states are at addresses the test gives.
import { RangeReducer, sortCandidatesOrdered, TopKHeap, TopKReducer, topKFoldOrdered } from '../assembly/topk';
import { finishBlockStates, onlineSoftmaxMerge, SoftmaxReducer, SoftmaxState } from '../assembly/softmax';

export { topKStateBytes } from '../assembly/topk';
export { softmaxStateBytes, stableExp } from '../assembly/softmax';

/** The first free byte of this module's memory, 16-byte aligned: the test's memory starts here. */
export function freeMemory(): usize {
  return (__heap_base + 15) & ~<usize>15;
}

export function topKBegin(reducer: usize, states: usize, q: i32, capacity: i32, selectFromRow: bool, minima: usize): void {
  changetype<TopKReducer>(reducer).begin(states, q, capacity, selectFromRow, minima);
}

export function topKFold(reducer: usize, query: i32, tile: usize, count: i32, firstIndex: i32): void {
  changetype<TopKReducer>(reducer).fold(query, tile, count, firstIndex);
}

export function topKFinish(reducer: usize, query: i32): void {
  changetype<TopKReducer>(reducer).finish(query);
}

/** The address of `query`'s TopKHeap. */
export function topKHeap(reducer: usize, query: i32): usize {
  return changetype<usize>(changetype<TopKReducer>(reducer).heap(query));
}

export function heapSize(heap: usize): i32 {
  return changetype<TopKHeap>(heap).size;
}

export function heapDistances(heap: usize): usize {
  return changetype<TopKHeap>(heap).distances();
}

export function heapIndices(heap: usize, capacity: i32): usize {
  return changetype<TopKHeap>(heap).indices(capacity);
}

/** Folds `count` distances (positions firstPosition…) into a heap of positions whose ties rank by order[position]; returns its size. */
export function topKFoldInOrder(
  tile: usize, count: i32, firstPosition: i32, distances: usize, positions: usize, size: i32, capacity: i32, minima: usize, order: usize,
): i32 {
  return topKFoldOrdered(tile, count, firstPosition, distances, positions, size, capacity, minima, order);
}

export { sortCandidatesOrdered };

export function rangeBegin(reducer: usize, limit: f64, list: usize, room: i32): void {
  changetype<RangeReducer>(reducer).begin(limit, list, room);
}

export function rangeFold(reducer: usize, tile: usize, count: i32, firstIndex: i32): void {
  changetype<RangeReducer>(reducer).fold(0, tile, count, firstIndex);
}

export function rangeCount(reducer: usize): i32 {
  return changetype<RangeReducer>(reducer).count;
}

export function softmaxBegin(
  reducer: usize, states: usize, queryStride: usize, blockPoints: i32, labels: usize, targets: usize, classes: i32, regression: bool, lambda: f64,
  q: i32, firstBlock: i32, endBlock: i32,
): void {
  changetype<SoftmaxReducer>(reducer).begin(states, queryStride, blockPoints, labels, targets, classes, regression, lambda, q, firstBlock, endBlock);
}

export function softmaxFold(reducer: usize, query: i32, tile: usize, count: i32, firstIndex: i32): void {
  changetype<SoftmaxReducer>(reducer).fold(query, tile, count, firstIndex);
}

/** The address of `query`'s state of `block`. */
export function softmaxState(reducer: usize, query: i32, block: i32): usize {
  return changetype<usize>(changetype<SoftmaxReducer>(reducer).state(query, block));
}

/** Where a state's scores start (after its minimum and weight sum). */
export function softmaxScores(state: usize): usize {
  return changetype<SoftmaxState>(state).scores();
}

export function softmaxMerge(state: usize, other: usize, classes: i32, lambda: f64): void {
  onlineSoftmaxMerge(changetype<SoftmaxState>(state), changetype<SoftmaxState>(other), classes, lambda);
}

export { finishBlockStates };
