// `knnet fit`: fit on the training file once and save the model, for `knnet predict --model`.
import { writeFile } from 'node:fs/promises';
import type { FitArgs } from './arguments.js';
import { fitModel } from './fitModel.js';
import { say } from './messages.js';
import { encodeModel } from './modelFile.js';
import { writeFailure } from './output.js';

export async function fitCommand(args: FitArgs): Promise<void> {
  // Fitting needs no thread pool: threads are chosen when the model predicts.
  const model = await fitModel(args.training, 1, false);
  try {
    const bytes = encodeModel(model);
    try {
      await writeFile(args.save, bytes);
    } catch (error) {
      throw writeFailure(error, args.save);
    }
    const { net } = model;
    const what = net.options.task === 'regression' ? 'a regression target' : `${net.classes.length} ${net.classes.length === 1 ? 'class' : 'classes'}`;
    say(`saved ${args.save}: ${net.nSamples} rows, ${net.nFeatures} ${net.nFeatures === 1 ? 'feature' : 'features'}, ${what}`);
  } finally {
    model.net.dispose();
  }
}
