// A small stand-in for an image-embedding model, so the example needs no downloaded weights: a
// drawing becomes a dense 256-wide Float32Array, as a model's embedding would be. It is a
// shape part (the ink, averaged over a 16 × 16 grid and blurred a little, then sent through a
// fixed seeded random projection) and a colour part (a histogram of the ink's colours).

export const FEATURE_DIMENSIONS = 256;

const GRID = 16;
const SHAPE_DIMENSIONS = 192;
const COLOUR_LEVELS = 4; // per RGB channel: 4³ = 64 colour bins
const COLOUR_WEIGHT = 0.5; // the colour part's length beside the shape part's 1
/** Below this much ink a pixel is antialiasing or paper, and its colour is not counted. */
const COLOUR_INK_THRESHOLD = 0.25;

/** mulberry32: a tiny seeded generator, so every page load projects with the same matrix. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Random ±1 entries: cosines between drawings are kept approximately (Johnson–Lindenstrauss),
// while every output dimension mixes the whole grid, as an embedding's dimensions do.
const projection = (() => {
  const random = seededRandom(13);
  return Float32Array.from({ length: SHAPE_DIMENSIONS * GRID * GRID }, () => (random() < 0.5 ? -1 : 1));
})();

/** How far a pixel is from white paper, 0…1: its darkest channel decides. */
function inkOf(r: number, g: number, b: number): number {
  return 1 - Math.min(r, g, b) / 255;
}

/** The features of a drawing, or null when the canvas is blank (a zero vector has no direction). */
export function featuresOf(image: ImageData): Float32Array | null {
  const { width, height, data } = image;
  const cells = new Float64Array(GRID * GRID);
  const colours = new Float64Array(COLOUR_LEVELS ** 3);
  const levelOf = (channel: number) => Math.min(COLOUR_LEVELS - 1, Math.floor((channel * COLOUR_LEVELS) / 256));
  for (let y = 0; y < height; y++) {
    const row = Math.floor((y * GRID) / height) * GRID;
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 4;
      const ink = inkOf(data[at]!, data[at + 1]!, data[at + 2]!);
      if (ink === 0) continue;
      cells[row + Math.floor((x * GRID) / width)]! += ink;
      if (ink >= COLOUR_INK_THRESHOLD) {
        colours[(levelOf(data[at]!) * COLOUR_LEVELS + levelOf(data[at + 1]!)) * COLOUR_LEVELS + levelOf(data[at + 2]!)]! += ink;
      }
    }
  }
  const shape = project(blur(cells));
  const shapeLength = Math.hypot(...shape);
  const colourLength = Math.hypot(...colours);
  if (shapeLength === 0) return null;
  const features = new Float32Array(FEATURE_DIMENSIONS);
  for (let i = 0; i < SHAPE_DIMENSIONS; i++) features[i] = shape[i]! / shapeLength;
  if (colourLength > 0) {
    for (let i = 0; i < colours.length; i++) features[SHAPE_DIMENSIONS + i] = (COLOUR_WEIGHT * colours[i]!) / colourLength;
  }
  return features;
}

/** A 3 × 3 box blur of the grid, so a stroke drawn a cell to the side still overlaps. */
function blur(cells: Float64Array): Float64Array {
  const blurred = new Float64Array(cells.length);
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < GRID && xx >= 0 && xx < GRID) sum += cells[yy * GRID + xx]!;
        }
      }
      blurred[y * GRID + x] = sum;
    }
  }
  return blurred;
}

function project(cells: Float64Array): Float64Array {
  const out = new Float64Array(SHAPE_DIMENSIONS);
  for (let i = 0; i < SHAPE_DIMENSIONS; i++) {
    let sum = 0;
    const row = i * cells.length;
    for (let j = 0; j < cells.length; j++) sum += projection[row + j]! * cells[j]!;
    out[i] = sum;
  }
  return out;
}
