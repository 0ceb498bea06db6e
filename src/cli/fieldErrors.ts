// Messages for a bad value in a CSV field, naming the file, line and column, with the option
// that gets around it: at fitting time --drop and --impute; with a saved model, fitting again.
import type { CsvRecord } from './csvRecords.js';
import { FileError } from './fileError.js';
import { shellWord } from './shellWord.js';

/** Whether the options a hint may suggest are at hand (fitting), or fixed in a saved model. */
export type HintContext = 'fitting' | 'model';

/** Texts that mark a missing value in other tools' CSV files. */
const MISSING_MARKERS = /^(na|n\/a|nan|null|none|missing|\?|-)$/i;

export function where(path: string, record: CsvRecord, column: number, header: readonly string[]): string {
  return `${path}: line ${record.line}, column ${column + 1} ("${header[column]}")`;
}

function dropHint(name: string, context: HintContext): string {
  const drop = `--drop ${shellWord(name)}`;
  return context === 'fitting' ? `leave it out with ${drop}` : `fit the model again with ${drop}`;
}

/** A feature field that is not a number, or not one the network can hold. */
export function badFeature(path: string, record: CsvRecord, column: number, header: readonly string[], features: number, limit: number, context: HintContext = 'fitting'): FileError {
  const text = record.text(column);
  const at = where(path, record, column, header);
  const value = record.number(column);
  const name = header[column]!;
  if (Number.isNaN(value)) {
    if (record.isEmpty(column)) {
      const hint = context === 'fitting'
        ? `fill it in, leave the column out with --drop ${shellWord(name)}, or fill empty fields with --impute mean (or median)`
        : `fill it in, or fit the model again with --impute mean (or median), or without the column (--drop ${shellWord(name)})`;
      return new FileError(`${at}: expected a number, got an empty field; ${hint}`);
    }
    const missing = MISSING_MARKERS.test(text) ? `; if ${JSON.stringify(text)} marks a missing value, leave the field empty and use --impute mean (or median)` : '';
    return new FileError(`${at}: expected a number, got ${JSON.stringify(text)}; if "${name}" is not a feature, ${dropHint(name, context)}${missing}`);
  }
  return new FileError(
    `${at}: ${text} is too large: with ${features} features values must stay within ±${limit.toExponential(3)} so that squared distances do not overflow float64; rescale the column`,
  );
}
