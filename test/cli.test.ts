// The built `knnet` command on small CSV files: its output, its errors and its exit codes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cliPath = join(root, 'dist/src/cli.js');
const irisLines = (await readFile(join(root, 'data/iris.csv'), 'utf8')).trim().split(/\r?\n/);
const irisHeader = irisLines[0]!;
const irisRows = irisLines.slice(1);
const trainRows = irisRows.filter((_, i) => i % 3 !== 0);
const testRows = irisRows.filter((_, i) => i % 3 === 0);

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function knnet(args: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const csvOf = (header: string, rows: string[]) => [header, ...rows].join('\n') + '\n';
const features = (row: string) => row.split(',').slice(0, 4).map(Number);

describe.runIf(existsSync(cliPath))('knnet CLI', { timeout: 30_000 }, () => {
  let dir: string;
  let expected1nn: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knnet-cli-'));
    await writeFile(join(dir, 'train.csv'), csvOf(irisHeader, trainRows));
    await writeFile(join(dir, 'test.csv'), csvOf(irisHeader, testRows));
    // Same features without the label, columns in another order: matched by name.
    await writeFile(
      join(dir, 'unlabelled.csv'),
      csvOf('petal_width,sepal_length,petal_length,sepal_width', testRows.map((r) => {
        const [sl, sw, pl, pw] = r.split(',');
        return [pw, sl, pl, sw].join(',');
      })),
    );
    const net = await KnnNetwork.fit(trainRows.map(features), trainRows.map((r) => r.split(',')[4]!), { k: 1 });
    expected1nn = (net.predict(testRows.map(features)) as string[]).map(String);
    net.dispose();
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('predict', () => {
    it('writes one prediction per test row under the target name, and the accuracy on stderr', async () => {
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv'], dir);
      expect(out.code).toBe(0);
      const lines = out.stdout.trim().split('\n');
      expect(lines[0]).toBe('species');
      expect(lines.slice(1)).toEqual(expected1nn);
      expect(out.stderr).toMatch(/accuracy on test\.csv: 0\.9\d+ \(50 rows\)/);
      expect(out.stderr).not.toContain('\r'); // no progress bar when stderr is not a terminal
    });

    it('matches test columns to training columns by name, and needs no label column', async () => {
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'unlabelled.csv'], dir);
      expect(out.code).toBe(0);
      expect(out.stdout.trim().split('\n').slice(1)).toEqual(expected1nn);
      expect(out.stderr).toBe('');
    });

    it('--proba adds one probability column per class; each row sums to 1', async () => {
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv', '--k', 'all', '--weights', 'softmax', '--lambda', '0.5', '--proba'], dir);
      expect(out.code).toBe(0);
      const [header, ...rows] = out.stdout.trim().split('\n');
      expect(header).toBe('species,p_setosa,p_versicolor,p_virginica');
      expect(rows).toHaveLength(50);
      for (const row of rows) {
        const [label, ...p] = row.split(',');
        const proba = p.map(Number);
        expect(proba.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        expect(label).toBe(['setosa', 'versicolor', 'virginica'][proba.indexOf(Math.max(...proba))]);
      }
    });

    it('--out writes the file instead of stdout', async () => {
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv', '--out', 'predictions.csv'], dir);
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('');
      const written = (await readFile(join(dir, 'predictions.csv'), 'utf8')).trim().split('\n');
      expect(written).toEqual(['species', ...expected1nn]);
    });

    it('--target picks the label column by name, and numeric labels stay numbers', async () => {
      const species = ['setosa', 'versicolor', 'virginica'];
      const numbered = (rows: string[]) => rows.map((r) => {
        const cells = r.split(',');
        return [species.indexOf(cells[4]!) + 1, ...cells.slice(0, 4)].join(',');
      });
      const header = 'class,sepal_length,sepal_width,petal_length,petal_width';
      await writeFile(join(dir, 'train-num.csv'), csvOf(header, numbered(trainRows)));
      await writeFile(join(dir, 'test-num.csv'), csvOf(header, numbered(testRows)));
      const out = await knnet(['predict', '--train', 'train-num.csv', '--test', 'test-num.csv', '--target', 'class', '--k', '5', '--weights', 'distance', '--proba'], dir);
      expect(out.code).toBe(0);
      const [head, ...rows] = out.stdout.trim().split('\n');
      expect(head).toBe('class,p_1,p_2,p_3');
      expect(new Set(rows.map((r) => r.split(',')[0]))).toEqual(new Set(['1', '2', '3']));
      expect(out.stderr).toMatch(/accuracy on test-num\.csv: 0\.9\d+/);
    });

    it('--regression predicts a numeric column as the mean of the neighbours, with R² on stderr', async () => {
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv', '--target', 'petal_width', '--regression', '--k', '5'], dir);
      // species is a string column: as a feature it must be rejected with line and column.
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/train\.csv: line 2, column 5 \("species"\): expected a number, got "setosa"; if "species" is not a feature, leave it out with --drop species/);

      const numeric = (rows: string[]) => rows.map((r) => r.split(',').slice(0, 4).join(','));
      const header = 'sepal_length,sepal_width,petal_length,petal_width';
      await writeFile(join(dir, 'train-reg.csv'), csvOf(header, numeric(trainRows)));
      await writeFile(join(dir, 'test-reg.csv'), csvOf(header, numeric(testRows)));
      const ok = await knnet(['predict', '--train', 'train-reg.csv', '--test', 'test-reg.csv', '--regression', '--k', '5'], dir);
      expect(ok.code).toBe(0);
      const [head, ...values] = ok.stdout.trim().split('\n');
      expect(head).toBe('petal_width');
      expect(values).toHaveLength(50);
      for (const v of values) expect(Number(v)).toBeGreaterThanOrEqual(0);
      expect(ok.stderr).toMatch(/R² on test-reg\.csv: 0\.9\d+/);
    });
  });

  it('quotes labels that contain commas or quotes, as they came in', async () => {
    await writeFile(join(dir, 'quoted-train.csv'), 'x,y,name\n0,0,"small, round"\n10,10,"the ""big"" one"\n');
    await writeFile(join(dir, 'quoted-test.csv'), 'x,y\n1,1\n9,9\n');
    const out = await knnet(['predict', '--train', 'quoted-train.csv', '--test', 'quoted-test.csv', '--proba'], dir);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('name,"p_small, round","p_the ""big"" one"\n"small, round",1,0\n"the ""big"" one",0,1\n');
  });

  describe('errors', () => {
    const cases: [string, string, RegExp][] = [
      ['a row with a missing field', 'a,b,label\n1,2,x\n3,4,y\n5,y\n', /bad\.csv: line 4: 2 fields, but the header has 3/],
      ['an unclosed quote', 'a,b,label\n1,2,x\n3,"4,y\n', /bad\.csv: line 3, column 2: the quote that opens this field is never closed/],
      ['a non-numeric feature', 'a,b,label\n1,2,x\n3,abc,y\n', /bad\.csv: line 3, column 2 \("b"\): expected a number, got "abc"/],
      ['an empty feature', 'a,b,label\n1,2,x\n,4,y\n', /bad\.csv: line 3, column 1 \("a"\): expected a number, got an empty field/],
      ['a duplicate column name', 'a,a,label\n1,2,x\n', /bad\.csv: line 1, column 2: duplicate column name "a"/],
      ['an empty file', '', /bad\.csv: the file is empty/],
    ];
    it.each(cases)('malformed CSV (%s) names the line and column and exits with 1', async (_, text, message) => {
      await writeFile(join(dir, 'bad.csv'), text);
      const out = await knnet(['predict', '--train', 'bad.csv', '--test', 'test.csv'], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(message);
      expect(out.stdout).toBe('');
    });

    it('a missing file exits with 1 and says so', async () => {
      const out = await knnet(['predict', '--train', 'nope.csv', '--test', 'test.csv'], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toBe('knnet: cannot read nope.csv: no such file\n');
    });

    it('a test file without a training feature column exits with 1', async () => {
      await writeFile(join(dir, 'partial.csv'), 'sepal_length,sepal_width\n1,2\n');
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'partial.csv'], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/partial\.csv: missing feature column "petal_length"/);
    });

    it('k larger than the training set names --k and the row count, exit 1', async () => {
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv', '--k', '101'], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toBe('knnet: --k is 101 but train.csv has only 100 rows; pass --k 100 or less (or --k all)\n');
    });

    const usage: [string, string[], RegExp][] = [
      ['no command', [], /missing command/],
      ['an unknown command', ['train'], /unknown command "train"/],
      ['an unknown option', ['predict', '--train', 'a', '--test', 'b', '--neighbours', '3'], /--neighbours/],
      ['a missing --test', ['predict', '--train', 'train.csv'], /predict needs --test FILE/],
      ['k = 0', ['predict', '--train', 'a', '--test', 'b', '--k', '0'], /--k must be a positive integer or "all", got "0"/],
      ['k = 2.5', ['predict', '--train', 'a', '--test', 'b', '--k', '2.5'], /--k must be/],
      ['an unknown weighting', ['predict', '--train', 'a', '--test', 'b', '--weights', 'cosine'], /--weights must be uniform, distance or softmax, got "cosine"/],
      ['a negative λ', ['predict', '--train', 'a', '--test', 'b', '--lambda=-1'], /--lambda must be a finite decimal number ≥ 0, got "-1"/],
      ['--proba with --regression', ['predict', '--train', 'a', '--test', 'b', '--proba', '--regression'], /cannot be combined with --regression/],
    ];
    it.each(usage)('a usage error (%s) prints the usage and exits with 2', async (_, args, message) => {
      const out = await knnet(args, dir);
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).toContain('Usage:');
      expect(out.stdout).toBe('');
    });
  });

  it('--help prints the usage on stdout and exits with 0', async () => {
    const out = await knnet(['--help'], dir);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('knnet predict --train FILE --test FILE');
  });

  it.runIf(existsSync(join(root, 'dist/src/demo/iris.js')))('`knnet demo` runs the Iris demo', async () => {
    const out = await knnet(['demo'], dir);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout.length).toBeGreaterThan(0);
  }, 60_000);
});
