// The demo page: fit a KnnNetwork on 2-D data, paint its decision regions with one batched
// predictProba, and show the three layers (net.forward) of a clicked query.
import { KnnNetwork } from '../../src/index.js';
import { irisPetals, twoMoons, type Dataset } from './datasets.js';
import { renderLayers } from './layers.js';
import { renderLegend } from './legend.js';
import { Plot, type Grid } from './plot.js';

type Weights = 'uniform' | 'distance' | 'softmax';

const datasets: Record<string, Dataset> = { iris: irisPetals(), moons: twoMoons() };

const canvas = document.querySelector<HTMLCanvasElement>('#plot')!;
const status = document.querySelector<HTMLElement>('#status')!;
const layersPanel = document.querySelector<HTMLElement>('#layers')!;
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
  const ticket = ++fits;
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
  renders++;
  document.body.dataset.renders = String(renders); // lets tests wait for a repaint
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

canvas.addEventListener('click', (event) => {
  const rect = canvas.getBoundingClientRect();
  const px = ((event.clientX - rect.left) * canvas.width) / rect.width;
  const py = ((event.clientY - rect.top) * canvas.height) / rect.height;
  const point = plot?.toData(px, py);
  if (point) inspect(point);
});

// For the console and the page's tests: inspect the query at data coordinates (x, y).
(window as unknown as { knnetDemo: object }).knnetDemo = { inspect: (x: number, y: number) => inspect([x, y]) };

update();
