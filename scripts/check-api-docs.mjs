// Checks the API reference in docs/api/: TypeDoc (typedoc.json, which treats every warning as an
// error) builds it from the doc comments into a temporary folder, and every file there must be
// in docs/api/ with the same contents, and nothing more. When this fails, `npm run docs:api`
// writes the current reference; commit it with the change to the doc comments.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const checkedIn = join(root, 'docs/api');
const fresh = mkdtempSync(join(tmpdir(), 'knnet-api-docs-'));

/** Every file under `folder`, relative to it, sorted (an empty list when it does not exist). */
const filesUnder = (folder) => {
  try {
    return readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(folder.length + 1).split('\\').join('/'))
      .sort();
  } catch {
    return [];
  }
};

/** 0 when docs/api/ is what TypeDoc builds now, without warnings; 1 otherwise. */
function check() {
  const typedoc = spawnSync(process.execPath, [join(root, 'node_modules/typedoc/bin/typedoc'), '--out', fresh, '--logLevel', 'Warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (typedoc.status !== 0) {
    console.error('check-api-docs: TypeDoc failed or warned (above); fix the doc comments it names');
    return 1;
  }
  const expected = filesUnder(fresh);
  const present = new Set(filesUnder(checkedIn));
  const stale = [
    ...expected.filter((file) => !present.has(file)).map((file) => `missing: docs/api/${file}`),
    ...[...present].filter((file) => !expected.includes(file)).map((file) => `not generated any more: docs/api/${file}`),
    ...expected
      .filter((file) => present.has(file) && readFileSync(join(fresh, file), 'utf8') !== readFileSync(join(checkedIn, file), 'utf8'))
      .map((file) => `out of date: docs/api/${file}`),
  ];
  if (stale.length > 0) {
    for (const line of stale) console.error(line);
    console.error('check-api-docs: docs/api/ does not match the doc comments; run `npm run docs:api` and commit docs/api/');
    return 1;
  }
  console.log(`check-api-docs: docs/api/ is current (${expected.length} files), no TypeDoc warnings`);
  return 0;
}

try {
  process.exitCode = check();
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
