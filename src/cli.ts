#!/usr/bin/env node
// The `knnet` command: predict from CSV files, or run the Iris demo. The pieces live in cli/:
// arguments, a streaming CSV reader, the training and test passes, the output.
// Exit status: 0 success, 1 runtime error (unreadable or malformed input, unwritable output),
// 2 usage error.
import { readFileSync } from 'node:fs';
import { KnnError } from './errors.js';
import { USAGE, UsageError, parsePredictArgs } from './cli/arguments.js';
import { FileError } from './cli/fileError.js';
import { predictCommand } from './cli/predictCommand.js';

interface IrisDemoModule {
  runIrisDemo(): Promise<void>;
}

// The demo is loaded only when asked for, so that `predict` starts fast.
async function runDemo(): Promise<void> {
  const demo = (await import(new URL('./demo/iris.js', import.meta.url).href)) as IrisDemoModule;
  await demo.runIrisDemo();
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
        await runDemo();
        return 0;
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
      case 'bench':
        throw new UsageError('the benchmarks are not part of the installed package; run `npm run bench` in a clone of the repository');
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
