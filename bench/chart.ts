/**
 * The results as a picture: queries per second of every implementation on every workload, as
 * horizontal bars on a log scale, one group per workload, written as plain SVG text (no plotting
 * library: a few rectangles, lines and labels). The title names the CPU and the date, since the
 * figures mean little without them.
 */

export type ChartFamily = 'knnet' | 'knnet-brute' | 'python' | 'js' | 'native' | 'baseline';

export interface ChartBar {
  /** The group (workload) the bar belongs to; groups keep the order of their first bar. */
  group: string;
  label: string;
  value: number;
  family: ChartFamily;
  /** Marked with an asterisk and explained once under the chart. */
  flagged?: boolean;
}

export interface ChartInput {
  title: string;
  subtitle: string;
  /** A line under each group's name (its shape), by group. */
  groupNotes: Record<string, string>;
  bars: readonly ChartBar[];
  /** The explanation of the asterisk, when a bar is flagged. */
  flagNote?: string;
}

export const FAMILY_STYLE: Record<ChartFamily, { colour: string; legend: string }> = {
  knnet: { colour: '#1d4ed8', legend: 'knnet' },
  'knnet-brute': { colour: '#93b4f5', legend: "knnet, algorithm 'brute'" },
  python: { colour: '#d97706', legend: 'Python (scipy, scikit-learn, faiss)' },
  js: { colour: '#15803d', legend: 'JS libraries' },
  native: { colour: '#7c3aed', legend: 'native runtimes (onnxruntime, TF.js wasm, hnswlib)' },
  baseline: { colour: '#6b7280', legend: 'naive loop, knnet reference' },
};

const WIDTH = 1040;
const LABEL_RIGHT = 330;
const PLOT_LEFT = 340;
const PLOT_RIGHT = WIDTH - 110;
const BAR_HEIGHT = 15;
const BAR_GAP = 4;
const GROUP_HEADER = 34;
const GROUP_GAP = 10;
const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\"";

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** 1, 10, 100, 1k, 10k, 100k, 1M, … */
export function decadeLabel(value: number): string {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(value);
}

/** "12,345" for large values, three significant digits for small ones. */
function valueLabel(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3);
}

export function renderChart(input: ChartInput): string {
  const bars = input.bars.filter((bar) => bar.value > 0 && Number.isFinite(bar.value));
  const groups = [...new Set(bars.map((bar) => bar.group))];
  const low = 10 ** Math.floor(Math.log10(Math.min(...bars.map((bar) => bar.value), 1e9)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...bars.map((bar) => bar.value), 10)));
  const x = (value: number) => PLOT_LEFT + ((Math.log10(value) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * (PLOT_RIGHT - PLOT_LEFT);

  const families = [...new Set(bars.map((bar) => bar.family))];
  const legendTop = 74;
  const legendRows = Math.ceil(families.length / 3);
  const plotTop = legendTop + legendRows * 20 + 30;
  const parts: string[] = [];
  let y = plotTop;
  for (const group of groups) {
    parts.push(`<text x="12" y="${y + 20}" font-size="14" font-weight="700" fill="#111827">${escapeXml(group)}` +
      `<tspan dx="10" font-weight="400" fill="#4b5563" font-size="12">${escapeXml(input.groupNotes[group] ?? '')}</tspan></text>`);
    y += GROUP_HEADER;
    for (const bar of bars.filter((b) => b.group === group)) {
      const end = Math.max(x(bar.value), PLOT_LEFT + 1);
      const middle = y + BAR_HEIGHT / 2 + 4;
      const { colour } = FAMILY_STYLE[bar.family];
      parts.push(`<text x="${LABEL_RIGHT}" y="${middle}" text-anchor="end" font-size="12" fill="#1f2937">${escapeXml(bar.label)}${bar.flagged ? ' *' : ''}</text>`);
      parts.push(`<rect x="${PLOT_LEFT}" y="${y}" width="${(end - PLOT_LEFT).toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}" rx="2"/>`);
      parts.push(`<text x="${(end + 5).toFixed(1)}" y="${middle}" font-size="11" fill="#374151">${valueLabel(bar.value)}</text>`);
      y += BAR_HEIGHT + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  const plotBottom = y;

  const grid: string[] = [];
  for (let decade = low; decade <= high * 1.0001; decade *= 10) {
    const gx = x(decade).toFixed(1);
    grid.push(`<line x1="${gx}" y1="${plotTop - 6}" x2="${gx}" y2="${plotBottom}" stroke="#e5e7eb" stroke-width="1"/>`);
    grid.push(`<text x="${gx}" y="${plotTop - 10}" text-anchor="middle" font-size="11" fill="#6b7280">${decadeLabel(decade)}</text>`);
    grid.push(`<text x="${gx}" y="${plotBottom + 16}" text-anchor="middle" font-size="11" fill="#6b7280">${decadeLabel(decade)}</text>`);
  }

  const legend = families.map((family, index) => {
    const lx = 12 + (index % 3) * 340;
    const ly = legendTop + Math.floor(index / 3) * 20;
    return `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${FAMILY_STYLE[family].colour}" rx="2"/>` +
      `<text x="${lx + 18}" y="${ly}" font-size="12" fill="#1f2937">${escapeXml(FAMILY_STYLE[family].legend)}</text>`;
  });

  const footer: string[] = [`<text x="12" y="${plotBottom + 40}" font-size="11" fill="#4b5563">queries per second, log scale; ` +
    'ratios compare figures of one run on one machine only</text>'];
  let height = plotBottom + 56;
  if (input.flagNote && bars.some((bar) => bar.flagged)) {
    footer.push(`<text x="12" y="${plotBottom + 56}" font-size="11" fill="#4b5563">* ${escapeXml(input.flagNote)}</text>`);
    height += 16;
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="30" font-size="20" font-weight="700" fill="#111827">${escapeXml(input.title)}</text>`,
    `<text x="12" y="52" font-size="13" fill="#374151">${escapeXml(input.subtitle)}</text>`,
    ...legend,
    ...grid,
    ...parts,
    ...footer,
    '</svg>',
    '',
  ].join('\n');
}
