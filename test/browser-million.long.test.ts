// The browser demo's million points in headless Chromium: the density image paints, and the k
// nearest neighbours drawn under the pointer are exactly those kneighbors finds for the same
// query in Node on the same seeded points (and the reference network's). The page is served
// cross-origin isolated, as the dev server serves it, so its clock resolves microseconds; the
// test prints the time per query it measured (a figure to read, never asserted).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPerPixel } from '../examples/browser/density.js';
import { millionPoints, pointsChecksum } from '../examples/browser/millionPoints.js';
import type { CursorFrame } from '../examples/browser/neighbourCursor.js';
import { KnnNetwork } from '../src/index.js';
import { ReferenceNetwork } from '../src/reference.js';
import { hasChromium, NO_CHROMIUM_MESSAGE, openExample, wasmEmbedded, type OpenedExample } from './browserHarness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const screenshots = join(root, 'build/screenshots');
/** The k the page fits with (the slider's position when the million points are chosen). */
const FITTED_K = 12;

interface Demo {
  cursorFrame(): CursorFrame | undefined;
  millionChecksum(): string | undefined;
}

async function cursorFrames(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.body.dataset.cursorFrames ?? 0));
}

/** Moves the pointer to canvas pixel (px, py) and returns the frame it caused. */
async function pointAt(page: Page, px: number, py: number): Promise<CursorFrame> {
  const before = await cursorFrames(page);
  const box = (await page.locator('#plot').boundingBox())!;
  await page.mouse.move(box.x + px, box.y + py);
  await page.waitForFunction((n) => Number(document.body.dataset.cursorFrames ?? 0) > n, before, { timeout: 20_000 });
  return (await page.evaluate(() => (window as unknown as { knnetDemo: Demo }).knnetDemo.cursorFrame()))!;
}

function readoutField(page: Page, field: string): Promise<string | null> {
  return page.textContent(`#readout [data-readout="${field}"]`);
}

/** Median and 95th percentile of a list of figures. */
function quantiles(values: number[]): { median: number; p95: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, p95: sorted[Math.floor(sorted.length * 0.95)]! };
}

describe.runIf(hasChromium && wasmEmbedded)('browser demo: a million points in headless Chromium', { timeout: 120_000 }, () => {
  let example: OpenedExample;
  let page: Page;
  let errors: string[];
  const cloud = millionPoints();
  const n = cloud.points.length / 2;
  let net: KnnNetwork<never, 'search'>;
  let reference: ReferenceNetwork<never, 'search'>;

  beforeAll(async () => {
    net = await KnnNetwork.fit({ data: cloud.points, rows: n, cols: 2 }, null, { k: FITTED_K });
    reference = ReferenceNetwork.fitSync({ data: cloud.points, rows: n, cols: 2 }, null, { k: FITTED_K });
    example = await openExample('browser', { crossOriginIsolated: true });
    ({ page, errors } = example);
    await page.waitForFunction(() => Number(document.body.dataset.renders ?? 0) > 0, undefined, { timeout: 20_000 });
    await page.locator('#k').fill(String(FITTED_K));
    await page.selectOption('#dataset', 'million');
    await page.waitForFunction(() => /fit \d+ ms/.test(document.querySelector('#status')?.textContent ?? '') || document.body.dataset.error, undefined, {
      timeout: 60_000,
    });
    await mkdir(screenshots, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await example?.close();
    net?.dispose();
  });

  it('generates the same million points as Node, bit for bit, and says how long each step took', async () => {
    expect(await page.evaluate(() => document.body.dataset.error)).toBeUndefined();
    const checksum = await page.evaluate(() => (window as unknown as { knnetDemo: Demo }).knnetDemo.millionChecksum());
    expect(checksum).toBe(pointsChecksum(cloud.points));
    expect(await page.textContent('#status')).toMatch(
      /^A million points: n = 1,000,000 · generated in \d+ ms · density image \d+ ms · fit \d+ ms · move the pointer over the plot$/,
    );
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  });

  it('paints the density image: a pixel is shaded exactly where at least one of the points falls', async () => {
    const plotArea = { left: 48, top: 12, width: 500, height: 468 }; // the canvas inside its margins
    const image = await page.evaluate(({ left, top, width, height }) => {
      const data = document.querySelector<HTMLCanvasElement>('#plot')!.getContext('2d')!.getImageData(left, top, width, height).data;
      const tones = new Set<number>();
      let shaded = ''; // one character a pixel, row by row: '1' where the pixel is not white
      for (let pixel = 0; pixel < width * height; pixel++) {
        const [r, g, b] = [data[4 * pixel]!, data[4 * pixel + 1]!, data[4 * pixel + 2]!];
        tones.add((r << 16) | (g << 8) | b);
        shaded += r === 255 && g === 255 && b === 255 ? '0' : '1';
      }
      return { tones: tones.size, shaded };
    }, plotArea);
    const counts = countPerPixel(cloud.points, cloud.bounds, plotArea.width, plotArea.height);
    // The plot's frame is drawn over the image's outermost pixels: compare the inside.
    const mismatched: string[] = [];
    for (let row = 1; row < plotArea.height - 1; row++) {
      for (let column = 1; column < plotArea.width - 1; column++) {
        const pixel = row * plotArea.width + column;
        if (image.shaded[pixel] !== (counts[pixel]! > 0 ? '1' : '0')) mismatched.push(`(${column}, ${row}): ${counts[pixel]} points`);
      }
    }
    expect(mismatched.slice(0, 10)).toEqual([]);
    expect(image.shaded.split('1').length - 1).toBeGreaterThan(0.3 * counts.length);
    expect(image.tones).toBeGreaterThan(200);
    // The weighting controls and the layers panel belong to the labelled data sets.
    expect(await page.isVisible('#layers')).toBe(false);
    expect(await page.isVisible('#readout')).toBe(true);
  });

  it('a pointer move shows the k nearest neighbours that kneighbors finds for the same point in Node', async () => {
    // Canvas pixels across the plot: dense cluster cores, the spiral's gaps, the noise at the edge.
    const positions: [number, number][] = [[300, 250], [120, 80], [450, 400], [60, 460], [270, 240], [200, 300], [520, 30], [380, 150]];
    for (const [px, py] of positions) {
      const frame = await pointAt(page, px, py);
      expect(frame.k).toBe(FITTED_K);
      const found = net.kneighbors([frame.x, frame.y], FITTED_K);
      expect(frame.indices).toEqual(Array.from(found.indices));
      expect(frame.distances).toEqual(Array.from(found.distances));
      const expected = reference.kneighbors([frame.x, frame.y]);
      expect(frame.indices).toEqual(Array.from(expected.indices));
      expect(frame.distances).toEqual(Array.from(expected.distances));
    }
    const last = (await page.evaluate(() => (window as unknown as { knnetDemo: Demo }).knnetDemo.cursorFrame()))!;
    expect(await readoutField(page, 'k')).toBe(String(FITTED_K));
    expect(await readoutField(page, 'radius')).toBe(last.distances[FITTED_K - 1]!.toPrecision(4));
    expect(await readoutField(page, 'time')).toMatch(/^[\d.]+ µs$/);
    expect(await readoutField(page, 'timed')).toBe(`the last ${positions.length} queries`);
    const algorithm = (net as unknown as { searchAlgorithm?: unknown }).searchAlgorithm;
    expect(await readoutField(page, 'algorithm')).toBe(algorithm === undefined ? 'brute force' : String(algorithm));
    await page.screenshot({ path: join(screenshots, 'demo-million-cursor.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('draws the neighbours and the circle through the k-th over the density image', async () => {
    // Just past the noise's right edge (x = 1.15), where the circle is many pixels wide.
    const frame = await pointAt(page, 538, 246);
    const radiusPixels = 200 * frame.distances[FITTED_K - 1]!; // the page's plot: 200 pixels a data unit
    expect(radiusPixels).toBeGreaterThan(8);
    const kth = frame.indices[FITTED_K - 1]!;
    const overlay = await page.evaluate(
      ([x, y, radius, kthX, kthY]) => {
        const canvas = document.querySelector<HTMLCanvasElement>('#plot')!;
        const context = canvas.getContext('2d')!;
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        // The window [-1.25, 1.25] × [-1.17, 1.17] inside margins of 48 (left) and 12 (top) pixels.
        const qx = 48 + (x! + 1.25) * 200;
        const qy = 12 + (1.17 - y!) * 200;
        // The density image's colours never have red far above green; the circle's stroke has.
        const near = (px: number, py: number, test: (i: number) => boolean) => {
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) if (test(4 * ((Math.round(py) + dy) * canvas.width + Math.round(px) + dx))) return true;
          }
          return false;
        };
        const strokeNear = (px: number, py: number) => near(px, py, (i) => data[i]! - data[i + 1]! > 100);
        let onCircle = 0;
        for (let step = 0; step < 8; step++) {
          const angle = Math.PI / 2 + (Math.PI * step) / 7; // the left half: the right one is clipped at the plot's edge
          if (strokeNear(qx + radius! * Math.cos(angle), qy - radius! * Math.sin(angle))) onCircle++;
        }
        // The k-th neighbour's marker, drawn last of the markers, in its fill colour.
        const kthMarker = near(48 + (kthX! + 1.25) * 200, 12 + (1.17 - kthY!) * 200, (i) => data[i] === 243 && data[i + 1] === 156 && data[i + 2] === 18);
        return { onCircle, kthMarker };
      },
      [frame.x, frame.y, radiusPixels, cloud.points[2 * kth]!, cloud.points[2 * kth + 1]!],
    );
    expect(overlay.onCircle).toBeGreaterThanOrEqual(6);
    expect(overlay.kthMarker).toBe(true);
  });

  it('moving the k slider changes k without a refit', async () => {
    const status = await page.textContent('#status');
    const before = await cursorFrames(page);
    await page.locator('#k').fill('40');
    await page.waitForFunction((count) => Number(document.body.dataset.cursorFrames ?? 0) > count, before);
    const frame = (await page.evaluate(() => (window as unknown as { knnetDemo: Demo }).knnetDemo.cursorFrame()))!;
    expect(frame.k).toBe(40);
    const found = net.kneighbors([frame.x, frame.y], 40);
    expect(frame.indices).toEqual(Array.from(found.indices));
    expect(frame.distances).toEqual(Array.from(found.distances));
    expect(await page.textContent('#k-value')).toBe('40');
    expect(await page.textContent('#status')).toBe(status);
    await page.locator('#k').fill(String(FITTED_K));
    await expect.poll(() => page.evaluate(() => (window as unknown as { knnetDemo: Demo }).knnetDemo.cursorFrame()?.k)).toBe(FITTED_K);
  });

  it('stays responsive at a million points: prints the time of a pointer move query', async () => {
    // A sweep across the plot, one frame per move; every answer checked against Node's.
    const queries: number[] = [];
    const frames: number[] = [];
    const moves = 150;
    for (let step = 0; step < moves; step++) {
      const frame = await pointAt(page, 60 + (440 * step) / moves, 40 + 400 * Math.abs(Math.sin(step / 9)));
      queries.push(frame.queryMicroseconds);
      frames.push(frame.frameMicroseconds);
      if (step % 15 === 0) expect(frame.indices).toEqual(Array.from(net.kneighbors([frame.x, frame.y], FITTED_K).indices));
    }
    const query = quantiles(queries);
    const whole = quantiles(frames);
    console.info(
      `million points in Chromium, k = ${FITTED_K}, ${queries.length} pointer moves (${await readoutField(page, 'algorithm')}): ` +
        `kneighbors(x) median ${query.median.toFixed(0)} µs, p95 ${query.p95.toFixed(0)} µs; ` +
        `query + drawing median ${whole.median.toFixed(0)} µs, p95 ${whole.p95.toFixed(0)} µs; ` +
        `readout: ${await readoutField(page, 'time')} over ${await readoutField(page, 'timed')}`,
    );
    expect(errors).toEqual([]);
  });

  it('the labelled data sets still work after the million points', async () => {
    const renders = await page.evaluate(() => Number(document.body.dataset.renders ?? 0));
    await page.selectOption('#dataset', 'iris');
    await page.waitForFunction((count) => Number(document.body.dataset.renders ?? 0) > count && /^Iris petals/.test(document.querySelector('#status')?.textContent ?? ''), renders);
    expect(await page.isVisible('#layers')).toBe(true);
    expect(await page.isVisible('#readout')).toBe(false);
    await page.locator('#plot').click({ position: { x: 300, y: 260 } });
    await expect.poll(() => page.evaluate(() => document.querySelectorAll('#layers h3').length)).toBe(3);
    expect(errors).toEqual([]);
  });
});

describe.skipIf(hasChromium)('browser demo: a million points', () => {
  it('needs Chromium', () => console.warn(NO_CHROMIUM_MESSAGE));
});
