// The file to predict, streamed through the network: each chunk of the file is parsed into a
// batch of rows, each row prepared as the training rows were (empty fields filled, features
// standardized), predicted, and written out before the next is read. When the file has the
// target column, its labelled rows are scored on the way.
import { magnitudeLimit } from '../matrix.js';
import type { CsvFile } from './csvFile.js';
import type { CsvRecord } from './csvRecords.js';
import { locateFeatures } from './columns.js';
import { badFeature, where, type HintContext } from './fieldErrors.js';
import { GrowableArray } from './growableArray.js';
import { FileError } from './fileError.js';
import type { CliModel } from './model.js';
import type { Output } from './output.js';
import { formatCsvRow } from './formatCsv.js';
import { AccuracyScore, RSquaredScore, type Score, type TestScore } from './testScore.js';

export interface PredictionRun {
  readonly model: CliModel;
  readonly proba: boolean;
  /** Whether the model was fitted in this run (hints may suggest fitting options) or loaded. */
  readonly context: HintContext;
}

/** Predicts every row of `file`, writing the CSV to `output`; returns the score. */
export async function predictFile(run: PredictionRun, file: CsvFile, output: Output, onChunk: (rows: number) => void): Promise<Score> {
  const { proba } = run;
  const { net, preparation } = run.model;
  const path = file.path;
  const header = file.header;
  const features = locateFeatures(header, path, preparation.featureNames);
  const d = features.length;
  const limit = magnitudeLimit(d);
  const fill = preparation.imputation?.values;
  const { mean, scale } = preparation.standardization ?? {};
  const regression = net.options.task === 'regression';
  const classes = regression ? [] : net.classes;
  const targetName = preparation.targetName;
  const truthColumn = header.indexOf(targetName);

  // One chunk of the file's rows, waiting to be predicted, with their targets (if any).
  const batch = new GrowableArray(Float64Array);
  const truths: string[] = [];
  const truthValues: number[] = [];
  const truthLines: number[] = [];
  const truthColumnName = `"${targetName}" of ${path}`;
  const numericClasses = typeof classes[0] === 'number';
  const score: TestScore | undefined =
    truthColumn < 0 ? undefined : regression ? new RSquaredScore(truthColumnName) : new AccuracyScore(numericClasses, truthColumnName);
  let rows = 0;
  let wroteHeader = false;

  // A column whose training values hardly vary divides a test value far from them by a tiny scale.
  const tooFarOut = (record: CsvRecord, column: number, f: number) => {
    const deviations = Math.abs((record.number(column) - mean![f]!) / scale![f]!);
    return new FileError(
      `${where(path, record, column, header)}: ${record.text(column)} lies ${deviations.toExponential(3)} training standard deviations ` +
        `(${scale![f]!.toExponential(3)}) from the training mean: too far to standardize without overflowing the squared distances; check the value, or fit without --standardize`,
    );
  };

  const readRow = (record: CsvRecord) => {
    batch.reserve(d);
    const values = batch.values;
    const base = batch.length;
    for (let f = 0; f < d; f++) {
      const column = features[f]!;
      let value = record.number(column);
      if (!(Math.abs(value) <= limit)) {
        if (fill === undefined || !record.isEmpty(column)) throw badFeature(path, record, column, header, d, limit, run.context);
        value = fill[f]!;
      }
      if (mean !== undefined) {
        value = (value - mean[f]!) / scale![f]!;
        if (!(Math.abs(value) <= limit)) throw tooFarOut(record, column, f);
      }
      values[base + f] = value;
    }
    batch.length += d;
    if (score) {
      truths.push(record.text(truthColumn));
      truthValues.push(record.number(truthColumn));
      truthLines.push(record.line);
    }
  };

  const predictBatch = async () => {
    const count = batch.length / d;
    if (count === 0) return;
    const queries = { data: batch.values.subarray(0, batch.length), rows: count, cols: d };
    const predicted = await net.predictAsync(queries);
    const probabilities = proba ? await net.predictProbaAsync(queries) : undefined;
    const lines: string[] = [];
    if (!wroteHeader) {
      lines.push(formatCsvRow([targetName, ...(proba ? classes.map((c) => `p_${c}`) : [])]));
      wroteHeader = true;
    }
    for (let r = 0; r < count; r++) {
      const fields: (string | number)[] = [predicted[r]!];
      if (probabilities) for (let c = 0; c < classes.length; c++) fields.push(probabilities[r * classes.length + c]!);
      lines.push(formatCsvRow(fields));
    }
    await output.write(lines.join('\n') + '\n');
    if (score) {
      for (let r = 0; r < count; r++) {
        const field = () => `${path}: line ${truthLines[r]}, column ${truthColumn + 1} ("${targetName}")`;
        score.add(predicted[r]!, truths[r]!, truthValues[r]!, field);
      }
    }
    rows += count;
    batch.length = 0;
    truths.length = 0;
    truthValues.length = 0;
    truthLines.length = 0;
  };

  await file.readRecords(readRow, async () => {
    await predictBatch();
    onChunk(rows);
  });
  if (rows === 0) throw new FileError(`${path}: no data rows after the header; there is nothing to predict`);
  return score ? score.result(rows) : { kind: 'none' };
}
