// A new user's mistakes, caught: a continuous target taken for classes, features on scales
// orders of magnitude apart, empty fields, options that do nothing, mistyped options.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { cliPath, fixture, knnet } from './cliHelpers.js';

/** A CSV file's header and rows of fields (no quoting in these files). */
async function readCsv(path: string): Promise<{ header: string[]; rows: string[][] }> {
  const [header, ...rows] = (await readFile(path, 'utf8')).trim().split('\n').map((line) => line.split(','));
  return { header: header!, rows };
}

/** Population mean and standard deviation per column (1 where it is 0), two passes, as --standardize documents. */
function standardized(train: number[][], rows: number[][]): { train: number[][]; rows: number[][] } {
  const d = train[0]!.length;
  const mean = Array.from({ length: d }, (_, f) => train.reduce((sum, row) => sum + row[f]!, 0) / train.length);
  const scale = mean.map((m, f) => {
    const deviation = Math.sqrt(train.reduce((sum, row) => sum + (row[f]! - m) ** 2, 0) / train.length);
    return deviation > 0 ? deviation : 1;
  });
  const apply = (row: number[]) => row.map((value, f) => (value - mean[f]!) / scale[f]!);
  return { train: train.map(apply), rows: rows.map(apply) };
}

describe.runIf(existsSync(cliPath))('knnet catches a new user\'s mistakes', { timeout: 30_000 }, () => {
  let dir: string;
  const write = (name: string, content: string) => writeFile(join(dir, name), content);
  const predict = (train: string, test: string, ...options: string[]) => knnet(['predict', '--train', train, '--test', test, ...options], dir);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knnet-mistakes-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('a continuous target', () => {
    const refusal = (path: string, distinct: number, rows: number, singletons: number) =>
      `knnet: ${path}: the target "progression" looks continuous, not like classes: ${distinct} distinct whole numbers in ${rows} rows, ${singletons} of them seen once ` +
      '(knnet refuses a numeric target with more than 20 distinct values, fewer than 3 rows per value on average, and at least a quarter of them seen once); ' +
      'pass --regression to predict it, or --classify to keep each value as a class\n';

    it('scikit-learn\'s diabetes target (whole numbers) is refused with exit 1, pointing to --regression', async () => {
      const out = await predict(fixture('diabetes.csv'), fixture('diabetes.csv'), '--proba');
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr).toBe(refusal(fixture('diabetes.csv'), 214, 442, 84));
    });

    it('so is a 70% split of it, and its targets written as pandas writes floats ("151.0")', async () => {
      const { header, rows } = await readCsv(fixture('diabetes.csv'));
      const split = rows.filter((_, i) => i % 10 < 7);
      const counts = new Map<string, number>();
      for (const row of split) counts.set(row.at(-1)!, (counts.get(row.at(-1)!) ?? 0) + 1);
      const singletons = [...counts.values()].filter((count) => count === 1).length;
      await write('split.csv', [header, ...split].map((row) => row.join(',')).join('\n') + '\n');
      const out = await predict('split.csv', 'split.csv');
      expect(out.code).toBe(1);
      expect(out.stderr).toBe(refusal('split.csv', counts.size, split.length, singletons));
      await write('floats.csv', [header, ...split.map((row) => [...row.slice(0, -1), `${row.at(-1)}.0`])].map((row) => row.join(',')).join('\n') + '\n');
      const floats = await predict('floats.csv', 'split.csv');
      expect(floats.stderr).toBe(refusal('floats.csv', counts.size, split.length, singletons));
    });

    it('--regression predicts it (R²); --classify forces classes', async () => {
      const regression = await predict(fixture('diabetes.csv'), fixture('diabetes.csv'), '--regression', '--k', '5');
      expect(regression.code).toBe(0);
      expect(regression.stderr).toMatch(/^knnet: R² on .*diabetes\.csv: 0\.\d{4} \(442 rows\)\n$/);
      const classes = await predict(fixture('diabetes.csv'), fixture('diabetes.csv'), '--classify');
      expect(classes.code).toBe(0);
      expect(classes.stderr).toMatch(/^knnet: accuracy on .*diabetes\.csv: 1\.0000 \(442 rows\)\n$/);
    });

    it('each side of each threshold: 21 values refused and 20 passed; 89 rows refused and 90 passed; 10 singletons of 40 refused, 9 passed', async () => {
      const column = (counts: number[]) => 'x,y\n' + counts.flatMap((count, value) => Array.from({ length: count }, () => `${value},${value}`)).join('\n') + '\n';
      const cases: [string, number[], boolean][] = [
        ['21 values', Array(21).fill(1), true],
        ['20 values', Array(20).fill(1), false],
        // 30 values, 10 of them once, 89 or 90 rows in all.
        ['89 rows', [...Array(10).fill(1), ...Array(19).fill(4), 3], true],
        ['90 rows', [...Array(10).fill(1), ...Array(20).fill(4)], false],
        // 40 values in 80 rows.
        ['10 of 40 once', [...Array(10).fill(1), 12, ...Array(29).fill(2)], true],
        ['9 of 40 once', [...Array(9).fill(1), 11, ...Array(30).fill(2)], false],
      ];
      for (const [name, counts, refused] of cases) {
        const rows = counts.reduce((a, b) => a + b, 0);
        await write('threshold.csv', column(counts));
        const out = await predict('threshold.csv', 'threshold.csv');
        expect(out.code, `${name}: ${counts.length} values in ${rows} rows`).toBe(refused ? 1 : 0);
        if (refused) expect(out.stderr).toContain('looks continuous');
      }
    });

    it('class columns like Iris\'s and wine\'s pass', async () => {
      const wine = await predict(fixture('wine-train.csv'), fixture('wine-test.csv'), '--standardize');
      expect(wine.code).toBe(0);
      const iris = 'a,class\n' + Array.from({ length: 150 }, (_, i) => `${i % 7},${Math.floor(i / 50)}`).join('\n') + '\n';
      await write('iris-like.csv', iris);
      expect((await predict('iris-like.csv', 'iris-like.csv')).code).toBe(0);
    });
  });

  describe('feature scales', () => {
    it('raw wine gets a one-line hint; --standardize reaches 1.0000 (k = 1) and 0.9630 (k = 5) where raw gets 0.7222', async () => {
      const raw = await predict(fixture('wine-train.csv'), fixture('wine-test.csv'));
      expect(raw.stderr).toBe(
        'knnet: hint: feature ranges differ 2800-fold ("proline" spans 1400, "nonflavanoid_phenols" 0.5), so the widest features decide the distances; --standardize puts every feature on one scale\n' +
          `knnet: accuracy on ${fixture('wine-test.csv')}: 0.7222 (54 rows)\n`,
      );
      const k1 = await predict(fixture('wine-train.csv'), fixture('wine-test.csv'), '--standardize');
      expect(k1.stderr).toBe(`knnet: accuracy on ${fixture('wine-test.csv')}: 1.0000 (54 rows)\n`);
      const k5 = await predict(fixture('wine-train.csv'), fixture('wine-test.csv'), '--standardize', '--k', '5');
      expect(k5.stderr).toBe(`knnet: accuracy on ${fixture('wine-test.csv')}: 0.9630 (54 rows)\n`);
    });

    it('--standardize applies the training file\'s statistics to training and test rows: the API\'s answers on the same numbers, bit for bit', async () => {
      const train = await readCsv(fixture('wine-train.csv'));
      const test = await readCsv(fixture('wine-test.csv'));
      const features = (rows: string[][]) => rows.map((row) => row.slice(0, -1).map(Number));
      const scaled = standardized(features(train.rows), features(test.rows));
      const net = await KnnNetwork.fit(scaled.train, train.rows.map((row) => Number(row.at(-1))), { k: 5, weights: 'distance' });
      const probabilities = net.predictProba(scaled.rows);
      const expected = net.predict(scaled.rows).map((label, r) => [label, ...probabilities.subarray(r * 3, r * 3 + 3)].join(','));
      net.dispose();
      const out = await predict(fixture('wine-train.csv'), fixture('wine-test.csv'), '--standardize', '--k', '5', '--weights', 'distance', '--proba');
      expect(out.stdout).toBe(['class,p_0,p_1,p_2', ...expected].join('\n') + '\n');
    });

    it('a constant column keeps scale 1: no division by zero, a test value off the constant keeps its difference', async () => {
      await write('constant.csv', 'a,c,label\n0,5,x\n1,5,x\n2,5,y\n3,5,y\n');
      await write('constant-test.csv', 'a,c\n1.4,9\n2.6,5\n');
      const out = await predict('constant.csv', 'constant-test.csv', '--standardize', '--k', 'all', '--weights', 'softmax', '--proba');
      expect(out.code).toBe(0);
      const scaled = standardized([[0, 5], [1, 5], [2, 5], [3, 5]], [[1.4, 9], [2.6, 5]]);
      expect(scaled.rows[0]![1]).toBe(4);
      const net = await KnnNetwork.fit(scaled.train, ['x', 'x', 'y', 'y'], { k: 'all', weights: 'softmax' });
      const p = net.predictProba(scaled.rows);
      expect(out.stdout).toBe(`label,p_x,p_y\n${net.predict(scaled.rows)[0]},${p[0]},${p[1]}\n${net.predict(scaled.rows)[1]},${p[2]},${p[3]}\n`);
      net.dispose();
    });

    it('the hint needs ranges 100-fold apart: 100 gives it, 99 does not; --standardize never gives it', async () => {
      await write('ratio100.csv', 'a,b,label\n0,0,x\n100,1,y\n');
      await write('ratio99.csv', 'a,b,label\n0,0,x\n99,1,y\n');
      const hinted = await predict('ratio100.csv', 'ratio100.csv');
      expect(hinted.stderr).toBe(
        'knnet: hint: feature ranges differ 100-fold ("a" spans 100, "b" 1), so the widest features decide the distances; --standardize puts every feature on one scale\n' +
          'knnet: accuracy on ratio100.csv: 1.0000 (2 rows)\n',
      );
      expect((await predict('ratio99.csv', 'ratio99.csv')).stderr).toBe('knnet: accuracy on ratio99.csv: 1.0000 (2 rows)\n');
      expect((await predict('ratio100.csv', 'ratio100.csv', '--standardize')).stderr).toBe('knnet: accuracy on ratio100.csv: 1.0000 (2 rows)\n');
    });
  });

  describe('empty fields and --impute', () => {
    it('an empty field names --drop and --impute, the column quoted for the shell', async () => {
      await write('empty.csv', 'sepal length,b,label\n1,2,x\n,4,y\n');
      const out = await predict('empty.csv', 'empty.csv');
      expect(out.code).toBe(1);
      expect(out.stderr).toBe(
        'knnet: empty.csv: line 3, column 1 ("sepal length"): expected a number, got an empty field; fill it in, leave the column out with --drop "sepal length", or fill empty fields with --impute mean (or median)\n',
      );
    });

    it('text in a feature column names --drop with the column quoted; "NA" also names --impute', async () => {
      await write('text.csv', 'petal width,label\n1,x\nwide,y\n');
      expect((await predict('text.csv', 'text.csv')).stderr).toBe(
        'knnet: text.csv: line 3, column 1 ("petal width"): expected a number, got "wide"; if "petal width" is not a feature, leave it out with --drop "petal width"\n',
      );
      await write('na.csv', 'a,b,label\n1,2,x\n3,NA,y\n');
      expect((await predict('na.csv', 'na.csv')).stderr).toBe(
        'knnet: na.csv: line 3, column 2 ("b"): expected a number, got "NA"; if "b" is not a feature, leave it out with --drop b; if "NA" marks a missing value, leave the field empty and use --impute mean (or median)\n',
      );
    });

    for (const method of ['mean', 'median'] as const) {
      it(`--impute ${method} fills training and test fields from the training column, as the API predicts on the filled rows`, async () => {
        await write('holes.csv', 'a,b,label\n1,10,x\n,20,x\n3,,y\n10,40,y\n20,50,y\n');
        await write('holes-test.csv', 'b,a\n,2\n45,\n');
        const out = await predict('holes.csv', 'holes-test.csv', '--impute', method, '--k', '3', '--weights', 'distance', '--proba');
        expect(out.code).toBe(0);
        const fill = method === 'mean' ? [34 / 4, 120 / 4] : [6.5, 30];
        const X = [[1, 10], [fill[0]!, 20], [3, fill[1]!], [10, 40], [20, 50]];
        const queries = [[2, fill[1]!], [fill[0]!, 45]];
        const net = await KnnNetwork.fit(X, ['x', 'x', 'y', 'y', 'y'], { k: 3, weights: 'distance' });
        const p = net.predictProba(queries);
        const labels = net.predict(queries);
        expect(out.stdout).toBe(`label,p_x,p_y\n${labels[0]},${p[0]},${p[1]}\n${labels[1]},${p[2]},${p[3]}\n`);
        net.dispose();
      });
    }

    it('--impute with --standardize fills first, then standardizes with the filled column', async () => {
      await write('holes.csv', 'a,b,label\n1,10,x\n,20,x\n3,,y\n10,40,y\n20,50,y\n');
      await write('holes-test.csv', 'b,a\n,2\n45,\n');
      const out = await predict('holes.csv', 'holes-test.csv', '--impute', 'median', '--standardize', '--k', '2', '--proba');
      const scaled = standardized([[1, 10], [6.5, 20], [3, 30], [10, 40], [20, 50]], [[2, 30], [6.5, 45]]);
      const net = await KnnNetwork.fit(scaled.train, ['x', 'x', 'y', 'y', 'y'], { k: 2 });
      const p = net.predictProba(scaled.rows);
      expect(out.stdout).toBe(`label,p_x,p_y\n${net.predict(scaled.rows)[0]},${p[0]},${p[1]}\n${net.predict(scaled.rows)[1]},${p[2]},${p[3]}\n`);
      net.dispose();
    });

    it('a column empty in every row cannot be imputed; text is still refused', async () => {
      await write('hollow.csv', 'a,b,label\n1,,x\n2,,y\n');
      const hollow = await predict('hollow.csv', 'hollow.csv', '--impute', 'mean');
      expect(hollow.code).toBe(1);
      expect(hollow.stderr).toBe('knnet: hollow.csv: column "b" is empty in every row, so --impute has nothing to fill it from; leave it out with --drop b\n');
      await write('na.csv', 'a,b,label\n1,2,x\n3,NA,y\n');
      expect((await predict('na.csv', 'na.csv', '--impute', 'mean')).code).toBe(1);
    });
  });

  describe('options', () => {
    it('--lambda without softmax weights gets a warning and changes nothing', async () => {
      await write('two.csv', 'a,label\n0,x\n10,y\n');
      const plain = await predict('two.csv', 'two.csv', '--k', '2', '--weights', 'distance', '--proba');
      const warned = await predict('two.csv', 'two.csv', '--k', '2', '--weights', 'distance', '--proba', '--lambda', '5');
      expect(warned.stdout).toBe(plain.stdout);
      expect(warned.stderr).toBe('knnet: warning: --lambda is used by --weights softmax only; with --weights distance it changes nothing\n' + plain.stderr);
      const uniform = await predict('two.csv', 'two.csv', '--lambda', '5');
      expect(uniform.stderr.split('\n')[0]).toBe('knnet: warning: --lambda is used by --weights softmax only; with --weights uniform it changes nothing');
      expect((await predict('two.csv', 'two.csv', '--weights', 'softmax', '--lambda', '5')).stderr).toBe('knnet: accuracy on two.csv: 1.0000 (2 rows)\n');
    });

    it('a column name that is not in the file gets the closest one, case and "_" for "-" aside', async () => {
      await write('named.csv', 'sepal_length,Petal-Width,species\n1,2,x\n');
      const target = await predict('named.csv', 'named.csv', '--target', 'Species');
      expect(target.code).toBe(1);
      expect(target.stderr).toBe('knnet: --target: named.csv has no column named "Species" (did you mean "species"?); its header has "sepal_length", "Petal-Width", "species"\n');
      const drop = await predict('named.csv', 'named.csv', '--drop', 'petal_width');
      expect(drop.stderr).toBe('knnet: --drop: named.csv has no column named "petal_width" (did you mean "Petal-Width"?); its header has "sepal_length", "Petal-Width", "species"\n');
      const far = await predict('named.csv', 'named.csv', '--features', 'colour');
      expect(far.stderr).toBe('knnet: --features: named.csv has no column named "colour"; its header has "sepal_length", "Petal-Width", "species"\n');
    });

    it('a row-id column\'s warning quotes its name for the shell', async () => {
      await write('ids.csv', 'row id,a,label\n' + Array.from({ length: 12 }, (_, i) => `${i},${i % 3},${i % 2}`).join('\n') + '\n');
      const out = await predict('ids.csv', 'ids.csv');
      expect(out.stderr.split('\n')[0]).toBe(
        'knnet: warning: column "row id" of ids.csv holds increasing whole numbers, like a row id, and is used as a feature; leave it out with --drop "row id"',
      );
    });

    const mistakes: [string, string[], string][] = [
      ['a misspelt option', ['predict', '--train', 'a', '--test', 'b', '--standrdize'], 'unknown option --standrdize; did you mean --standardize?'],
      ['a singular', ['predict', '--train', 'a', '--test', 'b', '--weight', 'distance'], 'unknown option --weight; did you mean --weights?'],
      ['scikit-learn\'s name', ['predict', '--train', 'a', '--test', 'b', '--n_neighbors', '5'], 'unknown option --n_neighbors; did you mean --k?'],
      ['a single dash', ['predict', '--train', 'a', '--test', 'b', '-k', '5'], 'unknown option -k; did you mean --k?'],
      ['nothing close', ['predict', '--train', 'a', '--test', 'b', '--colour'], 'unknown option --colour'],
      ['an option of fit', ['predict', '--train', 'a', '--test', 'b', '--save', 'm'], 'predict does not take --save (an option of knnet fit)'],
      ['an option of predict', ['fit', 'a', '--save', 'm', '--out', 'o.csv'], 'fit does not take --out (an option of knnet predict)'],
      ['a missing value', ['predict', '--train', 'a', '--test', 'b', '--k'], '--k needs a value'],
      ['an option twice', ['predict', '--train', 'a', '--test', 'b', '--drop', 'x', '--drop', 'y'], '--drop is given twice; list several columns in one, as --drop a,b'],
      ['a misspelt value', ['predict', '--train', 'a', '--test', 'b', '--weights=softmx'], '--weights must be uniform, distance or softmax, got "softmx"; did you mean softmax?'],
      ['a misspelt metric', ['fit', 'a', '--save', 'm', '--metric', 'Cosine'], '--metric must be euclidean, cosine, manhattan or dot, got "Cosine"; did you mean cosine?'],
      ['a misspelt statistic', ['fit', 'a', '--save', 'm', '--impute', 'meen'], '--impute must be mean or median, got "meen"; did you mean mean?'],
      ['a misspelt command', ['predcit'], 'unknown command "predcit"; did you mean predict?'],
      ['options before the command', ['--train', 'a', 'predict'], 'a command comes first, before the options, got "--train"'],
      ['--classify with --regression', ['fit', 'a', '--save', 'm', '--classify', '--regression'], '--regression and --classify ask for opposite things; give one'],
    ];
    it.each(mistakes)('%s: one line, then "see knnet --help", exit 2', async (_, args, message) => {
      const out = await knnet(args, dir);
      expect(out.code).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr).toBe(`knnet: ${message}\nsee knnet --help\n`);
    });
  });
});
