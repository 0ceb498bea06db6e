// CSV files → the matrices and label arrays KnnNetwork takes, for the CLI.
// Parsing is csv-parse's (quotes, CRLF, BOM); this module only maps its records to numbers and
// turns every problem into a CsvInputError that names the file, line and column.
import { parse } from 'csv-parse/sync';

/** A problem with an input file; the CLI prints the message and exits with status 1. */
export class CsvInputError extends Error {
  override readonly name = 'CsvInputError';
}

export interface Table {
  source: string;
  header: string[];
  rows: string[][];
  /** 1-based line number in the file of each row (the line where the record ends). */
  lines: number[];
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

interface CsvParseFailure {
  code?: string;
  message: string;
  lines?: number;
  column?: number;
}

export function parseTable(text: string, source: string): Table {
  let parsed: ParsedRecord[];
  try {
    parsed = parse(text, { info: true, bom: true, trim: true, skip_empty_lines: true }) as unknown as ParsedRecord[];
  } catch (error) {
    throw describeParseFailure(error as CsvParseFailure, source);
  }
  if (parsed.length === 0) throw new CsvInputError(`${source}: the file is empty; expected a header line`);
  const [head, ...body] = parsed;
  const header = head!.record;
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name === '') throw new CsvInputError(`${source}: line ${head!.info.lines}, column ${i + 1}: empty column name in the header`);
    if (seen.has(name)) throw new CsvInputError(`${source}: line ${head!.info.lines}, column ${i + 1}: duplicate column name "${name}"`);
    seen.add(name);
  });
  return { source, header, rows: body.map((r) => r.record), lines: body.map((r) => r.info.lines) };
}

function describeParseFailure(error: CsvParseFailure, source: string): Error {
  if (typeof error.lines !== 'number') return error instanceof Error ? error : new Error(String(error));
  // csv-parse's `column` is the 0-based index of the field it was reading.
  const column = typeof error.column === 'number' ? `, column ${error.column + 1}` : '';
  const what = error.message.replace(/ (on|at) line \d+/, '');
  return new CsvInputError(`${source}: line ${error.lines}${column}: ${what}`);
}

// Decimal notation only: Number('') is 0 and Number('0x1f') is 31, neither is data.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function columnIndex(table: Table, name: string | undefined): number {
  if (name === undefined) return table.header.length - 1;
  const index = table.header.indexOf(name);
  if (index < 0) {
    throw new CsvInputError(`${table.source}: no column named "${name}"; the header has ${table.header.map((h) => `"${h}"`).join(', ')}`);
  }
  return index;
}

/** Row-major features in the order of `featureNames`, read by name from `table`. */
export function readFeatures(table: Table, featureNames: readonly string[]): { data: Float64Array; rows: number; cols: number } {
  const positions = featureNames.map((name) => {
    const index = table.header.indexOf(name);
    if (index < 0) throw new CsvInputError(`${table.source}: missing feature column "${name}" (the training file has it)`);
    return index;
  });
  const rows = table.rows.length;
  const cols = positions.length;
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = table.rows[r]!;
    for (let c = 0; c < cols; c++) {
      data[r * cols + c] = parseNumber(row[positions[c]!]!, table, r, positions[c]!);
    }
  }
  return { data, rows, cols };
}

function parseNumber(text: string, table: Table, row: number, column: number): number {
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value)) {
    const shown = text === '' ? 'an empty field' : JSON.stringify(text);
    throw new CsvInputError(
      `${table.source}: line ${table.lines[row]}, column ${column + 1} ("${table.header[column]}"): expected a finite number, got ${shown}`,
    );
  }
  return value;
}

/**
 * Labels of one column: numbers when every value is a decimal number, strings otherwise, so
 * "1,2,10" sorts as numbers and "setosa" stays a string. `numeric` forces numbers (regression).
 */
export function readLabels(table: Table, column: number, numeric: boolean): number[] | string[] {
  const texts = table.rows.map((row) => row[column]!);
  const allNumeric = texts.every((t) => DECIMAL.test(t));
  if (numeric || allNumeric) return texts.map((t, r) => parseNumber(t, table, r, column));
  texts.forEach((t, r) => {
    if (t === '') throw new CsvInputError(`${table.source}: line ${table.lines[r]}, column ${column + 1} ("${table.header[column]}"): empty label`);
  });
  return texts;
}

/** One CSV line, quoting fields as RFC 4180 asks (comma, quote or line break inside). */
export function formatCsvRow(fields: readonly (string | number)[]): string {
  return fields
    .map((field) => {
      const text = String(field);
      return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',');
}
