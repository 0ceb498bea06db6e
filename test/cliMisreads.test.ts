// Input the CLI used to misread without a word: bytes that are not UTF-8, and numeric-looking
// labels that a float64 cannot hold as written.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, knnet } from './cliHelpers.js';

describe.runIf(existsSync(cliPath))('knnet refuses or keeps exact what it used to misread', { timeout: 30_000 }, () => {
  let dir: string;
  const write = (name: string, content: string | Buffer) => writeFile(join(dir, name), content);
  const predict = (train: string, test: string, ...options: string[]) => knnet(['predict', '--train', train, '--test', test, ...options], dir);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knnet-misreads-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('text that is not UTF-8', () => {
    it('a Latin-1 label ("café" beside "cafè") is refused with the file, line, column and byte offset', async () => {
      // 0xE9 is é and 0xE8 is è in Latin-1; decoded as UTF-8 both used to become U+FFFD, one class.
      await write('latin1.csv', Buffer.from('x,label\n0,café\n10,cafè\n', 'latin1'));
      await write('query.csv', 'x\n1\n');
      const out = await predict('latin1.csv', 'query.csv');
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr).toBe(
        'knnet: latin1.csv: line 2, column 2 ("label"): byte 0xE9 at offset 13 is not UTF-8; knnet reads UTF-8 only: convert the file (from Latin-1: iconv -f latin1 -t utf-8)\n',
      );
    });

    it('a Latin-1 column name in the test file is refused before it can match the wrong training column', async () => {
      await write('names-train.csv', 'café,cafè,label\n0,0,a\n1,5,b\n');
      await write('names-test.csv', Buffer.from('cafè,café\n5,1\n', 'latin1'));
      const out = await predict('names-train.csv', 'names-test.csv');
      expect(out.code).toBe(1);
      expect(out.stderr).toBe('knnet: names-test.csv: line 1, column 1: byte 0xE8 at offset 3 is not UTF-8; knnet reads UTF-8 only: convert the file (from Latin-1: iconv -f latin1 -t utf-8)\n');
    });

    it('a truncated sequence, an overlong form and an encoded surrogate are refused too', async () => {
      await write('query.csv', 'x\n1\n');
      const cases: [string, Buffer, string][] = [
        ['truncated', Buffer.concat([Buffer.from('x,label\n0,a\n1,'), Buffer.from([0xe2, 0x82]), Buffer.from('\n')]), 'line 3, column 2 ("label"): byte 0xE2 at offset 14'],
        ['overlong', Buffer.concat([Buffer.from('x,label\n0,'), Buffer.from([0xc0, 0xaf]), Buffer.from('\n')]), 'line 2, column 2 ("label"): byte 0xC0 at offset 10'],
        ['surrogate', Buffer.concat([Buffer.from('x,label\n0,"a'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"\n')]), 'line 2, column 2 ("label"): byte 0xED at offset 12'],
      ];
      for (const [name, bytes, where] of cases) {
        await write(`${name}.csv`, bytes);
        const out = await predict(`${name}.csv`, 'query.csv');
        expect(out.code, name).toBe(1);
        expect(out.stderr, name).toBe(`knnet: ${name}.csv: ${where} is not UTF-8; knnet reads UTF-8 only: convert the file (from Latin-1: iconv -f latin1 -t utf-8)\n`);
      }
    });

    it('a character split across the 1 MiB read chunks is read whole, in every split', async () => {
      // Rows of padding, then labels of 2, 3 and 4 bytes placed to straddle offset 2^20 at each cut.
      const header = 'x,label\n';
      const chunk = 1 << 20;
      for (const [character, width] of [['é', 2], ['€', 3], ['😀', 4]] as const) {
        for (let before = 1; before < width; before++) {
          const labelStart = chunk - before;
          // "0,a\n" rows up to the last row, whose label starts at labelStart.
          const prefix = `9,`;
          let body = '';
          const fill = labelStart - header.length - prefix.length;
          const rows = Math.floor(fill / 4);
          body = '0,a\n'.repeat(rows - 1);
          const rest = fill - 4 * (rows - 1);
          body += `0,${'a'.repeat(rest - 3)}\n`;
          const text = `${header}${body}${prefix}${character}\n5,${character}\n`;
          expect(Buffer.byteLength(`${header}${body}${prefix}`)).toBe(labelStart);
          await write('straddle.csv', text);
          await write('straddle-test.csv', 'x,label\n9,' + character + '\n');
          const out = await predict('straddle.csv', 'straddle-test.csv');
          expect(out.stderr, `${character} cut after ${before} bytes`).toBe('knnet: accuracy on straddle-test.csv: 1.0000 (1 rows)\n');
          expect(out.stdout).toBe(`label\n${character}\n`);
        }
      }
    }, 60_000);
  });

  describe('numeric-looking labels', () => {
    it('labels past 2^53 stay text, exact: 9007199254740993 and 9007199254740992 are two classes', async () => {
      await write('big.csv', 'x,id\n0,9007199254740993\n10,9007199254740992\n');
      await write('big-test.csv', 'x,id\n1,9007199254740993\n9,9007199254740992\n');
      const out = await predict('big.csv', 'big-test.csv', '--proba');
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('id,p_9007199254740992,p_9007199254740993\n9007199254740993,0,1\n9007199254740992,1,0\n');
      expect(out.stderr).toBe('knnet: accuracy on big-test.csv: 1.0000 (2 rows)\n');
    });

    it('20-digit ids are printed as written', async () => {
      await write('ids.csv', 'x,id\n0,12345678901234567890\n10,00000000000000000042\n');
      const out = await predict('ids.csv', 'ids.csv');
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('id\n12345678901234567890\n00000000000000000042\n');
    });

    it('labels that round-trip through a number are numbers, in numeric order (2 before 10), up to ±2^53', async () => {
      await write('order.csv', 'x,label\n0,10\n5,2\n10,-9007199254740992\n15,9007199254740992\n');
      const out = await predict('order.csv', 'order.csv', '--proba');
      expect(out.stdout.split('\n')[0]).toBe('label,p_-9007199254740992,p_2,p_10,p_9007199254740992');
      expect(out.stdout.split('\n')[1]).toBe('10,0,0,1,0');
    });

    it('2^53 + 2 round-trips but is past 2^53: the column is text, in text order', async () => {
      await write('past.csv', 'x,label\n0,95\n10,9007199254740994\n');
      const out = await predict('past.csv', 'past.csv', '--proba');
      expect(out.stdout).toBe('label,p_9007199254740994,p_95\n95,0,1\n9007199254740994,1,0\n');
    });

    it('leading zeros, "1.0" and "1e3" do not round-trip: text, printed as written', async () => {
      await write('spelled.csv', 'x,label\n0,007\n10,2.0\n20,1e3\n');
      const out = await predict('spelled.csv', 'spelled.csv', '--proba');
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('label,p_007,p_1e3,p_2.0\n007,1,0,0\n2.0,0,0,1\n1e3,0,1,0\n');
      expect(out.stderr).toBe('knnet: accuracy on spelled.csv: 1.0000 (3 rows)\n');
    });

    it('one number written two ways in a text column gets a warning: they are two classes', async () => {
      await write('twice.csv', 'x,label\n0,1\n10,2\n20,1.0\n');
      const out = await predict('twice.csv', 'twice.csv');
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('label\n1\n2\n1.0\n');
      expect(out.stderr).toBe(
        'knnet: warning: twice.csv: the labels "1" (line 2) and "1.0" (line 4) of "label" are one number written two ways, so they are two classes; write them alike to make them one\n' +
          'knnet: accuracy on twice.csv: 1.0000 (3 rows)\n',
      );
    });

    it('fractions: "0.1" is refused as continuous; with --classify "0.10" and "0.1" are two text classes, as written', async () => {
      await write('fractions.csv', 'x,label\n0,0.1\n10,0.10\n20,0.5\n');
      const refused = await predict('fractions.csv', 'fractions.csv');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(
        'knnet: fractions.csv: line 2, column 2 ("label"): the label 0.1 is not a whole number: a numeric target with fractions is continuous, not a set of classes; pass --regression to predict it, or --classify to keep each value as a class\n',
      );
      const classes = await predict('fractions.csv', 'fractions.csv', '--classify', '--proba');
      expect(classes.code).toBe(0);
      expect(classes.stdout).toBe('label,p_0.1,p_0.10,p_0.5\n0.1,1,0,0\n0.10,0,1,0\n0.5,0,0,1\n');
      expect(classes.stderr).toBe(
        'knnet: warning: fractions.csv: the labels "0.1" (line 2) and "0.10" (line 3) of "label" are one number written two ways, so they are two classes; write them alike to make them one\n' +
          'knnet: accuracy on fractions.csv: 1.0000 (3 rows)\n',
      );
    });

    it('a test label is scored against a numeric class by its exact value: 9007199254740993 is not 9007199254740992', async () => {
      await write('near.csv', 'x,label\n0,9007199254740992\n10,95\n');
      await write('near-test.csv', 'x,label\n1,9007199254740993\n2,9007199254740992.0\n11,95\n');
      const out = await predict('near.csv', 'near-test.csv');
      expect(out.stdout).toBe('label\n9007199254740992\n9007199254740992\n95\n');
      expect(out.stderr).toBe('knnet: accuracy on near-test.csv: 0.6667 (3 rows)\n');
    });
  });
});
