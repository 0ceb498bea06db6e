// The CLI's CSV reading on its own: decimal numbers exactly as Number() reads them, records
// split the same whatever the chunk boundaries, quoting as RFC 4180 has it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordScanner, type CsvRecord } from '../src/cli/csvRecords.js';
import { decimalValue } from '../src/cli/decimal.js';
import { progressBar } from '../src/cli/progress.js';

describe('decimal numbers', () => {
  it('are bit for bit what Number() gives, on the fast path and off it', () => {
    const formats = [
      (x: number) => String(x),
      (x: number) => x.toFixed(5),
      (x: number) => x.toExponential(3),
      (x: number) => x.toPrecision(17),
      (x: number) => x.toPrecision(15),
      (x: number) => x.toFixed(0),
    ];
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: formats.length - 1 }), (x, f) => {
        const text = formats[f]!(x);
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return; // e.g. toFixed of 1e21
        expect(Object.is(decimalValue(text), Number(text)), text).toBe(true);
      }),
      { numRuns: 5000 },
    );
    const edges = ['0', '-0', '+0', '.5', '5.', '-.5e-3', '000123.4500', '9007199254740993', '123456789012345', '1234567890123456',
      '1e22', '1e23', '1e-22', '1e-23', '4.9e-324', '2e-324', '1.7976931348623157e308', '1e999', '0.1', '0.30000000000000004',
      '  7  ', '\t-2.5\t', '1E5', '1e+05', '0e999999999'];
    for (const text of edges) expect(Object.is(decimalValue(text), Number(text)), text).toBe(true);
  });

  it('refuse what is not decimal, although Number() takes it', () => {
    for (const text of ['', ' ', '0x10', '0b1', '0o7', 'Infinity', '-Infinity', 'NaN', '1_000', '1e', '1e+', '.', '-', '+', '1.2.3', '1 2', '١٢', '１２', 'e5', '5f']) {
      expect(decimalValue(text), JSON.stringify(text)).toBeNaN();
    }
  });
});

/** Every record of `text`, with the text is split into pieces at `cuts`, as [line, fields, numbers]. */
function scanInPieces(text: string, cuts: number[]): [number, string[], number[]][] {
  const bytes = Buffer.from(text, 'utf8');
  const scanner = new RecordScanner('test.csv');
  const records: [number, string[], number[]][] = [];
  const collect = (record: CsvRecord) => {
    const fields = Array.from({ length: record.fieldCount }, (_, i) => record.text(i));
    records.push([record.line, fields, fields.map((_, i) => record.number(i))]);
  };
  // The file reader's contract: the unconsumed bytes at offset 0, then a line feed.
  let held = Buffer.alloc(0);
  const ends = [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  let from = 0;
  for (const [index, end] of ends.entries()) {
    const final = index === ends.length - 1;
    const buffer = Buffer.concat([held, bytes.subarray(from, end), Buffer.from('\n')]);
    const length = buffer.length - 1;
    const consumed = scanner.scan(buffer, length, final, collect);
    held = Buffer.from(buffer.subarray(consumed, length));
    from = end;
  }
  expect(held.length).toBe(0);
  return records;
}

describe('records', () => {
  const text = 'a,b,label\r\n1, 2.5 ,"x, ""quoted"""\n\n  -3,4e2,"two\nlines"\n"5",  ,plain text \n7,0x10,ünïcödé\n8,9,last';
  const expected: [number, string[]][] = [
    [1, ['a', 'b', 'label']],
    [2, ['1', '2.5', 'x, "quoted"']],
    [4, ['-3', '4e2', 'two\nlines']],
    [6, ['5', '', 'plain text']],
    [7, ['7', '0x10', 'ünïcödé']],
    [8, ['8', '9', 'last']],
  ];

  it('split quoted commas, "" and line breaks, CRLF, blank lines, spaces and UTF-8 as RFC 4180 says', () => {
    const records = scanInPieces(text, []);
    expect(records.map(([line, fields]) => [line, fields])).toEqual(expected);
    expect(records.map(([, , numbers]) => numbers)).toEqual([
      [NaN, NaN, NaN], [1, 2.5, NaN], [-3, 400, NaN], [5, NaN, NaN], [7, NaN, NaN], [8, 9, NaN],
    ]);
  });

  it('come out the same wherever the chunks of the file end', () => {
    const whole = scanInPieces(text, []);
    const length = Buffer.byteLength(text);
    for (let cut = 1; cut < length; cut++) expect(scanInPieces(text, [cut]), `cut at ${cut}`).toEqual(whole);
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: length - 1 }), { maxLength: 12 }), (cuts) => {
      expect(scanInPieces(text, cuts)).toEqual(whole);
    }));
  });

  it('an unclosed quote and text after a closing quote name the line and column', () => {
    expect(() => scanInPieces('a,b\n1,"2\n3,4\n', [])).toThrow('test.csv: line 2, column 2: the quote that opens this field is never closed');
    expect(() => scanInPieces('a,b\n1,"2"x\n', [])).toThrow(/test\.csv: line 2, column 2: unexpected text after a closing quote/);
  });
});

describe('the progress bar', () => {
  it('draws on a terminal only, after half a second, and clears itself', () => {
    let time = 0;
    const written: string[] = [];
    const terminal = { isTTY: true, write: (text: string) => written.push(text) };
    const bar = progressBar('reading train.csv', false, terminal, () => time);
    bar.update(0.1, '10 rows');
    expect(written).toEqual([]);
    time = 600;
    bar.update(0.5, '50 rows');
    expect(written).toEqual([`\rreading train.csv [${'#'.repeat(15)}${'-'.repeat(15)}] 50% 50 rows\x1b[K`]);
    bar.finish();
    expect(written.at(-1)).toBe('\r\x1b[K');

    const silent: string[] = [];
    const pipe = progressBar('x', false, { isTTY: false, write: (t: string) => silent.push(t) }, () => (time += 1000));
    pipe.update(0.5, '');
    const scrolling = progressBar('x', true, { isTTY: true, write: (t: string) => silent.push(t) }, () => (time += 1000));
    scrolling.update(0.5, '');
    expect(silent).toEqual([]);
  });
});
