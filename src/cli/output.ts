// Where the predictions go: standard output or a file, written as they are made, with the
// writer's back-pressure respected so that output never piles up in memory. A reader that
// goes away (`knnet predict … | head -2`) ends the run quietly; any other write error (a full
// disk, /dev/full) is an input/output error with a clear message.
import { open, type FileHandle } from 'node:fs/promises';
import { FileError } from './fileError.js';

/** The reader of standard output has gone (EPIPE): stop, quietly. */
export class OutputClosed extends Error {
  override readonly name = 'OutputClosed';
}

export interface Output {
  write(text: string): Promise<void>;
  /** Waits until everything written has been handed to the system. */
  close(): Promise<void>;
}

export function writeFailure(error: unknown, destination: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EPIPE') return new OutputClosed();
  const reasons: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EACCES: 'permission denied',
    ENOENT: 'no such directory',
    EISDIR: 'it is a directory',
    EROFS: 'the file system is read-only',
    EDQUOT: 'disk quota exceeded',
  };
  return new FileError(`cannot write ${destination}: ${(code && reasons[code]) ?? (error as Error).message}`);
}

export async function openOutput(path: string | undefined): Promise<Output> {
  return path === undefined ? standardOutput() : await fileOutput(path);
}

async function fileOutput(path: string): Promise<Output> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (error) {
    throw writeFailure(error, path);
  }
  let closed = false;
  return {
    async write(text) {
      try {
        await handle.write(text);
      } catch (error) {
        throw writeFailure(error, path);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await handle.close();
      } catch (error) {
        throw writeFailure(error, path);
      }
    },
  };
}

function standardOutput(): Output {
  const stream = process.stdout;
  let failure: unknown;
  // A listener keeps a write error from becoming an unhandled 'error' event; the next write
  // or close() reports it.
  stream.on('error', (error) => void (failure ??= error));
  const check = () => {
    if (failure !== undefined) throw writeFailure(failure, 'to standard output');
  };
  const settle = (wait: (done: () => void) => void) =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.off('error', done);
        resolve();
      };
      stream.once('error', done);
      wait(done);
    });
  return {
    async write(text) {
      check();
      if (!stream.write(text)) await settle((done) => stream.once('drain', done));
      check();
    },
    async close() {
      check();
      await settle((done) => stream.write('', () => done()));
      check();
    },
  };
}
