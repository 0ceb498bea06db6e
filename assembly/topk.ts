// Layer 2, hard modes: a per-query running top-k, fed one tile of distances at a time.
//
// Each query owns a max-heap of `capacity` (distance, index) pairs ordered by distance, then
// index: its root is the worst candidate kept. Tiles arrive in increasing training index, so a
// newcomer with the same distance as the root never displaces it: ties go to the lower index.
// Most distances fail the root test; the scan tests the minimum of eight at a time against it
// and only falls to scalar code when one of them gets in. Small problems, whose whole row fits
// one tile, skip the heap (smallestOfRow); a doubtful query's second pass lists every distance
// under a limit (rangeFold).

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

/**
 * Sorts `size` (distance, index) pairs ascending, ties by index, in place: insertion sort for a
 * few (the candidates of a small k arrive nearly sorted), heap-sort beyond.
 */
export function sortCandidates(distances: usize, indices: usize, size: i32): void {
  if (size <= 16) {
    for (let i = 1; i < size; i++) {
      const distance = distanceAt(distances, i);
      const index = indexAt(indices, i);
      let slot = i;
      while (slot > 0 && ranksAfter(distanceAt(distances, slot - 1), indexAt(indices, slot - 1), distance, index)) {
        put(distances, indices, slot, distanceAt(distances, slot - 1), indexAt(indices, slot - 1));
        slot--;
      }
      put(distances, indices, slot, distance, index);
    }
    return;
  }
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

const LANE_MINIMA: usize = memory.data(64);

/**
 * The `capacity` (≤ 8) smallest of a query's whole row of `count` ≥ 8 distances (training
 * points firstIndex…), without a heap: the row's eight lane minima (positions ≡ 0…7 mod 8) are
 * eight distinct points, so the capacity-th smallest of them is a threshold with at least
 * `capacity` distances at or below it; one vector pass keeps only those, inserted into a short
 * sorted list (ties to the lower index). At Iris size this costs a fraction of the heap.
 * Writes them ascending; overwrites the tile's padding after `count` with +∞.
 */
export function smallestOfRow(tile: usize, count: i32, firstIndex: i32, distances: usize, indices: usize, capacity: i32): void {
  const padded = (count + 7) & ~7;
  for (let i = count; i < padded; i++) store<f64>(tile + (<usize>i << 3), Infinity);
  let lanes01 = f64x2.splat(Infinity), lanes23 = lanes01, lanes45 = lanes01, lanes67 = lanes01;
  for (let i = 0; i < padded; i += 8) {
    const at = tile + (<usize>i << 3);
    lanes01 = f64x2.pmin(lanes01, v128.load(at));
    lanes23 = f64x2.pmin(lanes23, v128.load(at, 16));
    lanes45 = f64x2.pmin(lanes45, v128.load(at, 32));
    lanes67 = f64x2.pmin(lanes67, v128.load(at, 48));
  }
  // The capacity-th smallest lane minimum, by insertion sort in a static 8-slot buffer.
  const minima = LANE_MINIMA;
  store<f64>(minima, f64x2.extract_lane(lanes01, 0));
  store<f64>(minima, f64x2.extract_lane(lanes01, 1), 8);
  store<f64>(minima, f64x2.extract_lane(lanes23, 0), 16);
  store<f64>(minima, f64x2.extract_lane(lanes23, 1), 24);
  store<f64>(minima, f64x2.extract_lane(lanes45, 0), 32);
  store<f64>(minima, f64x2.extract_lane(lanes45, 1), 40);
  store<f64>(minima, f64x2.extract_lane(lanes67, 0), 48);
  store<f64>(minima, f64x2.extract_lane(lanes67, 1), 56);
  for (let i = 1; i < 8; i++) {
    const value = distanceAt(minima, i);
    let slot = i;
    while (slot > 0 && distanceAt(minima, slot - 1) > value) {
      store<f64>(minima + (<usize>slot << 3), distanceAt(minima, slot - 1));
      slot--;
    }
    store<f64>(minima + (<usize>slot << 3), value);
  }
  const threshold = f64x2.splat(distanceAt(minima, capacity - 1));
  // Keep the distances at or below it, sorted ascending in slots 0…size−1.
  let size = 0;
  for (let i = 0; i < padded; i += 8) {
    const at = tile + (<usize>i << 3);
    let lanes =
      i64x2.bitmask(f64x2.le(v128.load(at), threshold)) |
      (i64x2.bitmask(f64x2.le(v128.load(at, 16), threshold)) << 2) |
      (i64x2.bitmask(f64x2.le(v128.load(at, 32), threshold)) << 4) |
      (i64x2.bitmask(f64x2.le(v128.load(at, 48), threshold)) << 6);
    while (lanes != 0) {
      const lane = ctz(lanes);
      lanes &= lanes - 1;
      const value = load<f64>(at + (<usize>lane << 3));
      if (size == capacity && !(value < distanceAt(distances, capacity - 1))) continue;
      let slot = size < capacity ? size++ : capacity - 1;
      while (slot > 0 && distanceAt(distances, slot - 1) > value) {
        put(distances, indices, slot, distanceAt(distances, slot - 1), indexAt(indices, slot - 1));
        slot--;
      }
      put(distances, indices, slot, value, firstIndex + i + lane);
    }
  }
}
