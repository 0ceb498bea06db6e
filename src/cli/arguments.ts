// The command lines of `knnet predict` and `knnet fit`, checked into typed arguments. Numbers in
// options follow the rules of numbers in the CSV files: decimal only, spaces around them ignored.
import { METRICS, type Metric } from '../metrics.js';
import { readArguments, UsageError, type CommandSpec, type ReadArguments } from './commandLine.js';
import { decimalValue } from './decimal.js';
import { closestName } from './suggest.js';

export { UsageError } from './commandLine.js';

export type Weighting = 'uniform' | 'distance' | 'softmax';
export type ImputeMethod = 'mean' | 'median';

/** How to fit a network on a training file. */
export interface TrainingArgs {
  train: string;
  target?: string;
  features?: string[];
  drop?: string[];
  k: number | 'all';
  weights: Weighting;
  lambda?: number;
  metric: Metric;
  regression: boolean;
  classify: boolean;
  standardize: boolean;
  impute?: ImputeMethod;
}

export interface PredictArgs {
  /** Fit on a training file, or load a model saved by `knnet fit`. */
  source: { training: TrainingArgs } | { model: string };
  test: string;
  threads: number | 'auto';
  proba: boolean;
  out?: string;
}

export interface FitArgs {
  training: TrainingArgs;
  save: string;
}

const TRAINING_OPTIONS = {
  train: 'string',
  target: 'string',
  features: 'string',
  drop: 'string',
  k: 'string',
  weights: 'string',
  lambda: 'string',
  metric: 'string',
  standardize: 'boolean',
  impute: 'string',
  regression: 'boolean',
  classify: 'boolean',
} as const;

const PREDICTING_OPTIONS = { test: 'string', model: 'string', threads: 'string', proba: 'boolean', out: 'string' } as const;

/** Names from scikit-learn, other tools and plain English for knnet's options. */
const SYNONYMS: Record<string, string> = {
  neighbours: 'k',
  neighbors: 'k',
  'n-neighbors': 'k',
  'n-neighbours': 'k',
  label: 'target',
  labels: 'target',
  class: 'target',
  y: 'target',
  exclude: 'drop',
  ignore: 'drop',
  columns: 'features',
  scale: 'standardize',
  normalize: 'standardize',
  normalise: 'standardize',
  standardise: 'standardize',
  missing: 'impute',
  fill: 'impute',
  temperature: 'lambda',
  probabilities: 'proba',
  probability: 'proba',
  output: 'out',
  o: 'out',
  jobs: 'threads',
  'n-jobs': 'threads',
  j: 'threads',
  input: 'test',
};

const PREDICT: CommandSpec = {
  name: 'predict',
  options: { ...TRAINING_OPTIONS, ...PREDICTING_OPTIONS },
  elsewhere: { save: 'fit' },
  synonyms: SYNONYMS,
};

const FIT: CommandSpec = {
  name: 'fit',
  options: { ...TRAINING_OPTIONS, save: 'string' },
  elsewhere: Object.fromEntries(Object.keys(PREDICTING_OPTIONS).map((name) => [name, 'predict'])),
  synonyms: SYNONYMS,
};

/** The file given with `--option` or as the last argument, once. */
function fileArgument(read: ReadArguments, option: string, command: string): string | undefined {
  const named = read.values.get(option) as string | undefined;
  const [positional, extra] = read.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}": ${command} takes one ${option === 'test' ? 'test' : 'training'} file`);
  if (named !== undefined && positional !== undefined) throw new UsageError(`two ${option === 'test' ? 'test' : 'training'} files: --${option} ${named} and ${positional}; give one`);
  return named ?? positional;
}

export function parsePredictArgs(args: string[]): PredictArgs | 'help' {
  const read = readArguments(args, PREDICT);
  if (read.values.has('help')) return 'help';
  const model = read.values.get('model') as string | undefined;
  const test = fileArgument(read, 'test', 'predict');
  let source: PredictArgs['source'];
  if (model !== undefined) {
    if (read.values.has('train')) throw new UsageError('give --train FILE or --model MODEL, not both');
    const fixed = Object.keys(TRAINING_OPTIONS).find((name) => read.values.has(name));
    if (fixed !== undefined) throw new UsageError(`--${fixed} is fixed when the model is fitted and saved in ${model}; run knnet fit again to change it`);
    source = { model };
  } else {
    if (!read.values.has('train')) throw new UsageError('predict needs --train FILE (or --model MODEL)');
    source = { training: trainingArgs(read, read.values.get('train') as string) };
  }
  if (test === undefined) throw new UsageError('predict needs --test FILE');
  const proba = read.values.has('proba');
  if (proba && 'training' in source && source.training.regression) {
    throw new UsageError('--proba gives class probabilities; it cannot be combined with --regression');
  }
  return {
    source,
    test,
    threads: parseThreads((read.values.get('threads') as string | undefined) ?? 'auto'),
    proba,
    out: read.values.get('out') as string | undefined,
  };
}

export function parseFitArgs(args: string[]): FitArgs | 'help' {
  const read = readArguments(args, FIT);
  if (read.values.has('help')) return 'help';
  const train = fileArgument(read, 'train', 'fit');
  if (train === undefined) throw new UsageError('fit needs --train FILE');
  const save = read.values.get('save') as string | undefined;
  if (save === undefined) throw new UsageError('fit needs --save MODEL, the file to write the model to');
  return { training: trainingArgs(read, train), save };
}

function trainingArgs(read: ReadArguments, train: string): TrainingArgs {
  const text = (name: string) => read.values.get(name) as string | undefined;
  const weights = choice('weights', text('weights') ?? 'uniform', ['uniform', 'distance', 'softmax'] as const);
  const metric = choice('metric', text('metric') ?? 'euclidean', METRICS);
  const given = text('impute');
  const impute = given === undefined ? undefined : choice('impute', given, ['mean', 'median'] as const);
  const regression = read.values.has('regression');
  const classify = read.values.has('classify');
  if (regression && classify) throw new UsageError('--regression and --classify ask for opposite things; give one');
  const features = text('features');
  const drop = text('drop');
  const lambda = text('lambda');
  return {
    train,
    target: text('target'),
    features: features === undefined ? undefined : parseNames(features, '--features'),
    drop: drop === undefined ? undefined : parseNames(drop, '--drop'),
    k: parseK(text('k') ?? '1'),
    weights,
    lambda: lambda === undefined ? undefined : parseLambda(lambda),
    metric,
    regression,
    classify,
    standardize: read.values.has('standardize'),
    impute,
  };
}

/** Warnings about options that are valid but do nothing. */
export function optionWarnings(training: TrainingArgs): string[] {
  if (training.lambda !== undefined && training.weights !== 'softmax') {
    return [`--lambda is used by --weights softmax only; with --weights ${training.weights} it changes nothing`];
  }
  return [];
}

/** `value` if it is one of `choices`, else a UsageError listing them (and the closest). */
function choice<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  const meant = closestName(value, choices);
  const list = `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`;
  throw new UsageError(`--${option} must be ${list}, got "${value}"${meant === undefined ? '' : `; did you mean ${meant}?`}`);
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
