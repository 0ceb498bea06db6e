// Builds the WebAssembly: the kernels (assembly/ → build/knnet.wasm and build/knnet.relaxed.wasm,
// inlined into src/generated/wasmBinary.ts by embed-wasm.mjs) and the benchmark's probe kernels
// (bench/probe/*.asm.ts → bench/probe/generated/probeWasm.ts by build-probe.mjs). Each is
// rebuilt only when a digest of its inputs (every source file's contents, the compiler's
// version, the build scripts) or of its outputs differs from the one kept in build/ after the
// last build: contents, not modification times, so a checkout, a copy or a restored file can
// never leave a stale module behind. What must be rebuilt runs in parallel, one process each.
// `--force` rebuilds everything.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const force = process.argv.includes('--force');
const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');

/** Every file under `folder`, relative to the root, sorted. */
const filesUnder = (folder) =>
  readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .sort();

/** The compiler's identity: a new AssemblyScript or Binaryen compiles differently. */
const compiler = ['assemblyscript', 'binaryen']
  .map((name) => `${name}@${JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version}`)
  .join(' ');

/** A digest of the named files' paths and contents (a missing file counts as missing). */
function digest(files) {
  const hash = createHash('sha256');
  for (const file of files) {
    const path = join(root, file);
    hash.update(`${file}\0${existsSync(path) ? readFileSync(path).toString('base64') : '(missing)'}\0`);
  }
  return hash.digest('hex');
}

/** Runs `node args…` in the root; rejects with its exit code. Output goes to this process's. */
function node(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`node ${args.join(' ')} failed (${signal ?? `exit ${code}`})`))));
  });
}

const targets = [
  {
    name: 'kernels',
    inputs: [...filesUnder('assembly'), 'asconfig.json', 'scripts/embed-wasm.mjs', 'scripts/build-wasm.mjs'],
    outputs: ['build/knnet.wasm', 'build/knnet.relaxed.wasm', 'src/generated/wasmBinary.ts'],
    async build() {
      await Promise.all(['plain', 'relaxed'].map((target) => node([asc, 'assembly/index.ts', '--target', target])));
      await node(['scripts/embed-wasm.mjs']);
    },
  },
  {
    name: 'probe kernels',
    inputs: [...filesUnder('bench/probe').filter((file) => file.endsWith('.asm.ts')), 'scripts/build-probe.mjs', 'scripts/build-wasm.mjs'],
    outputs: ['bench/probe/generated/probeWasm.ts'],
    build: () => node(['scripts/build-probe.mjs']),
  },
];

mkdirSync(join(root, 'build'), { recursive: true });
const results = await Promise.allSettled(
  targets.map(async (target) => {
    const stampPath = join(root, 'build', `${target.name.replace(/ /g, '-')}.digest`);
    const inputs = `${compiler}\n${digest(target.inputs)}`;
    const stamp = existsSync(stampPath) ? readFileSync(stampPath, 'utf8') : '';
    if (!force && target.outputs.every((file) => existsSync(join(root, file))) && stamp === `${inputs}\n${digest(target.outputs)}\n`) {
      console.log(`build-wasm: ${target.name} up to date`);
      return;
    }
    rmSync(stampPath, { force: true }); // an interrupted build must not look finished
    const started = performance.now();
    await target.build();
    writeFileSync(stampPath, `${inputs}\n${digest(target.outputs)}\n`);
    console.log(`build-wasm: ${target.name} built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }),
);
const failures = results.filter((result) => result.status === 'rejected');
for (const failure of failures) console.error(`build-wasm: ${failure.reason.message}`);
process.exit(failures.length > 0 ? 1 : 0);
