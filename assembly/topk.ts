// Layer 2, hard modes: a per-query running top-k, fed one tile of distances at a time.
//
// Each query owns a max-heap of `capacity` (distance, index) pairs ordered by distance, then
// index: its root is the worst candidate kept. Tiles arrive in increasing training index, so a
// newcomer with the same distance as the root never displaces it: ties go to the lower index.
// Most distances fail the root test; the scan tests the minimum of eight at a time against it
// and only falls to scalar code when one of them gets in.

@inline function distanceAt(distances: usize, slot: i32): f64 {
  return load<f64>(distances + (<usize>slot << 3));
}

@inline function indexAt(indices: usize, slot: i32): i32 {
  return load<i32>(indices + (<usize>slot << 2));
}

@inline function put(distances: usize, indices: usize, slot: i32, distance: f64, index: i32): void {
  store<f64>(distances + (<usize>slot << 3), distance);
  store<i32>(indices + (<usize>slot << 2), index);
}

/** Whether (distance a, index i) ranks after (distance b, index j): farther, or as far and later. */
@inline function ranksAfter(a: f64, i: i32, b: f64, j: i32): bool {
  return a > b || (a == b && i > j);
}

function siftDown(distances: usize, indices: usize, size: i32, start: i32): void {
  let slot = start;
  const distance = distanceAt(distances, slot);
  const index = indexAt(indices, slot);
  while (true) {
    let child = 2 * slot + 1;
    if (child >= size) break;
    const right = child + 1;
    if (right < size && ranksAfter(distanceAt(distances, right), indexAt(indices, right), distanceAt(distances, child), indexAt(indices, child))) {
      child = right;
    }
    if (!ranksAfter(distanceAt(distances, child), indexAt(indices, child), distance, index)) break;
    put(distances, indices, slot, distanceAt(distances, child), indexAt(indices, child));
    slot = child;
  }
  put(distances, indices, slot, distance, index);
}

function siftUp(distances: usize, indices: usize, start: i32): void {
  let slot = start;
  const distance = distanceAt(distances, slot);
  const index = indexAt(indices, slot);
  while (slot > 0) {
    const parent = (slot - 1) >> 1;
    if (!ranksAfter(distance, index, distanceAt(distances, parent), indexAt(indices, parent))) break;
    put(distances, indices, slot, distanceAt(distances, parent), indexAt(indices, parent));
    slot = parent;
  }
  put(distances, indices, slot, distance, index);
}

/** Offers one candidate to a heap holding `size` of `capacity`; returns the new size. */
export function offerCandidate(distances: usize, indices: usize, size: i32, capacity: i32, distance: f64, index: i32): i32 {
  if (size < capacity) {
    put(distances, indices, size, distance, index);
    siftUp(distances, indices, size);
    return size + 1;
  }
  if (ranksAfter(distanceAt(distances, 0), indexAt(indices, 0), distance, index)) {
    put(distances, indices, 0, distance, index);
    siftDown(distances, indices, capacity, 0);
  }
  return size;
}

/**
 * Folds `count` distances (training points firstIndex…) into one query's heap; returns its size.
 */
export function topKFold(
  tile: usize, count: i32, firstIndex: i32,
  distances: usize, indices: usize, size: i32, capacity: i32,
): i32 {
  let i = 0;
  if (size < capacity) {
    // Fill phase: the heap takes every candidate until it is full; copied in, then heapified
    // once (linear time) rather than sifted up one by one.
    const taken = min(capacity - size, count);
    for (; i < taken; i++) put(distances, indices, size + i, load<f64>(tile + (<usize>i << 3)), firstIndex + i);
    size += taken;
    if (size < capacity) return size;
    for (let start = (size >> 1) - 1; start >= 0; start--) siftDown(distances, indices, size, start);
  }
  let worst = distanceAt(distances, 0);
  let threshold = f64x2.splat(worst);
  // Eight distances at a time: their minimum against the root decides whether any gets in.
  for (; i + 7 < count; i += 8) {
    const at = tile + (<usize>i << 3);
    const smallest = f64x2.pmin(
      f64x2.pmin(v128.load(at), v128.load(at, 16)),
      f64x2.pmin(v128.load(at, 32), v128.load(at, 48)),
    );
    if (!v128.any_true(f64x2.lt(smallest, threshold))) continue;
    for (let lane = 0; lane < 8; lane++) {
      const distance = load<f64>(at + (<usize>lane << 3));
      if (distance < worst) {
        offerCandidate(distances, indices, size, capacity, distance, firstIndex + i + lane);
        worst = distanceAt(distances, 0);
      }
    }
    threshold = f64x2.splat(worst);
  }
  for (; i < count; i++) {
    const distance = load<f64>(tile + (<usize>i << 3));
    if (distance < worst) {
      offerCandidate(distances, indices, size, capacity, distance, firstIndex + i);
      worst = distanceAt(distances, 0);
    }
  }
  return size;
}

/** Sorts `size` (distance, index) pairs ascending, ties by index: heap-sort, in place. */
export function sortCandidates(distances: usize, indices: usize, size: i32): void {
  for (let start = (size >> 1) - 1; start >= 0; start--) siftDown(distances, indices, size, start);
  for (let end = size - 1; end > 0; end--) {
    const distance = distanceAt(distances, 0);
    const index = indexAt(indices, 0);
    put(distances, indices, 0, distanceAt(distances, end), indexAt(indices, end));
    put(distances, indices, end, distance, index);
    siftDown(distances, indices, end, 0);
  }
}

/**
 * Appends to `list` the indices of the distances ≤ limit among `count` (training points
 * firstIndex…), while fewer than `room` are listed; returns the new count, which exceeds `room`
 * if any did not fit.
 */
export function rangeFold(tile: usize, count: i32, firstIndex: i32, limit: f64, list: usize, listed: i32, room: i32): i32 {
  const bound = f64x2.splat(limit);
  let i = 0;
  for (; i < count; i += 8) {
    if (i + 8 <= count) {
      const at = tile + (<usize>i << 3);
      const smallest = f64x2.pmin(
        f64x2.pmin(v128.load(at), v128.load(at, 16)),
        f64x2.pmin(v128.load(at, 32), v128.load(at, 48)),
      );
      if (!v128.any_true(f64x2.le(smallest, bound))) continue;
    }
    const end = min(i + 8, count);
    for (let j = i; j < end; j++) {
      if (load<f64>(tile + (<usize>j << 3)) > limit) continue;
      if (listed < room) store<i32>(list + (<usize>listed << 2), firstIndex + j);
      listed++;
    }
  }
  return listed;
}
