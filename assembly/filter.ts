// A search filter's bytes (one per training point, 1 = allowed), checked and counted where the
// pruned search reads them: sixteen at a time, so a filter over many points costs a call on a
// few thousand of them little besides its copy.

/**
 * How many of the n bytes at `bytes` are 1, or −1 when any is neither 0 nor 1. Lane sums are
 * widened to i32 every vector (each lane then holds at most 4·(n/16) < 2^31).
 */
export function countAllowed(bytes: usize, n: i32): i32 {
  const high = i8x16.splat(<i8>0xfe);
  let bad = i8x16.splat(0);
  let sums = i32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const values = v128.load(bytes + <usize>i);
    bad = v128.or(bad, v128.and(values, high));
    sums = i32x4.add(sums, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(values)));
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
