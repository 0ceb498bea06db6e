// Canvas drawing: decision regions from predictProba over a grid of pixel blocks, the training
// points, and (after a click) the query with lines to the neighbours weighted by layer 2; or, for
// a data set too large to draw point by point, a density image with the k nearest neighbours of
// the cursor over it.
import type { PointCloud } from './datasets.js';

export const CLASS_COLORS: readonly [number, number, number][] = [
  [228, 87, 46],
  [41, 128, 185],
  [39, 174, 96],
  [142, 68, 173],
  [243, 156, 18],
];

export function classColor(c: number, alpha = 1): string {
  const [r, g, b] = CLASS_COLORS[c % CLASS_COLORS.length]!;
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Side of a grid cell in canvas pixels: one query per BLOCK × BLOCK pixels. */
export const BLOCK = 4;

export interface Grid {
  columns: number;
  rows: number;
  /** One query per cell centre, row-major (columns × rows) × 2. */
  queries: { data: Float64Array; rows: number; cols: number };
}

/** The k nearest neighbours of a query, in data coordinates, and the distance to the k-th. */
export interface NeighbourOverlay {
  x: number;
  y: number;
  /** k × 2, row-major: the neighbours' coordinates. */
  neighbours: Float64Array;
  radius: number;
}

export class Plot {
  private readonly context: CanvasRenderingContext2D;
  /** The picture under the axes: decision regions (a cell per BLOCK × BLOCK pixels) or a density image (a cell per pixel). */
  private readonly background: HTMLCanvasElement;
  private backgroundScale = BLOCK;
  private readonly margin = { left: 48, right: 12, top: 12, bottom: 40 };

  constructor(
    readonly canvas: HTMLCanvasElement,
    readonly dataset: PointCloud,
  ) {
    this.context = canvas.getContext('2d')!;
    this.background = document.createElement('canvas');
  }

  /** The plot area in canvas pixels: the size of a density image drawn one pixel to one pixel. */
  get area(): { width: number; height: number } {
    return { width: this.plotWidth, height: this.plotHeight };
  }

  private get plotWidth(): number {
    return this.canvas.width - this.margin.left - this.margin.right;
  }
  private get plotHeight(): number {
    return this.canvas.height - this.margin.top - this.margin.bottom;
  }

  toCanvas(x: number, y: number): [number, number] {
    const [xMin, xMax, yMin, yMax] = this.dataset.bounds;
    return [
      this.margin.left + ((x - xMin) / (xMax - xMin)) * this.plotWidth,
      this.margin.top + (1 - (y - yMin) / (yMax - yMin)) * this.plotHeight,
    ];
  }

  /** Data coordinates of a canvas pixel, or null outside the plot area. */
  toData(px: number, py: number): [number, number] | null {
    const u = (px - this.margin.left) / this.plotWidth;
    const v = (py - this.margin.top) / this.plotHeight;
    if (u < 0 || u > 1 || v < 0 || v > 1) return null;
    const [xMin, xMax, yMin, yMax] = this.dataset.bounds;
    return [xMin + u * (xMax - xMin), yMax - v * (yMax - yMin)];
  }

  grid(): Grid {
    const columns = Math.ceil(this.plotWidth / BLOCK);
    const rows = Math.ceil(this.plotHeight / BLOCK);
    const [xMin, xMax, yMin, yMax] = this.dataset.bounds;
    const data = new Float64Array(columns * rows * 2);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const cell = r * columns + c;
        data[2 * cell] = xMin + (((c + 0.5) * BLOCK) / this.plotWidth) * (xMax - xMin);
        data[2 * cell + 1] = yMax - (((r + 0.5) * BLOCK) / this.plotHeight) * (yMax - yMin);
      }
    }
    return { columns, rows, queries: { data, rows: columns * rows, cols: 2 } };
  }

  /** Region colour per cell: the class colours mixed by their probabilities, pale. */
  setRegions(grid: Grid, proba: Float64Array, classCount: number): void {
    this.background.width = grid.columns;
    this.background.height = grid.rows;
    this.backgroundScale = BLOCK;
    const context = this.background.getContext('2d')!;
    const image = context.createImageData(grid.columns, grid.rows);
    for (let cell = 0; cell < grid.columns * grid.rows; cell++) {
      let r = 0, g = 0, b = 0;
      for (let c = 0; c < classCount; c++) {
        const p = proba[cell * classCount + c]!;
        const [cr, cg, cb] = CLASS_COLORS[c % CLASS_COLORS.length]!;
        r += p * cr;
        g += p * cg;
        b += p * cb;
      }
      const pale = 0.38; // share of the class colour; the rest is white
      image.data[4 * cell] = 255 - pale * (255 - r);
      image.data[4 * cell + 1] = 255 - pale * (255 - g);
      image.data[4 * cell + 2] = 255 - pale * (255 - b);
      image.data[4 * cell + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }

  /** A density image of the plot area's size (see `area`), drawn one pixel to one pixel. */
  setDensity(image: ImageData): void {
    this.background.width = image.width;
    this.background.height = image.height;
    this.backgroundScale = 1;
    this.background.getContext('2d')!.putImageData(image, 0, 0);
  }

  private drawBackground(): void {
    const ctx = this.context;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.imageSmoothingEnabled = false; // show the pixel blocks as they were computed
    const scale = this.backgroundScale;
    ctx.drawImage(this.background, this.margin.left, this.margin.top, this.background.width * scale, this.background.height * scale);
    ctx.fillStyle = '#fff';
    ctx.fillRect(this.margin.left + this.plotWidth, 0, this.margin.right, this.canvas.height);
    ctx.fillRect(0, this.margin.top + this.plotHeight, this.canvas.width, this.margin.bottom);
    this.drawAxes();
  }

  draw(classOf: Int32Array, query?: { x: number; y: number; z2: Float64Array }): void {
    const ctx = this.context;
    this.drawBackground();

    const points = this.dataset.points;
    if (query) {
      // Layer 2 made visible: one line per training point that gets weight, opacity ∝ weight.
      let maxWeight = 0;
      for (const w of query.z2) maxWeight = Math.max(maxWeight, w);
      const [qx, qy] = this.toCanvas(query.x, query.y);
      for (let i = 0; i < classOf.length; i++) {
        const w = query.z2[i]!;
        if (!(w > 0) || maxWeight === 0) continue;
        const [px, py] = this.toCanvas(points[2 * i]!, points[2 * i + 1]!);
        ctx.strokeStyle = `rgba(20, 20, 20, ${0.15 + 0.75 * (w / maxWeight)})`;
        ctx.lineWidth = 0.5 + 2.5 * (w / maxWeight);
        ctx.beginPath();
        ctx.moveTo(qx, qy);
        ctx.lineTo(px, py);
        ctx.stroke();
      }
    }
    for (let i = 0; i < classOf.length; i++) {
      const [px, py] = this.toCanvas(points[2 * i]!, points[2 * i + 1]!);
      ctx.beginPath();
      ctx.arc(px, py, 3.6, 0, 2 * Math.PI);
      ctx.fillStyle = classColor(classOf[i]!);
      ctx.fill();
      ctx.lineWidth = 0.8;
      ctx.strokeStyle = '#222';
      ctx.stroke();
    }
    if (query) this.drawCross(query.x, query.y);
  }

  /**
   * The density image, and over it the query's k nearest neighbours and the circle through the
   * k-th (an ellipse where the axes' scales differ, so it stays true to the data's distance).
   */
  drawDensity(overlay?: NeighbourOverlay): void {
    const ctx = this.context;
    this.drawBackground();
    if (!overlay) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(this.margin.left, this.margin.top, this.plotWidth, this.plotHeight);
    ctx.clip();
    const [xMin, xMax, yMin, yMax] = this.dataset.bounds;
    const [qx, qy] = this.toCanvas(overlay.x, overlay.y);
    ctx.beginPath();
    ctx.ellipse(qx, qy, (overlay.radius * this.plotWidth) / (xMax - xMin), (overlay.radius * this.plotHeight) / (yMax - yMin), 0, 0, 2 * Math.PI);
    ctx.fillStyle = 'rgba(228, 87, 46, 0.12)';
    ctx.fill();
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = 'rgb(200, 60, 30)';
    ctx.stroke();
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#111';
    ctx.fillStyle = 'rgb(243, 156, 18)';
    for (let j = 0; j < overlay.neighbours.length; j += 2) {
      const [px, py] = this.toCanvas(overlay.neighbours[j]!, overlay.neighbours[j + 1]!);
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    // Cross hairs with a hole, so the neighbours under the cursor stay visible.
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = '#111';
    ctx.beginPath();
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
      ctx.moveTo(qx + 5 * dx, qy + 5 * dy);
      ctx.lineTo(qx + 12 * dx, qy + 12 * dy);
    }
    ctx.stroke();
    ctx.restore();
  }

  private drawCross(x: number, y: number): void {
    const ctx = this.context;
    const [qx, qy] = this.toCanvas(x, y);
    ctx.lineWidth = 2.5;
    ctx.strokeStyle = '#111';
    ctx.beginPath();
    ctx.moveTo(qx - 7, qy - 7);
    ctx.lineTo(qx + 7, qy + 7);
    ctx.moveTo(qx + 7, qy - 7);
    ctx.lineTo(qx - 7, qy + 7);
    ctx.stroke();
  }

  private drawAxes(): void {
    const ctx = this.context;
    const [xMin, xMax, yMin, yMax] = this.dataset.bounds;
    ctx.strokeStyle = '#444';
    ctx.lineWidth = 1;
    ctx.strokeRect(this.margin.left, this.margin.top, this.plotWidth, this.plotHeight);
    ctx.fillStyle = '#333';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const x of ticks(xMin, xMax)) {
      const [px] = this.toCanvas(x, yMin);
      ctx.fillText(formatTick(x), px, this.margin.top + this.plotHeight + 14);
    }
    ctx.fillText(this.dataset.xLabel, this.margin.left + this.plotWidth / 2, this.canvas.height - 8);
    ctx.textAlign = 'right';
    for (const y of ticks(yMin, yMax)) {
      const [, py] = this.toCanvas(xMin, y);
      ctx.fillText(formatTick(y), this.margin.left - 5, py + 4);
    }
    ctx.save();
    ctx.translate(12, this.margin.top + this.plotHeight / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(this.dataset.yLabel, 0, 0);
    ctx.restore();
  }
}

function ticks(min: number, max: number): number[] {
  const raw = (max - min) / 6;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) out.push(t);
  return out;
}

function formatTick(t: number): string {
  return Math.abs(t) < 1e-9 ? '0' : String(Number(t.toPrecision(3)));
}
