// Which columns of the files are the target and the features: by name, through a Map (a
// header of 100 000 columns is matched in linear time), with --features and --drop.
import { FileError } from './fileError.js';
import { closestName } from './suggest.js';

export interface ColumnSelection {
  /** Requested with --features (in that order), or undefined for every column but the target. */
  features?: readonly string[];
  /** Columns to leave out (--drop). */
  drop?: readonly string[];
  /** The target column (--target), or undefined for the last column. */
  target?: string;
}

export interface TrainingColumns {
  readonly target: number;
  readonly targetName: string;
  /** Positions of the feature columns in the training header, in feature order. */
  readonly features: readonly number[];
  readonly featureNames: readonly string[];
}

function positions(header: readonly string[]): Map<string, number> {
  return new Map(header.map((name, index) => [name, index]));
}

function listColumns(header: readonly string[]): string {
  const shown = header.slice(0, 20).map((name) => `"${name}"`).join(', ');
  return header.length > 20 ? `${shown}, … (${header.length} columns)` : shown;
}

/** The target and feature columns of the training file `path` with header `header`. */
export function chooseTrainingColumns(header: readonly string[], path: string, selection: ColumnSelection): TrainingColumns {
  const index = positions(header);
  const find = (name: string, option: string): number => {
    const position = index.get(name);
    if (position === undefined) {
      const meant = closestName(name, header);
      const suggestion = meant === undefined ? '' : ` (did you mean "${meant}"?)`;
      throw new FileError(`${option}: ${path} has no column named "${name}"${suggestion}; its header has ${listColumns(header)}`);
    }
    return position;
  };
  const target = selection.target === undefined ? header.length - 1 : find(selection.target, '--target');
  const targetName = header[target]!;
  const dropped = new Set<number>();
  for (const name of selection.drop ?? []) {
    const position = find(name, '--drop');
    if (position === target) throw new FileError(`--drop: "${name}" is the target column; choose another target with --target`);
    dropped.add(position);
  }
  let features: number[];
  if (selection.features !== undefined) {
    features = [];
    const chosen = new Set<number>();
    for (const name of selection.features) {
      const position = find(name, '--features');
      if (position === target) throw new FileError(`--features: "${name}" is the target column; a target cannot also be a feature`);
      if (chosen.has(position)) throw new FileError(`--features: "${name}" is listed twice`);
      chosen.add(position);
      if (!dropped.has(position)) features.push(position);
    }
  } else {
    features = header.map((_, i) => i).filter((i) => i !== target && !dropped.has(i));
  }
  if (features.length === 0) throw new FileError(`${path}: no feature columns are left besides the target "${targetName}"`);
  return { target, targetName, features, featureNames: features.map((i) => header[i]!) };
}

/** Positions of `featureNames` in the header of the file to predict; all must be present. */
export function locateFeatures(header: readonly string[], path: string, featureNames: readonly string[]): number[] {
  const index = positions(header);
  return featureNames.map((name) => {
    const position = index.get(name);
    if (position === undefined) throw new FileError(`${path}: missing feature column "${name}" (the training file has it)`);
    return position;
  });
}

/**
 * Watches one feature column for the look of a row id: whole numbers, each larger than the one
 * before, over at least MIN_ROWS rows. Such a column gives every row its own distance and
 * usually ruins the neighbours, so the CLI warns about it.
 */
export class RowIdDetector {
  static readonly MIN_ROWS = 10;
  #previous = Number.NEGATIVE_INFINITY;
  #rows = 0;
  #possible = true;

  see(value: number): void {
    if (this.#possible) {
      this.#possible = Number.isInteger(value) && value > this.#previous;
      this.#previous = value;
      this.#rows++;
    }
  }

  get looksLikeRowId(): boolean {
    return this.#possible && this.#rows >= RowIdDetector.MIN_ROWS;
  }
}
