// Wall-clock helpers shared by the probes.

export function now(): bigint {
  return process.hrtime.bigint();
}

export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Deterministic values in [-1, 1) (a 32-bit LCG), so every run measures the same data. */
export function seededValues(length: number, seed: number): Float64Array {
  const values = new Float64Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}
