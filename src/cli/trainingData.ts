// The training file, read in one pass into a growing float64 matrix and a label column: the
// rows are never held as strings, only as numbers (and one string per distinct class).
import { magnitudeLimit, type Matrix } from '../matrix.js';
import type { CsvFile } from './csvFile.js';
import type { CsvRecord } from './csvRecords.js';
import { RowIdDetector, type TrainingColumns } from './columns.js';
import { decimalValue } from './decimal.js';
import { badFeature, where } from './fieldErrors.js';
import { GrowableArray, MAX_COLUMN_BYTES } from './growableArray.js';
import { FileError } from './fileError.js';

export interface TrainingData {
  readonly X: Matrix;
  /** Class labels (numbers when every label is a decimal whole number), or regression targets. */
  readonly y: Float64Array | string[];
  /** Feature columns that look like row ids (increasing whole numbers). */
  readonly rowIdColumns: readonly string[];
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
  regression: boolean,
  onChunk: (rows: number) => void,
): Promise<TrainingData> {
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

  await file.readRecords(
    (record) => {
      if (!X.reserve(d) || !(regression ? targets : codes).reserve(1)) {
        throw new FileError(`${path}: ${rows} rows of ${d} features already fill ${MAX_COLUMN_BYTES / 1024 ** 3} GiB, all that wasm32 can address; use fewer rows or features`);
      }
      const values = X.values;
      const base = X.length;
      for (let f = 0; f < d; f++) {
        const value = record.number(features[f]!);
        if (!(Math.abs(value) <= limit)) throw badFeature(path, record, features[f]!, header, d, limit);
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
    return { X: matrix, y, rowIdColumns };
  }
  const classCodes = codes.finish();
  const numeric = classes.names.map(decimalValue);
  if (numeric.every(Number.isFinite)) {
    const fractional = numeric.findIndex((value) => !Number.isInteger(value));
    if (fractional >= 0) {
      throw new FileError(
        `${path}: line ${classes.firstLines[fractional]}, column ${target + 1} ("${columns.targetName}"): the label ${classes.names[fractional]} is not a whole number: ` +
          `a numeric target with fractions is continuous, not a set of classes; pass --regression to predict it`,
      );
    }
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) y[i] = numeric[classCodes[i]!]!;
    return { X: matrix, y, rowIdColumns };
  }
  return { X: matrix, y: Array.from(classCodes, (code) => classes.names[code]!), rowIdColumns };
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
