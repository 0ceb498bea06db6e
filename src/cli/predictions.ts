// The file to predict, streamed through the network: each chunk of the file is parsed into a
// batch of rows, predicted, and written out before the next is read. When the file has the
// target column, its labelled rows are scored on the way.
import type { KnnNetwork } from '../network.js';
import { magnitudeLimit } from '../matrix.js';
import type { CsvFile } from './csvFile.js';
import type { CsvRecord } from './csvRecords.js';
import { locateFeatures } from './columns.js';
import { badFeature } from './fieldErrors.js';
import { GrowableArray } from './growableArray.js';
import { FileError } from './fileError.js';
import type { Output } from './output.js';
import { formatCsvRow } from './formatCsv.js';
import { AccuracyScore, RSquaredScore, type Score, type TestScore } from './testScore.js';

export interface PredictionRun {
  readonly net: KnnNetwork;
  readonly featureNames: readonly string[];
  readonly targetName: string;
  /** Whether the training labels were numbers (then predicted labels are numbers too). */
  readonly numericClasses: boolean;
  readonly proba: boolean;
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

  // One chunk of the file's rows, waiting to be predicted, with their targets (if any).
  const batch = new GrowableArray(Float64Array);
  const truths: string[] = [];
  const truthValues: number[] = [];
  const truthLines: number[] = [];
  const truthColumnName = `"${run.targetName}" of ${path}`;
  const score: TestScore | undefined =
    truthColumn < 0 ? undefined : regression ? new RSquaredScore(truthColumnName) : new AccuracyScore(run.numericClasses, truthColumnName);
  let rows = 0;
  let wroteHeader = false;

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
      lines.push(formatCsvRow([run.targetName, ...(proba ? classes.map((c) => `p_${c}`) : [])]));
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
        const where = () => `${path}: line ${truthLines[r]}, column ${truthColumn + 1} ("${run.targetName}")`;
        score.add(predicted[r]!, truths[r]!, truthValues[r]!, where);
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
