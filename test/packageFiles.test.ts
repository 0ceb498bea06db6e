// The package's entry points, cheaply: every file package.json sends users to (main, module,
// types, each condition of exports, the bin) is in the tarball `npm pack` would write. The
// tarball itself, installed and used from ESM, CommonJS, TypeScript, workers and browsers, is
// tested in package.long.test.ts (the long suite).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const distBuilt = existsSync(join(root, 'dist/src/index.js')) && existsSync(join(root, 'dist/cjs/index.cjs'));

/** Every string in an exports map (its conditions nested at any depth), paired with where it sits. */
function exportTargets(value: unknown, at: string): [string, string][] {
  if (typeof value === 'string') return [[at, value]];
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => exportTargets(inner, `${at} → ${key}`));
  return [];
}

describe.runIf(distBuilt)('the files package.json points to', () => {
  it('are all in the tarball npm pack would write', async () => {
    // --ignore-scripts: `npm test` has just built; packing must not rebuild under other tests.
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, maxBuffer: 16 << 20 });
    const packed = new Set((JSON.parse(stdout.slice(stdout.indexOf('['))) as { files: { path: string }[] }[])[0].files.map((file) => file.path));
    const entryPoints: [string, string][] = [
      ['main', manifest.main],
      ['module', manifest.module],
      ['types', manifest.types],
      ...exportTargets(manifest.exports, 'exports'),
      ...Object.entries(manifest.bin as Record<string, string>).map(([name, path]): [string, string] => [`bin ${name}`, path]),
    ];
    expect(entryPoints.length).toBeGreaterThan(10);
    for (const [field, path] of entryPoints) expect(packed.has(path.replace(/^\.\//, '')), `${field}: ${path}`).toBe(true);
  }, 30_000);
});

describe.skipIf(distBuilt)('the files package.json points to', () => {
  it('need a build first', () => {
    console.warn('package file test skipped: dist/ is not built (npm test runs `npm run build` first)');
  });
});
