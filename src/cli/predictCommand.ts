// `knnet predict`: fit on the training file (or load a saved model), then stream the test file
// through the network.
import type { PredictArgs } from './arguments.js';
import { CsvFile } from './csvFile.js';
import { fileProgress } from './fileProgress.js';
import { fitModel } from './fitModel.js';
import { say } from './messages.js';
import type { CliModel } from './model.js';
import { loadModel } from './modelFile.js';
import { OutputClosed, openOutput, type Output } from './output.js';
import { predictFile } from './predictions.js';

async function predictTestFile(args: PredictArgs, model: CliModel, output: Output, toTerminalStdout: boolean): Promise<void> {
  const file = await CsvFile.open(args.test);
  try {
    const progress = fileProgress(`predicting ${args.test}`, file, toTerminalStdout);
    const run = { model, proba: args.proba, context: 'model' in args.source ? ('model' as const) : ('fitting' as const) };
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
    const model = 'model' in args.source
      ? await loadModel(args.source.model, args.threads)
      : await fitModel(args.source.training, args.threads, toTerminalStdout);
    try {
      await predictTestFile(args, model, output, toTerminalStdout);
    } finally {
      model.net.dispose();
    }
  } catch (error) {
    // The reader of stdout went away (`| head`): nothing is wrong, there is just no one to tell.
    if (!(error instanceof OutputClosed)) throw error;
  } finally {
    await output.close().catch(() => {});
  }
}
