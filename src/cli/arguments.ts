// The command line of `knnet predict`, read with Node's built-in util.parseArgs (strict about
// unknown options). Numbers in options follow the rules of numbers in the CSV files: decimal
// only, spaces around them ignored.
import { parseArgs } from 'node:util';
import { METRICS, type Metric } from '../metrics.js';
import { decimalValue } from './decimal.js';

export const USAGE = `Usage:
  knnet predict --train FILE --test FILE [options]   predict the test rows from the training rows
  knnet demo                                         run the Iris demo
  knnet --help | --version

Options for predict:
  --train FILE        training CSV with a header line
  --test FILE         CSV of rows to predict: it needs the feature columns (matched by name,
                      in any order); a target column there is optional and only scored
  --target COLUMN     label column of the training file (default: the last column)
  --features A,B,...  use only these columns as features (default: all but the target)
  --drop A,B,...      leave these columns out of the features (ids, names, free text)
  --k N|all           number of neighbours (default 1)
  --weights MODE      uniform | distance | softmax (default uniform)
  --lambda X          softmax sharpness λ = 1/temperature (default 1)
  --metric NAME       euclidean | cosine (1 − cos of L2-normalised rows) | manhattan (default euclidean)
  --regression        predict the mean of a numeric target instead of a class
  --threads N|auto    threads to predict on (default auto: every core)
  --proba             also write one probability column per class, p_<class>
  --out FILE          write the CSV there instead of to stdout

The output CSV has one column named after the target, then the p_<class> columns.
Numbers are decimal (12, -0.5, 3e-4); hexadecimal, Infinity and NaN are refused.
If the test file has the target column, the accuracy (or R²) on its labelled rows is
printed on stderr.`;

/** A mistake in the command line: the CLI prints it with the usage and exits with status 2. */
export class UsageError extends Error {}

const PREDICT_OPTIONS = {
  train: { type: 'string' },
  test: { type: 'string' },
  target: { type: 'string' },
  features: { type: 'string' },
  drop: { type: 'string' },
  k: { type: 'string' },
  weights: { type: 'string' },
  lambda: { type: 'string' },
  metric: { type: 'string' },
  threads: { type: 'string' },
  regression: { type: 'boolean' },
  proba: { type: 'boolean' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface PredictArgs {
  train: string;
  test: string;
  target?: string;
  features?: string[];
  drop?: string[];
  k: number | 'all';
  weights: 'uniform' | 'distance' | 'softmax';
  lambda?: number;
  metric: Metric;
  threads: number | 'auto';
  regression: boolean;
  proba: boolean;
  out?: string;
}

export function parsePredictArgs(args: string[]): PredictArgs | 'help' {
  const { values } = parseArgs({ args, options: PREDICT_OPTIONS, strict: true, allowPositionals: false });
  if (values.help) return 'help';
  if (values.train === undefined) throw new UsageError('predict needs --train FILE');
  if (values.test === undefined) throw new UsageError('predict needs --test FILE');
  const weights = values.weights ?? 'uniform';
  if (weights !== 'uniform' && weights !== 'distance' && weights !== 'softmax') {
    throw new UsageError(`--weights must be uniform, distance or softmax, got "${weights}"`);
  }
  const metric = values.metric ?? 'euclidean';
  if (!METRICS.includes(metric as Metric)) throw new UsageError(`--metric must be ${METRICS.slice(0, -1).join(', ')} or ${METRICS.at(-1)}, got "${metric}"`);
  const regression = values.regression ?? false;
  const proba = values.proba ?? false;
  if (regression && proba) throw new UsageError('--proba gives class probabilities; it cannot be combined with --regression');
  return {
    train: values.train,
    test: values.test,
    target: values.target,
    features: values.features === undefined ? undefined : parseNames(values.features, '--features'),
    drop: values.drop === undefined ? undefined : parseNames(values.drop, '--drop'),
    k: parseK(values.k ?? '1'),
    weights,
    lambda: values.lambda === undefined ? undefined : parseLambda(values.lambda),
    metric: metric as Metric,
    threads: parseThreads(values.threads ?? 'auto'),
    regression,
    proba,
    out: values.out,
  };
}

function parseK(text: string): number | 'all' {
  if (text.trim() === 'all') return 'all';
  const k = decimalValue(text);
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`--k must be a positive integer or "all", got "${text}"`);
  return k;
}

function parseThreads(text: string): number | 'auto' {
  if (text.trim() === 'auto') return 'auto';
  const threads = decimalValue(text);
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads must be a positive integer or "auto", got "${text}"`);
  return threads;
}

function parseLambda(text: string): number {
  const lambda = decimalValue(text);
  if (!Number.isFinite(lambda) || lambda < 0) throw new UsageError(`--lambda must be a finite decimal number ≥ 0, got "${text}"`);
  return lambda;
}

/** Comma-separated column names, spaces around each ignored. */
function parseNames(text: string, option: string): string[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new UsageError(`${option} takes column names separated by commas, got "${text}"`);
  return names;
}
