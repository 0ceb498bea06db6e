#!/usr/bin/env node
// The `knnet` command: predict from CSV files, run the Iris demo, run the benchmarks.
// Arguments go through Node's built-in util.parseArgs (no dependency, strict about unknown
// options); CSV goes through csv-parse (see csv.ts).
// Exit status: 0 success, 1 runtime error (unreadable or malformed input), 2 usage error.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CsvInputError, columnIndex, formatCsvRow, parseTable, readFeatures, readLabels, type Table } from './csv.js';
import { KnnError, KnnNetwork } from './index.js';

const USAGE = `Usage:
  knnet predict --train FILE --test FILE [options]   predict the test rows from the training rows
  knnet demo                                         run the Iris demo
  knnet bench [args...]                              run the benchmark suite
  knnet --help | --version

Options for predict:
  --train FILE        training CSV with a header line
  --test FILE         CSV of rows to predict (feature columns matched by name)
  --target COLUMN     label column of the training file (default: the last column)
  --k N|all           number of neighbours (default 1)
  --weights MODE      uniform | distance | softmax (default uniform)
  --lambda X          softmax sharpness λ = 1/temperature (default 1)
  --regression        predict the mean of numeric targets instead of a class
  --proba             also write one probability column per class
  --out FILE          write the CSV there instead of to stdout

If the test file has the target column, the accuracy (or R²) is printed on stderr.`;

class UsageError extends Error {}

const PREDICT_OPTIONS = {
  train: { type: 'string' },
  test: { type: 'string' },
  target: { type: 'string' },
  k: { type: 'string' },
  weights: { type: 'string' },
  lambda: { type: 'string' },
  regression: { type: 'boolean' },
  proba: { type: 'boolean' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface PredictArgs {
  train: string;
  test: string;
  target?: string;
  k: number | 'all';
  weights: 'uniform' | 'distance' | 'softmax';
  lambda?: number;
  regression: boolean;
  proba: boolean;
  out?: string;
}

function parsePredictArgs(args: string[]): PredictArgs | 'help' {
  const { values } = parseArgs({ args, options: PREDICT_OPTIONS, strict: true, allowPositionals: false });
  if (values.help) return 'help';
  if (values.train === undefined) throw new UsageError('predict needs --train FILE');
  if (values.test === undefined) throw new UsageError('predict needs --test FILE');
  const k = parseK(values.k ?? '1');
  const weights = values.weights ?? 'uniform';
  if (weights !== 'uniform' && weights !== 'distance' && weights !== 'softmax') {
    throw new UsageError(`--weights must be uniform, distance or softmax, got "${weights}"`);
  }
  let lambda: number | undefined;
  if (values.lambda !== undefined) {
    lambda = Number(values.lambda);
    if (values.lambda.trim() === '' || !Number.isFinite(lambda) || lambda < 0) {
      throw new UsageError(`--lambda must be a finite number ≥ 0, got "${values.lambda}"`);
    }
  }
  const regression = values.regression ?? false;
  const proba = values.proba ?? false;
  if (regression && proba) throw new UsageError('--proba gives class probabilities; it cannot be combined with --regression');
  return { train: values.train, test: values.test, target: values.target, k, weights, lambda, regression, proba, out: values.out };
}

function parseK(text: string): number | 'all' {
  if (text === 'all') return 'all';
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--k must be a positive integer or "all", got "${text}"`);
  return Number(text);
}

function readTable(path: string): Table {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CsvInputError(`cannot read ${path}: ${reason}`);
  }
  return parseTable(text, path);
}

/** Writes output lines to stdout or to a file, without holding the whole output in memory. */
function openOutput(path: string | undefined): { write(text: string): void; close(): void } {
  if (path === undefined) return { write: (text) => void process.stdout.write(text), close: () => {} };
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw new CsvInputError(`cannot write ${path}: ${(error as Error).message}`);
  }
  return { write: (text) => void writeSync(fd, text), close: () => closeSync(fd) };
}

/** A one-line bar on stderr; only for a terminal, and only when the run is long enough to need it. */
function progressBar(total: number, work: number, toStdout: boolean): { update(done: number): void; finish(): void } {
  const LONG_RUN_WORK = 2e9; // q·n·d multiply-adds: about a second or more
  // Not when the CSV itself is scrolling past on the same terminal.
  const terminal = process.stderr.isTTY && !(toStdout && process.stdout.isTTY);
  if (!terminal || work < LONG_RUN_WORK) return { update: () => {}, finish: () => {} };
  const width = 30;
  return {
    update(done) {
      const filled = Math.round((width * done) / total);
      const percent = Math.floor((100 * done) / total);
      process.stderr.write(`\rpredicting [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}% ${done}/${total} rows`);
    },
    finish: () => void process.stderr.write('\r\x1b[K'),
  };
}

async function predictCommand(args: PredictArgs): Promise<void> {
  const train = readTable(args.train);
  const test = readTable(args.test);
  const target = columnIndex(train, args.target);
  const targetName = train.header[target]!;
  const featureNames = train.header.filter((_, i) => i !== target);
  if (featureNames.length === 0) throw new CsvInputError(`${args.train}: no feature columns besides the target "${targetName}"`);
  if (train.rows.length === 0) throw new CsvInputError(`${args.train}: no data rows after the header`);

  const X = readFeatures(train, featureNames);
  const y = readLabels(train, target, args.regression);
  const options = {
    k: args.k,
    weights: args.weights,
    ...(args.lambda === undefined ? {} : { lambda: args.lambda }),
    task: args.regression ? ('regression' as const) : ('classification' as const),
  };
  const net = await KnnNetwork.fit(X, y, options);
  try {
    const Q = readFeatures(test, featureNames);
    writePredictions(net, Q, targetName, args);
    const truthColumn = test.header.indexOf(targetName);
    if (truthColumn >= 0 && Q.rows > 0) {
      const truth = readLabels(test, truthColumn, args.regression);
      const score = net.score(Q, truth);
      process.stderr.write(`knnet: ${args.regression ? 'R²' : 'accuracy'} on ${args.test}: ${score.toFixed(4)} (${Q.rows} rows)\n`);
    }
  } finally {
    net.dispose();
  }
}

function writePredictions(
  net: KnnNetwork,
  Q: { data: Float64Array; rows: number; cols: number },
  targetName: string,
  args: PredictArgs,
): void {
  const classes = args.regression ? [] : net.classes;
  const out = openOutput(args.out);
  try {
    out.write(formatCsvRow([targetName, ...(args.proba ? classes.map((c) => `p_${c}`) : [])]) + '\n');
    // Chunks bound the output buffered per step and let the progress bar move.
    const chunkRows = Math.max(1024, Math.ceil(Q.rows / 100));
    const progress = progressBar(Q.rows, Q.rows * net.nSamples * Q.cols, args.out === undefined);
    for (let start = 0; start < Q.rows; start += chunkRows) {
      const rows = Math.min(chunkRows, Q.rows - start);
      const chunk = { data: Q.data.subarray(start * Q.cols, (start + rows) * Q.cols), rows, cols: Q.cols };
      const labels = net.predict(chunk);
      const proba = args.proba ? net.predictProba(chunk) : undefined;
      const lines: string[] = [];
      for (let r = 0; r < rows; r++) {
        const fields: (string | number)[] = [labels[r]!];
        if (proba) for (let c = 0; c < classes.length; c++) fields.push(proba[r * classes.length + c]!);
        lines.push(formatCsvRow(fields));
      }
      out.write(lines.join('\n') + '\n');
      progress.update(start + rows);
    }
    progress.finish();
  } finally {
    out.close();
  }
}

interface IrisDemoModule {
  runIrisDemo(): Promise<void>;
}
interface BenchModule {
  runBenchmarks(argv: string[]): Promise<void>;
}

// The demo and the benchmarks are loaded only when asked for, so `predict` starts fast and the
// CLI does not fail to load when an installation leaves them out.
async function importSibling<T>(relative: string, what: string): Promise<T> {
  const url = new URL(relative, import.meta.url);
  try {
    return (await import(url.href)) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(url.pathname.split('/').pop()!)) {
      throw new CsvInputError(`${what} is not part of this installation (${url.pathname} is missing); run it from a clone of the repository`);
    }
    throw error;
  }
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'predict': {
        const args = parsePredictArgs(rest);
        if (args === 'help') process.stdout.write(USAGE + '\n');
        else await predictCommand(args);
        return 0;
      }
      case 'demo':
        if (rest.length > 0) throw new UsageError(`demo takes no arguments, got "${rest.join(' ')}"`);
        await (await importSibling<IrisDemoModule>('./demo/iris.js', 'the Iris demo')).runIrisDemo();
        return 0;
      case 'bench': {
        const bench = await importSibling<Partial<BenchModule>>('../bench/index.js', 'the benchmark suite');
        if (typeof bench.runBenchmarks !== 'function') throw new Error('bench/index.js does not export runBenchmarks(argv)');
        await bench.runBenchmarks(rest);
        return 0;
      }
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return 0;
      case '--version':
      case '-v':
        process.stdout.write(packageVersion() + '\n');
        return 0;
      case undefined:
        throw new UsageError('missing command');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  const code = (error as { code?: unknown }).code;
  if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`knnet: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (error instanceof CsvInputError || error instanceof KnnError) {
    process.stderr.write(`knnet: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(`knnet: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

process.exitCode = await main(process.argv.slice(2));
