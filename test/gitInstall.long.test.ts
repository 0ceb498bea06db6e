// Installing from a git URL, as a user does before the package is published: npm clones the
// repository, installs its dev dependencies, runs `prepare` (the build) in the clone and
// installs what `npm pack` would ship. The repository here is a commit of this checkout's
// files (tracked and new, as they are now) in a temporary folder, so uncommitted work is what
// gets tested.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sh } from './shell.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const isGitCheckout = existsSync(join(root, '.git'));

describe.runIf(isGitCheckout)('npm install from a git URL', () => {
  let work: string;
  let installed: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'knnet-git-install-'));
    const repository = join(work, 'repository');
    const files = (await sh('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root)).split('\0').filter(Boolean);
    for (const file of files) {
      if (!existsSync(join(root, file))) continue; // deleted in the work tree, not yet in the index
      await mkdir(join(repository, dirname(file)), { recursive: true });
      await cp(join(root, file), join(repository, file));
    }
    const git = ['-c', 'user.name=knnet test', '-c', 'user.email=test@knnet.invalid', '-c', 'commit.gpgsign=false'];
    await sh('git', ['init', '-q'], repository);
    await sh('git', [...git, 'add', '-A'], repository);
    await sh('git', [...git, 'commit', '-q', '-m', 'snapshot of the work tree'], repository);

    const consumer = join(work, 'consumer');
    await mkdir(consumer);
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'knnet-git-consumer', private: true, version: '1.0.0' }));
    await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `git+${pathToFileURL(repository).href}`], consumer, 900_000);
    installed = join(consumer, 'node_modules/knnet');
  }, 1_000_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('builds the package in the clone (prepare) and installs what npm pack ships', async () => {
    expect(existsSync(join(installed, 'dist/src/index.js'))).toBe(true);
    expect(existsSync(join(installed, 'dist/cjs/index.cjs'))).toBe(true);
    expect((await readdir(installed)).sort()).toEqual(expect.arrayContaining(['README.md', 'data', 'dist', 'package.json']));
    expect(existsSync(join(installed, 'src')), 'sources are not shipped').toBe(false);
    expect(existsSync(join(installed, 'assembly')), 'kernel sources are not shipped').toBe(false);
  });

  it('imports, requires and runs the bin from the installed package', async () => {
    const consumer = dirname(dirname(installed));
    const esm = await sh(process.execPath, ['--input-type=module', '-e', `
      import { KnnNetwork } from 'knnet';
      const net = await KnnNetwork.fit([[0, 0], [0, 1], [5, 5], [5, 6]], ['a', 'a', 'b', 'b'], { k: 3 });
      console.log(JSON.stringify(net.predict([[0.2, 0.4], [5.1, 5.5]])));`], consumer);
    expect(JSON.parse(esm)).toEqual(['a', 'b']);
    const cjs = await sh(process.execPath, ['-e', `
      const { KnnNetwork } = require('knnet');
      KnnNetwork.fit([[0], [1], [9]], [0, 0, 1]).then((net) => console.log(JSON.stringify(net.predict([[8]]))));`], consumer);
    expect(JSON.parse(cjs)).toEqual([1]);
    const predictions = await sh(join(consumer, 'node_modules/.bin/knnet'), ['predict', '--train', join(installed, 'data/iris.csv'), '--test', join(installed, 'data/iris.csv'), '--k', '1'], consumer);
    expect(predictions.trim().split('\n')).toHaveLength(151);
  });
});
