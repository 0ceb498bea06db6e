// A search filter's bytes (one per training point, 1 = allowed), checked and counted where the
// pruned search reads them: sixteen at a time, so a filter over many points costs a call on a
// few thousand of them little besides its copy. And one query's brute force over the points a
// filter allows, read where they lie: a single query over few of them costs less so than the
// pruned search, which must reach farther for k allowed points, or a gathered copy.

import { PANEL_POINTS } from './distance';
import { storedPointAddress, UNIT_NORMS_OFFSET, unitOf, unitScaleAddress } from './float32Storage';

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
 * them), as listedDirectNeighbours finds them: from X's float64 rows at `points`, or (`stored`)
 * from float32 storage's panels there, a cosine network's with its `unitFactors` (else 0). The allowed positions are collected sixteen
 * filter bytes at a time (a sparse filter's runs of zeros cost one test each) into `group`
 * (eight i32), each group searched once full: no list of n positions.
 */
export function allowedDirectNeighbours(
  query: usize, points: usize, n: i32, d: i32, allowed: usize, group: usize, k: i32, manhattan: bool, outIndices: usize, outValues: usize,
  stored: bool, unitFactors: usize,
): void {
  let pending = 0;
  let size = 0;
  for (let i = 0; i < n; i += 16) {
    let lanes = allowedLanes(allowed + <usize>i, min(16, n - i));
    while (lanes != 0) {
      store<i32>(group + (<usize>pending << 2), i + ctz(lanes));
      lanes &= lanes - 1;
      if (++pending < GROUP_POINTS) continue;
      size = searchAnyGroup(stored, query, points, unitFactors, d, group, GROUP_POINTS, 0, k, manhattan, outIndices, outValues, size);
      pending = 0;
    }
  }
  if (pending > 0) searchAnyGroup(stored, query, points, unitFactors, d, group, pending, 0, k, manhattan, outIndices, outValues, size);
}

/** searchGroup on X's float64 rows, or with `stored` searchStoredGroup on float32 storage's panels. */
@inline function searchAnyGroup(
  stored: bool, query: usize, points: usize, unitFactors: usize, d: i32, group: usize, count: i32, first: i32, k: i32, manhattan: bool,
  outIndices: usize, outValues: usize, size: i32,
): i32 {
  return stored
    ? searchStoredGroup(query, points, unitFactors, d, group, count, first, k, manhattan, outIndices, outValues, size)
    : searchGroup(query, points, d, group, count, first, k, manhattan, outIndices, outValues, size);
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
 * sums it, so each equals what every path reports; or (`stored`) from float32 storage's panels at
 * `points`, a cosine network's with its `unitFactors` (else 0), as searchStoredGroup reads them.
 * Writes k indices and values ascending to outIndices and outValues, ties toward the lower
 * index. With k = 0 it keeps none and writes every listed point's value to outValues instead,
 * in the list's order (a radius search's).
 */
export function listedDirectNeighbours(
  query: usize, points: usize, d: i32, list: usize, count: i32, k: i32, manhattan: bool, outIndices: usize, outValues: usize,
  stored: bool, unitFactors: usize,
): void {
  let size = 0;
  for (let start = 0; start < count; start += GROUP_POINTS) {
    const group = list + (<usize>start << 2);
    size = searchAnyGroup(stored, query, points, unitFactors, d, group, min(GROUP_POINTS, count - start), start, k, manhattan, outIndices, outValues, size);
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
  return offerGroup(sum01, sum23, sum45, sum67, group, count, first, k, outIndices, outValues, size);
}

/** A group's `count` values (two a vector, in group order) offered in order to the k-list, or with k = 0 stored from position `first`; returns the list's size. */
@inline function offerGroup(
  sum01: v128, sum23: v128, sum45: v128, sum67: v128, group: usize, count: i32, first: i32, k: i32, outIndices: usize, outValues: usize, size: i32,
): i32 {
  for (let t = 0; t < count; t++) {
    const pair = t < 2 ? sum01 : t < 4 ? sum23 : t < 6 ? sum45 : sum67;
    const value = (t & 1) == 0 ? f64x2.extract_lane(pair, 0) : f64x2.extract_lane(pair, 1);
    if (k == 0) store<f64>(outValues + (<usize>(first + t) << 3), value);
    else size = offerInOrder(outIndices, outValues, size, k, value, load<i32>(group + (<usize>t << 2)));
  }
  return size;
}

/**
 * searchGroup on float32 storage: each point's values read widened from its panel
 * (storedPointAddress, 32 bytes a dimension), a cosine network's (`unitFactors` not 0) divided
 * by its m and then its s as expandFloat32Panels divides them. Each lane sums in dimension order
 * as storedSquaredDistance, storedManhattanDistance and storedUnitSquaredDistance do: the values
 * float32 storage reports, bit for bit.
 */
@inline function searchStoredGroup(
  query: usize, panels: usize, unitFactors: usize, d: i32, group: usize, count: i32, first: i32, k: i32, manhattan: bool, outIndices: usize, outValues: usize, size: i32,
): i32 {
  const last = count - 1;
  const p0 = load<i32>(group), p1 = load<i32>(group + (<usize>min(1, last) << 2));
  const p2 = load<i32>(group + (<usize>min(2, last) << 2)), p3 = load<i32>(group + (<usize>min(3, last) << 2));
  const p4 = load<i32>(group + (<usize>min(4, last) << 2)), p5 = load<i32>(group + (<usize>min(5, last) << 2));
  const p6 = load<i32>(group + (<usize>min(6, last) << 2)), p7 = load<i32>(group + (<usize>min(7, last) << 2));
  const a0 = storedPointAddress(panels, d, p0), a1 = storedPointAddress(panels, d, p1);
  const a2 = storedPointAddress(panels, d, p2), a3 = storedPointAddress(panels, d, p3);
  const a4 = storedPointAddress(panels, d, p4), a5 = storedPointAddress(panels, d, p5);
  const a6 = storedPointAddress(panels, d, p6), a7 = storedPointAddress(panels, d, p7);
  let sum01 = f64x2.splat(0), sum23 = sum01, sum45 = sum01, sum67 = sum01;
  const end = <usize>d * STORED_BYTES_PER_DIMENSION;
  if (unitFactors != 0) {
    const m01 = factorPair(unitFactors, p0, p1, 0), m23 = factorPair(unitFactors, p2, p3, 0);
    const m45 = factorPair(unitFactors, p4, p5, 0), m67 = factorPair(unitFactors, p6, p7, 0);
    const s01 = factorPair(unitFactors, p0, p1, UNIT_NORMS_OFFSET), s23 = factorPair(unitFactors, p2, p3, UNIT_NORMS_OFFSET);
    const s45 = factorPair(unitFactors, p4, p5, UNIT_NORMS_OFFSET), s67 = factorPair(unitFactors, p6, p7, UNIT_NORMS_OFFSET);
    for (let offset: usize = 0, at = query; offset < end; offset += STORED_BYTES_PER_DIMENSION, at += 8) {
      const x = v128.load64_splat(at);
      sum01 = addSquare(sum01, f64x2.sub(x, unitOf(widenedPair(a0, a1, offset), m01, s01)));
      sum23 = addSquare(sum23, f64x2.sub(x, unitOf(widenedPair(a2, a3, offset), m23, s23)));
      sum45 = addSquare(sum45, f64x2.sub(x, unitOf(widenedPair(a4, a5, offset), m45, s45)));
      sum67 = addSquare(sum67, f64x2.sub(x, unitOf(widenedPair(a6, a7, offset), m67, s67)));
    }
  } else if (manhattan) {
    for (let offset: usize = 0, at = query; offset < end; offset += STORED_BYTES_PER_DIMENSION, at += 8) {
      const x = v128.load64_splat(at);
      sum01 = f64x2.add(sum01, f64x2.abs(f64x2.sub(x, widenedPair(a0, a1, offset))));
      sum23 = f64x2.add(sum23, f64x2.abs(f64x2.sub(x, widenedPair(a2, a3, offset))));
      sum45 = f64x2.add(sum45, f64x2.abs(f64x2.sub(x, widenedPair(a4, a5, offset))));
      sum67 = f64x2.add(sum67, f64x2.abs(f64x2.sub(x, widenedPair(a6, a7, offset))));
    }
  } else {
    for (let offset: usize = 0, at = query; offset < end; offset += STORED_BYTES_PER_DIMENSION, at += 8) {
      const x = v128.load64_splat(at);
      sum01 = addSquare(sum01, f64x2.sub(x, widenedPair(a0, a1, offset)));
      sum23 = addSquare(sum23, f64x2.sub(x, widenedPair(a2, a3, offset)));
      sum45 = addSquare(sum45, f64x2.sub(x, widenedPair(a4, a5, offset)));
      sum67 = addSquare(sum67, f64x2.sub(x, widenedPair(a6, a7, offset)));
    }
  }
  return offerGroup(sum01, sum23, sum45, sum67, group, count, first, k, outIndices, outValues, size);
}

/** Bytes from one dimension of a stored point to the next: a panel's float32 values. */
const STORED_BYTES_PER_DIMENSION: usize = <usize>PANEL_POINTS * 4;

/** Two stored points' values of one dimension (`offset` bytes into their panels), widened (exactly) to float64. */
@inline function widenedPair(first: usize, second: usize, offset: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load32_lane(second + offset, v128.load32_zero(first + offset), 1));
}

/** Two points' unit factors: their m (`offset` 0) or their s (UNIT_NORMS_OFFSET). */
@inline function factorPair(unitFactors: usize, first: i32, second: i32, offset: usize): v128 {
  return v128.load64_lane(unitScaleAddress(unitFactors, second) + offset, v128.load64_zero(unitScaleAddress(unitFactors, first) + offset), 1);
}

/** sum + difference², lane by lane. */
@inline function addSquare(sum: v128, difference: v128): v128 {
  return f64x2.add(sum, f64x2.mul(difference, difference));
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
