#!/usr/bin/env node
// The `knnet` command: fit and predict from CSV files, or run the Iris demo. The pieces live in
// cli/: arguments, a streaming CSV reader, the training and test passes, saved models, the output.
// Exit status: 0 success, 1 runtime error (unreadable or malformed input, unwritable output),
// 2 usage error (one line, and a pointer to --help).
import { readFileSync } from 'node:fs';
import { KnnError } from './errors.js';
import { parseFitArgs, parsePredictArgs } from './cli/arguments.js';
import { UsageError } from './cli/commandLine.js';
import { FileError } from './cli/fileError.js';
import { fitCommand } from './cli/fitCommand.js';
import { predictCommand } from './cli/predictCommand.js';
import { closestName } from './cli/suggest.js';
import { USAGE } from './cli/usage.js';

interface IrisDemoModule {
  runIrisDemo(): Promise<void>;
}

const COMMANDS = ['predict', 'fit', 'demo', 'help'];
/** Words a user may try for a command. */
const COMMAND_SYNONYMS: Record<string, string> = { train: 'fit', save: 'fit', classify: 'predict', run: 'predict' };

// The demo is loaded only when asked for, so that `predict` starts fast.
async function runDemo(): Promise<void> {
  const demo = (await import(new URL('./demo/iris.js', import.meta.url).href)) as IrisDemoModule;
  await demo.runIrisDemo();
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const printUsage = () => void process.stdout.write(USAGE + '\n');

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'predict': {
        const args = parsePredictArgs(rest);
        if (args === 'help') printUsage();
        else await predictCommand(args);
        return 0;
      }
      case 'fit': {
        const args = parseFitArgs(rest);
        if (args === 'help') printUsage();
        else await fitCommand(args);
        return 0;
      }
      case 'demo':
        if (rest.length > 0) throw new UsageError(`demo takes no arguments, got "${rest.join(' ')}"`);
        await runDemo();
        return 0;
      case 'help':
      case '--help':
      case '-h':
        printUsage();
        return 0;
      case '--version':
      case '-v':
        process.stdout.write(packageVersion() + '\n');
        return 0;
      case undefined:
        throw new UsageError('missing command: predict, fit or demo');
      case 'bench':
        throw new UsageError('the benchmarks are not part of the installed package; run `npm run bench` in a clone of the repository');
      default: {
        const meant = command.startsWith('-') ? undefined : closestName(command, COMMANDS, COMMAND_SYNONYMS);
        const what = command.startsWith('-') ? `a command comes first, before the options, got "${command}"` : `unknown command "${command}"`;
        throw new UsageError(`${what}${meant === undefined ? '' : `; did you mean ${meant}?`}`);
      }
    }
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`knnet: ${error.message}\nsee knnet --help\n`);
    return 2;
  }
  if (error instanceof FileError || error instanceof KnnError) {
    process.stderr.write(`knnet: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(`knnet: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

// Whatever happens to stderr (closed along with stdout by `| head`), never an unhandled 'error' event.
process.stderr.on('error', () => {});
process.exitCode = await main(process.argv.slice(2));
