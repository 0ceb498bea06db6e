// The CLI's small rules on their own: "did you mean", exact decimals, the continuous-target rule,
// standardization, the scale hint, imputation, shell quoting in hints, the option reader.
import { describe, expect, it } from 'vitest';
import { parseFitArgs, parsePredictArgs } from '../src/cli/arguments.js';
import { readArguments } from '../src/cli/commandLine.js';
import { exactDecimal } from '../src/cli/decimal.js';
import { SCALE_HINT_RATIO, scaleHint, standardization, standardize } from '../src/cli/featureScaling.js';
import { fillEmpty, imputationValues } from '../src/cli/imputation.js';
import { CONTINUOUS_RULE, decideLabels, looksContinuous } from '../src/cli/labelColumn.js';
import { shellWord } from '../src/cli/shellWord.js';
import { closestName, editDistance } from '../src/cli/suggest.js';

describe('did you mean', () => {
  it('edit distance counts insertions, deletions, substitutions and adjacent swaps', () => {
    expect(editDistance('predict', 'predict')).toBe(0);
    expect(editDistance('predcit', 'predict')).toBe(1);
    expect(editDistance('standrdize', 'standardize')).toBe(1);
    expect(editDistance('weight', 'weights')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ca', 'abc')).toBe(3); // the restricted (optimal string alignment) distance
  });

  it('suggests the closest option within 1 edit for short names and 2 for longer ones, or a synonym', () => {
    const options = ['train', 'test', 'k', 'weights', 'standardize', 'proba', 'threads', 'drop'];
    expect(closestName('tset', options)).toBe('test');
    expect(closestName('standardise', options)).toBe('standardize');
    expect(closestName('STANDARDIZE', options)).toBe('standardize');
    expect(closestName('wieghts', options)).toBe('weights');
    expect(closestName('trian', options)).toBe('train');
    expect(closestName('prob', options)).toBe('proba'); // 1 edit, 4 letters
    expect(closestName('pr', options)).toBeUndefined(); // 3 edits
    expect(closestName('dorps', options)).toBe('drop'); // 2 edits (a swap, a deletion), 5 letters
  });

  it('synonyms from scikit-learn and plain English, "_" read as "-"', () => {
    const options = ['k', 'target', 'threads'];
    const synonyms = { 'n-neighbors': 'k', label: 'target', 'n-jobs': 'threads' };
    expect(closestName('n_neighbors', options, synonyms)).toBe('k');
    expect(closestName('label', options, synonyms)).toBe('target');
    expect(closestName('n_jobs', options, synonyms)).toBe('threads');
    expect(closestName('toString', options, synonyms)).toBeUndefined();
  });
});

describe('exact decimals', () => {
  it('give one key to the spellings of one number, and different keys to numbers float64 merges', () => {
    const key = (text: string) => exactDecimal(text)?.key;
    for (const [a, b] of [['1', '1.0'], ['1', '01'], ['1000', '1e3'], ['0.1', '0.10'], ['0.1', '1e-1'], ['-2.5', '-25e-1'], ['0', '-0.000'], ['7', ' 7 '], ['5', '5.'], ['0.5', '.5']]) {
      expect(key(a), `${a} = ${b}`).toBe(key(b));
    }
    for (const [a, b] of [['9007199254740993', '9007199254740992'], ['1', '-1'], ['0.1', '0.1000000000000000001'], ['1e400', '1e401']]) {
      expect(key(a), `${a} ≠ ${b}`).not.toBe(key(b));
    }
  });

  it('tell whole numbers exactly, and refuse what is not decimal', () => {
    expect(exactDecimal('12.000')?.whole).toBe(true);
    expect(exactDecimal('1.5e1')?.whole).toBe(true);
    expect(exactDecimal('1.00000000000000001')?.whole).toBe(false); // float64 would call it 1
    expect(exactDecimal('1e-999999999999999999999')?.whole).toBe(false);
    for (const text of ['', '.', 'e5', '0x10', 'NaN', 'Infinity', '1e', '1 2', '١']) expect(exactDecimal(text), text).toBeUndefined();
  });
});

describe('the continuous-target rule', () => {
  it(`is "${CONTINUOUS_RULE.text}", each threshold tested on both sides`, () => {
    // More than 20 distinct values: 21 refused, 20 not (all seen once, one row each).
    expect(looksContinuous(21, 21, 21)).toBe(true);
    expect(looksContinuous(20, 20, 20)).toBe(false);
    // Fewer than 3 rows per value: 30 values in 89 rows refused, in 90 rows not.
    expect(looksContinuous(30, 10, 89)).toBe(true);
    expect(looksContinuous(30, 10, 90)).toBe(false);
    // At least a quarter seen once: 10 of 40 refused, 9 of 40 not.
    expect(looksContinuous(40, 10, 80)).toBe(true);
    expect(looksContinuous(40, 9, 80)).toBe(false);
  });

  it('refuses the diabetes target, full or split, and passes class columns of real data sets', () => {
    expect(looksContinuous(214, 84, 442)).toBe(true); // diabetes
    expect(looksContinuous(181, 99, 309)).toBe(true); // diabetes, a 70% split
    expect(looksContinuous(3, 0, 150)).toBe(false); // Iris
    expect(looksContinuous(3, 0, 178)).toBe(false); // wine
    expect(looksContinuous(10, 0, 1797)).toBe(false); // digits
    expect(looksContinuous(40, 0, 400)).toBe(false); // 40 faces, 10 photos each
    expect(looksContinuous(100, 0, 200)).toBe(false); // classes of two rows each
  });

  const table = (labels: string[]) => {
    const names = [...new Set(labels)];
    return {
      names,
      firstLines: names.map((name) => labels.indexOf(name) + 2),
      counts: names.map((name) => labels.filter((label) => label === name).length),
      rows: labels.length,
    };
  };
  const context = { path: 't.csv', column: 2, name: 'y', classify: false };

  it('counts values, not spellings: "151" and "151.0" are one value', () => {
    // 21 distinct values, each written two ways in two rows: 42 rows, no value seen once.
    const labels = Array.from({ length: 21 }, (_, i) => [`${100 + i}`, `${100 + i}.0`]).flat();
    expect(decideLabels(table(labels), context).numeric).toBe(false);
    // The same with one row each: 21 values seen once, refused.
    expect(() => decideLabels(table(labels.filter((_, i) => i % 2 === 1)), context)).toThrow(/looks continuous/);
  });

  it('--classify keeps any numeric column as classes', () => {
    const labels = Array.from({ length: 30 }, (_, i) => `${i}`);
    expect(() => decideLabels(table(labels), context)).toThrow(/looks continuous/);
    expect(decideLabels(table(labels), { ...context, classify: true })).toEqual({ numeric: true });
    expect(decideLabels(table(['0.5', '1.5']), { ...context, classify: true })).toEqual({ numeric: false });
  });

  it('text labels are never continuous', () => {
    expect(decideLabels(table(Array.from({ length: 30 }, (_, i) => `id${i}`)), context)).toEqual({ numeric: false });
  });
});

describe('feature scales', () => {
  it('standardization: population mean and deviation; a constant column keeps scale 1', () => {
    const data = Float64Array.from([1, 5, 2, 5, 3, 5, 6, 5]); // 4 rows × 2 columns
    const statistics = standardization(data, 4, 2);
    expect(Array.from(statistics.mean)).toEqual([3, 5]);
    expect(Array.from(statistics.scale)).toEqual([Math.sqrt(3.5), 1]);
    standardize(data, 2, statistics);
    expect(Array.from(data)).toEqual([-2, 0, -1, 0, 0, 0, 3, 0].map((value, i) => (i % 2 === 0 ? value / Math.sqrt(3.5) : value)));
  });

  it(`the hint needs ranges ${SCALE_HINT_RATIO}-fold apart; constant columns do not count`, () => {
    const columns = (wide: number) => Float64Array.from([0, 0, 7, wide, 1, 7]); // 2 rows: ranges wide, 1, 0
    expect(scaleHint(columns(100), 2, 3, ['a', 'b', 'c'])).toBe(
      'hint: feature ranges differ 100-fold ("a" spans 100, "b" 1), so the widest features decide the distances; --standardize puts every feature on one scale',
    );
    expect(scaleHint(columns(99.9), 2, 3, ['a', 'b', 'c'])).toBeUndefined();
    expect(scaleHint(Float64Array.from([1, 2, 1, 2]), 2, 2, ['a', 'b'])).toBeUndefined();
  });
});

describe('imputation', () => {
  it('fills empty (NaN) fields with the column mean or median of the others', () => {
    const data = Float64Array.from([1, NaN, NaN, 10, 4, 30, 7, 20, 100, NaN]); // 5 rows × 2
    expect(Array.from(imputationValues(data, 5, 'mean', ['a', 'b'], 't.csv'))).toEqual([28, 20]);
    expect(Array.from(imputationValues(data, 5, 'median', ['a', 'b'], 't.csv'))).toEqual([5.5, 20]);
    const filled = data.slice();
    fillEmpty(filled, 2, Float64Array.from([-1, -2]));
    expect(Array.from(filled)).toEqual([1, -2, -1, 10, 4, 30, 7, 20, 100, -2]);
  });

  it('a column empty in every row has nothing to fill from', () => {
    expect(() => imputationValues(Float64Array.from([1, NaN, 2, NaN]), 2, 'mean', ['a', 'no data'], 't.csv')).toThrow(
      't.csv: column "no data" is empty in every row, so --impute has nothing to fill it from; leave it out with --drop "no data"',
    );
  });
});

describe('hints quote column names for the shell', () => {
  it('plain names stay bare, others are double-quoted with ", \\, $ and ` escaped', () => {
    expect(shellWord('sepal_length')).toBe('sepal_length');
    expect(shellWord('od280/od315')).toBe('od280/od315');
    expect(shellWord('sepal length')).toBe('"sepal length"');
    expect(shellWord('say "hi" $HOME `x` \\')).toBe('"say \\"hi\\" \\$HOME \\`x\\` \\\\"');
    expect(shellWord('a,b')).toBe('"a,b"');
  });
});

describe('the option reader', () => {
  const spec = { name: 'predict', options: { k: 'string', proba: 'boolean', test: 'string' }, elsewhere: { save: 'fit' } } as const;

  it('reads --name value, --name=value, booleans, positionals and -- before a name that starts with a dash', () => {
    const read = readArguments(['a.csv', '--k', '3', '--proba', '--test=b.csv', '--', '--odd.csv'], spec);
    expect(Object.fromEntries(read.values)).toEqual({ k: '3', proba: true, test: 'b.csv' });
    expect(read.positionals).toEqual(['a.csv', '--odd.csv']);
    expect(readArguments(['--k', '-1'], spec).values.get('k')).toBe('-1');
  });

  it('one line for each mistake', () => {
    const message = (args: string[]) => {
      try {
        readArguments(args, spec);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(message(['--k'])).toBe('--k needs a value');
    expect(message(['--k', '--proba'])).toBe('--k needs a value');
    expect(message(['--proba=yes'])).toBe('--proba takes no value; write just --proba');
    expect(message(['--k', '1', '--k', '2'])).toBe('--k is given twice');
    expect(message(['--save', 'm'])).toBe('predict does not take --save (an option of knnet fit)');
    expect(message(['-k', '3'])).toBe('unknown option -k; did you mean --k?');
    expect(message(['--kk=3'])).toBe('unknown option --kk; did you mean --k?');
    expect(message(['--zzzzz'])).toBe('unknown option --zzzzz');
  });

  it('predict and fit: files by option or last, model options refused beside --model', () => {
    const predict = parsePredictArgs(['--model', 'm.knnet', 't.csv', '--proba', '--threads', '2']);
    expect(predict).toEqual({ source: { model: 'm.knnet' }, test: 't.csv', threads: 2, proba: true, out: undefined });
    const fit = parseFitArgs(['train.csv', '--save', 'm.knnet', '--standardize', '--impute', 'median']);
    expect(fit !== 'help' && fit.training).toMatchObject({ train: 'train.csv', standardize: true, impute: 'median', classify: false });
    const failure = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(failure(() => parsePredictArgs(['--model', 'm', '--test', 't', '--standardize']))).toBe(
      '--standardize is fixed when the model is fitted and saved in m; run knnet fit again to change it',
    );
    expect(failure(() => parsePredictArgs(['--model', 'm', '--train', 'a', 't']))).toBe('give --train FILE or --model MODEL, not both');
    expect(failure(() => parsePredictArgs(['--train', 'a', '--test', 't', 'u']))).toBe('two test files: --test t and u; give one');
    expect(failure(() => parsePredictArgs(['--train', 'a', 't', 'u']))).toBe('unexpected argument "u": predict takes one test file');
    expect(failure(() => parsePredictArgs(['t']))).toBe('predict needs --train FILE (or --model MODEL)');
    expect(failure(() => parseFitArgs(['--train', 'a']))).toBe('fit needs --save MODEL, the file to write the model to');
    expect(failure(() => parseFitArgs(['--save', 'm']))).toBe('fit needs --train FILE');
    expect(failure(() => parseFitArgs(['a', '--save', 'm', '--proba']))).toBe('fit does not take --proba (an option of knnet predict)');
    expect(failure(() => parseFitArgs(['a', '--save', 'm', '--regression', '--classify']))).toBe('--regression and --classify ask for opposite things; give one');
    expect(failure(() => parseFitArgs(['a', '--save', 'm', '--impute', 'mode']))).toBe('--impute must be mean or median, got "mode"');
  });
});
