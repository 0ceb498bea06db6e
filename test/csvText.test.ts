// The CSV reader's text: UTF-8 checked chunk by chunk (a character cut by a chunk's end is
// whole), refused with its line, column and offset wherever the chunks end; quoted fields
// without the spaces after their closing quote; empty fields.
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvFile } from '../src/cli/csvFile.js';
import { RecordScanner } from '../src/cli/csvRecords.js';
import { completeCharactersEnd, firstInvalidUtf8, isUtf8 } from '../src/cli/utf8.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knnet-csv-text-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The header and records of `bytes` read through CsvFile in chunks of `chunkBytes`, or the error's message. */
async function readAll(bytes: Buffer, chunkBytes: number): Promise<{ header: readonly string[]; records: string[][] } | string> {
  const path = join(dir, 'file.csv');
  await writeFile(path, bytes);
  let file: CsvFile | undefined;
  try {
    file = await CsvFile.open(path, chunkBytes);
    const records: string[][] = [];
    await file.readRecords((record) => records.push(Array.from({ length: record.fieldCount }, (_, i) => record.text(i))));
    return { header: file.header, records };
  } catch (error) {
    return (error as Error).message;
  } finally {
    await file?.close();
  }
}

describe('UTF-8', () => {
  it('the walk that finds the first bad byte agrees with isUtf8 on every 1-, 2- and 3-byte string', () => {
    const check = (bytes: Uint8Array) => expect(firstInvalidUtf8(bytes, 0, bytes.length) < 0, Buffer.from(bytes).toString('hex')).toBe(isUtf8(bytes));
    for (let a = 0; a < 256; a++) {
      check(Uint8Array.of(a));
      for (let b = 0; b < 256; b++) check(Uint8Array.of(a, b));
    }
    // Three bytes: every lead byte from C0 up with the boundary values of the bytes after it.
    const edges = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
    for (let a = 0xc0; a < 256; a++) for (const b of edges) for (const c of edges) check(Uint8Array.of(a, b, c));
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
      check(bytes);
    }), { numRuns: 20_000 });
  });

  it('the bytes of a character cut at the end wait for the next chunk; a complete or a bad one does not', () => {
    const euro = Buffer.from('a€', 'utf8'); // 61 E2 82 AC
    expect(completeCharactersEnd(euro, 4)).toBe(4);
    expect(completeCharactersEnd(euro, 3)).toBe(1);
    expect(completeCharactersEnd(euro, 2)).toBe(1);
    expect(completeCharactersEnd(euro, 1)).toBe(1);
    expect(completeCharactersEnd(Uint8Array.of(0x61, 0xff), 2)).toBe(2);
    expect(completeCharactersEnd(Uint8Array.of(0x80, 0x80, 0x80, 0x80), 4)).toBe(4);
  });

  const good = Buffer.from('\ufeffnom,"é, €"\r\n😀,"deux\nlignes ü"\n\nz,Ω\n', 'utf8');
  it('a file read in chunks of 1 to 12 bytes gives the same header and records as in one chunk', async () => {
    const whole = await readAll(good, 1 << 20);
    expect(whole).toEqual({ header: ['nom', 'é, €'], records: [['😀', 'deux\nlignes ü'], ['z', 'Ω']] });
    for (let chunk = 1; chunk <= 12; chunk++) expect(await readAll(good, chunk), `chunks of ${chunk}`).toEqual(whole);
  });

  it('a bad byte is refused at the same line, column and offset wherever the chunks end', async () => {
    const bad = Buffer.concat([good.subarray(0, 30), Buffer.from([0xe9]), good.subarray(30)]);
    const message = 'file.csv: line 3, column 2 ("é, €"): byte 0xE9 at offset 30 is not UTF-8; knnet reads UTF-8 only: convert the file (from Latin-1: iconv -f latin1 -t utf-8)';
    for (const chunk of [1, 2, 3, 5, 7, 11, 1 << 20]) {
      const result = await readAll(bad, chunk);
      expect(typeof result === 'string' ? result.replace(/^.*file\.csv/, 'file.csv') : result, `chunks of ${chunk}`).toBe(message);
    }
  });

  it('a character cut short by the end of the file is refused', async () => {
    const result = await readAll(Buffer.from([0x61, 0x0a, 0x62, 0xf0, 0x9f, 0x98]), 4);
    expect(typeof result === 'string' && result.replace(/^.*file\.csv/, 'file.csv')).toBe(
      'file.csv: line 2, column 1 ("a"): byte 0xF0 at offset 3 is not UTF-8; knnet reads UTF-8 only: convert the file (from Latin-1: iconv -f latin1 -t utf-8)',
    );
  });
});

describe('fields', () => {
  const scan = (text: string) => {
    const bytes = Buffer.from(text + '\n');
    const rows: { text: string[]; empty: boolean[] }[] = [];
    new RecordScanner('t.csv').scan(bytes, bytes.length - 1, true, (record) => {
      rows.push({
        text: Array.from({ length: record.fieldCount }, (_, i) => record.text(i)),
        empty: Array.from({ length: record.fieldCount }, (_, i) => record.isEmpty(i)),
      });
    });
    return rows;
  };

  it('a quoted field ends at its closing quote: spaces after it are not part of it', () => {
    expect(scan('"a"  ,"b" \t,"c"')).toEqual([{ text: ['a', 'b', 'c'], empty: [false, false, false] }]);
  });

  it('a field is empty when it holds nothing but spaces, or "" quoted; " " quoted is not empty', () => {
    expect(scan(' ,"",  "" ,x," ",0')).toEqual([{ text: ['', '', '', 'x', ' ', '0'], empty: [true, true, true, false, false, false] }]);
  });
});
