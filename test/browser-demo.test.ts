// The browser demo (examples/browser) built with Vite and driven in headless Chromium: the
// regions repaint when a slider moves, a click shows the three layers, and screenshots land in
// build/screenshots/ (gitignored) for a person to look at.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, NO_CHROMIUM_MESSAGE, openExample, wasmEmbedded, type OpenedExample } from './browserHarness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const screenshots = join(root, 'build/screenshots');

/** Number of canvas pixels that differ from the snapshot taken by `snapshotCanvas`. */
async function changedPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('#plot')!;
    const now = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const before = (window as any).__snapshot as Uint8ClampedArray;
    let changed = 0;
    for (let i = 0; i < now.length; i += 4) {
      if (now[i] !== before[i] || now[i + 1] !== before[i + 1] || now[i + 2] !== before[i + 2]) changed++;
    }
    return changed;
  });
}

async function snapshotCanvas(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('#plot')!;
    (window as any).__snapshot = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return Number(document.body.dataset.renders ?? 0);
  });
}

async function waitForRepaint(page: Page, after: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.body.dataset.renders ?? 0) > n || document.body.dataset.error, after, { timeout: 20_000 });
  const error = await page.evaluate(() => document.body.dataset.error);
  if (error) throw new Error(`demo reported: ${error}`);
}

async function layerTwoCaption(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector('#layers section:nth-of-type(2) p')?.textContent ?? '');
}

describe.runIf(hasChromium && wasmEmbedded)('browser demo (examples/browser) in headless Chromium', { timeout: 60_000 }, () => {
  let example: OpenedExample;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    example = await openExample('browser');
    ({ page, errors } = example);
    await waitForRepaint(page, 0);
    await mkdir(screenshots, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await example?.close();
  });

  it('paints decision regions from one batched predictProba', async () => {
    const status = await page.textContent('#status');
    expect(status).toMatch(/Iris petals: n = 150 training points · grid \d+ × \d+ = [\d,]+ queries · predictProba [\d.]+ ms/);
    // Three pale region colours plus points: far from a blank canvas.
    const colours = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#plot')!;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    });
    expect(colours).toBeGreaterThan(4);
    expect(errors).toEqual([]);
  });

  it('shows a colour legend: one swatch per class, in the colours of the plot', async () => {
    const legend = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('#legend li')).map((item) => ({
        label: item.textContent,
        colour: getComputedStyle(item.querySelector('.swatch')!).backgroundColor,
      })),
    );
    expect(legend.map((entry) => entry.label)).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(legend.map((entry) => entry.colour)).toEqual(['rgb(228, 87, 46)', 'rgb(41, 128, 185)', 'rgb(39, 174, 96)']);
  });

  it('moving the k slider repaints the regions', async () => {
    await page.screenshot({ path: join(screenshots, 'demo-iris-k1.png') });
    const renders = await snapshotCanvas(page);
    await page.locator('#k').fill('40');
    await waitForRepaint(page, renders);
    expect(await page.textContent('#k-value')).toBe('40');
    expect(await changedPixels(page)).toBeGreaterThan(100);
  });

  it('softmax weighting and the λ slider repaint the regions', async () => {
    let renders = await snapshotCanvas(page);
    await page.locator('input[name="weights"][value="softmax"]').check();
    await waitForRepaint(page, renders);
    expect(await page.isDisabled('#lambda')).toBe(false);
    // k = all: the article's network, a softmax over every training point.
    renders = await snapshotCanvas(page);
    await page.locator('#k').fill('151');
    await waitForRepaint(page, renders);
    expect(await page.textContent('#k-value')).toBe('all (150)');
    renders = await snapshotCanvas(page);
    await page.locator('#lambda').fill('-1.5');
    await waitForRepaint(page, renders);
    expect(await changedPixels(page)).toBeGreaterThan(100);
  });

  it('clicking a point shows its three layers: z1 distances, z2 weights, z3 class scores', async () => {
    await page.locator('#lambda').fill('0.5');
    const renders = await snapshotCanvas(page);
    await page.locator('#plot').click({ position: { x: 300, y: 260 } });
    await waitForRepaint(page, renders);
    const panel = await page.evaluate(() => {
      const layers = document.querySelector('#layers')!;
      return {
        headings: Array.from(layers.querySelectorAll('h3')).map((h) => h.textContent),
        query: layers.querySelector('h2')?.textContent ?? '',
        bars: Array.from(layers.querySelectorAll('canvas')).map((c) => c.dataset.layer),
        nearest: layers.querySelectorAll('tbody tr').length,
        scores: Array.from(layers.querySelectorAll('.score .value')).map((s) => Number(s.textContent)),
      };
    });
    expect(panel.headings).toEqual(['Layer 1 · distances', 'Layer 2 · weights', 'Layer 3 · class scores']);
    expect(await layerTwoCaption(page)).toBe('z2 = softmax(−λ·z1) over all 150 points, λ = 3.16 (same order)');
    expect(panel.query).toMatch(/^Query \([\d.]+, [\d.]+\) → (setosa|versicolor|virginica)$/);
    expect(panel.bars).toEqual(['z1', 'z2']);
    expect(panel.nearest).toBe(8);
    expect(panel.scores).toHaveLength(3);
    expect(panel.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    await page.screenshot({ path: join(screenshots, 'demo-iris-softmax-query.png'), fullPage: true });
  });

  it("the layer-2 caption says what the selected weighting computes", async () => {
    // Each control change refits; the panel shows the last fit once it lands.
    const choose = async (weights: string, k: string) => {
      await page.locator(`input[name="weights"][value="${weights}"]`).check();
      await page.locator('#k').fill(k);
    };
    await choose('uniform', '5');
    await expect.poll(() => layerTwoCaption(page)).toBe('z2: a uniform vote, 1/5 to each of the k = 5 nearest; the other 145 get 0 (same order)');
    await choose('distance', '5');
    await expect.poll(() => layerTwoCaption(page)).toBe(
      'z2 ∝ 1/‖x − Xᵢ‖ over the k = 5 nearest, normalised (a query on training points: only they vote); the other 145 get 0 (same order)',
    );
    await choose('softmax', '5');
    await expect.poll(() => layerTwoCaption(page)).toBe('z2 = softmax(−λ·z1) over the k = 5 nearest, λ = 3.16; the other 145 get 0 (same order)');
  });

  it('at k = 1, a tie between equally distant points goes to the lowest training index, and says so', async () => {
    // Iris rows 70 (versicolor), 126 and 138 (virginica) share petal length 4.8, width 1.8.
    await page.locator('input[name="weights"][value="uniform"]').check();
    await page.locator('#k').fill('1');
    await page.evaluate(() => (window as any).knnetDemo.inspect(4.83, 1.79));
    // The panel is redrawn when the k = 1 fit lands.
    await expect.poll(() => layerTwoCaption(page)).toMatch(/^z2: with k = 1 /);
    const panel = await page.evaluate(() => ({
      query: document.querySelector('#layers h2')?.textContent ?? '',
      tie: document.querySelector('#layers p.tie')?.textContent ?? '',
      tiedRows: Array.from(document.querySelectorAll('#layers tbody tr.tied')).map((row) => ({
        index: row.children[1]!.textContent,
        weight: row.children[4]!.textContent,
      })),
    }));
    expect(panel.query).toMatch(/→ versicolor$/);
    expect(panel.tie).toBe(
      'Tie: points 70 (versicolor), 126 (virginica), 138 (virginica) are all at distance 0.03162; ' +
        'k = 1 keeps the lowest index, 70 (versicolor), as brute force ranks ties; the others get no weight.',
    );
    expect(panel.tiedRows).toEqual([
      { index: '70', weight: '1.000' },
      { index: '126', weight: '0.000' },
      { index: '138', weight: '0.000' },
    ]);
    expect(await layerTwoCaption(page)).toBe('z2: with k = 1 the nearest point alone gets weight 1, whatever the weighting; the other 149 get 0 (same order)');
    await page.screenshot({ path: join(screenshots, 'demo-iris-k1-tie.png'), fullPage: true });
  });

  it('the two-moons data set loads and paints', async () => {
    const renders = await snapshotCanvas(page);
    await page.selectOption('#dataset', 'moons');
    await waitForRepaint(page, renders);
    expect(await page.textContent('#status')).toMatch(/^Two moons: n = 200 training points/);
    expect(await changedPixels(page)).toBeGreaterThan(1000);
    await page.locator('input[name="weights"][value="uniform"]').check();
    await page.locator('#k').fill('7');
    await page.waitForFunction(() => document.querySelector('#k-value')?.textContent === '7');
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(screenshots, 'demo-moons-k7.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});

describe.skipIf(hasChromium)('browser demo', () => {
  it('needs Chromium', () => console.warn(NO_CHROMIUM_MESSAGE));
});
