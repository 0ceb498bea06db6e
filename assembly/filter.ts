// A search filter's bytes (one per training point, 1 = allowed), checked and counted where the
// pruned search reads them: sixteen at a time, so a filter over many points costs a call on a
// few thousand of them little besides its copy. And one query's brute force over the points a
// filter allows, read where they lie: a single query over few of them costs less so than the
// pruned search, which must reach farther for k allowed points, or a gathered copy.

/**
 * How many of the n bytes at `bytes` are 1, or −1 when any is neither 0 nor 1. Bytes are summed
 * lane by lane as bytes, for up to 255 vectors (a lane then holds at most 255 ones), and only
 * then widened: one add a vector instead of two pairwise widenings, the count's longest chain.
 */
export function countAllowed(bytes: usize, n: i32): i32 {
  const high = i8x16.splat(<i8>0xfe);
  let bad = i8x16.splat(0);
  let sums = i32x4.splat(0);
  let i = 0;
  while (i + 16 <= n) {
    const end = min(n & ~15, i + 255 * 16);
    let lanes = i8x16.splat(0);
    for (; i < end; i += 16) {
      const values = v128.load(bytes + <usize>i);
      bad = v128.or(bad, v128.and(values, high));
      lanes = i8x16.add(lanes, values);
    }
    sums = i32x4.add(sums, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(lanes)));
  }
  if (v128.any_true(bad)) return -1;
  let count = i32x4.extract_lane(sums, 0) + i32x4.extract_lane(sums, 1) + i32x4.extract_lane(sums, 2) + i32x4.extract_lane(sums, 3);
  for (; i < n; i++) {
    const value = load<u8>(bytes + <usize>i);
    if (value > 1) return -1;
    count += value;
  }
  return count;
}

/** Points whose distances one step of the direct search computes at once: two a vector, four vectors. */
const GROUP_POINTS: i32 = 8;

/**
 * One query's k nearest among the points `allowed` marks (n bytes, 1 = allowed; at least k of
 * them), as listedDirectNeighbours finds them. The allowed positions are collected sixteen
 * filter bytes at a time (a sparse filter's runs of zeros cost one test each) into `group`
 * (eight i32), each group searched once full: no list of n positions.
 */
export function allowedDirectNeighbours(
  query: usize, points: usize, n: i32, d: i32, allowed: usize, group: usize, k: i32, manhattan: bool, outIndices: usize, outValues: usize,
): void {
  let pending = 0;
  let size = 0;
  for (let i = 0; i < n; i += 16) {
    let lanes = allowedLanes(allowed + <usize>i, min(16, n - i));
    while (lanes != 0) {
      store<i32>(group + (<usize>pending << 2), i + ctz(lanes));
      lanes &= lanes - 1;
      if (++pending < GROUP_POINTS) continue;
      size = searchGroup(query, points, d, group, GROUP_POINTS, 0, k, manhattan, outIndices, outValues, size);
      pending = 0;
    }
  }
  if (pending > 0) searchGroup(query, points, d, group, pending, 0, k, manhattan, outIndices, outValues, size);
}

/** Bit j set for each of the `count` (≤ 16) filter bytes at `bytes` that is not 0: one vector test for a whole sixteen. */
@inline function allowedLanes(bytes: usize, count: i32): i32 {
  if (count == 16) return i8x16.bitmask(i8x16.ne(v128.load(bytes), i8x16.splat(0)));
  let lanes = 0;
  for (let j = 0; j < count; j++) lanes |= i32(load<u8>(bytes + <usize>j) != 0) << j;
  return lanes;
}

/**
 * One query's k nearest among the `count` ≥ k points `list` names (ascending indices), by
 * direct differences from X (`points`, row-major in index order): Σ_j (x_j − X_ij)², or with
 * `manhattan` Σ_j |x_j − X_ij|, each summed in dimension order from 0 as directSquaredDistance
 * sums it, so each equals what every path reports. Writes k indices and values ascending to
 * outIndices and outValues, ties toward the lower index. With k = 0 it keeps none and writes
 * every listed point's value to outValues instead, in the list's order (a radius search's).
 */
export function listedDirectNeighbours(
  query: usize, points: usize, d: i32, list: usize, count: i32, k: i32, manhattan: bool, outIndices: usize, outValues: usize,
): void {
  let size = 0;
  for (let start = 0; start < count; start += GROUP_POINTS) {
    size = searchGroup(query, points, d, list + (<usize>start << 2), min(GROUP_POINTS, count - start), start, k, manhattan, outIndices, outValues, size);
  }
}

/**
 * The direct values of the `count` (1…8) points `group` names, offered in order to the sorted
 * k-list (size `size`; returns its new size), or with k = 0 stored at outValues from position
 * `first`. One lane per point: a vector holds two, and four vectors (eight points) go at once,
 * so that four chains of additions overlap where one point's alone would wait on each add. A
 * short group repeats its last point in the lanes past it; those are not offered.
 */
@inline function searchGroup(
  query: usize, points: usize, d: i32, group: usize, count: i32, first: i32, k: i32, manhattan: bool, outIndices: usize, outValues: usize, size: i32,
): i32 {
  const rowBytes = <usize>d << 3;
  const last = count - 1;
  const row0 = points + <usize>load<i32>(group) * rowBytes;
  const row1 = points + <usize>load<i32>(group + (<usize>min(1, last) << 2)) * rowBytes;
  const row2 = points + <usize>load<i32>(group + (<usize>min(2, last) << 2)) * rowBytes;
  const row3 = points + <usize>load<i32>(group + (<usize>min(3, last) << 2)) * rowBytes;
  const row4 = points + <usize>load<i32>(group + (<usize>min(4, last) << 2)) * rowBytes;
  const row5 = points + <usize>load<i32>(group + (<usize>min(5, last) << 2)) * rowBytes;
  const row6 = points + <usize>load<i32>(group + (<usize>min(6, last) << 2)) * rowBytes;
  const row7 = points + <usize>load<i32>(group + (<usize>min(7, last) << 2)) * rowBytes;
  let sum01 = f64x2.splat(0), sum23 = sum01, sum45 = sum01, sum67 = sum01;
  for (let offset: usize = 0; offset < rowBytes; offset += 8) {
    const x = f64x2.splat(load<f64>(query + offset));
    const difference01 = f64x2.sub(x, v128.load64_lane(row1 + offset, v128.load64_zero(row0 + offset), 1));
    const difference23 = f64x2.sub(x, v128.load64_lane(row3 + offset, v128.load64_zero(row2 + offset), 1));
    const difference45 = f64x2.sub(x, v128.load64_lane(row5 + offset, v128.load64_zero(row4 + offset), 1));
    const difference67 = f64x2.sub(x, v128.load64_lane(row7 + offset, v128.load64_zero(row6 + offset), 1));
    if (manhattan) {
      sum01 = f64x2.add(sum01, f64x2.abs(difference01));
      sum23 = f64x2.add(sum23, f64x2.abs(difference23));
      sum45 = f64x2.add(sum45, f64x2.abs(difference45));
      sum67 = f64x2.add(sum67, f64x2.abs(difference67));
    } else {
      sum01 = f64x2.add(sum01, f64x2.mul(difference01, difference01));
      sum23 = f64x2.add(sum23, f64x2.mul(difference23, difference23));
      sum45 = f64x2.add(sum45, f64x2.mul(difference45, difference45));
      sum67 = f64x2.add(sum67, f64x2.mul(difference67, difference67));
    }
  }
  for (let t = 0; t < count; t++) {
    const pair = t < 2 ? sum01 : t < 4 ? sum23 : t < 6 ? sum45 : sum67;
    const value = (t & 1) == 0 ? f64x2.extract_lane(pair, 0) : f64x2.extract_lane(pair, 1);
    if (k == 0) store<f64>(outValues + (<usize>(first + t) << 3), value);
    else size = offerInOrder(outIndices, outValues, size, k, value, load<i32>(group + (<usize>t << 2)));
  }
  return size;
}

/**
 * Offers (value, index) to a sorted list of at most k, where indices arrive ascending: it goes
 * after every kept value at most its own, so ties keep the lower index first. Returns the size.
 */
@inline function offerInOrder(indices: usize, values: usize, size: i32, k: i32, value: f64, index: i32): i32 {
  if (size == k && !(value < load<f64>(values + (<usize>(k - 1) << 3)))) return size;
  let slot = size < k ? size++ : k - 1;
  while (slot > 0 && load<f64>(values + (<usize>(slot - 1) << 3)) > value) {
    store<f64>(values + (<usize>slot << 3), load<f64>(values + (<usize>(slot - 1) << 3)));
    store<i32>(indices + (<usize>slot << 2), load<i32>(indices + (<usize>(slot - 1) << 2)));
    slot--;
  }
  store<f64>(values + (<usize>slot << 3), value);
  store<i32>(indices + (<usize>slot << 2), index);
  return size;
}
