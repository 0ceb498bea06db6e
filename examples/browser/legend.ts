// The colour key: one swatch per class, in the order of net.classes (the colour index of a class
// is its column in predictProba).
import { classColor } from './plot.js';

export function renderLegend(list: HTMLElement, classes: readonly (string | number)[]): void {
  list.replaceChildren(
    ...classes.map((label, c) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = classColor(c);
      item.append(swatch, String(label));
      return item;
    }),
  );
}
