// The file to predict, streamed through the network: each chunk of the file is parsed into a
// batch of rows, predicted, and written out before the next is read. When the file has the
// target column, its labelled rows are scored on the way.
import type { KnnNetwork } from '../network.js';
import type { Label } from '../labels.js';
import { magnitudeLimit } from '../matrix.js';
import { rSquared } from '../scoring.js';
import type { CsvFile } from './csvFile.js';
import type { CsvRecord } from './csvRecords.js';
import { locateFeatures } from './columns.js';
import { badFeature, where } from './fieldErrors.js';
import { GrowableArray } from './growableArray.js';
import { FileError } from './fileError.js';
import type { Output } from './output.js';
import { formatCsvRow } from './formatCsv.js';

export interface PredictionRun {
  readonly net: KnnNetwork;
  readonly featureNames: readonly string[];
  readonly targetName: string;
  /** Whether the training labels were numbers (then predicted labels are numbers too). */
  readonly numericClasses: boolean;
  readonly proba: boolean;
}

/** The score of a run, or why there is none. */
export type Score =
  | { readonly kind: 'accuracy' | 'R²'; readonly value: number; readonly labelled: number; readonly rows: number }
  | { readonly kind: 'none'; readonly reason?: string };

/**
 * Accuracy in one label type decided from both files: numbers when the training labels and
 * every test label are decimal numbers, otherwise text as written (predicted labels as they
 * appear in the output). Both comparisons are counted as the rows stream by.
 */
class AccuracyCounter {
  #labelled = 0;
  #textMatches = 0;
  #numberMatches = 0;
  #allNumeric = true;

  constructor(private readonly numericClasses: boolean) {}

  add(predicted: Label, truth: string, truthValue: number): void {
    this.#labelled++;
    if (String(predicted) === truth) this.#textMatches++;
    if (Number.isFinite(truthValue)) {
      if (predicted === truthValue) this.#numberMatches++;
    } else {
      this.#allNumeric = false;
    }
  }

  get labelled(): number {
    return this.#labelled;
  }

  get accuracy(): number {
    const matches = this.numericClasses && this.#allNumeric ? this.#numberMatches : this.#textMatches;
    return matches / this.#labelled;
  }
}

/** Predicts every row of `file`, writing the CSV to `output`; returns the score. */
export async function predictFile(run: PredictionRun, file: CsvFile, output: Output, onChunk: (rows: number) => void): Promise<Score> {
  const { net, proba } = run;
  const path = file.path;
  const header = file.header;
  const features = locateFeatures(header, path, run.featureNames);
  const d = features.length;
  const limit = magnitudeLimit(d);
  const regression = net.options.task === 'regression';
  const classes = regression ? [] : net.classes;
  const truthColumn = header.indexOf(run.targetName);

  // One chunk of the file's rows, waiting to be predicted.
  const batch = new GrowableArray(Float64Array);
  const truths: string[] = [];
  const truthValues: number[] = [];
  let rows = 0;
  let wroteHeader = false;

  const accuracy = new AccuracyCounter(run.numericClasses);
  const predictedTargets = new GrowableArray(Float64Array);
  const trueTargets = new GrowableArray(Float64Array);
  let unscorable: string | undefined;

  const readRow = (record: CsvRecord) => {
    batch.reserve(d);
    const values = batch.values;
    const base = batch.length;
    for (let f = 0; f < d; f++) {
      const value = record.number(features[f]!);
      if (!(Math.abs(value) <= limit)) throw badFeature(path, record, features[f]!, header, d, limit);
      values[base + f] = value;
    }
    batch.length += d;
    if (truthColumn >= 0) {
      truths.push(record.text(truthColumn));
      truthValues.push(record.number(truthColumn));
      if (regression && unscorable === undefined) {
        const text = truths[truths.length - 1]!;
        if (text !== '' && !Number.isFinite(truthValues[truthValues.length - 1]!)) {
          unscorable = `${where(path, record, truthColumn, header)} holds ${JSON.stringify(text)}, not a number`;
        }
      }
    }
  };

  const predictBatch = async () => {
    const count = batch.length / d;
    if (count === 0) return;
    const queries = { data: batch.values.subarray(0, batch.length), rows: count, cols: d };
    const predicted = net.predict(queries);
    const probabilities = proba ? net.predictProba(queries) : undefined;
    const lines: string[] = [];
    if (!wroteHeader) {
      lines.push(formatCsvRow([run.targetName, ...(proba ? classes.map((c) => `p_${c}`) : [])]));
      wroteHeader = true;
    }
    for (let r = 0; r < count; r++) {
      const fields: (string | number)[] = [predicted[r]!];
      if (probabilities) for (let c = 0; c < classes.length; c++) fields.push(probabilities[r * classes.length + c]!);
      lines.push(formatCsvRow(fields));
    }
    await output.write(lines.join('\n') + '\n');
    for (let r = 0; r < truths.length; r++) {
      const truth = truths[r]!;
      if (truth === '') continue;
      if (regression) {
        if (unscorable !== undefined) break;
        predictedTargets.reserve(1);
        trueTargets.reserve(1);
        predictedTargets.values[predictedTargets.length++] = predicted[r] as number;
        trueTargets.values[trueTargets.length++] = truthValues[r]!;
      } else {
        accuracy.add(predicted[r] as Label, truth, truthValues[r]!);
      }
    }
    rows += count;
    batch.length = 0;
    truths.length = 0;
    truthValues.length = 0;
  };

  await file.readRecords(readRow, async () => {
    await predictBatch();
    onChunk(rows);
  });
  if (rows === 0) throw new FileError(`${path}: no data rows after the header; there is nothing to predict`);
  return score();

  function score(): Score {
    if (truthColumn < 0) return { kind: 'none' };
    if (regression) {
      if (unscorable !== undefined) return { kind: 'none', reason: `no R²: ${unscorable}` };
      if (trueTargets.length === 0) return { kind: 'none', reason: `no R²: the "${run.targetName}" column of ${path} is empty` };
      return { kind: 'R²', value: rSquared(predictedTargets.finish(), trueTargets.finish()), labelled: trueTargets.length, rows };
    }
    if (accuracy.labelled === 0) return { kind: 'none', reason: `no accuracy: the "${run.targetName}" column of ${path} is empty` };
    return { kind: 'accuracy', value: accuracy.accuracy, labelled: accuracy.labelled, rows };
  }
}
