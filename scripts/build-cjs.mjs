// CommonJS build for `require('knnet')`: dist/cjs/*.cjs and *.d.cts beside each other.
//
// Each library module in src/ becomes its own .cjs file and relative imports are rewritten
// from './x.js' to './x.cjs'. One file per module (rather than one bundle per entry point)
// means index.cjs and reference.cjs share a single KnnError class, so `instanceof` works
// whichever entry point threw. The wasm bytes are inlined in src/generated/wasmBinary.ts, so
// nothing here needs import.meta.url. Types: tsc's .d.ts files from dist/src, renamed to
// .d.cts with the same import rewrite, so TypeScript sees CommonJS declarations.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const typesDir = join(root, 'dist', 'src');
const outDir = join(root, 'dist', 'cjs');

// The CLI (top-level await; cli/ holds its modules) and the demo are programs, not the API.
const esmOnly = (path) => path === 'cli.ts' || path.startsWith('cli/') || path.startsWith('demo/');

const modules = readdirSync(srcDir, { recursive: true })
  .map((p) => p.split('\\').join('/'))
  .filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts') && !esmOnly(p));

const toCjsSpecifier = (specifier) => specifier.replace(/\.js$/, '.cjs');

const relativeImportsStayExternal = {
  name: 'relative-imports-stay-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) =>
      args.kind === 'entry-point' ? undefined : { path: toCjsSpecifier(args.path), external: true },
    );
  },
};

rmSync(outDir, { recursive: true, force: true });
await build({
  entryPoints: modules.map((m) => join(srcDir, m)),
  outdir: outDir,
  outbase: srcDir,
  outExtension: { '.js': '.cjs' },
  bundle: true, // only so the plugin sees imports; every import is external
  packages: 'external',
  plugins: [relativeImportsStayExternal],
  format: 'cjs',
  platform: 'neutral',
  target: 'es2022',
  logLevel: 'warning',
});

let declarations = 0;
for (const module of modules) {
  const dts = join(typesDir, module.replace(/\.ts$/, '.d.ts'));
  let text;
  try {
    text = readFileSync(dts, 'utf8');
  } catch {
    continue; // a module without declarations (none expected, but not fatal)
  }
  const rewritten = text
    .replace(/(from\s+|import\s*\(\s*)(['"])(\.\.?\/[^'"]+?)\.js\2/g, (_, lead, quote, path) => `${lead}${quote}${path}.cjs${quote}`)
    .replace(/\/\/# sourceMappingURL=.*$/m, '');
  const target = join(outDir, module.replace(/\.ts$/, '.d.cts'));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, rewritten);
  declarations++;
}
console.log(`build-cjs: ${modules.length} modules, ${declarations} declaration files → ${relative(root, outDir)}`);
