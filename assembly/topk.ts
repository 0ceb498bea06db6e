// Layer 2, hard modes: a per-query running top-k, fed one tile of distances at a time.
//
// Each query owns a max-heap of `capacity` (distance, index) pairs ordered by distance, then
// index: its root is the worst candidate kept. Tiles arrive in increasing training index, so a
// newcomer with the same distance as the root never displaces it: ties go to the lower index.
//
// A network stored in leaf order (assembly/partition.ts) keeps positions in its heaps, and the
// caller's index of position p is order[p]: ties then rank by order[p], and since leaves arrive
// in any order, a newcomer as far as the root does get in when its index is lower. The
// `…Ordered` twins take that `order`; each shares its body with the plain one through an
// inlined generic whose order is 0 (the identity) in the plain one, so the brute-force stream
// compiles to the loops it had.
// Most distances fail the root test; the scan tests the minimum of sixteen at a time against it
// and only visits the lanes that get in. Small problems, whose whole row fits one tile, skip
// the heap (smallestOfRow); a doubtful query's second pass lists every distance under a limit
// (rangeFold). TopKReducer and RangeReducer hand these folds the tiles of a stream.

/**
 * One query's top-k state: the heap's size, then `capacity` distances (f64), then as many
 * training indices (i32). The two arrays' places depend on the capacity, which the reducer
 * holds; this is the one place that lays them out.
 */
@unmanaged export class TopKHeap {
  size: i32;

  /** Where the distances start: right after the size. */
  @inline distances(): usize {
    return changetype<usize>(this) + 4;
  }

  /** Where the indices start: after `capacity` distances. */
  @inline indices(capacity: i32): usize {
    return changetype<usize>(this) + 4 + (<usize>capacity << 3);
  }
}

/** The bytes of one TopKHeap of `capacity`, rounded up to 16. */
export function topKStateBytes(capacity: i32): usize {
  return (<usize>capacity * 12 + 4 + 15) & ~<usize>15;
}

/**
 * The top-k reducer of one call: a TopKHeap of `capacity` per query, `stateBytes` apart from
 * `states` on, and `minima`, MINIMA_BYTES of the call's scratch that the folds sort a tile's
 * lane or column minima in. With `selectFromRow` each query's whole row arrives as one tile and
 * at most 16 are kept: a fold selects from that row (smallestOfRow, sorted as it goes) instead
 * of feeding the heap. A call split by training rows merges its slices' answers in the
 * wrapper, by (distance, index), the order the heaps keep.
 */
@unmanaged export class TopKReducer {
  states: usize;
  stateBytes: usize;
  minima: usize;
  capacity: i32;
  selectFromRow: bool;
  /** A byte per point (1 = allowed) whose other points the folds pass over; 0: none. */
  allowed: usize;

  /** Sets the reducer up for q queries, every heap empty, over the points `allowed` marks (0: all). */
  begin(states: usize, q: i32, capacity: i32, selectFromRow: bool, minima: usize, allowed: usize = 0): void {
    this.states = states;
    this.stateBytes = topKStateBytes(capacity);
    this.minima = minima;
    this.capacity = capacity;
    this.selectFromRow = selectFromRow;
    this.allowed = allowed;
    for (let r = 0; r < q; r++) this.heap(r).size = 0;
  }

  @inline heap(query: i32): TopKHeap {
    return changetype<TopKHeap>(this.states + <usize>query * this.stateBytes);
  }

  /** Folds `count` distances (training points firstIndex…) into `query`'s candidates. */
  @inline fold(query: i32, tile: usize, count: i32, firstIndex: i32): void {
    const heap = this.heap(query);
    const capacity = this.capacity;
    if (this.selectFromRow) {
      smallestOfRow(tile, count, firstIndex, heap.distances(), heap.indices(capacity), capacity, this.minima);
      heap.size = capacity;
    } else if (this.allowed == 0) {
      heap.size = topKFold(tile, count, firstIndex, heap.distances(), heap.indices(capacity), heap.size, capacity, this.minima);
    } else {
      heap.size = topKFoldFiltered(tile, count, firstIndex, heap.distances(), heap.indices(capacity), heap.size, capacity, this.minima, this.allowed);
    }
  }

  /** Sorts `query`'s candidates by (distance, index), ascending (a row selection's already are). */
  finish(query: i32): void {
    if (this.selectFromRow) return;
    const heap = this.heap(query);
    sortCandidates(heap.distances(), heap.indices(this.capacity), heap.size);
  }
}

/**
 * The range reducer of one query's second pass: lists the indices of the distances ≤ `limit`
 * in `list`, while fewer than `room` are listed; `count` says how many qualified, and exceeds
 * `room` if any did not fit. There is one list, so the stream must carry one query.
 */
@unmanaged export class RangeReducer {
  limit: f64;
  list: usize;
  room: i32;
  count: i32;

  begin(limit: f64, list: usize, room: i32): void {
    this.limit = limit;
    this.list = list;
    this.room = room;
    this.count = 0;
  }

  @inline fold(query: i32, tile: usize, count: i32, firstIndex: i32): void {
    this.count = rangeFold(tile, count, firstIndex, this.limit, this.list, this.count, this.room);
  }

  /** Whether every qualifying index was listed. */
  @inline complete(): bool {
    return this.count <= this.room;
  }

  /** The index listed at `slot` (< min(count, room)). */
  @inline listed(slot: i32): i32 {
    return load<i32>(this.list + (<usize>slot << 2));
  }
}

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

/** The rank of position i among equal distances: its caller index order[i], or i itself when `order` is 0 (the identity). */
@inline function tieRank(order: usize, i: i32): i32 {
  return order == 0 ? i : load<i32>(order + (<usize>i << 2));
}

/** Whether (distance a, position i) ranks after (distance b, position j): farther, or as far and later by tieRank. */
@inline function ranksAfter(order: usize, a: f64, i: i32, b: f64, j: i32): bool {
  return a > b || (a == b && tieRank(order, i) > tieRank(order, j));
}

@inline function siftDownIn(order: usize, distances: usize, indices: usize, size: i32, start: i32): void {
  let slot = start;
  const distance = distanceAt(distances, slot);
  const index = indexAt(indices, slot);
  while (true) {
    let child = 2 * slot + 1;
    if (child >= size) break;
    const right = child + 1;
    if (right < size && ranksAfter(order, distanceAt(distances, right), indexAt(indices, right), distanceAt(distances, child), indexAt(indices, child))) {
      child = right;
    }
    if (!ranksAfter(order, distanceAt(distances, child), indexAt(indices, child), distance, index)) break;
    put(distances, indices, slot, distanceAt(distances, child), indexAt(indices, child));
    slot = child;
  }
  put(distances, indices, slot, distance, index);
}

function siftDown(distances: usize, indices: usize, size: i32, start: i32): void {
  siftDownIn(0, distances, indices, size, start);
}

function siftDownOrdered(distances: usize, indices: usize, size: i32, start: i32, order: usize): void {
  siftDownIn(order, distances, indices, size, start);
}

@inline function siftUpIn(order: usize, distances: usize, indices: usize, start: i32): void {
  let slot = start;
  const distance = distanceAt(distances, slot);
  const index = indexAt(indices, slot);
  while (slot > 0) {
    const parent = (slot - 1) >> 1;
    if (!ranksAfter(order, distance, index, distanceAt(distances, parent), indexAt(indices, parent))) break;
    put(distances, indices, slot, distanceAt(distances, parent), indexAt(indices, parent));
    slot = parent;
  }
  put(distances, indices, slot, distance, index);
}

@inline function offerCandidateIn(order: usize, distances: usize, indices: usize, size: i32, capacity: i32, distance: f64, index: i32): i32 {
  if (size < capacity) {
    put(distances, indices, size, distance, index);
    siftUpIn(order, distances, indices, size);
    return size + 1;
  }
  if (ranksAfter(order, distanceAt(distances, 0), indexAt(indices, 0), distance, index)) {
    put(distances, indices, 0, distance, index);
    siftDownIn(order, distances, indices, capacity, 0);
  }
  return size;
}

/** Offers one candidate to a heap holding `size` of `capacity`; returns the new size. */
export function offerCandidate(distances: usize, indices: usize, size: i32, capacity: i32, distance: f64, index: i32): i32 {
  return offerCandidateIn(0, distances, indices, size, capacity, distance, index);
}

/** offerCandidate for a heap of positions whose ties rank by order[position]. */
export function offerCandidateOrdered(distances: usize, positions: usize, size: i32, capacity: i32, distance: f64, position: i32, order: usize): i32 {
  return offerCandidateIn(order, distances, positions, size, capacity, distance, position);
}

const FILL_COLUMNS: i32 = 16;
/** Below this many distances an ordered fold fills its heap without fillLimit. */
const SHORT_TILE: i32 = 48;
/**
 * Bytes of per-call scratch that topKFold and smallestOfRow sort a tile's column or lane minima
 * in. It is the caller's (a region of the call's scratch), not static data: several instances
 * of the kernels on one shared memory (a worker pool) run these folds at the same time.
 */
export const MINIMA_BYTES: usize = FILL_COLUMNS * 8;

/**
 * A limit that at least `capacity` (≤ 16) of a tile's `count` ≥ 16 distances do not exceed: the
 * capacity-th smallest of the minima of its sixteen columns (positions ≡ 0…15 mod 16 among its
 * whole groups of sixteen). Those minima are sixteen distinct points, so a farther point is
 * beaten by `capacity` points of this tile alone and cannot be among the best of the row.
 */
function fillLimit(tile: usize, count: i32, capacity: i32, minima: usize): f64 {
  let columns01 = f64x2.splat(Infinity), columns23 = columns01, columns45 = columns01, columns67 = columns01;
  let columns89 = columns01, columns1011 = columns01, columns1213 = columns01, columns1415 = columns01;
  const end = tile + (<usize>(count >> 4) << 7);
  for (let at = tile; at < end; at += 128) {
    columns01 = f64x2.pmin(columns01, v128.load(at));
    columns23 = f64x2.pmin(columns23, v128.load(at, 16));
    columns45 = f64x2.pmin(columns45, v128.load(at, 32));
    columns67 = f64x2.pmin(columns67, v128.load(at, 48));
    columns89 = f64x2.pmin(columns89, v128.load(at, 64));
    columns1011 = f64x2.pmin(columns1011, v128.load(at, 80));
    columns1213 = f64x2.pmin(columns1213, v128.load(at, 96));
    columns1415 = f64x2.pmin(columns1415, v128.load(at, 112));
  }
  // Two sorted runs of eight by sorting networks: an insertion sort of the sixteen mispredicts
  // about half its comparisons, which cost more than the fold of a 500-point tile (a filtered
  // call's gathered points) once per query.
  sortEight(columns01, columns23, columns45, columns67, minima);
  sortEight(columns89, columns1011, columns1213, columns1415, minima + 64);
  return smallestOfTwoRuns(minima, minima + 64, capacity);
}

/**
 * The `rank`-th smallest (1 ≤ rank ≤ 16) of two ascending runs of eight values, a and b: the
 * least, over the ways of taking `rank` values as a's first i and b's first rank − i, of the
 * largest value taken. Every way takes `rank` values, so its largest is at least the rank-th
 * smallest; the way that takes the rank smallest attains it.
 */
@inline function smallestOfTwoRuns(a: usize, b: usize, rank: i32): f64 {
  let smallest = Infinity;
  for (let i = max(0, rank - 8), last = min(rank, 8); i <= last; i++) {
    const largestOfA = i > 0 ? distanceAt(a, i - 1) : -Infinity;
    const largestOfB = i < rank ? distanceAt(b, rank - i - 1) : -Infinity;
    smallest = Math.min(smallest, Math.max(largestOfA, largestOfB));
  }
  return smallest;
}

/**
 * Folds `count` distances (training points firstIndex…) into one query's heap; returns its size.
 */
function topKFold(
  tile: usize, count: i32, firstIndex: i32,
  distances: usize, indices: usize, size: i32, capacity: i32, minima: usize,
): i32 {
  return topKFoldIn(false, 0, 0, tile, count, firstIndex, distances, indices, size, capacity, minima);
}

/** topKFold over the points `allowed` marks alone (a byte per index, 1 = allowed): brute force's filtered search. */
function topKFoldFiltered(
  tile: usize, count: i32, firstIndex: i32,
  distances: usize, indices: usize, size: i32, capacity: i32, minima: usize, allowed: usize,
): i32 {
  return topKFoldIn(false, 0, allowed, tile, count, firstIndex, distances, indices, size, capacity, minima);
}

/**
 * topKFold for a heap of positions whose ties rank by order[position] (`order` not 0): the tile
 * holds positions firstIndex…, which may come before positions already folded, so a distance
 * equal to the root's is offered too, and gets in when its caller index is lower.
 */
export function topKFoldOrdered(
  tile: usize, count: i32, firstIndex: i32,
  distances: usize, positions: usize, size: i32, capacity: i32, minima: usize, order: usize,
): i32 {
  return topKFoldIn(true, order, 0, tile, count, firstIndex, distances, positions, size, capacity, minima);
}

/**
 * topKFoldOrdered over the points `allowed` marks alone (a byte per caller index, reached
 * through `order`; 1 = allowed): the filtered box and cluster searches fold with it. Its lane
 * tests are the plain fold's, and only the lanes that pass them have their allowed byte read (a
 * load through order, far apart in memory), so a filter that allows most points costs about
 * what no filter does.
 */
export function topKFoldAllowed(
  tile: usize, count: i32, firstIndex: i32,
  distances: usize, positions: usize, size: i32, capacity: i32, minima: usize, order: usize, allowed: usize,
): i32 {
  return topKFoldIn(true, order, allowed, tile, count, firstIndex, distances, positions, size, capacity, minima);
}

// `ordered` says, as a constant of each caller, that `order` is not 0: the tests on it below are
// then settled at compile time, where a test of `order` itself ran in the scan of every tile.
@inline function topKFoldIn(
  ordered: bool, order: usize, allowed: usize, tile: usize, count: i32, firstIndex: i32,
  distances: usize, indices: usize, size: i32, capacity: i32, minima: usize,
): i32 {
  let i = 0;
  if (size < capacity) {
    // Fill phase: the heap takes candidates until it is full; copied in, then heapified once
    // (linear time) rather than sifted up one by one. An empty heap takes only distances up to
    // fillLimit: filled with whichever come first, its root would be loose and let in many of
    // the tile's later distances, one costly offer each (W2: 46 offers per query instead of 85).
    // A distance above the limit is beaten by `capacity` of the tile's, whatever the indices.
    // An ordered fold of a short tile (a leaf of the box search) takes the first ones instead:
    // there the limit costs more than the offers it saves (leaves of 32, k = 5: 0.94× the time).
    // With a filter the limit is the whole tile's, so it holds for the allowed points only once
    // `capacity` allowed ones at or below it are in; a tile with fewer fills with the first
    // allowed ones instead.
    if (size == 0 && capacity <= FILL_COLUMNS && count >= (ordered ? SHORT_TILE : FILL_COLUMNS)) {
      const limit = fillLimit(tile, count, capacity, minima);
      for (; i < count && size < capacity; i++) {
        const distance = load<f64>(tile + (<usize>i << 3));
        if (distance <= limit && isAllowed(allowed, order, firstIndex + i)) put(distances, indices, size++, distance, firstIndex + i);
      }
      if (allowed != 0 && size < capacity) {
        size = 0;
        i = 0;
      }
    }
    if (allowed == 0) {
      const taken = min(capacity - size, count - i);
      for (let taking = 0; taking < taken; taking++, i++) put(distances, indices, size++, load<f64>(tile + (<usize>i << 3)), firstIndex + i);
    } else {
      for (; i < count && size < capacity; i++) {
        if (isAllowed(allowed, order, firstIndex + i)) put(distances, indices, size++, load<f64>(tile + (<usize>i << 3)), firstIndex + i);
      }
    }
    if (size < capacity) return size;
    for (let start = (size >> 1) - 1; start >= 0; start--) siftDownIn(order, distances, indices, size, start);
  }
  let worst = distanceAt(distances, 0);
  let threshold = f64x2.splat(worst);
  // Sixteen distances at a time: their minimum against the root decides whether any gets in;
  // the lanes that do are offered out of line, so the scan keeps its registers.
  for (; i + 15 < count; i += 16) {
    const at = tile + (<usize>i << 3);
    const smallest = f64x2.pmin(
      f64x2.pmin(f64x2.pmin(v128.load(at), v128.load(at, 16)), f64x2.pmin(v128.load(at, 32), v128.load(at, 48))),
      f64x2.pmin(f64x2.pmin(v128.load(at, 64), v128.load(at, 80)), f64x2.pmin(v128.load(at, 96), v128.load(at, 112))),
    );
    if (!v128.any_true(admitted(ordered, smallest, threshold))) continue;
    const lanes = allowedLanes(allowed, order, firstIndex + i, lanesAdmitted(ordered, at, threshold) | (lanesAdmitted(ordered, at + 64, threshold) << 8));
    worst = offerLanes(ordered, order, at, lanes, firstIndex + i, worst, distances, indices, capacity);
    threshold = f64x2.splat(worst);
  }
  // The last few: every lane, each tested against the root.
  offerLanes(ordered, order, tile + (<usize>i << 3), allowedLanes(allowed, order, firstIndex + i, (1 << (count - i)) - 1), firstIndex + i, worst, distances, indices, capacity);
  return size;
}

/** Whether position p's point is allowed: no filter (`allowed` 0), or its caller index's byte is 1. */
@inline export function isAllowed(allowed: usize, order: usize, position: i32): bool {
  return allowed == 0 || load<u8>(allowed + <usize>callerIndex(order, position)) != 0;
}

/** The caller's index of `position`: order[position], or the position itself where there is no order (brute force). */
@inline function callerIndex(order: usize, position: i32): i32 {
  return order == 0 ? position : load<i32>(order + (<usize>position << 2));
}

/** The bits of `lanes` (lane l: position firstPosition + l) whose points are allowed; all of them without a filter. */
@inline function allowedLanes(allowed: usize, order: usize, firstPosition: i32, lanes: i32): i32 {
  if (allowed == 0) return lanes;
  // The bytes gathered without a branch on each (a filter is a coin toss per point).
  let kept = 0;
  for (let near = lanes; near != 0; near &= near - 1) {
    const lane = ctz(near);
    kept |= <i32>load<u8>(allowed + <usize>callerIndex(order, firstPosition + lane)) << lane;
  }
  return kept;
}

/**
 * Lanes that may get into a full heap whose root is at `threshold`: those below it, and where
 * `ordered` (positions folded out of index order), those equal to it too.
 */
@inline function admitted(ordered: bool, values: v128, threshold: v128): v128 {
  return ordered ? f64x2.le(values, threshold) : f64x2.lt(values, threshold);
}

/** Bit l set for each of the eight distances at `at` + 8·l that `admitted` lets through. */
@inline function lanesAdmitted(ordered: bool, at: usize, threshold: v128): i32 {
  return i64x2.bitmask(admitted(ordered, v128.load(at), threshold)) |
    (i64x2.bitmask(admitted(ordered, v128.load(at, 16), threshold)) << 2) |
    (i64x2.bitmask(admitted(ordered, v128.load(at, 32), threshold)) << 4) |
    (i64x2.bitmask(admitted(ordered, v128.load(at, 48), threshold)) << 6);
}

/**
 * Offers a full heap the distances at `at` + 8·l (training point firstIndex + l) for each bit l
 * of `lanes` that rank before its root; returns the new root's distance. Looping over the set
 * bits alone spares a mispredicted branch per lane that does not get in.
 */
@inline function offerLanes(ordered: bool, order: usize, at: usize, lanes: i32, firstIndex: i32, worst: f64, distances: usize, indices: usize, capacity: i32): f64 {
  return ordered
    ? offerLanesOrdered(at, lanes, firstIndex, distances, indices, capacity, order)
    : offerLanesPlain(at, lanes, firstIndex, worst, distances, indices, capacity);
}

function offerLanesPlain(at: usize, lanes: i32, firstIndex: i32, worst: f64, distances: usize, indices: usize, capacity: i32): f64 {
  while (lanes != 0) {
    const lane = ctz(lanes);
    lanes &= lanes - 1;
    const distance = load<f64>(at + (<usize>lane << 3));
    if (distance < worst) {
      put(distances, indices, 0, distance, firstIndex + lane);
      siftDown(distances, indices, capacity, 0);
      worst = distanceAt(distances, 0);
    }
  }
  return worst;
}

function offerLanesOrdered(at: usize, lanes: i32, firstIndex: i32, distances: usize, positions: usize, capacity: i32, order: usize): f64 {
  while (lanes != 0) {
    const lane = ctz(lanes);
    lanes &= lanes - 1;
    const distance = load<f64>(at + (<usize>lane << 3));
    const position = firstIndex + lane;
    if (ranksAfter(order, distanceAt(distances, 0), indexAt(positions, 0), distance, position)) {
      put(distances, positions, 0, distance, position);
      siftDownOrdered(distances, positions, capacity, 0, order);
    }
  }
  return distanceAt(distances, 0);
}

/**
 * Sorts `size` (distance, index) pairs ascending, ties by index, in place: insertion sort for a
 * few (the candidates of a small k arrive nearly sorted), heap-sort beyond.
 */
export function sortCandidates(distances: usize, indices: usize, size: i32): void {
  sortCandidatesIn(0, distances, indices, size);
}

/** sortCandidates for positions whose ties rank by order[position]. */
export function sortCandidatesOrdered(distances: usize, positions: usize, size: i32, order: usize): void {
  sortCandidatesIn(order, distances, positions, size);
}

@inline function sortCandidatesIn(order: usize, distances: usize, indices: usize, size: i32): void {
  if (size <= 16) {
    for (let i = 1; i < size; i++) {
      const distance = distanceAt(distances, i);
      const index = indexAt(indices, i);
      let slot = i;
      while (slot > 0 && ranksAfter(order, distanceAt(distances, slot - 1), indexAt(indices, slot - 1), distance, index)) {
        put(distances, indices, slot, distanceAt(distances, slot - 1), indexAt(indices, slot - 1));
        slot--;
      }
      put(distances, indices, slot, distance, index);
    }
    return;
  }
  for (let start = (size >> 1) - 1; start >= 0; start--) siftDownIn(order, distances, indices, size, start);
  for (let end = size - 1; end > 0; end--) {
    const distance = distanceAt(distances, 0);
    const index = indexAt(indices, 0);
    put(distances, indices, 0, distanceAt(distances, end), indexAt(indices, end));
    put(distances, indices, end, distance, index);
    siftDownIn(order, distances, indices, end, 0);
  }
}

/**
 * Appends to `list` the indices of the distances ≤ limit among `count` (training points
 * firstIndex…), while fewer than `room` are listed; returns the new count, which exceeds `room`
 * if any did not fit.
 */
function rangeFold(tile: usize, count: i32, firstIndex: i32, limit: f64, list: usize, listed: i32, room: i32): i32 {
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

/**
 * Writes the eight values of four f64x2 ascending to `out`: an optimal 19-comparator sorting
 * network (depth 6), each layer's pairs regrouped by lane shuffles so that one pmin/pmax pair
 * makes two comparisons. Branch-free: with random data an insertion sort mispredicts often.
 * The comments name the positions each vector holds.
 */
@inline function sortEight(v01: v128, v23: v128, v45: v128, v67: v128, out: usize): void {
  // (0,2) (1,3) (4,6) (5,7)
  let low = f64x2.pmin(v01, v23), high = f64x2.pmax(v01, v23);
  v01 = low; v23 = high;
  low = f64x2.pmin(v45, v67); high = f64x2.pmax(v45, v67);
  v45 = low; v67 = high;
  // (0,4) (1,5) (2,6) (3,7)
  low = f64x2.pmin(v01, v45); high = f64x2.pmax(v01, v45);
  v01 = low; v45 = high;
  low = f64x2.pmin(v23, v67); high = f64x2.pmax(v23, v67);
  v23 = low; v67 = high;
  // (0,1) (2,3) (4,5) (6,7) on [0,2]–[1,3] and [4,6]–[5,7]
  const p02 = v128.shuffle<f64>(v01, v23, 0, 2), p13 = v128.shuffle<f64>(v01, v23, 1, 3);
  const p46 = v128.shuffle<f64>(v45, v67, 0, 2), p57 = v128.shuffle<f64>(v45, v67, 1, 3);
  const a02 = f64x2.pmin(p02, p13), a13 = f64x2.pmax(p02, p13);
  const a46 = f64x2.pmin(p46, p57), a57 = f64x2.pmax(p46, p57);
  // (2,4) (3,5) on [2,3]–[4,5]
  const p23 = v128.shuffle<f64>(a02, a13, 1, 3), p45 = v128.shuffle<f64>(a46, a57, 0, 2);
  const b23 = f64x2.pmin(p23, p45), b45 = f64x2.pmax(p23, p45);
  // (1,4) (3,6) on [1,3]–[4,6]
  const q13 = v128.shuffle<f64>(a13, b23, 0, 3), q46 = v128.shuffle<f64>(b45, a46, 0, 3);
  const c13 = f64x2.pmin(q13, q46), c46 = f64x2.pmax(q13, q46);
  // (1,2) (3,4) on [1,3]–[2,4], and (5,6) within [5,6]
  const q24 = v128.shuffle<f64>(b23, c46, 0, 2);
  const d13 = f64x2.pmin(c13, q24), d24 = f64x2.pmax(c13, q24);
  const q56 = v128.shuffle<f64>(b45, c46, 1, 3), q65 = v128.shuffle<f64>(q56, q56, 1, 0);
  const low56 = f64x2.pmin(q56, q65), high56 = f64x2.pmax(q56, q65);
  v128.store(out, v128.shuffle<f64>(a02, d13, 0, 2));
  v128.store(out, v128.shuffle<f64>(d24, d13, 0, 3), 16);
  v128.store(out, v128.shuffle<f64>(d24, low56, 1, 2), 32);
  v128.store(out, v128.shuffle<f64>(high56, a57, 0, 3), 48);
}

/** The capacity-th smallest (capacity ≤ 8) of the eight lane minima of a row of `padded` (a multiple of 8) distances. */
@inline function smallestLaneMinimum(tile: usize, padded: i32, capacity: i32, minima: usize): f64 {
  let lanes01 = f64x2.splat(Infinity), lanes23 = lanes01, lanes45 = lanes01, lanes67 = lanes01;
  for (let i = 0; i < padded; i += 8) {
    const at = tile + (<usize>i << 3);
    lanes01 = f64x2.pmin(lanes01, v128.load(at));
    lanes23 = f64x2.pmin(lanes23, v128.load(at, 16));
    lanes45 = f64x2.pmin(lanes45, v128.load(at, 32));
    lanes67 = f64x2.pmin(lanes67, v128.load(at, 48));
  }
  sortEight(lanes01, lanes23, lanes45, lanes67, minima);
  return distanceAt(minima, capacity - 1);
}

/**
 * The `capacity` (≤ 16) smallest of a query's whole row of `count` ≥ 8 distances (training
 * points firstIndex…), without a heap: the row's eight lane minima (positions ≡ 0…7 mod 8) are
 * eight distinct points, so the capacity-th smallest of them is a threshold with at least
 * `capacity` distances at or below it (past 8 kept, fillLimit's of the sixteen columns); one
 * vector pass lists the groups of eight that hold any, and only their distances at or below it
 * are inserted into a short sorted list (ties to the lower index). At Iris size this costs a
 * fraction of the heap, and on a filter's few hundred gathered points (k = 5 and its float32
 * margin: 9 kept) about half of it.
 * Writes them ascending; overwrites the tile's padding after `count` with +∞.
 */
function smallestOfRow(tile: usize, count: i32, firstIndex: i32, distances: usize, indices: usize, capacity: i32, minima: usize): void {
  const padded = (count + 7) & ~7;
  for (let i = count; i < padded; i++) store<f64>(tile + (<usize>i << 3), Infinity);
  const threshold = f64x2.splat(capacity <= 8 ? smallestLaneMinimum(tile, padded, capacity, minima) : fillLimit(tile, count, capacity, minima));
  // Most groups of eight hold none at or below it. They are listed first, a byte each in
  // `minima` (free again, and a tile holds at most 128 groups), a count advanced by each test's
  // result: a loop that also held the insertions below kept fewer values in registers, and ran
  // at a third of this one's speed.
  let listed = 0;
  for (let group = 0, at = tile; group < (padded >> 3); group++, at += 64) {
    store<u8>(minima + <usize>listed, <u8>group);
    const smallest = f64x2.pmin(f64x2.pmin(v128.load(at), v128.load(at, 16)), f64x2.pmin(v128.load(at, 32), v128.load(at, 48)));
    listed += i32(v128.any_true(f64x2.le(smallest, threshold)));
  }
  // Keep the listed groups' distances at or below it, sorted ascending in slots 0…size−1.
  let size = 0;
  for (let g = 0; g < listed; g++) {
    const i = <i32>load<u8>(minima + <usize>g) << 3;
    const at = tile + (<usize>i << 3);
    const lanes01 = v128.load(at), lanes23 = v128.load(at, 16), lanes45 = v128.load(at, 32), lanes67 = v128.load(at, 48);
    let lanes =
      i64x2.bitmask(f64x2.le(lanes01, threshold)) |
      (i64x2.bitmask(f64x2.le(lanes23, threshold)) << 2) |
      (i64x2.bitmask(f64x2.le(lanes45, threshold)) << 4) |
      (i64x2.bitmask(f64x2.le(lanes67, threshold)) << 6);
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
