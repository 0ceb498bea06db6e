/** A problem with an input file or the output file; the CLI prints the message and exits with status 1. */
export class FileError extends Error {
  override readonly name = 'FileError';
}
