// The side panel: the three layer activations of one query, from net.forward.
import type { ResolvedOptions } from '../../src/index.js';
import { classColor } from './plot.js';

export interface LayerView {
  x: number;
  y: number;
  z1: Float64Array; // n squared distances
  z2: Float64Array; // n weights, summing to 1
  z3: Float64Array; // c class scores
  /** Every training point, nearest first, ties toward the lower index (net.kneighbors with k = n). */
  order: Int32Array;
  /** Their exact Euclidean distances, in that order. */
  distances: Float64Array;
  options: Pick<ResolvedOptions, 'k' | 'weights' | 'lambda'>;
  classes: readonly (string | number)[];
  classOf: Int32Array; // class index of each training point
}

export function renderLayers(panel: HTMLElement, view: LayerView): void {
  const n = view.z1.length;
  // Training points in order of distance: the order layer 2 reads them in.
  const order = Array.from(view.order);
  const best = argmax(view.z3);
  const tie = boundaryTie(view);

  panel.replaceChildren(
    heading(`Query (${view.x.toFixed(2)}, ${view.y.toFixed(2)}) → ${view.classes[best]}`),
    layer(
      'Layer 1 · distances',
      `z1ᵢ = ‖x − Xᵢ‖² for all ${n} training points, nearest first`,
      bars(order.map((i) => view.z1[i]!), order.map((i) => view.classOf[i]!), 'z1'),
    ),
    layer(
      'Layer 2 · weights',
      `${weightingCaption(view.options, n)} (same order)`,
      bars(order.map((i) => view.z2[i]!), order.map((i) => view.classOf[i]!), 'z2'),
    ),
    nearestTable(order.slice(0, Math.max(8, tie ? tie.tied.length + 1 : 0)), view, tie),
    ...(tie ? [tieNote(tie, view)] : []),
    layer('Layer 3 · class scores', 'z3 = z2ᵀ·Y, the weight each class collects', classBars(view, best)),
  );
}

/** What layer 2 computes under the selected options, in words and symbols. */
export function weightingCaption(options: LayerView['options'], n: number): string {
  const k = options.k === 'all' ? n : options.k;
  const over = options.k === 'all' ? `all ${n} points` : `the k = ${k} nearest`;
  const rest = k < n ? `; the other ${n - k} get 0` : '';
  if (k === 1) return `z2: with k = 1 the nearest point alone gets weight 1, whatever the weighting${rest}`;
  switch (options.weights) {
    case 'uniform':
      return `z2: a uniform vote, 1/${k} to each of ${over}${rest}`;
    case 'distance':
      return `z2 ∝ 1/‖x − Xᵢ‖ over ${over}, normalised (a query on training points: only they vote)${rest}`;
    case 'softmax':
      return `z2 = softmax(−λ·z1) over ${over}, λ = ${options.lambda}${rest}`;
  }
}

interface Tie {
  /** The tied training indices, ascending: those up to rank k are kept. */
  tied: number[];
  kept: number;
  distance: number;
}

/**
 * Points tied at the k-th nearest distance across the cut between rank k and k + 1: exactly
 * equal distances, so the lower training index decides which of them vote.
 */
function boundaryTie(view: LayerView): Tie | undefined {
  const { k } = view.options;
  const n = view.order.length;
  if (k === 'all' || k >= n || view.distances[k - 1] !== view.distances[k]) return undefined;
  const distance = view.distances[k - 1]!;
  const ranks: number[] = [];
  for (let rank = 0; rank < n; rank++) if (view.distances[rank] === distance) ranks.push(rank);
  return { tied: ranks.map((rank) => view.order[rank]!), kept: ranks.filter((rank) => rank < k).length, distance };
}

function tieNote(tie: Tie, view: LayerView): HTMLElement {
  const note = document.createElement('p');
  note.className = 'tie';
  const names = (indices: number[]) => indices.map((i) => `${i} (${view.classes[view.classOf[i]!]})`).join(', ');
  const kept = tie.tied.slice(0, tie.kept);
  note.textContent =
    `Tie: points ${names(tie.tied)} are all at distance ${tie.distance.toPrecision(4)}; ` +
    `k = ${String(view.options.k)} keeps the lowest ${kept.length === 1 ? 'index' : 'indices'}, ${names(kept)}, ` +
    `as brute force ranks ties; the others get no weight.`;
  return note;
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

function nearestTable(indices: number[], view: LayerView, tie: Tie | undefined): HTMLElement {
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th>rank</th><th>i</th><th>class</th><th>distance</th><th>z2</th></tr></thead>';
  const body = document.createElement('tbody');
  indices.forEach((i, rank) => {
    const row = document.createElement('tr');
    if (tie?.tied.includes(i)) row.className = 'tied';
    const cells = [String(rank + 1), String(i), String(view.classes[view.classOf[i]!]), view.distances[rank]!.toPrecision(3), view.z2[i]!.toFixed(3)];
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
