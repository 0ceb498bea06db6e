/** A problem with an input file or the output; the CLI prints the message and exits with status 1. */
export class CsvInputError extends Error {
  override readonly name = 'CsvInputError';
}
