// A CSV file read as a stream: its header first, then its records chunk by chunk, so that no
// more than one chunk of the file (plus one unfinished record) is held at a time.
import { open, type FileHandle } from 'node:fs/promises';
import { RecordScanner, type CsvRecord } from './csvRecords.js';
import { FileError } from './fileError.js';

const CHUNK_BYTES = 1 << 20;
const LINE_FEED = 10;

export class CsvFile {
  readonly path: string;
  /** Size in bytes when the file is a regular file (for progress), else undefined. */
  readonly size: number | undefined;
  readonly #handle: FileHandle;
  readonly #scanner: RecordScanner;
  /** Bytes read and not yet consumed, from offset 0, then a line feed (the scanner's sentinel). */
  #bytes = Buffer.allocUnsafe(CHUNK_BYTES + 1);
  #length = 0;
  #ended = false;
  #bytesRead = 0;
  #header: readonly string[] = [];

  private constructor(path: string, handle: FileHandle, size: number | undefined) {
    this.path = path;
    this.#handle = handle;
    this.size = size;
    this.#scanner = new RecordScanner(path);
  }

  /** The column names of the header line. */
  get header(): readonly string[] {
    return this.#header;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Opens `path` and reads its header line; the caller must close() it. */
  static async open(path: string): Promise<CsvFile> {
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
      const file = new CsvFile(path, handle, size);
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
      }, 1));
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
  }

  /** Appends the next chunk of the file to the bytes held; false once the file has ended. */
  async #readChunk(): Promise<boolean> {
    if (this.#ended) return false;
    if (this.#bytes.length < this.#length + CHUNK_BYTES + 1) {
      // One record longer than a chunk: make room for it.
      const larger = Buffer.allocUnsafe(2 * this.#bytes.length);
      this.#bytes.copy(larger, 0, 0, this.#length);
      this.#bytes = larger;
    }
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.#handle.read(this.#bytes, this.#length, CHUNK_BYTES, null));
    } catch (error) {
      throw new FileError(`cannot read ${this.path}: ${describeFileError(error)}`);
    }
    const first = this.#bytesRead === 0;
    this.#bytesRead += bytesRead;
    this.#length += bytesRead;
    this.#bytes[this.#length] = LINE_FEED;
    if (first && this.#length >= 3 && this.#bytes[0] === 0xef && this.#bytes[1] === 0xbb && this.#bytes[2] === 0xbf) this.#consume(3); // byte order mark
    if (bytesRead === 0) this.#ended = true;
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
      this.#consume(this.#scanner.scan(this.#bytes, this.#length, !more, checked));
      await afterChunk();
      if (!more) return;
    }
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message;
}
