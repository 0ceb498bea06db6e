// A density image of many points: count the points per pixel, then colour each pixel by the
// logarithm of its count. One pass over the points and one over the pixels, then a single
// putImageData: a million points paint in milliseconds, where a million canvas calls would not.

/** Points per pixel of a width × height image of the window [xMin, xMax, yMin, yMax] (row 0 at the top). */
export function countPerPixel(points: Float64Array, bounds: readonly [number, number, number, number], width: number, height: number): Uint32Array {
  const [xMin, xMax, yMin, yMax] = bounds;
  const counts = new Uint32Array(width * height);
  const xScale = width / (xMax - xMin);
  const yScale = height / (yMax - yMin);
  for (let i = 0; i < points.length; i += 2) {
    const column = Math.floor((points[i]! - xMin) * xScale);
    const row = Math.floor((yMax - points[i + 1]!) * yScale);
    if (column >= 0 && column < width && row >= 0 && row < height) counts[row * width + column]!++;
  }
  return counts;
}

/** Colour stops from an empty pixel (white) through yellow-green to the densest (deep blue). */
const STOPS: readonly [number, number, number][] = [
  [255, 255, 255],
  [237, 248, 177],
  [127, 205, 187],
  [44, 127, 184],
  [37, 52, 148],
  [8, 29, 88],
];

/**
 * Pixels coloured by log(1 + count) / log(1 + the largest count): the logarithm keeps both the
 * noise (a point or two a pixel) and the cores of the heaviest clusters visible.
 */
export function densityImage(counts: Uint32Array, width: number, height: number): ImageData {
  let largest = 1;
  for (const count of counts) largest = Math.max(largest, count);
  const scale = 1 / Math.log1p(largest);
  const image = new ImageData(width, height);
  for (let pixel = 0; pixel < counts.length; pixel++) {
    const level = Math.log1p(counts[pixel]!) * scale * (STOPS.length - 1);
    const stop = Math.min(Math.floor(level), STOPS.length - 2);
    const t = level - stop;
    const [r0, g0, b0] = STOPS[stop]!;
    const [r1, g1, b1] = STOPS[stop + 1]!;
    image.data[4 * pixel] = r0 + t * (r1 - r0);
    image.data[4 * pixel + 1] = g0 + t * (g1 - g0);
    image.data[4 * pixel + 2] = b0 + t * (b1 - b0);
    image.data[4 * pixel + 3] = 255;
  }
  return image;
}
