// A CSV file read as a stream: its header first, then its records chunk by chunk, so that no
// more than one chunk of the file (plus one unfinished record) is held at a time. The file must
// be UTF-8: each chunk is checked as it arrives (a character cut by the chunk's end is checked
// with the next one), and the first record that holds a byte that is not UTF-8 is an error
// naming its line and column, before any of its fields is read.
import { open, type FileHandle } from 'node:fs/promises';
import { RecordScanner, type CsvRecord } from './csvRecords.js';
import { FileError, describeFileError } from './fileError.js';
import { completeCharactersEnd, firstInvalidUtf8, isUtf8 } from './utf8.js';

const DEFAULT_CHUNK_BYTES = 1 << 20;
const LINE_FEED = 10;

export class CsvFile {
  readonly path: string;
  /** Size in bytes when the file is a regular file (for progress), else undefined. */
  readonly size: number | undefined;
  readonly #handle: FileHandle;
  readonly #scanner: RecordScanner;
  readonly #chunkBytes: number;
  /** Bytes read and not yet consumed, from offset 0, then a line feed (the scanner's sentinel). */
  #bytes: Buffer;
  #length = 0;
  #ended = false;
  #bytesRead = 0;
  /** Offset in the file of #bytes[0]. */
  #bufferStart = 0;
  /** #bytes[0, #checkedEnd) are known to be UTF-8. */
  #checkedEnd = 0;
  /** Offset in #bytes of the first byte found not to be UTF-8, or −1. */
  #invalidAt = -1;
  /** Whether the file's first bytes have yet to be checked for a byte order mark. */
  #byteOrderMarkPending = true;
  #header: readonly string[] = [];

  private constructor(path: string, handle: FileHandle, size: number | undefined, chunkBytes: number) {
    this.path = path;
    this.#handle = handle;
    this.size = size;
    this.#chunkBytes = chunkBytes;
    this.#bytes = Buffer.allocUnsafe(chunkBytes + 1);
    this.#scanner = new RecordScanner(path);
  }

  /** The column names of the header line. */
  get header(): readonly string[] {
    return this.#header;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  /**
   * Opens `path` and reads its header line; the caller must close() it. `chunkBytes`: how much
   * of the file to read at a time (tests make it small to cut records and characters anywhere).
   */
  static async open(path: string, chunkBytes = DEFAULT_CHUNK_BYTES): Promise<CsvFile> {
    let handle: FileHandle;
    let size: number | undefined;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new FileError(`cannot read ${path}: ${describeFileError(error)}`);
    }
    try {
      const stats = await handle.stat();
      if (stats.isDirectory()) throw new FileError(`cannot read ${path}: it is a directory`);
      size = stats.isFile() ? stats.size : undefined;
      const file = new CsvFile(path, handle, size, chunkBytes);
      file.#header = await file.#readHeader();
      return file;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async #readHeader(): Promise<string[]> {
    let header: string[] | undefined;
    let more = true;
    while (header === undefined && more) {
      more = await this.#readChunk();
      this.#consume(this.#scanner.scan(this.#bytes, this.#length, !more, (record) => {
        header = Array.from({ length: record.fieldCount }, (_, i) => record.text(i));
      }, 1, this.#invalidAt));
      this.#refuseInvalidText();
    }
    if (header === undefined) throw new FileError(`${this.path}: the file is empty; expected a header line`);
    const line = this.#scanner.line;
    const seen = new Set<string>();
    header.forEach((name, i) => {
      if (name === '') throw new FileError(`${this.path}: line ${line}, column ${i + 1}: empty column name in the header`);
      if (seen.has(name)) throw new FileError(`${this.path}: line ${line}, column ${i + 1}: duplicate column name "${name}"`);
      seen.add(name);
    });
    return header;
  }

  /** Drops the first `consumed` bytes, keeping the rest (an unfinished record) at offset 0. */
  #consume(consumed: number): void {
    this.#bytes.copyWithin(0, consumed, this.#length);
    this.#length -= consumed;
    this.#bufferStart += consumed;
    this.#checkedEnd = Math.max(0, this.#checkedEnd - consumed);
    if (this.#invalidAt >= 0) this.#invalidAt -= consumed;
  }

  /** Checks the bytes read since the last check, up to the last complete character (all of them once the file has ended). */
  #checkText(): void {
    if (this.#invalidAt >= 0) return;
    const end = this.#ended ? this.#length : completeCharactersEnd(this.#bytes, this.#length);
    if (isUtf8(this.#bytes.subarray(this.#checkedEnd, end))) {
      this.#checkedEnd = end;
    } else {
      const at = firstInvalidUtf8(this.#bytes, this.#checkedEnd, end);
      this.#invalidAt = at >= 0 ? at : this.#checkedEnd;
    }
  }

  /** Throws if the last scan stopped before a record that holds a byte that is not UTF-8. */
  #refuseInvalidText(): void {
    const stop = this.#scanner.stoppedAt;
    if (stop === undefined) return;
    const name = stop.line > 1 && this.#header[stop.field] !== undefined ? ` ("${this.#header[stop.field]}")` : '';
    const byte = this.#bytes[this.#invalidAt]!.toString(16).toUpperCase().padStart(2, '0');
    throw new FileError(
      `${this.path}: line ${stop.line}, column ${stop.field + 1}${name}: byte 0x${byte} at offset ${this.#bufferStart + this.#invalidAt} is not UTF-8; ` +
        'knnet reads UTF-8 only: convert the file (from Latin-1: iconv -f latin1 -t utf-8)',
    );
  }

  /** Appends the next chunk of the file to the bytes held; false once the file has ended. */
  async #readChunk(): Promise<boolean> {
    if (this.#ended) return false;
    if (this.#bytes.length < this.#length + this.#chunkBytes + 1) {
      // One record longer than a chunk: make room for it.
      const larger = Buffer.allocUnsafe(2 * this.#bytes.length);
      this.#bytes.copy(larger, 0, 0, this.#length);
      this.#bytes = larger;
    }
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.#handle.read(this.#bytes, this.#length, this.#chunkBytes, null));
    } catch (error) {
      throw new FileError(`cannot read ${this.path}: ${describeFileError(error)}`);
    }
    this.#bytesRead += bytesRead;
    this.#length += bytesRead;
    this.#bytes[this.#length] = LINE_FEED;
    if (bytesRead === 0) this.#ended = true;
    if (this.#byteOrderMarkPending && (this.#length >= 3 || this.#ended)) {
      this.#byteOrderMarkPending = false;
      if (this.#bytes[0] === 0xef && this.#bytes[1] === 0xbb && this.#bytes[2] === 0xbf) this.#consume(3);
    }
    this.#checkText();
    return bytesRead > 0;
  }

  /**
   * Calls `onRecord` for every record after the header, each checked to have as many fields as
   * the header; after each chunk of the file, awaits `afterChunk` (to write output, show
   * progress).
   */
  async readRecords(onRecord: (record: CsvRecord) => void, afterChunk: () => Promise<void> | void = () => {}): Promise<void> {
    const columns = this.header.length;
    const checked = (record: CsvRecord) => {
      if (record.fieldCount !== columns) {
        throw new FileError(`${this.path}: line ${record.line}: ${record.fieldCount} ${record.fieldCount === 1 ? 'field' : 'fields'}, but the header has ${columns}`);
      }
      onRecord(record);
    };
    for (;;) {
      const more = await this.#readChunk();
      this.#consume(this.#scanner.scan(this.#bytes, this.#length, !more, checked, Infinity, this.#invalidAt));
      this.#refuseInvalidText();
      await afterChunk();
      if (!more) return;
    }
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
