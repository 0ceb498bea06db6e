// The built `knnet` command on small CSV files: its output, its errors and its exit codes.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { cliPath, csvOf, knnet, root, type Outcome } from './cliHelpers.js';

const irisLines = (await readFile(join(root, 'data/iris.csv'), 'utf8')).trim().split(/\r?\n/);
const irisHeader = irisLines[0]!;
const irisRows = irisLines.slice(1);
const trainRows = irisRows.filter((_, i) => i % 3 !== 0);
const testRows = irisRows.filter((_, i) => i % 3 === 0);

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

  it('--metric cosine predicts what the API predicts with the cosine metric', async () => {
    await writeFile(join(dir, 'cos-train.csv'), 'x,y,label\n1,0,east\n0,1,north\n-1,0,west\n10,1,east\n');
    await writeFile(join(dir, 'cos-test.csv'), 'x,y\n100,30\n0.1,5\n-3,-0.5\n');
    const out = await knnet(['predict', '--train', 'cos-train.csv', '--test', 'cos-test.csv', '--metric', 'cosine'], dir);
    expect(out.code).toBe(0);
    const net = await KnnNetwork.fit([[1, 0], [0, 1], [-1, 0], [10, 1]], ['east', 'north', 'west', 'east'], { metric: 'cosine' });
    expect(out.stdout.trim().split('\n')).toEqual(['label', ...net.predict([[100, 30], [0.1, 5], [-3, -0.5]])]);
    net.dispose();
  });

  it('--metric dot predicts what the API predicts with the dot metric, and refuses --weights distance with it', async () => {
    await writeFile(join(dir, 'dot-train.csv'), 'x,y,label\n1,0,east\n0,1,north\n-1,0,west\n2,2,far\n');
    await writeFile(join(dir, 'dot-test.csv'), 'x,y\n1,0.1\n-1,-0.5\n0,0\n');
    const out = await knnet(['predict', '--train', 'dot-train.csv', '--test', 'dot-test.csv', '--metric', 'dot'], dir);
    expect(out.code).toBe(0);
    const net = await KnnNetwork.fit([[1, 0], [0, 1], [-1, 0], [2, 2]], ['east', 'north', 'west', 'far'], { metric: 'dot' });
    expect(out.stdout.trim().split('\n')).toEqual(['label', ...net.predict([[1, 0.1], [-1, -0.5], [0, 0]])]);
    expect(out.stdout.trim().split('\n')).toEqual(['label', 'far', 'west', 'east']);
    net.dispose();
    const refused = await knnet(['predict', '--train', 'dot-train.csv', '--test', 'dot-test.csv', '--metric', 'dot', '--weights', 'distance'], dir);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/weights 'distance'.*metric 'dot'/);
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

    const usage: [string, string[], string][] = [
      ['no command', [], 'missing command: predict, fit or demo'],
      ['an unknown command', ['train'], 'unknown command "train"; did you mean fit?'],
      ['an unknown option', ['predict', '--train', 'a', '--test', 'b', '--neighbours', '3'], 'unknown option --neighbours; did you mean --k?'],
      ['a missing --test', ['predict', '--train', 'train.csv'], 'predict needs --test FILE'],
      ['k = 0', ['predict', '--train', 'a', '--test', 'b', '--k', '0'], '--k must be a positive integer or "all", got "0"'],
      ['k = 2.5', ['predict', '--train', 'a', '--test', 'b', '--k', '2.5'], '--k must be a positive integer or "all", got "2.5"'],
      ['an unknown weighting', ['predict', '--train', 'a', '--test', 'b', '--weights', 'cosine'], '--weights must be uniform, distance or softmax, got "cosine"'],
      ['an unknown metric', ['predict', '--train', 'a', '--test', 'b', '--metric', 'hamming'], '--metric must be euclidean, cosine, manhattan or dot, got "hamming"'],
      ['a negative λ', ['predict', '--train', 'a', '--test', 'b', '--lambda=-1'], '--lambda must be a finite decimal number ≥ 0, got "-1"'],
      ['--proba with --regression', ['predict', '--train', 'a', '--test', 'b', '--proba', '--regression'], '--proba gives class probabilities; it cannot be combined with --regression'],
      ['an empty name in --drop', ['predict', '--train', 'a', '--test', 'b', '--drop', 'id,'], '--drop takes column names separated by commas, got "id,"'],
      ['the benchmarks, which the package does not ship', ['bench'], 'the benchmarks are not part of the installed package; run `npm run bench` in a clone of the repository'],
    ];
    it.each(usage)('a usage error (%s) prints one line and a pointer to --help, and exits with 2', async (_, args, message) => {
      const out = await knnet(args, dir);
      expect(out.code).toBe(2);
      expect(out.stderr).toBe(`knnet: ${message}\nsee knnet --help\n`);
      expect(out.stdout).toBe('');
    });
  });

  describe('real files', () => {
    const wineLike = (rows: number, withId: boolean) => {
      const lines = [withId ? 'id,a,b,class' : 'a,b,class'];
      for (let i = 0; i < rows; i++) {
        const label = i < rows / 2 ? 1 : 2;
        const a = (label * 10 + Math.sin(i)).toFixed(3);
        const b = (Math.cos(i * 7) * 3).toFixed(3);
        lines.push(withId ? `${i},${a},${b},${label}` : `${a},${b},${label}`);
      }
      return lines.join('\n') + '\n';
    };

    it('a row-id column gets a warning; --drop id and --features a,b both leave it out', async () => {
      await writeFile(join(dir, 'id-train.csv'), wineLike(60, true));
      await writeFile(join(dir, 'id-test.csv'), 'id,a,b\n999,10.5,0\n999,20.2,1\n');
      const warned = await knnet(['predict', '--train', 'id-train.csv', '--test', 'id-test.csv'], dir);
      expect(warned.code).toBe(0);
      expect(warned.stderr).toBe('knnet: warning: column "id" of id-train.csv holds increasing whole numbers, like a row id, and is used as a feature; leave it out with --drop id\n');
      expect(warned.stdout).toBe('class\n2\n2\n'); // the id dominates the distances
      for (const selection of [['--drop', 'id'], ['--features', 'a, b'], ['--features', 'b,a']]) {
        const out = await knnet(['predict', '--train', 'id-train.csv', '--test', 'id-test.csv', ...selection], dir);
        expect(out.code, selection.join(' ')).toBe(0);
        expect(out.stderr).toBe('');
        expect(out.stdout).toBe('class\n1\n2\n');
      }
    });

    const selectionErrors: [string, string[], string][] = [
      ['an unknown --drop column', ['--drop', 'nope'], '--drop: id-train.csv has no column named "nope"; its header has "id", "a", "b", "class"'],
      ['an unknown --features column', ['--features', 'a,zz'], '--features: id-train.csv has no column named "zz"'],
      ['the target among --features', ['--features', 'a,class'], '--features: "class" is the target column'],
      ['the target in --drop', ['--drop', 'class'], '--drop: "class" is the target column'],
      ['every feature dropped', ['--drop', 'id,a,b'], 'id-train.csv: no feature columns are left besides the target "class"'],
    ];
    it.each(selectionErrors)('column selection: %s is an error naming the option', async (_, options, message) => {
      const out = await knnet(['predict', '--train', 'id-train.csv', '--test', 'id-test.csv', ...options], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(message);
    });

    it('a continuous target without --regression is refused, pointing to --regression', async () => {
      await writeFile(join(dir, 'continuous.csv'), 'x,y\n1,2\n2,2.5\n3,3.25\n');
      const out = await knnet(['predict', '--train', 'continuous.csv', '--test', 'continuous.csv'], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toBe('knnet: continuous.csv: line 3, column 2 ("y"): the label 2.5 is not a whole number: a numeric target with fractions is continuous, not a set of classes; pass --regression to predict it, or --classify to keep each value as a class\n');
      const regression = await knnet(['predict', '--train', 'continuous.csv', '--test', 'continuous.csv', '--regression'], dir);
      expect(regression.code).toBe(0);
      expect(regression.stdout).toBe('y\n2\n2.5\n3.25\n');
    });

    it('compares labels in one type decided from both files (text when either has text)', async () => {
      await writeFile(join(dir, 'mixed-train.csv'), 'x,label\n0,1\n10,2\n20,x\n');
      await writeFile(join(dir, 'mixed-test.csv'), 'x,label\n1,1\n11,2\n');
      const mixed = await knnet(['predict', '--train', 'mixed-train.csv', '--test', 'mixed-test.csv'], dir);
      expect(mixed.stdout).toBe('label\n1\n2\n');
      expect(mixed.stderr).toBe('knnet: accuracy on mixed-test.csv: 1.0000 (2 rows)\n');
      // Numbers in both files: 2.0 is the class 2.
      await writeFile(join(dir, 'numeric-train.csv'), 'x,label\n0,1\n10,2\n');
      await writeFile(join(dir, 'numeric-test.csv'), 'x,label\n1,1\n11,2.0\n');
      const numeric = await knnet(['predict', '--train', 'numeric-train.csv', '--test', 'numeric-test.csv'], dir);
      expect(numeric.stderr).toBe('knnet: accuracy on numeric-test.csv: 1.0000 (2 rows)\n');
    });

    it('reads a byte order mark, CRLF and blank lines; a label is the same class quoted, spaced or bare', async () => {
      await writeFile(join(dir, 'bom.csv'), '\ufeffx,label\r\n0,a\r\n\r\n1,"a"\r\n2, a \r\n10,longer label\r\n11,"longer label"\r\n');
      const out = await knnet(['predict', '--train', 'bom.csv', '--test', 'bom.csv', '--proba'], dir);
      expect(out.stderr).toBe('knnet: accuracy on bom.csv: 1.0000 (5 rows)\n');
      expect(out.stdout).toBe('label,p_a,p_longer label\na,1,0\na,1,0\na,1,0\nlonger label,0,1\nlonger label,0,1\n');
    });

    it('scores only the labelled rows of the test file; empty labels are no error', async () => {
      await writeFile(join(dir, 'partly-labelled.csv'), 'x,label\n1,1\n11,\n12,1\n');
      const out = await knnet(['predict', '--train', 'mixed-train.csv', '--test', 'partly-labelled.csv'], dir);
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('label\n1\n2\n2\n');
      expect(out.stderr).toBe('knnet: accuracy on partly-labelled.csv: 0.5000 (2 labelled rows of 3)\n');
    });

    it('with --regression, a test target that is not a number skips the R² with a note, not the predictions', async () => {
      await writeFile(join(dir, 'reg-train.csv'), 'x,y\n0,1\n10,3\n');
      await writeFile(join(dir, 'reg-test.csv'), 'x,y\n1,1\n9,n/a\n');
      const out = await knnet(['predict', '--train', 'reg-train.csv', '--test', 'reg-test.csv', '--regression'], dir);
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('y\n1\n3\n');
      expect(out.stderr).toBe('knnet: no R²: reg-test.csv: line 3, column 2 ("y") holds "n/a", not a number\n');
    });

    it('a value too large to square names the file, line and column', async () => {
      await writeFile(join(dir, 'huge.csv'), 'a,b,label\n1,2,x\n3,1e154,y\n');
      const out = await knnet(['predict', '--train', 'huge.csv', '--test', 'huge.csv'], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(/^knnet: huge\.csv: line 3, column 2 \("b"\): 1e154 is too large: with 2 features values must stay within ±\d\.\d{3}e\+153/);
    });

    it('numbers are decimal in options as in files: spaces around them pass, hexadecimal does not', async () => {
      await writeFile(join(dir, 'spaced.csv'), 'x,label\n 0 ,a\n\t10,b\n');
      const spaced = await knnet(['predict', '--train', 'spaced.csv', '--test', 'spaced.csv', '--weights', 'softmax', '--lambda', ' 2', '--k', ' 2 '], dir);
      expect(spaced.code).toBe(0);
      expect(spaced.stdout).toBe('label\na\nb\n');
      const hexOption = await knnet(['predict', '--train', 'spaced.csv', '--test', 'spaced.csv', '--lambda', '0x10'], dir);
      expect(hexOption.code).toBe(2);
      expect(hexOption.stderr).toMatch(/--lambda must be a finite decimal number ≥ 0, got "0x10"/);
      await writeFile(join(dir, 'hex.csv'), 'x,label\n0x10,a\n');
      const hexField = await knnet(['predict', '--train', 'hex.csv', '--test', 'spaced.csv'], dir);
      expect(hexField.code).toBe(1);
      expect(hexField.stderr).toMatch(/hex\.csv: line 2, column 1 \("x"\): expected a number, got "0x10"/);
    });

    it('--threads N or auto predicts the same rows; anything else is a usage error', async () => {
      const one = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv', '--k', '3', '--proba', '--threads', '1'], dir);
      expect(one.code).toBe(0);
      for (const threads of ['2', 'auto']) {
        const out = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv', '--k', '3', '--proba', '--threads', threads], dir);
        expect(out.stdout).toBe(one.stdout);
      }
      const bad = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv', '--threads', '0'], dir);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--threads must be a positive integer or "auto", got "0"/);
    });

    it('a test file with only a header says there is nothing to predict', async () => {
      await writeFile(join(dir, 'header-only.csv'), 'sepal_length,sepal_width,petal_length,petal_width\n');
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'header-only.csv'], dir);
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr).toBe('knnet: header-only.csv: no data rows after the header; there is nothing to predict\n');
    });

    it('a header of 100 000 columns is matched by name', async () => {
      const names = Array.from({ length: 100_000 }, (_, i) => `c${i}`);
      const row = (value: number) => names.map((_, i) => (i === 99_999 ? value : 0)).join(',');
      await writeFile(join(dir, 'wide-train.csv'), `${names.join(',')},label\n${row(0)},low\n${row(10)},high\n`);
      await writeFile(join(dir, 'wide-test.csv'), `${[...names].reverse().join(',')}\n${[...row(9).split(',')].reverse().join(',')}\n`);
      const out = await knnet(['predict', '--train', 'wide-train.csv', '--test', 'wide-test.csv'], dir);
      expect(out.stderr).toBe('');
      expect(out.stdout).toBe('label\nhigh\n');
    });

    it('streams files larger than its read chunks, row for row as the API predicts', async () => {
      const rows = 40_000;
      let seed = 7;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const X = Array.from({ length: rows }, () => [random() * 100 - 50, random() * 100 - 50, random()]);
      const y = X.map(([a, b]) => (a! * b! > 0 ? 'same sign' : 'mixed'));
      await writeFile(join(dir, 'big-train.csv'), 'a,b,c,label\n' + X.map((r, i) => `${r.join(',')},${y[i]}`).join('\n') + '\n');
      const queries = X.slice(0, 30_000).map(([a, b, c]) => [a! + 0.25, b! - 0.25, c!]);
      await writeFile(join(dir, 'big-test.csv'), 'c,b,a\n' + queries.map(([a, b, c]) => `${c},${b},${a}`).join('\r\n') + '\r\n');
      const out = await knnet(['predict', '--train', 'big-train.csv', '--test', 'big-test.csv', '--k', '3'], dir);
      expect(out.code).toBe(0);
      const net = await KnnNetwork.fit(X, y, { k: 3 });
      expect(out.stdout).toBe(['label', ...(net.predict(queries) as string[])].join('\n') + '\n');
      net.dispose();
    }, 60_000);
  });

  describe('output', () => {
    it('--out to a full device says so and exits with 1', async () => {
      const out = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv', '--out', '/dev/full'], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toBe('knnet: cannot write /dev/full: no space left on the device\n');
    });

    it('stdout on a full device says so and exits with 1', async () => {
      const full = openSync('/dev/full', 'w');
      try {
        const out = await knnet(['predict', '--train', 'train.csv', '--test', 'test.csv'], dir, ['ignore', full, 'pipe']);
        expect(out.code).toBe(1);
        expect(out.stderr).toBe('knnet: cannot write to standard output: no space left on the device\n');
      } finally {
        closeSync(full);
      }
    });

    it('--out into a missing directory says so before reading anything', async () => {
      const out = await knnet(['predict', '--train', 'nope.csv', '--test', 'test.csv', '--out', 'no/such/dir.csv'], dir);
      expect(out.code).toBe(1);
      expect(out.stderr).toBe('knnet: cannot write no/such/dir.csv: no such directory\n');
    });

    it('a reader that stops early (| head -2) ends the run quietly', async () => {
      const rows = Array.from({ length: 30_000 }, (_, i) => `${i % 7},${(i * 3) % 11},${i % 5},${i % 2}`);
      await writeFile(join(dir, 'many.csv'), csvOf('sepal_length,sepal_width,petal_length,petal_width', rows));
      const script = `"${process.execPath}" "${cliPath}" predict --train train.csv --test many.csv | head -2; echo "status \${PIPESTATUS[0]}" >&2`;
      const out = await new Promise<Outcome>((resolve, reject) => {
        const child = spawn('bash', ['-c', script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(out.stdout.split('\n')).toHaveLength(3);
      expect(out.stderr).toBe('status 0\n');
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
