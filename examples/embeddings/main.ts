// Live learning on embeddings: every drawing added to a class is one `add` to a cosine
// KnnNetwork, "Clear" is `removeClass`, and the prediction is recomputed after every stroke.
import { KnnNetwork, type KnnOptions } from '../../src/index.js';
import { FEATURE_DIMENSIONS, featuresOf } from './features.js';
import { Sketchpad } from './sketchpad.js';

const CLASSES = [
  { name: 'sun', colour: '#f0a500' },
  { name: 'tree', colour: '#2ca02c' },
  { name: 'sea', colour: '#1f77b4' },
];
const PENS = ['#222222', '#d62728', '#f0a500', '#2ca02c', '#1f77b4'];
// k = 'all' with softmax weights is valid from the first example on (a fixed k must not exceed
// the number of examples): every example votes with weight exp(−λ·z1), z1 = 2(1 − cos). With
// λ = 4 the nearest examples dominate while the confidences stay graded.
const OPTIONS: KnnOptions = { metric: 'cosine', k: 'all', weights: 'softmax', lambda: 4 };
const NEAREST_SHOWN = 3;

const predictionHeading = document.querySelector<HTMLElement>('#prediction')!;
const classList = document.querySelector<HTMLUListElement>('#classes')!;
const nearestLine = document.querySelector<HTMLElement>('#nearest')!;
const status = document.querySelector<HTMLElement>('#status')!;

const pad = new Sketchpad(document.querySelector<HTMLCanvasElement>('#sketch')!, scheduleRender);
/** Created by the first example (fit needs at least one point), disposed when the last class is cleared. */
let net: KnnNetwork | undefined;
/** The label of each training point in the network's order, to name what kneighbors returns. */
let labelsInOrder: string[] = [];
/** Actions run one after another: the first one awaits fit. */
let queue = Promise.resolve();
let frameRequested = false;
let renders = 0;

const rows = new Map(
  CLASSES.map(({ name, colour }) => {
    const row = document.createElement('li');
    row.className = 'class';
    row.dataset.class = name;
    row.innerHTML =
      `<span class="name"></span><span class="count"></span>` +
      `<span class="track"><span class="bar"></span></span><span class="confidence"></span>` +
      `<button type="button" class="add">Add</button><button type="button" class="clear">Clear</button>`;
    row.querySelector<HTMLElement>('.name')!.textContent = name;
    row.querySelector<HTMLElement>('.bar')!.style.background = colour;
    row.querySelector('.add')!.addEventListener('click', () => enqueue(() => addExample(name)));
    row.querySelector('.clear')!.addEventListener('click', () => enqueue(() => clearClass(name)));
    classList.append(row);
    return [name, row] as const;
  }),
);

const pens = document.querySelector<HTMLElement>('#pens')!;
for (const colour of PENS) {
  const pen = document.createElement('button');
  pen.type = 'button';
  pen.className = 'pen';
  pen.setAttribute('role', 'radio');
  pen.setAttribute('aria-label', `pen ${colour}`);
  pen.style.background = colour;
  pen.dataset.colour = colour;
  pen.addEventListener('click', () => choosePen(colour));
  pens.append(pen);
}
choosePen(PENS[0]!);

document.querySelector('#clear-drawing')!.addEventListener('click', () => {
  pad.clear();
  scheduleRender();
});

function choosePen(colour: string): void {
  pad.colour = colour;
  pens.querySelectorAll<HTMLElement>('.pen').forEach((pen) => pen.setAttribute('aria-checked', String(pen.dataset.colour === colour)));
}

function enqueue(action: () => void | Promise<void>): void {
  queue = queue.then(action).catch(fail);
}

async function addExample(label: string): Promise<void> {
  const features = featuresOf(pad.image());
  if (!features) {
    status.textContent = 'Draw something first: a blank canvas has no direction for the cosine metric.';
    return;
  }
  if (net) net.add([features], [label]);
  else net = await KnnNetwork.fit([features], [label], OPTIONS);
  labelsInOrder.push(label);
  pad.clear(); // ready for the next drawing
  scheduleRender();
}

function clearClass(label: string): void {
  if (!net?.classCounts().has(label)) return;
  if (net.classes.length === 1) {
    // removeClass refuses to leave a network with no points; start again from nothing instead.
    net.dispose();
    net = undefined;
    labelsInOrder = [];
  } else {
    net.removeClass(label);
    labelsInOrder = labelsInOrder.filter((held) => held !== label);
  }
  scheduleRender();
}

function scheduleRender(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(() => {
    frameRequested = false;
    try {
      render();
    } catch (error) {
      fail(error);
    }
  });
}

function render(): void {
  const counts = net?.classCounts() ?? new Map<string | number, number>();
  const features = featuresOf(pad.image());
  let confidences = new Map<string | number, number>();
  let predicted: string | number | undefined;
  if (net && features) {
    const start = performance.now();
    const proba = net.predictProba([features]);
    [predicted] = net.predict([features]) as (string | number)[];
    const elapsed = performance.now() - start;
    confidences = new Map(net.classes.map((label, column) => [label, proba[column]!]));
    const { indices, distances } = net.kneighbors([features], Math.min(NEAREST_SHOWN, net.nSamples));
    nearestLine.textContent =
      'Nearest examples (1 − cos): ' + Array.from(indices, (index, i) => `${labelsInOrder[index]} ${distances[i]!.toFixed(3)}`).join(' · ');
    status.textContent =
      `${examples(net.nSamples)} × ${FEATURE_DIMENSIONS} features · cosine, k = all, softmax λ = ${OPTIONS.lambda} · ` +
      `predictProba + predict + kneighbors ${milliseconds(elapsed)}`;
  } else {
    nearestLine.textContent = '';
    status.textContent = net ? `${examples(net.nSamples)} × ${FEATURE_DIMENSIONS} features` : 'No examples yet.';
  }
  predictionHeading.textContent = !net
    ? 'Add a drawing to a class to start.'
    : !features
      ? 'Draw something to see what the network thinks it is.'
      : `Prediction: ${predicted} (${percent(confidences.get(predicted!) ?? 0)})`;

  for (const [name, row] of rows) {
    const count = counts.get(name) ?? 0;
    const confidence = confidences.get(name);
    row.classList.toggle('best', name === predicted);
    row.querySelector<HTMLElement>('.count')!.textContent = examples(count);
    row.querySelector<HTMLElement>('.confidence')!.textContent = confidence === undefined ? '—' : percent(confidence);
    row.querySelector<HTMLElement>('.bar')!.style.width = `${(confidence ?? 0) * 100}%`;
    row.querySelector<HTMLButtonElement>('.clear')!.disabled = count === 0;
  }
  document.body.dataset.renders = String(++renders);
}

function examples(count: number): string {
  return `${count} example${count === 1 ? '' : 's'}`;
}

/** Browsers coarsen performance.now() to 0.1 ms or more, so say no more than that. */
function milliseconds(elapsed: number): string {
  return elapsed < 0.1 ? '< 0.1 ms' : `${elapsed.toFixed(1)} ms`;
}

function percent(p: number): string {
  return `${Math.round(p * 100)}%`;
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  status.textContent = `Error: ${message}`;
  document.body.dataset.error = message;
  console.error(error);
}

scheduleRender();
