// The demo page: fit a KnnNetwork on 2-D data, paint its decision regions with one batched
// predictProba, and show the three layers (net.forward) of a clicked query. The million points
// have no labels: a search network, a density image, and the k nearest neighbours of the cursor.
import { KnnNetwork } from '../../src/index.js';
import { irisPetals, twoMoons, type Dataset, type PointCloud } from './datasets.js';
import { countPerPixel, densityImage } from './density.js';
import { renderLayers } from './layers.js';
import { renderLegend } from './legend.js';
import { millionPoints, pointsChecksum } from './millionPoints.js';
import { NeighbourCursor, type CursorFrame } from './neighbourCursor.js';
import { Plot, type Grid } from './plot.js';

type Weights = 'uniform' | 'distance' | 'softmax';

const datasets: Record<string, Dataset> = { iris: irisPetals(), moons: twoMoons() };
/** The <option> value of the million points, generated when first chosen. */
const MILLION = 'million';
/** The k slider's range over the million points (the other data sets go up to k = n, then 'all'). */
const SEARCH_K_LIMIT = 100;

const canvas = document.querySelector<HTMLCanvasElement>('#plot')!;
const status = document.querySelector<HTMLElement>('#status')!;
const layersPanel = document.querySelector<HTMLElement>('#layers')!;
const readout = document.querySelector<HTMLElement>('#readout')!;
const legend = document.querySelector<HTMLElement>('#legend')!;
const datasetSelect = document.querySelector<HTMLSelectElement>('#dataset')!;
const kSlider = document.querySelector<HTMLInputElement>('#k')!;
const kValue = document.querySelector<HTMLOutputElement>('#k-value')!;
const lambdaSlider = document.querySelector<HTMLInputElement>('#lambda')!;
const lambdaValue = document.querySelector<HTMLOutputElement>('#lambda-value')!;
const weightRadios = Array.from(document.querySelectorAll<HTMLInputElement>('input[name="weights"]'));

let plot: Plot;
let grid: Grid;
let net: KnnNetwork<string, 'classification'> | undefined;
let classOf = new Int32Array(0);
let query: [number, number] | undefined;
let fits = 0; // a newer fit supersedes an older one still in flight
let renders = 0;

let million: { cloud: PointCloud; density: ImageData; generatedMs: number; densityMs: number } | undefined;
/** Whether the million points are chosen (their fit may still be running). */
let searching = false;
let searchNet: KnnNetwork<never, 'search'> | undefined;
let cursor: NeighbourCursor | undefined;

function settings(): { dataset: Dataset; k: number | 'all'; weights: Weights; lambda: number } {
  const dataset = datasets[datasetSelect.value]!;
  const n = dataset.labels.length;
  kSlider.max = String(n + 1); // the last position is k = 'all'
  const kNumber = Number(kSlider.value);
  const k = kNumber > n ? 'all' : kNumber;
  const weights = (weightRadios.find((r) => r.checked)?.value ?? 'uniform') as Weights;
  const lambda = Number((10 ** Number(lambdaSlider.value)).toPrecision(3));
  kValue.textContent = k === 'all' ? `all (${n})` : String(k);
  lambdaValue.textContent = String(lambda);
  lambdaSlider.disabled = weights !== 'softmax';
  return { dataset, k, weights, lambda };
}

async function refit(): Promise<void> {
  if (datasetSelect.value === MILLION && searching) return cursor?.setK(searchK()); // no refit: k is a query's argument
  const ticket = ++fits;
  if (datasetSelect.value === MILLION) return showMillion(ticket);
  closeSearch();
  document.body.dataset.mode = 'classify';
  const { dataset, k, weights, lambda } = settings();
  if (!plot || plot.dataset !== dataset) {
    plot = new Plot(canvas, dataset);
    grid = plot.grid();
    query = undefined;
    layersPanel.innerHTML = '<p class="hint">Click the plot to inspect a query.</p>';
  }
  const n = dataset.labels.length;
  const fitted = await KnnNetwork.fit({ data: dataset.points, rows: n, cols: 2 }, dataset.labels, { k, weights, lambda });
  if (ticket !== fits) {
    fitted.dispose();
    return;
  }
  net?.dispose();
  net = fitted;
  const classes = net.classes;
  classOf = Int32Array.from(dataset.labels, (label) => classes.indexOf(label));

  const start = performance.now();
  const proba = net.predictProba(grid.queries);
  const elapsed = performance.now() - start;
  plot.setRegions(grid, proba, classes.length);
  renderLegend(legend, classes);
  status.textContent =
    `${dataset.name}: n = ${n} training points · grid ${grid.columns} × ${grid.rows} = ` +
    `${grid.queries.rows.toLocaleString('en')} queries · predictProba ${elapsed.toFixed(1)} ms`;
  redraw();
}

function searchK(): number {
  kSlider.max = String(SEARCH_K_LIMIT);
  const k = Math.min(Number(kSlider.value), SEARCH_K_LIMIT);
  kValue.textContent = String(k);
  return k;
}

/** Lets the browser paint (a status line) before a long synchronous step. */
function nextPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** The million points: generated and imaged once, fitted once each time they are chosen. */
async function showMillion(ticket: number): Promise<void> {
  searching = true;
  document.body.dataset.mode = 'search';
  searchK();
  net?.dispose();
  net = undefined;
  legend.replaceChildren();
  if (!million) {
    status.textContent = 'generating a million points…';
    await nextPaint();
    if (ticket !== fits) return;
    let start = performance.now();
    const cloud = millionPoints();
    const generatedMs = performance.now() - start;
    start = performance.now();
    const area = new Plot(canvas, cloud).area;
    const density = densityImage(countPerPixel(cloud.points, cloud.bounds, area.width, area.height), area.width, area.height);
    million = { cloud, density, generatedMs, densityMs: performance.now() - start };
  }
  const { cloud, density, generatedMs, densityMs } = million;
  plot = new Plot(canvas, cloud);
  plot.setDensity(density);
  plot.drawDensity();
  markRendered();
  const n = cloud.points.length / 2;
  status.textContent = `fitting ${n.toLocaleString('en')} points…`;
  await nextPaint();
  if (ticket !== fits) return;
  const start = performance.now();
  // k is the default of kneighbors(x), which then takes the one-query path; fit once, whatever k becomes.
  const fitted = await KnnNetwork.fit({ data: cloud.points, rows: n, cols: 2 }, null, { k: searchK() });
  const fitMs = performance.now() - start;
  if (ticket !== fits) {
    fitted.dispose();
    return;
  }
  searchNet = fitted;
  cursor = new NeighbourCursor(fitted, plot, readout, searchK());
  status.textContent =
    `${cloud.name}: n = ${n.toLocaleString('en')} · generated in ${generatedMs.toFixed(0)} ms · ` +
    `density image ${densityMs.toFixed(0)} ms · fit ${fitMs.toFixed(0)} ms · move the pointer over the plot`;
  markRendered();
}

/** Leaves the million points: stops the cursor and frees the search network's memory. */
function closeSearch(): void {
  searching = false;
  cursor?.stop();
  cursor = undefined;
  searchNet?.dispose();
  searchNet = undefined;
}

function markRendered(): void {
  renders++;
  document.body.dataset.renders = String(renders); // lets tests wait for a repaint
}

function redraw(): void {
  if (!net) return;
  if (query) {
    const [x, y] = query;
    const { z1, z2, z3 } = net.forward([[x, y]]);
    // Every point by exact distance, ties toward the lower index: the order layer 2 keeps them in.
    const { indices: order, distances } = net.kneighbors([[x, y]], net.nSamples);
    plot.draw(classOf, { x, y, z2 });
    renderLayers(layersPanel, { x, y, z1, z2, z3, order, distances, options: net.options, classes: net.classes, classOf });
  } else {
    plot.draw(classOf);
  }
  markRendered();
}

function showFailure(error: unknown): void {
  status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
  document.body.dataset.error = status.textContent;
}

const update = () => void refit().catch(showFailure);
datasetSelect.addEventListener('change', update);
kSlider.addEventListener('input', update);
lambdaSlider.addEventListener('input', update);
for (const radio of weightRadios) radio.addEventListener('change', update);

function inspect(point: [number, number]): void {
  query = point;
  try {
    redraw();
  } catch (error) {
    showFailure(error);
  }
}

/** The data coordinates under a pointer event, or null outside the plot area. */
function pointerData(event: MouseEvent): [number, number] | null {
  const rect = canvas.getBoundingClientRect();
  const px = ((event.clientX - rect.left) * canvas.width) / rect.width;
  const py = ((event.clientY - rect.top) * canvas.height) / rect.height;
  return plot?.toData(px, py) ?? null;
}

canvas.addEventListener('click', (event) => {
  const point = pointerData(event);
  if (!point) return;
  if (cursor) cursor.moveTo(...point); // a tap, where there is no hover
  else inspect(point);
});

canvas.addEventListener('pointermove', (event) => {
  const point = cursor && pointerData(event);
  if (point) cursor!.moveTo(...point);
});

// For the console and the page's tests: inspect the query at data coordinates (x, y); over the
// million points, what the cursor's last frame found, and the checksum of the points.
(window as unknown as { knnetDemo: object }).knnetDemo = {
  inspect: (x: number, y: number) => inspect([x, y]),
  cursorFrame: (): CursorFrame | undefined => cursor?.last,
  millionChecksum: (): string | undefined => million && pointsChecksum(million.cloud.points),
};

update();
