// The training file, read in one pass into a growing float64 matrix and a label column: the
// rows are never held as strings, only as numbers (and one string per distinct class).
import { magnitudeLimit, type Matrix } from '../matrix.js';
import type { CsvFile } from './csvFile.js';
import type { CsvRecord } from './csvRecords.js';
import { RowIdDetector, type TrainingColumns } from './columns.js';
import { badFeature, where } from './fieldErrors.js';
import { GrowableArray, MAX_COLUMN_BYTES } from './growableArray.js';
import { FileError } from './fileError.js';
import { decideLabels } from './labelColumn.js';

export interface TrainingOptions {
  /** The target is a number to predict, not a class. */
  readonly regression?: boolean;
  /** --classify: classes even when the target looks continuous. */
  readonly classify?: boolean;
  /** Empty feature fields are kept as NaN (to be imputed) instead of refused. */
  readonly allowEmpty?: boolean;
}

export interface TrainingData {
  /** The features; with allowEmpty, NaN where a field was empty. */
  readonly X: Matrix & { readonly data: Float64Array };
  /** Class labels (numbers when every label's text round-trips, see labelColumn.ts), or regression targets. */
  readonly y: Float64Array | string[];
  /** Feature columns that look like row ids (increasing whole numbers). */
  readonly rowIdColumns: readonly string[];
  /** Empty feature fields (NaN in X), with allowEmpty. */
  readonly emptyFields: number;
  /** Something about the labels worth a warning, or undefined. */
  readonly labelWarning?: string;
}

/** The distinct labels of a classification target, as written, with where each first appears. */
class ClassTable {
  readonly names: string[] = [];
  readonly firstLines: number[] = [];
  readonly #codes = new Map<string, number>();
  /** Codes by RecordScanner.shortKey, so that short labels need no string per row. */
  readonly #codesByKey = new Map<number, number>();

  /** The code of field `column`'s label (a new code for a new label), or −1 if it is empty. */
  code(record: CsvRecord, column: number): number {
    const key = record.shortKey(column);
    const known = key < 0 ? undefined : this.#codesByKey.get(key);
    if (known !== undefined) return known;
    const text = record.text(column);
    if (text === '') return -1;
    let code = this.#codes.get(text);
    if (code === undefined) {
      code = this.names.length;
      this.#codes.set(text, code);
      this.names.push(text);
      this.firstLines.push(record.line);
    }
    if (key >= 0) this.#codesByKey.set(key, code);
    return code;
  }
}

export async function readTrainingData(
  file: CsvFile,
  columns: TrainingColumns,
  options: TrainingOptions,
  onChunk: (rows: number) => void,
): Promise<TrainingData> {
  const { regression = false, classify = false, allowEmpty = false } = options;
  const { features, target, featureNames } = columns;
  const header = file.header;
  const path = file.path;
  const d = features.length;
  const limit = magnitudeLimit(d);
  const X = new GrowableArray(Float64Array);
  const targets = new GrowableArray(Float64Array);
  const codes = new GrowableArray(Int32Array);
  const classes = new ClassTable();
  const detectors = features.map(() => new RowIdDetector());
  let rows = 0;
  let emptyFields = 0;

  await file.readRecords(
    (record) => {
      if (!X.reserve(d) || !(regression ? targets : codes).reserve(1)) {
        throw new FileError(`${path}: ${rows} rows of ${d} features already fill ${MAX_COLUMN_BYTES / 1024 ** 3} GiB, all that wasm32 can address; use fewer rows or features`);
      }
      const values = X.values;
      const base = X.length;
      for (let f = 0; f < d; f++) {
        const value = record.number(features[f]!);
        if (!(Math.abs(value) <= limit)) {
          if (!(allowEmpty && record.isEmpty(features[f]!))) throw badFeature(path, record, features[f]!, header, d, limit);
          emptyFields++;
        }
        values[base + f] = value;
        detectors[f]!.see(value);
      }
      X.length += d;
      if (regression) {
        const value = record.number(target);
        if (!Number.isFinite(value)) {
          const text = record.text(target);
          throw new FileError(`${where(path, record, target, header)}: a regression target must be a finite number, got ${text === '' ? 'an empty field' : JSON.stringify(text)}`);
        }
        targets.values[targets.length++] = value;
      } else {
        const code = classes.code(record, target);
        if (code < 0) throw new FileError(`${where(path, record, target, header)}: empty label`);
        codes.values[codes.length++] = code;
      }
      rows++;
    },
    () => onChunk(rows),
  );
  if (rows === 0) throw new FileError(`${path}: no data rows after the header`);

  const rowIdColumns = featureNames.filter((_, f) => detectors[f]!.looksLikeRowId);
  const matrix = { data: X.finish(), rows, cols: d };
  if (regression) {
    const y = targets.finish();
    checkTargetSums(y, path, columns.targetName);
    return { X: matrix, y, rowIdColumns, emptyFields };
  }
  const classCodes = codes.finish();
  const counts = new Int32Array(classes.names.length);
  for (const code of classCodes) counts[code]!++;
  const labels = decideLabels(
    { names: classes.names, firstLines: classes.firstLines, counts, rows },
    { path, column: target, name: columns.targetName, classify },
  );
  const common = { X: matrix, rowIdColumns, emptyFields, labelWarning: labels.warning };
  if (labels.numeric) {
    const numbers = classes.names.map(Number);
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) y[i] = numbers[classCodes[i]!]!;
    return { ...common, y };
  }
  return { ...common, y: Array.from(classCodes, (code) => classes.names[code]!) };
}

/** Weighted sums of n targets must stay finite (the network's own check, said for the file). */
function checkTargetSums(y: Float64Array, path: string, targetName: string): void {
  const limit = Number.MAX_VALUE / (2 * y.length);
  for (const value of y) {
    if (Math.abs(value) > limit) {
      throw new FileError(`${path}: column "${targetName}" holds ${value}; sums of ${y.length} targets that large overflow float64: rescale the target`);
    }
  }
}
