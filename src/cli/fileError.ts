/** A problem with an input file or the output file; the CLI prints the message and exits with status 1. */
export class FileError extends Error {
  override readonly name = 'FileError';
}

/** Why a file could not be opened or read, in a few words. */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message;
}
