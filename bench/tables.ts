/** Table and number formatting shared by the bench's reports (Node and browser). */

export function number(value: number | undefined, digits = 2): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(digits);
}

export const percent = (fraction: number | undefined) => (fraction === undefined ? '–' : `${(100 * fraction).toFixed(0)} %`);

/** A markdown table; columns from `firstNumeric` on are right-aligned. */
export function markdownTable(header: string[], rows: string[][], firstNumeric = header.length): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rule = header.map((_, column) => (column >= firstNumeric ? '---:' : '---'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** A plain-text table; the first `textColumns` columns are left-aligned, the rest right-aligned. */
export function textTable(header: string[], rows: string[][], textColumns = 3): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column < textColumns ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
