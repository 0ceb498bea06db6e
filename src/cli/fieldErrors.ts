// Messages for a bad value in a CSV field, naming the file, line and column.
import type { CsvRecord } from './csvRecords.js';
import { FileError } from './fileError.js';

export function where(path: string, record: CsvRecord, column: number, header: readonly string[]): string {
  return `${path}: line ${record.line}, column ${column + 1} ("${header[column]}")`;
}

/** A feature field that is not a number, or not one the network can hold. */
export function badFeature(path: string, record: CsvRecord, column: number, header: readonly string[], features: number, limit: number): FileError {
  const text = record.text(column);
  const at = where(path, record, column, header);
  const value = record.number(column);
  if (Number.isNaN(value)) {
    if (text === '') return new FileError(`${at}: expected a number, got an empty field`);
    return new FileError(
      `${at}: expected a number, got ${JSON.stringify(text)}; if "${header[column]}" is not a feature, leave it out with --drop ${header[column]}`,
    );
  }
  return new FileError(
    `${at}: ${text} is too large: with ${features} features values must stay within ±${limit.toExponential(3)} so that squared distances do not overflow float64; rescale the column`,
  );
}
