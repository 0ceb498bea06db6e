// Feature scales: --standardize (each feature to mean 0 and standard deviation 1, with the
// training file's statistics), and the hint printed without it when the features' ranges are
// orders of magnitude apart, since the widest features then decide every distance alone.

/** Per-feature statistics of the training rows: x is replaced by (x − mean) / scale. */
export interface Standardization {
  readonly mean: Float64Array;
  /**
   * The population standard deviation (scikit-learn's StandardScaler takes the same), or 1 for a
   * column whose standard deviation is 0: a constant column becomes all zeros, and a test value
   * that differs from the constant keeps its difference in the column's own units.
   */
  readonly scale: Float64Array;
}

/** The statistics of the `cols` columns of row-major `data`: two passes (mean, then squared deviations). */
export function standardization(data: Float64Array, rows: number, cols: number): Standardization {
  const mean = new Float64Array(cols);
  const scale = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let f = 0; f < cols; f++) mean[f] += data[r * cols + f]!;
  for (let f = 0; f < cols; f++) mean[f] /= rows;
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < cols; f++) {
      const deviation = data[r * cols + f]! - mean[f]!;
      scale[f] += deviation * deviation;
    }
  }
  for (let f = 0; f < cols; f++) {
    const deviation = Math.sqrt(scale[f]! / rows);
    scale[f] = deviation > 0 ? deviation : 1;
  }
  return { mean, scale };
}

/** Standardizes row-major `data` in place. */
export function standardize(data: Float64Array, cols: number, statistics: Standardization): void {
  const { mean, scale } = statistics;
  for (let i = 0, f = 0; i < data.length; i++) {
    data[i] = (data[i]! - mean[f]!) / scale[f]!;
    if (++f === cols) f = 0;
  }
}

/** The hint is given when the widest feature range is at least this many times the narrowest non-zero one. */
export const SCALE_HINT_RATIO = 100;

const shortNumber = (value: number) => String(Number(value.toPrecision(3)));

/**
 * A one-line hint to standardize when the ranges (max − min over the training rows) of the
 * features differ SCALE_HINT_RATIO-fold or more, else undefined. Ranges, not standard
 * deviations: a pixel that is rarely lit has a tiny deviation on the same 0…16 scale as the others.
 */
export function scaleHint(data: Float64Array, rows: number, cols: number, names: readonly string[]): string | undefined {
  const low = new Float64Array(cols).fill(Infinity);
  const high = new Float64Array(cols).fill(-Infinity);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < cols; f++) {
      const value = data[r * cols + f]!;
      if (value < low[f]!) low[f] = value;
      if (value > high[f]!) high[f] = value;
    }
  }
  let widest = -1;
  let narrowest = -1;
  for (let f = 0; f < cols; f++) {
    const range = high[f]! - low[f]!;
    if (!(range > 0)) continue;
    if (widest < 0 || range > high[widest]! - low[widest]!) widest = f;
    if (narrowest < 0 || range < high[narrowest]! - low[narrowest]!) narrowest = f;
  }
  if (widest < 0) return undefined;
  const wide = high[widest]! - low[widest]!;
  const narrow = high[narrowest]! - low[narrowest]!;
  if (wide < SCALE_HINT_RATIO * narrow) return undefined;
  return (
    `hint: feature ranges differ ${shortNumber(wide / narrow)}-fold ("${names[widest]}" spans ${shortNumber(wide)}, "${names[narrowest]}" ${shortNumber(narrow)}), ` +
    'so the widest features decide the distances; --standardize puts every feature on one scale'
  );
}
