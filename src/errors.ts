/** Why a call was rejected; stable strings that callers can branch on. */
export type KnnErrorCode =
  | 'SHAPE_MISMATCH'
  | 'NON_FINITE'
  | 'EMPTY'
  | 'NO_LABELS'
  | 'K_OUT_OF_RANGE'
  | 'BAD_OPTION'
  | 'BAD_LABEL'
  | 'BAD_INPUT'
  | 'BAD_BYTES'
  | 'DISPOSED'
  | 'TOO_LARGE'
  | 'WORKER_FAILED';

/**
 * The one error type knnet throws for bad input or misuse. The message names the argument, what
 * was expected and what was given; a call that throws it leaves the network unchanged.
 */
export class KnnError extends Error {
  /** Which kind of mistake it is, for a program to branch on; the message says it to a person. */
  readonly code: KnnErrorCode;

  constructor(code: KnnErrorCode, message: string) {
    super(message);
    this.name = 'KnnError';
    this.code = code;
  }
}

/** A short, readable rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // Shown with its type: "1n" alone reads like the number 1.
  if (typeof value === 'bigint') return `the BigInt ${value}n`;
  if (typeof value === 'symbol') return `a symbol (${value.toString()})`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
