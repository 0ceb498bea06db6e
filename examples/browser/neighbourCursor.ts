// The k nearest neighbours follow the cursor: pointer moves ask for a frame, and each frame runs
// one kneighbors query at the latest cursor position, draws the k points and the circle through
// the k-th over the density image, and updates the readout (k, the k-th distance, the mean time
// of the last queries, and which search ran).
import type { KnnNetwork } from '../../src/index.js';
import type { Plot } from './plot.js';

/** What the last frame found: the page's tests compare it with the same query in Node. */
export interface CursorFrame {
  x: number;
  y: number;
  k: number;
  indices: number[];
  distances: number[];
  /** The kneighbors call alone. */
  queryMicroseconds: number;
  /** The query, the drawing and the readout. */
  frameMicroseconds: number;
}

/** Queries the readout's mean covers. */
const TIMED_QUERIES = 60;

/**
 * The search the network runs: `searchAlgorithm` where knnet reports it (a version with the
 * pruned search), else brute force, the only search before it.
 */
export function searchAlgorithm(net: object): string {
  const reported = (net as { searchAlgorithm?: unknown }).searchAlgorithm;
  return reported === undefined ? 'brute force' : String(reported);
}

export class NeighbourCursor {
  /** The frames drawn so far (the tests wait on it). */
  frames = 0;
  last: CursorFrame | undefined;
  readonly #net: KnnNetwork<never, 'search'>;
  readonly #plot: Plot;
  readonly #readout: HTMLElement;
  readonly #query = new Float64Array(2);
  readonly #queryTimes = new Float64Array(TIMED_QUERIES);
  #timed = 0;
  #k: number;
  #cursor: [number, number] | undefined;
  #frameRequest: number | undefined;

  constructor(net: KnnNetwork<never, 'search'>, plot: Plot, readout: HTMLElement, k: number) {
    this.#net = net;
    this.#plot = plot;
    this.#readout = readout;
    this.#k = k;
  }

  /** Follows the cursor at data coordinates (x, y) from the next frame on. */
  moveTo(x: number, y: number): void {
    this.#cursor = [x, y];
    this.#requestFrame();
  }

  setK(k: number): void {
    this.#k = k;
    this.#requestFrame();
  }

  /** Stops drawing (the network is about to be disposed). */
  stop(): void {
    if (this.#frameRequest !== undefined) cancelAnimationFrame(this.#frameRequest);
    this.#frameRequest = undefined;
    this.#cursor = undefined;
  }

  #requestFrame(): void {
    // However many moves arrive between two frames, only the latest position is searched.
    this.#frameRequest ??= requestAnimationFrame(() => {
      this.#frameRequest = undefined;
      this.#frame();
    });
  }

  #frame(): void {
    if (!this.#cursor) {
      this.#plot.drawDensity();
      return;
    }
    const [x, y] = this.#cursor;
    const k = this.#k;
    const frameStart = performance.now();
    this.#query[0] = x;
    this.#query[1] = y;
    // kneighbors(x) at the fitted k takes knnet's one-query path; another k (after the slider
    // moved) passes k, the general path, which costs a few µs more per call.
    const found = k === this.#net.options.k ? this.#net.kneighbors(this.#query) : this.#net.kneighbors(this.#query, k);
    const queryTime = performance.now() - frameStart;

    const points = this.#plot.dataset.points;
    const neighbours = new Float64Array(2 * k);
    for (let j = 0; j < k; j++) {
      neighbours[2 * j] = points[2 * found.indices[j]!]!;
      neighbours[2 * j + 1] = points[2 * found.indices[j]! + 1]!;
    }
    const radius = found.distances[k - 1]!;
    this.#plot.drawDensity({ x, y, neighbours, radius });
    this.#queryTimes[this.#timed++ % TIMED_QUERIES] = queryTime;
    this.#showReadout(k, radius);

    this.last = {
      x,
      y,
      k,
      indices: Array.from(found.indices),
      distances: Array.from(found.distances),
      queryMicroseconds: 1000 * queryTime,
      frameMicroseconds: 1000 * (performance.now() - frameStart),
    };
    this.frames++;
    document.body.dataset.cursorFrames = String(this.frames);
  }

  #showReadout(k: number, radius: number): void {
    const count = Math.min(this.#timed, TIMED_QUERIES);
    let total = 0;
    for (let i = 0; i < count; i++) total += this.#queryTimes[i]!;
    // A mean, not a median: outside a cross-origin-isolated page the browser's clock ticks in
    // 100 µs steps with jitter, and only a mean of many such readings comes out right.
    const mean = (1000 * total) / count;
    this.#set('k', String(k));
    this.#set('radius', radius.toPrecision(4));
    this.#set('time', `${mean < 100 ? mean.toFixed(1) : mean.toFixed(0)} µs`);
    this.#set('timed', `the last ${count} ${count === 1 ? 'query' : 'queries'}`);
    this.#set('algorithm', searchAlgorithm(this.#net));
  }

  #set(field: string, text: string): void {
    const element = this.#readout.querySelector<HTMLElement>(`[data-readout="${field}"]`);
    if (element) element.textContent = text;
  }
}
