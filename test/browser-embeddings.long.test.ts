// The live-learning example (examples/embeddings) built with Vite and driven in headless
// Chromium through its UI only: drawings made with mouse strokes on the canvas are added to two
// classes, the counts and the prediction follow, clearing a class removes it, and a screenshot
// lands in build/screenshots/ (gitignored) for a person to look at.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, NO_CHROMIUM_MESSAGE, openExample, wasmEmbedded, type OpenedExample } from './browserHarness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const screenshots = join(root, 'build/screenshots');

type Point = [number, number];

/** A closed ring of points around (cx, cy), in canvas pixels. */
function circle(cx: number, cy: number, radius: number): Point[] {
  return Array.from({ length: 33 }, (_, i): Point => {
    const angle = (i / 32) * 2 * Math.PI;
    return [cx + radius * Math.cos(angle), cy + radius * Math.sin(angle)];
  });
}

/** A horizontal sine wave through (x0, y) to (x1, y). */
function wave(x0: number, x1: number, y: number, amplitude: number): Point[] {
  return Array.from({ length: 33 }, (_, i): Point => {
    const x = x0 + ((x1 - x0) * i) / 32;
    return [x, y + amplitude * Math.sin((i / 32) * 4 * Math.PI)];
  });
}

/** One mouse stroke on the canvas in `colour`'s pen. */
async function draw(page: Page, colour: string, points: Point[]): Promise<void> {
  await page.click(`.pen[data-colour="${colour}"]`);
  const box = (await page.locator('#sketch').boundingBox())!;
  const at = ([x, y]: Point) => [box.x + x, box.y + y] as const;
  await page.mouse.move(...at(points[0]!));
  await page.mouse.down();
  for (const point of points.slice(1)) await page.mouse.move(...at(point), { steps: 2 });
  await page.mouse.up();
  // The page repaints in the next animation frame; after two, it shows the finished stroke.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await throwIfFailed(page);
}

async function prediction(page: Page): Promise<string> {
  return (await page.textContent('#prediction')) ?? '';
}

async function rowText(page: Page, label: string, part: 'count' | 'confidence'): Promise<string> {
  return (await page.textContent(`.class[data-class="${label}"] .${part}`)) ?? '';
}

/** Waits until the row's count reads `text` (adding awaits the first fit). */
async function waitForCount(page: Page, label: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([l, t]) => document.querySelector(`.class[data-class="${l}"] .count`)?.textContent === t || document.body.dataset.error,
    [label, text] as const,
    { timeout: 20_000 },
  );
  await throwIfFailed(page);
}

/** Waits until the prediction heading matches `pattern` (after a click it repaints in a later frame). */
async function waitForPrediction(page: Page, pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    (source) => new RegExp(source).test(document.querySelector('#prediction')?.textContent ?? '') || document.body.dataset.error,
    pattern.source,
    { timeout: 20_000 },
  );
  await throwIfFailed(page);
}

async function throwIfFailed(page: Page): Promise<void> {
  const error = await page.evaluate(() => document.body.dataset.error);
  if (error) throw new Error(`example reported: ${error}`);
}

const AMBER = '#f0a500';
const BLUE = '#1f77b4';
const BLACK = '#222222';

describe.runIf(hasChromium && wasmEmbedded)('live-learning example (examples/embeddings) in headless Chromium', { timeout: 90_000 }, () => {
  let example: OpenedExample;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    example = await openExample('embeddings');
    ({ page, errors } = example);
    await page.waitForFunction(() => Number(document.body.dataset.renders ?? 0) > 0 || document.body.dataset.error, null, { timeout: 20_000 });
    await throwIfFailed(page);
    await mkdir(screenshots, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await example?.close();
  });

  it('starts with no network and refuses to learn a blank canvas', async () => {
    expect(await page.textContent('#prediction')).toBe('Add a drawing to a class to start.');
    expect(await rowText(page, 'sun', 'count')).toBe('0 examples');
    await page.click('.class[data-class="sun"] .add');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent?.startsWith('Draw something first'));
    expect(await rowText(page, 'sun', 'count')).toBe('0 examples');
    expect(await page.isDisabled('.class[data-class="sun"] .clear')).toBe(true);
  });

  it('learns drawings added to two classes, and the counts follow', async () => {
    await draw(page, AMBER, circle(160, 160, 90));
    await page.click('.class[data-class="sun"] .add');
    await waitForCount(page, 'sun', '1 example');
    await draw(page, AMBER, circle(150, 170, 70));
    await page.click('.class[data-class="sun"] .add');
    await waitForCount(page, 'sun', '2 examples');
    await draw(page, BLUE, wave(30, 290, 160, 40));
    await page.click('.class[data-class="sea"] .add');
    await waitForCount(page, 'sea', '1 example');
    await draw(page, BLUE, wave(40, 280, 190, 30));
    await page.click('.class[data-class="sea"] .add');
    await waitForCount(page, 'sea', '2 examples');
    expect(await rowText(page, 'tree', 'count')).toBe('0 examples');
    expect(await page.textContent('#status')).toMatch(/^4 examples × 256 features/);
  });

  it('the prediction follows what is drawn, with per-class confidences', async () => {
    await draw(page, AMBER, circle(165, 150, 80));
    expect(await prediction(page)).toMatch(/^Prediction: sun \(\d+%\)$/);
    const sun = Number.parseInt(await rowText(page, 'sun', 'confidence'));
    const sea = Number.parseInt(await rowText(page, 'sea', 'confidence'));
    expect(sun).toBeGreaterThan(sea);
    expect(sun + sea).toBeGreaterThanOrEqual(99);
    expect(await rowText(page, 'tree', 'confidence')).toBe('—');
    expect(await page.textContent('#nearest')).toMatch(/^Nearest examples \(1 − cos\): sun [\d.]+ · sun [\d.]+ · sea [\d.]+$/);
    await page.screenshot({ path: join(screenshots, 'embeddings-sun.png'), fullPage: true });

    await page.click('#clear-drawing');
    await waitForPrediction(page, /^Draw something/);
    await draw(page, BLUE, wave(35, 285, 170, 35));
    expect(await prediction(page)).toMatch(/^Prediction: sea \(\d+%\)$/);
    expect(Number.parseInt(await rowText(page, 'sea', 'confidence'))).toBeGreaterThan(Number.parseInt(await rowText(page, 'sun', 'confidence')));

    // In a colour neither class was taught, the shape alone decides.
    for (const [points, label] of [[circle(160, 160, 85), 'sun'], [wave(30, 290, 175, 38), 'sea']] as const) {
      await page.click('#clear-drawing');
      await draw(page, BLACK, points);
      expect(await prediction(page)).toMatch(new RegExp(`^Prediction: ${label} \\(\\d+%\\)$`));
    }
  });

  it('clearing a class removes it from the counts and the prediction', async () => {
    await page.click('#clear-drawing');
    await draw(page, AMBER, circle(165, 150, 80));
    expect(await prediction(page)).toMatch(/^Prediction: sun/);
    await page.click('.class[data-class="sun"] .clear');
    await waitForCount(page, 'sun', '0 examples');
    // Only sea is left: it takes all the confidence, even for a sun.
    await waitForPrediction(page, /^Prediction: sea \(100%\)$/);
    expect(await rowText(page, 'sun', 'confidence')).toBe('—');
    expect(await rowText(page, 'sea', 'count')).toBe('2 examples');
    expect(await page.textContent('#status')).toMatch(/^2 examples × 256 features/);
    expect(await page.textContent('#nearest')).toMatch(/^Nearest examples \(1 − cos\): sea [\d.]+ · sea [\d.]+$/);

    // Clearing the last class disposes the network: the page is back at its start.
    await page.click('.class[data-class="sea"] .clear');
    await waitForCount(page, 'sea', '0 examples');
    await waitForPrediction(page, /^Add a drawing to a class to start\.$/);
    // …and learns again from a first example (the drawing still on the canvas).
    await page.click('.class[data-class="tree"] .add');
    await waitForCount(page, 'tree', '1 example');
    await waitForPrediction(page, /^Draw something/);
    expect(await page.textContent('#status')).toBe('1 example × 256 features');
    await page.screenshot({ path: join(screenshots, 'embeddings-relearn.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});

describe.skipIf(hasChromium && wasmEmbedded)('live-learning example', () => {
  it('needs Chromium and the built wasm', () =>
    console.warn(hasChromium ? 'live-learning example test skipped: src/generated/wasmBinary.ts is missing (npm run build)' : NO_CHROMIUM_MESSAGE));
});
