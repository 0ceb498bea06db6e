// Fitting from a training file, for `knnet fit` and `knnet predict --train`: read it, fill empty
// fields (--impute), standardize (--standardize) or hint at it, then fit the network. Warnings
// and hints go to stderr on the way.
import { KnnNetwork } from '../network.js';
import type { ThreadsOption } from '../threads.js';
import { optionWarnings, type TrainingArgs } from './arguments.js';
import { chooseTrainingColumns, type TrainingColumns } from './columns.js';
import { CsvFile } from './csvFile.js';
import { scaleHint, standardization, standardize } from './featureScaling.js';
import { FileError } from './fileError.js';
import { fileProgress } from './fileProgress.js';
import { fillEmpty, imputationValues } from './imputation.js';
import { say } from './messages.js';
import type { CliModel, FeaturePreparation } from './model.js';
import { shellWord } from './shellWord.js';
import { readTrainingData, type TrainingData } from './trainingData.js';

async function readTraining(args: TrainingArgs, toTerminalStdout: boolean): Promise<{ columns: TrainingColumns; training: TrainingData }> {
  const file = await CsvFile.open(args.train);
  try {
    const columns = chooseTrainingColumns(file.header, args.train, args);
    const progress = fileProgress(`reading ${args.train}`, file, toTerminalStdout);
    const options = { regression: args.regression, classify: args.classify, allowEmpty: args.impute !== undefined };
    const training = await readTrainingData(file, columns, options, progress.update);
    progress.finish();
    return { columns, training };
  } finally {
    await file.close();
  }
}

export async function fitModel(args: TrainingArgs, threads: ThreadsOption, toTerminalStdout: boolean): Promise<CliModel> {
  for (const warning of optionWarnings(args)) say(`warning: ${warning}`);
  const { columns, training } = await readTraining(args, toTerminalStdout);
  if (training.labelWarning !== undefined) say(`warning: ${training.labelWarning}`);
  for (const name of training.rowIdColumns) {
    say(`warning: column "${name}" of ${args.train} holds increasing whole numbers, like a row id, and is used as a feature; leave it out with --drop ${shellWord(name)}`);
  }
  const { data, rows, cols } = training.X;
  const { featureNames } = columns;
  let preparation: FeaturePreparation = { featureNames, targetName: columns.targetName };
  if (args.impute !== undefined) {
    const values = imputationValues(data, rows, args.impute, featureNames, args.train);
    fillEmpty(data, cols, values);
    preparation = { ...preparation, imputation: { method: args.impute, values } };
  }
  if (args.standardize) {
    const statistics = standardization(data, rows, cols);
    standardize(data, cols, statistics);
    preparation = { ...preparation, standardization: statistics };
  } else {
    const hint = scaleHint(data, rows, cols, featureNames);
    if (hint !== undefined) say(hint);
  }
  if (args.k !== 'all' && args.k > rows) {
    throw new FileError(`--k is ${args.k} but ${args.train} has only ${rows} rows; pass --k ${rows} or less (or --k all)`);
  }
  const net = await KnnNetwork.fit(training.X, training.y, {
    k: args.k,
    weights: args.weights,
    ...(args.lambda === undefined ? {} : { lambda: args.lambda }),
    metric: args.metric,
    threads,
    task: args.regression ? 'regression' : 'classification',
  });
  return { net, preparation };
}
