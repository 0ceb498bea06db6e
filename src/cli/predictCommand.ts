// `knnet predict`: read the training file, fit the network, stream the test file through it.
import { KnnNetwork } from '../network.js';
import type { PredictArgs } from './arguments.js';
import { chooseTrainingColumns, type TrainingColumns } from './columns.js';
import { CsvFile } from './csvFile.js';
import { FileError } from './fileError.js';
import { OutputClosed, openOutput, type Output } from './output.js';
import { predictFile } from './predictions.js';
import { progressBar } from './progress.js';
import { readTrainingData, type TrainingData } from './trainingData.js';

const say = (text: string) => void process.stderr.write(`knnet: ${text}\n`);

function fileProgress(label: string, file: CsvFile, toTerminalStdout: boolean) {
  const bar = progressBar(label, toTerminalStdout);
  return {
    update: (rows: number) => bar.update(file.size ? file.bytesRead / file.size : 0, `${rows.toLocaleString('en-US')} rows`),
    finish: () => bar.finish(),
  };
}

async function readTraining(args: PredictArgs, toTerminalStdout: boolean): Promise<{ columns: TrainingColumns; training: TrainingData }> {
  const file = await CsvFile.open(args.train);
  try {
    const columns = chooseTrainingColumns(file.header, args.train, args);
    const progress = fileProgress(`reading ${args.train}`, file, toTerminalStdout);
    const training = await readTrainingData(file, columns, args.regression, progress.update);
    progress.finish();
    return { columns, training };
  } finally {
    await file.close();
  }
}

async function fitNetwork(args: PredictArgs, training: TrainingData): Promise<KnnNetwork> {
  for (const name of training.rowIdColumns) {
    say(`warning: column "${name}" of ${args.train} holds increasing whole numbers, like a row id, and is used as a feature; leave it out with --drop ${name}`);
  }
  const rows = training.X.rows;
  if (args.k !== 'all' && args.k > rows) {
    throw new FileError(`--k is ${args.k} but ${args.train} has only ${rows} rows; pass --k ${rows} or less (or --k all)`);
  }
  return KnnNetwork.fit(training.X, training.y, {
    k: args.k,
    weights: args.weights,
    ...(args.lambda === undefined ? {} : { lambda: args.lambda }),
    metric: args.metric,
    threads: args.threads,
    task: args.regression ? 'regression' : 'classification',
  });
}

async function predictTestFile(args: PredictArgs, net: KnnNetwork, columns: TrainingColumns, output: Output, toTerminalStdout: boolean): Promise<void> {
  const file = await CsvFile.open(args.test);
  try {
    const progress = fileProgress(`predicting ${args.test}`, file, toTerminalStdout);
    const run = {
      net,
      featureNames: columns.featureNames,
      targetName: columns.targetName,
      numericClasses: typeof net.classes[0] === 'number',
      proba: args.proba,
    };
    const score = await predictFile(run, file, output, progress.update);
    progress.finish();
    await output.close();
    if (score.kind === 'none') {
      if (score.reason) say(score.reason);
    } else {
      const rows = score.labelled === score.rows ? `${score.rows} rows` : `${score.labelled} labelled rows of ${score.rows}`;
      say(`${score.kind} on ${args.test}: ${score.value.toFixed(4)} (${rows})`);
    }
  } finally {
    await file.close();
  }
}

export async function predictCommand(args: PredictArgs): Promise<void> {
  const toTerminalStdout = args.out === undefined && process.stdout.isTTY === true;
  // Opened first, so that an unwritable --out is reported before a long read.
  const output = await openOutput(args.out);
  try {
    const { columns, training } = await readTraining(args, toTerminalStdout);
    const net = await fitNetwork(args, training);
    try {
      await predictTestFile(args, net, columns, output, toTerminalStdout);
    } finally {
      net.dispose();
    }
  } catch (error) {
    // The reader of stdout went away (`| head`): nothing is wrong, there is just no one to tell.
    if (!(error instanceof OutputClosed)) throw error;
  } finally {
    await output.close().catch(() => {});
  }
}
