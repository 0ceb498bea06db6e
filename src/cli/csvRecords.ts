// Splitting CSV bytes into records and fields, chunk by chunk, without a string per field.
// RFC 4180: fields separated by commas, records by LF or CRLF; a field that starts with a double
// quote (after optional spaces) runs to the matching closing quote, may hold commas and line
// breaks, and writes a quote as "". Spaces and tabs around unquoted fields are not part of them.
// Blank lines are skipped.
//
// The scan works on the file's UTF-8 bytes (every byte that matters is ASCII, and no byte of a
// multi-byte character is) and parses each unquoted field as a decimal number on the way, so a
// numeric field is read once and never becomes a string; text is decoded only when asked for.
import { parseDecimal, readDecimal, SPACE, TAB } from './decimal.js';
import { FileError } from './fileError.js';

const COMMA = 44;
const QUOTE = 34;
const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;

/** One record of the file; valid only during the callback that receives it. */
export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  readonly fieldCount: number;
  /** Field `index`, without its quotes and surrounding spaces. */
  text(index: number): string;
  /** Field `index` as a decimal number (see decimal.ts); NaN if it is not one. */
  number(index: number): number;
  /** A number standing for the text of a short unquoted field, or −1 (see RecordScanner). */
  shortKey(index: number): number;
  /** Whether field `index` is empty: nothing but spaces, or "" quoted. */
  isEmpty(index: number): boolean;
}

/**
 * Finds records in successive pieces of a file. `scan` reports the complete records in
 * bytes[0, length) and returns where the first incomplete one starts; the caller passes those
 * bytes again, followed by more of the file (or alone, with `final`, at its end).
 * bytes[length] must be a line feed: a sentinel that ends every loop over a field.
 */
export class RecordScanner implements CsvRecord {
  line = 1;
  fieldCount = 0;
  readonly #source: string;
  #bytes: Buffer = Buffer.alloc(1, LINE_FEED);
  #starts = new Int32Array(64);
  #ends = new Int32Array(64);
  #values = new Float64Array(64);
  readonly #parsed = { value: 0 };
  /** Line where the next record starts. */
  #nextLine = 1;
  /** Line breaks inside the quoted field #scanQuoted read last. */
  #quotedLineBreaks = 0;
  /** Set when scan stopped before a record holding the byte it was told is not UTF-8. */
  #stoppedAt: { line: number; field: number } | undefined;

  constructor(source: string) {
    this.#source = source;
  }

  text(index: number): string {
    let start = this.#starts[index]!;
    let end = this.#ends[index]!;
    const bytes = this.#bytes;
    if (bytes[start] === QUOTE) {
      const inner = bytes.toString('utf8', start + 1, end - 1);
      return inner.includes('""') ? inner.replaceAll('""', '"') : inner;
    }
    while (end > start && isSpace(bytes[end - 1]!)) end--;
    return bytes.toString('utf8', start, end);
  }

  number(index: number): number {
    return this.#values[index]!;
  }

  isEmpty(index: number): boolean {
    const start = this.#starts[index]!;
    const end = this.#ends[index]!;
    const bytes = this.#bytes;
    if (bytes[start] === QUOTE) return end - start === 2;
    for (let i = start; i < end; i++) if (!isSpace(bytes[i]!)) return false;
    return true;
  }

  /**
   * A number that identifies the text of unquoted field `index` when it is 1 to 6 bytes long
   * (its bytes and its length packed below 2^53), else −1: lets a column of short labels be
   * tallied without making a string per row.
   */
  shortKey(index: number): number {
    const start = this.#starts[index]!;
    let end = this.#ends[index]!;
    const bytes = this.#bytes;
    while (end > start && isSpace(bytes[end - 1]!)) end--;
    const length = end - start;
    if (length === 0 || length > 6 || bytes[start] === QUOTE) return -1;
    let key = length;
    for (let i = start; i < end; i++) key = key * 256 + bytes[i]!;
    return key;
  }

  /** Where the byte that is not UTF-8 lies (its line, its 0-based field), once scan has stopped before it. */
  get stoppedAt(): { line: number; field: number } | undefined {
    return this.#stoppedAt;
  }

  /**
   * Calls `onRecord` for each complete record in bytes[0, length) (at most `maxRecords`), in
   * order, and returns the offset of the first byte not consumed. `invalidAt`, if not −1, is
   * the offset of a byte that is not UTF-8: the scan stops before the record that holds it and
   * sets `stoppedAt`.
   */
  scan(bytes: Buffer, length: number, final: boolean, onRecord: (record: CsvRecord) => void, maxRecords = Infinity, invalidAt = -1): number {
    this.#bytes = bytes;
    let position = 0;
    let records = 0;
    while (position < length && records < maxRecords) {
      const next = this.#scanRecord(bytes, position, length, final);
      if (next < 0) break;
      if (invalidAt >= 0 && next > invalidAt) {
        this.#stoppedAt = this.#locate(position, invalidAt);
        break;
      }
      const blank = this.fieldCount === 1 && this.#ends[0] === this.#starts[0];
      if (!blank) {
        onRecord(this);
        records++;
      }
      position = next;
    }
    return position;
  }

  /** Reads one record at `position`; returns the offset after its line break, or −1 if the bytes end first. */
  #scanRecord(bytes: Buffer, position: number, length: number, final: boolean): number {
    let line = this.#nextLine;
    const startLine = line;
    const parsed = this.#parsed;
    let field = 0;
    let i = position;
    for (;;) {
      if (field === this.#starts.length) this.#growFields();
      let c = bytes[i]!;
      while (c === SPACE || c === TAB) c = bytes[++i]!;
      const fieldStart = i;
      let fieldEnd: number;
      if (c === QUOTE && i < length) {
        i = this.#scanQuoted(bytes, i, length, final, line, field);
        if (i < 0) return -1;
        fieldEnd = i; // the closing quote's end: spaces after it are not part of the field
        line += this.#quotedLineBreaks;
        this.#values[field] = parseDecimal(bytes, fieldStart + 1, i - 1);
        c = bytes[i]!;
        while (c === SPACE || c === TAB) c = bytes[++i]!;
        if (c !== COMMA && c !== LINE_FEED && c !== CARRIAGE_RETURN) {
          throw new FileError(`${this.#source}: line ${line}, column ${field + 1}: unexpected text after a closing quote; inside a quoted field, write a quote as ""`);
        }
      } else {
        i = readDecimal(bytes, i, length, parsed);
        c = bytes[i]!;
        while (c === SPACE || c === TAB) c = bytes[++i]!;
        if (c === COMMA || c === LINE_FEED || c === CARRIAGE_RETURN) {
          this.#values[field] = parsed.value;
        } else {
          // Not a number: find the field's end.
          this.#values[field] = Number.NaN;
          while (c !== COMMA && c !== LINE_FEED && c !== CARRIAGE_RETURN) c = bytes[++i]!;
        }
        fieldEnd = i;
      }
      this.#starts[field] = fieldStart;
      this.#ends[field] = fieldEnd;
      field++;
      if (i >= length) {
        if (!final) return -1;
        this.#finishRecord(field, startLine, line);
        return length;
      }
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === CARRIAGE_RETURN) {
        if (i + 1 >= length && !final) return -1;
        if (bytes[i + 1] === LINE_FEED && i + 1 < length) i++;
      }
      this.#finishRecord(field, startLine, line + 1);
      return i + 1;
    }
  }

  /** The line and field of byte `offset` of the record just scanned, which starts at `recordStart`. */
  #locate(recordStart: number, offset: number): { line: number; field: number } {
    let field = 0;
    while (field + 1 < this.fieldCount && this.#starts[field + 1]! <= offset) field++;
    return { line: this.line + countLineBreaks(this.#bytes, recordStart, offset), field };
  }

  #finishRecord(fieldCount: number, startLine: number, nextLine: number): void {
    this.fieldCount = fieldCount;
    this.line = startLine;
    this.#nextLine = nextLine;
  }

  /** Reads a quoted field opening at `open`; returns the offset after its closing quote, or −1. */
  #scanQuoted(bytes: Buffer, open: number, length: number, final: boolean, openLine: number, field: number): number {
    let i = open + 1;
    let lineBreaks = 0;
    for (;;) {
      let close = bytes.indexOf(QUOTE, i);
      if (close >= length) close = -1;
      // The byte after a quote decides whether it closes the field or is the first of "".
      if (close < 0 || (close + 1 >= length && !final)) {
        if (!final) return -1;
        throw new FileError(`${this.#source}: line ${openLine}, column ${field + 1}: the quote that opens this field is never closed`);
      }
      lineBreaks += countLineBreaks(bytes, i, close);
      if (close + 1 < length && bytes[close + 1] === QUOTE) {
        i = close + 2;
        continue;
      }
      this.#quotedLineBreaks = lineBreaks;
      return close + 1;
    }
  }

  #growFields(): void {
    const size = this.#starts.length * 2;
    const grow = <T extends Int32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.#starts = grow(this.#starts, new Int32Array(size));
    this.#ends = grow(this.#ends, new Int32Array(size));
    this.#values = grow(this.#values, new Float64Array(size));
  }
}

function countLineBreaks(bytes: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = bytes.indexOf(LINE_FEED, from); i >= 0 && i < to; i = bytes.indexOf(LINE_FEED, i + 1)) count++;
  return count;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}
