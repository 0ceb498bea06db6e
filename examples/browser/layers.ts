// The side panel: the three layer activations of one query, from net.forward.
import { classColor } from './plot.js';

export interface LayerView {
  x: number;
  y: number;
  z1: Float64Array; // n squared distances
  z2: Float64Array; // n weights, summing to 1
  z3: Float64Array; // c class scores
  classes: readonly (string | number)[];
  classOf: Int32Array; // class index of each training point
}

export function renderLayers(panel: HTMLElement, view: LayerView): void {
  const n = view.z1.length;
  // Training points in order of distance: the order layer 2 reads them in.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => view.z1[a]! - view.z1[b]! || a - b);
  const active = order.filter((i) => view.z2[i]! > 0).length;
  const best = argmax(view.z3);

  panel.replaceChildren(
    heading(`Query (${view.x.toFixed(2)}, ${view.y.toFixed(2)}) → ${view.classes[best]}`),
    layer(
      'Layer 1 · distances',
      `z1ᵢ = ‖x − Xᵢ‖² for all ${n} training points, nearest first`,
      bars(order.map((i) => view.z1[i]!), order.map((i) => view.classOf[i]!), 'z1'),
    ),
    layer(
      'Layer 2 · weights',
      `z2 = softmax over the nearest: ${active} of ${n} points get weight (same order)`,
      bars(order.map((i) => view.z2[i]!), order.map((i) => view.classOf[i]!), 'z2'),
    ),
    nearestTable(order.slice(0, 8), view),
    layer('Layer 3 · class scores', 'z3 = z2ᵀ·Y, the weight each class collects', classBars(view, best)),
  );
}

function heading(text: string): HTMLElement {
  const h = document.createElement('h2');
  h.textContent = text;
  return h;
}

function layer(title: string, caption: string, body: HTMLElement): HTMLElement {
  const section = document.createElement('section');
  section.className = 'layer';
  const h = document.createElement('h3');
  h.textContent = title;
  const p = document.createElement('p');
  p.textContent = caption;
  section.append(h, p, body);
  return section;
}

/** One bar per training point, coloured by its class. */
function bars(values: number[], classes: number[], name: string): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 64;
  canvas.dataset.layer = name;
  const ctx = canvas.getContext('2d')!;
  const max = Math.max(...values, Number.MIN_VALUE);
  const width = canvas.width / values.length;
  values.forEach((v, j) => {
    const h = (v / max) * (canvas.height - 2);
    ctx.fillStyle = classColor(classes[j]!, 0.85);
    ctx.fillRect(j * width, canvas.height - h, Math.max(width - 0.3, 0.6), h);
  });
  ctx.strokeStyle = '#999';
  ctx.strokeRect(0.5, 0.5, canvas.width - 1, canvas.height - 1);
  return canvas;
}

function nearestTable(indices: number[], view: LayerView): HTMLElement {
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th>rank</th><th>i</th><th>class</th><th>z1</th><th>z2</th></tr></thead>';
  const body = document.createElement('tbody');
  indices.forEach((i, rank) => {
    const row = document.createElement('tr');
    const cells = [String(rank + 1), String(i), String(view.classes[view.classOf[i]!]), view.z1[i]!.toPrecision(3), view.z2[i]!.toFixed(3)];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      row.append(td);
    }
    row.children[2]!.setAttribute('style', `color: ${classColor(view.classOf[i]!)}`);
    body.append(row);
  });
  table.append(body);
  return table;
}

function classBars(view: LayerView, best: number): HTMLElement {
  const list = document.createElement('div');
  list.className = 'scores';
  view.classes.forEach((label, c) => {
    const row = document.createElement('div');
    row.className = c === best ? 'score best' : 'score';
    const name = document.createElement('span');
    name.textContent = String(label);
    const track = document.createElement('span');
    track.className = 'track';
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${(100 * view.z3[c]!).toFixed(1)}%`;
    bar.style.background = classColor(c);
    track.append(bar);
    const value = document.createElement('span');
    value.className = 'value';
    value.textContent = view.z3[c]!.toFixed(3);
    row.append(name, track, value);
    list.append(row);
  });
  return list;
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
