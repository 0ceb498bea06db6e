// Train once, predict many times: `knnet fit … --save MODEL`, then `knnet predict --model MODEL`,
// which must print what a one-shot `knnet predict --train …` prints, bit for bit; a damaged or
// foreign model file is refused with exit 1.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnnNetwork } from '../src/index.js';
import { crc32 } from '../src/serialize.js';
import { cliPath, fixture, knnet, root } from './cliHelpers.js';

describe.runIf(existsSync(cliPath))('knnet fit --save and predict --model', { timeout: 60_000 }, () => {
  let dir: string;
  const write = (name: string, content: string | Uint8Array) => writeFile(join(dir, name), content);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knnet-model-'));
    const iris = (await readFile(join(root, 'data/iris.csv'), 'utf8')).trim().split('\n');
    await write('iris-train.csv', [iris[0], ...iris.slice(1).filter((_, i) => i % 3 !== 0)].join('\n') + '\n');
    await write('iris-test.csv', [iris[0], ...iris.slice(1).filter((_, i) => i % 3 === 0)].join('\n') + '\n');
    // Empty fields in both files, a row-id-free regression target.
    await write('holes-train.csv', 'a,b,c,y\n1,10,0.5,3\n,20,0.25,4.5\n3,,0.75,6\n10,40,,7.25\n20,50,1,9\n4,12,0.5,3.5\n');
    await write('holes-test.csv', 'c,b,a,y\n,15,2,4\n0.5,,11,7\n0.9,45,,8\n');
    await write('ids-train.csv', 'x,id\n0,9007199254740993\n10,9007199254740992\n20,12345678901234567890\n');
    await write('ids-test.csv', 'x,id\n1,9007199254740993\n9,9007199254740992\n22,12345678901234567890\n');
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const configurations: [string, string, string, string[], string[]][] = [
    ['Iris with the defaults', 'iris-train.csv', 'iris-test.csv', [], []],
    ['raw wine, k = 5, distance weights, with its scale hint', fixture('wine-train.csv'), fixture('wine-test.csv'), ['--k', '5', '--weights', 'distance'], ['--proba']],
    ['standardized wine, softmax over all points', fixture('wine-train.csv'), fixture('wine-test.csv'), ['--standardize', '--k', 'all', '--weights', 'softmax', '--lambda', '0.5'], ['--proba']],
    ['wine, cosine metric, manhattan-free', fixture('wine-train.csv'), fixture('wine-test.csv'), ['--standardize', '--metric', 'cosine', '--k', '3'], ['--threads', '1']],
    ['wine, manhattan metric, two threads', fixture('wine-train.csv'), fixture('wine-test.csv'), ['--metric', 'manhattan', '--k', '7', '--drop', 'proline'], ['--threads', '2', '--proba']],
    ['standardized wine, dot metric, softmax over the 5 largest inner products', fixture('wine-train.csv'), fixture('wine-test.csv'), ['--standardize', '--metric', 'dot', '--k', '5', '--weights', 'softmax', '--lambda', '0.3'], ['--proba']],
    ['regression with --impute median and --standardize', 'holes-train.csv', 'holes-test.csv', ['--regression', '--impute', 'median', '--standardize', '--k', '2', '--weights', 'distance'], []],
    ['regression with --impute mean', 'holes-train.csv', 'holes-test.csv', ['--regression', '--impute', 'mean', '--k', '3', '--features', 'c,a'], []],
    ['text labels past 2^53', 'ids-train.csv', 'ids-test.csv', [], ['--proba']],
  ];

  it.each(configurations)('%s: --model prints what the one-shot predict prints, bit for bit', async (_, train, test, fitting, predicting) => {
    const oneShot = await knnet(['predict', '--train', train, '--test', test, ...fitting, ...predicting], dir);
    expect(oneShot.code, oneShot.stderr).toBe(0);
    const fit = await knnet(['fit', train, '--save', 'model.knnet', ...fitting], dir);
    expect(fit.code, fit.stderr).toBe(0);
    const loaded = await knnet(['predict', '--model', 'model.knnet', test, ...predicting], dir);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.stdout).toBe(oneShot.stdout);
    // The fit's warnings and hints were printed when fitting; the score is the same.
    const score = oneShot.stderr.split('\n').filter((line) => /^knnet: (accuracy|R²|no )/.test(line)).join('\n');
    expect(loaded.stderr.trim()).toBe(score);
    expect(fit.stderr.split('\n').filter((line) => /^knnet: (warning|hint)/.test(line))).toEqual(
      oneShot.stderr.split('\n').filter((line) => /^knnet: (warning|hint)/.test(line)),
    );
  });

  it('fit says what it saved; the options and files may be given in either form', async () => {
    const fit = await knnet(['fit', '--train', 'iris-train.csv', '--save', 'iris.knnet', '--k', '3'], dir);
    expect(fit.stdout).toBe('');
    expect(fit.stderr).toBe('knnet: saved iris.knnet: 100 rows, 4 features, 3 classes\n');
    const byOption = await knnet(['predict', '--model', 'iris.knnet', '--test', 'iris-test.csv', '--out', 'p.csv'], dir);
    const positional = await knnet(['predict', '--model=iris.knnet', 'iris-test.csv'], dir);
    expect(await readFile(join(dir, 'p.csv'), 'utf8')).toBe(positional.stdout);
    expect(byOption.stderr).toBe(positional.stderr);
    const regression = await knnet(['fit', 'holes-train.csv', '--save', 'r.knnet', '--regression', '--impute', 'mean'], dir);
    expect(regression.stderr).toBe('knnet: saved r.knnet: 6 rows, 3 features, a regression target\n');
  });

  it('the saved model answers as the API on the same network (its bytes hold the network\'s own toBytes)', async () => {
    await knnet(['fit', 'iris-train.csv', '--save', 'iris.knnet', '--k', '5', '--weights', 'distance'], dir);
    const bytes = await readFile(join(dir, 'iris.knnet'));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('KNNMODEL');
    const headerLength = bytes.readUInt32LE(12);
    const header = JSON.parse(bytes.subarray(16, 16 + headerLength).toString('utf8'));
    expect(header).toEqual({ features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], target: 'species', standardize: null, impute: null });
    const net = await KnnNetwork.fromBytes(bytes.subarray(16 + headerLength, bytes.length - 4));
    expect(net.options).toMatchObject({ k: 5, weights: 'distance' });
    expect(net.nSamples).toBe(100);
    net.dispose();
  });

  it('the fitting options cannot be changed beside --model, and --model needs no training file', async () => {
    const out = await knnet(['predict', '--model', 'iris.knnet', 'iris-test.csv', '--k', '3'], dir);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe('knnet: --k is fixed when the model is fitted and saved in iris.knnet; run knnet fit again to change it\nsee knnet --help\n');
  });

  it('a test file without a feature the model needs, or with an empty field the model cannot fill, names how to fit again', async () => {
    await knnet(['fit', 'iris-train.csv', '--save', 'iris.knnet'], dir);
    await write('partial.csv', 'sepal_length,sepal_width,petal_length\n1,2,3\n');
    const missing = await knnet(['predict', '--model', 'iris.knnet', 'partial.csv'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('knnet: partial.csv: missing feature column "petal_width" (the training file has it)\n');
    await write('gap.csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,,3,4\n');
    const gap = await knnet(['predict', '--model', 'iris.knnet', 'gap.csv'], dir);
    expect(gap.stderr).toBe(
      'knnet: gap.csv: line 2, column 2 ("sepal_width"): expected a number, got an empty field; fill it in, or fit the model again with --impute mean (or median), or without the column (--drop sepal_width)\n',
    );
  });

  describe('a damaged or foreign model file is refused with exit 1', () => {
    let good: Buffer;
    beforeAll(async () => {
      await knnet(['fit', 'iris-train.csv', '--save', 'iris.knnet', '--standardize'], dir);
      good = await readFile(join(dir, 'iris.knnet'));
    });

    /** The model's bytes with `change` applied and the checksum made right again. */
    const resealed = (change: (bytes: Buffer) => Buffer) => {
      const bytes = change(Buffer.from(good));
      bytes.writeUInt32LE(crc32(bytes.subarray(0, bytes.length - 4)), bytes.length - 4);
      return bytes;
    };
    /** A header replaced by `json`, the network kept. */
    const withHeader = (json: string) =>
      resealed((bytes) => {
        const length = bytes.readUInt32LE(12);
        const header = Buffer.from(json, 'utf8');
        const out = Buffer.concat([bytes.subarray(0, 16), header, bytes.subarray(16 + length)]);
        out.writeUInt32LE(header.length, 12);
        return out;
      });
    const header = () => JSON.parse(good.subarray(16, 16 + good.readUInt32LE(12)).toString('utf8'));

    const cases: [string, () => Uint8Array | string, string][] = [
      ['a CSV file', () => 'a,b\n1,2\n', 'bad.knnet is not a knnet model (it does not start with "KNNMODEL"); save one with knnet fit --train FILE --save bad.knnet'],
      ['an empty file', () => '', 'bad.knnet is not a knnet model (it does not start with "KNNMODEL"); save one with knnet fit --train FILE --save bad.knnet'],
      ['a bare network from toBytes()', () => good.subarray(16 + good.readUInt32LE(12), good.length - 4), 'bad.knnet holds a bare network (KnnNetwork.toBytes), without the columns the CLI needs; save a model with knnet fit --save'],
      ['a truncated model', () => good.subarray(0, good.length - 100), 'bad.knnet is corrupt: its checksum does not match (truncated or altered); fit and save the model again'],
      ['the preamble alone', () => good.subarray(0, 12), 'bad.knnet is corrupt: it is truncated; fit and save the model again'],
      ['a flipped bit in the header', () => {
        const bytes = Buffer.from(good);
        bytes[20]! ^= 1;
        return bytes;
      }, 'bad.knnet is corrupt: its checksum does not match (truncated or altered); fit and save the model again'],
      ['a flipped bit in the network', () => {
        const bytes = Buffer.from(good);
        bytes[bytes.length - 50]! ^= 0x40;
        return bytes;
      }, 'bad.knnet is corrupt: its checksum does not match (truncated or altered); fit and save the model again'],
      ['a newer format', () => resealed((bytes) => (bytes.writeUInt16LE(2, 8), bytes)), 'bad.knnet is a knnet model of format 2; this knnet reads format 1: use the knnet that saved it, or fit again'],
      ['a header that is not JSON', () => withHeader('{"features":'), 'bad.knnet is corrupt: its header is not JSON; fit and save the model again'],
      ['an unknown header key', () => withHeader(JSON.stringify({ ...header(), extra: 1 })), 'bad.knnet is corrupt: its header has an unknown key "extra"; fit and save the model again'],
      ['a missing key', () => withHeader(JSON.stringify({ ...header(), impute: undefined })), 'bad.knnet is corrupt: its imputation is not { method: mean | median, values }; fit and save the model again'],
      ['too few feature names', () => withHeader(JSON.stringify({ ...header(), features: ['a', 'b', 'c'], standardize: null })), 'bad.knnet is corrupt: its network has 4 features but its header names 3; fit and save the model again'],
      ['a zero scale', () => withHeader(JSON.stringify({ ...header(), standardize: { ...header().standardize, scale: [1, 0, 1, 1] } })), 'bad.knnet is corrupt: its scales are not 4 finite positive numbers; fit and save the model again'],
      ['the target among the features', () => withHeader(JSON.stringify({ ...header(), target: 'sepal_width' })), 'bad.knnet is corrupt: its target column is not a name apart from the features; fit and save the model again'],
      ['a network that does not load', () => resealed((bytes) => {
        const at = 16 + bytes.readUInt32LE(12);
        bytes[at] = 0x58; // "XNNT": the network's signature
        return bytes;
      }), 'bad.knnet is corrupt: its network does not load ('],
    ];
    it.each(cases)('%s', async (_, bytes, message) => {
      await write('bad.knnet', bytes());
      const out = await knnet(['predict', '--model', 'bad.knnet', 'iris-test.csv'], dir);
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(out.stderr.startsWith(`knnet: ${message}`), out.stderr).toBe(true);
      if (!message.endsWith('(')) expect(out.stderr).toBe(`knnet: ${message}\n`);
    });

    it('a missing model file, or a --save that cannot be written, says so', async () => {
      const missing = await knnet(['predict', '--model', 'nope.knnet', 'iris-test.csv'], dir);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe('knnet: cannot read nope.knnet: no such file\n');
      const unwritable = await knnet(['fit', 'iris-train.csv', '--save', 'no/such/dir.knnet'], dir);
      expect(unwritable.code).toBe(1);
      expect(unwritable.stderr).toBe('knnet: cannot write no/such/dir.knnet: no such directory\n');
    });
  });
});
